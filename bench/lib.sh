# bench/lib.sh: what the parts of the benchmark share.  bench/run.sh (the
# entry point) and each part (bench/ingest.sh, stats.sh, batch.sh,
# retention.sh) source it; sourcing it only defines the settings, variables
# and functions below, turns on `set -euo pipefail` and moves to the repo.
# It holds the settings, the output and ratio helpers, the throwaway cluster
# (through scripts/cluster.sh), the share of the CPU that other processes
# take, a pgbench runner that waits for quiet and retries, the checksum
# check of aitrack.so, the summary and the main flow of a run.
#
# Settings (environment; the same for bench/run.sh and every part):
#   BENCH_DURATION=30                 seconds per pgbench run (ingest)
#   BENCH_CLIENTS=4 BENCH_JOBS=2      pgbench -c and -j (ingest, retention)
#   BENCH_ROUNDS=2                    ingest, batch: runs of each variant,
#                                     interleaved (a b c d a b c d ...); the
#                                     mean is used
#   BENCH_STATS_SIZES="1000000 10000000 30000000"
#                                     ascending table sizes for stats; each is
#                                     loaded by adding rows to the previous one
#   BENCH_MAX_OTHERS=10 BENCH_RETRIES=3 BENCH_QUIET_WAIT=60
#                                     the machine may be shared: each pgbench
#                                     run first waits (up to BENCH_QUIET_WAIT
#                                     s) until other processes take at most
#                                     BENCH_MAX_OTHERS% of the CPU; a run they
#                                     disturbed more is run again, up to
#                                     BENCH_RETRIES times, and the least
#                                     disturbed run is kept
#   BENCH_REPEAT=5                    stats: timed runs per query (after 1
#                                     warm-up); the median is reported
#   BENCH_BATCH_ROWS=200000 BENCH_BATCH_SIZE=1000
#                                     batch: rows in all, and rows per call or
#                                     COPY
#   BENCH_RETENTION_CALLS=10000000 BENCH_RETENTION_SECONDS=90
#                                     retention: calls loaded over 90 days (the
#                                     purge deletes the third older than 60
#                                     days), and seconds the clients record
#                                     calls (the purge starts 10 s in)
#   BENCH_VERSION=                    CREATE EXTENSION aitrack VERSION this
#                                     (e.g. 1.1, to measure it with the
#                                     installed aitrack.so); empty: the
#                                     installed default_version
#   BENCH_FSYNC=on                    fsync of the bench cluster
#   BENCH_BUILD=0                     1: make && make install this checkout
#                                     first (the install is machine-wide);
#                                     0: measure what is installed
#   BENCH_KEEP=0                      1: keep the cluster's folder (its data can
#                                     be several GB) after the run
#
# A run measures the aitrack that `pg_config` of PostgreSQL 15 has installed
# and prints its version.  The cluster (scripts/cluster.sh, in
# $REPO/.run/bench) gets settings for a 2-core, 24 GiB machine:
# shared_buffers=2GB, max_wal_size=8GB, checkpoint_timeout=30min,
# synchronous_commit=off, autovacuum on, and fsync on (unlike the test
# clusters).  It is stopped and its folder removed on every exit, failures
# and Ctrl-C included.  A missed target is reported, not an error: the exit
# status is non-zero only when something failed to run.

# A library: the variables it sets are read by the files that source it.
# shellcheck shell=bash disable=SC2034

# run.sh sources the lib and then every part, and each part sources it too.
[[ -z ${BENCH_LIB_LOADED:-} ]] || return 0
BENCH_LIB_LOADED=1

# Every bench script wants it: a step that fails must stop the run, not
# leave figures measured on a half-made state.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The script that was run, for its help and its messages; absolute, as the
# cd below leaves the folder that $0 may be relative to.
BENCH_SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
BENCH_ME=bench/$(basename "$0")
cd "$BENCH_DIR/.."
# shellcheck source=../scripts/cluster.sh
source scripts/cluster.sh

BENCH_DURATION=${BENCH_DURATION:-30}
BENCH_CLIENTS=${BENCH_CLIENTS:-4}
BENCH_JOBS=${BENCH_JOBS:-2}
BENCH_STATS_SIZES=${BENCH_STATS_SIZES:-"1000000 10000000 30000000"}
BENCH_ROUNDS=${BENCH_ROUNDS:-2}
BENCH_REPEAT=${BENCH_REPEAT:-5}
BENCH_MAX_OTHERS=${BENCH_MAX_OTHERS:-10}
BENCH_RETRIES=${BENCH_RETRIES:-3}
BENCH_QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
BENCH_BATCH_ROWS=${BENCH_BATCH_ROWS:-200000}
BENCH_BATCH_SIZE=${BENCH_BATCH_SIZE:-1000}
BENCH_RETENTION_CALLS=${BENCH_RETENTION_CALLS:-10000000}
BENCH_RETENTION_SECONDS=${BENCH_RETENTION_SECONDS:-90}
BENCH_VERSION=${BENCH_VERSION:-}
BENCH_FSYNC=${BENCH_FSYNC:-on}
BENCH_BUILD=${BENCH_BUILD:-0}
BENCH_KEEP=${BENCH_KEEP:-0}

DB=aitrack_bench
# Every part, in the order they run; the default leaves retention out (long).
BENCH_PARTS=(ingest stats batch batch_memory retention upgrade load_prices upkeep budgets)
BENCH_DEFAULT_PARTS=(ingest stats batch)
WORK=            # $CLUSTER_DIR/work: scripts and data files, postgres-owned
SUMMARY=()       # "part|ratio|value|target|verdict"
STARTED=$(date +%s)

# usage: the head comment of the script that was run (what it does), then
# the settings from this file's, so that they are written down once
usage() {
    awk 'NR == 1 && /^#!/ { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "$BENCH_SELF"
    echo
    awk '/^# Settings/ { on = 1 } on && !/^#/ { exit } on { sub(/^# ?/, ""); print }' "$BENCH_DIR/lib.sh"
}

err() { echo "$BENCH_ME: $*" >&2; }

# ---------------------------------------------------------------- output

section() {
    echo
    echo "======================================================================"
    echo "== $*"
    echo "======================================================================"
}

sub() { echo; echo "-- $*"; }

# indent: stdin as it was run, indented (scripts, SQL)
indent() { sed 's/^/    /'; }

now_s() { date +%s.%N; }

# elapsed START: seconds since START (from now_s), 3 decimals
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.3f", b - a }'; }

# timed CMD...: run CMD; T is then the seconds it took (3 decimals)
T=''
timed() {
    local t
    t=$(now_s)
    "$@"
    T=$(elapsed "$t")
}

# calc EXPR: awk arithmetic, printed with %.2f unless a format is given
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }

# median: the median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) printf "%.3f", v[(NR + 1) / 2]
        else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# runs_cell FORMAT "VALUES" "OTHERS": each run's value, FORMAT applied, and
# in brackets the % of the CPU other processes took during it
runs_cell() {
    paste -d' ' <(tr ' ' '\n' <<<"$2") <(tr ' ' '\n' <<<"$3") |
        awk -v f="$1" 'NF == 2 { printf f " (%s%%)  ", $1, $2 }'
}

# verdict VALUE OP TARGET: "met" or "MISSED" (OP: >= > <= <)
verdict() {
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
        ok = (op == ">=") ? v >= t : (op == ">") ? v > t : (op == "<=") ? v <= t : v < t
        print (ok ? "met" : "MISSED") }'
}

# ratio_line PART NAME VALUE OP TARGET: print one ratio row and remember it
ratio_line() {
    local part=$1 name=$2 value=$3 op=$4 target=$5 v
    v=$(verdict "$value" "$op" "$target")
    printf '  %-44s %8s   target %-2s %-6s %s\n' "$name" "$value" "$op" "$target" "$v"
    SUMMARY+=("$part|$name|$value|$op $target|$v")
}

note_summary() { SUMMARY+=("$1|$2|-|-|$3"); }

# part_end PART T0 CPU0: how long PART took, and how much of the machine
# other processes took meanwhile (waits for quiet included); nothing for a
# part that was skipped.
part_end() {
    [[ $PART_SKIPPED == 0 ]] || return 0
    echo
    echo "  $1 took $(elapsed "$2") s; other processes took $(cpu_others "$3")% of the machine's CPU meanwhile"
}

# note_noise PART "OTHERS...": a summary line when a measurement kept was
# disturbed (other processes above BENCH_MAX_OTHERS% of the CPU).
note_noise() {
    local n
    n=$(echo "$2" | awk -v m="$BENCH_MAX_OTHERS" '{ for (i = 1; i <= NF; i++) if ($i > m) n++ } END { print n + 0 }')
    if (( n > 0 )); then
        note_summary "$1" "noise" "$n measurement(s) disturbed: other processes took > $BENCH_MAX_OTHERS% of the CPU"
    fi
}

# print_summary PARTS: every ratio and note of the run, in the order made
print_summary() {
    section "summary: aitrack $(ext_version), $(date -u '+%Y-%m-%d'), ${1}"
    # the part column as wide as its longest name ("retention" is 9)
    local w=7 line part name value target v
    for line in "${SUMMARY[@]}"; do
        part=${line%%|*}
        (( ${#part} <= w )) || w=${#part}
    done
    printf "  %-${w}s %-44s %8s   %-10s %s\n" part ratio value target verdict
    for line in "${SUMMARY[@]}"; do
        IFS='|' read -r part name value target v <<<"$line"
        printf "  %-${w}s %-44s %8s   %-10s %s\n" "$part" "$name" "$value" "$target" "$v"
    done
    echo
    echo "  total $(( $(date +%s) - STARTED )) s"
}

# ---------------------------------------------------------------- CPU share

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

# The machine may be shared: how much CPU went to processes other than the
# bench's own (this shell and its children, the postmaster and its
# children) between cpu_mark and cpu_others, in % of all cores.  Exited
# children count in their parent's cutime/cstime.
_proc_cpu() {   # PID: utime + stime + cutime + cstime, in clock ticks
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $(( ${12} + ${13} + ${14} + ${15} ))
}
_cpu_now() {    # "busy total ours" in clock ticks
    local ours
    ours=$(( $(_proc_cpu $$) + $(server_cpu_ticks) ))
    awk -v ours="$ours" '$1 == "cpu" { busy = $2 + $3 + $4 + $7 + $8 + $9
        print busy, busy + $5 + $6, ours; exit }' /proc/stat
}
CPU_MARK=
cpu_mark() { CPU_MARK=$(_cpu_now); }
# The server's CPU (postmaster and its children, exited ones included), in
# clock ticks: per transaction, what a run cost the database alone, which a
# machine shared with the clients (pgbench) or other work hides in tps.
server_cpu_ticks() {
    local pm pid sum=0
    [[ -n ${CLUSTER_DIR:-} && -f $CLUSTER_DIR/data/postmaster.pid ]] || { echo 0; return; }
    pm=$(head -n 1 "$CLUSTER_DIR/data/postmaster.pid")
    # The backends of a client that just quit are still exiting: wait (up
    # to 5 s) until the postmaster has reaped them into its cutime.
    for (( pid = 0; pid < 50; pid++ )); do
        [[ $(ps -o args= --ppid "$pm" 2>/dev/null) == *" $DB "* ]] || break
        sleep 0.1
    done
    # Children before the postmaster: one reaped in between is then
    # counted twice, never missed.
    for pid in $(ps -o pid= --ppid "$pm" 2>/dev/null); do
        sum=$(( sum + $(_proc_cpu "$pid") ))
    done
    echo $(( sum + $(_proc_cpu "$pm") ))
}
cpu_others() {  # [MARK]: default the last cpu_mark
    awk -v a="${1:-$CPU_MARK}" -v b="$(_cpu_now)" 'BEGIN { split(a, x); split(b, y)
        total = y[2] - x[2]; other = (y[1] - x[1]) - (y[3] - x[3])
        if (other < 0) other = 0
        printf "%.0f", (total > 0) ? 100 * other / total : 0 }'
}

# wait_quiet: wait (up to BENCH_QUIET_WAIT s) for 2 s in which other
# processes take at most BENCH_MAX_OTHERS% of the CPU.
wait_quiet() {
    local waited=0 o
    while :; do
        cpu_mark
        sleep 2
        o=$(cpu_others)
        (( o > BENCH_MAX_OTHERS && waited < BENCH_QUIET_WAIT )) || return 0
        (( waited == 0 )) && log "other processes take ${o}% of the CPU: waiting up to ${BENCH_QUIET_WAIT}s for quiet"
        waited=$(( waited + 2 ))
    done
}

# fresh_start: what every timed run begins with, so that no run inherits
# the previous one's rows or dirty buffers or another process's burst: an
# empty ledger, quiet, then the CPU mark that cpu_others reads.
fresh_start() {
    reset_calls
    wait_quiet
    cpu_mark
}

# ---------------------------------------------------------------- aitrack.so

# The install is machine-wide: another `make install` during the run would
# mix two builds in one set of figures.  so_check PART says so.
SO_PATH='' SO_SUM=''
so_sum() { sha256sum "$SO_PATH" | cut -c1-16; }
so_check() {
    local now
    now=$(so_sum)
    if [[ $now != "$SO_SUM" ]]; then
        echo "  WARNING: $SO_PATH was replaced during '$1' (sha256 $SO_SUM... now $now...): its figures may mix two builds"
        note_summary "$1" "aitrack.so" "REPLACED during this part: re-run"
        SO_SUM=$now
    fi
}

# ---------------------------------------------------------------- SQL

bpsql() { as_pg psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d "$DB" "$@"; }

# bval SQL: the single value SQL returns
bval() { bpsql -At -c "$1"; }

ext_version() { bval "SELECT extversion FROM pg_extension WHERE extname = 'aitrack'"; }

# has_function NAME: the version created has a function NAME (parts and
# steps that a version lacks are skipped, not failed)
has_function() { [[ $(bval "SELECT count(*) FROM pg_proc WHERE proname = '$1'") != 0 ]]; }

# requires PART FUNCTION WHAT: whether this version has FUNCTION, which
# PART measures; when not, a "skipped" line for the output and one for the
# summary, WHAT naming the ratio that is not measured.  A part measuring a
# later version's feature is skipped, not failed, so that one command
# measures every version.
PART_SKIPPED=0
requires() {
    has_function "$2" && return 0
    PART_SKIPPED=1
    echo "  skipped: $2 not installed (aitrack $(ext_version))"
    note_summary "$1" "$3" "skipped: $2 not installed"
    return 1
}

# write_file NAME: stdin to $WORK/NAME, readable by postgres; prints the path
write_file() {
    cat >"$WORK/$1"
    chown postgres:postgres "$WORK/$1"
    echo "$WORK/$1"
}

# reset_calls: the state of a fresh ledger with its models: empty ai_call and
# every other table of the extension that holds data about calls (the
# rollups of a later version), ai_model and ai_model_price kept; then a
# checkpoint so that no run pays for the previous one's dirty buffers.
reset_calls() {
    # 1.4 guards TRUNCATE of the ledger: the bench empties it on purpose.
    bpsql -c 'SET aitrack.allow_drop = on' -c "DO \$\$
DECLARE tabs text;
BEGIN
    SELECT string_agg(c.oid::regclass::text, ', ') INTO tabs
      FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
     WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack')
       AND c.relkind IN ('r', 'p')
       AND c.relname NOT IN ('ai_model', 'ai_model_price', 'ai_upkeep_state', 'ai_budget');
    EXECUTE 'TRUNCATE ' || tabs || ' RESTART IDENTITY';
    -- 1.6: the upkeep's one row stays; with the rollups empty, every day
    -- of the daily level is complete.
    IF to_regclass('ai_upkeep_state') IS NOT NULL THEN
        EXECUTE 'UPDATE ai_upkeep_state SET daily_from = ''-infinity''';
    END IF;
END \$\$;" -c 'CHECKPOINT'
}

# compact_rollups PART SIZE: after a bulk load of SIZE calls (stats,
# retention), fold the pending rollup rows as a scheduled
# ai_rollup_compact() would; sets COMPACT to what to print: its time, "n/a"
# before rollups, or FAILED with the error (stats and purges are right
# without compaction, only slower, so a failure is reported in the summary,
# not fatal).  Returns 1 when it did not compact.
COMPACT=''
compact_rollups() {
    if ! has_function ai_rollup_compact; then
        COMPACT="n/a (not in this version)"
        return 1
    fi
    log "$1: SELECT ai_rollup_compact()"
    local tc i
    tc=$(now_s)
    if bpsql -o /dev/null -c 'SELECT ai_rollup_compact()' 2>"$WORK/compact.err"; then
        # From 1.6 the upkeep worker may be folding meanwhile (then the call
        # returns 0 at once): wait until no pending row is left, up to 20 min.
        for (( i = 0; i < 2400; i++ )); do
            [[ $(bval 'SELECT count(*) FROM ai_usage_rollup WHERE pending') == 0 ]] && break
            sleep 0.5
            bpsql -o /dev/null -c 'SELECT ai_rollup_compact()' 2>>"$WORK/compact.err" || true
        done
        COMPACT="$(elapsed "$tc") s ($(bval 'SELECT count(*) FROM ai_usage_rollup WHERE pending') pending rows left)"
    else
        COMPACT="FAILED after $(elapsed "$tc") s: $(head -n 1 "$WORK/compact.err")"
        note_summary "$1" "ai_rollup_compact() at $2" "$COMPACT"
        return 1
    fi
}

# print_load ROWS_ADDED LOAD_S VACUUM_S: the state of ai_call after a bulk
# load, vacuum and compaction (COMPACT)
print_load() {
    echo "  rows in ai_call            $(bval 'SELECT count(*) FROM ai_call')"
    echo "  load                       $2 s ($(calc "$1 / $2" %.0f) rows/s)"
    echo "  VACUUM ANALYZE             $3 s"
    echo "  ai_rollup_compact()        $COMPACT"
    echo "  ai_call with indexes       $(bval "SELECT pg_size_pretty(pg_total_relation_size('ai_call'))")"
}

# ---------------------------------------------------------------- pgbench

# pgbench_run SCRIPT: reset the tables, wait for quiet, run pgbench with
# PGBENCH_ARGS; sets TPS and OTHERS.  The rows in ai_call must equal
# pgbench's transaction count.  A run that other processes disturbed is run
# again, up to BENCH_RETRIES times, and the least disturbed one is kept.
PGBENCH_ARGS=()
TPS='' OTHERS=''
pgbench_run() {
    local script=$1 out=$WORK/pgbench.out rc processed rows failed try tps others s0 s1
    OTHERS=101
    for (( try = 1; ; try++ )); do
        fresh_start
        rc=0
        s0=$(server_cpu_ticks)
        as_pg pgbench "${PGBENCH_ARGS[@]}" -f "$script" "$DB" >"$out" 2>&1 || rc=$?
        others=$(cpu_others)
        s1=$(server_cpu_ticks)
        tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$out" | tail -n 1)
        processed=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$out")
        failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$out")
        if [[ $rc -ne 0 || -z $tps || -z $processed || ${failed:-0} != 0 ]]; then
            err "pgbench failed on $script (exit $rc):"
            cat "$out" >&2
            return 1
        fi
        rows=$(bval 'SELECT count(*) FROM ai_call')
        if [[ $rows != "$processed" ]]; then
            err "$script: pgbench processed $processed transactions but ai_call has $rows rows"
            return 1
        fi
        if (( others < OTHERS )); then
            TPS=$tps OTHERS=$others
            # server CPU per transaction, in microseconds
            SERVER_US=$(awk -v t="$(( s1 - s0 ))" -v hz="$(getconf CLK_TCK)" -v n="$processed" \
                'BEGIN { printf "%.1f", (n > 0) ? t * 1e6 / hz / n : 0 }')
        fi
        (( others > BENCH_MAX_OTHERS && try <= BENCH_RETRIES )) || break
        log "other processes took ${others}% of the CPU during that run ($(printf '%.0f' "$tps") tps): running it again"
    done
}

# ---------------------------------------------------------------- cluster

finish() {
    local rc=$?
    set +e
    cluster_stop
    # the folder goes: show what the server said about a failure first
    [[ $rc -eq 0 || $rc -ge 128 ]] || _server_log_tail
    if [[ $BENCH_KEEP != 1 && -n ${CLUSTER_DIR:-} && -d $CLUSTER_DIR &&
          ! -f $CLUSTER_DIR/data/postmaster.pid ]]; then
        rm -rf -- "$CLUSTER_DIR"
    fi
    run_dir_cleanup
    if [[ $rc -ne 0 ]]; then
        echo >&2
        err "FAILED (exit $rc) after $(( $(date +%s) - STARTED )) s"
    fi
    exit "$rc"
}

start_bench_cluster() {
    # cluster_start removes the folder it starts in: not under another run.
    run_dir_init
    local pidfile=$AITRACK_RUN/bench/data/postmaster.pid
    if [[ -f $pidfile ]] && kill -0 "$(head -n 1 "$pidfile")" 2>/dev/null; then
        err "a bench cluster already runs in $AITRACK_RUN/bench" \
            "(another bench run?); let it finish, or stop it with" \
            "pg_ctl -D $AITRACK_RUN/bench/data stop"
        return 1
    fi
    cluster_start bench
    WORK=$CLUSTER_DIR/work
    mkdir -p "$WORK"
    chown postgres:postgres "$WORK"
    log "configuring the bench cluster and restarting it"
    as_pg psql -X -q -v ON_ERROR_STOP=1 -d postgres -f - <<SQL
ALTER SYSTEM SET shared_buffers = '2GB';
ALTER SYSTEM SET max_wal_size = '8GB';
ALTER SYSTEM SET checkpoint_timeout = '30min';
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET autovacuum = on;
ALTER SYSTEM SET fsync = $BENCH_FSYNC;
-- (1.9: the shared memory of reservations held in memory, on every version)
ALTER SYSTEM SET shared_preload_libraries = 'aitrack';
SQL
    if ! as_pg pg_ctl -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" \
            -w -t 120 restart >/dev/null; then
        err "restart with the bench settings failed"
        _server_log_tail
        return 1
    fi
    as_pg createdb "$DB"
    if [[ -n $BENCH_VERSION ]]; then
        bpsql -c "CREATE EXTENSION aitrack VERSION '$BENCH_VERSION' CASCADE"
    else
        bpsql -c 'CREATE EXTENSION aitrack CASCADE'
    fi
}

print_setup() {
    section "setup"
    echo "  date                $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  machine             $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
    echo "  load average        $(load_avg)"
    if awk -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN { exit !(l > 0.5) }'; then
        echo "  WARNING: the machine is already busy (1-minute load above 0.5): the figures will be noisy"
    fi
    echo "  server              $(bval 'SHOW server_version')"
    echo "  aitrack             $(ext_version) (installed default_version $(bval "SELECT default_version FROM pg_available_extensions WHERE name = 'aitrack'"))"
    echo "  aitrack.so          $SO_PATH, installed $(date -u -r "$SO_PATH" '+%Y-%m-%d %H:%M UTC'), sha256 $SO_SUM..."
    echo "  cluster             $CLUSTER_DIR (socket only, port $CLUSTER_PORT)"
    echo "  settings            $(bval "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'synchronous_commit', 'autovacuum', 'fsync', 'work_mem', 'max_parallel_workers_per_gather')")"
}

# ---------------------------------------------------------------- main

# bench_run PART...: one run: the checks, the cluster, each PART's bench_PART
# (defined by bench/PART.sh, sourced beforehand) and the summary.
bench_run() {
    if [[ $EUID -ne 0 ]]; then
        err "run as root (it runs PostgreSQL as the postgres user)"
        exit 1
    fi
    if [[ $BENCH_BUILD == 1 ]]; then
        build_install
    fi
    if [[ ! -f $($AITRACK_PG_CONFIG --sharedir)/extension/aitrack.control ]]; then
        err "aitrack is not installed in $($AITRACK_PG_CONFIG --sharedir);" \
            "run 'make install' or BENCH_BUILD=1 bash $BENCH_ME"
        exit 1
    fi

    SO_PATH=$($AITRACK_PG_CONFIG --pkglibdir)/aitrack.so
    SO_SUM=$(so_sum)
    trap finish EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start_bench_cluster
    print_setup
    local part t0 cpu0
    for part in "$@"; do
        t0=$(now_s) cpu0=$(_cpu_now) PART_SKIPPED=0
        "bench_$part"
        part_end "$part" "$t0" "$cpu0"
        so_check "$part"
    done
    print_summary "$*"
}

# bench_part_main PART ARGS...: a part file run on its own (bash
# bench/PART.sh): no argument but --help.
bench_part_main() {
    local part=$1
    shift
    case ${1:-} in
        '') ;;
        -h|--help) usage; exit 0 ;;
        *) err "takes no argument (got '$1'); the settings are environment variables"
           usage >&2
           exit 2 ;;
    esac
    bench_run "$part"
}
