/* aitrack 1.7 -> 1.8: spend control in C (budgets counted and reserved by plans kept per session), and usage by project from the rollups. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.8'" to load this file. \quit

-- ==== BEGIN SECTION: budget engine ====
-- ==== END SECTION: budget engine ====

-- ==== BEGIN SECTION: project rollups ====
--
-- 1.8: ai_usage_stats() by project from the rollups.  A project level,
-- ai_usage_rollup_project, per UTC hour, model, call_type, status and
-- project, kept like the hourly level (the rollup trigger appends pending
-- rows, ai_rollup_compact() folds them), and ai_usage_purged_project, the
-- numbers of the calls ai_purge_calls() removes, by project.
--
-- Why tables of their own, not the project as a new key of
-- ai_usage_rollup: that table's unique key would change (an index build
-- over the largest rollup, inside the update), its rows of before the
-- update have no project to give, and every question that ignores the
-- project would read rows split by it.  New tables start empty: the update
-- scans and rewrites nothing.  Recording pays one more row per statement
-- (and one index entry; src/rollup.c writes it without the executor).
--
-- The calls recorded before the update reach the project level afterwards,
-- newest hours first, in committed steps: ai_rollup_backfill_project(),
-- which the upkeep worker calls (src/upkeep.c), or a user.  Coverage is
-- ai_upkeep_state.project_from: every UTC hour from it on is complete in
-- the project level; ai_usage_stats() reads the hours before it from
-- ai_call, so it is exact before, during and after the backfill.  Calls
-- purged before 1.8 have no project kept: ai_usage_purged_project_floor
-- says from which hour on every purged call is in ai_usage_purged_project;
-- before it, purged calls count in the group NULL, as 1.7 has it.
--

-- The project level must see every call written after the update, so no
-- transaction that recorded calls before it (through the 1.7 trigger,
-- which does not write the project level) may still be open when it
-- commits: wait for them (recording waits meanwhile, for at most a
-- second: then the update fails, to be run again).
SET LOCAL lock_timeout = '1s';
LOCK TABLE @extschema@.ai_call IN SHARE MODE;
SET LOCAL lock_timeout = 0;
-- A purge running 1.7's ai_purge_calls() would go on writing its batches
-- without their project: not during the update.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_stat_activity a
                WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
                  AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()
                  AND a.state OPERATOR(pg_catalog.=) 'active'
                  AND a.query OPERATOR(pg_catalog.~*) 'ai_purge_calls') THEN
        RAISE EXCEPTION 'aitrack: ai_purge_calls() is running in another session'
            USING ERRCODE = 'object_in_use',
                  HINT = 'Let it finish (or stop it), then run ALTER EXTENSION aitrack UPDATE again.';
    END IF;
END
$$;

--
-- How far the project level reaches: every UTC hour from project_from on
-- is complete in it.  '-infinity': all are; 'infinity': none yet (right
-- after an update on a ledger with calls).  A constant default: no rewrite.
--
ALTER TABLE @extschema@.ai_upkeep_state
    ADD COLUMN project_from timestamptz NOT NULL DEFAULT '-infinity'
        CHECK (NOT pg_catalog.isfinite(project_from)
               OR EXTRACT(epoch FROM project_from) OPERATOR(pg_catalog.%) 3600::pg_catalog.numeric
                  OPERATOR(pg_catalog.=) 0::pg_catalog.numeric);
UPDATE @extschema@.ai_upkeep_state
   SET project_from = 'infinity'::pg_catalog.timestamptz
 WHERE EXISTS (SELECT FROM @extschema@.ai_call);

--
-- ai_usage_rollup_project: per UTC hour, model, call_type, status and
-- project, the counts and sums of the calls, as ai_usage_rollup has them
-- per user: pending rows appended by the trigger, one folded row per group.
-- Follows from ai_call: not dumped (a restore refills it through the
-- trigger, as it refills the other levels).
--
CREATE TABLE @extschema@.ai_usage_rollup_project (
    bucket                           timestamptz NOT NULL,
    model_id                         bigint  NOT NULL,
    call_type                        text,
    status                           text,
    project                          text,
    pending                          boolean NOT NULL,
    calls                            bigint  NOT NULL,
    input_tokens                     bigint  NOT NULL,
    input_tokens_n                   bigint  NOT NULL,
    reasoning_tokens                 bigint  NOT NULL,
    reasoning_tokens_n               bigint  NOT NULL,
    output_tokens                    bigint  NOT NULL,
    output_tokens_n                  bigint  NOT NULL,
    cache_read_input_tokens          bigint  NOT NULL,
    cache_read_input_tokens_n        bigint  NOT NULL,
    cache_creation_input_tokens      bigint  NOT NULL,
    cache_creation_input_tokens_n    bigint  NOT NULL,
    cost_usd                         numeric NOT NULL,
    cost_usd_n                       bigint  NOT NULL,
    duration_ms                      bigint  NOT NULL,
    duration_ms_n                    bigint  NOT NULL,
    time_to_first_token_ms           bigint  NOT NULL,
    time_to_first_token_ms_n         bigint  NOT NULL,
    cache_creation_1h_input_tokens   bigint  NOT NULL,
    cache_creation_1h_input_tokens_n bigint  NOT NULL,
    input_audio_tokens               bigint  NOT NULL,
    input_audio_tokens_n             bigint  NOT NULL,
    cache_read_audio_tokens          bigint  NOT NULL,
    cache_read_audio_tokens_n        bigint  NOT NULL,
    input_image_tokens               bigint  NOT NULL,
    input_image_tokens_n             bigint  NOT NULL,
    output_audio_tokens              bigint  NOT NULL,
    output_audio_tokens_n            bigint  NOT NULL,
    output_image_tokens              bigint  NOT NULL,
    output_image_tokens_n            bigint  NOT NULL,
    web_search_requests              bigint  NOT NULL,
    web_search_requests_n            bigint  NOT NULL,
    first_call                       timestamptz,
    last_call                        timestamptz,
    latency                          integer[]
);
CREATE UNIQUE INDEX ai_usage_rollup_project_group_key
    ON @extschema@.ai_usage_rollup_project (bucket, model_id, call_type, status, project)
    NULLS NOT DISTINCT WHERE NOT pending;
CREATE INDEX ai_usage_rollup_project_pending_idx
    ON @extschema@.ai_usage_rollup_project (bucket) WHERE pending;
-- A project's hours (the filter); folded rows only, so recording does not
-- pay for it.
CREATE INDEX ai_usage_rollup_project_project_idx
    ON @extschema@.ai_usage_rollup_project (project, bucket) WHERE NOT pending;

--
-- ai_usage_purged_project: the numbers of the calls ai_purge_calls()
-- removed (from 1.8 on), per UTC hour, model, call_type, status and
-- project; kept for good and by pg_dump, as ai_usage_purged (which goes on
-- keeping them per user).
--
CREATE TABLE @extschema@.ai_usage_purged_project (
    bucket                           timestamptz NOT NULL,
    model_id                         bigint  NOT NULL,
    call_type                        text,
    status                           text,
    project                          text,
    calls                            bigint  NOT NULL,
    input_tokens                     bigint  NOT NULL,
    input_tokens_n                   bigint  NOT NULL,
    reasoning_tokens                 bigint  NOT NULL,
    reasoning_tokens_n               bigint  NOT NULL,
    output_tokens                    bigint  NOT NULL,
    output_tokens_n                  bigint  NOT NULL,
    cache_read_input_tokens          bigint  NOT NULL,
    cache_read_input_tokens_n        bigint  NOT NULL,
    cache_creation_input_tokens      bigint  NOT NULL,
    cache_creation_input_tokens_n    bigint  NOT NULL,
    cost_usd                         numeric NOT NULL,
    cost_usd_n                       bigint  NOT NULL,
    duration_ms                      bigint  NOT NULL,
    duration_ms_n                    bigint  NOT NULL,
    time_to_first_token_ms           bigint  NOT NULL,
    time_to_first_token_ms_n         bigint  NOT NULL,
    cache_creation_1h_input_tokens   bigint  NOT NULL,
    cache_creation_1h_input_tokens_n bigint  NOT NULL,
    input_audio_tokens               bigint  NOT NULL,
    input_audio_tokens_n             bigint  NOT NULL,
    cache_read_audio_tokens          bigint  NOT NULL,
    cache_read_audio_tokens_n        bigint  NOT NULL,
    input_image_tokens               bigint  NOT NULL,
    input_image_tokens_n             bigint  NOT NULL,
    output_audio_tokens              bigint  NOT NULL,
    output_audio_tokens_n            bigint  NOT NULL,
    output_image_tokens              bigint  NOT NULL,
    output_image_tokens_n            bigint  NOT NULL,
    web_search_requests              bigint  NOT NULL,
    web_search_requests_n            bigint  NOT NULL,
    first_call                       timestamptz,
    last_call                        timestamptz,
    latency                          integer[]
);
CREATE UNIQUE INDEX ai_usage_purged_project_group_key
    ON @extschema@.ai_usage_purged_project (bucket, model_id, call_type, status, project)
    NULLS NOT DISTINCT;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_usage_purged_project', '');

--
-- ai_usage_purged_project_floor: at most one row.  Every call purged in a
-- UTC hour from complete_from on is in ai_usage_purged_project; the calls
-- purged before the update to 1.8 (whose project was not kept) lie in the
-- hours before it.  No row: every purged call is there.  Dumped (a restore
-- needs it to read the purged numbers it restores rightly).
--
CREATE TABLE @extschema@.ai_usage_purged_project_floor (
    only_row       boolean     NOT NULL DEFAULT true PRIMARY KEY CHECK (only_row),
    complete_from  timestamptz NOT NULL
                   CHECK (EXTRACT(epoch FROM complete_from) OPERATOR(pg_catalog.%) 3600::pg_catalog.numeric
                          OPERATOR(pg_catalog.=) 0::pg_catalog.numeric)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_usage_purged_project_floor', '');
INSERT INTO @extschema@.ai_usage_purged_project_floor (complete_from)
SELECT pg_catalog.max(g.bucket) OPERATOR(pg_catalog.+) '1 hour'::pg_catalog.interval
  FROM @extschema@.ai_usage_purged g
HAVING pg_catalog.max(g.bucket) IS NOT NULL;

REVOKE ALL ON TABLE @extschema@.ai_usage_rollup_project, @extschema@.ai_usage_purged_project,
                    @extschema@.ai_usage_purged_project_floor FROM PUBLIC;
-- Sums over all users: not for tenants (as ai_usage_rollup_total).
ALTER TABLE @extschema@.ai_usage_rollup_project ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_rollup_project_tenant ON @extschema@.ai_usage_rollup_project
    USING ((SELECT NOT @extschema@.ai_tenant_mode()));
ALTER TABLE @extschema@.ai_usage_purged_project ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_purged_project_tenant ON @extschema@.ai_usage_purged_project
    USING ((SELECT NOT @extschema@.ai_tenant_mode()));
-- The drop guard covers the dumped tables (src/guard.c finds them in
-- extconfig); TRUNCATE too, as for ai_usage_purged.
CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_usage_purged_project
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();
CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_usage_purged_project_floor
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();
-- No grant is copied onto the new tables (as 1.6 has it for the daily
-- level): a role granted 1.7's tables one by one gets 1.7's answers, from
-- ai_call (src/stats.c checks), until granted SELECT on them (or
-- aitrack_reader, which has them).

-- The trigger function, writing the project level too (src/rollup.c); a
-- new symbol: make install before the update.
CREATE OR REPLACE FUNCTION @extschema@.ai_rollup_capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_rollup_capture_1_8'
LANGUAGE C SECURITY DEFINER;

--
-- ai_rollup_compact(), as 1.7 has it, then the project level's pending
-- rows.
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
    -- One fold at a time: a lock only the owner and aitrack_admin may take.
    -- 1.7: the state row's lock, where 1.6 locked the table in EXCLUSIVE
    -- mode, which VACUUM and ANALYZE of the table (autovacuum's too) also
    -- conflict with: a fold that met one did nothing and returned 0.  ROW
    -- SHARE first, without waiting, still steps aside for a backfill or a
    -- rebuild (they lock the table in EXCLUSIVE mode); the table lock
    -- remains for a state table without its row.
    BEGIN
        LOCK TABLE @extschema@.ai_upkeep_state IN ROW SHARE MODE NOWAIT;
        PERFORM FROM @extschema@.ai_upkeep_state FOR UPDATE NOWAIT;
        IF NOT FOUND THEN
            LOCK TABLE @extschema@.ai_upkeep_state IN EXCLUSIVE MODE NOWAIT;
        END IF;
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


    -- 1.8: the project level's pending rows, folded the same way into one
    -- row per (hour, model, call_type, status, project).  (The count this
    -- returns stays that of ai_usage_rollup's pending rows.)
    CREATE TEMPORARY TABLE aitrack_compact_project ON COMMIT DROP AS
    WITH pend AS (
        DELETE FROM @extschema@.ai_usage_rollup_project WHERE pending RETURNING *
    )
    SELECT bucket, model_id, call_type, status, project,
           sum(calls) AS calls,
           sum(input_tokens) AS input_tokens, sum(input_tokens_n) AS input_tokens_n, sum(reasoning_tokens) AS reasoning_tokens, sum(reasoning_tokens_n) AS reasoning_tokens_n, sum(output_tokens) AS output_tokens, sum(output_tokens_n) AS output_tokens_n, sum(cache_read_input_tokens) AS cache_read_input_tokens, sum(cache_read_input_tokens_n) AS cache_read_input_tokens_n, sum(cache_creation_input_tokens) AS cache_creation_input_tokens, sum(cache_creation_input_tokens_n) AS cache_creation_input_tokens_n, sum(cost_usd) AS cost_usd, sum(cost_usd_n) AS cost_usd_n, sum(duration_ms) AS duration_ms, sum(duration_ms_n) AS duration_ms_n, sum(time_to_first_token_ms) AS time_to_first_token_ms, sum(time_to_first_token_ms_n) AS time_to_first_token_ms_n, sum(cache_creation_1h_input_tokens) AS cache_creation_1h_input_tokens, sum(cache_creation_1h_input_tokens_n) AS cache_creation_1h_input_tokens_n, sum(input_audio_tokens) AS input_audio_tokens, sum(input_audio_tokens_n) AS input_audio_tokens_n, sum(cache_read_audio_tokens) AS cache_read_audio_tokens, sum(cache_read_audio_tokens_n) AS cache_read_audio_tokens_n, sum(input_image_tokens) AS input_image_tokens, sum(input_image_tokens_n) AS input_image_tokens_n, sum(output_audio_tokens) AS output_audio_tokens, sum(output_audio_tokens_n) AS output_audio_tokens_n, sum(output_image_tokens) AS output_image_tokens, sum(output_image_tokens_n) AS output_image_tokens_n, sum(web_search_requests) AS web_search_requests, sum(web_search_requests_n) AS web_search_requests_n,
           min(first_call) AS first_call, max(last_call) AS last_call,
           @extschema@.ai_hist_merge(latency) AS latency,
           bool_or(calls < 0) AS lost_calls
      FROM pend
     GROUP BY bucket, model_id, call_type, status, project;
    ANALYZE aitrack_compact_project;

    INSERT INTO @extschema@.ai_usage_rollup_project AS r
           (bucket, model_id, call_type, status, project, pending, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT bucket, model_id, call_type, status, project, false, calls,
           input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
           first_call, last_call, latency
      FROM aitrack_compact_project
    ON CONFLICT (bucket, model_id, call_type, status, project) WHERE NOT pending DO UPDATE SET
                   calls = r.calls OPERATOR(pg_catalog.+) excluded.calls,
                   input_tokens = r.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,
                   input_tokens_n = r.input_tokens_n OPERATOR(pg_catalog.+) excluded.input_tokens_n,
                   reasoning_tokens = r.reasoning_tokens OPERATOR(pg_catalog.+) excluded.reasoning_tokens,
                   reasoning_tokens_n = r.reasoning_tokens_n OPERATOR(pg_catalog.+) excluded.reasoning_tokens_n,
                   output_tokens = r.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,
                   output_tokens_n = r.output_tokens_n OPERATOR(pg_catalog.+) excluded.output_tokens_n,
                   cache_read_input_tokens = r.cache_read_input_tokens OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens,
                   cache_read_input_tokens_n = r.cache_read_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens_n,
                   cache_creation_input_tokens = r.cache_creation_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens,
                   cache_creation_input_tokens_n = r.cache_creation_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens_n,
                   cost_usd = r.cost_usd OPERATOR(pg_catalog.+) excluded.cost_usd,
                   cost_usd_n = r.cost_usd_n OPERATOR(pg_catalog.+) excluded.cost_usd_n,
                   duration_ms = r.duration_ms OPERATOR(pg_catalog.+) excluded.duration_ms,
                   duration_ms_n = r.duration_ms_n OPERATOR(pg_catalog.+) excluded.duration_ms_n,
                   time_to_first_token_ms = r.time_to_first_token_ms OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms,
                   time_to_first_token_ms_n = r.time_to_first_token_ms_n OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms_n,
                   cache_creation_1h_input_tokens = r.cache_creation_1h_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens,
                   cache_creation_1h_input_tokens_n = r.cache_creation_1h_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens_n,
                   input_audio_tokens = r.input_audio_tokens OPERATOR(pg_catalog.+) excluded.input_audio_tokens,
                   input_audio_tokens_n = r.input_audio_tokens_n OPERATOR(pg_catalog.+) excluded.input_audio_tokens_n,
                   cache_read_audio_tokens = r.cache_read_audio_tokens OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens,
                   cache_read_audio_tokens_n = r.cache_read_audio_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens_n,
                   input_image_tokens = r.input_image_tokens OPERATOR(pg_catalog.+) excluded.input_image_tokens,
                   input_image_tokens_n = r.input_image_tokens_n OPERATOR(pg_catalog.+) excluded.input_image_tokens_n,
                   output_audio_tokens = r.output_audio_tokens OPERATOR(pg_catalog.+) excluded.output_audio_tokens,
                   output_audio_tokens_n = r.output_audio_tokens_n OPERATOR(pg_catalog.+) excluded.output_audio_tokens_n,
                   output_image_tokens = r.output_image_tokens OPERATOR(pg_catalog.+) excluded.output_image_tokens,
                   output_image_tokens_n = r.output_image_tokens_n OPERATOR(pg_catalog.+) excluded.output_image_tokens_n,
                   web_search_requests = r.web_search_requests OPERATOR(pg_catalog.+) excluded.web_search_requests,
                   web_search_requests_n = r.web_search_requests_n OPERATOR(pg_catalog.+) excluded.web_search_requests_n,
                   first_call = LEAST(r.first_call, excluded.first_call),
                   last_call = GREATEST(r.last_call, excluded.last_call),
                   latency = @extschema@.ai_hist_add(r.latency, excluded.latency);

    -- Groups that lost calls: their first and last call, from what is left.
    IF EXISTS (SELECT FROM aitrack_compact_project WHERE lost_calls) THEN
    UPDATE @extschema@.ai_usage_rollup_project r
       SET first_call = COALESCE(live.first_call, r.first_call),
           last_call = COALESCE(live.last_call, r.last_call)
      FROM aitrack_compact_project k,
           LATERAL (SELECT min(c.created_at) AS first_call, max(c.created_at) AS last_call
                      FROM @extschema@.ai_call c
                     WHERE c.created_at >= k.bucket
                       AND c.created_at < k.bucket + interval '1 hour'
                       AND c.model_id = k.model_id
                       AND c.call_type IS NOT DISTINCT FROM k.call_type
                       AND c.status IS NOT DISTINCT FROM k.status
                       AND c.project IS NOT DISTINCT FROM k.project) AS live
     WHERE k.lost_calls AND NOT r.pending
       AND r.bucket = k.bucket AND r.model_id = k.model_id
       AND r.call_type IS NOT DISTINCT FROM k.call_type
       AND r.status IS NOT DISTINCT FROM k.status
       AND r.project IS NOT DISTINCT FROM k.project;
    END IF;
    DELETE FROM @extschema@.ai_usage_rollup_project WHERE NOT pending AND calls = 0;
    DROP TABLE aitrack_compact_project;

    DROP TABLE aitrack_compact;
    RETURN folded;
END;
$$;

--
-- ai_rollup_rebuild(), as 1.6 has it, recomputing the project level of
-- the days it rebuilds too.
--
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
        ), gone_project AS (
            -- 1.8: the day's rows of the project level, pending and folded ...
            DELETE FROM @extschema@.ai_usage_rollup_project p
             WHERE p.bucket OPERATOR(pg_catalog.>=) day_start
               AND p.bucket OPERATOR(pg_catalog.<) day_end
            RETURNING 1
        ), added_project AS (
            -- ... and its pending rows from the day's calls, in the same
            -- snapshot (the deleted rows are those of the calls it reads).
            INSERT INTO @extschema@.ai_usage_rollup_project
                   (bucket, model_id, call_type, status, project, pending, calls,
                    input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                    first_call, last_call, latency)
            SELECT pg_catalog.date_trunc('hour', c.created_at, 'UTC'), c.model_id, c.call_type, c.status, c.project,
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
               AND (SELECT pg_catalog.count(*) FROM gone_project) OPERATOR(pg_catalog.>=) 0
             GROUP BY 1, 2, 3, 4, 5
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
           AND (SELECT pg_catalog.count(*) FROM added_project) OPERATOR(pg_catalog.>=) 0
         GROUP BY 1, 2, 3, 4, 5;
        COMMIT;
        days := days OPERATOR(pg_catalog.+) 1;
        day_start := day_end;
    END LOOP;
    RAISE NOTICE 'aitrack: rebuilt the rollups of % days; CALL ai_rollup_compact() folds them', days;
END;
$$;

--
-- ai_purge_calls(), as 1.5 has it, keeping the numbers by project too.
--
CREATE OR REPLACE PROCEDURE @extschema@.ai_purge_calls(older_than timestamptz, batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
-- No SET search_path: a procedure with a SET clause cannot COMMIT.  Every
-- name and operator below is qualified instead.
AS $$
DECLARE
    removed bigint;
    total bigint := 0;
BEGIN
    IF older_than IS NULL OR batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'older_than must not be null and batch_size must be positive'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOOP
        -- The deleted calls leave the rollups (through the trigger) and
        -- their numbers move to ai_usage_purged, in the same transaction.
        WITH gone AS (
            DELETE FROM @extschema@.ai_call
             WHERE id OPERATOR(pg_catalog.=) ANY (ARRAY(
                       SELECT c.id FROM @extschema@.ai_call c
                        WHERE c.created_at OPERATOR(pg_catalog.<) older_than
                        ORDER BY c.created_at LIMIT batch_size))
            RETURNING *
        ), summed AS (
            INSERT INTO @extschema@.ai_usage_purged AS p
                   (bucket, model_id, call_type, status, user_id, calls,
                    input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                    first_call, last_call, latency)
            SELECT pg_catalog.date_trunc('hour', g.created_at, 'UTC'), g.model_id, g.call_type,
                   g.status, g.user_id, pg_catalog.count(*),
                   COALESCE(pg_catalog.sum(g.input_tokens), 0), pg_catalog.count(g.input_tokens),
                   COALESCE(pg_catalog.sum(g.reasoning_tokens), 0), pg_catalog.count(g.reasoning_tokens),
                   COALESCE(pg_catalog.sum(g.output_tokens), 0), pg_catalog.count(g.output_tokens),
                   COALESCE(pg_catalog.sum(g.cache_read_input_tokens), 0), pg_catalog.count(g.cache_read_input_tokens),
                   COALESCE(pg_catalog.sum(g.cache_creation_input_tokens), 0), pg_catalog.count(g.cache_creation_input_tokens),
                   COALESCE(pg_catalog.sum(g.cost_usd), 0), pg_catalog.count(g.cost_usd),
                   COALESCE(pg_catalog.sum(g.duration_ms), 0), pg_catalog.count(g.duration_ms),
                   COALESCE(pg_catalog.sum(g.time_to_first_token_ms), 0), pg_catalog.count(g.time_to_first_token_ms),
                   COALESCE(pg_catalog.sum(g.cache_creation_1h_input_tokens), 0), pg_catalog.count(g.cache_creation_1h_input_tokens),
                   COALESCE(pg_catalog.sum(g.input_audio_tokens), 0), pg_catalog.count(g.input_audio_tokens),
                   COALESCE(pg_catalog.sum(g.cache_read_audio_tokens), 0), pg_catalog.count(g.cache_read_audio_tokens),
                   COALESCE(pg_catalog.sum(g.input_image_tokens), 0), pg_catalog.count(g.input_image_tokens),
                   COALESCE(pg_catalog.sum(g.output_audio_tokens), 0), pg_catalog.count(g.output_audio_tokens),
                   COALESCE(pg_catalog.sum(g.output_image_tokens), 0), pg_catalog.count(g.output_image_tokens),
                   COALESCE(pg_catalog.sum(g.web_search_requests), 0), pg_catalog.count(g.web_search_requests),
                   pg_catalog.min(g.created_at), pg_catalog.max(g.created_at),
                   @extschema@.ai_hist_merge(@extschema@.ai_hist_of(g.duration_ms, 1::pg_catalog.int4))
              FROM gone g
             GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (bucket, model_id, call_type, status, user_id) DO UPDATE SET
                   calls = p.calls OPERATOR(pg_catalog.+) excluded.calls,
                   input_tokens = p.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,
                   input_tokens_n = p.input_tokens_n OPERATOR(pg_catalog.+) excluded.input_tokens_n,
                   reasoning_tokens = p.reasoning_tokens OPERATOR(pg_catalog.+) excluded.reasoning_tokens,
                   reasoning_tokens_n = p.reasoning_tokens_n OPERATOR(pg_catalog.+) excluded.reasoning_tokens_n,
                   output_tokens = p.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,
                   output_tokens_n = p.output_tokens_n OPERATOR(pg_catalog.+) excluded.output_tokens_n,
                   cache_read_input_tokens = p.cache_read_input_tokens OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens,
                   cache_read_input_tokens_n = p.cache_read_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens_n,
                   cache_creation_input_tokens = p.cache_creation_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens,
                   cache_creation_input_tokens_n = p.cache_creation_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens_n,
                   cost_usd = p.cost_usd OPERATOR(pg_catalog.+) excluded.cost_usd,
                   cost_usd_n = p.cost_usd_n OPERATOR(pg_catalog.+) excluded.cost_usd_n,
                   duration_ms = p.duration_ms OPERATOR(pg_catalog.+) excluded.duration_ms,
                   duration_ms_n = p.duration_ms_n OPERATOR(pg_catalog.+) excluded.duration_ms_n,
                   time_to_first_token_ms = p.time_to_first_token_ms OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms,
                   time_to_first_token_ms_n = p.time_to_first_token_ms_n OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms_n,
                   cache_creation_1h_input_tokens = p.cache_creation_1h_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens,
                   cache_creation_1h_input_tokens_n = p.cache_creation_1h_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens_n,
                   input_audio_tokens = p.input_audio_tokens OPERATOR(pg_catalog.+) excluded.input_audio_tokens,
                   input_audio_tokens_n = p.input_audio_tokens_n OPERATOR(pg_catalog.+) excluded.input_audio_tokens_n,
                   cache_read_audio_tokens = p.cache_read_audio_tokens OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens,
                   cache_read_audio_tokens_n = p.cache_read_audio_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens_n,
                   input_image_tokens = p.input_image_tokens OPERATOR(pg_catalog.+) excluded.input_image_tokens,
                   input_image_tokens_n = p.input_image_tokens_n OPERATOR(pg_catalog.+) excluded.input_image_tokens_n,
                   output_audio_tokens = p.output_audio_tokens OPERATOR(pg_catalog.+) excluded.output_audio_tokens,
                   output_audio_tokens_n = p.output_audio_tokens_n OPERATOR(pg_catalog.+) excluded.output_audio_tokens_n,
                   output_image_tokens = p.output_image_tokens OPERATOR(pg_catalog.+) excluded.output_image_tokens,
                   output_image_tokens_n = p.output_image_tokens_n OPERATOR(pg_catalog.+) excluded.output_image_tokens_n,
                   web_search_requests = p.web_search_requests OPERATOR(pg_catalog.+) excluded.web_search_requests,
                   web_search_requests_n = p.web_search_requests_n OPERATOR(pg_catalog.+) excluded.web_search_requests_n,
                   first_call = LEAST(p.first_call, excluded.first_call),
                   last_call = GREATEST(p.last_call, excluded.last_call),
                   latency = @extschema@.ai_hist_add(p.latency, excluded.latency)
            RETURNING 1
        ), summed_project AS (
            -- 1.8: and by project (ai_usage_stats() reads these for the
            -- hours from ai_usage_purged_project_floor on).
            INSERT INTO @extschema@.ai_usage_purged_project AS p
                   (bucket, model_id, call_type, status, project, calls,
                    input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                    first_call, last_call, latency)
            SELECT pg_catalog.date_trunc('hour', g.created_at, 'UTC'), g.model_id, g.call_type,
                   g.status, g.project, pg_catalog.count(*),
                   COALESCE(pg_catalog.sum(g.input_tokens), 0), pg_catalog.count(g.input_tokens),
               COALESCE(pg_catalog.sum(g.reasoning_tokens), 0), pg_catalog.count(g.reasoning_tokens),
               COALESCE(pg_catalog.sum(g.output_tokens), 0), pg_catalog.count(g.output_tokens),
               COALESCE(pg_catalog.sum(g.cache_read_input_tokens), 0), pg_catalog.count(g.cache_read_input_tokens),
               COALESCE(pg_catalog.sum(g.cache_creation_input_tokens), 0), pg_catalog.count(g.cache_creation_input_tokens),
               COALESCE(pg_catalog.sum(g.cost_usd), 0), pg_catalog.count(g.cost_usd),
               COALESCE(pg_catalog.sum(g.duration_ms), 0), pg_catalog.count(g.duration_ms),
               COALESCE(pg_catalog.sum(g.time_to_first_token_ms), 0), pg_catalog.count(g.time_to_first_token_ms),
               COALESCE(pg_catalog.sum(g.cache_creation_1h_input_tokens), 0), pg_catalog.count(g.cache_creation_1h_input_tokens),
               COALESCE(pg_catalog.sum(g.input_audio_tokens), 0), pg_catalog.count(g.input_audio_tokens),
               COALESCE(pg_catalog.sum(g.cache_read_audio_tokens), 0), pg_catalog.count(g.cache_read_audio_tokens),
               COALESCE(pg_catalog.sum(g.input_image_tokens), 0), pg_catalog.count(g.input_image_tokens),
               COALESCE(pg_catalog.sum(g.output_audio_tokens), 0), pg_catalog.count(g.output_audio_tokens),
               COALESCE(pg_catalog.sum(g.output_image_tokens), 0), pg_catalog.count(g.output_image_tokens),
               COALESCE(pg_catalog.sum(g.web_search_requests), 0), pg_catalog.count(g.web_search_requests),
                   pg_catalog.min(g.created_at), pg_catalog.max(g.created_at),
                   @extschema@.ai_hist_merge(@extschema@.ai_hist_of(g.duration_ms, 1::pg_catalog.int4))
              FROM gone g
             GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (bucket, model_id, call_type, status, project) DO UPDATE SET
                   calls = p.calls OPERATOR(pg_catalog.+) excluded.calls,
                   input_tokens = p.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,
                   input_tokens_n = p.input_tokens_n OPERATOR(pg_catalog.+) excluded.input_tokens_n,
                   reasoning_tokens = p.reasoning_tokens OPERATOR(pg_catalog.+) excluded.reasoning_tokens,
                   reasoning_tokens_n = p.reasoning_tokens_n OPERATOR(pg_catalog.+) excluded.reasoning_tokens_n,
                   output_tokens = p.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,
                   output_tokens_n = p.output_tokens_n OPERATOR(pg_catalog.+) excluded.output_tokens_n,
                   cache_read_input_tokens = p.cache_read_input_tokens OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens,
                   cache_read_input_tokens_n = p.cache_read_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens_n,
                   cache_creation_input_tokens = p.cache_creation_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens,
                   cache_creation_input_tokens_n = p.cache_creation_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens_n,
                   cost_usd = p.cost_usd OPERATOR(pg_catalog.+) excluded.cost_usd,
                   cost_usd_n = p.cost_usd_n OPERATOR(pg_catalog.+) excluded.cost_usd_n,
                   duration_ms = p.duration_ms OPERATOR(pg_catalog.+) excluded.duration_ms,
                   duration_ms_n = p.duration_ms_n OPERATOR(pg_catalog.+) excluded.duration_ms_n,
                   time_to_first_token_ms = p.time_to_first_token_ms OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms,
                   time_to_first_token_ms_n = p.time_to_first_token_ms_n OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms_n,
                   cache_creation_1h_input_tokens = p.cache_creation_1h_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens,
                   cache_creation_1h_input_tokens_n = p.cache_creation_1h_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens_n,
                   input_audio_tokens = p.input_audio_tokens OPERATOR(pg_catalog.+) excluded.input_audio_tokens,
                   input_audio_tokens_n = p.input_audio_tokens_n OPERATOR(pg_catalog.+) excluded.input_audio_tokens_n,
                   cache_read_audio_tokens = p.cache_read_audio_tokens OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens,
                   cache_read_audio_tokens_n = p.cache_read_audio_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens_n,
                   input_image_tokens = p.input_image_tokens OPERATOR(pg_catalog.+) excluded.input_image_tokens,
                   input_image_tokens_n = p.input_image_tokens_n OPERATOR(pg_catalog.+) excluded.input_image_tokens_n,
                   output_audio_tokens = p.output_audio_tokens OPERATOR(pg_catalog.+) excluded.output_audio_tokens,
                   output_audio_tokens_n = p.output_audio_tokens_n OPERATOR(pg_catalog.+) excluded.output_audio_tokens_n,
                   output_image_tokens = p.output_image_tokens OPERATOR(pg_catalog.+) excluded.output_image_tokens,
                   output_image_tokens_n = p.output_image_tokens_n OPERATOR(pg_catalog.+) excluded.output_image_tokens_n,
                   web_search_requests = p.web_search_requests OPERATOR(pg_catalog.+) excluded.web_search_requests,
                   web_search_requests_n = p.web_search_requests_n OPERATOR(pg_catalog.+) excluded.web_search_requests_n,
                   first_call = LEAST(p.first_call, excluded.first_call),
                   last_call = GREATEST(p.last_call, excluded.last_call),
                   latency = @extschema@.ai_hist_add(p.latency, excluded.latency)
            RETURNING 1
        )
        SELECT pg_catalog.count(*) INTO removed FROM gone;
        total := total OPERATOR(pg_catalog.+) removed;
        COMMIT;
        EXIT WHEN removed OPERATOR(pg_catalog.<) batch_size;
    END LOOP;
    RAISE NOTICE 'aitrack: purged % calls made before %', total, older_than;
END;
$$;

--
-- ai_rollup_backfill_project(): one step of bringing the calls recorded
-- before the update into the project level, newest hours first: the hours
-- [project_from - days, project_from) (after skipping hours without calls)
-- are recounted from ai_call in one statement, so in one snapshot: the
-- rows it deletes there are those of the calls it reads, and a call
-- written meanwhile by a transaction it cannot see adds its pending row
-- after.  Then project_from moves back to their start ('-infinity' once
-- the oldest call is in).  One transaction per call; the upkeep worker
-- calls it until it returns 0.  Returns the number of days recounted.
--
CREATE FUNCTION @extschema@.ai_rollup_backfill_project(days integer DEFAULT 7)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    complete_from timestamptz;
    oldest timestamptz;
    newest timestamptz;
    step_from timestamptz;
BEGIN
    IF days IS NULL OR days < 1 OR days > 366 THEN
        RAISE EXCEPTION 'days must be between 1 and 366'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('Got %s.', COALESCE(days::text, 'NULL'));
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'ai_rollup_backfill_project() must run at READ COMMITTED'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = pg_catalog.format('This transaction is %s: its snapshot may predate the last fold.',
                                             current_setting('transaction_isolation')),
                  HINT = 'Call it in a transaction of its own, at the default isolation level.';
    END IF;
    -- Not beside a fold or a rebuild (they write the same rows).
    LOCK TABLE @extschema@.ai_upkeep_state IN EXCLUSIVE MODE;
    SELECT s.project_from INTO complete_from FROM @extschema@.ai_upkeep_state s;
    IF NOT FOUND OR complete_from = '-infinity'::timestamptz THEN
        RETURN 0;
    END IF;

    -- Hours without calls are complete as they are (the project level
    -- holds there what was written after the update): start after the
    -- newest call before project_from.
    SELECT max(c.created_at) INTO newest FROM @extschema@.ai_call c WHERE c.created_at < complete_from;
    SELECT min(c.created_at) INTO oldest FROM @extschema@.ai_call c;
    IF newest IS NULL THEN
        UPDATE @extschema@.ai_upkeep_state SET project_from = '-infinity'::timestamptz;
        RETURN 0;
    END IF;
    complete_from := LEAST(complete_from, date_trunc('hour', newest, 'UTC') + interval '1 hour');
    step_from := complete_from - make_interval(hours => days * 24);

    WITH gone AS (
        DELETE FROM @extschema@.ai_usage_rollup_project p
         WHERE p.bucket >= step_from AND p.bucket < complete_from
        RETURNING 1
    )
    INSERT INTO @extschema@.ai_usage_rollup_project
           (bucket, model_id, call_type, status, project, pending, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT date_trunc('hour', c.created_at, 'UTC'), c.model_id, c.call_type, c.status, c.project,
           false, count(*),
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
           min(c.created_at), max(c.created_at),
           @extschema@.ai_hist_merge(@extschema@.ai_hist_of(c.duration_ms, 1::pg_catalog.int4))
      FROM @extschema@.ai_call c
     WHERE c.created_at >= step_from AND c.created_at < complete_from
       -- the DELETE first: the folded rows inserted here take the keys of
       -- those it deletes
       AND (SELECT count(*) FROM gone) >= 0
     GROUP BY 1, 2, 3, 4, 5;
    UPDATE @extschema@.ai_upkeep_state
       SET project_from = CASE WHEN step_from <= oldest THEN '-infinity'::timestamptz ELSE step_from END;
    RETURN days;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_rollup_backfill_project(integer) FROM PUBLIC;

-- What default privileges handed out on the new objects at creation (a
-- platform's ALTER DEFAULT PRIVILEGES ... GRANT ALL ON TABLES TO anon) is
-- taken back: only the privileges section's list grants them
-- (ai_intended_privileges(), applied by ai_reset_privileges()).
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT DISTINCT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                             ELSE pg_catalog.quote_ident(a.grantee::pg_catalog.regrole::pg_catalog.text) END AS grantee,
               o.target
          FROM (SELECT 'TABLE ' OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::pg_catalog.text, c.relacl, c.relowner
                  FROM pg_catalog.pg_class c
                 WHERE c.oid OPERATOR(pg_catalog.=) ANY (ARRAY['@extschema@.ai_usage_rollup_project'::pg_catalog.regclass,
                                                               '@extschema@.ai_usage_purged_project'::pg_catalog.regclass,
                                                               '@extschema@.ai_usage_purged_project_floor'::pg_catalog.regclass])
                UNION ALL
                SELECT 'FUNCTION ' OPERATOR(pg_catalog.||) p.oid::pg_catalog.regprocedure::pg_catalog.text, p.proacl, p.proowner
                  FROM pg_catalog.pg_proc p
                 WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.ai_rollup_backfill_project(integer)'::pg_catalog.regprocedure) AS o(target, acl, owner),
               pg_catalog.aclexplode(o.acl) AS a
         WHERE a.grantee OPERATOR(pg_catalog.<>) o.owner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', g.target, g.grantee);
    END LOOP;
END
$$;
-- The group roles' grants on them, as ai_intended_privileges() lists them
-- (the privileges section below lists the same rows; its
-- ai_reset_privileges() keeps these): aitrack_reader reads the three
-- tables; aitrack_admin folds, rebuilds and backfills the project level
-- and purges into ai_usage_purged_project, as it does the other rollups.
GRANT SELECT ON TABLE @extschema@.ai_usage_rollup_project, @extschema@.ai_usage_purged_project,
                      @extschema@.ai_usage_purged_project_floor TO aitrack_reader;
GRANT INSERT, UPDATE, DELETE ON TABLE @extschema@.ai_usage_rollup_project TO aitrack_admin;
GRANT INSERT, UPDATE ON TABLE @extschema@.ai_usage_purged_project TO aitrack_admin;
GRANT EXECUTE ON FUNCTION @extschema@.ai_rollup_backfill_project(integer) TO aitrack_admin;

-- ==== END SECTION: project rollups ====

-- ==== BEGIN SECTION: privileges ====
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
-- project rollups (1.8)
COMMENT ON TABLE @extschema@.ai_usage_rollup_project IS 'aitrack: hourly usage per model, call_type, status and project (1.8); pending rows appended by the rollup trigger, one folded row per group (ai_rollup_compact()); the hours before ai_upkeep_state.project_from are not complete in it yet (ai_rollup_backfill_project())';
COMMENT ON TABLE @extschema@.ai_usage_purged_project IS 'Usage per UTC hour, model, call_type, status and project of the calls that ai_purge_calls() deleted from 1.8 on, kept for good (and by pg_dump) so that ai_usage_stats() counts them by project.';
COMMENT ON TABLE @extschema@.ai_usage_purged_project_floor IS 'At most one row: every call purged in a UTC hour from complete_from on is in ai_usage_purged_project; the calls purged before the update to 1.8, whose project was not kept, lie before it. No row: every purged call is there. Written by the update to 1.8 only; dumped.';
COMMENT ON COLUMN @extschema@.ai_usage_purged_project_floor.only_row IS 'Always true: the table has at most one row.';
COMMENT ON COLUMN @extschema@.ai_usage_purged_project_floor.complete_from IS 'The first UTC hour after the last one with calls purged before 1.8; from it on, ai_usage_stats() counts purged calls by project.';
COMMENT ON COLUMN @extschema@.ai_upkeep_state.project_from IS 'Every UTC hour from this one on is complete in ai_usage_rollup_project (1.8); -infinity: every hour is, infinity: none is yet (right after an update to 1.8 on a ledger with calls). ai_rollup_backfill_project() moves it back.';
COMMENT ON POLICY ai_usage_rollup_project_tenant ON @extschema@.ai_usage_rollup_project IS 'Closes the sums over all users to tenants; sessions that are not a tenant''s are not restricted.';
COMMENT ON POLICY ai_usage_purged_project_tenant ON @extschema@.ai_usage_purged_project IS 'Closes the sums over all users to tenants; sessions that are not a tenant''s are not restricted.';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_usage_purged_project IS 'Before TRUNCATE, refuses to empty ai_usage_purged_project while it holds rows unless aitrack.allow_drop is on.';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_usage_purged_project_floor IS 'Before TRUNCATE, refuses to empty ai_usage_purged_project_floor while it holds its row unless aitrack.allow_drop is on.';
-- The columns of the two project tables: those of ai_usage_rollup and
-- ai_usage_purged, with the project in the place of the user.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT t.tab, a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM (VALUES ('ai_usage_rollup_project', '@extschema@.ai_usage_rollup'::pg_catalog.regclass),
                       ('ai_usage_purged_project', '@extschema@.ai_usage_purged'::pg_catalog.regclass)) AS t(tab, src)
          JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.src
         WHERE a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
           AND a.attname OPERATOR(pg_catalog.<>) 'user_id'
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', col.tab, col.attname, col.comment);
    END LOOP;
END;
$$;
COMMENT ON COLUMN @extschema@.ai_usage_rollup_project.project IS 'The project of the calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_project.pending IS 'True for a row appended by the rollup trigger and not yet folded by ai_rollup_compact(); false for the one folded row of its group.';
COMMENT ON COLUMN @extschema@.ai_usage_purged_project.project IS 'The project of the purged calls; NULL is a group of its own.';
COMMENT ON FUNCTION @extschema@.ai_rollup_backfill_project(integer) IS 'One step of bringing the calls recorded before the update to 1.8 into the project level: recounts the hours [project_from - days, project_from) of ai_call (after skipping hours without calls) into ai_usage_rollup_project in one statement and moves ai_upkeep_state.project_from back, in the caller''s transaction; returns the number of days recounted, 0 once every hour is in. The upkeep worker calls it until it returns 0; ai_usage_stats() is exact before, during and after (it reads the hours not covered yet from ai_call). SECURITY INVOKER (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_rollup_compact() IS 'Folds the pending rows of ai_usage_rollup into one row per group, into ai_usage_rollup_total and (1.6) into the daily level of the days it touched, and (1.8) the pending rows of the project level ai_usage_rollup_project; returns the number of pending ai_usage_rollup rows folded; safe from several sessions at once (all but one return 0). The upkeep worker runs it within seconds of every commit that appended pending rows; call it by hand when aitrack.upkeep_interval is 0. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON PROCEDURE @extschema@.ai_rollup_rebuild(timestamptz, timestamptz) IS 'Recomputes the pending rollup rows of whole UTC days from since to until (default: all) from ai_call, one day per transaction, after writes that skipped the rollup triggers (pg_restore --disable-triggers, ALTER TABLE ... DISABLE TRIGGER), dropping those days'' hourly, daily and (1.8) project-level rows; ai_rollup_compact() (the upkeep worker) then folds them. Purged numbers (ai_usage_purged, ai_usage_purged_project) are not touched. CALL it outside a transaction block; SECURITY INVOKER (aitrack_admin).';
COMMENT ON PROCEDURE @extschema@.ai_purge_calls(timestamptz, integer) IS 'Deletes the calls made before older_than, batch_size at a time with a COMMIT after each batch, and moves their numbers to ai_usage_purged and (1.8) by project to ai_usage_purged_project so that ai_usage_stats() still counts them; CALL it outside a transaction block. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_rollup_capture() IS 'Trigger function of the ai_call_rollup_* triggers: appends pending ai_usage_rollup and (1.8) ai_usage_rollup_project rows for the calls each statement inserted, updated or deleted (and asks the upkeep worker to fold them once the transaction commits), and empties ai_usage_rollup, ai_usage_rollup_total, ai_usage_rollup_daily and ai_usage_rollup_project on TRUNCATE. SECURITY DEFINER: it writes the rollup tables with the rights of the extension''s owner.';
COMMENT ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text) IS 'Calls, errors, token sums (audio, image, 1-hour cache write and web search counts included), cost in USD and latency in milliseconds (mean, p50, p95, p99) of the calls made from since (inclusive) to until (exclusive), grouped by any of model, modelname, call_type, status, user, project, api_key, tag and one hour, day, week or month bucket cut in time zone tz, and filtered by any of modelname, call_type, user_id, project, api_key and tag (the calls carrying it). 1.7 adds project, api_key and tag: a call with several tags counts once under each, calls without a project, key or tag form the group NULL. Questions naming none of them: whole UTC days come from the daily rollup level (when no user is asked for and buckets, if any, are days or longer in a zone that is always UTC), whole hours from the hourly one. 1.8: questions by project (and model, call_type, status, time) but no user, api_key or tag take whole hours from the project level (ai_usage_rollup_project) from ai_upkeep_state.project_from on, the rest from ai_call; other questions naming project, api_key or tag come from ai_call directly. Purged calls count: by project for the hours from ai_usage_purged_project_floor on (1.8, project questions), otherwise in the NULL groups of project, api_key and tag (their attribution is not kept), and not when filtering by one of them. Rows of type ai_usage_stats_row. SECURITY INVOKER: the caller''s privileges and row-level security apply, so it needs SELECT on ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_rollup_daily, ai_usage_purged and ai_upkeep_state (aitrack_reader; for the project level also ai_usage_rollup_project, ai_usage_purged_project and ai_usage_purged_project_floor, else questions by project come from ai_call), and a tenant gets its own user''s calls only.';
-- end project rollups (1.8)
-- ==== END SECTION: comments ====
