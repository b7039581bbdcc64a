/*
 * distributed.c
 *		aitrack on a Citus cluster (1.10): whether ai_call is distributed,
 *		and the counting that its statement triggers do on one server, done
 *		instead by the statements that write a distributed ai_call.
 *
 * aitrack_distribute() (sql/aitrack--1.9--1.10.sql) makes ai_call a Citus
 * table hash-distributed by id; every other table of aitrack stays a local
 * table of the coordinator.  Citus would copy ai_call's statement triggers
 * to each shard, where they run on a worker and cannot write the
 * coordinator's rollup and spend tables, so aitrack_distribute() drops them
 * and whatever writes ai_call on the coordinator counts what it wrote, in
 * the same transaction: record_ai_call() and record_ai_calls() the rows
 * their INSERT ... RETURNING gave back, the deletes (ai_purge_calls(), a
 * deleted model's calls) the rows their DELETE ... RETURNING gave back,
 * through ai_count_calls() here.  The counting is the triggers' own code
 * (rollup.c, budget_count.c), given the rows as a trigger is given its
 * transition table.
 *
 * Whether ai_call is distributed comes from Citus's catalog, never from a
 * setting: it is asked once per backend and asked again when ai_call's
 * relcache entry is invalidated (create_distributed_table() invalidates it).
 */
#include "aitrack.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "tcop/utility.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

/*
 * How many of aitrack's own writes of ai_call (which count what they
 * wrote) are running in this backend: while none is, an INSERT, DELETE or
 * COPY into a distributed ai_call is a write by hand, which nothing would
 * count, and is refused (uncounted_write_check()).
 */
static int	counted_writes = 0;

static ExecutorCheckPerms_hook_type prev_check_perms = NULL;
static ProcessUtility_hook_type prev_process_utility = NULL;

/* The answer kept for one schema's ai_call, until its relcache entry goes. */
static Oid	known_schema = InvalidOid;
static Oid	known_relid = InvalidOid;
static bool known_distributed = false;
void
distributed_relcache_invalidated(Oid relid)
{
	if (relid == InvalidOid || relid == known_relid)
		known_schema = InvalidOid;
}

/*
 * Is relid in Citus's pg_dist_partition (a distributed, reference or
 * Citus-managed local table)?  Read directly: the table is small and has
 * no syscache.  False when Citus is not installed in this database.
 */
bool
ai_citus_knows_table(Oid relid)
{
	Oid			catalog;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(get_extension_oid("citus", true)))
		return false;
	catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(catalog))
		return false;
	rel = table_open(catalog, AccessShareLock);
	/* logicalrelid is pg_dist_partition's first column, of type regclass */
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Is this server the coordinator (Citus's local group 0)?  Read once per
 * backend from pg_dist_local_group.
 */
static bool
citus_is_coordinator_here(void)
{
	static int	known = -1;
	Oid			catalog;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (known >= 0)
		return known == 1;
	catalog = get_relname_relid("pg_dist_local_group", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(catalog))
		return true;
	rel = table_open(catalog, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		group = heap_getattr(tuple, 1, RelationGetDescr(rel), &isnull);

		known = (!isnull && DatumGetInt32(group) != 0) ? 0 : 1;
	}
	else
		known = 1;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return known == 1;
}

/*
 * Is relid aitrack's ai_call, not a table of the same name elsewhere?  By
 * name first: the executor hooks ask this of every relation.
 */
bool
ai_is_aitrack_calls(Oid relid)
{
	char	   *name = get_rel_name(relid);
	Oid			extension;

	if (name == NULL || strcmp(name, "ai_call") != 0)
		return false;
	extension = get_extension_oid("aitrack", true);
	return OidIsValid(extension) &&
		getExtensionOfObject(RelationRelationId, relid) == extension;
}

/* Is this server a Citus worker (in a group other than the coordinator's)? */
bool
ai_citus_worker_here(void)
{
	return !citus_is_coordinator_here();
}

bool
ai_calls_distributed(Oid schema)
{
	if (schema != known_schema)
	{
		Oid			relid = get_relname_relid("ai_call", schema);

		known_distributed = OidIsValid(relid) && ai_citus_knows_table(relid);
		known_relid = relid;
		known_schema = schema;
	}
	/*
	 * Tenants are kept off a distributed ai_call by a hook (tenant.c) that
	 * must be in place before any statement of the session: refuse to
	 * work without it rather than leave that open.
	 */
	/*
	 * On a worker the extension's tables are its own copies (no calls, no
	 * tenants' users, a sequence of its own): nothing there may record or
	 * read through aitrack.
	 */
	if (known_distributed && !citus_is_coordinator_here())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aitrack runs on the coordinator of a distributed install"),
				 errdetail("ai_call is distributed, and this server is a Citus worker: its copies of aitrack's tables are not the coordinator's."),
				 errhint("Connect to the coordinator.")));
	if (known_distributed && !aitrack_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aitrack must be in shared_preload_libraries on a distributed install"),
				 errdetail("ai_call is a Citus distributed table; without the library loaded at server start, a tenant's session could query it unchecked."),
				 errhint("Set shared_preload_libraries = 'citus,aitrack' on the coordinator and restart it.")));
	return known_distributed;
}

/*
 * Run one of aitrack's own writes of ai_call (SPI_execute_snapshot()'s
 * arguments, read_only false), which counts what it wrote itself.
 */
int
ai_execute_counted(SPIPlanPtr plan, Datum *values, const char *nulls,
				   Snapshot snapshot, Snapshot crosscheck, bool fire_triggers, long count)
{
	int			rc;

	counted_writes++;
	PG_TRY();
	{
		rc = SPI_execute_snapshot(plan, values, nulls, snapshot, crosscheck,
								  false, fire_triggers, count);
	}
	PG_FINALLY();
	{
		counted_writes--;
	}
	PG_END_TRY();
	return rc;
}

/*
 * Does a statement that may insert into or delete from relid (perms) write
 * aitrack's distributed ai_call by hand?  No trigger counts such a write
 * there (aitrack_distribute() dropped them; the writers count instead),
 * so the rollups and budgets would no longer match the calls.
 */
static bool
uncounted_write(Oid relid, AclMode perms)
{
	if (!(perms & (ACL_INSERT | ACL_DELETE)) || counted_writes > 0 ||
		!ai_is_aitrack_calls(relid))
		return false;
	return ai_calls_distributed(get_rel_namespace(relid));
}

/*
 * Repricing a distributed ai_call takes each call out and puts it back
 * (reprice.c).  A statement of another session that updates or deletes a
 * call meanwhile, and waits for that call's row on its shard, would find
 * the row deleted and skip it without seeing the copy put back: the call
 * would survive its deletion, its content its purge.  So the two are kept
 * apart by a lock of aitrack's own: an object lock on ai_call's pg_class
 * entry, which PostgreSQL never takes (it locks relations by a tag of
 * their own).  A statement that may update or delete calls takes it in
 * ROW EXCLUSIVE mode, which such statements share, before it runs on the
 * shards (whose statements take their snapshots then); a repricing takes
 * it in SHARE ROW EXCLUSIVE mode to the end of its transaction, waiting for
 * them and making them wait.  Recording (INSERT) takes none.
 */
void
ai_lock_call_changes(Oid relid, LOCKMODE mode)
{
	LockDatabaseObject(RelationRelationId, relid, 0, mode);
}

/* The lock above, for a statement that may update or delete relid (perms). */
static void
lock_if_changing_calls(Oid relid, AclMode perms)
{
	if ((perms & (ACL_UPDATE | ACL_DELETE)) && ai_is_aitrack_calls(relid) &&
		ai_calls_distributed(get_rel_namespace(relid)))
		ai_lock_call_changes(relid, RowExclusiveLock);
}

static void
report_uncounted_write(Oid relid)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot write the distributed %s by hand",
					quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
											   get_rel_name(relid))),
			 errdetail("No trigger counts an INSERT, DELETE or COPY there into the rollups and budgets; only aitrack's functions count what they write."),
			 errhint("Record with record_ai_call() or record_ai_calls(); delete with ai_delete_calls() or ai_purge_calls().")));
}

#if PG_VERSION_NUM >= 160000
static bool
uncounted_write_check(List *range_table, List *perm_infos, bool ereport_on_violation)
{
	ListCell   *lc;

	foreach(lc, perm_infos)
	{
		RTEPermissionInfo *perm = lfirst_node(RTEPermissionInfo, lc);

		if (uncounted_write(perm->relid, perm->requiredPerms))
		{
			if (ereport_on_violation)
				report_uncounted_write(perm->relid);
			return false;
		}
		lock_if_changing_calls(perm->relid, perm->requiredPerms);
	}
	return prev_check_perms == NULL ||
		prev_check_perms(range_table, perm_infos, ereport_on_violation);
}
#else
static bool
uncounted_write_check(List *range_table, bool ereport_on_violation)
{
	ListCell   *lc;

	foreach(lc, range_table)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		if (rte->rtekind != RTE_RELATION)
			continue;
		if (uncounted_write(rte->relid, rte->requiredPerms))
		{
			if (ereport_on_violation)
				report_uncounted_write(rte->relid);
			return false;
		}
		lock_if_changing_calls(rte->relid, rte->requiredPerms);
	}
	return prev_check_perms == NULL ||
		prev_check_perms(range_table, ereport_on_violation);
}
#endif

/*
 * After a TRUNCATE of a distributed ai_call, which the drop guard lets
 * through only with aitrack.allow_drop (guard.c): every call is gone, so
 * out of the rollups with them, as the rollup trigger's TRUNCATE does on
 * one server (the purged numbers stay, and the budgets count what was
 * spent).  With the rights of ai_call's owner, as every count.
 */
static void
count_truncated(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			saved_user;
	int			saved_context;

	CommandCounterIncrement();
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner,
						   saved_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		ai_rollup_capture_rows(rel, TRIGGER_EVENT_TRUNCATE, NULL);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
	table_close(rel, AccessShareLock);
}

/*
 * Did Citus empty the shards of the distributed ai_call relid that a
 * TRUNCATE named?  It does not with citus.enable_ddl_propagation off, nor
 * with session_replication_role = replica (its truncate trigger does not
 * fire), and the TRUNCATE then empties only the coordinator's shell, which
 * holds no call: emptying the rollups would leave every call uncounted, so
 * the TRUNCATE is refused instead.  Read with the rights of ai_call's owner,
 * as every count; the shards are locked by the TRUNCATE until its end, so
 * no call can come in meanwhile.  (SELECT 1: Citus refuses a multi-shard
 * query without a column, "a column definition list is required".)
 */
static SPIPlanPtr shards_left_plan = NULL;
static Oid	shards_left_relid = InvalidOid;

static void
check_shards_emptied(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			owner = rel->rd_rel->relowner;
	Oid			saved_user;
	int			saved_context;
	bool		left = false;
	bool		isnull;

	table_close(rel, AccessShareLock);
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		if (shards_left_plan == NULL || shards_left_relid != relid)
		{
			if (shards_left_plan != NULL)
				SPI_freeplan(shards_left_plan);
			shards_left_plan = NULL;
			shards_left_plan = aitrack_prepare_plan(psprintf("SELECT EXISTS (SELECT 1 FROM %s)",
															 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
																						get_rel_name(relid))),
													0, NULL, 0);
			shards_left_relid = relid;
		}
		if (SPI_execute_plan(shards_left_plan, NULL, NULL, true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "could not read the distributed ai_call");
		left = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
	SPI_finish();
	if (left)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("TRUNCATE did not empty the shards of the distributed ai_call"),
				 errdetail("Citus does not truncate the shards with citus.enable_ddl_propagation off or session_replication_role = replica; the rollups would no longer match the calls."),
				 errhint("Run the TRUNCATE with citus.enable_ddl_propagation on and session_replication_role = origin.")));
}

/*
 * TRUNCATE naming a distributed ai_call, on the coordinator: Citus empties
 * the shards, where no rollup trigger is (aitrack_distribute() dropped
 * them); once it has, the rollups are emptied too (count_truncated()), in
 * the same transaction.  (TRUNCATE ... CASCADE from ai_model names no
 * ai_call: the model link has no foreign key.)
 */
static void
distributed_process_utility(PlannedStmt *pstmt, const char *queryString,
							bool readOnlyTree, ProcessUtilityContext context,
							ParamListInfo params, QueryEnvironment *queryEnv,
							DestReceiver *dest, QueryCompletion *qc)
{
	List	   *truncated = NIL;
	ListCell   *lc;

	if (IsA(pstmt->utilityStmt, TruncateStmt))
	{
		foreach(lc, ((TruncateStmt *) pstmt->utilityStmt)->relations)
		{
			/* (only looked at: TRUNCATE itself locks and checks it) */
			Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);

			/*
			 * (on a worker, ai_calls_distributed() refuses: the rollups are
			 * the coordinator's, and Citus would empty every shard)
			 */
			if (OidIsValid(relid) && ai_is_aitrack_calls(relid) &&
				ai_calls_distributed(get_rel_namespace(relid)))
				truncated = list_append_unique_oid(truncated, relid);
		}
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	foreach(lc, truncated)
	{
		check_shards_emptied(lfirst_oid(lc));
		count_truncated(lfirst_oid(lc));
	}
}

/*
 * The check above, on every statement's permissions (Citus's COPY FROM
 * checks through them too), and the TRUNCATE.
 */
void
distributed_init(void)
{
	prev_check_perms = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = uncounted_write_check;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = distributed_process_utility;
}

/*
 * Count rows that a statement inserted into (TRIGGER_EVENT_INSERT) or
 * deleted from (TRIGGER_EVENT_DELETE) the distributed ai_call, as the
 * rollup and budget triggers count them on one server, and with their
 * rights: those of the extension's owner (ai_call's), whoever wrote.  rows
 * hold tuples of ai_call's row type.  count_budgets false: the rollups only
 * (an insert that puts back a repriced call, reprice.c, spends nothing).
 */
void
ai_count_calls(Relation ai_call, TriggerEvent event, Tuplestorestate *rows, bool count_budgets)
{
	Oid			saved_user;
	int			saved_context;

	if (tuplestore_tuple_count(rows) == 0)
		return;
	/*
	 * What the writer's statement did is seen, as an AFTER trigger sees it:
	 * the models a batch created just now, say, which the budgets' read-only
	 * lookups would otherwise miss.
	 */
	CommandCounterIncrement();
	PushCopiedSnapshot(GetActiveSnapshot());
	UpdateActiveSnapshotCommandId();
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(ai_call->rd_rel->relowner,
						   saved_context | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		ai_rollup_capture_rows(ai_call, event, rows);
		if (event == TRIGGER_EVENT_INSERT && count_budgets)
			ai_budget_count_rows(ai_call, rows);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
	PopActiveSnapshot();
}

/*
 * The rows of an SPI result (a distributed ai_call's INSERT or DELETE ...
 * RETURNING c.*) as rows of ai_call, by column name (so dropped columns and
 * the order of RETURNING do not matter), put into rows and into also (a
 * set-returning function's result), each when given.
 */
static void
spi_rows_as_calls(Relation rel, SPITupleTable *tuptable, uint64 nrows,
				  Tuplestorestate *rows, Tuplestorestate *also, TupleDesc also_desc)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int		   *source = palloc(sizeof(int) * desc->natts);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);

	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		source[a] = att->attisdropped ? SPI_ERROR_NOATTRIBUTE :
			SPI_fnumber(tuptable->tupdesc, NameStr(att->attname));
		if (!att->attisdropped && source[a] <= 0)
			elog(ERROR, "the rows to count lack ai_call's column \"%s\"", NameStr(att->attname));
	}
	for (uint64 r = 0; r < nrows; r++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int a = 0; a < desc->natts; a++)
		{
			if (source[a] <= 0)
			{
				values[a] = (Datum) 0;
				nulls[a] = true;
			}
			else
				values[a] = SPI_getbinval(tuptable->vals[r], tuptable->tupdesc, source[a], &nulls[a]);
		}
		if (rows != NULL)
			tuplestore_putvalues(rows, desc, values, nulls);
		if (also != NULL)
			tuplestore_putvalues(also, also_desc, values, nulls);
	}
	pfree(values);
	pfree(nulls);
	pfree(source);
}

/*
 * Count the rows of an SPI result, a distributed ai_call's INSERT or
 * DELETE ... RETURNING c.*, as above.
 */
void
ai_count_spi_rows(Oid schema, TriggerEvent event, SPITupleTable *tuptable, uint64 nrows,
				  bool count_budgets)
{
	Relation	rel;
	Tuplestorestate *rows;

	if (nrows == 0)
		return;
	rel = table_open(get_relname_relid("ai_call", schema), AccessShareLock);
	rows = tuplestore_begin_heap(true, false, work_mem);
	spi_rows_as_calls(rel, tuptable, nrows, rows, NULL, NULL);
	ai_count_calls(rel, event, rows, count_budgets);
	tuplestore_end(rows);
	table_close(rel, AccessShareLock);
}

/* ai_delete_calls()'s statement, per schema and kind of ai_call. */
static SPIPlanPtr delete_plan = NULL;
static Oid	delete_plan_schema = InvalidOid;

PG_FUNCTION_INFO_V1(ai_delete_calls_1_10);

/*
 * ai_delete_calls(ids bigint[]) RETURNS SETOF ai_call: deletes the calls
 * with these ids, with the caller's rights (DELETE on ai_call), and returns
 * them; on a distributed ai_call it counts them out of the rollups as the
 * rollup trigger does on one server.  ai_purge_calls() deletes through it.
 */
Datum
ai_delete_calls_1_10(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	Oid			argtype = INT8ARRAYOID;
	Datum		ids;
	Relation	rel;
	Tuplestorestate *rows;
	bool		distributed;
	int			rc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ids must not be null"),
				 errhint("Pass an array of ai_call ids, '{}' for none.")));
	ids = PG_GETARG_DATUM(0);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (delete_plan == NULL || delete_plan_schema != schema)
	{
		if (delete_plan != NULL)
			SPI_freeplan(delete_plan);
		delete_plan = NULL;
		delete_plan = aitrack_prepare_plan(psprintf("DELETE FROM %s.ai_call c"
													" WHERE c.id OPERATOR(pg_catalog.=) ANY ($1)"
													" RETURNING c.*",
													quote_identifier(get_namespace_name(schema))),
										   1, &argtype, 0);
		delete_plan_schema = schema;
	}
	rc = ai_execute_counted(delete_plan, &ids, NULL, InvalidSnapshot, InvalidSnapshot, true, 0);
	if (rc != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));

	rel = table_open(get_relname_relid("ai_call", schema), AccessShareLock);
	/* a local ai_call's trigger has counted them already */
	distributed = ai_calls_distributed(schema);
	rows = distributed ? tuplestore_begin_heap(true, false, work_mem) : NULL;
	spi_rows_as_calls(rel, SPI_tuptable, SPI_processed, rows, rsinfo->setResult, rsinfo->setDesc);
	if (distributed)
	{
		ai_count_calls(rel, TRIGGER_EVENT_DELETE, rows, false);
		tuplestore_end(rows);
	}
	table_close(rel, AccessShareLock);
	SPI_finish();
	return (Datum) 0;
}

/*
 * The columns of a call that the rollups and budgets count (by them, or
 * summed): on a distributed ai_call no trigger follows a change to them.
 */
static const char *const counted_columns[] = {
	"id", "created_at", "model_id", "call_type", "status", "user_id", "project",
	"input_tokens", "reasoning_tokens", "output_tokens", "cache_read_input_tokens",
	"cache_creation_input_tokens", "cost_usd", "duration_ms", "time_to_first_token_ms",
	"cache_creation_1h_input_tokens", "input_audio_tokens", "cache_read_audio_tokens",
	"input_image_tokens", "output_audio_tokens", "output_image_tokens", "web_search_requests",
};

PG_FUNCTION_INFO_V1(ai_call_keep_counted_1_10);

/*
 * BEFORE UPDATE ... FOR EACH ROW on a distributed ai_call (aitrack_
 * distribute() creates it; Citus runs it on each shard, where it reads
 * nothing but the row): refuses an update that changes what the rollups
 * and budgets count, which the coordinator could not follow.  Content
 * (prompt, response, extra) and attribution labels other than project may
 * change, as ai_purge_content() changes them.
 */
Datum
ai_call_keep_counted_1_10(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "ai_call_keep_counted must be a BEFORE UPDATE ... FOR EACH ROW trigger");
	desc = RelationGetDescr(trigdata->tg_relation);
	for (int i = 0; i < (int) lengthof(counted_columns); i++)
	{
		int			attnum = SPI_fnumber(desc, counted_columns[i]);
		Form_pg_attribute att;
		bool		old_null;
		bool		new_null;
		Datum		old_value;
		Datum		new_value;

		if (attnum <= 0)
			continue;
		att = TupleDescAttr(desc, attnum - 1);
		old_value = heap_getattr(trigdata->tg_trigtuple, attnum, desc, &old_null);
		new_value = heap_getattr(trigdata->tg_newtuple, attnum, desc, &new_null);
		if (old_null == new_null &&
			(old_null || datumIsEqual(old_value, new_value, att->attbyval, att->attlen)))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot change column \"%s\" of a call in a distributed ai_call",
						counted_columns[i]),
				 errdetail("The rollups and budgets count it, and on a distributed install no trigger follows the change."),
				 errhint("Change only the content of calls (prompt, response, extra) there; see README, \"Scaling out with Citus\".")));
	}
	return PointerGetDatum(trigdata->tg_newtuple);
}

PG_FUNCTION_INFO_V1(ai_calls_distributed_1_10);

/* ai_calls_distributed() RETURNS boolean */
Datum
ai_calls_distributed_1_10(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(ai_calls_distributed(aitrack_function_schema(fcinfo)));
}
