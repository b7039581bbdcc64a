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
 * Both inserts lock the model row FOR KEY SHARE in the same statement that
 * reads it.  If another session deletes the model at that moment, the lock
 * waits for it, the row then drops out of the result and the insert writes
 * nothing; we create the model again and retry, instead of letting the
 * foreign key check fail.  Sessions racing to create the same new model
 * meet in the unique index: one inserts, the others find its row.
 */
#include "aitrack.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

/* $1 is the model id; $2.. are the AiCallField values in enum order. */
#define NUM_PARAMS (1 + AI_NUM_FIELDS)
#define PARAM(field) ((field) + 2)

static Oid	plans_schema = InvalidOid;
static SPIPlanPtr insert_by_id_plan = NULL;
static SPIPlanPtr insert_by_name_plan = NULL;
static SPIPlanPtr create_model_plan = NULL;

static const Oid param_types[NUM_PARAMS] = {
	INT8OID,					/* model id */
	TEXTOID,					/* modelname */
	TEXTOID,					/* version */
	TEXTOID,					/* prompt */
	JSONBOID,					/* response */
	INT4OID,					/* input_tokens */
	INT4OID,					/* reasoning_tokens */
	INT4OID,					/* output_tokens */
	NUMERICOID,					/* cost_usd */
	INT4OID,					/* duration_ms */
	TEXTOID,					/* call_type */
	TEXTOID,					/* status */
	UUIDOID,					/* user_id */
	JSONBOID,					/* extra */
};

static void
drop_plan(SPIPlanPtr *plan)
{
	if (*plan != NULL)
		SPI_freeplan(*plan);
	*plan = NULL;
}

/*
 * Build the statements for the extension living in schema.  Every name is
 * schema-qualified and every operator spelled OPERATOR(pg_catalog.=), so
 * neither the caller's search_path nor objects in it change what runs.
 */
static void
prepare_plans(Oid schema)
{
	const char *nsp;
	const char *insert_head;
	char	   *query;

	if (schema == plans_schema && insert_by_id_plan != NULL)
		return;

	drop_plan(&insert_by_id_plan);
	drop_plan(&insert_by_name_plan);
	drop_plan(&create_model_plan);
	plans_schema = InvalidOid;

	nsp = quote_identifier(get_namespace_name(schema));
	insert_head = psprintf(
						   "INSERT INTO %s.ai_call AS c (model_id, prompt, response,"
						   " input_tokens, reasoning_tokens, output_tokens, cost_usd,"
						   " duration_ms, call_type, status, user_id, extra)"
						   " SELECT m.id, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d, $%d"
						   " FROM %s.ai_model m"
						   " WHERE m.modelname OPERATOR(pg_catalog.=) $%d"
						   " AND m.version OPERATOR(pg_catalog.=) $%d",
						   nsp,
						   PARAM(AI_PROMPT), PARAM(AI_RESPONSE),
						   PARAM(AI_INPUT_TOKENS), PARAM(AI_REASONING_TOKENS),
						   PARAM(AI_OUTPUT_TOKENS), PARAM(AI_COST_USD),
						   PARAM(AI_DURATION_MS), PARAM(AI_CALL_TYPE),
						   PARAM(AI_STATUS), PARAM(AI_USER_ID), PARAM(AI_EXTRA),
						   nsp, PARAM(AI_MODELNAME), PARAM(AI_VERSION));

	query = psprintf("%s AND m.id OPERATOR(pg_catalog.=) $1"
					 " FOR KEY SHARE OF m RETURNING c.id, c.model_id",
					 insert_head);
	insert_by_id_plan = aitrack_prepare_plan(query, NUM_PARAMS,
											 (Oid *) param_types, 0);

	query = psprintf("%s FOR KEY SHARE OF m RETURNING c.id, c.model_id",
					 insert_head);
	insert_by_name_plan = aitrack_prepare_plan(query, NUM_PARAMS,
											   (Oid *) param_types, 0);

	query = psprintf("INSERT INTO %s.ai_model (modelname, version)"
					 " VALUES ($%d, $%d)"
					 " ON CONFLICT (modelname, version) DO NOTHING",
					 nsp, PARAM(AI_MODELNAME), PARAM(AI_VERSION));
	create_model_plan = aitrack_prepare_plan(query, NUM_PARAMS,
											 (Oid *) param_types, 0);

	plans_schema = schema;
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
 * return the new ai_call.id.
 */
int64
ai_call_insert(Oid schema, AiCall *call)
{
	Datum		params[NUM_PARAMS];
	char		nulls[NUM_PARAMS];
	text	   *modelname = DatumGetTextPP(call->values[AI_MODELNAME]);
	text	   *version = DatumGetTextPP(call->values[AI_VERSION]);
	int64		call_id = 0;
	int64		model_id = 0;
	bool		done = false;

	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		params[PARAM(i) - 1] = call->values[i];
		nulls[PARAM(i) - 1] = call->isnull[i] ? 'n' : ' ';
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_plans(schema);

	if (model_cache_lookup(schema, modelname, version, &model_id))
	{
		params[0] = Int64GetDatum(model_id);
		nulls[0] = ' ';
		done = run_insert(insert_by_id_plan, params, nulls, &call_id, &model_id);
		if (!done)
			model_cache_forget(schema, modelname, version);
	}

	nulls[0] = 'n';
	for (int attempt = 0; !done && attempt < AITRACK_MODEL_RETRIES; attempt++)
	{
		done = run_insert(insert_by_name_plan, params, nulls, &call_id, &model_id);
		if (done)
		{
			model_cache_store(schema, modelname, version, model_id);
			break;
		}
		if (SPI_execute_plan(create_model_plan, params, nulls, false, 0) != SPI_OK_INSERT)
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

PG_FUNCTION_INFO_V1(record_ai_call_1_0);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_0);

/*
 * record_ai_call(modelname, version, prompt, response, input_tokens,
 *		reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type,
 *		status, user_id, extra) RETURNS bigint
 *
 * The arguments are in AiCallField order.
 */
Datum
record_ai_call_1_0(PG_FUNCTION_ARGS)
{
	AiCall		call;

	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		call.isnull[i] = PG_ARGISNULL(i);
		call.values[i] = call.isnull[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	ai_call_validate(&call);
	PG_RETURN_INT64(ai_call_insert(aitrack_function_schema(fcinfo), &call));
}

/*
 * record_ai_call(modelname, version, prompt, response, metrics jsonb,
 *		call_type, user_id) RETURNS bigint: the seed's call shape.
 */
Datum
record_ai_call_metrics_1_0(PG_FUNCTION_ARGS)
{
	AiCall		call;

	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		call.isnull[i] = true;
		call.values[i] = (Datum) 0;
	}
	for (int i = AI_MODELNAME; i <= AI_RESPONSE; i++)
	{
		call.isnull[i] = PG_ARGISNULL(i);
		call.values[i] = call.isnull[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	call.values[AI_STATUS] = CStringGetTextDatum("success");
	call.isnull[AI_STATUS] = false;
	if (!PG_ARGISNULL(4))
		ai_call_apply_metrics(&call, PG_GETARG_DATUM(4));
	if (!PG_ARGISNULL(5))
	{
		call.values[AI_CALL_TYPE] = PG_GETARG_DATUM(5);
		call.isnull[AI_CALL_TYPE] = false;
	}
	if (!PG_ARGISNULL(6))
	{
		call.values[AI_USER_ID] = PG_GETARG_DATUM(6);
		call.isnull[AI_USER_ID] = false;
	}
	ai_call_validate(&call);
	PG_RETURN_INT64(ai_call_insert(aitrack_function_schema(fcinfo), &call));
}
