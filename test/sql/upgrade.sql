-- Upgrade path, as pg_stat_statements' oldextversions test: install the
-- oldest version, record calls, update one version at a time, and check the
-- objects and the data after each step.  Each new version adds a block:
-- 1.0 -> 1.1, 1.1 -> 1.2, 1.2 -> 1.3, 1.3 -> 1.4, 1.4 -> 1.5.
-- (test/t/002_upgrade.pl also compares the result with a fresh install.)
SET timezone = 'UTC';
CREATE EXTENSION aitrack VERSION '1.0';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
CREATE VIEW aitrack_objects AS
SELECT pg_catalog.pg_describe_object(classid, objid, 0) AS object
  FROM pg_catalog.pg_depend
 WHERE refclassid = 'pg_catalog.pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'aitrack')
   -- aitrack creates no types; from 17 on a table's row and array types
   -- are members too
   AND classid OPERATOR(pg_catalog.<>) 'pg_catalog.pg_type'::regclass;
SELECT * FROM aitrack_objects ORDER BY 1;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{"text": "hi"}', input_tokens => 10,
                      output_tokens => 2, cost_usd => 0.001, duration_ms => 100) AS id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}',
                      '{"status": "error", "duration_ms": 5000}'::jsonb, 'chat') AS id;
-- 1.0 never read the response: these tokens stay unknown.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1000, "completion_tokens": 100}}') AS id;
-- A role that may record and read stats under 1.0 keeps those rights.
CREATE ROLE regress_aitrack_app;
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid),
    ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid)
    TO regress_aitrack_app;
GRANT SELECT ON ai_call, ai_model TO regress_aitrack_app;
CREATE TEMP TABLE calls_1_0 AS SELECT * FROM ai_call;

-- Every version this build can install or reach.
SELECT name, version, requires FROM pg_catalog.pg_available_extension_versions
 WHERE name = 'aitrack' ORDER BY version;
SELECT source, target, path FROM pg_catalog.pg_extension_update_paths('aitrack')
 WHERE path IS NOT NULL ORDER BY source, target;

--
-- 1.0 -> 1.1
--
ALTER EXTENSION aitrack UPDATE TO '1.1';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT * FROM aitrack_objects ORDER BY 1;
-- Every 1.0 column of every call is as it was, updated_at included; the
-- costs the calls carried are 'provided', the missing ones 'unknown'.
SELECT count(*) AS changed_calls
  FROM (SELECT id, created_at, updated_at, model_id, prompt, response, input_tokens,
               reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type,
               status, user_id, extra FROM ai_call
        EXCEPT
        SELECT id, created_at, updated_at, model_id, prompt, response, input_tokens,
               reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type,
               status, user_id, extra FROM calls_1_0) AS d;
SELECT id, cost_usd, cost_source, cache_read_input_tokens, time_to_first_token_ms
  FROM ai_call ORDER BY id;
-- The 1.0 grants carried over to the redefined functions.
SET ROLE regress_aitrack_app;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 5, output_tokens => 1) > 0 AS recorded;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"input_tokens": 5}'::jsonb) > 0 AS recorded;
SELECT modelname, calls, cache_read_input_tokens, unpriced_calls FROM ai_usage_stats();
RESET ROLE;
-- 1.1 at work on the upgraded tables: a price, then automatic cost and
-- repricing of the calls 1.0 recorded without one.
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025,
                                          "output_cost_per_token": 0.00001,
                                          "cache_read_input_token_cost": 0.00000125}}');
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1000, "completion_tokens": 100,
                                  "prompt_tokens_details": {"cached_tokens": 800}}}') AS id \gset
SELECT input_tokens, cache_read_input_tokens, output_tokens, cost_usd, cost_source
  FROM ai_call WHERE id = :id;
SELECT calls_checked, calls_changed, newly_priced, change_usd FROM ai_reprice(NULL, NULL, false);
SELECT id, input_tokens, output_tokens, cost_usd, cost_source FROM ai_call ORDER BY id;

--
-- 1.1 -> 1.2
--
-- Spread the calls over a few hours first (under 1.1 nothing but ai_call
-- notices), so that the update has several hours and groups to roll up.
UPDATE ai_call SET created_at = timestamptz '2024-06-01 10:15:00+00' + id * interval '50 minutes';
CREATE TEMP TABLE calls_1_1 AS SELECT * FROM ai_call;
ALTER EXTENSION aitrack UPDATE TO '1.2';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT * FROM aitrack_objects ORDER BY 1;
-- The update only read the calls.
SELECT count(*) AS changed_calls
  FROM ((TABLE ai_call EXCEPT ALL TABLE calls_1_1)
        UNION ALL
        (TABLE calls_1_1 EXCEPT ALL TABLE ai_call)) AS d;
-- It rolled them up and compacted the result: one row per hour, model,
-- call_type, status and user in ai_usage_rollup, none pending, the same
-- summed over users in ai_usage_rollup_total, and nothing purged yet.
SELECT count(*) FILTER (WHERE pending) AS pending_rows,
       count(*) AS rollup_rows,
       count(*) = (SELECT count(DISTINCT (date_trunc('hour', created_at, 'UTC'), model_id,
                                          call_type, status, user_id))
                     FROM calls_1_1) AS one_row_per_group,
       (SELECT count(*) FROM ai_usage_rollup_total) AS total_rows,
       (SELECT count(*) FROM ai_usage_purged) AS purged_rows
  FROM ai_usage_rollup;
-- The stats, now from the rollups, are the aggregates written by hand over
-- the calls 1.1 recorded: every count, sum, cost, average, first_call and
-- last_call equal; each percentile within 1% (the histogram's; a value
-- below 100 ms would be exact, the only durations here are 100 and 5000).
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.bucket IS NULL OR h.bucket IS NULL) AS unmatched,
       count(*) FILTER (WHERE (s.calls, s.errors, s.input_tokens, s.reasoning_tokens,
                               s.output_tokens, s.cost_usd, s.avg_duration_ms,
                               s.first_call, s.last_call, s.cache_read_input_tokens,
                               s.cache_creation_input_tokens, s.unpriced_calls,
                               s.avg_time_to_first_token_ms)
                              IS NOT DISTINCT FROM
                              (h.calls, h.errors, h.input_tokens, h.reasoning_tokens,
                               h.output_tokens, h.cost_usd, h.avg_duration_ms,
                               h.first_call, h.last_call, h.cache_read_input_tokens,
                               h.cache_creation_input_tokens, h.unpriced_calls,
                               h.avg_time_to_first_token_ms)) AS same_numbers,
       count(*) FILTER (WHERE CASE WHEN h.p50 IS NULL
                                   THEN (s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms)
                                        IS NULL
                                   ELSE abs(s.p50_duration_ms - h.p50) < 0.01 * h.p50
                                    AND abs(s.p95_duration_ms - h.p95) < 0.01 * h.p95
                                    AND abs(s.p99_duration_ms - h.p99) < 0.01 * h.p99
                              END) AS percentiles_within_1pct
  FROM (SELECT *, ROW(bucket, modelname, version, call_type, status, user_id)::text AS k
          FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}')) AS s
  FULL JOIN
       (SELECT ROW(date_trunc('hour', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                   m.modelname, m.version, c.call_type, c.status, c.user_id)::text AS k,
               date_trunc('hour', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
               count(*) AS calls,
               count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success') AS errors,
               sum(c.input_tokens) AS input_tokens, sum(c.reasoning_tokens) AS reasoning_tokens,
               sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
               avg(c.duration_ms)::float8 AS avg_duration_ms,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms) AS p95,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms) AS p99,
               min(c.created_at) AS first_call, max(c.created_at) AS last_call,
               sum(c.cache_read_input_tokens) AS cache_read_input_tokens,
               sum(c.cache_creation_input_tokens) AS cache_creation_input_tokens,
               count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls,
               avg(c.time_to_first_token_ms)::float8 AS avg_time_to_first_token_ms
          FROM calls_1_1 c JOIN ai_model m ON m.id = c.model_id
         GROUP BY 1, 2) AS h
    ON h.k = s.k;
-- The same by model, to read.
SELECT modelname, version, calls, errors, input_tokens, output_tokens, cost_usd,
       round(p50_duration_ms::numeric, 3) AS p50, first_call, last_call, unpriced_calls
  FROM ai_usage_stats();
-- The reporting role's 1.0 grants carried over: EXECUTE on the new
-- ai_usage_stats (with tz) and, as it may read ai_call, SELECT on the three
-- rollup tables; nothing else, none of 1.2's functions included.
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS object,
       CASE WHEN d.classid = 'pg_catalog.pg_proc'::regclass
            THEN 'EXECUTE'
            ELSE concat_ws(', ',
                     CASE WHEN has_table_privilege('regress_aitrack_app', d.objid, 'SELECT')
                          THEN 'SELECT' END,
                     CASE WHEN has_table_privilege('regress_aitrack_app', d.objid,
                                                   'INSERT, UPDATE, DELETE, TRUNCATE')
                          THEN 'write' END)
       END AS app_may
  FROM pg_catalog.pg_depend d
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'aitrack')
   AND CASE WHEN d.classid = 'pg_catalog.pg_proc'::regclass
            THEN has_function_privilege('regress_aitrack_app', d.objid, 'EXECUTE')
            WHEN d.classid = 'pg_catalog.pg_class'::regclass
            THEN has_table_privilege('regress_aitrack_app', d.objid,
                                     'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
       END
 ORDER BY 1;
SET ROLE regress_aitrack_app;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 7, output_tokens => 2) > 0 AS recorded;
SELECT modelname, calls, input_tokens, unpriced_calls FROM ai_usage_stats();
SELECT * FROM record_ai_calls('[]');
RESET ROLE;
-- 1.2 at work on the updated tables: a batch (one backfilled into 2023),
-- buckets in a time zone, compaction (of one pending row per statement and
-- group: the app's call, and the batch's two groups), and a purge that
-- keeps the numbers.
SELECT count(*) AS recorded
  FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "2024-08-06", "prompt": "b1",
                          "response": {}, "input_tokens": 100, "output_tokens": 10,
                          "duration_ms": 40, "created_at": "2023-12-31T23:30:00Z"},
                         {"modelname": "claude-3-5-sonnet", "version": "20241022",
                          "prompt": "b2", "response": {}, "input_tokens": 50,
                          "status": "error", "duration_ms": 60,
                          "created_at": "2024-06-01T12:10:00Z"}]');
SELECT bucket, calls, errors, input_tokens, cost_usd,
       round(p50_duration_ms::numeric, 3) AS p50_duration_ms
  FROM ai_usage_stats(until => '2024-06-02 00:00+00', group_by => '{day}',
                      tz => 'America/New_York');
SELECT ai_rollup_compact() AS folded;
CALL ai_purge_calls('2024-01-01 00:00+00');
SELECT count(*) AS calls_left_in_2023 FROM ai_call WHERE created_at < '2024-01-01 00:00+00';
SELECT bucket, calls, input_tokens, cost_usd, p50_duration_ms
  FROM ai_usage_stats(until => '2024-01-01 00:00+00', group_by => '{day}');

--
-- 1.2 -> 1.3
--
-- Every row 1.2 keeps, what the app role may use, and the stats (from the
-- rollups, by every dimension and by model; and from ai_call, in a time
-- zone whose offset is not a whole number of hours), before the update.
CREATE TEMP TABLE calls_1_2 AS SELECT * FROM ai_call;
CREATE TEMP TABLE models_1_2 AS SELECT * FROM ai_model;
CREATE TEMP TABLE prices_1_2 AS SELECT * FROM ai_model_price;
CREATE TEMP TABLE rollup_1_2 AS SELECT * FROM ai_usage_rollup;
CREATE TEMP TABLE rollup_total_1_2 AS SELECT * FROM ai_usage_rollup_total;
CREATE TEMP TABLE purged_1_2 AS SELECT * FROM ai_usage_purged;
CREATE TEMP VIEW stats_now WITH (security_invoker) AS
SELECT 'by all' AS grouping, *
  FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}')
UNION ALL
SELECT 'by model', * FROM ai_usage_stats()
UNION ALL
SELECT 'by day, Asia/Kolkata', * FROM ai_usage_stats(group_by => '{day}', tz => 'Asia/Kolkata');
CREATE TEMP TABLE stats_1_2 AS SELECT * FROM stats_now;
GRANT SELECT ON stats_now TO regress_aitrack_app;
CREATE TEMP VIEW app_may AS
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0) AS object
  FROM pg_catalog.pg_depend d
 WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'aitrack')
   AND CASE WHEN d.classid = 'pg_catalog.pg_proc'::regclass
            THEN has_function_privilege('regress_aitrack_app', d.objid, 'EXECUTE')
            WHEN d.classid = 'pg_catalog.pg_class'::regclass
            THEN has_table_privilege('regress_aitrack_app', d.objid,
                                     'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
       END;
CREATE TEMP TABLE app_may_1_2 AS SELECT * FROM app_may;
SELECT count(*) AS stats_rows FROM stats_1_2;
ALTER EXTENSION aitrack UPDATE TO '1.3';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT * FROM aitrack_objects ORDER BY 1;
-- The update changed no row of any table, pending rollup rows included,
-- and no answer of ai_usage_stats.
SELECT t.tbl, count(d.*) AS changed_rows
  FROM (VALUES ('ai_call'), ('ai_model'), ('ai_model_price'), ('ai_usage_rollup'),
               ('ai_usage_rollup_total'), ('ai_usage_purged'), ('ai_usage_stats')) AS t(tbl)
  LEFT JOIN (
        (SELECT 'ai_call', x::text FROM ((TABLE ai_call EXCEPT ALL TABLE calls_1_2)
                                          UNION ALL (TABLE calls_1_2 EXCEPT ALL TABLE ai_call)) x)
        UNION ALL
        (SELECT 'ai_model', x::text FROM ((TABLE ai_model EXCEPT ALL TABLE models_1_2)
                                           UNION ALL (TABLE models_1_2 EXCEPT ALL TABLE ai_model)) x)
        UNION ALL
        (SELECT 'ai_model_price', x::text
           FROM ((TABLE ai_model_price EXCEPT ALL TABLE prices_1_2)
                 UNION ALL (TABLE prices_1_2 EXCEPT ALL TABLE ai_model_price)) x)
        UNION ALL
        (SELECT 'ai_usage_rollup', x::text
           FROM ((TABLE ai_usage_rollup EXCEPT ALL TABLE rollup_1_2)
                 UNION ALL (TABLE rollup_1_2 EXCEPT ALL TABLE ai_usage_rollup)) x)
        UNION ALL
        (SELECT 'ai_usage_rollup_total', x::text
           FROM ((TABLE ai_usage_rollup_total EXCEPT ALL TABLE rollup_total_1_2)
                 UNION ALL (TABLE rollup_total_1_2 EXCEPT ALL TABLE ai_usage_rollup_total)) x)
        UNION ALL
        (SELECT 'ai_usage_purged', x::text
           FROM ((TABLE ai_usage_purged EXCEPT ALL TABLE purged_1_2)
                 UNION ALL (TABLE purged_1_2 EXCEPT ALL TABLE ai_usage_purged)) x)
        UNION ALL
        (SELECT 'ai_usage_stats', x::text FROM ((TABLE stats_now EXCEPT ALL TABLE stats_1_2)
                                                 UNION ALL (TABLE stats_1_2 EXCEPT ALL TABLE stats_now)) x)
       ) AS d(tbl, r) ON d.tbl = t.tbl
 GROUP BY t.tbl ORDER BY t.tbl;
-- Row-level security is on, with the tenant policies.
SELECT c.relname AS table, c.relrowsecurity AS row_security, p.polname AS policy,
       pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using
  FROM pg_catalog.pg_class c
  LEFT JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid
 WHERE c.relnamespace = 'public'::regnamespace
   AND c.relname IN ('ai_model', 'ai_call', 'ai_model_price', 'ai_usage_rollup',
                     'ai_usage_rollup_total', 'ai_usage_purged')
 ORDER BY c.relname;
-- The app role, not a tenant, and subject to those policies (it owns
-- nothing): it may now also run the two policy functions, open to PUBLIC,
-- and nothing else new; it still sees every row and the same stats.
SELECT 'new' AS app_may, object FROM (TABLE app_may EXCEPT TABLE app_may_1_2) AS n
UNION ALL
SELECT 'lost', object FROM (TABLE app_may_1_2 EXCEPT TABLE app_may) AS l
 ORDER BY 1, 2;
SET ROLE regress_aitrack_app;
SELECT ai_tenant_mode() AS tenant,
       (SELECT count(*) FROM ai_call) AS calls,
       (SELECT count(*) FROM ai_usage_rollup) AS rollup_rows,
       (SELECT count(*) FROM ai_usage_rollup_total) AS total_rows,
       (SELECT count(*) FROM ai_usage_purged) AS purged_rows;
CREATE TEMP TABLE app_stats_1_3 AS SELECT * FROM stats_now;
RESET ROLE;
SELECT (SELECT count(*) FROM calls_1_2) AS calls,
       (SELECT count(*) FROM rollup_1_2) AS rollup_rows,
       (SELECT count(*) FROM rollup_total_1_2) AS total_rows,
       (SELECT count(*) FROM purged_1_2) AS purged_rows,
       (SELECT count(*) FROM ((TABLE app_stats_1_3 EXCEPT ALL TABLE stats_1_2)
                              UNION ALL (TABLE stats_1_2 EXCEPT ALL TABLE app_stats_1_3)) d)
         AS app_stats_differing;
-- 1.3 at work, configured the 1.3 way: the app role marked a tenant with
-- ALTER ROLE ... SET aitrack.tenant, the database set to hash prompts.  A
-- call of one user; the app role, as that user, sees it alone, in the
-- tables and the stats.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 3,
                      user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') > 0 AS recorded;
ALTER ROLE regress_aitrack_app SET aitrack.tenant = on;
SELECT format('ALTER DATABASE %I SET aitrack.store_content = hash', current_database()) \gexec
\c -
SET aitrack.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET ROLE regress_aitrack_app;
SELECT ai_tenant_mode() AS tenant,
       (SELECT count(*) FROM ai_call) AS calls,
       (SELECT count(*) FROM ai_usage_rollup_total) AS total_rows;
SELECT modelname, version, calls, input_tokens FROM ai_usage_stats();
RESET ROLE;
RESET aitrack.user_id;

-- 1.3 -> 1.4: the same protection, with no step to remember, and no
-- session setting can switch it off any more.
ALTER EXTENSION aitrack UPDATE TO '1.4';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SET aitrack.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET ROLE regress_aitrack_app;
SET aitrack.tenant = off;
SELECT ai_tenant_mode() AS tenant,
       (SELECT count(*) FROM ai_call) AS calls,
       (SELECT count(*) FROM ai_usage_rollup_total) AS total_rows;
SELECT modelname, version, calls, input_tokens FROM ai_usage_stats();
RESET ROLE;
RESET aitrack.user_id;
-- Not even a superuser's SET loosens the database's content policy.
SET aitrack.store_content = full;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'secret prompt', '{}') AS id \gset
SELECT prompt = 'sha256:' || encode(sha256('secret prompt'), 'hex') AS hashed FROM ai_call WHERE id = :id;
RESET aitrack.store_content;
-- Every call still names a model; the stats still match the table.
SELECT count(*) AS orphan_calls FROM ai_call c WHERE NOT EXISTS (SELECT FROM ai_model m WHERE m.id = c.model_id);
SELECT (SELECT sum(calls) FROM ai_usage_stats(group_by => '{}')) =
       (SELECT count(*) FROM ai_call) + (SELECT coalesce(sum(calls), 0) FROM ai_usage_purged) AS stats_match;
ALTER ROLE regress_aitrack_app RESET aitrack.tenant;
SELECT format('ALTER DATABASE %I RESET aitrack.store_content', current_database()) \gexec

-- 1.4 -> 1.5: every rule of a price.  Under 1.4, a price file with a
-- context tier loads its base rates only, and a 250k-token call is priced
-- at them; a dashboard's view over ai_usage_stats() is in place.
SELECT model, action FROM ai_load_prices('{"claude-sonnet-4-5": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
    "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
    "input_cost_per_token_above_200k_tokens": 6e-06,
    "output_cost_per_token_above_200k_tokens": 2.25e-05,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07,
    "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06}}', '2025-01-01');
SELECT record_ai_call('claude-sonnet-4-5', '20250929', 'long', '{"type": "message",
    "usage": {"input_tokens": 150000, "cache_read_input_tokens": 100000, "output_tokens": 2000}}') AS long_call \gset
SELECT input_tokens, cost_usd, cost_source FROM ai_call WHERE id = :long_call;
-- A database still at 1.4 reads responses as 1.4's library did, also when
-- the 1.5 library serves it: the parts 1.5 reads (1-hour writes, the
-- realtime spelling, audio and image counts, the service tier) change
-- nothing here.  (These are the figures 1.4's library gives.)
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
                            cache_creation_usd_per_mtok, reasoning_usd_per_mtok)
VALUES ('parity', 1, 10, 0.1, 2, 20);
CREATE TEMP TABLE parity (n int, response jsonb);
INSERT INTO parity VALUES
 (1, '{"type": "message", "usage": {"input_tokens": 100, "output_tokens": 10,
       "cache_creation": {"ephemeral_5m_input_tokens": 50, "ephemeral_1h_input_tokens": 30}}}'),
 (2, '{"usage": {"input_tokens": 100, "output_tokens": 10,
       "input_token_details": {"cached_tokens": 40}, "output_token_details": {"reasoning_tokens": 5}}}'),
 (3, '{"object": "chat.completion", "usage": {"prompt_tokens": 100, "completion_tokens": 10,
       "prompt_tokens_details": {"cached_tokens": 80, "audio_tokens": 50},
       "completion_tokens_details": {"reasoning_tokens": 6, "audio_tokens": 5}}}'),
 (4, '{"usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10, "cachedContentTokenCount": 90,
       "promptTokensDetails": [{"modality": "IMAGE", "tokenCount": 60}]}}'),
 (5, '{"object": "chat.completion", "service_tier": "flex", "usage": {"prompt_tokens": 100, "completion_tokens": 10}}');
CREATE TEMP TABLE parity_ids AS
SELECT p.n, 'single' AS form, record_ai_call('parity', 'v', 'p', p.response) AS call_id FROM parity p;
INSERT INTO parity_ids
SELECT r.n, 'batch', r.call_id
  FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'parity', 'version', 'v', 'prompt', 'p',
                                                            'response', response) ORDER BY n) FROM parity))
       WITH ORDINALITY AS r(call_id, n);
SELECT i.form, i.n, c.input_tokens, c.output_tokens, c.cache_read_input_tokens, c.cache_creation_input_tokens,
       c.reasoning_tokens, c.cost_usd
  FROM parity_ids i JOIN ai_call c ON c.id = i.call_id ORDER BY i.form DESC, i.n;
-- A row as 1.0 recorded some: reasoning beyond output (1.1 to 1.4 leave
-- such rows be).
INSERT INTO ai_call (model_id, prompt, response, reasoning_tokens, output_tokens)
SELECT m.id, 'old', '{}', 50, 10 FROM ai_model m WHERE m.modelname = 'parity'
RETURNING id AS old_row \gset
-- A DBA opened the stats to everyone.
GRANT EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text) TO PUBLIC;
CREATE TEMP TABLE calls_1_4 AS SELECT * FROM ai_call;
CREATE TEMP TABLE stats_1_4 AS
SELECT bucket, modelname, version, call_type, status, user_id, calls, errors, input_tokens,
       reasoning_tokens, output_tokens, cost_usd, first_call, last_call, cache_read_input_tokens,
       cache_creation_input_tokens, unpriced_calls
  FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}');
CREATE VIEW dashboard AS SELECT modelname, calls, cost_usd FROM ai_usage_stats();
-- A role that may read a call's numbers column by column, not its prompt.
CREATE ROLE regress_aitrack_counts;
GRANT SELECT (id, input_tokens, output_tokens) ON ai_call TO regress_aitrack_counts;
-- This one last time the view stands in the way (the function's result
-- type changes); the update fails and changes nothing.
\set VERBOSITY terse
ALTER EXTENSION aitrack UPDATE TO '1.5';
\set VERBOSITY default
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
DROP VIEW dashboard;
ALTER EXTENSION aitrack UPDATE TO '1.5';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
-- No call changed, and every answer of ai_usage_stats() is as before.
SELECT (SELECT count(*) FROM ai_call) AS calls,
       (SELECT count(*) FROM (SELECT id, created_at, updated_at, model_id, prompt, response,
                                     input_tokens, reasoning_tokens, output_tokens, cost_usd,
                                     duration_ms, call_type, status, user_id, extra,
                                     cache_read_input_tokens, cache_creation_input_tokens,
                                     time_to_first_token_ms, cost_source FROM ai_call
                              EXCEPT SELECT id, created_at, updated_at, model_id, prompt, response,
                                     input_tokens, reasoning_tokens, output_tokens, cost_usd,
                                     duration_ms, call_type, status, user_id, extra,
                                     cache_read_input_tokens, cache_creation_input_tokens,
                                     time_to_first_token_ms, cost_source FROM calls_1_4) d) AS changed,
       (SELECT count(*) FROM ai_call WHERE num_nonnulls(provider, service_tier, cache_creation_1h_input_tokens,
                                                      input_audio_tokens, cache_read_audio_tokens, input_image_tokens,
                                                      output_audio_tokens, output_image_tokens, web_search_requests,
                                                      web_search_context_size) > 0) AS with_new_fields;
SELECT count(*) AS stats_differing FROM (
    (TABLE stats_1_4
     EXCEPT ALL
     SELECT bucket, modelname, version, call_type, status, user_id, calls, errors, input_tokens,
            reasoning_tokens, output_tokens, cost_usd, first_call, last_call, cache_read_input_tokens,
            cache_creation_input_tokens, unpriced_calls
       FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}'))
    UNION ALL
    (SELECT bucket, modelname, version, call_type, status, user_id, calls, errors, input_tokens,
            reasoning_tokens, output_tokens, cost_usd, first_call, last_call, cache_read_input_tokens,
            cache_creation_input_tokens, unpriced_calls
       FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}')
     EXCEPT ALL TABLE stats_1_4)) d;
-- It may read the new counts too, and still not the prompt.
SELECT has_column_privilege('regress_aitrack_counts', 'ai_call', 'web_search_requests', 'SELECT') AS new_counts,
       has_column_privilege('regress_aitrack_counts', 'ai_call', 'service_tier', 'SELECT') AS service_tier,
       has_column_privilege('regress_aitrack_counts', 'ai_call', 'prompt', 'SELECT') AS prompt;
REVOKE ALL ON ai_call FROM regress_aitrack_counts;
DROP ROLE regress_aitrack_counts;
-- The DBA's grant to PUBLIC stands on the re-created function.
SELECT has_function_privilege('public', 'ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)',
                              'EXECUTE') AS stats_public;
REVOKE EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text) FROM PUBLIC;
-- The 1.0-style row stays updatable (ai_purge_content, ai_reprice).
UPDATE ai_call SET prompt = '' WHERE id = :old_row;
SELECT pg_catalog.format_type(p.prorettype, NULL) AS stats_rows, p.proretset
  FROM pg_catalog.pg_proc p WHERE p.oid = 'ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::regprocedure;
-- The same file loaded again: the price 1.4 loaded keeps its rates and
-- gains the tier in place; the dry run shows what repricing would change,
-- and repricing brings the long call under the tier.
SELECT model, action, detail FROM ai_load_prices('{"claude-sonnet-4-5": {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
    "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
    "input_cost_per_token_above_200k_tokens": 6e-06,
    "output_cost_per_token_above_200k_tokens": 2.25e-05,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07,
    "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06}}', '2026-01-01');
SELECT count(*) AS prices, min(valid_from) AS valid_from, max(provider) AS provider,
       max(tiers::text) AS tiers FROM ai_model_price WHERE model = 'claude-sonnet-4-5';
SELECT calls_changed, cost_before_usd, cost_after_usd FROM ai_reprice(NULL, NULL);
SELECT calls_changed FROM ai_reprice(NULL, NULL, dry_run => false);
-- (150000 * 6 + 100000 * 0.6 + 2000 * 22.5) / 1e6, by hand
SELECT cost_usd, cost_usd = (150000 * 6 + 100000 * 0.6 + 2000 * 22.5) / 1e6 AS at_the_tier
  FROM ai_call WHERE id = :long_call;
-- From 1.5 a view over ai_usage_stats() survives a later version's
-- widening of its rows: the row type gains an attribute (as the next
-- update will do), and the view, and the function, still answer.
CREATE VIEW dashboard AS SELECT modelname, calls, cost_usd FROM ai_usage_stats();
BEGIN;
ALTER TYPE ai_usage_stats_row ADD ATTRIBUTE added_later bigint;
SELECT modelname, calls FROM dashboard WHERE modelname = 'claude-sonnet-4-5';
SELECT count(*) AS rows, count(added_later) AS added_later_set FROM ai_usage_stats();
ROLLBACK;
SELECT modelname, calls FROM dashboard WHERE modelname = 'claude-sonnet-4-5';
DROP VIEW dashboard;

-- 1.5 -> 1.6: the daily level.  A ledger over 40 days, folded by the
-- hourly level (as 1.5 does), a dashboard's view over the stats, and a
-- reporting role a DBA granted 1.5's reading list.
CREATE VIEW dashboard AS SELECT modelname, calls, cost_usd FROM ai_usage_stats();
SELECT count(*) AS recorded FROM record_ai_calls((
    SELECT jsonb_agg(jsonb_build_object(
               'modelname', 'daily-m', 'version', '1', 'prompt', 'p', 'response', '{}'::jsonb,
               'input_tokens', g, 'output_tokens', 1, 'duration_ms', 100 + g % 500,
               'status', CASE WHEN g % 7 = 0 THEN 'error' ELSE 'success' END,
               'created_at', timestamptz '2026-01-01 00:00+00' + g * interval '97 minutes'))
      FROM generate_series(1, 600) AS g));
SELECT ai_rollup_compact() > 0 AS folded;
CREATE ROLE regress_aitrack_report;
GRANT SELECT ON ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_purged
    TO regress_aitrack_report;
GRANT EXECUTE ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)
    TO regress_aitrack_report;
-- Questions whose answers must not move: whole days, a window of partial
-- days and hours, weeks and months in UTC, days in another zone.
CREATE TEMPORARY TABLE questions (q int, since timestamptz, until timestamptz, dims text[], tz text);
INSERT INTO questions VALUES
    (1, NULL, NULL, '{model}', 'UTC'),
    (2, '2026-01-03 05:30+00', '2026-02-07 19:00+00', '{model,status}', 'UTC'),
    (3, NULL, NULL, '{day,model}', 'UTC'),
    (4, NULL, NULL, '{week}', 'Etc/UTC'),
    (5, '2026-01-10 00:00+00', NULL, '{month,status}', 'UTC'),
    (6, NULL, NULL, '{day}', 'Asia/Tokyo');
CREATE FUNCTION pg_temp.answers() RETURNS TABLE (q int, a text) LANGUAGE sql AS $$
    SELECT k.q, ROW(s.bucket, s.modelname, s.version, s.status, s.calls, s.errors, s.input_tokens,
                    s.output_tokens, s.cost_usd, s.avg_duration_ms, s.p50_duration_ms,
                    s.p95_duration_ms, s.p99_duration_ms, s.first_call, s.last_call)::text
      FROM questions k, ai_usage_stats(k.since, k.until, k.dims, tz => k.tz) s
$$;
CREATE TEMPORARY TABLE answers_1_5 AS SELECT * FROM pg_temp.answers();
CREATE FUNCTION pg_temp.answers_differing() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM ((TABLE answers_1_5 EXCEPT ALL SELECT * FROM pg_temp.answers())
                          UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE answers_1_5)) d
$$;
-- The update, in a transaction that shows what it locked: no table that
-- recording or the stats use, in any mode they would wait for (it waits
-- only for a fold in progress, by its advisory lock).
BEGIN;
ALTER EXTENSION aitrack UPDATE TO '1.6';
SELECT c.relname, l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
   AND c.relname IN ('ai_call', 'ai_model', 'ai_model_price', 'ai_usage_rollup',
                     'ai_usage_rollup_total', 'ai_usage_purged', 'ai_tenant_user')
   AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')
 ORDER BY 1, 2;
COMMIT;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
-- The daily level starts empty, to be filled from the hourly one; the
-- answers are the same already.
SELECT daily_from, daily_complete, (SELECT count(*) FROM ai_usage_rollup_daily) AS daily_rows
  FROM ai_upkeep_status;
SELECT pg_temp.answers_differing() AS differing;
-- Filled a week per step, newest days first, as the upkeep worker does it
-- (the suite runs with the worker off): at every step, the same answers.
-- (The calls earlier parts recorded at now() come first: the week before
-- today is the first step, shown as such.)
CREATE TEMPORARY TABLE steps (step int, days int, daily_from timestamptz, differing bigint);
DO $$
DECLARE
    n int;
BEGIN
    FOR i IN 1..10 LOOP
        n := ai_rollup_backfill_daily(7);
        INSERT INTO steps SELECT i, n, s.daily_from, pg_temp.answers_differing() FROM ai_upkeep_state s;
        EXIT WHEN n = 0;
    END LOOP;
END $$;
SET timezone = 'UTC';
SELECT step, days,
       CASE WHEN daily_from > '2026-06-01' THEN 'the week before today' ELSE daily_from::text END AS daily_from,
       differing
  FROM steps ORDER BY step;
SELECT count(*) FILTER (WHERE bucket < '2026-06-01') AS daily_rows_of_the_ledger,
       min(bucket) AS first_day FROM ai_usage_rollup_daily;
RESET timezone;
-- A call of a day already filled folds into its day; a back-dated one too.
SELECT record_ai_call('daily-m', '1', 'p', '{}', input_tokens => 5, output_tokens => 1) > 0 AS recorded;
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "daily-m", "version": "1", "prompt": "p",
    "response": {}, "input_tokens": 7, "output_tokens": 1, "created_at": "2026-01-05 12:00+00"}]');
SELECT ai_rollup_compact() AS folded;
SELECT calls, input_tokens FROM ai_usage_stats('2026-01-05 00:00+00', '2026-01-06 00:00+00', '{}');
SELECT count(*), sum(input_tokens) FROM ai_call
 WHERE created_at >= '2026-01-05 00:00+00' AND created_at < '2026-01-06 00:00+00';
-- The view stands.  The reporting role has no grant on the new level (none
-- is copied): its answers come from the hourly level, the same.
SELECT modelname, calls FROM dashboard WHERE modelname = 'daily-m';
SELECT has_table_privilege('regress_aitrack_report', 'ai_usage_rollup_daily', 'SELECT') AS daily,
       has_table_privilege('regress_aitrack_report', 'ai_upkeep_state', 'SELECT') AS state,
       has_table_privilege('regress_aitrack_report', 'ai_upkeep_state', 'UPDATE') AS state_update;
SELECT calls FROM ai_usage_stats(group_by => '{}');
SET ROLE regress_aitrack_report;
SELECT calls FROM ai_usage_stats(group_by => '{}');
RESET ROLE;
DROP VIEW dashboard;
REVOKE ALL ON ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_purged,
    ai_usage_rollup_daily, ai_upkeep_state FROM regress_aitrack_report;
REVOKE ALL ON FUNCTION ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)
    FROM regress_aitrack_report;
DROP ROLE regress_aitrack_report;

-- 1.6 -> 1.7: spend control and attribution.  The ledger above, and its
-- answers, kept; the update takes ai_model_price, ai_call and ai_model in
-- ACCESS EXCLUSIVE mode for the milliseconds of its ALTER TABLEs (nothing
-- scans ai_call: the new columns have no default, their checks are NOT
-- VALID) and builds the attribution indexes, the ledger being small.
CREATE TEMPORARY TABLE answers_1_6 AS SELECT * FROM pg_temp.answers();
SELECT count(*) AS calls_before FROM ai_call \gset
BEGIN;
ALTER EXTENSION aitrack UPDATE TO '1.7';
SELECT c.relname, l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
   AND c.relname IN ('ai_call', 'ai_model', 'ai_model_price', 'ai_usage_rollup',
                     'ai_usage_rollup_total', 'ai_usage_purged', 'ai_tenant_user',
                     'ai_usage_rollup_daily', 'ai_upkeep_state')
   AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')
 ORDER BY 1, 2;
COMMIT;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT count(*) = :calls_before AS calls_kept,
       count(*) FILTER (WHERE num_nonnulls(project, api_key, tags, trace_id, span_id,
                                           parent_span_id, conversation_id) > 0) AS attributed
  FROM ai_call;
SELECT count(*) AS differing
  FROM ((TABLE answers_1_6 EXCEPT ALL SELECT * FROM pg_temp.answers())
        UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE answers_1_6)) d;
SELECT indexrelid::regclass AS attribution_index FROM pg_index
 WHERE indrelid = 'ai_call'::regclass AND indexrelid::regclass::text LIKE 'ai_call_%_idx'
   AND indexrelid::regclass::text ~ '(project|api_key|tags|trace_id|conversation_id)'
 ORDER BY indexrelid::regclass::text;
SELECT conname, convalidated FROM pg_constraint
 WHERE conrelid = 'ai_call'::regclass AND conname IN ('ai_call_project_check', 'ai_call_api_key_check',
       'ai_call_tags_check', 'ai_call_trace_id_check', 'ai_call_span_id_check', 'ai_call_conversation_id_check')
 ORDER BY 1;
-- A budget over everything starts from its period's calls already there
-- (the lifetime: all of them), without announcing the past.
INSERT INTO ai_budget (name, scope, period, limit_usd, alert_at_pct)
SELECT 'upgrade all', 'all', 'lifetime', 2 * sum(cost_usd), '{50,60}' FROM ai_call;
SELECT s.calls = (SELECT count(*) FROM ai_call) AS counts_every_call,
       s.spent_usd = (SELECT COALESCE(sum(cost_usd), 0) FROM ai_call) AS spends_every_cost,
       s.alerted_pct
  FROM ai_budget_spend s;
DELETE FROM ai_budget;

-- 1.7 -> 1.8: spend control in C.  A per-user budget with spend, a live
-- and an expired reservation, made by 1.7's functions ...
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('upgrade each user', 'user', 'month', 1);
SELECT ai_budget_reserve(0.25, '00000000-0000-0000-0000-0000000000a1') AS live_reservation \gset
SELECT ai_budget_reserve(0.5, '00000000-0000-0000-0000-0000000000a1') AS expired_reservation \gset
UPDATE ai_budget_reservation SET expires_at = now() - interval '1 minute' WHERE id = :expired_reservation;
UPDATE ai_budget_hold SET expires_at = now() - interval '1 minute' WHERE reservation_id = :expired_reservation;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'upgrade', '{}', cost_usd => 0.1,
                      user_id => '00000000-0000-0000-0000-0000000000a1') > 0 AS recorded;
CREATE TEMPORARY TABLE status_1_7 AS
SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status;
TABLE status_1_7;
-- 1.7 -> 1.8: project rollups
-- The ledger above gets projects (and calls without one), a fold, and
-- answers by project in 1.7 (from ai_call).  The update locks ai_call in
-- SHARE mode (it waits for the recording in flight, whose pending rows have
-- no project level, and recording waits for it) and ai_upkeep_state for
-- its new column, for milliseconds: the project level starts empty, nothing
-- is scanned or rewritten, and it covers nothing yet on this ledger
-- (project_from infinity); the backfill fills it afterwards, a step per
-- transaction, and the answers by project stay the same throughout.
UPDATE ai_call SET project = (ARRAY['up-a', 'up-b', NULL])[1 + id % 3];
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "daily-m", "version": "1", "prompt": "p",
    "response": {}, "input_tokens": 9, "project": "up-a", "created_at": "2026-01-07 08:15+00"}]');
SELECT ai_rollup_compact() > 0 AS folded;
CREATE TEMPORARY TABLE by_project_1_7 AS
SELECT d.dims, s::text AS a
  FROM (VALUES ('{project}'::text[]), ('{day,project,model}'), ('{project,status}')) d(dims),
       ai_usage_stats(group_by => d.dims) s;
CREATE FUNCTION pg_temp.by_project_differing() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM ((TABLE by_project_1_7 EXCEPT ALL
                           SELECT d.dims, s::text FROM (VALUES ('{project}'::text[]), ('{day,project,model}'),
                                                               ('{project,status}')) d(dims),
                                                       ai_usage_stats(group_by => d.dims) s)
                          UNION ALL
                          (SELECT d.dims, s::text FROM (VALUES ('{project}'::text[]), ('{day,project,model}'),
                                                               ('{project,status}')) d(dims),
                                                       ai_usage_stats(group_by => d.dims) s
                           EXCEPT ALL TABLE by_project_1_7)) x
$$;
CREATE TEMPORARY TABLE answers_1_7 AS SELECT * FROM pg_temp.answers();
-- The update: the budget tables are locked for it too (ACCESS EXCLUSIVE,
-- small tables); 1.7's holds are carried over onto the spend rows and the
-- reservations' rows.
BEGIN;
ALTER EXTENSION aitrack UPDATE TO '1.8';
SELECT c.relname, l.mode
  FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation'
   AND c.relname IN ('ai_call', 'ai_model', 'ai_model_price', 'ai_usage_rollup',
                     'ai_usage_rollup_total', 'ai_usage_purged', 'ai_tenant_user',
                     'ai_usage_rollup_daily', 'ai_upkeep_state', 'ai_budget',
                     'ai_budget_spend', 'ai_budget_reservation')
   AND l.mode NOT IN ('AccessShareLock', 'RowShareLock', 'RowExclusiveLock')
 ORDER BY 1, 2;
COMMIT;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'aitrack';
SELECT project_from, (SELECT count(*) FROM ai_usage_rollup_project) AS project_level_rows,
       (SELECT count(*) FROM ai_usage_rollup_project_daily) AS project_daily_rows,
       (SELECT count(*) FROM ai_usage_purged_project_floor) AS floor_rows
  FROM ai_upkeep_state;
SELECT count(*) AS differing
  FROM ((TABLE answers_1_7 EXCEPT ALL SELECT * FROM pg_temp.answers())
        UNION ALL (SELECT * FROM pg_temp.answers() EXCEPT ALL TABLE answers_1_7)) d;
SELECT pg_temp.by_project_differing() AS by_project_differing;
-- The backfill, a day per step (the upkeep worker takes a week), the
-- answers compared after each.
CREATE TEMPORARY TABLE backfill_steps (step int, days int, project_from timestamptz, differing bigint);
DO $$
DECLARE
    n int := 0;
    d int;
BEGIN
    LOOP
        n := n + 1;
        d := ai_rollup_backfill_project(1);
        INSERT INTO backfill_steps
        SELECT n, d, s.project_from, pg_temp.by_project_differing() FROM ai_upkeep_state s;
        EXIT WHEN d = 0 OR n > 400;
    END LOOP;
END $$;
SELECT count(*) AS steps, sum(days) AS days, max(differing) AS most_differing,
       (SELECT project_from FROM backfill_steps ORDER BY step DESC LIMIT 1) AS project_from
  FROM backfill_steps;
SELECT ai_rollup_compact() >= 0 AS folded;
SELECT pg_temp.by_project_differing() AS by_project_differing;
-- The daily project level holds every day's folded hourly project rows,
-- summed (its steps cut days: each day is summed again by the next).
SELECT count(*) AS project_daily_differing
  FROM ((SELECT bucket, model_id, call_type, status, project, calls, cost_usd, first_call, last_call, latency
           FROM ai_usage_rollup_project_daily
         EXCEPT ALL
         SELECT date_trunc('day', bucket, 'UTC'), model_id, call_type, status, project, sum(calls)::bigint,
                sum(cost_usd), min(first_call), max(last_call), ai_hist_merge(latency)
           FROM ai_usage_rollup_project WHERE NOT pending GROUP BY 1, 2, 3, 4, 5)
        UNION ALL
        (SELECT date_trunc('day', bucket, 'UTC'), model_id, call_type, status, project, sum(calls)::bigint,
                sum(cost_usd), min(first_call), max(last_call), ai_hist_merge(latency)
           FROM ai_usage_rollup_project WHERE NOT pending GROUP BY 1, 2, 3, 4, 5
         EXCEPT ALL
         SELECT bucket, model_id, call_type, status, project, calls, cost_usd, first_call, last_call, latency
           FROM ai_usage_rollup_project_daily)) x;
SELECT count(*) > 0 AS project_days FROM ai_usage_rollup_project_daily;
-- Recording goes on into the project level.
SELECT count(*) AS recorded FROM record_ai_calls('[{"modelname": "daily-m", "version": "1", "prompt": "p",
    "response": {}, "input_tokens": 11, "project": "up-b"}]');
SELECT count(*) AS pending_project_rows FROM ai_usage_rollup_project WHERE pending;
SELECT (SELECT calls FROM ai_usage_stats(group_by => '{}', project => 'up-b')) =
       (SELECT count(*) FROM ai_call WHERE project = 'up-b') AS up_b_counted;
-- 1.7 -> 1.8: spend control in C, after the update.
SELECT to_regclass('ai_budget_hold') IS NULL AS holds_table_gone;
SELECT count(*) AS differing
  FROM ((TABLE status_1_7 EXCEPT ALL SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status)
        UNION ALL (SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status
                   EXCEPT ALL TABLE status_1_7)) d;
-- reserved_usd counts the expired reservation until it is cleared away;
-- what it holds, ai_budget_expired_held(), is taken off wherever it counts.
SELECT s.reserved_usd, ai_budget_expired_held(s.budget_id, s.scope_value, s.period_start) AS expired
  FROM ai_budget_spend s JOIN ai_budget b ON b.id = s.budget_id WHERE b.name = 'upgrade each user';
SELECT r.id = :live_reservation AS live, r.hold_budget_ids = ARRAY[b.id] AS holds_the_budget,
       r.hold_scope_values, r.hold_period_starts = ARRAY[date_trunc('month', now(), 'Etc/UTC')] AS this_month
  FROM ai_budget_reservation r, ai_budget b WHERE b.name = 'upgrade each user' ORDER BY r.id;
SELECT ai_budget_clear_expired() AS cleared;
-- 1.8's functions go on where 1.7's left off.
SELECT ai_budget_settle(:live_reservation,
                        record_ai_call('gpt-4o', '2024-08-06', 'upgrade', '{}', cost_usd => 0.2,
                                       user_id => '00000000-0000-0000-0000-0000000000a1')) AS settled;
SELECT spent_usd, reserved_usd, calls, remaining_usd FROM ai_budget_status WHERE budget = 'upgrade each user';
SELECT ai_budget_reserve(0.7, '00000000-0000-0000-0000-0000000000a1') > 0 AS fits_exactly;
SELECT ai_budget_reserve(0.01, '00000000-0000-0000-0000-0000000000a1');
-- 1.8 -> 1.9: reservations in memory.  Nothing of the tables changes; the
-- figures are the same after, a reservation 1.8 made in the table ends
-- under 1.9, and with aitrack.budget_reservations at its default ('table')
-- nothing is held in memory.
SELECT r.id AS table_reservation FROM ai_budget_reservation r WHERE r.amount_usd = 0.7 \gset
CREATE TEMP TABLE status_1_8 AS
SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status;
ALTER EXTENSION aitrack UPDATE TO '1.9';
SELECT count(*) AS differing
  FROM ((TABLE status_1_8 EXCEPT ALL SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status)
        UNION ALL (SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status
                   EXCEPT ALL TABLE status_1_8)) d;
SELECT current_setting('aitrack.budget_reservations') AS reservations_in,
       (SELECT count(*) FROM ai_budget_memory_reservations()) AS in_memory,
       ai_budget_memory_held(b.id, '00000000-0000-0000-0000-0000000000a1', date_trunc('month', now(), 'Etc/UTC')) AS memory_held
  FROM ai_budget b WHERE b.name = 'upgrade each user';
SELECT budget, reserved_usd FROM ai_budget_check(0.1, '00000000-0000-0000-0000-0000000000a1');
SELECT ai_budget_release(:table_reservation) AS released;
SELECT spent_usd, reserved_usd, remaining_usd FROM ai_budget_status WHERE budget = 'upgrade each user';
-- 1.9 -> 1.10: aitrack_distribute() and what writes a distributed ai_call.
-- No table changes: the calls, the stats and the budgets are the same
-- after; ai_call is not distributed (no Citus here), so its triggers go on
-- counting, and ai_purge_calls(), which now deletes through
-- ai_delete_calls(), moves the numbers to ai_usage_purged as before.
CREATE TEMP TABLE stats_1_9 AS
SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
  FROM ai_usage_stats('-infinity', 'infinity');
CREATE TEMP TABLE status_1_9 AS
SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status;
SELECT count(*) AS calls_before FROM ai_call \gset
ALTER EXTENSION aitrack UPDATE TO '1.10';
SELECT count(*) = :calls_before AS calls_kept FROM ai_call;
SELECT count(*) AS differing
  FROM ((TABLE stats_1_9 EXCEPT ALL SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                                      FROM ai_usage_stats('-infinity', 'infinity'))
        UNION ALL (SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                     FROM ai_usage_stats('-infinity', 'infinity') EXCEPT ALL TABLE stats_1_9)) d;
SELECT count(*) AS differing
  FROM ((TABLE status_1_9 EXCEPT ALL SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status)
        UNION ALL (SELECT budget, scope_value, spent_usd, reserved_usd, remaining_usd, calls FROM ai_budget_status
                   EXCEPT ALL TABLE status_1_9)) d;
SELECT ai_calls_distributed() AS distributed;
SELECT count(*) AS triggers_on_ai_call FROM pg_trigger WHERE tgrelid = 'ai_call'::regclass AND NOT tgisinternal;
SELECT aitrack_distribute();
-- Purging: the stats stay the same (the numbers move), the calls go.
SELECT min(created_at) + interval '1 microsecond' AS purge_before FROM ai_call \gset
SELECT count(*) AS to_purge FROM ai_call WHERE created_at < :'purge_before';
CALL ai_purge_calls(:'purge_before', 1);
SELECT count(*) AS left_to_purge FROM ai_call WHERE created_at < :'purge_before';
SELECT count(*) AS differing
  FROM ((TABLE stats_1_9 EXCEPT ALL SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                                      FROM ai_usage_stats('-infinity', 'infinity'))
        UNION ALL (SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                     FROM ai_usage_stats('-infinity', 'infinity') EXCEPT ALL TABLE stats_1_9)) d;
-- 1.10 -> 1.11: ai_tenant_calls(), a tenant's own calls.  No table
-- changes: the stats are the same after; the function gives a tenant what
-- row-level security gives it, and refuses a session that is no tenant's.
CREATE TEMP TABLE stats_1_10 AS
SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
  FROM ai_usage_stats('-infinity', 'infinity');
ALTER EXTENSION aitrack UPDATE TO '1.11';
SELECT count(*) AS differing
  FROM ((TABLE stats_1_10 EXCEPT ALL SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                                       FROM ai_usage_stats('-infinity', 'infinity'))
        UNION ALL (SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                     FROM ai_usage_stats('-infinity', 'infinity') EXCEPT ALL TABLE stats_1_10)) d;
SELECT count(*) FROM ai_tenant_calls();
CREATE ROLE regress_upgrade_tenant;
GRANT aitrack_tenant, aitrack_reader TO regress_upgrade_tenant;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_upgrade_tenant', '00000000-0000-0000-0000-0000000000a1');
SELECT count(*) AS user_calls FROM ai_call WHERE user_id = '00000000-0000-0000-0000-0000000000a1' \gset
SET ROLE regress_upgrade_tenant;
SELECT count(*) = :user_calls AS own_calls, count(*) > 0 AS some,
       bool_and(user_id = '00000000-0000-0000-0000-0000000000a1') AS only_own
  FROM ai_tenant_calls('-infinity', 'infinity');
SELECT count(*) = :user_calls AS same_as_row_security FROM ai_call;
RESET ROLE;
DELETE FROM ai_tenant_user WHERE role = 'regress_upgrade_tenant'::regrole;
DROP ROLE regress_upgrade_tenant;
-- 1.11 -> 1.12: ai_reprice() re-created, for a distributed ai_call (see
-- test/citus/run.sh); on one server it reprices as before, and the stats
-- are the same after.  ai_reprice_calls() is for a distributed ai_call only.
CREATE TEMP TABLE stats_1_11 AS
SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
  FROM ai_usage_stats('-infinity', 'infinity');
CREATE TEMP TABLE reprice_1_11 AS SELECT * FROM ai_reprice(NULL, NULL);
ALTER EXTENSION aitrack UPDATE TO '1.12';
SELECT count(*) AS differing
  FROM ((TABLE stats_1_11 EXCEPT ALL SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                                       FROM ai_usage_stats('-infinity', 'infinity'))
        UNION ALL (SELECT modelname, version, calls, input_tokens, cost_usd, p50_duration_ms
                     FROM ai_usage_stats('-infinity', 'infinity') EXCEPT ALL TABLE stats_1_11)) d;
SELECT (SELECT count(*) FROM ((TABLE reprice_1_11) EXCEPT (SELECT * FROM ai_reprice(NULL, NULL))) d) AS dry_run_differs,
       (SELECT calls_checked > 0 FROM reprice_1_11) AS some_checked;
SELECT ai_reprice_calls('{1}');
DELETE FROM ai_call WHERE prompt = 'upgrade';
DELETE FROM ai_budget;
DELETE FROM ai_budget_reservation;

-- (The \c above dropped the temporary views.)
DROP VIEW aitrack_objects;
-- The drop guard holds on the updated extension, in a new session too
-- (where the update's event trigger loads the library in time): the
-- extension and its calls stay, until aitrack.allow_drop says otherwise.
\c -
DROP EXTENSION aitrack;
SELECT count(*) > 0 AS calls_kept FROM ai_call;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
DROP ROLE regress_aitrack_app;
