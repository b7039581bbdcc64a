-- The extension lives in the schema CREATE EXTENSION names, and finds its
-- tables there whatever the caller's search_path; it can be dropped and
-- created again, elsewhere, within one session (whose kept plans and model
-- cache must follow).
CREATE SCHEMA ledger;
CREATE EXTENSION aitrack SCHEMA ledger;
SELECT n.nspname AS schema, e.extrelocatable AS relocatable
  FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'aitrack';
SELECT c.relname, c.relnamespace::regnamespace AS schema
  FROM pg_catalog.pg_class c
 WHERE c.relname IN ('ai_model', 'ai_call') ORDER BY 1;

-- Not on the search_path: call it qualified.
SHOW search_path;
SELECT ledger.record_ai_call('gpt-4o', 'v1', 'p', '{}', input_tokens => 5) AS id;
SELECT ledger.record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"input_tokens": 6}'::jsonb) AS id;
SELECT modelname, calls, input_tokens FROM ledger.ai_usage_stats();
SELECT count(*) FROM ledger.ai_call;

-- Not relocatable.
ALTER EXTENSION aitrack SET SCHEMA public;

-- 1.3: the tenant policies call the functions in the extension's schema,
-- and so does the drop guard's event trigger; the guard finds ai_call
-- there too: neither DROP EXTENSION nor DROP SCHEMA ... CASCADE deletes
-- the calls.
SELECT tablename, policyname, qual FROM pg_catalog.pg_policies
 WHERE schemaname = 'ledger' ORDER BY tablename;
SELECT evtname, evtfoid::regprocedure AS function FROM pg_catalog.pg_event_trigger;
DROP EXTENSION aitrack;
DROP SCHEMA ledger CASCADE;
SELECT count(*) AS calls_kept FROM ledger.ai_call;

-- Drop it and install it again in public, in this same session.  (1.3:
-- DROP EXTENSION refuses while ai_call holds calls; these are test calls.)
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
CREATE EXTENSION aitrack;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', input_tokens => 7) AS id;
SELECT modelname, calls, input_tokens FROM ai_usage_stats();
SELECT count(*) AS calls_in_public FROM public.ai_call;

-- And once more in the same schema: the tables are new, the session's plans
-- and cached model ids must not point at the old ones.
DROP EXTENSION aitrack;
CREATE EXTENSION aitrack;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', input_tokens => 8) AS id;
SELECT modelname, calls, input_tokens FROM ai_usage_stats();
DROP EXTENSION aitrack;
RESET aitrack.allow_drop;
DROP SCHEMA ledger;
