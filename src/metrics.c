/*
 * metrics.c
 *		Reads the seed's metrics object, or an element of record_ai_calls()'s
 *		array, into a call; the keys each takes are in ai_call_fields.h.
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

#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* "object", "array", "string", ...: a JSON value's type, for messages. */
const char *
ai_json_type_name(JsonbValue *value)
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
			 errdetail("Got a JSON %s.", ai_json_type_name(value))));
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

/*
 * 1.7's tags: a JSON array of strings, as a text[] (validate.c checks and
 * normalizes it).  A JSON null element is refused here: SQL's NULL tag is
 * refused too, and the message can say where it is.
 */
static Datum
metric_text_array(const char *key, JsonbValue *value)
{
	JsonbContainer *array;
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken token;
	Datum	   *elems;
	int			nelems;
	int			n = 0;

	if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data))
		wrong_type(key, "an array of strings", value);
	array = value->val.binary.data;
	nelems = JsonContainerSize(array);
	elems = palloc(sizeof(Datum) * Max(nelems, 1));
	it = JsonbIteratorInit(array);
	while ((token = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		if (token != WJB_ELEM)
			continue;
		if (elem.type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("metrics key \"%s\" must be an array of strings", key),
					 errdetail("Tag %d (counting from 0) is a JSON %s.",
							   n, ai_json_type_name(&elem))));
		elems[n++] = PointerGetDatum(cstring_to_text_with_len(elem.val.string.val,
															  elem.val.string.len));
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * The keys come from ai_call_fields.h: a metrics object takes the fields
 * marked metrics_key that the API version has; an element of
 * record_ai_calls() takes every field with a key kind.  Hints list the
 * element-only keys first, then the metrics keys, each in list order.
 */
static bool
is_key(AiCallField field, AitrackApi api, bool element)
{
	const AiCallFieldInfo *info = &ai_call_fields[field];

	if (info->key_kind == AI_KEY_NONE)
		return false;
	if (info->metrics_key)
		return info->since <= api;
	return element;
}

/* "Valid keys are: ..." for the keys this version knows. */
static char *
valid_keys_hint(AitrackApi api, bool element)
{
	StringInfoData hint;
	bool		first = true;

	initStringInfo(&hint);
	appendStringInfoString(&hint, "Valid keys are: ");
	for (int pass = 0; pass < 2; pass++)
		for (int field = 0; field < AI_NUM_FIELDS; field++)
			if (is_key(field, api, element) &&
				ai_call_fields[field].metrics_key == (pass == 1))
			{
				appendStringInfo(&hint, "%s%s", first ? "" : ", ",
								 ai_call_field_name(field));
				first = false;
			}
	appendStringInfoChar(&hint, '.');
	return hint.data;
}

static AiCallField
find_key(const char *name, AitrackApi api, bool element)
{
	for (int field = 0; field < AI_NUM_FIELDS; field++)
		if (is_key(field, api, element) &&
			strcmp(name, ai_call_field_name(field)) == 0)
			return field;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown key \"%s\" in %s", name, element ? "call" : "metrics"),
			 errhint("%s", valid_keys_hint(api, element))));
	pg_unreachable();
}

static Datum
key_value(AiCallField field, JsonbValue *value)
{
	const char *name = ai_call_field_name(field);
	AiKeyKind	kind = ai_call_fields[field].key_kind;

	switch (kind)
	{
		case AI_KEY_NONE:
			break;
		case AI_KEY_COUNT:
			return metric_integer(name, value, false);
		case AI_KEY_DURATION:
			/* Clients measure time as floats; a millisecond is precise enough. */
			return metric_integer(name, value, true);
		case AI_KEY_COST:
			if (value->type != jbvNumeric)
				wrong_type(name, "a number", value);
			return NumericGetDatum(value->val.numeric);
		case AI_KEY_TEXT:
			if (value->type != jbvString)
				wrong_type(name, "a string", value);
			return PointerGetDatum(cstring_to_text_with_len(value->val.string.val,
															value->val.string.len));
		case AI_KEY_OBJECT:
			if (value->type != jbvBinary ||
				!JsonContainerIsObject(value->val.binary.data))
				wrong_type(name, "an object", value);
			return JsonbPGetDatum(JsonbValueToJsonb(value));
		case AI_KEY_JSON:
			return JsonbPGetDatum(JsonbValueToJsonb(value));
		case AI_KEY_TEXT_ARRAY:
			return metric_text_array(name, value);
		case AI_KEY_UUID:
		case AI_KEY_TIMESTAMP:
			if (value->type != jbvString)
				wrong_type(name, "a string", value);
			/* The type's own input function says what is wrong, if anything. */
			return kind == AI_KEY_UUID ?
				DirectFunctionCall1(uuid_in,
									CStringGetDatum(pnstrdup(value->val.string.val,
															 value->val.string.len))) :
				DirectFunctionCall3(timestamptz_in,
									CStringGetDatum(pnstrdup(value->val.string.val,
															 value->val.string.len)),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	elog(ERROR, "unexpected key kind %d", (int) kind);
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
		AiCallField field;
		char	   *name;

		if (token != WJB_KEY)
			continue;
		name = pnstrdup(key.val.string.val, key.val.string.len);
		field = find_key(name, api, element);
		pfree(name);
		token = JsonbIteratorNext(&it, &value, true);
		Assert(token == WJB_VALUE);

		/* not given: keep the default (a JSON null response is a response) */
		if (value.type == jbvNull && ai_call_fields[field].key_kind != AI_KEY_JSON)
			continue;
		call->values[field] = key_value(field, &value);
		call->isnull[field] = false;
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
ai_call_apply_object(AiCall *call, JsonbContainer *object, AitrackApi api)
{
	apply_keys(call, object, api, true);
}
