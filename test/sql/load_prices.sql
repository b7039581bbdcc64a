-- ai_load_prices() under 1.5: every rule of LiteLLM's format, read from
-- test/data/litellm_sample.json (a file in LiteLLM's format written for the
-- tests from the providers' published rates), and calls priced at what was
-- loaded, each against its arithmetic written here by hand.
CREATE EXTENSION IF NOT EXISTS aitrack;
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql
CREATE TEMP TABLE sample AS
SELECT pg_read_file(:'abs_srcdir' || '/data/litellm_sample.json')::jsonb AS prices;

-- What it did with each entry, and why it skipped those it skipped.
SELECT model, action, detail FROM ai_load_prices((SELECT prices FROM sample), '2025-01-01');

-- What it stored for three of them: context tiers (Claude, Gemini), cache
-- writes by duration and web search fees (Claude), service tiers (GPT-5,
-- and Gemini's batch tier with its own context tier), the provider.
\x on
SELECT model, provider, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
       cache_creation_usd_per_mtok, cache_creation_1h_usd_per_mtok, web_search_medium_usd,
       request_usd, tiers, service_tiers
  FROM ai_model_price WHERE model IN ('claude-sonnet-4-5', 'gpt-5', 'gemini-2.5-pro', 'perplexity/sonar',
                                      'dashscope/qwen-plus-2025-07-28', 'gpt-realtime')
 ORDER BY model;
\x off

-- Loading the same file again changes nothing.
SELECT action, count(*) FROM ai_load_prices((SELECT prices FROM sample), '2025-06-01') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS prices FROM ai_model_price;

-- A changed entry (GPT-5's flex input rate) closes the price in force at
-- valid_from and opens the new one there; the other rules come along.
SELECT model, action FROM ai_load_prices(
    jsonb_build_object('gpt-5', (SELECT prices -> 'gpt-5' FROM sample)
                                || '{"input_cost_per_token_flex": 7e-07}'), '2026-01-01');
SELECT valid_from, valid_until, service_tiers -> 'flex' ->> 'input' AS flex_input
  FROM ai_model_price WHERE model = 'gpt-5' ORDER BY valid_from;

-- Calls priced at the loaded rules.
CREATE TEMP TABLE priced (name text, id bigint, expected numeric);
-- Claude Sonnet 4.5, 250,000 input tokens (150,000 + 100,000 cache reads):
-- above 200k, the whole call at the tier.
INSERT INTO priced VALUES ('claude above 200k', record_ai_call('claude-sonnet-4-5', '20250929', 'p',
    '{"type": "message", "usage": {"input_tokens": 150000, "cache_read_input_tokens": 100000, "output_tokens": 2000}}'),
    (150000 * 6 + 100000 * 0.6 + 2000 * 22.5) / 1e6);
-- Both cache write durations and two web searches, below 200k.
INSERT INTO priced VALUES ('claude 5m + 1h + search', record_ai_call('claude-sonnet-4-5', '20250929', 'p',
    '{"type": "message", "usage": {"input_tokens": 1000, "cache_creation_input_tokens": 10000,
      "cache_creation": {"ephemeral_5m_input_tokens": 6000, "ephemeral_1h_input_tokens": 4000},
      "output_tokens": 500, "server_tool_use": {"web_search_requests": 2}}}'),
    (1000 * 3 + 6000 * 3.75 + 4000 * 6 + 500 * 15) / 1e6 + 2 * 0.01);
-- GPT-5 at flex (the old price: the call is dated before 2026), from the response.
INSERT INTO priced VALUES ('gpt-5 flex', (SELECT record_ai_calls('[{"modelname": "gpt-5", "version": "2025-08-07",
    "prompt": "p", "created_at": "2025-09-01T00:00:00Z", "response": {"object": "chat.completion",
    "service_tier": "flex", "usage": {"prompt_tokens": 10000, "completion_tokens": 1000,
    "prompt_tokens_details": {"cached_tokens": 4000}}}}]')),
    (6000 * 0.625 + 4000 * 0.0625 + 1000 * 5) / 1e6);
-- The same at the new price.
INSERT INTO priced VALUES ('gpt-5 flex, new price', record_ai_call('gpt-5', '2025-08-07', 'p',
    '{"object": "chat.completion", "service_tier": "flex", "usage": {"prompt_tokens": 10000,
      "completion_tokens": 1000, "prompt_tokens_details": {"cached_tokens": 4000}}}'),
    (6000 * 0.7 + 4000 * 0.0625 + 1000 * 5) / 1e6);
-- Gemini 2.5 Pro in the batch tier, above 200k: the batch tier's own context tier.
INSERT INTO priced VALUES ('gemini batch above 200k', record_ai_call('gemini-2.5-pro', 'latest', 'p',
    '{"usageMetadata": {"promptTokenCount": 300000, "candidatesTokenCount": 1500}}', service_tier => 'batch'),
    (300000 * 1.25 + 1500 * 7.5) / 1e6);
-- Qwen Plus from tiered_pricing: 256,000 tokens stays in the first range, 256,001 moves.
INSERT INTO priced VALUES ('qwen 256000', record_ai_call('dashscope/qwen-plus-2025-07-28', 'latest', 'p', '{}',
    input_tokens => 256000, output_tokens => 1000), (256000 * 0.4 + 1000 * 1.2) / 1e6);
INSERT INTO priced VALUES ('qwen 256001', record_ai_call('dashscope/qwen-plus-2025-07-28', 'latest', 'p', '{}',
    input_tokens => 256001, output_tokens => 1000), (256001 * 1.2 + 1000 * 3.6) / 1e6);
-- No _batches keys in the entry: a batch call costs half the standard
-- rates, the context tier's too.
INSERT INTO priced VALUES ('qwen 256001 batch', record_ai_call('dashscope/qwen-plus-2025-07-28', 'latest', 'p', '{}',
    input_tokens => 256001, output_tokens => 1000, service_tier => 'batch'), (256001 * 0.6 + 1000 * 1.8) / 1e6);
-- Perplexity's per-request fee.
INSERT INTO priced VALUES ('sonar request fee', record_ai_call('perplexity/sonar', 'latest', 'p', '{}',
    input_tokens => 100, output_tokens => 200), (100 * 1 + 200 * 1) / 1e6 + 0.005);
-- gpt-realtime: cached and uncached audio, and text.
INSERT INTO priced VALUES ('realtime audio', record_ai_call('gpt-realtime', '2025-08-28', 'p',
    '{"type": "response", "usage": {"input_tokens": 3000, "output_tokens": 500,
      "input_token_details": {"cached_tokens": 1000, "text_tokens": 1000, "audio_tokens": 2000,
                              "cached_tokens_details": {"text_tokens": 200, "audio_tokens": 800}},
      "output_token_details": {"text_tokens": 100, "audio_tokens": 400}}}'),
    (800 * 4 + 200 * 0.4 + 800 * 0.4 + 1200 * 32 + 100 * 16 + 400 * 64) / 1e6);
SELECT p.name, c.cost_usd, p.expected, c.cost_usd = p.expected AS ok, c.provider, c.service_tier
  FROM priced p JOIN ai_call c ON c.id = p.id ORDER BY p.id;

-- Rules that cannot be read are errors naming the key; a rule written by
-- hand is checked the same way.
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"acme": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                                                            "input_cost_per_token_above_200k_tokens": "2e-06"}}')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"acme": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                                                            "output_cost_per_token_flex": -1e-06}}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('acme', 1, 2, '{"flex": {}}')$$);
-- Tiers in any order are read sorted.
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
VALUES ('acme-tiers', 1, 2, '[{"above_tokens": 2000, "input": 3}, {"above_tokens": 1000, "input": 2}]');
SELECT record_ai_call('acme-tiers', 'v', 'p', '{}', input_tokens => 1500, output_tokens => 0) AS id \gset
SELECT cost_usd, cost_usd = 1500 * 2 / 1e6 AS ok FROM ai_call WHERE id = :id;
SELECT record_ai_call('acme-tiers', 'v', 'p', '{}', input_tokens => 2500, output_tokens => 0) AS id \gset
SELECT cost_usd, cost_usd = 2500 * 3 / 1e6 AS ok FROM ai_call WHERE id = :id;

DROP TABLE sample, priced;
DROP FUNCTION pg_temp.try(text, boolean);
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
