--
-- The drop guard (1.3): DROP EXTENSION aitrack, and any DROP ... CASCADE
-- that reaches it (its schema, btree_gist, DROP OWNED), is refused while
-- ai_call holds calls, unless aitrack.allow_drop = on.  A refused drop
-- drops nothing.  With ai_call empty, or allow_drop on, it goes ahead.
--
CREATE EXTENSION aitrack;
CREATE ROLE regress_aitrack_schema_owner;
-- What is there, to compare after each refusal.
CREATE FUNCTION regress_state(OUT extensions text, OUT calls bigint, OUT models bigint)
LANGUAGE sql AS $$
    SELECT (SELECT string_agg(e.extname || ' in ' || n.nspname, ', ' ORDER BY e.extname)
              FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
             WHERE e.extname IN ('aitrack', 'btree_gist')),
           (SELECT count(*) FROM ai_call),
           (SELECT count(*) FROM ai_model)
$$;

SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}') AS id;
SELECT count(*) FROM record_ai_calls('[{"modelname": "claude", "version": "3", "prompt": "p", "response": {}}]');
SHOW aitrack.allow_drop;
SELECT * FROM regress_state();

--
-- Refused, with a message that says why and what to do.
--
DROP EXTENSION aitrack;
DROP EXTENSION aitrack CASCADE;
DROP EXTENSION IF EXISTS aitrack;
-- A cascade from what aitrack depends on.  (NOTICEs off for the cascades
-- that reach beyond aitrack: they list whatever else the database holds.)
SET client_min_messages = warning;
DROP EXTENSION btree_gist CASCADE;
RESET client_min_messages;
-- ai_call itself: PostgreSQL refuses, as for any member of an extension.
DROP TABLE ai_call;
DROP TABLE ai_call CASCADE;
-- The extension's schema, with CASCADE (in a transaction, so that even a
-- broken guard could not take the rest of public with it).
BEGIN;
SET LOCAL client_min_messages = warning;
DROP SCHEMA public CASCADE;
ROLLBACK;
-- Without CASCADE, PostgreSQL's own refusal comes first.
\set VERBOSITY terse
DROP SCHEMA public;
\set VERBOSITY default
SELECT * FROM regress_state();

-- The SQLSTATE, for clients that test it.
DO $$
BEGIN
    DROP EXTENSION aitrack;
EXCEPTION WHEN dependent_objects_still_exist THEN
    RAISE NOTICE 'refused with SQLSTATE %', SQLSTATE;
END $$;

-- Inside a transaction the refusal aborts it; the calls and the extension
-- stay, and the session goes on.
BEGIN;
SELECT record_ai_call('gpt-4o', 'v1', 'in the transaction', '{}') > 0 AS recorded;
DROP EXTENSION aitrack;
SELECT 1;
ROLLBACK;
SELECT * FROM regress_state();

-- In a new session, before anything has loaded aitrack's library: the event
-- trigger loads it in time, so the guard holds there too.
\c
DROP EXTENSION aitrack;
\c
BEGIN;
SET LOCAL client_min_messages = warning;
DROP SCHEMA public CASCADE;
ROLLBACK;
\c
SET client_min_messages = warning;
DROP EXTENSION btree_gist CASCADE;
RESET client_min_messages;
SELECT * FROM regress_state();

--
-- aitrack.allow_drop = on lets the drop through.  SET LOCAL in a
-- transaction that rolls back leaves everything as it was.
--
BEGIN;
SET LOCAL aitrack.allow_drop = on;
DROP EXTENSION aitrack;
SELECT count(*) AS aitrack_installed FROM pg_extension WHERE extname = 'aitrack';
ROLLBACK;
SHOW aitrack.allow_drop;
SELECT * FROM regress_state();
DROP EXTENSION aitrack;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
SELECT count(*) AS aitrack_installed FROM pg_extension WHERE extname = 'aitrack';
SELECT count(*) AS aitrack_tables FROM pg_class WHERE relname LIKE 'ai\_%' AND relkind = 'r';
RESET aitrack.allow_drop;

--
-- An empty ledger may be dropped without allow_drop: a fresh install, or one
-- whose rows were all deleted.  1.4: every table pg_dump keeps counts
-- (calls, models, prices, purged numbers, tenant users), and TRUNCATE is
-- guarded like DROP.
--
CREATE EXTENSION aitrack;
DROP EXTENSION aitrack;
CREATE EXTENSION aitrack;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}') > 0 AS recorded;
DELETE FROM ai_call;
-- The model is left.
DROP EXTENSION aitrack;
DELETE FROM ai_model;
DROP EXTENSION aitrack;
CREATE EXTENSION aitrack;
SELECT count(*) FROM record_ai_calls('[{"modelname": "m", "version": "v", "prompt": "p", "response": {}}]');
TRUNCATE ai_call;
TRUNCATE ai_model, ai_call;
SET aitrack.allow_drop = on;
TRUNCATE ai_model, ai_call;
RESET aitrack.allow_drop;
SELECT (SELECT count(*) FROM ai_model) AS models, (SELECT count(*) FROM ai_call) AS calls;
DROP EXTENSION aitrack;
-- Prices are kept data too.
CREATE EXTENSION aitrack;
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}');
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}') > 0 AS recorded;
DELETE FROM ai_call;
DELETE FROM ai_model;
SELECT (SELECT count(*) FROM ai_model) AS models, (SELECT count(*) FROM ai_model_price) AS prices;
DROP EXTENSION aitrack;
TRUNCATE ai_model_price;
DELETE FROM ai_model_price;
DROP EXTENSION aitrack;
-- A call deleted in the same transaction is gone for the drop as well.
CREATE EXTENSION aitrack;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}') > 0 AS recorded;
BEGIN;
DELETE FROM ai_call;
DELETE FROM ai_model;
DROP EXTENSION aitrack;
COMMIT;
SELECT count(*) AS aitrack_installed FROM pg_extension WHERE extname = 'aitrack';

--
-- The extension in a schema of its own, owned by an ordinary role: DROP
-- SCHEMA ... CASCADE is refused while there are calls, also for that role.
--
CREATE SCHEMA ledger AUTHORIZATION regress_aitrack_schema_owner;
CREATE EXTENSION aitrack SCHEMA ledger;
SELECT ledger.record_ai_call('gpt-4o', 'v1', 'p', '{}') AS id;
DROP SCHEMA ledger CASCADE;
SET ROLE regress_aitrack_schema_owner;
DROP SCHEMA ledger CASCADE;
-- 1.4: nor can that role lift the guard (aitrack.allow_drop is for
-- superusers: 1.3 let a database's owner drop the ledger with it).
SET aitrack.allow_drop = on;
DROP SCHEMA ledger CASCADE;
RESET ROLE;
SELECT e.extname, n.nspname, (SELECT count(*) FROM ledger.ai_call) AS calls
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'aitrack';
-- Emptied, it goes.
DELETE FROM ledger.ai_call;
DELETE FROM ledger.ai_model;
SET ROLE regress_aitrack_schema_owner;
DROP SCHEMA ledger CASCADE;
RESET ROLE;
SELECT count(*) AS aitrack_installed FROM pg_extension WHERE extname = 'aitrack';

--
-- DROP OWNED BY the role that installed the extension.
--
CREATE ROLE regress_aitrack_installer SUPERUSER;
SET ROLE regress_aitrack_installer;
CREATE EXTENSION aitrack;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}') AS id;
RESET ROLE;
SELECT pg_get_userbyid(extowner) AS owner FROM pg_extension WHERE extname = 'aitrack';
DROP OWNED BY regress_aitrack_installer;
SELECT * FROM regress_state();
REASSIGN OWNED BY regress_aitrack_installer TO CURRENT_USER;
DROP ROLE regress_aitrack_installer;

--
-- Other drops are not affected: ordinary tables, and a table that is
-- merely named ai_call in another schema.
--
CREATE SCHEMA elsewhere;
CREATE TABLE elsewhere.ai_call AS SELECT 1 AS x;
CREATE TABLE elsewhere.t AS SELECT 1 AS x;
DROP TABLE elsewhere.ai_call;
DROP TABLE elsewhere.t;
CREATE TABLE elsewhere.ai_call AS SELECT 1 AS x;
DROP SCHEMA elsewhere CASCADE;
SELECT * FROM regress_state();

--
-- 1.4: the detours of 1.3.  The guard knows its tables by OID, not by name,
-- so a renamed or moved ai_call is still guarded; a table cannot leave the
-- extension while it holds rows; TRUNCATE and DROP COLUMN are refused too.
--
ALTER TABLE ai_call RENAME TO ai_call_2025;
DROP EXTENSION aitrack;
ALTER TABLE ai_call_2025 RENAME TO ai_call;
CREATE SCHEMA attic;
ALTER TABLE ai_call SET SCHEMA attic;
DROP EXTENSION aitrack;
DROP SCHEMA attic CASCADE;
ALTER TABLE attic.ai_call SET SCHEMA public;
DROP SCHEMA attic;
ALTER EXTENSION aitrack DROP TABLE ai_call;
ALTER TABLE ai_call DROP COLUMN prompt;
TRUNCATE ai_call;
TRUNCATE ai_model CASCADE;
SELECT * FROM regress_state();
-- Under session_replication_role = replica too (a superuser's setting).
SET session_replication_role = replica;
DROP EXTENSION aitrack;
ALTER EXTENSION aitrack DROP TABLE ai_call;
RESET session_replication_role;
SELECT * FROM regress_state();

SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
DROP FUNCTION regress_state();
DROP ROLE regress_aitrack_schema_owner;
