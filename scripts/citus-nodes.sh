# scripts/citus-nodes.sh: a coordinator and two workers with Citus on this
# machine, for test/citus/run.sh and bench/citus.sh (sourced after
# scripts/cluster.sh).  Builds aitrack into the Citus server from a copy of
# the tree, starts the nodes as the postgres user on Unix sockets in a run
# folder of their own, and stops them.
#
#   citus_nodes_build PG_CONFIG RUN   aitrack from a copy of the tree into
#                                     the server of PG_CONFIG ($RUN/build.log)
#   citus_nodes_start RUN [SETTINGS]  three nodes in RUN/n0..n2, on the
#                                     project's first ports after the test
#                                     cluster's; SETTINGS (lines) go into each
#                                     postgresql.conf; sets PORTS and PIDS
#   citus_nodes_stop                  fast, else immediate, else the pid;
#                                     0 when none is left
#   node N ARGS...                    psql on node N, database $DB (default
#                                     postgres), rows unaligned, errors on
#                                     stdout
#   citus_cluster                     Citus in database $DB of every node
#   citus_join                        the workers joined to the coordinator
# BIN (the server's bindir) must be set.
# shellcheck shell=bash disable=SC2034

PORTS=()
PIDS=()

citus_nodes_build() {
    local pgc=$1 run=$2
    copy_tree "$run/src" >/dev/null || return 1
    (cd "$run/src" && make clean PG_CONFIG="$pgc" && make -j"$(nproc)" PG_CONFIG="$pgc" &&
        make install PG_CONFIG="$pgc") >"$run/build.log" 2>&1
}

citus_nodes_start() {
    local run=$1 settings=${2:-} i
    CITUS_RUN=$run
    for i in 0 1 2; do
        PORTS[i]=$(( AITRACK_PORTS[0] + 1 + i ))
        runuser -u postgres -- "$BIN/initdb" -D "$run/n$i" -A trust --no-sync >/dev/null || return 1
        cat >>"$run/n$i/postgresql.conf" <<CONF
shared_preload_libraries = 'citus,aitrack'
# (shard moves: logical replication, to the node itself through the socket)
wal_level = logical
citus.local_hostname = '$run'
port = ${PORTS[$i]}
listen_addresses = ''
unix_socket_directories = '$run'
max_prepared_transactions = 20
$settings
CONF
        if ! runuser -u postgres -- "$BIN/pg_ctl" -D "$run/n$i" -l "$run/n$i.log" -w start >/dev/null; then
            cat "$run/n$i.log"
            return 1
        fi
        PIDS[i]=$(head -n 1 "$run/n$i/postmaster.pid")
    done
}

citus_nodes_stop() {
    local i alive=0
    for i in "${!PIDS[@]}"; do
        runuser -u postgres -- "$BIN/pg_ctl" -D "$CITUS_RUN/n$i" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            runuser -u postgres -- "$BIN/pg_ctl" -D "$CITUS_RUN/n$i" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
            kill -QUIT "${PIDS[$i]}" 2>/dev/null
        # (pg_ctl returns when the pid file is gone; the process may take a moment)
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "${PIDS[$i]}" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "${PIDS[$i]}" 2>/dev/null; then
            echo "citus: node $i (pid ${PIDS[$i]}) is still running; $CITUS_RUN kept" >&2
            alive=1
        fi
    done
    return $alive
}

node() {
    local n=$1; shift
    runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$CITUS_RUN" -p "${PORTS[$n]}" -d "${DB:-postgres}" \
        -v ON_ERROR_STOP=1 "$@" 2>&1
}

citus_cluster() {
    local i
    for i in 0 1 2; do node $i -c "CREATE EXTENSION citus" >/dev/null; done
    node 0 -c "SELECT citus_set_coordinator_host('$CITUS_RUN', ${PORTS[0]})" >/dev/null
}

citus_join() {
    node 0 -c "SELECT citus_add_node('$CITUS_RUN', ${PORTS[1]})" \
           -c "SELECT citus_add_node('$CITUS_RUN', ${PORTS[2]})" >/dev/null
}
