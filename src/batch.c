/*
 * batch.c
 *		record_ai_calls(): many calls in one statement, all or nothing.
 *
 * Every element is read and checked first (an error names the element), the
 * models are found or created once each and locked, and then the calls go
 * in with a single INSERT ... SELECT FROM unnest(arrays): one statement, so
 * the rollup trigger fires once for the whole batch.
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

/* The columns written from each element, after model_id. */
static const AiCallField batch_columns[] = {
	AI_CREATED_AT, AI_PROMPT, AI_RESPONSE, AI_INPUT_TOKENS, AI_REASONING_TOKENS,
	AI_OUTPUT_TOKENS, AI_COST_USD, AI_DURATION_MS, AI_CALL_TYPE, AI_STATUS,
	AI_USER_ID, AI_EXTRA, AI_CACHE_READ_INPUT_TOKENS,
	AI_CACHE_CREATION_INPUT_TOKENS, AI_TIME_TO_FIRST_TOKEN_MS, AI_COST_SOURCE,
};

#define NUM_BATCH_COLUMNS lengthof(batch_columns)

static Oid	batch_plans_schema = InvalidOid;
static SPIPlanPtr insert_plan = NULL;
static SPIPlanPtr lock_model_plan = NULL;

static Oid
field_type(AiCallField field)
{
	switch (field)
	{
		case AI_CREATED_AT:
			return TIMESTAMPTZOID;
		case AI_RESPONSE:
		case AI_EXTRA:
			return JSONBOID;
		case AI_COST_USD:
			return NUMERICOID;
		case AI_USER_ID:
			return UUIDOID;
		case AI_PROMPT:
		case AI_CALL_TYPE:
		case AI_STATUS:
		case AI_COST_SOURCE:
			return TEXTOID;
		default:
			return INT4OID;
	}
}

static void
prepare_batch_plans(Oid schema)
{
	const char *nsp;
	StringInfoData q;
	Oid			argtypes[1 + NUM_BATCH_COLUMNS];
	Oid			lock_types[2] = {TEXTOID, TEXTOID};

	if (batch_plans_schema == schema && insert_plan != NULL)
		return;
	if (insert_plan)
		SPI_freeplan(insert_plan);
	if (lock_model_plan)
		SPI_freeplan(lock_model_plan);
	insert_plan = lock_model_plan = NULL;

	nsp = quote_identifier(get_namespace_name(schema));
	initStringInfo(&q);
	appendStringInfo(&q, "INSERT INTO %s.ai_call (model_id", nsp);
	for (size_t i = 0; i < NUM_BATCH_COLUMNS; i++)
		appendStringInfo(&q, ", %s", ai_call_field_names[batch_columns[i]]);
	appendStringInfoString(&q, ") SELECT u.c0");
	argtypes[0] = INT8ARRAYOID;
	for (size_t i = 0; i < NUM_BATCH_COLUMNS; i++)
	{
		/* created_at defaults to now(), as the column does. */
		if (batch_columns[i] == AI_CREATED_AT)
			appendStringInfo(&q, ", COALESCE(u.c%zu, pg_catalog.now())", i + 1);
		else
			appendStringInfo(&q, ", u.c%zu", i + 1);
		argtypes[i + 1] = get_array_type(field_type(batch_columns[i]));
	}
	appendStringInfoString(&q, " FROM ROWS FROM (pg_catalog.unnest($1)");
	for (size_t i = 0; i < NUM_BATCH_COLUMNS; i++)
		appendStringInfo(&q, ", pg_catalog.unnest($%zu)", i + 2);
	appendStringInfoString(&q, ") WITH ORDINALITY AS u(c0");
	for (size_t i = 0; i < NUM_BATCH_COLUMNS; i++)
		appendStringInfo(&q, ", c%zu", i + 1);
	appendStringInfoString(&q, ", n) ORDER BY u.n RETURNING id");
	insert_plan = aitrack_prepare_plan(q.data, 1 + NUM_BATCH_COLUMNS, argtypes, 0);

	/* Locked until commit, so the model cannot go away under the batch. */
	lock_model_plan = aitrack_prepare_plan(psprintf("SELECT m.id FROM %s.ai_model m"
													" WHERE m.modelname OPERATOR(pg_catalog.=) $1"
													" AND m.version OPERATOR(pg_catalog.=) $2"
													" FOR KEY SHARE",
													nsp),
										   2, lock_types, 0);
	batch_plans_schema = schema;
}

/* The id of a model, created if need be, locked until commit. */
static int64
locked_model_id(Oid schema, AiCall *call)
{
	Datum		params[1 + AI_NUM_FIELDS];
	char		nulls[1 + AI_NUM_FIELDS];
	Datum		names[2] = {call->values[AI_MODELNAME], call->values[AI_VERSION]};
	bool		isnull;

	for (int attempt = 0; attempt < AITRACK_MODEL_RETRIES; attempt++)
	{
		if (SPI_execute_plan(lock_model_plan, names, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed for lock_model");
		if (SPI_processed == 1)
			return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
		/* The create_model plan takes the record_ai_call() parameter layout. */
		memset(nulls, 'n', sizeof(nulls));
		params[AI_MODELNAME + 1] = names[0];
		params[AI_VERSION + 1] = names[1];
		nulls[AI_MODELNAME + 1] = nulls[AI_VERSION + 1] = ' ';
		if (SPI_execute_plan(ai_create_model_plan(schema), params, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed for create_model");
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not record calls: model \"%s\" version \"%s\" was deleted while recording",
					TextDatumGetCString(names[0]), TextDatumGetCString(names[1])),
			 errhint("Retry the batch once the sessions deleting the model are done.")));
	pg_unreachable();
}

/* Which element an error is about. */
static void
element_context(void *arg)
{
	errcontext("element %d of the calls array (counting from 0)", *(int *) arg);
}

PG_FUNCTION_INFO_V1(record_ai_calls_1_2);

/* record_ai_calls(calls jsonb) RETURNS SETOF bigint: the new ids, in order. */
Datum
record_ai_calls_1_2(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	Jsonb	   *calls;
	int			ncalls;
	AiCall	   *rows;
	int64	   *model_ids;
	int			index = 0;
	ErrorContextCallback errcallback;
	JsonbIterator *it;
	JsonbValue	value;
	JsonbIteratorToken token;
	Datum		arrays[1 + NUM_BATCH_COLUMNS];
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

	/* Read and check every element before writing anything. */
	rows = palloc(sizeof(AiCall) * ncalls);
	errcallback.callback = element_context;
	errcallback.arg = &index;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	it = JsonbIteratorInit(&calls->root);
	while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE)
	{
		AiCall	   *call;

		if (token != WJB_ELEM)
			continue;
		call = &rows[index];
		if (value.type != jbvBinary || !JsonContainerIsObject(value.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a call must be a JSON object")));
		ai_call_init(call);
		call->values[AI_STATUS] = CStringGetTextDatum("success");
		call->isnull[AI_STATUS] = false;
		ai_call_apply_object(call, value.val.binary.data);
		if (!ai_call_has_token_counts(call) && !call->isnull[AI_RESPONSE])
			ai_call_usage_from_response(call);
		ai_call_validate(call, AITRACK_API_1_2);
		ai_call_apply_content_policy(call);
		if (!call->isnull[AI_CREATED_AT] &&
			TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(call->values[AI_CREATED_AT])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("created_at must be a finite time")));
		index++;
	}

	error_context_stack = errcallback.previous;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_batch_plans(schema);
	error_context_stack = &errcallback;

	/* Price and place each call. */
	model_ids = palloc(sizeof(int64) * ncalls);
	for (index = 0; index < ncalls; index++)
	{
		AiCall	   *call = &rows[index];

		ai_call_price(schema, call);
		/* The previous element is often the same model. */
		if (index > 0 &&
			DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
												 call->values[AI_MODELNAME],
												 rows[index - 1].values[AI_MODELNAME])) &&
			DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
												 call->values[AI_VERSION],
												 rows[index - 1].values[AI_VERSION])))
			model_ids[index] = model_ids[index - 1];
		else
			model_ids[index] = locked_model_id(schema, call);
	}
	error_context_stack = errcallback.previous;

	/* Column arrays for unnest(). */
	{
		Datum	   *ids = palloc(sizeof(Datum) * ncalls);

		for (int i = 0; i < ncalls; i++)
			ids[i] = Int64GetDatum(model_ids[i]);
		arrays[0] = PointerGetDatum(construct_array(ids, ncalls, INT8OID, 8,
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}
	for (size_t c = 0; c < NUM_BATCH_COLUMNS; c++)
	{
		AiCallField field = batch_columns[c];
		Oid			type = field_type(field);
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
		arrays[c + 1] = PointerGetDatum(construct_md_array(elems, elem_nulls, 1, dims, lbs,
														   type, typlen, typbyval, typalign));
	}

	rc = SPI_execute_plan(insert_plan, arrays, NULL, false, 0);
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
