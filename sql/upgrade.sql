-- Upgrade path, as pg_stat_statements' oldextversions test: install the
-- oldest version, record calls, update one version at a time, and check the
-- objects and the data after each step.  Each new version adds a block.
-- (test/t/002_upgrade.pl also compares the result with a fresh install.)
SET timezone = 'UTC';
CREATE EXTENSION aitrack VERSION '1.0';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
CREATE VIEW aitrack_objects AS
SELECT pg_catalog.pg_describe_object(classid, objid, 0) AS object
  FROM pg_catalog.pg_depend
 WHERE refclassid = 'pg_catalog.pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'aitrack');
SELECT * FROM aitrack_objects ORDER BY 1;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{"text": "hi"}', input_tokens => 10,
                      output_tokens => 2, cost_usd => 0.001, duration_ms => 100) AS id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}',
                      '{"status": "error", "duration_ms": 5000}'::jsonb, 'chat') AS id;
-- 1.0 never read the response: these tokens stay unknown.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1000, "completion_tokens": 100}}') AS id;
-- A role that may record and read stats under 1.0 keeps those rights.
CREATE ROLE regress_aitrack_app;
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid),
    ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid)
    TO regress_aitrack_app;
GRANT SELECT ON ai_call, ai_model TO regress_aitrack_app;
CREATE TEMP TABLE calls_1_0 AS SELECT * FROM ai_call;

-- Every version this build can install or reach.
SELECT name, version, requires FROM pg_catalog.pg_available_extension_versions
 WHERE name = 'aitrack' ORDER BY version;
SELECT source, target, path FROM pg_catalog.pg_extension_update_paths('aitrack')
 WHERE path IS NOT NULL ORDER BY source, target;

--
-- 1.0 -> 1.1
--
ALTER EXTENSION aitrack UPDATE TO '1.1';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT * FROM aitrack_objects ORDER BY 1;
-- Every 1.0 column of every call is as it was, updated_at included; the
-- costs the calls carried are 'provided', the missing ones 'unknown'.
SELECT count(*) AS changed_calls
  FROM (SELECT id, created_at, updated_at, model_id, prompt, response, input_tokens,
               reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type,
               status, user_id, extra FROM ai_call
        EXCEPT
        SELECT id, created_at, updated_at, model_id, prompt, response, input_tokens,
               reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type,
               status, user_id, extra FROM calls_1_0) AS d;
SELECT id, cost_usd, cost_source, cache_read_input_tokens, time_to_first_token_ms
  FROM ai_call ORDER BY id;
-- The 1.0 grants carried over to the redefined functions.
SET ROLE regress_aitrack_app;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 5, output_tokens => 1) > 0 AS recorded;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"input_tokens": 5}'::jsonb) > 0 AS recorded;
SELECT modelname, calls, cache_read_input_tokens, unpriced_calls FROM ai_usage_stats();
RESET ROLE;
-- 1.1 at work on the upgraded tables: a price, then automatic cost and
-- repricing of the calls 1.0 recorded without one.
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025,
                                          "output_cost_per_token": 0.00001,
                                          "cache_read_input_token_cost": 0.00000125}}');
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1000, "completion_tokens": 100,
                                  "prompt_tokens_details": {"cached_tokens": 800}}}') AS id \gset
SELECT input_tokens, cache_read_input_tokens, output_tokens, cost_usd, cost_source
  FROM ai_call WHERE id = :id;
SELECT calls_checked, calls_changed, newly_priced, change_usd FROM ai_reprice(NULL, NULL, false);
SELECT id, input_tokens, output_tokens, cost_usd, cost_source FROM ai_call ORDER BY id;

DROP VIEW aitrack_objects;
DROP EXTENSION aitrack;
DROP ROLE regress_aitrack_app;
