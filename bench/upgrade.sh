#!/usr/bin/env bash
# bench/upgrade.sh: does ALTER EXTENSION aitrack UPDATE stall recording?
# In a database of its own at BENCH_UPGRADE_FROM (1.5), loads
# BENCH_UPGRADE_CALLS calls (1M), then runs ALTER EXTENSION aitrack UPDATE
# (to the installed default_version) while BENCH_CLIENTS pgbench clients
# record calls for BENCH_UPGRADE_SECONDS (20): single calls, seed-shaped
# calls and two-call batches, in turn; the update starts halfway.  Prints
# how long the update took, whether it succeeded, the failed calls, and from
# pgbench's per-transaction log the longest time without a finished call
# and the worst latency, during the update against the seconds before it
# (the baseline, measured in the same run).  Target (the guide's bar): the
# update stalls recording for under a second, and no call fails.  From 1.6
# on, the same after the update while the upkeep worker backfills (the
# daily level), and when that was done.  Skipped
# when the installed default_version is BENCH_UPGRADE_FROM.
#
#   bash bench/upgrade.sh             this part alone, on a cluster of its own
#   bash bench/run.sh upgrade         the same through the entry point, which
#                                     runs it only when named
#   BENCH_UPGRADE_CALLS=300000 bash bench/upgrade.sh
# The settings are those of bench/lib.sh (bash bench/upgrade.sh --help).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

UPGRADE_DB=bench_upgrade

UPGRADE_LOAD_SQL="INSERT INTO ai_model (modelname, version) SELECT 'model-' || i, 'v1' FROM generate_series(1, 50) i;
INSERT INTO ai_call (model_id, created_at, prompt, response, input_tokens, output_tokens, duration_ms,
                     user_id, cost_source)
SELECT (SELECT min(id) FROM ai_model) + i % 50, now() - i * interval '1 second', 'prompt ' || i, '{}',
       i % 1000, i % 100, i % 5000, ('00000000-0000-4000-8000-' || lpad((i % 1000)::text, 12, '0'))::uuid,
       'unknown'
  FROM generate_series(1, :calls) i;
SELECT * FROM ai_load_prices('{\"model-1\": {\"input_cost_per_token\": 0.000001, \"output_cost_per_token\": 0.000002}}');
SELECT ai_rollup_compact();"

# Named arguments with integer and numeric literals: they resolve to the
# explicit form before the update and after it.
UPGRADE_SINGLE_SQL="SELECT record_ai_call(modelname => 'model-1', version => 'v1', prompt => 'p', response => '{}',
                      input_tokens => 10, output_tokens => 2, duration_ms => 100);"
UPGRADE_SEED_SQL="SELECT record_ai_call('model-2', 'v1', 'p', '{}', '{\"input_tokens\": 10, \"cost_usd\": 0.1}'::jsonb);"
UPGRADE_BATCH_SQL="SELECT count(*) FROM record_ai_calls('[{\"modelname\": \"model-3\", \"version\": \"v1\", \"prompt\": \"p\", \"response\": {}, \"cost_usd\": 0.1},
                                          {\"modelname\": \"model-4\", \"version\": \"v1\", \"prompt\": \"p\", \"response\": {}}]');"

upsql() { as_pg psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d "$UPGRADE_DB" "$@"; }

bench_upgrade() {
    local from=${BENCH_UPGRADE_FROM:-1.5} calls=${BENCH_UPGRADE_CALLS:-1000000}
    local seconds=${BENCH_UPGRADE_SECONDS:-20} to
    to=$(bval "SELECT default_version FROM pg_available_extensions WHERE name = 'aitrack'")
    section "upgrade: ALTER EXTENSION aitrack UPDATE from $from to $to on $calls calls while $BENCH_CLIENTS clients record"
    if [[ $to == "$from" ]]; then
        echo "  skipped: the installed default_version is $from"
        PART_SKIPPED=1
        return 0
    fi

    as_pg dropdb --if-exists "$UPGRADE_DB"
    as_pg createdb "$UPGRADE_DB"
    upsql -c "CREATE EXTENSION aitrack VERSION '$from' CASCADE"
    local single seed batch out=$WORK/upgrade_pgbench.out update_out=$WORK/upgrade_update.out
    single=$(write_file upgrade_single.sql <<<"$UPGRADE_SINGLE_SQL")
    seed=$(write_file upgrade_seed.sql <<<"$UPGRADE_SEED_SQL")
    batch=$(write_file upgrade_batch.sql <<<"$UPGRADE_BATCH_SQL")
    rm -f "$WORK"/upgrade_txn*
    local -a args=(-n -c "$BENCH_CLIENTS" -j "$BENCH_JOBS" -T "$seconds" -l --log-prefix="$WORK/upgrade_txn")

    sub "commands"
    echo "    load (psql variable calls = $calls):"
    indent <<<"$UPGRADE_LOAD_SQL"
    echo
    echo "    in the background, from $WORK (simple protocol: each call is planned afresh,"
    echo "    so it meets the new functions as soon as the update commits):"
    echo "    pgbench ${args[*]} -f $(basename "$single") -f $(basename "$seed") -f $(basename "$batch") $UPGRADE_DB"
    indent <"$single"
    indent <"$seed"
    indent <"$batch"
    echo "    and $(( seconds / 2 )) s after it started: ALTER EXTENSION aitrack UPDATE TO '$to'"

    sub "loading $calls calls"
    timed upsql -v calls="$calls" -f - <<<"$UPGRADE_LOAD_SQL" >/dev/null
    echo "  loaded in $T s"
    # The upkeep worker may still be folding the load (the load's own
    # ai_rollup_compact() then returned 0): a fold in progress is not what
    # this part measures, so wait until none is pending (up to 30 min).
    local i t_fold
    t_fold=$(now_s)
    for (( i = 0; i < 3600; i++ )); do
        [[ $(upsql -At -c 'SELECT count(*) FROM ai_usage_rollup WHERE pending') == 0 ]] && break
        upsql -o /dev/null -c 'SELECT ai_rollup_compact()' 2>/dev/null || true
        sleep 0.5
    done
    T=$(elapsed "$t_fold")
    echo "  pending rollup rows folded $T s later"

    local pid rc=0 update_rc=0 t_start t_end update_ms
    wait_quiet
    cpu_mark
    (cd "$WORK" && as_pg pgbench "${args[@]}" -f "$single" -f "$seed" -f "$batch" "$UPGRADE_DB" >"$out" 2>&1) &
    pid=$!
    sleep $(( seconds / 2 ))
    t_start=$(now_s)
    upsql -c "ALTER EXTENSION aitrack UPDATE TO '$to'" >"$update_out" 2>&1 || update_rc=$?
    t_end=$(now_s)
    update_ms=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
    # 1.6 on: the worker's backfill after the update, while pgbench records.
    local daily_s=''
    while kill -0 "$pid" 2>/dev/null; do
        if [[ -z $daily_s && $(upsql -At -c "SELECT to_regclass('ai_upkeep_status') IS NOT NULL
                                              AND (SELECT daily_complete FROM ai_upkeep_status)") == t ]]; then
            daily_s=$(elapsed "$t_end")
        fi
        sleep 0.2
    done
    wait "$pid" || rc=$?
    local others
    others=$(cpu_others)
    if (( rc != 0 )); then
        err "pgbench failed (exit $rc):"
        cat "$out" >&2
        return 1
    fi

    # pgbench -l: client_id transaction_no time script_no time_epoch time_us
    # (time in us; the end of each transaction is time_epoch.time_us).
    local failed stats
    failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$out" | head -n 1)
    stats=$(cat "$WORK"/upgrade_txn* | awk -v a="$t_start" -v b="$t_end" '
        { end = $5 + $6 / 1e6; lat = $3 / 1000
          if (end < a - 0.5 && end > a - 5.5) { if (lat > base_max) base_max = lat; base_n++ }
          if (end >= a && end <= b + 0.5) { if (lat > upd_max) upd_max = lat; upd_n++ } }
        END { printf "%.1f %.1f %d %d", base_max, upd_max, base_n, upd_n }')
    # the longest time without a finished call, from 1 s before the update
    # to 1 s after it
    stats+=" $(cat "$WORK"/upgrade_txn* | awk '{ printf "%.6f\n", $5 + $6 / 1e6 }' | sort -n |
        awk -v a="$t_start" -v b="$t_end" '
            $1 > a - 1 && prev != "" && prev < b + 1 && $1 - prev > gap { gap = $1 - prev }
            { prev = $1 }
            END { printf "%.0f", gap * 1000 }')"
    local base_max upd_max base_n upd_n gap_ms
    read -r base_max upd_max base_n upd_n gap_ms <<<"$stats"
    # After the update, to the end of the run: the worst latency and the
    # longest time without a finished call (the backfill runs then).
    local after after_max after_n after_gap
    after=$(cat "$WORK"/upgrade_txn* | awk -v b="$t_end" '
        { end = $5 + $6 / 1e6; if (end > b + 0.5) { lat = $3 / 1000; if (lat > m) m = lat; n++ } }
        END { printf "%.1f %d", m, n }')
    after_gap=$(cat "$WORK"/upgrade_txn* | awk '{ printf "%.6f\n", $5 + $6 / 1e6 }' | sort -n |
        awk -v b="$t_end" '$1 > b && prev != "" && prev >= b && $1 - prev > gap { gap = $1 - prev }
                            { prev = $1 } END { printf "%.0f", gap * 1000 }')
    read -r after_max after_n <<<"$after"

    sub "result"
    echo "  update: $( (( update_rc == 0 )) && echo "done" || echo "FAILED (it is run again by hand then): $(head -n 3 "$update_out" | tr '\n' ' ')") in $update_ms ms; now at $(upsql -At -c "SELECT extversion FROM pg_extension WHERE extname = 'aitrack'")"
    echo "  pgbench: $(grep -E '^tps' "$out" | head -n 1); failed calls: ${failed:-0}; other processes took ${others}% of the CPU"
    echo "  worst latency, the 5 s before the update ($base_n calls): $base_max ms"
    echo "  worst latency, during the update ($upd_n calls):          $upd_max ms"
    echo "  longest time without a finished call around the update: $gap_ms ms"
    echo "  after the update, to the end of the run ($after_n calls): worst latency $after_max ms,"
    echo "    longest time without a finished call $after_gap ms"
    echo "  daily level filled by the upkeep worker: ${daily_s:-not within the run (or no daily level)} s after the update"
    echo
    ratio_line upgrade "longest stall of recording (ms)" "$gap_ms" "<" 1000
    ratio_line upgrade "worst latency during / before the update" "$(calc "$upd_max / ($base_max > 0 ? $base_max : 1)")" "<" 50
    ratio_line upgrade "failed calls" "${failed:-0}" "<=" 0
    ratio_line upgrade "longest stall after the update (ms)" "$after_gap" "<" 1000
    note_noise upgrade "$others"
    as_pg dropdb "$UPGRADE_DB"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    bench_part_main upgrade "$@"
fi
