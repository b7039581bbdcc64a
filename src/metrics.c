/*
 * metrics.c
 *		Reads the seed's metrics object into a call.
 *
 * The seed records a call as record_ai_call(modelname, version, prompt,
 * response, metrics, call_type, user_id) with metrics a dict holding
 * input_tokens, reasoning_tokens, output_tokens, cost_usd, duration_ms,
 * status and extra.  A key we do not know or a value of the wrong JSON type
 * is an error: silently dropping a misspelt "output_token" would make the
 * ledger wrong without anyone noticing.  JSON null means "not given", as
 * Python's None does in the seed's metrics.get().
 */
#include "aitrack.h"

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

static const char *
json_type_name(JsonbValue *value)
{
	if (value->type == jbvBinary)
		return JsonContainerIsArray(value->val.binary.data) ? "array" : "object";
	return JsonbTypeName(value);
}

static void
wrong_type(const char *key, const char *wanted, JsonbValue *value)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("metrics key \"%s\" must be %s", key, wanted),
			 errdetail("Got a JSON %s.", json_type_name(value))));
}

/* A whole number that fits int4; fractional values are refused for counts. */
static Datum
metric_integer(const char *key, JsonbValue *value, bool round_fraction)
{
	Datum		num;
	bool		overflow = false;
	int32		result;

	if (value->type != jbvNumeric)
		wrong_type(key, "a number", value);
	num = NumericGetDatum(value->val.numeric);
	if (round_fraction)
		num = DirectFunctionCall2(numeric_round, num, Int32GetDatum(0));
	else if (!DatumGetBool(DirectFunctionCall2(numeric_eq, num,
											   DirectFunctionCall2(numeric_trunc, num,
																   Int32GetDatum(0)))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metrics key \"%s\" must be a whole number", key),
				 errdetail("Got %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, num)))));
	result = numeric_int4_opt_error(DatumGetNumeric(num), &overflow);
	if (overflow)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("metrics key \"%s\" is out of range for integer", key),
				 errdetail("Got %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, num)))));
	return Int32GetDatum(result);
}

typedef enum MetricKind
{
	METRIC_COUNT,				/* whole number >= 0, int4 */
	METRIC_DURATION,			/* number, rounded to whole milliseconds */
	METRIC_COST,				/* number, kept exact as numeric */
	METRIC_STATUS,				/* string */
	METRIC_EXTRA,				/* object */
	/* record_ai_calls() elements only */
	METRIC_TEXT,				/* string */
	METRIC_JSON,				/* any JSON */
	METRIC_UUID,				/* string holding a uuid */
	METRIC_TIMESTAMP			/* string holding a timestamptz */
} MetricKind;

typedef struct MetricKey
{
	const char *name;
	AiCallField field;
	MetricKind	kind;
	AitrackApi	since;			/* first version that knows the key */
} MetricKey;

static const MetricKey metric_keys[] = {
	{"input_tokens", AI_INPUT_TOKENS, METRIC_COUNT, AITRACK_API_1_0},
	{"reasoning_tokens", AI_REASONING_TOKENS, METRIC_COUNT, AITRACK_API_1_0},
	{"output_tokens", AI_OUTPUT_TOKENS, METRIC_COUNT, AITRACK_API_1_0},
	{"cost_usd", AI_COST_USD, METRIC_COST, AITRACK_API_1_0},
	{"duration_ms", AI_DURATION_MS, METRIC_DURATION, AITRACK_API_1_0},
	{"status", AI_STATUS, METRIC_STATUS, AITRACK_API_1_0},
	{"extra", AI_EXTRA, METRIC_EXTRA, AITRACK_API_1_0},
	{"cache_read_input_tokens", AI_CACHE_READ_INPUT_TOKENS, METRIC_COUNT, AITRACK_API_1_1},
	{"cache_creation_input_tokens", AI_CACHE_CREATION_INPUT_TOKENS, METRIC_COUNT, AITRACK_API_1_1},
	{"time_to_first_token_ms", AI_TIME_TO_FIRST_TOKEN_MS, METRIC_DURATION, AITRACK_API_1_1},
};

/* The keys of a record_ai_calls() element besides the metrics keys. */
static const MetricKey element_keys[] = {
	{"modelname", AI_MODELNAME, METRIC_TEXT, AITRACK_API_1_2},
	{"version", AI_VERSION, METRIC_TEXT, AITRACK_API_1_2},
	{"prompt", AI_PROMPT, METRIC_TEXT, AITRACK_API_1_2},
	{"response", AI_RESPONSE, METRIC_JSON, AITRACK_API_1_2},
	{"call_type", AI_CALL_TYPE, METRIC_TEXT, AITRACK_API_1_2},
	{"user_id", AI_USER_ID, METRIC_UUID, AITRACK_API_1_2},
	{"created_at", AI_CREATED_AT, METRIC_TIMESTAMP, AITRACK_API_1_2},
};

/* "Valid keys are: ..." for the keys this version knows. */
static char *
valid_keys_hint(AitrackApi api, bool element)
{
	StringInfoData hint;

	initStringInfo(&hint);
	appendStringInfoString(&hint, "Valid keys are: ");
	if (element)
		for (size_t i = 0; i < lengthof(element_keys); i++)
			appendStringInfo(&hint, "%s, ", element_keys[i].name);
	for (size_t i = 0; i < lengthof(metric_keys); i++)
		if (metric_keys[i].since <= api)
			appendStringInfo(&hint, "%s%s", i > 0 ? ", " : "", metric_keys[i].name);
	appendStringInfoChar(&hint, '.');
	return hint.data;
}

static const MetricKey *
find_metric_key(const char *name, AitrackApi api, bool element)
{
	if (element)
		for (size_t i = 0; i < lengthof(element_keys); i++)
			if (strcmp(name, element_keys[i].name) == 0)
				return &element_keys[i];
	for (size_t i = 0; i < lengthof(metric_keys); i++)
		if (metric_keys[i].since <= api && strcmp(name, metric_keys[i].name) == 0)
			return &metric_keys[i];
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown key \"%s\" in %s", name, element ? "call" : "metrics"),
			 errhint("%s", valid_keys_hint(api, element))));
	pg_unreachable();
}

static Datum
metric_value(const MetricKey *key, JsonbValue *value)
{
	switch (key->kind)
	{
		case METRIC_COUNT:
			return metric_integer(key->name, value, false);
		case METRIC_DURATION:
			/* Clients measure time as floats; a millisecond is precise enough. */
			return metric_integer(key->name, value, true);
		case METRIC_COST:
			if (value->type != jbvNumeric)
				wrong_type(key->name, "a number", value);
			return NumericGetDatum(value->val.numeric);
		case METRIC_STATUS:
			if (value->type != jbvString)
				wrong_type(key->name, "a string", value);
			return PointerGetDatum(cstring_to_text_with_len(value->val.string.val,
															value->val.string.len));
		case METRIC_EXTRA:
			if (value->type != jbvBinary ||
				!JsonContainerIsObject(value->val.binary.data))
				wrong_type(key->name, "an object", value);
			return JsonbPGetDatum(JsonbValueToJsonb(value));
		case METRIC_TEXT:
			if (value->type != jbvString)
				wrong_type(key->name, "a string", value);
			return PointerGetDatum(cstring_to_text_with_len(value->val.string.val,
															value->val.string.len));
		case METRIC_JSON:
			return JsonbPGetDatum(JsonbValueToJsonb(value));
		case METRIC_UUID:
		case METRIC_TIMESTAMP:
			if (value->type != jbvString)
				wrong_type(key->name, "a string", value);
			/* The type's own input function says what is wrong, if anything. */
			return key->kind == METRIC_UUID ?
				DirectFunctionCall1(uuid_in,
									CStringGetDatum(pnstrdup(value->val.string.val,
															 value->val.string.len))) :
				DirectFunctionCall3(timestamptz_in,
									CStringGetDatum(pnstrdup(value->val.string.val,
															 value->val.string.len)),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	elog(ERROR, "unexpected metric kind %d", (int) key->kind);
	pg_unreachable();
}

/* Apply the keys of an object to a call; element: a record_ai_calls() element. */
static void
apply_keys(AiCall *call, JsonbContainer *object, AitrackApi api, bool element)
{
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	value;
	JsonbIteratorToken token;

	it = JsonbIteratorInit(object);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		const MetricKey *metric;

		if (token != WJB_KEY)
			continue;
		metric = find_metric_key(pnstrdup(key.val.string.val, key.val.string.len),
								 api, element);
		token = JsonbIteratorNext(&it, &value, true);
		Assert(token == WJB_VALUE);

		/* not given: keep the default (a JSON null response is a response) */
		if (value.type == jbvNull && metric->kind != METRIC_JSON)
			continue;
		call->values[metric->field] = metric_value(metric, &value);
		call->isnull[metric->field] = false;
	}
}

/*
 * Overwrite the fields of call named in metrics (a jsonb object).  The
 * caller has set the defaults (status 'success', extra {}) beforehand.
 */
void
ai_call_apply_metrics(AiCall *call, Datum metrics_datum, AitrackApi api)
{
	Jsonb	   *metrics = DatumGetJsonbP(metrics_datum);

	if (!JB_ROOT_IS_OBJECT(metrics))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metrics must be a JSON object"),
				 errdetail("Got a JSON %s.",
						   TextDatumGetCString(DirectFunctionCall1(jsonb_typeof,
																   metrics_datum))),
				 errhint("%s", valid_keys_hint(api, false))));
	apply_keys(call, &metrics->root, api, false);
}

/*
 * Fill a call from one element of record_ai_calls()'s array: the columns of
 * the explicit form of record_ai_call(), plus created_at.
 */
void
ai_call_apply_object(AiCall *call, JsonbContainer *object)
{
	apply_keys(call, object, AITRACK_API_1_2, true);
}
