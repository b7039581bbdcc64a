--
-- Retention: CALL ai_purge_calls(older_than, batch_size) deletes old calls
-- in batches, each committed, and their numbers stay in ai_usage_stats()
-- through ai_usage_purged; CALL ai_purge_content(older_than, batch_size)
-- keeps the numbers and blanks the prompt and response.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';

--
-- 400 calls, one every 9 minutes from 2025-01-01 00:09 UTC to 2025-01-03
-- 12:00, over three models, three call types, five statuses, three users
-- and no user, each changing every few calls (so that a group of an hour
-- holds several calls, and a purge batch can end inside one), with NULLs
-- in every metric now and then.
--
SELECT count(*) FROM record_ai_calls(
  (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
              'modelname', (ARRAY['gpt', 'claude', 'gemini'])[i / 7 % 3 + 1], 'version', '1',
              'prompt', 'prompt ' || i, 'response', jsonb_build_object('answer', i),
              'input_tokens', CASE WHEN i % 11 <> 0 THEN (i * 37) % 5000 END,
              'output_tokens', CASE WHEN i % 13 <> 0 THEN (i * 53) % 900 END,
              'cost_usd', CASE WHEN i % 4 <> 0 THEN ((i * 7919) % 10000) * 0.000001 END,
              'duration_ms', CASE WHEN i % 17 <> 0 THEN (i * 211) % 4000 END,
              'time_to_first_token_ms', CASE WHEN i % 3 = 0 THEN (i * 7) % 90 END,
              'call_type', (ARRAY['chat', 'embed', NULL])[i / 11 % 3 + 1],
              'status', (ARRAY['success', 'success', 'error', 'timeout', 'rate_limited'])[i / 13 % 5 + 1],
              'user_id', (ARRAY[NULL, '00000000-0000-0000-0000-000000000001',
                                '00000000-0000-0000-0000-000000000002',
                                '00000000-0000-0000-0000-000000000003'])[i / 17 % 4 + 1],
              'created_at', timestamptz '2025-01-01 00:00+00' + i * interval '9 minutes'))
            ORDER BY i)
     FROM generate_series(1, 400) AS i));
SELECT ai_rollup_compact() > 0 AS compacted;

-- The questions asked before and after each purge.
CREATE FUNCTION pg_temp.stats_now()
RETURNS SETOF record LANGUAGE sql AS $$
    SELECT 'model', * FROM ai_usage_stats(group_by => '{model}')
    UNION ALL SELECT 'model,status', * FROM ai_usage_stats(group_by => '{model,status}')
    UNION ALL SELECT 'day,user', * FROM ai_usage_stats(group_by => '{day,user}')
    UNION ALL SELECT 'hour', * FROM ai_usage_stats(group_by => '{hour}')
    UNION ALL SELECT 'call_type,user', * FROM ai_usage_stats(group_by => '{call_type,user}')
    UNION ALL SELECT 'totals', * FROM ai_usage_stats(group_by => '{}')
    UNION ALL SELECT 'day Berlin', * FROM ai_usage_stats(group_by => '{day}', tz => 'Europe/Berlin')
    UNION ALL SELECT 'user 2 by hour', * FROM ai_usage_stats(group_by => '{hour}',
                                                             user_id => '00000000-0000-0000-0000-000000000002')
    UNION ALL SELECT 'gpt, whole hours', * FROM ai_usage_stats('2025-01-01 10:00+00', '2025-01-02 06:00+00',
                                                               '{status}', 'gpt')
$$;
CREATE VIEW stats_now AS
SELECT * FROM pg_temp.stats_now() AS s(q text, bucket timestamptz, modelname text, version text,
    call_type text, status text, user_id uuid, calls bigint, errors bigint, input_tokens bigint,
    reasoning_tokens bigint, output_tokens bigint, cost_usd numeric, avg_duration_ms float8,
    p50_duration_ms float8, p95_duration_ms float8, p99_duration_ms float8, first_call timestamptz,
    last_call timestamptz, cache_read_input_tokens bigint, cache_creation_input_tokens bigint,
    unpriced_calls bigint, avg_time_to_first_token_ms float8,
    cache_creation_1h_input_tokens bigint, input_audio_tokens bigint, cache_read_audio_tokens bigint,
    input_image_tokens bigint, output_audio_tokens bigint, output_image_tokens bigint,
    web_search_requests bigint, project text, api_key text, tag text);
CREATE TEMP TABLE stats_before AS SELECT * FROM stats_now;
SELECT q, count(*) AS rows, sum(calls) AS calls FROM stats_before GROUP BY q ORDER BY q;

-- Rows that differ between stats_before and the stats now (every column).
CREATE FUNCTION pg_temp.stats_changed() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM ((TABLE stats_before EXCEPT ALL TABLE stats_now)
                          UNION ALL (TABLE stats_now EXCEPT ALL TABLE stats_before)) d
$$;
SELECT pg_temp.stats_changed() AS changed;

--
-- Purge the calls made before 2025-01-02 00:30 (the first 163), 25 per
-- batch: seven batches, each its own transaction (so seven sets of
-- negative rollup rows, with seven different xmins).  The notice gives the
-- total.
--
CREATE TEMP TABLE gone AS SELECT * FROM ai_call WHERE created_at < '2025-01-02 00:30+00';
SELECT count(*) AS to_purge FROM gone;
CALL ai_purge_calls('2025-01-02 00:30+00', 25);
SELECT count(*) AS calls_left, min(created_at) AS oldest_left FROM ai_call;
SELECT count(DISTINCT xmin::text) AS purge_transactions, -sum(calls) AS calls_removed
  FROM ai_usage_rollup WHERE pending;
SELECT count(DISTINCT xmin::text) AS purged_row_transactions FROM ai_usage_purged;

-- The stats have not moved, not by one call, cent or millisecond, and not
-- after compaction either.
SELECT pg_temp.stats_changed() AS changed;
SELECT ai_rollup_compact() AS folded;
SELECT pg_temp.stats_changed() AS changed;

-- ai_usage_purged holds the numbers of exactly the purged calls, group by
-- group (hour, model, call_type, status, user).
SELECT count(*) AS purged_groups, count(*) FILTER (WHERE calls > 1) AS groups_of_several,
       sum(calls) AS purged_calls, min(first_call) AS first_purged, max(last_call) AS last_purged
  FROM ai_usage_purged;
SELECT count(*) AS mismatched_groups
  FROM (SELECT date_trunc('hour', created_at, 'UTC') AS bucket, model_id, call_type, status, user_id,
               count(*) AS calls, COALESCE(sum(input_tokens), 0) AS input_tokens,
               count(input_tokens) AS input_tokens_n, COALESCE(sum(output_tokens), 0) AS output_tokens,
               COALESCE(sum(cost_usd), 0) AS cost_usd, count(cost_usd) AS cost_usd_n,
               COALESCE(sum(duration_ms), 0) AS duration_ms, count(duration_ms) AS duration_ms_n,
               COALESCE(sum(time_to_first_token_ms), 0) AS time_to_first_token_ms,
               min(created_at) AS first_call, max(created_at) AS last_call,
               ai_hist_merge(ai_hist_of(duration_ms, 1)) AS latency
          FROM gone GROUP BY 1, 2, 3, 4, 5) g
  FULL JOIN ai_usage_purged p
    ON (g.bucket, g.model_id) = (p.bucket, p.model_id) AND g.call_type IS NOT DISTINCT FROM p.call_type
   AND g.status IS NOT DISTINCT FROM p.status AND g.user_id IS NOT DISTINCT FROM p.user_id
 WHERE g.bucket IS NULL OR p.bucket IS NULL
    OR (g.calls, g.input_tokens, g.input_tokens_n, g.output_tokens, g.cost_usd, g.cost_usd_n,
        g.duration_ms, g.duration_ms_n, g.time_to_first_token_ms, g.first_call, g.last_call, g.latency)
       IS DISTINCT FROM
       (p.calls, p.input_tokens, p.input_tokens_n, p.output_tokens, p.cost_usd, p.cost_usd_n,
        p.duration_ms, p.duration_ms_n, p.time_to_first_token_ms, p.first_call, p.last_call, p.latency);
-- In the hour that older_than cut in two, the purged and the kept calls
-- add up, and first_call comes from the purged ones.
SELECT bucket, calls, first_call, last_call
  FROM ai_usage_stats('2025-01-02 00:00+00', '2025-01-02 01:00+00', '{hour}');
SELECT (SELECT count(*) FROM gone WHERE created_at >= '2025-01-02 00:00+00') AS purged_in_hour,
       (SELECT count(*) FROM ai_call WHERE created_at < '2025-01-02 01:00+00') AS kept_in_hour;
-- A window that starts or ends inside an hour reads that partial hour from
-- ai_call alone (the purged numbers are kept by the hour): here the two
-- purged calls of 00:15-00:30 are not counted, 3 calls instead of 5.
SELECT calls FROM ai_usage_stats('2025-01-02 00:15+00', '2025-01-02 01:00+00', '{}');
SELECT count(*) AS made_in_window FROM gone WHERE created_at >= '2025-01-02 00:15+00';

-- Purging the same period again finds nothing.
CALL ai_purge_calls('2025-01-02 00:30+00', 25);
SELECT pg_temp.stats_changed() AS changed;

--
-- ai_purge_content(): the 156 calls left from before 2025-01-03 lose
-- their prompt and response, 40 per batch (four batches); their numbers
-- stay and the calls after are untouched.  The trigger adds rollup rows
-- that cancel out (each batch takes its calls out and puts them back).
--
CREATE TEMP TABLE numbers_before AS
SELECT id, created_at, model_id, input_tokens, reasoning_tokens, output_tokens, cost_usd, duration_ms,
       call_type, status, user_id, extra, cache_read_input_tokens, cache_creation_input_tokens,
       time_to_first_token_ms, cost_source, prompt, response, updated_at
  FROM ai_call;
SELECT count(*) AS rollup_rows_before FROM ai_usage_rollup;
CALL ai_purge_content('2025-01-03 00:00+00', 40);
SELECT count(*) AS rollup_rows_after, count(*) FILTER (WHERE pending) AS pending FROM ai_usage_rollup;
SELECT c.created_at < '2025-01-03 00:00+00' AS old, count(*) AS calls,
       count(*) FILTER (WHERE c.prompt = '' AND c.response = 'null') AS cleared,
       count(*) FILTER (WHERE (c.prompt, c.response) = (b.prompt, b.response)) AS kept,
       count(*) FILTER (WHERE c.updated_at > b.updated_at) AS updated_at_moved
  FROM ai_call c JOIN numbers_before b USING (id) GROUP BY 1 ORDER BY 1;
SELECT count(*) AS numbers_changed
  FROM ((SELECT id, created_at, model_id, input_tokens, reasoning_tokens, output_tokens, cost_usd,
                duration_ms, call_type, status, user_id, extra, cache_read_input_tokens,
                cache_creation_input_tokens, time_to_first_token_ms, cost_source FROM ai_call)
        EXCEPT ALL
        (SELECT id, created_at, model_id, input_tokens, reasoning_tokens, output_tokens, cost_usd,
                duration_ms, call_type, status, user_id, extra, cache_read_input_tokens,
                cache_creation_input_tokens, time_to_first_token_ms, cost_source FROM numbers_before)) d;
SELECT pg_temp.stats_changed() AS changed;
-- Again: nothing left to clear.
CALL ai_purge_content('2025-01-03 00:00+00', 40);
-- An update afterwards is counted as usual.
UPDATE ai_call SET status = 'error' WHERE id = (SELECT max(id) FROM ai_call);
SELECT count(*) AS pending_rows FROM ai_usage_rollup WHERE pending;
SELECT pg_temp.stats_changed() > 0 AS stats_changed_by_update;
UPDATE ai_call SET status = 'success' WHERE id = (SELECT max(id) FROM ai_call);
-- Back as it was, but for the documented lag: until compaction, the
-- last_call of the group the call visited for a while (gpt's errors) still
-- shows it.
SELECT q, modelname, status, last_call
  FROM (TABLE stats_now EXCEPT ALL TABLE stats_before) d ORDER BY 1, 2;
SELECT ai_rollup_compact() AS folded;
SELECT pg_temp.stats_changed() AS changed;

--
-- Purge everything, cleared calls included, in one batch: the stats stay.
--
CALL ai_purge_calls('2030-01-01 00:00+00', 1000);
SELECT count(*) AS calls_left FROM ai_call;
SELECT pg_temp.stats_changed() AS changed;
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT count(*) AS rollup_rows, (SELECT count(*) FROM ai_usage_rollup_total) AS total_rows
  FROM ai_usage_rollup;
SELECT pg_temp.stats_changed() AS changed;
SELECT sum(calls) AS purged_calls FROM ai_usage_purged;

--
-- Bad arguments.
--
CALL ai_purge_calls(NULL);
CALL ai_purge_calls('2025-01-01', NULL);
CALL ai_purge_calls('2025-01-01', 0);
CALL ai_purge_calls('2025-01-01', -5);
CALL ai_purge_content(NULL, 10);
CALL ai_purge_content('2025-01-01', 0);

--
-- Each batch commits, so neither procedure can run inside a transaction
-- block: PostgreSQL itself refuses the COMMIT, and the whole transaction
-- rolls back (the first batch too).
--
SELECT count(record_ai_call('late', '1', 'old prompt', '{}')) FROM generate_series(1, 3);
UPDATE ai_call SET created_at = '2024-06-01 00:00+00';
BEGIN;
CALL ai_purge_calls('2025-01-01 00:00+00', 2);
ROLLBACK;
BEGIN;
CALL ai_purge_content('2025-01-01 00:00+00', 2);
ROLLBACK;
SELECT count(*) AS calls, count(*) FILTER (WHERE prompt = 'old prompt') AS with_prompt FROM ai_call;

--
-- 1.10: ai_delete_calls(), which ai_purge_calls() deletes through: the
-- calls with the ids given go, come back as rows of ai_call, and leave the
-- rollups (here through ai_call's trigger; on a distributed ai_call
-- through the function itself: test/citus).  Ids that match nothing are
-- skipped; NULL is refused; it takes the caller's DELETE right.
--
SELECT calls AS calls_before FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}') \gset
SELECT array_agg(id ORDER BY id) AS two FROM (SELECT id FROM ai_call ORDER BY id LIMIT 2) x \gset
SELECT count(*) AS deleted, count(*) FILTER (WHERE prompt = 'old prompt') AS with_their_prompt
  FROM ai_delete_calls(:'two'::bigint[] || ARRAY[-1]::bigint[]);
SELECT :calls_before - calls AS gone_from_stats FROM ai_usage_stats('-infinity', 'infinity', group_by => '{}');
SELECT count(*) AS still_there FROM ai_call WHERE id = ANY (:'two'::bigint[]);
SELECT * FROM ai_delete_calls(NULL);
SELECT count(*) FROM ai_delete_calls('{}');
CREATE ROLE regress_aitrack_deleter;
GRANT aitrack_reader TO regress_aitrack_deleter;
SET ROLE regress_aitrack_deleter;
SELECT count(*) FROM ai_delete_calls(ARRAY[1]::bigint[]);
RESET ROLE;
GRANT aitrack_admin TO regress_aitrack_deleter;
SET ROLE regress_aitrack_deleter;
SELECT count(*) AS deleted_by_admin FROM ai_delete_calls(ARRAY(SELECT id FROM ai_call ORDER BY id LIMIT 1));
RESET ROLE;
DROP ROLE regress_aitrack_deleter;
-- ... and on a single server there is nothing to distribute with.
SELECT ai_calls_distributed() AS distributed;
SELECT aitrack_distribute();

DROP VIEW stats_now;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
