/*
 * batch.c
 *		record_ai_calls(): many calls in one statement, all or nothing.
 *
 * Every element is read and prepared first, the same way record_ai_call()
 * prepares one call (call.c): an error names the element, and nothing has
 * been written yet.  Then the models are found or created once each and
 * locked (model.c), and the calls go in with a single INSERT ... SELECT
 * FROM unnest(arrays): one statement, so the rollup trigger fires once for
 * the whole batch.  The columns are the fields of ai_call_fields.h.
 *
 * Memory: a batch may hold a million calls, and preparing one (reading its
 * keys, usage, validation, content policy, price) leaves garbage many times
 * its own size (kept until SPI_finish, a batch peaked at about 20 times its
 * input).  So each element is prepared in a context that is reset after
 * it; only its final values are copied out, column by column, and each
 * column's copies are freed as soon as its array is built: what is kept is
 * the values written, once as copies and once as arrays (bench/batch_memory.sh).
 */
#include "aitrack.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"


/* One insert per API version: 1.2's ai_call has fewer columns than 1.5's. */
static Oid	insert_plan_schema[AITRACK_NUM_APIS];
static bool insert_plan_distributed[AITRACK_NUM_APIS];
static SPIPlanPtr insert_plan[AITRACK_NUM_APIS];

/*
 * The type of a field's values in its column array: its own, but text for
 * an array-typed field (1.7's tags), since a one-dimensional array of
 * arrays of different lengths does not exist; each value is then its
 * array's text form, cast back in the insert.
 */
static Oid
column_type(AiCallField field)
{
	return type_is_array(ai_call_fields[field].type) ? TEXTOID : ai_call_fields[field].type;
}

/*
 * INSERT INTO ai_call (model_id, <columns>) SELECT ... FROM ROWS FROM
 * (unnest($1), unnest($2), ...) WITH ORDINALITY: $1 the model ids, then one
 * array per column, in field order.
 */
static SPIPlanPtr
get_insert_plan(Oid schema, AitrackApi api)
{
	StringInfoData columns;
	StringInfoData selected;
	StringInfoData unnests;
	StringInfoData aliases;
	Oid			argtypes[1 + AI_NUM_FIELDS];
	int			nargs = 1;
	bool		distributed = ai_calls_distributed(schema);

	if (insert_plan_schema[api] == schema && insert_plan[api] != NULL &&
		insert_plan_distributed[api] == distributed)
		return insert_plan[api];
	if (insert_plan[api])
		SPI_freeplan(insert_plan[api]);
	insert_plan[api] = NULL;

	initStringInfo(&columns);
	initStringInfo(&selected);
	initStringInfo(&unnests);
	initStringInfo(&aliases);
	argtypes[0] = INT8ARRAYOID;
	for (int field = 0; field < AI_NUM_FIELDS; field++)
	{
		if (!ai_call_field_is_column(field, api))
			continue;
		appendStringInfo(&columns, ", %s", ai_call_field_name(field));
		/* created_at defaults to now(), as the column does. */
		if (field == AI_CREATED_AT)
			appendStringInfo(&selected, ", COALESCE(u.c%d, pg_catalog.now())", nargs);
		else if (column_type(field) != ai_call_fields[field].type)
			appendStringInfo(&selected, ", u.c%d::%s", nargs,
							 format_type_be_qualified(ai_call_fields[field].type));
		else
			appendStringInfo(&selected, ", u.c%d", nargs);
		appendStringInfo(&unnests, ", pg_catalog.unnest($%d)", nargs + 1);
		appendStringInfo(&aliases, ", c%d", nargs);
		argtypes[nargs++] = get_array_type(column_type(field));
	}
	insert_plan[api] = aitrack_prepare_plan(psprintf("INSERT INTO %s.ai_call (model_id%s)"
												" SELECT u.c0%s"
												" FROM ROWS FROM (pg_catalog.unnest($1)%s)"
												" WITH ORDINALITY AS u(c0%s, n)"
												" ORDER BY u.n RETURNING %s",
												quote_identifier(get_namespace_name(schema)),
												columns.data, selected.data,
												unnests.data, aliases.data,
												/* whole rows, to count: distributed.c */
												distributed ? "*" : "id"),
									   nargs, argtypes, 0);
	insert_plan_schema[api] = schema;
	insert_plan_distributed[api] = distributed;
	return insert_plan[api];
}

static int
compare_ids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Which element an error is about. */
static void
element_context(void *arg)
{
	errcontext("element %d of the calls array (counting from 0)", *(int *) arg);
}

/*
 * One field of every call: the values (by-reference ones copied into cxt),
 * their NULL flags, and how the field's type is stored.  cxt is deleted once
 * the field is no longer needed, freeing all of it at once.
 */
typedef struct BatchColumn
{
	MemoryContext cxt;
	Oid			type;			/* column_type(): text for an array field */
	bool		as_text;		/* keep each value as its text form */
	Datum	   *values;
	bool	   *nulls;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	FmgrInfo	out;			/* array_out, when as_text */
} BatchColumn;

/* Fields kept from each element: the columns written, and the model's names. */
static bool
field_is_kept(int field, AitrackApi api)
{
	return field == AI_MODELNAME || field == AI_VERSION ||
		ai_call_field_is_column(field, api);
}

static void
column_init(BatchColumn *column, AiCallField field, int ncalls, MemoryContext parent)
{
	column->cxt = AllocSetContextCreate(parent, "aitrack batch column",
										ALLOCSET_DEFAULT_SIZES);
	column->values = MemoryContextAlloc(column->cxt, sizeof(Datum) * ncalls);
	column->nulls = MemoryContextAlloc(column->cxt, sizeof(bool) * ncalls);
	column->type = column_type(field);
	column->as_text = column->type != ai_call_fields[field].type;
	if (column->as_text)
		fmgr_info_cxt(F_ARRAY_OUT, &column->out, column->cxt);
	get_typlenbyvalalign(column->type, &column->typlen,
						 &column->typbyval, &column->typalign);
}

/*
 * Keep one value of a prepared call.  It may live in the element's context
 * (or point into the input), which is about to be reset: copy it, detoasted
 * so that construct_md_array need not copy it again.
 */
static void
column_keep(BatchColumn *column, int index, Datum value, bool isnull)
{
	column->nulls[index] = isnull;
	if (!isnull && column->as_text)
	{
		MemoryContext old = MemoryContextSwitchTo(column->cxt);
		char	   *out = OutputFunctionCall(&column->out, value);

		column->values[index] = CStringGetTextDatum(out);
		pfree(out);
		MemoryContextSwitchTo(old);
	}
	else if (isnull || column->typbyval)
		column->values[index] = isnull ? (Datum) 0 : value;
	else
	{
		MemoryContext old = MemoryContextSwitchTo(column->cxt);

		column->values[index] = column->typlen == -1 ?
			PointerGetDatum(PG_DETOAST_DATUM_COPY(value)) :
			datumCopy(value, false, column->typlen);
		MemoryContextSwitchTo(old);
	}
}

/* The field of every call as an array, NULLs included; frees the column. */
static Datum
column_array(BatchColumn *column, AiCallField field, int ncalls)
{
	int			dims[1] = {ncalls};
	int			lbs[1] = {1};
	Datum		array;

	array = PointerGetDatum(construct_md_array(column->values, column->nulls, 1, dims, lbs,
											   column->type, column->typlen,
											   column->typbyval, column->typalign));
	MemoryContextDelete(column->cxt);
	column->cxt = NULL;
	return array;
}

static bool
same_model(BatchColumn *columns, int a, int b)
{
	return DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
												columns[AI_MODELNAME].values[a],
												columns[AI_MODELNAME].values[b])) &&
		DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
											 columns[AI_VERSION].values[a],
											 columns[AI_VERSION].values[b]));
}

/*
 * record_ai_calls(calls jsonb) RETURNS SETOF bigint: the new ids, in order.
 * tenant_rules (1.4): a tenant's calls are its own.
 */
static Datum
record_calls(FunctionCallInfo fcinfo, bool tenant_rules, AitrackApi api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	Jsonb	   *calls;
	int			ncalls;
	BatchColumn columns[AI_NUM_FIELDS];
	MemoryContext batch_cxt;
	MemoryContext element_cxt;
	Datum	   *model_ids;
	int			index = 0;
	ErrorContextCallback errcallback;
	JsonbIterator *it;
	JsonbValue	value;
	JsonbIteratorToken token;
	Datum		arrays[1 + AI_NUM_FIELDS];
	int			narrays = 1;
	int			rc;
	AiTenantCaller tenant;
	SPIPlanPtr	plan;
	int64	   *ids;
	uint64		nids;
	int			id_column;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("calls must not be null"),
				 errhint("Pass a JSON array of call objects, '[]' for none.")));
	calls = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_ARRAY(calls) || JB_ROOT_IS_SCALAR(calls))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calls must be a JSON array of call objects"),
				 errhint("Each object takes the arguments of record_ai_call() as keys, and created_at.")));

	/* SETOF bigint: a one-column result, as the executor expects it. */
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	ncalls = JB_ROOT_COUNT(calls);
	if (ncalls == 0)
		return (Datum) 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	errcallback.callback = element_context;
	errcallback.arg = &index;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	/*
	 * What the batch keeps lives in the SPI procedure's context until
	 * SPI_finish; each element's work in element_cxt, reset after it.
	 */
	batch_cxt = CurrentMemoryContext;
	element_cxt = AllocSetContextCreate(batch_cxt, "aitrack batch element",
										ALLOCSET_DEFAULT_SIZES);
	for (int field = 0; field < AI_NUM_FIELDS; field++)
		if (field_is_kept(field, api))
			column_init(&columns[field], field, ncalls, batch_cxt);
	/* Who the tenant is (if any), once for the whole batch. */
	if (tenant_rules)
		ai_tenant_caller(schema, &tenant);

	/* Read and prepare every element before writing anything. */
	it = JsonbIteratorInit(&calls->root);
	while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE)
	{
		AiCall		call;

		CHECK_FOR_INTERRUPTS();
		if (token != WJB_ELEM)
			continue;
		if (value.type != jbvBinary || !JsonContainerIsObject(value.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a call must be a JSON object")));
		MemoryContextSwitchTo(element_cxt);
		ai_call_init(&call);
		ai_call_set_text(&call, AI_STATUS, "success");
		ai_call_apply_object(&call, value.val.binary.data, api);
		if (tenant_rules)
			ai_tenant_apply(&tenant, &call);
		ai_call_prepare(schema, &call, api);
		MemoryContextSwitchTo(batch_cxt);
		for (int field = 0; field < AI_NUM_FIELDS; field++)
			if (field_is_kept(field, api))
				column_keep(&columns[field], index, call.values[field], call.isnull[field]);
		MemoryContextReset(element_cxt);
		index++;
	}
	MemoryContextDelete(element_cxt);

	/*
	 * Lock ai_call for the insert now, before the models: record_ai_call()
	 * takes its locks in the order prices, calls, models (its insert names
	 * ai_call first), and so must everything that records, or a session
	 * taking all three at once (ALTER EXTENSION UPDATE) could deadlock with
	 * a batch.
	 */
	LockRelationOid(get_relname_relid("ai_call", schema), RowExclusiveLock);

	/* Find, create and lock each model; the previous element is often the same. */
	model_ids = palloc(sizeof(Datum) * ncalls);
	for (index = 0; index < ncalls; index++)
	{
		CHECK_FOR_INTERRUPTS();
		if (index > 0 && same_model(columns, index, index - 1))
			model_ids[index] = model_ids[index - 1];
		else
			model_ids[index] = Int64GetDatum(ai_model_lock_id(schema,
															   columns[AI_MODELNAME].values[index],
															   columns[AI_VERSION].values[index]));
	}
	error_context_stack = errcallback.previous;
	/* SPI left us in its procedure context, which is batch_cxt. */
	MemoryContextSwitchTo(batch_cxt);
	MemoryContextDelete(columns[AI_MODELNAME].cxt);
	MemoryContextDelete(columns[AI_VERSION].cxt);

	/* Column arrays for unnest(), in the plan's order; each column freed once built. */
	arrays[0] = PointerGetDatum(construct_array(model_ids, ncalls, INT8OID, 8,
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	pfree(model_ids);
	for (int field = 0; field < AI_NUM_FIELDS; field++)
		if (ai_call_field_is_column(field, api))
		{
			CHECK_FOR_INTERRUPTS();
			arrays[narrays++] = column_array(&columns[field], field, ncalls);
		}

	plan = get_insert_plan(schema, api);
	rc = ai_execute_counted(plan, arrays, NULL, InvalidSnapshot, InvalidSnapshot, true, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	ids = palloc(sizeof(int64) * Max(SPI_processed, 1));
	nids = SPI_processed;
	id_column = SPI_fnumber(SPI_tuptable->tupdesc, "id");
	for (uint64 row = 0; row < nids; row++)
	{
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		ids[row] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
											   id_column, &isnull));
	}
	if (insert_plan_distributed[api])
	{
		/*
		 * A distributed ai_call returns its rows shard by shard, in no
		 * order; the ids were drawn from the sequence in the order of the
		 * array (the insert's SELECT is sorted by it), so sorted they are
		 * in input order again.  Then the rows are counted, as its
		 * triggers would (distributed.c).
		 */
		qsort(ids, nids, sizeof(int64), compare_ids);
		ai_count_spi_rows(schema, TRIGGER_EVENT_INSERT, SPI_tuptable, SPI_processed, true);
	}
	for (uint64 row = 0; row < nids; row++)
	{
		Datum		id = Int64GetDatum(ids[row]);
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(record_ai_calls_1_2);
PG_FUNCTION_INFO_V1(record_ai_calls_1_4);
PG_FUNCTION_INFO_V1(record_ai_calls_1_5);
PG_FUNCTION_INFO_V1(record_ai_calls_1_7);

Datum
record_ai_calls_1_2(PG_FUNCTION_ARGS)
{
	return record_calls(fcinfo, false, AITRACK_API_1_2);
}

Datum
record_ai_calls_1_4(PG_FUNCTION_ARGS)
{
	return record_calls(fcinfo, true, AITRACK_API_1_2);
}

/* 1.5: elements take the keys of what is billed apart too. */
Datum
record_ai_calls_1_5(PG_FUNCTION_ARGS)
{
	return record_calls(fcinfo, true, AITRACK_API_1_5);
}

/* 1.7: and the keys of attribution and the trace (tags an array of strings). */
Datum
record_ai_calls_1_7(PG_FUNCTION_ARGS)
{
	return record_calls(fcinfo, true, AITRACK_API_1_7);
}
