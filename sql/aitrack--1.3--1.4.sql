/* aitrack 1.3 -> 1.4: safe in the field (privileges, parallel restore, tenancy and content policy from the catalog, drivers, guard). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.4'" to load this file. \quit

-- Every statement here takes its locks for a moment only: nothing scans
-- ai_call (the new constraints are NOT VALID; see README's Upgrade).

--
-- Group roles, one per job (cluster-wide, so created once and shared by
-- every database that installs aitrack).  A role of that name that can log
-- in or is a superuser is not ours: refuse rather than hand it the ledger.
--
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['aitrack_reader', 'aitrack_writer', 'aitrack_admin', 'aitrack_tenant'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) name) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', name);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_roles r
                       WHERE r.rolname OPERATOR(pg_catalog.=) name AND (r.rolcanlogin OR r.rolsuper)) THEN
            RAISE EXCEPTION 'role "%" exists and can log in or is a superuser', name
                USING ERRCODE = 'duplicate_object',
                      DETAIL = 'aitrack grants its group roles access to the ledger; they must be NOLOGIN roles.',
                      HINT = pg_catalog.format('ALTER ROLE %I NOLOGIN NOSUPERUSER, or rename it, then try again.', name);
        END IF;
    END LOOP;
    -- admin and tenant include reading and recording.
    IF NOT pg_catalog.pg_has_role('aitrack_admin', 'aitrack_reader', 'MEMBER') THEN
        GRANT aitrack_reader TO aitrack_admin;
    END IF;
    IF NOT pg_catalog.pg_has_role('aitrack_admin', 'aitrack_writer', 'MEMBER') THEN
        GRANT aitrack_writer TO aitrack_admin;
    END IF;
    IF NOT pg_catalog.pg_has_role('aitrack_tenant', 'aitrack_reader', 'MEMBER') THEN
        GRANT aitrack_reader TO aitrack_tenant;
    END IF;
    IF NOT pg_catalog.pg_has_role('aitrack_tenant', 'aitrack_writer', 'MEMBER') THEN
        GRANT aitrack_writer TO aitrack_tenant;
    END IF;
END;
$$;

--
-- ai_call.model_id: triggers instead of the foreign key, which made a
-- parallel pg_restore lose every call (src/model_link.c says why).
--
ALTER TABLE @extschema@.ai_call DROP CONSTRAINT ai_call_model_id_fkey;

-- Not SECURITY DEFINER: it must know who writes (it checks every role but
-- the owner and superusers, and then reads ai_model as the owner).
CREATE FUNCTION @extschema@.ai_call_model_check()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_call_model_check_1_4'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.ai_call_model_check() FROM PUBLIC;

CREATE TRIGGER ai_call_model_check_insert
    AFTER INSERT ON @extschema@.ai_call
    REFERENCING NEW TABLE AS aitrack_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_call_model_check();
CREATE TRIGGER ai_call_model_check_update
    AFTER UPDATE ON @extschema@.ai_call
    REFERENCING NEW TABLE AS aitrack_new
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_call_model_check();

-- Deleting a model deletes its calls, as ON DELETE CASCADE did.
CREATE FUNCTION @extschema@.ai_model_delete_calls()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM @extschema@.ai_call c
     WHERE c.model_id OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT o.id FROM aitrack_old o));
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_model_delete_calls() FROM PUBLIC;

CREATE TRIGGER ai_model_delete_calls
    AFTER DELETE ON @extschema@.ai_model
    REFERENCING OLD TABLE AS aitrack_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_model_delete_calls();

-- The id of a model that calls name does not change (the foreign key's
-- NO ACTION on update).  SECURITY DEFINER: it reads ai_call.
CREATE FUNCTION @extschema@.ai_model_keep_id()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT FROM @extschema@.ai_call c WHERE c.model_id OPERATOR(pg_catalog.=) OLD.id) THEN
        RAISE EXCEPTION 'cannot change the id of model %: calls name it', OLD.id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = pg_catalog.format('Model %s would become %s.', OLD.id, NEW.id);
    END IF;
    RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_model_keep_id() FROM PUBLIC;

CREATE TRIGGER ai_model_keep_id
    BEFORE UPDATE OF id ON @extschema@.ai_model
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION @extschema@.ai_model_keep_id();

--
-- The rollups follow every write, also under session_replication_role =
-- replica (logical replication's apply, pg_restore's data with triggers
-- kept): the stats must equal the table.
--
ALTER TABLE @extschema@.ai_call ENABLE ALWAYS TRIGGER ai_call_rollup_insert;
ALTER TABLE @extschema@.ai_call ENABLE ALWAYS TRIGGER ai_call_rollup_update;
ALTER TABLE @extschema@.ai_call ENABLE ALWAYS TRIGGER ai_call_rollup_delete;
ALTER TABLE @extschema@.ai_call ENABLE ALWAYS TRIGGER ai_call_rollup_truncate;

--
-- ai_rollup_rebuild(): the rollups of a time range computed again from
-- ai_call, for after writes with triggers disabled (pg_restore
-- --disable-triggers, ALTER TABLE ... DISABLE TRIGGER).  One UTC day per
-- transaction; recording goes on meanwhile: each day is one statement, so
-- a call committed while it runs is counted exactly once (by its own
-- trigger if the statement's snapshot does not see it, else here).  Purged
-- calls keep their numbers in ai_usage_purged, which this does not touch.
--
CREATE PROCEDURE @extschema@.ai_rollup_rebuild(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
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
        day_end := day_start OPERATOR(pg_catalog.+) '1 day'::pg_catalog.interval;
        -- No compaction meanwhile (it would fold rows this deletes).
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aitrack.ai_rollup_compact'));
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
        )
        INSERT INTO @extschema@.ai_usage_rollup
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
               pg_catalog.min(c.created_at), pg_catalog.max(c.created_at),
               @extschema@.ai_hist_merge(@extschema@.ai_hist_of(c.duration_ms, 1::pg_catalog.int4))
          FROM @extschema@.ai_call c
         WHERE c.created_at OPERATOR(pg_catalog.>=) day_start
           AND c.created_at OPERATOR(pg_catalog.<) day_end
           AND (SELECT pg_catalog.count(*) FROM gone_rollup) OPERATOR(pg_catalog.>=) 0
           AND (SELECT pg_catalog.count(*) FROM gone_total) OPERATOR(pg_catalog.>=) 0
         GROUP BY 1, 2, 3, 4, 5;
        COMMIT;
        days := days OPERATOR(pg_catalog.+) 1;
        day_start := day_end;
    END LOOP;
    RAISE NOTICE 'aitrack: rebuilt the rollups of % days; CALL ai_rollup_compact() folds them', days;
END;
$$;
REVOKE ALL ON PROCEDURE @extschema@.ai_rollup_rebuild(timestamptz, timestamptz) FROM PUBLIC;

--
-- The drop guard (src/guard.c): every table pg_dump keeps, found by OID;
-- also ALTER EXTENSION aitrack DROP TABLE and TRUNCATE.
--
CREATE OR REPLACE FUNCTION @extschema@.ai_drop_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'ai_drop_guard_1_4'
LANGUAGE C;

DROP EVENT TRIGGER aitrack_drop_guard;
CREATE EVENT TRIGGER aitrack_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP TABLE', 'DROP OWNED', 'ALTER EXTENSION', 'ALTER TABLE')
    EXECUTE FUNCTION @extschema@.ai_drop_guard();
-- Also under session_replication_role = replica.
ALTER EVENT TRIGGER aitrack_drop_guard ENABLE ALWAYS;

CREATE FUNCTION @extschema@.ai_guard_truncate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_guard_truncate_1_4'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.ai_guard_truncate() FROM PUBLIC;

CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_call
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();
CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_model
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();
CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_model_price
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();
CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_usage_purged
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();

--
-- Tenants whose users run their own SQL: each such role is one user, fixed
-- here, which nothing the role can set changes (src/tenant.c).
--
CREATE TABLE @extschema@.ai_tenant_user (
    role        pg_catalog.regrole  NOT NULL,
    user_id     uuid                NOT NULL,
    created_at  timestamptz         NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT ai_tenant_user_pkey PRIMARY KEY (role)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_tenant_user', '');
REVOKE ALL ON TABLE @extschema@.ai_tenant_user FROM PUBLIC;
CREATE TRIGGER ai_guard_truncate BEFORE TRUNCATE ON @extschema@.ai_tenant_user
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_guard_truncate();

--
-- Sane magnitudes: a cost of 9e131071 was accepted, and two of them made
-- every sum overflow.  NOT VALID: rows already there are not scanned now
-- (ALTER TABLE ... VALIDATE CONSTRAINT checks them later without blocking
-- writers); new rows are checked at once.
--
ALTER TABLE @extschema@.ai_call
    ADD CONSTRAINT ai_call_cost_usd_range
        CHECK (cost_usd OPERATOR(pg_catalog.<=) 1000000000::pg_catalog.numeric) NOT VALID;
ALTER TABLE @extschema@.ai_model_price
    ADD CONSTRAINT ai_model_price_rates_range
        CHECK (input_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND output_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND cache_read_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND cache_creation_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND reasoning_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric) NOT VALID;

--
-- record_ai_call(), explicit columns, in the types drivers send: token
-- counts bigint, cost and durations double precision (src/record.c).  The
-- same names, order and defaults as 1.1's, which it replaces; the EXECUTE
-- grants carry over by copying the ACL (see the 1.0 -> 1.1 script).
--
CREATE FUNCTION @extschema@.record_ai_call(
    modelname                    text,
    version                      text,
    prompt                       text,
    response                     jsonb,
    input_tokens                 bigint           DEFAULT NULL,
    reasoning_tokens             bigint           DEFAULT NULL,
    output_tokens                bigint           DEFAULT NULL,
    cost_usd                     double precision DEFAULT NULL,
    duration_ms                  double precision DEFAULT NULL,
    call_type                    text             DEFAULT NULL,
    status                       text             DEFAULT 'success',
    user_id                      uuid             DEFAULT NULL,
    extra                        jsonb            DEFAULT '{}',
    cache_read_input_tokens      bigint           DEFAULT NULL,
    cache_creation_input_tokens  bigint           DEFAULT NULL,
    time_to_first_token_ms       double precision DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_1_4'
LANGUAGE C VOLATILE SECURITY DEFINER;
REVOKE ALL ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision) FROM PUBLIC;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb, integer, integer, integer)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision)'::pg_catalog.regprocedure;
DROP FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb, integer, integer, integer);

-- The seed's form keeps its signature and grants; a tenant's calls are its own.
CREATE OR REPLACE FUNCTION @extschema@.record_ai_call(
    modelname  text,
    version    text,
    prompt     text,
    response   jsonb,
    metrics    jsonb,
    call_type  text DEFAULT NULL,
    user_id    uuid DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_1_4'
LANGUAGE C VOLATILE SECURITY DEFINER;

-- The same with metrics as JSON text and user_id as text: untyped fifth to
-- seventh arguments (psycopg2, node-postgres, SQLAlchemy, peewee) resolve
-- to it, where they were ambiguous between the two forms above (text wins
-- for an untyped value; uuid against bigint cannot be decided).  Its own
-- parameter name, so that PostgREST, which picks a function by the names in
-- the request, never sees two.  Whoever may call the jsonb form may call
-- this one.
CREATE FUNCTION @extschema@.record_ai_call(
    modelname     text,
    version       text,
    prompt        text,
    response      jsonb,
    metrics_json  text,
    call_type     text DEFAULT NULL,
    user_id       text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_text_1_4'
LANGUAGE C VOLATILE SECURITY DEFINER;
REVOKE ALL ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, text, text, text) FROM PUBLIC;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, text, text, text)'::pg_catalog.regprocedure;

CREATE OR REPLACE FUNCTION @extschema@.record_ai_calls(calls jsonb)
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'record_ai_calls_1_4'
LANGUAGE C VOLATILE SECURITY DEFINER;

--
-- ai_settings(): the settings and what is in force for this session.
--
CREATE FUNCTION @extschema@.ai_settings()
RETURNS TABLE (name text, setting text, effective text, description text)
AS 'MODULE_PATHNAME', 'ai_settings_1_4'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION @extschema@.ai_settings() FROM PUBLIC;

--
-- Privileges, exactly as meant, whatever ALTER DEFAULT PRIVILEGES handed
-- out when the objects were created (Supabase grants ALL on every new table
-- and function in public to its API roles).  Run at the end of this script,
-- so at every install and at the update to 1.4; later scripts replace it
-- with their own list and run it again.
--
--   - A privilege an object got when it was created (its initial privileges
--     in pg_init_privs; for the functions whose ACL an older script copied
--     by hand, the default privileges in force) that is not in the list
--     below is revoked, with a WARNING naming it.
--   - Every privilege in the list is granted.
--   - Grants a DBA made after installing are kept, and the initial
--     privileges are set to the list, so pg_dump keeps dumping the DBA's.
--
CREATE FUNCTION @extschema@.ai_reset_privileges()
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
    -- The list: (object, grantee, privilege).
    SELECT pg_catalog.array_agg(l.obj), pg_catalog.array_agg(l.grantee), pg_catalog.array_agg(l.privilege)
      INTO objs, grantees, privileges
      FROM (VALUES
        -- recording
        ('@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
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
        ('@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_price_at(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_settings()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        -- administration: prices, repricing, compaction, retention, tenants
        ('@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_reprice(timestamptz, timestamptz, boolean)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_compact()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_rebuild(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
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
        ('@extschema@.ai_tenant_user_id()'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE')
      ) AS l(obj, grantee, privilege);

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
           AND (p.oid IS NOT NULL OR c.relkind OPERATOR(pg_catalog.=) ANY ('{r,S}'::pg_catalog."char"[]))
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
            revoked := revoked OPERATOR(pg_catalog.||) entry.grantee_name;
        END LOOP;

        -- Grant the list.
        FOR entry IN
            SELECT l.grantee, l.privilege
              FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
             WHERE l.obj OPERATOR(pg_catalog.=) member.objid
        LOOP
            EXECUTE pg_catalog.format('GRANT %s ON %s TO %s', entry.privilege, member.target, entry.grantee);
        END LOOP;
        -- A function the list does not open to PUBLIC is closed to it.
        IF member.kind OPERATOR(pg_catalog.=) 'f' AND NOT EXISTS (
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
        RAISE WARNING 'aitrack revoked % privileges that default privileges had given when its objects were created',
                      pg_catalog.cardinality(revoked)
            USING DETAIL = (SELECT 'Revoked from: ' OPERATOR(pg_catalog.||)
                                   pg_catalog.string_agg(pg_catalog.format('%s (%s)', g.name, g.n), ', ' ORDER BY g.name)
                                   OPERATOR(pg_catalog.||) '.'
                              FROM (SELECT r AS name, pg_catalog.count(*) AS n
                                      FROM pg_catalog.unnest(revoked) AS r GROUP BY r) AS g),
                  HINT = 'Grant aitrack_reader, aitrack_writer, aitrack_admin or aitrack_tenant to the roles that need them.';
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_reset_privileges() FROM PUBLIC;

SELECT @extschema@.ai_reset_privileges();
