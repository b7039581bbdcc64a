#!/usr/bin/env bash
# bench/retention.sh: does retention stall ingest?  (It was
# bench/purge_stall.sh.)  Loads BENCH_RETENTION_CALLS calls (10M) spread
# evenly over the last 90 days, compacts the rollups, then runs
# CALL ai_purge_calls(now() - interval '60 days', 10000), which deletes the
# third of the calls older than 60 days in batches of 10,000, while
# BENCH_CLIENTS pgbench clients record calls with record_ai_call() for
# BENCH_RETENTION_SECONDS (90); the purge starts 10 s in.  Prints how long
# the purge took and record_ai_call's latency distribution over the whole
# pgbench run, from pgbench's per-transaction log.  Target (the issue's
# bar): no stall over 1 s, max latency < 1000 ms.  Skipped when
# ai_purge_calls is not installed (before 1.3).
#
#   bash bench/retention.sh           this part alone, on a cluster of its own
#   bash bench/run.sh retention       the same through the entry point, which
#                                     runs it only when named: it is long
#   BENCH_RETENTION_CALLS=1000000 BENCH_RETENTION_SECONDS=30 bash bench/retention.sh
# The settings are those of bench/lib.sh (bash bench/retention.sh --help).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Seconds of recording before the purge starts, so that the log holds the
# latencies of an idle ledger as well as those during the purge.
RETENTION_LEAD=10
# Rows the purge deletes per transaction (its second argument).
RETENTION_BATCH=10000

# :calls calls, evenly over the 90 days before now(), in time order; the 8
# models of :model_ids in turn, 4 call types, 5% errors, 100 users.
RETENTION_LOAD_SQL="INSERT INTO ai_call (created_at, model_id, prompt, response, input_tokens, output_tokens,
                     cost_usd, duration_ms, call_type, status, user_id, cost_source)
SELECT now() - interval '90 days' + (i::float8 / :calls) * interval '90 days',
       (:'model_ids'::bigint[])[1 + i % 8],
       'prompt ' || i, '{}', 100 + i % 500, 10 + i % 50, 0.0001 * (i % 7),
       50 + (i::bigint * 7919) % 3000, (ARRAY['chat', 'embed', 'tool', 'summary'])[1 + (i / 8) % 4],
       CASE WHEN i % 20 = 0 THEN 'error' ELSE 'success' END,
       ('00000000-0000-0000-0000-' || lpad((i % 100)::text, 12, '0'))::uuid, 'provided'
  FROM generate_series(1, :calls) i;"

# What each pgbench client records, as small as a call gets: the cost
# measured is the purge's, not the row's.
RETENTION_RECORD_SQL="SELECT record_ai_call('model-1', 'v1', 'p', '{}', input_tokens => 10, output_tokens => 2,
                      cost_usd => 0.001, duration_ms => 100);"

RETENTION_PURGE_SQL="CALL ai_purge_calls(now() - interval '60 days', $RETENTION_BATCH)"

bench_retention() {
    section "retention: CALL ai_purge_calls() on a third of $BENCH_RETENTION_CALLS calls while $BENCH_CLIENTS clients run record_ai_call()"
    requires retention ai_purge_calls "record_ai_call during a purge" || return 0
    if [[ ! $BENCH_RETENTION_CALLS =~ ^[1-9][0-9]*$ || ! $BENCH_RETENTION_SECONDS =~ ^[0-9]+$ ]] ||
       (( BENCH_RETENTION_SECONDS <= RETENTION_LEAD )); then
        err "BENCH_RETENTION_CALLS must be a whole number above 0 and BENCH_RETENTION_SECONDS" \
            "one above $RETENTION_LEAD, got '$BENCH_RETENTION_CALLS' and '$BENCH_RETENTION_SECONDS'"
        return 1
    fi

    reset_calls
    bpsql -c "INSERT INTO ai_model (modelname, version) SELECT 'model-' || i, 'v1' FROM generate_series(1, 8) i
              ON CONFLICT (modelname, version) DO NOTHING"
    local model_ids record out=$WORK/retention_pgbench.out
    model_ids=$(bval "SELECT array_agg(id ORDER BY modelname) FROM ai_model
                       WHERE modelname ~ '^model-[1-8]$' AND version = 'v1'")
    record=$(write_file retention_record.sql <<<"$RETENTION_RECORD_SQL")
    local -a args=(-n -M prepared -c "$BENCH_CLIENTS" -j "$BENCH_JOBS" -T "$BENCH_RETENTION_SECONDS"
                   -l --log-prefix="$WORK/txn")

    sub "commands"
    echo "    load (psql variables: calls = $BENCH_RETENTION_CALLS, model_ids = the ids of model-1..model-8 v1):"
    indent <<<"$RETENTION_LOAD_SQL"
    echo "    then: SELECT ai_rollup_compact() if it exists; VACUUM ANALYZE ai_call"
    echo
    echo "    in the background, from $WORK (pgbench -l writes a line per transaction, latency in us):"
    echo "    pgbench ${args[*]} -f $(basename "$record") $DB"
    indent <"$record"
    echo "    and $RETENTION_LEAD s after it started:"
    indent <<<"$RETENTION_PURGE_SQL;"

    sub "loading $BENCH_RETENTION_CALLS calls over 90 days"
    log "retention: loading $BENCH_RETENTION_CALLS calls over 90 days"
    timed bpsql -v calls="$BENCH_RETENTION_CALLS" -v model_ids="$model_ids" -f - <<<"$RETENTION_LOAD_SQL"
    local load_s=$T
    compact_rollups retention "$BENCH_RETENTION_CALLS" || true
    log "retention: VACUUM ANALYZE ai_call"
    timed bpsql -c 'VACUUM ANALYZE ai_call'
    print_load "$BENCH_RETENTION_CALLS" "$load_s" "$T"

    sub "record_ai_call for $BENCH_RETENTION_SECONDS s, the purge from $RETENTION_LEAD s on"
    local pid rc=0 purge_s others overlap="while pgbench ran"
    wait_quiet
    cpu_mark
    log "retention: recording for $BENCH_RETENTION_SECONDS s with $BENCH_CLIENTS clients; purging after $RETENTION_LEAD s"
    (cd "$WORK" && as_pg pgbench "${args[@]}" -f "$record" "$DB" >"$out" 2>&1) &
    pid=$!
    sleep "$RETENTION_LEAD"
    log "retention: $RETENTION_PURGE_SQL"
    timed bpsql -c "$RETENTION_PURGE_SQL"
    purge_s=$T
    if ! kill -0 "$pid" 2>/dev/null; then
        # then the latencies miss the end of the purge
        overlap="OUTLASTING pgbench: raise BENCH_RETENTION_SECONDS"
        note_summary retention "purge" "outlasted pgbench: latencies miss its end"
    fi
    wait "$pid" || rc=$?
    others=$(cpu_others)
    if (( rc != 0 )); then
        err "pgbench failed (exit $rc):"
        cat "$out" >&2
        return 1
    fi

    # pgbench -l: client, transaction, latency in us, ...
    local calls p50 p99 p999 max
    read -r calls p50 p99 p999 max < <(cat "$WORK"/txn* | awk '{print $3}' | sort -n |
        awk '{a[NR] = $1} END {printf "%d %.1f %.1f %.1f %.1f\n",
             NR, a[int(NR * 0.5)] / 1000, a[int(NR * 0.99)] / 1000, a[int(NR * 0.999)] / 1000, a[NR] / 1000}')
    echo "  purge:          $purge_s s, $overlap"
    grep -E "^(tps|latency average)" "$out" | sed 's/^/  pgbench:        /'
    echo "  record_ai_call: $calls calls, p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, max $max ms (target: max < 1000 ms)"
    echo "  left in ai_call: $(bval 'SELECT count(*) FROM ai_call')"
    echo "  kept in ai_usage_purged: $(bval 'SELECT sum(calls) FROM ai_usage_purged')"
    echo "  others' CPU during the run: $others% of the machine"
    note_noise retention "$others"

    sub "ratios"
    ratio_line retention "record_ai_call max ms, purge running" "$max" "<" 1000
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main retention "$@"
