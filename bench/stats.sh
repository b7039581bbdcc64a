#!/usr/bin/env bash
# bench/stats.sh: how fast ai_usage_stats() answers, against the same
# aggregates written by hand.  Loads BENCH_STATS_SIZES calls (1M, then 10M and
# 30M, each by adding rows) over 90 days in time order: 8 models, 4 call types, 100 users,
# all uniform; 95% success; log-normal-ish durations.  VACUUM ANALYZE, then
# ai_rollup_compact() where there is one.  Then the median of BENCH_REPEAT
# runs, after a warm-up, of ai_usage_stats(since => now() - 30 days,
# group_by => '{model}') and of the hand-written SQL (join ai_model, filter,
# GROUP BY, percentile_cont), and a check that both answers agree.
# Targets (1.6): < 10 ms at 10M and at the largest size, >= 200x faster than
# by hand at 10M (50x below), the largest size within 1.2x of the smallest.
# 1.8: where ai_call has a project (1.7 on), the calls get one of five
# projects or none, evenly, and two questions by project are timed the same
# way against their hand-written SQL: group_by {project}, and group_by
# {model} with a project filter; where the project level exists (1.8), also
# the first of them with the level turned off (project_from = infinity, in
# a transaction rolled back), which is how 1.7 answered it: from ai_call;
# and where the daily project level exists, the first of them from the
# hourly project level alone (the daily table taken out of the extension,
# in a transaction rolled back), which is how 1.8 answered it before it.
#
#   bash bench/stats.sh               this part alone, on a cluster of its own
#   bash bench/run.sh stats           the same through the entry point
#   BENCH_STATS_SIZES=1000000 bash bench/stats.sh
# The settings are those of bench/lib.sh (bash bench/stats.sh --help).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATS_AUS_SQL="SELECT * FROM ai_usage_stats(since => now() - interval '30 days', group_by => '{model}');"
STATS_HAND_SQL="SELECT m.modelname, m.version,
       count(*) AS calls,
       count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success') AS errors,
       sum(c.input_tokens) AS input_tokens,
       sum(c.reasoning_tokens) AS reasoning_tokens,
       sum(c.output_tokens) AS output_tokens,
       sum(c.cost_usd) AS cost_usd,
       avg(c.duration_ms) AS avg_duration_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms) AS p50_duration_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms) AS p95_duration_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms) AS p99_duration_ms,
       min(c.created_at) AS first_call,
       max(c.created_at) AS last_call,
       sum(c.cache_read_input_tokens) AS cache_read_input_tokens,
       sum(c.cache_creation_input_tokens) AS cache_creation_input_tokens,
       count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls,
       avg(c.time_to_first_token_ms) AS avg_time_to_first_token_ms
  FROM ai_call c
  JOIN ai_model m ON m.id = c.model_id
 WHERE c.created_at >= now() - interval '30 days'
 GROUP BY m.modelname, m.version
 ORDER BY m.modelname, m.version;"

# Both answers compared on one snapshot and one now(): rows whose exact
# columns (counts, sums, cost, first and last call) are in one answer and
# not the other, the number of groups, and the largest relative difference
# of a percentile (exact in 1.1; a later version may estimate them).
STATS_CHECK_SQL="WITH a AS MATERIALIZED (
    SELECT * FROM ai_usage_stats(since => now() - interval '30 days', group_by => '{model}')
), h AS MATERIALIZED (
    SELECT m.modelname, m.version, count(*) AS calls,
           count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success') AS errors,
           sum(c.input_tokens) AS input_tokens, sum(c.reasoning_tokens) AS reasoning_tokens,
           sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms) AS p50_duration_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms) AS p95_duration_ms,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms) AS p99_duration_ms,
           min(c.created_at) AS first_call, max(c.created_at) AS last_call,
           count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls
      FROM ai_call c JOIN ai_model m ON m.id = c.model_id
     WHERE c.created_at >= now() - interval '30 days'
     GROUP BY m.modelname, m.version
), ea AS (
    SELECT modelname, version, calls, errors, input_tokens, reasoning_tokens, output_tokens,
           cost_usd, first_call, last_call, unpriced_calls FROM a
), eh AS (
    SELECT modelname, version, calls, errors, input_tokens, reasoning_tokens, output_tokens,
           cost_usd, first_call, last_call, unpriced_calls FROM h
)
SELECT (SELECT count(*) FROM (TABLE ea EXCEPT ALL TABLE eh) x)
     + (SELECT count(*) FROM (TABLE eh EXCEPT ALL TABLE ea) y)
     || ' differing rows of ' || (SELECT count(*) FROM h)
     || ', percentiles within '
     || coalesce((SELECT round(100 * max(greatest(
                      abs(a.p50_duration_ms - h.p50_duration_ms) / nullif(h.p50_duration_ms, 0),
                      abs(a.p95_duration_ms - h.p95_duration_ms) / nullif(h.p95_duration_ms, 0),
                      abs(a.p99_duration_ms - h.p99_duration_ms) / nullif(h.p99_duration_ms, 0)))::numeric, 2)
                    FROM a JOIN h USING (modelname, version))::text, '?') || '%';"

# How far hourly rollups by (model, call_type, status, user) can shrink the
# data: the calls of the last 30 days and their distinct groups.
STATS_GROUPS_SQL="SELECT count(*) || ' calls in ' || count(DISTINCT (date_trunc('hour', created_at), model_id, call_type, status, user_id))
       || ' hourly (model, call_type, status, user) groups'
  FROM ai_call WHERE created_at >= now() - interval '30 days';"

STATS_MODELS="('gpt-4o', '2024-08-06'), ('gpt-4o-mini', '2024-07-18'),
    ('claude-3-5-sonnet', '20241022'), ('claude-3-5-haiku', '20241022'),
    ('gemini-1.5-pro', '002'), ('gemini-1.5-flash', '002'),
    ('mistral-large', '2407'), ('llama-3.1-70b', 'instruct')"

# Rows :lo..:hi of a set of :n calls spread evenly, in time order, over the
# 90 days before :'t_end' (a ledger is written in time order).  Models,
# call types, users: uniform; 95% success; durations log-normal-ish around
# 400 ms (exp of a sum of uniforms); tokens, cache and reasoning tokens,
# time to first token and a cost computed from the tokens.
STATS_LOAD_SQL="INSERT INTO ai_call (created_at, updated_at, model_id, prompt, response,
                     input_tokens, reasoning_tokens, output_tokens, cost_usd,
                     duration_ms, call_type, status, user_id,
                     cache_read_input_tokens, time_to_first_token_ms, cost_source)
SELECT ts, ts,
       (:'model_ids'::bigint[])[1 + floor(r1 * 8)::int],
       'Summarise support ticket ' || j || ' for the billing team, customer reports a duplicate charge',
       '{\"finish_reason\": \"stop\", \"text\": \"Refund approved.\"}'::jsonb,
       inp,
       CASE WHEN r3 < 0.2 THEN outp / 2 END,
       outp,
       round((inp * 2.5 + outp * 10.0) / 1000000, 8),
       dur,
       (ARRAY['chat', 'embedding', 'tool', 'summarise'])[1 + floor(r4 * 4)::int],
       CASE WHEN r5 < 0.95 THEN 'success' WHEN r5 < 0.98 THEN 'error'
            WHEN r5 < 0.995 THEN 'timeout' ELSE 'rate_limited' END,
       ('00000000-0000-4000-8000-' || lpad((1 + floor(r6 * 100))::int::text, 12, '0'))::uuid,
       CASE WHEN r3 < 0.3 THEN inp / 2 END,
       CASE WHEN r3 < 0.5 THEN dur / 4 END,
       'provided'
  FROM (SELECT j,
               timestamptz :'t_end' - interval '90 days'
                   + (j - r7) / :n * interval '90 days' AS ts,
               r1, r3, r4, r5, r6,
               50 + floor(r2 * 2000)::int AS inp,
               floor(r8 * 800)::int AS outp,
               exp(6.0 + 1.5 * (r2 + r8 + r9 - 1.5))::int AS dur
          FROM (SELECT j, random() AS r1, random() AS r2, random() AS r3,
                       random() AS r4, random() AS r5, random() AS r6,
                       random() AS r7, random() AS r8, random() AS r9
                  FROM generate_series(:lo::bigint, :hi::bigint) AS j) AS g) AS x;"

# 1.8: the questions by project (see the top), and their hand-written SQL.
STATS_PROJECT_AUS_SQL="SELECT * FROM ai_usage_stats(since => now() - interval '30 days', group_by => '{project}');"
STATS_PROJECT_HAND_SQL=$(sed -e 's/SELECT m.modelname, m.version,/SELECT c.project,/' \
                             -e 's/ GROUP BY m.modelname, m.version/ GROUP BY c.project/' \
                             -e 's/ ORDER BY m.modelname, m.version;/ ORDER BY c.project;/' <<<"$STATS_HAND_SQL")
STATS_FILTER_AUS_SQL="SELECT * FROM ai_usage_stats(since => now() - interval '30 days', group_by => '{model}', project => 'support');"
STATS_FILTER_HAND_SQL=$(sed -e "s/ WHERE c.created_at >= now() - interval '30 days'/ WHERE c.created_at >= now() - interval '30 days' AND c.project = 'support'/" \
                            <<<"$STATS_HAND_SQL")
# The exact columns of both answers by project, on one snapshot: rows in one
# and not the other, of how many.
STATS_PROJECT_CHECK_SQL="WITH a AS MATERIALIZED (
    SELECT project, calls, errors, input_tokens, output_tokens, cost_usd, first_call, last_call, unpriced_calls
      FROM ai_usage_stats(since => now() - interval '30 days', group_by => '{project}')
), h AS MATERIALIZED (
    SELECT c.project, count(*) AS calls, count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success') AS errors,
           sum(c.input_tokens) AS input_tokens, sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
           min(c.created_at) AS first_call, max(c.created_at) AS last_call,
           count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls
      FROM ai_call c WHERE c.created_at >= now() - interval '30 days' GROUP BY c.project
)
SELECT (SELECT count(*) FROM (TABLE a EXCEPT ALL TABLE h) x) + (SELECT count(*) FROM (TABLE h EXCEPT ALL TABLE a) y)
       || ' differing rows of ' || (SELECT count(*) FROM h);"
# The projects of the load (where ai_call has the column): five and none.
STATS_PROJECT_EXPR="(ARRAY['search', 'support', 'billing', 'ads', 'internal', NULL])[1 + (j % 6)::int]"

# time_queries [AUS HAND [PRELUDE]]: median ms of each of two queries (the
# stats and the hand-written SQL by default), alternating, after one
# warm-up of each, in one session that first runs PRELUDE untimed; sets
# AUS_MS and HAND_MS.
AUS_MS='' HAND_MS='' AUS_RUNS='' HAND_RUNS=''
time_queries() {
    local aus_sql=${1:-$STATS_AUS_SQL} hand_sql=${2:-$STATS_HAND_SQL} prelude=${3:-}
    local f=$WORK/stats_timing.sql out=$WORK/stats_timing.out i
    {
        [[ -z $prelude ]] || echo "$prelude"
        echo '\timing on'
        echo '\o /dev/null'
        echo "$aus_sql"
        echo "$hand_sql"
        for (( i = 0; i < BENCH_REPEAT; i++ )); do
            echo "$aus_sql"
            echo "$hand_sql"
        done
        echo '\timing off'
        [[ -z $prelude ]] || echo 'ROLLBACK;'
    } | write_file stats_timing.sql >/dev/null
    bpsql -f "$f" >"$out"
    local -a times
    mapfile -t times < <(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' "$out")
    if (( ${#times[@]} != 2 * (BENCH_REPEAT + 1) )); then
        err "expected $(( 2 * (BENCH_REPEAT + 1) )) timings, got ${#times[@]}:"
        cat "$out" >&2
        return 1
    fi
    AUS_MS=$(for (( i = 2; i < ${#times[@]}; i += 2 )); do echo "${times[i]}"; done | median)
    HAND_MS=$(for (( i = 3; i < ${#times[@]}; i += 2 )); do echo "${times[i]}"; done | median)
    AUS_RUNS=$(for (( i = 2; i < ${#times[@]}; i += 2 )); do printf '%.0f ' "${times[i]}"; done)
    HAND_RUNS=$(for (( i = 3; i < ${#times[@]}; i += 2 )); do printf '%.0f ' "${times[i]}"; done)
}

bench_stats() {
    local size loaded=0 lo hi n t_end chunk=1000000 tl
    local -a sizes
    read -r -a sizes <<<"$BENCH_STATS_SIZES"
    section "stats: ai_usage_stats() against hand-written SQL, at ${sizes[*]} calls"

    local prev=0
    for size in "${sizes[@]}"; do
        if [[ ! $size =~ ^[0-9]+$ ]] || (( size <= prev )); then
            err "BENCH_STATS_SIZES must be ascending whole numbers, got '$BENCH_STATS_SIZES'"
            return 1
        fi
        prev=$size
    done

    reset_calls
    # 1.7 on: the calls carry a project (or none).
    local load_sql=$STATS_LOAD_SQL has_project=0 has_level=0
    if [[ $(bval "SELECT count(*) FROM pg_attribute WHERE attrelid = 'ai_call'::regclass
                   AND attname = 'project' AND NOT attisdropped") == 1 ]]; then
        has_project=1
        load_sql=$(sed -e 's/cache_read_input_tokens, time_to_first_token_ms, cost_source)/cache_read_input_tokens, time_to_first_token_ms, cost_source, project)/' \
                       -e "s/       'provided'\$/       'provided', $STATS_PROJECT_EXPR/" <<<"$STATS_LOAD_SQL")
    fi
    [[ $(bval "SELECT to_regclass('ai_usage_rollup_project') IS NOT NULL") == t ]] && has_level=1
    local has_daily_level=0
    [[ $(bval "SELECT to_regclass('ai_usage_rollup_project_daily') IS NOT NULL") == t ]] && has_daily_level=1
    bpsql -c "INSERT INTO ai_model (modelname, version) VALUES $STATS_MODELS
              ON CONFLICT (modelname, version) DO NOTHING"
    local model_ids
    model_ids=$(bval "SELECT array_agg(m.id ORDER BY m.id) FROM ai_model m
                        JOIN (VALUES $STATS_MODELS) AS v(n, ver)
                          ON m.modelname = v.n AND m.version = v.ver")

    sub "commands"
    echo "    load: for each size, the rows it adds, in statements of up to $chunk rows"
    echo "    (psql variables: lo, hi = the rows of this statement, n = rows added for this"
    echo "    size, t_end = now() when that load began, model_ids = 8 ai_model ids):"
    indent <<<"$load_sql"
    echo "    then: VACUUM ANALYZE ai_call; SELECT ai_rollup_compact() if it exists, and VACUUM ANALYZE the rollup tables"
    echo
    echo "    timed with psql \\timing, 1 warm-up then $BENCH_REPEAT runs of each, alternating; median:"
    indent <<<"$STATS_AUS_SQL"
    echo
    indent <<<"$STATS_HAND_SQL"
    echo
    echo "    and once, untimed, both compared in one statement:"
    indent <<<"$STATS_CHECK_SQL"
    echo "    and the size of the data an hourly rollup keeps:"
    indent <<<"$STATS_GROUPS_SQL"

    local -A timing_others=() aus=() hand=() load_s=() agree=()
    local -A p_aus=() p_hand=() f_aus=() f_hand=() p_off=() p_hourly=() p_agree=()
    local vac_s

    for size in "${sizes[@]}"; do
        n=$(( size - loaded ))
        sub "size $size: adding $n calls"
        t_end=$(bval "SELECT now()")
        tl=$(now_s)
        for (( lo = 1; lo <= n; lo += chunk )); do
            hi=$(( lo + chunk - 1 < n ? lo + chunk - 1 : n ))
            log "stats: rows $lo..$hi of $n (table size $size)"
            bpsql -v lo="$lo" -v hi="$hi" -v n="$n" -v t_end="$t_end" \
                  -v model_ids="$model_ids" -f - <<<"$load_sql"
        done
        load_s[$size]=$(elapsed "$tl")
        log "stats: VACUUM ANALYZE ai_call"
        timed bpsql -c 'VACUUM ANALYZE ai_call'
        vac_s=$T
        # Without compaction the queries are timed all the same (right,
        # only slower); with it, as autovacuum would after such a change:
        # fresh statistics for the rollups, or the planner reads them blind.
        if compact_rollups stats "$size"; then
            bpsql -o /dev/null -c 'VACUUM ANALYZE ai_usage_rollup' \
                  -c 'VACUUM ANALYZE ai_usage_rollup_total' \
                  -c 'VACUUM ANALYZE ai_usage_purged'
            # 1.6: the daily level
            if [[ $(bval "SELECT to_regclass('ai_usage_rollup_daily') IS NOT NULL") == t ]]; then
                bpsql -o /dev/null -c 'VACUUM ANALYZE ai_usage_rollup_daily'
            fi
            # 1.8: the project level
            (( has_level == 0 )) || bpsql -o /dev/null -c 'VACUUM ANALYZE ai_usage_rollup_project'
            (( has_daily_level == 0 )) || bpsql -o /dev/null -c 'VACUUM ANALYZE ai_usage_rollup_project_daily'
        fi
        loaded=$size
        print_load "$n" "${load_s[$size]}" "$vac_s"
        log "stats: timing the queries at $size"
        wait_quiet
        cpu_mark
        time_queries
        timing_others[$size]=$(cpu_others)
        echo "  others' CPU while timing   ${timing_others[$size]}% of the machine"
        aus[$size]=$AUS_MS
        hand[$size]=$HAND_MS
        echo "  ai_usage_stats() runs      $AUS_RUNS ms"
        echo "  hand-written runs          $HAND_RUNS ms"
        agree[$size]=$(bval "$STATS_CHECK_SQL")
        echo "  results compared           ${agree[$size]}"
        echo "  last 30 days               $(bval "$STATS_GROUPS_SQL")"
        if (( has_project == 1 )); then
            # 1.8: by project, and a project's calls
            log "stats: timing the questions by project at $size"
            time_queries "$STATS_PROJECT_AUS_SQL" "$STATS_PROJECT_HAND_SQL"
            p_aus[$size]=$AUS_MS p_hand[$size]=$HAND_MS
            echo "  {project}: stats runs      $AUS_RUNS ms"
            echo "  {project}: by hand runs    $HAND_RUNS ms"
            time_queries "$STATS_FILTER_AUS_SQL" "$STATS_FILTER_HAND_SQL"
            f_aus[$size]=$AUS_MS f_hand[$size]=$HAND_MS
            echo "  project =>: stats runs     $AUS_RUNS ms"
            echo "  project =>: by hand runs   $HAND_RUNS ms"
            if (( has_level == 1 )); then
                time_queries "$STATS_PROJECT_AUS_SQL" "$STATS_PROJECT_HAND_SQL" \
                    "BEGIN; UPDATE ai_upkeep_state SET project_from = 'infinity';"
                p_off[$size]=$AUS_MS
                echo "  {project}, level off       $AUS_RUNS ms (by hand: $HAND_RUNS ms)"
                echo "  project level rows         $(bval "SELECT count(*) FROM ai_usage_rollup_project")"
            fi
            if (( has_daily_level == 1 )); then
                # 1.8: the hourly project level alone, as a database without
                # the daily one answers (the table out of the extension, in
                # a transaction rolled back: src/stats.c then ignores it)
                time_queries "$STATS_PROJECT_AUS_SQL" "$STATS_PROJECT_HAND_SQL" \
                    "BEGIN; ALTER EXTENSION aitrack DROP TABLE ai_usage_rollup_project_daily;"
                p_hourly[$size]=$AUS_MS
                echo "  {project}, hourly only     $AUS_RUNS ms (by hand: $HAND_RUNS ms)"
                echo "  daily project level rows   $(bval "SELECT count(*) FROM ai_usage_rollup_project_daily")"
            fi
            p_agree[$size]=$(bval "$STATS_PROJECT_CHECK_SQL")
            echo "  {project} compared         ${p_agree[$size]}"
        fi
    done

    sub "results (ms, median of $BENCH_REPEAT after 1 warm-up)"
    printf '  %-12s %16s %16s %12s %10s %10s\n' calls "ai_usage_stats" "hand-written" "hand/aus" "load s" "agree"
    for size in "${sizes[@]}"; do
        printf '  %-12s %16.1f %16.1f %12s %10s %10s\n' "$size" "${aus[$size]}" "${hand[$size]}" \
            "$(calc "${hand[$size]} / ${aus[$size]}")" "${load_s[$size]}" \
            "$([[ ${agree[$size]} == 0\ * ]] && echo yes || echo NO)"
    done

    if (( has_project == 1 )); then
        sub "by project (ms, median of $BENCH_REPEAT after 1 warm-up)"
        printf '  %-12s %-22s %12s %14s %10s %10s\n' calls question "stats" "hand-written" "hand/stats" agree
        for size in "${sizes[@]}"; do
            printf '  %-12s %-22s %12.1f %14.1f %10s %10s\n' "$size" "group_by {project}" "${p_aus[$size]}" \
                "${p_hand[$size]}" "$(calc "${p_hand[$size]} / ${p_aus[$size]}")" \
                "$([[ ${p_agree[$size]} == 0\ * ]] && echo yes || echo NO)"
            printf '  %-12s %-22s %12.1f %14.1f %10s\n' "$size" "{model}, project =>" "${f_aus[$size]}" \
                "${f_hand[$size]}" "$(calc "${f_hand[$size]} / ${f_aus[$size]}")"
            [[ -z ${p_hourly[$size]:-} ]] ||
                printf '  %-12s %-22s %12.1f %14.1f %10s\n' "$size" "{project}, hourly only" "${p_hourly[$size]}" \
                    "${p_hand[$size]}" "$(calc "${p_hand[$size]} / ${p_hourly[$size]}")"
            [[ -z ${p_off[$size]:-} ]] ||
                printf '  %-12s %-22s %12.1f %14.1f %10s\n' "$size" "{project}, level off" "${p_off[$size]}" \
                    "${p_hand[$size]}" "$(calc "${p_hand[$size]} / ${p_off[$size]}")"
        done
        for size in "${sizes[@]}"; do
            [[ ${p_agree[$size]} == 0\ * ]] ||
                note_summary stats "by project at $size" "DIFFER: ${p_agree[$size]}"
        done
    fi

    local small=${sizes[0]} big=${sizes[${#sizes[@]}-1]}
    note_noise stats "${timing_others[*]}"
    sub "ratios"
    for size in "${sizes[@]}"; do
        (( size >= 10000000 || size == big )) || continue
        ratio_line stats "ai_usage_stats ms at $size calls" "$(calc "${aus[$size]}" %.1f)" "<" 10
    done
    for size in "${sizes[@]}"; do
        ratio_line stats "hand / ai_usage_stats at $size" \
            "$(calc "${hand[$size]} / ${aus[$size]}")" ">=" "$(( size >= 10000000 ? 200 : 50 ))"
    done
    if [[ $big != "$small" ]]; then
        ratio_line stats "ai_usage_stats $big / $small" \
            "$(calc "${aus[$big]} / ${aus[$small]}")" "<=" 1.2
    fi
    for size in "${sizes[@]}"; do
        [[ ${agree[$size]} == 0\ * ]] ||
            note_summary stats "results at $size" "DIFFER: ${agree[$size]}"
    done
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main stats "$@"
