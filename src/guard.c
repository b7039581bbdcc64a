/*
 * guard.c
 *		Settings and safeguards of 1.3: the content policy, tenant
 *		isolation, and refusing to drop the ledger by accident.
 *
 *	aitrack.store_content	full | hash | none (superuser; per database or
 *							role with ALTER ... SET): what record_ai_call
 *							keeps of prompt and response
 *	aitrack.tenant			on/off (superuser; ALTER ROLE ... SET): the role
 *							sees only the calls of its current user
 *	aitrack.user_id			the current user of a tenant role, set by the
 *							application per session or transaction; when
 *							empty, auth.uid() is used where it exists and a
 *							superuser owns it (Supabase)
 *	aitrack.allow_drop		on lets DROP EXTENSION aitrack (or a DROP ...
 *							CASCADE reaching it) delete recorded calls
 *
 * The drop guard is an object access hook: it sees every object about to be
 * dropped, whatever command drops it.  The library is loaded in time by an
 * event trigger on the DDL commands that can drop the extension.
 */
#include "aitrack.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "catalog/namespace.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
#include "miscadmin.h"
#include "access/htup_details.h"

typedef enum StoreContent
{
	STORE_CONTENT_FULL,
	STORE_CONTENT_HASH,
	STORE_CONTENT_NONE
} StoreContent;

static const struct config_enum_entry store_content_options[] = {
	{"full", STORE_CONTENT_FULL, false},
	{"hash", STORE_CONTENT_HASH, false},
	{"none", STORE_CONTENT_NONE, false},
	{NULL, 0, false}
};

static int	store_content = STORE_CONTENT_FULL;
static bool tenant_mode = false;
static char *tenant_user_id = NULL;
static bool allow_drop = false;

static object_access_hook_type previous_object_access_hook = NULL;

static void guard_object_access(ObjectAccessType access, Oid classId,
								Oid objectId, int subId, void *arg);

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomEnumVariable("aitrack.store_content",
							 "What record_ai_call keeps of prompts and responses.",
							 "full keeps them, hash keeps a SHA-256 of each, none keeps nothing; "
							 "token counts and costs are kept in every case.",
							 &store_content, STORE_CONTENT_FULL, store_content_options,
							 PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("aitrack.tenant",
							 "Restricts the role to the calls of aitrack.user_id.",
							 "Set it for a role with ALTER ROLE ... SET aitrack.tenant = on.",
							 &tenant_mode, false, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("aitrack.user_id",
							   "The user whose calls a tenant role sees.",
							   "A uuid; when empty, auth.uid() is used if it exists.",
							   &tenant_user_id, "", PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("aitrack.allow_drop",
							 "Lets DROP EXTENSION aitrack delete recorded calls.",
							 NULL, &allow_drop, false, PGC_USERSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("aitrack");

	previous_object_access_hook = object_access_hook;
	object_access_hook = guard_object_access;
}

/*
 * Apply aitrack.store_content to a call about to be written.  The token
 * counts have already been read from the response.
 */
void
ai_call_apply_content_policy(AiCall *call)
{
	text	   *prompt;
	char	   *response;
	char		hex[PG_SHA256_DIGEST_LENGTH * 2 + 1];

	if (store_content == STORE_CONTENT_FULL)
		return;
	if (store_content == STORE_CONTENT_NONE)
	{
		call->values[AI_PROMPT] = CStringGetTextDatum("");
		call->values[AI_RESPONSE] = DirectFunctionCall1(jsonb_in, CStringGetDatum("null"));
		return;
	}

	prompt = DatumGetTextPP(call->values[AI_PROMPT]);
	ai_sha256_hex((const uint8 *) VARDATA_ANY(prompt), VARSIZE_ANY_EXHDR(prompt), hex);
	call->values[AI_PROMPT] = CStringGetTextDatum(psprintf("sha256:%s", hex));

	/*
	 * The response's jsonb text: key order and spacing do not matter, but
	 * numbers hash as written (1 and 1.0 differ).
	 */
	response = JsonbToCString(NULL, &DatumGetJsonbP(call->values[AI_RESPONSE])->root, -1);
	ai_sha256_hex((const uint8 *) response, strlen(response), hex);
	call->values[AI_RESPONSE] = DirectFunctionCall1(jsonb_in,
													CStringGetDatum(psprintf("{\"sha256\": \"%s\"}", hex)));
}

void
ai_sha256_hex(const uint8 *data, size_t len, char *hex)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
}

/* Does the table hold at least one row this transaction can see? */
static bool
table_has_rows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	/*
	 * A fresh snapshot: the DROP may have waited for its lock while another
	 * session committed calls, which the statement's snapshot cannot see.
	 */
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	bool		found = table_scan_getnextslot(scan, ForwardScanDirection, slot);

	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

static void
guard_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					int subId, void *arg)
{
	if (previous_object_access_hook)
		previous_object_access_hook(access, classId, objectId, subId, arg);

	/*
	 * Dropping ai_call with calls in it, or ai_usage_purged with the numbers
	 * of purged calls, by whatever command.
	 */
	if (access == OAT_DROP && classId == RelationRelationId && subId == 0 &&
		!allow_drop && get_rel_relkind(objectId) == RELKIND_RELATION)
	{
		char	   *relname = get_rel_name(objectId);
		Oid			ext = get_extension_oid("aitrack", true);

		if (relname == NULL ||
			(strcmp(relname, "ai_call") != 0 && strcmp(relname, "ai_usage_purged") != 0) ||
			!OidIsValid(ext) || getExtensionOfObject(RelationRelationId, objectId) != ext)
			return;
		if (table_has_rows(objectId))
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop aitrack's %s while it holds %s", relname,
							strcmp(relname, "ai_call") == 0 ? "calls" : "the numbers of purged calls"),
					 errdetail("Dropping the extension would delete every recorded call."),
					 errhint("Keep a pg_dump first; then SET aitrack.allow_drop = on to drop it anyway.")));
	}
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

/* Is the current role a tenant (aitrack.tenant)? */
bool
ai_tenant_mode_active(void)
{
	return tenant_mode;
}

PG_FUNCTION_INFO_V1(ai_drop_guard_1_3);
PG_FUNCTION_INFO_V1(ai_tenant_user_id_1_3);
PG_FUNCTION_INFO_V1(ai_tenant_mode_1_3);

/*
 * Event trigger on the commands that can drop the extension: calling it
 * loads this library, whose object access hook then guards the drop.
 */
Datum
ai_drop_guard_1_3(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "ai_drop_guard must be called as an event trigger");
	PG_RETURN_VOID();
}

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
