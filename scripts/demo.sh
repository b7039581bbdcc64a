#!/usr/bin/env bash
# scripts/demo.sh: show aitrack working, from a fresh Debian 12 machine, as
# root: install the dependencies, build and install the extension, start a
# throwaway PostgreSQL 15 cluster, CREATE EXTENSION aitrack CASCADE (which
# brings btree_gist), load the prices of test/data/model_prices_sample.json
# (LiteLLM's format) with ai_load_prices(), record a few AI calls with
# record_ai_call() in both of its shapes, giving only the provider's response
# (no token counts, no cost: aitrack reads the usage object and prices the
# call), print the calls and ai_usage_stats() by model and as totals; stop
# the cluster.  Exits non-zero if any step fails.
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

PRICES=test/data/model_prices_sample.json

echo
echo "== CREATE EXTENSION aitrack CASCADE, and load $PRICES"
psql_demo -c 'CREATE EXTENSION aitrack CASCADE'
# The file's content travels as a psql variable (interpolated in a script,
# not in -c), so the server need not be able to read the checkout.
psql_demo -v prices="$(cat "$PRICES")" -f - <<'SQL'
SELECT model, action FROM ai_load_prices(:'prices'::jsonb);
SQL

echo
echo "== record four calls: the provider's response only, no tokens, no cost"
psql_demo -f - <<'SQL'
\pset footer off
\echo
\echo '-- OpenAI chat completion, 1536 of 1850 prompt tokens from the cache'
SELECT record_ai_call(
    modelname => 'gpt-4o',
    version   => '2024-08-06',
    prompt    => 'Translate the attached contract into French',
    response  => '{"id": "chatcmpl-AXq3", "object": "chat.completion",
                   "model": "gpt-4o-2024-08-06",
                   "choices": [{"index": 0, "finish_reason": "stop",
                                "message": {"role": "assistant", "content": "Contrat ..."}}],
                   "usage": {"prompt_tokens": 1850, "completion_tokens": 412,
                             "total_tokens": 2262,
                             "prompt_tokens_details": {"cached_tokens": 1536},
                             "completion_tokens_details": {"reasoning_tokens": 0}}}',
    duration_ms            => 3120,
    time_to_first_token_ms => 410,
    call_type              => 'translation',
    user_id                => '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01') AS call_id;
\echo
\echo '-- Anthropic message (the seed''s shape: metrics as jsonb), 2048 tokens read from the cache'
SELECT record_ai_call('claude-3-5-sonnet', '20241022',
    'Summarise this article',
    '{"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
      "model": "claude-3-5-sonnet-20241022", "stop_reason": "end_turn",
      "content": [{"type": "text", "text": "The article argues ..."}],
      "usage": {"input_tokens": 42, "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 2048, "output_tokens": 95}}',
    '{"duration_ms": 2100, "time_to_first_token_ms": 640}'::jsonb,
    'summary', '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01') AS call_id;
\echo
\echo '-- Gemini, with 300 thinking tokens (billed at the reasoning rate)'
SELECT record_ai_call('gemini-2.5-flash', 'latest',
    'Classify the sentiment of this review',
    '{"candidates": [{"content": {"role": "model", "parts": [{"text": "positive"}]},
                      "finishReason": "STOP"}],
      "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 80,
                        "thoughtsTokenCount": 300, "totalTokenCount": 500},
      "modelVersion": "gemini-2.5-flash"}',
    '{"duration_ms": 1480.6, "time_to_first_token_ms": 1210}'::jsonb,
    'classification') AS call_id;
\echo
\echo '-- a failed call to a model without a price'
SELECT record_ai_call('mistral-large', '2411', 'Extract the title',
    '{"object": "error", "type": "internal_error", "message": "Service unavailable"}',
    '{"duration_ms": 5100, "status": "error"}'::jsonb, 'metadata') AS call_id;
SQL

echo
echo "== the calls: tokens read from the responses, cost computed from the prices"
psql_demo -c "SELECT c.id, m.modelname, m.version, c.status,
                     c.input_tokens AS \"in\", c.cache_read_input_tokens AS cached,
                     c.output_tokens AS out, c.reasoning_tokens AS reas,
                     c.time_to_first_token_ms AS ttft_ms, c.cost_usd, c.cost_source
                FROM ai_call c JOIN ai_model m ON m.id = c.model_id
               ORDER BY c.id"

echo
echo "== usage by model: ai_usage_stats()"
psql_demo -c "SELECT modelname, version, calls, errors, input_tokens AS \"in\",
                     cache_read_input_tokens AS cached, output_tokens AS out,
                     cost_usd, unpriced_calls AS unpriced,
                     avg_time_to_first_token_ms AS avg_ttft_ms
                FROM ai_usage_stats()"

echo
echo "== one row of totals, every column: ai_usage_stats(group_by => '{}')"
psql_demo -c '\x on' -c "SELECT * FROM ai_usage_stats(group_by => '{}')"

echo
echo "demo: ok"
