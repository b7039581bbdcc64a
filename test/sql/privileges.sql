-- Nothing is usable by PUBLIC by accident; an application role needs only
-- EXECUTE on record_ai_call() (and, 1.2, on record_ai_calls() to record in
-- batches); a reporting role needs EXECUTE on ai_usage_stats() and SELECT
-- on the two tables and (1.2) on the three rollup tables.
CREATE EXTENSION aitrack;
CREATE ROLE regress_aitrack_nobody;
CREATE ROLE regress_aitrack_writer;
CREATE ROLE regress_aitrack_reader;

-- What PUBLIC (any role) may do with the extension's objects: nothing but
-- call the ai_hist_* helpers, which only compute on the arrays they get,
-- and (1.3) ai_tenant_mode() and ai_tenant_user_id(), open to PUBLIC on
-- purpose: the row-level security policies of ai_call and the rollup
-- tables call them, so every role that may read those tables must be able
-- to run them (they only report the caller's own aitrack.tenant and
-- aitrack.user_id).  The drop guard's event trigger function is closed.
-- (1.2 adds the rollup tables, the histogram functions, the rollup trigger
-- function, ai_rollup_compact, the purge procedures and record_ai_calls.)
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
-- 1.2's objects, likewise.
SELECT * FROM record_ai_calls('[]');
SELECT count(*) FROM ai_usage_rollup;
SELECT count(*) FROM ai_usage_rollup_total;
SELECT count(*) FROM ai_usage_purged;
SELECT ai_rollup_compact();
CALL ai_purge_calls(now());
CALL ai_purge_content(now());
SELECT ai_hist_percentile(ai_hist_of(120, 1), 0.5) AS open_to_all;
-- 1.3's policy functions answer for the caller itself: not a tenant.
SELECT ai_tenant_mode() AS tenant, ai_tenant_user_id() AS tenant_user;
SELECT ai_drop_guard();
RESET ROLE;

-- The application role: EXECUTE on record_ai_call and nothing else.
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text),
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
-- 1.2: record_ai_calls() takes its own grant; EXECUTE on record_ai_call is
-- not enough.
SELECT * FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "v1", "prompt": "p",
                                 "response": {}}]');
RESET ROLE;
GRANT EXECUTE ON FUNCTION record_ai_calls(jsonb) TO regress_aitrack_writer;
SET ROLE regress_aitrack_writer;
-- With it, and still no privilege on any table or sequence (it is SECURITY
-- DEFINER), the writer records a batch, a new model included; the rollup
-- trigger writes the rollups under the extension owner's rights too.
SELECT * FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "v1", "prompt": "secret",
                                 "response": {"text": "secret"}, "input_tokens": 20,
                                 "output_tokens": 5, "duration_ms": 250},
                                {"modelname": "gpt-4o-mini", "version": "v1", "prompt": "secret",
                                 "response": {}, "input_tokens": 7, "status": "error",
                                 "created_at": "2024-05-01T12:00:00Z"}]');
-- It can still not read or write the tables, the rollups included, nor
-- compact or purge.
SELECT prompt FROM ai_call;
SELECT count(*) FROM ai_usage_rollup;
INSERT INTO ai_usage_purged (bucket, model_id, calls) VALUES (now(), 1, 1);
SELECT ai_rollup_compact();
CALL ai_purge_calls(now());
CALL ai_purge_content(now());
RESET ROLE;
SELECT has_table_privilege('regress_aitrack_writer', t, 'SELECT, INSERT, UPDATE, DELETE') AS writer_has_any
  FROM unnest('{ai_call,ai_model,ai_usage_rollup,ai_usage_rollup_total,ai_usage_purged}'::regclass[]) AS t;
SELECT m.modelname, count(*) AS calls FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 GROUP BY 1 ORDER BY 1;

-- The reporting role: stats and the tables, read-only.
GRANT EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
    TO regress_aitrack_reader;
SET ROLE regress_aitrack_reader;
-- Without SELECT on the tables, ai_usage_stats (SECURITY INVOKER) refuses.
SELECT calls FROM ai_usage_stats();
RESET ROLE;
GRANT SELECT ON ai_model, ai_call TO regress_aitrack_reader;
SET ROLE regress_aitrack_reader;
-- 1.2 answers from the rollup tables, read with the caller's rights too:
-- SELECT on ai_call and ai_model is no longer enough.  (A time zone whose
-- offset is not a whole number of hours reads ai_call only, so that works.)
SELECT calls FROM ai_usage_stats();
SELECT calls FROM ai_usage_stats(group_by => '{}', tz => 'Asia/Kolkata');
RESET ROLE;
-- On a fresh install nobody holds SELECT on ai_call yet, so the update
-- script had no grant to copy onto the rollups: grant them as for ai_call.
GRANT SELECT ON ai_usage_rollup, ai_usage_rollup_total, ai_usage_purged TO regress_aitrack_reader;
SET ROLE regress_aitrack_reader;
-- 1.5's list of grants: enough (the ai_hist_* functions the stats use are
-- open to all; they only compute).  Without SELECT on 1.6's daily level
-- the stats come from the hourly one, with the same answer.
SELECT modelname, version, calls, input_tokens FROM ai_usage_stats();
RESET ROLE;
-- Every grant README.md asks of a reporting role (1.6): the same answer.
GRANT SELECT ON ai_usage_rollup_daily, ai_upkeep_state, ai_upkeep_status TO regress_aitrack_reader;
SET ROLE regress_aitrack_reader;
SELECT modelname, version, calls, input_tokens FROM ai_usage_stats();
SELECT pending_rows, daily_complete FROM ai_upkeep_status;
-- Reading the upkeep's state does not let it move the daily level.
UPDATE ai_upkeep_state SET daily_from = 'infinity';
SELECT ai_rollup_backfill_daily();
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}');
SELECT * FROM record_ai_calls('[]');
DELETE FROM ai_call;
-- Reading the rollups does not let it change them, compact or purge.
DELETE FROM ai_usage_rollup;
UPDATE ai_usage_rollup_total SET calls = 0;
INSERT INTO ai_usage_purged (bucket, model_id, calls) VALUES (now(), 1, 1);
SELECT ai_rollup_compact();
CALL ai_purge_calls(now());
CALL ai_purge_content(now());
RESET ROLE;

-- Prices are an administrator's job: ai_load_prices and ai_reprice run with
-- the caller's rights, so the writer and the reader can do neither, and the
-- administrator needs no access to prompts or responses (nor, 1.2, any
-- privilege on the rollups that its repricing updates through the trigger).
SET ROLE regress_aitrack_writer;
SELECT * FROM ai_load_prices('{}');
SELECT * FROM ai_reprice(NULL, NULL);
RESET ROLE;
CREATE ROLE regress_aitrack_admin;
GRANT EXECUTE ON FUNCTION ai_load_prices(jsonb, timestamptz, text),
                          ai_reprice(timestamptz, timestamptz, boolean),
                          ai_price_at(text, text, timestamptz),
                          ai_cost(ai_model_price, integer, integer, integer, integer, integer),
                          ai_cost(ai_model_price, record)
    TO regress_aitrack_admin;
GRANT SELECT, INSERT, UPDATE ON ai_model_price TO regress_aitrack_admin;
GRANT USAGE ON SEQUENCE ai_model_price_id_seq TO regress_aitrack_admin;
GRANT SELECT ON ai_model TO regress_aitrack_admin;
-- The numbers of a call, not its content (from 1.5 the billed counts,
-- service tier and search size too: ai_reprice() reads every billed column).
GRANT SELECT (id, created_at, model_id, input_tokens, cache_read_input_tokens,
              cache_creation_input_tokens, output_tokens, reasoning_tokens,
              cost_usd, cost_source, cache_creation_1h_input_tokens, input_audio_tokens,
              cache_read_audio_tokens, input_image_tokens, output_audio_tokens,
              output_image_tokens, web_search_requests, service_tier, web_search_context_size),
      UPDATE (cost_usd, cost_source, updated_at)
   ON ai_call TO regress_aitrack_admin;
SET ROLE regress_aitrack_admin;
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}');
SELECT calls_checked, calls_changed, newly_priced, change_usd FROM ai_reprice(NULL, NULL, false);
SELECT prompt FROM ai_call LIMIT 1;
RESET ROLE;

-- The writer's calls are there, recorded under the extension owner's rights,
-- and the reader's stats (from the rollups) follow the repricing.
SELECT count(*) AS calls, sum(cost_usd) AS cost_usd FROM ai_call;
SET ROLE regress_aitrack_reader;
SELECT calls, cost_usd, unpriced_calls FROM ai_usage_stats(group_by => '{}');
RESET ROLE;
SELECT p.proname, p.prosecdef AS security_definer, p.proconfig
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace
   AND p.proname IN ('record_ai_call', 'record_ai_calls', 'ai_usage_stats',
                     'ai_touch_updated_at', 'ai_rollup_capture', 'ai_rollup_compact',
                     'ai_purge_calls', 'ai_purge_content')
 ORDER BY p.proname, p.pronargs;

-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
DROP ROLE regress_aitrack_nobody;
DROP ROLE regress_aitrack_writer;
DROP ROLE regress_aitrack_reader;
DROP ROLE regress_aitrack_admin;
