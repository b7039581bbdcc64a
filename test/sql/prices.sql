-- Prices: ai_load_prices() with a LiteLLM-style price map, ai_model_price
-- and its no-overlap rule, ai_price_at() (which price applies to a call),
-- ai_cost() and the cost record_ai_call() computes for a call recorded
-- without cost_usd, and the 1.1 checks on the new token counts.
--
-- Rates, in USD per million tokens, from test/data/model_prices_sample.json:
--
--   model                         input  output  cache read  cache write  reasoning
--   claude-3-5-haiku-20241022       0.8       4        0.08            1          -
--   claude-3-5-sonnet-20241022        3      15         0.3         3.75          -
--   gemini-1.5-pro                 1.25       5           -            -          -
--   gemini-2.5-flash               0.15     0.6      0.0375            -        3.5
--   gpt-4o                            5      15           -            -          -
--   gpt-4o-2024-08-06               2.5      10        1.25            -          -
--   gpt-4o-mini                    0.15     0.6       0.075            -          -
--   o3-mini                         1.1     4.4        0.55            -          -
--
-- ("-": not set; those tokens cost the input rate, or the output rate.)
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
\getenv abs_srcdir PG_ABS_SRCDIR
CREATE TEMP TABLE sample AS
SELECT pg_read_file(:'abs_srcdir' || '/data/model_prices_sample.json')::jsonb AS prices;

-- pg_temp.try(), shared by the tests that show error messages.
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql

--
-- Loading: every model with token prices is added, valid from the
-- beginning of time (calls recorded before the first load can be
-- repriced); an image model without token prices (dall-e-3) and LiteLLM's
-- sample_spec are skipped.
--
SELECT * FROM ai_load_prices((SELECT prices FROM sample));
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok,
       cache_read_usd_per_mtok, cache_creation_usd_per_mtok, reasoning_usd_per_mtok,
       source, extra
  FROM ai_model_price ORDER BY model;
-- Per token in the file, per million tokens in the table, exactly; the keys
-- we do not use (context sizes, batch and above-128k prices, supports_*)
-- are left out.
SELECT count(*) AS rows_equal_to_file
  FROM ai_model_price p, sample s
 WHERE p.input_usd_per_mtok = (s.prices -> p.model ->> 'input_cost_per_token')::numeric * 1000000
   AND p.output_usd_per_mtok = (s.prices -> p.model ->> 'output_cost_per_token')::numeric * 1000000
   AND p.cache_read_usd_per_mtok IS NOT DISTINCT FROM
       (s.prices -> p.model ->> 'cache_read_input_token_cost')::numeric * 1000000
   AND p.cache_creation_usd_per_mtok IS NOT DISTINCT FROM
       (s.prices -> p.model ->> 'cache_creation_input_token_cost')::numeric * 1000000
   AND p.reasoning_usd_per_mtok IS NOT DISTINCT FROM
       (s.prices -> p.model ->> 'output_cost_per_reasoning_token')::numeric * 1000000;

-- Loading the same prices again changes nothing.
SELECT * FROM ai_load_prices((SELECT prices FROM sample));
-- Nor does the same price written another way, or a rate given as null.
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.000005,
                                          "output_cost_per_token": 0.0000150,
                                          "cache_read_input_token_cost": null}}');
SELECT count(*) AS prices FROM ai_model_price;

-- A changed price: the price in force is closed at valid_from and the new
-- one starts there (valid_from inclusive, valid_until exclusive).
SELECT * FROM ai_load_prices(jsonb_set((SELECT prices FROM sample),
                                       '{gpt-4o-mini,output_cost_per_token}', '5e-07'),
                             valid_from => '2025-01-01 00:00+00', source => 'price change 2025');
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok,
       cache_read_usd_per_mtok, source
  FROM ai_model_price WHERE model = 'gpt-4o-mini' ORDER BY valid_from;

--
-- Never two prices for one model at one moment: the exclusion constraint
-- refuses an overlapping price written by hand.
--
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o-mini', '2024-06-01', '2024-09-01', 1, 1);
INSERT INTO ai_model_price (model, valid_from, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('o3-mini', '2030-01-01', 1, 1);
-- Ranges that only touch do not overlap; other models do not count.
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('acme-hand', '2024-01-01', '2025-01-01', 1, 2),
       ('acme-hand', '2025-01-01', 'infinity', 3, 4),
       ('acme-other', '2024-06-01', '2024-09-01', 1, 1);
-- An empty or backwards range is refused too (terse: the failing row
-- would show created_at).
\set VERBOSITY terse
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('acme-empty', '2025-01-01', '2025-01-01', 1, 1);
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('acme-empty', '2025-01-01', '2024-01-01', 1, 1);
\set VERBOSITY default
SELECT model, valid_from, valid_until FROM ai_model_price WHERE model LIKE 'acme-%' ORDER BY 1, 2;
DELETE FROM ai_model_price WHERE model LIKE 'acme-%';

--
-- Which price applies: a price named modelname || '-' || version wins over
-- one named modelname; valid_from inclusive, valid_until exclusive.
--
SELECT a.modelname, a.version, a.at, (p).model, (p).valid_from, (p).valid_until,
       (p).input_usd_per_mtok, (p).output_usd_per_mtok
  FROM (VALUES ('gpt-4o', '2024-08-06', '2026-01-01 00:00+00'::timestamptz),
               ('gpt-4o', '2024-05-13', '2026-01-01 00:00+00'),
               ('gpt-4o', '2024-11-20', '2026-01-01 00:00+00'),
               ('gpt-4o-2024-08-06', 'latest', '2026-01-01 00:00+00'),
               ('gpt-4o-mini', '2024-07-18', '-infinity'),
               ('gpt-4o-mini', '2024-07-18', '2024-12-31 23:59:59.999999+00'),
               ('gpt-4o-mini', '2024-07-18', '2025-01-01 00:00+00'),
               ('gpt-4o-mini', '2024-07-18', '2026-01-01 00:00+00'),
               ('claude-3-5-sonnet', '20241022', '2026-01-01 00:00+00'),
               ('claude-3-5-sonnet', '20240620', '2026-01-01 00:00+00'),
               ('GPT-4o', '2024-08-06', '2026-01-01 00:00+00'),
               ('gpt-4', '0613', '2026-01-01 00:00+00')) AS a(modelname, version, at),
       LATERAL (SELECT ai_price_at(a.modelname, a.version, a.at) AS p) AS x
 ORDER BY a.modelname, a.version, a.at;
SELECT ai_price_at(NULL, '2024-08-06', now()) IS NULL AS null_modelname,
       ai_price_at('gpt-4o', NULL, now()) IS NULL AS null_version,
       ai_price_at('gpt-4o', '2024-08-06', NULL) IS NULL AS null_time;

-- The same rule when recording: 1000 input and 100 output tokens of
--   gpt-4o 2024-08-06 (gpt-4o-2024-08-06): 1000 * 2.5 + 100 * 10 = 3500 per million = 0.0035
--   gpt-4o 2024-05-13 (gpt-4o):            1000 * 5   + 100 * 15 = 6500 per million = 0.0065
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 1000, output_tokens => 100) AS id;
SELECT record_ai_call('gpt-4o', '2024-05-13', 'p', '{}', input_tokens => 1000, output_tokens => 100) AS id;
SELECT c.id, m.modelname, m.version, c.cost_usd, c.cost_source,
       c.cost_usd = CASE c.id WHEN 1 THEN 0.0035 WHEN 2 THEN 0.0065 END AS as_computed_by_hand
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id WHERE c.id IN (1, 2) ORDER BY c.id;

--
-- The cost formula.  Cache tokens are part of input_tokens and are priced
-- at the cache rate only, not again at the input rate; reasoning tokens are
-- part of output_tokens and are priced at the reasoning rate (the output
-- rate when there is none), not on top of it.
--
CREATE TEMP VIEW call_cost AS
SELECT c.id, m.modelname, m.version, c.input_tokens, c.cache_read_input_tokens,
       c.cache_creation_input_tokens, c.output_tokens, c.reasoning_tokens,
       c.cost_usd, c.cost_source
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id;

-- Cache read, gpt-4o 2024-08-06: 10000 input of which 8000 cached, 500 output:
--   (10000 - 8000) * 2.5 + 8000 * 1.25 + 500 * 10 = 5000 + 10000 + 5000
--   = 20000 per million = 0.02
--   (counting the cached tokens twice would give
--    10000 * 2.5 + 8000 * 1.25 + 500 * 10 = 40000 per million = 0.04)
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 10000,
                      cache_read_input_tokens => 8000, output_tokens => 500) AS id;
-- The same tokens of gpt-4o 2024-05-13, which has no cache read rate: the
-- cached tokens cost the input rate.
--   10000 * 5 + 500 * 15 = 50000 + 7500 = 57500 per million = 0.0575
SELECT record_ai_call('gpt-4o', '2024-05-13', 'p', '{}', input_tokens => 10000,
                      cache_read_input_tokens => 8000, output_tokens => 500) AS id;
-- Reasoning, o3-mini (no reasoning rate): 100 input, 1000 output of which
-- 800 reasoning:
--   100 * 1.1 + 1000 * 4.4 = 110 + 4400 = 4510 per million = 0.00451
--   (reasoning on top of output would give 4510 + 800 * 4.4 = 8030 per million)
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', '{}', input_tokens => 100,
                      output_tokens => 1000, reasoning_tokens => 800) AS id;
-- Reasoning, gemini-2.5-flash (reasoning rate 3.5): the same tokens:
--   100 * 0.15 + (1000 - 800) * 0.6 + 800 * 3.5 = 15 + 120 + 2800
--   = 2935 per million = 0.002935
--   (all output at the output rate and reasoning again would give
--    15 + 600 + 2800 = 3415 per million)
SELECT record_ai_call('gemini-2.5-flash', 'stable', 'p', '{}', input_tokens => 100,
                      output_tokens => 1000, reasoning_tokens => 800) AS id;
-- Cache creation, claude-3-5-sonnet 20241022: 5000 input of which 4000
-- written to the cache, 100 output:
--   (5000 - 4000) * 3 + 4000 * 3.75 + 100 * 15 = 3000 + 15000 + 1500
--   = 19500 per million = 0.0195
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}', input_tokens => 5000,
                      cache_creation_input_tokens => 4000, cache_read_input_tokens => 0,
                      output_tokens => 100) AS id;
-- Cache creation without a cache creation rate (gpt-4o-2024-08-06): the
-- input rate.  1000 input of which 600 written, 0 output:
--   1000 * 2.5 = 2500 per million = 0.0025
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 1000,
                      cache_creation_input_tokens => 600, output_tokens => 0) AS id;
-- Everything at once, claude-3-5-haiku 20241022: 10000 input (6000 cache
-- read, 3000 cache write), 2000 output (500 reasoning, at the output rate):
--   (10000 - 6000 - 3000) * 0.8 + 6000 * 0.08 + 3000 * 1 + 2000 * 4
--   = 800 + 480 + 3000 + 8000 = 12280 per million = 0.01228
SELECT record_ai_call('claude-3-5-haiku', '20241022', 'p', '{}', input_tokens => 10000,
                      cache_read_input_tokens => 6000, cache_creation_input_tokens => 3000,
                      output_tokens => 2000, reasoning_tokens => 500) AS id;
SELECT * FROM call_cost WHERE id BETWEEN 3 AND 9 ORDER BY id;
SELECT c.id, c.cost_usd = h.cost AS as_computed_by_hand,
       c.cost_usd = ai_cost(ai_price_at(c.modelname, c.version, now()), c.input_tokens,
                            c.cache_read_input_tokens, c.cache_creation_input_tokens,
                            c.output_tokens, c.reasoning_tokens) AS same_as_ai_cost
  FROM call_cost c
  JOIN (VALUES (3, 0.02), (4, 0.0575), (5, 0.00451), (6, 0.002935), (7, 0.0195),
               (8, 0.0025), (9, 0.01228)) AS h(id, cost) ON h.id = c.id
 ORDER BY c.id;

--
-- No price, no cost: NULL and 'unknown', never 0.  A cost given by the
-- caller always wins.
--
-- A model without a price.
SELECT record_ai_call('acme-unpriced', 'v1', 'p', '{}', input_tokens => 100, output_tokens => 10) AS id;
-- A given cost, even where a price exists (computed it would be 0.0035), or
-- is 0, or the model has no price.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 1000,
                      output_tokens => 100, cost_usd => 0.5) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 1000,
                      output_tokens => 100, cost_usd => 0) AS id;
SELECT record_ai_call('acme-unpriced', 'v1', 'p', '{}', cost_usd => 0.25) AS id;
-- No tokens at all costs 0, computed.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 0, output_tokens => 0) AS id;
-- Input known but output not, or the reverse: unknown.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 1000) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', output_tokens => 100,
                      reasoning_tokens => 10) AS id;
-- No tokens and no cost: unknown.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}') AS id;
SELECT * FROM call_cost WHERE id BETWEEN 10 AND 17 ORDER BY id;

--
-- A price change between calls: calls keep the cost of the price in force
-- when they were recorded; later calls get the new price.
--   before: 1000 * 1 + 1000 * 2 = 3000 per million = 0.003
--   after:  1000 * 2 + 1000 * 4 = 6000 per million = 0.006
--
SELECT * FROM ai_load_prices('{"acme-chat": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}');
SELECT record_ai_call('acme-chat', 'v1', 'before 1', '{}', input_tokens => 1000, output_tokens => 1000) AS id;
SELECT record_ai_call('acme-chat', 'v1', 'before 2', '{}', input_tokens => 1000, output_tokens => 1000) AS id;
-- No valid_from: the new price starts now, at the start of this statement's
-- transaction, after the calls above.
SELECT * FROM ai_load_prices('{"acme-chat": {"input_cost_per_token": 2e-06, "output_cost_per_token": 4e-06}}');
SELECT record_ai_call('acme-chat', 'v1', 'after 1', '{}', input_tokens => 1000, output_tokens => 1000) AS id;
SELECT record_ai_call('acme-chat', 'v1', 'after 2', '{}', input_tokens => 1000, output_tokens => 1000) AS id;
SELECT input_usd_per_mtok, output_usd_per_mtok, valid_from = '-infinity' AS from_the_start,
       valid_until = 'infinity' AS open_ended
  FROM ai_model_price WHERE model = 'acme-chat' ORDER BY valid_from;
SELECT (SELECT valid_until FROM ai_model_price WHERE model = 'acme-chat' AND valid_from = '-infinity')
     = (SELECT valid_from FROM ai_model_price WHERE model = 'acme-chat' AND valid_until = 'infinity')
       AS new_starts_where_old_ends;
SELECT c.id, c.prompt, c.cost_usd, c.cost_source,
       c.created_at < p.valid_from AS before_the_change,
       c.cost_usd = ai_cost(ai_price_at('acme-chat', 'v1', c.created_at), c.input_tokens,
                            c.cache_read_input_tokens, c.cache_creation_input_tokens,
                            c.output_tokens, c.reasoning_tokens) AS same_as_price_at_call_time
  FROM ai_call c, ai_model_price p
 WHERE c.model_id = (SELECT id FROM ai_model WHERE modelname = 'acme-chat')
   AND p.model = 'acme-chat' AND p.valid_until = 'infinity'
 ORDER BY c.id;

--
-- ai_cost() itself.
--
CREATE TEMP TABLE price AS
SELECT ai_price_at('gpt-4o', '2024-08-06', '2026-01-01 00:00+00') AS p;
SELECT ai_cost(p, 100, NULL, NULL, 10, NULL) AS no_cache_no_reasoning,  -- 250 + 100 = 350 per million
       ai_cost(p, 100, 100, 0, 10, 10) AS all_cached_all_reasoning,    -- 125 + 100 = 225 per million
       ai_cost(p, 0, 0, 0, 0, 0) AS nothing
  FROM price;
SELECT ai_cost(NULL, 100, 0, 0, 10, 0) IS NULL AS null_price,
       ai_cost(p, NULL, 0, 0, 10, 0) IS NULL AS null_input,
       ai_cost(p, 100, 0, 0, NULL, 0) IS NULL AS null_output,
       ai_cost(p, 100, 101, 0, 10, 0) IS NULL AS cache_read_beyond_input,
       ai_cost(p, 100, 0, 101, 10, 0) IS NULL AS cache_creation_beyond_input,
       ai_cost(p, 100, 60, 50, 10, 0) IS NULL AS cache_together_beyond_input,
       ai_cost(p, 100, 0, 0, 10, 11) IS NULL AS reasoning_beyond_output
  FROM price;
-- A model without a price has no price at any time.
SELECT ai_cost(ai_price_at('acme-unpriced', 'v1', now()), 100, 0, 0, 10, 0) IS NULL AS unpriced;

--
-- Bad input to ai_load_prices().  An error loads nothing at all.
--
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('[]')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('"gpt-4o"')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices(NULL)$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"aaa-first": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
                                                    "acme-bad": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                                                                 "cache_read_input_token_cost": "1e-07"}}')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"acme-bad": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                                                                 "output_cost_per_reasoning_token": true}}')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"acme-bad": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
                                                                 "cache_creation_input_token_cost": {"usd": 1}}}')$$);
SELECT pg_temp.try(format('SELECT * FROM ai_load_prices(%L)',
                          jsonb_build_object(repeat('m', 257),
                                             '{"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}'::jsonb)));
SELECT count(*) AS loaded FROM ai_model_price WHERE model IN ('aaa-first', 'acme-bad');
-- An entry that is not an object, or whose input or output price is
-- missing, has no token prices and is skipped, with the reason.
SELECT * FROM ai_load_prices('{"acme-a": 0.5,
                               "acme-c": {"input_cost_per_token": 1e-06, "output_cost_per_token": null},
                               "acme-d": {"output_cost_per_image": 0.04, "mode": "image_generation"},
                               "acme-e": {"input_cost_per_token": 1e-06, "mode": "embedding"}}');
SELECT count(*) AS loaded FROM ai_model_price WHERE model LIKE 'acme-_';
-- From 1.5 an input or output price that is there but not a number is an
-- error, as every other rate's is (1.4 skipped the entry).
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"acme-b": {"input_cost_per_token": "1e-06", "output_cost_per_token": 2e-06}}')$$);

--
-- 1.1 checks on record_ai_call(): cache tokens within input, reasoning
-- within output, no negative cache tokens or time to first token.
--
SELECT count(*) AS calls_before FROM ai_call;
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => 100,
                                           cache_read_input_tokens => 80, cache_creation_input_tokens => 30)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => 10,
                                           cache_read_input_tokens => 11)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', output_tokens => 5,
                                           reasoning_tokens => 6)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cache_read_input_tokens => -1)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cache_creation_input_tokens => -2147483648)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', time_to_first_token_ms => -1)$$);
-- The same through metrics.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}',
                     '{"input_tokens": 100, "cache_creation_input_tokens": 101}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}',
                     '{"output_tokens": 0, "reasoning_tokens": 1}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cache_read_input_tokens": -3}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cache_read_input_tokens": 2.5}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"time_to_first_token_ms": -1}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"time_to_first_token_ms": "fast"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cached_tokens": 5}'::jsonb)$$);
-- Nothing was written.
SELECT count(*) AS calls_after FROM ai_call;
SELECT count(*) AS models_named_m FROM ai_model WHERE modelname = 'm';
-- As psql prints them.
SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => 100,
                      cache_read_input_tokens => 80, cache_creation_input_tokens => 30);
SELECT record_ai_call('m', 'v', 'p', '{}', output_tokens => 5, reasoning_tokens => 6);

-- Parts at their limits are fine, and cache or reasoning counts without the
-- whole they belong to are kept (the cost is then unknown).
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}', input_tokens => 100,
                      cache_read_input_tokens => 60, cache_creation_input_tokens => 40,
                      output_tokens => 10, reasoning_tokens => 10) AS id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}', cache_read_input_tokens => 60,
                      reasoning_tokens => 10, output_tokens => 10) AS id;
--   the first: 60 * 0.3 + 40 * 3.75 + 10 * 15 = 18 + 150 + 150 = 318 per million = 0.000318
SELECT * FROM call_cost WHERE id IN (22, 23) ORDER BY id;

-- metrics takes the 1.1 keys; time to first token is rounded to the
-- millisecond like duration_ms.
--   30 * 3 + 4000 * 0.3 + 1000 * 3.75 + 200 * 15 = 90 + 1200 + 3750 + 3000
--   = 8040 per million = 0.00804
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}',
                      '{"input_tokens": 5030, "cache_read_input_tokens": 4000,
                        "cache_creation_input_tokens": 1000, "output_tokens": 200,
                        "time_to_first_token_ms": 812.6, "duration_ms": 2400}'::jsonb) AS id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}',
                      '{"cache_read_input_tokens": null, "time_to_first_token_ms": null}'::jsonb) AS id;
SELECT c.*, a.duration_ms, a.time_to_first_token_ms
  FROM call_cost c JOIN ai_call a USING (id) WHERE id IN (24, 25) ORDER BY id;
SELECT cost_usd = 0.00804 AS as_computed_by_hand FROM ai_call WHERE id = 24;

-- Loading after a model's last price has ended: the new price starts when
-- the old one ended, or now if that is later.
INSERT INTO ai_model_price (model, valid_until, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('retired-model', '2025-01-01', 1, 2);
SELECT * FROM ai_load_prices('{"retired-model": {"input_cost_per_token": 0.0000002,
                                                 "output_cost_per_token": 0.0000008}}');
SELECT valid_from > '2025-01-01' AND valid_from <= now() AS starts_now,
       valid_until, input_usd_per_mtok
  FROM ai_model_price WHERE model = 'retired-model' ORDER BY valid_from;
-- A new price must start after the one in force; one that overlaps what is
-- there is refused with a message, not a constraint dump.
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"gpt-4o-mini": {"input_cost_per_token": 0.000001,
    "output_cost_per_token": 0.000002}}', valid_from => '2024-06-01')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"never-priced": {"input_cost_per_token": 0.000001,
    "output_cost_per_token": 0.000002}}', valid_from => '2024-06-01')$$);
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('closed-model', '2020-01-01', '2030-01-01', 1, 2);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"closed-model": {"input_cost_per_token": 0.000001,
    "output_cost_per_token": 0.000002}}', valid_from => '2025-06-01')$$);
SELECT pg_temp.try($$SELECT * FROM ai_load_prices('{"gpt-5": {"input_cost_per_token": -0.000001,
    "output_cost_per_token": 0.000002}}')$$);
-- ai_cost() gives no cost for a negative count.
SELECT ai_cost(ai_price_at('gpt-4o', '2024-08-06', now()), 100, -50, 0, 10, 0) AS negative_cache,
       ai_cost(ai_price_at('gpt-4o', '2024-08-06', now()), 100, 0, 0, 10, -1) AS negative_reasoning;

DROP VIEW call_cost;
DROP TABLE price, sample;
DROP FUNCTION pg_temp.try(text, boolean);
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
