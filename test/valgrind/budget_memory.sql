-- test/valgrind/budget_memory.sql: what scripts/valgrind.sh runs against a
-- server started with shared_preload_libraries = 'aitrack' and
-- aitrack.budget_reservations = 'memory', after pg_regress: every path of
-- src/budget_memory.c once (the assertions are test/t/009_budget_memory.pl's;
-- here valgrind looks on).  Errors expected by the script are caught.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP DATABASE IF EXISTS aitrack_vg_memory;
CREATE DATABASE aitrack_vg_memory;
\c aitrack_vg_memory
SET client_min_messages = warning;
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model (modelname, version) VALUES ('vg-m', '1');
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('each user', 'user', 'month', 1);
INSERT INTO ai_budget (name, scope, period, limit_usd, hard) VALUES ('projects', 'project', 'month', 10, false);
SELECT name, effective FROM ai_settings() WHERE name = 'aitrack.budget_reservations';
SELECT ai_budget_reserve(0.4, '00000000-0000-0000-0000-0000000000e1', project => repeat('p', 200)) AS r \gset
SELECT id = :r AS listed, amount_usd, state, holds FROM ai_budget_memory_reservations();
SELECT budget, reserved_usd, allowed FROM ai_budget_check(0.3, '00000000-0000-0000-0000-0000000000e1');
DO $$ BEGIN PERFORM ai_budget_reserve(0.7, '00000000-0000-0000-0000-0000000000e1');
EXCEPTION WHEN configuration_limit_exceeded THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
SELECT ai_budget_settle(:r, record_ai_call('vg-m', '1', 'p', 'null', cost_usd => 0.3,
                                           user_id => '00000000-0000-0000-0000-0000000000e1')) AS settled;
SELECT budget, spent_usd, reserved_usd FROM ai_budget_status ORDER BY 1;
BEGIN;
SELECT ai_budget_reserve(0.1, '00000000-0000-0000-0000-0000000000e1') AS r2 \gset
SAVEPOINT a;
SELECT ai_budget_release(:r2);
ROLLBACK TO a;
SAVEPOINT b;
SELECT ai_budget_release(:r2);
RELEASE b;
COMMIT;
BEGIN;
SELECT ai_budget_reserve(0.1, '00000000-0000-0000-0000-0000000000e1') > 0;
ROLLBACK;
SELECT ai_budget_reserve(0.1, '00000000-0000-0000-0000-0000000000e1', expires_in => '1 millisecond');
SELECT pg_sleep(0.01);
SELECT count(*) AS left_after_expiry FROM ai_budget_memory_reservations();
DO $$ BEGIN FOR i IN 1..300 LOOP PERFORM ai_budget_release(ai_budget_reserve(0.001, project => 'p' || (i % 7))); END LOOP; END $$;
CREATE ROLE aitrack_vg_tenant LOGIN IN ROLE aitrack_tenant;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('aitrack_vg_tenant', '00000000-0000-0000-0000-0000000000e1');
SET ROLE aitrack_vg_tenant;
SELECT ai_budget_reserve(0.2) AS tr \gset
SELECT reserved_usd FROM ai_budget_check(0.1);
SELECT ai_budget_release(:tr) AS tenant_released;
RESET ROLE;
DROP ROLE aitrack_vg_tenant;
SELECT count(*) AS left_at_end FROM ai_budget_memory_reservations();
\c postgres
DROP DATABASE aitrack_vg_memory;
SELECT 'budget_memory.sql done' AS done;
