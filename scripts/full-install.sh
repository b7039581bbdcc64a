#!/usr/bin/env bash
# scripts/full-install.sh: print sql/aitrack--1.2.sql, the full install
# script of 1.2, made from the frozen scripts that lead to 1.2 (the
# Makefile runs it; the result is not committed).
#
#   bash scripts/full-install.sh sql/aitrack--1.0.sql \
#       sql/aitrack--1.0--1.1.sql sql/aitrack--1.1--1.2.sql > sql/aitrack--1.2.sql
#
# The parts are printed in order, each without its "\echo ... \quit" guard
# (one guard for CREATE EXTENSION heads the result).  Left out is one
# block of the 1.1-to-1.2 script, from "-- The calls already recorded,
# rolled up." to "SELECT @extschema@.ai_rollup_compact();": it rolls up the
# calls an installed 1.1 had recorded, of which a new install has none, and
# its ai_rollup_compact() makes a temporary table, which a two-phase commit
# refuses (Citus runs CREATE EXTENSION on its workers in one).  The frozen
# scripts never change, so neither does the result; the block must be
# found exactly once, or this fails.
set -euo pipefail
(( $# == 3 )) || { echo "usage: $0 1.0.sql 1.0--1.1.sql 1.1--1.2.sql" >&2; exit 2; }

BACKFILL_FIRST='-- The calls already recorded, rolled up.'
BACKFILL_LAST='SELECT @extschema@.ai_rollup_compact();'

[[ $(grep -cxF -- "$BACKFILL_FIRST" "$3") == 1 && $(grep -cxF -- "$BACKFILL_LAST" "$3") == 1 ]] ||
    { echo "full-install: the rollup backfill of $3 is not there exactly once" >&2; exit 1; }

cat <<'HEAD'
/* aitrack 1.2, installed in one script: made by scripts/full-install.sh from
 * aitrack--1.0.sql, aitrack--1.0--1.1.sql and aitrack--1.1--1.2.sql, less
 * the backfill of the rollups from calls already recorded (a new install
 * has none).  Not to be edited: make writes it again from those. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION aitrack" to load this file. \quit
HEAD

for part in "$@"; do
    printf '\n-- ==== %s ====\n' "$(basename "$part")"
    if [[ $part == "$3" ]]; then
        awk -v first="$BACKFILL_FIRST" -v last="$BACKFILL_LAST" '
            /^\\echo / { next }
            $0 == first { skipping = 1; print "-- (the backfill of the rollups: nothing to roll up in a new install)"; next }
            skipping && $0 == last { skipping = 0; next }
            !skipping { print }' "$part"
    else
        grep -v '^\\echo ' "$part"
    fi
done
