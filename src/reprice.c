/*
 * reprice.c
 *		ai_reprice_calls(ids bigint[]) (1.12): the repricing of calls of a
 *		distributed ai_call, which ai_reprice() runs there.
 *
 * On one server ai_reprice() updates each call's cost in place and the
 * rollup trigger moves the old row out of the rollups and the new one in.
 * Neither works on a distributed ai_call: the prices are the coordinator's
 * (the workers' copies of ai_model_price are empty), and no trigger counts
 * on the shards (distributed.c; ai_call_keep_counted refuses a changed cost
 * there, because nothing would follow it).  So each call is taken out and
 * put back, by aitrack's own counted writes:
 *
 *	 1. DELETE ... RETURNING takes the calls, locked and as they are now;
 *	 2. their cost is computed on the coordinator, from the price in force
 *		at each call's created_at, by ai_cost() as on one server;
 *	 3. INSERT puts them back, the same row with the same id, with the new
 *		cost_usd, its cost_source and updated_at = now() (what the update
 *		and its trigger would have written).
 *
 * Both are counted into the rollups as the trigger counts an UPDATE: the
 * deleted rows out, the inserted rows in.  The budgets count neither: a
 * budget counts what was spent, when, and a repricing leaves it as it was
 * on one server too (budget_count.c).  All of it is one transaction with the
 * caller's, so an error leaves every call as it was.
 *
 * A call put back is a new row: another session's statement that waited
 * for the old one would skip the call, so the repricing first takes the
 * lock that statements updating or deleting calls take
 * (ai_lock_call_changes(), distributed.c), in a mode that waits for them
 * and makes them wait.  The calls are priced and put back in chunks of at
 * most REPRICE_CHUNK_BYTES: a batch of calls with long prompts could pass
 * the 1 GB an array may hold.
 */
#include "aitrack.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

/* Calls taken out per statement: bounds the memory held. */
#define REPRICE_BATCH 1000
/* Bytes of calls priced and put back per statement (an array holds 1 GB). */
#define REPRICE_CHUNK_BYTES (64 * 1024 * 1024)

/* The statements, per ai_call (its row type names it). */
static SPIPlanPtr take_plan = NULL;
static SPIPlanPtr cost_plan = NULL;
static SPIPlanPtr put_plan = NULL;
static Oid	plans_rowtype = InvalidOid;

static void
prepare_plans(Oid schema, Oid rowtype)
{
	const char *nsp = quote_identifier(get_namespace_name(schema));
	Oid			int8_array = INT8ARRAYOID;
	Oid			row_array = get_array_type(rowtype);

	if (plans_rowtype == rowtype && take_plan != NULL)
		return;
	if (!OidIsValid(row_array))
		elog(ERROR, "ai_call's row type has no array type");
	if (take_plan != NULL)
		SPI_freeplan(take_plan);
	if (cost_plan != NULL)
		SPI_freeplan(cost_plan);
	if (put_plan != NULL)
		SPI_freeplan(put_plan);
	take_plan = cost_plan = put_plan = NULL;
	plans_rowtype = InvalidOid;

	/*
	 * Only calls whose cost aitrack computes (or could not): a provided
	 * cost is the provider's word, as ai_reprice() leaves it on one server,
	 * whatever ids are passed.
	 */
	take_plan = aitrack_prepare_plan(psprintf("DELETE FROM %s.ai_call c"
											  " WHERE c.id OPERATOR(pg_catalog.=) ANY ($1)"
											  "   AND (c.cost_source OPERATOR(pg_catalog.=) ANY ('{computed,unknown}'::pg_catalog.text[])"
											  "        OR (c.cost_source IS NULL AND c.cost_usd IS NULL))"
											  " RETURNING c.*", nsp),
									 1, &int8_array, 0);
	/*
	 * ai_reprice()'s cost, on the coordinator: the row itself is the call
	 * ai_cost() prices by its columns' names.
	 */
	cost_plan = aitrack_prepare_plan(psprintf("SELECT %s.ai_cost(%s.ai_price_at(m.modelname, m.version, ($1[i]).created_at), $1[i])"
											  "  FROM pg_catalog.generate_subscripts($1, 1) AS i"
											  "  LEFT JOIN %s.ai_model m ON m.id OPERATOR(pg_catalog.=) ($1[i]).model_id"
											  " ORDER BY i", nsp, nsp, nsp),
									 1, &row_array, 0);
	put_plan = aitrack_prepare_plan(psprintf("INSERT INTO %s.ai_call AS c"
											 " SELECT * FROM pg_catalog.unnest($1) RETURNING c.*", nsp),
									1, &row_array, 0);
	plans_rowtype = rowtype;
}

/*
 * Where each of ai_call's columns is in an SPI result of RETURNING c.*
 * (by name: dropped columns have none), 0 for none.
 */
static int *
map_returned_columns(TupleDesc desc, TupleDesc returned)
{
	int		   *source = palloc0(sizeof(int) * desc->natts);

	for (int a = 0; a < desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);

		if (att->attisdropped)
			continue;
		source[a] = SPI_fnumber(returned, NameStr(att->attname));
		if (source[a] <= 0)
			elog(ERROR, "the calls taken out lack ai_call's column \"%s\"", NameStr(att->attname));
	}
	return source;
}

/* Row r of an SPI result as the values of a row of ai_call. */
static void
returned_row(TupleDesc desc, const int *source, SPITupleTable *tuptable, uint64 r,
			 Datum *values, bool *nulls)
{
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
}

/*
 * The caller may change a call's cost: UPDATE on ai_call, or on its
 * cost_usd and cost_source columns, as ai_reprice()'s UPDATE needs on one
 * server.  A tenant's session may not: on one server row-level security
 * would limit it to its user's calls, which the owner's DELETE here would
 * not.
 */
static void
check_may_reprice(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			user = GetUserId();
	AttrNumber	cost = get_attnum(relid, "cost_usd");
	AttrNumber	source = get_attnum(relid, "cost_source");

	if (ai_tenant_mode_active())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("a tenant cannot reprice calls"),
				 errhint("Reprice as aitrack_admin, from a role that is no tenant.")));
	if (pg_class_aclcheck(relid, user, ACL_UPDATE) == ACLCHECK_OK)
		return;
	if (cost == InvalidAttrNumber || source == InvalidAttrNumber ||
		pg_attribute_aclcheck(relid, cost, user, ACL_UPDATE) != ACLCHECK_OK ||
		pg_attribute_aclcheck(relid, source, user, ACL_UPDATE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, RelationGetRelationName(rel));
}

static int
compare_ids(const void *a, const void *b)
{
	int64		x = DatumGetInt64(*(const Datum *) a);
	int64		y = DatumGetInt64(*(const Datum *) b);

	return (x > y) - (x < y);
}

/*
 * The ids sorted, each once (returns how many): an id named twice would be
 * taken out and put back twice, in two batches, and counted so.
 */
static int
sorted_unique_ids(Datum *ids, int n)
{
	int			kept = 0;

	if (n == 0)
		return 0;
	qsort(ids, n, sizeof(Datum), compare_ids);
	for (int i = 1; i < n; i++)
		if (DatumGetInt64(ids[i]) != DatumGetInt64(ids[kept]))
			ids[++kept] = ids[i];
	return kept + 1;
}

PG_FUNCTION_INFO_V1(ai_reprice_calls_1_12);

/*
 * ai_reprice_calls(ids bigint[]) RETURNS bigint: reprices the calls with
 * these ids whose cost is computed or unknown, on a distributed ai_call
 * (above), and returns how many it put back.
 */
Datum
ai_reprice_calls_1_12(PG_FUNCTION_ARGS)
{
	Oid			schema = aitrack_function_schema(fcinfo);
	ArrayType  *ids;
	Datum	   *id_values;
	int			nids;
	Relation	rel;
	TupleDesc	desc;
	Oid			rowtype;
	int			id_index;
	int			cost_index;
	int			source_index;
	int			updated_index;
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	Datum		cost_limit;
	Datum	   *values;
	bool	   *nulls;
	MemoryContext batch_context;
	MemoryContext chunk_context;
	int64		put_back = 0;
	Oid			saved_user;
	int			saved_context;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ids must not be null"),
				 errhint("Pass an array of ai_call ids, '{}' for none.")));
	ids = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(ids) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("ids must be a one-dimensional array"),
				 errhint("Pass an array of ai_call ids, such as array_agg(id).")));
	if (array_contains_nulls(ids))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ids must not contain nulls"),
				 errhint("Leave out the nulls: array_remove(ids, NULL).")));
	if (!ai_calls_distributed(schema))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ai_reprice_calls() reprices the calls of a distributed ai_call only"),
				 errdetail("On one server ai_reprice() updates the calls in place, and the rollup trigger follows."),
				 errhint("Use ai_reprice(since, until, dry_run => false).")));
	deconstruct_array(ids, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &id_values, NULL, &nids);
	nids = sorted_unique_ids(id_values, nids);

	rel = table_open(get_relname_relid("ai_call", schema), AccessShareLock);
	check_may_reprice(rel);
	/* kept apart from statements that update or delete calls (distributed.c) */
	ai_lock_call_changes(RelationGetRelid(rel), ShareRowExclusiveLock);
	desc = RelationGetDescr(rel);
	rowtype = rel->rd_rel->reltype;
	id_index = get_attnum(RelationGetRelid(rel), "id") - 1;
	cost_index = get_attnum(RelationGetRelid(rel), "cost_usd") - 1;
	source_index = get_attnum(RelationGetRelid(rel), "cost_source") - 1;
	updated_index = get_attnum(RelationGetRelid(rel), "updated_at") - 1;
	if (id_index < 0 || cost_index < 0 || source_index < 0 || updated_index < 0)
		elog(ERROR, "ai_call lacks id, cost_usd, cost_source or updated_at");
	cost_limit = DirectFunctionCall3(numeric_in, CStringGetDatum("1000000000"),
									 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * The writes are aitrack's, with the rights of ai_call's owner, as its
	 * triggers count; whether the caller may reprice was asked above.
	 */
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(rel->rd_rel->relowner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
	prepare_plans(schema, rowtype);
	batch_context = AllocSetContextCreate(CurrentMemoryContext, "ai_reprice_calls batch",
										  ALLOCSET_DEFAULT_SIZES);
	/* (not a child: resetting batch_context would delete it) */
	chunk_context = AllocSetContextCreate(CurrentMemoryContext, "ai_reprice_calls chunk",
										  ALLOCSET_DEFAULT_SIZES);
	for (int first = 0; first < nids; first += REPRICE_BATCH)
	{
		int			n = Min(REPRICE_BATCH, nids - first);
		MemoryContext outer = MemoryContextSwitchTo(batch_context);
		Datum		arg;
		Datum	   *old_rows;
		Datum	   *new_rows;
		int		   *source;
		uint64		taken;
		SPITupleTable *taken_rows;
		SPITupleTable *costs;
		int			rc;

		CHECK_FOR_INTERRUPTS();

		/* 1. take the calls out, counted out of the rollups */
		arg = PointerGetDatum(construct_array(id_values + first, n, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		rc = ai_execute_counted(take_plan, &arg, NULL, InvalidSnapshot, InvalidSnapshot, true, 0);
		if (rc != SPI_OK_DELETE_RETURNING)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		taken = SPI_processed;
		taken_rows = SPI_tuptable;
		if (taken > 0)
		{
			ai_count_spi_rows(schema, TRIGGER_EVENT_DELETE, taken_rows, taken, false);
			source = map_returned_columns(desc, taken_rows->tupdesc);

			/*
			 * 2. and 3., in chunks of at most REPRICE_CHUNK_BYTES of calls
			 * (long prompts make big rows, and an array holds at most 1 GB)
			 */
			for (uint64 chunk_start = 0, chunk_end; chunk_start < taken; chunk_start = chunk_end)
			{
				MemoryContext batch_outer = MemoryContextSwitchTo(chunk_context);
				Size		bytes = 0;
				int			n_chunk;

				/* 2. their cost, on the coordinator */
				old_rows = palloc(sizeof(Datum) * (taken - chunk_start));
				for (chunk_end = chunk_start; chunk_end < taken &&
					 (chunk_end == chunk_start || bytes < REPRICE_CHUNK_BYTES); chunk_end++)
				{
					HeapTuple	row;

					CHECK_FOR_INTERRUPTS();
					returned_row(desc, source, taken_rows, chunk_end, values, nulls);
					row = heap_form_tuple(desc, values, nulls);
					bytes += row->t_len;
					old_rows[chunk_end - chunk_start] = heap_copy_tuple_as_datum(row, desc);
					heap_freetuple(row);
				}
				n_chunk = (int) (chunk_end - chunk_start);
				arg = PointerGetDatum(construct_array(old_rows, n_chunk, rowtype, -1, false,
													  TYPALIGN_DOUBLE));
				rc = SPI_execute_plan(cost_plan, &arg, NULL, false, 0);
				if (rc != SPI_OK_SELECT || SPI_processed != (uint64) n_chunk)
					elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
				costs = SPI_tuptable;

				/* 3. put them back with it, counted into the rollups */
				new_rows = palloc(sizeof(Datum) * n_chunk);
				for (int r = 0; r < n_chunk; r++)
				{
					bool		cost_null;
					Datum		cost;
					HeapTuple	row;

					CHECK_FOR_INTERRUPTS();
					returned_row(desc, source, taken_rows, chunk_start + r, values, nulls);
					cost = SPI_getbinval(costs->vals[r], costs->tupdesc, 1, &cost_null);
					/* ai_call_cost_usd_range would refuse it on the shard, less plainly */
					if (!cost_null && DatumGetBool(DirectFunctionCall2(numeric_gt, cost, cost_limit)))
						ereport(ERROR,
								(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
								 errmsg("a repriced cost is out of range"),
								 errdetail("Call %lld would cost %s USD.",
										   (long long) DatumGetInt64(values[id_index]),
										   DatumGetCString(DirectFunctionCall1(numeric_out, cost))),
								 errhint("A call's cost must be at most 1e9 USD: check the counts of that call and the price in force at its time; no call was repriced.")));
					values[cost_index] = cost;
					nulls[cost_index] = cost_null;
					values[source_index] = CStringGetTextDatum(cost_null ? "unknown" : "computed");
					nulls[source_index] = false;
					values[updated_index] = now;
					nulls[updated_index] = false;
					row = heap_form_tuple(desc, values, nulls);
					new_rows[r] = heap_copy_tuple_as_datum(row, desc);
					heap_freetuple(row);
				}
				SPI_freetuptable(costs);
				arg = PointerGetDatum(construct_array(new_rows, n_chunk, rowtype, -1, false,
													  TYPALIGN_DOUBLE));
				rc = ai_execute_counted(put_plan, &arg, NULL, InvalidSnapshot, InvalidSnapshot, true, 0);
				if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != (uint64) n_chunk)
					elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
				put_back += SPI_processed;
				/* a repricing is no spending: the budgets do not count it */
				ai_count_spi_rows(schema, TRIGGER_EVENT_INSERT, SPI_tuptable, SPI_processed, false);
				SPI_freetuptable(SPI_tuptable);
				MemoryContextSwitchTo(batch_outer);
				MemoryContextReset(chunk_context);
			}
		}
		SPI_freetuptable(taken_rows);
		MemoryContextSwitchTo(outer);
		MemoryContextReset(batch_context);
	}
	MemoryContextDelete(chunk_context);
	MemoryContextDelete(batch_context);
	SetUserIdAndSecContext(saved_user, saved_context);
	SPI_finish();
	table_close(rel, AccessShareLock);
	PG_RETURN_INT64(put_back);
}
