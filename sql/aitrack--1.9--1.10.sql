/* aitrack 1.9 -> 1.10: ai_call distributed on a Citus cluster (aitrack_distribute()). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.10'" to load this file. \quit

-- No table changes, no locks on the ledger: new functions, and
-- ai_purge_calls() deleting through one of them.  Nothing here needs
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

    -- Writers wait from here to the end (readers do not): no call may be
    -- recorded between the triggers going and the writers counting.
    LOCK TABLE @extschema@.ai_call IN EXCLUSIVE MODE;

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
-- 1.9's list, and the functions above: readers may ask whether ai_call is
-- distributed, admins may delete calls counted.
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
        -- a distributed ai_call (1.10): whether it is; deleting calls
        -- counted, as the purge does
        ('@extschema@.ai_calls_distributed()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
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
        ('@extschema@.ai_budget_period_end(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE')
      ) AS l(obj, grantee, privilege);
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_intended_privileges() FROM PUBLIC;

SELECT @extschema@.ai_reset_privileges();
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
COMMENT ON FUNCTION @extschema@.ai_calls_distributed() IS 'Whether ai_call is a Citus distributed table (1.10, aitrack_distribute()), from Citus''s catalog; false where Citus is not installed.';
COMMENT ON FUNCTION @extschema@.ai_delete_calls(bigint[]) IS 'Deletes the calls with these ids and returns them (1.10); on a distributed ai_call also counts them out of the rollups, as the rollup trigger does on one server. ai_purge_calls() deletes through it. SECURITY INVOKER: the caller needs DELETE on ai_call (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_call_keep_counted() IS 'Trigger (BEFORE UPDATE, per row) of a distributed ai_call (1.10): refuses an update of a column the rollups or budgets count, which no trigger follows there. Internal.';
COMMENT ON FUNCTION @extschema@.aitrack_distribute(integer) IS 'On the coordinator of a Citus cluster (1.10): makes ai_call a distributed table, hash-distributed by id in shard_count shards (NULL: citus.shard_count), with the calls already recorded; every other table stays a local table of the coordinator. Drops ai_call''s statement triggers (the recording functions, ai_delete_calls() and a model''s deletion count instead), adds ai_call_keep_counted and rewrites the tenant policy without subqueries. Idempotent; returns what it did. For the extension''s owner or a superuser.';
COMMENT ON PROCEDURE @extschema@.ai_purge_calls(timestamptz, integer) IS 'Deletes the calls made before older_than, batch_size at a time with a COMMIT after each batch (through ai_delete_calls(), 1.10), and moves their numbers to ai_usage_purged and (1.8) by project to ai_usage_purged_project so that ai_usage_stats() still counts them; CALL it outside a transaction block. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
-- ==== END SECTION: comments ====
