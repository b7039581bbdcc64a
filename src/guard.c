/*
 * guard.c
 *		The drop guard: refusing to delete the ledger by accident.
 *
 *	aitrack.allow_drop		on lets DROP EXTENSION aitrack (or a DROP ...
 *							CASCADE reaching it) delete recorded calls
 *
 * The guard is an object access hook: it sees every object about to be
 * dropped, whatever command drops it.  The library is loaded in time by an
 * event trigger on the DDL commands that can drop the extension.
 */
#include "aitrack.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/tuptable.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

static bool allow_drop = false;

static object_access_hook_type previous_object_access_hook = NULL;

static void guard_object_access(ObjectAccessType access, Oid classId,
								Oid objectId, int subId, void *arg);

void
drop_guard_init(void)
{
	DefineCustomBoolVariable("aitrack.allow_drop",
							 "Lets DROP EXTENSION aitrack delete recorded calls.",
							 NULL, &allow_drop, false, PGC_USERSET, 0, NULL, NULL, NULL);

	previous_object_access_hook = object_access_hook;
	object_access_hook = guard_object_access;
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

PG_FUNCTION_INFO_V1(ai_drop_guard_1_3);

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
