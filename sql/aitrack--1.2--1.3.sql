/* aitrack 1.2 -> 1.3: tenant isolation, a guard against dropping the ledger. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.3'" to load this file. \quit

--
-- Tenants.  (The policies wrap the functions in scalar subqueries, so they
-- run once per query rather than once per row.)  A role with aitrack.tenant = on (ALTER ROLE ... SET, superuser
-- only) sees and aggregates only the calls of the user in aitrack.user_id
-- (or auth.uid(), where that exists); with neither, it sees nothing.  Other
-- roles are not affected.  See src/guard.c.
--
CREATE FUNCTION @extschema@.ai_tenant_mode()
RETURNS boolean
AS 'MODULE_PATHNAME', 'ai_tenant_mode_1_3'
LANGUAGE C STABLE PARALLEL SAFE;

-- PARALLEL RESTRICTED: it may call auth.uid(), whose safety we can't know.
CREATE FUNCTION @extschema@.ai_tenant_user_id()
RETURNS uuid
AS 'MODULE_PATHNAME', 'ai_tenant_user_id_1_3'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- Every role that may read the tables must be able to evaluate the policy.
GRANT EXECUTE ON FUNCTION @extschema@.ai_tenant_mode(), @extschema@.ai_tenant_user_id() TO PUBLIC;

ALTER TABLE @extschema@.ai_call ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_call_tenant ON @extschema@.ai_call
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR user_id OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id()));

ALTER TABLE @extschema@.ai_usage_rollup ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_rollup_tenant ON @extschema@.ai_usage_rollup
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR user_id OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id()));

ALTER TABLE @extschema@.ai_usage_purged ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_purged_tenant ON @extschema@.ai_usage_purged
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR user_id OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id()));

-- The sums over all users are not for tenants.
ALTER TABLE @extschema@.ai_usage_rollup_total ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_usage_rollup_total_tenant ON @extschema@.ai_usage_rollup_total
    USING ((SELECT NOT @extschema@.ai_tenant_mode()));

--
-- DROP EXTENSION aitrack (or a DROP SCHEMA ... CASCADE reaching it) is
-- refused while ai_call holds calls, unless aitrack.allow_drop = on.  The
-- check is an object access hook in the library; this event trigger makes
-- sure the library is loaded before any such command runs.
--
CREATE FUNCTION @extschema@.ai_drop_guard()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'ai_drop_guard_1_3'
LANGUAGE C;
REVOKE ALL ON FUNCTION @extschema@.ai_drop_guard() FROM PUBLIC;

CREATE EVENT TRIGGER aitrack_drop_guard ON ddl_command_start
    WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP TABLE', 'DROP OWNED')
    EXECUTE FUNCTION @extschema@.ai_drop_guard();
-- Also under session_replication_role = replica.
ALTER EVENT TRIGGER aitrack_drop_guard ENABLE ALWAYS;
