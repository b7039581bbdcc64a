#!/usr/bin/env bash
# bench/upkeep.sh: what the background upkeep (src/upkeep.c) costs and what
# it buys.
#
#   1. Its cost: record_ai_call() at full speed (bench/ingest.sh's script b,
#      pgbench as there) with aitrack.upkeep_interval at its default (10 s,
#      the worker folding as it goes) against 0 (no worker), interleaved,
#      BENCH_ROUNDS each.  Target: on / off >= 0.95.
#   2. What it buys: a backfill of BENCH_UPKEEP_BACKFILL calls (default 2M)
#      over 90 days in one INSERT ... SELECT (bench/stats.sh's rows), then,
#      with nobody calling anything: how long until no pending rollup row is
#      left and the rollups were analyzed (ai_upkeep_status), and
#      ai_usage_stats(since => now() - 30 days, group_by => '{model}') right
#      after the commit, after the worker, and after a manual
#      ai_rollup_compact() and VACUUM ANALYZE of every rollup table (the
#      compacted time).  Targets: folded within 60 s; after the worker
#      within 2x of the compacted time.
#
#   bash bench/upkeep.sh              this part alone, on a cluster of its own
#   bash bench/run.sh upkeep          the same through the entry point
# The settings are those of bench/lib.sh (bash bench/upkeep.sh --help).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=ingest.sh
source "$BENCH_DIR/ingest.sh"
# shellcheck source=stats.sh
source "$BENCH_DIR/stats.sh"

BENCH_UPKEEP_BACKFILL=${BENCH_UPKEEP_BACKFILL:-2000000}

# stats_ms N: median ms of N runs of the stats query, after one warm-up.
stats_ms() {
    local n=$1 i out=$WORK/upkeep_timing.out
    {
        echo '\timing on'
        echo '\o /dev/null'
        for (( i = 0; i <= n; i++ )); do echo "$STATS_AUS_SQL"; done
    } | write_file upkeep_timing.sql >/dev/null
    bpsql -f "$WORK/upkeep_timing.sql" >"$out"
    sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' "$out" | tail -n +2 | median
}

bench_upkeep() {
    section "upkeep: the background worker's cost while recording, and a backfill folded by it"
    if [[ $(bval "SELECT to_regclass('ai_upkeep_state') IS NOT NULL") != t ]]; then
        PART_SKIPPED=1
        echo "  skipped: ai_upkeep_state not installed (aitrack $(ext_version))"
        note_summary upkeep "worker cost, backfill fold" "skipped: before 1.6"
        return 0
    fi
    write_ingest_scripts
    bpsql -c "INSERT INTO ai_model (modelname, version) VALUES ('gpt-4o', '2024-08-06')
              ON CONFLICT (modelname, version) DO NOTHING"
    PGBENCH_ARGS=(-n -c "$BENCH_CLIENTS" -j "$BENCH_JOBS" -T "$BENCH_DURATION" -M prepared)
    local script=$WORK/ingest_b_record_ai_call.sql round name
    local -A runs=() others=() mean=()

    sub "1. commands (each run: TRUNCATE the call tables, CHECKPOINT, wait for quiet, then)"
    echo "    ALTER DATABASE $DB SET aitrack.upkeep_interval = 10   (on: the default)  /  = 0   (off)"
    echo "    pgbench ${PGBENCH_ARGS[*]} -f $(basename "$script") $DB"
    indent <"$script"
    for (( round = 1; round <= BENCH_ROUNDS; round++ )); do
        for name in on off; do
            log "upkeep round $round: upkeep $name"
            bpsql -c "ALTER DATABASE $DB SET aitrack.upkeep_interval = $([[ $name == on ]] && echo 10 || echo 0)"
            pgbench_run "$script"
            runs[$name]+="$TPS "
            others[$name]+="$OTHERS "
        done
    done
    bpsql -c "ALTER DATABASE $DB RESET aitrack.upkeep_interval"
    for name in on off; do
        mean[$name]=$(echo "${runs[$name]}" | awk '{ for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }')
        printf '  %-36s %10s tps   runs %s\n' "record_ai_call(), upkeep $name" "${mean[$name]}" \
            "$(runs_cell %.0f "${runs[$name]}" "${others[$name]}")"
    done
    echo "  worker runs during the last 'on' run are not kept (each run starts from TRUNCATE)"

    sub "2. a backfill of $BENCH_UPKEEP_BACKFILL calls in one INSERT ... SELECT (bench/stats.sh's rows)"
    reset_calls
    bpsql -c "INSERT INTO ai_model (modelname, version) VALUES $STATS_MODELS
              ON CONFLICT (modelname, version) DO NOTHING"
    local model_ids t_end tl load_s
    model_ids=$(bval "SELECT array_agg(m.id ORDER BY m.id) FROM ai_model m
                        JOIN (VALUES $STATS_MODELS) AS v(n, ver)
                          ON m.modelname = v.n AND m.version = v.ver")
    t_end=$(bval "SELECT now()")
    local runs_before t_load
    runs_before=$(bval "SELECT runs FROM ai_upkeep_state")
    t_load=$(bval "SELECT clock_timestamp()")
    wait_quiet
    tl=$(now_s)
    bpsql -v lo=1 -v hi="$BENCH_UPKEEP_BACKFILL" -v n="$BENCH_UPKEEP_BACKFILL" -v t_end="$t_end" \
          -v model_ids="$model_ids" -f - <<<"$STATS_LOAD_SQL"
    load_s=$(elapsed "$tl")
    local t0 pending_ms fold_s worker_ms compacted_ms pending
    t0=$(now_s)
    pending=$(bval "SELECT count(*) FROM ai_usage_rollup WHERE pending")
    pending_ms=$(stats_ms 3)
    # Polled every half second, up to 120 s: no pending row left and the
    # rollups analyzed since the load.
    fold_s=''
    for (( i = 0; i < 240; i++ )); do
        if [[ $(bval "SELECT pending_rows = 0 AND runs > $runs_before AND worker_pid IS NULL
                        AND last_analyzed > '$t_load'
                       FROM ai_upkeep_status") == t ]]; then
            fold_s=$(elapsed "$t0")
            break
        fi
        sleep 0.5
    done
    worker_ms=$(stats_ms "$BENCH_REPEAT")
    bpsql -o /dev/null -c 'SELECT ai_rollup_compact()' -c 'VACUUM ANALYZE ai_usage_rollup' \
          -c 'VACUUM ANALYZE ai_usage_rollup_total' -c 'VACUUM ANALYZE ai_usage_rollup_daily' \
          -c 'VACUUM ANALYZE ai_usage_purged'
    compacted_ms=$(stats_ms "$BENCH_REPEAT")
    echo "  load                        $load_s s, leaving $pending pending rollup rows"
    echo "  folded and analyzed by the worker, with no call by anyone: ${fold_s:-not within 120} s after the commit"
    echo "  ai_usage_stats(30 days, by model), median ms:"
    echo "    right after the commit    $pending_ms"
    echo "    after the worker          $worker_ms"
    echo "    after a manual ai_rollup_compact() and VACUUM ANALYZE of the rollups: $compacted_ms"
    bval "SELECT 'ai_upkeep_status: runs ' || runs || ', last folded ' || last_run_folded
                 || ', daily_complete ' || daily_complete || ', last_error ' || coalesce(last_error, '-')
            FROM ai_upkeep_status" | indent

    sub "ratios"
    ratio_line upkeep "recording: upkeep on / off" "$(calc "${mean[on]} / ${mean[off]}")" ">=" 0.95
    ratio_line upkeep "backfill folded, s after commit" "${fold_s:-999}" "<=" 60
    ratio_line upkeep "stats after worker / compacted" "$(calc "$worker_ms / $compacted_ms")" "<=" 2
    note_noise upkeep "${others[*]}"
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main upkeep "$@"
