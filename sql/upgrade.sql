-- Upgrade path, as pg_stat_statements' oldextversions test: install the
-- oldest version, record calls, update one version at a time, and check the
-- objects and the data after each step.  Each new version adds a block.
-- (test/t/002_upgrade.pl also compares the result with a fresh install.)
CREATE EXTENSION aitrack VERSION '1.0';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT pg_catalog.pg_describe_object(classid, objid, 0) AS object
  FROM pg_catalog.pg_depend
 WHERE refclassid = 'pg_catalog.pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'aitrack')
 ORDER BY 1;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{"text": "hi"}', input_tokens => 10,
                      output_tokens => 2, cost_usd => 0.001, duration_ms => 100) AS id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}',
                      '{"status": "error", "duration_ms": 5000}'::jsonb, 'chat') AS id;

-- Every version this build can install or reach.
SELECT name, version FROM pg_catalog.pg_available_extension_versions
 WHERE name = 'aitrack' ORDER BY version;
SELECT source, target, path FROM pg_catalog.pg_extension_update_paths('aitrack')
 WHERE path IS NOT NULL ORDER BY source, target;

-- Update to the default version: a no-op while 1.0 is the newest.
ALTER EXTENSION aitrack UPDATE;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT c.id, m.modelname, m.version, c.input_tokens, c.output_tokens, c.cost_usd,
       c.duration_ms, c.call_type, c.status
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id ORDER BY c.id;
SELECT modelname, calls, errors, input_tokens, cost_usd FROM ai_usage_stats();

DROP EXTENSION aitrack;
