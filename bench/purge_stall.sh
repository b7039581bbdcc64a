#!/usr/bin/env bash
# bench/purge_stall.sh: does retention stall ingest?  On a throwaway cluster,
# load CALLS calls (default 10M) spread over 90 days, then run
# CALL ai_purge_calls(now() - 60 days) (a third of the table) while 4
# pgbench clients record calls with record_ai_call for SECONDS (default 90),
# and print the record_ai_call latency distribution from pgbench's
# per-transaction log (the issue's bar: no stall over 1 s).
#
#   bash bench/purge_stall.sh            # as root
#   CALLS=1000000 SECONDS_RUN=30 bash bench/purge_stall.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/cluster.sh

CALLS=${CALLS:-10000000}
SECONDS_RUN=${SECONDS_RUN:-90}

bash scripts/install-deps.sh
build_install
trap 'cluster_stop; run_dir_cleanup' EXIT
cluster_start purge
as_pg psql -qX -c "ALTER SYSTEM SET shared_buffers = '2GB'" \
              -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
              -c "ALTER SYSTEM SET synchronous_commit = off" >/dev/null
as_pg pg_ctl -D "$CLUSTER_DIR/data" -w restart -l "$CLUSTER_DIR/server.log" >/dev/null
WORK=$CLUSTER_DIR/work
mkdir -p "$WORK" && chown postgres "$WORK"

log "loading $CALLS calls over 90 days"
as_pg psql -qX -v ON_ERROR_STOP=1 -v calls="$CALLS" <<'SQL'
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model (modelname, version) SELECT 'model-' || i, 'v1' FROM generate_series(1, 8) i;
\timing on
INSERT INTO ai_call (created_at, model_id, prompt, response, input_tokens, output_tokens,
                     cost_usd, duration_ms, call_type, status, user_id, cost_source)
SELECT now() - interval '90 days' + (i::float8 / :calls) * interval '90 days', 1 + i % 8,
       'prompt ' || i, '{}', 100 + i % 500, 10 + i % 50, 0.0001 * (i % 7),
       50 + (i::bigint * 7919) % 3000, (ARRAY['chat', 'embed', 'tool', 'summary'])[1 + (i / 8) % 4],
       CASE WHEN i % 20 = 0 THEN 'error' ELSE 'success' END,
       ('00000000-0000-0000-0000-' || lpad((i % 100)::text, 12, '0'))::uuid, 'provided'
  FROM generate_series(1, :calls) i;
SELECT ai_rollup_compact();
VACUUM ANALYZE ai_call;
SQL

cat >"$WORK/record.sql" <<'SQL'
SELECT record_ai_call('model-1', 'v1', 'p', '{}', input_tokens => 10, output_tokens => 2,
                      cost_usd => 0.001, duration_ms => 100);
SQL
chown postgres "$WORK/record.sql"

log "recording for $SECONDS_RUN s with 4 clients; purging after 10 s"
(cd "$WORK" && as_pg pgbench -n -M prepared -c 4 -j 2 -T "$SECONDS_RUN" -l \
    --log-prefix="$WORK/txn" -f "$WORK/record.sql" postgres >"$WORK/pgbench.out" 2>&1) &
pgbench_pid=$!
sleep 10
start=$(date +%s.%N)
as_pg psql -qX -c "CALL ai_purge_calls(now() - interval '60 days', 10000)"
end=$(date +%s.%N)
wait "$pgbench_pid"

echo
echo "purge:          $(echo "$end - $start" | bc) s, while pgbench ran"
grep -E "^(tps|latency average)" "$WORK/pgbench.out" | sed 's/^/pgbench:        /'
# pgbench -l: client, transaction, latency in us, ...
cat "$WORK"/txn* | awk '{print $3}' | sort -n |
    awk '{a[NR] = $1} END {printf "record_ai_call: %d calls, p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms (target: max < 1000 ms)\n",
                             NR, a[int(NR * 0.5)] / 1000, a[int(NR * 0.99)] / 1000, a[int(NR * 0.999)] / 1000, a[NR] / 1000}'
as_pg psql -qXAt -c "SELECT 'left in ai_call: ' || count(*) FROM ai_call" \
               -c "SELECT 'kept in ai_usage_purged: ' || sum(calls) FROM ai_usage_purged"
