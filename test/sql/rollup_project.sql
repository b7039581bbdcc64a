--
-- 1.8: ai_usage_stats() by project from the project level
-- (ai_usage_rollup_project).  A ledger recorded in 1.7 with projects (and
-- none), some calls purged in 1.7, then the update: until the backfill has
-- run every answer comes from ai_call, during it the hours it covered come
-- from the project level, after it all whole hours do.  Every question is
-- compared with the same aggregates written by hand over ai_call and the
-- purged calls (kept aside before each purge), before and after the
-- backfill, after inserts, updates and deletes, after a 1.8 purge and
-- after a rebuild; negative controls show that the comparison catches a
-- wrong reference and a sabotaged rollup row.
--
CREATE EXTENSION aitrack VERSION '1.7';
SET timezone = 'UTC';
SELECT setseed(0.1808);

-- 500 calls over five days from 2025-05-05 (one in ten exactly on an
-- hour), three models, two call types, three statuses, two users and none,
-- NULLs in the metrics now and then, and a project (or none) each.
CREATE TEMP TABLE rp_plan (i int PRIMARY KEY, call jsonb);
DO $$
DECLARE
    t timestamptz;
BEGIN
    FOR i IN 1..500 LOOP
        t := timestamptz '2025-05-05 00:00+00' + random() * interval '5 days';
        IF random() < 0.1 THEN t := date_trunc('hour', t); END IF;
        INSERT INTO rp_plan VALUES (i, jsonb_strip_nulls(jsonb_build_object(
            'modelname', (ARRAY['rp-a', 'rp-a', 'rp-b', 'rp-c'])[1 + floor(random() * 4)::int],
            'version', '1', 'prompt', 'prompt ' || i, 'response', '{}'::jsonb,
            'input_tokens', CASE WHEN random() < 0.9 THEN floor(random() * 5000)::int END,
            'output_tokens', CASE WHEN random() < 0.9 THEN floor(random() * 900)::int END,
            'cost_usd', CASE WHEN random() < 0.8 THEN round((random() * 0.01)::numeric, 6) END,
            'duration_ms', CASE WHEN random() < 0.1 THEN NULL
                                WHEN random() < 0.4 THEN floor(random() * 100)::int
                                ELSE 100 + floor(random() * 20000)::int END,
            'call_type', (ARRAY['chat', 'embed'])[1 + floor(random() * 2)::int],
            'status', (ARRAY['success', 'success', 'error', 'timeout'])[1 + floor(random() * 4)::int],
            'user_id', (ARRAY[NULL, '00000000-0000-0000-0000-0000000000b1',
                              '00000000-0000-0000-0000-0000000000b2'])[1 + floor(random() * 3)::int],
            'project', CASE WHEN random() < 0.75 THEN (ARRAY['alpha', 'beta', 'gamma'])[1 + floor(random() * 3)::int] END,
            'created_at', t)));
    END LOOP;
END $$;
SELECT count(*) AS recorded FROM record_ai_calls((SELECT jsonb_agg(call ORDER BY i) FROM rp_plan));
SELECT count(*) AS calls, count(project) AS with_project, count(DISTINCT project) AS projects FROM ai_call;

-- Purged in 1.7: the calls before 2025-05-05 20:30 (inside an hour), kept
-- aside first for the reference (purged_in: the version that purged them).
CREATE TEMP TABLE rp_gone AS SELECT c.*, '1.7'::text AS purged_in FROM ai_call c
 WHERE c.created_at < '2025-05-05 20:30+00';
CALL ai_purge_calls('2025-05-05 20:30+00', 30);
SELECT ai_rollup_compact() > 0 AS compacted;

-- Windows: everything, partial hours at both ends, whole hours, one hour
-- cut, from a partial hour on; shapes: the project alone or with model,
-- call_type, status and time buckets (UTC, a whole-hour zone, a zone with
-- minutes), a project filter, with other filters.
CREATE TEMP TABLE rp_windows (w text, since timestamptz, until timestamptz);
INSERT INTO rp_windows VALUES
    ('all', NULL, NULL),
    ('partial hours', '2025-05-05 10:17+00', '2025-05-09 15:42+00'),
    ('whole hours', '2025-05-06 03:00+00', '2025-05-08 21:00+00'),
    ('one hour, cut', '2025-05-07 06:05+00', '2025-05-07 06:55+00'),
    ('from a partial hour', '2025-05-05 20:45+00', NULL),
    ('until a partial hour', NULL, '2025-05-08 12:10+00'),
    -- (1.8: whole UTC days, alone and between partial days)
    ('whole days', '2025-05-06 00:00+00', '2025-05-09 00:00+00'),
    ('days and hours', '2025-05-05 18:00+00', '2025-05-08 07:00+00');
CREATE TEMP TABLE rp_shapes (s int, dims text[], tz text, f_model text, f_call_type text, f_project text);
INSERT INTO rp_shapes VALUES
    (1, '{project}', 'UTC', NULL, NULL, NULL),
    (2, '{project,model}', 'UTC', NULL, NULL, NULL),
    (3, '{day,project}', 'America/New_York', NULL, NULL, NULL),
    (4, '{hour,project}', 'UTC', NULL, NULL, NULL),
    (5, '{project,call_type,status}', 'UTC', NULL, NULL, NULL),
    (6, '{}', 'UTC', NULL, NULL, 'alpha'),
    (7, '{model,day}', 'UTC', NULL, NULL, 'beta'),
    (8, '{project}', 'UTC', 'rp-a', 'chat', NULL),
    (9, '{week,project}', 'Europe/Berlin', NULL, NULL, NULL),
    (10, '{day,project}', 'Asia/Kolkata', NULL, NULL, NULL),
    (11, '{status}', 'UTC', 'rp-b', NULL, 'gamma'),
    -- (1.8: shapes the daily project level answers the whole days of:
    -- buckets of a day or longer in a zone always UTC, or none)
    (12, '{day,project}', 'UTC', NULL, NULL, NULL),
    (13, '{month,project,status}', 'Etc/UTC', NULL, NULL, NULL),
    (14, '{week}', 'GMT', NULL, NULL, 'alpha'),
    (15, '{day,project,model}', 'UTC', 'rp-c', NULL, NULL);
-- In 1.7 (from ai_call): questions by project, kept to compare after the update.
CREATE FUNCTION pg_temp.answers() RETURNS TABLE (s int, w text, a text) LANGUAGE sql AS $$
    SELECT k.s, w.w, x::text
      FROM rp_shapes k, rp_windows w,
           ai_usage_stats(w.since, w.until, k.dims, k.f_model, k.f_call_type, NULL, k.tz, k.f_project) x
$$;
CREATE TEMP TABLE rp_answers_1_7 AS SELECT * FROM pg_temp.answers();
SELECT count(*) AS answers FROM rp_answers_1_7;

--
-- The update: the project level empty, nothing covered yet
-- (project_from infinity), the calls purged in 1.7 before the floor.
--
ALTER EXTENSION aitrack UPDATE TO '1.8';
SELECT project_from FROM ai_upkeep_state;
SELECT complete_from FROM ai_usage_purged_project_floor;
SELECT count(*) AS project_level_rows FROM ai_usage_rollup_project;
SELECT count(*) AS project_daily_rows FROM ai_usage_rollup_project_daily;
SELECT count(*) AS purged_project_rows FROM ai_usage_purged_project;
SELECT prosrc FROM pg_proc WHERE oid = 'ai_rollup_capture'::regproc;
--
-- The reference: the aggregates by hand, from ai_call, plus the purged
-- calls of the whole hours inside [since, until): with their project when
-- their hour is from ai_usage_purged_project_floor on, in the group NULL
-- (so under no project filter) before it.  raw: a zone with minutes (no
-- rollups there): ai_call alone, percentile_cont.  wrong: a deliberate
-- mistake, for the negative controls (1: every purged call in the group
-- NULL, as 1.7 has it; 2: purged calls left out).
--
CREATE FUNCTION rp_ref(since timestamptz, until timestamptz, dims text[], f_model text,
                       f_call_type text, f_project text, tz text, raw boolean, wrong int)
RETURNS TABLE (k text, calls bigint, errors bigint, input_tokens numeric, output_tokens numeric,
               cost_usd numeric, avg_duration_ms float8, pct float8[], first_call timestamptz,
               last_call timestamptz, unpriced_calls bigint)
LANGUAGE sql STABLE AS $$
    WITH unit AS (SELECT (SELECT d FROM unnest(dims) d WHERE d IN ('hour', 'day', 'week', 'month')) AS u),
    hours AS (SELECT CASE WHEN since IS NULL OR date_trunc('hour', since) = since THEN since
                          ELSE date_trunc('hour', since) + interval '1 hour' END AS h_from,
                     CASE WHEN until IS NULL THEN NULL ELSE date_trunc('hour', until) END AS h_until),
    fl AS (SELECT COALESCE((SELECT complete_from FROM ai_usage_purged_project_floor),
                           '-infinity') AS complete_from),
    c AS (SELECT c.created_at, c.model_id, c.call_type, c.status, c.input_tokens, c.output_tokens,
                 c.cost_usd, c.duration_ms, c.project
            FROM ai_call c
           WHERE (since IS NULL OR c.created_at >= since) AND (until IS NULL OR c.created_at < until)
          UNION ALL
          SELECT g.created_at, g.model_id, g.call_type, g.status, g.input_tokens, g.output_tokens,
                 g.cost_usd, g.duration_ms,
                 CASE WHEN date_trunc('hour', g.created_at) >= fl.complete_from AND wrong IS DISTINCT FROM 1
                      THEN g.project END
            FROM rp_gone g, hours h, fl
           WHERE NOT raw AND wrong IS DISTINCT FROM 2
             AND (h.h_from IS NULL OR g.created_at >= h.h_from)
             AND (h.h_until IS NULL OR g.created_at < h.h_until)
             AND (h.h_from IS NULL OR h.h_until IS NULL OR h.h_from < h.h_until)),
    e AS (SELECT c.*, m.modelname, m.version
            FROM c JOIN ai_model m ON m.id = c.model_id
           WHERE (f_model IS NULL OR m.modelname = f_model)
             AND (f_call_type IS NULL OR c.call_type = f_call_type)
             AND (f_project IS NULL OR c.project = f_project))
    SELECT ROW(CASE WHEN u.u IS NOT NULL THEN date_trunc(u.u, e.created_at, tz) END,
               CASE WHEN dims && '{model,modelname}' THEN e.modelname END,
               CASE WHEN 'model' = ANY (dims) THEN e.version END,
               CASE WHEN 'call_type' = ANY (dims) THEN e.call_type END,
               CASE WHEN 'status' = ANY (dims) THEN e.status END,
               CASE WHEN 'project' = ANY (dims) THEN e.project END)::text,
           count(*), count(*) FILTER (WHERE e.status IS DISTINCT FROM 'success'),
           sum(e.input_tokens), sum(e.output_tokens), sum(e.cost_usd), avg(e.duration_ms)::float8,
           CASE WHEN raw THEN percentile_cont('{0.5,0.95,0.99}'::float8[]) WITHIN GROUP (ORDER BY e.duration_ms::float8)
                ELSE ARRAY[ai_hist_percentile(ai_hist_merge(ai_hist_of(e.duration_ms, 1)), 0.5::float8),
                           ai_hist_percentile(ai_hist_merge(ai_hist_of(e.duration_ms, 1)), 0.95::float8),
                           ai_hist_percentile(ai_hist_merge(ai_hist_of(e.duration_ms, 1)), 0.99::float8)] END,
           min(e.created_at), max(e.created_at), count(*) FILTER (WHERE e.cost_usd IS NULL)
      FROM e, unit u
     GROUP BY 1
$$;

-- Rows of ai_usage_stats() and of the reference that differ (missing on
-- either side, or any column apart); rows compared add up in rp_compared.
CREATE TABLE rp_compared (n bigint NOT NULL);
INSERT INTO rp_compared VALUES (0);
CREATE FUNCTION rp_compare(since timestamptz, until timestamptz, dims text[], tz text,
                           f_model text DEFAULT NULL, f_call_type text DEFAULT NULL,
                           f_project text DEFAULT NULL, wrong int DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    raw boolean := tz = 'Asia/Kolkata';
    bad bigint;
    seen bigint;
BEGIN
    WITH s AS (SELECT ROW(x.bucket, x.modelname, x.version, x.call_type, x.status, x.project)::text AS k, x.*
                 FROM ai_usage_stats(since, until, dims, f_model, f_call_type, NULL, tz, f_project) x
                WHERE x.calls > 0),
         r AS (SELECT * FROM rp_ref(since, until, dims, f_model, f_call_type, f_project, tz, raw, wrong))
    SELECT count(*) FILTER (
               WHERE s.k IS NULL OR r.k IS NULL
                  OR (s.calls, s.errors, s.input_tokens, s.output_tokens, s.cost_usd, s.unpriced_calls,
                      s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms, s.first_call, s.last_call)
                     IS DISTINCT FROM
                     (r.calls, r.errors, r.input_tokens, r.output_tokens, r.cost_usd, r.unpriced_calls,
                      r.pct[1], r.pct[2], r.pct[3], r.first_call, r.last_call)
                  OR abs(s.avg_duration_ms - r.avg_duration_ms) > 1e-9 * abs(r.avg_duration_ms)
                  OR (s.avg_duration_ms IS NULL) <> (r.avg_duration_ms IS NULL)),
           count(*)
      INTO bad, seen
      FROM s FULL JOIN r ON s.k = r.k;
    UPDATE rp_compared SET n = n + seen;
    RETURN bad;
END $$;

CREATE FUNCTION rp_mismatches() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(rp_compare(w.since, w.until, s.dims, s.tz, s.f_model, s.f_call_type, s.f_project))::bigint
      FROM rp_shapes s, rp_windows w
$$;

-- 1.8: the daily project level holds, for every UTC day, exactly the sum
-- of that day's folded hourly rows: the rows that differ (either way).
CREATE FUNCTION rp_daily_off() RETURNS bigint LANGUAGE sql AS $$
    WITH d AS (SELECT bucket, model_id, call_type, status, project, calls, input_tokens, input_tokens_n,
                      output_tokens, output_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n,
                      web_search_requests_n, first_call, last_call, latency
                 FROM ai_usage_rollup_project_daily),
         h AS (SELECT date_trunc('day', bucket, 'UTC'), model_id, call_type, status, project, sum(calls)::bigint,
                      sum(input_tokens)::bigint, sum(input_tokens_n)::bigint, sum(output_tokens)::bigint,
                      sum(output_tokens_n)::bigint, sum(cost_usd), sum(cost_usd_n)::bigint,
                      sum(duration_ms)::bigint, sum(duration_ms_n)::bigint, sum(web_search_requests_n)::bigint,
                      min(first_call), max(last_call), ai_hist_merge(latency)
                 FROM ai_usage_rollup_project WHERE NOT pending
                GROUP BY 1, 2, 3, 4, 5)
    SELECT count(*) FROM ((TABLE d EXCEPT ALL TABLE h) UNION ALL (TABLE h EXCEPT ALL TABLE d)) x
$$;

-- The same answers as in 1.7.
SELECT count(*) AS differing FROM ((TABLE rp_answers_1_7 EXCEPT ALL SELECT * FROM pg_temp.answers())
                                   UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE rp_answers_1_7)) d;
SELECT rp_mismatches() AS mismatches_before_backfill;

-- Written after the update: new calls (some back-dated into old hours),
-- updates (a project changed, set, cleared; tokens; an hour moved), and
-- deletes.  The trigger writes the project level for each.
SELECT count(*) AS recorded FROM record_ai_calls((
    SELECT jsonb_agg(jsonb_build_object('modelname', (ARRAY['rp-a', 'rp-b'])[1 + i % 2], 'version', '1',
                                        'prompt', 'after ' || i, 'response', '{}'::jsonb,
                                        'input_tokens', 10 * i, 'duration_ms', 50 + i, 'cost_usd', 0.001,
                                        'call_type', 'chat', 'status', 'success',
                                        'project', (ARRAY['alpha', 'delta', NULL])[1 + i % 3],
                                        'created_at', timestamptz '2025-05-05 21:10+00' + i * interval '97 minutes'))
      FROM generate_series(1, 60) i));
SELECT count(*) AS recorded_one FROM record_ai_calls('[{"modelname": "rp-c", "version": "1", "prompt": "one",
    "response": {}, "input_tokens": 7, "duration_ms": 300, "project": "gamma",
    "created_at": "2025-05-09 23:59:59+00"}]');
UPDATE ai_call SET project = 'beta' WHERE prompt IN ('prompt 301', 'prompt 302', 'after 7');
UPDATE ai_call SET project = NULL WHERE prompt IN ('prompt 303', 'after 8');
UPDATE ai_call SET project = 'epsilon', input_tokens = 1 WHERE prompt = 'prompt 304';
UPDATE ai_call SET created_at = created_at + interval '3 hours' WHERE prompt IN ('prompt 305', 'after 9');
DELETE FROM ai_call WHERE prompt IN ('prompt 306', 'prompt 307', 'after 10');
SELECT count(*) AS pending_project_rows FROM ai_usage_rollup_project WHERE pending;
SELECT rp_mismatches() AS mismatches_after_writes;
-- (folded: the days they touched are in the daily project level, not
-- read yet: nothing is covered)
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT count(DISTINCT bucket) AS project_days, rp_daily_off() AS daily_off FROM ai_usage_rollup_project_daily;
SELECT rp_mismatches() AS mismatches_after_writes_compacted;

-- One step of the backfill: a day, the newest hours with calls.
SELECT ai_rollup_backfill_project(1) AS days;
SELECT project_from FROM ai_upkeep_state;
SELECT rp_daily_off() AS daily_off;
SELECT rp_mismatches() AS mismatches_one_day_covered_pending;
SELECT ai_rollup_compact() >= 0 AS compacted;
SELECT rp_mismatches() AS mismatches_one_day_covered;
-- Writes into a covered hour and into one not covered yet.
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "rp-a", "version": "1", "prompt": "covered",
    "response": {}, "input_tokens": 3, "project": "alpha", "created_at": "2025-05-09 12:30+00"}]');
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "rp-a", "version": "1", "prompt": "not covered",
    "response": {}, "input_tokens": 4, "project": "alpha", "created_at": "2025-05-06 12:30+00"}]');
DELETE FROM ai_call WHERE prompt IN ('prompt 308', 'prompt 309');
-- (pending, then folded)
SELECT rp_mismatches() AS mismatches_partly_covered_pending;
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT rp_daily_off() AS daily_off;
-- (groups the deletes emptied are gone from both levels)
SELECT (SELECT count(*) FROM ai_usage_rollup_project WHERE NOT pending AND calls = 0) AS empty_hourly_groups,
       (SELECT count(*) FROM ai_usage_rollup_project_daily WHERE calls = 0) AS empty_daily_groups;
SELECT rp_mismatches() AS mismatches_partly_covered;
-- Negative control: a sabotaged row of a covered hour shows where the
-- hourly project level answers (hour buckets, or a day cut) ...
BEGIN;
UPDATE ai_usage_rollup_project SET calls = calls + 1, input_tokens = input_tokens + 5
 WHERE (bucket, model_id, call_type, status, project) IN
       (SELECT bucket, model_id, call_type, status, project FROM ai_usage_rollup_project
         WHERE NOT pending AND bucket >= (SELECT project_from FROM ai_upkeep_state)
         ORDER BY bucket DESC, model_id, project LIMIT 1);
SELECT rp_compare(NULL, NULL, '{hour,project}', 'UTC') > 0 AS covered_sabotage_detected,
       rp_compare('2025-05-09 20:00+00', NULL, '{project}', 'UTC') > 0 AS in_a_cut_day_detected,
       rp_daily_off() AS daily_off;
-- ... and not where its whole day comes from the daily project level.
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') AS whole_day_from_daily_mismatches;
ROLLBACK;
-- Negative controls (1.8): a sabotaged row of the daily project level
-- shows in the whole covered days (unbucketed, day buckets in UTC, month
-- buckets in Etc/UTC), not where the hourly level answers (hour buckets,
-- a zone not always UTC) ...
BEGIN;
UPDATE ai_usage_rollup_project_daily SET calls = calls + 1, input_tokens = input_tokens + 5
 WHERE ctid IN
       (SELECT ctid FROM ai_usage_rollup_project_daily
         WHERE bucket >= (SELECT project_from FROM ai_upkeep_state)
         ORDER BY bucket DESC, model_id, project, call_type, status LIMIT 1);
SELECT rp_daily_off() AS daily_off,
       rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS daily_sabotage_detected,
       rp_compare(NULL, NULL, '{day,project}', 'UTC') > 0 AS by_day_detected,
       rp_compare(NULL, NULL, '{month,project,status}', 'Etc/UTC') > 0 AS by_month_detected,
       rp_compare(NULL, NULL, '{hour,project}', 'UTC') AS by_hour_mismatches,
       rp_compare(NULL, NULL, '{day,project}', 'Europe/Berlin') AS berlin_mismatches;
ROLLBACK;
-- ... nor in a day not complete yet (its hours come from ai_call).
BEGIN;
UPDATE ai_usage_rollup_project_daily SET calls = calls + 1
 WHERE bucket < (SELECT project_from FROM ai_upkeep_state);
SELECT count(*) > 0 AS sabotaged_days_not_covered FROM ai_usage_rollup_project_daily
 WHERE bucket < (SELECT project_from FROM ai_upkeep_state);
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') AS uncovered_day_sabotage_mismatches;
ROLLBACK;
-- A pending row of a whole covered day counts beside its daily row; left
-- out, it shows.
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "rp-b", "version": "1", "prompt": "pending in a day",
    "response": {}, "input_tokens": 5, "duration_ms": 700, "project": "beta", "created_at": "2025-05-09 08:30+00"}]');
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') AS pending_in_a_day_mismatches;
BEGIN;
DELETE FROM ai_usage_rollup_project WHERE pending;
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS pending_left_out_detected;
ROLLBACK;
SELECT ai_rollup_compact() > 0 AS compacted;
BEGIN;
UPDATE ai_usage_rollup_project SET calls = calls + 1
 WHERE bucket < (SELECT project_from FROM ai_upkeep_state);
SELECT count(*) > 0 AS sabotaged_rows_not_covered FROM ai_usage_rollup_project
 WHERE bucket < (SELECT project_from FROM ai_upkeep_state);
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') AS uncovered_sabotage_mismatches;
ROLLBACK;

-- The backfill to its end (the upkeep worker does this on its own).
SELECT ai_rollup_backfill_project(2) AS days;
SELECT ai_rollup_backfill_project() AS days, ai_rollup_backfill_project() AS then_days;
SELECT project_from FROM ai_upkeep_state;
SELECT count(DISTINCT bucket) AS project_days, rp_daily_off() AS daily_off FROM ai_usage_rollup_project_daily;
SELECT rp_mismatches() AS mismatches_after_backfill;
SELECT ai_rollup_compact() >= 0 AS compacted;
SELECT rp_mismatches() AS mismatches_after_backfill_compacted;

-- Negative controls: the comparison sees a sabotaged first_call, a
-- sabotaged histogram, and a reference that leaves the purged calls out.
BEGIN;
-- (the row of a project's first call: no purged call of that project
-- comes before it yet)
UPDATE ai_usage_rollup_project SET first_call = first_call - interval '1 second'
 WHERE (bucket, model_id, call_type, status, project) IN
       (SELECT bucket, model_id, call_type, status, project FROM ai_usage_rollup_project
         WHERE NOT pending AND calls > 0 AND project IS NOT NULL ORDER BY first_call LIMIT 1);
SELECT rp_compare(NULL, NULL, '{hour,project}', 'UTC') > 0 AS first_call_sabotage_detected;
ROLLBACK;
BEGIN;
UPDATE ai_usage_rollup_project SET latency = ai_hist_add(latency, ai_hist_of(19000, 5))
 WHERE (bucket, model_id, call_type, status, project) IN
       (SELECT bucket, model_id, call_type, status, project FROM ai_usage_rollup_project
         WHERE NOT pending AND project = 'beta' ORDER BY bucket, model_id LIMIT 1);
SELECT rp_compare(NULL, NULL, '{hour,project}', 'UTC') > 0 AS latency_sabotage_detected;
ROLLBACK;
-- The same on the daily project level (every day is covered now).
BEGIN;
UPDATE ai_usage_rollup_project_daily SET first_call = first_call - interval '1 second'
 WHERE ctid IN
       (SELECT ctid FROM ai_usage_rollup_project_daily
         WHERE calls > 0 AND project IS NOT NULL ORDER BY first_call, model_id LIMIT 1);
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS daily_first_call_sabotage_detected;
ROLLBACK;
BEGIN;
UPDATE ai_usage_rollup_project_daily SET latency = ai_hist_add(latency, ai_hist_of(19000, 5))
 WHERE ctid IN
       (SELECT ctid FROM ai_usage_rollup_project_daily
         WHERE project = 'beta' AND bucket = '2025-05-07 00:00+00' ORDER BY model_id, call_type, status LIMIT 1);
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS daily_latency_sabotage_detected,
       rp_compare('2025-05-06 00:00+00', '2025-05-09 00:00+00', '{day,project}', 'UTC') > 0
           AND rp_compare('2025-05-05 18:00+00', NULL, '{project}', 'UTC') > 0 AS in_a_window_detected;
ROLLBACK;
BEGIN;
DELETE FROM ai_usage_rollup_project_daily
 WHERE ctid IN
       (SELECT ctid FROM ai_usage_rollup_project_daily
         WHERE project = 'gamma' ORDER BY bucket DESC, model_id, call_type, status LIMIT 1);
SELECT rp_daily_off() AS daily_off, rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS daily_row_lost_detected;
ROLLBACK;
-- A database with the hourly project level only (no daily project table
-- of the extension's own) reads the hourly level: a sabotaged table that
-- is not the extension's is not read.
BEGIN;
ALTER EXTENSION aitrack DROP TABLE ai_usage_rollup_project_daily;
UPDATE ai_usage_rollup_project_daily SET calls = calls + 1000;
SELECT rp_mismatches() AS mismatches_hourly_only;
ROLLBACK;
SELECT rp_compare(NULL, NULL, '{project}', 'UTC', wrong => 2) > 0 AS purged_left_out_detected,
       rp_compare(NULL, NULL, '{project}', 'UTC') = 0 AS right_reference_agrees;

-- A role that may read 1.7's tables only gets the same answers (from
-- ai_call, its grants not covering the project level) ...
CREATE ROLE regress_rp_reader;
GRANT SELECT ON ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_purged,
      ai_usage_rollup_daily, ai_upkeep_state TO regress_rp_reader;
GRANT EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
    TO regress_rp_reader;
CREATE TEMP TABLE rp_answers_1_8 AS SELECT * FROM pg_temp.answers();
GRANT SELECT ON rp_answers_1_8, rp_shapes, rp_windows, rp_gone TO regress_rp_reader;
SET ROLE regress_rp_reader;
SELECT count(*) AS differing FROM ((TABLE rp_answers_1_8 EXCEPT ALL SELECT * FROM pg_temp.answers())
                                   UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE rp_answers_1_8)) d;
RESET ROLE;

--
-- A purge in 1.8: its calls keep their project (ai_usage_purged_project);
-- those of the hour before the floor, which 1.7 began to purge, count in
-- the group NULL as the rest of that hour's purged calls.
--
INSERT INTO rp_gone SELECT c.*, '1.8' FROM ai_call c WHERE c.created_at < '2025-05-07 09:20+00';
CALL ai_purge_calls('2025-05-07 09:20+00', 40);
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT purged_in, count(*) AS purged, count(project) AS with_project,
       count(*) FILTER (WHERE date_trunc('hour', created_at) < (SELECT complete_from FROM ai_usage_purged_project_floor))
           AS before_the_floor
  FROM rp_gone GROUP BY 1 ORDER BY 1;
SELECT sum(calls) AS purged_project_calls, count(DISTINCT project) AS projects FROM ai_usage_purged_project;
SELECT rp_daily_off() AS daily_off;
SELECT rp_mismatches() AS mismatches_after_purge;
-- Negative controls: 1.7's rule (every purged call in the group NULL) no
-- longer matches; a sabotaged purged row shows.
SELECT rp_compare(NULL, NULL, '{project}', 'UTC', wrong => 1) > 0 AS rule_1_7_detected;
BEGIN;
UPDATE ai_usage_purged_project SET cost_usd = cost_usd + 1
 WHERE (bucket, model_id, call_type, status, project) IN
       (SELECT bucket, model_id, call_type, status, project FROM ai_usage_purged_project
         ORDER BY bucket DESC, model_id, project LIMIT 1);
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS purged_sabotage_detected;
ROLLBACK;
-- ... but, not reading ai_usage_purged_project, 1.7's rule for the purged
-- calls: all in the group NULL.
SET ROLE regress_rp_reader;
SELECT (SELECT calls FROM ai_usage_stats(group_by => '{project}') WHERE project IS NULL) -
       (SELECT count(*) FROM ai_call WHERE project IS NULL) AS reader_purged_in_the_null_group,
       (SELECT count(*) FROM rp_gone) AS purged;
RESET ROLE;
REVOKE ALL ON ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_purged,
       ai_usage_rollup_daily, ai_upkeep_state FROM regress_rp_reader;
REVOKE ALL ON rp_shapes, rp_windows, rp_gone FROM regress_rp_reader;
REVOKE ALL ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
    FROM regress_rp_reader;
DROP TABLE rp_answers_1_8;
DROP ROLE regress_rp_reader;


--
-- Writes that skip the trigger leave the project level behind; a rebuild
-- of their days brings it back.
--
ALTER TABLE ai_call DISABLE TRIGGER ai_call_rollup_update;
UPDATE ai_call SET project = 'zeta' WHERE prompt IN ('prompt 401', 'prompt 402', 'after 40');
ALTER TABLE ai_call ENABLE TRIGGER ai_call_rollup_update;
SELECT rp_compare(NULL, NULL, '{project}', 'UTC') > 0 AS behind_detected;
CALL ai_rollup_rebuild();
-- (the days rebuilt are out of the daily project level until folded;
-- their pending rows answer meanwhile)
SELECT count(*) AS project_daily_rows FROM ai_usage_rollup_project_daily;
SELECT rp_mismatches() AS mismatches_after_rebuild_pending;
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT rp_daily_off() AS daily_off;
SELECT rp_mismatches() AS mismatches_after_rebuild;
SELECT n > 3000 AS compared_enough FROM rp_compared;

-- The groups add up to the answer without the project; what they look like.
SELECT (SELECT sum(calls) FROM ai_usage_stats(group_by => '{project}')) AS sum_over_projects,
       (SELECT calls FROM ai_usage_stats(group_by => '{}')) AS total,
       (SELECT sum(cost_usd) FROM ai_usage_stats(group_by => '{project}')) =
       (SELECT cost_usd FROM ai_usage_stats(group_by => '{}')) AS cost_adds_up;
SELECT project, calls, errors, first_call, last_call FROM ai_usage_stats(group_by => '{project}');
SELECT project, calls FROM ai_usage_stats('2025-05-07 09:00+00', '2025-05-07 10:00+00', '{project}');

-- Questions the project level does not answer (a user, an api_key, a tag):
-- from ai_call with 1.7's rule (purged calls in the group NULL).
SELECT (SELECT sum(calls) FROM ai_usage_stats(group_by => '{project,user}')) AS by_project_and_user,
       (SELECT calls FROM ai_usage_stats(group_by => '{project,tag}') WHERE project IS NULL) -
       (SELECT count(*) FROM ai_call WHERE project IS NULL) AS purged_in_the_null_group,
       (SELECT count(*) FROM rp_gone) AS purged;

-- Tenants: their own calls only (from ai_call; the project level sums
-- over users and is closed to them).
CREATE ROLE regress_rp_tenant IN ROLE aitrack_tenant, aitrack_reader;
SET ROLE regress_rp_tenant;
SET aitrack.user_id = '00000000-0000-0000-0000-0000000000b1';
SELECT sum(calls) AS tenant_calls FROM ai_usage_stats(group_by => '{project}');
RESET aitrack.user_id;
RESET ROLE;
SELECT (SELECT count(*) FROM ai_call WHERE user_id = '00000000-0000-0000-0000-0000000000b1') +
       (SELECT count(*) FROM rp_gone WHERE user_id = '00000000-0000-0000-0000-0000000000b1') AS its_calls;
DROP ROLE regress_rp_tenant;

-- TRUNCATE empties the project level with the others.
SET aitrack.allow_drop = on;
TRUNCATE ai_call;
SELECT count(*) AS project_level_rows FROM ai_usage_rollup_project;
SELECT count(*) AS project_daily_rows FROM ai_usage_rollup_project_daily;
-- (the purged calls' numbers stay, as ai_usage_purged's do)
SELECT (SELECT calls FROM ai_usage_stats(group_by => '{}', project => 'alpha')) AS alpha,
       (SELECT count(*) FROM rp_gone WHERE project = 'alpha' AND purged_in = '1.8'
           AND created_at >= (SELECT complete_from FROM ai_usage_purged_project_floor)) AS alpha_purged_in_1_8,
       (SELECT calls FROM ai_usage_stats(group_by => '{}')) AS total,
       (SELECT count(*) FROM rp_gone) AS purged;

DROP TABLE rp_compared;
DROP FUNCTION rp_compare, rp_ref, rp_mismatches, rp_daily_off;
DROP EXTENSION aitrack;
