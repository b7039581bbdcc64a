#!/usr/bin/env bash
# scripts/test.sh: the one command that runs aitrack's whole test suite, as
# root, on a fresh Debian 12 machine or in CI (.ci/run execs it; CI=true and
# no stdin are fine):
#
#   1. install the dependencies (scripts/install-deps.sh)
#   2. make clean, make (-Werror) and make install, as root, in the repo
#   3. copy the working tree (without .git and .run) into a folder the
#      postgres user owns, start a throwaway cluster (scripts/cluster.sh)
#   4. there, as postgres, `make installcheck` one suite at a time so that a
#      failure in one does not hide the others:
#        pg_regress            REGRESS   test/sql/*.sql vs expected/
#        pg_isolation_regress  ISOLATION test/specs vs expected/
#        prove (TAP)           test/t/*.pl, each with its own nodes
#   5. on failure print regression.diffs, the isolation diffs and the TAP
#      logs, and copy them to $REPO/.run/test-artifacts for a human
#
# Exits non-zero on any failure and always stops the cluster.  The last line
# is `tests: N passed, M failed`, counting pg_regress tests, isolation tests
# and TAP test files; a listed test that did not report success (because the
# build or its suite broke first) counts as failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/cluster.sh

REPO=$AITRACK_REPO
ARTIFACTS=$REPO/.run/test-artifacts
SUITES=(regress isolation tap)
declare -A LISTED=() PASSED=() RAN=()
TREE=          # the postgres-owned copy the suites run in

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

list_tests() {
    LISTED[regress]=$(make_var REGRESS)
    LISTED[isolation]=$(make_var ISOLATION)
    LISTED[tap]=$(cd "$REPO" && shopt -s nullglob && files=(test/t/*.pl) &&
                  echo "${files[@]}")
}

count() { set -- $1; echo $#; }

# passed_in SUITE OUTPUT: names the suite's output reports as passed.
passed_in() {
    case $1 in
        regress|isolation)
            # pg_regress: "test name ... ok  12 ms" or, in a parallel
            # group, "     name ... ok  12 ms"
            sed -nE 's/^(test +| +)([^ ]+) +\.\.\. +(ok|failed \(ignored\))( .*)?$/\2/p' "$2" ;;
        tap)
            # prove: "test/t/001_x.pl .. ok" or ".. skipped: why"
            sed -nE 's/^(test\/t\/[^ ]+\.pl) \.+ (ok|skipped)\b.*$/\1/p' "$2" ;;
    esac
}

# The suites' working copy, and a TMPDIR for the TAP nodes' sockets.
make_tree() {
    TREE=$AITRACK_RUN/tree
    copy_tree "$TREE"
    rm -rf -- "$AITRACK_RUN/tmp"
    mkdir -p "$AITRACK_RUN/tmp"
    chown postgres:postgres "$AITRACK_RUN/tmp"
}

run_suite() {
    local suite=$1 out=$AITRACK_RUN/$1.out rc=0
    local skip
    case $suite in
        regress)   skip=(ISOLATION= TAP_TESTS=) ;;
        isolation) skip=(REGRESS= TAP_TESTS=) ;;
        tap)       skip=(REGRESS= ISOLATION=) ;;
    esac
    echo
    log "suite $suite: make installcheck ${skip[*]}"
    # TMPDIR: the TAP nodes' socket folders go into the run folder too
    as_pg env TMPDIR="$AITRACK_RUN/tmp" \
        make -C "$TREE" --no-print-directory PG_CONFIG="$AITRACK_PG_CONFIG" \
        installcheck "${skip[@]}" </dev/null 2>&1 | tee "$out" || rc=$?
    RAN[$suite]=1
    PASSED[$suite]=$(passed_in "$suite" "$out" | sort -u | xargs)
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

report_failures() {
    [[ -n $TREE && -d $TREE ]] || return 0
    local t name f
    show "$TREE/regression.diffs" head 2000
    show "$TREE/output_iso/regression.diffs" head 2000
    for t in $(failed_of tap); do
        name=$(basename "$t" .pl)
        show "$TREE/tmp_check/log/regress_log_$name" tail 400
        for f in "$TREE"/tmp_check/log/"${name}"_*.log; do
            [[ -e $f ]] && show "$f" tail 80
        done
    done

    rm -rf -- "$ARTIFACTS"
    mkdir -p "$ARTIFACTS"
    for f in regression.diffs regression.out results output_iso tmp_check/log; do
        [[ -e $TREE/$f ]] && cp -r "$TREE/$f" "$ARTIFACTS/${f//\//_}"
    done
    cp "$AITRACK_RUN"/*.out "$ARTIFACTS"/ 2>/dev/null || true
    [[ -f ${CLUSTER_DIR:-}/server.log ]] && cp "$CLUSTER_DIR/server.log" "$ARTIFACTS"/
    echo
    echo "test.sh: logs and diffs copied to $ARTIFACTS"
}

finish() {
    local rc=$? suite n_pass n_fail total_pass=0 total_fail=0
    set +e
    cluster_stop
    echo
    echo "==== summary ===="
    for suite in "${SUITES[@]}"; do
        n_fail=$(count "$(failed_of "$suite")")
        n_pass=$(( $(count "${LISTED[$suite]:-}") - n_fail ))
        total_pass=$(( total_pass + n_pass ))
        total_fail=$(( total_fail + n_fail ))
        printf '  %-10s %d of %d passed%s\n' "$suite" "$n_pass" \
            "$(count "${LISTED[$suite]:-}")" \
            "$([[ -z ${RAN[$suite]:-} ]] && echo ' (not run)')"
        [[ $n_fail -gt 0 ]] && printf '  %-10s failed: %s\n' "" "$(failed_of "$suite" | xargs)"
    done
    if [[ $rc -ne 0 || $total_fail -gt 0 ]]; then
        report_failures
        [[ $rc -ne 0 ]] || rc=1
    fi
    run_dir_cleanup
    echo "tests: $total_pass passed, $total_fail failed"
    exit "$rc"
}

trap finish EXIT
bash scripts/install-deps.sh
list_tests
rm -rf -- "$ARTIFACTS"

build_install clean

run_dir_init
make_tree
cluster_start test

status=0
for suite in "${SUITES[@]}"; do
    [[ -n ${LISTED[$suite]:-} ]] || continue
    run_suite "$suite" || status=1
done
exit "$status"
