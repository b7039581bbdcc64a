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
 */
#include "aitrack.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define BATCH_API AITRACK_API_1_2

static Oid	insert_plan_schema = InvalidOid;
static SPIPlanPtr insert_plan = NULL;

/*
 * INSERT INTO ai_call (model_id, <columns>) SELECT ... FROM ROWS FROM
 * (unnest($1), unnest($2), ...) WITH ORDINALITY: $1 the model ids, then one
 * array per column, in field order.
 */
static SPIPlanPtr
get_insert_plan(Oid schema)
{
	StringInfoData columns;
	StringInfoData selected;
	StringInfoData unnests;
	StringInfoData aliases;
	Oid			argtypes[1 + AI_NUM_FIELDS];
	int			nargs = 1;

	if (insert_plan_schema == schema && insert_plan != NULL)
		return insert_plan;
	if (insert_plan)
		SPI_freeplan(insert_plan);
	insert_plan = NULL;

	initStringInfo(&columns);
	initStringInfo(&selected);
	initStringInfo(&unnests);
	initStringInfo(&aliases);
	argtypes[0] = INT8ARRAYOID;
	for (int field = 0; field < AI_NUM_FIELDS; field++)
	{
		if (!ai_call_field_is_column(field, BATCH_API))
			continue;
		appendStringInfo(&columns, ", %s", ai_call_field_name(field));
		/* created_at defaults to now(), as the column does. */
		if (field == AI_CREATED_AT)
			appendStringInfo(&selected, ", COALESCE(u.c%d, pg_catalog.now())", nargs);
		else
			appendStringInfo(&selected, ", u.c%d", nargs);
		appendStringInfo(&unnests, ", pg_catalog.unnest($%d)", nargs + 1);
		appendStringInfo(&aliases, ", c%d", nargs);
		argtypes[nargs++] = get_array_type(ai_call_fields[field].type);
	}
	insert_plan = aitrack_prepare_plan(psprintf("INSERT INTO %s.ai_call (model_id%s)"
												" SELECT u.c0%s"
												" FROM ROWS FROM (pg_catalog.unnest($1)%s)"
												" WITH ORDINALITY AS u(c0%s, n)"
												" ORDER BY u.n RETURNING id",
												quote_identifier(get_namespace_name(schema)),
												columns.data, selected.data,
												unnests.data, aliases.data),
									   nargs, argtypes, 0);
	insert_plan_schema = schema;
	return insert_plan;
}

/* Which element an error is about. */
static void
element_context(void *arg)
{
	errcontext("element %d of the calls array (counting from 0)", *(int *) arg);
}

static bool
same_model(AiCall *a, AiCall *b)
{
	return DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
												a->values[AI_MODELNAME],
												b->values[AI_MODELNAME])) &&
		DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
											 a->values[AI_VERSION],
											 b->values[AI_VERSION]));
}

/* One field of every call as an array, NULLs included. */
static Datum
field_array(AiCall *rows, int ncalls, AiCallField field)
{
	Oid			type = ai_call_fields[field].type;
	Datum	   *elems = palloc(sizeof(Datum) * ncalls);
	bool	   *elem_nulls = palloc(sizeof(bool) * ncalls);
	int			dims[1] = {ncalls};
	int			lbs[1] = {1};
	int16		typlen;
	bool		typbyval;
	char		typalign;

	for (int i = 0; i < ncalls; i++)
	{
		elems[i] = rows[i].values[field];
		elem_nulls[i] = rows[i].isnull[field];
	}
	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elems, elem_nulls, 1, dims, lbs,
											  type, typlen, typbyval, typalign));
}

/*
 * record_ai_calls(calls jsonb) RETURNS SETOF bigint: the new ids, in order.
 * tenant_rules (1.4): a tenant's calls are its own.
 */
static Datum
record_calls(FunctionCallInfo fcinfo, bool tenant_rules)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	Jsonb	   *calls;
	int			ncalls;
	AiCall	   *rows;
	Datum	   *model_ids;
	int			index = 0;
	ErrorContextCallback errcallback;
	JsonbIterator *it;
	JsonbValue	value;
	JsonbIteratorToken token;
	Datum		arrays[1 + AI_NUM_FIELDS];
	int			narrays = 1;
	int			rc;

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

	/* Read and prepare every element before writing anything. */
	rows = palloc(sizeof(AiCall) * ncalls);
	it = JsonbIteratorInit(&calls->root);
	while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE)
	{
		AiCall	   *call;

		CHECK_FOR_INTERRUPTS();
		if (token != WJB_ELEM)
			continue;
		call = &rows[index];
		if (value.type != jbvBinary || !JsonContainerIsObject(value.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a call must be a JSON object")));
		ai_call_init(call);
		ai_call_set_text(call, AI_STATUS, "success");
		ai_call_apply_object(call, value.val.binary.data);
		if (tenant_rules)
			ai_tenant_check_call(schema, call);
		ai_call_prepare(schema, call, BATCH_API);
		index++;
	}

	/* Find, create and lock each model; the previous element is often the same. */
	model_ids = palloc(sizeof(Datum) * ncalls);
	for (index = 0; index < ncalls; index++)
	{
		CHECK_FOR_INTERRUPTS();
		if (index > 0 && same_model(&rows[index], &rows[index - 1]))
			model_ids[index] = model_ids[index - 1];
		else
			model_ids[index] = Int64GetDatum(ai_model_lock_id(schema,
															   rows[index].values[AI_MODELNAME],
															   rows[index].values[AI_VERSION]));
	}
	error_context_stack = errcallback.previous;

	/* Column arrays for unnest(), in the plan's order. */
	arrays[0] = PointerGetDatum(construct_array(model_ids, ncalls, INT8OID, 8,
												FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	for (int field = 0; field < AI_NUM_FIELDS; field++)
		if (ai_call_field_is_column(field, BATCH_API))
			arrays[narrays++] = field_array(rows, ncalls, field);

	rc = SPI_execute_plan(get_insert_plan(schema), arrays, NULL, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	for (uint64 row = 0; row < SPI_processed; row++)
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, 1, &isnull);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(record_ai_calls_1_2);
PG_FUNCTION_INFO_V1(record_ai_calls_1_4);

Datum
record_ai_calls_1_2(PG_FUNCTION_ARGS)
{
	return record_calls(fcinfo, false);
}

Datum
record_ai_calls_1_4(PG_FUNCTION_ARGS)
{
	return record_calls(fcinfo, true);
}
