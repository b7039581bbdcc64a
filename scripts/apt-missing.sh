#!/usr/bin/env bash
# scripts/apt-missing.sh: install, as root with apt-get, those of the Debian
# packages named that are not installed yet; touches nothing when all are.
# Progress goes to stderr, so callers may keep stdout for their answer
# (scripts/pg-build.sh and scripts/citus-build.sh print a pg_config path).
#
#   bash scripts/apt-missing.sh PACKAGE...
set -euo pipefail

missing=()
for pkg in "$@"; do
    [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true) == "install ok installed" ]] ||
        missing+=("$pkg")
done
(( ${#missing[@]} )) || exit 0
[[ $(id -u) -eq 0 ]] || { echo "apt-missing.sh: must run as root to install ${missing[*]}" >&2; exit 1; }
echo "[$(date +%H:%M:%S)] apt-missing: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >&2
