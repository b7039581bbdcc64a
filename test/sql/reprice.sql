-- ai_reprice(since, until, dry_run): recompute the cost of calls whose cost
-- was computed or unknown from the prices in force at each call's time;
-- provided costs are never touched.
--
-- Rates, in USD per million tokens (test/data/model_prices_sample.json,
-- then changed below):
--
--   model                input  output  cache read
--   gpt-4o-2024-08-06      2.5      10        1.25   output 12 from 2025-03-15
--   o3-mini                1.1     4.4        0.55   removed
--   mistral-large-2411       -       -           -   added: input 2, output 6
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
\getenv abs_srcdir PG_ABS_SRCDIR
-- The sample's priced models (its image model and sample_spec are skipped).
SELECT count(*) AS prices_added
  FROM ai_load_prices(pg_read_file(:'abs_srcdir' || '/data/model_prices_sample.json')::jsonb)
 WHERE action = 'added';

--
-- Calls, recorded with the prices above:
--   gpt-4o 2024-08-06, 1000 input, 100 output:  1000 * 2.5 + 100 * 10 = 3500 per million = 0.0035
--   gpt-4o 2024-08-06, 2000 input (1000 cached), 200 output:
--     1000 * 2.5 + 1000 * 1.25 + 200 * 10 = 5750 per million = 0.00575
--   o3-mini, 1000 input, 1000 output (500 reasoning): 1000 * 1.1 + 1000 * 4.4
--     = 5500 per million = 0.0055
--   mistral-large 2411: no price, unknown
--
SELECT record_ai_call('gpt-4o', '2024-08-06', 'call 1', '{}', input_tokens => 1000, output_tokens => 100) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'call 2', '{}', input_tokens => 1000, output_tokens => 100) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'call 3', '{}', input_tokens => 2000,
                      cache_read_input_tokens => 1000, output_tokens => 200) AS id;
SELECT record_ai_call('mistral-large', '2411', 'call 4', '{}', input_tokens => 1000, output_tokens => 100) AS id;
SELECT record_ai_call('mistral-large', '2411', 'call 5', '{}', input_tokens => 500, output_tokens => 50) AS id;
SELECT record_ai_call('mistral-large', '2411', 'call 6, no tokens', '{}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'call 7, provided', '{}', input_tokens => 1000,
                      output_tokens => 100, cost_usd => 0.01) AS id;
SELECT record_ai_call('mistral-large', '2411', 'call 8, provided', '{}', input_tokens => 1000,
                      output_tokens => 100, cost_usd => 0.002) AS id;
SELECT record_ai_call('o3-mini', '2025-01-31', 'call 9', '{}', input_tokens => 1000,
                      output_tokens => 1000, reasoning_tokens => 500) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'call 10, after the window', '{}',
                      input_tokens => 1000, output_tokens => 100) AS id;
SELECT record_ai_call('mistral-large', '2411', 'call 11, before the window', '{}',
                      input_tokens => 1000, output_tokens => 100) AS id;
SELECT record_ai_call('o3-mini', '2025-01-31', 'call 12, before the window', '{}', input_tokens => 1000,
                      output_tokens => 1000, reasoning_tokens => 500) AS id;
-- Rows written by hand say nothing about their cost's source: without a
-- cost they are repriced, with one they are left alone.
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, cost_usd)
SELECT id, 'call 13, by hand', '{}'::jsonb, 100, 10, NULL::numeric FROM ai_model WHERE modelname = 'mistral-large'
UNION ALL
SELECT id, 'call 14, by hand, with cost', '{}', 1000, 100, 0.2 FROM ai_model WHERE modelname = 'gpt-4o';

-- When they happened; the window repriced below is March 2025.
UPDATE ai_call c SET created_at = t.at
  FROM (VALUES (1, '2025-03-01 00:00+00'::timestamptz), (2, '2025-03-15 00:00+00'),
               (3, '2025-03-21 00:00+00'), (4, '2025-03-05 00:00+00'), (5, '2025-03-25 00:00+00'),
               (6, '2025-03-06 00:00+00'), (7, '2025-03-20 00:00+00'), (8, '2025-03-07 00:00+00'),
               (9, '2025-03-08 00:00+00'), (10, '2025-04-01 00:00+00'), (11, '2025-02-15 00:00+00'),
               (12, '2025-02-20 00:00+00'), (13, '2025-03-09 00:00+00'),
               (14, '2025-03-09 00:00+00')) AS t(id, at)
 WHERE c.id = t.id;

CREATE TEMP VIEW call_cost AS
SELECT c.id, c.prompt, m.modelname, m.version, c.created_at, c.input_tokens,
       c.cache_read_input_tokens, c.output_tokens, c.reasoning_tokens, c.cost_usd, c.cost_source
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id;
SELECT * FROM call_cost ORDER BY id;

--
-- The prices change:
--   gpt-4o-2024-08-06 costs 12 per million output tokens from 2025-03-15;
--   mistral-large-2411 gets a price, from the beginning of time;
--   o3-mini's price is removed.
--
SELECT * FROM ai_load_prices('{"gpt-4o-2024-08-06": {"input_cost_per_token": 2.5e-06,
                                                     "output_cost_per_token": 1.2e-05,
                                                     "cache_read_input_token_cost": 1.25e-06}}',
                             valid_from => '2025-03-15 00:00+00');
SELECT * FROM ai_load_prices('{"mistral-large-2411": {"input_cost_per_token": 2e-06,
                                                      "output_cost_per_token": 6e-06}}');
DELETE FROM ai_model_price WHERE model = 'o3-mini';
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok
  FROM ai_model_price WHERE model IN ('gpt-4o-2024-08-06', 'mistral-large-2411', 'o3-mini')
 ORDER BY model, valid_from;

--
-- Repricing March 2025 (since inclusive, until exclusive) would check
-- calls 1-6, 9 and 13 (computed, unknown, or written by hand without a
-- cost), and change:
--   call 2  (2025-03-15, new price):  1000 * 2.5 + 100 * 12 = 3700 per million
--           0.0035 -> 0.0037
--   call 3  (2025-03-21, new price):  1000 * 2.5 + 1000 * 1.25 + 200 * 12 = 6150 per million
--           0.00575 -> 0.00615
--   call 4  newly priced: 1000 * 2 + 100 * 6 = 2600 per million, unknown -> 0.0026
--   call 5  newly priced: 500 * 2 + 50 * 6 = 1300 per million, unknown -> 0.0013
--   call 9  newly unpriced: 0.0055 -> unknown
--   call 13 newly priced: 100 * 2 + 10 * 6 = 260 per million, unknown -> 0.00026
-- and leave call 1 (2025-03-01, before the new price: 0.0035) and call 6
-- (no tokens: unknown).
--   cost before: 0.0035 + 0.0035 + 0.00575 + 0.0055 = 0.01825
--   cost after:  0.0035 + 0.0037 + 0.00615 + 0.0026 + 0.0013 + 0.00026 = 0.01751
--   change:      0.01751 - 0.01825 = -0.00074
--
CREATE TEMP TABLE before_reprice AS SELECT * FROM ai_call;
-- dry_run is the default.
SELECT * FROM ai_reprice('2025-03-01 00:00+00', '2025-04-01 00:00+00');
SELECT * FROM ai_reprice('2025-03-01 00:00+00', '2025-04-01 00:00+00', dry_run => true);
SELECT (calls_checked, calls_changed, newly_priced, newly_unpriced,
        cost_before_usd, cost_after_usd, change_usd)
       = (8::bigint, 6::bigint, 3::bigint, 1::bigint, 0.01825, 0.01751, -0.00074)
       AS as_computed_by_hand
  FROM ai_reprice('2025-03-01 00:00+00', '2025-04-01 00:00+00');
-- A dry run writes nothing.
SELECT count(*) AS rows_written
  FROM ai_call c JOIN before_reprice b USING (id)
 WHERE (c.*)::text IS DISTINCT FROM (b.*)::text;

-- The real run reports the same and changes exactly those calls.
SELECT * FROM ai_reprice('2025-03-01 00:00+00', '2025-04-01 00:00+00', dry_run => false);
SELECT c.id, c.prompt, b.cost_usd AS cost_before, b.cost_source AS source_before,
       c.cost_usd AS cost_after, c.cost_source AS source_after,
       c.updated_at <> b.updated_at AS written
  FROM ai_call c JOIN before_reprice b USING (id)
 ORDER BY c.id;
SELECT c.id, c.cost_usd = h.cost AS as_computed_by_hand
  FROM ai_call c
  JOIN (VALUES (2, 0.0037), (3, 0.00615), (4, 0.0026), (5, 0.0013), (13, 0.00026)) AS h(id, cost)
    ON h.id = c.id
 ORDER BY c.id;
-- Every computed cost now is what the price at the call's time gives.
SELECT count(*) AS computed_calls,
       count(*) FILTER (WHERE c.cost_usd = ai_cost(ai_price_at(m.modelname, m.version, c.created_at),
                                                   c.input_tokens, c.cache_read_input_tokens,
                                                   c.cache_creation_input_tokens, c.output_tokens,
                                                   c.reasoning_tokens)) AS as_priced_at_call_time
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE c.cost_source = 'computed' AND c.created_at >= '2025-03-01 00:00+00'
   AND c.created_at < '2025-04-01 00:00+00';

-- Again: nothing left to change, nothing written.
CREATE TEMP TABLE after_reprice AS SELECT * FROM ai_call;
SELECT * FROM ai_reprice('2025-03-01 00:00+00', '2025-04-01 00:00+00', dry_run => false);
SELECT count(*) AS rows_written
  FROM ai_call c JOIN after_reprice a USING (id)
 WHERE (c.*)::text IS DISTINCT FROM (a.*)::text;

-- Without since and until, every call is checked.  Outside March, call 10
-- (2025-04-01, new price) would go from 0.0035 to 0.0037, call 11 would be
-- newly priced at 0.0026 and call 12 newly unpriced (was 0.0055):
--   cost before: 0.01751 + 0.0035 + 0.0055 = 0.02651
--   cost after:  0.01751 + 0.0037 + 0.0026 = 0.02381
SELECT * FROM ai_reprice(NULL, NULL);
-- An empty window checks nothing.
SELECT * FROM ai_reprice('2025-04-01 00:00+00', '2025-03-01 00:00+00', dry_run => false);

-- dry_run must be said.
SELECT * FROM ai_reprice('2025-03-01 00:00+00', '2025-04-01 00:00+00', dry_run => NULL);
SELECT count(*) AS rows_written
  FROM ai_call c JOIN after_reprice a USING (id)
 WHERE (c.*)::text IS DISTINCT FROM (a.*)::text;

-- 1.12: ai_reprice_calls() rewrites the calls of a distributed ai_call
-- only (test/citus/run.sh); here it refuses, and null ids, null
-- elements and a two-dimensional array are refused first.
SELECT ai_reprice_calls(ARRAY[1, 2]::bigint[]);
SELECT ai_reprice_calls(NULL);
SELECT ai_reprice_calls(ARRAY[1, NULL, 3]::bigint[]);
SELECT ai_reprice_calls(ARRAY[[1, 2], [3, 4]]::bigint[]);
SELECT count(*) AS rows_written
  FROM ai_call c JOIN after_reprice a USING (id)
 WHERE (c.*)::text IS DISTINCT FROM (a.*)::text;

DROP VIEW call_cost;
DROP TABLE before_reprice, after_reprice;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
