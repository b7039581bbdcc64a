--
-- budgets (1.7): spend counted by the trigger on ai_call in the recording
-- transaction, under every budget a call falls under; reservations that a
-- hard budget refuses; alert thresholds marked once per period; periods
-- cut in the budget's zone; a budget created late counts its period so
-- far; tenants see their own user's budgets and spend only; bad input.
-- (NOTIFY payloads and concurrency: test/t/008_budgets.pl and
-- test/specs/budget_reserve.spec.)
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
-- (Errors without their PL/pgSQL line numbers.)
\set SHOW_CONTEXT never

-- Costs are given (cost_usd), in whole USD, so that sums are easy to read.
-- A call of model b-m1 of cost c for a user (alice ...0a, bob ...0b, carol
-- ...0c) by record_ai_call(), or with attribution by plain INSERT (the
-- trigger counts every path).
CREATE FUNCTION b_call(c int, u text, model text DEFAULT 'b-m1')
RETURNS bigint LANGUAGE sql AS $$
    SELECT record_ai_call(model, '1', 'p', '{}'::jsonb, input_tokens => 1, output_tokens => 0,
                          cost_usd => c, user_id => ('00000000-0000-0000-0000-0000000000' || u)::uuid)
$$;
CREATE FUNCTION b_insert(c int, u text, proj text DEFAULT NULL, key text DEFAULT NULL,
                         tg text[] DEFAULT NULL, model text DEFAULT 'b-m1',
                         at timestamptz DEFAULT now())
RETURNS void LANGUAGE sql AS $$
    INSERT INTO ai_call (created_at, model_id, prompt, response, input_tokens, output_tokens, cost_usd,
                         cost_source, user_id, project, api_key, tags)
    SELECT at, m.id, 'p', '{}', 1, 0, c, 'provided',
           ('00000000-0000-0000-0000-0000000000' || u)::uuid, proj, key, tg
      FROM ai_model m WHERE m.modelname = model AND m.version = '1'
$$;
SELECT b_call(0, '0a', 'b-m1') IS NOT NULL AS m1, b_call(0, '0a', 'b-m2') IS NOT NULL AS m2;

-- What the budgets hold now, in a stable order.
CREATE FUNCTION b_status()
RETURNS TABLE (budget text, scope_value text, spent numeric, reserved numeric, remaining numeric,
               used_pct numeric, calls bigint, unpriced bigint, alerted integer[])
LANGUAGE sql AS $$
    SELECT budget, CASE WHEN scope_value LIKE '00000000-%' THEN right(scope_value, 2) ELSE scope_value END,
           spent_usd, reserved_usd, remaining_usd, used_pct, calls, unpriced_calls, alerted_pct
      FROM ai_budget_status ORDER BY 1, 2
$$;

--
-- Bad budgets: each rule shows its message (terse: the failing row has
-- the time of the insert).
--
\set VERBOSITY terse
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('x', 'team', 'month', 1);
INSERT INTO ai_budget (name, scope, scope_value, period, limit_usd) VALUES ('x', 'all', 'a', 'month', 1);
INSERT INTO ai_budget (name, scope, scope_value, period, limit_usd) VALUES ('x', 'user', 'alice', 'month', 1);
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('x', 'all', 'year', 1);
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('x', 'all', 'month', 0);
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('x', 'all', 'month', 1e12);
INSERT INTO ai_budget (name, scope, period, limit_usd, alert_at_pct) VALUES ('x', 'all', 'month', 1, '{0}');
INSERT INTO ai_budget (name, scope, period, limit_usd, alert_at_pct) VALUES ('x', 'all', 'month', 1, '{50,NULL}');
INSERT INTO ai_budget (name, scope, period, limit_usd, alert_at_pct) VALUES ('x', 'all', 'month', 1, '{1,2,3,4,5,6,7,8,9,10,11}');
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES (E'a\nb', 'all', 'month', 1);
\set VERBOSITY default
SELECT count(*) AS budgets FROM ai_budget;

--
-- Budgets of every scope.  They start from the calls of their period
-- already recorded (two calls of cost 0 above).
--
INSERT INTO ai_budget (name, scope, scope_value, period, time_zone, limit_usd, hard, alert_at_pct) VALUES
    ('everything', 'all', NULL, 'day', 'Etc/UTC', 100, true, '{50,80,100}'),
    ('each user', 'user', NULL, 'month', 'Europe/Berlin', 10, true, '{50,80,100}'),
    ('alice', 'user', '00000000-0000-0000-0000-00000000000a', 'lifetime', 'Etc/UTC', 1000, false, '{10}'),
    ('project x', 'project', 'x', 'week', 'America/New_York', 20, true, '{50}'),
    ('each key', 'api_key', NULL, 'day', 'Etc/UTC', 30, false, '{100}'),
    ('each tag', 'tag', NULL, 'month', 'Etc/UTC', 40, true, '{25}'),
    ('model b-m2', 'model', 'b-m2', 'month', 'Etc/UTC', 50, true, '{90}');
SELECT * FROM b_status();

-- One call counts under every budget it falls under, in its transaction.
SELECT b_insert(6, '0a', 'x', 'key-1', '{red,blue}');
SELECT * FROM b_status();
-- A tag given twice counts once under it.
SELECT b_insert(1, '0b', NULL, NULL, '{red,red}');
SELECT budget, scope_value, spent, calls FROM b_status() WHERE budget = 'each tag';
-- A call that rolls back counts for nothing.
BEGIN;
SELECT b_insert(50, '0b');
ROLLBACK;
SELECT budget, scope_value, spent FROM b_status() WHERE budget IN ('everything', 'each user');
-- A batch counts each of its calls (one statement: the trigger runs once).
SELECT record_ai_calls('[
  {"modelname": "b-m2", "version": "1", "prompt": "p", "response": {}, "cost_usd": 4, "user_id": "00000000-0000-0000-0000-00000000000b"},
  {"modelname": "b-m2", "version": "1", "prompt": "p", "response": {}, "cost_usd": 6, "user_id": "00000000-0000-0000-0000-00000000000b"},
  {"modelname": "b-m1", "version": "1", "prompt": "p", "response": {}, "user_id": "00000000-0000-0000-0000-00000000000b"}]') AS recorded;
SELECT * FROM b_status();
-- Updates and deletes of calls leave the spend as recorded.
UPDATE ai_call SET cost_usd = 0 WHERE cost_usd > 0;
DELETE FROM ai_call WHERE user_id = '00000000-0000-0000-0000-00000000000b';
SELECT budget, scope_value, spent FROM b_status() WHERE budget = 'everything';

--
-- Reservations.  bob has 10 - 1 - 10 (the batch's two b-m2 calls of 4 and
-- 6 USD; its third call has no cost) = -1 left of his monthly 10: over already (recorded calls are
-- never refused; the money is spent).  alice has 10 - 6 = 4.
--
SELECT ai_budget_reserve(3, '00000000-0000-0000-0000-00000000000a') AS r1 \gset
SELECT budget, scope_value, spent, reserved, remaining FROM b_status() WHERE reserved > 0;
-- 4 - 3 = 1 left: 2 more is refused, naming the budget; nothing is held.
SELECT ai_budget_reserve(2, '00000000-0000-0000-0000-00000000000a');
SELECT count(*) AS reservations FROM ai_budget_reservation;
-- ... and 1 is not.
SELECT ai_budget_reserve(1, '00000000-0000-0000-0000-00000000000a') AS r2 \gset
SELECT budget, estimate_ok, allowed FROM (
    SELECT budget, limit_usd IS NOT NULL AS estimate_ok, allowed
      FROM ai_budget_check(0.5, '00000000-0000-0000-0000-00000000000a')) c ORDER BY 1;
SELECT budget, spent_usd, reserved_usd, remaining_usd, allowed
  FROM ai_budget_check(0, '00000000-0000-0000-0000-00000000000a') ORDER BY 1;
-- Settle r1 with the call it was for (cost 3: the trigger counted it), in
-- one statement; release r2 (no call made).
SELECT ai_budget_settle(:r1, b_call(3, '0a')) AS settled;
SELECT ai_budget_release(:r2) AS released, ai_budget_release(:r2) AS again;
SELECT budget, scope_value, spent, reserved, remaining, alerted FROM b_status() WHERE budget IN ('each user', 'everything');
-- bob's monthly budget is hard and over: refused.
SELECT ai_budget_reserve(2, '00000000-0000-0000-0000-00000000000b');
-- key-9's budget (each key: 30 a day) is soft: 50 is held against it.
SELECT ai_budget_release(ai_budget_reserve(50, NULL, NULL, 'key-9')) AS soft_budget_is_no_bar;
-- A reservation that expired counts for nothing, and is cleared.
SELECT ai_budget_reserve(0.5, '00000000-0000-0000-0000-00000000000a', expires_in => '1 millisecond') IS NOT NULL AS held;
SELECT pg_sleep(0.01);
SELECT budget, reserved FROM b_status() WHERE budget = 'each user' AND scope_value = '0a';
SELECT ai_budget_clear_expired() AS cleared;
SELECT count(*) AS left_over FROM ai_budget_reservation;
-- Bad input.
SELECT ai_budget_reserve(-1);
SELECT ai_budget_reserve(NULL);
SELECT ai_budget_reserve(1e12);
SELECT ai_budget_reserve(1, expires_in => '0');
SELECT ai_budget_reserve(1, expires_in => '2 days');
SELECT ai_budget_check(-1);
SELECT ai_budget_settle(1, -5);

--
-- Periods are cut in the budget's zone: New York's week starts on Monday
-- 05:00 UTC in winter.  Calls on either side of it land in two periods.
--
INSERT INTO ai_budget (name, scope, scope_value, period, time_zone, limit_usd)
VALUES ('project w', 'project', 'w', 'week', 'America/New_York', 5),
       ('project m', 'project', 'w', 'month', 'Asia/Tokyo', 5);
SELECT b_insert(1, '0c', 'w', at => '2025-03-03 04:59:59+00');   -- Sunday 23:59:59 in New York
SELECT b_insert(2, '0c', 'w', at => '2025-03-03 05:00:00+00');   -- Monday 00:00 in New York
SELECT b_insert(4, '0c', 'w', at => '2025-02-28 15:00:00+00');   -- March 1st 00:00 in Tokyo
SELECT b_insert(8, '0c', 'w', at => '2025-02-28 14:59:59+00');   -- still February in Tokyo
SELECT b.name, s.period_start, s.spent_usd,
       ai_budget_period_end(b.period, b.time_zone, s.period_start) AS period_end
  FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id
 WHERE b.name IN ('project w', 'project m') ORDER BY 1, 2;
-- Across the DST change: New York's day of 2025-03-09 has 23 hours.
SELECT ai_budget_period_start('day', 'America/New_York', '2025-03-09 12:00+00') AS day_start,
       ai_budget_period_end('day', 'America/New_York', '2025-03-09 05:00+00') AS day_end,
       ai_budget_period_start('lifetime', 'Etc/UTC', now()) AS lifetime_start,
       ai_budget_period_end('lifetime', 'Etc/UTC', '-infinity') AS lifetime_end;

--
-- Thresholds: each marked once per period; a raised limit counts them
-- from the new limit (reached ones marked silently).
--
SELECT budget, scope_value, spent, alerted FROM b_status() WHERE budget = 'everything';
UPDATE ai_budget SET limit_usd = 10 WHERE name = 'everything';
SELECT budget, spent, alerted FROM b_status() WHERE budget = 'everything';
UPDATE ai_budget SET limit_usd = 1000 WHERE name = 'everything';
SELECT budget, spent, alerted FROM b_status() WHERE budget = 'everything';
-- A disabled budget counts nothing and is left out of reservations.
UPDATE ai_budget SET enabled = false WHERE name = 'each user';
SELECT b_insert(100, '0a');
SELECT budget, scope_value, spent FROM b_status() WHERE budget = 'each user';
SELECT count(*) AS each_user_rows FROM ai_budget_check(0, '00000000-0000-0000-0000-00000000000a') WHERE budget = 'each user';
-- Enabled again, it counts its period from ai_call.
UPDATE ai_budget SET enabled = true WHERE name = 'each user';
SELECT budget, scope_value, spent, calls, alerted FROM b_status() WHERE budget = 'each user';
-- Deleting a budget deletes its spend and holds.
SELECT ai_budget_reserve(1, NULL, 'x') IS NOT NULL AS held;
DELETE FROM ai_budget WHERE name = 'project x';
SELECT count(*) AS rows_of_deleted FROM ai_budget_spend s WHERE NOT EXISTS (SELECT FROM ai_budget b WHERE b.id = s.budget_id);

--
-- What an attack review found, each shown fixed.
--
-- A reservation in an older snapshot would not see the holds made since.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ai_budget_reserve(1);
ROLLBACK;
-- Attribution that ai_call would refuse is refused here too.
SELECT ai_budget_reserve(1, tags => (SELECT array_agg('t' || i) FROM generate_series(1, 65) AS i));
SELECT ai_budget_reserve(1, project => E'a\tb');
SELECT ai_budget_check(1, api_key => repeat('k', 201));
-- Changing a budget's zone (or scope, period, enabled) keeps the live
-- reservations held against it.
INSERT INTO ai_budget (name, scope, scope_value, period, limit_usd) VALUES ('project h', 'project', 'h', 'month', 10);
SELECT ai_budget_reserve(6, NULL, 'h') IS NOT NULL AS held;
UPDATE ai_budget SET time_zone = 'Europe/London' WHERE name = 'project h';
SELECT ai_budget_reserve(6, NULL, 'h');
SELECT budget, reserved FROM b_status() WHERE budget = 'project h';
-- A lowered limit marks (and, for the current period, sends at commit)
-- the thresholds it makes reached; a raised one drops those no longer
-- reached.
SELECT b_insert(4, '0c', 'h');
UPDATE ai_budget SET limit_usd = 5, alert_at_pct = '{50,80,100}' WHERE name = 'project h';
SELECT budget, spent, alerted FROM b_status() WHERE budget = 'project h';
UPDATE ai_budget SET limit_usd = 7 WHERE name = 'project h';
SELECT budget, spent, alerted FROM b_status() WHERE budget = 'project h';
DELETE FROM ai_budget WHERE name = 'project h';
-- A zone must be a full tz database name: one without a slash may be an
-- abbreviation, which the session's settings could redefine.
\set VERBOSITY terse
INSERT INTO ai_budget (name, scope, period, time_zone, limit_usd) VALUES ('est', 'all', 'day', 'EST', 1);
INSERT INTO ai_budget (name, scope, period, time_zone, limit_usd) VALUES ('utc', 'all', 'day', 'UTC', 1);
INSERT INTO ai_budget (name, scope, period, time_zone, limit_usd) VALUES ('mars', 'all', 'day', 'Mars/Olympus', 1);
\set VERBOSITY default
-- A call dated at the end of the timestamp range counts, in no period of
-- its own, even under a zone east of UTC.
INSERT INTO ai_budget (name, scope, period, time_zone, limit_usd) VALUES ('far east', 'all', 'day', 'Asia/Tokyo', 10);
SELECT b_insert(1, '0c', at => '294276-12-31 23:00+00');
SELECT period_start, spent_usd FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id
 WHERE b.name = 'far east' AND s.period_start = 'infinity';
DELETE FROM ai_budget WHERE name = 'far east';
-- Tags from subscript 1 only (the stats and budgets read them so).
SELECT b_insert(1, '0c', tg => '{a}');
\set VERBOSITY terse
UPDATE ai_call SET tags = '[0:1]={a,b}' WHERE tags = '{a}';
\set VERBOSITY default
-- Every budget counted again (after a restore that skipped triggers).
SELECT ai_budget_recount() = (SELECT count(*) FROM ai_budget) AS recounted_all;

--
-- Tenants: a tenant sees the budgets of users (its own and those of
-- every user), its own user's spend only, reserves only for its user, and
-- is told of other budgets only by name and verdict.
--
CREATE ROLE regress_budget_tenant IN ROLE aitrack_tenant;
-- carol, who has spent nothing this month
INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_budget_tenant', '00000000-0000-0000-0000-00000000000c');
SET ROLE regress_budget_tenant;
SELECT budget, scope_value, spent FROM b_status();
SELECT name FROM ai_budget ORDER BY 1;
SELECT count(*) AS spend_rows_seen, count(*) FILTER (WHERE scope_value <> '00000000-0000-0000-0000-00000000000c') AS others
  FROM ai_budget_spend;
SELECT budget, scope_value IS NOT NULL AS value_shown, limit_usd IS NOT NULL AS figures_shown, allowed
  FROM ai_budget_check(1) ORDER BY 1;
SELECT ai_budget_reserve(1, '00000000-0000-0000-0000-00000000000b');
SELECT ai_budget_reserve(1, expires_in => '1 hour');
SELECT ai_budget_reserve(1) AS tenant_reservation \gset
SELECT budget, scope_value, reserved FROM b_status();
-- ... and it holds nothing against the budgets it shares with other users.
RESET ROLE;
SELECT b.name, count(h.*) AS holds FROM ai_budget b
  LEFT JOIN (SELECT u.budget_id FROM ai_budget_reservation r, unnest(r.hold_budget_ids) AS u(budget_id)
              WHERE r.id = :tenant_reservation) h ON h.budget_id = b.id
 GROUP BY 1 ORDER BY 1;
SET ROLE regress_budget_tenant;
RESET ROLE;
SELECT user_id FROM ai_budget_reservation WHERE id = :tenant_reservation;
-- A tenant cannot end another user's reservation.
SELECT ai_budget_reserve(1, '00000000-0000-0000-0000-00000000000d') AS dave_reservation \gset
SET ROLE regress_budget_tenant;
SELECT ai_budget_release(:dave_reservation) AS released_daves, ai_budget_release(:tenant_reservation) AS released_own;
-- Another budget's refusal names it without its figures.
RESET ROLE;
UPDATE ai_budget SET limit_usd = 1 WHERE name = 'everything';
SET ROLE regress_budget_tenant;
SELECT ai_budget_reserve(5);
RESET ROLE;

-- 1.8: a budget's spend rows go with it (by trigger, no foreign key),
-- deleted or truncated.
SELECT count(*) > 0 AS spend_rows_before FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id
 WHERE b.name = 'each user';
DELETE FROM ai_budget WHERE name = 'each user';
SELECT count(*) AS spend_rows_of_deleted FROM ai_budget_spend s
 WHERE NOT EXISTS (SELECT FROM ai_budget b WHERE b.id = s.budget_id);
BEGIN;
TRUNCATE ai_budget;
SELECT count(*) AS spend_rows_after_truncate FROM ai_budget_spend;
ROLLBACK;
-- The budgets are user data: the drop guard counts them too.
DROP EXTENSION aitrack;
DELETE FROM ai_budget;
DELETE FROM ai_tenant_user;
DROP ROLE regress_budget_tenant;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
