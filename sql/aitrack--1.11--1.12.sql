/* aitrack 1.11 -> 1.12: ai_reprice() on a distributed ai_call. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.12'" to load this file. \quit

-- No table changes, no locks on the ledger: one new C function, ai_reprice()
-- re-created to use it on a distributed ai_call (on one server it does what
-- it did), and the privileges with it.  Citus runs this script on every
-- node of a cluster (ALTER EXTENSION UPDATE on the coordinator), where a
-- distributed ai_call keeps the triggers and policy aitrack_distribute()
-- gave it: nothing here touches them.

-- ==== BEGIN SECTION: repricing a distributed ai_call ====
--
-- Reprices the calls with these ids whose cost is computed or unknown, on a
-- distributed ai_call, and returns how many: each is taken out (DELETE ...
-- RETURNING), priced on the coordinator, where the prices are, and put back
-- with its new cost, both counted into the rollups as the rollup trigger
-- counts an UPDATE on one server (src/reprice.c).  The budgets count
-- neither.  The caller needs UPDATE on ai_call (or on its cost_usd and
-- cost_source), as ai_reprice() does on one server; refused on one server,
-- to a tenant's session and on a Citus worker.
CREATE FUNCTION @extschema@.ai_reprice_calls(ids bigint[])
RETURNS bigint
AS 'MODULE_PATHNAME', 'ai_reprice_calls_1_12'
LANGUAGE C VOLATILE;
REVOKE ALL ON FUNCTION @extschema@.ai_reprice_calls(bigint[]) FROM PUBLIC;

-- As 1.10's on one server.  On a distributed ai_call (1.12) the calls to
-- reprice are read on the shards, only the columns their cost needs (a
-- MATERIALIZED CTE, which Citus computes first and brings to the
-- coordinator), their new cost is computed on the coordinator, where the
-- prices are, and ai_reprice_calls() rewrites the changed ones, counted.
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
    message      text;
    details      text;
    checked      bigint;
    changed      bigint;
    priced       bigint;
    unpriced     bigint;
    before_usd   numeric;
    after_usd    numeric;
    changed_ids  bigint[];
    over_id      bigint;
    over_cost    numeric;
BEGIN
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'dry_run must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true to see what would change, false to change it.';
    END IF;

    IF @extschema@.ai_calls_distributed() THEN
        WITH candidates AS MATERIALIZED (
            SELECT c.id, c.created_at, c.model_id, c.cost_usd, c.cost_source,
                   c.input_tokens, c.output_tokens, c.cache_read_input_tokens,
                   c.cache_creation_input_tokens, c.cache_creation_1h_input_tokens,
                   c.reasoning_tokens, c.input_audio_tokens, c.cache_read_audio_tokens,
                   c.input_image_tokens, c.output_audio_tokens, c.output_image_tokens,
                   c.web_search_requests, c.service_tier, c.web_search_context_size
              FROM @extschema@.ai_call c
             WHERE (ai_reprice.since IS NULL OR c.created_at >= ai_reprice.since)
               AND (ai_reprice.until IS NULL OR c.created_at < ai_reprice.until)
               AND (c.cost_source IN ('computed', 'unknown')
                    OR (c.cost_source IS NULL AND c.cost_usd IS NULL))
        ), repriced AS MATERIALIZED (
            SELECT k.id, k.cost_usd AS old_cost, k.cost_source AS old_source,
                   @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, k.created_at),
                                       billed) AS new_cost
              FROM candidates k
              JOIN @extschema@.ai_model m ON m.id = k.model_id
              CROSS JOIN LATERAL (SELECT k.input_tokens, k.output_tokens, k.cache_read_input_tokens,
                                         k.cache_creation_input_tokens, k.cache_creation_1h_input_tokens,
                                         k.reasoning_tokens, k.input_audio_tokens, k.cache_read_audio_tokens,
                                         k.input_image_tokens, k.output_audio_tokens, k.output_image_tokens,
                                         k.web_search_requests, k.service_tier,
                                         k.web_search_context_size) AS billed
        ), judged AS (
            SELECT r.id, r.old_cost, r.new_cost,
                   (r.new_cost IS DISTINCT FROM r.old_cost
                    OR r.old_source IS DISTINCT FROM
                       CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END) AS differs
              FROM repriced r
        )
        SELECT pg_catalog.count(*),
               pg_catalog.count(*) FILTER (WHERE j.differs),
               pg_catalog.count(*) FILTER (WHERE j.old_cost IS NULL AND j.new_cost IS NOT NULL),
               pg_catalog.count(*) FILTER (WHERE j.old_cost IS NOT NULL AND j.new_cost IS NULL),
               pg_catalog.trim_scale(COALESCE(pg_catalog.sum(j.old_cost), 0)),
               pg_catalog.trim_scale(COALESCE(pg_catalog.sum(j.new_cost), 0)),
               pg_catalog.array_agg(j.id ORDER BY j.id) FILTER (WHERE j.differs),
               pg_catalog.min(j.id) FILTER (WHERE j.new_cost > 1000000000::numeric),
               pg_catalog.min(j.new_cost) FILTER (WHERE j.new_cost > 1000000000::numeric)
          INTO checked, changed, priced, unpriced, before_usd, after_usd, changed_ids,
               over_id, over_cost
          FROM judged j;
        IF NOT dry_run AND over_id IS NOT NULL THEN
            -- As on one server, where ai_call_cost_usd_range refuses it.
            RAISE EXCEPTION 'a repriced cost is out of range'
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = pg_catalog.format('Call %s would cost %s USD (ai_call_cost_usd_range allows at most 1e9).',
                                                 over_id, over_cost),
                      HINT = 'A call''s cost must be at most 1e9 USD: check the counts of that call and the price in force at its time; no call was repriced.';
        END IF;
        IF NOT dry_run AND changed_ids IS NOT NULL THEN
            PERFORM @extschema@.ai_reprice_calls(changed_ids);
        END IF;
        RETURN QUERY SELECT checked, changed, priced, unpriced, before_usd, after_usd,
                            pg_catalog.trim_scale(after_usd - before_usd);
        RETURN;
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
-- ==== END SECTION: repricing a distributed ai_call ====

-- ==== BEGIN SECTION: privileges ====
-- 1.11's list, and ai_reprice_calls() for administrators.
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
        -- a tenant's own calls (1.11), which a distributed ai_call gives it
        -- through no other door
        ('@extschema@.ai_tenant_calls(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
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
        -- and (1.12) repricing calls counted, as ai_reprice() does there
        ('@extschema@.ai_reprice_calls(bigint[])'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
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
COMMENT ON FUNCTION @extschema@.ai_reprice_calls(bigint[]) IS 'Reprices the calls of a distributed ai_call with these ids whose cost_source is computed or unknown (1.12): takes each out, computes its cost on the coordinator from the price in force at its created_at, and puts it back with that cost, its cost_source and updated_at = now(), counted into the rollups as an update is on one server (the budgets count neither); returns how many calls it put back. ai_reprice() runs it there. Refused on one server (ai_reprice() updates in place), to a tenant''s session and on a Citus worker. Needs UPDATE on ai_call or on its cost_usd and cost_source (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_reprice(timestamptz, timestamptz, boolean) IS 'Recomputes, from the price in force at each call''s created_at and under every rule of that price, the cost in USD of the calls made from since (inclusive) to until (exclusive) whose cost_source is computed or unknown, never a provided cost, and returns the counts and USD totals before and after; dry_run (the default) only reports. On a distributed ai_call (1.12) the costs are computed on the coordinator and the changed calls rewritten by ai_reprice_calls(). SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
-- ==== END SECTION: comments ====
