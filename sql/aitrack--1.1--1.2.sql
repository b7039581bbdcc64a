/* aitrack 1.1 -> 1.2: rollups for fast stats, batch ingest, retention. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.2'" to load this file. \quit

--
-- Latency histograms: int4[] of (bucket, count) pairs; see src/hist.c.
--
CREATE FUNCTION @extschema@.ai_hist_of(duration_ms integer, weight integer)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'ai_hist_of_1_2'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.ai_hist_add(a integer[], b integer[])
RETURNS integer[]
AS 'MODULE_PATHNAME', 'ai_hist_add_1_2'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.ai_hist_percentile(hist integer[], fraction double precision)
RETURNS double precision
AS 'MODULE_PATHNAME', 'ai_hist_percentile_1_2'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.ai_hist_accum(internal, integer[])
RETURNS internal
AS 'MODULE_PATHNAME', 'ai_hist_accum_1_2'
LANGUAGE C IMMUTABLE;

CREATE FUNCTION @extschema@.ai_hist_final(internal)
RETURNS integer[]
AS 'MODULE_PATHNAME', 'ai_hist_final_1_2'
LANGUAGE C IMMUTABLE;

CREATE AGGREGATE @extschema@.ai_hist_merge(integer[]) (
    SFUNC = @extschema@.ai_hist_accum,
    STYPE = internal,
    FINALFUNC = @extschema@.ai_hist_final
);

--
-- ai_usage_rollup: per UTC hour, model, call_type, status and user, the
-- exact counts and sums of the calls and their latency histogram.  Each
-- statement that writes ai_call appends one "pending" row per group it
-- touched (negative for the calls it removed), in its own transaction, so a
-- call counts in the stats exactly when it commits and never when it rolls
-- back, and writers never update a shared row.  ai_rollup_compact() folds
-- the pending rows into one row per group.
--
-- Sums sit beside the count of the values they add up (the *_n columns), so
-- that a sum over nothing but NULLs stays NULL, as SQL's sum() has it.
--
CREATE TABLE @extschema@.ai_usage_rollup (
    bucket                         timestamptz NOT NULL,
    model_id                       bigint      NOT NULL,
    call_type                      text,
    status                         text,
    user_id                        uuid,
    pending                        boolean     NOT NULL,
    calls                          bigint      NOT NULL,
    input_tokens                   bigint      NOT NULL,
    input_tokens_n                 bigint      NOT NULL,
    reasoning_tokens               bigint      NOT NULL,
    reasoning_tokens_n             bigint      NOT NULL,
    output_tokens                  bigint      NOT NULL,
    output_tokens_n                bigint      NOT NULL,
    cache_read_input_tokens        bigint      NOT NULL,
    cache_read_input_tokens_n      bigint      NOT NULL,
    cache_creation_input_tokens    bigint      NOT NULL,
    cache_creation_input_tokens_n  bigint      NOT NULL,
    cost_usd                       numeric     NOT NULL,
    cost_usd_n                     bigint      NOT NULL,
    duration_ms                    bigint      NOT NULL,
    duration_ms_n                  bigint      NOT NULL,
    time_to_first_token_ms         bigint      NOT NULL,
    time_to_first_token_ms_n       bigint      NOT NULL,
    first_call                     timestamptz,
    last_call                      timestamptz,
    latency                        integer[]
);
COMMENT ON TABLE @extschema@.ai_usage_rollup IS 'aitrack: hourly usage per model, call_type, status and user; maintained by triggers on ai_call';

-- One compacted row per group; pending rows queue up beside it.
CREATE UNIQUE INDEX ai_usage_rollup_group_key
    ON @extschema@.ai_usage_rollup (bucket, model_id, call_type, status, user_id)
    NULLS NOT DISTINCT WHERE NOT pending;
CREATE INDEX ai_usage_rollup_pending_idx
    ON @extschema@.ai_usage_rollup (bucket) WHERE pending;
CREATE INDEX ai_usage_rollup_user_idx
    ON @extschema@.ai_usage_rollup (user_id, bucket);

-- The same without the user: what most questions ask, many times smaller.
-- Only compacted rows live here; the pending rows above are added at read.
CREATE TABLE @extschema@.ai_usage_rollup_total (LIKE @extschema@.ai_usage_rollup);
ALTER TABLE @extschema@.ai_usage_rollup_total DROP COLUMN user_id, DROP COLUMN pending;
COMMENT ON TABLE @extschema@.ai_usage_rollup_total IS 'aitrack: hourly usage per model, call_type and status (compacted rows of ai_usage_rollup summed over users)';
CREATE UNIQUE INDEX ai_usage_rollup_total_group_key
    ON @extschema@.ai_usage_rollup_total (bucket, model_id, call_type, status)
    NULLS NOT DISTINCT;

-- The numbers of the calls that ai_purge_calls() deleted: one row per
-- group, kept for good (and by pg_dump), added to the rollups by
-- ai_usage_stats().  The two rollup tables above are not dumped: they
-- follow from ai_call, and a restore refills them through the triggers.
CREATE TABLE @extschema@.ai_usage_purged (LIKE @extschema@.ai_usage_rollup);
ALTER TABLE @extschema@.ai_usage_purged DROP COLUMN pending;
COMMENT ON TABLE @extschema@.ai_usage_purged IS 'aitrack: hourly usage of the calls deleted by ai_purge_calls()';
CREATE UNIQUE INDEX ai_usage_purged_group_key
    ON @extschema@.ai_usage_purged (bucket, model_id, call_type, status, user_id)
    NULLS NOT DISTINCT;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_usage_purged', '');

REVOKE ALL ON TABLE @extschema@.ai_usage_rollup, @extschema@.ai_usage_rollup_total,
                    @extschema@.ai_usage_purged FROM PUBLIC;

-- Whoever may read ai_call may read its rollups (ai_usage_stats() runs with
-- the caller's rights and now reads them).  The ACL is written directly: a
-- GRANT in an extension script becomes an initial privilege, which pg_dump
-- leaves out.
UPDATE pg_catalog.pg_class t
   SET relacl = t.relacl OPERATOR(pg_catalog.||) ARRAY(
           SELECT pg_catalog.makeaclitem(a.grantee, a.grantor, 'SELECT', a.is_grantable)
             FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) AS a
            WHERE c.oid OPERATOR(pg_catalog.=) '@extschema@.ai_call'::pg_catalog.regclass
              AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT'
              AND a.grantee OPERATOR(pg_catalog.<>) c.relowner)
 WHERE t.oid OPERATOR(pg_catalog.=) ANY (ARRAY['@extschema@.ai_usage_rollup'::pg_catalog.regclass,
                                               '@extschema@.ai_usage_rollup_total'::pg_catalog.regclass,
                                               '@extschema@.ai_usage_purged'::pg_catalog.regclass]);

--
-- The triggers that append the pending rows.  Statement-level, with
-- transition tables: one insert per statement, however many calls it wrote.
--
CREATE FUNCTION @extschema@.ai_rollup_capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_rollup_capture_1_2'
LANGUAGE C SECURITY DEFINER;

CREATE TRIGGER ai_call_rollup_insert
    AFTER INSERT ON @extschema@.ai_call
    REFERENCING NEW TABLE AS aitrack_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_rollup_capture();
CREATE TRIGGER ai_call_rollup_update
    AFTER UPDATE ON @extschema@.ai_call
    REFERENCING OLD TABLE AS aitrack_old NEW TABLE AS aitrack_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_rollup_capture();
CREATE TRIGGER ai_call_rollup_delete
    AFTER DELETE ON @extschema@.ai_call
    REFERENCING OLD TABLE AS aitrack_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_rollup_capture();
CREATE TRIGGER ai_call_rollup_truncate
    AFTER TRUNCATE ON @extschema@.ai_call
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_rollup_capture();

--
-- ai_rollup_compact(): fold the pending rows into one row per group, in
-- both rollup tables.  Safe to run at any time and from several sessions
-- (one works, the others return at once); run it every minute or so, from
-- cron or pg_cron.  Stats are correct without it, only slower as pending
-- rows pile up.  Returns the number of pending rows folded.
--
-- first_call and last_call cannot be undone by a negative row: for the
-- groups that lost calls, compaction looks them up again in ai_call (a
-- group whose calls were all purged keeps what it had).
--
CREATE FUNCTION @extschema@.ai_rollup_compact()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('aitrack.ai_rollup_compact')) THEN
        RETURN 0;
    END IF;

    CREATE TEMPORARY TABLE aitrack_compact ON COMMIT DROP AS
    WITH pend AS (
        DELETE FROM @extschema@.ai_usage_rollup WHERE pending RETURNING *
    )
    SELECT bucket, model_id, call_type, status, user_id,
           sum(calls) AS calls,
           sum(input_tokens) AS input_tokens, sum(input_tokens_n) AS input_tokens_n,
           sum(reasoning_tokens) AS reasoning_tokens, sum(reasoning_tokens_n) AS reasoning_tokens_n,
           sum(output_tokens) AS output_tokens, sum(output_tokens_n) AS output_tokens_n,
           sum(cache_read_input_tokens) AS cache_read_input_tokens,
           sum(cache_read_input_tokens_n) AS cache_read_input_tokens_n,
           sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
           sum(cache_creation_input_tokens_n) AS cache_creation_input_tokens_n,
           sum(cost_usd) AS cost_usd, sum(cost_usd_n) AS cost_usd_n,
           sum(duration_ms) AS duration_ms, sum(duration_ms_n) AS duration_ms_n,
           sum(time_to_first_token_ms) AS time_to_first_token_ms,
           sum(time_to_first_token_ms_n) AS time_to_first_token_ms_n,
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
    SELECT bucket, model_id, call_type, status, user_id, false, calls,
           input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n,
           output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n,
           cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n,
           duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n,
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
           first_call = LEAST(r.first_call, excluded.first_call),
           last_call = GREATEST(r.last_call, excluded.last_call),
           latency = @extschema@.ai_hist_add(r.latency, excluded.latency);

    INSERT INTO @extschema@.ai_usage_rollup_total AS r
    SELECT bucket, model_id, call_type, status, sum(calls),
           sum(input_tokens), sum(input_tokens_n), sum(reasoning_tokens), sum(reasoning_tokens_n),
           sum(output_tokens), sum(output_tokens_n), sum(cache_read_input_tokens),
           sum(cache_read_input_tokens_n), sum(cache_creation_input_tokens),
           sum(cache_creation_input_tokens_n), sum(cost_usd), sum(cost_usd_n),
           sum(duration_ms), sum(duration_ms_n), sum(time_to_first_token_ms),
           sum(time_to_first_token_ms_n), min(first_call), max(last_call),
           @extschema@.ai_hist_merge(latency)
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

    DROP TABLE aitrack_compact;
    RETURN folded;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_rollup_compact() FROM PUBLIC;

-- The calls already recorded, rolled up.
INSERT INTO @extschema@.ai_usage_rollup
SELECT pg_catalog.date_trunc('hour', created_at, 'UTC'), model_id, call_type, status, user_id,
       true, count(*),
       COALESCE(sum(input_tokens), 0), count(input_tokens),
       COALESCE(sum(reasoning_tokens), 0), count(reasoning_tokens),
       COALESCE(sum(output_tokens), 0), count(output_tokens),
       COALESCE(sum(cache_read_input_tokens), 0), count(cache_read_input_tokens),
       COALESCE(sum(cache_creation_input_tokens), 0), count(cache_creation_input_tokens),
       COALESCE(sum(cost_usd), 0), count(cost_usd),
       COALESCE(sum(duration_ms), 0), count(duration_ms),
       COALESCE(sum(time_to_first_token_ms), 0), count(time_to_first_token_ms),
       min(created_at), max(created_at),
       @extschema@.ai_hist_merge(@extschema@.ai_hist_of(duration_ms, 1))
  FROM @extschema@.ai_call
 GROUP BY 1, 2, 3, 4, 5;
SELECT @extschema@.ai_rollup_compact();

--
-- Retention.  Both run in batches, each committed on its own (so call them
-- with CALL, outside a transaction block), and neither takes a lock that
-- blocks record_ai_call.  The rollups keep the numbers of purged calls:
-- ai_usage_stats() still reports those periods.
--
-- ai_purge_calls(): delete the calls made before older_than.
CREATE PROCEDURE @extschema@.ai_purge_calls(older_than timestamptz, batch_size integer DEFAULT 10000)
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
                   pg_catalog.min(g.created_at), pg_catalog.max(g.created_at),
                   @extschema@.ai_hist_merge(@extschema@.ai_hist_of(g.duration_ms, 1))
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
REVOKE ALL ON PROCEDURE @extschema@.ai_purge_calls(timestamptz, integer) FROM PUBLIC;

-- ai_purge_content(): keep the numbers, drop the prompt and response
-- (prompt becomes '', response JSON null) of calls made before older_than.
CREATE PROCEDURE @extschema@.ai_purge_content(older_than timestamptz, batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
-- No SET search_path, as ai_purge_calls above.
AS $$
DECLARE
    cleared bigint;
    total bigint := 0;
BEGIN
    IF older_than IS NULL OR batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'older_than must not be null and batch_size must be positive'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOOP
        -- No number changes: the rollup rows the trigger adds cancel out.
        UPDATE @extschema@.ai_call
           SET prompt = '', response = 'null'::pg_catalog.jsonb
         WHERE id OPERATOR(pg_catalog.=) ANY (ARRAY(
                   SELECT c.id FROM @extschema@.ai_call c
                    WHERE c.created_at OPERATOR(pg_catalog.<) older_than
                      AND (c.prompt OPERATOR(pg_catalog.<>) ''
                           OR c.response OPERATOR(pg_catalog.<>) 'null'::pg_catalog.jsonb)
                    ORDER BY c.created_at LIMIT batch_size));
        GET DIAGNOSTICS cleared = ROW_COUNT;
        total := total OPERATOR(pg_catalog.+) cleared;
        COMMIT;
        EXIT WHEN cleared OPERATOR(pg_catalog.<) batch_size;
    END LOOP;
    RAISE NOTICE 'aitrack: cleared the content of % calls made before %', total, older_than;
END;
$$;
REVOKE ALL ON PROCEDURE @extschema@.ai_purge_content(timestamptz, integer) FROM PUBLIC;

--
-- record_ai_calls(): many calls in one statement, all or nothing.
--
CREATE FUNCTION @extschema@.record_ai_calls(calls jsonb)
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'record_ai_calls_1_2'
LANGUAGE C VOLATILE SECURITY DEFINER;
REVOKE ALL ON FUNCTION @extschema@.record_ai_calls(jsonb) FROM PUBLIC;

--
-- ai_usage_stats(): from the rollups, with a time zone for the buckets.
-- The 1.1 arguments and columns stay as they were; tz comes last.
--
CREATE FUNCTION @extschema@.ai_usage_stats_1_2_new(
    since      timestamptz DEFAULT NULL,
    until      timestamptz DEFAULT NULL,
    group_by   text[]      DEFAULT '{model}',
    modelname  text        DEFAULT NULL,
    call_type  text        DEFAULT NULL,
    user_id    uuid        DEFAULT NULL,
    tz         text        DEFAULT 'UTC')
RETURNS TABLE (
    bucket                       timestamptz,
    modelname                    text,
    version                      text,
    call_type                    text,
    status                       text,
    user_id                      uuid,
    calls                        bigint,
    errors                       bigint,
    input_tokens                 bigint,
    reasoning_tokens             bigint,
    output_tokens                bigint,
    cost_usd                     numeric,
    avg_duration_ms              double precision,
    p50_duration_ms              double precision,
    p95_duration_ms              double precision,
    p99_duration_ms              double precision,
    first_call                   timestamptz,
    last_call                    timestamptz,
    cache_read_input_tokens      bigint,
    cache_creation_input_tokens  bigint,
    unpriced_calls               bigint,
    avg_time_to_first_token_ms   double precision)
AS 'MODULE_PATHNAME', 'ai_usage_stats_1_2'
LANGUAGE C STABLE;

-- Carry the grants over by copying the ACL (see the 1.0 -> 1.1 script).
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT proacl FROM pg_catalog.pg_proc
                  WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats_1_2_new(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure;
DROP FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid);
ALTER FUNCTION @extschema@.ai_usage_stats_1_2_new(timestamptz, timestamptz, text[], text, text, uuid, text)
    RENAME TO ai_usage_stats;

-- The ai_hist_* functions stay executable by PUBLIC on purpose: they only
-- compute on the arrays they are given, and ai_usage_stats() calls them
-- with its caller's rights.
REVOKE ALL ON FUNCTION @extschema@.ai_rollup_capture() FROM PUBLIC;
