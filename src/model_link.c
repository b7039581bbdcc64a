/*
 * model_link.c
 *		ai_call.model_id must name a row of ai_model: the check that replaces
 *		the foreign key in 1.4.
 *
 * Why not a foreign key: pg_dump gives the data of an extension's tables
 * only a dependency on their own table, so a parallel pg_restore (-j) loads
 * ai_model and ai_call side by side, and a foreign key that the extension
 * created before the data makes ai_call's COPY fail as soon as it meets a
 * model not loaded yet: the restore ends without a single call.
 *
 * And a restore cannot be told from any other write: a plain dump has no
 * foreign key left to order the tables by, and loads ai_call before
 * ai_model.  So the table's owner and superusers (who write through
 * record_ai_call(), which always names a model it has just found and locked,
 * or restore, or could drop any constraint anyway) are not checked.  Every
 * other role's insert or update is: this trigger, after each such
 * statement, locks the models its calls name FOR KEY SHARE, as the foreign
 * key's check did (so a session deleting one of them waits for this
 * transaction, and its own trigger then deletes these calls too).  If a
 * model is missing, it first waits for every transaction writing ai_model
 * to finish (LOCK ... IN SHARE MODE) and looks again with a fresh snapshot;
 * only a model still missing then is an error.  The triggers on ai_model
 * are at the end of this file.
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "access/htup_details.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/snapmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

/*
 * The plans of this file, for the extension living in schema, prepared on
 * first use and kept: locking a model and waiting for loads of ai_model
 * (the check on ai_call), deleting a model's calls and finding one call of a
 * model (the triggers on ai_model, at the end of the file).
 */
typedef struct LinkPlans
{
	Oid			schema;
	bool		distributed;	/* 1.10: ai_call is a Citus distributed table */
	SPIPlanPtr	lock_model;
	SPIPlanPtr	wait_for_loads;
	SPIPlanPtr	delete_calls;
	SPIPlanPtr	calls_of_model;
} LinkPlans;

static LinkPlans link_plans;

static void
prepare_plans(Oid schema)
{
	const char *nsp;
	Oid			id_type[1] = {INT8OID};
	Oid			array_type[1] = {INT8ARRAYOID};
	SPIPlanPtr *all[] = {&link_plans.lock_model, &link_plans.wait_for_loads,
	&link_plans.delete_calls, &link_plans.calls_of_model};

	bool		distributed = ai_calls_distributed(schema);

	if (link_plans.schema == schema && link_plans.lock_model != NULL &&
		link_plans.distributed == distributed)
		return;
	for (size_t i = 0; i < lengthof(all); i++)
	{
		if (*all[i])
			SPI_freeplan(*all[i]);
		*all[i] = NULL;
	}
	link_plans.schema = InvalidOid;

	nsp = quote_identifier(get_namespace_name(schema));
	link_plans.lock_model =
		aitrack_prepare_plan(psprintf("SELECT FROM %s.ai_model m"
									  " WHERE m.id OPERATOR(pg_catalog.=) $1"
									  " FOR KEY SHARE OF m", nsp),
							 1, id_type, 0);
	link_plans.wait_for_loads =
		aitrack_prepare_plan(psprintf("LOCK TABLE %s.ai_model IN SHARE MODE", nsp),
							 0, NULL, 0);
	link_plans.delete_calls =
		aitrack_prepare_plan(psprintf("DELETE FROM %s.ai_call c"
									  " WHERE c.model_id OPERATOR(pg_catalog.=) ANY ($1)%s", nsp,
									  /* the rows, to count them: distributed.c */
									  distributed ? " RETURNING c.*" : ""),
							 1, array_type, 0);
	link_plans.calls_of_model =
		aitrack_prepare_plan(psprintf("SELECT FROM %s.ai_call c"
									  " WHERE c.model_id OPERATOR(pg_catalog.=) $1"
									  " LIMIT 1%s", nsp,
									  /*
									   * Citus locks no rows of a query over
									   * every shard; ai_call's model_id is
									   * not changed there (keep_counted)
									   */
									  distributed ? "" : " FOR KEY SHARE OF c"),
							 1, id_type, 0);
	link_plans.schema = schema;
	link_plans.distributed = distributed;
}

/* Lock model id FOR KEY SHARE; false if no such model is visible. */
static bool
lock_model(int64 model_id)
{
	Datum		param = Int64GetDatum(model_id);
	int			rc = SPI_execute_plan(link_plans.lock_model, &param, NULL, false, 1);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	SPI_freetuptable(SPI_tuptable);
	return SPI_processed > 0;
}

static int
compare_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* The distinct values of a bigint column of a transition table, sorted. */
static int64 *
distinct_column_values(Relation rel, Tuplestorestate *rows, const char *column, int *count)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	AttrNumber	attnum = SPI_fnumber(RelationGetDescr(rel), column);
	int64		ntuples = tuplestore_tuple_count(rows);
	/* An UPDATE of the whole ledger: more than 1 GB of ids is allowed. */
	int64	   *ids = palloc_extended(sizeof(int64) * Max(ntuples, 1), MCXT_ALLOC_HUGE);
	int64		n = 0;
	int64		distinct = 0;
	/* Our own read pointer that may rewind, as rollup.c does. */
	int			ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);

	if (attnum <= 0)
		elog(ERROR, "%s has no column %s", RelationGetRelationName(rel), column);
	tuplestore_select_read_pointer(rows, ptr);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		value = slot_getattr(slot, attnum, &isnull);

		CHECK_FOR_INTERRUPTS();
		if (!isnull && n < ntuples)
			ids[n++] = DatumGetInt64(value);
	}
	ExecDropSingleTupleTableSlot(slot);

	qsort(ids, n, sizeof(int64), compare_int64);
	for (int64 i = 0; i < n; i++)
		if (distinct == 0 || ids[i] != ids[distinct - 1])
			ids[distinct++] = ids[i];
	/* Distinct ids of ai_model rows: far fewer than 2^31. */
	*count = (int) distinct;
	return ids;
}

PG_FUNCTION_INFO_V1(ai_call_model_check_1_4);

/* AFTER INSERT / UPDATE ... FOR EACH STATEMENT on ai_call, NEW TABLE. */
Datum
ai_call_model_check_1_4(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int64	   *ids;
	int			count;
	bool		waited = false;
	Oid			owner;
	Oid			saved_user;
	int			saved_context;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		trigdata->tg_newtable == NULL)
		elog(ERROR, "ai_call_model_check must be an AFTER INSERT or UPDATE ... FOR EACH STATEMENT trigger with a NEW TABLE");
	aitrack_trigger_on_own_table(fcinfo, "ai_call");

	if (tuplestore_tuple_count(trigdata->tg_newtable) == 0)
		return PointerGetDatum(NULL);
	/* The owner's and superusers' writes: see the header comment. */
	owner = trigdata->tg_relation->rd_rel->relowner;
	if (superuser() || has_privs_of_role(GetUserId(), owner))
		return PointerGetDatum(NULL);
	/* Look and lock as the owner: the writer need not read ai_model. */
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_plans(RelationGetNamespace(trigdata->tg_relation));
	ids = distinct_column_values(trigdata->tg_relation, trigdata->tg_newtable, "model_id", &count);

	for (int i = 0; i < count; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (lock_model(ids[i]))
			continue;
		/*
		 * Missing: wait for the transactions writing ai_model (a parallel
		 * restore's COPY of it), then look again.  A repeatable-read
		 * transaction would not see their rows anyway.
		 */
		if (!waited && !IsolationUsesXactSnapshot())
		{
			int			rc = SPI_execute_plan(link_plans.wait_for_loads, NULL, NULL, false, 0);

			if (rc != SPI_OK_UTILITY)
				elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
			waited = true;
			if (lock_model(ids[i]))
				continue;
		}
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("a call names model id " INT64_FORMAT ", which is not in ai_model", ids[i]),
				 errdetail("Every ai_call.model_id must be the id of a row of ai_model."),
				 errhint("Record calls with record_ai_call(), which creates the model; or insert the model first.")));
	}
	SPI_finish();
	SetUserIdAndSecContext(saved_user, saved_context);
	return PointerGetDatum(NULL);
}

/*
 * The other end of the link, on ai_model: deleting models deletes their
 * calls (the foreign key's ON DELETE CASCADE), and a model's id does not
 * change while calls name it (its NO ACTION on update).  Both look at
 * ai_call with the latest snapshot, as PostgreSQL's foreign key actions do
 * (ri_triggers.c), so a call committed after a REPEATABLE READ
 * transaction's snapshot is not missed: under such an isolation level a
 * call that snapshot cannot see ends in a serialization failure instead.
 */

/* Run plan with the latest snapshot (and, under REPEATABLE READ, a crosscheck). */
static int
run_latest(SPIPlanPtr plan, Datum *params)
{
	Snapshot	test_snapshot = InvalidSnapshot;
	Snapshot	crosscheck_snapshot = InvalidSnapshot;

	if (IsolationUsesXactSnapshot())
	{
		CommandCounterIncrement();
		test_snapshot = GetLatestSnapshot();
		crosscheck_snapshot = GetTransactionSnapshot();
	}
	/* (deleting a model's calls counts them, on a distributed ai_call) */
	return ai_execute_counted(plan, params, NULL, test_snapshot, crosscheck_snapshot,
							  false, 0);
}

PG_FUNCTION_INFO_V1(ai_model_delete_calls_1_4);

/* AFTER DELETE ... FOR EACH STATEMENT on ai_model, OLD TABLE. */
Datum
ai_model_delete_calls_1_4(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	int64	   *ids;
	int			count;
	Datum	   *elems;
	Datum		param;
	int			rc;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) || trigdata->tg_oldtable == NULL)
		elog(ERROR, "ai_model_delete_calls must be an AFTER DELETE ... FOR EACH STATEMENT trigger with an OLD TABLE");
	aitrack_trigger_on_own_table(fcinfo, "ai_model");
	if (tuplestore_tuple_count(trigdata->tg_oldtable) == 0)
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_plans(RelationGetNamespace(trigdata->tg_relation));
	ids = distinct_column_values(trigdata->tg_relation, trigdata->tg_oldtable, "id", &count);
	elems = palloc(sizeof(Datum) * Max(count, 1));
	for (int i = 0; i < count; i++)
		elems[i] = Int64GetDatum(ids[i]);
	param = PointerGetDatum(construct_array(elems, count, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	rc = run_latest(link_plans.delete_calls, &param);
	if (rc != (link_plans.distributed ? SPI_OK_DELETE_RETURNING : SPI_OK_DELETE))
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	/* a local ai_call's rollup trigger counts them; a distributed one has none */
	if (link_plans.distributed)
		ai_count_spi_rows(RelationGetNamespace(trigdata->tg_relation), TRIGGER_EVENT_DELETE,
						  SPI_tuptable, SPI_processed, false);
	SPI_finish();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ai_model_keep_id_1_4);

/* BEFORE UPDATE OF id ... FOR EACH ROW on ai_model, when the id changes. */
Datum
ai_model_keep_id_1_4(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	bool		isnull;
	int64		old_id;
	int64		new_id;
	Datum		param;
	int			rc;
	bool		named;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "ai_model_keep_id must be a BEFORE UPDATE ... FOR EACH ROW trigger");
	aitrack_trigger_on_own_table(fcinfo, "ai_model");
	old_id = DatumGetInt64(heap_getattr(trigdata->tg_trigtuple,
										SPI_fnumber(RelationGetDescr(trigdata->tg_relation), "id"),
										RelationGetDescr(trigdata->tg_relation), &isnull));
	new_id = DatumGetInt64(heap_getattr(trigdata->tg_newtuple,
										SPI_fnumber(RelationGetDescr(trigdata->tg_relation), "id"),
										RelationGetDescr(trigdata->tg_relation), &isnull));
	if (old_id == new_id)
		return PointerGetDatum(trigdata->tg_newtuple);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_plans(RelationGetNamespace(trigdata->tg_relation));
	param = Int64GetDatum(old_id);
	rc = run_latest(link_plans.calls_of_model, &param);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	named = SPI_processed > 0;
	SPI_finish();
	if (named)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("cannot change the id of model " INT64_FORMAT ": calls name it", old_id),
				 errdetail("Model " INT64_FORMAT " would become " INT64_FORMAT ".", old_id, new_id)));
	return PointerGetDatum(trigdata->tg_newtuple);
}
