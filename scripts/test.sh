#!/usr/bin/env bash
# scripts/test.sh: the one command that runs aitrack's whole test suite, as
# root, on a fresh Debian 12 machine or in CI (.ci/run execs it; CI=true and
# no stdin are fine), on every PostgreSQL server aitrack supports:
#
#   bash scripts/test.sh                 the matrix: system 17 18 18-cassert
#   bash scripts/test.sh 17              one server (or several: 15.18 18-cassert)
#   PG_CONFIG=/path/pg_config bash scripts/test.sh     the server of a pg_config
#   AITRACK_TEST_SERVERS="system 17" bash scripts/test.sh
#
# A server is `system` (Debian's PostgreSQL 15), VERSION[-cassert] (a private
# build from ../shared/postgres, made once and cached by scripts/pg-build.sh:
# about 4 minutes each on 2 cores) or the path of a pg_config.  For each:
#
#   1. make clean, make (-Werror) and make install into that server, as root
#   2. copy the working tree (without .git and .run) into a folder the
#      postgres user owns, start a throwaway cluster (scripts/cluster.sh)
#   3. there, as postgres, `make installcheck` one suite at a time so that a
#      failure in one does not hide the others:
#        pg_regress            REGRESS   test/sql/*.sql vs expected/
#        pg_isolation_regress  ISOLATION test/specs vs expected/
#        prove (TAP)           test/t/*.pl, each with its own nodes
#      On 17 and 18 (release builds) test/t/005_pg_upgrade.pl also runs
#      pg_upgrade from a private 15.18 that has aitrack installed.
#      Once per run, on the first server that gets this far, also
#        test/drivers/run.sh   psql, Python, node and PostgREST's SQL
#      (one test in the summary).
#   4. on failure print regression.diffs, the isolation diffs and the TAP
#      logs, and copy them to $REPO/.run/test-artifacts/<server> for a human
#
# After the full matrix (no server named; AITRACK_TEST_CITUS=1 forces it,
# =0 leaves it out) also test/citus/run.sh: aitrack on a Citus coordinator
# and two workers, PostgreSQL 17 with Citus built once by
# scripts/citus-build.sh (one test in the summary; a `skipped:` line when
# there is no Citus source).
#
# On a server built with --enable-cassert, the tests listed in
# AITRACK_CASSERT_SKIP (scripts/cluster.sh) are left out: they reach an
# assertion of PostgreSQL itself (see there); the release runs keep them.
#
# Exits non-zero on any failure and always stops the cluster.  The last line
# is `tests: N passed, M failed`, counting pg_regress tests, isolation tests
# and TAP test files on every server; a listed test that did not report
# success (because the build or its suite broke first) counts as failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/cluster.sh

REPO=$AITRACK_REPO
ARTIFACTS=$REPO/.run/test-artifacts
SUITES=(regress isolation tap)
DEFAULT_SERVERS=(system 17 18 18-cassert)
# The old side of the pg_upgrade test: a private build, because Debian's 15
# may be a newer point release than the 17 and 18 here know the catalogs of
# (15.20 adds a column option that 17.11's pg_upgrade refuses).
UPGRADE_FROM=15.18

declare -A LISTED=() PASSED=() RAN=()
SERVER_LABELS=()   # one per server run, in order
SERVER_RESULTS=()  # "label|suite|listed|passed|ran" lines
TREE=              # the postgres-owned copy the suites run in
DRIVERS_RAN=       # the server test/drivers ran on, once per run
STATUS=0

# make_var VAR: the value of VAR in the repo's Makefile.
make_var() {
    local mk rc=0
    mk=$(mktemp /tmp/aitrack-var.XXXXXX.mk)
    printf 'aitrack-print-var:\n\t@echo $(%s)\n' "$1" >"$mk"
    make -s --no-print-directory -C "$REPO" PG_CONFIG="$AITRACK_PG_CONFIG" \
        -f Makefile -f "$mk" aitrack-print-var || rc=$?
    rm -f "$mk"
    return $rc
}

# without LIST SKIP...: the words of LIST that are not among SKIP.
without() {
    local list=$1 t s out=(); shift
    for t in $list; do
        for s in "$@"; do [[ $t == "$s" ]] && continue 2; done
        out+=("$t")
    done
    echo "${out[*]:-}"
}

# list_tests: what each suite must pass on this server; fails when the
# Makefile cannot be read or a suite would be left with nothing to run.
list_tests() {
    local skip=() regress isolation tap suite
    [[ $AITRACK_PG_CASSERT == 1 ]] && skip=("${AITRACK_CASSERT_SKIP[@]}")
    regress=$(make_var REGRESS) || return 1
    isolation=$(make_var ISOLATION) || return 1
    tap=$(cd "$REPO" && shopt -s nullglob && files=(test/t/*.pl) && echo "${files[@]}")
    LISTED[regress]=$(without "$regress" "${skip[@]}")
    LISTED[isolation]=$(without "$isolation" "${skip[@]}")
    LISTED[tap]=$(without "$tap" "${skip[@]}")
    PASSED=() RAN=()
    for suite in "${SUITES[@]}"; do
        [[ -n ${LISTED[$suite]} ]] ||
            { echo "test.sh: no $suite tests listed for $AITRACK_PG_LABEL" >&2; return 1; }
    done
}

count() { set -- $1; echo $#; }

# passed_in SUITE OUTPUT: names the suite's output reports as passed.
passed_in() {
    case $1 in
        regress|isolation)
            # pg_regress up to 15: "test name ... ok  12 ms" or, in a
            # parallel group, "     name ... ok  12 ms"; from 16 on (TAP
            # style): "ok 1         - name    12 ms" ("+ name" in a group)
            sed -nE -e 's/^(test +| +)([^ ]+) +\.\.\. +(ok|failed \(ignored\))( .*)?$/\2/p' \
                    -e 's/^ok +[0-9]+ +[-+] +([^ ]+)( .*)?$/\1/p' "$2" ;;
        tap)
            # prove: "test/t/001_x.pl .. ok"; a listed test that skips
            # did not run, so "skipped" does not count
            sed -nE 's/^(test\/t\/[^ ]+\.pl) \.+ ok\b.*$/\1/p' "$2" ;;
    esac
}

# The suites' working copy, and a TMPDIR for the TAP nodes' sockets.
make_tree() {
    TREE=$AITRACK_RUN/tree
    copy_tree "$TREE"
    rm -rf -- "$AITRACK_RUN/tmp"
    mkdir -p "$AITRACK_RUN/tmp"
    # Every TAP node gets this (PostgreSQL::Test::Cluster appends
    # $TEMP_CONFIG): aitrack's background folding off, as in the test
    # cluster, but where a test turns it on.
    echo "aitrack.upkeep_interval = 0" >"$AITRACK_RUN/tmp/temp_config.conf"
    chown -R postgres:postgres "$AITRACK_RUN/tmp"
}

run_suite() {
    local suite=$1 out=$AITRACK_RUN/$1.out rc=0
    local only
    case $suite in
        regress)   only=("REGRESS=${LISTED[regress]}" ISOLATION= TAP_TESTS=) ;;
        isolation) only=(REGRESS= "ISOLATION=${LISTED[isolation]}" TAP_TESTS=) ;;
        tap)       only=(REGRESS= ISOLATION= "PROVE_TESTS=${LISTED[tap]}") ;;
    esac
    echo
    log "[$AITRACK_PG_LABEL] suite $suite: make installcheck ${only[*]}"
    # TMPDIR: the TAP nodes' socket folders go into the run folder too
    as_pg env TMPDIR="$AITRACK_RUN/tmp" TEMP_CONFIG="$AITRACK_RUN/tmp/temp_config.conf" \
        make -C "$TREE" --no-print-directory PG_CONFIG="$AITRACK_PG_CONFIG" \
        installcheck "${only[@]}" </dev/null 2>&1 | tee "$out" || rc=$?
    RAN[$suite]=1
    PASSED[$suite]=$(passed_in "$suite" "$out" | sort -u | xargs)
    return $rc
}

# run_drivers: test/drivers/run.sh on the cluster, as one test.
run_drivers() {
    local rc=0
    LISTED[drivers]=test/drivers/run.sh
    DRIVERS_RAN=$AITRACK_PG_LABEL
    echo
    log "[$AITRACK_PG_LABEL] client drivers: test/drivers/run.sh"
    as_pg env TMPDIR="$AITRACK_RUN/tmp" bash "$TREE/test/drivers/run.sh" </dev/null 2>&1 |
        tee "$AITRACK_RUN/drivers.out" || rc=$?
    RAN[drivers]=1
    [[ $rc -ne 0 ]] || PASSED[drivers]=test/drivers/run.sh
    return $rc
}

# failed_of SUITE: listed tests of SUITE that did not pass.
failed_of() {
    local t
    for t in ${LISTED[$1]:-}; do
        [[ " ${PASSED[$1]:-} " == *" $t "* ]] || echo "$t"
    done
}

show() {  # show FILE HOW N: print a file into the CI output, capped
    local file=$1 how=$2 n=$3
    [[ -s $file ]] || return 0
    local lines what
    lines=$(wc -l <"$file")
    what="$lines lines"
    (( lines <= n )) || what="$([[ $how == tail ]] && echo last || echo first) $n of $lines lines"
    echo
    echo "==== $file ($what) ===="
    "$how" -n "$n" "$file"
}

# report_failures DEST: print what failed, keep the logs in DEST.
report_failures() {
    local dest=$1 t name f
    [[ -n $TREE && -d $TREE ]] || return 0
    show "$TREE/regression.diffs" head 2000
    show "$TREE/output_iso/regression.diffs" head 2000
    for t in $(failed_of tap); do
        name=$(basename "$t" .pl)
        show "$TREE/tmp_check/log/regress_log_$name" tail 400
        for f in "$TREE"/tmp_check/log/"${name}"_*.log; do
            [[ -e $f ]] && show "$f" tail 80
        done
    done
    if [[ -f ${CLUSTER_DIR:-}/server.log ]] &&
       grep -qE 'TRAP:|server process .* was terminated' "$CLUSTER_DIR/server.log"; then
        show "$CLUSTER_DIR/server.log" tail 200
    fi

    rm -rf -- "$dest"
    mkdir -p "$dest"
    for f in regression.diffs regression.out results output_iso tmp_check/log; do
        [[ -e $TREE/$f ]] && cp -r "$TREE/$f" "$dest/${f//\//_}"
    done
    cp "$AITRACK_RUN"/*.out "$dest"/ 2>/dev/null || true
    [[ -f ${CLUSTER_DIR:-}/server.log ]] && cp "$CLUSTER_DIR/server.log" "$dest"/
    echo
    echo "test.sh: logs and diffs of $AITRACK_PG_LABEL copied to $dest"
}

# run_citus: test/citus/run.sh (a coordinator and two workers with Citus),
# one test in the summary; a line says so when Citus cannot be built here.
run_citus() {
    local rc=0 started=$SECONDS
    log "==== citus: test/citus/run.sh ===="
    bash test/citus/run.sh </dev/null 2>&1 | tee "$AITRACK_RUN/citus.out" || rc=$?
    if (( rc == 0 )) && tail -n 1 "$AITRACK_RUN/citus.out" | grep -q '^skipped:'; then
        log "==== citus: $(grep '^skipped:' "$AITRACK_RUN/citus.out") ===="
        return 0
    fi
    local failed=
    if [[ $rc -ne 0 ]]; then failed=test/citus/run.sh; fi
    SERVER_LABELS+=("citus (17)")
    SERVER_RESULTS+=("citus (17)|citus|test/citus/run.sh|$failed|1")
    log "==== citus: $(( SECONDS - started )) s ===="
    return $rc
}

# record_results: keep this server's counts for the summary.
record_results() {
    local suite
    SERVER_LABELS+=("$AITRACK_PG_LABEL")
    # broke before its tests were listed (a build, say): one failure
    if [[ -z ${LISTED[regress]:-}${LISTED[isolation]:-}${LISTED[tap]:-} ]]; then
        SERVER_RESULTS+=("$AITRACK_PG_LABEL|setup|build-and-setup|build-and-setup|1")
        return
    fi
    for suite in "${SUITES[@]}" ${LISTED[drivers]:+drivers}; do
        SERVER_RESULTS+=("$AITRACK_PG_LABEL|$suite|${LISTED[$suite]:-}|$(failed_of "$suite" | xargs)|${RAN[$suite]:-}")
    done
}

# test_server SERVER: build, install and run every suite on one server.
test_server() {
    local server=$1 suite rc=0 upgrade_env=() started=$SECONDS
    echo
    log "==== server $server ===="
    AITRACK_PG_LABEL=$server
    pg_use "$server" || return 1
    list_tests || return 1
    local major
    major=$("$AITRACK_PG_CONFIG" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')

    # pg_upgrade's old side: a 15 with aitrack installed (built from this
    # tree), for the release builds of 16 and later.  Elsewhere the test
    # would only skip: it is not listed.
    if [[ $AITRACK_PG_CASSERT == 0 && $major -ge 16 ]]; then
        local new_config=$AITRACK_PG_CONFIG new_label=$AITRACK_PG_LABEL old_config
        old_config=$(bash scripts/pg-build.sh "$UPGRADE_FROM" release) || return 1
        pg_use "$old_config" || { pg_use "$new_config"; return 1; }
        log "pg_upgrade test: from $AITRACK_PG_LABEL"
        build_install clean || { pg_use "$new_config"; return 1; }
        upgrade_env=(AITRACK_UPGRADE_FROM="$("$old_config" --bindir | sed 's|/bin$||')")
        pg_use "$new_config" || return 1
    else
        LISTED[tap]=$(without "${LISTED[tap]}" test/t/005_pg_upgrade.pl)
    fi
    build_install clean || return 1

    make_tree || return 1
    AITRACK_UPKEEP_INTERVAL=0 cluster_start test || return 1
    for suite in "${SUITES[@]}"; do
        [[ -n ${LISTED[$suite]:-} ]] || continue
        if [[ $suite == tap && ${#upgrade_env[@]} -gt 0 ]]; then
            export "${upgrade_env[@]}"
            run_suite "$suite" || rc=1
            unset AITRACK_UPGRADE_FROM
        else
            run_suite "$suite" || rc=1
        fi
    done
    [[ -n $DRIVERS_RAN ]] || run_drivers || rc=1
    for suite in "${SUITES[@]}" ${LISTED[drivers]:+drivers}; do
        [[ -z $(failed_of "$suite") ]] || rc=1
    done
    if [[ $rc -ne 0 ]]; then
        report_failures "$ARTIFACTS/${AITRACK_PG_LABEL// (system)/-system}"
    fi
    cluster_stop
    log "==== server $AITRACK_PG_LABEL: $(( SECONDS - started )) s ===="
    return $rc
}

# brief_failures: the start of every diff kept in $ARTIFACTS, again, just
# above the summary: a CI log that is cut in the middle keeps its end.
brief_failures() {
    local f
    for f in "$ARTIFACTS"/*/regression.diffs "$ARTIFACTS"/*/output_iso/regression.diffs; do
        [[ -s $f ]] || continue
        echo
        echo "==== in brief: ${f#"$ARTIFACTS"/} (first 60 of $(wc -l <"$f") lines) ===="
        head -n 60 "$f"
    done
}

finish() {
    local rc=$? line label suite listed failed ran n_listed n_fail total_pass=0 total_fail=0
    set +e
    cluster_stop
    # a server that broke before record_results still counts its tests
    if [[ -n ${AITRACK_PG_LABEL:-} && ${#LISTED[@]} -gt 0 &&
          " ${SERVER_LABELS[*]:-} " != *" $AITRACK_PG_LABEL "* ]]; then
        record_results
    fi
    brief_failures
    echo
    echo "==== summary ===="
    for line in "${SERVER_RESULTS[@]}"; do
        IFS='|' read -r label suite listed failed ran <<<"$line"
        n_listed=$(count "$listed")
        n_fail=$(count "$failed")
        total_pass=$(( total_pass + n_listed - n_fail ))
        total_fail=$(( total_fail + n_fail ))
        printf '  %-22s %-10s %d of %d passed%s\n' "$label" "$suite" \
            $(( n_listed - n_fail )) "$n_listed" "$([[ -z $ran && $n_listed -gt 0 ]] && echo ' (not run)')"
        [[ $n_fail -gt 0 ]] && printf '  %-22s %-10s failed: %s\n' "" "" "$failed"
    done
    if [[ $rc -eq 0 && ( $total_fail -gt 0 || $STATUS -ne 0 ) ]]; then
        rc=1
    fi
    run_dir_cleanup
    echo "tests: $total_pass passed, $total_fail failed"
    exit "$rc"
}

servers=("$@")
if [[ ${#servers[@]} -eq 0 ]]; then
    if [[ -n ${AITRACK_TEST_SERVERS:-} ]]; then
        read -r -a servers <<<"$AITRACK_TEST_SERVERS"
    elif [[ -n ${PG_CONFIG:-} ]]; then
        servers=("$PG_CONFIG")
    else
        servers=("${DEFAULT_SERVERS[@]}")
    fi
fi

trap finish EXIT
bash scripts/install-deps.sh
rm -rf -- "$ARTIFACTS"
run_dir_init
for server in "${servers[@]}"; do
    AITRACK_PG_LABEL=
    LISTED=()
    test_server "$server" || STATUS=1
    record_results
done
# The Citus suite, once per run of the full matrix (or AITRACK_TEST_CITUS=1).
AITRACK_PG_LABEL=
if [[ ${AITRACK_TEST_CITUS:-} == 1 || ( -z ${AITRACK_TEST_CITUS:-} && $# -eq 0 &&
      -z ${AITRACK_TEST_SERVERS:-} && -z ${PG_CONFIG:-} ) ]]; then
    run_citus || STATUS=1
fi
exit "$STATUS"
