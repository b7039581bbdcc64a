#!/usr/bin/env bash
# bench/batch.sh: how close record_ai_calls() (1.2), which records a JSON
# array of calls in one statement, comes to COPY.  BENCH_BATCH_ROWS calls,
# BENCH_BATCH_SIZE per statement, made once beforehand: record_ai_calls()
# against COPY of the same rows from a file, one COPY per BENCH_BATCH_SIZE
# rows and one for all; rows/s.  Target (1.6): >= 0.7x COPY.  Skipped when
# record_ai_calls is not installed (1.1).
#
#   bash bench/batch.sh               this part alone, on a cluster of its own
#   bash bench/run.sh batch           the same through the entry point
# The settings are those of bench/lib.sh (bash bench/batch.sh --help).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BATCH_MODELS="('gpt-4o', '2024-08-06'), ('gpt-4o-mini', '2024-07-18'),
    ('claude-3-5-sonnet', '20241022'), ('gemini-1.5-pro', '002')"
BATCH_COPY_COLS="model_id, created_at, prompt, response, input_tokens, reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type, status, user_id, extra, cache_read_input_tokens, cache_creation_input_tokens, time_to_first_token_ms, cost_source"

bench_batch() {
    section "batch: record_ai_calls() against COPY, $BENCH_BATCH_ROWS rows, $BENCH_BATCH_SIZE per call"
    requires batch record_ai_calls "record_ai_calls / COPY" || return 0

    # The rows, made once: the JSON batches and the COPY files hold the same.
    bpsql -q -f - <<SQL
SET client_min_messages = warning;
INSERT INTO ai_model (modelname, version) VALUES $BATCH_MODELS
    ON CONFLICT (modelname, version) DO NOTHING;
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.batch_src;
CREATE TABLE bench.batch_src AS
SELECT i, m.id AS model_id, m.modelname, m.version,
       now() - interval '1 day' + i * interval '1 ms' AS created_at,
       'Translate the following customer message into French, keeping the tone polite and the product names unchanged. Message ' || i || ' - my order arrived damaged, could you send a replacement?' AS prompt,
       jsonb_build_object('id', 'chatcmpl-' || i, 'text', 'Ma commande est arrivee endommagee.') AS response,
       100 + i % 900 AS input_tokens, i % 7 AS reasoning_tokens, 20 + i % 300 AS output_tokens,
       round((100 + i % 900) * 0.0000025 + (20 + i % 300) * 0.00001, 8) AS cost_usd,
       200 + i % 5000 AS duration_ms,
       (ARRAY['chat', 'embedding', 'tool', 'summarise'])[1 + i % 4] AS call_type,
       CASE WHEN i % 50 = 0 THEN 'error' ELSE 'success' END AS status,
       ('00000000-0000-4000-8000-' || lpad((1 + i % 100)::text, 12, '0'))::uuid AS user_id,
       jsonb_build_object('request_id', i) AS extra,
       CASE WHEN i % 3 = 0 THEN (100 + i % 900) / 2 END AS cache_read_input_tokens,
       CASE WHEN i % 5 = 0 THEN (100 + i % 900) / 4 END AS cache_creation_input_tokens,
       CASE WHEN i % 2 = 0 THEN 50 + i % 400 END AS time_to_first_token_ms
  FROM generate_series(1, $BENCH_BATCH_ROWS) AS i
  JOIN (SELECT id, modelname, version, row_number() OVER (ORDER BY id) - 1 AS k
          FROM ai_model WHERE (modelname, version) IN ($BATCH_MODELS)) AS m
    ON m.k = i % 4;
SQL
    # JSON: one statement per batch, one line each.
    bpsql -At -o "$WORK/batch_json.sql" -c "
SELECT format('SELECT count(*) FROM record_ai_calls(%L::jsonb);',
              jsonb_agg(jsonb_build_object(
                  'modelname', modelname, 'version', version, 'prompt', prompt,
                  'response', response, 'input_tokens', input_tokens,
                  'reasoning_tokens', reasoning_tokens, 'output_tokens', output_tokens,
                  'cost_usd', cost_usd, 'duration_ms', duration_ms,
                  'call_type', call_type, 'status', status, 'user_id', user_id,
                  'extra', extra, 'cache_read_input_tokens', cache_read_input_tokens,
                  'cache_creation_input_tokens', cache_creation_input_tokens,
                  'time_to_first_token_ms', time_to_first_token_ms,
                  'created_at', created_at) ORDER BY i))
  FROM bench.batch_src
 GROUP BY (i - 1) / $BENCH_BATCH_SIZE
 ORDER BY (i - 1) / $BENCH_BATCH_SIZE"
    # COPY: the same rows, in one file and in files of BENCH_BATCH_SIZE rows.
    bpsql -c "COPY (SELECT $BATCH_COPY_COLS FROM bench.batch_src
                      CROSS JOIN (SELECT 'provided'::text AS cost_source) AS p ORDER BY i)
              TO '$WORK/batch_all.tsv'"
    mkdir -p "$WORK/chunks"
    split -l "$BENCH_BATCH_SIZE" -d -a 6 "$WORK/batch_all.tsv" "$WORK/chunks/rows_"
    chown -R postgres:postgres "$WORK/chunks"
    echo "COPY ai_call ($BATCH_COPY_COLS) FROM '$WORK/batch_all.tsv';" |
        write_file batch_copy_one.sql >/dev/null
    local f
    for f in "$WORK"/chunks/rows_*; do
        echo "COPY ai_call ($BATCH_COPY_COLS) FROM '$f';"
    done | write_file batch_copy_chunks.sql >/dev/null
    bpsql -c 'DROP TABLE bench.batch_src'

    local -A label=(
        [json]="record_ai_calls(), $BENCH_BATCH_SIZE rows per call"
        [chunks]="COPY, $BENCH_BATCH_SIZE rows per COPY"
        [one]="COPY, one COPY of all rows")
    local -A file=(
        [json]=$WORK/batch_json.sql
        [chunks]=$WORK/batch_copy_chunks.sql
        [one]=$WORK/batch_copy_one.sql)
    sub "commands (each run: TRUNCATE the call tables, CHECKPOINT, wait for quiet, then psql -f FILE, timed from outside; each statement its own transaction)"
    local name
    for name in json chunks one; do
        echo "    ${label[$name]}: psql -X -q -v ON_ERROR_STOP=1 -d $DB -f $(basename "${file[$name]}")"
        echo "      $(wc -l <"${file[$name]}") statements, $(du -h "${file[$name]}" | cut -f1); the first: $(head -c 300 "${file[$name]}")..."
    done
    echo "    (COPY reads a file the server can read: $(du -h "$WORK/batch_all.tsv" | cut -f1) prepared beforehand, model_id resolved in advance)"

    local -A secs=() others=() rate=()
    local round ts rows
    for (( round = 1; round <= BENCH_ROUNDS; round++ )); do
        for name in json chunks one; do
            log "batch round $round: ${label[$name]}"
            fresh_start
            ts=$(now_s)
            bpsql -o /dev/null -f "${file[$name]}"
            secs[$name]+="$(elapsed "$ts") "
            others[$name]+="$(cpu_others) "
            rows=$(bval 'SELECT count(*) FROM ai_call')
            if [[ $rows != "$BENCH_BATCH_ROWS" ]]; then
                err "${label[$name]}: ai_call has $rows rows, expected $BENCH_BATCH_ROWS"
                return 1
            fi
        done
    done

    sub "results (rows/s: all rows over the mean time of a run)"
    printf '  %-44s %12s   %s\n' method "rows/s" "seconds per run (others' CPU %)"
    for name in json chunks one; do
        rate[$name]=$(echo "${secs[$name]}" | awk -v n="$BENCH_BATCH_ROWS" '{
            for (i = 1; i <= NF; i++) s += $i; printf "%.0f", n / (s / NF) }')
        printf '  %-44s %12s   %s\n' "${label[$name]}" "${rate[$name]}" \
            "$(runs_cell %.2f "${secs[$name]}" "${others[$name]}")"
    done
    note_noise batch "${others[*]}"
    sub "ratios (of rows/s)"
    ratio_line batch "record_ai_calls / COPY per $BENCH_BATCH_SIZE rows" \
        "$(calc "${rate[json]} / ${rate[chunks]}")" ">=" 0.7
    ratio_line batch "record_ai_calls / one COPY" \
        "$(calc "${rate[json]} / ${rate[one]}")" ">=" 0.7
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main batch "$@"
