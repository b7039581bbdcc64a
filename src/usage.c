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
 * 1.5 reads what is billed apart too (README's "Prices" has the list):
 *
 *	Anthropic					usage.cache_creation.ephemeral_1h_input_tokens
 *								(1-hour cache writes), usage.server_tool_use.
 *								web_search_requests, usage.service_tier
 *	OpenAI chat completions		service_tier; prompt_tokens_details.
 *								audio_tokens, image_tokens and cached_tokens_
 *								details.audio_tokens; completion_tokens_
 *								details.audio_tokens, image_tokens
 *	OpenAI responses / realtime	service_tier; input_tokens_details (or
 *								input_token_details) and output_tokens_details
 *								alike; one web search per web_search_call item
 *								of output
 *	Google Gemini				per-modality counts: promptTokensDetails,
 *								cacheTokensDetails, candidatesTokensDetails
 *								(AUDIO, IMAGE)
 *
 * Token counts are read all together, and only when the caller gave none;
 * the service tier and the web searches each when the caller did not give
 * them.  The provider follows from the response's shape (usage_provider).
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

/* The token fields; if the caller gave any of them, no count is read. */
static const AiCallField token_fields[] = {
	AI_INPUT_TOKENS, AI_REASONING_TOKENS, AI_OUTPUT_TOKENS,
	AI_CACHE_READ_INPUT_TOKENS, AI_CACHE_CREATION_INPUT_TOKENS,
	AI_CACHE_CREATION_1H_INPUT_TOKENS, AI_INPUT_AUDIO_TOKENS,
	AI_CACHE_READ_AUDIO_TOKENS, AI_INPUT_IMAGE_TOKENS,
	AI_OUTPUT_AUDIO_TOKENS, AI_OUTPUT_IMAGE_TOKENS
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


/* The string under key in container, or NULL. */
static char *
get_string(JsonbContainer *container, const char *key)
{
	JsonbValue	value;

	if (container == NULL ||
		getKeyJsonValueFromContainer(container, key, strlen(key), &value) == NULL ||
		value.type != jbvString)
		return NULL;
	return pnstrdup(value.val.string.val, value.val.string.len);
}

/* The array under key in container, or NULL. */
static JsonbContainer *
get_array(JsonbContainer *container, const char *key)
{
	JsonbValue	value;

	if (container == NULL ||
		getKeyJsonValueFromContainer(container, key, strlen(key), &value) == NULL)
		return NULL;
	if (value.type != jbvBinary || !JsonContainerIsArray(value.val.binary.data) ||
		JsonContainerIsScalar(value.val.binary.data))
		return NULL;
	return value.val.binary.data;
}

/*
 * Gemini's per-modality counts: an array of {"modality": "AUDIO",
 * "tokenCount": n}; the count of one modality, or -1.
 */
static int64
modality_count(JsonbContainer *details, const char *modality)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken token;
	int64		total = -1;

	if (details == NULL)
		return -1;
	it = JsonbIteratorInit(details);
	while ((token = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		char	   *name;

		if (token != WJB_ELEM || elem.type != jbvBinary ||
			!JsonContainerIsObject(elem.val.binary.data))
			continue;
		name = get_string(elem.val.binary.data, "modality");
		if (name != NULL && strcmp(name, modality) == 0)
			total = add_counts(total, get_count(elem.val.binary.data, "tokenCount"));
	}
	return total;
}

/* OpenAI's responses API: the output items of one type (web_search_call). */
static int64
output_items(JsonbContainer *root, const char *type)
{
	JsonbContainer *output = get_array(root, "output");
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken token;
	int64		n = 0;

	if (output == NULL)
		return -1;
	it = JsonbIteratorInit(output);
	while ((token = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		char	   *item_type;

		if (token != WJB_ELEM || elem.type != jbvBinary ||
			!JsonContainerIsObject(elem.val.binary.data))
			continue;
		item_type = get_string(elem.val.binary.data, "type");
		if (item_type != NULL && strcmp(item_type, type) == 0)
			n++;
	}
	return n;
}

/* A provider's name of its service tier, as ai_call.service_tier has it. */
static const char *
service_tier_name(const char *tier)
{
	if (tier == NULL)
		return NULL;
	/* OpenAI says default, Anthropic standard. */
	if (strcmp(tier, "default") == 0)
		return "standard";
	if (ai_service_tier_from_name(tier) >= 0)
		return tier;
	/* auto, on_demand, ...: not a tier we can price; leave it unknown. */
	return NULL;
}

/*
 * The image tokens not read from the cache: aitrack prices cached images
 * as cache reads (they are inside the cached count too), and
 * input_image_tokens holds the others.
 */
static int64
uncached(int64 all, int64 cached)
{
	if (all < 0)
		return -1;
	return Max(all - Max(cached, 0), 0);
}

/* What a response says, before it is checked and set; -1: not said. */
typedef struct Usage
{
	int64		input;
	int64		output;
	int64		cache_read;
	int64		cache_creation;
	int64		cache_creation_1h;
	int64		reasoning;
	int64		input_audio;
	int64		cache_read_audio;
	int64		input_image;
	int64		output_audio;
	int64		output_image;
	int64		web_searches;
	const char *service_tier;
} Usage;

static void
read_gemini(JsonbContainer *usage, Usage *u, bool v15)
{
	int64		image;
	int64		cached_image;

	/*
	 * Thoughts are billed as output but counted apart.  Its JSON leaves out
	 * counts that are zero (proto3), so once the prompt count is there,
	 * missing candidates mean no output at all (the cache and thought
	 * counts may stay unknown: they cost 0 either way).
	 */
	u->input = get_count(usage, "promptTokenCount");
	if (u->input < 0)
		return;
	u->input += Max(get_count(usage, "toolUsePromptTokenCount"), 0);
	u->reasoning = get_count(usage, "thoughtsTokenCount");
	u->output = Max(get_count(usage, "candidatesTokenCount"), 0) + Max(u->reasoning, 0);
	u->cache_read = get_count(usage, "cachedContentTokenCount");
	if (!v15)
		return;
	/* The prompt's modalities count cached tokens too; images are kept uncached. */
	u->input_audio = modality_count(get_array(usage, "promptTokensDetails"), "AUDIO");
	u->cache_read_audio = modality_count(get_array(usage, "cacheTokensDetails"), "AUDIO");
	image = modality_count(get_array(usage, "promptTokensDetails"), "IMAGE");
	cached_image = modality_count(get_array(usage, "cacheTokensDetails"), "IMAGE");
	u->input_image = uncached(image, cached_image);
	u->output_audio = modality_count(get_array(usage, "candidatesTokensDetails"), "AUDIO");
	u->output_image = modality_count(get_array(usage, "candidatesTokensDetails"), "IMAGE");
}

static void
read_openai_chat(JsonbContainer *root, JsonbContainer *usage, Usage *u, bool v15)
{
	JsonbContainer *prompt = get_object(usage, "prompt_tokens_details");
	JsonbContainer *completion = get_object(usage, "completion_tokens_details");

	u->input = get_count(usage, "prompt_tokens");
	u->output = get_count(usage, "completion_tokens");
	u->cache_read = get_count(prompt, "cached_tokens");
	u->reasoning = get_count(completion, "reasoning_tokens");
	if (!v15)
		return;
	u->input_audio = get_count(prompt, "audio_tokens");
	u->cache_read_audio = get_count(get_object(prompt, "cached_tokens_details"), "audio_tokens");
	u->input_image = uncached(get_count(prompt, "image_tokens"),
							  get_count(get_object(prompt, "cached_tokens_details"), "image_tokens"));
	u->output_audio = get_count(completion, "audio_tokens");
	u->output_image = get_count(completion, "image_tokens");
	u->service_tier = get_string(root, "service_tier");
}

/*
 * OpenAI's responses API (and realtime) and Anthropic share input_tokens
 * and output_tokens.  Anthropic's cache counts sit beside its input_tokens
 * (and are added to it); OpenAI's cached tokens sit inside
 * input_tokens_details (and are already counted in it).
 */
static void
read_input_output(JsonbContainer *root, JsonbContainer *usage, Usage *u, bool v15)
{
	int64		anthropic_read = get_count(usage, "cache_read_input_tokens");
	int64		anthropic_write = get_count(usage, "cache_creation_input_tokens");
	JsonbContainer *by_duration = get_object(usage, "cache_creation");
	JsonbContainer *in = get_object(usage, "input_tokens_details");
	JsonbContainer *out = get_object(usage, "output_tokens_details");

	/* Realtime spells them input_token_details, output_token_details (1.5). */
	if (v15 && in == NULL)
		in = get_object(usage, "input_token_details");
	if (v15 && out == NULL)
		out = get_object(usage, "output_token_details");

	/* Anthropic's writes by duration; their sum is the writes when not given. */
	if (v15 && by_duration != NULL)
	{
		int64		five_min = get_count(by_duration, "ephemeral_5m_input_tokens");
		int64		one_hour = get_count(by_duration, "ephemeral_1h_input_tokens");

		if (anthropic_write < 0)
			anthropic_write = add_counts(five_min, one_hour);
		u->cache_creation_1h = one_hour;
	}

	u->input = get_count(usage, "input_tokens");
	u->output = get_count(usage, "output_tokens");
	if (u->input >= 0)
		u->input = add_counts(add_counts(u->input, anthropic_read), anthropic_write);
	u->cache_read = add_counts(anthropic_read, get_count(in, "cached_tokens"));
	u->cache_creation = anthropic_write;
	u->reasoning = get_count(out, "reasoning_tokens");
	if (!v15)
		return;
	u->input_audio = get_count(in, "audio_tokens");
	u->cache_read_audio = get_count(get_object(in, "cached_tokens_details"), "audio_tokens");
	u->input_image = uncached(get_count(in, "image_tokens"),
							  get_count(get_object(in, "cached_tokens_details"), "image_tokens"));
	u->output_audio = get_count(out, "audio_tokens");
	u->output_image = get_count(out, "image_tokens");

	u->web_searches = get_count(get_object(usage, "server_tool_use"), "web_search_requests");
	if (u->web_searches < 0)
		u->web_searches = output_items(root, "web_search_call");
	u->service_tier = get_string(usage, "service_tier");
	if (u->service_tier == NULL)
		u->service_tier = get_string(root, "service_tier");
}

/*
 * Parts that exceed their whole (or a whole that overflowed) cannot be
 * placed: keep the whole, drop the parts, rather than refuse the call.  The
 * modality breakdown (audio, images; 1.5) goes first, the cache and
 * reasoning counts only when they do not fit alone: a response that counts
 * its cached audio inside cached_tokens without saying how much keeps its
 * cache reads (its audio is then priced as uncached).
 */
static bool
input_parts_fit(const Usage *u)
{
	int64		uncached_audio = Max(u->input_audio, 0) - Max(u->cache_read_audio, 0);

	return u->input >= 0 && u->input <= PG_INT32_MAX &&
		Max(u->cache_creation_1h, 0) <= Max(u->cache_creation, 0) &&
		Max(u->cache_read_audio, 0) <= Max(u->cache_read, 0) &&
		Max(u->cache_read_audio, 0) <= Max(u->input_audio, 0) &&
		Max(u->cache_read, 0) + Max(u->cache_creation, 0) + uncached_audio +
		Max(u->input_image, 0) <= u->input;
}

static bool
output_parts_fit(const Usage *u)
{
	return u->output >= 0 && u->output <= PG_INT32_MAX &&
		Max(u->reasoning, 0) + Max(u->output_audio, 0) + Max(u->output_image, 0) <= u->output;
}

static void
drop_misplaced_parts(Usage *u)
{
	if (!input_parts_fit(u))
		u->input_audio = u->cache_read_audio = u->input_image = -1;
	if (!input_parts_fit(u))
		u->cache_creation_1h = -1;
	if (!input_parts_fit(u))
		u->cache_read = u->cache_creation = -1;
	if (!output_parts_fit(u))
		u->output_audio = u->output_image = -1;
	if (!output_parts_fit(u))
		u->reasoning = -1;
}

/*
 * Fill the call's fields from its response: the token counts when
 * read_tokens (the caller gave none), and from 1.5 the service tier and web
 * searches when the caller gave none.  Returns false, leaving the call
 * alone, if the response has no usage we know.
 */
bool
ai_call_usage_from_response(AiCall *call, bool read_tokens, AitrackApi api)
{
	Jsonb	   *response = DatumGetJsonbP(call->values[AI_RESPONSE]);
	JsonbContainer *usage;
	Usage		u;

	if (!JB_ROOT_IS_OBJECT(response))
		return false;
	memset(&u, 0, sizeof(u));
	u.input = u.output = u.cache_read = u.cache_creation = u.cache_creation_1h = -1;
	u.reasoning = u.input_audio = u.cache_read_audio = u.input_image = -1;
	u.output_audio = u.output_image = u.web_searches = -1;

	if ((usage = get_object(&response->root, "usageMetadata")) != NULL)
		read_gemini(usage, &u, api >= AITRACK_API_1_5);
	else if ((usage = get_object(&response->root, "usage")) != NULL)
	{
		if (get_count(usage, "prompt_tokens") >= 0 ||
			get_count(usage, "completion_tokens") >= 0)
			read_openai_chat(&response->root, usage, &u, api >= AITRACK_API_1_5);
		else
			read_input_output(&response->root, usage, &u, api >= AITRACK_API_1_5);
	}
	else
		return false;

	if (u.input < 0 && u.output < 0)
		return false;
	drop_misplaced_parts(&u);

	if (read_tokens)
	{
		set_count(call, AI_INPUT_TOKENS, u.input);
		set_count(call, AI_OUTPUT_TOKENS, u.output);
		set_count(call, AI_CACHE_READ_INPUT_TOKENS, u.cache_read);
		set_count(call, AI_CACHE_CREATION_INPUT_TOKENS, u.cache_creation);
		set_count(call, AI_REASONING_TOKENS, u.reasoning);
		if (api >= AITRACK_API_1_5)
		{
			set_count(call, AI_CACHE_CREATION_1H_INPUT_TOKENS, u.cache_creation_1h);
			set_count(call, AI_INPUT_AUDIO_TOKENS, u.input_audio);
			set_count(call, AI_CACHE_READ_AUDIO_TOKENS, u.cache_read_audio);
			set_count(call, AI_INPUT_IMAGE_TOKENS, u.input_image);
			set_count(call, AI_OUTPUT_AUDIO_TOKENS, u.output_audio);
			set_count(call, AI_OUTPUT_IMAGE_TOKENS, u.output_image);
		}
	}
	if (api >= AITRACK_API_1_5)
	{
		const char *tier = service_tier_name(u.service_tier);

		if (call->isnull[AI_WEB_SEARCH_REQUESTS])
			set_count(call, AI_WEB_SEARCH_REQUESTS, u.web_searches);
		if (call->isnull[AI_SERVICE_TIER] && tier != NULL)
			ai_call_set_text(call, AI_SERVICE_TIER, tier);
	}
	return true;
}

/*
 * The provider, when neither the caller nor the price named one, from the
 * shape of the response (OpenTelemetry's gen_ai.provider.name values).  A
 * gateway that answers in OpenAI's format (LiteLLM's proxy, OpenRouter)
 * looks like OpenAI: such callers pass provider themselves.
 */
void
ai_call_provider_from_response(AiCall *call)
{
	Jsonb	   *response;
	char	   *value;
	const char *provider = NULL;

	if (!call->isnull[AI_PROVIDER] || call->isnull[AI_RESPONSE])
		return;
	response = DatumGetJsonbP(call->values[AI_RESPONSE]);
	if (!JB_ROOT_IS_OBJECT(response))
		return;
	if (get_object(&response->root, "usageMetadata") != NULL)
		provider = "gcp.gemini";
	else if ((value = get_string(&response->root, "type")) != NULL &&
			 strcmp(value, "message") == 0 &&
			 get_object(&response->root, "usage") != NULL)
		provider = "anthropic";
	else if ((value = get_string(&response->root, "object")) != NULL &&
			 (strcmp(value, "chat.completion") == 0 || strcmp(value, "response") == 0))
		provider = "openai";
	if (provider != NULL)
		ai_call_set_text(call, AI_PROVIDER, provider);
}
