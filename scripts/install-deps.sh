#!/usr/bin/env bash
# scripts/install-deps.sh: install, as root with apt-get, what building and
# testing aitrack needs on Debian 12: the PostgreSQL 15 server (which also
# creates the unprivileged `postgres` user the test clusters run as), its
# PGXS headers and test tools, IPC::Run for the TAP tests, make and gcc; for
# the client driver checks (test/drivers) Debian's Python drivers, node and
# npm, and node-postgres from npm into $NPM_DIR, outside the checkout, where
# the `postgres` user can read it and later runs need no network.
#
# Idempotent: prints nothing and touches nothing when all is installed;
# otherwise runs `apt-get update` once and installs only what is missing.
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-server-dev-15 libipc-run-perl make gcc
          python3-psycopg python3-psycopg2 python3-sqlalchemy python3-peewee)
# node-postgres, exact versions: test/drivers/run.sh loads them from here
# (AITRACK_NPM_DIR, for both, to put them elsewhere)
NPM_DIR=${AITRACK_NPM_DIR:-/var/cache/aitrack/npm}
NPM_PACKAGES=(pg@8.23.1)

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps.sh: must run as root" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
# node and npm: Debian's, unless a node is there already (NodeSource's
# nodejs package brings its own npm and conflicts with Debian's)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "install-deps.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
    echo "install-deps.sh: done"
fi

npm_missing=()
for spec in "${NPM_PACKAGES[@]}"; do
    name=${spec%@*}
    have=$(node -e 'console.log(require(process.argv[1]).version)' \
               "$NPM_DIR/node_modules/$name/package.json" 2>/dev/null || true)
    [[ $have == "${spec##*@}" ]] || npm_missing+=("$spec")
done

if [[ ${#npm_missing[@]} -gt 0 ]]; then
    echo "install-deps.sh: npm installing ${npm_missing[*]} into $NPM_DIR"
    mkdir -p "$NPM_DIR"
    (cd "$NPM_DIR" && umask 022 &&
     npm install --prefix "$NPM_DIR" --save-exact --no-audit --no-fund --loglevel=error \
         "${npm_missing[@]}" </dev/null >/dev/null)
    chmod -R a+rX "$NPM_DIR"
    echo "install-deps.sh: done"
fi
