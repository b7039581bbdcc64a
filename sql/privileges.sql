-- Nothing is usable by PUBLIC by accident; an application role needs only
-- EXECUTE on record_ai_call(); a reporting role needs EXECUTE on
-- ai_usage_stats() and SELECT on the two tables.
CREATE EXTENSION aitrack;
CREATE ROLE regress_aitrack_nobody;
CREATE ROLE regress_aitrack_writer;
CREATE ROLE regress_aitrack_reader;

-- What PUBLIC (any role) may do with the extension's objects: nothing.
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS object,
       CASE d.classid
         WHEN 'pg_catalog.pg_proc'::regclass
           THEN has_function_privilege('regress_aitrack_nobody', d.objid, 'EXECUTE')
         WHEN 'pg_catalog.pg_class'::regclass
           THEN CASE WHEN c.relkind = 'S'
                     THEN has_sequence_privilege('regress_aitrack_nobody', d.objid, 'USAGE')
                       OR has_sequence_privilege('regress_aitrack_nobody', d.objid, 'SELECT')
                     ELSE has_table_privilege('regress_aitrack_nobody', d.objid,
                              'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                END
       END AS public_can_use
  FROM pg_catalog.pg_depend d
  LEFT JOIN pg_catalog.pg_class c ON d.classid = 'pg_catalog.pg_class'::regclass AND c.oid = d.objid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'aitrack')
   AND d.deptype = 'e'
   AND d.classid IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_class'::regclass)
 ORDER BY 1;

SET ROLE regress_aitrack_nobody;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}');
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{}'::jsonb);
SELECT * FROM ai_usage_stats();
SELECT count(*) FROM ai_call;
INSERT INTO ai_model (modelname, version) VALUES ('x', 'y');
RESET ROLE;

-- The application role: EXECUTE on record_ai_call and nothing else.
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb, integer, integer, integer),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid)
    TO regress_aitrack_writer;
SET ROLE regress_aitrack_writer;
SELECT record_ai_call('gpt-4o', 'v1', 'secret prompt', '{"text": "secret"}', 100, NULL, 10) AS id;
SELECT record_ai_call('gpt-4o', 'v1', 'secret prompt', '{"text": "secret"}',
                      '{"input_tokens": 3, "output_tokens": 1}'::jsonb) AS id;
-- It can record but not read prompts, responses or stats, nor write directly.
SELECT prompt FROM ai_call;
SELECT * FROM ai_usage_stats();
UPDATE ai_call SET cost_usd = 0;
DELETE FROM ai_model;
SELECT nextval('ai_call_id_seq');
RESET ROLE;

-- The reporting role: stats and the tables, read-only.
GRANT EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid)
    TO regress_aitrack_reader;
SET ROLE regress_aitrack_reader;
-- Without SELECT on the tables, ai_usage_stats (SECURITY INVOKER) refuses.
SELECT calls FROM ai_usage_stats();
RESET ROLE;
GRANT SELECT ON ai_model, ai_call TO regress_aitrack_reader;
SET ROLE regress_aitrack_reader;
SELECT modelname, version, calls, input_tokens FROM ai_usage_stats();
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}');
DELETE FROM ai_call;
RESET ROLE;

-- Prices are an administrator's job: ai_load_prices and ai_reprice run with
-- the caller's rights, so the writer and the reader can do neither, and the
-- administrator needs no access to prompts or responses.
SET ROLE regress_aitrack_writer;
SELECT * FROM ai_load_prices('{}');
SELECT * FROM ai_reprice(NULL, NULL);
RESET ROLE;
CREATE ROLE regress_aitrack_admin;
GRANT EXECUTE ON FUNCTION ai_load_prices(jsonb, timestamptz, text),
                          ai_reprice(timestamptz, timestamptz, boolean),
                          ai_price_at(text, text, timestamptz),
                          ai_cost(ai_model_price, integer, integer, integer, integer, integer)
    TO regress_aitrack_admin;
GRANT SELECT, INSERT, UPDATE ON ai_model_price TO regress_aitrack_admin;
GRANT USAGE ON SEQUENCE ai_model_price_id_seq TO regress_aitrack_admin;
GRANT SELECT ON ai_model TO regress_aitrack_admin;
-- The numbers of a call, not its content.
GRANT SELECT (id, created_at, model_id, input_tokens, cache_read_input_tokens,
              cache_creation_input_tokens, output_tokens, reasoning_tokens,
              cost_usd, cost_source),
      UPDATE (cost_usd, cost_source, updated_at)
   ON ai_call TO regress_aitrack_admin;
SET ROLE regress_aitrack_admin;
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}');
SELECT calls_checked, calls_changed, newly_priced, change_usd FROM ai_reprice(NULL, NULL, false);
SELECT prompt FROM ai_call LIMIT 1;
RESET ROLE;

-- The writer's calls are there, recorded under the extension owner's rights.
SELECT count(*) AS calls, sum(cost_usd) AS cost_usd FROM ai_call;
SELECT p.proname, p.prosecdef AS security_definer, p.proconfig
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace
   AND p.proname IN ('record_ai_call', 'ai_usage_stats', 'ai_touch_updated_at')
 ORDER BY p.proname, p.pronargs;

DROP EXTENSION aitrack;
DROP ROLE regress_aitrack_nobody;
DROP ROLE regress_aitrack_writer;
DROP ROLE regress_aitrack_reader;
DROP ROLE regress_aitrack_admin;
