/* aitrack 1.7 -> 1.8: spend control in C (budgets counted and reserved by plans kept per session), and usage by project from the rollups. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.8'" to load this file. \quit

-- ==== BEGIN SECTION: budget engine ====
--
-- Spend control moves to C (src/budget_cache.c, budget_count.c,
-- budget_reserve.c): the counting trigger, ai_budget_reserve(),
-- ai_budget_settle() and ai_budget_release() keep their signatures, grants
-- and behaviour, and run plans prepared once per session over budgets kept
-- per session.  What a reservation holds moves onto the spend row it holds
-- (reserved_usd) and into the reservation's own row (the hold_* arrays);
-- ai_budget_hold goes.
--
-- The budget tables are small; they are locked for the update's
-- milliseconds.  Recording takes ai_budget after ai_call (its trigger), so
-- waiting for them here holds no lock that recording waits for.
LOCK TABLE @extschema@.ai_budget, @extschema@.ai_budget_spend, @extschema@.ai_budget_reservation,
           @extschema@.ai_budget_hold IN ACCESS EXCLUSIVE MODE;

-- reserved_usd: what the reservations not yet ended or cleared hold against
-- the row, expired ones included until ai_budget_clear_expired() takes them
-- out (ai_budget_expired_held() tells how much of it is expired).
ALTER TABLE @extschema@.ai_budget_spend ADD COLUMN reserved_usd numeric NOT NULL DEFAULT 0;
-- The spend rows a reservation holds, one per budget it falls under (the
-- three arrays line up): ending it takes its amount_usd back from each.
ALTER TABLE @extschema@.ai_budget_reservation
    ADD COLUMN hold_budget_ids     bigint[]      NOT NULL DEFAULT '{}',
    ADD COLUMN hold_scope_values   text[]        NOT NULL DEFAULT '{}',
    ADD COLUMN hold_period_starts  timestamptz[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT ai_budget_reservation_holds_line_up
        CHECK (pg_catalog.cardinality(hold_budget_ids) OPERATOR(pg_catalog.=) pg_catalog.cardinality(hold_scope_values)
               AND pg_catalog.cardinality(hold_budget_ids) OPERATOR(pg_catalog.=) pg_catalog.cardinality(hold_period_starts));

-- No foreign key from the spend rows to their budget: its check ran on
-- every first call of a period, and on every second write of a spend row
-- in one transaction (counted, then settled), a query each time.  A
-- budget's spend rows go with it by the triggers below instead.  (A call
-- counted while its budget is being deleted may leave a spend row without
-- a budget: nothing reads it, every reader joins ai_budget.)
ALTER TABLE @extschema@.ai_budget_spend DROP CONSTRAINT ai_budget_spend_budget_id_fkey;

-- 1.7's holds, carried over.
UPDATE @extschema@.ai_budget_reservation r
   SET hold_budget_ids = h.ids, hold_scope_values = h.vals, hold_period_starts = h.starts
  FROM (SELECT x.reservation_id,
               pg_catalog.array_agg(x.budget_id ORDER BY x.budget_id, x.scope_value COLLATE "C") AS ids,
               pg_catalog.array_agg(x.scope_value ORDER BY x.budget_id, x.scope_value COLLATE "C") AS vals,
               pg_catalog.array_agg(x.period_start ORDER BY x.budget_id, x.scope_value COLLATE "C") AS starts
          FROM @extschema@.ai_budget_hold x GROUP BY x.reservation_id) h
 WHERE r.id OPERATOR(pg_catalog.=) h.reservation_id;
INSERT INTO @extschema@.ai_budget_spend AS s (budget_id, scope_value, period_start, reserved_usd)
SELECT x.budget_id, x.scope_value, x.period_start, pg_catalog.sum(x.amount_usd)
  FROM @extschema@.ai_budget_hold x
 GROUP BY 1, 2, 3
ON CONFLICT (budget_id, scope_value, period_start) DO UPDATE SET reserved_usd = excluded.reserved_usd;

--
-- How much of a spend row's reserved_usd belongs to reservations past their
-- expires_at (they hold nothing; ai_budget_clear_expired() has not taken
-- them out yet).  Reads ai_budget_reservation with the caller's rights: a
-- tenant sees its own reservations only, as it sees its own spend rows.
--
CREATE FUNCTION @extschema@.ai_budget_expired_held(budget_id bigint, scope_value text, period_start timestamptz)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN COALESCE((SELECT pg_catalog.sum(r.amount_usd)
                       FROM @extschema@.ai_budget_reservation r
                      CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(r.hold_budget_ids), pg_catalog.unnest(r.hold_scope_values),
                                                           pg_catalog.unnest(r.hold_period_starts)) AS h(b, v, p)
                      WHERE r.expires_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp()
                        AND h.b OPERATOR(pg_catalog.=) ai_budget_expired_held.budget_id
                        AND h.v OPERATOR(pg_catalog.=) ai_budget_expired_held.scope_value
                        AND h.p OPERATOR(pg_catalog.=) ai_budget_expired_held.period_start), 0);
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_expired_held(bigint, text, timestamptz) FROM PUBLIC;

-- The counting trigger, in C (same trigger, same function name).
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_count_calls()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_budget_count_calls_1_8'
LANGUAGE C SECURITY DEFINER;

-- A budget deleted (or all of them truncated) takes its spend rows along.
CREATE FUNCTION @extschema@.ai_budget_deleted()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        DELETE FROM @extschema@.ai_budget_spend;
    ELSE
        DELETE FROM @extschema@.ai_budget_spend s
         USING gone_budgets g WHERE s.budget_id OPERATOR(pg_catalog.=) g.id;
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_deleted() FROM PUBLIC;
CREATE TRIGGER ai_budget_deleted
    AFTER DELETE ON @extschema@.ai_budget
    REFERENCING OLD TABLE AS gone_budgets
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_budget_deleted();
CREATE TRIGGER ai_budget_truncated
    AFTER TRUNCATE ON @extschema@.ai_budget
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_budget_deleted();
ALTER TABLE @extschema@.ai_budget ENABLE ALWAYS TRIGGER ai_budget_deleted;
ALTER TABLE @extschema@.ai_budget ENABLE ALWAYS TRIGGER ai_budget_truncated;

-- Every change to ai_budget drops the budgets each session keeps.
CREATE FUNCTION @extschema@.ai_budget_invalidate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_budget_invalidate_1_8'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_invalidate() FROM PUBLIC;
CREATE TRIGGER ai_budget_invalidate
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.ai_budget
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_budget_invalidate();
ALTER TABLE @extschema@.ai_budget ENABLE ALWAYS TRIGGER ai_budget_invalidate;

-- Reserve, settle, release: in C, same signatures, defaults and grants
-- (CREATE OR REPLACE keeps the ACL).
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_reserve(
    estimate_usd  double precision,
    user_id       uuid     DEFAULT NULL,
    project       text     DEFAULT NULL,
    api_key       text     DEFAULT NULL,
    tags          text[]   DEFAULT NULL,
    modelname     text     DEFAULT NULL,
    expires_in    interval DEFAULT '10 minutes')
RETURNS bigint
AS 'MODULE_PATHNAME', 'ai_budget_reserve_1_8'
LANGUAGE C VOLATILE SECURITY DEFINER;

CREATE OR REPLACE FUNCTION @extschema@.ai_budget_release(reservation_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ai_budget_release_1_8'
LANGUAGE C VOLATILE SECURITY DEFINER;

CREATE OR REPLACE FUNCTION @extschema@.ai_budget_settle(reservation_id bigint, call_id bigint)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ai_budget_settle_1_8'
LANGUAGE C VOLATILE SECURITY DEFINER;

--
-- A budget's current period counted again from ai_call, as 1.7; what the
-- reservations hold against it is kept (taken from their rows).
--
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
                   COALESCE(pg_catalog.sum(c.cost_usd), 0) AS cost,
                   pg_catalog.count(*) AS calls,
                   pg_catalog.count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced
              FROM @extschema@.ai_call c
              LEFT JOIN @extschema@.ai_model mo ON mo.id OPERATOR(pg_catalog.=) c.model_id
             CROSS JOIN LATERAL (
                   SELECT CASE b.scope WHEN 'all' THEN ''
                                       WHEN 'user' THEN c.user_id::pg_catalog.text
                                       WHEN 'project' THEN c.project
                                       WHEN 'api_key' THEN c.api_key
                                       WHEN 'model' THEN mo.modelname END AS val
                    WHERE b.scope OPERATOR(pg_catalog.<>) 'tag'
                   UNION
                   SELECT t FROM pg_catalog.unnest(c.tags) AS t
                    WHERE b.scope OPERATOR(pg_catalog.=) 'tag') v
             WHERE c.created_at OPERATOR(pg_catalog.>=) since
               AND c.created_at OPERATOR(pg_catalog.<) until
               AND v.val IS NOT NULL
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

--
-- A budget inserted, or its scope, period, zone or enabled changed: as 1.7
-- (the lock, the recount), the live reservations' holds of it made again.
-- A new limit or new thresholds: as 1.7.
--
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_changed()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '2s'
AS $$
DECLARE
    r record;
    current_start timestamptz;
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT'
       OR (NEW.scope, NEW.scope_value, NEW.period, NEW.time_zone, NEW.enabled)
          IS DISTINCT FROM (OLD.scope, OLD.scope_value, OLD.period, OLD.time_zone, OLD.enabled) THEN
        -- See 1.7's ai_budget_changed(): this waits for the recording and
        -- reserving transactions that may have used the old definition,
        -- and holds back the next ones until this change commits.
        LOCK TABLE @extschema@.ai_budget IN ACCESS EXCLUSIVE MODE;
        -- Every reservation's holds of this budget go, with its spend rows.
        UPDATE @extschema@.ai_budget_reservation x
           SET hold_budget_ids = ARRAY(SELECT h.b FROM ROWS FROM (pg_catalog.unnest(x.hold_budget_ids), pg_catalog.unnest(x.hold_scope_values), pg_catalog.unnest(x.hold_period_starts))
                                               WITH ORDINALITY AS h(b, v, p, n)
                                        WHERE h.b OPERATOR(pg_catalog.<>) NEW.id ORDER BY h.n),
               hold_scope_values = ARRAY(SELECT h.v FROM ROWS FROM (pg_catalog.unnest(x.hold_budget_ids), pg_catalog.unnest(x.hold_scope_values), pg_catalog.unnest(x.hold_period_starts))
                                                 WITH ORDINALITY AS h(b, v, p, n)
                                          WHERE h.b OPERATOR(pg_catalog.<>) NEW.id ORDER BY h.n),
               hold_period_starts = ARRAY(SELECT h.p FROM ROWS FROM (pg_catalog.unnest(x.hold_budget_ids), pg_catalog.unnest(x.hold_scope_values), pg_catalog.unnest(x.hold_period_starts))
                                                  WITH ORDINALITY AS h(b, v, p, n)
                                           WHERE h.b OPERATOR(pg_catalog.<>) NEW.id ORDER BY h.n)
         WHERE NEW.id OPERATOR(pg_catalog.=) ANY (x.hold_budget_ids);
        IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
            DELETE FROM @extschema@.ai_budget_spend s WHERE s.budget_id OPERATOR(pg_catalog.=) NEW.id;
        END IF;
        -- The live reservations hold against the budget as it is now ...
        IF NEW.enabled THEN
            current_start := @extschema@.ai_budget_period_start(NEW.period, NEW.time_zone, pg_catalog.now());
            UPDATE @extschema@.ai_budget_reservation x
               SET hold_budget_ids = x.hold_budget_ids OPERATOR(pg_catalog.||)
                                     pg_catalog.array_fill(NEW.id, ARRAY[pg_catalog.cardinality(a.vals)]),
                   hold_scope_values = x.hold_scope_values OPERATOR(pg_catalog.||) a.vals,
                   hold_period_starts = x.hold_period_starts OPERATOR(pg_catalog.||)
                                        pg_catalog.array_fill(current_start, ARRAY[pg_catalog.cardinality(a.vals)])
              FROM (SELECT y.id, pg_catalog.array_agg(m.scope_value ORDER BY m.scope_value COLLATE "C") AS vals
                      FROM @extschema@.ai_budget_reservation y
                     CROSS JOIN LATERAL @extschema@.ai_budget_matches(y.user_id, y.project, y.api_key, y.tags, y.modelname) m
                     WHERE m.budget_id OPERATOR(pg_catalog.=) NEW.id
                       AND y.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()
                     GROUP BY y.id) a
             WHERE x.id OPERATOR(pg_catalog.=) a.id;
        END IF;
        -- ... and its current period is counted (with those holds).
        PERFORM @extschema@.ai_budget_recount_current(NEW.id);
    ELSIF (NEW.limit_usd, NEW.alert_at_pct) IS DISTINCT FROM (OLD.limit_usd, OLD.alert_at_pct) THEN
        current_start := @extschema@.ai_budget_period_start(NEW.period, NEW.time_zone, pg_catalog.now());
        FOR r IN
            SELECT s.scope_value, s.period_start, s.spent_usd,
                   ARRAY(SELECT t FROM pg_catalog.unnest(NEW.alert_at_pct) AS t
                          WHERE s.spent_usd OPERATOR(pg_catalog.>=) (NEW.limit_usd OPERATOR(pg_catalog.*) t OPERATOR(pg_catalog./) 100)
                          ORDER BY t) AS reached,
                   s.alerted_pct
              FROM @extschema@.ai_budget_spend s
             WHERE s.budget_id OPERATOR(pg_catalog.=) NEW.id
             ORDER BY s.scope_value COLLATE "C", s.period_start
               FOR UPDATE
        LOOP
            UPDATE @extschema@.ai_budget_spend s
               SET alerted_pct = r.reached
             WHERE s.budget_id OPERATOR(pg_catalog.=) NEW.id
               AND s.scope_value OPERATOR(pg_catalog.=) r.scope_value
               AND s.period_start OPERATOR(pg_catalog.=) r.period_start;
            IF r.period_start OPERATOR(pg_catalog.=) current_start THEN
                FOR i IN 1 .. COALESCE(pg_catalog.cardinality(r.reached), 0) LOOP
                    CONTINUE WHEN r.reached[i] OPERATOR(pg_catalog.=) ANY (r.alerted_pct);
                    PERFORM @extschema@.ai_budget_notify(NEW.id, r.scope_value, r.period_start,
                                                         r.spent_usd, r.reached[i]);
                END LOOP;
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;

--
-- ai_budget_check(): as 1.7, what is held read from the spend row.
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
                                          @extschema@.ai_budget_expired_held(s.budget_id, s.scope_value, s.period_start) END AS held) h
     ORDER BY b.name, m.scope_value;
END;
$$;

-- Expired reservations hold nothing already; this takes them out of the
-- spend rows and deletes them (the upkeep worker calls it), returning how
-- many.  The spend rows are locked first, in the one lock order, and only
-- then the reservations deleted: a recording transaction holds its spend
-- row (it counted the call) before it settles its reservation, so taking
-- the reservation first could deadlock with it.
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_clear_expired()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts timestamptz := pg_catalog.clock_timestamp();
    seen bigint[];
    n bigint;
    ids bigint[];
    vals text[];
    starts timestamptz[];
    amounts numeric[];
    r record;
BEGIN
    SELECT pg_catalog.array_agg(x.id) INTO seen
      FROM @extschema@.ai_budget_reservation x
     WHERE x.expires_at OPERATOR(pg_catalog.<=) now_ts;
    IF seen IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM 1
       FROM @extschema@.ai_budget_spend s
      WHERE (s.budget_id, s.scope_value, s.period_start) IN (
            SELECT h.b, h.v, h.p
              FROM @extschema@.ai_budget_reservation x
             CROSS JOIN LATERAL ROWS FROM (pg_catalog.unnest(x.hold_budget_ids), pg_catalog.unnest(x.hold_scope_values), pg_catalog.unnest(x.hold_period_starts)) AS h(b, v, p)
             WHERE x.id OPERATOR(pg_catalog.=) ANY (seen))
      ORDER BY s.budget_id, s.scope_value COLLATE "C", s.period_start
        FOR UPDATE OF s;
    WITH gone AS (
        DELETE FROM @extschema@.ai_budget_reservation x
         WHERE x.id OPERATOR(pg_catalog.=) ANY (seen)
        RETURNING x.id, x.amount_usd, x.hold_budget_ids, x.hold_scope_values, x.hold_period_starts)
    SELECT pg_catalog.count(DISTINCT g.id),
           pg_catalog.array_agg(h.b) FILTER (WHERE h.b IS NOT NULL),
           pg_catalog.array_agg(h.v) FILTER (WHERE h.b IS NOT NULL),
           pg_catalog.array_agg(h.p) FILTER (WHERE h.b IS NOT NULL),
           pg_catalog.array_agg(g.amount_usd) FILTER (WHERE h.b IS NOT NULL)
      INTO n, ids, vals, starts, amounts
      FROM gone g
      LEFT JOIN LATERAL ROWS FROM (pg_catalog.unnest(g.hold_budget_ids), pg_catalog.unnest(g.hold_scope_values), pg_catalog.unnest(g.hold_period_starts)) AS h(b, v, p) ON true;
    FOR r IN
        SELECT u.b, u.v, u.p, pg_catalog.sum(u.a) AS amount
          FROM ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(vals), pg_catalog.unnest(starts), pg_catalog.unnest(amounts)) AS u(b, v, p, a)
         GROUP BY u.b, u.v, u.p
         ORDER BY u.b, u.v COLLATE "C", u.p
    LOOP
        UPDATE @extschema@.ai_budget_spend s
           SET reserved_usd = s.reserved_usd OPERATOR(pg_catalog.-) r.amount
         WHERE s.budget_id OPERATOR(pg_catalog.=) r.b
           AND s.scope_value OPERATOR(pg_catalog.=) r.v
           AND s.period_start OPERATOR(pg_catalog.=) r.p;
    END LOOP;
    RETURN n;
END;
$$;

--
-- ai_budget_status: as 1.7, what is held read from the spend row.
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
                                      @extschema@.ai_budget_expired_held(s.budget_id, s.scope_value, s.period_start) END AS held) h
 WHERE s.budget_id IS NOT NULL OR b.scope_value IS NOT NULL OR b.scope OPERATOR(pg_catalog.=) 'all';

DROP TABLE @extschema@.ai_budget_hold;
-- ==== END SECTION: budget engine ====

-- ==== BEGIN SECTION: project rollups ====
-- ==== END SECTION: project rollups ====

-- ==== BEGIN SECTION: privileges ====
-- The privileges of 1.8's objects: what a reservation holds moved from
-- ai_budget_hold (gone) to ai_budget_reservation, which readers may now
-- read (the status view's figures come from it); ai_reset_privileges(), as
-- 1.6 has it, applies the list.
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
-- ==== END SECTION: comments ====
