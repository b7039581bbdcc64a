--
-- record_ai_calls(calls jsonb): many calls in one statement, all or
-- nothing.  Each element takes record_ai_call()'s argument names as keys,
-- plus created_at; the new ids come back in the order of the elements.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';

-- The calls of this test, numbered from the first id of each check.
CREATE VIEW batch_calls AS
SELECT c.id, m.modelname, m.version, c.prompt, c.created_at, c.input_tokens, c.output_tokens,
       c.reasoning_tokens, c.cache_read_input_tokens, c.cache_creation_input_tokens,
       c.cost_usd, c.cost_source, c.duration_ms, c.call_type, c.status, c.user_id, c.extra,
       c.time_to_first_token_ms, c.response
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id;

--
-- The empty array: no rows, nothing written.
--
SELECT count(*) FROM record_ai_calls('[]');
SELECT (SELECT count(*) FROM ai_call) AS calls, (SELECT count(*) FROM ai_model) AS models,
       (SELECT count(*) FROM ai_usage_rollup) AS rollup_rows;

--
-- The ids come back in element order, whatever the models: a new model is
-- created once, a model seen before is reused.  Every key is taken.
--
CREATE TEMP TABLE got AS
SELECT r.n, r.id, now() AS recorded_at
  FROM record_ai_calls('[
  {"modelname": "gpt-4o", "version": "2024-08-06", "prompt": "first", "response": {"text": "1"}},
  {"modelname": "claude", "version": "3", "prompt": "second", "response": {"text": "2"},
   "status": "error", "call_type": "chat"},
  {"modelname": "gpt-4o", "version": "2024-08-06", "prompt": "third", "response": "plain string"},
  {"modelname": "gpt-4o", "version": "2024-08-06", "prompt": "fourth", "response": null},
  {"modelname": "gemini", "version": "1.5", "prompt": "fifth", "response": [1, 2, 3]},
  {"modelname": "claude", "version": "3", "prompt": "sixth", "response": {},
   "input_tokens": 100, "reasoning_tokens": 5, "output_tokens": 20, "cost_usd": 0.0123,
   "duration_ms": 812.6, "call_type": "tool", "status": "timeout",
   "user_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "extra": {"trace": "t-6"},
   "cache_read_input_tokens": 40, "cache_creation_input_tokens": 10,
   "time_to_first_token_ms": 120, "created_at": "2025-02-03 04:05:06.789+01"}
]') WITH ORDINALITY AS r(id, n);
SELECT g.n, g.id - min(g.id) OVER () AS id_offset, b.prompt, b.modelname, b.version, b.response
  FROM got g JOIN batch_calls b USING (id) ORDER BY g.n;
-- Ids strictly increase with the element number.
SELECT bool_and(id > prev) AS increasing
  FROM (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM got) s WHERE prev IS NOT NULL;
SELECT modelname, version FROM ai_model ORDER BY id;
-- The element with every key, column by column (created_at converted to
-- UTC, duration_ms rounded, extra kept, cost provided).
\x on
SELECT prompt, created_at, input_tokens, reasoning_tokens, output_tokens, cost_usd, cost_source,
       duration_ms, call_type, status, user_id, extra, cache_read_input_tokens,
       cache_creation_input_tokens, time_to_first_token_ms
  FROM batch_calls WHERE prompt = 'sixth';
\x off
-- Defaults as record_ai_call(): status success, extra {}, created_at the
-- time of the transaction that recorded them.
SELECT b.prompt, b.status, b.extra, b.call_type, b.user_id, b.cost_source,
       b.created_at = g.recorded_at AS created_now
  FROM batch_calls b JOIN got g USING (id) WHERE b.prompt IN ('first', 'third') ORDER BY b.id;
DROP TABLE got;

--
-- All or nothing: ten elements, element 7 (6 counting from 0, as the
-- CONTEXT line says) is bad; nothing is written, not even the new models
-- of elements 0 to 5.
--
SELECT count(*) AS calls_before FROM ai_call;
SELECT * FROM record_ai_calls(
  (SELECT jsonb_agg(CASE WHEN i = 7
                         THEN jsonb_build_object('modelname', 'new-' || i, 'version', '1',
                                                 'prompt', 'p' || i, 'response', '{}'::jsonb,
                                                 'output_tokens', -1)
                         ELSE jsonb_build_object('modelname', 'new-' || i, 'version', '1',
                                                 'prompt', 'p' || i, 'response', '{}'::jsonb) END
                    ORDER BY i)
     FROM generate_series(1, 10) AS i));
SELECT (SELECT count(*) FROM ai_call) AS calls_after,
       (SELECT count(*) FROM ai_model WHERE modelname LIKE 'new-%') AS new_models;

--
-- Every kind of bad input, each naming its element.
--
-- SQL NULL, and not an array
SELECT * FROM record_ai_calls(NULL);
SELECT * FROM record_ai_calls('{"modelname": "gpt-4o"}');
SELECT * FROM record_ai_calls('"a string"');
SELECT * FROM record_ai_calls('null');
-- an element that is not an object
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {}}, 42]');
SELECT * FROM record_ai_calls('[[{"modelname": "m", "version": "1", "prompt": "p", "response": {}}]]');
SELECT * FROM record_ai_calls('[null]');
-- an unknown key (a misspelling, a metrics key, a column set by aitrack)
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "output_token": 3}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "metrics": {"input_tokens": 3}}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "cost_source": "provided"}]');
-- a value of the wrong JSON type
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "input_tokens": "12"}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": 5, "response": {}}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "status": {"code": 500}}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "extra": [1]}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "created_at": 1700000000}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "input_tokens": 1.5}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "input_tokens": 3000000000}]');
-- a bad uuid
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {}},
                                {"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "user_id": "user-42"}]');
-- a bad or infinite created_at
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "created_at": "yesterday-ish"}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "created_at": "2025-02-30 10:00"}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "created_at": "infinity"}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "created_at": "-infinity"}]');
-- an unknown status
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "status": "failed"}]');
-- negative tokens, duration or cost
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "input_tokens": -5}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "cache_read_input_tokens": -1}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "duration_ms": -1}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "cost_usd": -0.01}]');
-- parts beyond the whole (1.1's rule)
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p", "response": {},
                                 "input_tokens": 10, "cache_read_input_tokens": 11}]');
-- missing or empty required values
SELECT * FROM record_ai_calls('[{"version": "1", "prompt": "p", "response": {}}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": null, "prompt": "p", "response": {}}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "response": {}}]');
SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "1", "prompt": "p"}]');
SELECT * FROM record_ai_calls('[{"modelname": "", "version": "1", "prompt": "p", "response": {}}]');
-- None of it wrote anything.
SELECT (SELECT count(*) FROM ai_call) AS calls, (SELECT count(*) FROM ai_model WHERE modelname = 'm') AS models;

--
-- Token counts from each element's own response when it gives none.
--
SELECT count(*) FROM record_ai_calls('[
  {"modelname": "usage", "version": "1", "prompt": "openai chat", "response":
     {"object": "chat.completion", "usage": {"prompt_tokens": 1000, "completion_tokens": 100,
      "prompt_tokens_details": {"cached_tokens": 800},
      "completion_tokens_details": {"reasoning_tokens": 30}}}},
  {"modelname": "usage", "version": "1", "prompt": "anthropic", "response":
     {"type": "message", "usage": {"input_tokens": 50, "output_tokens": 70,
      "cache_read_input_tokens": 400, "cache_creation_input_tokens": 25}}},
  {"modelname": "usage", "version": "1", "prompt": "gemini", "response":
     {"usageMetadata": {"promptTokenCount": 300, "candidatesTokenCount": 40,
      "thoughtsTokenCount": 60, "cachedContentTokenCount": 100}}},
  {"modelname": "usage", "version": "1", "prompt": "explicit wins", "output_tokens": 7, "response":
     {"usage": {"prompt_tokens": 999, "completion_tokens": 999}}},
  {"modelname": "usage", "version": "1", "prompt": "no usage", "response": {"text": "hi"}}
]');
SELECT prompt, input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
       output_tokens, reasoning_tokens
  FROM batch_calls WHERE modelname = 'usage' ORDER BY id;

--
-- Cost from the price in force at each element's created_at: 'priced'
-- costs $1/$2 per million input/output tokens until 2025-06-01, then
-- $10/$20.
--
SELECT * FROM ai_load_prices('{"priced": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}}');
SELECT * FROM ai_load_prices('{"priced": {"input_cost_per_token": 0.00001, "output_cost_per_token": 0.00002}}',
                             valid_from => '2025-06-01 00:00+00');
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok
  FROM ai_model_price ORDER BY valid_from;
CREATE TEMP TABLE priced_at AS
SELECT now() AS recorded_at, count(*) FROM record_ai_calls('[
  {"modelname": "priced", "version": "v", "prompt": "old price", "response": {},
   "input_tokens": 1000, "output_tokens": 100, "created_at": "2025-03-01 12:00+00"},
  {"modelname": "priced", "version": "v", "prompt": "last moment of old price", "response": {},
   "input_tokens": 1000, "output_tokens": 100, "created_at": "2025-05-31 23:59:59.999999+00"},
  {"modelname": "priced", "version": "v", "prompt": "first moment of new price", "response": {},
   "input_tokens": 1000, "output_tokens": 100, "created_at": "2025-06-01 00:00+00"},
  {"modelname": "priced", "version": "v", "prompt": "now", "response": {},
   "input_tokens": 1000, "output_tokens": 100},
  {"modelname": "priced", "version": "v", "prompt": "old, from response", "response":
     {"usage": {"prompt_tokens": 2000, "completion_tokens": 10}}, "created_at": "2024-01-01 00:00+00"},
  {"modelname": "priced", "version": "v", "prompt": "provided", "response": {},
   "input_tokens": 1000, "output_tokens": 100, "cost_usd": 0.5, "created_at": "2025-03-01 12:00+00"},
  {"modelname": "priced", "version": "v", "prompt": "no tokens", "response": {},
   "created_at": "2025-03-01 12:00+00"},
  {"modelname": "unpriced", "version": "v", "prompt": "no price", "response": {},
   "input_tokens": 1000, "output_tokens": 100, "created_at": "2025-03-01 12:00+00"}
]');
SELECT count FROM priced_at;
SELECT prompt, created_at = (SELECT recorded_at FROM priced_at) AS at_now, input_tokens,
       output_tokens, cost_usd, cost_source
  FROM batch_calls WHERE modelname IN ('priced', 'unpriced') ORDER BY id;
DROP TABLE priced_at;
-- The same as record_ai_call() and ai_cost() at those times.
SELECT b.prompt, b.cost_usd IS NOT DISTINCT FROM
           ai_cost(ai_price_at(b.modelname, b.version, b.created_at), b.input_tokens,
                   b.cache_read_input_tokens, b.cache_creation_input_tokens, b.output_tokens,
                   b.reasoning_tokens) AS same_as_ai_cost
  FROM batch_calls b WHERE b.modelname = 'priced' AND b.cost_source = 'computed' ORDER BY b.id;

--
-- One statement, one trigger firing: the batch adds one pending rollup row
-- per (hour, model, call_type, status, user) it touched, however many
-- calls.  Twelve calls in three hours, two statuses: six rows.
--
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT count(*) AS pending_rows FROM ai_usage_rollup WHERE pending;
SELECT count(*) FROM record_ai_calls(
  (SELECT jsonb_agg(jsonb_build_object('modelname', 'grouped', 'version', '1', 'prompt', 'g' || i,
                                       'response', '{}'::jsonb, 'duration_ms', 10 * i,
                                       'status', CASE WHEN i % 2 = 0 THEN 'success' ELSE 'error' END,
                                       'created_at', timestamptz '2025-04-01 10:00+00' + (i % 3) * interval '1 hour'
                                                     + i * interval '1 minute')
                    ORDER BY i)
     FROM generate_series(1, 12) AS i));
SELECT bucket, status, calls, duration_ms, duration_ms_n, first_call, last_call
  FROM ai_usage_rollup r JOIN ai_model m ON m.id = r.model_id
 WHERE pending AND m.modelname = 'grouped' ORDER BY bucket, status;
-- record_ai_call() twelve times: twelve statements, twelve pending rows.
SELECT count(record_ai_call('grouped-single', '1', 'g' || i, '{}')) FROM generate_series(1, 12) AS i;
SELECT count(*) AS pending_rows, sum(calls) AS calls
  FROM ai_usage_rollup r JOIN ai_model m ON m.id = r.model_id
 WHERE pending AND m.modelname = 'grouped-single';
-- A batch that fails writes no pending row either.
SELECT count(*) AS pending_before FROM ai_usage_rollup WHERE pending;
SELECT * FROM record_ai_calls('[{"modelname": "grouped", "version": "1", "prompt": "ok", "response": {}},
                                {"modelname": "grouped", "version": "1", "prompt": "bad", "response": {},
                                 "status": "oops"}]');
SELECT count(*) AS pending_after FROM ai_usage_rollup WHERE pending;
-- The stats see the batch.
SELECT status, calls, errors, avg_duration_ms, p50_duration_ms
  FROM ai_usage_stats(group_by => '{status}', modelname => 'grouped');

--
-- In a transaction that rolls back, the batch and its rollup rows go.
--
BEGIN;
SELECT count(*) FROM record_ai_calls('[{"modelname": "grouped", "version": "1", "prompt": "rolled back", "response": {}}]');
SELECT calls FROM ai_usage_stats(group_by => '{}', modelname => 'grouped');
ROLLBACK;
SELECT calls FROM ai_usage_stats(group_by => '{}', modelname => 'grouped');

--
-- 5000 elements in one call, over two models and ten days.
--
CREATE TEMP TABLE big AS
SELECT r.n, r.id
  FROM record_ai_calls(
         (SELECT jsonb_agg(jsonb_build_object(
                     'modelname', 'bulk', 'version', (i % 2)::text, 'prompt', 'bulk ' || i,
                     'response', '{}'::jsonb, 'input_tokens', i, 'output_tokens', i % 100,
                     'duration_ms', i % 700, 'user_id', '00000000-0000-0000-0000-00000000000' || (i % 3),
                     'created_at', timestamptz '2025-05-01 00:00+00' + i * interval '173 seconds')
                   ORDER BY i)
            FROM generate_series(1, 5000) AS i)) WITH ORDINALITY AS r(id, n);
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_ids,
       max(id) - min(id) + 1 AS id_span,
       bool_and(b.prompt = 'bulk ' || g.n) AS prompts_in_order
  FROM big g JOIN batch_calls b USING (id);
-- One pending row per (hour, version, user) group of the batch.
SELECT count(*) AS pending_rows, sum(calls) AS calls,
       count(*) = (SELECT count(DISTINCT (date_trunc('hour', b.created_at), b.version, b.user_id))
                     FROM batch_calls b WHERE b.modelname = 'bulk') AS one_per_group
  FROM ai_usage_rollup r JOIN ai_model m ON m.id = r.model_id
 WHERE pending AND m.modelname = 'bulk';
-- The stats, before and after compaction, against the same written by hand.
CREATE FUNCTION pg_temp.bulk_stats_match() RETURNS TABLE (version text, calls bigint, same boolean)
LANGUAGE sql AS $$
    SELECT s.version, s.calls,
           (s.calls, s.input_tokens, s.output_tokens, s.avg_duration_ms, s.first_call, s.last_call)
               = (h.calls, h.input_tokens, h.output_tokens, h.avg_duration_ms, h.first_call, h.last_call)
           AND abs(s.p50_duration_ms - h.p50) < 0.01 * h.p50
           AND abs(s.p95_duration_ms - h.p95) < 0.01 * h.p95
    FROM ai_usage_stats(group_by => '{model}', modelname => 'bulk') s
    JOIN (SELECT b.version, count(*) AS calls, sum(b.input_tokens) AS input_tokens,
                 sum(b.output_tokens) AS output_tokens, avg(b.duration_ms)::float8 AS avg_duration_ms,
                 min(b.created_at) AS first_call, max(b.created_at) AS last_call,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY b.duration_ms) AS p50,
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY b.duration_ms) AS p95
            FROM batch_calls b WHERE b.modelname = 'bulk' GROUP BY b.version) h
      ON h.version = s.version
    ORDER BY 1
$$;
SELECT * FROM pg_temp.bulk_stats_match();
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT * FROM pg_temp.bulk_stats_match();
DROP FUNCTION pg_temp.bulk_stats_match();
DROP TABLE big;

--
-- A statement_timeout (as a cancel) stops a large batch long before it
-- would end (100,000 calls take seconds), and nothing is written: no call,
-- no model, no rollup row.  Where exactly it stops depends on the machine,
-- so the error is shown without its CONTEXT.
--
CREATE TEMP TABLE huge AS
SELECT jsonb_agg(jsonb_build_object('modelname', 'huge-' || i % 3, 'version', '1',
                                    'prompt', 'p' || i, 'response', '{}'::jsonb,
                                    'input_tokens', 10, 'output_tokens', 5)) AS calls
  FROM generate_series(1, 100000) AS i;
CREATE TEMP TABLE counts_before AS
SELECT (SELECT count(*) FROM ai_call) AS calls, (SELECT count(*) FROM ai_model) AS models,
       (SELECT count(*) FROM ai_usage_rollup) AS rollup_rows;
SET statement_timeout = '200ms';
\set VERBOSITY terse
SELECT count(*) FROM record_ai_calls((SELECT calls FROM huge));
\set VERBOSITY default
RESET statement_timeout;
SELECT (SELECT count(*) FROM ai_call) = b.calls AS no_calls,
       (SELECT count(*) FROM ai_model) = b.models AS no_models,
       (SELECT count(*) FROM ai_usage_rollup) = b.rollup_rows AS no_rollup_rows
  FROM counts_before b;
DROP TABLE huge, counts_before;

DROP VIEW batch_calls;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
