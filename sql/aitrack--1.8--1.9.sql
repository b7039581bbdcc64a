/* aitrack 1.8 -> 1.9: budget reservations held in shared memory (aitrack.budget_reservations = memory). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.9'" to load this file. \quit

-- No table changes, no locks on the ledger: two new functions, the budget
-- figures (ai_budget_check(), ai_budget_status) with what memory holds
-- added, and ai_hist_merge() made able to aggregate in parts.

-- ==== BEGIN SECTION: reservations in memory ====
--
-- With aitrack.budget_reservations = 'memory' (a server setting: the
-- configuration file or ALTER SYSTEM; src/budget_memory.c),
-- ai_budget_reserve() holds its estimate in shared memory instead of
-- ai_budget_reservation and the spend row, and ai_budget_settle() and
-- ai_budget_release() end it there.  What such reservations hold on a
-- spend row, unexpired: 0 when none (or this server has no shared memory
-- for them); a tenant learns it for its own user's row of a user budget
-- only, as it sees that row only.
CREATE FUNCTION @extschema@.ai_budget_memory_held(budget_id bigint, scope_value text, period_start timestamptz)
RETURNS numeric
AS 'MODULE_PATHNAME', 'ai_budget_memory_held_1_9'
LANGUAGE C VOLATILE STRICT;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_memory_held(bigint, text, timestamptz) FROM PUBLIC;

-- The reservations of this database's aitrack held in memory now (what
-- ai_budget_reservation lists for those in the table).
CREATE FUNCTION @extschema@.ai_budget_memory_reservations()
RETURNS TABLE (id bigint, amount_usd numeric, expires_at timestamptz, state text, holds integer)
AS 'MODULE_PATHNAME', 'ai_budget_memory_reservations_1_9'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_memory_reservations() FROM PUBLIC;

--
-- ai_budget_check(): as 1.8, with what memory holds.
--
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_check(
    estimate_usd  double precision DEFAULT 0,
    user_id       uuid    DEFAULT NULL,
    project       text    DEFAULT NULL,
    api_key       text    DEFAULT NULL,
    tags          text[]  DEFAULT NULL,
    modelname     text    DEFAULT NULL)
RETURNS TABLE (budget text, scope text, scope_value text, period_start timestamptz,
               period_end timestamptz, hard boolean, limit_usd numeric, spent_usd numeric,
               reserved_usd numeric, remaining_usd numeric, allowed boolean)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    who uuid := @extschema@.ai_budget_caller_user(user_id);
    tenant boolean := @extschema@.ai_tenant_mode();
    estimate numeric;
BEGIN
    IF estimate_usd IS NULL OR estimate_usd OPERATOR(pg_catalog.<) 0 OR estimate_usd OPERATOR(pg_catalog.>=) 1e12 THEN
        RAISE EXCEPTION 'estimate_usd must be between 0 and 1e12'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('estimate_usd is %s.', COALESCE(estimate_usd::pg_catalog.text, 'NULL'));
    END IF;
    estimate := estimate_usd::numeric;
    PERFORM @extschema@.ai_budget_check_attribution(project, api_key, tags, modelname);
    RETURN QUERY
    SELECT b.name, b.scope,
           CASE WHEN NOT tenant OR b.scope OPERATOR(pg_catalog.=) 'user' THEN NULLIF(m.scope_value, '') END,
           p.start, @extschema@.ai_budget_period_end(b.period, b.time_zone, p.start),
           b.hard,
           CASE WHEN v.shown THEN b.limit_usd END,
           CASE WHEN v.shown THEN COALESCE(s.spent_usd, 0) END,
           CASE WHEN v.shown THEN h.held END,
           CASE WHEN v.shown THEN b.limit_usd OPERATOR(pg_catalog.-) COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.-) h.held END,
           CASE WHEN v.shown THEN
                    NOT b.hard OR COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.+) h.held OPERATOR(pg_catalog.+) estimate
                                  OPERATOR(pg_catalog.<=) b.limit_usd
                ELSE NOT b.hard OR COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.+) h.held
                                   OPERATOR(pg_catalog.<) b.limit_usd END
      FROM @extschema@.ai_budget_matches(who, project, api_key, tags, modelname) m
      JOIN @extschema@.ai_budget b ON b.id OPERATOR(pg_catalog.=) m.budget_id
     CROSS JOIN LATERAL (SELECT @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now()) AS start) p
     CROSS JOIN LATERAL (SELECT NOT tenant OR b.scope OPERATOR(pg_catalog.=) 'user' AS shown) v
      LEFT JOIN @extschema@.ai_budget_spend s
             ON s.budget_id OPERATOR(pg_catalog.=) b.id AND s.scope_value OPERATOR(pg_catalog.=) m.scope_value
            AND s.period_start OPERATOR(pg_catalog.=) p.start
     CROSS JOIN LATERAL (SELECT CASE WHEN s.budget_id IS NULL THEN 0
                                     ELSE s.reserved_usd OPERATOR(pg_catalog.-)
                                          @extschema@.ai_budget_expired_held(s.budget_id, s.scope_value, s.period_start) END
                                OPERATOR(pg_catalog.+) @extschema@.ai_budget_memory_held(b.id, m.scope_value, p.start) AS held) h
     ORDER BY b.name, m.scope_value;
END;
$$;

--
-- ai_budget_status: as 1.8, with what memory holds.  (A user's row shows
-- from the first spend row on: a reservation in memory makes none.)
--
CREATE OR REPLACE VIEW @extschema@.ai_budget_status WITH (security_invoker = true) AS
SELECT b.name AS budget, b.scope, COALESCE(b.scope_value, NULLIF(s.scope_value, '')) AS scope_value,
       b.period, b.time_zone, p.start AS period_start,
       @extschema@.ai_budget_period_end(b.period, b.time_zone, p.start) AS period_end,
       b.hard, b.enabled, b.limit_usd,
       COALESCE(s.spent_usd, 0) AS spent_usd,
       h.held AS reserved_usd,
       b.limit_usd OPERATOR(pg_catalog.-) COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.-) h.held AS remaining_usd,
       pg_catalog.round(COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog./) b.limit_usd, 2) AS used_pct,
       COALESCE(s.calls, 0) AS calls, COALESCE(s.unpriced_calls, 0) AS unpriced_calls,
       COALESCE(s.alerted_pct, '{}') AS alerted_pct, b.alert_at_pct
  FROM @extschema@.ai_budget b
 CROSS JOIN LATERAL (SELECT @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now()) AS start) p
  LEFT JOIN @extschema@.ai_budget_spend s
         ON s.budget_id OPERATOR(pg_catalog.=) b.id AND s.period_start OPERATOR(pg_catalog.=) p.start
 CROSS JOIN LATERAL (SELECT CASE WHEN s.budget_id IS NULL THEN 0
                                 ELSE s.reserved_usd OPERATOR(pg_catalog.-)
                                      @extschema@.ai_budget_expired_held(s.budget_id, s.scope_value, s.period_start) END
                            OPERATOR(pg_catalog.+) @extschema@.ai_budget_memory_held(b.id, COALESCE(s.scope_value, b.scope_value, ''), p.start) AS held) h
 WHERE s.budget_id IS NOT NULL OR b.scope_value IS NOT NULL OR b.scope OPERATOR(pg_catalog.=) 'all';
-- ==== END SECTION: reservations in memory ====

-- ==== BEGIN SECTION: partial aggregation of the latency histograms ====
-- ai_hist_merge() gets a combine function and a serial form of its state
-- (src/hist.c), so that parallel workers, and the shards of a Citus
-- cluster, each merge their part and the leader merges the parts.  The
-- functions it uses are parallel safe (they touch nothing but their
-- arguments).
CREATE FUNCTION @extschema@.ai_hist_combine(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'ai_hist_combine_1_9'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.ai_hist_serialize(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ai_hist_serialize_1_9'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.ai_hist_deserialize(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'ai_hist_deserialize_1_9'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
ALTER FUNCTION @extschema@.ai_hist_accum(internal, integer[]) PARALLEL SAFE;
ALTER FUNCTION @extschema@.ai_hist_final(internal) PARALLEL SAFE;
ALTER FUNCTION @extschema@.ai_hist_of(integer, integer) PARALLEL SAFE;
ALTER FUNCTION @extschema@.ai_hist_percentile(integer[], double precision) PARALLEL SAFE;
ALTER FUNCTION @extschema@.ai_hist_add(integer[], integer[]) PARALLEL SAFE;
CREATE OR REPLACE AGGREGATE @extschema@.ai_hist_merge(integer[]) (
    SFUNC = @extschema@.ai_hist_accum,
    STYPE = internal,
    FINALFUNC = @extschema@.ai_hist_final,
    COMBINEFUNC = @extschema@.ai_hist_combine,
    SERIALFUNC = @extschema@.ai_hist_serialize,
    DESERIALFUNC = @extschema@.ai_hist_deserialize,
    PARALLEL = SAFE
);
REVOKE ALL ON FUNCTION @extschema@.ai_hist_combine(internal, internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ai_hist_serialize(internal) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ai_hist_deserialize(bytea, internal) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.ai_hist_combine(internal, internal) IS 'Combine function of ai_hist_merge() (1.9): merges two partial states. Internal.';
COMMENT ON FUNCTION @extschema@.ai_hist_serialize(internal) IS 'Serial function of ai_hist_merge() (1.9): a partial state as bytea. Internal.';
COMMENT ON FUNCTION @extschema@.ai_hist_deserialize(bytea, internal) IS 'Deserial function of ai_hist_merge() (1.9): a partial state from bytea. Internal.';
-- ==== END SECTION: partial aggregation of the latency histograms ====

-- ==== BEGIN SECTION: privileges ====
-- 1.8's list, and the two functions above: readers may ask what memory
-- holds (as they may ask ai_budget_expired_held()), admins may list it.
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
COMMENT ON FUNCTION @extschema@.ai_budget_memory_held(bigint, text, timestamptz) IS 'What the unexpired reservations held in shared memory (aitrack.budget_reservations = memory, 1.9) hold on the spend row of (budget_id, scope_value, period_start), in USD; 0 when there are none. A tenant learns it for its own user''s row of a user budget only.';
COMMENT ON FUNCTION @extschema@.ai_budget_memory_reservations() IS 'The reservations of this database''s aitrack held in shared memory now (1.9): id, amount_usd (rounded up to the nano-USD), expires_at, state (held, being made: its transaction is in progress, ending: a settle or release is), holds (how many spend rows it holds). Expired ones are listed until swept out. Lost when the server restarts.';
-- ==== END SECTION: comments ====

