#!/usr/bin/env bash
# test/citus/run.sh: what aitrack does on a Citus cluster today (issue 14),
# checked on a real one: a coordinator and two workers on this machine.
#
#   bash test/citus/run.sh          as root
#
# Builds (once, cached) a private PostgreSQL 17 with Citus from
# ../shared/citus (scripts/citus-build.sh), installs this checkout's aitrack
# into it from a copy of the tree, starts three nodes as the postgres user
# on Unix sockets in the run folder (.run/citus), and checks what README's
# "Scaling out with Citus" says:
#   - CREATE EXTENSION aitrack CASCADE on the coordinator of a running
#     cluster installs it on every node, a worker that joins later included
#     (Citus runs it on the workers in a two-phase commit: the full 1.2
#     script, scripts/full-install.sh, makes no temporary object), and
#     ALTER EXTENSION UPDATE from 1.2 updates every node; a worker refuses
#     CREATE EXTENSION run there;
#   - aitrack then works on the coordinator as on one server (a call, a
#     batch, a budget and its reservation, the stats);
#   - what does not work yet fails as README says: distributing ai_call by
#     user_id (its triggers, its primary key).
# A limit that stops failing is reported as `not ok`: README (and this
# file) must then say what works instead.
#
# Prints `ok - ...` / `not ok - ...` lines; exits 0 when all are ok, 1 when
# one is not, and 0 with one `skipped: ...` line when Citus cannot be built
# here (no tarball).  Always stops the nodes.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$REPO/scripts/cluster.sh"
source "$REPO/scripts/citus-nodes.sh"

log() { echo "[$(date +%H:%M:%S)] citus: $*" >&2; }
FAILED=0
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; FAILED=1; }

# Skipped only when the default source folder has no tarball; a folder
# named in AITRACK_CITUS_SOURCES must have one.
SOURCES=${AITRACK_CITUS_SOURCES:-$REPO/../shared/citus}
shopt -s nullglob
tarballs=("$SOURCES"/citus-*.tar.gz)
shopt -u nullglob
if (( ${#tarballs[@]} == 0 )); then
    if [[ -n ${AITRACK_CITUS_SOURCES:-} ]]; then
        echo "not ok - no Citus source tarball in AITRACK_CITUS_SOURCES ($SOURCES)"
        exit 1
    fi
    echo "skipped: no Citus source tarball in $SOURCES"
    exit 0
fi
if ! PGC=$(bash "$REPO/scripts/citus-build.sh" 17); then
    echo "not ok - Citus could not be built (scripts/citus-build.sh 17)"
    exit 1
fi
BIN=$(dirname "$PGC")

# A folder of this run's own (two runs in one checkout must not share one).
run_dir_init || { echo "not ok - no run folder (scripts/cluster.sh run_dir_init)"; exit 1; }
RUN=$(mktemp -d "${AITRACK_RUN:?}/citus.XXXXXX") || { echo "not ok - no folder in $AITRACK_RUN"; exit 1; }
chown postgres "$RUN" || exit 1
ARTIFACTS=$REPO/.run/test-artifacts/citus
# stop_nodes: every node (the folder goes only when none is left; the logs
# are kept on failure).
stop_nodes() {
    local alive=0
    citus_nodes_stop || alive=1
    if (( FAILED )); then
        mkdir -p "$ARTIFACTS" && cp "$RUN"/n*.log "$RUN"/build.log "$ARTIFACTS"/ 2>/dev/null
    fi
    (( alive )) || rm -rf -- "$RUN"
    run_dir_cleanup
}
trap stop_nodes EXIT

# aitrack into the Citus server, from a copy (the checkout's objects stay
# those of its own build).
if ! citus_nodes_build "$PGC" "$RUN"; then
    tail -n 40 "$RUN/build.log"
    FAILED=1
    echo "not ok - aitrack could not be built for $PGC"
    exit 1
fi

# Three nodes, sockets in $RUN (so the ports may be those of clusters
# elsewhere), on the project's first ports.
if ! citus_nodes_start "$RUN" "fsync = off"; then
    FAILED=1
    echo "not ok - the nodes did not start"
    exit 1
fi
log "coordinator on ${PORTS[0]}, workers on ${PORTS[1]} and ${PORTS[2]} ($BIN)"

# expect WHAT GOT WANT
expect() {
    if [[ $2 == "$3" ]]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}
# expect_error WHAT OUTPUT PATTERN
expect_error() {
    if [[ $2 == *"$3"* ]]; then ok "$1"; else not_ok "$1: output '$2' lacks '$3'"; fi
}

version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$REPO/aitrack.control")
# on_every_node SQL: SQL's one value on each node, space-separated
on_every_node() { local i; for i in 0 1 2; do node $i -c "$1"; done | tr '\n' ' '; }
ext_versions() { on_every_node "SELECT COALESCE(max(extversion), 'none') FROM pg_extension WHERE extname = 'aitrack'"; }

# A worker that is part of a cluster refuses CREATE EXTENSION run there (in
# a database of its own; aitrack on no node after).
for i in 0 1 2; do node $i -c "CREATE DATABASE citus_limits" >/dev/null; done
DB=citus_limits citus_cluster
DB=citus_limits citus_join
got=$(DB=citus_limits node 1 -c "CREATE EXTENSION aitrack CASCADE")
expect_error "limit: a worker of the cluster refuses CREATE EXTENSION run there" "$got" "operation is not allowed on this node"
expect "... and leaves aitrack on no node" "$(DB=citus_limits ext_versions)" "none none none "
# Before 1.2, the 1.1-to-1.2 update makes a temporary table (its backfill of
# the rollups): it cannot run in Citus's two-phase commit.
got=$(DB=citus_limits node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack VERSION '1.1' CASCADE" \
                                -c "ALTER EXTENSION aitrack UPDATE")
expect_error "limit: an install older than 1.2 does not update on a running cluster" "$got" \
    "cannot PREPARE a transaction that has operated on temporary objects"
expect "... and stays at 1.1 on every node" "$(DB=citus_limits ext_versions)" "1.1 1.1 1.1 "

# An update on a running cluster: Citus runs ALTER EXTENSION UPDATE on the
# workers too, in its two-phase commit; no update script from 1.2 on makes
# a temporary object.
for i in 0 1 2; do node $i -c "CREATE DATABASE citus_update" >/dev/null; done
DB=citus_update citus_cluster
DB=citus_update citus_join
got=$(DB=citus_update node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack VERSION '1.2' CASCADE")
expect "CREATE EXTENSION aitrack VERSION '1.2' on the coordinator of a running cluster" "$got" ""
expect "... puts 1.2 on every node" "$(DB=citus_update ext_versions)" "1.2 1.2 1.2 "
got=$(DB=citus_update node 0 -c "SET client_min_messages = warning" -c "ALTER EXTENSION aitrack UPDATE")
expect "ALTER EXTENSION aitrack UPDATE on the coordinator" "$got" ""
expect "... updates every node to $version" "$(DB=citus_update ext_versions)" "$version $version $version "
# Distributed by hand, aitrack's tables refuse rather than count wrong:
# Citus copies a table's triggers to its shards (citus.enable_unsafe_triggers),
# where aitrack's would write the node's own copies of other tables.
got=$(DB=citus_update node 0 -c "SET citus.enable_unsafe_triggers = on" -c "SELECT create_reference_table('ai_model')" \
                             -c "INSERT INTO ai_model (modelname, version) VALUES ('m', 'v')" \
                             -c "INSERT INTO ai_call (model_id, prompt, response) SELECT id, 'p', '{}' FROM ai_model")
expect "ai_model made a reference table by hand (the trigger-free paths still work)" "$(echo "$got" | tail -n 1)" ""
got=$(DB=citus_update node 0 -c "DELETE FROM ai_model")
expect_error "... its delete trigger refuses on the shard, naming it" "$got" \
    'aitrack trigger "ai_model_delete_calls_'
expect_error "... and says what to do" "$got" "Distribute aitrack with aitrack_distribute()"
expect "... nothing deleted" "$(DB=citus_update node 0 -c "SELECT (SELECT count(*) FROM ai_model) || ' ' || (SELECT count(*) FROM ai_call)")" "1 1"
got=$(DB=citus_update node 0 -c "SELECT undistribute_table('ai_model')")
expect_error "limit: undistribute_table() cannot take it back (an extension depends on it)" "$got" \
    "cannot alter table because an extension depends on it"
got=$(DB=citus_update node 0 -c "SELECT aitrack_distribute()")
expect_error "aitrack_distribute() refuses where another aitrack table was distributed by hand" "$got" \
    "another table of aitrack is already a Citus table"

# The install: CREATE EXTENSION on the coordinator of a running cluster.
# Citus runs it on the workers inside its two-phase commit; the full 1.2
# script (scripts/full-install.sh) makes no temporary object, so it passes.
# A worker added afterwards gets it from Citus when it joins.
citus_cluster
node 0 -c "SELECT citus_add_node('$RUN', ${PORTS[1]})" >/dev/null
got=$(node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack CASCADE")
expect "CREATE EXTENSION aitrack CASCADE on the coordinator of a running cluster" "$got" ""
expect "... puts aitrack $version on the coordinator and its worker" "$(ext_versions)" "$version $version none "
node 0 -c "SELECT citus_add_node('$RUN', ${PORTS[2]})" >/dev/null
expect "a worker that joins later gets aitrack $version" "$(ext_versions)" "$version $version $version "
expect "the workers joined" "$(node 0 -c "SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary'")" "3"

got=$(node 0 -c "SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{\"text\": \"ok\"}', input_tokens => 100,
                         output_tokens => 20, cost_usd => 0.25, duration_ms => 300,
                         user_id => '00000000-0000-0000-0000-000000000001') > 0")
expect "record_ai_call() on the coordinator" "$got" "t"
got=$(node 0 -c "SELECT count(*) FROM record_ai_calls('[
    {\"modelname\": \"gpt-4o\", \"version\": \"2024-08-06\", \"prompt\": \"a\", \"response\": {}, \"cost_usd\": 0.5},
    {\"modelname\": \"gpt-4o\", \"version\": \"2024-08-06\", \"prompt\": \"b\", \"response\": {}, \"cost_usd\": 0.125}]')")
expect "record_ai_calls() on the coordinator, two calls" "$got" "2"
node 0 -c "INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('all', 'all', 'month', 1)"
reservation=$(node 0 -c "SELECT ai_budget_reserve(0.125)")
got=$(node 0 -c "SELECT spent_usd || ' ' || reserved_usd || ' ' || calls FROM ai_budget_spend")
expect "a budget counts the calls (its recount), a reservation holds" "$got" "0.875 0.125 3"
got=$(node 0 -c "SELECT ai_budget_release($reservation)" \
             -c "SELECT spent_usd || ' ' || reserved_usd || ' ' || calls FROM ai_budget_spend")
expect "... and is released" "$got" "t
0.875 0.000 3"
got=$(node 0 -c "SELECT ai_budget_reserve(0.25)")
expect_error "the hard limit refuses what would pass it" "$got" 'budget "all" would be exceeded'
got=$(node 0 -c "SELECT calls || ' ' || cost_usd || ' ' || input_tokens FROM ai_usage_stats(now() - interval '1 day', now())")
expect "ai_usage_stats() on the coordinator" "$got" "3 0.875 100"
expect "nothing is distributed" "$(node 0 -c "SELECT count(*) FROM pg_dist_partition")" "0"
expect "the workers' copies stay empty" "$(node 1 -c "SELECT count(*) FROM ai_call")" "0"

# By hand, ai_call does not distribute (README, issue 14): aitrack_distribute() does.
got=$(node 0 -c "SELECT create_distributed_table('ai_call', 'user_id')")
expect_error "by hand: ai_call cannot be distributed as it has triggers" "$got" \
    'cannot distribute relation "ai_call" because it has triggers'
got=$(node 0 -c "SET citus.enable_unsafe_triggers = on" -c "SELECT create_distributed_table('ai_call', 'user_id')")
expect_error "by hand: ai_call cannot be distributed by user_id (its primary key)" "$got" \
    "Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the partition column"

# ---- aitrack_distribute() (1.10) ----
# Two databases with the same calls: dist, on the cluster, installed at 1.9
# and updated to 1.10 on the running cluster, then distributed with calls
# in it; single, on the coordinator without Citus.  The same calls go into
# both before and after; then every call, the stats and the budgets must
# read the same (test/citus/compare.sql), and again after each change.
HERE=$REPO/test/citus
for i in 0 1 2; do node $i -c "CREATE DATABASE dist" >/dev/null; done
node 0 -c "CREATE DATABASE single" >/dev/null
DB=dist citus_cluster
DB=dist citus_join
for db in dist single; do
    DB=$db node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack VERSION '1.9' CASCADE" >/dev/null
    DB=$db node 0 -f "$HERE/calls_before.sql" >/dev/null
    DB=$db node 0 -c "ALTER EXTENSION aitrack UPDATE TO '1.10'" >/dev/null
done
expect "1.9 updated to 1.10 on every node of the cluster, calls in it" "$(DB=dist ext_versions)" "1.10 1.10 1.10 "
got=$(DB=dist node 0 -c "SET client_min_messages = warning" -c "SELECT aitrack_distribute(4)")
expect "aitrack_distribute() on a database with 300 calls" "$got" "ai_call distributed by id in 4 shards"
got=$(DB=dist node 0 -c "SET client_min_messages = warning" -c "SELECT aitrack_distribute()")
expect "... a second time does nothing" "$got" "ai_call is already distributed"
got=$(DB=dist node 0 -c "SELECT aitrack_distribute(0)")
expect_error "... and refuses a shard count out of range" "$got" "shard_count must be between 1 and 64000"
got=$(DB=dist node 0 -c "SELECT logicalrelid::text FROM pg_dist_partition ORDER BY 1")
expect "... ai_call alone is a Citus table; the rest stay the coordinator's" "$got" "ai_call"
got=$(DB=dist node 0 -c "SELECT count(*) FROM pg_dist_shard_placement p JOIN pg_dist_shard s USING (shardid)
                          WHERE s.logicalrelid = 'ai_call'::regclass AND p.nodeport <> ${PORTS[0]}")
expect "... its shards on the workers" "$got" "4"
expect "... the coordinator's copy of the rows emptied" "$(DB=dist node 0 -c "SELECT pg_relation_size('ai_call')")" "0"
# (the calls of now, and the comparisons of them, within one hour)
while (( 10#$(date -u +%M) >= 57 )); do sleep 10; done
for db in dist single; do DB=$db node 0 -f "$HERE/calls_after.sql" >/dev/null; done
# compare WHAT: dist and single read the same
compare() {
    local a b
    a=$(DB=dist node 0 -f "$HERE/compare.sql")
    b=$(DB=single node 0 -f "$HERE/compare.sql")
    if [[ -n $a && $a == "$b" && $a != *ERROR* ]]; then
        ok "$1 ($(wc -l <<<"$a") lines alike)"
    else
        not_ok "$1: they differ"
        diff <(echo "$b") <(echo "$a") | head -n 20
    fi
}
compare "every call, the stats and the budgets: distributed as on one server"
# An update of the distributed install: ALTER EXTENSION UPDATE on the
# coordinator updates every node (Citus runs it there, in its two-phase
# commit), and leaves ai_call's triggers and policy as aitrack_distribute()
# set them, on the coordinator and on the shards.
dist_shape="SELECT string_agg(tgname, ' ' ORDER BY tgname) FROM pg_trigger
             WHERE tgrelid = 'ai_call'::regclass AND NOT tgisinternal
            UNION ALL SELECT pg_get_expr(polqual, polrelid) FROM pg_policy WHERE polrelid = 'ai_call'::regclass"
shard_shape="SELECT sum(result::int) FROM run_command_on_shards('ai_call',
               \$\$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND NOT tgisinternal\$\$)"
shape_before=$(DB=dist node 0 -c "$dist_shape" -c "$shard_shape")
while (( 10#$(date -u +%M) >= 58 )); do sleep 10; done
for db in dist single; do
    got=$(DB=$db node 0 -c "ALTER EXTENSION aitrack UPDATE")
    expect "ALTER EXTENSION aitrack UPDATE (1.10 to $version) in $db" "$got" ""
done
expect "... the distributed install updated on every node" "$(DB=dist ext_versions)" "$version $version $version "
expect "... ai_call's triggers and policy as aitrack_distribute() left them, the shards' too" \
    "$(DB=dist node 0 -c "$dist_shape" -c "$shard_shape")" "$shape_before"
expect "... (which are the shard trigger, updated_at, the drop guard, and the policy without subqueries)" "$(echo "$shape_before" | head -n 2)" \
    "ai_call_keep_counted ai_call_touch_updated_at ai_guard_truncate
(NOT ai_tenant_mode())"
compare "the same after the update"
both() {
    local db out
    for db in dist single; do
        out=$(DB=$db node 0 "$@")
        [[ $out != *ERROR* ]] || not_ok "in $db: $* failed: $out"
    done
}
# New budgets count their period from the calls there (ai_budget_changed()).
both -c "INSERT INTO ai_budget (name, scope, scope_value, period, limit_usd) VALUES ('tag t1', 'tag', 't1', 'lifetime', 50)" \
     -c "INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('each model', 'model', 'lifetime', 50)" \
     -c "INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('each tag', 'tag', 'lifetime', 50)"
compare "budgets made after aitrack_distribute() count the calls already there"
got=$(DB=dist node 0 -c "SELECT array_agg(r ORDER BY o) = array_agg(r ORDER BY r) AND count(*) = 40
                           FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'batch-' || (i % 7),
                                    'version', '1', 'prompt', 'order ' || i, 'response', '{}'::jsonb) ORDER BY i)
                                  FROM generate_series(1, 40) i)) WITH ORDINALITY AS t(r, o)")
expect "record_ai_calls() on the distributed ai_call: ids ascending in input order" "$got" "t"
got=$(DB=dist node 0 -c "SELECT bool_and(c.prompt = 'order ' || (c.id - f.first + 1))
                           FROM ai_call c, (SELECT min(id) AS first FROM ai_call WHERE prompt LIKE 'order %') f
                          WHERE c.prompt LIKE 'order %'")
expect "... each id the row of its element" "$got" "t"
DB=single node 0 -c "SELECT count(*) FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'batch-' || (i % 7),
                          'version', '1', 'prompt', 'order ' || i, 'response', '{}'::jsonb) ORDER BY i)
                        FROM generate_series(1, 40) i))" >/dev/null

# What changes calls, on both.
both -c "CALL ai_purge_calls('2025-03-02 00:00+00', 37)"
compare "ai_purge_calls(): the calls go, their numbers stay"
both -c "DELETE FROM ai_model WHERE modelname = 'm-gone'"
compare "a deleted model's calls go, and out of the stats"
both -c "CALL ai_purge_content('2025-03-02 18:00+00', 50)"
compare "ai_purge_content()"
both -c "CALL ai_rollup_rebuild()"
compare "ai_rollup_rebuild() counts the rollups again from the distributed ai_call"
both -c "SELECT ai_budget_recount()"
compare "ai_budget_recount()"
got=$(DB=dist node 0 -c "UPDATE ai_call SET cost_usd = 1 WHERE prompt = 'after 200'")
expect_error "an UPDATE of what the stats count is refused on the shards" "$got" \
    'cannot change column "cost_usd" of a call in a distributed ai_call'
got=$(DB=dist node 0 -c "UPDATE ai_call SET extra = '{\"k\": 1}' WHERE prompt = 'after 200'")
expect "... an UPDATE of its content is not" "$got" ""
DB=single node 0 -c "UPDATE ai_call SET extra = '{\"k\": 1}' WHERE prompt = 'after 200'" >/dev/null
# (a price for gpt-4o from 2020 on, so that repricing would change costs)
both -c "SELECT count(*) FROM ai_load_prices('{\"gpt-4o\": {\"input_cost_per_token\": 2.5e-06, \"output_cost_per_token\": 1e-05}}', '2020-01-01')"
# 1.12: ai_reprice() on the distributed ai_call computes the costs on the
# coordinator, where the prices are, and rewrites the changed calls counted
# (ai_reprice_calls(): out of the rollups, back in; the budgets count
# neither, as on one server).
reprice_of() { echo "SELECT concat_ws(' ', calls_checked, calls_changed, newly_priced, newly_unpriced,
                                      cost_before_usd, cost_after_usd, change_usd)
                              FROM ai_reprice('-infinity', 'infinity', dry_run => $1)"; }
a=$(DB=dist node 0 -c "$(reprice_of true)"); b=$(DB=single node 0 -c "$(reprice_of true)")
expect "ai_reprice() dry run on the distributed ai_call: what one server says ($b)" "$a" "$b"
expect "... which would change calls" "$(DB=single node 0 -c "SELECT calls_changed > 0 FROM ai_reprice('-infinity', 'infinity')")" "t"
budgets_before=$(DB=dist node 0 -c "SELECT string_agg(concat_ws(' ', budget, scope_value, spent_usd, calls), ', ' ORDER BY budget, scope_value) FROM ai_budget_status")
t0=$(DB=dist node 0 -c "SELECT now()")
a=$(DB=dist node 0 -c "$(reprice_of false)"); b=$(DB=single node 0 -c "$(reprice_of false)")
expect "ai_reprice(..., false) on the distributed ai_call: what one server says" "$a" "$b"
compare "ai_reprice(): every cost, the stats and the budgets as on one server"
expect "... the budgets count no repricing" "$(DB=dist node 0 -c "SELECT string_agg(concat_ws(' ', budget, scope_value, spent_usd, calls), ', ' ORDER BY budget, scope_value) FROM ai_budget_status")" "$budgets_before"
changed=$(cut -d' ' -f2 <<<"$b")
expect "... each changed call rewritten once, with updated_at now ($changed calls)" \
    "$(DB=dist node 0 -c "SELECT count(*) FROM ai_call WHERE updated_at >= '$t0'")" "$changed"
expect "... a second time nothing is left to change" \
    "$(DB=dist node 0 -c "SELECT calls_changed FROM ai_reprice('-infinity', 'infinity', false)")" "0"
# A cost above 1e9 USD: refused, nothing changed (as on one server).
both -c "SELECT count(*) FROM record_ai_calls('[{\"modelname\": \"edge-dear\", \"version\": \"v\", \"prompt\": \"dear\", \"response\": {},
                                                \"input_tokens\": 2000000000, \"output_tokens\": 0, \"created_at\": \"2025-03-02 12:00+00\"}]')" \
     -c "INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok) VALUES ('edge-dear', 1000000, 1)"
got=$(DB=dist node 0 -c "SELECT calls_changed FROM ai_reprice('-infinity', 'infinity', false)")
expect_error "ai_reprice() to a cost above 1e9 USD is refused on the distributed ai_call" "$got" "a repriced cost is out of range"
expect_error "... naming the call" "$got" "would cost 2000000000 USD"
got=$(DB=dist node 0 -c "SELECT ai_reprice_calls(ARRAY(SELECT id FROM ai_call WHERE prompt = 'dear'))")
expect_error "... and by ai_reprice_calls() itself" "$got" "would cost 2000000000 USD"
both -c "DELETE FROM ai_model_price WHERE model = 'edge-dear'"
compare "... and nothing changed"
# An id named twice is repriced once (one call out of the rollups, one in).
got=$(DB=dist node 0 -c "SELECT ai_reprice_calls(ARRAY[i, i, i]) FROM (SELECT min(id) AS i FROM ai_call WHERE cost_source = 'computed') m")
expect "ai_reprice_calls() with one id three times puts one call back" "$got" "1"
compare "... counted once"
got=$(DB=dist node 0 -c "CREATE ROLE regress_citus_noupdate" -c "GRANT EXECUTE ON FUNCTION ai_reprice_calls(bigint[]) TO regress_citus_noupdate" \
                     -c "SET ROLE regress_citus_noupdate" -c "SELECT ai_reprice_calls('{1}')")
expect_error "ai_reprice_calls() needs UPDATE on ai_call's cost" "$got" "permission denied for table ai_call"
got=$(DB=dist node 0 -c "GRANT UPDATE (cost_usd, cost_source) ON ai_call TO regress_citus_noupdate" \
                     -c "SET ROLE regress_citus_noupdate" -c "SELECT ai_reprice_calls('{}')")
expect "... or UPDATE on its cost_usd and cost_source alone" "$got" "0"
DB=dist node 0 -c "REVOKE ALL ON ai_call FROM regress_citus_noupdate" \
               -c "REVOKE ALL ON FUNCTION ai_reprice_calls(bigint[]) FROM regress_citus_noupdate" \
               -c "DROP ROLE regress_citus_noupdate" >/dev/null
got=$(DB=single node 0 -c "SELECT ai_reprice_calls('{1}')")
expect_error "... and refuses on one server" "$got" "ai_reprice_calls() reprices the calls of a distributed ai_call only"
# By hand, an INSERT, DELETE or COPY into the distributed ai_call would go
# uncounted (no trigger there): refused, even to a superuser.
got=$(DB=dist node 0 -c "INSERT INTO ai_call (model_id, prompt, response) SELECT id, 'by hand', '{}' FROM ai_model LIMIT 1")
expect_error "a by-hand INSERT into the distributed ai_call is refused" "$got" \
    "cannot write the distributed public.ai_call by hand"
got=$(DB=dist node 0 -c "DELETE FROM ai_call WHERE prompt = 'after 200'")
expect_error "... a DELETE too" "$got" "cannot write the distributed public.ai_call by hand"
got=$(DB=dist node 0 -c "COPY ai_call (model_id, prompt, response) FROM STDIN" <<<"$(DB=dist node 0 -c "SELECT min(id) FROM ai_model")	by hand	{}")
expect_error "... a COPY FROM too" "$got" "cannot write the distributed public.ai_call by hand"
got=$(DB=dist node 0 -c "WITH gone AS (DELETE FROM ai_call WHERE prompt = 'after 200' RETURNING 1) SELECT count(*) FROM gone")
expect_error "... and a DELETE inside a CTE" "$got" "cannot write the distributed public.ai_call by hand"
got=$(DB=dist node 0 -c "TRUNCATE ai_call")
expect_error "the drop guard refuses TRUNCATE" "$got" "cannot truncate aitrack's ai_call while it holds calls"
got=$(DB=dist node 0 -c "DROP EXTENSION aitrack")
expect_error "... and DROP EXTENSION" "$got" "while it holds"
compare "nothing changed by what was refused"

# Tenants: recording works; reading the distributed ai_call, directly or
# through the stats, is refused on the coordinator (a tenant after SET
# ROLE too); the shards' policy shows a tenant nothing.
DB=dist node 0 -c "CREATE ROLE regress_citus_tenant LOGIN" -c "GRANT aitrack_tenant TO regress_citus_tenant" \
    -c "CREATE ROLE regress_citus_reader LOGIN" -c "GRANT aitrack_reader TO regress_citus_reader" \
    -c "GRANT regress_citus_reader TO regress_citus_tenant" \
    -c "CREATE ROLE regress_citus_analyst LOGIN" -c "GRANT aitrack_reader TO regress_citus_analyst" \
    -c "INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_citus_tenant', '00000000-0000-0000-0000-000000000003')" >/dev/null
as_role() {
    local role=$1 port=$2; shift 2
    runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$RUN" -p "$port" -d dist -U "$role" -v ON_ERROR_STOP=1 "$@" 2>&1
}
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SELECT record_ai_call('gpt-4o', 'v1', 'tenant call', '{}', input_tokens => 1) > 0")
expect "a tenant records on the distributed install" "$got" "t"
DB=dist node 0 -c "GRANT EXECUTE ON FUNCTION ai_reprice_calls(bigint[]) TO regress_citus_tenant" \
    -c "GRANT UPDATE ON ai_call TO regress_citus_tenant" >/dev/null
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SELECT ai_reprice_calls(ARRAY(SELECT id FROM ai_tenant_calls()))")
expect_error "... but cannot reprice calls, even granted UPDATE (the rewrite is the owner's)" "$got" "a tenant cannot reprice calls"
DB=dist node 0 -c "REVOKE EXECUTE ON FUNCTION ai_reprice_calls(bigint[]) FROM regress_citus_tenant" \
    -c "REVOKE UPDATE ON ai_call FROM regress_citus_tenant" >/dev/null
expect "... as its own user" "$(DB=dist node 0 -c "SELECT user_id FROM ai_call WHERE prompt = 'tenant call'")" \
    "00000000-0000-0000-0000-000000000003"
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SELECT count(*) FROM ai_call")
expect_error "a tenant's SELECT on the distributed ai_call is refused" "$got" \
    "a tenant cannot query the distributed public.ai_call"
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SET ROLE regress_citus_reader" -c "SELECT count(*) FROM ai_call")
expect_error "... after SET ROLE to a role that is no tenant too" "$got" \
    "a tenant cannot query the distributed public.ai_call"
shard=$(DB=dist node 0 -c "SELECT 'ai_call_' || s.shardid FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
                            WHERE s.logicalrelid = 'ai_call'::regclass AND p.nodeport = ${PORTS[1]} ORDER BY 1 LIMIT 1")
got=$(as_role regress_citus_tenant "${PORTS[1]}" -c "SET aitrack.user_id = '00000000-0000-0000-0000-000000000003'" \
        -c "SELECT count(*) FROM $shard")
all=$(DB=dist node 1 -c "SELECT count(*) FROM $shard")
expect_error "on a worker, a tenant cannot read a shard ($all rows there), whatever it sets" "$got" \
    "this session cannot read public.$shard, a shard of aitrack's distributed ai_call"
got=$(as_role regress_citus_tenant "${PORTS[1]}" -c "SET citus.override_table_visibility = off" \
        -c "SELECT count(*) FROM $shard WHERE ai_tenant_mode()")
expect_error "... nor with the shards shown" "$got" "cannot read public.$shard"
got=$(as_role regress_citus_analyst "${PORTS[0]}" -c "SELECT count(*) > 0 FROM ai_call")
expect "a reader that is no tenant, and no tenant can become, reads it" "$got" "t"
# What the review of 1.10 found open: a tenant that can SET ROLE to a role
# that is no tenant reached the shards as that role through what the
# executor hook does not see.  The coordinator refuses each door, and the
# workers show such a role no call whatever comes to them.
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SET ROLE regress_citus_reader" -c "COPY ai_call TO STDOUT")
expect_error "a tenant's COPY ai_call TO STDOUT is refused, after SET ROLE too" "$got" \
    "a tenant cannot query the distributed public.ai_call"
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "COPY ai_call (id) TO STDOUT")
expect_error "... and without SET ROLE" "$got" "a tenant cannot query the distributed public.ai_call"
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SET ROLE regress_citus_reader" \
        -c "SELECT sum(result::bigint) FROM run_command_on_shards('ai_call', 'SELECT count(*) FROM %s')")
expect_error "... run_command_on_shards() too" "$got" "a tenant cannot run commands on the nodes of a distributed install"
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SET ROLE regress_citus_reader" \
        -c "SELECT count(*) FROM run_command_on_placements('ai_call', 'SELECT count(*) FROM %s')")
expect_error "... run_command_on_placements() too" "$got" "a tenant cannot run commands on the nodes"
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SET ROLE regress_citus_reader" \
        -c "SELECT count(*) FROM run_command_on_workers('SELECT count(*) FROM ai_call')")
expect_error "... run_command_on_workers() too" "$got" "a tenant cannot run commands on the nodes"
got=$(as_role regress_citus_tenant "${PORTS[0]}" \
        -c "SELECT count(*) FROM master_run_on_worker(ARRAY['$RUN'], ARRAY[${PORTS[1]}], ARRAY['SELECT 1'], false)")
expect_error "... master_run_on_worker() too, whatever the command" "$got" "a tenant cannot run commands on the nodes"
got=$(as_role regress_citus_analyst "${PORTS[0]}" \
        -c "SELECT sum(result::bigint) = (SELECT count(*) FROM ai_call) FROM run_command_on_shards('ai_call', 'SELECT count(*) FROM %s')")
expect "... which a role that is no tenant runs as before" "$got" "t"
got=$(as_role regress_citus_reader "${PORTS[0]}" -c "SELECT count(*) FROM ai_call")
expect_error "a role a tenant can become cannot query the distributed ai_call either" "$got" \
    'role "regress_citus_reader" cannot query the distributed public.ai_call'
got=$(as_role regress_citus_reader "${PORTS[1]}" -c "SELECT count(*) FROM $shard")
expect_error "... nor a shard on a worker" "$got" "cannot read public.$shard, a shard of aitrack's distributed ai_call"
got=$(as_role regress_citus_tenant "${PORTS[1]}" -c "SET aitrack.user_id = '00000000-0000-0000-0000-000000000001'" \
        -c "SELECT count(*) FROM ai_tenant_calls()")
expect_error "ai_tenant_calls() refuses on a worker (its tenants' users are not the coordinator's)" "$got" \
    "aitrack runs on the coordinator of a distributed install"
got=$(as_role regress_citus_reader "${PORTS[0]}" \
        -c "SELECT bool_and(NOT success AND result LIKE '%a shard of aitrack''s distributed ai_call%')
              FROM run_command_on_shards('ai_call', 'SELECT count(*) FROM %s')")
expect "... nor through run_command_on_shards() in its own session" "$got" "t"
# Found by the attack on the first fix: a function Citus delegates to the
# worker that holds a shard, run there by the tenant's connection, which
# becomes a role with BYPASSRLS (row-level security then holds no more)
# and reads the shards by name.  The coordinator sees no ai_call in the
# statement; the worker refuses the shards to such a session.
DB=dist node 0 -c "CREATE ROLE regress_citus_backup LOGIN BYPASSRLS" -c "GRANT aitrack_reader TO regress_citus_backup" \
    -c "GRANT regress_citus_backup TO regress_citus_tenant" -c "CREATE SCHEMA regress_app" \
    -c "GRANT USAGE, CREATE ON SCHEMA regress_app TO regress_citus_tenant" >/dev/null
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "CREATE FUNCTION regress_app.peek(id bigint) RETURNS SETOF text LANGUAGE plpgsql AS \$\$
        DECLARE r record;
        BEGIN
            PERFORM set_config('role', 'regress_citus_backup', true);
            FOR r IN SELECT relname FROM pg_class WHERE relname ~ '^ai_call_[0-9]+\$' AND relkind = 'r' LOOP
                RETURN QUERY EXECUTE format('SELECT user_id::text FROM public.%I', r.relname);
            END LOOP;
        END \$\$" \
        -c "SET client_min_messages = warning" \
        -c "SELECT create_distributed_function('regress_app.peek(bigint)', 'id', colocate_with => 'ai_call') IS NULL" \
        -c "SELECT count(*) FROM regress_app.peek(1)" -c "SELECT count(*) FROM regress_app.peek(2)")
expect_error "a function delegated to a worker, becoming a BYPASSRLS role there, cannot read the shards" "$got" \
    "cannot read public.ai_call_"
expect "... and reads no call (the function was distributed; nothing but refusals came back)" \
    "$(grep -v -e '^ERROR' -e '^DETAIL' -e '^HINT' -e '^CONTEXT' -e '^PL/pgSQL' -e '^while executing' -e '^[[:space:]]' <<<"$got")" "f"
expect_error "... (refused on a worker, where Citus ran it)" "$got" "while executing command on $RUN:"
got=$(as_role regress_citus_backup "${PORTS[1]}" -c "SELECT count(*) FROM $shard")
expect_error "... nor can that role itself, on a worker, a tenant being a member of it" "$got" "cannot read public.$shard"
# (Found by the second attack: a shard split leaves the parent shard on its
# node, no longer listed by Citus, until a later cleanup, which a session
# holding a lock on it delays.  Every relation named like a shard in
# ai_call's schema is refused, listed or not: here a copy of one.)
DB=dist node 1 -c "SET citus.override_table_visibility = off" -c "SET citus.enable_manual_changes_to_shards = on" \
    -c "CREATE TABLE public.ai_call_9999999 AS SELECT * FROM $shard" -c "GRANT SELECT ON public.ai_call_9999999 TO aitrack_reader" >/dev/null
got=$(as_role regress_citus_backup "${PORTS[1]}" -c "SET citus.override_table_visibility = off" \
        -c "SELECT count(*) FROM public.ai_call_9999999")
expect_error "... nor a left-behind shard, which Citus no longer lists" "$got" "cannot read public.ai_call_9999999"
DB=dist node 1 -c "DROP TABLE public.ai_call_9999999" >/dev/null
got=$(as_role regress_citus_analyst "${PORTS[1]}" -c "SELECT count(*) FROM $shard")
expect "... where a role no tenant can become sees them all" "$got" "$all"
DB=single node 0 -c "SELECT record_ai_call('gpt-4o', 'v1', 'tenant call', '{}', input_tokens => 1,
                                            user_id => '00000000-0000-0000-0000-000000000003')" >/dev/null
compare "(the tenant's call, on one server too)"
# 1.11: a tenant reads its own calls through ai_tenant_calls(), and asks
# ai_usage_stats(), which reads them through it: the same answers as on
# one server, where row-level security gives them.
tenant_stats="SELECT count(*) || ' ' || bool_and(user_id = '00000000-0000-0000-0000-000000000003') FROM ai_tenant_calls();
  SELECT modelname, status, calls, input_tokens, cost_usd, p50_duration_ms, p99_duration_ms
    FROM ai_usage_stats('-infinity', 'infinity', group_by => '{modelname,status}') ORDER BY 1, 2;
  SELECT calls, input_tokens, cost_usd FROM ai_usage_stats(now() - interval '90 minutes', now() + interval '1 minute', group_by => '{}');
  SELECT project, calls, cost_usd FROM ai_usage_stats('-infinity', 'infinity', group_by => '{project}') ORDER BY 1;
  SELECT tag, calls, cost_usd FROM ai_usage_stats('2025-03-01 10:30+00', 'infinity', group_by => '{tag}') ORDER BY 1;"
got_dist=$(as_role regress_citus_tenant "${PORTS[0]}" -c "$tenant_stats")
# (roles are the server's: single, on the coordinator's server, has them)
DB=single node 0 -c "INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_citus_tenant', '00000000-0000-0000-0000-000000000003')" >/dev/null
got_single=$(runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$RUN" -p "${PORTS[0]}" -d single -U regress_citus_tenant \
               -v ON_ERROR_STOP=1 -c "$tenant_stats" 2>&1)
if [[ $got_dist == "$got_single" && $got_dist != *ERROR* && $(wc -l <<<"$got_dist") -gt 5 ]]; then
    ok "a tenant's own calls and stats on the distributed install, as on one server ($(head -n 1 <<<"$got_dist" | cut -d" " -f1) calls of its user)"
else
    not_ok "a tenant's calls and stats differ: $(diff <(echo "$got_single") <(echo "$got_dist") | head -n 10)"
fi
got=$(as_role regress_citus_tenant "${PORTS[0]}" -c "SET aitrack.user_id = '00000000-0000-0000-0000-000000000001'" \
        -c "SELECT count(*) FROM ai_tenant_calls()")
expect "... its user from its mapping, not from what it sets" "$got" "$(head -n 1 <<<"$got_dist" | cut -d' ' -f1)"
got=$(as_role regress_citus_analyst "${PORTS[0]}" -c "SELECT count(*) FROM ai_tenant_calls()")
expect_error "ai_tenant_calls() refuses a session that is no tenant's" "$got" "ai_tenant_calls() answers tenants only"

# A shard moves to the other worker while two clients record 300 calls:
# none lost, none counted twice, ids unique.
calls_before=$(DB=dist node 0 -c "SELECT count(*) FROM ai_call")
cat >"$RUN/record.sql" <<'SQL'
SELECT record_ai_call('gpt-4o', 'v1', 'during the move', '{}', input_tokens => 3, cost_usd => 0.001,
                      duration_ms => 50, user_id => '00000000-0000-0000-0000-000000000002');
SQL
chown postgres "$RUN/record.sql"
runuser -u postgres -- "$BIN/pgbench" -n -h "$RUN" -p "${PORTS[0]}" -c 2 -t 150 -f "$RUN/record.sql" dist \
    >"$RUN/pgbench.out" 2>&1 &
ingest=$!
moved=$(DB=dist node 0 -c "SELECT s.shardid FROM pg_dist_shard s JOIN pg_dist_shard_placement p USING (shardid)
                            WHERE s.logicalrelid = 'ai_call'::regclass AND p.nodeport = ${PORTS[1]} ORDER BY 1 LIMIT 1")
got=$(DB=dist node 0 -c "SELECT citus_move_shard_placement($moved, '$RUN', ${PORTS[1]}, '$RUN', ${PORTS[2]})")
expect "a shard of ai_call moves while calls are recorded" "$got" ""
wait $ingest
expect "... the recording went on (pgbench)" "$(grep -c 'number of failed transactions: 0' "$RUN/pgbench.out")" "1"
expect "... the shard is on the other worker" \
    "$(DB=dist node 0 -c "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $moved")" "${PORTS[2]}"
got=$(DB=dist node 0 -c "SELECT count(*) - $calls_before || ' ' || count(DISTINCT id) - $calls_before FROM ai_call")
expect "... 300 calls more, 300 ids more" "$got" "300 300"
DB=single node 0 -c "SELECT count(record_ai_call('gpt-4o', 'v1', 'during the move', '{}', input_tokens => 3, cost_usd => 0.001,
                       duration_ms => 50, user_id => '00000000-0000-0000-0000-000000000002')) FROM generate_series(1, 300)" >/dev/null
totals="SELECT calls || ' ' || input_tokens || ' ' || cost_usd FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}')"
expect "... and the stats count each of them once, as on one server" "$(DB=dist node 0 -c "$totals")" "$(DB=single node 0 -c "$totals")"
# (the ids of two clients interleave differently, and the calls of now
# fall in this hour: compared without ids and times)

# On a worker, aitrack refuses to record or read (its tables there are not
# the coordinator's: no tenants' users, a sequence of its own).
got=$(as_role regress_citus_tenant "${PORTS[1]}" -c "SET aitrack.user_id = '00000000-0000-0000-0000-000000000001'" \
        -c "SELECT record_ai_call('gpt-4o', 'v1', 'on a worker', '{}')")
expect_error "record_ai_call() on a worker is refused" "$got" "aitrack runs on the coordinator of a distributed install"
got=$(DB=dist node 1 -c "SELECT count(*) FROM record_ai_calls('[{\"modelname\": \"m\", \"version\": \"1\", \"prompt\": \"p\", \"response\": {}}]')")
expect_error "... record_ai_calls() too, even by a superuser" "$got" "aitrack runs on the coordinator of a distributed install"

# Calls recorded while aitrack_distribute() runs wait for it, then are
# counted by the writers: none is left out of the stats.
for i in 0 1 2; do node $i -c "CREATE DATABASE race" >/dev/null; done
DB=race citus_cluster
DB=race citus_join
DB=race node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack CASCADE" \
    -c "SELECT count(record_ai_call('gpt-4o', 'v1', 'p', '{}')) FROM generate_series(1, 100)" >/dev/null
runuser -u postgres -- "$BIN/pgbench" -n -h "$RUN" -p "${PORTS[0]}" -c 2 -T 6 -f "$RUN/record.sql" race \
    >"$RUN/pgbench-race.out" 2>&1 &
ingest=$!
sleep 2
got=$(DB=race node 0 -c "SET client_min_messages = warning" -c "SELECT aitrack_distribute(4)")
wait $ingest
expect "aitrack_distribute() while two clients record" "$got" "ai_call distributed by id in 4 shards"
got=$(DB=race node 0 -c "SELECT (SELECT count(*) FROM ai_call) || ' ' ||
                                 (SELECT calls FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}'))")
read -r n_calls n_stats <<<"$got"
expect "... every call counted once ($n_calls calls)" "$n_stats" "$n_calls"
# 1.11: ai_rollup_rebuild() while two clients record: each day's
# transaction holds ai_call's SHARE lock on the distributed install, so the
# calls it counts again are those whose rollup rows it deleted (1.10
# counted calls recorded meanwhile twice: +377 of 6,138 in the review).
runuser -u postgres -- "$BIN/pgbench" -n -h "$RUN" -p "${PORTS[0]}" -c 2 -T 8 -f "$RUN/record.sql" race \
    >"$RUN/pgbench-rebuild.out" 2>&1 &
ingest=$!
sleep 1
rebuilds=0 rebuild_out=
for _ in 1 2 3 4 5; do
    got=$(DB=race node 0 -c "SET client_min_messages = warning" -c "CALL ai_rollup_rebuild()")
    if [[ -z $got ]]; then rebuilds=$((rebuilds + 1)); else rebuild_out=$got; fi
    sleep 0.5
done
wait $ingest
expect "ai_rollup_rebuild() five times while two clients record${rebuild_out:+ ($rebuild_out)}" "$rebuilds" "5"
expect "... the recording went on" "$(grep -c 'number of failed transactions: 0' "$RUN/pgbench-rebuild.out")" "1"
got=$(DB=race node 0 -c "SELECT (SELECT count(*) FROM ai_call) || ' ' ||
                                 (SELECT calls FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}'))")
read -r n_calls n_stats <<<"$got"
expect "... every call counted once ($n_calls calls)" "$n_stats" "$n_calls"
# ai_budget_recount() while two clients record: each budget's spend is set
# from a sum of the calls, not moved by a difference, so a call recorded
# between the coordinator's snapshot and the workers' is counted once.
DB=race node 0 -c "INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('race all', 'all', 'lifetime', 1000000)" >/dev/null
runuser -u postgres -- "$BIN/pgbench" -n -h "$RUN" -p "${PORTS[0]}" -c 2 -T 6 -f "$RUN/record.sql" race \
    >"$RUN/pgbench-recount.out" 2>&1 &
ingest=$!
sleep 1
recounts=0
for _ in 1 2 3 4 5; do
    [[ $(DB=race node 0 -c "SELECT ai_budget_recount()") == 1 ]] && recounts=$((recounts + 1))
    sleep 0.5
done
wait $ingest
expect "ai_budget_recount() five times while two clients record" "$recounts" "5"
got=$(DB=race node 0 -c "SELECT s.calls = c.calls AND s.spent_usd = c.spent, c.calls
                           FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id,
                                (SELECT count(*) AS calls, COALESCE(sum(cost_usd), 0) AS spent FROM ai_call) c
                          WHERE b.name = 'race all'")
expect "... the budget's calls and spend those of ai_call (${got#*|} calls)" "${got%%|*}" "t"
# 1.12: ai_reprice() while two clients record: the calls it rewrites go out
# of the rollups and back in as they are, the calls recorded meanwhile are
# counted once, and the budget counts no repricing.
cat >"$RUN/record_priced.sql" <<'SQL'
SELECT record_ai_call('reprice-race', 'v1', 'priced', '{}', input_tokens => 1000, output_tokens => 10,
                      duration_ms => 40, user_id => '00000000-0000-0000-0000-000000000004');
SQL
chown postgres "$RUN/record_priced.sql"
DB=race node 0 -c "SELECT count(*) FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'reprice-race',
                          'version', 'v1', 'prompt', 'before', 'response', '{}'::jsonb, 'input_tokens', 1000, 'output_tokens', i)) FROM generate_series(1, 2000) i))" \
    -c "INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, valid_from) VALUES ('reprice-race', 1, 2, '2020-01-01')" >/dev/null
runuser -u postgres -- "$BIN/pgbench" -n -h "$RUN" -p "${PORTS[0]}" -c 2 -T 8 -f "$RUN/record_priced.sql" race \
    >"$RUN/pgbench-reprice.out" 2>&1 &
ingest=$!
sleep 1
reprices=0 reprice_out= rewritten=0
for rate in 3 4 5 6; do
    got=$(DB=race node 0 -c "UPDATE ai_model_price SET input_usd_per_mtok = $rate WHERE model = 'reprice-race'" \
                         -c "SELECT calls_changed FROM ai_reprice('-infinity', 'infinity', false)")
    if [[ $got =~ ^([0-9]+)$ ]]; then
        reprices=$((reprices + 1)); rewritten=$((rewritten + BASH_REMATCH[1]))
    else reprice_out=$got; fi
    sleep 0.5
done
wait $ingest
expect "ai_reprice() four times while two clients record${reprice_out:+ ($reprice_out)}" "$reprices" "4"
expect "... the recording went on" "$(grep -c 'number of failed transactions: 0' "$RUN/pgbench-reprice.out")" "1"
got=$(DB=race node 0 -c "SELECT s.calls = c.calls AND s.cost_usd = c.cost AND s.input_tokens = c.input, c.calls
                           FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}') s,
                                (SELECT count(*) AS calls, sum(cost_usd) AS cost, sum(input_tokens) AS input FROM ai_call) c")
expect "... the stats' calls, cost and tokens those of ai_call (${got#*|} calls, $rewritten rewritten)" "${got%%|*}" "t"
got=$(DB=race node 0 -c "SELECT s.calls = c.calls, c.calls
                           FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id,
                                (SELECT count(*) AS calls FROM ai_call) c
                          WHERE b.name = 'race all'")
expect "... the budget counted each call once, no repricing (${got#*|} calls)" "${got%%|*}" "t"
# A call that another session deletes, or updates, while a repricing has
# taken it out waits for the repricing and then deletes (updates) the call
# put back: the lock of distributed.c's ai_lock_call_changes().  Without
# it the waiting statement finds the row deleted and skips it.
victims=$(DB=race node 0 -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM ai_call WHERE cost_source = 'computed' ORDER BY id LIMIT 2) v")
DB=race node 0 -c "BEGIN" -c "SELECT ai_reprice_calls('{$victims}')" -c "SELECT pg_sleep(3)" -c "COMMIT" >"$RUN/reprice-hold.out" 2>&1 &
holder=$!
sleep 1
DB=race node 0 -c "UPDATE ai_call SET extra = '{\"while\": \"repriced\"}' WHERE id = ${victims#*,}" >"$RUN/update-wait.out" 2>&1 &
updater=$!
got=$(DB=race node 0 -c "SELECT count(*) FROM ai_delete_calls('{${victims%,*}}')")
wait $updater; wait $holder
expect "a call deleted while ai_reprice_calls() holds it is deleted once that commits (it put back $(head -n 1 "$RUN/reprice-hold.out"))" "$got" "1"
expect "... and gone" "$(DB=race node 0 -c "SELECT count(*) FROM ai_call WHERE id = ${victims%,*}")" "0"
expect "... a call updated meanwhile is updated$(cat "$RUN/update-wait.out")" \
    "$(DB=race node 0 -c "SELECT extra->>'while' FROM ai_call WHERE id = ${victims#*,}")" "repriced"
got=$(DB=race node 0 -c "SELECT s.calls = c.calls AND s.cost_usd = c.cost, c.calls
                           FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}') s,
                                (SELECT count(*) AS calls, sum(cost_usd) AS cost FROM ai_call) c")
expect "... the stats those of ai_call (${got#*|} calls)" "${got%%|*}" "t"

# Calls with long prompts are priced and put back in chunks of at most
# 64 MB (an array holds at most 1 GB): three of 40 MB make two.
big=$(DB=race node 0 -c "SELECT string_agg(record_ai_call('reprice-race', 'v1', repeat('x', 40000000), '{}', input_tokens => 9, output_tokens => 1)::text, ',')
                           FROM generate_series(1, 3)")
got=$(DB=race node 0 -c "SELECT ai_reprice_calls('{$big}')" \
        -c "SELECT string_agg(concat_ws(' ', length(prompt), cost_source), ', ') FROM ai_call WHERE id = ANY ('{$big}')")
expect "ai_reprice_calls() on three calls of 40 MB puts back three, whole" "$got" "3
40000000 computed, 40000000 computed, 40000000 computed"
got=$(DB=race node 0 -c "SELECT s.calls = c.calls AND s.cost_usd = c.cost, c.calls
                           FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}') s,
                                (SELECT count(*) AS calls, sum(cost_usd) AS cost FROM ai_call) c")
expect "... the stats those of ai_call (${got#*|} calls)" "${got%%|*}" "t"

# A TRUNCATE that would not empty the shards, run on a worker, or rolled
# back leaves the calls and the rollups as they were.
race_counts() { DB=race node 0 -c "SELECT concat_ws(' ', (SELECT count(*) FROM ai_call),
                                                     (SELECT calls FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}')))"; }
counts_before=$(race_counts)
got=$(DB=race node 0 -c "SET aitrack.allow_drop = on" -c "SET citus.enable_ddl_propagation = off" -c "TRUNCATE ai_call")
expect_error "TRUNCATE with citus.enable_ddl_propagation off (Citus leaves the shards) is refused" "$got" \
    "TRUNCATE did not empty the shards of the distributed ai_call"
expect "... the calls and the stats as they were ($counts_before)" "$(race_counts)" "$counts_before"
got=$(DB=race node 0 -c "SET aitrack.allow_drop = on" -c "SET session_replication_role = replica" -c "TRUNCATE ai_call")
expect_error "... with session_replication_role = replica (no trigger fires) too" "$got" \
    "TRUNCATE did not empty the shards of the distributed ai_call"
expect "... the calls and the stats as they were" "$(race_counts)" "$counts_before"
# An UPDATE of ai_call sent to a worker: refused where Citus plans it on
# ai_call, run (a limit) where the call's shard is on that worker and
# Citus plans it on the shard, which aitrack does not see.
some_ids=$(DB=race node 0 -c "SELECT array_agg(id) FROM (SELECT id FROM ai_call ORDER BY id LIMIT 50) c")
call_on_worker() { DB=race node 0 -c "SELECT min(i) FROM unnest('$some_ids'::bigint[]) i
                                         WHERE get_shard_id_for_distribution_column('ai_call', i) IN
                                               (SELECT p.shardid FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
                                                 WHERE n.nodeport = $1)"; }
got=$(DB=race node 1 -c "UPDATE ai_call SET extra = '{}' WHERE id = $(call_on_worker "${PORTS[2]}")")
expect_error "an UPDATE of ai_call on a worker, of a call on another worker, is refused" "$got" \
    "aitrack runs on the coordinator of a distributed install"
got=$(DB=race node 1 -c "UPDATE ai_call SET extra = '{}' WHERE id = $(call_on_worker "${PORTS[1]}")")
expect "limit: ... of a call on that worker it runs, taking no lock (Citus plans it on the shard)" "$got" ""
got=$(DB=race node 1 -c "SET aitrack.allow_drop = on" -c "TRUNCATE ai_call")
expect_error "TRUNCATE on a worker is refused" "$got" "aitrack runs on the coordinator of a distributed install"
expect "... the calls and the stats as they were" "$(race_counts)" "$counts_before"
got=$(DB=race node 0 -c "BEGIN" -c "SET LOCAL aitrack.allow_drop = on" -c "TRUNCATE ai_call" \
        -c "SELECT count(*) FROM ai_usage_rollup_total" -c "ROLLBACK")
expect "TRUNCATE rolled back: the rollups empty inside" "$got" "0"
expect "... and as they were after" "$(race_counts)" "$counts_before"

# TRUNCATE of the distributed ai_call, which only aitrack.allow_drop lets
# through (the drop guard): the calls go out of the rollups with it, as the
# rollup trigger's TRUNCATE takes them out on one server; the budgets keep
# what was spent.
spent_before=$(DB=race node 0 -c "SELECT concat_ws(' ', s.calls, s.spent_usd) FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id WHERE b.name = 'race all'")
got=$(DB=race node 0 -c "SET aitrack.allow_drop = on" -c "TRUNCATE ai_call" \
        -c "SELECT concat_ws(' ', (SELECT count(*) FROM ai_call), (SELECT count(*) FROM ai_usage_rollup_total),
                              (SELECT count(*) FROM ai_usage_rollup), (SELECT count(*) FROM ai_usage_rollup_daily),
                              (SELECT count(*) FROM ai_usage_rollup_project),
                              (SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{model}')))")
expect "TRUNCATE ai_call with aitrack.allow_drop: no call, no rollup row, no stats row" "$got" "0 0 0 0 0 0"
expect "... the budget keeps what was spent" "$(DB=race node 0 -c "SELECT concat_ws(' ', s.calls, s.spent_usd) FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id WHERE b.name = 'race all'")" "$spent_before"
got=$(DB=race node 0 -c "SELECT record_ai_call('gpt-4o', 'v1', 'after the truncate', '{}', input_tokens => 7) > 0" \
        -c "SELECT concat_ws(' ', calls, input_tokens) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}')")
expect "... and a call recorded after it is the stats' only one" "$got" "t
1 7"

# pg_dump of the coordinator holds every call (COPY reads the shards);
# restored into a database of one server, aitrack is as it was before
# aitrack_distribute(): the extension's own triggers and policy, its
# rollups counted again as the rows load, the same stats.
runuser -u postgres -- "$BIN/pg_dump" -h "$RUN" -p "${PORTS[0]}" -Fc -f "$RUN/dist.dump" dist >"$RUN/dump.out" 2>&1 ||
    not_ok "pg_dump of the distributed database: $(tail -n 3 "$RUN/dump.out")"
node 0 -c "CREATE DATABASE restored" >/dev/null
runuser -u postgres -- "$BIN/pg_restore" -h "$RUN" -p "${PORTS[0]}" -d restored "$RUN/dist.dump" >"$RUN/restore.out" 2>&1
stats_of() { DB=$1 node 0 -c "SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms, p99_duration_ms
                                FROM ai_usage_stats('-infinity', 'infinity') ORDER BY 1, 2"; }
a=$(stats_of restored); b=$(stats_of single)
if [[ -n $a && $a == "$b" ]]; then ok "pg_dump of the distributed install, restored on one server: the same stats"
else not_ok "restored stats differ: $(diff <(echo "$b") <(echo "$a") | head -n 10)"; fi
expect "... ai_call a table of its own there, with its triggers" \
    "$(DB=restored node 0 -c "SELECT ai_calls_distributed() || ' ' || count(*) FROM pg_trigger
                                WHERE tgrelid = 'ai_call'::regclass AND NOT tgisinternal")" "false 9"

# Without aitrack in shared_preload_libraries on the coordinator (its
# hooks would be missing from sessions that have not loaded it yet):
# aitrack_distribute() refuses, and on a distributed install every aitrack
# function that reads or writes calls refuses.  Then the coordinator is
# restarted as it was.
# (stop and start: pg_ctl restart would keep the options of the last start)
restart_coordinator() {
    runuser -u postgres -- "$BIN/pg_ctl" -D "$RUN/n0" -w -m fast stop >/dev/null &&
        runuser -u postgres -- "$BIN/pg_ctl" -D "$RUN/n0" -l "$RUN/n0.log" -w start ${1:+-o "$1"} >/dev/null &&
        PIDS[0]=$(head -n 1 "$RUN/n0/postmaster.pid")
}
if restart_coordinator "-c shared_preload_libraries=citus"; then
    expect "the coordinator restarted without aitrack preloaded" "$(node 0 -c "SHOW shared_preload_libraries")" "citus"
    got=$(DB=dist node 0 -c "SELECT calls FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}')")
    expect_error "... the stats of the distributed install refuse" "$got" \
        "aitrack must be in shared_preload_libraries on a distributed install"
    got=$(DB=dist node 0 -c "SELECT record_ai_call('gpt-4o', 'v1', 'unhooked', '{}')")
    expect_error "... recording too" "$got" "aitrack must be in shared_preload_libraries on a distributed install"
    calls_before=$(DB=dist node 0 -c "SELECT count(*) FROM ai_call")
    got=$(DB=dist node 0 -c "SET aitrack.allow_drop = on" -c "TRUNCATE ai_call")
    expect_error "... TRUNCATE too (nothing would empty the rollups)" "$got" \
        "aitrack must be in shared_preload_libraries on a distributed install"
    expect "... leaving the calls ($calls_before)" "$(DB=dist node 0 -c "SELECT count(*) FROM ai_call")" "$calls_before"
    node 0 -c "CREATE DATABASE unhooked" >/dev/null
    for i in 1 2; do node $i -c "CREATE DATABASE unhooked" >/dev/null; done
    DB=unhooked citus_cluster
    DB=unhooked citus_join
    got=$(DB=unhooked node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack CASCADE" \
                             -c "SELECT aitrack_distribute()")
    expect_error "... and aitrack_distribute() refuses" "$got" \
        "aitrack must be in shared_preload_libraries to distribute ai_call"
    expect "... leaving ai_call local" "$(DB=unhooked node 0 -c "SELECT ai_calls_distributed()")" "f"
else
    not_ok "the coordinator did not restart without aitrack preloaded: $(tail -n 5 "$RUN/n0.log")"
fi
restart_coordinator || not_ok "the coordinator did not restart: $(tail -n 5 "$RUN/n0.log")"
expect "... and with it again" "$(node 0 -c "SHOW shared_preload_libraries")" "citus,aitrack"

if (( FAILED )); then
    echo "citus: some checks failed (server logs kept in $ARTIFACTS)"
    for i in 0 1 2; do tail -n 20 "$RUN/n$i.log"; done
    exit 1
fi
echo "citus: all checks passed"
exit 0
