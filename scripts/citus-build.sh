#!/usr/bin/env bash
# scripts/citus-build.sh: a private PostgreSQL server with Citus installed,
# for the scale-out tests (issue 14), cached outside the checkout; prints
# the path of its pg_config.
#
#   bash scripts/citus-build.sh [MAJOR]     MAJOR: 17 (default) or 15
#
# Citus 13.2 supports PostgreSQL 15 to 17.  The server comes from
# scripts/pg-build.sh (built once, cached); this copies that tree to
# $AITRACK_PG_CACHE/<version>-citus-<citus version> and builds Citus from
# ../shared/citus/citus-<version>.tar.gz (or $AITRACK_CITUS_SOURCES) into
# the copy, so that the plain server the other suites use stays without
# Citus.  A tree counts as built only when its stamp names the tarball's
# SHA-256, the server's stamp and the configure options; builds of one tree
# are serialised with flock.  About 55 s (17) to 90 s (15) on 2 cores the
# first time; a failed build leaves its copy without a stamp, redone next time.
#
# Build notes (../shared/citus/README.md): --without-libcurl (no
# statistics collector), with_llvm=no (no bitcode; halves the build), and
# where the server's headers declare have_createdb_privilege() (15.20, not
# 15.18) Citus's own copy of it clashes, so it is taken out of the copy of
# the source.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOURCES=${AITRACK_CITUS_SOURCES:-$REPO/../shared/citus}
CACHE=${AITRACK_PG_CACHE:-/var/cache/aitrack/postgres}
BUILD_DEPS=(liblz4-dev libzstd-dev libkrb5-dev libssl-dev python3)

log() { echo "[$(date +%H:%M:%S)] citus-build: $*" >&2; }
die() { echo "citus-build: $*" >&2; exit 1; }

major=${1:-17}
[[ $major == 15 || $major == 16 || $major == 17 ]] ||
    die "Citus 13.2 supports PostgreSQL 15 to 17, not '$major'"

shopt -s nullglob
tarballs=("$SOURCES"/citus-*.tar.gz)
shopt -u nullglob
(( ${#tarballs[@]} )) || die "no citus-*.tar.gz in $SOURCES"
tarball=$(printf '%s\n' "${tarballs[@]}" | sort -V | tail -n 1)
citus_version=$(basename "$tarball" .tar.gz); citus_version=${citus_version#citus-}

server_pg_config=$(bash "$REPO/scripts/pg-build.sh" "$major" release)
server=$(dirname "$(dirname "$server_pg_config")")
version=$(basename "$server"); version=${version%-release}
prefix=$CACHE/$version-citus-$citus_version
stamp=$prefix/.aitrack-citus-built
configure_opts=(--without-libcurl)
want_stamp="$(sha256sum "$tarball" | cut -d' ' -f1) $(cat "$server/.aitrack-built") ${configure_opts[*]} with_llvm=no"

if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -x $prefix/bin/pg_config ]]; then
    echo "$prefix/bin/pg_config"
    exit 0
fi
[[ $(id -u) -eq 0 ]] || die "a build (not yet cached: $prefix) must run as root"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$version-citus"
flock 9
if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -x $prefix/bin/pg_config ]]; then
    echo "$prefix/bin/pg_config"
    exit 0
fi

# (stdout is the pg_config path: the installer's progress goes to stderr)
bash "$REPO/scripts/apt-missing.sh" "${BUILD_DEPS[@]}"

work=$(mktemp -d /var/tmp/aitrack-citusbuild.XXXXXX)
trap 'rm -rf -- "$work"' EXIT
start=$SECONDS
log "copying $server to $prefix and building Citus $citus_version into it"
rm -rf -- "$prefix"
cp -a "$server" "$prefix"
rm -f "$prefix/.aitrack-built"
tar -C "$work" -xzf "$tarball"
src=$(ls -d "$work"/citus-*/)
if [[ $major == 15 ]] &&
   grep -q have_createdb_privilege "$prefix/include/server/commands/dbcommands.h"; then
    # 15.20's headers declare have_createdb_privilege() (15.18's do not);
    # Citus's compatibility copy for servers before 16 then clashes with it.
    python3 - "$src/src/include/pg_version_compat.h" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
new = re.sub(r'static inline bool\s*\n?have_createdb_privilege\(void\)\s*\{.*?\n\}\n',
             '#include "commands/dbcommands.h"\n', text, count=1, flags=re.S)
if new == text:
    sys.exit("citus-build: have_createdb_privilege() not found in " + path)
open(path, 'w').write(new)
PY
fi
if ! ( cd "$src" &&
       PG_CONFIG="$prefix/bin/pg_config" ./configure "${configure_opts[@]}" &&
       make -j"$(nproc)" with_llvm=no &&
       make install with_llvm=no ) >"$work/build.log" 2>&1; then
    cp "$work/build.log" "$CACHE/$version-citus.build.log"
    tail -n 60 "$work/build.log" >&2
    die "build of Citus $citus_version for PostgreSQL $version failed; log in $CACHE/$version-citus.build.log"
fi
echo "$want_stamp" >"$stamp"
log "built Citus $citus_version for PostgreSQL $version in $(( SECONDS - start )) s"
echo "$prefix/bin/pg_config"
