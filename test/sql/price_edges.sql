-- The edges of 1.5's pricing that an attack review found (each was a
-- defect before): what ai_cost(price, call) takes as a call's row, the
-- provider of a call given its cost, the size of a price's rules, a bad
-- provider name in LiteLLM's file, long strings in messages, repricing to
-- a cost out of range, and an audio response whose cached audio is not
-- broken down.
CREATE EXTENSION IF NOT EXISTS aitrack;
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql
INSERT INTO ai_model_price (model, provider, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
                            input_audio_usd_per_mtok, web_search_medium_usd, web_search_high_usd, service_tiers)
VALUES ('edge', 'azure.ai.openai', 1, 10, 0.1, 40, 0.01, 0.05, '{"flex": {"input": 0.5, "output": 5}}');

-- ai_cost(price, call) reads each column as the type it must have: an
-- integer count of any width, text for the tier and size; any other type is
-- refused, never read as something it is not.
SELECT pg_temp.try($$SELECT ai_cost(ai_price_at('edge', 'v', now()), r)::text
                       FROM (SELECT 1000 AS input_tokens, 10 AS output_tokens, 5 AS service_tier) r$$, true);
SELECT pg_temp.try($$SELECT ai_cost(ai_price_at('edge', 'v', now()), r)::text
                       FROM (SELECT 1000 AS input_tokens, 10 AS output_tokens, 'flex'::name AS service_tier) r$$, true);
SELECT pg_temp.try($$SELECT ai_cost(ai_price_at('edge', 'v', now()), r)::text
                       FROM (SELECT 1000.5 AS input_tokens, 10 AS output_tokens) r$$, true);
-- A bigint beyond integer, or a negative count: no cost (as ai_cost(price, counts)).
SELECT ai_cost(ai_price_at('edge', 'v', now()), r) AS beyond_integer
  FROM (SELECT 4294967396::bigint AS input_tokens, 10 AS output_tokens) r;
SELECT ai_cost(ai_price_at('edge', 'v', now()), r) AS negative
  FROM (SELECT 1000 AS input_tokens, 10 AS output_tokens, -5 AS reasoning_tokens) r;
-- smallint and varchar are read; 'default' is the standard tier, as record_ai_call() takes it:
-- (1000 * 1 + 10 * 10) / 1e6 = 0.0011, and at flex (1000 * 0.5 + 10 * 5) / 1e6 = 0.00055.
SELECT ai_cost(ai_price_at('edge', 'v', now()), r) AS standard,
       ai_cost(ai_price_at('edge', 'v', now()), r) = (1000 * 1 + 10 * 10) / 1e6 AS ok
  FROM (SELECT 1000::smallint AS input_tokens, 10::bigint AS output_tokens, 'default'::varchar AS service_tier) r;
SELECT ai_cost(ai_price_at('edge', 'v', now()), r) AS flex,
       ai_cost(ai_price_at('edge', 'v', now()), r) = (1000 * 0.5 + 10 * 5) / 1e6 AS ok
  FROM (SELECT 1000 AS input_tokens, 10 AS output_tokens, 'flex' AS service_tier) r;
-- A search size it does not know (only a row made by hand has one): no cost.
SELECT ai_cost(ai_price_at('edge', 'v', now()), r) AS unknown_size
  FROM (SELECT 1000 AS input_tokens, 10 AS output_tokens, 2 AS web_search_requests,
               'HIGH' AS web_search_context_size) r;
SELECT ai_cost(ai_price_at('edge', 'v', now()), r) AS high,
       ai_cost(ai_price_at('edge', 'v', now()), r) = (1000 * 1 + 10 * 10) / 1e6 + 2 * 0.05 AS ok
  FROM (SELECT 1000 AS input_tokens, 10 AS output_tokens, 2 AS web_search_requests,
               'high' AS web_search_context_size) r;

-- The price's provider for a call priced from it; a call given its cost,
-- or without token counts, is not looked up for its provider alone (the
-- response's shape tells, or the caller says).
SELECT record_ai_call('edge', 'v', 'p', '{"object": "chat.completion", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}') AS id \gset
SELECT provider, cost_usd, cost_source FROM ai_call WHERE id = :id;
SELECT record_ai_call('edge', 'v', 'p', '{"object": "chat.completion", "usage": {"prompt_tokens": 1, "completion_tokens": 1}}',
                      cost_usd => 0.5) AS id \gset
SELECT provider, cost_usd, cost_source FROM ai_call WHERE id = :id;
SELECT record_ai_call('edge', 'v', 'p', '{"object": "chat.completion"}') AS id \gset
SELECT provider, cost_usd, cost_source FROM ai_call WHERE id = :id;
-- Without a price: from the shape.
SELECT record_ai_call('no-price', 'v', 'p', '{"object": "chat.completion"}', cost_usd => 0.5) AS id \gset
SELECT provider FROM ai_call WHERE id = :id;

-- An audio chat response whose cached tokens are not broken down by
-- modality keeps its cache reads (its audio is priced as uncached):
-- (100 - 80 - 50 ... does not fit: the audio breakdown goes, the cache
-- reads stay) (20 * 1 + 80 * 0.1 + 10 * 10) / 1e6.
SELECT record_ai_call('edge', 'v', 'p', '{"object": "chat.completion", "usage": {"prompt_tokens": 100,
    "completion_tokens": 10, "prompt_tokens_details": {"cached_tokens": 80, "audio_tokens": 50}}}') AS id \gset
SELECT input_tokens, cache_read_input_tokens, input_audio_tokens, cost_usd,
       cost_usd = (20 * 1 + 80 * 0.1 + 10 * 10) / 1e6 AS ok
  FROM ai_call WHERE id = :id;
-- When the audio fits, it is priced as audio: (40 * 1 + 10 * 0.1 + 50 * 40 + 10 * 10) / 1e6.
SELECT record_ai_call('edge', 'v', 'p', '{"object": "chat.completion", "usage": {"prompt_tokens": 100,
    "completion_tokens": 10, "prompt_tokens_details": {"cached_tokens": 10, "audio_tokens": 50}}}') AS id \gset
SELECT input_tokens, cache_read_input_tokens, input_audio_tokens, cost_usd,
       cost_usd = (40 * 1 + 10 * 0.1 + 50 * 40 + 10 * 10) / 1e6 AS ok
  FROM ai_call WHERE id = :id;

-- At most 64 context tiers.
SELECT pg_temp.try(format($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                            VALUES ('edge-many', 1, 2, %L)$$,
                          (SELECT jsonb_agg(jsonb_build_object('above_tokens', i, 'input', 1)) FROM generate_series(1, 65) i)));
SELECT pg_temp.try(format($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                            VALUES ('edge-many', 1, 2, %L)$$,
                          (SELECT jsonb_agg(jsonb_build_object('above_tokens', i, 'input', 1)) FROM generate_series(1, 64) i)));

-- A litellm_provider aitrack cannot store as a provider: the price is
-- loaded without one, and the detail says so.
SELECT model, action, detail FROM ai_load_prices('{"edge-provider": {"litellm_provider": "_private",
    "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}');
SELECT provider IS NULL AS no_provider FROM ai_model_price WHERE model = 'edge-provider';

-- Long strings are cut short in messages, with their length in characters.
SELECT pg_temp.try(format($$SELECT record_ai_call('edge', 'v', 'p', '{}', service_tier => %L)$$, repeat('é', 70)));
SELECT pg_temp.try(format($$SELECT record_ai_call('edge', 'v', 'p', '{}', provider => %L)$$, repeat('a', 65)));

-- Repricing to a cost above 1e9 USD says so, and changes nothing.
SELECT record_ai_call('edge-dear', 'v', 'p', '{}', input_tokens => 2000000000, output_tokens => 0) AS id \gset
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok) VALUES ('edge-dear', 1000000, 1);
SELECT calls_changed, cost_after_usd > 1e9 AS beyond FROM ai_reprice(NULL, NULL);
SELECT pg_temp.try($$SELECT * FROM ai_reprice(NULL, NULL, dry_run => false)$$);
SELECT cost_usd, cost_source FROM ai_call WHERE id = :id;

DROP FUNCTION pg_temp.try(text, boolean);
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
