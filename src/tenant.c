/*
 * tenant.c
 *		Which roles are tenants and which user a tenant is: what the row-level
 *		security policies (through ai_tenant_mode() and ai_tenant_user_id()),
 *		ai_usage_stats() and the record functions ask.
 *
 * A role is a tenant when it is not a superuser and
 *	- is a member of the group role aitrack_tenant (1.4), or
 *	- a superuser stored aitrack.tenant = on for it (ALTER ROLE ... SET, 1.3's
 *	  way, or for everyone with ALTER DATABASE / ALTER ROLE ALL ... SET; read
 *	  from the catalog with PostgreSQL's precedence: see role_setting.c for
 *	  why not from the session's value of the setting).
 * A session is a tenant's when its current role, its SET ROLE role or its
 * login role is a tenant, so neither SET ROLE to another role nor a
 * SECURITY DEFINER function lifts it.
 *
 * A tenant's user, first found wins:
 *	1. the row of ai_tenant_user (1.4) of the login role, the SET ROLE role
 *	   or the current role: for roles whose users run their own SQL; nothing
 *	   they can set changes it, not even SET ROLE to another tenant role
 *	   (two different users there: no user);
 *	2. auth.uid(), when it exists, returns uuid and a superuser owns it
 *	   (Supabase's: the API layer sets it from a verified token), run as the
 *	   tenant role with search_path pinned (see auth_uid()); NULL from it
 *	   means no user, never a fall-through to 3;
 *	3. aitrack.user_id, set by an application server per request (roles that
 *	   only the application uses).
 * With none of them a tenant sees nothing and can record nothing.
 *
 * On a Citus worker (1.10), ai_tenant_mode() is true also for a session
 * whose role a tenant role can become (see
 * ai_session_reachable_by_tenant()); tenant_citus.c keeps tenants'
 * sessions off a distributed ai_call on the coordinator.
 *
 *	aitrack.tenant			kept so that 1.3's ALTER ROLE ... SET values stay
 *							valid; its value in a session decides nothing
 *	aitrack.user_id			step 3 above
 */
#include "aitrack.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_auth_members.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/catcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

static bool tenant_setting = false;
static char *tenant_user_id = NULL;

void
tenant_init(void)
{
	DefineCustomBoolVariable("aitrack.tenant",
							 "Makes the role a tenant when set with ALTER ROLE ... SET (1.3's way).",
							 "Read from the catalog, not from the session: members of aitrack_tenant are tenants too.",
							 &tenant_setting, false, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("aitrack.user_id",
							   "The user whose calls a tenant role sees, set by an application server.",
							   "A uuid; not used when the role has a row in ai_tenant_user or auth.uid() exists.",
							   &tenant_user_id, "", PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Is role a tenant, by membership or by the 1.3 role setting? */
static bool
role_is_tenant(Oid role)
{
	Oid			tenant_group = get_role_oid("aitrack_tenant", true);
	char	   *stored;
	bool		on = false;

	if (!OidIsValid(role) || superuser_arg(role))
		return false;
	if (OidIsValid(tenant_group) && is_member_of_role_nosuper(role, tenant_group))
		return true;
	stored = ai_stored_setting(role, "aitrack.tenant");
	return stored != NULL && parse_bool(stored, &on) && on;
}

/*
 * Is this session a tenant's?  Sets *tenant_role to the tenant role found
 * (current role first, then the SET ROLE role, then the login role).
 */
bool
ai_tenant_session(Oid *tenant_role)
{
	Oid			roles[3] = {GetUserId(), GetOuterUserId(), GetSessionUserId()};

	for (int i = 0; i < 3; i++)
	{
		if (i > 0 && (roles[i] == roles[0] || roles[i] == roles[i - 1]))
			continue;
		if (role_is_tenant(roles[i]))
		{
			if (tenant_role)
				*tenant_role = roles[i];
			return true;
		}
	}
	return false;
}

/* The user_id of role in schema's ai_tenant_user (1.4), read by index. */
static bool
mapped_user(Oid schema, Oid role, Datum *user_id)
{
	Oid			table = get_relname_relid("ai_tenant_user", schema);
	Oid			index = get_relname_relid("ai_tenant_user_pkey", schema);
	Relation	rel;
	Relation	idx;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	/* A database still on 1.3 has no such table. */
	if (!OidIsValid(table) || !OidIsValid(index))
		return false;
	/*
	 * Read directly rather than through SQL: the policies run with the
	 * reader's rights, and a tenant must not need SELECT on other roles' rows.
	 */
	rel = table_open(table, AccessShareLock);
	idx = index_open(index, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, index, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		int			attnum = get_attnum(table, "user_id");
		Datum		value = heap_getattr(tuple, attnum, RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			pg_uuid_t  *copy = palloc(sizeof(pg_uuid_t));

			memcpy(copy, DatumGetUUIDP(value), sizeof(pg_uuid_t));
			*user_id = UUIDPGetDatum(copy);
			found = true;
		}
	}
	systable_endscan(scan);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

static bool
function_owned_by_superuser(Oid funcoid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcoid));
	bool		result;

	if (!HeapTupleIsValid(tuple))
		return false;
	result = superuser_arg(((Form_pg_proc) GETSTRUCT(tuple))->proowner);
	ReleaseSysCache(tuple);
	return result;
}

/*
 * auth.uid(), if it exists, returns uuid and a superuser owns it (anyone
 * allowed to create a schema could otherwise plant one and pick the user).
 * Returns whether it exists; *user_id / *isnull its result.
 *
 * It runs as the tenant role, as a restricted operation, with search_path
 * pinned to pg_catalog, pg_temp: called from record_ai_call() (SECURITY
 * DEFINER) it would otherwise run as the extension's owner, and a SQL body
 * such as Supabase's (current_setting(...), unqualified) would be parsed
 * with the tenant's search_path, where the tenant may have planted a
 * current_setting() of its own.
 */
static bool
auth_uid(Oid tenant_role, Datum *user_id, bool *isnull)
{
	FuncCandidateList candidates;

	candidates = FuncnameGetCandidates(list_make2(makeString("auth"), makeString("uid")),
									   0, NIL, false, false, false, true);
	for (; candidates != NULL; candidates = candidates->next)
	{
		FmgrInfo	flinfo;
		Oid			saved_user;
		int			saved_context;
		int			nest_level;

		LOCAL_FCINFO(call, 0);

		if (candidates->nargs != 0 || get_func_rettype(candidates->oid) != UUIDOID ||
			!function_owned_by_superuser(candidates->oid))
			continue;
		GetUserIdAndSecContext(&saved_user, &saved_context);
		SetUserIdAndSecContext(tenant_role, saved_context | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		nest_level = NewGUCNestLevel();
		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		fmgr_info(candidates->oid, &flinfo);
		InitFunctionCallInfoData(*call, &flinfo, 0, InvalidOid, NULL, NULL);
		*user_id = FunctionCallInvoke(call);
		*isnull = call->isnull;
		AtEOXact_GUC(true, nest_level);
		SetUserIdAndSecContext(saved_user, saved_context);
		return true;
	}
	return false;
}

/*
 * The mapped user of the session (step 1 of the header comment): the rows
 * of its login, SET ROLE and current roles; *conflict when they differ.
 */
static bool
session_mapped_user(Oid schema, Datum *user_id, bool *conflict)
{
	Oid			roles[3] = {GetSessionUserId(), GetOuterUserId(), GetUserId()};
	bool		found = false;

	*conflict = false;
	for (int i = 0; i < 3; i++)
	{
		Datum		mapped;

		if ((i > 0 && roles[i] == roles[i - 1]) || (i == 2 && roles[2] == roles[0]))
			continue;
		if (!mapped_user(schema, roles[i], &mapped))
			continue;
		if (!found)
		{
			*user_id = mapped;
			found = true;
		}
		else if (!DatumGetBool(DirectFunctionCall2(uuid_eq, *user_id, mapped)))
			*conflict = true;
	}
	return found;
}

/*
 * The user of a tenant session whose tenant role is tenant_role (see the
 * header comment), or false when it has none.
 */
bool
ai_tenant_user(Oid schema, Oid tenant_role, Datum *user_id)
{
	bool		isnull = true;
	bool		conflict;

	if (session_mapped_user(schema, user_id, &conflict))
		return !conflict;
	if (auth_uid(tenant_role, user_id, &isnull))
		return !isnull;
	if (tenant_user_id != NULL && tenant_user_id[0] != '\0')
	{
		*user_id = DirectFunctionCall1(uuid_in, CStringGetDatum(tenant_user_id));
		return true;
	}
	return false;
}

/* Who the session's tenant is, if any, and its user. */
void
ai_tenant_caller(Oid schema, AiTenantCaller *caller)
{
	caller->is_tenant = ai_tenant_session(&caller->role);
	caller->has_user = caller->is_tenant &&
		ai_tenant_user(schema, caller->role, &caller->user_id);
}

/*
 * A call a tenant is about to record: its user_id is the tenant's user
 * (filled in when not given); anything else is refused.  Nothing for other
 * sessions.
 */
void
ai_tenant_apply(const AiTenantCaller *caller, AiCall *call)
{
	if (!caller->is_tenant)
		return;
	if (!caller->has_user)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("tenant role \"%s\" has no current user", GetUserNameFromId(caller->role, false)),
				 errdetail("A tenant records only calls of its own user."),
				 errhint("Map the role in ai_tenant_user, or set aitrack.user_id in the application's session.")));
	if (call->isnull[AI_USER_ID])
	{
		call->values[AI_USER_ID] = caller->user_id;
		call->isnull[AI_USER_ID] = false;
	}
	else if (!DatumGetBool(DirectFunctionCall2(uuid_eq, call->values[AI_USER_ID], caller->user_id)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("a tenant can record only its own user's calls"),
				 errdetail("The call's user_id is %s; the tenant's user is %s.",
						   DatumGetCString(DirectFunctionCall1(uuid_out, call->values[AI_USER_ID])),
						   DatumGetCString(DirectFunctionCall1(uuid_out, caller->user_id))),
				 errhint("Omit user_id: a tenant's calls get its user.")));
}

/* The same for one call (record_ai_call()). */
void
ai_tenant_check_call(Oid schema, AiCall *call)
{
	AiTenantCaller caller;

	ai_tenant_caller(schema, &caller);
	ai_tenant_apply(&caller, call);
}

/*
 * Can a tenant role become role, by SET ROLE or by inheriting it: is a
 * tenant among its members, directly or through other roles?  Every grant
 * counts, whatever its options (one with ADMIN lets the member grant it
 * to itself).  Read from pg_auth_members, breadth first.
 */
bool
ai_role_reachable_by_tenant(Oid role)
{
	List	   *pending = list_make1_oid(role);
	List	   *seen = list_make1_oid(role);
	bool		found = false;

	while (pending != NIL && !found)
	{
		Oid			granted = linitial_oid(pending);
		CatCList   *members;

		CHECK_FOR_INTERRUPTS();
		pending = list_delete_first(pending);
		members = SearchSysCacheList1(AUTHMEMROLEMEM, ObjectIdGetDatum(granted));
		for (int i = 0; i < members->n_members && !found; i++)
		{
			Oid			member = ((Form_pg_auth_members) GETSTRUCT(&members->members[i]->tuple))->member;

			if (list_member_oid(seen, member))
				continue;
			seen = lappend_oid(seen, member);
			if (role_is_tenant(member))
				found = true;
			else
				pending = lappend_oid(pending, member);
		}
		ReleaseSysCacheList(members);
	}
	list_free(pending);
	list_free(seen);
	return found;
}

/*
 * On a Citus worker, is one of this session's roles one a tenant can
 * become?  Citus runs what a coordinator's session sends (a distributed
 * query, a COPY, run_command_on_shards(), a delegated function call) on
 * the workers as that session's current role alone: a tenant that did
 * SET ROLE to a role that is no tenant arrives there as that role, and
 * the worker cannot know its login.  So on a worker the shards' policy
 * (NOT ai_tenant_mode()) hides every call from the roles a tenant can
 * become as well: what the coordinator refuses (tenant_citus.c) is then
 * not the only guard.
 */
bool
ai_session_reachable_by_tenant(void)
{
	Oid			roles[3] = {GetUserId(), GetOuterUserId(), GetSessionUserId()};

	for (int i = 0; i < 3; i++)
	{
		if (i > 0 && (roles[i] == roles[0] || roles[i] == roles[i - 1]))
			continue;
		/* a superuser reads everything anyway (row security is bypassed) */
		if (!superuser_arg(roles[i]) && ai_role_reachable_by_tenant(roles[i]))
			return true;
	}
	return false;
}

/* Is this session a tenant's? (ai_usage_stats()) */
bool
ai_tenant_mode_active(void)
{
	return ai_tenant_session(NULL);
}

PG_FUNCTION_INFO_V1(ai_tenant_user_id_1_3);
PG_FUNCTION_INFO_V1(ai_tenant_mode_1_3);

/*
 * ai_tenant_mode() RETURNS boolean: is this session a tenant's?  The same
 * symbol serves 1.3 and 1.4: 1.3's answer came from the session's setting,
 * which a client could override; a security fix applies to every version.
 */
Datum
ai_tenant_mode_1_3(PG_FUNCTION_ARGS)
{
	if (ai_tenant_session(NULL))
		PG_RETURN_BOOL(true);
	/* 1.10's shards: see ai_session_reachable_by_tenant() */
	PG_RETURN_BOOL(ai_citus_worker_here() && ai_session_reachable_by_tenant());
}

/*
 * ai_tenant_user_id() RETURNS uuid: the user a tenant may see, or NULL (not
 * a tenant, or a tenant without a user: sees nothing).
 */
Datum
ai_tenant_user_id_1_3(PG_FUNCTION_ARGS)
{
	Oid			tenant_role;
	Datum		user_id;

	/* Not a tenant: never look (the planner calls this to estimate). */
	if (!ai_tenant_session(&tenant_role))
		PG_RETURN_NULL();
	if (ai_tenant_user(aitrack_function_schema(fcinfo), tenant_role, &user_id))
		PG_RETURN_DATUM(user_id);
	PG_RETURN_NULL();
}
