/*
 * record.c
 *		record_ai_call(): one call, in either of its two shapes, prepared
 *		(call.c) and inserted in one statement that also finds the model.
 *
 * Two statements, prepared once per backend and API version and kept:
 *
 *	insert_by_id	INSERT ... SELECT from ai_model by a cached id, checking
 *					that the row still has the same modelname and version
 *	insert_by_name	INSERT ... SELECT from ai_model by (modelname, version)
 *
 * (1.10: into a distributed ai_call, insert_values instead: INSERT ...
 * VALUES with the id of the model found and locked before, returning the
 * whole row, which the recording then counts: distributed.c.)
 *
 * Both lock the model row FOR KEY SHARE in the same statement that reads
 * it.  If another session deletes the model at that moment, the lock waits
 * for it, the row then drops out of the result and the insert writes
 * nothing; the model is then created again (model.c) and the insert
 * retried, instead of letting the foreign key check fail.
 */
#include "aitrack.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/uuid.h"
#include "utils/lsyscache.h"

/* $1 is the model id; $2.. are the AiCallField values in list order. */
#define NUM_PARAMS (1 + AI_NUM_FIELDS)
#define PARAM(field) ((field) + 2)

typedef struct RecordPlans
{
	Oid			schema;
	bool		distributed;	/* 1.10: ai_call is a Citus distributed table */
	SPIPlanPtr	insert_by_id;
	SPIPlanPtr	insert_by_name;
	SPIPlanPtr	insert_values;	/* 1.10, distributed: the model id given */
} RecordPlans;

/* One set per API version: a 1.0 database has fewer ai_call columns. */
static RecordPlans record_plans[AITRACK_NUM_APIS];

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
	Oid			param_types[NUM_PARAMS];
	const char *nsp;
	StringInfoData columns;
	StringInfoData values;
	char	   *insert_head;
	char	   *query;
	bool		distributed = ai_calls_distributed(schema);
	/*
	 * A distributed ai_call has no triggers to count the call (see
	 * distributed.c): the insert returns the whole row, for the counting.
	 */
	const char *returning = distributed ? " RETURNING c.*" : " RETURNING c.id, c.model_id";

	/* (schema is set last: a match means the plans are all there) */
	if (plans->schema == schema && plans->distributed == distributed)
		return plans;

	drop_plan(&plans->insert_by_id);
	drop_plan(&plans->insert_by_name);
	drop_plan(&plans->insert_values);
	plans->schema = InvalidOid;

	param_types[0] = INT8OID;	/* model id */
	for (int field = 0; field < AI_NUM_FIELDS; field++)
		param_types[PARAM(field) - 1] = ai_call_fields[field].type;

	/* The call's own columns, as many as the version's ai_call has. */
	initStringInfo(&columns);
	initStringInfo(&values);
	for (int field = 0; field < AI_NUM_FIELDS; field++)
	{
		/* record_ai_call() is never given created_at: the column's default */
		if (!ai_call_field_is_column(field, api) || field == AI_CREATED_AT)
			continue;
		appendStringInfo(&columns, ", %s", ai_call_field_name(field));
		appendStringInfo(&values, ", $%d", PARAM(field));
	}

	nsp = quote_identifier(get_namespace_name(schema));
	insert_head = psprintf("INSERT INTO %s.ai_call AS c (model_id%s)"
						   " SELECT m.id%s FROM %s.ai_model m"
						   " WHERE m.modelname OPERATOR(pg_catalog.=) $%d"
						   " AND m.version OPERATOR(pg_catalog.=) $%d",
						   nsp, columns.data, values.data, nsp,
						   PARAM(AI_MODELNAME), PARAM(AI_VERSION));

	/*
	 * 1.10: into a distributed ai_call, only an INSERT ... VALUES, which
	 * Citus sends to the one shard as it is; the INSERT ... SELECT from the
	 * coordinator's ai_model below would run as a query of its own and copy
	 * its result over (a third of the throughput: 519 against 1,592 tps,
	 * bench/citus.sh).  The model is found and locked first
	 * (ai_model_lock_id()).
	 */
	if (!distributed)
	{
		query = psprintf("%s AND m.id OPERATOR(pg_catalog.=) $1"
						 " FOR KEY SHARE OF m%s",
						 insert_head, returning);
		plans->insert_by_id = aitrack_prepare_plan(query, NUM_PARAMS, param_types, 0);

		query = psprintf("%s FOR KEY SHARE OF m%s", insert_head, returning);
		plans->insert_by_name = aitrack_prepare_plan(query, NUM_PARAMS, param_types, 0);
	}
	else
		plans->insert_values =
			aitrack_prepare_plan(psprintf("INSERT INTO %s.ai_call AS c (model_id%s)"
										  " VALUES ($1%s)%s",
										  nsp, columns.data, values.data, returning),
								 NUM_PARAMS, param_types, 0);

	plans->schema = schema;
	plans->distributed = distributed;
	return plans;
}

/*
 * How deep record_call() is nested: 1 in a plain record_ai_call(), more
 * when a constraint, default or trigger that it runs calls it again.
 */
static int	record_depth = 0;

/*
 * Run one of the insert statements; true and the new call's id and model id
 * if the model row was there, false if the statement found no model.  The
 * outermost call's statement gets ai_call's CHECK constraints prepared once
 * per backend (check_cache.c).
 */
static bool
run_insert(Oid schema, RecordPlans *plans, SPIPlanPtr plan, Datum *params, const char *nulls,
		   int64 *call_id, int64 *model_id)
{
	int			rc;
	bool		isnull;
	TupleDesc	desc;

	if (record_depth == 1)
		ai_check_cache_arm(plan, get_relname_relid("ai_call", schema));
	rc = ai_execute_counted(plan, params, nulls, InvalidSnapshot, InvalidSnapshot, true, 0);
	ai_check_cache_disarm();
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	desc = SPI_tuptable->tupdesc;
	*call_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], desc,
										   SPI_fnumber(desc, "id"), &isnull));
	*model_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], desc,
											SPI_fnumber(desc, "model_id"), &isnull));
	if (plans->distributed)
		ai_count_spi_rows(schema, TRIGGER_EVENT_INSERT, SPI_tuptable, SPI_processed, true);
	return true;
}

/*
 * Prepare one call and insert it into the extension's tables in schema;
 * returns the new ai_call.id.
 */
static int64
record_call_nested(Oid schema, AiCall *call, AitrackApi api, bool tenant_rules)
{
	Datum		params[NUM_PARAMS];
	char		nulls[NUM_PARAMS];
	text	   *modelname;
	text	   *version;
	RecordPlans *plans;
	int64		call_id = 0;
	int64		model_id = 0;
	bool		done = false;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* 1.4: a tenant's calls are its own (before anything reads user_id). */
	if (tenant_rules)
		ai_tenant_check_call(schema, call);
	ai_call_prepare(schema, call, api);
	/*
	 * The plans after the price: preparing them locks ai_call and ai_model,
	 * and recording takes its locks in the order prices, calls, models (see
	 * sql/aitrack--1.3--1.4.sql, which locks them so).
	 */
	/*
	 * ai_call's lock first (the insert's own, taken early): an
	 * aitrack_distribute() that held it has committed by then, and whether
	 * ai_call is distributed is read after it (prepare_plans()), not before.
	 */
	LockRelationOid(get_relname_relid("ai_call", schema), RowExclusiveLock);
	plans = prepare_plans(schema, api);

	modelname = DatumGetTextPP(call->values[AI_MODELNAME]);
	version = DatumGetTextPP(call->values[AI_VERSION]);
	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		params[PARAM(i) - 1] = call->values[i];
		nulls[PARAM(i) - 1] = call->isnull[i] ? 'n' : ' ';
	}

	if (plans->distributed)
	{
		/*
		 * ai_call (locked above), then the model: the order of the locks
		 * that the insert by name takes; ai_model_lock_id() finds, creates
		 * or locks the model FOR KEY SHARE.
		 */
		params[0] = Int64GetDatum(ai_model_lock_id(schema, call->values[AI_MODELNAME],
												   call->values[AI_VERSION]));
		nulls[0] = ' ';
		done = run_insert(schema, plans, plans->insert_values, params, nulls, &call_id, &model_id);
	}
	else if (model_cache_lookup(schema, modelname, version, &model_id))
	{
		params[0] = Int64GetDatum(model_id);
		nulls[0] = ' ';
		done = run_insert(schema, plans, plans->insert_by_id, params, nulls, &call_id, &model_id);
		if (!done)
			model_cache_forget(schema, modelname, version);
	}

	nulls[0] = 'n';
	for (int attempt = 0; !done && attempt < AITRACK_MODEL_RETRIES; attempt++)
	{
		done = run_insert(schema, plans, plans->insert_by_name, params, nulls, &call_id, &model_id);
		if (done)
			model_cache_store(schema, modelname, version, model_id);
		else
			ai_model_create(schema, call->values[AI_MODELNAME], call->values[AI_VERSION]);
	}

	if (!done)
		ai_model_deleted_error(call->values[AI_MODELNAME], call->values[AI_VERSION], false);

	SPI_finish();
	return call_id;
}

/*
 * The last call this backend recorded, and the (sub)transaction that wrote
 * it: ai_budget_settle() of that call in that (sub)transaction needs no
 * look in ai_call for it (budget_reserve.c).
 */
static int64 last_call_id = 0;
static Oid	last_call_schema = InvalidOid;
static TransactionId last_call_xid = InvalidTransactionId;

bool
ai_call_recorded_here(Oid schema, int64 call_id)
{
	TransactionId xid = GetCurrentTransactionIdIfAny();

	return TransactionIdIsValid(xid) && xid == last_call_xid &&
		schema == last_call_schema && call_id == last_call_id;
}

static int64
record_call(Oid schema, AiCall *call, AitrackApi api, bool tenant_rules)
{
	volatile int64 call_id = 0;

	record_depth++;
	PG_TRY();
	{
		call_id = record_call_nested(schema, call, api, tenant_rules);
	}
	PG_CATCH();
	{
		record_depth--;
		ai_check_cache_disarm();
		PG_RE_THROW();
	}
	PG_END_TRY();
	record_depth--;
	last_call_id = call_id;
	last_call_schema = schema;
	last_call_xid = GetCurrentTransactionIdIfAny();
	return call_id;
}

static void
set_from_arg(AiCall *call, AiCallField field, FunctionCallInfo fcinfo, int arg)
{
	call->isnull[field] = PG_ARGISNULL(arg);
	call->values[field] = PG_ARGISNULL(arg) ? (Datum) 0 : PG_GETARG_DATUM(arg);
}

/*
 * The explicit-columns form: its arguments are the fields marked argument
 * in ai_call_fields.h, in list order, as many as the API version has.
 */
static Datum
record_explicit(FunctionCallInfo fcinfo, AitrackApi api)
{
	AiCall		call;
	int			arg = 0;

	ai_call_init(&call);
	for (int field = 0; field < AI_NUM_FIELDS; field++)
		if (ai_call_fields[field].argument && ai_call_fields[field].since <= api)
			set_from_arg(&call, field, fcinfo, arg++);
	Assert(arg == PG_NARGS());
	PG_RETURN_INT64(record_call(aitrack_function_schema(fcinfo), &call, api, false));
}

/*
 * The seed's form: (modelname, version, prompt, response, metrics jsonb,
 * call_type, user_id).
 */
static Datum
record_with_metrics(FunctionCallInfo fcinfo, AitrackApi api, Datum metrics,
					bool tenant_rules, bool user_id_is_text)
{
	AiCall		call;

	ai_call_init(&call);
	for (int i = AI_MODELNAME; i <= AI_RESPONSE; i++)
		set_from_arg(&call, i, fcinfo, i);
	ai_call_set_text(&call, AI_STATUS, "success");
	if (!PG_ARGISNULL(4))
		ai_call_apply_metrics(&call, metrics, api);
	if (!PG_ARGISNULL(5))
		set_from_arg(&call, AI_CALL_TYPE, fcinfo, 5);
	if (!PG_ARGISNULL(6))
	{
		set_from_arg(&call, AI_USER_ID, fcinfo, 6);
		/* The JSON-text form takes user_id as text too; see below. */
		if (user_id_is_text)
			call.values[AI_USER_ID] =
				DirectFunctionCall1(uuid_in, CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(6))));
	}
	PG_RETURN_INT64(record_call(aitrack_function_schema(fcinfo), &call, api, tenant_rules));
}

/*
 * 1.4's explicit form takes what drivers send: token counts as bigint (a
 * Python int above 2^31 arrives as int8), durations and cost as double
 * precision (a Python or JavaScript number; integers and numerics cast to it
 * implicitly).  Each becomes the column's type here, with an error naming
 * the argument.
 */
static void
out_of_range(AiCallField field, const char *got, const char *limit)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s is out of range", ai_call_field_name(field)),
			 errdetail("Got %s; %s.", got, limit)));
}

static Datum
count_from_int8(AiCallField field, int64 value)
{
	if (value < PG_INT32_MIN || value > PG_INT32_MAX)
		out_of_range(field, psprintf(INT64_FORMAT, value),
					 "a call's token count must be at most 2147483647");
	return Int32GetDatum((int32) value);
}

static Datum
milliseconds_from_float8(AiCallField field, float8 value)
{
	float8		rounded;

	if (isnan(value) || isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be a finite number", ai_call_field_name(field)),
				 errdetail("Got %s.", float8out_internal(value)),
				 errhint("Pass NULL when it was not measured.")));
	/* Half away from zero, as numeric's round() does for the metrics form. */
	rounded = round(value);
	if (rounded < (float8) PG_INT32_MIN || rounded > (float8) PG_INT32_MAX)
		out_of_range(field, psprintf("%g", value),
					 "the limit is 2147483647 ms");
	return Int32GetDatum((int32) rounded);
}

/*
 * The shortest decimal that reads back as the same double: exact for every
 * decimal of up to 15 significant digits, whatever extra_float_digits says.
 */
static Datum
cost_from_float8(float8 value)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (isnan(value) || isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cost_usd must be a finite number"),
				 errdetail("Got %s.", float8out_internal(value)),
				 errhint("Pass NULL when the cost is unknown.")));
	double_to_shortest_decimal_buf(value, buf);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * The explicit form of 1.4 (api 1.1's columns), 1.5 (api 1.5's) and 1.7
 * (api 1.7's: tags arrive as the text[] they are stored as).
 */
static Datum
record_explicit_driver_types(FunctionCallInfo fcinfo, AitrackApi api)
{
	AiCall		call;
	int			arg = 0;

	ai_call_init(&call);
	for (int field = 0; field < AI_NUM_FIELDS; field++)
	{
		if (!ai_call_fields[field].argument || ai_call_fields[field].since > api)
			continue;
		call.isnull[field] = PG_ARGISNULL(arg);
		if (call.isnull[field])
			call.values[field] = (Datum) 0;
		else if (ai_call_fields[field].key_kind == AI_KEY_COUNT)
			call.values[field] = count_from_int8(field, PG_GETARG_INT64(arg));
		else if (ai_call_fields[field].key_kind == AI_KEY_DURATION)
			call.values[field] = milliseconds_from_float8(field, PG_GETARG_FLOAT8(arg));
		else if (field == AI_COST_USD)
			call.values[field] = cost_from_float8(PG_GETARG_FLOAT8(arg));
		else
			call.values[field] = PG_GETARG_DATUM(arg);
		arg++;
	}
	Assert(arg == PG_NARGS());
	PG_RETURN_INT64(record_call(aitrack_function_schema(fcinfo), &call, api, true));
}

PG_FUNCTION_INFO_V1(record_ai_call_1_0);
PG_FUNCTION_INFO_V1(record_ai_call_1_1);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_0);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_1);
PG_FUNCTION_INFO_V1(record_ai_call_1_4);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_4);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_text_1_4);
PG_FUNCTION_INFO_V1(record_ai_call_1_5);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_5);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_text_1_5);
PG_FUNCTION_INFO_V1(record_ai_call_1_7);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_1_7);
PG_FUNCTION_INFO_V1(record_ai_call_metrics_text_1_7);

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
	return record_with_metrics(fcinfo, AITRACK_API_1_0,
							   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), false, false);
}

Datum
record_ai_call_metrics_1_1(PG_FUNCTION_ARGS)
{
	return record_with_metrics(fcinfo, AITRACK_API_1_1,
							   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), false, false);
}

/* 1.4: explicit columns, in the types drivers send; tenants' rules apply. */
Datum
record_ai_call_1_4(PG_FUNCTION_ARGS)
{
	return record_explicit_driver_types(fcinfo, AITRACK_API_1_1);
}

/* 1.4: the seed's form, metrics jsonb; tenants' rules apply. */
Datum
record_ai_call_metrics_1_4(PG_FUNCTION_ARGS)
{
	return record_with_metrics(fcinfo, AITRACK_API_1_1,
							   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), true, false);
}

/*
 * 1.4: the seed's form with metrics as JSON text (metrics_json) and user_id
 * as text, which is what untyped fifth to seventh arguments from a driver
 * resolve to (with user_id uuid, an untyped seventh argument would be
 * ambiguous against the explicit form's output_tokens bigint).
 */
static Datum
record_metrics_text(FunctionCallInfo fcinfo, AitrackApi api)
{
	Datum		metrics = (Datum) 0;

	if (!PG_ARGISNULL(4))
		metrics = DirectFunctionCall1(jsonb_in,
									  CStringGetDatum(text_to_cstring(PG_GETARG_TEXT_PP(4))));
	return record_with_metrics(fcinfo, api, metrics, true, true);
}

Datum
record_ai_call_metrics_text_1_4(PG_FUNCTION_ARGS)
{
	return record_metrics_text(fcinfo, AITRACK_API_1_1);
}

/*
 * 1.5: the same three forms, with what is billed apart (the provider,
 * service tier, 1-hour cache writes, audio and image tokens, web searches)
 * as arguments and metrics keys.
 */
Datum
record_ai_call_1_5(PG_FUNCTION_ARGS)
{
	return record_explicit_driver_types(fcinfo, AITRACK_API_1_5);
}

Datum
record_ai_call_metrics_1_5(PG_FUNCTION_ARGS)
{
	return record_with_metrics(fcinfo, AITRACK_API_1_5,
							   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), true, false);
}

Datum
record_ai_call_metrics_text_1_5(PG_FUNCTION_ARGS)
{
	return record_metrics_text(fcinfo, AITRACK_API_1_5);
}

/*
 * 1.7: the same three forms, with attribution (project, api_key, tags,
 * conversation_id) and the call's trace (trace_id, span_id,
 * parent_span_id) as arguments and metrics keys.
 */
Datum
record_ai_call_1_7(PG_FUNCTION_ARGS)
{
	return record_explicit_driver_types(fcinfo, AITRACK_API_1_7);
}

Datum
record_ai_call_metrics_1_7(PG_FUNCTION_ARGS)
{
	return record_with_metrics(fcinfo, AITRACK_API_1_7,
							   PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4), true, false);
}

Datum
record_ai_call_metrics_text_1_7(PG_FUNCTION_ARGS)
{
	return record_metrics_text(fcinfo, AITRACK_API_1_7);
}
