--
-- budgets_engine (1.8): spend control in C.  What an attack review of the
-- engine found, each case with the behaviour it must have: however a
-- reservation ends, what it held comes off the spend row; the clearing
-- and the recount work for aitrack_admin; expires_in is measured, not
-- compared as an interval; a tenant's reservation holds nothing against a
-- shared budget, also after a budget change; a period ends at the next
-- local midnight where DST starts at midnight; a long statement counts
-- exactly (its entries merged as it goes).  After 1.8: spend rows and
-- reservations change without SQL (src/budget_rows.c), unless a table has
-- a trigger of someone else's, whose trigger then fires as before.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
\set SHOW_CONTEXT never
INSERT INTO ai_model (modelname, version) VALUES ('e-m', '1');
CREATE ROLE regress_engine_admin IN ROLE aitrack_admin;
CREATE ROLE regress_engine_writer IN ROLE aitrack_writer;
CREATE ROLE regress_engine_tenant IN ROLE aitrack_tenant, aitrack_writer;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_engine_tenant', '00000000-0000-0000-0000-0000000000e1');
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('all', 'all', 'day', 1);
CREATE FUNCTION e_held() RETURNS TABLE (budget text, scope_value text, reserved numeric)
LANGUAGE sql AS $$
    SELECT b.name, s.scope_value, s.reserved_usd FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id
     ORDER BY 1, 2
$$;

-- An admin deletes a reservation (1.7 let one): what it held comes off.
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.6) AS r \gset
RESET ROLE;
SELECT * FROM e_held();
SET ROLE regress_engine_admin;
DELETE FROM ai_budget_reservation WHERE id = :r;
RESET ROLE;
SELECT * FROM e_held();
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.6) > 0 AS reserved_again;
RESET ROLE;
-- ... and a TRUNCATE (by the owner) leaves nothing held.
TRUNCATE ai_budget_reservation;
SELECT * FROM e_held();

-- The clearing of expired reservations, as aitrack_admin (1.7's worked,
-- 1.8's first version did not: it writes the spend rows).
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.3) AS r \gset
RESET ROLE;
UPDATE ai_budget_reservation SET expires_at = now() - interval '1 second' WHERE id = :r;
SET ROLE regress_engine_admin;
SELECT ai_budget_clear_expired() AS cleared;
SELECT ai_budget_recount() AS recounted;
RESET ROLE;
SELECT * FROM e_held();

-- expires_in is what it lasts from now: an interval that compares as at
-- most a day (a month counting 30 days) but lasts for years is refused,
-- and so is one past a tenant's 15 minutes.
SELECT ai_budget_reserve(0.1, expires_in => '1000 years -359999 days');
SELECT ai_budget_reserve(0.1, expires_in => '1 day 00:00:01');
SELECT ai_budget_reserve(0.1, expires_in => '1 day') > 0 AS one_day;
SET ROLE regress_engine_tenant;
SELECT ai_budget_reserve(0.1, expires_in => '1 day -23:44:59');
SELECT ai_budget_reserve(0.1, expires_in => '1 day -23:45') > 0 AS quarter_hour;
RESET ROLE;
DELETE FROM ai_budget_reservation;

-- A tenant's reservation holds nothing against the shared budget 'all',
-- also once the budget's zone changes and the holds are made again.
SET ROLE regress_engine_tenant;
SELECT ai_budget_reserve(0.9) AS tr \gset
RESET ROLE;
SELECT hold_budget_ids, by_tenant FROM ai_budget_reservation WHERE id = :tr;
UPDATE ai_budget SET time_zone = 'Europe/Berlin' WHERE name = 'all';
SELECT hold_budget_ids, by_tenant FROM ai_budget_reservation WHERE id = :tr;
SELECT * FROM e_held();
SELECT ai_budget_reserve(0.5) > 0 AS others_not_blocked;
DELETE FROM ai_budget_reservation;

-- A day in Cairo where DST began at midnight (1995-04-28 started at 01:00
-- local, 22:00 UTC the day before): the day ends at the next local
-- midnight, 21:00 UTC (1.7: 22:00, an hour into the next day).
SELECT ai_budget_period_start('day', 'Africa/Cairo', '1995-04-28 12:00+00') AS day_start,
       ai_budget_period_end('day', 'Africa/Cairo',
                            ai_budget_period_start('day', 'Africa/Cairo', '1995-04-28 12:00+00')) AS day_end,
       ai_budget_period_start('day', 'Africa/Cairo', '1995-04-29 12:00+00') AS next_start;

-- A long statement: 40,000 calls of 500 users with two tags each, against
-- a per-user and a per-tag budget (120,000 shares, merged as the trigger
-- goes, 65,536 at a time), counted exactly.
DELETE FROM ai_budget;
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('per user', 'user', 'lifetime', 1e9);
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('per tag', 'tag', 'lifetime', 1e9);
INSERT INTO ai_call (created_at, model_id, prompt, response, input_tokens, output_tokens, cost_usd,
                     cost_source, user_id, tags)
SELECT now(), (SELECT id FROM ai_model WHERE modelname = 'e-m'), 'p', '{}', 1, 0,
       CASE WHEN i % 7 = 0 THEN NULL ELSE (i % 13) * 0.001 END,
       CASE WHEN i % 7 = 0 THEN 'unknown' ELSE 'provided' END,
       ('00000000-0000-0000-0000-' || lpad((i % 500)::text, 12, '0'))::uuid,
       ARRAY['t' || (i % 3), 'u' || (i % 5)]
  FROM generate_series(1, 40000) i;
SELECT b.name, count(*) AS spend_rows, sum(s.calls) AS calls, sum(s.spent_usd) AS spent,
       sum(s.unpriced_calls) AS unpriced
  FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id GROUP BY 1 ORDER BY 1;
-- against the calls themselves, row by row
SELECT count(*) AS differing FROM (
    (SELECT s.scope_value, s.calls, s.spent_usd FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id
      WHERE b.name = 'per user'
     EXCEPT
     SELECT c.user_id::text, count(*), COALESCE(sum(c.cost_usd), 0) FROM ai_call c GROUP BY 1)
    UNION ALL
    (SELECT s.scope_value, s.calls, s.spent_usd FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id
      WHERE b.name = 'per tag'
     EXCEPT
     SELECT t, count(*), COALESCE(sum(c.cost_usd), 0) FROM ai_call c, unnest(c.tags) t GROUP BY 1)) d;

-- After 1.8: the direct changes (src/budget_rows.c), and their fallback.  A
-- reservation around a call, settled: held, counted, taken off, exactly.
-- (The budget's creation counts the calls above into it: only user d1's
-- row is looked at.)
DELETE FROM ai_budget;
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('direct', 'user', 'lifetime', 1);
CREATE FUNCTION e_d1() RETURNS TABLE (spent numeric, reserved numeric, calls bigint)
LANGUAGE sql AS $$
    SELECT s.spent_usd, s.reserved_usd, s.calls FROM ai_budget_spend s
     WHERE s.scope_value = '00000000-0000-0000-0000-0000000000d1'
$$;
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.25, '00000000-0000-0000-0000-0000000000d1') AS r \gset
RESET ROLE;
SELECT * FROM e_d1();
SET ROLE regress_engine_writer;
SELECT record_ai_call('e-m', '1', 'p', '{}', cost_usd => 0.125,
                      user_id => '00000000-0000-0000-0000-0000000000d1') AS call \gset
SELECT ai_budget_settle(:r, :call) AS settled, ai_budget_settle(:r, :call) AS settled_again;
-- a hard limit: 0.125 spent, 0.875 may be held, not a cent more
SELECT ai_budget_reserve(0.875001, '00000000-0000-0000-0000-0000000000d1');
SELECT ai_budget_reserve(0.875, '00000000-0000-0000-0000-0000000000d1') AS r2 \gset
RESET ROLE;
SELECT * FROM e_d1();
SET ROLE regress_engine_writer;
SELECT ai_budget_release(:r2) AS released, ai_budget_release(:r2) AS released_again;
RESET ROLE;
SELECT * FROM e_d1();
-- A trigger of the user's own on ai_budget_spend: counting and holding go
-- through SQL, and it fires for each change, as for any UPDATE.
CREATE FUNCTION e_spend_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'spend row %: spent % reserved %', TG_OP, NEW.spent_usd, NEW.reserved_usd;
    RETURN NEW;
END $$;
CREATE TRIGGER e_spend_seen AFTER UPDATE ON ai_budget_spend FOR EACH ROW EXECUTE FUNCTION e_spend_seen();
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.5, '00000000-0000-0000-0000-0000000000d1') AS r3 \gset
SELECT ai_budget_settle(:r3, record_ai_call('e-m', '1', 'p', '{}', cost_usd => 0.25,
                        user_id => '00000000-0000-0000-0000-0000000000d1')) AS settled;
RESET ROLE;
DROP TRIGGER e_spend_seen ON ai_budget_spend;
-- ... and one on ai_budget_reservation: the settle's delete goes through
-- SQL, and it fires.
CREATE FUNCTION e_reservation_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'reservation ended: % USD', OLD.amount_usd;
    RETURN OLD;
END $$;
CREATE TRIGGER e_reservation_gone AFTER DELETE ON ai_budget_reservation FOR EACH ROW EXECUTE FUNCTION e_reservation_gone();
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.0625, '00000000-0000-0000-0000-0000000000d1') AS r4 \gset
SELECT ai_budget_release(:r4) AS released;
RESET ROLE;
DROP TRIGGER e_reservation_gone ON ai_budget_reservation;
SELECT * FROM e_d1();
SELECT count(*) AS reservations_left FROM ai_budget_reservation;

-- What an attack review of the direct changes found.  A read-only
-- transaction cannot end a reservation (the write goes through SQL, which
-- says so).
SET ROLE regress_engine_writer;
SELECT ai_budget_reserve(0.0625, '00000000-0000-0000-0000-0000000000d1') AS r5 \gset
BEGIN READ ONLY;
SELECT ai_budget_release(:r5);
ROLLBACK;
SELECT ai_budget_release(:r5) AS released;
RESET ROLE;
-- A replica identity other than the primary key: the rows are still found.
CREATE UNIQUE INDEX e_spend_ri ON ai_budget_spend (budget_id, scope_value, period_start);
ALTER TABLE ai_budget_spend REPLICA IDENTITY USING INDEX e_spend_ri;
CREATE UNIQUE INDEX e_reservation_ri ON ai_budget_reservation (id);
ALTER TABLE ai_budget_reservation REPLICA IDENTITY USING INDEX e_reservation_ri;
SET ROLE regress_engine_writer;
SELECT ai_budget_release(ai_budget_reserve(0.5, '00000000-0000-0000-0000-0000000000d1')) AS released
  FROM generate_series(1, 3);
RESET ROLE;
SELECT * FROM e_d1();
ALTER TABLE ai_budget_spend REPLICA IDENTITY DEFAULT;
ALTER TABLE ai_budget_reservation REPLICA IDENTITY DEFAULT;
DROP INDEX e_spend_ri, e_reservation_ri;
-- The spend row written earlier in the same command (a data-modifying
-- CTE): the count sees it.
WITH touched AS (UPDATE ai_budget_spend SET alerted_pct = '{}'
                  WHERE scope_value = '00000000-0000-0000-0000-0000000000d1' RETURNING 1)
INSERT INTO ai_call (model_id, prompt, response, cost_usd, cost_source, user_id)
SELECT (SELECT id FROM ai_model WHERE modelname = 'e-m'), 'p', '{}', 0.0625, 'provided',
       '00000000-0000-0000-0000-0000000000d1' FROM touched;
SELECT * FROM e_d1();
-- A count past bigint: the error int8 addition gives, nothing written.
UPDATE ai_budget_spend SET calls = 9223372036854775807
 WHERE scope_value = '00000000-0000-0000-0000-0000000000d1';
SELECT record_ai_call('e-m', '1', 'p', '{}', cost_usd => 1,
                      user_id => '00000000-0000-0000-0000-0000000000d1');
SELECT * FROM e_d1();

DELETE FROM ai_budget;
DELETE FROM ai_tenant_user;
DROP ROLE regress_engine_admin, regress_engine_writer, regress_engine_tenant;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
