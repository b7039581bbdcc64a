/* aitrack 1.7 -> 1.8: spend control in C (budgets counted and reserved by plans kept per session), and usage by project from the rollups. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.8'" to load this file. \quit

-- The tables this update locks, in the order recording takes them: ai_call
-- (its insert) before the budget tables (its counting trigger), so that the
-- update and a recording cannot deadlock.  ai_call in SHARE mode: the
-- update waits for the recording transactions in flight (the project
-- rollups section says why) and recording waits for the update, a second
-- at most (then the update fails, to be run again).
DO $$
DECLARE
    saved text := pg_catalog.current_setting('lock_timeout');
BEGIN
    PERFORM pg_catalog.set_config('lock_timeout', '1s', true);
    LOCK TABLE @extschema@.ai_call IN SHARE MODE;
    PERFORM pg_catalog.set_config('lock_timeout', saved, true);
END;
$$;

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
    -- made by a tenant: it holds nothing against budgets shared with other
    -- users, also once a budget change makes the holds again
    ADD COLUMN by_tenant           boolean       NOT NULL DEFAULT false,
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

-- What reads the expired reservations (ai_budget_expired_held(), the
-- clearing) finds them by index, not by a scan of the live ones.
CREATE INDEX ai_budget_reservation_expires_at_idx ON @extschema@.ai_budget_reservation (expires_at);

-- However a reservation ends (settled, released, cleared, or deleted by an
-- admin, as 1.7 allows), what it held comes off its spend rows: one
-- trigger, in C (src/budget_reserve.c), in the one lock order.
CREATE FUNCTION @extschema@.ai_budget_reservation_ended()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_budget_reservation_ended_1_8'
LANGUAGE C SECURITY DEFINER;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_reservation_ended() FROM PUBLIC;
CREATE TRIGGER ai_budget_reservation_ended
    AFTER DELETE ON @extschema@.ai_budget_reservation
    REFERENCING OLD TABLE AS ended_reservations
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_budget_reservation_ended();
CREATE TRIGGER ai_budget_reservation_truncated
    AFTER TRUNCATE ON @extschema@.ai_budget_reservation
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_budget_reservation_ended();
ALTER TABLE @extschema@.ai_budget_reservation ENABLE ALWAYS TRIGGER ai_budget_reservation_ended;
ALTER TABLE @extschema@.ai_budget_reservation ENABLE ALWAYS TRIGGER ai_budget_reservation_truncated;

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
                       -- (a tenant's holds nothing against a shared budget)
                       AND NOT (y.by_tenant AND NEW.scope OPERATOR(pg_catalog.<>) 'user')
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
-- (it writes the spend rows, which aitrack_admin may not: EXECUTE is the
-- grant, as for the other budget functions)
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_ts timestamptz := pg_catalog.clock_timestamp();
    seen bigint[];
    n bigint;
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
    -- (the trigger ai_budget_reservation_ended takes what they held off)
    DELETE FROM @extschema@.ai_budget_reservation x
     WHERE x.id OPERATOR(pg_catalog.=) ANY (seen);
    GET DIAGNOSTICS n = ROW_COUNT;
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

-- ai_budget_recount() is for aitrack_admin (its EXECUTE grant), who may
-- not call what it calls: it runs as the extension's owner, as the budget
-- triggers do (1.7 failed for aitrack_admin).
ALTER FUNCTION @extschema@.ai_budget_recount() SECURITY DEFINER;

-- A period's end where the zone's DST change falls at midnight (Africa/
-- Cairo, 1995-04-28: the day starts at 01:00): the start of the local day,
-- week or month after, not the start plus one period (1.7 ended such a
-- period an hour late).
CREATE OR REPLACE FUNCTION @extschema@.ai_budget_period_end(period text, time_zone text, period_start timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN period OPERATOR(pg_catalog.=) 'lifetime' OR NOT pg_catalog.isfinite(period_start)
                     OR period_start OPERATOR(pg_catalog.>=) '294276-11-01 00:00+00'::pg_catalog.timestamptz
                THEN 'infinity'::pg_catalog.timestamptz
                ELSE pg_catalog.timezone(time_zone,
                         pg_catalog.date_trunc(period, pg_catalog.timezone(time_zone, period_start))
                         OPERATOR(pg_catalog.+) ('1 ' OPERATOR(pg_catalog.||) period)::pg_catalog.interval) END;
END;
$$;

DROP TABLE @extschema@.ai_budget_hold;
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
-- (ai_call is locked at the top of this script, before the budget tables.)
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
-- ai_usage_rollup_project_daily: the folded rows of ai_usage_rollup_project
-- summed per UTC day, so that a question by project over weeks reads a row
-- per day and group, not one per hour (at a few hundred calls an hour the
-- hourly project level hardly compresses: most of its groups hold a call or
-- two).  No pending rows: every day in it holds exactly the sum of that
-- day's folded hourly rows, whatever the coverage, kept so by whoever
-- writes them (the fold for the days it touched, the backfill for the days
-- it recounted, the rebuild, which drops its days, and TRUNCATE of ai_call,
-- src/rollup.c).  No marker of its own: a day is complete in it when it is
-- complete in the hourly project level, from project_from on; the pending
-- rows of the hourly level are read beside it (src/stats.c).  Follows from
-- ai_call: not dumped.  Starts empty, as the hourly project level does.
--
CREATE TABLE @extschema@.ai_usage_rollup_project_daily (
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
CREATE UNIQUE INDEX ai_usage_rollup_project_daily_group_key
    ON @extschema@.ai_usage_rollup_project_daily (bucket, model_id, call_type, status, project)
    NULLS NOT DISTINCT;
CREATE INDEX ai_usage_rollup_project_daily_project_idx
    ON @extschema@.ai_usage_rollup_project_daily (project, bucket);

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
                    @extschema@.ai_usage_purged_project_floor,
                    @extschema@.ai_usage_rollup_project_daily FROM PUBLIC;
-- Sums over all users: not for tenants (as ai_usage_rollup_total).
ALTER TABLE @extschema@.ai_usage_rollup_project ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_rollup_project_tenant ON @extschema@.ai_usage_rollup_project
    USING ((SELECT NOT @extschema@.ai_tenant_mode()));
ALTER TABLE @extschema@.ai_usage_rollup_project_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_rollup_project_daily_tenant ON @extschema@.ai_usage_rollup_project_daily
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
        ), gone_project_daily AS (
            -- ... and its daily rows (no folded hourly row is left to sum;
            -- the fold sums the day again) ...
            DELETE FROM @extschema@.ai_usage_rollup_project_daily pd
             WHERE pd.bucket OPERATOR(pg_catalog.>=) day_start
               AND pd.bucket OPERATOR(pg_catalog.<) day_end
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
               AND (SELECT pg_catalog.count(*) FROM gone_project_daily) OPERATOR(pg_catalog.>=) 0
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
    -- The daily project level of every UTC day these hours touch, summed
    -- again from the day's folded hourly rows (a day cut by step_from is
    -- summed again by the next step, which covers the rest of it).
    DELETE FROM @extschema@.ai_usage_rollup_project_daily d
     WHERE d.bucket >= date_trunc('day', step_from, 'UTC') AND d.bucket < complete_from;
    INSERT INTO @extschema@.ai_usage_rollup_project_daily
           (bucket, model_id, call_type, status, project, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT k.day, p.model_id, p.call_type, p.status, p.project, pg_catalog.sum(p.calls),
           pg_catalog.sum(p.input_tokens), pg_catalog.sum(p.input_tokens_n), pg_catalog.sum(p.reasoning_tokens), pg_catalog.sum(p.reasoning_tokens_n), pg_catalog.sum(p.output_tokens), pg_catalog.sum(p.output_tokens_n), pg_catalog.sum(p.cache_read_input_tokens), pg_catalog.sum(p.cache_read_input_tokens_n), pg_catalog.sum(p.cache_creation_input_tokens), pg_catalog.sum(p.cache_creation_input_tokens_n), pg_catalog.sum(p.cost_usd), pg_catalog.sum(p.cost_usd_n), pg_catalog.sum(p.duration_ms), pg_catalog.sum(p.duration_ms_n), pg_catalog.sum(p.time_to_first_token_ms), pg_catalog.sum(p.time_to_first_token_ms_n), pg_catalog.sum(p.cache_creation_1h_input_tokens), pg_catalog.sum(p.cache_creation_1h_input_tokens_n), pg_catalog.sum(p.input_audio_tokens), pg_catalog.sum(p.input_audio_tokens_n), pg_catalog.sum(p.cache_read_audio_tokens), pg_catalog.sum(p.cache_read_audio_tokens_n), pg_catalog.sum(p.input_image_tokens), pg_catalog.sum(p.input_image_tokens_n), pg_catalog.sum(p.output_audio_tokens), pg_catalog.sum(p.output_audio_tokens_n), pg_catalog.sum(p.output_image_tokens), pg_catalog.sum(p.output_image_tokens_n), pg_catalog.sum(p.web_search_requests), pg_catalog.sum(p.web_search_requests_n),
           pg_catalog.min(p.first_call), pg_catalog.max(p.last_call), @extschema@.ai_hist_merge(p.latency)
      FROM generate_series(date_trunc('day', step_from, 'UTC'), complete_from - interval '1 microsecond',
                         interval '24 hours') AS k(day)
      JOIN @extschema@.ai_usage_rollup_project p
        ON NOT p.pending
       AND p.bucket >= k.day
       AND p.bucket < CASE WHEN k.day < '294276-12-31 00:00+00'::timestamptz
                           THEN k.day + interval '24 hours' ELSE 'infinity'::timestamptz END
     GROUP BY k.day, p.model_id, p.call_type, p.status, p.project;
    UPDATE @extschema@.ai_upkeep_state
       SET project_from = CASE WHEN step_from <= oldest THEN '-infinity'::timestamptz ELSE step_from END;
    RETURN days;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_rollup_backfill_project(integer) FROM PUBLIC;

-- No grant here: the privileges section below lists the group roles'
-- privileges on these objects (ai_intended_privileges()), and its
-- ai_reset_privileges() grants them and takes back what default
-- privileges handed out at creation.

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
COMMENT ON TABLE @extschema@.ai_usage_rollup_project_daily IS 'aitrack: daily usage per model, call_type, status and project (1.8): the folded rows of ai_usage_rollup_project summed per UTC day, kept by the fold (the days it touched), ai_rollup_backfill_project() (the days it recounted), ai_rollup_rebuild() and TRUNCATE of ai_call; no pending rows. A day is complete in it when it is complete in the hourly project level (from ai_upkeep_state.project_from on). Not dumped.';
COMMENT ON POLICY ai_usage_rollup_project_daily_tenant ON @extschema@.ai_usage_rollup_project_daily IS 'Closes the daily sums over all users to tenants; sessions that are not a tenant''s are not restricted.';
-- Its columns: those of the hourly project level, per day.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM pg_catalog.pg_attribute a
         WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_rollup_project'::pg_catalog.regclass
           AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
           AND a.attname OPERATOR(pg_catalog.<>) 'pending'
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN @extschema@.ai_usage_rollup_project_daily.%I IS %L',
                                  col.attname, col.comment);
    END LOOP;
END;
$$;
COMMENT ON COLUMN @extschema@.ai_usage_rollup_project_daily.bucket IS 'Start of the UTC day the calls were made in.';
-- end project rollups (1.8)
COMMENT ON COLUMN @extschema@.ai_budget_spend.reserved_usd IS 'What the reservations holding this row add up to (1.8), expired ones included until ai_budget_clear_expired() takes them out; what is reserved now is reserved_usd - ai_budget_expired_held().';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.hold_budget_ids IS 'The budgets of the spend rows this reservation holds (1.8), in line with hold_scope_values and hold_period_starts.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.hold_scope_values IS 'The scope values of the spend rows this reservation holds (1.8).';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.hold_period_starts IS 'The periods of the spend rows this reservation holds (1.8).';
COMMENT ON FUNCTION @extschema@.ai_budget_expired_held(bigint, text, timestamptz) IS 'How much of the spend row''s reserved_usd belongs to reservations past their expires_at (they hold nothing) that ai_budget_clear_expired() has not taken out yet (1.8). Reads ai_budget_reservation with the caller''s rights (aitrack_reader).';
COMMENT ON FUNCTION @extschema@.ai_budget_invalidate() IS 'Trigger (AFTER INSERT, UPDATE, DELETE, TRUNCATE, per statement, ENABLE ALWAYS) on ai_budget: drops the enabled budgets every session keeps (a relcache invalidation of ai_budget, sent at commit). 1.8. Internal.';
COMMENT ON TRIGGER ai_budget_invalidate ON @extschema@.ai_budget IS 'Every change to ai_budget reaches the budgets each session keeps (ai_budget_invalidate()).';
COMMENT ON FUNCTION @extschema@.ai_budget_deleted() IS 'Trigger (AFTER DELETE and AFTER TRUNCATE, per statement, ENABLE ALWAYS) on ai_budget: deletes the spend rows of the budgets deleted (1.8: in place of a foreign key). SECURITY DEFINER. Internal.';
COMMENT ON TRIGGER ai_budget_deleted ON @extschema@.ai_budget IS 'A deleted budget''s spend rows go with it (ai_budget_deleted()).';
COMMENT ON TRIGGER ai_budget_truncated ON @extschema@.ai_budget IS 'TRUNCATE ai_budget empties ai_budget_spend (ai_budget_deleted()).';
COMMENT ON FUNCTION @extschema@.ai_budget_count_calls() IS 'Trigger (AFTER INSERT, per statement, ENABLE ALWAYS) on ai_call: counts the inserted calls against their budgets in the recording transaction, in C from 1.8 (src/budget_count.c), by the budgets each session keeps. SECURITY DEFINER.';
COMMENT ON FUNCTION @extschema@.ai_budget_reserve(double precision, uuid, text, text, text[], text, interval) IS 'Holds an estimated cost against every budget a call about to be made falls under, and returns the reservation id; refused with SQLSTATE 53400 (budget "NAME" would be exceeded), holding nothing, when a hard budget''s spent + reserved + estimate would pass its limit. Locks each budget''s spend row until the transaction ends; what is held is added to the row''s reserved_usd and listed on the reservation (1.8, in C: src/budget_reserve.c). SECURITY DEFINER (aitrack_writer); a tenant reserves for its own user.';
COMMENT ON FUNCTION @extschema@.ai_budget_settle(bigint, bigint) IS 'Ends a reservation once its call (call_id, which must exist) is recorded: the call''s real cost was counted when it was recorded; takes what it held off the spend rows. False when the reservation was already gone. SECURITY DEFINER (aitrack_writer). In C from 1.8.';
COMMENT ON FUNCTION @extschema@.ai_budget_release(bigint) IS 'Ends a reservation without a call, taking what it held off the spend rows; false when it was already gone. SECURITY DEFINER (aitrack_writer); a tenant ends its own user''s only. In C from 1.8.';
COMMENT ON FUNCTION @extschema@.ai_budget_clear_expired() IS 'Deletes expired reservations (they already hold nothing), locking their spend rows first; what they held comes off the rows (1.8, trigger ai_budget_reservation_ended); returns how many. The upkeep worker runs it. SECURITY DEFINER from 1.8 (EXECUTE: aitrack_admin).';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.by_tenant IS 'Made by a tenant (1.8): holds nothing against budgets shared with other users.';
COMMENT ON FUNCTION @extschema@.ai_budget_reservation_ended() IS 'Trigger (AFTER DELETE with OLD TABLE, and AFTER TRUNCATE, per statement, ENABLE ALWAYS) on ai_budget_reservation: takes what the ended reservations held off their spend rows, in lock order (1.8). SECURITY DEFINER. Internal.';
COMMENT ON TRIGGER ai_budget_reservation_ended ON @extschema@.ai_budget_reservation IS 'What a deleted reservation held comes off its spend rows (ai_budget_reservation_ended()).';
COMMENT ON TRIGGER ai_budget_reservation_truncated ON @extschema@.ai_budget_reservation IS 'TRUNCATE of the reservations leaves nothing held (ai_budget_reservation_ended()).';
COMMENT ON FUNCTION @extschema@.ai_budget_recount() IS 'Counts the current period of every budget again from ai_call (thresholds reached marked without a NOTIFY) and returns the number of budgets: after a restore with --disable-triggers or --data-only, and for model budgets after any restore. SECURITY DEFINER from 1.8 (EXECUTE: aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_budget_period_end(text, text, timestamptz) IS 'Start of the period after the one starting at period_start (infinity for lifetime): the next local day, week or month start, DST changes (also at midnight, 1.8) included.';
-- ==== END SECTION: comments ====
