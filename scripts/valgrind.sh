#!/usr/bin/env bash
# scripts/valgrind.sh: run aitrack's pg_regress suite against a server under
# valgrind memcheck, as root on Debian 12 with valgrind installed
# (apt-get install valgrind).  Too slow for every CI run (1-2 minutes), so it
# is not part of scripts/test.sh; run it by hand before a release or after
# touching the C code:
#
#   1. install the build dependencies (scripts/install-deps.sh), make clean,
#      make and make install (build_install in scripts/cluster.sh)
#   2. initdb a throwaway cluster with cluster_start (free port, unix socket
#      in the run folder), stop it again, and start its postmaster by hand
#      under
#        valgrind --quiet --trace-children=yes --num-callers=30
#                 --log-file=$RUN/valgrind/%p.log, PostgreSQL's own
#                 suppressions and test/valgrind/postgres-internal.supp
#      with max_parallel_workers_per_gather=0; wait up to 120 s for
#      pg_isready
#   3. as postgres, in a postgres-owned copy of the tree, `make installcheck`
#      with only the REGRESS list of the Makefile (as scripts/test.sh does)
#   4. restart it, still under valgrind, with shared_preload_libraries =
#      'aitrack' and aitrack.budget_reservations = 'memory', and run
#      test/valgrind/budget_memory.sql (1.9's reservations in memory)
#   5. stop the server (always, failures included), then read every
#      valgrind log: an error report with a stack frame in aitrack.so
#      (`fn (record.c:123)` for a file of src/, or `(in .../aitrack.so)`) is
#      an aitrack error and is printed; a report entirely inside PostgreSQL
#      (e.g. pwrite64(buf) from XLogFlush, which PostgreSQL's own
#      src/tools/valgrind.supp suppresses) is only summarised
#
# Exits 1 if there is an aitrack error, or pg_regress failed, or the server
# did not start.  The last line is
#   valgrind: N errors in aitrack, M in PostgreSQL itself
# counting error reports (one per process that hit them).  $RUN is
# $REPO/.run (or a /tmp fallback, removed at the end): the logs stay in
# $RUN/valgrind, the cluster, tree and regress output in $RUN/vg.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/cluster.sh
source scripts/valgrind-logs.sh

REPO=$AITRACK_REPO
STARTUP_TIMEOUT=120   # seconds for pg_isready under valgrind
STOP_TIMEOUT=120      # seconds for a fast shutdown under valgrind
VG_LOGS=              # $AITRACK_RUN/valgrind: one %p.log per process
VG_JOB=               # pid, and process group, of the valgrind postmaster job
TREE=                 # the postgres-owned copy pg_regress runs in
INCOMPLETE=           # why the run did not get through, for the last line
STAGE=                # the step running now

# vg_start: start the cluster's postmaster (data dir, port and socket set up
# by cluster_start) under valgrind, in the background, and wait for it.
vg_start() {
    local waited=0
    # (a second start keeps the first's logs)
    if [[ -z $VG_LOGS ]]; then
        VG_LOGS=$AITRACK_RUN/valgrind
        rm -rf -- "$VG_LOGS"
        mkdir -p "$VG_LOGS"
        chown postgres:postgres "$VG_LOGS"
    fi

    log "starting postgres under valgrind (socket $PGHOST, port $PGPORT)"
    # set -m: the job gets its own process group, so that a postmaster that
    # never came up can still be killed, with its children, by that id.
    set -m
    local major suppressions
    major=$("$AITRACK_PG_CONFIG" --version | sed 's/^PostgreSQL \([0-9]*\).*/\1/')
    mapfile -t suppressions < <(vg_suppressions "$major" "$VG_LOGS/..")
    as_pg valgrind --quiet --trace-children=yes --num-callers=30 "${suppressions[@]}" \
        --log-file="$VG_LOGS/%p.log" \
        postgres -D "$CLUSTER_DIR/data" -c max_parallel_workers_per_gather=0 "$@" \
        </dev/null >>"$CLUSTER_DIR/server.log" 2>&1 &
    VG_JOB=$!
    set +m

    log "waiting for pg_isready (up to $STARTUP_TIMEOUT s)"
    until as_pg pg_isready -q -d postgres; do
        if ! kill -0 "$VG_JOB" 2>/dev/null; then
            echo "valgrind.sh: postgres under valgrind exited during startup" >&2
            _server_log_tail
            return 1
        fi
        if (( waited >= STARTUP_TIMEOUT )); then
            echo "valgrind.sh: postgres under valgrind not ready after $STARTUP_TIMEOUT s" >&2
            _server_log_tail
            return 1
        fi
        sleep 1
        waited=$(( waited + 1 ))
    done
    log "ready after ${waited} s"
}

# vg_stop: stop the valgrind postmaster, and wait for every valgrind process
# of it to end so that the logs are complete.  Safe to call twice.
vg_stop() {
    local i
    # A postmaster still starting up: let it write postmaster.pid first, so
    # that pg_ctl can stop it and its children cleanly.
    for (( i = 0; i < 60 && ${#VG_JOB} > 0; i++ )); do
        [[ ! -f $CLUSTER_DIR/data/postmaster.pid ]] || break
        kill -0 "$VG_JOB" 2>/dev/null || break
        sleep 1
    done
    if [[ -n $CLUSTER_DIR && -f $CLUSTER_DIR/data/postmaster.pid ]]; then
        log "stopping postgres under valgrind (up to $STOP_TIMEOUT s)"
        as_pg pg_ctl -D "$CLUSTER_DIR/data" -m fast -w -t "$STOP_TIMEOUT" \
            stop >/dev/null 2>&1 || cluster_stop   # fast again, then immediate
    fi
    [[ -n $VG_JOB ]] || return 0
    for (( i = 0; i < 30; i++ )); do
        kill -0 "$VG_JOB" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$VG_JOB" 2>/dev/null; then
        echo "valgrind.sh: the valgrind job did not end, killing its process group $VG_JOB" >&2
        kill -KILL -- "-$VG_JOB" 2>/dev/null || true
    fi
    wait "$VG_JOB" 2>/dev/null || true
    VG_JOB=
}

run_regress() {
    local out=$CLUSTER_DIR/regress.out rc=0
    echo
    local skip=()
    # what reaches PostgreSQL's own assertions (scripts/cluster.sh)
    [[ $AITRACK_PG_CASSERT == 1 ]] && skip=(SKIP_TESTS="${AITRACK_CASSERT_SKIP[*]}")
    log "pg_regress under valgrind: make installcheck ISOLATION= TAP_TESTS= ${skip[*]}"
    as_pg make -C "$TREE" --no-print-directory PG_CONFIG="$AITRACK_PG_CONFIG" \
        installcheck ISOLATION= TAP_TESTS= "${skip[@]}" </dev/null 2>&1 | tee "$out" || rc=$?
    if (( rc != 0 )); then
        INCOMPLETE="pg_regress failed, see $out"
        if [[ -s $TREE/regression.diffs ]]; then
            echo
            echo "==== $TREE/regression.diffs (first 300 lines) ===="
            head -n 300 "$TREE/regression.diffs"
        fi
    fi
    return $rc
}

finish() {
    local rc=$? out n_ai=0 n_pg=0
    set +e
    vg_stop
    cluster_stop
    (( rc == 0 )) || [[ -n $INCOMPLETE ]] || INCOMPLETE="failed at: $STAGE"
    if [[ -n $VG_LOGS ]]; then
        echo
        log "reading $(ls "$VG_LOGS" | wc -l) valgrind log(s) in $VG_LOGS"
        out=$(analyse_logs)
        read -r n_ai n_pg <<<"$(tail -n 1 <<<"$out")"
        sed '$d' <<<"$out"
        if [[ ! $n_ai =~ ^[0-9]+$ || ! $n_pg =~ ^[0-9]+$ ]]; then
            echo "valgrind.sh: could not read the valgrind logs" >&2
            n_ai="?" n_pg="?" rc=1
        elif (( n_ai > 0 )); then
            rc=1
        fi
    fi
    run_dir_cleanup
    echo
    echo "valgrind: $n_ai errors in aitrack, $n_pg in PostgreSQL itself${INCOMPLETE:+ ($INCOMPLETE)}"
    exit "$rc"
}

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind.sh: valgrind not found; apt-get install valgrind" >&2
    exit 1
fi

STAGE="dependencies, build"   # for the last line when a step fails
trap finish EXIT
bash scripts/install-deps.sh
build_install clean

# initdb, pick a free port and write the config the usual way, then stop
# that server: the same data directory runs again under valgrind.
STAGE=initdb
cluster_start vg
cluster_stop
TREE=$CLUSTER_DIR/tree
copy_tree "$TREE"

STAGE="starting the server under valgrind"
vg_start
STAGE=pg_regress
run_regress

# 1.9's reservations in shared memory need the library preloaded (on 15 and
# 16), which pg_regress's expected files do not assume: a second start,
# and test/valgrind/budget_memory.sql.
STAGE="reservations in memory"
vg_stop
vg_start -c shared_preload_libraries=aitrack -c aitrack.budget_reservations=memory
log "test/valgrind/budget_memory.sql under valgrind"
memory_out=$CLUSTER_DIR/budget_memory.out
if ! as_pg psql -X -d postgres -f "$TREE/test/valgrind/budget_memory.sql" >"$memory_out" 2>&1 ||
        ! grep -q 'budget_memory.sql done' "$memory_out"; then
    INCOMPLETE="test/valgrind/budget_memory.sql failed, see $memory_out"
    cat "$memory_out"
    exit 1
fi
