/*
 * guard.c
 *		The drop guard: refusing to delete the ledger's data by accident.
 *
 *	aitrack.allow_drop		on lets DROP EXTENSION aitrack, a DROP ... CASCADE
 *							reaching its tables, ALTER EXTENSION aitrack DROP
 *							TABLE and TRUNCATE delete recorded data
 *
 * The guarded tables are the extension's own data, the ones pg_dump keeps:
 * those registered with pg_extension_config_dump (pg_extension.extconfig:
 * ai_model, ai_call, ai_model_price, ai_usage_purged, ai_tenant_user), found
 * by OID, so renaming or moving one does not take it out of the guard.
 * While a guarded table holds a row this transaction can see (with a fresh
 * snapshot), the guard refuses
 *	- dropping it or one of its columns, whatever command does it (an object
 *	  access hook: it sees every object about to be dropped);
 *	- removing it from the extension (ALTER EXTENSION aitrack DROP TABLE,
 *	  after which DROP TABLE would no longer be the extension's business):
 *	  the event trigger aitrack_drop_guard, which also loads this library
 *	  before any command that could drop the extension;
 *	- TRUNCATE: the BEFORE TRUNCATE trigger ai_guard_truncate.
 * The extension's own install and upgrade scripts are not guarded.
 *
 * aitrack.allow_drop is for superusers only (PGC_SUSET): the owner of the
 * schema the extension lives in (a database's owner owns public) may drop
 * the schema and, by CASCADE, the extension's tables, and must not be able
 * to lift the guard.  DELETE is not guarded (ai_purge_calls() is how old
 * calls go, keeping their numbers), nor is rewriting a column (ALTER TABLE
 * ... ALTER COLUMN ... TYPE ... USING), which only the tables' owner may do.
 */
#include "aitrack.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

static bool allow_drop = false;

static object_access_hook_type previous_object_access_hook = NULL;

static void guard_object_access(ObjectAccessType access, Oid classId,
								Oid objectId, int subId, void *arg);

void
drop_guard_init(void)
{
	DefineCustomBoolVariable("aitrack.allow_drop",
							 "Lets DROP EXTENSION aitrack, TRUNCATE and ALTER EXTENSION ... DROP delete recorded data.",
							 "Superusers only: a schema's owner may drop what it holds, the extension's tables too.",
							 &allow_drop, false, PGC_SUSET, 0, NULL, NULL, NULL);

	previous_object_access_hook = object_access_hook;
	object_access_hook = guard_object_access;
}

/* Is relid one of aitrack's configuration tables (pg_extension.extconfig)? */
static bool
is_guarded_table(Oid relid)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		found = false;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("aitrack"));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		config = heap_getattr(tuple, Anum_pg_extension_extconfig,
										  RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			Datum	   *oids;
			bool	   *oid_nulls;
			int			n;

			deconstruct_array(DatumGetArrayTypeP(config), OIDOID, sizeof(Oid), true,
							  TYPALIGN_INT, &oids, &oid_nulls, &n);
			for (int i = 0; i < n && !found; i++)
				found = !oid_nulls[i] && DatumGetObjectId(oids[i]) == relid;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Does the table hold at least one row this transaction can see? */
static bool
table_has_rows(Oid relid)
{
	Relation	rel;
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	/*
	 * 1.10: a Citus table's rows are on its shards, not in the table here:
	 * it is taken to hold some (aitrack.allow_drop = on to drop it anyway).
	 */
	if (ai_citus_knows_table(relid))
		return true;
	rel = table_open(relid, AccessShareLock);
	/*
	 * A fresh snapshot: the DROP may have waited for its lock while another
	 * session committed calls, which the statement's snapshot cannot see.
	 */
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	slot = table_slot_create(rel, NULL);
	found = table_scan_getnextslot(scan, ForwardScanDirection, slot);

	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	return found;
}

/* What a guarded table holds, for the messages. */
static const char *
contents_of(const char *relname)
{
	if (strcmp(relname, "ai_call") == 0)
		return "calls";
	if (strcmp(relname, "ai_usage_purged") == 0)
		return "the numbers of purged calls";
	if (strcmp(relname, "ai_model_price") == 0)
		return "prices";
	if (strcmp(relname, "ai_model") == 0)
		return "models";
	return "rows";
}

/* Is this a guarded table with data, which the guard must protect now? */
static bool
must_protect(Oid relid)
{
	/* aitrack's own scripts decide for themselves; other extensions' do not. */
	if (allow_drop ||
		(creating_extension && CurrentExtensionObject == get_extension_oid("aitrack", true)))
		return false;
	if (get_rel_relkind(relid) != RELKIND_RELATION || !is_guarded_table(relid))
		return false;
	return table_has_rows(relid);
}

#define GUARD_HINT "Keep a pg_dump first; then SET aitrack.allow_drop = on to do it anyway."

static void
guard_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					int subId, void *arg)
{
	char	   *relname;

	if (previous_object_access_hook)
		previous_object_access_hook(access, classId, objectId, subId, arg);

	if (access != OAT_DROP || classId != RelationRelationId || !must_protect(objectId))
		return;
	relname = get_rel_name(objectId);
	if (subId == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop aitrack's %s while it holds %s", relname, contents_of(relname)),
				 errdetail("Dropping it would delete every row it holds."),
				 errhint(GUARD_HINT)));
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot drop column %s of aitrack's %s while it holds %s",
					get_attname(objectId, subId, false), relname, contents_of(relname)),
			 errdetail("Dropping the column would delete its value in every row."),
			 errhint(GUARD_HINT)));
}

/*
 * ALTER EXTENSION aitrack DROP TABLE t: refused while t is guarded and holds
 * rows, since the table would then leave the guard.
 */
static void
guard_alter_extension(AlterExtensionContentsStmt *stmt)
{
	ObjectAddress address;
	Relation	relation = NULL;

	if (stmt->action >= 0 || strcmp(stmt->extname, "aitrack") != 0 ||
		stmt->objtype != OBJECT_TABLE)
		return;
	address = get_object_address(stmt->objtype, stmt->object, &relation,
								 AccessShareLock, true);
	if (relation != NULL)
		relation_close(relation, AccessShareLock);
	if (!OidIsValid(address.objectId) || !must_protect(address.objectId))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot remove %s from extension aitrack while it holds %s",
					get_rel_name(address.objectId), contents_of(get_rel_name(address.objectId))),
			 errdetail("Outside the extension, the table would no longer be guarded against DROP."),
			 errhint(GUARD_HINT)));
}

PG_FUNCTION_INFO_V1(ai_drop_guard_1_3);
PG_FUNCTION_INFO_V1(ai_drop_guard_1_4);
PG_FUNCTION_INFO_V1(ai_guard_truncate_1_4);

/*
 * 1.3's event trigger on the commands that can drop the extension: calling
 * it loads this library, whose object access hook then guards the drop.
 */
Datum
ai_drop_guard_1_3(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "ai_drop_guard must be called as an event trigger");
	PG_RETURN_VOID();
}

/* 1.4's: the same, and ALTER EXTENSION aitrack DROP TABLE is checked. */
Datum
ai_drop_guard_1_4(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "ai_drop_guard must be called as an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (trigdata->parsetree != NULL && IsA(trigdata->parsetree, AlterExtensionContentsStmt))
		guard_alter_extension((AlterExtensionContentsStmt *) trigdata->parsetree);
	PG_RETURN_VOID();
}

/* BEFORE TRUNCATE ... FOR EACH STATEMENT on the guarded tables. */
Datum
ai_guard_truncate_1_4(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			relid;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		elog(ERROR, "ai_guard_truncate must be a BEFORE TRUNCATE trigger");
	relid = RelationGetRelid(trigdata->tg_relation);
	if (must_protect(relid))
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot truncate aitrack's %s while it holds %s",
						RelationGetRelationName(trigdata->tg_relation),
						contents_of(RelationGetRelationName(trigdata->tg_relation))),
				 errdetail("TRUNCATE would delete every row, without keeping the numbers of the calls."),
				 errhint("To delete old calls and keep their numbers, CALL ai_purge_calls(); "
						 "to empty the table anyway, SET aitrack.allow_drop = on first.")));
	/*
	 * A distributed ai_call's calls leave its rollups through the
	 * TRUNCATE's hook (distributed.c), there only on the coordinator, in a
	 * server that preloads aitrack: elsewhere ai_calls_distributed()
	 * refuses, before Citus empties the shards.
	 */
	if (ai_is_aitrack_calls(relid))
		(void) ai_calls_distributed(RelationGetNamespace(trigdata->tg_relation));
	return PointerGetDatum(NULL);
}
