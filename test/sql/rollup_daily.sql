--
-- rollup_daily: 1.6's daily rollup level.  The stats from it against the
-- same aggregates by hand; what keeps it in step (the fold, a rebuild,
-- TRUNCATE); ai_rollup_backfill_daily()'s bad input; a look-alike table
-- planted beside a 1.5 install is never read.  (rollup_random checks it
-- under random operations, upgrade the update, 007_upkeep the worker.)
--
SET client_min_messages = warning;
CREATE EXTENSION aitrack;
SET timezone = 'UTC';

-- 40 days of calls, one every 37 minutes, two models, three statuses.
INSERT INTO ai_model (modelname, version) VALUES ('d-a', '1'), ('d-b', '1');
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, cost_usd,
                     duration_ms, status, created_at)
SELECT 1 + g % 2, 'p', '{}', g % 97, g % 13, (g % 7) * 0.001, 20 + (g * 7919) % 3000,
       (ARRAY['success', 'success', 'error'])[1 + g % 3],
       timestamptz '2026-03-01 00:00+00' + g * interval '37 minutes'
  FROM generate_series(1, 1557) AS g;
SELECT ai_rollup_compact() > 0 AS folded;
SELECT count(*) AS daily_rows, min(bucket) AS first_day, max(bucket) AS last_day
  FROM ai_usage_rollup_daily;

-- ai_usage_stats() against the hand-written aggregates, for one question.
CREATE FUNCTION pg_temp.mismatches(since timestamptz, until timestamptz, dims text[], tz text)
RETURNS bigint LANGUAGE sql AS $$
    WITH s AS (SELECT ROW(bucket, modelname, status, calls, errors, input_tokens, output_tokens,
                          cost_usd, first_call, last_call)::text AS k
                 FROM ai_usage_stats(since, until, dims, tz => tz)
                WHERE calls > 0),  -- (no group, no calls: one row of zeros)
         r AS (SELECT ROW(CASE WHEN 'day' = ANY (dims) THEN date_trunc('day', c.created_at, tz)
                               WHEN 'week' = ANY (dims) THEN date_trunc('week', c.created_at, tz)
                               WHEN 'month' = ANY (dims) THEN date_trunc('month', c.created_at, tz) END,
                          CASE WHEN 'modelname' = ANY (dims) THEN m.modelname END,
                          CASE WHEN 'status' = ANY (dims) THEN c.status END,
                          count(*), count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success'),
                          sum(c.input_tokens), sum(c.output_tokens), sum(c.cost_usd),
                          min(c.created_at), max(c.created_at))::text AS k
                 FROM ai_call c JOIN ai_model m ON m.id = c.model_id
                WHERE (since IS NULL OR c.created_at >= since) AND (until IS NULL OR c.created_at < until)
                GROUP BY CASE WHEN 'day' = ANY (dims) THEN date_trunc('day', c.created_at, tz)
                               WHEN 'week' = ANY (dims) THEN date_trunc('week', c.created_at, tz)
                               WHEN 'month' = ANY (dims) THEN date_trunc('month', c.created_at, tz) END,
                         CASE WHEN 'modelname' = ANY (dims) THEN m.modelname END,
                         CASE WHEN 'status' = ANY (dims) THEN c.status END)
    SELECT count(*) FROM ((TABLE s EXCEPT ALL TABLE r) UNION ALL (TABLE r EXCEPT ALL TABLE s)) d
$$;
CREATE TEMPORARY TABLE questions (since timestamptz, until timestamptz, dims text[], tz text);
INSERT INTO questions VALUES
    (NULL, NULL, '{modelname}', 'UTC'),
    ('2026-03-03 05:30+00', '2026-04-02 19:15+00', '{modelname,status}', 'UTC'),
    ('2026-03-03 00:00+00', '2026-03-04 00:00+00', '{status}', 'UTC'),
    ('2026-03-03 00:00+00', '2026-03-03 00:00+00', '{}', 'UTC'),
    ('2026-03-09 00:00+00', '2026-03-02 00:00+00', '{}', 'UTC'),
    ('-infinity', 'infinity', '{day}', 'UTC'),
    (NULL, '2026-03-20 12:00+00', '{day,modelname}', 'utc'),
    ('2026-03-05 00:00+00', NULL, '{week,status}', 'Etc/UTC'),
    (NULL, NULL, '{month}', 'GMT'),
    (NULL, NULL, '{day}', 'Etc/GMT+0'),
    (NULL, NULL, '{day,status}', 'Europe/London'),
    (NULL, NULL, '{day}', 'Asia/Tokyo'),
    (NULL, NULL, '{week}', 'America/New_York');
SELECT dims, tz, pg_temp.mismatches(since, until, dims, tz) AS mismatches FROM questions;

-- The fold keeps the level in step: an update, a delete and a back-dated
-- call, each folded, then compared day by day with the hourly level.
CREATE FUNCTION pg_temp.daily_off() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM (
        (SELECT date_trunc('day', bucket, 'UTC'), model_id, call_type, status, sum(calls), sum(input_tokens),
                sum(cost_usd), min(first_call), max(last_call), ai_hist_merge(latency)
           FROM ai_usage_rollup_total GROUP BY 1, 2, 3, 4
         EXCEPT ALL
         SELECT bucket, model_id, call_type, status, calls, input_tokens, cost_usd, first_call, last_call, latency
           FROM ai_usage_rollup_daily)
        UNION ALL
        (SELECT bucket, model_id, call_type, status, calls, input_tokens, cost_usd, first_call, last_call, latency
           FROM ai_usage_rollup_daily
         EXCEPT ALL
         SELECT date_trunc('day', bucket, 'UTC'), model_id, call_type, status, sum(calls), sum(input_tokens),
                sum(cost_usd), min(first_call), max(last_call), ai_hist_merge(latency)
           FROM ai_usage_rollup_total GROUP BY 1, 2, 3, 4)) d
$$;
UPDATE ai_call SET input_tokens = input_tokens + 1000, status = 'timeout' WHERE id % 50 = 0;
DELETE FROM ai_call WHERE id % 61 = 0;
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, created_at)
VALUES (2, 'p', '{}', 5, 5, '2026-03-02 23:59:59+00');
SELECT ai_rollup_compact() > 0 AS folded, pg_temp.daily_off() AS daily_off;
SELECT dims, tz, pg_temp.mismatches(since, until, dims, tz) AS mismatches FROM questions
 WHERE tz IN ('UTC', 'GMT');

-- ai_rollup_rebuild() drops the days it rebuilds from both levels; the
-- fold sums them again.
CALL ai_rollup_rebuild('2026-03-05 00:00+00', '2026-03-07 00:00+00');
SELECT count(*) AS daily_rows_left_in_those_days FROM ai_usage_rollup_daily
 WHERE bucket >= '2026-03-05' AND bucket < '2026-03-07';
SELECT pg_temp.mismatches(NULL, NULL, '{day}', 'UTC') AS mismatches_before_the_fold;
SELECT ai_rollup_compact() > 0 AS folded, pg_temp.daily_off() AS daily_off;

-- ai_rollup_backfill_daily(): bad input, and nothing to do once all is in.
SELECT ai_rollup_backfill_daily(0);
SELECT ai_rollup_backfill_daily(-1);
SELECT ai_rollup_backfill_daily(367);
SELECT ai_rollup_backfill_daily(NULL);
SELECT ai_rollup_backfill_daily() AS nothing_to_do;
-- The level emptied as an update leaves it, then filled by steps of 10 days.
UPDATE ai_upkeep_state SET daily_from = 'infinity';
DELETE FROM ai_usage_rollup_daily;
SELECT pg_temp.mismatches(NULL, NULL, '{modelname}', 'UTC') AS mismatches_while_empty;
SELECT ai_rollup_backfill_daily(10) AS days, (SELECT daily_from FROM ai_upkeep_state);
SELECT pg_temp.mismatches(NULL, NULL, '{day,status}', 'UTC') AS mismatches_half_filled;
SELECT ai_rollup_backfill_daily(10) AS days, (SELECT daily_from FROM ai_upkeep_state);
SELECT ai_rollup_backfill_daily(10) AS days, (SELECT daily_from FROM ai_upkeep_state);
SELECT ai_rollup_backfill_daily(10) AS days, (SELECT daily_from FROM ai_upkeep_state);
SELECT ai_rollup_backfill_daily(10) AS days, (SELECT daily_from FROM ai_upkeep_state);
SELECT pg_temp.daily_off() AS daily_off,
       pg_temp.mismatches(NULL, NULL, '{day,status}', 'UTC') AS mismatches;
-- daily_from moved back to infinity without emptying the level (as an
-- admin might, to refill it): the backfill replaces what is there.
UPDATE ai_upkeep_state SET daily_from = 'infinity';
SELECT sum(ai_rollup_backfill_daily(30)) AS days FROM generate_series(1, 3);
SELECT pg_temp.daily_off() AS daily_off, (SELECT daily_from FROM ai_upkeep_state);
-- daily_from is a UTC midnight or infinite: the stats and the backfill cut
-- days there.
UPDATE ai_upkeep_state SET daily_from = '2026-03-10 05:00+00';
-- Both refuse to work in a snapshot older than the last fold.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ai_rollup_compact();
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT ai_rollup_backfill_daily();
ROLLBACK;
-- In a session whose TimeZone is a POSIX rule named like UTC, "UTC" may be
-- read as that rule (PostgreSQL 18 does): the answers follow date_trunc's.
SET TimeZone = 'UTC+5';
SELECT dims, tz, pg_temp.mismatches(since, until, dims, tz) AS mismatches FROM questions
 WHERE tz IN ('UTC', 'utc', 'Etc/UTC');
SET TimeZone = 'UTC';
-- A call dated in the last day PostgreSQL can hold folds like any other.
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "d-a", "version": "1", "prompt": "p",
    "response": {}, "input_tokens": 1, "output_tokens": 1, "created_at": "294276-12-31 12:00:00+00"}]');
SELECT ai_rollup_compact() AS folded, pg_temp.daily_off() AS daily_off;
SELECT calls FROM ai_usage_stats('294276-12-31 00:00+00', NULL, '{}');
DELETE FROM ai_call WHERE created_at > '3000-01-01';
SELECT ai_rollup_compact() AS folded;
-- A tenant sees neither the daily sums nor the upkeep's counters.
CREATE ROLE regress_daily_tenant IN ROLE aitrack_tenant;
SET ROLE regress_daily_tenant;
SELECT count(*) AS daily_rows FROM ai_usage_rollup_daily;
SELECT count(*) AS state_rows FROM ai_upkeep_state;
SELECT runs, folded_total, daily_complete, pending_rows FROM ai_upkeep_status;
RESET ROLE;
DROP ROLE regress_daily_tenant;

-- Without the state row the stats read the hourly level only, exactly.
BEGIN;
DELETE FROM ai_upkeep_state;
SELECT pg_temp.mismatches(NULL, NULL, '{modelname}', 'UTC') AS mismatches_without_state;
ROLLBACK;

-- Which questions read the daily level: one daily row off by a call shows
-- in UTC days, weeks and months and in a window of whole days, not in
-- hours, not per user, not in London's days, not in the partial days.
BEGIN;
UPDATE ai_usage_rollup_daily SET calls = calls + 1
 WHERE bucket = '2026-03-10 00:00+00' AND model_id = 1 AND status = 'success';
SELECT pg_temp.mismatches(NULL, NULL, '{day}', 'UTC') AS utc_days,
       pg_temp.mismatches(NULL, NULL, '{month}', 'Etc/UTC') AS utc_months,
       pg_temp.mismatches('2026-03-09 13:00+00', '2026-03-12 00:00+00', '{}', 'UTC') AS window,
       pg_temp.mismatches('2026-03-10 01:00+00', '2026-03-10 23:00+00', '{}', 'UTC') AS partial_day,
       pg_temp.mismatches(NULL, NULL, '{day}', 'Europe/London') AS london_days;
SELECT (SELECT sum(calls) FROM ai_usage_stats(group_by => '{hour}')) =
       (SELECT sum(calls) FROM ai_usage_stats(group_by => '{user}')) AS hours_and_users_agree,
       (SELECT sum(calls) FROM ai_usage_stats(group_by => '{hour}')) + 1 =
       (SELECT sum(calls) FROM ai_usage_stats(group_by => '{}')) AS totals_one_more;
ROLLBACK;

-- TRUNCATE empties both levels.
SET aitrack.allow_drop = on;
TRUNCATE ai_call;
SELECT (SELECT count(*) FROM ai_usage_rollup_total) AS hourly, (SELECT count(*) FROM ai_usage_rollup_daily) AS daily;
DROP EXTENSION aitrack;

-- A 1.5 install with look-alikes of 1.6's tables planted beside it, full of
-- wrong numbers: the stats never read them (they are not the extension's).
CREATE EXTENSION aitrack VERSION '1.5';
INSERT INTO ai_model (modelname, version) VALUES ('d-a', '1');
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, created_at)
SELECT 1, 'p', '{}', 1, 1, timestamptz '2026-03-01 00:00+00' + g * interval '1 hour'
  FROM generate_series(1, 100) AS g;
SELECT ai_rollup_compact() > 0 AS folded;
CREATE TABLE ai_usage_rollup_daily (LIKE ai_usage_rollup_total);
INSERT INTO ai_usage_rollup_daily SELECT * FROM ai_usage_rollup_total;
UPDATE ai_usage_rollup_daily SET calls = calls * 1000, bucket = date_trunc('day', bucket, 'UTC');
CREATE TABLE ai_upkeep_state (daily_from timestamptz);
INSERT INTO ai_upkeep_state VALUES ('-infinity');
SELECT calls FROM ai_usage_stats(group_by => '{}');
DROP TABLE ai_usage_rollup_daily, ai_upkeep_state;
DROP EXTENSION aitrack;
RESET aitrack.allow_drop;
