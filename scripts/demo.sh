#!/usr/bin/env bash
# scripts/demo.sh: show aitrack working, from a fresh Debian 12 machine, as
# root: install the dependencies, build and install the extension, start a
# throwaway PostgreSQL 15 cluster, CREATE EXTENSION aitrack, record a few AI
# calls with record_ai_call() in both of its shapes, print ai_usage_stats()
# by model, by day, user and status, and as totals; stop the cluster.
# Exits non-zero if any step fails.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/cluster.sh

bash scripts/install-deps.sh
build_install

trap 'cluster_stop; run_dir_cleanup' EXIT
cluster_start demo

psql_demo() {
    as_pg psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres "$@"
}

echo
echo "== CREATE EXTENSION aitrack, and record six calls"
psql_demo -c 'CREATE EXTENSION aitrack'
psql_demo -f - <<'SQL'
\pset footer off
\echo
\echo '-- explicit arguments, named notation'
SELECT record_ai_call(
    modelname     => 'gpt-4',
    version       => '0125',
    prompt        => 'Translate "good morning" into French',
    response      => '{"text": "bonjour"}',
    input_tokens  => 12,
    output_tokens => 3,
    cost_usd      => 0.00045,
    duration_ms   => 420,
    call_type     => 'translation',
    user_id       => '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01') AS call_id;
SELECT record_ai_call(
    modelname        => 'gpt-4',
    version          => '0125',
    prompt           => 'Summarise this article',
    response         => '{"text": "An article about databases."}',
    input_tokens     => 900,
    reasoning_tokens => 120,
    output_tokens    => 60,
    cost_usd         => 0.0321,
    duration_ms      => 2300,
    call_type        => 'summary',
    extra            => '{"temperature": 0.2}') AS call_id;
SELECT record_ai_call(
    modelname    => 'claude-3-sonnet',
    version      => '20240229',
    prompt       => 'Extract the title',
    response     => '{"error": "upstream returned 500"}',
    input_tokens => 300,
    duration_ms  => 5100,
    call_type    => 'metadata',
    status       => 'error') AS call_id;
\echo
\echo '-- the seed''s shape: metrics as one jsonb object'
SELECT record_ai_call('claude-3-sonnet', '20240229',
    'Extract the title',
    '{"text": "Hello, World"}',
    '{"input_tokens": 300, "output_tokens": 8, "cost_usd": 0.0011,
      "duration_ms": 950, "status": "success", "extra": {"retry": 1}}'::jsonb,
    'metadata',
    '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01') AS call_id;
SELECT record_ai_call('claude-3-sonnet', '20240229',
    'Classify the sentiment',
    '{"label": "positive"}',
    metrics   => '{"input_tokens": 40, "output_tokens": 1, "cost_usd": 0.0002, "duration_ms": 310}',
    call_type => 'classification') AS call_id;
SELECT record_ai_call('gpt-4o-mini', '2024-07-18',
    'Say hi', '{"text": "hi"}',
    '{"input_tokens": 3, "output_tokens": 1, "cost_usd": 0.000001, "duration_ms": 95}'::jsonb) AS call_id;
SQL

echo
echo "== the calls"
psql_demo -c "SELECT c.id, m.modelname, m.version, c.call_type, c.status,
                     c.input_tokens AS \"in\", c.reasoning_tokens AS reas,
                     c.output_tokens AS out, c.cost_usd, c.duration_ms AS ms
                FROM ai_call c JOIN ai_model m ON m.id = c.model_id
               ORDER BY c.id"

echo
echo "== usage by model: ai_usage_stats()"
psql_demo -c "SELECT modelname, version, calls, errors, input_tokens AS \"in\",
                     output_tokens AS out, cost_usd, avg_duration_ms AS avg_ms,
                     p95_duration_ms AS p95_ms
                FROM ai_usage_stats()"

echo
echo "== cost per day, user and status: ai_usage_stats(group_by => '{day,user,status}')"
psql_demo -c "SELECT bucket::date AS day, user_id, status, calls, cost_usd
                FROM ai_usage_stats(group_by => '{day,user,status}')"

echo
echo "== one row of totals, every column: ai_usage_stats(group_by => '{}')"
psql_demo -c '\x on' -c "SELECT * FROM ai_usage_stats(group_by => '{}')"

echo
echo "demo: ok"
