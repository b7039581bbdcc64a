/* aitrack 1.5 -> 1.6: rollups that keep themselves (a background upkeep with a status view), a daily rollup level, and backfills that run after the update, not in it. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.6'" to load this file. \quit

-- Nothing here scans or rewrites a table, and no table is locked: recording
-- goes on while this runs.  The daily level starts empty and is filled from
-- the hourly rows afterwards, a week per transaction, by the upkeep worker
-- (src/upkeep.c) or by ai_rollup_backfill_daily(); ai_usage_stats() reads
-- it only for the days already filled, so its answers stay exact meanwhile.
--
-- First wait for a fold of 1.5 in progress (it takes this lock): one that
-- went on beside the first folds of 1.6 would fold hourly rows they do not
-- see.  Any role can take that lock, so the wait is bounded: after 30 s the
-- update fails and is to be run again.  1.6 folds lock ai_upkeep_state
-- instead, which only its writers can lock.
SET LOCAL lock_timeout = '30s';
SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aitrack.ai_rollup_compact'::pg_catalog.text));
SET LOCAL lock_timeout = 0;

--
-- ai_usage_rollup_daily: ai_usage_rollup_total summed per UTC day, so that
-- a 30-day question reads 30 rows per group instead of 720.  Only the fold
-- writes it: each fold sums again, from the hourly rows, every day it
-- touched.  Like the hourly rollups it follows from ai_call and is not
-- dumped.
--
CREATE TABLE @extschema@.ai_usage_rollup_daily (LIKE @extschema@.ai_usage_rollup_total);
CREATE UNIQUE INDEX ai_usage_rollup_daily_group_key
    ON @extschema@.ai_usage_rollup_daily (bucket, model_id, call_type, status)
    NULLS NOT DISTINCT;
REVOKE ALL ON TABLE @extschema@.ai_usage_rollup_daily FROM PUBLIC;
-- The sums over all users are not for tenants (as ai_usage_rollup_total).
ALTER TABLE @extschema@.ai_usage_rollup_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_rollup_daily_tenant ON @extschema@.ai_usage_rollup_daily
    USING ((SELECT NOT @extschema@.ai_tenant_mode()));

--
-- ai_upkeep_state: one row, what the upkeep did last and how far the daily
-- level reaches.  daily_from: every UTC day from it on is complete in
-- ai_usage_rollup_daily ('-infinity': all of them; 'infinity': none yet).
-- Written by the upkeep worker (as the extension's owner), by
-- ai_rollup_compact() and by ai_rollup_backfill_daily(), under the fold's
-- lock.  Not dumped: a restore starts it afresh, as it starts the rollups.
--
CREATE TABLE @extschema@.ai_upkeep_state (
    only_row           boolean     NOT NULL DEFAULT true PRIMARY KEY CHECK (only_row),
    -- +-infinity or a UTC midnight: the stats and the backfill cut days there.
    daily_from         timestamptz NOT NULL
                       CHECK (NOT pg_catalog.isfinite(daily_from)
                              OR EXTRACT(epoch FROM daily_from) OPERATOR(pg_catalog.%) 86400::pg_catalog.numeric
                                 OPERATOR(pg_catalog.=) 0::pg_catalog.numeric),
    runs               bigint      NOT NULL DEFAULT 0,
    last_run_started   timestamptz,
    last_run_finished  timestamptz,
    last_run_folded    bigint,
    folded_total       bigint      NOT NULL DEFAULT 0,
    last_analyzed      timestamptz,
    last_error         text,
    last_error_at      timestamptz
);
REVOKE ALL ON TABLE @extschema@.ai_upkeep_state FROM PUBLIC;
-- Its counters sum over every user's calls: not for tenants.
ALTER TABLE @extschema@.ai_upkeep_state ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_upkeep_state_tenant ON @extschema@.ai_upkeep_state
    USING ((SELECT NOT @extschema@.ai_tenant_mode()));
-- A ledger with rollup rows has days to backfill; a new one has none.
-- (Pending rows count: a fold may be turning them into hourly rows now.)
INSERT INTO @extschema@.ai_upkeep_state (daily_from)
SELECT CASE WHEN EXISTS (SELECT FROM @extschema@.ai_usage_rollup)
              OR EXISTS (SELECT FROM @extschema@.ai_usage_rollup_total)
            THEN 'infinity'::pg_catalog.timestamptz
            ELSE '-infinity'::pg_catalog.timestamptz END;

--
-- ai_upkeep_status: the upkeep as an operator asks about it.  Security
-- invoker: the caller needs SELECT on ai_upkeep_state and ai_usage_rollup
-- (aitrack_reader), so default privileges that hand the view out reveal
-- nothing.
--
CREATE VIEW @extschema@.ai_upkeep_status WITH (security_invoker = true) AS
SELECT w.pid AS worker_pid,
       s.runs,
       s.last_run_started,
       s.last_run_finished,
       s.last_run_folded,
       s.folded_total,
       s.last_analyzed,
       p.pending_rows,
       p.oldest_pending_bucket,
       CASE WHEN p.pending_rows OPERATOR(pg_catalog.>) 0
            THEN pg_catalog.now() OPERATOR(pg_catalog.-) s.last_run_finished
            ELSE '0'::pg_catalog.interval END AS lag,
       s.daily_from,
       s.daily_from OPERATOR(pg_catalog.=) '-infinity'::pg_catalog.timestamptz AS daily_complete,
       s.last_error,
       s.last_error_at,
       pg_catalog.current_setting('aitrack.upkeep_interval'::pg_catalog.text, true) AS upkeep_interval
  FROM (SELECT pg_catalog.count(*) AS pending_rows, pg_catalog.min(r.bucket) AS oldest_pending_bucket
          FROM @extschema@.ai_usage_rollup r WHERE r.pending) AS p
  LEFT JOIN @extschema@.ai_upkeep_state s ON true
  LEFT JOIN LATERAL (SELECT a.pid FROM pg_catalog.pg_stat_activity a
                      WHERE a.backend_type OPERATOR(pg_catalog.=) 'aitrack upkeep'::pg_catalog.text
                        AND a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
                      LIMIT 1) AS w ON true;
REVOKE ALL ON TABLE @extschema@.ai_upkeep_status FROM PUBLIC;

--
-- ai_rollup_backfill_daily(): one step of filling the daily level from the
-- hourly rows, newest days first: the days [daily_from - days, daily_from),
-- then daily_from moves back to their start ('-infinity' once the oldest
-- hourly row is in).  One transaction per call; the upkeep worker calls it
-- until it returns 0.  Returns the number of days it filled.
--
CREATE FUNCTION @extschema@.ai_rollup_backfill_daily(days integer DEFAULT 7)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    complete_from timestamptz;
    oldest timestamptz;
    step_from timestamptz;
BEGIN
    IF days IS NULL OR days < 1 OR days > 366 THEN
        RAISE EXCEPTION 'days must be between 1 and 366'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Got %s.', COALESCE(days::text, 'NULL'));
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'ai_rollup_backfill_daily() must run at READ COMMITTED'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = pg_catalog.format('This transaction is %s: its snapshot may predate the last fold.',
                                             current_setting('transaction_isolation')),
                  HINT = 'Call it in a transaction of its own, at the default isolation level.';
    END IF;
    -- Not beside a fold (it sums days from daily_from on, read under this
    -- lock, which only the owner and aitrack_admin may take).
    LOCK TABLE @extschema@.ai_upkeep_state IN EXCLUSIVE MODE;
    SELECT s.daily_from INTO complete_from FROM @extschema@.ai_upkeep_state s;
    IF NOT FOUND OR complete_from = '-infinity'::timestamptz THEN
        RETURN 0;
    END IF;

    SELECT min(t.bucket) INTO oldest FROM @extschema@.ai_usage_rollup_total t;
    -- Days without hourly rows are complete as they are: start this step
    -- after the newest hourly row before daily_from (right after the
    -- update, daily_from is infinity), so that gaps cost no steps.
    -- (The day after the last day PostgreSQL can hold is infinity.)
    complete_from := LEAST(complete_from,
                           (SELECT CASE WHEN x.d < '294276-12-31 00:00+00'::timestamptz
                                        THEN x.d + interval '24 hours' ELSE 'infinity'::timestamptz END
                              FROM (SELECT date_trunc('day', max(t.bucket), 'UTC') AS d
                                      FROM @extschema@.ai_usage_rollup_total t
                                     WHERE t.bucket < complete_from) AS x));
    IF oldest IS NULL OR complete_from IS NULL OR oldest >= complete_from THEN
        UPDATE @extschema@.ai_upkeep_state SET daily_from = '-infinity'::timestamptz;
        RETURN 0;
    END IF;

    step_from := GREATEST(complete_from - make_interval(hours => days * 24),
                          date_trunc('day', oldest, 'UTC'));
    -- Days before daily_from hold nothing, unless someone moved it back.
    DELETE FROM @extschema@.ai_usage_rollup_daily d
     WHERE d.bucket >= step_from AND d.bucket < complete_from;
    INSERT INTO @extschema@.ai_usage_rollup_daily
           (bucket, model_id, call_type, status, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT date_trunc('day', t.bucket, 'UTC'), t.model_id, t.call_type, t.status, sum(t.calls),
           pg_catalog.sum(t.input_tokens), pg_catalog.sum(t.input_tokens_n), pg_catalog.sum(t.reasoning_tokens), pg_catalog.sum(t.reasoning_tokens_n), pg_catalog.sum(t.output_tokens), pg_catalog.sum(t.output_tokens_n), pg_catalog.sum(t.cache_read_input_tokens), pg_catalog.sum(t.cache_read_input_tokens_n), pg_catalog.sum(t.cache_creation_input_tokens), pg_catalog.sum(t.cache_creation_input_tokens_n), pg_catalog.sum(t.cost_usd), pg_catalog.sum(t.cost_usd_n), pg_catalog.sum(t.duration_ms), pg_catalog.sum(t.duration_ms_n), pg_catalog.sum(t.time_to_first_token_ms), pg_catalog.sum(t.time_to_first_token_ms_n), pg_catalog.sum(t.cache_creation_1h_input_tokens), pg_catalog.sum(t.cache_creation_1h_input_tokens_n), pg_catalog.sum(t.input_audio_tokens), pg_catalog.sum(t.input_audio_tokens_n), pg_catalog.sum(t.cache_read_audio_tokens), pg_catalog.sum(t.cache_read_audio_tokens_n), pg_catalog.sum(t.input_image_tokens), pg_catalog.sum(t.input_image_tokens_n), pg_catalog.sum(t.output_audio_tokens), pg_catalog.sum(t.output_audio_tokens_n), pg_catalog.sum(t.output_image_tokens), pg_catalog.sum(t.output_image_tokens_n), pg_catalog.sum(t.web_search_requests), pg_catalog.sum(t.web_search_requests_n),
           min(t.first_call), max(t.last_call), @extschema@.ai_hist_merge(t.latency)
      FROM @extschema@.ai_usage_rollup_total t
     WHERE t.bucket >= step_from AND t.bucket < complete_from
     GROUP BY 1, 2, 3, 4;
    UPDATE @extschema@.ai_upkeep_state
       SET daily_from = CASE WHEN step_from <= oldest THEN '-infinity'::timestamptz ELSE step_from END;
    RETURN (extract(epoch FROM complete_from - step_from) / 86400)::integer;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_rollup_backfill_daily(integer) FROM PUBLIC;

-- No grant is copied from the hourly tables to these two (as 1.2 did for
-- the rollups): a GRANT here would become an initial privilege that pg_dump
-- leaves out, and on PostgreSQL 17 and later a dependency that keeps the
-- grantee from being dropped.  A role a DBA granted 1.5's tables one by one
-- gets the same answers from the hourly level (src/stats.c), until granted
-- SELECT on ai_usage_rollup_daily and ai_upkeep_state (or aitrack_reader).

-- The C functions keep their 1.5 symbols: ai_usage_stats() (src/stats.c)
-- and the rollup trigger (src/rollup.c) find the daily level in the
-- catalog, so a session that loaded the library before it was installed
-- goes on working (it reads the hourly level only, with the same answers).

--
-- ai_rollup_compact(), as 1.5 has it, and then the daily level of the days
-- it touched.
--
CREATE OR REPLACE FUNCTION @extschema@.ai_rollup_compact()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded bigint;
    complete_from timestamptz;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'ai_rollup_compact() must run at READ COMMITTED'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = pg_catalog.format('This transaction is %s: its snapshot may predate the last fold.',
                                             current_setting('transaction_isolation')),
                  HINT = 'Call it in a transaction of its own, at the default isolation level.';
    END IF;
    -- One fold at a time (1.6: a lock only the owner and aitrack_admin may
    -- take, no longer an advisory lock any role could hold).
    BEGIN
        LOCK TABLE @extschema@.ai_upkeep_state IN EXCLUSIVE MODE NOWAIT;
    EXCEPTION WHEN lock_not_available THEN
        RETURN 0;
    END;

    CREATE TEMPORARY TABLE aitrack_compact ON COMMIT DROP AS
    WITH pend AS (
        DELETE FROM @extschema@.ai_usage_rollup WHERE pending RETURNING *
    )
    SELECT bucket, model_id, call_type, status, user_id,
           sum(calls) AS calls,
           sum(input_tokens) AS input_tokens,
           sum(input_tokens_n) AS input_tokens_n,
           sum(reasoning_tokens) AS reasoning_tokens,
           sum(reasoning_tokens_n) AS reasoning_tokens_n,
           sum(output_tokens) AS output_tokens,
           sum(output_tokens_n) AS output_tokens_n,
           sum(cache_read_input_tokens) AS cache_read_input_tokens,
           sum(cache_read_input_tokens_n) AS cache_read_input_tokens_n,
           sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
           sum(cache_creation_input_tokens_n) AS cache_creation_input_tokens_n,
           sum(cost_usd) AS cost_usd,
           sum(cost_usd_n) AS cost_usd_n,
           sum(duration_ms) AS duration_ms,
           sum(duration_ms_n) AS duration_ms_n,
           sum(time_to_first_token_ms) AS time_to_first_token_ms,
           sum(time_to_first_token_ms_n) AS time_to_first_token_ms_n,
           sum(cache_creation_1h_input_tokens) AS cache_creation_1h_input_tokens,
           sum(cache_creation_1h_input_tokens_n) AS cache_creation_1h_input_tokens_n,
           sum(input_audio_tokens) AS input_audio_tokens,
           sum(input_audio_tokens_n) AS input_audio_tokens_n,
           sum(cache_read_audio_tokens) AS cache_read_audio_tokens,
           sum(cache_read_audio_tokens_n) AS cache_read_audio_tokens_n,
           sum(input_image_tokens) AS input_image_tokens,
           sum(input_image_tokens_n) AS input_image_tokens_n,
           sum(output_audio_tokens) AS output_audio_tokens,
           sum(output_audio_tokens_n) AS output_audio_tokens_n,
           sum(output_image_tokens) AS output_image_tokens,
           sum(output_image_tokens_n) AS output_image_tokens_n,
           sum(web_search_requests) AS web_search_requests,
           sum(web_search_requests_n) AS web_search_requests_n,
           min(first_call) AS first_call, max(last_call) AS last_call,
           @extschema@.ai_hist_merge(latency) AS latency,
           bool_or(calls < 0) AS lost_calls,
           count(*) AS pending_rows
      FROM pend
     GROUP BY bucket, model_id, call_type, status, user_id;

    -- Statistics for the joins below, or the planner guesses a few rows.
    ANALYZE aitrack_compact;
    SELECT COALESCE(sum(pending_rows), 0) INTO folded FROM aitrack_compact;

    INSERT INTO @extschema@.ai_usage_rollup AS r
           (bucket, model_id, call_type, status, user_id, pending, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT bucket, model_id, call_type, status, user_id, false, calls,
           input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
           first_call, last_call, latency
      FROM aitrack_compact
    ON CONFLICT (bucket, model_id, call_type, status, user_id) WHERE NOT pending DO UPDATE SET
           calls = r.calls + excluded.calls,
           input_tokens = r.input_tokens + excluded.input_tokens,
           input_tokens_n = r.input_tokens_n + excluded.input_tokens_n,
           reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
           reasoning_tokens_n = r.reasoning_tokens_n + excluded.reasoning_tokens_n,
           output_tokens = r.output_tokens + excluded.output_tokens,
           output_tokens_n = r.output_tokens_n + excluded.output_tokens_n,
           cache_read_input_tokens = r.cache_read_input_tokens + excluded.cache_read_input_tokens,
           cache_read_input_tokens_n = r.cache_read_input_tokens_n + excluded.cache_read_input_tokens_n,
           cache_creation_input_tokens = r.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
           cache_creation_input_tokens_n = r.cache_creation_input_tokens_n + excluded.cache_creation_input_tokens_n,
           cost_usd = r.cost_usd + excluded.cost_usd,
           cost_usd_n = r.cost_usd_n + excluded.cost_usd_n,
           duration_ms = r.duration_ms + excluded.duration_ms,
           duration_ms_n = r.duration_ms_n + excluded.duration_ms_n,
           time_to_first_token_ms = r.time_to_first_token_ms + excluded.time_to_first_token_ms,
           time_to_first_token_ms_n = r.time_to_first_token_ms_n + excluded.time_to_first_token_ms_n,
           cache_creation_1h_input_tokens = r.cache_creation_1h_input_tokens + excluded.cache_creation_1h_input_tokens,
           cache_creation_1h_input_tokens_n = r.cache_creation_1h_input_tokens_n + excluded.cache_creation_1h_input_tokens_n,
           input_audio_tokens = r.input_audio_tokens + excluded.input_audio_tokens,
           input_audio_tokens_n = r.input_audio_tokens_n + excluded.input_audio_tokens_n,
           cache_read_audio_tokens = r.cache_read_audio_tokens + excluded.cache_read_audio_tokens,
           cache_read_audio_tokens_n = r.cache_read_audio_tokens_n + excluded.cache_read_audio_tokens_n,
           input_image_tokens = r.input_image_tokens + excluded.input_image_tokens,
           input_image_tokens_n = r.input_image_tokens_n + excluded.input_image_tokens_n,
           output_audio_tokens = r.output_audio_tokens + excluded.output_audio_tokens,
           output_audio_tokens_n = r.output_audio_tokens_n + excluded.output_audio_tokens_n,
           output_image_tokens = r.output_image_tokens + excluded.output_image_tokens,
           output_image_tokens_n = r.output_image_tokens_n + excluded.output_image_tokens_n,
           web_search_requests = r.web_search_requests + excluded.web_search_requests,
           web_search_requests_n = r.web_search_requests_n + excluded.web_search_requests_n,
           first_call = LEAST(r.first_call, excluded.first_call),
           last_call = GREATEST(r.last_call, excluded.last_call),
           latency = @extschema@.ai_hist_add(r.latency, excluded.latency);

    INSERT INTO @extschema@.ai_usage_rollup_total AS r
           (bucket, model_id, call_type, status, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT bucket, model_id, call_type, status, sum(calls),
           sum(input_tokens), sum(input_tokens_n), sum(reasoning_tokens), sum(reasoning_tokens_n), sum(output_tokens), sum(output_tokens_n), sum(cache_read_input_tokens), sum(cache_read_input_tokens_n), sum(cache_creation_input_tokens), sum(cache_creation_input_tokens_n), sum(cost_usd), sum(cost_usd_n), sum(duration_ms), sum(duration_ms_n), sum(time_to_first_token_ms), sum(time_to_first_token_ms_n), sum(cache_creation_1h_input_tokens), sum(cache_creation_1h_input_tokens_n), sum(input_audio_tokens), sum(input_audio_tokens_n), sum(cache_read_audio_tokens), sum(cache_read_audio_tokens_n), sum(input_image_tokens), sum(input_image_tokens_n), sum(output_audio_tokens), sum(output_audio_tokens_n), sum(output_image_tokens), sum(output_image_tokens_n), sum(web_search_requests), sum(web_search_requests_n),
           min(first_call), max(last_call), @extschema@.ai_hist_merge(latency)
      FROM aitrack_compact
     GROUP BY bucket, model_id, call_type, status
    ON CONFLICT (bucket, model_id, call_type, status) DO UPDATE SET
           calls = r.calls + excluded.calls,
           input_tokens = r.input_tokens + excluded.input_tokens,
           input_tokens_n = r.input_tokens_n + excluded.input_tokens_n,
           reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
           reasoning_tokens_n = r.reasoning_tokens_n + excluded.reasoning_tokens_n,
           output_tokens = r.output_tokens + excluded.output_tokens,
           output_tokens_n = r.output_tokens_n + excluded.output_tokens_n,
           cache_read_input_tokens = r.cache_read_input_tokens + excluded.cache_read_input_tokens,
           cache_read_input_tokens_n = r.cache_read_input_tokens_n + excluded.cache_read_input_tokens_n,
           cache_creation_input_tokens = r.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
           cache_creation_input_tokens_n = r.cache_creation_input_tokens_n + excluded.cache_creation_input_tokens_n,
           cost_usd = r.cost_usd + excluded.cost_usd,
           cost_usd_n = r.cost_usd_n + excluded.cost_usd_n,
           duration_ms = r.duration_ms + excluded.duration_ms,
           duration_ms_n = r.duration_ms_n + excluded.duration_ms_n,
           time_to_first_token_ms = r.time_to_first_token_ms + excluded.time_to_first_token_ms,
           time_to_first_token_ms_n = r.time_to_first_token_ms_n + excluded.time_to_first_token_ms_n,
           cache_creation_1h_input_tokens = r.cache_creation_1h_input_tokens + excluded.cache_creation_1h_input_tokens,
           cache_creation_1h_input_tokens_n = r.cache_creation_1h_input_tokens_n + excluded.cache_creation_1h_input_tokens_n,
           input_audio_tokens = r.input_audio_tokens + excluded.input_audio_tokens,
           input_audio_tokens_n = r.input_audio_tokens_n + excluded.input_audio_tokens_n,
           cache_read_audio_tokens = r.cache_read_audio_tokens + excluded.cache_read_audio_tokens,
           cache_read_audio_tokens_n = r.cache_read_audio_tokens_n + excluded.cache_read_audio_tokens_n,
           input_image_tokens = r.input_image_tokens + excluded.input_image_tokens,
           input_image_tokens_n = r.input_image_tokens_n + excluded.input_image_tokens_n,
           output_audio_tokens = r.output_audio_tokens + excluded.output_audio_tokens,
           output_audio_tokens_n = r.output_audio_tokens_n + excluded.output_audio_tokens_n,
           output_image_tokens = r.output_image_tokens + excluded.output_image_tokens,
           output_image_tokens_n = r.output_image_tokens_n + excluded.output_image_tokens_n,
           web_search_requests = r.web_search_requests + excluded.web_search_requests,
           web_search_requests_n = r.web_search_requests_n + excluded.web_search_requests_n,
           first_call = LEAST(r.first_call, excluded.first_call),
           last_call = GREATEST(r.last_call, excluded.last_call),
           latency = @extschema@.ai_hist_add(r.latency, excluded.latency);

    -- Groups that lost calls: their first and last call, from what is left.
    IF EXISTS (SELECT FROM aitrack_compact WHERE lost_calls) THEN
    UPDATE @extschema@.ai_usage_rollup r
       SET first_call = COALESCE(live.first_call, r.first_call),
           last_call = COALESCE(live.last_call, r.last_call)
      FROM aitrack_compact k,
           LATERAL (SELECT min(c.created_at) AS first_call, max(c.created_at) AS last_call
                      FROM @extschema@.ai_call c
                     WHERE c.created_at >= k.bucket
                       AND c.created_at < k.bucket + interval '1 hour'
                       AND c.model_id = k.model_id
                       AND c.call_type IS NOT DISTINCT FROM k.call_type
                       AND c.status IS NOT DISTINCT FROM k.status
                       AND c.user_id IS NOT DISTINCT FROM k.user_id) AS live
     WHERE k.lost_calls AND NOT r.pending
       AND r.bucket = k.bucket AND r.model_id = k.model_id
       AND r.call_type IS NOT DISTINCT FROM k.call_type
       AND r.status IS NOT DISTINCT FROM k.status
       AND r.user_id IS NOT DISTINCT FROM k.user_id;
    UPDATE @extschema@.ai_usage_rollup_total t
       SET first_call = COALESCE(u.first_call, t.first_call),
           last_call = COALESCE(u.last_call, t.last_call)
      FROM (SELECT r.bucket, r.model_id, r.call_type, r.status,
                   min(r.first_call) AS first_call, max(r.last_call) AS last_call
              FROM @extschema@.ai_usage_rollup r
             WHERE NOT r.pending AND r.calls <> 0
               AND EXISTS (SELECT FROM aitrack_compact k
                            WHERE k.lost_calls AND k.bucket = r.bucket AND k.model_id = r.model_id
                              AND k.call_type IS NOT DISTINCT FROM r.call_type
                              AND k.status IS NOT DISTINCT FROM r.status)
             GROUP BY 1, 2, 3, 4) AS u
     WHERE t.bucket = u.bucket AND t.model_id = u.model_id
       AND t.call_type IS NOT DISTINCT FROM u.call_type
       AND t.status IS NOT DISTINCT FROM u.status;
    END IF;

    -- Groups left without calls are gone.
    DELETE FROM @extschema@.ai_usage_rollup WHERE NOT pending AND calls = 0;
    DELETE FROM @extschema@.ai_usage_rollup_total WHERE calls = 0;

    -- 1.6: the daily level of every day this fold touched, summed again
    -- from that day's hourly rows (so it holds exactly what they hold);
    -- days before daily_from are not in it yet (ai_rollup_backfill_daily()).
    SELECT s.daily_from INTO complete_from FROM @extschema@.ai_upkeep_state s;
    IF FOUND THEN
        CREATE TEMPORARY TABLE aitrack_compact_days ON COMMIT DROP AS
        SELECT DISTINCT date_trunc('day', k.bucket, 'UTC') AS day
          FROM aitrack_compact k
         WHERE k.bucket >= complete_from;
        DELETE FROM @extschema@.ai_usage_rollup_daily d
         USING aitrack_compact_days k
         WHERE d.bucket = k.day;
        INSERT INTO @extschema@.ai_usage_rollup_daily
               (bucket, model_id, call_type, status, calls,
                input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                first_call, last_call, latency)
        SELECT k.day, t.model_id, t.call_type, t.status, sum(t.calls),
               pg_catalog.sum(t.input_tokens), pg_catalog.sum(t.input_tokens_n), pg_catalog.sum(t.reasoning_tokens), pg_catalog.sum(t.reasoning_tokens_n), pg_catalog.sum(t.output_tokens), pg_catalog.sum(t.output_tokens_n), pg_catalog.sum(t.cache_read_input_tokens), pg_catalog.sum(t.cache_read_input_tokens_n), pg_catalog.sum(t.cache_creation_input_tokens), pg_catalog.sum(t.cache_creation_input_tokens_n), pg_catalog.sum(t.cost_usd), pg_catalog.sum(t.cost_usd_n), pg_catalog.sum(t.duration_ms), pg_catalog.sum(t.duration_ms_n), pg_catalog.sum(t.time_to_first_token_ms), pg_catalog.sum(t.time_to_first_token_ms_n), pg_catalog.sum(t.cache_creation_1h_input_tokens), pg_catalog.sum(t.cache_creation_1h_input_tokens_n), pg_catalog.sum(t.input_audio_tokens), pg_catalog.sum(t.input_audio_tokens_n), pg_catalog.sum(t.cache_read_audio_tokens), pg_catalog.sum(t.cache_read_audio_tokens_n), pg_catalog.sum(t.input_image_tokens), pg_catalog.sum(t.input_image_tokens_n), pg_catalog.sum(t.output_audio_tokens), pg_catalog.sum(t.output_audio_tokens_n), pg_catalog.sum(t.output_image_tokens), pg_catalog.sum(t.output_image_tokens_n), pg_catalog.sum(t.web_search_requests), pg_catalog.sum(t.web_search_requests_n),
               min(t.first_call), max(t.last_call), @extschema@.ai_hist_merge(t.latency)
          FROM aitrack_compact_days k
          JOIN @extschema@.ai_usage_rollup_total t
            ON t.bucket >= k.day
           AND t.bucket < CASE WHEN k.day < '294276-12-31 00:00+00'::timestamptz
                               THEN k.day + interval '24 hours' ELSE 'infinity'::timestamptz END
         GROUP BY k.day, t.model_id, t.call_type, t.status;
        DROP TABLE aitrack_compact_days;
    END IF;

    DROP TABLE aitrack_compact;
    RETURN folded;
END;
$$;


-- ai_rollup_rebuild(), as 1.5 has it; it drops the daily rows of the days it rebuilds.
CREATE OR REPLACE PROCEDURE @extschema@.ai_rollup_rebuild(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
LANGUAGE plpgsql
-- No SET search_path: a procedure with a SET clause cannot COMMIT.  Every
-- name and operator below is qualified instead.
AS $$
DECLARE
    day_start timestamptz;
    day_end timestamptz;
    last_day timestamptz;
    days bigint := 0;
BEGIN
    day_start := pg_catalog.date_trunc('day', COALESCE(since,
                     (SELECT pg_catalog.min(c.created_at) FROM @extschema@.ai_call c),
                     (SELECT pg_catalog.min(r.bucket) FROM @extschema@.ai_usage_rollup r),
                     pg_catalog.now()), 'UTC');
    last_day := COALESCE(until,
                     GREATEST((SELECT pg_catalog.max(c.created_at) FROM @extschema@.ai_call c),
                              (SELECT pg_catalog.max(r.bucket) FROM @extschema@.ai_usage_rollup r))
                     OPERATOR(pg_catalog.+) '1 hour'::pg_catalog.interval,
                     pg_catalog.now());
    IF since IS NOT NULL AND until IS NOT NULL AND since OPERATOR(pg_catalog.>=) until THEN
        RAISE EXCEPTION 'since must be before until'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE day_start OPERATOR(pg_catalog.<) last_day LOOP
        -- 24 hours, not '1 day': a day of the session's time zone may be 23 or 25.
        day_end := day_start OPERATOR(pg_catalog.+) '24 hours'::pg_catalog.interval;
        -- No compaction meanwhile (it would fold rows this deletes).
        LOCK TABLE @extschema@.ai_upkeep_state IN EXCLUSIVE MODE;
        WITH gone_rollup AS (
            DELETE FROM @extschema@.ai_usage_rollup r
             WHERE r.bucket OPERATOR(pg_catalog.>=) day_start
               AND r.bucket OPERATOR(pg_catalog.<) day_end
            RETURNING 1
        ), gone_total AS (
            DELETE FROM @extschema@.ai_usage_rollup_total t
             WHERE t.bucket OPERATOR(pg_catalog.>=) day_start
               AND t.bucket OPERATOR(pg_catalog.<) day_end
            RETURNING 1
        ), gone_daily AS (
            -- 1.6: the day's daily rows; the fold sums them again.
            DELETE FROM @extschema@.ai_usage_rollup_daily d
             WHERE d.bucket OPERATOR(pg_catalog.>=) day_start
               AND d.bucket OPERATOR(pg_catalog.<) day_end
            RETURNING 1
        )
        INSERT INTO @extschema@.ai_usage_rollup
               (bucket, model_id, call_type, status, user_id, pending, calls,
                input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                first_call, last_call, latency)
        SELECT pg_catalog.date_trunc('hour', c.created_at, 'UTC'), c.model_id, c.call_type, c.status, c.user_id,
               true, pg_catalog.count(*),
               COALESCE(pg_catalog.sum(c.input_tokens), 0), pg_catalog.count(c.input_tokens),
               COALESCE(pg_catalog.sum(c.reasoning_tokens), 0), pg_catalog.count(c.reasoning_tokens),
               COALESCE(pg_catalog.sum(c.output_tokens), 0), pg_catalog.count(c.output_tokens),
               COALESCE(pg_catalog.sum(c.cache_read_input_tokens), 0), pg_catalog.count(c.cache_read_input_tokens),
               COALESCE(pg_catalog.sum(c.cache_creation_input_tokens), 0), pg_catalog.count(c.cache_creation_input_tokens),
               COALESCE(pg_catalog.sum(c.cost_usd), 0), pg_catalog.count(c.cost_usd),
               COALESCE(pg_catalog.sum(c.duration_ms), 0), pg_catalog.count(c.duration_ms),
               COALESCE(pg_catalog.sum(c.time_to_first_token_ms), 0), pg_catalog.count(c.time_to_first_token_ms),
               COALESCE(pg_catalog.sum(c.cache_creation_1h_input_tokens), 0), pg_catalog.count(c.cache_creation_1h_input_tokens),
               COALESCE(pg_catalog.sum(c.input_audio_tokens), 0), pg_catalog.count(c.input_audio_tokens),
               COALESCE(pg_catalog.sum(c.cache_read_audio_tokens), 0), pg_catalog.count(c.cache_read_audio_tokens),
               COALESCE(pg_catalog.sum(c.input_image_tokens), 0), pg_catalog.count(c.input_image_tokens),
               COALESCE(pg_catalog.sum(c.output_audio_tokens), 0), pg_catalog.count(c.output_audio_tokens),
               COALESCE(pg_catalog.sum(c.output_image_tokens), 0), pg_catalog.count(c.output_image_tokens),
               COALESCE(pg_catalog.sum(c.web_search_requests), 0), pg_catalog.count(c.web_search_requests),
               pg_catalog.min(c.created_at), pg_catalog.max(c.created_at),
               @extschema@.ai_hist_merge(@extschema@.ai_hist_of(c.duration_ms, 1::pg_catalog.int4))
          FROM @extschema@.ai_call c
         WHERE c.created_at OPERATOR(pg_catalog.>=) day_start
           AND c.created_at OPERATOR(pg_catalog.<) day_end
           AND (SELECT pg_catalog.count(*) FROM gone_rollup) OPERATOR(pg_catalog.>=) 0
           AND (SELECT pg_catalog.count(*) FROM gone_total) OPERATOR(pg_catalog.>=) 0
           AND (SELECT pg_catalog.count(*) FROM gone_daily) OPERATOR(pg_catalog.>=) 0
         GROUP BY 1, 2, 3, 4, 5;
        COMMIT;
        days := days OPERATOR(pg_catalog.+) 1;
        day_start := day_end;
    END LOOP;
    RAISE NOTICE 'aitrack: rebuilt the rollups of % days; CALL ai_rollup_compact() folds them', days;
END;
$$;

-- The privileges of 1.6's objects: the list grows, and ai_reset_privileges() (as 1.5 has it) now covers the view too.
CREATE OR REPLACE FUNCTION @extschema@.ai_intended_privileges()
RETURNS TABLE (obj oid, grantee text, privilege text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.obj, l.grantee, l.privilege
      FROM (VALUES
        -- recording
        ('@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_calls(jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        -- reading
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_upkeep_state'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_upkeep_status'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_price_at(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_settings()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        -- administration: prices, repricing, compaction, retention, tenants
        ('@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_reprice(timestamptz, timestamptz, boolean)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_compact()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_rebuild(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_backfill_daily(integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_purge_calls(timestamptz, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_purge_content(timestamptz, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_model_price_id_seq'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'USAGE'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_upkeep_state'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'SELECT'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        -- everyone: pure helpers, and what the row-level security policies call
        ('@extschema@.ai_hist_of(integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_add(integer[], integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_percentile(integer[], double precision)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_accum(internal, integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_final(internal)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_merge(integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_tenant_mode()'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_tenant_user_id()'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_price_rules_valid(jsonb, jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_price_from_litellm(text, jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE')
      ) AS l(obj, grantee, privilege);
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_intended_privileges() FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.ai_reset_privileges()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    objs oid[] := '{}';
    grantees text[] := '{}';
    privileges text[] := '{}';
    member record;
    entry record;
    ext oid := (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'aitrack');
    initial aclitem[];
    revoked text[] := '{}';
BEGIN
    SELECT pg_catalog.array_agg(l.obj), pg_catalog.array_agg(l.grantee), pg_catalog.array_agg(l.privilege)
      INTO objs, grantees, privileges
      FROM @extschema@.ai_intended_privileges() AS l;

    FOR member IN
        SELECT d.classid, d.objid,
               CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                    THEN 'ROUTINE ' OPERATOR(pg_catalog.||) d.objid::pg_catalog.regprocedure::pg_catalog.text
                    WHEN c.relkind OPERATOR(pg_catalog.=) 'S'
                    THEN 'SEQUENCE ' OPERATOR(pg_catalog.||) d.objid::pg_catalog.regclass::pg_catalog.text
                    ELSE 'TABLE ' OPERATOR(pg_catalog.||) d.objid::pg_catalog.regclass::pg_catalog.text END AS target,
               CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'f'
                    WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 's' ELSE 'r' END::pg_catalog."char" AS kind,
               COALESCE(c.relowner, p.proowner) AS owner,
               COALESCE(c.relnamespace, p.pronamespace) AS namespace,
               CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                    THEN p.proacl ELSE c.relacl END AS acl,
               i.initprivs
          FROM pg_catalog.pg_depend d
          LEFT JOIN pg_catalog.pg_class c
                 ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                AND c.oid OPERATOR(pg_catalog.=) d.objid
          LEFT JOIN pg_catalog.pg_proc p
                 ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                AND p.oid OPERATOR(pg_catalog.=) d.objid
          LEFT JOIN pg_catalog.pg_init_privs i
                 ON i.classoid OPERATOR(pg_catalog.=) d.classid AND i.objoid OPERATOR(pg_catalog.=) d.objid
                AND i.objsubid OPERATOR(pg_catalog.=) 0
         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND (p.oid IS NOT NULL OR c.relkind OPERATOR(pg_catalog.=) ANY ('{r,S,v}'::pg_catalog."char"[]))
         ORDER BY d.classid, d.objid
    LOOP
        -- Revoke what creation handed out and the list does not have.
        FOR entry IN
            SELECT a.grantee, a.privilege_type,
                   CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                        ELSE pg_catalog.quote_ident(a.grantee::pg_catalog.regrole::pg_catalog.text) END AS grantee_name
              FROM pg_catalog.aclexplode(COALESCE(member.acl, pg_catalog.acldefault(member.kind, member.owner))) a
             WHERE a.grantee OPERATOR(pg_catalog.<>) member.owner
               AND (CASE WHEN member.initprivs IS NOT NULL THEN
                        EXISTS (SELECT FROM pg_catalog.aclexplode(member.initprivs) i
                                 WHERE i.grantee OPERATOR(pg_catalog.=) a.grantee
                                   AND i.privilege_type OPERATOR(pg_catalog.=) a.privilege_type)
                    ELSE
                        EXISTS (SELECT FROM pg_catalog.pg_default_acl da, pg_catalog.aclexplode(da.defaclacl) i
                                 WHERE da.defaclrole OPERATOR(pg_catalog.=) member.owner
                                   AND da.defaclnamespace OPERATOR(pg_catalog.=) ANY (ARRAY[0, member.namespace])
                                   AND da.defaclobjtype OPERATOR(pg_catalog.=) member.kind
                                   AND i.grantee OPERATOR(pg_catalog.=) a.grantee
                                   AND i.privilege_type OPERATOR(pg_catalog.=) a.privilege_type)
                    END)
               AND NOT EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
                                WHERE l.obj OPERATOR(pg_catalog.=) member.objid
                                  AND l.privilege OPERATOR(pg_catalog.=) a.privilege_type
                                  AND CASE WHEN l.grantee OPERATOR(pg_catalog.=) 'PUBLIC' THEN 0::pg_catalog.oid
                                           ELSE l.grantee::pg_catalog.regrole::pg_catalog.oid END
                                      OPERATOR(pg_catalog.=) a.grantee)
        LOOP
            EXECUTE pg_catalog.format('REVOKE %s ON %s FROM %s CASCADE', entry.privilege_type, member.target, entry.grantee_name);
            revoked := revoked OPERATOR(pg_catalog.||) (entry.grantee_name OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) member.objid::pg_catalog.text);
        END LOOP;

        -- Grant the list, but what an earlier run already granted (it is in
        -- the initial privileges) only if it is still there: a DBA's REVOKE
        -- since then stands.
        FOR entry IN
            SELECT l.grantee, l.privilege
              FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
             WHERE l.obj OPERATOR(pg_catalog.=) member.objid
               AND NOT EXISTS (SELECT FROM pg_catalog.aclexplode(member.initprivs) AS i
                                WHERE i.grantee OPERATOR(pg_catalog.=)
                                      CASE WHEN l.grantee OPERATOR(pg_catalog.=) 'PUBLIC' THEN 0::pg_catalog.oid
                                           ELSE l.grantee::pg_catalog.regrole::pg_catalog.oid END
                                  AND i.privilege_type OPERATOR(pg_catalog.=) l.privilege)
        LOOP
            EXECUTE pg_catalog.format('GRANT %s ON %s TO %s', entry.privilege, member.target, entry.grantee);
        END LOOP;
        -- A function the list does not open to PUBLIC is closed to it, when
        -- its creation opened it (no initial privileges recorded, or PUBLIC
        -- in them): a DBA's GRANT ... TO PUBLIC since then stands.
        IF member.kind OPERATOR(pg_catalog.=) 'f'
           AND (member.initprivs IS NULL
                OR EXISTS (SELECT FROM pg_catalog.aclexplode(member.initprivs) AS i
                            WHERE i.grantee OPERATOR(pg_catalog.=) 0))
           AND NOT EXISTS (
               SELECT FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees)) AS l(obj, grantee)
                WHERE l.obj OPERATOR(pg_catalog.=) member.objid AND l.grantee OPERATOR(pg_catalog.=) 'PUBLIC') THEN
            EXECUTE pg_catalog.format('REVOKE EXECUTE ON %s FROM PUBLIC', member.target);
        END IF;

        -- The initial privileges are the owner's and the list's, nothing
        -- else: pg_dump then dumps every grant made after installing.
        SELECT pg_catalog.array_agg(x) INTO initial FROM (
            SELECT a AS x FROM pg_catalog.unnest(pg_catalog.acldefault(member.kind, member.owner)) AS a
             WHERE (SELECT e.grantee FROM pg_catalog.aclexplode(ARRAY[a]) AS e LIMIT 1)
                   OPERATOR(pg_catalog.=) member.owner
            UNION ALL
            SELECT pg_catalog.format('%s=%s/%s',
                       CASE WHEN l.grantee OPERATOR(pg_catalog.=) 'PUBLIC' THEN '' ELSE pg_catalog.quote_ident(l.grantee) END,
                       pg_catalog.string_agg(CASE l.privilege WHEN 'SELECT' THEN 'r' WHEN 'INSERT' THEN 'a'
                                                 WHEN 'UPDATE' THEN 'w' WHEN 'DELETE' THEN 'd'
                                                 WHEN 'EXECUTE' THEN 'X' WHEN 'USAGE' THEN 'U' END, ''),
                       pg_catalog.quote_ident(member.owner::pg_catalog.regrole::pg_catalog.text))::pg_catalog.aclitem
              FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
             WHERE l.obj OPERATOR(pg_catalog.=) member.objid
             GROUP BY l.grantee) AS s;
        UPDATE pg_catalog.pg_init_privs
           SET initprivs = initial
         WHERE classoid OPERATOR(pg_catalog.=) member.classid AND objoid OPERATOR(pg_catalog.=) member.objid
           AND objsubid OPERATOR(pg_catalog.=) 0;
        IF NOT FOUND THEN
            INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
            VALUES (member.objid, member.classid, 0, 'e', initial);
        END IF;
    END LOOP;

    IF pg_catalog.cardinality(revoked) OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'aitrack revoked privileges that default privileges had given on % of its objects when they were created',
                      (SELECT pg_catalog.count(DISTINCT pg_catalog.split_part(r, ' ', 2)) FROM pg_catalog.unnest(revoked) AS r)
            USING DETAIL = (SELECT 'Revoked from: ' OPERATOR(pg_catalog.||)
                                   pg_catalog.string_agg(pg_catalog.format('%s (on %s objects)', g.name, g.n), ', ' ORDER BY g.name)
                                   OPERATOR(pg_catalog.||) '.'
                              FROM (SELECT pg_catalog.split_part(r, ' ', 1) AS name,
                                           pg_catalog.count(DISTINCT pg_catalog.split_part(r, ' ', 2)) AS n
                                      FROM pg_catalog.unnest(revoked) AS r GROUP BY 1) AS g),
                  HINT = 'Grant aitrack_reader, aitrack_writer, aitrack_admin or aitrack_tenant to the roles that need them.';
    END IF;
END;
$$;

SELECT @extschema@.ai_reset_privileges();

--
-- Comments on the objects this script adds or replaces.
--
COMMENT ON TABLE @extschema@.ai_usage_rollup_daily IS 'aitrack: daily usage per model, call_type and status (ai_usage_rollup_total summed per UTC day, kept by the fold; days before ai_upkeep_state.daily_from are not in it yet)';
COMMENT ON TABLE @extschema@.ai_upkeep_state IS 'aitrack: what the background upkeep did last, and from which UTC day on the daily rollup level is complete (daily_from); one row';
COMMENT ON VIEW @extschema@.ai_upkeep_status IS 'aitrack: the background upkeep (src/upkeep.c): a worker at work, its last run and how many pending rollup rows it folded, the pending rows waiting and since when the last run finished (lag), how far the daily level is filled, the last error, and this session''s aitrack.upkeep_interval. Security invoker (aitrack_reader).';
COMMENT ON POLICY ai_upkeep_state_tenant ON @extschema@.ai_upkeep_state IS 'Closes the upkeep''s counters (they sum over every user''s calls) to tenants; sessions that are not a tenant''s are not restricted.';
COMMENT ON POLICY ai_usage_rollup_daily_tenant ON @extschema@.ai_usage_rollup_daily IS 'Closes the daily sums over all users to tenants; sessions that are not a tenant''s are not restricted.';
COMMENT ON FUNCTION @extschema@.ai_rollup_backfill_daily(integer) IS 'One step of filling the daily rollup level from the hourly one after an update to 1.6: sums the days [daily_from - days, daily_from) of ai_usage_rollup_total into ai_usage_rollup_daily and moves ai_upkeep_state.daily_from back, in the caller''s transaction; returns the number of days filled, 0 once every day is in. The upkeep worker calls it until it returns 0; ai_usage_stats() is exact before, during and after. SECURITY INVOKER (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_rollup_compact() IS 'Folds the pending rows of ai_usage_rollup into one row per group, into ai_usage_rollup_total and (1.6) into the daily level of the days it touched, and returns the number of pending rows folded; safe from several sessions at once (all but one return 0). The upkeep worker runs it within seconds of every commit that appended pending rows; call it by hand when aitrack.upkeep_interval is 0. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON PROCEDURE @extschema@.ai_rollup_rebuild(timestamptz, timestamptz) IS 'Recomputes the pending rollup rows of whole UTC days from since to until (default: all) from ai_call, one day per transaction, after writes that skipped the rollup triggers (pg_restore --disable-triggers, ALTER TABLE ... DISABLE TRIGGER), dropping those days'' hourly and daily rows; ai_rollup_compact() (the upkeep worker) then folds them. Purged numbers (ai_usage_purged) are not touched. CALL it outside a transaction block; SECURITY INVOKER (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_rollup_capture() IS 'Trigger function of the ai_call_rollup_* triggers: appends pending ai_usage_rollup rows for the calls each statement inserted, updated or deleted (and asks the upkeep worker to fold them once the transaction commits), and empties ai_usage_rollup, ai_usage_rollup_total and ai_usage_rollup_daily on TRUNCATE. SECURITY DEFINER: it writes the rollup tables with the rights of the extension''s owner.';
COMMENT ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text) IS 'Calls, errors, token sums (audio, image, 1-hour cache write and web search counts included), cost in USD and latency in milliseconds (mean, p50, p95, p99) of the calls made from since (inclusive) to until (exclusive), grouped by any of model, modelname, call_type, status, user and one hour, day, week or month bucket cut in time zone tz; whole UTC days come from the daily rollup level (when no user is asked for and buckets, if any, are days or longer in a zone that is always UTC), whole hours from the hourly one, and purged calls count. Rows of type ai_usage_stats_row. SECURITY INVOKER: the caller''s privileges and row-level security apply, so it needs SELECT on ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_rollup_daily, ai_usage_purged and ai_upkeep_state (aitrack_reader), and a tenant gets its own user''s calls only.';
COMMENT ON FUNCTION @extschema@.ai_intended_privileges() IS 'The privileges aitrack means its objects to have, as (object, grantee, privilege) rows; ai_reset_privileges() applies them. Owner only.';

COMMENT ON COLUMN @extschema@.ai_upkeep_state.only_row IS 'Always true: the table has one row.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.daily_from IS 'Every UTC day from this one on is complete in ai_usage_rollup_daily; -infinity: every day is, infinity: none is yet (right after an update to 1.6 on a ledger with calls).';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.runs IS 'Number of runs of the upkeep worker that got as far as folding.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.last_run_started IS 'When the last run of the upkeep worker started.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.last_run_finished IS 'When the last run of the upkeep worker finished its fold.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.last_run_folded IS 'Pending rollup rows the last run of the upkeep worker folded.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.folded_total IS 'Pending rollup rows the upkeep worker folded, over all its runs.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.last_analyzed IS 'When the upkeep worker last refreshed the rollup tables'' planner statistics (after a fold of 1000 rows or more).';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.last_error IS 'The message of the last error the upkeep worker met (NULL after a run without one).';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.last_error_at IS 'When the upkeep worker met last_error.';

COMMENT ON COLUMN @extschema@.ai_upkeep_status.worker_pid IS 'Process id of the upkeep worker at work in this database, or NULL.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.runs IS 'Number of runs of the upkeep worker that got as far as folding.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.last_run_started IS 'When the last run of the upkeep worker started.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.last_run_finished IS 'When the last run of the upkeep worker finished its fold.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.last_run_folded IS 'Pending rollup rows the last run folded.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.folded_total IS 'Pending rollup rows the upkeep worker folded, over all its runs.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.last_analyzed IS 'When the upkeep worker last refreshed the rollups'' planner statistics.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.pending_rows IS 'Pending ai_usage_rollup rows waiting to be folded (that this role may see).';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.oldest_pending_bucket IS 'The earliest hour among the pending rows.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.lag IS 'How long ago the last run finished, while pending rows wait (0 when none does, NULL when no run ever finished).';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.daily_from IS 'Every UTC day from this one on is complete in the daily rollup level (-infinity: all are).';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.daily_complete IS 'True when every day is in the daily rollup level.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.last_error IS 'The last error the upkeep worker met, NULL after a run without one.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.last_error_at IS 'When it met last_error.';
COMMENT ON COLUMN @extschema@.ai_upkeep_status.upkeep_interval IS 'aitrack.upkeep_interval in this session (seconds between fold requests from one session; 0: off); NULL when the library is not loaded and nothing set it.';

-- The daily level's columns: those of ai_usage_rollup_total, per day.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_rollup_total'::pg_catalog.regclass
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.ai_usage_rollup_daily.%I IS %L',
                                  col.attname, col.comment);
    END LOOP;
END;
$$;
COMMENT ON COLUMN @extschema@.ai_usage_rollup_daily.bucket IS 'Start of the UTC day the calls were made in.';
