#!/usr/bin/env bash
# scripts/pg-build.sh: build a private PostgreSQL server from the upstream
# source tarballs in ../shared/postgres (or $AITRACK_PG_SOURCES), cache it
# outside the checkout, and print the path of its pg_config.
#
#   bash scripts/pg-build.sh VERSION [release|cassert]
#       VERSION: a major (15, 17, 18) or a full version (17.11); the newest
#       tarball of that major is used.  Prints the pg_config path on stdout;
#       progress goes to stderr.
#
# The cache ($AITRACK_PG_CACHE, default /var/cache/aitrack/postgres) keeps
# one tree per (version, flavour): a machine pays each build once (about 6
# minutes on 2 cores), later runs and CI on the same machine reuse it.  A
# tree counts as built only when its stamp file names the tarball's SHA-256
# and the configure options, so a half-finished or outdated build is redone.
# Builds of one tree are serialised with flock.
#
# Every tree carries what the project's tests use besides the server:
# btree_gist (aitrack requires it), amcheck (the TAP framework's), the
# isolation tester (PGXS installcheck runs pg_isolation_regress) and the TAP
# test modules (--enable-tap-tests).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SOURCES=${AITRACK_PG_SOURCES:-$REPO/../shared/postgres}
CACHE=${AITRACK_PG_CACHE:-/var/cache/aitrack/postgres}
BUILD_DEPS=(build-essential bison flex libreadline-dev zlib1g-dev libicu-dev
            pkg-config libipc-run-perl)

log() { echo "[$(date +%H:%M:%S)] pg-build: $*" >&2; }
die() { echo "pg-build: $*" >&2; exit 1; }

want=${1:?usage: pg-build.sh VERSION [release|cassert]}
flavour=${2:-release}
case $flavour in
    release) flavour_opts=() ;;
    cassert) flavour_opts=(--enable-cassert) ;;
    *) die "flavour must be release or cassert, not '$flavour'" ;;
esac
[[ $want =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "VERSION must look like 17 or 17.11, not '$want'"

# The tarball: postgresql-<major>_<version>.orig.tar.bz2, newest first.
tarball=
shopt -s nullglob
candidates=("$SOURCES"/postgresql-*_*.orig.tar.bz2)
shopt -u nullglob
while IFS= read -r f; do
    [[ -n $f ]] || continue
    v=$(basename "$f" .orig.tar.bz2); v=${v#*_}
    if [[ $v == "$want" || ${v%%.*} == "$want" ]]; then tarball=$f; version=$v; break; fi
done < <(printf '%s\n' "${candidates[@]}" | sort -V -r)
[[ -n $tarball ]] || die "no source tarball for PostgreSQL $want in $SOURCES"

prefix=$CACHE/$version-$flavour
stamp=$prefix/.aitrack-built
configure_opts=(--prefix="$prefix" --enable-tap-tests --enable-debug "${flavour_opts[@]}")
sha=$(sha256sum "$tarball" | cut -d' ' -f1)
sums=$(dirname "$tarball")/SHA256SUMS
[[ -f $sums ]] || die "no SHA256SUMS beside $tarball"
listed=$(awk -v f="$(basename "$tarball")" '$2 == f || $2 == "*" f { print $1 }' "$sums")
[[ -n $listed ]] || die "$(basename "$tarball") is not listed in $sums"
[[ $listed == "$sha" ]] || die "$tarball does not match its SHA256SUMS"
want_stamp="$sha ${configure_opts[*]}"

if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -x $prefix/bin/pg_config ]]; then
    echo "$prefix/bin/pg_config"
    exit 0
fi

[[ $(id -u) -eq 0 ]] || die "a build (not yet cached: $prefix) must run as root"

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$version-$flavour"
flock 9
# Another run may have finished it while we waited.
if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -x $prefix/bin/pg_config ]]; then
    echo "$prefix/bin/pg_config"
    exit 0
fi

# (stdout is the pg_config path: the installer's progress goes to stderr)
bash "$REPO/scripts/apt-missing.sh" "${BUILD_DEPS[@]}"

work=$(mktemp -d /var/tmp/aitrack-pgbuild.XXXXXX)
trap 'rm -rf -- "$work"' EXIT
start=$SECONDS
log "building PostgreSQL $version ($flavour) into $prefix"
rm -rf -- "$prefix"
tar -C "$work" -xjf "$tarball"
src=$(ls -d "$work"/postgresql-*/)
jobs=$(nproc)
if ! ( cd "$src" &&
       ./configure "${configure_opts[@]}" &&
       make -j"$jobs" &&
       make install &&
       make -C contrib/btree_gist install &&
       make -C contrib/amcheck install &&
       make -C src/test/isolation install ) >"$work/build.log" 2>&1; then
    cp "$work/build.log" "$CACHE/$version-$flavour.build.log"
    tail -n 60 "$work/build.log" >&2
    die "build of PostgreSQL $version ($flavour) failed; log in $CACHE/$version-$flavour.build.log"
fi
echo "$want_stamp" >"$stamp"
log "built PostgreSQL $version ($flavour) in $(( SECONDS - start )) s"
echo "$prefix/bin/pg_config"
