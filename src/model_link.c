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
 * only a model still missing then is an error.  Deleting a model deletes
 * its calls: the trigger ai_model_delete_calls (sql/aitrack--1.3--1.4.sql).
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

static Oid	lock_plan_schema = InvalidOid;
static SPIPlanPtr lock_model_plan = NULL;
static SPIPlanPtr wait_for_loads_plan = NULL;

static void
prepare_plans(Oid schema)
{
	const char *nsp;
	Oid			argtypes[1] = {INT8OID};

	if (lock_plan_schema == schema && lock_model_plan != NULL)
		return;
	if (lock_model_plan)
		SPI_freeplan(lock_model_plan);
	if (wait_for_loads_plan)
		SPI_freeplan(wait_for_loads_plan);
	lock_model_plan = wait_for_loads_plan = NULL;
	lock_plan_schema = InvalidOid;

	nsp = quote_identifier(get_namespace_name(schema));
	lock_model_plan = aitrack_prepare_plan(psprintf("SELECT FROM %s.ai_model m"
													" WHERE m.id OPERATOR(pg_catalog.=) $1"
													" FOR KEY SHARE OF m", nsp),
										   1, argtypes, 0);
	wait_for_loads_plan = aitrack_prepare_plan(psprintf("LOCK TABLE %s.ai_model IN SHARE MODE", nsp),
											   0, NULL, 0);
	lock_plan_schema = schema;
}

/* Lock model id FOR KEY SHARE; false if no such model is visible. */
static bool
lock_model(int64 model_id)
{
	Datum		param = Int64GetDatum(model_id);
	int			rc = SPI_execute_plan(lock_model_plan, &param, NULL, false, 1);

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

/* The distinct model ids of the statement's new calls, sorted. */
static int64 *
distinct_model_ids(Relation rel, Tuplestorestate *rows, int *count)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	AttrNumber	attnum = SPI_fnumber(RelationGetDescr(rel), "model_id");
	int64		ntuples = tuplestore_tuple_count(rows);
	int64	   *ids = palloc(sizeof(int64) * Max(ntuples, 1));
	int			n = 0;
	int			distinct = 0;
	/* Our own read pointer that may rewind, as rollup.c does. */
	int			ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);

	if (attnum <= 0)
		elog(ERROR, "ai_call has no column model_id");
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
	for (int i = 0; i < n; i++)
		if (distinct == 0 || ids[i] != ids[distinct - 1])
			ids[distinct++] = ids[i];
	*count = distinct;
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
	ids = distinct_model_ids(trigdata->tg_relation, trigdata->tg_newtable, &count);

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
			int			rc = SPI_execute_plan(wait_for_loads_plan, NULL, NULL, false, 0);

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
