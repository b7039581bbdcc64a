#!/usr/bin/env bash
# bench/citus.sh: aitrack on Citus against aitrack on one server, on this
# machine (issue 14).  A coordinator and two workers (scripts/citus-nodes.sh,
# Citus 13.2.2 on PostgreSQL 17.11 from scripts/citus-build.sh), all three
# on the same cores, so what shows is the overhead of distribution, not its
# gain.  Two databases on the coordinator:
#   dist    Citus, the workers joined, aitrack_distribute(4) on an empty
#           ledger, then BENCH_CITUS_CALLS calls loaded with record_ai_calls()
#   single  no Citus: aitrack as on one server, the same calls
# Measured: first, median of BENCH_REPEAT runs after a warm-up, the stats
# (below); then, in interleaved rounds (a b c a b c ...), pgbench tps of
#   a  record_ai_call() in single
#   b  record_ai_call() in dist (the coordinator inserts into a shard and
#      counts the call into its own rollups and budgets)
#   c  a plain INSERT into a table of ai_call's shape (its columns, checks
#      and indexes) distributed as it is (nothing counted): the floor of
#      any write into the distributed table
# The stats: ai_usage_stats() over all calls in single and in dist, grouped
# by model (from the rollups, on the coordinator in both) and by api_key
# (no rollup holds it: from ai_call itself, on dist a query over every
# shard, its histograms merged from partial aggregates), and whether both
# answer the same; a tenant's stats (1.11); ai_reprice() of
# BENCH_REPRICE_CALLS calls (1.12).  Prints each figure and the ratios b/a,
# b/c and dist/single.
#
#   bash bench/citus.sh                      as root
#   BENCH_DURATION=20 BENCH_ROUNDS=2 BENCH_CLIENTS=4 BENCH_CITUS_CALLS=200000 BENCH_REPEAT=5
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
source scripts/cluster.sh
source scripts/citus-nodes.sh

DURATION=${BENCH_DURATION:-20}
ROUNDS=${BENCH_ROUNDS:-2}
CLIENTS=${BENCH_CLIENTS:-4}
CALLS=${BENCH_CITUS_CALLS:-200000}
REPEAT=${BENCH_REPEAT:-5}

say() { echo "[$(date +%H:%M:%S)] bench/citus: $*" >&2; }

PGC=$(bash scripts/citus-build.sh 17)
BIN=$(dirname "$PGC")
run_dir_init
RUN=$(mktemp -d "$AITRACK_RUN/citus-bench.XXXXXX")
chown postgres "$RUN"
finish() {
    citus_nodes_stop && rm -rf -- "$RUN"
    run_dir_cleanup
}
trap finish EXIT

citus_nodes_build "$PGC" "$RUN" || { tail -n 30 "$RUN/build.log"; exit 1; }
citus_nodes_start "$RUN" "shared_buffers = 512MB
synchronous_commit = off
max_connections = 200"
say "coordinator on ${PORTS[0]}, workers on ${PORTS[1]} and ${PORTS[2]}"

for i in 0 1 2; do node $i -c "CREATE DATABASE dist" >/dev/null; done
node 0 -c "CREATE DATABASE single" >/dev/null
DB=dist citus_cluster
DB=dist citus_join
for db in dist single; do
    DB=$db node 0 -c "SET client_min_messages = warning" -c "CREATE EXTENSION aitrack CASCADE" >/dev/null
done
DB=dist node 0 -c "SET client_min_messages = warning" -c "SELECT aitrack_distribute(4)" >/dev/null
# c's table: ai_call's columns, checks and indexes, distributed the same
# way, and nothing to count (a by-hand INSERT into the distributed ai_call
# itself is refused: nothing would count it)
DB=dist node 0 -c "SET client_min_messages = warning" \
    -c "CREATE SEQUENCE bench_plain_call_id_seq" \
    -c "CREATE TABLE bench_plain_call (LIKE ai_call INCLUDING ALL)" \
    -c "ALTER TABLE bench_plain_call ALTER COLUMN id SET DEFAULT nextval('bench_plain_call_id_seq')" \
    -c "SELECT create_distributed_table('bench_plain_call', 'id', shard_count => 4)" >/dev/null

# The calls: 8 models, 100 users, 5 projects and none, over 30 days.
load_sql="SELECT count(*) FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_build_object(
           'modelname', 'model-' || (i % 8), 'version', '1', 'prompt', 'p', 'response', '{}'::jsonb,
           'input_tokens', 100 + i % 900, 'output_tokens', 10 + i % 90,
           'cost_usd', (i % 1000) / 100000.0, 'duration_ms', 50 + (i * 7919) % 5000,
           'user_id', '00000000-0000-0000-0000-' || lpad((i % 100)::text, 12, '0'),
           'project', CASE WHEN i % 6 < 5 THEN 'project-' || (i % 6) END, 'api_key', 'key-' || (i % 3),
           'created_at', now() - interval '30 days' + i * (interval '30 days' / $CALLS))
         ORDER BY i)
    FROM generate_series(FIRST, FIRST + 4999) i))"
for db in single dist; do
    started=$SECONDS
    for (( first = 0; first < CALLS; first += 5000 )); do
        DB=$db node 0 -c "${load_sql//FIRST/$first}" >/dev/null
    done
    n=$(DB=$db node 0 -c "SELECT count(*) FROM ai_call")
    [[ $n == "$CALLS" ]] || { say "$db: $n calls loaded, not $CALLS"; exit 1; }
    DB=$db node 0 -c "SELECT ai_rollup_compact()" -c "VACUUM ANALYZE" >/dev/null
    say "$db: $CALLS calls loaded with record_ai_calls() in $(( SECONDS - started )) s"
done

# ms DB SQL: the median of REPEAT timed runs, after one warm-up
ms() {
    local db=$1 sql=$2 i
    DB=$db node 0 -c "$sql" >/dev/null
    for (( i = 0; i < REPEAT; i++ )); do
        DB=$db node 0 -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
    done | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p"
}
by_model="SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{model}')"
by_key="SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{api_key,project}')"
check="SELECT md5(string_agg(concat_ws(' ', s.project, s.calls, s.input_tokens, s.output_tokens, s.cost_usd,
                                       s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms), ',' ORDER BY s.project))
         FROM ai_usage_stats('-infinity', 'infinity', group_by => '{api_key,project}') s"
s_model=$(ms single "$by_model") d_model=$(ms dist "$by_model")
s_key=$(ms single "$by_key") d_key=$(ms dist "$by_key")
same=no
[[ $(DB=single node 0 -c "$check") == "$(DB=dist node 0 -c "$check")" ]] && same=yes
if [[ $same == no && -n ${BENCH_SHOW_DIFF:-} ]]; then
    diff <(DB=single node 0 -c "${check/md5(/(}") <(DB=dist node 0 -c "${check/md5(/(}") || true
fi

# A tenant's questions (1.11): on dist its calls come through
# ai_tenant_calls() (the coordinator reads them as ai_call's owner, the
# user as filter), on single row-level security gives them.  One user of
# 100: about CALLS / 100 calls.
node 0 -c "CREATE ROLE bench_tenant LOGIN" -c "GRANT aitrack_tenant, aitrack_reader TO bench_tenant" >/dev/null
for db in dist single; do
    DB=$db node 0 -c "INSERT INTO ai_tenant_user (role, user_id) VALUES ('bench_tenant', '00000000-0000-0000-0000-000000000007')" >/dev/null
done
# ms_tenant DB SQL: as ms, as the tenant
ms_tenant() {
    local db=$1 sql=$2 i
    runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$RUN" -p "${PORTS[0]}" -d "$db" -U bench_tenant -c "$sql" >/dev/null
    for (( i = 0; i < REPEAT; i++ )); do
        runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$RUN" -p "${PORTS[0]}" -d "$db" -U bench_tenant \
            -c '\timing on' -c "$sql" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
    done | sort -n | sed -n "$(( (REPEAT + 1) / 2 ))p"
}
t_model=$(ms_tenant single "$by_model") dt_model=$(ms_tenant dist "$by_model")
t_key=$(ms_tenant single "$by_key") dt_key=$(ms_tenant dist "$by_key")
tenant_check="SELECT md5(string_agg(concat_ws(' ', s.api_key, s.project, s.calls, s.cost_usd, s.p50_duration_ms), ',' ORDER BY s.api_key, s.project))
                FROM ai_usage_stats('-infinity', 'infinity', group_by => '{api_key,project}') s"
tenant_same=no
[[ $(runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$RUN" -p "${PORTS[0]}" -d single -U bench_tenant -c "$tenant_check") == \
   $(runuser -u postgres -- "$BIN/psql" -X -A -t -q -h "$RUN" -p "${PORTS[0]}" -d dist -U bench_tenant -c "$tenant_check") ]] && tenant_same=yes

# ai_reprice() (1.12): REPRICE_CALLS calls of one model, priced when
# recorded, priced again at a new rate each run, every one of them
# changing: on single an UPDATE its trigger counts, on dist each call taken
# out and put back by ai_reprice_calls(), counted.  The window is all time,
# so every call is checked (the others have a provided cost and stay).
REPRICE_CALLS=${BENCH_REPRICE_CALLS:-20000}
reprice_load="SELECT count(*) FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_build_object(
           'modelname', 'reprice-bench', 'version', '1', 'prompt', 'p', 'response', '{}'::jsonb,
           'input_tokens', 100 + i % 900, 'output_tokens', 10 + i % 90, 'duration_ms', 50 + i % 500,
           'created_at', now() - interval '30 days' + i * (interval '30 days' / $REPRICE_CALLS))
         ORDER BY i)
    FROM generate_series(FIRST, FIRST + 4999) i))"
for db in single dist; do
    DB=$db node 0 -c "INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, valid_from)
                      VALUES ('reprice-bench', 1, 2, '2020-01-01')" >/dev/null
    for (( first = 0; first < REPRICE_CALLS; first += 5000 )); do
        DB=$db node 0 -c "${reprice_load//FIRST/$first}" >/dev/null
    done
done
reprice_sql="UPDATE ai_model_price SET input_usd_per_mtok = input_usd_per_mtok + 1 WHERE model = 'reprice-bench';
             SELECT calls_changed FROM ai_reprice('-infinity', 'infinity', false)"
s_reprice=$(ms single "$reprice_sql") d_reprice=$(ms dist "$reprice_sql")
reprice_check="SELECT concat_ws(' ', count(*), sum(cost_usd), sum(cost_usd) FILTER (WHERE cost_source = 'computed'))
                 FROM ai_call c JOIN ai_model m ON m.id = c.model_id WHERE m.modelname = 'reprice-bench'"
stats_check="SELECT concat_ws(' ', calls, cost_usd) FROM ai_usage_stats('-infinity', 'infinity', modelname => 'reprice-bench', group_by => '{}')"
reprice_same=no
[[ $(DB=single node 0 -c "$reprice_check" -c "$stats_check") == "$(DB=dist node 0 -c "$reprice_check" -c "$stats_check")" ]] && reprice_same=yes

cat >"$RUN/record.sql" <<'SQL'
\set u random(0, 99)
SELECT record_ai_call('model-1', '1', 'p', '{}', input_tokens => 120, output_tokens => 30,
                      cost_usd => 0.0012, duration_ms => 800,
                      user_id => ('00000000-0000-0000-0000-' || lpad(:u::text, 12, '0'))::uuid);
SQL
model_id=$(DB=dist node 0 -c "SELECT id FROM ai_model WHERE modelname = 'model-1'")
cat >"$RUN/insert.sql" <<SQL
\\set u random(0, 99)
INSERT INTO bench_plain_call (model_id, prompt, response, input_tokens, output_tokens, cost_usd, duration_ms, user_id)
VALUES ($model_id, 'p', '{}', 120, 30, 0.0012, 800, ('00000000-0000-0000-0000-' || lpad(:u::text, 12, '0'))::uuid);
SQL
chown postgres "$RUN"/*.sql

# tps DB FILE: one pgbench run
tps() {
    runuser -u postgres -- "$BIN/pgbench" -n -h "$RUN" -p "${PORTS[0]}" -c "$CLIENTS" -j 2 -T "$DURATION" \
        -f "$2" "$1" 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}
declare -A sum=([a]=0 [b]=0 [c]=0)
for (( r = 1; r <= ROUNDS; r++ )); do
    for v in a b c; do
        case $v in
            a) t=$(tps single "$RUN/record.sql") ;;
            b) t=$(tps dist "$RUN/record.sql") ;;
            c) t=$(tps dist "$RUN/insert.sql") ;;
        esac
        say "round $r, $v: $t tps"
        sum[$v]=$(echo "${sum[$v]} + ${t:-0}" | bc -l)
    done
done
mean() { echo "scale=1; ${sum[$1]} / $ROUNDS" | bc -l; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
a=$(mean a) b=$(mean b) c=$(mean c)


cat <<OUT

==== bench/citus: Citus 13.2.2, PostgreSQL 17.11, coordinator + 2 workers on $(nproc) cores ====
recording, pgbench -c $CLIENTS, ${DURATION} s x $ROUNDS rounds, interleaved:
  a  record_ai_call(), one server             $a tps
  b  record_ai_call(), distributed ai_call    $b tps   b/a $(ratio "$b" "$a")
  c  plain INSERT into a distributed table of ai_call's shape $c tps  b/c $(ratio "$b" "$c")
ai_usage_stats() over $CALLS calls, median of $REPEAT:
  by model (rollups):      one server $s_model ms, distributed $d_model ms, ratio $(ratio "$d_model" "$s_model")
  by api_key (ai_call):    one server $s_key ms, distributed $d_key ms, ratio $(ratio "$d_key" "$s_key")
  the same answers by api_key and project: $same
a tenant's ai_usage_stats() (its user's calls, 1.11), median of $REPEAT:
  by model (rollups):      one server $t_model ms, distributed $dt_model ms, ratio $(ratio "$dt_model" "$t_model")
  by api_key (its calls):  one server $t_key ms, distributed $dt_key ms, ratio $(ratio "$dt_key" "$t_key")
  the same answers: $tenant_same
ai_reprice() of $REPRICE_CALLS changed calls among $(( CALLS + REPRICE_CALLS )) (1.12), median of $REPEAT:
  one server $s_reprice ms, distributed $d_reprice ms, ratio $(ratio "$d_reprice" "$s_reprice")
  the same costs and stats after: $reprice_same
OUT
