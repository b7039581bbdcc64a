--
-- Tenants (1.3): a role with aitrack.tenant = on sees, in ai_call and the
-- rollup tables and through ai_usage_stats(), only the calls of the user in
-- aitrack.user_id (or auth.uid(), Supabase's, when that is empty); with
-- neither it sees nothing.  ai_usage_rollup_total (sums over all users) is
-- closed to tenants, so ai_usage_stats answers them from per-user rows.
-- Roles without aitrack.tenant, and superusers, see everything.
--
-- Who is who below:
--   regress_aitrack_writer     records calls (EXECUTE only)
--   regress_aitrack_reporting  reads everything (the README's reporting grants)
--   regress_aitrack_tenant_a   tenant, LOGIN, ALTER ROLE ... SET aitrack.tenant = on
--   regress_aitrack_tenant_b   tenant, used through SET ROLE
--   regress_aitrack_app        LOGIN, member of tenant_a, not a tenant itself
-- and the end users alice (...0a), bob (...0b), carol (...0c), and calls
-- with no user at all.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
-- The superuser running the test, to come back to after \c as another role.
SELECT current_user AS superuser \gset

CREATE ROLE regress_aitrack_writer;
CREATE ROLE regress_aitrack_reporting;
CREATE ROLE regress_aitrack_tenant_a LOGIN;
CREATE ROLE regress_aitrack_tenant_b;
CREATE ROLE regress_aitrack_app LOGIN IN ROLE regress_aitrack_tenant_a;
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid),
    record_ai_calls(jsonb)
    TO regress_aitrack_writer;
-- Readers, tenants or not, get the same grants: what they see differs only
-- by aitrack.tenant.
GRANT EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
    TO regress_aitrack_reporting, regress_aitrack_tenant_a, regress_aitrack_tenant_b;
GRANT SELECT ON ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_purged
    TO regress_aitrack_reporting, regress_aitrack_tenant_a, regress_aitrack_tenant_b;
ALTER ROLE regress_aitrack_tenant_a SET aitrack.tenant = on;
ALTER ROLE regress_aitrack_tenant_b SET aitrack.tenant = on;
SELECT r.rolname, s.setconfig
  FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
 WHERE r.rolname LIKE 'regress_aitrack%' ORDER BY 1;

-- Short names for the users in the output.
CREATE FUNCTION regress_user(u uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE u WHEN '00000000-0000-0000-0000-00000000000a' THEN 'alice'
                  WHEN '00000000-0000-0000-0000-00000000000b' THEN 'bob'
                  WHEN '00000000-0000-0000-0000-00000000000c' THEN 'carol'
                  ELSE coalesce(u::text, '-') END
$$;
-- What the current role sees in each table (SECURITY INVOKER, so row-level
-- security applies as it does to the role's own queries).
CREATE FUNCTION regress_seen()
RETURNS TABLE (relation text, row_count bigint, calls numeric, users text)
LANGUAGE sql AS $$
    SELECT 'ai_call', count(*), count(*),
           string_agg(DISTINCT regress_user(user_id), ',' ORDER BY regress_user(user_id))
      FROM ai_call
    UNION ALL
    SELECT 'ai_usage_rollup', count(*), sum(calls),
           string_agg(DISTINCT regress_user(user_id), ',' ORDER BY regress_user(user_id))
      FROM ai_usage_rollup
    UNION ALL
    SELECT 'ai_usage_rollup_total', count(*), sum(calls), NULL FROM ai_usage_rollup_total
    UNION ALL
    SELECT 'ai_usage_purged', count(*), sum(calls),
           string_agg(DISTINCT regress_user(user_id), ',' ORDER BY regress_user(user_id))
      FROM ai_usage_purged
$$;
-- ai_usage_stats() in a few groupings, as the current role.
CREATE FUNCTION regress_stats(p_group_by text[], p_user_id uuid DEFAULT NULL,
                              p_tz text DEFAULT 'UTC', p_since timestamptz DEFAULT NULL,
                              p_until timestamptz DEFAULT NULL)
RETURNS TABLE (model text, status text, usr text, calls bigint, errors bigint,
               input_tokens bigint, output_tokens bigint, cost_usd numeric)
LANGUAGE sql AS $$
    SELECT s.modelname || coalesce('/' || s.version, ''), s.status, regress_user(s.user_id),
           s.calls, s.errors, s.input_tokens, s.output_tokens, s.cost_usd
      FROM ai_usage_stats(p_since, p_until, p_group_by, NULL, NULL, p_user_id, p_tz) s
$$;
-- Does ai_usage_stats() agree with the calls the role can see, counted by
-- hand (those in ai_call, plus the purged ones in ai_usage_purged)?  The
-- sum of calls over each grouping, and the calls of each user.
CREATE FUNCTION regress_stats_match()
RETURNS TABLE (grp text, matches boolean)
LANGUAGE sql AS $$
    WITH own AS (
        SELECT user_id, sum(n) AS calls
          FROM (SELECT user_id, 1 AS n FROM ai_call
                UNION ALL
                SELECT user_id, calls FROM ai_usage_purged) c
         GROUP BY user_id)
    SELECT grp, matches FROM (
        SELECT 1 AS ord, g AS grp,
               (SELECT coalesce(sum(s.calls), 0) FROM ai_usage_stats(group_by => g::text[]) s)
               = (SELECT coalesce(sum(calls), 0) FROM own) AS matches
          FROM unnest(ARRAY['{model}', '{modelname}', '{status}', '{user}', '{}', '{day}',
                            '{hour,model}', '{call_type,user}']) AS g
        UNION ALL
        SELECT 2, 'user ' || regress_user(o.user_id),
               (SELECT s.calls FROM ai_usage_stats(group_by => '{user}') s
                 WHERE s.user_id IS NOT DISTINCT FROM o.user_id) = o.calls
          FROM own o) m
     ORDER BY ord, grp COLLATE "C"
$$;

--
-- The writer records 24 calls over four hours of 2025-03-01, a quarter
-- each for alice, bob, carol and no user, over two models; they are
-- compacted (so ai_usage_rollup_total holds their sums over users); then 8
-- more that stay pending, and two through record_ai_call (one of each
-- shape), now.
--
SET ROLE regress_aitrack_writer;
SELECT count(*) FROM record_ai_calls(
  (SELECT jsonb_agg(jsonb_build_object(
              'modelname', (ARRAY['m1', 'm2'])[i / 2 % 2 + 1], 'version', 'v1',
              'prompt', 'prompt ' || i, 'response', jsonb_build_object('answer', i),
              'input_tokens', 100 + i, 'output_tokens', 10 + i, 'cost_usd', 0.001 * (i + 1),
              'duration_ms', 100 + 10 * i,
              'status', (ARRAY['success', 'error', 'success'])[i % 3 + 1],
              'user_id', (ARRAY['00000000-0000-0000-0000-00000000000a',
                                '00000000-0000-0000-0000-00000000000b',
                                '00000000-0000-0000-0000-00000000000c', NULL])[i % 4 + 1],
              'created_at', timestamptz '2025-03-01 10:00+00' + i * interval '10 minutes')
            ORDER BY i)
     FROM generate_series(0, 23) AS i));
RESET ROLE;
SELECT ai_rollup_compact() AS folded;
SET ROLE regress_aitrack_writer;
SELECT count(*) FROM record_ai_calls(
  (SELECT jsonb_agg(jsonb_build_object(
              'modelname', 'm1', 'version', 'v1', 'prompt', 'late ' || i, 'response', '{}'::jsonb,
              'input_tokens', 1000, 'output_tokens', 100, 'cost_usd', 0.5,
              'user_id', (ARRAY['00000000-0000-0000-0000-00000000000a',
                                '00000000-0000-0000-0000-00000000000b',
                                '00000000-0000-0000-0000-00000000000c', NULL])[i % 4 + 1],
              'created_at', timestamptz '2025-03-01 11:05+00' + i * interval '15 minutes')
            ORDER BY i)
     FROM generate_series(0, 7) AS i));
SELECT record_ai_call('m2', 'v1', 'now, alice', '{"usage": {"prompt_tokens": 7, "completion_tokens": 3}}',
                      cost_usd => 0.25, user_id => '00000000-0000-0000-0000-00000000000a') > 0 AS recorded;
SELECT record_ai_call('m2', 'v1', 'now, bob', '{"usage": {"prompt_tokens": 5, "completion_tokens": 2}}',
                      '{"cost_usd": 0.125}'::jsonb, NULL, '00000000-0000-0000-0000-00000000000b') > 0 AS recorded;
RESET ROLE;

-- The truth, by hand, as the superuser: calls per user.
SELECT regress_user(user_id) AS usr, count(*) AS calls, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd
  FROM ai_call GROUP BY 1 ORDER BY 1;

--
-- The superuser and the reporting role (no aitrack.tenant) see everything:
-- every user, the sums over users, and the {model} stats that read them.
--
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats_match();
SET ROLE regress_aitrack_reporting;
SELECT current_setting('aitrack.tenant') AS tenant;
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{modelname,status}');
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats_match();
RESET ROLE;

--
-- Tenant b through SET ROLE.  ALTER ROLE ... SET applies at login only, so
-- the superuser sets aitrack.tenant for the session first; it stays in
-- force after SET ROLE, and the tenant cannot turn it off.
--
SET aitrack.tenant = on;
SET ROLE regress_aitrack_tenant_b;
SET aitrack.tenant = off;
RESET aitrack.tenant;
SELECT set_config('aitrack.tenant', 'off', false);
SELECT current_setting('aitrack.tenant') AS tenant;
-- No aitrack.user_id and no auth.uid(): nothing at all (fail closed), in
-- every table and every grouping; the totals are one row of zeros.
SELECT current_setting('aitrack.user_id') AS user_id;
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats('{}');
SELECT * FROM regress_stats('{}', p_tz => 'Asia/Kolkata');
-- Bob: only bob's calls, in ai_call and ai_usage_rollup; the sums over
-- users stay closed; ai_usage_stats() gives bob's numbers in every grouping,
-- {model} (read from the sums over users for everybody else) included, and
-- through both of its paths (the rollups, and ai_call for a half-hour zone).
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000b';
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{modelname,status}');
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats('{}');
SELECT * FROM regress_stats('{}', p_tz => 'Asia/Kolkata');
SELECT * FROM regress_stats('{model}', p_since => '2025-03-01 10:30+00', p_until => '2025-03-01 12:45+00');
SELECT * FROM regress_stats_match();
-- Asking for another user's calls, by filter or by WHERE, finds nothing.
SELECT * FROM regress_stats('{}', p_user_id => '00000000-0000-0000-0000-00000000000a');
SELECT * FROM regress_stats('{model}', p_user_id => '00000000-0000-0000-0000-00000000000c');
SELECT count(*) FROM ai_call WHERE user_id = '00000000-0000-0000-0000-00000000000a';
SELECT count(*) FROM ai_call WHERE user_id IS NULL;
SELECT count(*) FROM ai_usage_rollup WHERE user_id <> '00000000-0000-0000-0000-00000000000b';
-- Its own user by filter: the same as without.
SELECT * FROM regress_stats('{}', p_user_id => '00000000-0000-0000-0000-00000000000b');
-- A value that is not a uuid is an error, not "everything".
SET aitrack.user_id = 'bob';
\set VERBOSITY terse
SELECT count(*) FROM ai_call;
SELECT * FROM regress_stats('{}');
\set VERBOSITY default
RESET aitrack.user_id;
RESET ROLE;

--
-- Supabase: with aitrack.user_id empty, a function auth.uid() returning
-- uuid (here the JWT's sub claim, as Supabase's does) names the user.
--
CREATE SCHEMA auth;
CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;
GRANT USAGE ON SCHEMA auth TO regress_aitrack_tenant_b;
SET ROLE regress_aitrack_tenant_b;
-- No claim: auth.uid() is NULL, nothing is seen.
SELECT auth.uid();
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{}');
-- Carol's JWT.
SET request.jwt.claim.sub = '00000000-0000-0000-0000-00000000000c';
SELECT regress_user(auth.uid());
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{}', p_user_id => '00000000-0000-0000-0000-00000000000a');
SELECT * FROM regress_stats_match();
-- 1.4: auth.uid() outranks aitrack.user_id, so a tenant's own SET cannot
-- pick another user (1.3 let aitrack.user_id win: carol read alice's calls).
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000a';
SELECT * FROM regress_stats('{user}');
RESET aitrack.user_id;
RESET request.jwt.claim.sub;
SELECT * FROM regress_stats('{}');
RESET ROLE;
-- A tenant that may not use schema auth: an error, which still shows
-- nothing, with or without aitrack.user_id (auth.uid() exists, so it decides).
REVOKE USAGE ON SCHEMA auth FROM regress_aitrack_tenant_b;
SET ROLE regress_aitrack_tenant_b;
SELECT count(*) FROM ai_call;
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000c';
SELECT count(*) FROM ai_call;
RESET aitrack.user_id;
RESET ROLE;
RESET aitrack.tenant;
-- Roles that are not tenants never look for a user: a schema auth they may
-- not use, a claim auth.uid() cannot read, or an aitrack.user_id that is
-- not a uuid change nothing for them.
SET ROLE regress_aitrack_reporting;
SELECT count(*) FROM ai_call;
SELECT calls FROM ai_usage_stats(group_by => '{}');
SET request.jwt.claim.sub = 'not a uuid';
SET aitrack.user_id = 'not a uuid either';
SELECT count(*) FROM ai_call;
SELECT sum(calls) AS calls FROM ai_usage_rollup;
SELECT calls FROM ai_usage_stats(group_by => '{}');
RESET aitrack.user_id;
RESET request.jwt.claim.sub;
RESET ROLE;
DROP SCHEMA auth CASCADE;

--
-- Tenant a logs in (\c): its ALTER ROLE setting applies.  Before anything
-- has loaded aitrack's library in the new session, aitrack.tenant is only a
-- placeholder, so SET seems to work; the library, once loaded (by the first
-- query below), refuses the value with a WARNING and keeps the role's "on".
--
\c - regress_aitrack_tenant_a
SET aitrack.tenant = off;
SELECT count(*) FROM ai_call;
SELECT current_setting('aitrack.tenant') AS tenant;
-- From then on SET is refused outright, and the role cannot undo its own
-- ALTER ROLE setting either (RESET ALL keeps what it may not change).
SET aitrack.tenant = off;
SET aitrack.tenant = on;
RESET aitrack.tenant;
BEGIN;
SET LOCAL aitrack.tenant = off;
ROLLBACK;
SELECT set_config('aitrack.tenant', 'off', true);
ALTER ROLE CURRENT_USER SET aitrack.tenant = off;
ALTER ROLE CURRENT_USER RESET aitrack.tenant;
ALTER ROLE CURRENT_USER RESET ALL;
SELECT current_setting('aitrack.tenant') AS tenant;
-- Without a user: nothing.
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
-- Alice.
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000a';
SELECT * FROM regress_seen();
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats_match();
SELECT * FROM regress_stats('{}', p_user_id => '00000000-0000-0000-0000-00000000000b');
SELECT count(*) FROM ai_call WHERE user_id <> '00000000-0000-0000-0000-00000000000a' OR user_id IS NULL;
-- Nor does it write: tenants read.
DELETE FROM ai_call;
-- aitrack.user_id is the application's to set, per session or transaction
-- (like Supabase's request.jwt.claim.sub): whoever can run SET in a tenant
-- session chooses the user.  SET LOCAL lasts for the transaction.
BEGIN;
SET LOCAL aitrack.user_id = '00000000-0000-0000-0000-00000000000b';
SELECT * FROM regress_stats('{user}');
COMMIT;
SELECT * FROM regress_stats('{user}');
\c - :superuser
-- Its ALTER ROLE setting is still there.
SELECT r.rolname, s.setconfig
  FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
 WHERE r.rolname LIKE 'regress_aitrack%' ORDER BY 1;

--
-- A session that logs in as another role and then SET ROLEs to the tenant
-- role is a tenant too (1.4 reads the role's setting from the catalog; 1.3
-- applied it only at login, so such a session saw everything).
--
\c - regress_aitrack_app
SET ROLE regress_aitrack_tenant_a;
SELECT * FROM regress_seen();
SELECT current_user, current_setting('aitrack.tenant') AS tenant;
\c - :superuser
SET timezone = 'UTC';

--
-- After a purge: the numbers of the calls made before 2025-03-01 12:00
-- move to ai_usage_purged, and a tenant sees only its own user's there too.
--
CALL ai_purge_calls('2025-03-01 12:00+00');
SELECT regress_user(user_id) AS usr, sum(calls) AS purged_calls FROM ai_usage_purged GROUP BY 1 ORDER BY 1;
SELECT * FROM regress_seen();
SELECT * FROM regress_stats_match();
SET aitrack.tenant = on;
SET ROLE regress_aitrack_tenant_b;
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000b';
SELECT * FROM regress_seen();
SELECT count(*) FROM ai_usage_purged WHERE user_id IS DISTINCT FROM '00000000-0000-0000-0000-00000000000b';
SELECT * FROM regress_stats('{model}');
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats('{}', p_user_id => '00000000-0000-0000-0000-00000000000c');
SELECT * FROM regress_stats('{}', p_since => '2025-03-01 09:00+00', p_until => '2025-03-01 12:00+00');
SELECT * FROM regress_stats_match();
RESET ROLE;

--
-- The writer records regardless of tenant mode (record_ai_call and
-- record_ai_calls are SECURITY DEFINER), for any user, with or without
-- aitrack.user_id; a tenant then sees only its own.
--
SET ROLE regress_aitrack_writer;
SELECT current_setting('aitrack.tenant') AS tenant, current_setting('aitrack.user_id') AS user_id;
SELECT record_ai_call('m1', 'v1', 'p', '{}', user_id => '00000000-0000-0000-0000-00000000000c') > 0 AS recorded;
SELECT record_ai_call('m1', 'v1', 'p', '{}', '{"input_tokens": 1}'::jsonb) > 0 AS recorded;
SELECT count(*) FROM record_ai_calls('[{"modelname": "m1", "version": "v1", "prompt": "p", "response": {},
                                       "user_id": "00000000-0000-0000-0000-00000000000b"},
                                      {"modelname": "m3", "version": "v1", "prompt": "p", "response": {}}]');
SET aitrack.user_id = '';
SELECT record_ai_call('m1', 'v1', 'p', '{}') > 0 AS recorded;
RESET ROLE;
RESET aitrack.tenant;
SELECT regress_user(user_id) AS usr, count(*) AS calls FROM ai_call GROUP BY 1 ORDER BY 1;
SET aitrack.tenant = on;
SET ROLE regress_aitrack_tenant_b;
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000b';
SELECT * FROM regress_stats('{user}');
SELECT * FROM regress_stats_match();
RESET aitrack.user_id;
RESET ROLE;
RESET aitrack.tenant;

--
-- 1.4: a role mapped in ai_tenant_user is that user, whatever it sets and
-- whatever tenant role it SET ROLEs to (aitrack_tenant itself included,
-- which a member may SET ROLE to).
--
CREATE ROLE regress_aitrack_mapped LOGIN IN ROLE aitrack_tenant;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_aitrack_mapped', '00000000-0000-0000-0000-00000000000a');
\c - regress_aitrack_mapped
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000b';
SELECT ai_tenant_user_id(), (SELECT count(*) FROM ai_call WHERE user_id IS DISTINCT FROM ai_tenant_user_id()) AS others;
SET ROLE aitrack_tenant;
SELECT ai_tenant_user_id(), (SELECT count(*) FROM ai_call WHERE user_id IS DISTINCT FROM ai_tenant_user_id()) AS others;
SELECT record_ai_call('m1', 'v1', 'as mapped', '{}', '{}'::jsonb) AS id \gset
SELECT user_id FROM ai_call WHERE id = :id;
RESET ROLE;
RESET aitrack.user_id;
\c - :superuser
-- Two mappings in one session that disagree: no user at all.
CREATE ROLE regress_aitrack_mapped_b IN ROLE aitrack_tenant;
GRANT regress_aitrack_mapped_b TO regress_aitrack_mapped;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_aitrack_mapped_b', '00000000-0000-0000-0000-00000000000b');
\c - regress_aitrack_mapped
SET ROLE regress_aitrack_mapped_b;
SELECT ai_tenant_user_id(), (SELECT count(*) FROM ai_call) AS seen;
RESET ROLE;
\c - :superuser
DELETE FROM ai_tenant_user;
DROP ROLE regress_aitrack_mapped_b, regress_aitrack_mapped;

SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
DROP FUNCTION regress_stats_match(), regress_stats(text[], uuid, text, timestamptz, timestamptz),
              regress_seen(), regress_user(uuid);
DROP ROLE regress_aitrack_writer, regress_aitrack_reporting, regress_aitrack_tenant_a,
          regress_aitrack_tenant_b, regress_aitrack_app;
