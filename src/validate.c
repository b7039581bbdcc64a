/*
 * validate.c
 *		Checks one call's values before anything is written.
 *
 * Every rule here but one has a CHECK constraint twin in the install and
 * upgrade scripts, so a row written by hand obeys the same rules (the
 * exception: reasoning_tokens within output_tokens, new in 1.1, which rows
 * recorded by 1.0 may break); the checks are repeated in C to
 * give an error a caller can act on (which argument, what it got, what is
 * allowed) instead of a constraint name, and to refuse before any SPI work.
 */
#include "aitrack.h"

#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

static const char *const valid_statuses[] = {
	"success", "error", "timeout", "cancelled", "rate_limited", "filtered"
};

#define VALID_STATUSES_HINT \
	"Valid statuses are: success, error, timeout, cancelled, rate_limited, filtered."

static void
require_not_null(AiCall *call, AiCallField field, const char *hint)
{
	if (call->isnull[field])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", ai_call_field_name(field)),
				 hint ? errhint("%s", hint) : 0));
}

/* A short label: non-empty and at most AITRACK_MAX_NAME_CHARS characters. */
static void
check_label(AiCall *call, AiCallField field)
{
	text	   *value;
	int			chars;

	if (call->isnull[field])
		return;
	value = DatumGetTextPP(call->values[field]);
	if (VARSIZE_ANY_EXHDR(value) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", ai_call_field_name(field))));
	chars = pg_mbstrlen_with_len(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	if (chars > AITRACK_MAX_NAME_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", ai_call_field_name(field)),
				 errdetail("It has %d characters; the limit is %d.",
						   chars, AITRACK_MAX_NAME_CHARS)));
}

static void
check_count(AiCall *call, AiCallField field)
{
	int32		count;

	if (call->isnull[field])
		return;
	count = DatumGetInt32(call->values[field]);
	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must not be negative", ai_call_field_name(field)),
				 errdetail("Got %d.", count)));
}

/*
 * The largest cost_usd of one call, as the constraint ai_call_cost_usd_range
 * has it: far beyond any real call (the dearest models cost a few hundred
 * USD per million tokens), and small enough that sums over any number of
 * calls stay ordinary numbers.
 */
#define AITRACK_MAX_COST_USD "1000000000"

/* A number for a message: absurd ones (9e131071 has 131072 digits) cut short. */
static const char *
abbreviated(const char *digits)
{
	size_t		len = strlen(digits);

	if (len <= 40)
		return digits;
	return psprintf("%.20s... (%zu digits)", digits, len);
}

void
ai_call_check_cost(AiCall *call, bool computed)
{
	Numeric		cost;

	if (call->isnull[AI_COST_USD])
		return;
	cost = DatumGetNumeric(call->values[AI_COST_USD]);
	if (numeric_is_nan(cost) || numeric_is_inf(cost))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cost_usd must be a finite number"),
				 errdetail("Got %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(cost)))),
				 errhint("Pass NULL when the cost is unknown.")));
	if (DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(cost),
										 NumericGetDatum(int64_to_numeric(0)))))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cost_usd must not be negative"),
				 errdetail("Got %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out,
															   NumericGetDatum(cost))))));
	if (DatumGetBool(DirectFunctionCall2(numeric_gt, NumericGetDatum(cost),
										 DirectFunctionCall3(numeric_in,
															 CStringGetDatum(AITRACK_MAX_COST_USD),
															 ObjectIdGetDatum(InvalidOid),
															 Int32GetDatum(-1)))))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", computed ? "the computed cost" : "cost_usd"),
				 errdetail("Got %s; a call's cost must be at most " AITRACK_MAX_COST_USD " USD.",
						   abbreviated(DatumGetCString(DirectFunctionCall1(numeric_out,
																		   NumericGetDatum(cost))))),
				 computed ? errhint("Check the token counts and the price in ai_model_price.") :
				 errhint("cost_usd is in US dollars, not cents or micro-dollars.")));
}

/* A string for a message: a long one cut short, with its length. */
static const char *
abbreviated_text(const char *s)
{
	int			len = strlen(s);

	if (len <= 40)
		return s;
	return psprintf("%.*s... (%d characters)", pg_mbcharcliplen(s, len, 20), s,
					pg_mbstrlen_with_len(s, len));
}

static void
check_status_name(const char *status)
{
	for (size_t i = 0; i < lengthof(valid_statuses); i++)
		if (strcmp(status, valid_statuses[i]) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown status \"%s\"", status),
			 errhint(VALID_STATUSES_HINT)));
}

static void
check_extra(AiCall *call)
{
	Jsonb	   *extra;

	/* The seed defaults extra to {}; an explicit NULL means the same. */
	if (call->isnull[AI_EXTRA])
	{
		call->values[AI_EXTRA] = DirectFunctionCall1(jsonb_in,
													 CStringGetDatum("{}"));
		call->isnull[AI_EXTRA] = false;
		return;
	}
	extra = DatumGetJsonbP(call->values[AI_EXTRA]);
	if (!JB_ROOT_IS_OBJECT(extra))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("extra must be a JSON object"),
				 errdetail("Got a JSON %s.",
						   TextDatumGetCString(DirectFunctionCall1(jsonb_typeof,
																   JsonbPGetDatum(extra)))),
				 errhint("Wrap the value in an object, for example {\"value\": ...}.")));
}

/*
 * 1.1 counts cache tokens inside input_tokens and reasoning tokens inside
 * output_tokens (as OpenAI's usage object and the OpenTelemetry GenAI
 * conventions do); a call whose parts exceed the whole would be priced
 * wrong, so it is refused.
 */
#define NO_FIELD AI_NUM_FIELDS

static void
check_part_within(AiCall *call, AiCallField part1, AiCallField part2,
				  AiCallField whole, const char *hint)
{
	int64		parts = 0;

	if (call->isnull[whole])
		return;
	if (!call->isnull[part1])
		parts += DatumGetInt32(call->values[part1]);
	if (part2 != NO_FIELD && !call->isnull[part2])
		parts += DatumGetInt32(call->values[part2]);
	if (parts > DatumGetInt32(call->values[whole]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s%s%s exceed%s %s",
						ai_call_field_name(part1),
						part2 != NO_FIELD ? " and " : "",
						part2 != NO_FIELD ? ai_call_field_name(part2) : "",
						part2 != NO_FIELD ? "" : "s",
						ai_call_field_name(whole)),
				 part2 != NO_FIELD ?
				 errdetail("%s is %d; %s and %s add up to " INT64_FORMAT ".",
						   ai_call_field_name(whole),
						   DatumGetInt32(call->values[whole]),
						   ai_call_field_name(part1), ai_call_field_name(part2),
						   parts) :
				 errdetail("%s is %d; %s is " INT64_FORMAT ".",
						   ai_call_field_name(whole),
						   DatumGetInt32(call->values[whole]),
						   ai_call_field_name(part1), parts),
				 errhint("%s", hint)));
}

/*
 * 1.5: a part's whole: a NULL whole (input or output unknown) leaves the
 * part unchecked, as check_part_within does.
 */
static void
check_parts_sum(AiCall *call, const AiCallField *plus, int nplus, AiCallField minus,
				AiCallField whole, const char *hint)
{
	int64		parts = 0;
	StringInfoData names;

	if (call->isnull[whole])
		return;
	initStringInfo(&names);
	for (int i = 0; i < nplus; i++)
	{
		if (!call->isnull[plus[i]])
			parts += DatumGetInt32(call->values[plus[i]]);
		appendStringInfo(&names, "%s%s", i == 0 ? "" : " + ", ai_call_field_name(plus[i]));
	}
	if (minus != NO_FIELD)
	{
		if (!call->isnull[minus])
			parts -= DatumGetInt32(call->values[minus]);
		appendStringInfo(&names, " - %s", ai_call_field_name(minus));
	}
	if (parts > DatumGetInt32(call->values[whole]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the parts of %s exceed it", ai_call_field_name(whole)),
				 errdetail("%s is %d; %s is " INT64_FORMAT ".",
						   ai_call_field_name(whole), DatumGetInt32(call->values[whole]),
						   names.data, parts),
				 errhint("%s", hint)));
}

/* A name from a fixed set; service_tier 'default' (OpenAI's) becomes 'standard'. */
static void
check_choice(AiCall *call, AiCallField field, const char *const *names, int nnames,
			 const char *hint)
{
	char	   *value;

	if (call->isnull[field])
		return;
	value = text_to_cstring(DatumGetTextPP(call->values[field]));
	if (field == AI_SERVICE_TIER && strcmp(value, "default") == 0)
	{
		ai_call_set_text(call, field, "standard");
		return;
	}
	for (int i = 0; i < nnames; i++)
		if (strcmp(value, names[i]) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown %s \"%s\"", ai_call_field_name(field), abbreviated_text(value)),
			 errhint("%s", hint)));
}

/* provider: OpenTelemetry's gen_ai.provider.name spelling, as the CHECK has it. */
static void
check_provider(AiCall *call)
{
	char	   *value;
	size_t		len;
	bool		ok;

	if (call->isnull[AI_PROVIDER])
		return;
	value = text_to_cstring(DatumGetTextPP(call->values[AI_PROVIDER]));
	len = strlen(value);
	ok = len >= 1 && len <= 64 &&
		((value[0] >= 'a' && value[0] <= 'z') || (value[0] >= '0' && value[0] <= '9'));
	for (size_t i = 1; ok && i < len; i++)
		ok = (value[i] >= 'a' && value[i] <= 'z') || (value[i] >= '0' && value[i] <= '9') ||
			value[i] == '.' || value[i] == '_' || value[i] == '-';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid provider \"%s\"", abbreviated_text(value)),
				 errdetail("A provider is 1 to 64 lowercase letters, digits, dots, underscores and hyphens, starting with a letter or digit."),
				 errhint("Use OpenTelemetry's gen_ai.provider.name values: openai, anthropic, gcp.gemini, gcp.vertex_ai, aws.bedrock, azure.ai.openai, x_ai, deepseek, mistral_ai, ...")));
}

static void
validate_billed_apart(AiCall *call)
{
	static const AiCallField counts[] = {
		AI_CACHE_CREATION_1H_INPUT_TOKENS, AI_INPUT_AUDIO_TOKENS, AI_CACHE_READ_AUDIO_TOKENS,
		AI_INPUT_IMAGE_TOKENS, AI_OUTPUT_AUDIO_TOKENS, AI_OUTPUT_IMAGE_TOKENS,
		AI_WEB_SEARCH_REQUESTS
	};
	static const AiCallField input_parts[] = {
		AI_CACHE_READ_INPUT_TOKENS, AI_CACHE_CREATION_INPUT_TOKENS,
		AI_INPUT_AUDIO_TOKENS, AI_INPUT_IMAGE_TOKENS
	};
	static const AiCallField output_parts[] = {
		AI_REASONING_TOKENS, AI_OUTPUT_AUDIO_TOKENS, AI_OUTPUT_IMAGE_TOKENS
	};

	check_provider(call);
	check_choice(call, AI_SERVICE_TIER, ai_service_tier_names, AI_NUM_SERVICE_TIERS,
				 "Valid service tiers are: standard (or default), flex, priority, batch, scale.");
	check_choice(call, AI_WEB_SEARCH_CONTEXT_SIZE, ai_search_size_names, AI_NUM_SEARCH_SIZES,
				 "Valid sizes are: low, medium, high.");
	for (size_t i = 0; i < lengthof(counts); i++)
		check_count(call, counts[i]);
	/* Each part within its whole, as the CHECK ai_call_parts_within_whole_check has it. */
	if (!call->isnull[AI_CACHE_CREATION_1H_INPUT_TOKENS])
	{
		if (call->isnull[AI_CACHE_CREATION_INPUT_TOKENS])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cache_creation_1h_input_tokens needs cache_creation_input_tokens"),
					 errhint("cache_creation_input_tokens counts every cache write, the 1-hour ones included.")));
		check_part_within(call, AI_CACHE_CREATION_1H_INPUT_TOKENS, NO_FIELD,
						  AI_CACHE_CREATION_INPUT_TOKENS,
						  "cache_creation_input_tokens counts every cache write, the 1-hour ones included.");
	}
	if (!call->isnull[AI_CACHE_READ_AUDIO_TOKENS])
	{
		if (call->isnull[AI_CACHE_READ_INPUT_TOKENS] || call->isnull[AI_INPUT_AUDIO_TOKENS])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cache_read_audio_tokens needs cache_read_input_tokens and input_audio_tokens"),
					 errhint("Cached audio tokens are counted in both.")));
		check_part_within(call, AI_CACHE_READ_AUDIO_TOKENS, NO_FIELD, AI_CACHE_READ_INPUT_TOKENS,
						  "cache_read_input_tokens counts every cached token, audio ones included.");
		check_part_within(call, AI_CACHE_READ_AUDIO_TOKENS, NO_FIELD, AI_INPUT_AUDIO_TOKENS,
						  "input_audio_tokens counts every audio input token, cached ones included.");
	}
	check_parts_sum(call, input_parts, lengthof(input_parts), AI_CACHE_READ_AUDIO_TOKENS,
					AI_INPUT_TOKENS,
					"input_tokens counts every input token: cached, audio and image ones included "
					"(cached audio once).");
	check_parts_sum(call, output_parts, lengthof(output_parts), NO_FIELD, AI_OUTPUT_TOKENS,
					"output_tokens counts every output token: reasoning, audio and image ones included.");
}

/*
 * 1.7: attribution.  The CHECKs ai_call_project_check, ..._api_key_check
 * and ..._conversation_id_check: 1 to 200 characters, none of them a
 * control character; ai_call_tags_check: 1 to 64 tags of 1 to 100 such
 * characters; the trace ids of W3C trace context.
 */
#define AITRACK_MAX_LABEL_CHARS 200
#define AITRACK_MAX_TAGS 64
#define AITRACK_MAX_TAG_CHARS 100

/*
 * The first control character of a string: its position in characters
 * (from 1) and code point, or 0.  C0, DEL and C1 always; whatever else the
 * database's collation calls [[:cntrl:]] (what the CHECKs test, e.g. U+2028
 * under glibc) through the same regular expression.
 */
static int
find_control_char(const char *s, int len, pg_wchar *code)
{
	int			pos = 1;
	const char *p = s;
	const char *end = s + len;

	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;

	while (p < end)
	{
		int			clen = pg_mblen(p);
		pg_wchar	c;

		/* In another encoding, only its ASCII bytes are known code points. */
		if (utf8)
			c = utf8_to_unicode((const unsigned char *) p);
		else
			c = clen == 1 ? (unsigned char) *p : 0x20;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
		{
			*code = c;
			return pos;
		}
		p += clen;
		pos++;
	}
	/* What else the collation's [[:cntrl:]] holds: found, but not placed. */
	if (DatumGetBool(DirectFunctionCall2Coll(textregexeq, DEFAULT_COLLATION_OID,
											 PointerGetDatum(cstring_to_text_with_len(s, len)),
											 CStringGetTextDatum("[[:cntrl:]]"))))
	{
		*code = 0;
		return -1;
	}
	return 0;
}

static void
control_char_detail(const char *what, int pos, pg_wchar code)
{
	if (pos > 0)
		errdetail("%s has the control character U+%04X at character %d.", what, code, pos);
	else
		errdetail("%s has a character that the database's collation classes as a control character.",
				  what);
}

/* project, api_key, conversation_id: 1 to 200 characters, no control character. */
static void
check_attribution_label(AiCall *call, AiCallField field)
{
	const char *name = ai_call_field_name(field);
	text	   *value;
	const char *s;
	int			len;
	int			chars;
	int			pos;
	pg_wchar	code;

	if (call->isnull[field])
		return;
	value = DatumGetTextPP(call->values[field]);
	s = VARDATA_ANY(value);
	len = VARSIZE_ANY_EXHDR(value);
	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", name),
				 errhint("Pass NULL when the call has no %s.", name)));
	chars = pg_mbstrlen_with_len(s, len);
	if (chars > AITRACK_MAX_LABEL_CHARS)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("%s is too long", name),
				 errdetail("It has %d characters; the limit is %d.",
						   chars, AITRACK_MAX_LABEL_CHARS)));
	pos = find_control_char(s, len, &code);
	if (pos != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not contain control characters", name),
				 control_char_detail("It", pos, code),
				 errhint("%s is a label of 1 to %d characters, without tabs, newlines or other control characters.",
						 name, AITRACK_MAX_LABEL_CHARS)));
}

/*
 * The prefixes of secret API keys (OpenAI sk-, Anthropic sk-ant-, Stripe-
 * style sk_ and rk_, Google AIza, xAI xai-, Groq gsk_, Hugging Face hf_), as
 * ai_call_api_key_check has them.  The value is never echoed.
 */
static const char *const secret_key_prefixes[] = {
	"sk-", "sk_", "rk_", "AIza", "xai-", "gsk_", "hf_"
};

static void
check_api_key(AiCall *call)
{
	text	   *value;

	check_attribution_label(call, AI_API_KEY);
	if (call->isnull[AI_API_KEY])
		return;
	value = DatumGetTextPP(call->values[AI_API_KEY]);
	for (size_t i = 0; i < lengthof(secret_key_prefixes); i++)
	{
		size_t		plen = strlen(secret_key_prefixes[i]);

		if ((size_t) VARSIZE_ANY_EXHDR(value) >= plen &&
			memcmp(VARDATA_ANY(value), secret_key_prefixes[i], plen) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("api_key looks like a secret API key"),
					 errdetail("It starts with \"%s\", as secret keys do; aitrack does not store secrets.",
							   secret_key_prefixes[i]),
					 errhint("Store a label for the key (its name in the provider's console) or a hash of it, "
							 "such as encode(sha256(convert_to(key, 'UTF8')), 'hex').")));
	}
}

/*
 * tags: a one-dimensional text[] of 1 to 64 tags, each 1 to 100 characters
 * without control characters, no NULL; duplicates are dropped, keeping the
 * first of each in order.  The call gets the normalized array (lower bound
 * 1), which is what ai_call_tags_check then sees.
 */
static void
check_tags(AiCall *call)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Datum		kept[AITRACK_MAX_TAGS];
	int			nkept = 0;

	if (call->isnull[AI_TAGS])
		return;
	array = DatumGetArrayTypeP(call->values[AI_TAGS]);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tags must be a one-dimensional array"),
				 errdetail("It has %d dimensions.", ARR_NDIM(array)),
				 errhint("Pass a list of tags, such as ARRAY['beta', 'checkout'].")));
	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);
	if (nelems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tags must not be empty"),
				 errhint("Pass NULL when the call has no tags.")));
	for (int i = 0; i < nelems; i++)
	{
		text	   *tag;
		const char *s;
		int			len;
		int			chars;
		int			pos;
		pg_wchar	code;
		bool		duplicate = false;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("tags must not contain NULL"),
					 errdetail("Tag %d (counting from 1) is NULL.", i + 1)));
		tag = DatumGetTextPP(elems[i]);
		s = VARDATA_ANY(tag);
		len = VARSIZE_ANY_EXHDR(tag);
		if (len == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a tag must not be empty"),
					 errdetail("Tag %d (counting from 1) is an empty string.", i + 1)));
		chars = pg_mbstrlen_with_len(s, len);
		if (chars > AITRACK_MAX_TAG_CHARS)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("a tag is too long"),
					 errdetail("Tag %d (counting from 1) has %d characters; the limit is %d.",
							   i + 1, chars, AITRACK_MAX_TAG_CHARS)));
		pos = find_control_char(s, len, &code);
		if (pos != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a tag must not contain control characters"),
					 control_char_detail(psprintf("Tag %d (counting from 1)", i + 1), pos, code),
					 errhint("A tag is a label of 1 to %d characters, without tabs, newlines or other control characters.",
							 AITRACK_MAX_TAG_CHARS)));
		for (int k = 0; k < nkept && !duplicate; k++)
		{
			text	   *other = DatumGetTextPP(kept[k]);

			duplicate = (int) VARSIZE_ANY_EXHDR(other) == len &&
				memcmp(VARDATA_ANY(other), s, len) == 0;
		}
		if (duplicate)
			continue;
		if (nkept == AITRACK_MAX_TAGS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("too many tags"),
					 errdetail("Tag %d (counting from 1) is the %dth different one; the limit is %d.",
							   i + 1, AITRACK_MAX_TAGS + 1, AITRACK_MAX_TAGS),
					 errhint("Keep tags for the few labels calls are filtered by; put other details in extra.")));
		kept[nkept++] = PointerGetDatum(tag);
	}
	call->values[AI_TAGS] = PointerGetDatum(construct_array(kept, nkept, TEXTOID, -1, false,
															TYPALIGN_INT));
}

/*
 * A W3C trace context id (trace_id: 32 hex digits, span ids: 16), not all
 * zeros; uppercase digits are accepted and stored lowercase.
 */
static void
check_trace_id(AiCall *call, AiCallField field, int digits, const char *example)
{
	const char *name = ai_call_field_name(field);
	char	   *value;
	size_t		len;
	bool		ok;
	bool		zero = true;

	if (call->isnull[field])
		return;
	value = text_to_cstring(DatumGetTextPP(call->values[field]));
	len = strlen(value);
	ok = len == (size_t) digits;
	for (size_t i = 0; ok && i < len; i++)
	{
		char		c = value[i];

		if (c >= 'A' && c <= 'F')
			value[i] = c = c - 'A' + 'a';
		ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
		if (c != '0')
			zero = false;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s \"%s\"", name,
						abbreviated_text(text_to_cstring(DatumGetTextPP(call->values[field])))),
				 errdetail("A %s is %d hexadecimal digits, as W3C trace context writes it (such as %s).",
						   field == AI_TRACE_ID ? "trace id" : "span id", digits, example)));
	if (zero)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be all zeros", name),
				 errdetail("W3C trace context makes an all-zero %s invalid.",
						   field == AI_TRACE_ID ? "trace id" : "span id"),
				 errhint("Pass NULL when the call has no %s.", name)));
	ai_call_set_text(call, field, value);
}

static void
validate_attribution(AiCall *call)
{
	check_attribution_label(call, AI_PROJECT);
	check_api_key(call);
	check_tags(call);
	check_trace_id(call, AI_TRACE_ID, 32, "4bf92f3577b34da6a3ce929d0e0e4736");
	check_trace_id(call, AI_SPAN_ID, 16, "00f067aa0ba902b7");
	check_trace_id(call, AI_PARENT_SPAN_ID, 16, "00f067aa0ba902b7");
	if (call->isnull[AI_TRACE_ID] &&
		(!call->isnull[AI_SPAN_ID] || !call->isnull[AI_PARENT_SPAN_ID]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s needs trace_id",
						call->isnull[AI_SPAN_ID] ? "parent_span_id" : "span_id"),
				 errdetail("A span id names a span only within its trace."),
				 errhint("Give the trace id too (trace_id), or leave the span ids NULL.")));
	check_attribution_label(call, AI_CONVERSATION_ID);
}

/* created_at, given only to record_ai_calls(): a real moment. */
static void
check_created_at(AiCall *call)
{
	if (!call->isnull[AI_CREATED_AT] &&
		TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(call->values[AI_CREATED_AT])))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("created_at must be a finite time")));
}

/*
 * Check every field of a call; may replace a NULL extra with {}.  Raises the
 * first problem found, in argument order.
 */
void
ai_call_validate(AiCall *call, AitrackApi api)
{
	require_not_null(call, AI_MODELNAME, NULL);
	check_label(call, AI_MODELNAME);
	require_not_null(call, AI_VERSION,
					 "Use a fixed string such as 'latest' when the provider gives no version.");
	check_label(call, AI_VERSION);
	require_not_null(call, AI_PROMPT,
					 "Pass an empty string when the call had no prompt.");
	require_not_null(call, AI_RESPONSE,
					 "Pass 'null'::jsonb or an error object when the call had no response.");
	check_count(call, AI_INPUT_TOKENS);
	check_count(call, AI_REASONING_TOKENS);
	check_count(call, AI_OUTPUT_TOKENS);
	ai_call_check_cost(call, false);
	check_count(call, AI_DURATION_MS);
	check_label(call, AI_CALL_TYPE);
	require_not_null(call, AI_STATUS,
					 "Omit status to record 'success'. " VALID_STATUSES_HINT);
	check_status_name(text_to_cstring(DatumGetTextPP(call->values[AI_STATUS])));
	check_extra(call);
	if (api == AITRACK_API_1_0)
		return;

	check_count(call, AI_CACHE_READ_INPUT_TOKENS);
	check_count(call, AI_CACHE_CREATION_INPUT_TOKENS);
	check_count(call, AI_TIME_TO_FIRST_TOKEN_MS);
	check_part_within(call, AI_CACHE_READ_INPUT_TOKENS, AI_CACHE_CREATION_INPUT_TOKENS,
					  AI_INPUT_TOKENS,
					  "input_tokens counts every input token, cached ones included; "
					  "for Anthropic, add cache_read_input_tokens and cache_creation_input_tokens to its input_tokens.");
	check_part_within(call, AI_REASONING_TOKENS, NO_FIELD, AI_OUTPUT_TOKENS,
					  "output_tokens counts every output token, reasoning ones included, "
					  "as OpenAI's completion_tokens does; for Gemini, add thoughtsTokenCount to candidatesTokenCount.");
	check_created_at(call);
	if (api >= AITRACK_API_1_5)
		validate_billed_apart(call);
	if (api >= AITRACK_API_1_7)
		validate_attribution(call);
}
