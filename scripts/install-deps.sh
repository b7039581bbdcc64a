#!/usr/bin/env bash
# scripts/install-deps.sh: install, as root with apt-get, what building and
# testing aitrack needs on Debian 12: the PostgreSQL 15 server (which also
# creates the unprivileged `postgres` user the test clusters run as), its
# PGXS headers and test tools, IPC::Run for the TAP tests, make and gcc.
#
# Idempotent: prints nothing and touches nothing when all is installed;
# otherwise runs `apt-get update` once and installs only what is missing.
set -euo pipefail

PACKAGES=(postgresql-15 postgresql-server-dev-15 libipc-run-perl make gcc)

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps.sh: must run as root" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
echo "install-deps.sh: done"
