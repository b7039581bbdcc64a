-- A Supabase-like platform (1.4): its API roles anon, authenticated and
-- service_role, an authenticator login that switches to them with SET ROLE
-- (PostgREST does it with set_config('role', ..., true) per request),
-- auth.uid() from the request's JWT claim, and default privileges that give
-- the API roles ALL on every new table, function and sequence in public.
-- aitrack installs under them with exactly its own grants, and the roles
-- get what the group roles give them, nothing more.
SELECT current_user AS superuser \gset
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE service_role NOLOGIN BYPASSRLS;
CREATE ROLE authenticator LOGIN NOINHERIT;
GRANT anon, authenticated, service_role TO authenticator;
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;

-- The install revokes what the default privileges handed out, and says so.
CREATE EXTENSION aitrack;
-- The jobs, one grant each.
GRANT aitrack_tenant TO authenticated;
GRANT aitrack_admin TO service_role;

-- The privilege matrix: every object of the extension, what each API role
-- may do with it (r: SELECT, w: INSERT/UPDATE/DELETE/TRUNCATE, x: EXECUTE,
-- u: USAGE on a sequence).
CREATE FUNCTION pg_temp.may(role name, kind text, oid oid) RETURNS text LANGUAGE sql AS $$
    SELECT CASE kind
        WHEN 'table' THEN
            CASE WHEN has_table_privilege(role, oid, 'SELECT') THEN 'r' ELSE '-' END ||
            CASE WHEN has_table_privilege(role, oid, 'INSERT, UPDATE, DELETE, TRUNCATE') THEN 'w' ELSE '-' END
        WHEN 'sequence' THEN
            CASE WHEN has_sequence_privilege(role, oid, 'USAGE, UPDATE') THEN 'u' ELSE '-' END
        ELSE CASE WHEN has_function_privilege(role, oid, 'EXECUTE') THEN 'x' ELSE '-' END END
$$;
SELECT o.object, pg_temp.may('anon', o.kind, o.oid) AS anon,
       pg_temp.may('authenticated', o.kind, o.oid) AS authenticated,
       pg_temp.may('service_role', o.kind, o.oid) AS service_role
  FROM (SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind, c.oid,
               c.relname::text AS object
          FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e' AND c.relkind IN ('r', 'S')
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack')
        UNION ALL
        SELECT 'function', p.oid, p.oid::regprocedure::text
          FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
         WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack')) AS o
 ORDER BY o.kind DESC, o.object COLLATE "C";

-- Data of two users, recorded by the platform's backend.
SELECT record_ai_call('gpt-4o', 'v1', 'alice''s prompt', '{}', input_tokens => 10, output_tokens => 1,
                      user_id => '00000000-0000-4000-8000-00000000000a') > 0 AS recorded;
SELECT record_ai_call('gpt-4o', 'v1', 'bob''s prompt', '{}', input_tokens => 20, output_tokens => 2,
                      user_id => '00000000-0000-4000-8000-00000000000b') > 0 AS recorded;

\c - authenticator
-- An anonymous request: nothing to read, nothing to write, nothing to run.
SET ROLE anon;
SELECT count(*) FROM ai_call;
SELECT * FROM ai_usage_stats();
SELECT record_ai_call('gpt-4o', 'v1', 'anon', '{}');
CALL ai_purge_calls(now());
SELECT ai_rollup_compact();
DELETE FROM ai_model;
SELECT setval('ai_call_id_seq', 1);
RESET ROLE;

-- Alice's request, as PostgREST makes it: in a transaction, the role and
-- the JWT claim set locally.
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-00000000000a', true);
SELECT prompt, user_id FROM ai_call ORDER BY id;
SELECT modelname, user_id, calls, input_tokens FROM ai_usage_stats(group_by => '{model,user}');
-- She records her own calls: user_id is hers when not given ...
SELECT record_ai_call('gpt-4o', 'v1', 'alice again', '{}', input_tokens => 5) > 0 AS recorded;
SELECT count(*) FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "v1", "prompt": "alice batch", "response": {}}]');
COMMIT;
-- ... and cannot be another's.
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-00000000000a', true);
SELECT record_ai_call('gpt-4o', 'v1', 'as bob', '{}', user_id => '00000000-0000-4000-8000-00000000000b');
ROLLBACK;
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-00000000000a', true);
SELECT count(*) FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "v1", "prompt": "as bob", "response": {},
                                       "user_id": "00000000-0000-4000-8000-00000000000b"}]');
ROLLBACK;
-- Nor can a setting of her own make her Bob (auth.uid() decides), in the
-- table or the stats; nor can she write the ledger or the prices directly.
BEGIN;
SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claim.sub', '00000000-0000-4000-8000-00000000000a', true);
SET LOCAL aitrack.user_id = '00000000-0000-4000-8000-00000000000b';
SAVEPOINT before_tenant_off;
SET LOCAL aitrack.tenant = off;
ROLLBACK TO SAVEPOINT before_tenant_off;
SELECT prompt, user_id FROM ai_call ORDER BY id;
SELECT modelname, user_id, calls FROM ai_usage_stats(group_by => '{model,user}');
SELECT count(*) FROM ai_usage_rollup_total;
ROLLBACK;
BEGIN;
SELECT set_config('role', 'authenticated', true) IS NOT NULL AS as_authenticated;
UPDATE ai_call SET user_id = '00000000-0000-4000-8000-00000000000a';
ROLLBACK;
BEGIN;
SELECT set_config('role', 'authenticated', true) IS NOT NULL AS as_authenticated;
DELETE FROM ai_model_price;
ROLLBACK;
-- A request without a JWT claim as authenticated: sees nothing, records nothing.
BEGIN;
SELECT set_config('role', 'authenticated', true);
SELECT count(*) FROM ai_call;
SELECT record_ai_call('gpt-4o', 'v1', 'nobody', '{}');
ROLLBACK;


-- service_role (aitrack_admin): sees every call and runs the upkeep.
SET ROLE service_role;
SELECT prompt, user_id FROM ai_call ORDER BY id;
SELECT model, action FROM ai_load_prices('{"gpt-4o-v1": {"input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}');
SELECT calls_checked, calls_changed FROM ai_reprice(NULL, NULL, false);
SELECT ai_rollup_compact() >= 0 AS compacted;
SELECT modelname, calls, cost_usd FROM ai_usage_stats(group_by => '{model}');
RESET ROLE;

\c - :superuser
-- auth.uid() runs as the tenant, with search_path pinned: a tenant's own
-- current_setting() first on its search_path neither runs as the
-- extension's owner (record_ai_call is SECURITY DEFINER) nor picks the user.
CREATE ROLE regress_planter IN ROLE aitrack_tenant;
CREATE SCHEMA planter AUTHORIZATION regress_planter;
GRANT USAGE ON SCHEMA auth TO regress_planter;
SET ROLE regress_planter;
CREATE FUNCTION planter.current_setting(text, boolean) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'planted current_setting() ran as %', current_user;
END $$;
SET search_path = planter, pg_catalog, public;
SET request.jwt.claim.sub = '00000000-0000-4000-8000-00000000000a';
SELECT ai_tenant_user_id();
SELECT record_ai_call('gpt-4o', 'v1', 'planted', '{}') AS id \gset
SELECT prompt, user_id FROM public.ai_call WHERE id = :id;
RESET request.jwt.claim.sub;
RESET search_path;
RESET ROLE;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_planter';
DROP SCHEMA planter CASCADE;
REVOKE USAGE ON SCHEMA auth FROM regress_planter;
DROP ROLE regress_planter;

-- Default privileges still in force give nothing more on update either.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
RESET aitrack.allow_drop;
CREATE EXTENSION aitrack VERSION '1.3';
SELECT has_table_privilege('anon', 'ai_call', 'SELECT') AS anon_reads_1_3_calls;
-- A group role that a non-superuser may grant (the CREATEROLE role that
-- made it holds ADMIN OPTION from 16 on) is not taken as aitrack's.
CREATE ROLE regress_grantor;
GRANT aitrack_admin TO regress_grantor WITH ADMIN OPTION;
\set VERBOSITY terse
ALTER EXTENSION aitrack UPDATE TO '1.4';
\set VERBOSITY default
REVOKE aitrack_admin FROM regress_grantor;
DROP ROLE regress_grantor;
ALTER EXTENSION aitrack UPDATE TO '1.4';
SELECT has_table_privilege('anon', 'ai_call', 'SELECT') AS anon_reads_calls,
       has_function_privilege('anon', 'ai_purge_calls(timestamptz, integer)', 'EXECUTE') AS anon_purges,
       has_function_privilege('anon', 'record_ai_call(text, text, text, jsonb, jsonb, text, uuid)', 'EXECUTE') AS anon_records;

-- Running the reset again (as a later update does) keeps a DBA's revoke
-- and a DBA's grant alike.
REVOKE EXECUTE ON FUNCTION record_ai_calls(jsonb) FROM aitrack_writer;
GRANT SELECT (id, cost_usd) ON ai_call TO service_role;
SELECT ai_reset_privileges();
SELECT has_function_privilege('aitrack_writer', 'record_ai_calls(jsonb)', 'EXECUTE') AS writer_batches,
       has_column_privilege('service_role', 'ai_call', 'cost_usd', 'SELECT') AS service_role_reads_cost;
GRANT EXECUTE ON FUNCTION record_ai_calls(jsonb) TO aitrack_writer;
REVOKE SELECT (id, cost_usd) ON ai_call FROM service_role;

SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON FUNCTIONS FROM anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM anon, authenticated, service_role;
DROP SCHEMA auth CASCADE;
DROP ROLE authenticator, anon, authenticated, service_role;
