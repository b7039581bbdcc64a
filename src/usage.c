/*
 * usage.c
 *		Reads token counts from the usage object a provider put in its
 *		response, for calls recorded without them.
 *
 * aitrack counts tokens as the OpenTelemetry GenAI conventions do: cache
 * reads and cache writes are part of input_tokens, reasoning tokens part of
 * output_tokens.  Each provider's usage object maps onto that:
 *
 *	OpenAI chat completions		usage.prompt_tokens, completion_tokens,
 *								prompt_tokens_details.cached_tokens,
 *								completion_tokens_details.reasoning_tokens
 *	OpenAI responses API		usage.input_tokens, output_tokens,
 *								input_tokens_details.cached_tokens,
 *								output_tokens_details.reasoning_tokens
 *	Anthropic messages			usage.input_tokens, output_tokens,
 *								cache_read_input_tokens,
 *								cache_creation_input_tokens; its input_tokens
 *								leaves the cache tokens out, so they are added
 *	Google Gemini				usageMetadata.promptTokenCount (+ tool-use
 *								prompt tokens), candidatesTokenCount +
 *								thoughtsTokenCount, cachedContentTokenCount
 *
 * A count that is not a whole number from 0 to 2^31-1 is taken as not
 * reported, and so are cache or reasoning counts that exceed the input or
 * output count they belong to: the response is the provider's document, and
 * a call is worth recording even when its usage object is odd.
 */
#include "aitrack.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

/* The token fields; if the caller gave any of them, the response is not read. */
static const AiCallField token_fields[] = {
	AI_INPUT_TOKENS, AI_REASONING_TOKENS, AI_OUTPUT_TOKENS,
	AI_CACHE_READ_INPUT_TOKENS, AI_CACHE_CREATION_INPUT_TOKENS
};

bool
ai_call_has_token_counts(AiCall *call)
{
	for (size_t i = 0; i < lengthof(token_fields); i++)
		if (!call->isnull[token_fields[i]])
			return true;
	return false;
}

/* The object under key in container, or NULL. */
static JsonbContainer *
get_object(JsonbContainer *container, const char *key)
{
	JsonbValue	value;

	if (container == NULL ||
		getKeyJsonValueFromContainer(container, key, strlen(key), &value) == NULL)
		return NULL;
	if (value.type != jbvBinary || !JsonContainerIsObject(value.val.binary.data))
		return NULL;
	return value.val.binary.data;
}

/* The count under key in container, or -1 when absent or not a count. */
static int64
get_count(JsonbContainer *container, const char *key)
{
	JsonbValue	value;
	Datum		num;
	bool		overflow = false;
	int32		count;

	if (container == NULL ||
		getKeyJsonValueFromContainer(container, key, strlen(key), &value) == NULL ||
		value.type != jbvNumeric)
		return -1;
	num = NumericGetDatum(value.val.numeric);
	if (!DatumGetBool(DirectFunctionCall2(numeric_eq, num,
										  DirectFunctionCall2(numeric_trunc, num,
															  Int32GetDatum(0)))))
		return -1;
	count = numeric_int4_opt_error(value.val.numeric, &overflow);
	if (overflow || count < 0)
		return -1;
	return count;
}

/* a + b where -1 means unknown: unknown only if both are. */
static int64
add_counts(int64 a, int64 b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a + b;
}

static void
set_count(AiCall *call, AiCallField field, int64 count)
{
	if (count < 0 || count > PG_INT32_MAX)
		return;
	call->values[field] = Int32GetDatum((int32) count);
	call->isnull[field] = false;
}

/*
 * Fill the call's token fields from its response's usage object.  Returns
 * false, leaving the call alone, if the response has none we know.
 */
bool
ai_call_usage_from_response(AiCall *call)
{
	Jsonb	   *response = DatumGetJsonbP(call->values[AI_RESPONSE]);
	JsonbContainer *usage;
	int64		input = -1;
	int64		output = -1;
	int64		cache_read = -1;
	int64		cache_creation = -1;
	int64		reasoning = -1;

	if (!JB_ROOT_IS_OBJECT(response))
		return false;

	if ((usage = get_object(&response->root, "usageMetadata")) != NULL)
	{
		/*
		 * Gemini: thoughts are billed as output but counted apart.  Its
		 * JSON leaves out counts that are zero (proto3), so once the prompt
		 * count is there, missing candidates mean no output at all (the
		 * cache and thought counts may stay unknown: they cost 0 either way).
		 */
		input = get_count(usage, "promptTokenCount");
		if (input >= 0)
		{
			input += Max(get_count(usage, "toolUsePromptTokenCount"), 0);
			reasoning = get_count(usage, "thoughtsTokenCount");
			output = Max(get_count(usage, "candidatesTokenCount"), 0) + Max(reasoning, 0);
			cache_read = get_count(usage, "cachedContentTokenCount");
		}
	}
	else if ((usage = get_object(&response->root, "usage")) != NULL)
	{
		if (get_count(usage, "prompt_tokens") >= 0 ||
			get_count(usage, "completion_tokens") >= 0)
		{
			/* OpenAI chat completions */
			input = get_count(usage, "prompt_tokens");
			output = get_count(usage, "completion_tokens");
			cache_read = get_count(get_object(usage, "prompt_tokens_details"),
								   "cached_tokens");
			reasoning = get_count(get_object(usage, "completion_tokens_details"),
								  "reasoning_tokens");
		}
		else
		{
			/*
			 * OpenAI's responses API and Anthropic share input_tokens and
			 * output_tokens.  Anthropic's cache counts sit beside its
			 * input_tokens (and are added to it); OpenAI's cached tokens sit
			 * inside input_tokens_details (and are already counted in it).
			 */
			int64		anthropic_read = get_count(usage, "cache_read_input_tokens");
			int64		anthropic_write = get_count(usage, "cache_creation_input_tokens");

			input = get_count(usage, "input_tokens");
			output = get_count(usage, "output_tokens");
			if (input >= 0)
				input = add_counts(add_counts(input, anthropic_read), anthropic_write);
			cache_read = add_counts(anthropic_read,
									get_count(get_object(usage, "input_tokens_details"),
											  "cached_tokens"));
			cache_creation = anthropic_write;
			reasoning = get_count(get_object(usage, "output_tokens_details"),
								  "reasoning_tokens");
		}
	}
	else
		return false;

	if (input < 0 && output < 0)
		return false;

	/*
	 * Parts that exceed their whole (or a whole that overflowed) cannot be
	 * placed: keep the whole, drop the parts, rather than refuse the call.
	 */
	if (input < 0 || input > PG_INT32_MAX ||
		Max(cache_read, 0) + Max(cache_creation, 0) > input)
		cache_read = cache_creation = -1;
	if (output < 0 || output > PG_INT32_MAX || reasoning > output)
		reasoning = -1;
	set_count(call, AI_INPUT_TOKENS, input);
	set_count(call, AI_OUTPUT_TOKENS, output);
	set_count(call, AI_CACHE_READ_INPUT_TOKENS, cache_read);
	set_count(call, AI_CACHE_CREATION_INPUT_TOKENS, cache_creation);
	set_count(call, AI_REASONING_TOKENS, reasoning);
	return true;
}
