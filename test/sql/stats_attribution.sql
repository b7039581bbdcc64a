--
-- 1.7: ai_usage_stats() by project, api_key and tag.  A ledger recorded in
-- 1.6, updated to 1.7, then given a seeded random attribution; some calls
-- purged.  Every question by project, api_key or tag is compared with the
-- same aggregates written by hand over ai_call (and the purged calls, kept
-- aside before the purge), as rollup_random's rr_compare does; questions
-- without them must not move across the update.
--
CREATE EXTENSION aitrack VERSION '1.6';
SET timezone = 'UTC';
SELECT setseed(0.1707);

-- 400 calls over four days from 2025-03-03 (one in ten exactly on an
-- hour), over three models, two call types, four statuses, two users and
-- none, with NULLs in the metrics now and then; and for each its future
-- attribution: a project (or none), an api_key (or none), tags (or none,
-- sometimes one given twice, as a plain INSERT may).  random() runs once
-- per loop step, so the ledger depends on the seed alone.
CREATE TEMP TABLE sa_plan (i int PRIMARY KEY, call jsonb, project text, api_key text, tags text[]);
DO $$
DECLARE
    t timestamptz;
    tags text[];
    r float8;
BEGIN
    FOR i IN 1..400 LOOP
        t := timestamptz '2025-03-03 00:00+00' + random() * interval '4 days';
        IF random() < 0.1 THEN t := date_trunc('hour', t); END IF;
        r := random();
        tags := CASE WHEN r < 0.25 THEN NULL
                     WHEN r < 0.5 THEN ARRAY[(ARRAY['red', 'green', 'blue', 'prod', 'eval'])[1 + floor(random() * 5)::int]]
                     WHEN r < 0.95 THEN (SELECT array_agg(x ORDER BY x) FROM unnest(ARRAY['red', 'green', 'blue', 'prod', 'eval']) x
                                          WHERE random() < 0.4)
                     ELSE ARRAY['red', 'blue', 'red'] END;
        INSERT INTO sa_plan VALUES (i,
            jsonb_strip_nulls(jsonb_build_object(
                'modelname', (ARRAY['sa-a', 'sa-a', 'sa-b', 'sa-c'])[1 + floor(random() * 4)::int],
                'version', '1', 'prompt', 'prompt ' || i, 'response', '{}'::jsonb,
                'input_tokens', CASE WHEN random() < 0.9 THEN floor(random() * 5000)::int END,
                'output_tokens', CASE WHEN random() < 0.9 THEN floor(random() * 900)::int END,
                'cost_usd', CASE WHEN random() < 0.8 THEN round((random() * 0.01)::numeric, 6) END,
                'duration_ms', CASE WHEN random() < 0.1 THEN NULL
                                    WHEN random() < 0.4 THEN floor(random() * 100)::int
                                    ELSE 100 + floor(random() * 20000)::int END,
                'call_type', (ARRAY['chat', 'embed'])[1 + floor(random() * 2)::int],
                'status', (ARRAY['success', 'success', 'success', 'error', 'timeout'])[1 + floor(random() * 5)::int],
                'user_id', (ARRAY[NULL, '00000000-0000-0000-0000-0000000000a1',
                                  '00000000-0000-0000-0000-0000000000a2'])[1 + floor(random() * 3)::int],
                'created_at', t)),
            CASE WHEN random() < 0.8 THEN (ARRAY['alpha', 'beta', 'gamma'])[1 + floor(random() * 3)::int] END,
            CASE WHEN random() < 0.7 THEN 'key-' || (1 + floor(random() * 4)::int) END,
            tags);
    END LOOP;
END $$;
SELECT count(*) AS recorded FROM record_ai_calls((SELECT jsonb_agg(call ORDER BY i) FROM sa_plan));
SELECT ai_rollup_compact() > 0 AS compacted;

-- In 1.6 (the 1.5 symbol, rows of 29 attributes): questions without
-- attribution, kept to compare after the update.
CREATE TEMP TABLE sa_questions (q int, since timestamptz, until timestamptz, dims text[], tz text);
INSERT INTO sa_questions VALUES
    (1, NULL, NULL, '{model}', 'UTC'),
    (2, '2025-03-03 10:17+00', '2025-03-06 15:42+00', '{model,status}', 'UTC'),
    (3, NULL, NULL, '{day,model}', 'UTC'),
    (4, NULL, NULL, '{day,user}', 'America/New_York'),
    (5, '2025-03-04 00:00+00', NULL, '{hour}', 'UTC'),
    (6, NULL, NULL, '{day}', 'Asia/Kolkata'),
    (7, '2025-03-05 08:20+00', '2025-03-05 08:50+00', '{}', 'UTC');
CREATE FUNCTION pg_temp.answers() RETURNS TABLE (q int, a text) LANGUAGE sql AS $$
    SELECT k.q, ROW(s.bucket, s.modelname, s.version, s.call_type, s.status, s.user_id, s.calls, s.errors,
                    s.input_tokens, s.reasoning_tokens, s.output_tokens, s.cost_usd, s.avg_duration_ms,
                    s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms, s.first_call, s.last_call,
                    s.cache_read_input_tokens, s.cache_creation_input_tokens, s.unpriced_calls,
                    s.avg_time_to_first_token_ms, s.web_search_requests)::text
      FROM sa_questions k, ai_usage_stats(k.since, k.until, k.dims, tz => k.tz) s
$$;
CREATE TEMP TABLE sa_answers_1_6 AS SELECT * FROM pg_temp.answers();
SELECT count(*) AS answers, count(DISTINCT q) AS questions FROM sa_answers_1_6;
SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = 'ai_usage_stats_row'::regclass AND attnum > 0)
           AS row_attributes,
       (SELECT prosrc FROM pg_proc WHERE oid = 'ai_usage_stats'::regproc) AS symbol;
-- The 1.5 symbol, on the row type widened as the update widens it (before
-- the function is replaced, in the same transaction): NULL in the new
-- attributes, the same answers.
BEGIN;
ALTER TYPE ai_usage_stats_row ADD ATTRIBUTE project text, ADD ATTRIBUTE api_key text, ADD ATTRIBUTE tag text;
SELECT count(*) AS differing FROM ((TABLE sa_answers_1_6 EXCEPT ALL SELECT * FROM pg_temp.answers())
                                   UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE sa_answers_1_6)) d;
SELECT count(*) AS rows, count(project) + count(api_key) + count(tag) AS attribution_set
  FROM ai_usage_stats(group_by => '{day,model}');
ROLLBACK;
-- The 1.5 symbol knows no attribution: 1.6 databases keep 1.6's error.
SELECT count(*) FROM ai_usage_stats(group_by => '{project}');

-- The update brings a new argument list: a view over the 7-argument
-- function survives it (the old function stays as ai_usage_stats_1_6, with
-- the same answers).
CREATE VIEW sa_dashboard AS SELECT modelname, calls FROM ai_usage_stats() ORDER BY 1;
CREATE TEMPORARY TABLE sa_dashboard_1_6 AS SELECT * FROM sa_dashboard;
ALTER EXTENSION aitrack UPDATE TO '1.7';
SELECT count(*) AS differing FROM ((TABLE sa_dashboard_1_6 EXCEPT ALL TABLE sa_dashboard)
                                   UNION ALL (TABLE sa_dashboard EXCEPT ALL TABLE sa_dashboard_1_6)) d;
SELECT pg_get_viewdef('sa_dashboard') ~ 'ai_usage_stats_1_6' AS reads_the_renamed_function;
DROP VIEW sa_dashboard;
SELECT p.oid::regprocedure AS signature, p.prosrc AS symbol,
       (SELECT count(*) FROM pg_attribute WHERE attrelid = 'ai_usage_stats_row'::regclass AND attnum > 0)
           AS row_attributes
  FROM pg_proc p WHERE p.proname IN ('ai_usage_stats', 'ai_usage_stats_1_6') ORDER BY p.proname;
-- Questions without attribution: the same answers (the same plans, see
-- src/stats.c), the new columns NULL.
SELECT count(*) AS differing FROM ((TABLE sa_answers_1_6 EXCEPT ALL SELECT * FROM pg_temp.answers())
                                   UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE sa_answers_1_6)) d;
SELECT count(*) AS rows, count(project) + count(api_key) + count(tag) AS attribution_set
  FROM ai_usage_stats(group_by => '{day,model}');

-- The attribution, by plain UPDATE (the recording functions are not this
-- test's).
UPDATE ai_call c SET project = p.project, api_key = p.api_key, tags = p.tags
  FROM sa_plan p WHERE c.prompt = 'prompt ' || p.i;
SELECT count(project) AS with_project, count(api_key) AS with_key, count(tags) AS with_tags,
       count(*) FILTER (WHERE cardinality(tags) > (SELECT count(DISTINCT x) FROM unnest(tags) x)) AS with_a_tag_twice
  FROM ai_call;
-- Attribution changes no answer without it.
SELECT count(*) AS differing FROM ((TABLE sa_answers_1_6 EXCEPT ALL SELECT * FROM pg_temp.answers())
                                   UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE sa_answers_1_6)) d;

-- Purge the calls before 2025-03-04 06:30 (inside an hour), 40 per batch;
-- keep them aside first, for the reference.
CREATE TEMP TABLE sa_gone AS SELECT * FROM ai_call WHERE created_at < '2025-03-04 06:30+00';
SELECT count(*) AS to_purge, count(project) AS with_project, count(tags) AS with_tags FROM sa_gone;
CALL ai_purge_calls('2025-03-04 06:30+00', 40);
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT count(*) AS calls_left FROM ai_call;

--
-- The reference: the aggregates by hand, from ai_call, plus (unless an
-- attribution filter is given) the purged calls of the whole hours inside
-- [since, until) with no attribution; tags distinct per call, a call
-- without tags under tag NULL.  raw: a zone with minutes (no rollups
-- there): ai_call alone, percentile_cont.  wrong: a deliberate mistake,
-- for the negative controls (1: purged calls left out, 2: a tag given
-- twice counted twice).
--
CREATE FUNCTION sa_ref(since timestamptz, until timestamptz, dims text[], f_model text,
                       f_project text, f_api_key text, f_tag text, tz text, raw boolean, wrong int)
RETURNS TABLE (k text, calls bigint, errors bigint, input_tokens numeric, output_tokens numeric,
               cost_usd numeric, avg_duration_ms float8, pct float8[], first_call timestamptz,
               last_call timestamptz, unpriced_calls bigint)
LANGUAGE sql STABLE AS $$
    WITH unit AS (SELECT (SELECT d FROM unnest(dims) d WHERE d IN ('hour', 'day', 'week', 'month')) AS u),
    hours AS (SELECT CASE WHEN since IS NULL OR date_trunc('hour', since) = since THEN since
                          ELSE date_trunc('hour', since) + interval '1 hour' END AS h_from,
                     CASE WHEN until IS NULL THEN NULL ELSE date_trunc('hour', until) END AS h_until),
    c AS (SELECT c.created_at, c.model_id, c.status, c.input_tokens, c.output_tokens, c.cost_usd,
                 c.duration_ms, c.project, c.api_key, c.tags
            FROM ai_call c
           WHERE (since IS NULL OR c.created_at >= since) AND (until IS NULL OR c.created_at < until)
          UNION ALL
          SELECT g.created_at, g.model_id, g.status, g.input_tokens, g.output_tokens, g.cost_usd,
                 g.duration_ms, NULL, NULL, NULL
            FROM sa_gone g, hours h
           WHERE NOT raw AND wrong IS DISTINCT FROM 1
             AND f_project IS NULL AND f_api_key IS NULL AND f_tag IS NULL
             AND (h.h_from IS NULL OR g.created_at >= h.h_from)
             AND (h.h_until IS NULL OR g.created_at < h.h_until)
             AND (h.h_from IS NULL OR h.h_until IS NULL OR h.h_from < h.h_until)),
    f AS (SELECT c.*, m.modelname, m.version
            FROM c JOIN ai_model m ON m.id = c.model_id
           WHERE (f_model IS NULL OR m.modelname = f_model)
             AND (f_project IS NULL OR c.project = f_project)
             AND (f_api_key IS NULL OR c.api_key = f_api_key)
             AND (f_tag IS NULL OR f_tag = ANY (c.tags))),
    e AS (SELECT f.*, t.tag
            FROM f LEFT JOIN LATERAL
                 (SELECT DISTINCT x AS tag FROM unnest(f.tags) x WHERE wrong IS DISTINCT FROM 2
                  UNION ALL SELECT x FROM unnest(f.tags) x WHERE wrong = 2) t
              ON 'tag' = ANY (dims))
    SELECT ROW(CASE WHEN u.u IS NOT NULL THEN date_trunc(u.u, e.created_at, tz) END,
               CASE WHEN dims && '{model,modelname}' THEN e.modelname END,
               CASE WHEN 'model' = ANY (dims) THEN e.version END,
               CASE WHEN 'project' = ANY (dims) THEN e.project END,
               CASE WHEN 'api_key' = ANY (dims) THEN e.api_key END,
               e.tag)::text,
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

-- Rows of ai_usage_stats() and of the reference that differ (either
-- missing, or any column apart); the number of rows compared adds up in
-- sa_compared.
CREATE TABLE sa_compared (n bigint NOT NULL);
INSERT INTO sa_compared VALUES (0);
CREATE FUNCTION sa_compare(since timestamptz, until timestamptz, dims text[], tz text,
                           f_model text DEFAULT NULL, f_project text DEFAULT NULL,
                           f_api_key text DEFAULT NULL, f_tag text DEFAULT NULL, wrong int DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    raw boolean := tz = 'Asia/Kolkata';
    bad bigint;
    seen bigint;
BEGIN
    WITH s AS (SELECT ROW(x.bucket, x.modelname, x.version, x.project, x.api_key, x.tag)::text AS k, x.*
                 FROM ai_usage_stats(since, until, dims, f_model, NULL, NULL, tz,
                                     f_project, f_api_key, f_tag) x
                WHERE x.calls > 0),
         r AS (SELECT * FROM sa_ref(since, until, dims, f_model, f_project, f_api_key, f_tag, tz, raw, wrong))
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
    UPDATE sa_compared SET n = n + seen;
    RETURN bad;
END $$;

-- Whole days, whole hours and partial hours; UTC, a zone of whole hours
-- with a DST change (2025-03-09 is outside the ledger: New York is -05
-- throughout), and a zone with minutes (read raw).
CREATE TEMP TABLE sa_windows (w text, since timestamptz, until timestamptz);
INSERT INTO sa_windows VALUES
    ('all', NULL, NULL),
    ('partial hours', '2025-03-03 10:17+00', '2025-03-06 15:42+00'),
    ('whole hours', '2025-03-04 03:00+00', '2025-03-05 21:00+00'),
    ('one hour, cut', '2025-03-04 06:05+00', '2025-03-04 06:55+00'),
    ('from a partial hour', '2025-03-04 05:45+00', NULL);
CREATE TEMP TABLE sa_shapes (s int, dims text[], tz text, f_model text, f_project text, f_api_key text, f_tag text);
INSERT INTO sa_shapes VALUES
    (1, '{project}', 'UTC', NULL, NULL, NULL, NULL),
    (2, '{api_key}', 'UTC', NULL, NULL, NULL, NULL),
    (3, '{tag}', 'UTC', NULL, NULL, NULL, NULL),
    (4, '{tag,model}', 'UTC', NULL, NULL, NULL, NULL),
    (5, '{day,project}', 'America/New_York', NULL, NULL, NULL, NULL),
    (6, '{day,project}', 'Asia/Kolkata', NULL, NULL, NULL, NULL),
    (7, '{hour,api_key,tag}', 'UTC', NULL, NULL, NULL, NULL),
    (8, '{project,api_key}', 'Europe/Berlin', 'sa-a', NULL, NULL, NULL),
    (9, '{}', 'UTC', NULL, 'alpha', NULL, NULL),
    (10, '{tag}', 'UTC', NULL, 'beta', NULL, NULL),
    (11, '{model}', 'UTC', NULL, NULL, 'key-2', NULL),
    (12, '{}', 'UTC', NULL, NULL, NULL, 'red'),
    (13, '{project}', 'UTC', NULL, NULL, NULL, 'red'),
    (14, '{day,tag}', 'America/New_York', NULL, NULL, NULL, 'prod'),
    (15, '{model}', 'UTC', NULL, 'gamma', 'key-1', 'blue'),
    (16, '{tag}', 'Asia/Kolkata', NULL, 'alpha', NULL, NULL),
    (17, '{project,tag}', 'UTC', 'sa-b', NULL, NULL, NULL),
    (18, '{week,project}', 'UTC', NULL, NULL, NULL, NULL);
SELECT s.s, s.dims, s.tz, concat_ws(' ', 'model=' || s.f_model, 'project=' || s.f_project,
                                    'api_key=' || s.f_api_key, 'tag=' || s.f_tag) AS filters,
       sum(sa_compare(w.since, w.until, s.dims, s.tz, s.f_model, s.f_project, s.f_api_key, s.f_tag))
           AS mismatches
  FROM sa_shapes s, sa_windows w
 GROUP BY s.s, s.dims, s.tz, s.f_model, s.f_project, s.f_api_key, s.f_tag ORDER BY s.s;
-- Rows compared: enough to mean something.
SELECT n > 1000 AS compared_enough FROM sa_compared;

-- Negative controls: the comparison sees a reference that leaves the
-- purged calls out, and one that counts a tag given twice twice.
SELECT sa_compare(NULL, NULL, '{project}', 'UTC', wrong => 1) > 0 AS purged_left_out_detected,
       sa_compare(NULL, NULL, '{tag}', 'UTC', wrong => 2) > 0 AS double_tag_detected,
       sa_compare(NULL, NULL, '{tag}', 'UTC') = 0 AS right_reference_agrees;

-- For project and api_key the groups add up to the answer without the
-- dimension, purged calls included (they are in the group NULL); for tag,
-- the group NULL holds the calls without tags and the purged ones.
SELECT d.dims, (SELECT sum(calls) FROM ai_usage_stats(group_by => d.dims)) AS sum_over_groups,
       (SELECT calls FROM ai_usage_stats(group_by => '{}')) AS total,
       (SELECT sum(cost_usd) FROM ai_usage_stats(group_by => d.dims)) =
       (SELECT cost_usd FROM ai_usage_stats(group_by => '{}')) AS cost_adds_up
  FROM (VALUES ('{project}'::text[]), ('{api_key}'), ('{project,api_key}')) d(dims);
SELECT (SELECT calls FROM ai_usage_stats(group_by => '{tag}') WHERE tag IS NULL) AS tag_null,
       (SELECT count(*) FROM ai_call WHERE tags IS NULL) AS live_without_tags,
       (SELECT count(*) FROM sa_gone) AS purged;
-- What the groups look like.
SELECT project, calls, errors, first_call FROM ai_usage_stats(group_by => '{project}');
SELECT tag, calls FROM ai_usage_stats(group_by => '{tag}');
SELECT project, tag, calls FROM ai_usage_stats(group_by => '{project,tag}', tag => 'red');
-- A filter leaves the purged calls out; without any call, one row of zeros.
SELECT calls, input_tokens FROM ai_usage_stats(group_by => '{}', project => 'no such project');
SELECT (SELECT calls FROM ai_usage_stats(group_by => '{}', project => 'alpha')) =
       (SELECT count(*) FROM ai_call WHERE project = 'alpha') AS alpha_is_live_calls_only;

-- Bad input.
SELECT count(*) FROM ai_usage_stats(group_by => '{projects}');
SELECT count(*) FROM ai_usage_stats(group_by => ARRAY['tag', NULL]);
SELECT count(*) FROM ai_usage_stats(project => '');
SELECT count(*) FROM ai_usage_stats(api_key => '');
SELECT count(*) FROM ai_usage_stats(tag => '');

-- Tenants: row-level security on ai_call and ai_usage_purged applies.
CREATE ROLE regress_sa_tenant IN ROLE aitrack_tenant, aitrack_reader;
SET ROLE regress_sa_tenant;
SET aitrack.user_id = '00000000-0000-0000-0000-0000000000a1';
SELECT sum(calls) AS tenant_calls FROM ai_usage_stats(group_by => '{project}');
SELECT count(*) FILTER (WHERE user_id IS DISTINCT FROM '00000000-0000-0000-0000-0000000000a1') AS other_users
  FROM ai_usage_stats(group_by => '{user,tag}');
RESET aitrack.user_id;
RESET ROLE;
SELECT (SELECT count(*) FROM ai_call WHERE user_id = '00000000-0000-0000-0000-0000000000a1') +
       (SELECT count(*) FROM sa_gone WHERE user_id = '00000000-0000-0000-0000-0000000000a1') AS its_calls;
DROP ROLE regress_sa_tenant;

DROP TABLE sa_compared;
DROP FUNCTION sa_compare, sa_ref;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
