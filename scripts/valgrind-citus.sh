#!/usr/bin/env bash
# scripts/valgrind-citus.sh: aitrack's distributed paths under valgrind
# memcheck, as root on Debian 12 with valgrind installed.  Like
# scripts/valgrind.sh (which runs pg_regress on one server), too slow for
# every CI run; run it by hand after touching src/distributed.c, reprice.c,
# tenant_citus.c or what they call:
#
#   1. the Citus server (scripts/citus-build.sh 17, cached), copied into the
#      run folder so that test/citus/run.sh may run meanwhile, with this
#      checkout's aitrack installed into the copy
#   2. a coordinator and two workers (scripts/citus-nodes.sh); the
#      coordinator is then restarted under valgrind (--trace-children, one
#      log per process, PostgreSQL's suppressions and
#      test/valgrind/postgres-internal.supp), the workers run as they are
#   3. test/valgrind/citus.sql on the coordinator: a ledger distributed
#      with calls in it, recording, the stats over the shards, repricing in
#      several batches, deletes, purges, a tenant's calls and refusals, the
#      upkeep, a TRUNCATE
#   4. every node stopped (always), then the logs read as valgrind.sh reads
#      them (scripts/valgrind-logs.sh): a report with a frame in aitrack is
#      an error and is printed
#
# Exits 1 on an aitrack error or a failed script.  Last line:
#   valgrind-citus: N errors in aitrack, M in PostgreSQL and Citus
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/cluster.sh
source scripts/citus-nodes.sh
source scripts/valgrind-logs.sh

REPO=$AITRACK_REPO
STARTUP_TIMEOUT=180
VG_LOGS=
VG_JOB=
INCOMPLETE=
log() { echo "[$(date +%H:%M:%S)] valgrind-citus: $*"; }

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind-citus.sh: valgrind not found; apt-get install valgrind" >&2
    exit 1
fi

PGC=$(bash scripts/citus-build.sh 17)
run_dir_init
RUN=$(mktemp -d "$AITRACK_RUN/citus-vg.XXXXXX")
chown postgres "$RUN"
cp -a "$(dirname "$(dirname "$PGC")")" "$RUN/pg"
PGC=$RUN/pg/bin/pg_config
BIN=$RUN/pg/bin
VG_LOGS=$RUN/valgrind
mkdir -p "$VG_LOGS"
chown -R postgres "$RUN"

finish() {
    local rc=$? out n_ai=0 n_pg=0 i
    set +e
    if [[ -f $RUN/n0/postmaster.pid ]]; then
        runuser -u postgres -- "$BIN/pg_ctl" -D "$RUN/n0" -m fast -w -t 180 stop >/dev/null 2>&1 ||
            runuser -u postgres -- "$BIN/pg_ctl" -D "$RUN/n0" -m immediate -w -t 60 stop >/dev/null 2>&1
    fi
    if [[ -n $VG_JOB ]]; then
        for (( i = 0; i < 60; i++ )); do kill -0 "$VG_JOB" 2>/dev/null || break; sleep 1; done
        kill -KILL -- "-$VG_JOB" 2>/dev/null
        wait "$VG_JOB" 2>/dev/null
    fi
    citus_nodes_stop
    (( rc == 0 )) || [[ -n $INCOMPLETE ]] || INCOMPLETE="failed"
    log "reading $(ls "$VG_LOGS" | wc -l) valgrind log(s) in $VG_LOGS"
    out=$(analyse_logs)
    read -r n_ai n_pg <<<"$(tail -n 1 <<<"$out")"
    sed '$d' <<<"$out"
    if [[ ! $n_ai =~ ^[0-9]+$ ]]; then n_ai="?" rc=1
    elif (( n_ai > 0 )); then rc=1; fi
    # the logs stay on failure; on success the run folder goes
    (( rc != 0 )) || rm -rf -- "$RUN"
    run_dir_cleanup
    echo "valgrind-citus: $n_ai errors in aitrack, $n_pg in PostgreSQL and Citus${INCOMPLETE:+ ($INCOMPLETE)}"
    exit "$rc"
}
trap finish EXIT

log "building aitrack into a copy of the Citus server"
citus_nodes_build "$PGC" "$RUN" || { tail -n 30 "$RUN/build.log"; INCOMPLETE="build failed"; exit 1; }
citus_nodes_start "$RUN" "max_parallel_workers_per_gather = 0" || { INCOMPLETE="nodes did not start"; exit 1; }
for i in 0 1 2; do node $i -c "CREATE DATABASE vg" >/dev/null; done
DB=vg citus_cluster
DB=vg citus_join

log "restarting the coordinator under valgrind"
runuser -u postgres -- "$BIN/pg_ctl" -D "$RUN/n0" -m fast -w stop >/dev/null
set -m
mapfile -t SUPPRESSIONS < <(vg_suppressions 17 "$RUN")
# (the suppressions readable by postgres; a data folder must stay 0700)
chmod -R a+rX "$RUN"
chmod 0700 "$RUN"/n0 "$RUN"/n1 "$RUN"/n2
runuser -u postgres -- valgrind --quiet --trace-children=yes --num-callers=30 "${SUPPRESSIONS[@]}" \
    --log-file="$VG_LOGS/%p.log" "$BIN/postgres" -D "$RUN/n0" </dev/null >>"$RUN/n0.log" 2>&1 &
VG_JOB=$!
set +m
waited=0
until runuser -u postgres -- "$BIN/pg_isready" -q -h "$RUN" -p "${PORTS[0]}"; do
    kill -0 "$VG_JOB" 2>/dev/null || { INCOMPLETE="the coordinator exited under valgrind"; tail -n 20 "$RUN/n0.log"; exit 1; }
    (( waited++ < STARTUP_TIMEOUT )) || { INCOMPLETE="the coordinator was not ready"; exit 1; }
    sleep 1
done
log "ready after $waited s; test/valgrind/citus.sql"
if ! DB=vg node 0 -f "$REPO/test/valgrind/citus.sql" >"$RUN/citus.out" 2>&1 ||
        ! grep -q 'citus.sql done' "$RUN/citus.out"; then
    INCOMPLETE="test/valgrind/citus.sql failed, see $RUN/citus.out"
    tail -n 20 "$RUN/citus.out"
    exit 1
fi
log "test/valgrind/citus.sql done ($(grep -c . "$RUN/citus.out") lines of output)"
