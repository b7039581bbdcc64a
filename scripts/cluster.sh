# scripts/cluster.sh: bash functions shared by scripts/demo.sh and
# scripts/test.sh to build aitrack and run a throwaway PostgreSQL cluster.
# Source it; sourcing only defines variables and functions.
#
#   pg_use SERVER         choose the PostgreSQL server (see below); without
#                         it, PG_CONFIG or the system's 15
#   as_pg CMD...          run CMD as the `postgres` user (PostgreSQL refuses
#                         root), with the server's binaries first in PATH,
#                         the PG* variables of the running cluster, and
#                         PG_TEST_NOCLEAN, PG_TEST_TIMEOUT_DEFAULT, PROVE_FLAGS,
#                         AITRACK_UPGRADE_FROM passed on when set
#   build_install [clean] (as root, in the repo) [make clean,] make, make install;
#                         cleans anyway when the last build was for another server
#   run_dir_init          set AITRACK_RUN, the run folder, creating it on first
#                         use: $REPO/.run owned by postgres, or a fresh
#                         /tmp/aitrack.XXXXXX when postgres cannot reach the
#                         repo (e.g. it is under /root) or the socket path
#                         would be too long
#   cluster_start NAME    initdb + start a cluster in $AITRACK_RUN/NAME, on a unix
#                         socket only, at a free port in 54320-54399; exports
#                         PGHOST PGPORT PGUSER=postgres
#   cluster_stop          stop it (fast, else immediate); safe to call twice
#                         or when nothing was started
#   run_dir_cleanup       remove the run folder if it is a /tmp fallback
#   copy_tree DEST        copy the working tree (without .git and .run) to
#                         DEST, owned by postgres, for suites that write into
#                         the tree they run in
#
# Callers stop the cluster on every exit, failures included:
#   trap 'cluster_stop; run_dir_cleanup' EXIT

AITRACK_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The server: PG_CONFIG when set, else the system's PostgreSQL 15.  pg_use
# switches to another one.
AITRACK_SYSTEM_PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
AITRACK_PG_CONFIG=${PG_CONFIG:-$AITRACK_SYSTEM_PG_CONFIG}
AITRACK_PG_BIN=
AITRACK_PG_LABEL=
AITRACK_PG_CASSERT=0
# Tests left out on assert-enabled servers (scripts/test.sh and
# scripts/valgrind.sh).  Each reaches PostgreSQL's own
# Assert(HEAP_XMAX_IS_LOCKED_ONLY(infomask_lock_old_tuple)) in heap_update,
# which fires without aitrack for "upsert a row, upsert it again in a
# subtransaction that rolls back, repeat until the page fills" (reproduced
# on 15.18, 17.11 and 18.6; see ../shared/postgres/README.md).  Release
# builds, like every packaged server, do not check it.
#   rollup_random: ai_rollup_compact()'s upserts inside random
#   subtransactions that roll back crash such a server with that TRAP.
AITRACK_CASSERT_SKIP=(rollup_random)
AITRACK_PORTS=(54320 54399)
AITRACK_RUN=          # set by run_dir_init
AITRACK_RUN_IS_TMP=0  # 1 when AITRACK_RUN is a mktemp fallback
CLUSTER_DIR=          # set by cluster_start: data/, sock/, server.log
CLUSTER_PORT=

# Longest unix socket path we accept (the kernel's limit is 107 bytes).
AITRACK_MAX_SOCKET_PATH=100
# Longest NAME for cluster_start; run_dir_init reserves room for it.
AITRACK_MAX_NAME=16

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# pg_use SERVER: make SERVER the one that builds, installs and runs.  SERVER
# is the path of a pg_config, `system` (Debian's 15), or VERSION[-cassert]
# (15.18, 17, 18-cassert, ...): a private build from ../shared/postgres,
# made and cached by scripts/pg-build.sh on first use.  Sets
# AITRACK_PG_CONFIG, AITRACK_PG_BIN, AITRACK_PG_LABEL (e.g. 18.6-cassert)
# and AITRACK_PG_CASSERT (1 when the server checks assertions).
pg_use() {
    local server=${1:?usage: pg_use SERVER} config flavour=release
    case $server in
        system) config=$AITRACK_SYSTEM_PG_CONFIG ;;
        */*) config=$server ;;
        *)
            if [[ $server == *-cassert ]]; then flavour=cassert; server=${server%-cassert}; fi
            config=$(bash "$AITRACK_REPO/scripts/pg-build.sh" "$server" "$flavour") || return 1 ;;
    esac
    [[ -x $config ]] || { echo "pg_use: no pg_config at $config" >&2; return 1; }
    AITRACK_PG_CONFIG=$config
    AITRACK_PG_BIN=$("$config" --bindir)
    AITRACK_PG_CASSERT=0
    "$config" --configure | grep -q -- '--enable-cassert' && AITRACK_PG_CASSERT=1
    AITRACK_PG_LABEL=$("$config" --version | sed 's/^PostgreSQL //; s/ .*//')
    [[ $AITRACK_PG_CASSERT == 1 ]] && AITRACK_PG_LABEL+=-cassert
    [[ $config == "$AITRACK_SYSTEM_PG_CONFIG" ]] && AITRACK_PG_LABEL+=" (system)"
    return 0
}

# as_pg CMD...: run CMD as postgres, from the current folder when postgres
# may enter it, else from /.
as_pg() {
    [[ -n $AITRACK_PG_BIN ]] || pg_use "$AITRACK_PG_CONFIG" || return 1
    local dir=/ var
    if runuser -u postgres -- test -x "$PWD" 2>/dev/null; then dir=$PWD; fi
    local envs=(PATH="$AITRACK_PG_BIN:/usr/local/bin:/usr/bin:/bin"
                HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres
                LC_ALL=C.UTF-8)
    # the cluster, and knobs a human may set for the TAP tests
    for var in PGHOST PGPORT PGUSER PGDATABASE \
               PG_TEST_NOCLEAN PG_TEST_TIMEOUT_DEFAULT PROVE_FLAGS \
               AITRACK_UPGRADE_FROM; do
        [[ -n ${!var:-} ]] && envs+=("$var=${!var}")
    done
    (cd "$dir" && runuser -u postgres -- env "${envs[@]}" "$@")
}

# build_install [clean]: build and install the extension, as root, in the repo.
build_install() {
    [[ -n $AITRACK_PG_BIN ]] || pg_use "$AITRACK_PG_CONFIG" || return 1
    local make=(make -C "$AITRACK_REPO" --no-print-directory
                PG_CONFIG="$AITRACK_PG_CONFIG")
    # Objects built for another server would link into a broken library
    # (make cannot tell): clean when the last build was for another one.
    local stamp=$AITRACK_REPO/.built-for
    if [[ ${1:-} == clean || $(cat "$stamp" 2>/dev/null) != "$AITRACK_PG_CONFIG" ]]; then
        log "make clean"
        "${make[@]}" clean >/dev/null || return 1
    fi
    log "make (PostgreSQL $AITRACK_PG_LABEL)"
    "${make[@]}" || return 1
    echo "$AITRACK_PG_CONFIG" >"$stamp"
    log "make install"
    "${make[@]}" install >/dev/null || return 1
}

# _postgres_can_use DIR: can postgres create files in DIR?
_postgres_can_use() {
    runuser -u postgres -- sh -c 'cd "$1" && touch .aitrack-probe && rm -f .aitrack-probe' \
        sh "$1" >/dev/null 2>&1
}

run_dir_init() {
    [[ -z $AITRACK_RUN ]] || return 0
    local dir=$AITRACK_REPO/.run
    local sock_tail=/sock/.s.PGSQL.54320   # <run>/<NAME>/sock/.s.PGSQL.<port>
    local sock_len=$(( ${#dir} + 1 + AITRACK_MAX_NAME + ${#sock_tail} ))
    mkdir -p "$dir" || return 1
    if (( sock_len <= AITRACK_MAX_SOCKET_PATH )) &&
       chown postgres:postgres "$dir" && _postgres_can_use "$dir"; then
        AITRACK_RUN=$dir
    else
        AITRACK_RUN=$(mktemp -d /tmp/aitrack.XXXXXX) || return 1
        AITRACK_RUN_IS_TMP=1
        chown postgres:postgres "$AITRACK_RUN" || return 1
    fi
}

run_dir_cleanup() {
    if [[ $AITRACK_RUN_IS_TMP == 1 && -n $AITRACK_RUN ]]; then
        rm -rf -- "$AITRACK_RUN"
        AITRACK_RUN=
        AITRACK_RUN_IS_TMP=0
    fi
}

copy_tree() {
    local dest=${1:?usage: copy_tree DEST}
    rm -rf -- "$dest"
    mkdir -p "$dest"
    tar -C "$AITRACK_REPO" --exclude=./.git --exclude=./.run -cf - . | tar -C "$dest" -xf - ||
        return 1
    chown -R postgres:postgres "$dest"
}

# _port_free PORT: nothing listens on PORT (TCP) and no socket file of it
# is in our socket folder.
_port_free() {
    local port=$1
    [[ -e $CLUSTER_DIR/sock/.s.PGSQL.$port ]] && return 1
    if command -v ss >/dev/null 2>&1; then
        [[ -z $(ss -Hltn "sport = :$port" 2>/dev/null) ]]
    else
        # No ss: a refused connection means nothing listens.
        ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
    fi
}

_server_log_tail() {
    if [[ -n $CLUSTER_DIR && -f $CLUSTER_DIR/server.log ]]; then
        echo "---- last lines of $CLUSTER_DIR/server.log ----" >&2
        tail -n 40 "$CLUSTER_DIR/server.log" >&2
        echo "----" >&2
    fi
}

cluster_start() {
    local name=${1:?usage: cluster_start NAME}
    if [[ ! $name =~ ^[A-Za-z0-9_-]+$ || ${#name} -gt $AITRACK_MAX_NAME ]]; then
        echo "cluster_start: NAME must be 1-$AITRACK_MAX_NAME of [A-Za-z0-9_-]" >&2
        return 1
    fi
    cluster_stop
    run_dir_init || return 1
    CLUSTER_DIR=$AITRACK_RUN/$name
    rm -rf -- "$CLUSTER_DIR"
    mkdir -p "$CLUSTER_DIR/sock"
    chown -R postgres:postgres "$CLUSTER_DIR"

    log "initdb $CLUSTER_DIR/data"
    if ! as_pg initdb -D "$CLUSTER_DIR/data" -U postgres -A trust \
            --no-locale -E UTF8 --no-sync >"$CLUSTER_DIR/initdb.log" 2>&1; then
        echo "cluster_start: initdb failed:" >&2
        cat "$CLUSTER_DIR/initdb.log" >&2
        return 1
    fi

    local port
    CLUSTER_PORT=
    for (( port = AITRACK_PORTS[0]; port <= AITRACK_PORTS[1]; port++ )); do
        if _port_free "$port"; then CLUSTER_PORT=$port; break; fi
    done
    if [[ -z $CLUSTER_PORT ]]; then
        echo "cluster_start: no free port in ${AITRACK_PORTS[0]}-${AITRACK_PORTS[1]}" >&2
        return 1
    fi

    cat >>"$CLUSTER_DIR/data/postgresql.conf" <<EOF

# Added by scripts/cluster.sh: throwaway test cluster, unix socket only.
listen_addresses = ''
port = $CLUSTER_PORT
unix_socket_directories = '$CLUSTER_DIR/sock'
fsync = off
# aitrack's background folding of the rollups (src/upkeep.c): off in the
# test clusters (AITRACK_UPKEEP_INTERVAL=0, scripts/test.sh), where tests
# count pending rows; test/t/007_upkeep.pl turns it on for its own node.
aitrack.upkeep_interval = ${AITRACK_UPKEEP_INTERVAL:-10}
EOF

    log "starting cluster '$name' (socket $CLUSTER_DIR/sock, port $CLUSTER_PORT)"
    if ! as_pg pg_ctl -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" \
            -w -t 60 start >/dev/null; then
        echo "cluster_start: pg_ctl start failed" >&2
        _server_log_tail
        return 1
    fi
    export PGHOST=$CLUSTER_DIR/sock PGPORT=$CLUSTER_PORT PGUSER=postgres
}

cluster_stop() {
    [[ -n $CLUSTER_DIR && -f $CLUSTER_DIR/data/postmaster.pid ]] || return 0
    log "stopping cluster in $CLUSTER_DIR"
    if ! as_pg pg_ctl -D "$CLUSTER_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
        echo "cluster_stop: fast shutdown failed, trying immediate" >&2
        as_pg pg_ctl -D "$CLUSTER_DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
            { echo "cluster_stop: could not stop the server" >&2; _server_log_tail; }
    fi
    return 0
}
