/*
 * tenant.c
 *		Which user a tenant role may see: the settings, and the functions
 *		that 1.3's row-level security policies and ai_usage_stats() ask.
 *
 *	aitrack.tenant			on/off (superuser; ALTER ROLE ... SET): the role
 *							sees only the calls of its current user
 *	aitrack.user_id			the current user of a tenant role, set by the
 *							application per session or transaction; when
 *							empty, auth.uid() is used where it exists and a
 *							superuser owns it (Supabase)
 */
#include "aitrack.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

static bool tenant_mode = false;
static char *tenant_user_id = NULL;

void
tenant_init(void)
{
	DefineCustomBoolVariable("aitrack.tenant",
							 "Restricts the role to the calls of aitrack.user_id.",
							 "Set it for a role with ALTER ROLE ... SET aitrack.tenant = on.",
							 &tenant_mode, false, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("aitrack.user_id",
							   "The user whose calls a tenant role sees.",
							   "A uuid; when empty, auth.uid() is used if it exists.",
							   &tenant_user_id, "", PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Is the current role a tenant (aitrack.tenant)? */
bool
ai_tenant_mode_active(void)
{
	return tenant_mode;
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

PG_FUNCTION_INFO_V1(ai_tenant_user_id_1_3);
PG_FUNCTION_INFO_V1(ai_tenant_mode_1_3);

/* ai_tenant_mode() RETURNS boolean: is this role a tenant? */
Datum
ai_tenant_mode_1_3(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tenant_mode);
}

/*
 * ai_tenant_user_id() RETURNS uuid: the user a tenant role may see;
 * aitrack.user_id, else auth.uid() where that exists, else NULL (sees
 * nothing).
 */
Datum
ai_tenant_user_id_1_3(PG_FUNCTION_ARGS)
{
	FuncCandidateList auth_uid;

	/* Not a tenant: never look (the planner calls this to estimate). */
	if (!tenant_mode)
		PG_RETURN_NULL();
	if (tenant_user_id != NULL && tenant_user_id[0] != '\0')
		PG_RETURN_DATUM(DirectFunctionCall1(uuid_in, CStringGetDatum(tenant_user_id)));

	auth_uid = FuncnameGetCandidates(list_make2(makeString("auth"), makeString("uid")),
									 0, NIL, false, false, false, true);
	/*
	 * Only a superuser's auth.uid() (Supabase's is): anyone allowed to
	 * create a schema could otherwise plant one and pick the user.
	 */
	if (auth_uid != NULL && get_func_rettype(auth_uid->oid) == UUIDOID &&
		function_owned_by_superuser(auth_uid->oid))
	{
		FmgrInfo	flinfo;
		LOCAL_FCINFO(call, 0);
		Datum		result;

		/* Called by hand: auth.uid() returns NULL for an anonymous request. */
		fmgr_info(auth_uid->oid, &flinfo);
		InitFunctionCallInfoData(*call, &flinfo, 0, InvalidOid, NULL, NULL);
		result = FunctionCallInvoke(call);
		if (!call->isnull)
			PG_RETURN_DATUM(result);
	}
	PG_RETURN_NULL();
}
