/* aitrack 1.3 -> 1.4: safe in the field (privileges, parallel restore, tenancy and content policy from the catalog, drivers, guard). */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.4'" to load this file. \quit

-- Nothing here scans ai_call (the new constraints are NOT VALID; see
-- README's Upgrade): on a ledger of 1M calls the update takes 30 ms.

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
                       WHERE r.rolname OPERATOR(pg_catalog.=) name
                         AND (r.rolcanlogin OR r.rolsuper OR r.rolcreaterole OR r.rolbypassrls)) THEN
            RAISE EXCEPTION 'role "%" exists and can log in, create roles or bypass row security, or is a superuser', name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'aitrack grants its group roles access to the ledger; they must be plain NOLOGIN roles.',
                      HINT = pg_catalog.format('ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS, or rename it, then try again.', name);
        ELSIF EXISTS (SELECT FROM pg_catalog.pg_auth_members m
                        JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) m.member
                       WHERE m.roleid OPERATOR(pg_catalog.=) (SELECT o.oid FROM pg_catalog.pg_roles o
                                                              WHERE o.rolname OPERATOR(pg_catalog.=) name)
                         AND m.admin_option AND NOT r.rolsuper) THEN
            -- Whoever created the role (CREATEROLE, from 16) holds ADMIN
            -- OPTION on it and could grant it to anyone once it opens the ledger.
            RAISE EXCEPTION 'role "%" exists and a role that is not a superuser may grant it', name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Someone other than a superuser created it, or was given ADMIN OPTION on it.',
                      HINT = pg_catalog.format('Drop it, or revoke ADMIN OPTION FOR %I from those roles, then try again.', name);
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
-- Every table this script alters, locked at once, in the order recording
-- takes them (prices when it computes a cost, then calls, then models):
-- taken one by one in script order, a session recording a call meanwhile
-- could hold one this script waits for while waiting for one it holds.
-- Should a deadlock still happen, this script is the one to give way (it
-- checks first): ALTER EXTENSION UPDATE fails and can be run again, and no
-- call is lost.  The setting and the locks last until the update commits.
--
SET LOCAL deadlock_timeout = '10ms';
LOCK TABLE @extschema@.ai_model_price, @extschema@.ai_call, @extschema@.ai_model,
           @extschema@.ai_usage_purged IN ACCESS EXCLUSIVE MODE;

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

-- Deleting a model deletes its calls, as ON DELETE CASCADE did (with the
-- latest snapshot, as the foreign key's action did: src/model_link.c).
-- SECURITY DEFINER: whoever may delete a model deletes its calls.
CREATE FUNCTION @extschema@.ai_model_delete_calls()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_model_delete_calls_1_4'
LANGUAGE C SECURITY DEFINER;
REVOKE ALL ON FUNCTION @extschema@.ai_model_delete_calls() FROM PUBLIC;

CREATE TRIGGER ai_model_delete_calls
    AFTER DELETE ON @extschema@.ai_model
    REFERENCING OLD TABLE AS aitrack_old
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_model_delete_calls();

-- The id of a model that calls name does not change (the foreign key's
-- NO ACTION on update).  SECURITY DEFINER: it reads ai_call.
CREATE FUNCTION @extschema@.ai_model_keep_id()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_model_keep_id_1_4'
LANGUAGE C SECURITY DEFINER;
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
        -- 24 hours, not '1 day': a day of the session's time zone may be 23 or 25.
        day_end := day_start OPERATOR(pg_catalog.+) '24 hours'::pg_catalog.interval;
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
REVOKE ALL ON FUNCTION @extschema@.ai_reset_privileges() FROM PUBLIC;

SELECT @extschema@.ai_reset_privileges();

--
-- Comments on every object, so that psql's \d+ and \df+ say what each one
-- is for.  (Event triggers, and the names of triggers and policies, have no
-- schema: those take the schema of their table only.)
--

--
-- Tables
--
COMMENT ON TABLE @extschema@.ai_model IS 'AI models that calls were recorded for, one row per (modelname, version); record_ai_call() and record_ai_calls() create the row on a model''s first call.';
COMMENT ON TABLE @extschema@.ai_call IS 'The ledger: one row per call to an AI model, with its prompt, response, token counts, cost in USD, latency in milliseconds, status and the user who caused it.';
COMMENT ON TABLE @extschema@.ai_model_price IS 'Prices of a model in USD per million tokens (0 to 1e6, constraint ai_model_price_rates_range), each in force from valid_from (inclusive) until valid_until (exclusive); no two prices of one model overlap.';
COMMENT ON TABLE @extschema@.ai_usage_rollup IS 'Usage per UTC hour, model, call_type, status and user: exact counts and sums of the calls and a latency histogram. Triggers on ai_call append pending rows (negative for removed calls) and ai_rollup_compact() folds them into one row per group.';
COMMENT ON TABLE @extschema@.ai_usage_rollup_total IS 'Usage per UTC hour, model, call_type and status: the compacted rows of ai_usage_rollup summed over users, which ai_rollup_compact() keeps up to date; closed to tenants.';
COMMENT ON TABLE @extschema@.ai_usage_purged IS 'Usage per UTC hour, model, call_type, status and user of the calls that ai_purge_calls() deleted, kept for good (and by pg_dump) so that ai_usage_stats() still counts them.';
COMMENT ON TABLE @extschema@.ai_tenant_user IS 'Maps a database role to the one user whose calls it sees and records when it is a tenant; this mapping takes precedence over auth.uid() and aitrack.user_id.';

--
-- Columns of ai_model
--
COMMENT ON COLUMN @extschema@.ai_model.id IS 'Primary key, from ai_model_id_seq; ai_call.model_id refers to it.';
COMMENT ON COLUMN @extschema@.ai_model.created_at IS 'When the row was created.';
COMMENT ON COLUMN @extschema@.ai_model.updated_at IS 'When the row was last updated; set to now() on every UPDATE by the trigger ai_model_touch_updated_at.';
COMMENT ON COLUMN @extschema@.ai_model.modelname IS 'Model name, 1 to 256 characters, e.g. gpt-4o or claude-3-5-sonnet; unique together with version.';
COMMENT ON COLUMN @extschema@.ai_model.version IS 'Model version, 1 to 256 characters, e.g. 2024-08-06; unique together with modelname.';
COMMENT ON COLUMN @extschema@.ai_model.extra IS 'Anything else about the model, as a JSON object; {} by default.';

--
-- Columns of ai_call
--
COMMENT ON COLUMN @extschema@.ai_call.id IS 'Primary key, from ai_call_id_seq; record_ai_call() and record_ai_calls() return it.';
COMMENT ON COLUMN @extschema@.ai_call.created_at IS 'When the call was recorded, or the created_at given to record_ai_calls() for a backfill; it picks the price that applies and the UTC hour of the rollups.';
COMMENT ON COLUMN @extschema@.ai_call.updated_at IS 'When the row was last updated; set to now() on every UPDATE by the trigger ai_call_touch_updated_at.';
COMMENT ON COLUMN @extschema@.ai_call.model_id IS 'The ai_model row of the model called. The triggers ai_call_model_check_insert and ai_call_model_check_update refuse an id not in ai_model (no foreign key), and deleting the model deletes the call.';
COMMENT ON COLUMN @extschema@.ai_call.prompt IS 'The prompt sent to the model: as given, sha256:<hex> under aitrack.store_content = hash, or an empty string under none and after ai_purge_content().';
COMMENT ON COLUMN @extschema@.ai_call.response IS 'The model''s response, any JSON value: as given, {"sha256": "<hex>"} under aitrack.store_content = hash, or JSON null under none and after ai_purge_content().';
COMMENT ON COLUMN @extschema@.ai_call.input_tokens IS 'Input tokens of the call, prompt-cache reads and writes included; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.reasoning_tokens IS 'Reasoning tokens of the call, counted inside output_tokens; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.output_tokens IS 'Output tokens of the call, reasoning tokens included; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.cost_usd IS 'Cost of the call in USD, exact numeric, from 0 to 1e9 (constraint ai_call_cost_usd_range); NULL when unknown, and cost_source says where it came from.';
COMMENT ON COLUMN @extschema@.ai_call.duration_ms IS 'Latency of the call in whole milliseconds; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.call_type IS 'Purpose of the call as the application names it, e.g. translation; 1 to 256 characters.';
COMMENT ON COLUMN @extschema@.ai_call.status IS 'Outcome of the call: success, error, timeout, cancelled, rate_limited or filtered; record_ai_call() defaults it to success.';
COMMENT ON COLUMN @extschema@.ai_call.user_id IS 'The application user who caused the call; a tenant sees and records only the calls of its own user.';
COMMENT ON COLUMN @extschema@.ai_call.extra IS 'Anything else about the call, as a JSON object; {} by default.';
COMMENT ON COLUMN @extschema@.ai_call.cache_read_input_tokens IS 'Input tokens read from the provider''s prompt cache, counted inside input_tokens; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.cache_creation_input_tokens IS 'Input tokens written to the provider''s prompt cache, counted inside input_tokens; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.time_to_first_token_ms IS 'Milliseconds until the first token of a streamed call; NULL when unknown, never negative.';
COMMENT ON COLUMN @extschema@.ai_call.cost_source IS 'Where cost_usd came from: provided (given by the caller), computed (from ai_model_price) or unknown (cost_usd is NULL); NULL for rows written without record_ai_call().';

--
-- Columns of ai_model_price
--
COMMENT ON COLUMN @extschema@.ai_model_price.id IS 'Primary key, from ai_model_price_id_seq.';
COMMENT ON COLUMN @extschema@.ai_model_price.created_at IS 'When the row was created.';
COMMENT ON COLUMN @extschema@.ai_model_price.updated_at IS 'When the row was last updated; set to now() on every UPDATE by the trigger ai_model_price_touch_updated_at.';
COMMENT ON COLUMN @extschema@.ai_model_price.model IS 'Model as providers name it, e.g. gpt-4o or claude-3-5-sonnet-20241022; covers the ai_model rows whose modelname, or modelname-version, equals it, the version-specific price winning.';
COMMENT ON COLUMN @extschema@.ai_model_price.valid_from IS 'Start of the time the price is in force, inclusive, compared with ai_call.created_at; -infinity by default.';
COMMENT ON COLUMN @extschema@.ai_model_price.valid_until IS 'End of the time the price is in force, exclusive; infinity by default.';
COMMENT ON COLUMN @extschema@.ai_model_price.input_usd_per_mtok IS 'USD per million input tokens, for the input tokens not read from or written to the prompt cache, and for cache tokens whose own rate is NULL.';
COMMENT ON COLUMN @extschema@.ai_model_price.output_usd_per_mtok IS 'USD per million output tokens, for the output tokens that are not reasoning tokens, and for reasoning tokens when reasoning_usd_per_mtok is NULL.';
COMMENT ON COLUMN @extschema@.ai_model_price.cache_read_usd_per_mtok IS 'USD per million input tokens read from the prompt cache; NULL: input_usd_per_mtok applies.';
COMMENT ON COLUMN @extschema@.ai_model_price.cache_creation_usd_per_mtok IS 'USD per million input tokens written to the prompt cache; NULL: input_usd_per_mtok applies.';
COMMENT ON COLUMN @extschema@.ai_model_price.reasoning_usd_per_mtok IS 'USD per million reasoning tokens; NULL: output_usd_per_mtok applies.';
COMMENT ON COLUMN @extschema@.ai_model_price.source IS 'Where the price came from; ai_load_prices() writes its source argument, litellm by default.';
COMMENT ON COLUMN @extschema@.ai_model_price.extra IS 'Anything else about the price, as a JSON object; {} by default.';

--
-- Columns of ai_usage_rollup
--
COMMENT ON COLUMN @extschema@.ai_usage_rollup.bucket IS 'Start of the UTC hour the calls were made in.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.model_id IS 'The ai_model id of the calls.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.call_type IS 'The call_type of the calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.status IS 'The status of the calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.user_id IS 'The user_id of the calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.pending IS 'True for a row appended by the rollup triggers and not yet folded by ai_rollup_compact(); false for the one compacted row of its group.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.calls IS 'Number of calls; negative in a pending row for calls removed.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.input_tokens IS 'Sum of input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.input_tokens_n IS 'Number of calls whose input_tokens is not NULL, so that a sum over NULLs only stays NULL in the stats.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.reasoning_tokens IS 'Sum of reasoning_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.reasoning_tokens_n IS 'Number of calls whose reasoning_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.output_tokens IS 'Sum of output_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.output_tokens_n IS 'Number of calls whose output_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_read_input_tokens IS 'Sum of cache_read_input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_read_input_tokens_n IS 'Number of calls whose cache_read_input_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_creation_input_tokens IS 'Sum of cache_creation_input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_creation_input_tokens_n IS 'Number of calls whose cache_creation_input_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cost_usd IS 'Sum of cost_usd in USD, exact numeric, over the calls that have a cost; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cost_usd_n IS 'Number of calls whose cost_usd is not NULL; calls minus this is the number of unpriced calls.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.duration_ms IS 'Sum of duration_ms in milliseconds over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.duration_ms_n IS 'Number of calls whose duration_ms is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.time_to_first_token_ms IS 'Sum of time_to_first_token_ms in milliseconds over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.time_to_first_token_ms_n IS 'Number of calls whose time_to_first_token_ms is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.first_call IS 'created_at of the earliest call of the group; after calls are removed it may name a removed one until the next ai_rollup_compact().';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.last_call IS 'created_at of the latest call of the group; after calls are removed it may name a removed one until the next ai_rollup_compact().';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.latency IS 'Histogram of duration_ms: an int4[] of (bucket, count) pairs, one bucket per millisecond below 100 ms and buckets 2% wide above; see ai_hist_percentile().';

--
-- Columns of ai_usage_rollup_total (compacted rows only; no user, no pending)
--
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.bucket IS 'Start of the UTC hour the calls were made in.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.model_id IS 'The ai_model id of the calls.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.call_type IS 'The call_type of the calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.status IS 'The status of the calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.calls IS 'Number of calls, over all users.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.input_tokens IS 'Sum of input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.input_tokens_n IS 'Number of calls whose input_tokens is not NULL, so that a sum over NULLs only stays NULL in the stats.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.reasoning_tokens IS 'Sum of reasoning_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.reasoning_tokens_n IS 'Number of calls whose reasoning_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.output_tokens IS 'Sum of output_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.output_tokens_n IS 'Number of calls whose output_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_read_input_tokens IS 'Sum of cache_read_input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_read_input_tokens_n IS 'Number of calls whose cache_read_input_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_creation_input_tokens IS 'Sum of cache_creation_input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_creation_input_tokens_n IS 'Number of calls whose cache_creation_input_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cost_usd IS 'Sum of cost_usd in USD, exact numeric, over the calls that have a cost; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cost_usd_n IS 'Number of calls whose cost_usd is not NULL; calls minus this is the number of unpriced calls.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.duration_ms IS 'Sum of duration_ms in milliseconds over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.duration_ms_n IS 'Number of calls whose duration_ms is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.time_to_first_token_ms IS 'Sum of time_to_first_token_ms in milliseconds over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.time_to_first_token_ms_n IS 'Number of calls whose time_to_first_token_ms is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.first_call IS 'created_at of the earliest call of the group.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.last_call IS 'created_at of the latest call of the group.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.latency IS 'Histogram of duration_ms: an int4[] of (bucket, count) pairs, one bucket per millisecond below 100 ms and buckets 2% wide above; see ai_hist_percentile().';

--
-- Columns of ai_usage_purged (no pending column)
--
COMMENT ON COLUMN @extschema@.ai_usage_purged.bucket IS 'Start of the UTC hour the purged calls were made in.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.model_id IS 'The ai_model id of the purged calls.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.call_type IS 'The call_type of the purged calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.status IS 'The status of the purged calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.user_id IS 'The user_id of the purged calls; NULL is a group of its own.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.calls IS 'Number of calls purged.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.input_tokens IS 'Sum of input_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.input_tokens_n IS 'Number of purged calls whose input_tokens was not NULL, so that a sum over NULLs only stays NULL in the stats.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.reasoning_tokens IS 'Sum of reasoning_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.reasoning_tokens_n IS 'Number of purged calls whose reasoning_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.output_tokens IS 'Sum of output_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.output_tokens_n IS 'Number of purged calls whose output_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_read_input_tokens IS 'Sum of cache_read_input_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_read_input_tokens_n IS 'Number of purged calls whose cache_read_input_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_creation_input_tokens IS 'Sum of cache_creation_input_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_creation_input_tokens_n IS 'Number of purged calls whose cache_creation_input_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cost_usd IS 'Sum of cost_usd in USD, exact numeric, over the purged calls that had a cost; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cost_usd_n IS 'Number of purged calls whose cost_usd was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.duration_ms IS 'Sum of duration_ms in milliseconds over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.duration_ms_n IS 'Number of purged calls whose duration_ms was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.time_to_first_token_ms IS 'Sum of time_to_first_token_ms in milliseconds over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.time_to_first_token_ms_n IS 'Number of purged calls whose time_to_first_token_ms was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.first_call IS 'created_at of the earliest purged call of the group.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.last_call IS 'created_at of the latest purged call of the group.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.latency IS 'Histogram of the purged calls'' duration_ms: an int4[] of (bucket, count) pairs, one bucket per millisecond below 100 ms and buckets 2% wide above.';

--
-- Columns of ai_tenant_user (1.4)
--
COMMENT ON COLUMN @extschema@.ai_tenant_user.role IS 'The database role the mapping is for; primary key.';
COMMENT ON COLUMN @extschema@.ai_tenant_user.user_id IS 'The user whose calls the role sees, and records, when it is a tenant (compared with ai_call.user_id).';
COMMENT ON COLUMN @extschema@.ai_tenant_user.created_at IS 'When the mapping was created.';

--
-- Sequences
--
COMMENT ON SEQUENCE @extschema@.ai_model_id_seq IS 'Ids of ai_model rows (ai_model.id); pg_dump keeps its position.';
COMMENT ON SEQUENCE @extschema@.ai_call_id_seq IS 'Ids of ai_call rows (ai_call.id); pg_dump keeps its position.';
COMMENT ON SEQUENCE @extschema@.ai_model_price_id_seq IS 'Ids of ai_model_price rows (ai_model_price.id); pg_dump keeps its position.';

--
-- Recording
--
COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision) IS 'Records one call from explicit arguments and returns its ai_call.id, creating the ai_model row on first use: token counts as bigint, cost_usd in USD (kept as the shortest decimal that reads back as the same double), durations in milliseconds rounded to whole ms; without a cost it prices the call from ai_model_price, and without token counts it reads them from the usage object in response. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid) IS 'Records one call in the seed''s shape, the metrics as one jsonb object (input_tokens, reasoning_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, cost_usd in USD, duration_ms and time_to_first_token_ms in milliseconds, status, extra), and returns its ai_call.id. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, text, text, text) IS 'Records one call as the jsonb metrics form does, with the metrics given as JSON text in metrics_json: the form that an untyped fifth argument from a driver resolves to; returns its ai_call.id. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.record_ai_calls(jsonb) IS 'Records a JSON array of calls in one statement, all or nothing, and returns their ai_call ids in order; each element takes the argument names of record_ai_call() as keys, plus created_at for backfills. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (an element without user_id gets the tenant''s user).';

--
-- Stats
--
COMMENT ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text) IS 'Calls, errors, token sums, cost in USD and latency in milliseconds (mean, p50, p95, p99) of the calls made from since (inclusive) to until (exclusive), grouped by any of model, modelname, call_type, status, user and one hour, day, week or month bucket cut in time zone tz; whole hours come from the rollups, and purged calls count. SECURITY INVOKER: the caller''s privileges and row-level security apply, so it needs SELECT on ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total and ai_usage_purged (aitrack_reader), and a tenant gets its own user''s calls only.';

--
-- Prices and repricing
--
COMMENT ON FUNCTION @extschema@.ai_price_at(text, text, timestamptz) IS 'The ai_model_price row in force for a model (modelname, version) at a moment, a price named modelname-version winning over one named modelname; NULL when there is none. SECURITY INVOKER: the caller''s privileges apply (SELECT on ai_model_price).';
COMMENT ON FUNCTION @extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer) IS 'Cost in USD (exact numeric) of a call with these input, cache read, cache creation, output and reasoning token counts at this price (rates per million tokens), as record_ai_call() computes it; NULL when the price, input_tokens or output_tokens is NULL or the counts contradict each other. Reads no table.';
COMMENT ON FUNCTION @extschema@.ai_load_prices(jsonb, timestamptz, text) IS 'Loads a price map in the format of LiteLLM''s model_prices_and_context_window.json (USD per token, stored per million tokens) into ai_model_price and returns per model what it did: added, changed (the price in force ends at valid_from, default now), unchanged or skipped. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_reprice(timestamptz, timestamptz, boolean) IS 'Recomputes, from the price in force at each call''s created_at, the cost in USD of the calls made from since (inclusive) to until (exclusive) whose cost_source is computed or unknown, never a provided cost, and returns the counts and USD totals before and after; dry_run (the default) only reports. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';

--
-- Latency histograms (int4[] of (bucket, count) pairs; pure, executable by PUBLIC)
--
COMMENT ON FUNCTION @extschema@.ai_hist_of(integer, integer) IS 'Latency histogram of one duration in milliseconds counted weight times: a (bucket, count) pair as int4[]; NULL when either argument is NULL or weight is 0. Pure function, executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_hist_add(integer[], integer[]) IS 'The sum of two latency histograms (int4[] of (bucket, count) pairs), count by count; NULL when no count is left. Pure function, executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_hist_percentile(integer[], double precision) IS 'The percentile fraction (0 to 1) of a latency histogram, in milliseconds, as percentile_cont with each value replaced by its bucket''s: exact below 100 ms, within 1% above; NULL for an empty histogram. Pure function, executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_hist_accum(internal, integer[]) IS 'State transition function of the aggregate ai_hist_merge(integer[]); not for direct calls.';
COMMENT ON FUNCTION @extschema@.ai_hist_final(internal) IS 'Final function of the aggregate ai_hist_merge(integer[]): the merged latency histogram as int4[] of (bucket, count) pairs; not for direct calls.';
COMMENT ON AGGREGATE @extschema@.ai_hist_merge(integer[]) IS 'Merges latency histograms (int4[] of (bucket, count) pairs, counts possibly negative) into one by adding their counts. Executable by PUBLIC.';

--
-- Rollups
--
COMMENT ON FUNCTION @extschema@.ai_rollup_compact() IS 'Folds the pending rows of ai_usage_rollup into one row per group, and into ai_usage_rollup_total, and returns the number of pending rows folded; safe from several sessions at once (all but one return 0), to run every minute or so. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON PROCEDURE @extschema@.ai_rollup_rebuild(timestamptz, timestamptz) IS 'Recomputes the pending rollup rows of whole UTC days from since to until (default: all) from ai_call, one day per transaction, after writes that skipped the rollup triggers (pg_restore --disable-triggers, ALTER TABLE ... DISABLE TRIGGER); ai_rollup_compact() then folds them. Purged numbers (ai_usage_purged) are not touched. CALL it outside a transaction block; SECURITY INVOKER (aitrack_admin).';

--
-- Retention
--
COMMENT ON PROCEDURE @extschema@.ai_purge_calls(timestamptz, integer) IS 'Deletes the calls made before older_than, batch_size at a time with a COMMIT after each batch, and moves their numbers to ai_usage_purged so that ai_usage_stats() still counts them; CALL it outside a transaction block. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON PROCEDURE @extschema@.ai_purge_content(timestamptz, integer) IS 'Replaces the prompt with an empty string and the response with JSON null in the calls made before older_than, batch_size at a time with a COMMIT after each batch, keeping every number; CALL it outside a transaction block. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';

--
-- Tenants and settings
--
COMMENT ON FUNCTION @extschema@.ai_tenant_mode() IS 'True when this session is a tenant''s: its current, SET ROLE or login role is not a superuser and is a member of aitrack_tenant or has aitrack.tenant = on from ALTER ROLE ... SET. Read by the row-level security policies; executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_tenant_user_id() IS 'The user a tenant sees: its role''s row in ai_tenant_user, else auth.uid() where that exists and a superuser owns it, else aitrack.user_id; NULL for a tenant without a user (it sees nothing) and for every session that is not a tenant''s. Read by the row-level security policies; executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_settings() IS 'Lists the aitrack settings, each with its value in this session (setting, as SHOW gives it), what aitrack goes by for this session (effective: for store_content and tenant read from what ALTER ROLE/DATABASE stored) and a description; calling it loads the library, so it works in a fresh session where SHOW aitrack.x does not yet. aitrack_reader.';

--
-- Trigger functions
--
COMMENT ON FUNCTION @extschema@.ai_touch_updated_at() IS 'Trigger function: sets updated_at to now() on every UPDATE of a row of ai_model, ai_call or ai_model_price.';
COMMENT ON FUNCTION @extschema@.ai_rollup_capture() IS 'Trigger function of the ai_call_rollup_* triggers: appends pending ai_usage_rollup rows for the calls each statement inserted, updated or deleted, and empties ai_usage_rollup and ai_usage_rollup_total on TRUNCATE. SECURITY DEFINER: it writes the rollup tables with the rights of the extension''s owner.';
COMMENT ON FUNCTION @extschema@.ai_call_model_check() IS 'Trigger function of ai_call_model_check_insert and ai_call_model_check_update: for writers other than the owner and superusers, locks the named models FOR KEY SHARE and refuses calls whose model_id is not in ai_model, waiting first for a concurrent load of ai_model.';
COMMENT ON FUNCTION @extschema@.ai_model_delete_calls() IS 'Trigger function of ai_model_delete_calls: deletes the calls of the models a statement deleted.';
COMMENT ON FUNCTION @extschema@.ai_guard_truncate() IS 'Trigger function of the ai_guard_truncate triggers: refuses TRUNCATE of a table pg_dump keeps (ai_call, ai_model, ai_model_price, ai_usage_purged, ai_tenant_user) while it holds rows, unless aitrack.allow_drop is on.';
COMMENT ON FUNCTION @extschema@.ai_drop_guard() IS 'Event trigger function of aitrack_drop_guard: loads the aitrack library, whose check refuses to drop a table pg_dump keeps, or one of its columns, while it holds rows unless aitrack.allow_drop is on, and refuses ALTER EXTENSION aitrack DROP TABLE of such a table.';

--
-- Triggers
--
COMMENT ON TRIGGER ai_model_touch_updated_at ON @extschema@.ai_model IS 'Sets updated_at to now() before every UPDATE of a row.';
COMMENT ON TRIGGER ai_model_price_touch_updated_at ON @extschema@.ai_model_price IS 'Sets updated_at to now() before every UPDATE of a row.';
COMMENT ON TRIGGER ai_call_touch_updated_at ON @extschema@.ai_call IS 'Sets updated_at to now() before every UPDATE of a row.';
COMMENT ON TRIGGER ai_call_rollup_insert ON @extschema@.ai_call IS 'After each INSERT statement, appends the pending ai_usage_rollup rows of the new calls (transition table aitrack_new).';
COMMENT ON TRIGGER ai_call_rollup_update ON @extschema@.ai_call IS 'After each UPDATE statement, appends pending ai_usage_rollup rows that remove the old rows of the calls and add the new ones.';
COMMENT ON TRIGGER ai_call_rollup_delete ON @extschema@.ai_call IS 'After each DELETE statement, appends pending ai_usage_rollup rows with negative counts for the deleted calls (transition table aitrack_old).';
COMMENT ON TRIGGER ai_call_rollup_truncate ON @extschema@.ai_call IS 'After TRUNCATE of ai_call, empties ai_usage_rollup and ai_usage_rollup_total.';
COMMENT ON TRIGGER ai_call_model_check_insert ON @extschema@.ai_call IS 'After each INSERT statement, refuses new calls whose model_id is not in ai_model (in place of a foreign key; the owner''s and superusers'' writes, restores among them, are not checked).';
COMMENT ON TRIGGER ai_call_model_check_update ON @extschema@.ai_call IS 'After each UPDATE statement, refuses updated calls whose model_id is not in ai_model (in place of a foreign key; not for the owner and superusers).';
COMMENT ON TRIGGER ai_model_delete_calls ON @extschema@.ai_model IS 'After each DELETE statement, deletes the calls of the deleted models (in place of a foreign key''s ON DELETE CASCADE).';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_call IS 'Before TRUNCATE, refuses to empty ai_call while it holds calls unless aitrack.allow_drop is on (ai_purge_calls() keeps their numbers).';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_usage_purged IS 'Before TRUNCATE, refuses to empty ai_usage_purged while it holds rows unless aitrack.allow_drop is on.';

--
-- Row-level security policies
--
COMMENT ON POLICY ai_call_tenant ON @extschema@.ai_call IS 'A tenant sees only the calls whose user_id is its user (ai_tenant_user_id()); sessions that are not a tenant''s are not restricted.';
COMMENT ON POLICY ai_usage_rollup_tenant ON @extschema@.ai_usage_rollup IS 'A tenant sees only the rollup rows whose user_id is its user (ai_tenant_user_id()); sessions that are not a tenant''s are not restricted.';
COMMENT ON POLICY ai_usage_purged_tenant ON @extschema@.ai_usage_purged IS 'A tenant sees only the purged numbers whose user_id is its user (ai_tenant_user_id()); sessions that are not a tenant''s are not restricted.';
COMMENT ON POLICY ai_usage_rollup_total_tenant ON @extschema@.ai_usage_rollup_total IS 'Closes the sums over all users to tenants; sessions that are not a tenant''s are not restricted.';

--
-- Event trigger (database-wide: no schema)
--
COMMENT ON EVENT TRIGGER aitrack_drop_guard IS 'Loads the aitrack library before the commands that can drop, alter or detach the ledger tables, so that its check refuses them while a table pg_dump keeps holds rows unless aitrack.allow_drop is on; enabled ALWAYS, so session_replication_role does not turn it off.';

-- Added with the 1.4 script's own objects.
COMMENT ON FUNCTION @extschema@.ai_model_keep_id() IS 'Trigger function of ai_model_keep_id: refuses to change the id of a model that calls name (the foreign key''s NO ACTION on update). SECURITY DEFINER: it reads ai_call.';
COMMENT ON TRIGGER ai_model_keep_id ON @extschema@.ai_model IS 'Before an UPDATE that changes a model''s id, refuses it while calls name the model.';
COMMENT ON FUNCTION @extschema@.ai_reset_privileges() IS 'Sets the privileges of every object of the extension to exactly the ones it means (the group roles aitrack_reader, aitrack_writer, aitrack_admin and the pure helpers for PUBLIC), revoking what ALTER DEFAULT PRIVILEGES handed out at creation and keeping grants made after installing; run by each install and update script. Owner only.';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_model IS 'Before TRUNCATE, refuses to empty ai_model while it holds models unless aitrack.allow_drop is on.';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_model_price IS 'Before TRUNCATE, refuses to empty ai_model_price while it holds prices unless aitrack.allow_drop is on.';
COMMENT ON TRIGGER ai_guard_truncate ON @extschema@.ai_tenant_user IS 'Before TRUNCATE, refuses to empty ai_tenant_user while it holds rows unless aitrack.allow_drop is on.';
