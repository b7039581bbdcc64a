#!/usr/bin/env bash
# test/drivers/run.sh: record_ai_call and record_ai_calls from real client
# drivers, with the types each one sends, checking what was stored.
#
#   PGHOST=... PGPORT=... PGUSER=... bash test/drivers/run.sh
#
# Against the cluster of the libpq environment (PGHOST, PGPORT, PGUSER;
# PGDATABASE, default postgres, is only where it connects to create the
# test database), with aitrack installed in that server: creates a fresh
# database ($AITRACK_DRIVERS_DB, default aitrack_drivers) with
# `CREATE EXTENSION aitrack CASCADE` and a role aitrack_drivers_web that
# may only execute record_ai_call and record_ai_calls (PostgREST's request
# role), then runs
#
#   psql_checks.sh      psql, one call of each form
#   python_drivers.py   psycopg 3, psycopg2, SQLAlchemy, peewee (/usr/bin/python3)
#   postgrest_rpc.py    the SQL PostgREST 12 sends for POST /rpc/record_ai_call
#   node_drivers.js     node-postgres, from $AITRACK_NPM_DIR/node_modules
#
# and drops the database and the role again (AITRACK_DRIVERS_KEEP=1 keeps
# them).  scripts/install-deps.sh installs the drivers.  Prints one line per
# check, `ok - ...` or `not ok - ...`; a `not ok ... # TODO needs 1.4` line
# is a check written for a later aitrack than the one installed and does not
# fail the run.  Exits non-zero when a check failed or a script broke.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DB=${AITRACK_DRIVERS_DB:-aitrack_drivers}
ROLE=aitrack_drivers_web
NPM_DIR=${AITRACK_NPM_DIR:-/var/cache/aitrack/npm}
PYTHON=${AITRACK_DRIVERS_PYTHON:-/usr/bin/python3}
ADMIN_DB=${PGDATABASE:-postgres}
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the checkout
OUT=$(mktemp "${TMPDIR:-/tmp}/aitrack-drivers.XXXXXX")

admin() { PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_DB" "$@"; }
indb()  { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }

cleanup() {
    if [[ -z ${AITRACK_DRIVERS_KEEP:-} ]]; then
        admin -c "DROP DATABASE IF EXISTS \"$DB\"" -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
    fi
    rm -f -- "$OUT"
}
trap cleanup EXIT

setup() {
    admin -c "DROP DATABASE IF EXISTS \"$DB\"" -c "DROP ROLE IF EXISTS $ROLE" \
          -c "CREATE DATABASE \"$DB\"" -c "CREATE ROLE $ROLE NOLOGIN" &&
    indb -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack CASCADE" -c "
        DO \$\$
        DECLARE f regprocedure;
        BEGIN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                      WHERE p.proname IN ('record_ai_call', 'record_ai_calls')
                        AND p.pronamespace = (SELECT extnamespace FROM pg_extension
                                               WHERE extname = 'aitrack')
            LOOP
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO $ROLE', f);
            END LOOP;
        END \$\$"
}

status=0
# run LABEL CMD...: one driver script; its lines go to the output and $OUT
run() {
    local label=$1 rc=0 before; shift
    before=$(wc -l <"$OUT")
    echo "# ---- $label"
    "$@" 2>&1 | tee -a "$OUT" || rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "# $label exited $rc"
        # a script that broke without saying which check: count it
        tail -n "+$(( before + 1 ))" "$OUT" | grep -q '^not ok - ' ||
            echo "not ok - $label: exited $rc" | tee -a "$OUT"
        status=1
    fi
}

if ! setup; then
    echo "not ok - drivers: could not create database $DB with aitrack"
    exit 1
fi
export PGDATABASE=$DB

run psql bash "$HERE/psql_checks.sh"
run python "$PYTHON" "$HERE/python_drivers.py"
run postgrest "$PYTHON" "$HERE/postgrest_rpc.py"
run node env NODE_PATH="$NPM_DIR/node_modules" node "$HERE/node_drivers.js"

ok=$(grep -c '^ok - ' "$OUT")
todo=$(grep -E '^not ok - ' "$OUT" | grep -c '# TODO ')
bad=$(grep -E '^not ok - ' "$OUT" | grep -vc '# TODO ')
version=$(indb -At -c "SELECT extversion FROM pg_extension WHERE extname = 'aitrack'" 2>/dev/null)
echo "# drivers (aitrack ${version:-?}): $ok ok, $bad not ok, $todo todo"
if [[ $bad -gt 0 || $ok -eq 0 ]]; then
    status=1
fi
exit $status
