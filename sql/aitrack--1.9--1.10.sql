/* aitrack 1.9 -> 1.10: ai_call distributed on a Citus cluster (aitrack_distribute()). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.10'" to load this file. \quit

-- No table changes, no locks on the ledger: new functions, ai_purge_calls()
-- deleting through one of them, and ai_rollup_compact() reading ai_call
-- in a way Citus can plan.  Nothing here needs
-- Citus; aitrack_distribute() asks for it when it is called.

-- ==== BEGIN SECTION: a distributed ai_call ====
--
-- aitrack_distribute() makes ai_call a Citus table hash-distributed by id
-- (its primary key; user_id may be NULL and is in no unique key) and
-- leaves every other table a local table of the coordinator: the rollups,
-- purged numbers, budgets and models are small, and the statements that
-- keep them stay single-node statements.  ai_call's statement triggers
-- would run on the shards, on the workers, where the coordinator's tables
-- are not: it drops them, and what writes ai_call counts what it wrote in
-- the same transaction (src/distributed.c): record_ai_call(),
-- record_ai_calls(), ai_delete_calls() (so ai_purge_calls()) and a deleted
-- model's calls.  An UPDATE of what is counted is refused on the shards
-- (ai_call_keep_counted()).

-- Is ai_call a Citus distributed table?  From Citus's catalog.
CREATE FUNCTION @extschema@.ai_calls_distributed()
RETURNS boolean
AS 'MODULE_PATHNAME', 'ai_calls_distributed_1_10'
LANGUAGE C STABLE PARALLEL SAFE;
REVOKE ALL ON FUNCTION @extschema@.ai_calls_distributed() FROM PUBLIC;

-- Delete calls by id, with the caller's rights, and return them; counted
-- out of the rollups on a distributed ai_call (on a local one its trigger
-- counts them).
CREATE FUNCTION @extschema@.ai_delete_calls(ids bigint[])
RETURNS SETOF @extschema@.ai_call
AS 'MODULE_PATHNAME', 'ai_delete_calls_1_10'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.ai_delete_calls(bigint[]) FROM PUBLIC;

-- The trigger of a distributed ai_call's shards: what is counted stays.
CREATE FUNCTION @extschema@.ai_call_keep_counted()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_call_keep_counted_1_10'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.ai_call_keep_counted() FROM PUBLIC;

-- ai_hist_merge() with a state of a real type (dense int8[] counts), which
-- Citus computes on the shards and merges on the coordinator (it does so
-- for a custom aggregate only when the state is no pseudo-type; internal
-- is one).  ai_usage_stats() uses it over a distributed ai_call.
CREATE FUNCTION @extschema@.ai_hist_sum_accum(bigint[], integer[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'ai_hist_sum_accum_1_10'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ai_hist_sum_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'ai_hist_sum_combine_1_10'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ai_hist_sum_final(bigint[])
RETURNS integer[]
AS 'MODULE_PATHNAME', 'ai_hist_sum_final_1_10'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE @extschema@.ai_hist_sum(integer[]) (
    SFUNC = @extschema@.ai_hist_sum_accum,
    STYPE = bigint[],
    FINALFUNC = @extschema@.ai_hist_sum_final,
    COMBINEFUNC = @extschema@.ai_hist_sum_combine,
    PARALLEL = SAFE
);

-- Not SECURITY DEFINER: Citus's create_distributed_table() needs the
-- table's owner, and dropping ai_call's triggers too; so whoever may call
-- it (no one but the owner and superusers: EXECUTE is revoked) does it
-- with their own rights.
CREATE FUNCTION @extschema@.aitrack_distribute(shard_count integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    calls     pg_catalog.regclass := '@extschema@.ai_call'::pg_catalog.regclass;
    shards    bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'citus is not installed in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run CREATE EXTENSION citus in this database on every node, and add the workers with citus_add_node(), first.';
    END IF;
    -- That hook must be in every session from its start.
    IF pg_catalog.current_setting('shared_preload_libraries') !~ '(^|,)\s*"?(\$libdir/)?aitrack"?\s*(,|$)' THEN
        RAISE EXCEPTION 'aitrack must be in shared_preload_libraries to distribute ai_call'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Its hook keeps tenants off the distributed ai_call, from the first statement of every session.',
                  HINT = 'Set shared_preload_libraries = ''citus,aitrack'' on the coordinator, restart it, and call aitrack_distribute() again.';
    END IF;
    IF shard_count IS NOT NULL AND (shard_count OPERATOR(pg_catalog.<) 1 OR shard_count OPERATOR(pg_catalog.>) 64000) THEN
        RAISE EXCEPTION 'shard_count must be between 1 and 64000'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it NULL for Citus''s citus.shard_count (32 by default).';
    END IF;
    -- Writers wait from here to the end (readers do not): no call may be
    -- recorded between the triggers going and the writers counting (they
    -- take this lock before they look whether ai_call is distributed), and
    -- a second aitrack_distribute() waits, then finds it done.
    LOCK TABLE @extschema@.ai_call IN EXCLUSIVE MODE;
    -- (Citus's catalogs are named only below this point: plpgsql resolves
    -- names when a statement first runs.)
    IF @extschema@.ai_calls_distributed() THEN
        RAISE NOTICE 'aitrack: ai_call is already distributed';
        RETURN 'ai_call is already distributed';
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_dist_partition p
                WHERE p.logicalrelid OPERATOR(pg_catalog.<>) calls
                  AND EXISTS (SELECT FROM pg_catalog.pg_depend d
                               WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                                 AND d.objid OPERATOR(pg_catalog.=) p.logicalrelid
                                 AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                                 AND d.refobjid OPERATOR(pg_catalog.=) (SELECT e.oid FROM pg_catalog.pg_extension e
                                                                        WHERE e.extname OPERATOR(pg_catalog.=) 'aitrack')
                                 AND d.deptype OPERATOR(pg_catalog.=) 'e')) THEN
        RAISE EXCEPTION 'another table of aitrack is already a Citus table'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'aitrack_distribute() distributes ai_call and keeps every other table of aitrack a local table of the coordinator; its triggers count into them there.',
                  HINT = 'Distributed by hand? See README, "Scaling out with Citus".';
    END IF;


    -- What the statement triggers counted, the writers count from now on.
    DROP TRIGGER ai_call_rollup_insert ON @extschema@.ai_call;
    DROP TRIGGER ai_call_rollup_update ON @extschema@.ai_call;
    DROP TRIGGER ai_call_rollup_delete ON @extschema@.ai_call;
    DROP TRIGGER ai_call_rollup_truncate ON @extschema@.ai_call;
    DROP TRIGGER ai_call_budget_count ON @extschema@.ai_call;
    -- (the recording functions find or create the model themselves)
    DROP TRIGGER ai_call_model_check_insert ON @extschema@.ai_call;
    DROP TRIGGER ai_call_model_check_update ON @extschema@.ai_call;
    -- Kept, and copied to every shard: ai_call_touch_updated_at and
    -- ai_guard_truncate (each reads only its own row or setting), and:
    CREATE TRIGGER ai_call_keep_counted
        BEFORE UPDATE ON @extschema@.ai_call
        FOR EACH ROW EXECUTE FUNCTION @extschema@.ai_call_keep_counted();
    -- The shards' policy: no tenant sees a call there.  On a worker a
    -- tenant's user cannot be known (ai_tenant_user is the coordinator's,
    -- and what a session can set is no proof), and a tenant that did SET
    -- ROLE arrives as the other role alone; the coordinator refuses a
    -- tenant's statements on ai_call before they reach a worker (the
    -- library's hook: src/tenant.c).  (Citus also refuses subqueries in a
    -- distributed table's policies.)
    ALTER POLICY ai_call_tenant ON @extschema@.ai_call
        USING (NOT @extschema@.ai_tenant_mode());

    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, shard_count => $3)'
      USING calls, 'id'::text, shard_count;
    -- The coordinator's own copy of the rows, no longer read: its space
    -- back.  (The drop guard's TRUNCATE trigger allows it for this.)
    PERFORM pg_catalog.set_config('aitrack.allow_drop', 'on', true);
    EXECUTE 'SELECT pg_catalog.truncate_local_data_after_distributing_table($1)' USING calls;
    PERFORM pg_catalog.set_config('aitrack.allow_drop', 'off', true);

    EXECUTE 'SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard s WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1'
      INTO shards USING calls;
    RETURN pg_catalog.format('ai_call distributed by id in %s shards', shards);
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.aitrack_distribute(integer) FROM PUBLIC;

-- As 1.8, reading what is left of the groups that lost calls from ai_call
-- by a query of its own.
CREATE OR REPLACE FUNCTION @extschema@.ai_rollup_compact()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded bigint;
    complete_from timestamptz;
    lost_hours timestamptz[];
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
    -- 1.10: what is left in those hours is read from ai_call by a query of
    -- its own, which Citus runs on the shards of a distributed ai_call (it
    -- cannot join one with this fold's temporary tables).
    lost_hours := ARRAY(SELECT DISTINCT k.bucket FROM aitrack_compact k WHERE k.lost_calls);
    CREATE TEMPORARY TABLE aitrack_compact_live ON COMMIT DROP AS
    SELECT date_trunc('hour', c.created_at, 'UTC') AS bucket, c.model_id, c.call_type, c.status,
           c.user_id, min(c.created_at) AS first_call, max(c.created_at) AS last_call
      FROM @extschema@.ai_call c
     WHERE c.created_at >= (SELECT min(h) FROM unnest(lost_hours) h)
       AND c.created_at < (SELECT max(h) FROM unnest(lost_hours) h) + interval '1 hour'
       AND date_trunc('hour', c.created_at, 'UTC') = ANY (lost_hours)
     GROUP BY 1, 2, 3, 4, 5;
    UPDATE @extschema@.ai_usage_rollup r
       SET first_call = COALESCE(live.first_call, r.first_call),
           last_call = COALESCE(live.last_call, r.last_call)
      FROM aitrack_compact k
           LEFT JOIN aitrack_compact_live live
                  ON live.bucket = k.bucket AND live.model_id = k.model_id
                 AND live.call_type IS NOT DISTINCT FROM k.call_type
                 AND live.status IS NOT DISTINCT FROM k.status
                 AND live.user_id IS NOT DISTINCT FROM k.user_id
     WHERE k.lost_calls AND NOT r.pending
       AND r.bucket = k.bucket AND r.model_id = k.model_id
       AND r.call_type IS NOT DISTINCT FROM k.call_type
       AND r.status IS NOT DISTINCT FROM k.status
       AND r.user_id IS NOT DISTINCT FROM k.user_id;
    DROP TABLE aitrack_compact_live;
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
    -- 1.10: read apart from ai_call, as above.
    lost_hours := ARRAY(SELECT DISTINCT k.bucket FROM aitrack_compact_project k WHERE k.lost_calls);
    CREATE TEMPORARY TABLE aitrack_compact_project_live ON COMMIT DROP AS
    SELECT date_trunc('hour', c.created_at, 'UTC') AS bucket, c.model_id, c.call_type, c.status,
           c.project, min(c.created_at) AS first_call, max(c.created_at) AS last_call
      FROM @extschema@.ai_call c
     WHERE c.created_at >= (SELECT min(h) FROM unnest(lost_hours) h)
       AND c.created_at < (SELECT max(h) FROM unnest(lost_hours) h) + interval '1 hour'
       AND date_trunc('hour', c.created_at, 'UTC') = ANY (lost_hours)
     GROUP BY 1, 2, 3, 4, 5;
    UPDATE @extschema@.ai_usage_rollup_project r
       SET first_call = COALESCE(live.first_call, r.first_call),
           last_call = COALESCE(live.last_call, r.last_call)
      FROM aitrack_compact_project k
           LEFT JOIN aitrack_compact_project_live live
                  ON live.bucket = k.bucket AND live.model_id = k.model_id
                 AND live.call_type IS NOT DISTINCT FROM k.call_type
                 AND live.status IS NOT DISTINCT FROM k.status
                 AND live.project IS NOT DISTINCT FROM k.project
     WHERE k.lost_calls AND NOT r.pending
       AND r.bucket = k.bucket AND r.model_id = k.model_id
       AND r.call_type IS NOT DISTINCT FROM k.call_type
       AND r.status IS NOT DISTINCT FROM k.status
       AND r.project IS NOT DISTINCT FROM k.project;
    DROP TABLE aitrack_compact_project_live;
    END IF;
    -- (only the hours this fold touched can hold such a group: no scan of
    -- the whole level on every fold)
    DELETE FROM @extschema@.ai_usage_rollup_project r
     WHERE NOT r.pending AND r.calls = 0
       AND r.bucket = ANY (ARRAY(SELECT DISTINCT k.bucket FROM aitrack_compact_project k));

    -- 1.8: the daily project level of every day this fold touched, summed
    -- again from that day's folded hourly rows (so it holds exactly what
    -- they hold; the days before project_from too, which ai_usage_stats()
    -- does not read from it yet: the backfill sums them again).
    CREATE TEMPORARY TABLE aitrack_compact_project_days ON COMMIT DROP AS
    SELECT DISTINCT date_trunc('day', k.bucket, 'UTC') AS day
      FROM aitrack_compact_project k;
    -- (a few rows, known to the planner: it reads those days' hours through
    -- the group key, not the whole level)
    ANALYZE aitrack_compact_project_days;
    DELETE FROM @extschema@.ai_usage_rollup_project_daily d
     USING aitrack_compact_project_days k
     WHERE d.bucket = k.day;
    INSERT INTO @extschema@.ai_usage_rollup_project_daily
           (bucket, model_id, call_type, status, project, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT k.day, p.model_id, p.call_type, p.status, p.project, pg_catalog.sum(p.calls),
           pg_catalog.sum(p.input_tokens), pg_catalog.sum(p.input_tokens_n), pg_catalog.sum(p.reasoning_tokens), pg_catalog.sum(p.reasoning_tokens_n), pg_catalog.sum(p.output_tokens), pg_catalog.sum(p.output_tokens_n), pg_catalog.sum(p.cache_read_input_tokens), pg_catalog.sum(p.cache_read_input_tokens_n), pg_catalog.sum(p.cache_creation_input_tokens), pg_catalog.sum(p.cache_creation_input_tokens_n), pg_catalog.sum(p.cost_usd), pg_catalog.sum(p.cost_usd_n), pg_catalog.sum(p.duration_ms), pg_catalog.sum(p.duration_ms_n), pg_catalog.sum(p.time_to_first_token_ms), pg_catalog.sum(p.time_to_first_token_ms_n), pg_catalog.sum(p.cache_creation_1h_input_tokens), pg_catalog.sum(p.cache_creation_1h_input_tokens_n), pg_catalog.sum(p.input_audio_tokens), pg_catalog.sum(p.input_audio_tokens_n), pg_catalog.sum(p.cache_read_audio_tokens), pg_catalog.sum(p.cache_read_audio_tokens_n), pg_catalog.sum(p.input_image_tokens), pg_catalog.sum(p.input_image_tokens_n), pg_catalog.sum(p.output_audio_tokens), pg_catalog.sum(p.output_audio_tokens_n), pg_catalog.sum(p.output_image_tokens), pg_catalog.sum(p.output_image_tokens_n), pg_catalog.sum(p.web_search_requests), pg_catalog.sum(p.web_search_requests_n),
           pg_catalog.min(p.first_call), pg_catalog.max(p.last_call), @extschema@.ai_hist_merge(p.latency)
      FROM aitrack_compact_project_days k
      JOIN @extschema@.ai_usage_rollup_project p
        ON NOT p.pending
       AND p.bucket >= k.day
       AND p.bucket < CASE WHEN k.day < '294276-12-31 00:00+00'::timestamptz
                           THEN k.day + interval '24 hours' ELSE 'infinity'::timestamptz END
     GROUP BY k.day, p.model_id, p.call_type, p.status, p.project;
    DROP TABLE aitrack_compact_project_days;
    DROP TABLE aitrack_compact_project;

    DROP TABLE aitrack_compact;
    RETURN folded;
END;
$$;

-- As 1.8, with each call's scope value found in a way Citus can plan (a
-- new budget counts its period through it: ai_budget_changed()).
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_recount_current(budget bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b @extschema@.ai_budget;
    since timestamptz;
    until timestamptz;
BEGIN
    SELECT * INTO b FROM @extschema@.ai_budget x WHERE x.id OPERATOR(pg_catalog.=) budget;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    since := @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now());
    until := @extschema@.ai_budget_period_end(b.period, b.time_zone, since);
    DELETE FROM @extschema@.ai_budget_spend s
     WHERE s.budget_id OPERATOR(pg_catalog.=) b.id AND s.period_start OPERATOR(pg_catalog.=) since;
    IF NOT b.enabled THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.ai_budget_spend AS s
           (budget_id, scope_value, period_start, spent_usd, calls, unpriced_calls, alerted_pct, reserved_usd)
    SELECT b.id, COALESCE(g.scope_value, r.scope_value), since,
           COALESCE(g.cost, 0), COALESCE(g.calls, 0), COALESCE(g.unpriced, 0),
           ARRAY(SELECT t FROM pg_catalog.unnest(b.alert_at_pct) AS t
                  WHERE COALESCE(g.cost, 0) OPERATOR(pg_catalog.>=) (b.limit_usd OPERATOR(pg_catalog.*) t OPERATOR(pg_catalog./) 100)
                  ORDER BY t),
           COALESCE(r.held, 0)
      FROM (SELECT v.val AS scope_value,
                   COALESCE(pg_catalog.sum(v.cost_usd), 0) AS cost,
                   pg_catalog.count(*) AS calls,
                   pg_catalog.count(*) FILTER (WHERE v.cost_usd IS NULL) AS unpriced
              -- 1.10: each call's value of the scope (a call with tags
              -- once under each), without a subquery lacking FROM under
              -- UNION, which Citus cannot plan on a distributed ai_call
              FROM (SELECT c.cost_usd,
                           CASE b.scope WHEN 'all' THEN ''
                                        WHEN 'user' THEN c.user_id::pg_catalog.text
                                        WHEN 'project' THEN c.project
                                        WHEN 'api_key' THEN c.api_key
                                        WHEN 'model' THEN mo.modelname END AS val
                      FROM @extschema@.ai_call c
                      LEFT JOIN @extschema@.ai_model mo ON mo.id OPERATOR(pg_catalog.=) c.model_id
                     WHERE b.scope OPERATOR(pg_catalog.<>) 'tag'
                       AND c.created_at OPERATOR(pg_catalog.>=) since
                       AND c.created_at OPERATOR(pg_catalog.<) until
                    UNION ALL
                    SELECT c.cost_usd, t.t
                      FROM @extschema@.ai_call c
                     CROSS JOIN LATERAL (SELECT DISTINCT u AS t FROM pg_catalog.unnest(c.tags) AS u) t
                     WHERE b.scope OPERATOR(pg_catalog.=) 'tag'
                       AND c.created_at OPERATOR(pg_catalog.>=) since
                       AND c.created_at OPERATOR(pg_catalog.<) until) v
             WHERE v.val IS NOT NULL
               AND (b.scope_value IS NULL OR b.scope_value OPERATOR(pg_catalog.=) v.val)
             GROUP BY 1) g
      FULL JOIN (SELECT h.v AS scope_value, pg_catalog.sum(x.amount_usd) AS held
                   FROM @extschema@.ai_budget_reservation x
                  CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(x.hold_budget_ids), pg_catalog.unnest(x.hold_scope_values),
                                                       pg_catalog.unnest(x.hold_period_starts)) AS h(b, v, p)
                  WHERE h.b OPERATOR(pg_catalog.=) b.id AND h.p OPERATOR(pg_catalog.=) since
                  GROUP BY 1) r
        ON r.scope_value OPERATOR(pg_catalog.=) g.scope_value;
END;
$$;

-- As 1.5, refused on a distributed ai_call.
CREATE OR REPLACE FUNCTION @extschema@.ai_reprice(
    since    timestamptz,
    until    timestamptz,
    dry_run  boolean DEFAULT true)
RETURNS TABLE (calls_checked bigint, calls_changed bigint, newly_priced bigint,
               newly_unpriced bigint, cost_before_usd numeric, cost_after_usd numeric,
               change_usd numeric)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    message  text;
    details  text;
BEGIN
    -- 1.10: not on a distributed ai_call.  The prices would be read on the
    -- workers, which do not hold ai_model_price (every call would seem
    -- unpriced), and a changed cost could not be counted there.
    IF @extschema@.ai_calls_distributed() THEN
        RAISE EXCEPTION 'ai_reprice() does not run on a distributed ai_call yet'
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = 'The prices are the coordinator''s, and the rollups could not follow a changed cost on the shards.',
                  HINT = 'See README, "Scaling out with Citus".';
    END IF;
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'dry_run must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true to see what would change, false to change it.';
    END IF;

    BEGIN
    RETURN QUERY
    WITH repriced AS MATERIALIZED (
        SELECT c.id, c.cost_usd AS old_cost, c.cost_source AS old_source,
               @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at),
                                   billed) AS new_cost
          FROM @extschema@.ai_call c
          JOIN @extschema@.ai_model m ON m.id = c.model_id
          -- The billed columns alone (see ai_cost above).
          CROSS JOIN LATERAL (SELECT c.input_tokens, c.output_tokens, c.cache_read_input_tokens,
                                     c.cache_creation_input_tokens, c.cache_creation_1h_input_tokens,
                                     c.reasoning_tokens, c.input_audio_tokens, c.cache_read_audio_tokens,
                                     c.input_image_tokens, c.output_audio_tokens, c.output_image_tokens,
                                     c.web_search_requests, c.service_tier,
                                     c.web_search_context_size) AS billed
         WHERE (ai_reprice.since IS NULL OR c.created_at >= ai_reprice.since)
           AND (ai_reprice.until IS NULL OR c.created_at < ai_reprice.until)
           AND (c.cost_source IN ('computed', 'unknown')
                OR (c.cost_source IS NULL AND c.cost_usd IS NULL))
    ), written AS (
        -- A data-modifying WITH runs whether or not it is read.
        UPDATE @extschema@.ai_call c
           SET cost_usd = r.new_cost,
               cost_source = CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END
          FROM repriced r
         WHERE NOT ai_reprice.dry_run
           AND c.id = r.id
           AND (r.new_cost IS DISTINCT FROM r.old_cost
                OR r.old_source IS DISTINCT FROM
                   CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END)
        RETURNING c.id
    )
    SELECT pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.new_cost IS DISTINCT FROM r.old_cost
                                       OR r.old_source IS DISTINCT FROM
                                          CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END),
           pg_catalog.count(*) FILTER (WHERE r.old_cost IS NULL AND r.new_cost IS NOT NULL),
           pg_catalog.count(*) FILTER (WHERE r.old_cost IS NOT NULL AND r.new_cost IS NULL),
           pg_catalog.trim_scale(COALESCE(pg_catalog.sum(r.old_cost), 0)),
           pg_catalog.trim_scale(COALESCE(pg_catalog.sum(r.new_cost), 0)),
           pg_catalog.trim_scale(COALESCE(pg_catalog.sum(r.new_cost), 0)
                                 - COALESCE(pg_catalog.sum(r.old_cost), 0))
      FROM repriced r;
    EXCEPTION WHEN check_violation THEN
        -- A cost above 1e9 USD (ai_call_cost_usd_range), from absurd counts
        -- or rates: said plainly, and nothing is changed.
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
        -- Which call (the error path only: the work of the dry run again).
        SELECT pg_catalog.format('Call %s would cost %s USD (%s).', c.id,
                   @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at), billed),
                   message)
          INTO details
          FROM @extschema@.ai_call c
          JOIN @extschema@.ai_model m ON m.id = c.model_id
          CROSS JOIN LATERAL (SELECT c.input_tokens, c.output_tokens, c.cache_read_input_tokens,
                                     c.cache_creation_input_tokens, c.cache_creation_1h_input_tokens,
                                     c.reasoning_tokens, c.input_audio_tokens, c.cache_read_audio_tokens,
                                     c.input_image_tokens, c.output_audio_tokens, c.output_image_tokens,
                                     c.web_search_requests, c.service_tier,
                                     c.web_search_context_size) AS billed
         WHERE (ai_reprice.since IS NULL OR c.created_at >= ai_reprice.since)
           AND (ai_reprice.until IS NULL OR c.created_at < ai_reprice.until)
           AND (c.cost_source IN ('computed', 'unknown')
                OR (c.cost_source IS NULL AND c.cost_usd IS NULL))
           AND @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at), billed)
               > 1000000000::numeric
         ORDER BY c.id
         LIMIT 1;
        RAISE EXCEPTION 'a repriced cost is out of range'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = COALESCE(details, message),
                  HINT = 'A call''s cost must be at most 1e9 USD: check the counts of that call and the price in force at its time; no call was repriced.';
    END;
END;
$$;

-- As 1.8, deleting through ai_delete_calls().
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
        -- The deleted calls leave the rollups (through the trigger, or on a
        -- distributed ai_call through ai_delete_calls() itself) and their
        -- numbers move to ai_usage_purged, in the same transaction.
        WITH gone AS (
            SELECT * FROM @extschema@.ai_delete_calls(ARRAY(
                       SELECT c.id FROM @extschema@.ai_call c
                        WHERE c.created_at OPERATOR(pg_catalog.<) older_than
                        ORDER BY c.created_at LIMIT batch_size))
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
-- ==== END SECTION: a distributed ai_call ====

-- ==== BEGIN SECTION: privileges ====
-- 1.9's list, and the functions above: admins may delete calls counted,
-- anyone may ask whether ai_call is distributed.
CREATE OR REPLACE FUNCTION @extschema@.ai_intended_privileges()
RETURNS TABLE (obj oid, grantee text, privilege text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.obj, l.grantee, l.privilege
      FROM (VALUES
        -- recording
        ('@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_calls(jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        -- spend control (1.7): asking, reserving, settling
        ('@extschema@.ai_budget_check(double precision, uuid, text, text, text[], text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.ai_budget_reserve(double precision, uuid, text, text, text[], text, interval)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.ai_budget_settle(bigint, bigint)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.ai_budget_release(bigint)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
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
        ('@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_usage_stats_1_6(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_price_at(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_settings()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_spend'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_reservation'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_expired_held(bigint, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_budget_memory_held(bigint, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        -- the project level (1.8)
        ('@extschema@.ai_usage_rollup_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup_project_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_purged_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_purged_project_floor'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_status'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_check(double precision, uuid, text, text, text[], text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_call_otel'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_otel_metrics(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
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
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_budget_id_seq'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'USAGE'),
        ('@extschema@.ai_budget_reservation'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'SELECT'),
        ('@extschema@.ai_budget_reservation'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_budget_clear_expired()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_budget_recount()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_budget_memory_reservations()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        -- the project level (1.8): its backfill, and what the fold, the
        -- rebuild and the purge write
        ('@extschema@.ai_rollup_backfill_project(integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_usage_rollup_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_rollup_project_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup_project_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup_project_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_purged_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_purged_project'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        -- a distributed ai_call (1.10): deleting calls counted, as the
        -- purge does
        ('@extschema@.ai_delete_calls(bigint[])'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
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
        ('@extschema@.ai_price_from_litellm(text, jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_budget_period_start(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_budget_period_end(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        -- (1.10: what the SECURITY INVOKER functions ask, whoever calls them,
        -- and the histograms over a distributed ai_call)
        ('@extschema@.ai_calls_distributed()'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_sum_accum(bigint[], integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_sum_combine(bigint[], bigint[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_sum_final(bigint[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_sum(integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE')
      ) AS l(obj, grantee, privilege);
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_intended_privileges() FROM PUBLIC;

SELECT @extschema@.ai_reset_privileges();
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
COMMENT ON FUNCTION @extschema@.ai_calls_distributed() IS 'Whether ai_call is a Citus distributed table (1.10, aitrack_distribute()), from Citus''s catalog; false where Citus is not installed.';
COMMENT ON FUNCTION @extschema@.ai_delete_calls(bigint[]) IS 'Deletes the calls with these ids and returns them (1.10); on a distributed ai_call also counts them out of the rollups, as the rollup trigger does on one server. ai_purge_calls() deletes through it. SECURITY INVOKER: the caller needs DELETE on ai_call (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_call_keep_counted() IS 'Trigger (BEFORE UPDATE, per row) of a distributed ai_call (1.10): refuses an update of a column the rollups or budgets count, which no trigger follows there. Internal.';
COMMENT ON AGGREGATE @extschema@.ai_hist_sum(integer[]) IS 'Merges latency histograms as ai_hist_merge() does (1.10), with a state Citus can compute on the shards and merge on the coordinator (dense int8[] counts); the stats use it over a distributed ai_call. Executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_hist_sum_accum(bigint[], integer[]) IS 'State transition function of the aggregate ai_hist_sum(integer[]) (1.10); not for direct calls.';
COMMENT ON FUNCTION @extschema@.ai_hist_sum_combine(bigint[], bigint[]) IS 'Combine function of the aggregate ai_hist_sum(integer[]) (1.10); not for direct calls.';
COMMENT ON FUNCTION @extschema@.ai_hist_sum_final(bigint[]) IS 'Final function of the aggregate ai_hist_sum(integer[]) (1.10): the merged histogram as int4[] of (bucket, count) pairs; not for direct calls.';
COMMENT ON FUNCTION @extschema@.aitrack_distribute(integer) IS 'On the coordinator of a Citus cluster (1.10): makes ai_call a distributed table, hash-distributed by id in shard_count shards (NULL: citus.shard_count), with the calls already recorded; every other table stays a local table of the coordinator. Drops ai_call''s statement triggers (the recording functions, ai_delete_calls() and a model''s deletion count instead), adds ai_call_keep_counted and rewrites the tenant policy without subqueries. Idempotent; returns what it did. For the extension''s owner or a superuser.';
COMMENT ON PROCEDURE @extschema@.ai_purge_calls(timestamptz, integer) IS 'Deletes the calls made before older_than, batch_size at a time with a COMMIT after each batch (through ai_delete_calls(), 1.10), and moves their numbers to ai_usage_purged and (1.8) by project to ai_usage_purged_project so that ai_usage_stats() still counts them; CALL it outside a transaction block. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
-- ==== END SECTION: comments ====
