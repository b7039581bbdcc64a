/*
 * budget_rows.c
 *		Changes to ai_budget_spend rows made straight through the executor's
 *		tuple routines, not through SQL (the library after 1.8): what
 *		counting a call, holding an estimate and taking a hold off do to a
 *		row that is already there; and ending a reservation (deleting its
 *		row).
 *
 * Each of those is "lock the row of this key, add to some of its columns".
 * Here the row is found through the primary key with a dirty snapshot and
 * locked with table_tuple_lock() (the newest version, after waiting for a
 * writer in progress; as logical replication's apply worker finds its rows),
 * and written with ExecSimpleRelationUpdate() or ExecSimpleRelationDelete(),
 * which keep the indexes, the constraints and the replica identity as SQL
 * would.  What that buys is concurrency, not speed (SPI's share of the cost
 * was small; README, Performance):
 *	- the row read is the newest committed (or this transaction's own)
 *	  version at any isolation level: under REPEATABLE READ a count that
 *	  waited for another's no longer fails with a serialization error (a
 *	  counter's sum does not depend on the order);
 *	- ending a reservation reads its holds first, unlocked, and locks its
 *	  spend rows before its own row, the order ai_budget_clear_expired()
 *	  takes them in, so that the two cannot deadlock.
 *
 * The row lock is the one an UPDATE takes (FOR NO KEY UPDATE; a DELETE's
 * for a reservation), held to the end of the transaction, so the lock order
 * of spend rows (budget id, scope value, period start) and everything built
 * on it are as before.
 *
 * No statement trigger fires for these changes (the tuple routines fire row
 * triggers only), so the caller does what ai_budget_reservation_ended does
 * for every other delete of a reservation: it takes the holds off itself.
 *
 * What this does not do: make a row (the first call of a period goes
 * through the SQL upsert, which settles two first calls racing); change a
 * table with a trigger of someone else's (it would not fire as it does for
 * SQL); write in a read-only transaction (SQL raises the error); or apply
 * row-level security (the extension's own bookkeeping, as the SQL it
 * replaces ran as the table's owner; a tenant's reservations end through
 * SQL, under its policy).  The openers return NULL where they cannot
 * serve, and the callers use SQL.
 */
#include "aitrack.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "common/int.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/snapmgr.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* One table open for direct changes, to the end of a statement. */
typedef struct DirectTable
{
	Relation	rel;
	Oid			pkey;
	EState	   *estate;
	ResultRelInfo *rri;
	TupleTableSlot *search;		/* the key, for the index scan */
	TupleTableSlot *found;		/* the row as locked */
	TupleTableSlot *next;		/* its new version */
	MemoryContext per_row;		/* reset for each row changed */
} DirectTable;

struct AiSpendRows
{
	DirectTable table;
	AttrNumber	budget_id;
	AttrNumber	scope_value;
	AttrNumber	period_start;
	AttrNumber	spent_usd;
	AttrNumber	calls;
	AttrNumber	unpriced_calls;
	AttrNumber	alerted_pct;
	AttrNumber	updated_at;
	AttrNumber	reserved_usd;
};

struct AiReservationRows
{
	DirectTable table;
	AttrNumber	id;
	AttrNumber	amount_usd;
	AttrNumber	hold_budget_ids;
	AttrNumber	hold_scope_values;
	AttrNumber	hold_period_starts;
};

/* The attribute number of column name, or 0. */
static AttrNumber
column_of(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	return 0;
}

/*
 * Is the primary key of rel the columns key[0..nkeys), in that order (and
 * each of them there)?
 */
static bool
primary_key_is(Relation rel, Oid pkey, const AttrNumber *key, int nkeys)
{
	Relation	index;
	bool		same;

	if (!OidIsValid(pkey))
		return false;
	for (int i = 0; i < nkeys; i++)
		if (key[i] <= 0)
			return false;
	index = index_open(pkey, AccessShareLock);
	same = IndexRelationGetNumberOfKeyAttributes(index) == nkeys;
	for (int i = 0; same && i < nkeys; i++)
		same = index->rd_index->indkey.values[i] == key[i];
	index_close(index, AccessShareLock);
	return same;
}

/*
 * Open table relname of schema for direct changes; false when it cannot
 * be: it has a trigger other than the statement triggers own_triggers
 * (NULL-terminated) names, the caller doing their work (no trigger fires as
 * it would for SQL).
 */
static bool
direct_open(DirectTable *t, Oid schema, const char *relname, const char *const *own_triggers)
{
	Oid			relid = get_relname_relid(relname, schema);
	Relation	rel;
	bool		usable;
	RangeTblEntry *rte;
	List	   *perminfos = NIL;

	/*
	 * In a read-only transaction SQL raises the error a write must raise;
	 * these routines would not check.
	 */
	if (!OidIsValid(relid) || XactReadOnly)
		return false;
	rel = table_open(relid, RowExclusiveLock);
	usable = rel->rd_rel->relkind == RELKIND_RELATION;
	for (int i = 0; usable && rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		const Trigger *trigger = &rel->trigdesc->triggers[i];
		bool		own = false;

		for (int j = 0; own_triggers != NULL && own_triggers[j] != NULL && !own; j++)
			own = strcmp(trigger->tgname, own_triggers[j]) == 0;
		usable = own && !TRIGGER_FOR_ROW(trigger->tgtype);
	}
	if (!usable)
	{
		table_close(rel, RowExclusiveLock);
		return false;
	}
	t->rel = rel;
#if PG_VERSION_NUM >= 180000
	t->pkey = RelationGetPrimaryKeyIndex(rel, false);
#else
	t->pkey = RelationGetPrimaryKeyIndex(rel);
#endif

	/* An executor state of one result relation, as the apply worker's. */
	t->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
#if PG_VERSION_NUM >= 180000
	addRTEPermissionInfo(&perminfos, rte);
	ExecInitRangeTable(t->estate, list_make1(rte), perminfos, bms_make_singleton(1));
#elif PG_VERSION_NUM >= 160000
	addRTEPermissionInfo(&perminfos, rte);
	ExecInitRangeTable(t->estate, list_make1(rte), perminfos);
#else
	(void) perminfos;
	ExecInitRangeTable(t->estate, list_make1(rte));
#endif
	t->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(t->rri, rel, 1, NULL, 0);
	t->estate->es_opened_result_relations =
		lappend(t->estate->es_opened_result_relations, t->rri);
	t->estate->es_output_cid = GetCurrentCommandId(true);
	ExecOpenIndices(t->rri, false);
	t->search = table_slot_create(rel, &t->estate->es_tupleTable);
	t->found = table_slot_create(rel, &t->estate->es_tupleTable);
	t->next = table_slot_create(rel, &t->estate->es_tupleTable);
	t->per_row = AllocSetContextCreate(CurrentMemoryContext, "aitrack direct row",
									   ALLOCSET_SMALL_SIZES);
	/*
	 * What this command wrote before (a data-modifying CTE beside the
	 * INSERT that fired the count) must be visible to the lookups, as SQL
	 * makes it visible to each statement it runs.
	 */
	CommandCounterIncrement();
	return true;
}

static void
direct_close(DirectTable *t)
{
	ExecCloseIndices(t->rri);
	ExecResetTupleTable(t->estate->es_tupleTable, false);
	FreeExecutorState(t->estate);
	MemoryContextDelete(t->per_row);
	/* (the lock stays to the end of the transaction, as SQL's would) */
	table_close(t->rel, NoLock);
}

/*
 * Find the row whose primary key columns key_atts[] have key_values[] and
 * lock it in mode to the end of the transaction (into t->found): the
 * newest version, after waiting for a writer in progress.  Called in
 * t->per_row.
 *
 * The index is scanned with a dirty snapshot, so a version committed after
 * this transaction's snapshot, or one still being written, is found.  A row
 * still being inserted is waited for (its inserter may roll back); a row
 * locked or being updated is left to table_tuple_lock(), which queues
 * behind the holder on the tuple lock, waits for it, and says whether it
 * updated or deleted the row, and then the scan is done again for the
 * newest version.  (As logical replication's RelationFindReplTupleByIndex()
 * does, without its LOG line for each retry, and with the equality of the
 * key's own types: the primary key of these tables is plain btree.)
 */
static bool
direct_find(DirectTable *t, const AttrNumber *key_atts, const Datum *key_values, int nkeys,
			LockTupleMode mode)
{
	Relation	index = index_open(t->pkey, RowExclusiveLock);
	ScanKeyData keys[INDEX_MAX_KEYS];
	SnapshotData dirty;
	IndexScanDesc scan;
	bool		found;
	TupleDesc	desc = RelationGetDescr(t->rel);

	for (int i = 0; i < nkeys; i++)
	{
		Oid			type = TupleDescAttr(desc, key_atts[i] - 1)->atttypid;
		RegProcedure eq = type == INT8OID ? F_INT8EQ :
			type == TEXTOID ? F_TEXTEQ :
			type == TIMESTAMPTZOID ? F_TIMESTAMP_EQ : InvalidOid;

		if (!OidIsValid(eq))
			elog(ERROR, "unexpected type %u in the key of \"%s\"", type, RelationGetRelationName(t->rel));
		ScanKeyInit(&keys[i], i + 1, BTEqualStrategyNumber, eq, key_values[i]);
		keys[i].sk_collation = index->rd_indcollation[i];
	}
	InitDirtySnapshot(dirty);
#if PG_VERSION_NUM >= 180000
	scan = index_beginscan(t->rel, index, &dirty, NULL, nkeys, 0);
#else
	scan = index_beginscan(t->rel, index, &dirty, nkeys, 0);
#endif
	for (;;)
	{
		TM_FailureData failure;
		TM_Result	result;

		CHECK_FOR_INTERRUPTS();
		index_rescan(scan, keys, nkeys, NULL, 0);
		found = index_getnext_slot(scan, ForwardScanDirection, t->found);
		if (!found)
			break;
		if (TransactionIdIsValid(dirty.xmin))
		{
			/* still being inserted: wait for the inserter, look again */
			XactLockTableWait(dirty.xmin, t->rel, &t->found->tts_tid, XLTW_None);
			continue;
		}
		PushActiveSnapshot(GetLatestSnapshot());
		result = table_tuple_lock(t->rel, &t->found->tts_tid, GetActiveSnapshot(), t->found,
								  GetCurrentCommandId(false), mode, LockWaitBlock, 0, &failure);
		PopActiveSnapshot();
		if (result == TM_Ok)
			break;
		if (result != TM_Updated && result != TM_Deleted)
			elog(ERROR, "unexpected result %d locking a row of \"%s\"", (int) result,
				 RelationGetRelationName(t->rel));
		/* updated or deleted meanwhile: the newest version, if any */
	}
	index_endscan(scan);
	index_close(index, NoLock);
	if (found)
		slot_getallattrs(t->found);
	return found;
}

/*
 * The newest version of the row with that key, not locked (into t->found);
 * false when there is none.  Called in t->per_row.
 */
static bool
direct_peek(DirectTable *t, const AttrNumber *key_atts, const Datum *key_values, int nkeys)
{
	Relation	index = index_open(t->pkey, RowExclusiveLock);
	ScanKeyData keys[INDEX_MAX_KEYS];
	IndexScanDesc scan;
	bool		found;
	Snapshot	latest = RegisterSnapshot(GetLatestSnapshot());

	Assert(nkeys == 1 && TupleDescAttr(RelationGetDescr(t->rel), key_atts[0] - 1)->atttypid == INT8OID);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, key_values[0]);
#if PG_VERSION_NUM >= 180000
	scan = index_beginscan(t->rel, index, latest, NULL, nkeys, 0);
#else
	scan = index_beginscan(t->rel, index, latest, nkeys, 0);
#endif
	index_rescan(scan, keys, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, t->found);
	if (found)
		ExecMaterializeSlot(t->found);
	index_endscan(scan);
	index_close(index, NoLock);
	UnregisterSnapshot(latest);
	if (found)
		slot_getallattrs(t->found);
	return found;
}

/*
 * Open ai_budget_spend of schema for direct changes, to the end of the
 * statement (the caller closes it); NULL when they cannot be made here.
 */
AiSpendRows *
ai_spend_rows_open(Oid schema)
{
	AiSpendRows *rows = palloc0(sizeof(AiSpendRows));
	TupleDesc	desc;
	AttrNumber	key[3];

	if (!direct_open(&rows->table, schema, "ai_budget_spend", NULL))
	{
		pfree(rows);
		return NULL;
	}
	desc = RelationGetDescr(rows->table.rel);
	rows->budget_id = column_of(desc, "budget_id");
	rows->scope_value = column_of(desc, "scope_value");
	rows->period_start = column_of(desc, "period_start");
	rows->spent_usd = column_of(desc, "spent_usd");
	rows->calls = column_of(desc, "calls");
	rows->unpriced_calls = column_of(desc, "unpriced_calls");
	rows->alerted_pct = column_of(desc, "alerted_pct");
	rows->updated_at = column_of(desc, "updated_at");
	rows->reserved_usd = column_of(desc, "reserved_usd");
	key[0] = rows->budget_id;
	key[1] = rows->scope_value;
	key[2] = rows->period_start;
	if (!primary_key_is(rows->table.rel, rows->table.pkey, key, 3) ||
		rows->spent_usd <= 0 || rows->calls <= 0 || rows->unpriced_calls <= 0 ||
		rows->alerted_pct <= 0 || rows->updated_at <= 0 || rows->reserved_usd <= 0)
	{
		direct_close(&rows->table);
		pfree(rows);
		return NULL;
	}
	return rows;
}

void
ai_spend_rows_close(AiSpendRows *rows)
{
	if (rows == NULL)
		return;
	direct_close(&rows->table);
	pfree(rows);
}

/* a + b, or the error int8 addition gives */
static int64
add_count(int64 a, int64 b)
{
	int64		sum;

	if (pg_add_s64_overflow(a, b, &sum))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	return sum;
}

static Datum
numeric_plus(Datum a, Numeric b)
{
	return DirectFunctionCall2(numeric_add, a, NumericGetDatum(b));
}

/*
 * Find and lock the spend row of key (into rows->table.found), in
 * rows->table.per_row, which this resets with the executor's per-tuple
 * memory.  The caller switches back to its own context.
 */
static bool
spend_row_find(AiSpendRows *rows, const AiSpendKey *key)
{
	DirectTable *t = &rows->table;
	AttrNumber	key_atts[3] = {rows->budget_id, rows->scope_value, rows->period_start};
	Datum		key_values[3];

	MemoryContextReset(t->per_row);
	ResetPerTupleExprContext(t->estate);
	MemoryContextSwitchTo(t->per_row);
	key_values[0] = Int64GetDatum(key->budget_id);
	key_values[1] = CStringGetTextDatum(key->scope_value);
	key_values[2] = TimestampTzGetDatum(key->period_start);
	return direct_find(t, key_atts, key_values, 3, LockTupleNoKeyExclusive);
}

/*
 * Change the spend row of key as change says, locking it to the end of the
 * transaction.  AI_SPEND_NO_ROW: there is none (nothing changed, nothing
 * locked).  AI_SPEND_OVER_LIMIT: change->limit is set and spent + reserved
 * + change->reserved would pass it (nothing changed; the row stays locked,
 * and *after has its figures).  *after (when not NULL) gets the row's
 * figures after the change, copied into the caller's memory context.
 */
AiSpendResult
ai_spend_row_change(AiSpendRows *rows, const AiSpendKey *key, const AiSpendChange *change,
					AiSpendRowState *after)
{
	DirectTable *t = &rows->table;
	MemoryContext caller = CurrentMemoryContext;
	int			natts = RelationGetDescr(t->rel)->natts;
	AiSpendResult result = AI_SPEND_CHANGED;
	Datum		spent;
	Datum		reserved;

	if (!spend_row_find(rows, key))
	{
		MemoryContextSwitchTo(caller);
		return AI_SPEND_NO_ROW;
	}
	spent = t->found->tts_values[rows->spent_usd - 1];
	reserved = t->found->tts_values[rows->reserved_usd - 1];

	if (change->limit != NULL)
	{
		Datum		total = numeric_plus(DirectFunctionCall2(numeric_add, spent, reserved),
										 change->reserved);

		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, total,
											  NumericGetDatum(change->limit))) > 0)
			result = AI_SPEND_OVER_LIMIT;
	}
	if (result == AI_SPEND_CHANGED)
	{
		TupleTableSlot *next = t->next;

		ExecClearTuple(next);
		memcpy(next->tts_values, t->found->tts_values, sizeof(Datum) * natts);
		memcpy(next->tts_isnull, t->found->tts_isnull, sizeof(bool) * natts);
		if (change->spent != NULL)
			spent = next->tts_values[rows->spent_usd - 1] = numeric_plus(spent, change->spent);
		if (change->reserved != NULL)
			reserved = next->tts_values[rows->reserved_usd - 1] = numeric_plus(reserved, change->reserved);
		if (change->calls != 0)
			next->tts_values[rows->calls - 1] =
				Int64GetDatum(add_count(DatumGetInt64(next->tts_values[rows->calls - 1]), change->calls));
		if (change->unpriced != 0)
			next->tts_values[rows->unpriced_calls - 1] =
				Int64GetDatum(add_count(DatumGetInt64(next->tts_values[rows->unpriced_calls - 1]), change->unpriced));
		if (change->counted)
		{
			next->tts_values[rows->updated_at - 1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			next->tts_isnull[rows->updated_at - 1] = false;
		}
		ExecStoreVirtualTuple(next);
		ExecSimpleRelationUpdate(t->rri, t->estate, NULL, t->found, next);
		/* (what comes next in this command, a second change of the row, sees it) */
		CommandCounterIncrement();
	}

	MemoryContextSwitchTo(caller);
	if (after != NULL)
	{
		after->spent = DatumGetNumericCopy(spent);
		after->reserved = DatumGetNumericCopy(reserved);
		after->alerted = t->found->tts_isnull[rows->alerted_pct - 1] ? (Datum) 0 :
			PointerGetDatum(DatumGetArrayTypePCopy(t->found->tts_values[rows->alerted_pct - 1]));
	}
	return result;
}

/*
 * Open ai_budget_reservation of schema for direct deletes, to the end of
 * the statement; NULL when they cannot be made here.  Its own statement
 * triggers (ai_budget_reservation_ended) are allowed: they do not fire for
 * these deletes, and the caller does their work.
 */
AiReservationRows *
ai_reservation_rows_open(Oid schema)
{
	static const char *const own_triggers[] = {"ai_budget_reservation_ended",
	"ai_budget_reservation_truncated", NULL};
	AiReservationRows *rows = palloc0(sizeof(AiReservationRows));
	TupleDesc	desc;

	if (!direct_open(&rows->table, schema, "ai_budget_reservation", own_triggers))
	{
		pfree(rows);
		return NULL;
	}
	desc = RelationGetDescr(rows->table.rel);
	rows->id = column_of(desc, "id");
	rows->amount_usd = column_of(desc, "amount_usd");
	rows->hold_budget_ids = column_of(desc, "hold_budget_ids");
	rows->hold_scope_values = column_of(desc, "hold_scope_values");
	rows->hold_period_starts = column_of(desc, "hold_period_starts");
	if (!primary_key_is(rows->table.rel, rows->table.pkey, &rows->id, 1) ||
		rows->amount_usd <= 0 || rows->hold_budget_ids <= 0 ||
		rows->hold_scope_values <= 0 || rows->hold_period_starts <= 0)
	{
		direct_close(&rows->table);
		pfree(rows);
		return NULL;
	}
	return rows;
}

void
ai_reservation_rows_close(AiReservationRows *rows)
{
	if (rows == NULL)
		return;
	direct_close(&rows->table);
	pfree(rows);
}

/*
 * What the reservation row in rows->table.found holds, copied into the
 * current memory context.
 */
static void
holds_of_found(AiReservationRows *rows, AiReservationHolds *held)
{
	TupleTableSlot *found = rows->table.found;

	held->amount = DatumGetNumericCopy(found->tts_values[rows->amount_usd - 1]);
	held->budget_ids = DatumGetArrayTypePCopy(found->tts_values[rows->hold_budget_ids - 1]);
	held->scope_values = DatumGetArrayTypePCopy(found->tts_values[rows->hold_scope_values - 1]);
	held->period_starts = DatumGetArrayTypePCopy(found->tts_values[rows->hold_period_starts - 1]);
}

/*
 * Delete reservation id's row; false when there is none.  *held gets what
 * it held (copied into the caller's memory context), for the caller to take
 * off the spend rows.
 */
bool
ai_reservation_row_delete(AiReservationRows *rows, int64 id, AiReservationHolds *held)
{
	DirectTable *t = &rows->table;
	MemoryContext caller = CurrentMemoryContext;
	Datum		key = Int64GetDatum(id);
	TupleTableSlot *found = t->found;

	MemoryContextReset(t->per_row);
	ResetPerTupleExprContext(t->estate);
	MemoryContextSwitchTo(t->per_row);
	if (!direct_find(t, &rows->id, &key, 1, LockTupleExclusive))
	{
		MemoryContextSwitchTo(caller);
		return false;
	}
	ExecSimpleRelationDelete(t->rri, t->estate, NULL, found);
	CommandCounterIncrement();
	MemoryContextSwitchTo(caller);
	holds_of_found(rows, held);
	return true;
}

/*
 * Lock the spend row of key to the end of the transaction, changing
 * nothing; false when there is none.
 */
bool
ai_spend_row_lock(AiSpendRows *rows, const AiSpendKey *key)
{
	MemoryContext caller = CurrentMemoryContext;
	bool		found = spend_row_find(rows, key);

	MemoryContextSwitchTo(caller);
	return found;
}

/*
 * What reservation id holds, as its newest committed version says, without
 * locking it (so that the caller can lock the spend rows first, in the
 * order everyone locks them); false when there is none.
 */
bool
ai_reservation_row_peek(AiReservationRows *rows, int64 id, AiReservationHolds *held)
{
	DirectTable *t = &rows->table;
	MemoryContext caller = CurrentMemoryContext;
	Datum		key = Int64GetDatum(id);

	MemoryContextReset(t->per_row);
	MemoryContextSwitchTo(t->per_row);
	if (!direct_peek(t, &rows->id, &key, 1))
	{
		MemoryContextSwitchTo(caller);
		return false;
	}
	MemoryContextSwitchTo(caller);
	holds_of_found(rows, held);
	return true;
}

/*
 * The spent and reserved figures of the spend row of key as committed now
 * (a snapshot taken here), not locked; false (and zeros) when there is
 * none.  For a reservation held in memory (1.9), which writes nothing: its
 * check reads the row after its hold is in memory, so a settle that took
 * its own hold off before that is seen here with its call counted
 * (budget_memory.c).  As the SQL it stands for, this reads the table as
 * its owner, with no row-level security.
 */
bool
ai_spend_row_read(Oid schema, const AiSpendKey *key, Numeric *spent, Numeric *reserved)
{
	Oid			relid = get_relname_relid("ai_budget_spend", schema);
	Relation	rel;
	Relation	index;
	Oid			pkey;
	TupleDesc	desc;
	AttrNumber	atts[5];
	ScanKeyData keys[3];
	Datum		values[3];
	RegProcedure eqs[3] = {F_INT8EQ, F_TEXTEQ, F_TIMESTAMP_EQ};
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	*spent = *reserved = DatumGetNumeric(DirectFunctionCall1(int4_numeric, Int32GetDatum(0)));
	if (!OidIsValid(relid))
		return false;
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	atts[0] = column_of(desc, "budget_id");
	atts[1] = column_of(desc, "scope_value");
	atts[2] = column_of(desc, "period_start");
	atts[3] = column_of(desc, "spent_usd");
	atts[4] = column_of(desc, "reserved_usd");
#if PG_VERSION_NUM >= 180000
	pkey = RelationGetPrimaryKeyIndex(rel, false);
#else
	pkey = RelationGetPrimaryKeyIndex(rel);
#endif
	if (!primary_key_is(rel, pkey, atts, 3) || atts[3] <= 0 || atts[4] <= 0)
		elog(ERROR, "ai_budget_spend lacks its primary key or its columns");
	for (int i = 0; i < 3; i++)
		if (TupleDescAttr(desc, atts[i] - 1)->atttypid != types[i])
			elog(ERROR, "unexpected type in the key of ai_budget_spend");
	values[0] = Int64GetDatum(key->budget_id);
	values[1] = CStringGetTextDatum(key->scope_value);
	values[2] = TimestampTzGetDatum(key->period_start);
	index = index_open(pkey, AccessShareLock);
	for (int i = 0; i < 3; i++)
	{
		ScanKeyInit(&keys[i], i + 1, BTEqualStrategyNumber, eqs[i], values[i]);
		keys[i].sk_collation = index->rd_indcollation[i];
	}
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	slot = table_slot_create(rel, NULL);
#if PG_VERSION_NUM >= 180000
	scan = index_beginscan(rel, index, snapshot, NULL, 3, 0);
#else
	scan = index_beginscan(rel, index, snapshot, 3, 0);
#endif
	index_rescan(scan, keys, 3, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		bool		isnull;
		Datum		s = slot_getattr(slot, atts[3], &isnull);
		Datum		r;

		if (!isnull)
			*spent = DatumGetNumericCopy(s);
		r = slot_getattr(slot, atts[4], &isnull);
		if (!isnull)
			*reserved = DatumGetNumericCopy(r);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snapshot);
	index_close(index, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}
