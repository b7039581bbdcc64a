/*
 * tenant_citus.c
 *		What keeps a tenant's session off a distributed ai_call (1.10), on
 *		the coordinator: its statements on ai_call are refused before Citus
 *		sends anything to a worker.
 *
 * Citus runs what a session sends to the workers as the session's current
 * role alone.  There, a tenant that did SET ROLE to a role that is no
 * tenant would be that role, and the tenant's user cannot be known
 * (ai_tenant_user is the coordinator's; what a session can set is no
 * proof).  So on the coordinator a tenant's session (tenant.c: its current,
 * SET ROLE or login role is a tenant) may not reach the distributed
 * ai_call but through aitrack's SECURITY DEFINER functions, which run as
 * ai_call's owner and check the tenant's user themselves.  Three doors are
 * watched:
 *	- the executor (ExecutorCheckPerms_hook): every planned statement that
 *	  names ai_call, views and SECURITY DEFINER functions of other roles
 *	  included, and Citus's COPY FROM, which checks through it;
 *	- COPY ai_call TO (ProcessUtility_hook): Citus copies the shards out
 *	  itself, checking nothing on the coordinator;
 *	- master_run_on_worker() (object_access_hook, as it is set up to run):
 *	  it runs any command on any node as the current role, and Citus's
 *	  run_command_on_shards(), _placements(), _workers(), _all_nodes() and
 *	  _coordinator() all go through it.
 * A role that a tenant role is a member of (a tenant could SET ROLE to
 * it) is refused the distributed ai_call too.
 *
 * Behind them, on the workers, for what no door here sees (a function
 * Citus delegates to the worker holding a shard: the coordinator's
 * statement names no table), the same executor hook refuses the shards
 * (ai_call_<digits> in ai_call's schema, listed by Citus or left behind
 * by a split or a move) to a session whose login, SET ROLE or current role
 * is a tenant or a role a tenant role is a member of, and the shards'
 * policy hides every call from them (tenant.c, ai_tenant_mode()); the
 * hook holds where the policy does not, for a role with BYPASSRLS.
 *
 * The hooks must be in every session from its start: aitrack in
 * shared_preload_libraries, which aitrack_distribute() insists on (and
 * ai_calls_distributed() checks).  Citus must be loaded first, so these
 * hooks run before Citus's.
 */
#include "aitrack.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static ExecutorCheckPerms_hook_type prev_check_perms = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;
static object_access_hook_type prev_object_access = NULL;

/*
 * The schema of aitrack in this database, when its ai_call is distributed;
 * InvalidOid otherwise (not installed, or on one server).
 */
static Oid
distributed_install_schema(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			schema = InvalidOid;

	/* (get_extension_schema() is not exported before PostgreSQL 16) */
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("aitrack"));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		schema = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(schema) || !ai_calls_distributed(schema))
		return InvalidOid;
	return schema;
}

/* Why a statement on ai_call is refused. */
typedef enum CallsRefusal
{
	CALLS_ALLOWED,
	CALLS_TENANT,				/* a tenant's session */
	CALLS_REACHABLE,			/* a role a tenant role can become */
	CALLS_SHARD					/* a shard, read by such a session */
} CallsRefusal;

/* Is name of the form ai_call_<digits>, the name Citus gives its shards? */
static bool
has_shard_name(const char *name)
{
	const char *digits;

	if (strncmp(name, "ai_call_", strlen("ai_call_")) != 0)
		return false;
	digits = name + strlen("ai_call_");
	return *digits != '\0' && strspn(digits, "0123456789") == strlen(digits);
}

/*
 * Is relid, named like a shard, in the schema of aitrack's ai_call, which
 * Citus knows (distributed)?  Whether Citus lists it as a shard now does
 * not matter: a shard split or moved away stays on its node, unlisted,
 * until Citus drops it later (as long as a session holds a lock on it),
 * with the calls in it.  (Shards are no members of the extension.)
 */
static bool
is_calls_shard(Oid relid)
{
	Oid			calls = get_relname_relid("ai_call", get_rel_namespace(relid));

	return OidIsValid(calls) && ai_is_aitrack_calls(calls) && ai_citus_knows_table(calls);
}

/*
 * May this session read a shard of the distributed ai_call?  Not when one
 * of its roles is a tenant or a role a tenant role can become: on a
 * worker, Citus's connection for a tenant's session (a delegated function
 * call, say) is one of these, and row-level security, which hides the
 * calls from them, does not hold for a role with BYPASSRLS.  The shards'
 * owner (ai_call's) and superusers may.
 */
static CallsRefusal
shard_refusal(Oid relid)
{
	Oid			user = GetUserId();
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		return CALLS_ALLOWED;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	if (user == owner || superuser_arg(user))
		return CALLS_ALLOWED;
	if (!ai_tenant_session(NULL) && !ai_session_reachable_by_tenant())
		return CALLS_ALLOWED;
	return is_calls_shard(relid) ? CALLS_SHARD : CALLS_ALLOWED;
}

/*
 * May the session's current role query relid, when it is aitrack's
 * distributed ai_call?  ai_call's owner and superusers may (aitrack's
 * SECURITY DEFINER functions run as the owner).  A tenant's session may
 * not.  Nor may a role that a tenant role is a member of: a tenant could
 * SET ROLE to it, so the workers' policy shows it no call (tenant.c), and
 * an error here says so rather than an answer without them.  The cheap
 * tests first: this runs for every relation of every statement.
 */
static CallsRefusal
distributed_calls_refusal(Oid relid)
{
	char	   *name = get_rel_name(relid);
	Oid			user;
	HeapTuple	tuple;
	Oid			owner;

	if (name == NULL)
		return CALLS_ALLOWED;
	if (strcmp(name, "ai_call") != 0)
		return has_shard_name(name) ? shard_refusal(relid) : CALLS_ALLOWED;
	user = GetUserId();
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		return CALLS_ALLOWED;
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	if (user == owner || superuser_arg(user) || !ai_is_aitrack_calls(relid) ||
		!ai_calls_distributed(get_rel_namespace(relid)))
		return CALLS_ALLOWED;
	if (ai_tenant_session(NULL))
		return CALLS_TENANT;
	if (ai_role_reachable_by_tenant(user))
		return CALLS_REACHABLE;
	return CALLS_ALLOWED;
}

static void
report_refused(Oid relid, CallsRefusal why)
{
	const char *table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
												   get_rel_name(relid));

	if (why == CALLS_TENANT)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("a tenant cannot query the distributed %s", table),
				 errdetail("On the workers, a tenant's session would not be known as one."),
				 errhint("A tenant reads its own calls with ai_tenant_calls() and records with record_ai_call(); see README, \"Scaling out with Citus\".")));
	if (why == CALLS_SHARD)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("this session cannot read %s, a shard of aitrack's distributed ai_call", table),
				 errdetail("Its login, SET ROLE or current role is a tenant or a role a tenant role is a member of: here it could be a tenant's session, whose calls are not all its own."),
				 errhint("Query ai_call on the coordinator, as a role that no tenant role is a member of.")));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("role \"%s\" cannot query the distributed %s",
					GetUserNameFromId(GetUserId(), false), table),
			 errdetail("A tenant role is a member of it and could SET ROLE to it; the workers refuse such roles the calls."),
			 errhint("Read as a role that no tenant role is a member of; see README, \"Scaling out with Citus\".")));
}

#if PG_VERSION_NUM >= 160000
static bool
tenant_check_perms(List *range_table, List *perm_infos, bool ereport_on_violation)
{
	ListCell   *lc;

	foreach(lc, perm_infos)
	{
		RTEPermissionInfo *perm = lfirst_node(RTEPermissionInfo, lc);

		CallsRefusal why = distributed_calls_refusal(perm->relid);

		if (why != CALLS_ALLOWED)
		{
			if (ereport_on_violation)
				report_refused(perm->relid, why);
			return false;
		}
	}
	return prev_check_perms == NULL ||
		prev_check_perms(range_table, perm_infos, ereport_on_violation);
}
#else
static bool
tenant_check_perms(List *range_table, bool ereport_on_violation)
{
	ListCell   *lc;

	foreach(lc, range_table)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		CallsRefusal why;

		if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0)
			continue;
		why = distributed_calls_refusal(rte->relid);
		if (why != CALLS_ALLOWED)
		{
			if (ereport_on_violation)
				report_refused(rte->relid, why);
			return false;
		}
	}
	return prev_check_perms == NULL ||
		prev_check_perms(range_table, ereport_on_violation);
}
#endif

/*
 * COPY ai_call TO ... / FROM ...: Citus handles a distributed table's COPY
 * TO STDOUT in its own ProcessUtility hook, shard by shard on the workers,
 * without the executor's check.  (COPY (query) TO is planned, and seen by
 * the executor hook.)
 */
static void
tenant_process_utility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	if (IsA(pstmt->utilityStmt, CopyStmt))
	{
		CopyStmt   *copy = (CopyStmt *) pstmt->utilityStmt;

		if (copy->relation != NULL)
		{
			/* (only looked at: COPY itself locks and checks it) */
			Oid			relid = RangeVarGetRelid(copy->relation, NoLock, true);

			CallsRefusal why = OidIsValid(relid) ?
				distributed_calls_refusal(relid) : CALLS_ALLOWED;

			if (why != CALLS_ALLOWED)
				report_refused(relid, why);
		}
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* Is funcid Citus's master_run_on_worker(), the door of run_command_on_*()? */
static bool
is_run_on_worker(Oid funcid)
{
	HeapTuple	tuple;
	bool		result;

	/* every function of an extension has an oid past the built-in ones */
	if (funcid < FirstNormalObjectId)
		return false;
	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tuple))
		return false;
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tuple);

		result = proc->pronamespace == PG_CATALOG_NAMESPACE &&
			proc->prolang == ClanguageId &&
			strcmp(NameStr(proc->proname), "master_run_on_worker") == 0;
	}
	ReleaseSysCache(tuple);
	return result;
}

/*
 * A function about to run (OAT_FUNCTION_EXECUTE, called as the executor
 * sets up a function call): refuse master_run_on_worker() to a tenant's
 * session where ai_call is distributed.
 */
static void
tenant_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					 int subId, void *arg)
{
	if (prev_object_access)
		prev_object_access(access, classId, objectId, subId, arg);
	if (access != OAT_FUNCTION_EXECUTE || classId != ProcedureRelationId ||
		!is_run_on_worker(objectId))
		return;
	if (!ai_tenant_session(NULL) || !OidIsValid(distributed_install_schema()))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("a tenant cannot run commands on the nodes of a distributed install"),
			 errdetail("master_run_on_worker() and the run_command_on_*() functions run a command on the workers as the current role, where a tenant's session would not be known as one."),
			 errhint("Run it from a session whose login, SET ROLE and current roles are no tenants.")));
}

void
tenant_citus_init(void)
{
	prev_check_perms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = tenant_check_perms;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = tenant_process_utility;
	prev_object_access = object_access_hook;
	object_access_hook = tenant_object_access;
}
