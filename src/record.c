/*
 * record.c
 *		record_ai_call(): find or create the model, insert the call.
 *
 * Three statements, prepared once per backend and kept:
 *
 *	insert_by_id	INSERT ... SELECT from ai_model by a cached id, checking
 *					that the row still has the same modelname and version
 *	insert_by_name	INSERT ... SELECT from ai_model by (modelname, version)
 *	create_model	INSERT INTO ai_model ... ON CONFLICT DO NOTHING
 *
 * (one set per API version, as a 1.0 database has fewer ai_call columns)
 *
 * Both inserts lock the model row FOR KEY SHARE in the same statement that
 * reads it.  If another session deletes the model at that moment, the lock
 * waits for it, the row then drops out of the result and the insert writes
 * nothing; we create the model again and retry, instead of letting the
 * foreign key check fail.  Sessions racing to create the same new model
 * meet in the unique index: one inserts, the others find its row.
 */
#include "aitrack.h"

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

/* $1 is the model id; $2.. are the AiCallField values in enum order. */
#define NUM_PARAMS (1 + AI_NUM_FIELDS)
#define PARAM(field) ((field) + 2)

typedef struct RecordPlans
{
	Oid			schema;
	SPIPlanPtr	insert_by_id;
	SPIPlanPtr	insert_by_name;
	SPIPlanPtr	create_model;
} RecordPlans;

/* One set per API version: a 1.0 database has fewer ai_call columns. */
static RecordPlans record_plans[AITRACK_NUM_APIS];

static const Oid param_types[NUM_PARAMS] = {
	INT8OID,					/* model id */
	[PARAM(AI_MODELNAME) - 1] = TEXTOID,
	[PARAM(AI_VERSION) - 1] = TEXTOID,
	[PARAM(AI_PROMPT) - 1] = TEXTOID,
	[PARAM(AI_RESPONSE) - 1] = JSONBOID,
	[PARAM(AI_INPUT_TOKENS) - 1] = INT4OID,
	[PARAM(AI_REASONING_TOKENS) - 1] = INT4OID,
	[PARAM(AI_OUTPUT_TOKENS) - 1] = INT4OID,
	[PARAM(AI_COST_USD) - 1] = NUMERICOID,
	[PARAM(AI_DURATION_MS) - 1] = INT4OID,
	[PARAM(AI_CALL_TYPE) - 1] = TEXTOID,
	[PARAM(AI_STATUS) - 1] = TEXTOID,
	[PARAM(AI_USER_ID) - 1] = UUIDOID,
	[PARAM(AI_EXTRA) - 1] = JSONBOID,
	[PARAM(AI_CACHE_READ_INPUT_TOKENS) - 1] = INT4OID,
	[PARAM(AI_CACHE_CREATION_INPUT_TOKENS) - 1] = INT4OID,
	[PARAM(AI_TIME_TO_FIRST_TOKEN_MS) - 1] = INT4OID,
	[PARAM(AI_COST_SOURCE) - 1] = TEXTOID,
	[PARAM(AI_CREATED_AT) - 1] = TIMESTAMPTZOID,
};

static void
drop_plan(SPIPlanPtr *plan)
{
	if (*plan != NULL)
		SPI_freeplan(*plan);
	*plan = NULL;
}

/*
 * Build the statements for the extension living in schema, at an API
 * version.  Every name is schema-qualified and every operator spelled
 * OPERATOR(pg_catalog.=), so neither the caller's search_path nor objects in
 * it change what runs.
 */
static RecordPlans *
prepare_plans(Oid schema, AitrackApi api)
{
	RecordPlans *plans = &record_plans[api];
	const char *nsp;
	StringInfoData columns;
	StringInfoData values;
	char	   *insert_head;
	char	   *query;

	if (plans->schema == schema && plans->insert_by_id != NULL)
		return plans;

	drop_plan(&plans->insert_by_id);
	drop_plan(&plans->insert_by_name);
	drop_plan(&plans->create_model);
	plans->schema = InvalidOid;

	/* The call's own columns: everything after modelname and version. */
	initStringInfo(&columns);
	initStringInfo(&values);
	for (int field = AI_PROMPT; field < AI_CALL_FIELDS(api); field++)
	{
		appendStringInfo(&columns, ", %s", ai_call_field_names[field]);
		appendStringInfo(&values, ", $%d", PARAM(field));
	}

	nsp = quote_identifier(get_namespace_name(schema));
	insert_head = psprintf("INSERT INTO %s.ai_call AS c (model_id%s)"
						   " SELECT m.id%s FROM %s.ai_model m"
						   " WHERE m.modelname OPERATOR(pg_catalog.=) $%d"
						   " AND m.version OPERATOR(pg_catalog.=) $%d",
						   nsp, columns.data, values.data, nsp,
						   PARAM(AI_MODELNAME), PARAM(AI_VERSION));

	query = psprintf("%s AND m.id OPERATOR(pg_catalog.=) $1"
					 " FOR KEY SHARE OF m RETURNING c.id, c.model_id",
					 insert_head);
	plans->insert_by_id = aitrack_prepare_plan(query, NUM_PARAMS,
											   (Oid *) param_types, 0);

	query = psprintf("%s FOR KEY SHARE OF m RETURNING c.id, c.model_id",
					 insert_head);
	plans->insert_by_name = aitrack_prepare_plan(query, NUM_PARAMS,
												 (Oid *) param_types, 0);

	query = psprintf("INSERT INTO %s.ai_model (modelname, version)"
					 " VALUES ($%d, $%d)"
					 " ON CONFLICT (modelname, version) DO NOTHING",
					 nsp, PARAM(AI_MODELNAME), PARAM(AI_VERSION));
	plans->create_model = aitrack_prepare_plan(query, NUM_PARAMS,
											   (Oid *) param_types, 0);

	plans->schema = schema;
	return plans;
}

/* INSERT INTO ai_model ... ON CONFLICT DO NOTHING, for record_ai_calls(). */
SPIPlanPtr
ai_create_model_plan(Oid schema)
{
	return prepare_plans(schema, AITRACK_API_1_1)->create_model;
}

/*
 * Run one of the insert statements; true and the new call's id and model id
 * if the model row was there, false if the statement found no model.
 */
static bool
run_insert(SPIPlanPtr plan, Datum *params, const char *nulls,
		   int64 *call_id, int64 *model_id)
{
	int			rc;
	bool		isnull;

	rc = SPI_execute_plan(plan, params, nulls, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	*call_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	*model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 2, &isnull));
	return true;
}

/*
 * Insert one validated call into the extension's tables in schema and
 * return the new ai_call.id.  From 1.1 on, a call given without token counts
 * takes them from its response, and one given without a cost gets it from
 * the price in force.
 */
int64
ai_call_insert(Oid schema, AiCall *call, AitrackApi api)
{
	Datum		params[NUM_PARAMS];
	char		nulls[NUM_PARAMS];
	text	   *modelname = DatumGetTextPP(call->values[AI_MODELNAME]);
	text	   *version = DatumGetTextPP(call->values[AI_VERSION]);
	RecordPlans *plans;
	int64		call_id = 0;
	int64		model_id = 0;
	bool		done = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plans = prepare_plans(schema, api);

	if (api >= AITRACK_API_1_1)
		ai_call_price(schema, call);

	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		params[PARAM(i) - 1] = call->values[i];
		nulls[PARAM(i) - 1] = call->isnull[i] ? 'n' : ' ';
	}

	if (model_cache_lookup(schema, modelname, version, &model_id))
	{
		params[0] = Int64GetDatum(model_id);
		nulls[0] = ' ';
		done = run_insert(plans->insert_by_id, params, nulls, &call_id, &model_id);
		if (!done)
			model_cache_forget(schema, modelname, version);
	}

	nulls[0] = 'n';
	for (int attempt = 0; !done && attempt < AITRACK_MODEL_RETRIES; attempt++)
	{
		done = run_insert(plans->insert_by_name, params, nulls, &call_id, &model_id);
		if (done)
		{
			model_cache_store(schema, modelname, version, model_id);
			break;
		}
		if (SPI_execute_plan(plans->create_model, params, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "SPI_execute_plan failed for create_model");
	}

	if (!done)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not record call: model \"%s\" version \"%s\" was deleted while recording",
						text_to_cstring(modelname), text_to_cstring(version)),
				 errdetail("The model was created and deleted again %d times.",
						   AITRACK_MODEL_RETRIES),
				 errhint("Retry the call once the sessions deleting the model are done.")));

	SPI_finish();
	return call_id;
}

/* An empty call: every field NULL. */
void
ai_call_init(AiCall *call)
{
	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		call->isnull[i] = true;
		call->values[i] = (Datum) 0;
	}
}

static void
set_from_arg(AiCall *call, AiCallField field, FunctionCallInfo fcinfo, int arg)
{
	call->isnull[field] = PG_ARGISNULL(arg);
	call->values[field] = PG_ARGISNULL(arg) ? (Datum) 0 : PG_GETARG_DATUM(arg);
}

/*
 * The explicit-columns form: its arguments are the AiCallFields in enum
 * order, as many as the API version has.
 */
static Datum
record_explicit(FunctionCallInfo fcinfo, AitrackApi api)
{
	AiCall		call;

	ai_call_init(&call);
	for (int i = 0; i < AI_CALL_FIELDS(api) && i < AI_COST_SOURCE; i++)
		set_from_arg(&call, i, fcinfo, i);
	if (api >= AITRACK_API_1_1 && !ai_call_has_token_counts(&call) &&
		!call.isnull[AI_RESPONSE])
		ai_call_usage_from_response(&call);
	ai_call_validate(&call, api);
	ai_call_apply_content_policy(&call);
	PG_RETURN_INT64(ai_call_insert(aitrack_function_schema(fcinfo), &call, api));
}

/*
 * The seed's form: (modelname, version, prompt, response, metrics jsonb,
 * call_type, user_id).
 */
static Datum
record_with_metrics(FunctionCallInfo fcinfo, AitrackApi api)
{
	AiCall		call;

	ai_call_init(&call);
	for (int i = AI_MODELNAME; i <= AI_RESPONSE; i++)
		set_from_arg(&call, i, fcinfo, i);
	call.values[AI_STATUS] = CStringGetTextDatum("success");
	call.isnull[AI_STATUS] = false;
	if (!PG_ARGISNULL(4))
		ai_call_apply_metrics(&call, PG_GETARG_DATUM(4), api);
	if (!PG_ARGISNULL(5))
		set_from_arg(&call, AI_CALL_TYPE, fcinfo, 5);
	if (!PG_ARGISNULL(6))
		set_from_arg(&call, AI_USER_ID, fcinfo, 6);
	if (api >= AITRACK_API_1_1 && !ai_call_has_token_counts(&call) &&
		!call.isnull[AI_RESPONSE])
		ai_call_usage_from_response(&call);
	ai_call_validate(&call, api);
	ai_call_apply_content_policy(&call);
	PG_RETURN_INT64(ai_call_insert(aitrack_function_schema(fcinfo), &call, api));
}

PG_FUNCTION_INFO_V1(record_ai_call_1_0);
PG_FUNCTION_INFO_V1(record_ai_call_1_1);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_0);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_1);

Datum
record_ai_call_1_0(PG_FUNCTION_ARGS)
{
	return record_explicit(fcinfo, AITRACK_API_1_0);
}

Datum
record_ai_call_1_1(PG_FUNCTION_ARGS)
{
	return record_explicit(fcinfo, AITRACK_API_1_1);
}

Datum
record_ai_call_metrics_1_0(PG_FUNCTION_ARGS)
{
	return record_with_metrics(fcinfo, AITRACK_API_1_0);
}

Datum
record_ai_call_metrics_1_1(PG_FUNCTION_ARGS)
{
	return record_with_metrics(fcinfo, AITRACK_API_1_1);
}
