#!/usr/bin/env bash
# bench/load_prices.sh: ai_load_prices() (1.5) on LiteLLM's full price file,
# model_prices_and_context_window.json (about 2,500 to 3,000 entries, 1.5
# MB).  Target: a load of the whole file under 2 s, the first time (every
# entry added) and again (every entry unchanged) and with every rate
# changed (every price closed and a new one opened).  Baseline, in the same
# run: the same entries' two base rates written by one INSERT ... SELECT
# over jsonb_each (the least any loader must do); the ratio is load time
# over that.  Skipped when no copy of the file is on the machine.
#
#   bash bench/load_prices.sh         this part alone, on a cluster of its own
#   bash bench/run.sh load_prices     the same through the entry point
#
# Settings (environment, besides those of bench/lib.sh):
#   BENCH_PRICE_FILE=                 the file; default: the newest of
#                                     /var/cache/aitrack/litellm/*.json (the
#                                     machine has no internet: put a copy of
#                                     BerriAI/litellm's file there)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# price_file: the file to load, or nothing
price_file() {
    if [[ -n ${BENCH_PRICE_FILE:-} ]]; then
        echo "$BENCH_PRICE_FILE"
        return
    fi
    ls -t /var/cache/aitrack/litellm/*.json 2>/dev/null | head -n 1
}

bench_load_prices() {
    section "load_prices: ai_load_prices() on LiteLLM's whole price file"
    requires load_prices ai_price_from_litellm "ai_load_prices, full file" || return 0
    local file path entries t_base t_first t_again t_changed
    file=$(price_file)
    if [[ -z $file || ! -s $file ]]; then
        PART_SKIPPED=1
        echo "  skipped: no price file (set BENCH_PRICE_FILE or put one in /var/cache/aitrack/litellm/)"
        note_summary load_prices "ai_load_prices, full file" "skipped: no price file"
        return 0
    fi
    path=$(write_file prices.json <"$file")
    echo "  file: $file ($(stat -c %s "$file") bytes)"

    bpsql -q -c "SET aitrack.allow_drop = on" -c "TRUNCATE ai_model_price CASCADE"
    bpsql -q <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_prices, bench_prices_changed, bench_baseline;
CREATE TABLE bench_prices AS SELECT pg_read_file('$path')::jsonb AS prices;
-- Every per-token rate 10% higher: each entry then changes.
CREATE TABLE bench_prices_changed AS
SELECT jsonb_object_agg(e.key,
           CASE WHEN jsonb_typeof(e.value) = 'object'
                THEN (SELECT jsonb_object_agg(k.key,
                                CASE WHEN k.key LIKE '%cost_per_token%' AND jsonb_typeof(k.value) = 'number'
                                     THEN to_jsonb((k.value::text)::numeric * 1.1)
                                     ELSE k.value END)
                        FROM jsonb_each(e.value) AS k)
                ELSE e.value END) AS prices
  FROM bench_prices, jsonb_each(prices) AS e;
CREATE TABLE bench_baseline (model text, input numeric, output numeric);
SQL
    entries=$(bval "SELECT count(*) FROM bench_prices, jsonb_each(prices)")
    echo "  entries: $entries"

    sub "baseline: one INSERT ... SELECT of the base rates"
    cat <<'SQL' | indent
INSERT INTO bench_baseline
SELECT e.key, (e.value ->> 'input_cost_per_token')::numeric * 1000000,
       (e.value ->> 'output_cost_per_token')::numeric * 1000000
  FROM bench_prices, jsonb_each(prices) AS e
 WHERE jsonb_typeof(e.value -> 'input_cost_per_token') = 'number'
   AND jsonb_typeof(e.value -> 'output_cost_per_token') = 'number';
SQL
    timed bpsql -q -c "INSERT INTO bench_baseline
        SELECT e.key, (e.value ->> 'input_cost_per_token')::numeric * 1000000,
               (e.value ->> 'output_cost_per_token')::numeric * 1000000
          FROM bench_prices, jsonb_each(prices) AS e
         WHERE jsonb_typeof(e.value -> 'input_cost_per_token') = 'number'
           AND jsonb_typeof(e.value -> 'output_cost_per_token') = 'number'"
    t_base=$T

    sub "ai_load_prices: first load, again, every rate changed"
    echo "    SELECT action, count(*) FROM ai_load_prices((SELECT prices FROM bench_prices), valid_from) GROUP BY 1;"
    timed bpsql -q -o "$WORK/load1.out" -At -c "SELECT action || ' ' || count(*) FROM ai_load_prices((SELECT prices FROM bench_prices), '2025-01-01') GROUP BY action ORDER BY 1"
    t_first=$T
    timed bpsql -q -o "$WORK/load2.out" -At -c "SELECT action || ' ' || count(*) FROM ai_load_prices((SELECT prices FROM bench_prices), '2025-06-01') GROUP BY action ORDER BY 1"
    t_again=$T
    timed bpsql -q -o "$WORK/load3.out" -At -c "SELECT action || ' ' || count(*) FROM ai_load_prices((SELECT prices FROM bench_prices_changed), '2026-01-01') GROUP BY action ORDER BY 1"
    t_changed=$T
    echo "  first load ($t_first s):   $(tr '\n' ',' <"$WORK/load1.out" | sed 's/,$//; s/,/, /g')"
    echo "  same file ($t_again s):    $(tr '\n' ',' <"$WORK/load2.out" | sed 's/,$//; s/,/, /g')"
    echo "  every rate changed ($t_changed s): $(tr '\n' ',' <"$WORK/load3.out" | sed 's/,$//; s/,/, /g')"
    echo "  baseline INSERT ($t_base s): $(bval 'SELECT count(*) FROM bench_baseline') rows"
    echo "  prices now: $(bval 'SELECT count(*) FROM ai_model_price') rows"
    echo "  (times include psql's connection, about 10 ms)"
    echo
    ratio_line load_prices "first load of the file (s)" "$t_first" "<" 2
    ratio_line load_prices "the same file again (s)" "$t_again" "<" 2
    ratio_line load_prices "every rate changed (s)" "$t_changed" "<" 2
    ratio_line load_prices "first load / baseline INSERT" "$(calc "$t_first / $t_base")" "<" 50
    bpsql -q -c "DROP TABLE bench_prices, bench_prices_changed, bench_baseline" \
          -c "SET aitrack.allow_drop = on" -c "TRUNCATE ai_model_price CASCADE"
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main load_prices "$@"
