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
	METRIC_EXTRA				/* object */
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

/* "Valid keys are: ..." for the keys this version knows. */
static char *
valid_keys_hint(AitrackApi api)
{
	StringInfoData hint;

	initStringInfo(&hint);
	appendStringInfoString(&hint, "Valid keys are: ");
	for (size_t i = 0; i < lengthof(metric_keys); i++)
		if (metric_keys[i].since <= api)
			appendStringInfo(&hint, "%s%s", i > 0 ? ", " : "", metric_keys[i].name);
	appendStringInfoChar(&hint, '.');
	return hint.data;
}

static const MetricKey *
find_metric_key(const char *name, AitrackApi api)
{
	for (size_t i = 0; i < lengthof(metric_keys); i++)
		if (metric_keys[i].since <= api && strcmp(name, metric_keys[i].name) == 0)
			return &metric_keys[i];
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown key \"%s\" in metrics", name),
			 errhint("%s", valid_keys_hint(api))));
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
	}
	elog(ERROR, "unexpected metric kind %d", (int) key->kind);
	pg_unreachable();
}

/*
 * Overwrite the fields of call named in metrics (a jsonb object).  The
 * caller has set the defaults (status 'success', extra {}) beforehand.
 */
void
ai_call_apply_metrics(AiCall *call, Datum metrics_datum, AitrackApi api)
{
	Jsonb	   *metrics = DatumGetJsonbP(metrics_datum);
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	value;
	JsonbIteratorToken token;

	if (!JB_ROOT_IS_OBJECT(metrics))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metrics must be a JSON object"),
				 errdetail("Got a JSON %s.",
						   TextDatumGetCString(DirectFunctionCall1(jsonb_typeof,
																   metrics_datum))),
				 errhint("%s", valid_keys_hint(api))));

	it = JsonbIteratorInit(&metrics->root);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		const MetricKey *metric;

		if (token != WJB_KEY)
			continue;
		metric = find_metric_key(pnstrdup(key.val.string.val, key.val.string.len),
								 api);
		token = JsonbIteratorNext(&it, &value, true);
		Assert(token == WJB_VALUE);

		if (value.type == jbvNull)
			continue;			/* not given: keep the default */
		call->values[metric->field] = metric_value(metric, &value);
		call->isnull[metric->field] = false;
	}
}
