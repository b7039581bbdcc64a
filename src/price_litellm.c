/*
 * price_litellm.c
 *		One entry of LiteLLM's price list (model_prices_and_context_window.json)
 *		as aitrack's price, for ai_load_prices:
 *
 *		ai_price_from_litellm(model text, entry jsonb) RETURNS jsonb
 *			LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
 *			AS 'MODULE_PATHNAME', 'ai_price_from_litellm_1_5'
 *
 * The result is {"price": {...}} holding the columns of ai_model_price
 * (rates in USD per million tokens, the *_usd fees in USD, "tiers" and
 * "service_tiers" as the 1.5 spec shapes them), or {"skip": "reason"} when
 * the entry is not priced per token at all, and in both cases "ignored":
 * the sorted keys whose name contains "cost" that we did not understand,
 * so that a loader can say what it left out rather than drop it silently.
 *
 * Keys, after LiteLLM's own cost code (litellm_core_utils/llm_cost_calc/
 * utils.py, generic_cost_per_token):
 *		input_cost_per_token -> input, cache_read_input_token_cost ->
 *		cache_read, ... (kind_keys below), each optionally with a context
 *		suffix _above_<N>k_tokens / _above_<N>m_tokens / _above_<N>_tokens
 *		and a service tier suffix _flex / _priority / _batches, in either
 *		order: the file writes input_cost_per_token_above_272k_tokens_priority,
 *		LiteLLM's comments and other readers of the file also
 *		input_cost_per_token_priority_above_200k_tokens;
 *		tiered_pricing, input_cost_per_request, search_context_cost_per_query
 *		(see check_search_billing for Gemini's per-prompt fee), and
 *		litellm_provider.
 * A rate of JSON null is "not given", as in LiteLLM; any other non-number,
 * a negative rate or an absurd one is an error naming the key: a price list
 * we misread would misprice every call after it.  A key we do not know is
 * only reported: the file grows new keys every week, and a loader should
 * not stop for one.
 *
 * Where a context tier starts.  aitrack's rule is that a tier applies when
 * the call's input_tokens, cache reads and writes included, is greater than
 * above_tokens.  LiteLLM compares the same count (usage.prompt_tokens; its
 * Anthropic transformation adds the cache reads and writes to it):
 *	- _above_<N>k_tokens keys: _get_token_base_cost() moves the whole
 *	  request to the rates of the highest N with prompt_tokens > N, so
 *	  above_tokens = N.  Only for provider xai does it compare >= N
 *	  (_INCLUSIVE_THRESHOLD_PROVIDERS: xAI bills the higher rate from N
 *	  tokens on), so there above_tokens = N - 1.
 *	- tiered_pricing [{"range": [lo, hi], ...}]: select_tier_for_input()
 *	  (llm_cost_calc/tiered_pricing.py) picks the element with
 *	  lo < prompt_tokens <= hi, and the last element above the last hi: a
 *	  prompt of exactly lo tokens stays in the element below, so
 *	  above_tokens = lo.  The element from 0 gives the base rates the entry
 *	  does not give at top level.  hi is not needed: the next element's lo
 *	  ends a tier.
 */
#include "aitrack.h"

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"


/*
 * LiteLLM's key of each rate kind, without suffixes; aitrack's names of the
 * kinds and their columns are price_rules.c's.
 */
static const char *const kind_keys[AI_NUM_RATE_KINDS] = {
	[AI_RATE_INPUT] = "input_cost_per_token",
	[AI_RATE_OUTPUT] = "output_cost_per_token",
	[AI_RATE_CACHE_READ] = "cache_read_input_token_cost",
	[AI_RATE_CACHE_CREATION] = "cache_creation_input_token_cost",
	[AI_RATE_CACHE_CREATION_1H] = "cache_creation_input_token_cost_above_1hr",
	[AI_RATE_REASONING] = "output_cost_per_reasoning_token",
	[AI_RATE_INPUT_AUDIO] = "input_cost_per_audio_token",
	[AI_RATE_CACHE_READ_AUDIO] = "cache_read_input_audio_token_cost",
	[AI_RATE_OUTPUT_AUDIO] = "output_cost_per_audio_token",
	[AI_RATE_INPUT_IMAGE] = "input_cost_per_image_token",
	[AI_RATE_OUTPUT_IMAGE] = "output_cost_per_image_token",
};

/*
 * LiteLLM's suffix of each service tier it prices (scale has none); the
 * names are price_rules.c's.
 */
#define NUM_SERVICES (AI_SERVICE_BATCH + 1)

static const char *const service_suffixes[NUM_SERVICES] = {
	[AI_SERVICE_STANDARD] = NULL,
	[AI_SERVICE_FLEX] = "_flex",
	[AI_SERVICE_PRIORITY] = "_priority",
	[AI_SERVICE_BATCH] = "_batches",
};

static const char *const search_size_keys[AI_NUM_SEARCH_SIZES] = {
	"search_context_size_low", "search_context_size_medium", "search_context_size_high"
};


/* LiteLLM's provider names that are not the OpenTelemetry ones. */
typedef struct ProviderName
{
	const char *litellm;
	const char *otel;
} ProviderName;

static const ProviderName provider_names[] = {
	{"openai", "openai"},
	{"text-completion-openai", "openai"},
	{"anthropic", "anthropic"},
	{"gemini", "gcp.gemini"},
	{"vertex_ai", "gcp.vertex_ai"},
	{"bedrock", "aws.bedrock"},
	{"bedrock_converse", "aws.bedrock"},
	{"azure", "azure.ai.openai"},
	{"azure_text", "azure.ai.openai"},
	{"azure_ai", "azure.ai.inference"},
	{"xai", "x_ai"},
	{"deepseek", "deepseek"},
	{"mistral", "mistral_ai"},
	{"codestral", "mistral_ai"},
	{"groq", "groq"},
	{"cohere", "cohere"},
	{"cohere_chat", "cohere"},
	{"perplexity", "perplexity"},
	{"watsonx", "ibm.watsonx.ai"},
};

/* As ai_call's provider CHECK has it. */
#define MAX_PROVIDER_CHARS 64

/* Where a skipped entry's reason looks first: the units LiteLLM prices by. */
static const char *const skip_units[] = {
	"image", "second", "character", "pixel", "query", "page", "request"
};

/*
 * The rates of one service tier above one context size (0: its base rates),
 * each with the key it came from, for messages.
 */
typedef struct RateSet
{
	int64		above_tokens;
	Numeric		rate[AI_NUM_RATE_KINDS];	/* USD per million tokens; NULL: not given */
	const char *source[AI_NUM_RATE_KINDS];
	bool		from_list[AI_NUM_RATE_KINDS];	/* from tiered_pricing */
} RateSet;

typedef struct LitellmPrice
{
	const char *model;			/* as messages show it */
	List	   *sets[NUM_SERVICES]; /* of RateSet * */
	char	   *litellm_provider;	/* lowercased, or NULL */
	char	   *provider;
	Numeric		request_usd;
	Numeric		web_search[AI_NUM_SEARCH_SIZES];
	List	   *ignored;		/* of char *, with duplicates until sorted */
	Numeric		one;
	Numeric		million;
} LitellmPrice;

/* At most max_chars characters of s, with "..." when cut. */
static char *
shortened(const char *s, int max_chars)
{
	int			len = strlen(s);
	int			cut = pg_mbcharcliplen(s, len, max_chars);

	if (cut >= len)
		return pstrdup(s);
	return psprintf("%.*s...", cut, s);
}

/* A number for a message: absurd ones (9e131071 has 131072 digits) cut short. */
static const char *
number_text(Numeric num)
{
	char	   *digits = DatumGetCString(DirectFunctionCall1(numeric_out,
															 NumericGetDatum(num)));
	size_t		len = strlen(digits);

	if (len <= 40)
		return digits;
	return psprintf("%.20s... (%zu digits)", digits, len);
}

static int
cmp_numeric(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

static Numeric
trimmed(Numeric num)
{
	return DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale, NumericGetDatum(num)));
}

static bool
is_whole(Numeric num)
{
	return DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(num),
											DirectFunctionCall2(numeric_trunc,
																NumericGetDatum(num),
																Int32GetDatum(0))));
}

/*
 * A rate of the entry: NULL for JSON null, else USD per million tokens
 * (per_token) or USD (a fee), exact and with trailing zeros trimmed.
 */
static Numeric
read_rate(LitellmPrice *price, const char *label, JsonbValue *value, bool per_token)
{
	Numeric		num;

	if (value->type == jbvNull)
		return NULL;
	if (value->type != jbvNumeric)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price of model \"%s\" has a rate that is not a number", price->model),
				 errdetail("Key %s is a JSON %s.", label, ai_json_type_name(value)),
				 errhint("LiteLLM's rates are JSON numbers such as 3e-06; use null for a rate that is not known.")));
	num = value->val.numeric;
	if (cmp_numeric(num, int64_to_numeric(0)) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("price of model \"%s\" has a negative rate", price->model),
				 errdetail("Key %s is %s.", label, number_text(num))));

	/*
	 * Compared before multiplying: 1e131071 USD per token would overflow
	 * numeric on the way to per million tokens.
	 */
	if (per_token && cmp_numeric(num, price->one) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("price of model \"%s\" has a rate out of range", price->model),
				 errdetail("Key %s is %s USD per token.", label, number_text(num)),
				 errhint("Rates are USD per token in LiteLLM's format; aitrack stores at most 1000000 USD per million tokens.")));
	if (!per_token && cmp_numeric(num, price->million) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("price of model \"%s\" has a rate out of range", price->model),
				 errdetail("Key %s is %s USD.", label, number_text(num)),
				 errhint("Fees are USD per request or per search query in LiteLLM's format; aitrack stores at most 1000000 USD.")));

	/* Multiplying by 10^6 is exact in numeric, as it would not be in float. */
	if (per_token)
		num = numeric_mul_opt_error(num, price->million, NULL);
	return trimmed(num);
}

/* Strip a service tier suffix off key[0..*len), if there is one. */
static bool
strip_service(const char *key, int *len, AiServiceTier *service)
{
	for (int s = AI_SERVICE_STANDARD + 1; s < NUM_SERVICES; s++)
	{
		int			suffix_len = strlen(service_suffixes[s]);

		if (*len > suffix_len &&
			memcmp(key + *len - suffix_len, service_suffixes[s], suffix_len) == 0)
		{
			*len -= suffix_len;
			*service = (AiServiceTier) s;
			return true;
		}
	}
	return false;
}

/*
 * Strip _above_<N>k_tokens (N thousand), _above_<N>m_tokens (N million) or
 * _above_<N>_tokens off key[0..*len), if there is one and the count is one
 * an int4 input_tokens can exceed.
 */
static bool
strip_above(const char *key, int *len, int64 *tokens)
{
	static const char tail[] = "_tokens";
	static const char head[] = "_above_";
	int			end = *len - (int) strlen(tail);
	int64		multiplier = 1;
	int64		count = 0;
	int			start;

	if (end <= 0 || memcmp(key + end, tail, strlen(tail)) != 0)
		return false;
	if (key[end - 1] == 'k')
		multiplier = 1000, end--;
	else if (key[end - 1] == 'm')
		multiplier = 1000000, end--;
	start = end;
	while (start > 0 && key[start - 1] >= '0' && key[start - 1] <= '9')
		start--;
	/* Nine digits at most: the product stays far inside int64. */
	if (start == end || end - start > 9)
		return false;
	if (start < (int) strlen(head) ||
		memcmp(key + start - strlen(head), head, strlen(head)) != 0)
		return false;
	for (int i = start; i < end; i++)
		count = count * 10 + (key[i] - '0');
	count *= multiplier;
	if (count < 1 || count > PG_INT32_MAX)
		return false;
	*tokens = count;
	*len = start - strlen(head);
	return true;
}

/*
 * Is key a per-token rate we know?  Then its kind, service tier and context
 * size (0: none).  The two suffixes come in either order.
 */
static bool
parse_rate_key(const char *key, AiRateKind *kind, AiServiceTier *service, int64 *above)
{
	int			len = strlen(key);

	*service = AI_SERVICE_STANDARD;
	*above = 0;
	strip_service(key, &len, service);
	strip_above(key, &len, above);
	if (*service == AI_SERVICE_STANDARD)
		strip_service(key, &len, service);
	for (int k = 0; k < AI_NUM_RATE_KINDS; k++)
		if ((int) strlen(kind_keys[k]) == len &&
			memcmp(kind_keys[k], key, len) == 0)
		{
			*kind = (AiRateKind) k;
			return true;
		}
	return false;
}

static RateSet *
find_set(LitellmPrice *price, AiServiceTier service, int64 above_tokens, bool create)
{
	ListCell   *lc;
	RateSet    *set;

	foreach(lc, price->sets[service])
	{
		set = (RateSet *) lfirst(lc);
		if (set->above_tokens == above_tokens)
			return set;
	}
	if (!create)
		return NULL;
	set = palloc0(sizeof(RateSet));
	set->above_tokens = above_tokens;
	price->sets[service] = lappend(price->sets[service], set);
	return set;
}

/*
 * Record a rate.  Top-level keys are read before tiered_pricing and win
 * over it; two keys of one origin for one slot (both suffix orders, or two
 * tiered_pricing elements from one lo) must agree.
 */
static void
set_rate(LitellmPrice *price, AiServiceTier service, int64 above_tokens, AiRateKind kind,
		 Numeric rate, const char *source, bool from_list)
{
	RateSet    *set;

	if (rate == NULL)
		return;
	set = find_set(price, service, above_tokens, true);
	if (set->rate[kind] == NULL)
	{
		set->rate[kind] = rate;
		set->source[kind] = source;
		set->from_list[kind] = from_list;
		return;
	}
	if (set->from_list[kind] != from_list || cmp_numeric(set->rate[kind], rate) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("price of model \"%s\" has two rates for one kind of token", price->model),
			 errdetail("Keys %s and %s give %s and %s USD per million tokens.",
					   set->source[kind], source,
					   number_text(set->rate[kind]), number_text(rate)),
			 errhint("Keep one of the two keys in the entry.")));
}

/*
 * Batch calls without batch rates in the entry: half the standard rates,
 * every kind and context tier, as LiteLLM's batch_cost_calculator()
 * (litellm/cost_calculator.py) bills them and as OpenAI, Anthropic and
 * Google discount their batch APIs.  The file gives _batches keys for few
 * models (77 of about 2,200 chat entries in mid-2026; not gpt-5 nor
 * claude-sonnet-4-5), and a batch call priced at the standard rates would
 * cost twice what was billed.  Written into service_tiers, so the stored
 * price shows what a batch call costs.
 */
static void
derive_batch_rates(LitellmPrice *price)
{
	Numeric		half;
	ListCell   *lc;

	if (price->sets[AI_SERVICE_BATCH] != NIL)
		return;
	half = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum("0.5"),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
	foreach(lc, price->sets[AI_SERVICE_STANDARD])
	{
		RateSet    *standard = (RateSet *) lfirst(lc);
		RateSet    *batch = NULL;

		for (int k = 0; k < AI_NUM_RATE_KINDS; k++)
		{
			if (standard->rate[k] == NULL)
				continue;
			if (batch == NULL)
				batch = find_set(price, AI_SERVICE_BATCH, standard->above_tokens, true);
			batch->rate[k] = trimmed(numeric_mul_opt_error(standard->rate[k], half, NULL));
			batch->source[k] = "half the standard rate";
		}
	}
}

static void
add_ignored(LitellmPrice *price, const char *key)
{
	price->ignored = lappend(price->ignored, (void *) key);
}

/*
 * litellm_provider: kept lowercased in price->litellm_provider (the _above_
 * keys and web search rates depend on it), and as an OpenTelemetry
 * gen_ai.provider.name in price->provider.
 */
static void
read_provider(LitellmPrice *price, JsonbValue *value)
{
	char	   *given;
	char	   *name;
	StringInfoData otel;
	const char *p;
	bool		valid;

	if (value->type == jbvNull)
		return;
	if (value->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price of model \"%s\" has a litellm_provider that is not a string",
						price->model),
				 errdetail("Key litellm_provider is a JSON %s.", ai_json_type_name(value))));
	given = pnstrdup(value->val.string.val, value->val.string.len);
	name = pstrdup(given);
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
	price->litellm_provider = name;

	for (size_t i = 0; i < lengthof(provider_names); i++)
		if (strcmp(name, provider_names[i].litellm) == 0)
		{
			price->provider = pstrdup(provider_names[i].otel);
			return;
		}
	/* vertex_ai-language-models, vertex_ai-anthropic_models, ... */
	if (strncmp(name, "vertex_ai-", strlen("vertex_ai-")) == 0)
	{
		price->provider = pstrdup("gcp.vertex_ai");
		return;
	}

	/* Any other name lowercased, each character outside [a-z0-9._-] an '_'. */
	initStringInfo(&otel);
	for (p = name; *p; p += pg_mblen(p))
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			*p == '.' || *p == '_' || *p == '-')
			appendStringInfoChar(&otel, *p);
		else
			appendStringInfoChar(&otel, '_');
	}
	valid = otel.len >= 1 && otel.len <= MAX_PROVIDER_CHARS &&
		((otel.data[0] >= 'a' && otel.data[0] <= 'z') ||
		 (otel.data[0] >= '0' && otel.data[0] <= '9'));
	/*
	 * A name that cannot be a provider (empty, too long, not starting with a
	 * letter or digit) is not a rate: the price is loaded without a
	 * provider, and the key is reported as not applied rather than stop the
	 * whole file.
	 */
	if (!valid)
	{
		add_ignored(price, "litellm_provider");
		return;
	}
	price->provider = otel.data;
}

/* search_context_cost_per_query: USD per web search query, by context size. */
static void
read_search_costs(LitellmPrice *price, JsonbValue *value)
{
	JsonbIterator *it;
	JsonbIteratorToken token;
	JsonbValue	key;
	JsonbValue	size_cost;

	if (value->type == jbvNull)
		return;
	if (value->type != jbvBinary || !JsonContainerIsObject(value->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price of model \"%s\" has a search_context_cost_per_query that is not an object",
						price->model),
				 errdetail("Key search_context_cost_per_query is a JSON %s.",
						   ai_json_type_name(value)),
				 errhint("LiteLLM gives it as {\"search_context_size_low\": 0.03, \"search_context_size_medium\": 0.035, \"search_context_size_high\": 0.05}, in USD per query.")));

	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *name;
		char	   *label;
		int			size;

		if (token != WJB_KEY)
			continue;
		token = JsonbIteratorNext(&it, &size_cost, true);
		Assert(token == WJB_VALUE);
		name = pnstrdup(key.val.string.val, key.val.string.len);
		label = psprintf("search_context_cost_per_query.%s", shortened(name, 100));
		for (size = 0; size < AI_NUM_SEARCH_SIZES; size++)
			if (strcmp(name, search_size_keys[size]) == 0)
				break;
		if (size < AI_NUM_SEARCH_SIZES)
			price->web_search[size] = read_rate(price, label, &size_cost, false);
		else if (size_cost.type != jbvNull)
			add_ignored(price, psprintf("search_context_cost_per_query.%s", name));
	}
}

/*
 * Gemini bills grounding with Google Search per grounded prompt, however
 * many queries it ran, unless the entry says "web_search_billing_unit":
 * "per_query" (Gemini 3): LiteLLM's cost_per_web_search_request
 * (llms/gemini/cost_calculator.py, also for Gemini on Vertex AI; Claude
 * on Vertex AI goes to Anthropic's per-search code) counts such a prompt
 * once.  aitrack's web_search_*_usd are per query, so a per-prompt fee is
 * left out and reported rather than charged once per query.
 */
static void
check_search_billing(LitellmPrice *price, Jsonb *entry, const char *model)
{
	JsonbValue	unit;
	bool		per_query;
	bool		any = false;

	for (int size = 0; size < AI_NUM_SEARCH_SIZES; size++)
		any |= price->web_search[size] != NULL;
	if (!any)
		return;
	if (getKeyJsonValueFromContainer(&entry->root, "web_search_billing_unit",
									 strlen("web_search_billing_unit"), &unit) != NULL &&
		unit.type != jbvNull)
		per_query = unit.type == jbvString && unit.val.string.len == strlen("per_query") &&
			memcmp(unit.val.string.val, "per_query", strlen("per_query")) == 0;
	else
	{
		const char *provider = price->litellm_provider ? price->litellm_provider : "";
		bool		gemini = strcmp(provider, "gemini") == 0 ||
			(strncmp(provider, "vertex_ai", strlen("vertex_ai")) == 0 &&
			 strcmp(provider, "vertex_ai-anthropic_models") != 0 &&
			 strstr(model, "claude") == NULL);

		per_query = !gemini;
	}
	if (per_query)
		return;
	for (int size = 0; size < AI_NUM_SEARCH_SIZES; size++)
		price->web_search[size] = NULL;
	add_ignored(price, "search_context_cost_per_query");
}

static void
bad_tier_list(LitellmPrice *price, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("price of model \"%s\" has a tiered_pricing aitrack cannot read", price->model),
			 errdetail("%s", detail),
			 errhint("tiered_pricing is a list of objects such as {\"range\": [0, 200000], \"input_cost_per_token\": 3e-06}.")));
}

/*
 * tiered_pricing: [{"range": [lo, hi], <per-token keys>}, ...].  The
 * element from lo = 0 gives base rates, the others a tier above lo tokens
 * (see the top of the file for why lo and not lo - 1).
 */
static void
read_tier_list(LitellmPrice *price, JsonbValue *value)
{
	JsonbIterator *it;
	JsonbIteratorToken token;
	JsonbValue	element;
	int			index = -1;

	if (value->type == jbvNull)
		return;
	if (value->type != jbvBinary || !JsonContainerIsArray(value->val.binary.data))
		bad_tier_list(price, psprintf("Key tiered_pricing is a JSON %s.", ai_json_type_name(value)));

	it = JsonbIteratorInit(value->val.binary.data);
	while ((token = JsonbIteratorNext(&it, &element, true)) != WJB_DONE)
	{
		JsonbContainer *tier;
		JsonbValue	range;
		JsonbValue *lo;
		JsonbValue *hi;
		bool		overflow = false;
		int32		above_tokens = -1;	/* -1: not a token tier */
		JsonbIterator *keys;
		JsonbValue	key;
		JsonbValue	rate;

		if (token != WJB_ELEM)
			continue;
		index++;
		CHECK_FOR_INTERRUPTS();
		if (element.type != jbvBinary || !JsonContainerIsObject(element.val.binary.data))
			bad_tier_list(price, psprintf("Element %d of tiered_pricing is a JSON %s.",
										  index, ai_json_type_name(&element)));
		tier = element.val.binary.data;

		/*
		 * No token range: LiteLLM skips such an element for tokens (search
		 * APIs tier by "max_results_range" instead), so its rates are
		 * reported as ignored.
		 */
		if (getKeyJsonValueFromContainer(tier, "range", strlen("range"), &range) == NULL)
			above_tokens = -1;
		else if (range.type != jbvBinary || !JsonContainerIsArray(range.val.binary.data) ||
				 JsonContainerSize(range.val.binary.data) != 2)
			bad_tier_list(price, psprintf("The range of element %d of tiered_pricing is not [from, to].",
										  index));
		else
		{
			lo = getIthJsonbValueFromContainer(range.val.binary.data, 0);
			hi = getIthJsonbValueFromContainer(range.val.binary.data, 1);
			if (lo->type == jbvNumeric && is_whole(lo->val.numeric))
				above_tokens = numeric_int4_opt_error(lo->val.numeric, &overflow);
			if (above_tokens < 0 || overflow ||
				(hi->type != jbvNumeric && hi->type != jbvNull))
				bad_tier_list(price, psprintf("The range of element %d of tiered_pricing is not [from, to] with from a whole number of tokens from 0 to %d and to a number or null.",
											  index, PG_INT32_MAX));
		}

		keys = JsonbIteratorInit(tier);
		while ((token = JsonbIteratorNext(&keys, &key, true)) != WJB_DONE)
		{
			char	   *name;
			AiRateKind	kind;
			AiServiceTier service;
			int64		above;

			if (token != WJB_KEY)
				continue;
			token = JsonbIteratorNext(&keys, &rate, true);
			Assert(token == WJB_VALUE);
			name = pnstrdup(key.val.string.val, key.val.string.len);
			if (strcmp(name, "range") == 0)
				continue;
			/* LiteLLM reads only the plain keys inside an element. */
			if (above_tokens >= 0 && parse_rate_key(name, &kind, &service, &above) &&
				service == AI_SERVICE_STANDARD && above == 0)
			{
				char	   *label = psprintf("tiered_pricing[%d].%s", index,
											 shortened(name, 100));

				set_rate(price, AI_SERVICE_STANDARD, above_tokens, kind,
						 read_rate(price, label, &rate, true), label, true);
			}
			else if (strstr(name, "cost") != NULL && rate.type != jbvNull)
				add_ignored(price, psprintf("tiered_pricing.%s", name));
		}
	}
}

/* One top-level key of the entry. */
static void
read_key(LitellmPrice *price, char *name, JsonbValue *value, JsonbValue *tier_list)
{
	AiRateKind	kind;
	AiServiceTier service;
	int64		above;

	if (strcmp(name, "litellm_provider") == 0)
		return;					/* read first */
	else if (strcmp(name, "tiered_pricing") == 0)
		*tier_list = *value;	/* read after the top-level keys, which win */
	else if (strcmp(name, "search_context_cost_per_query") == 0)
		read_search_costs(price, value);
	else if (strcmp(name, "input_cost_per_request") == 0)
		price->request_usd = read_rate(price, name, value, false);
	else if (strcmp(name, "input_cost_per_token_cache_hit") == 0)
		return;					/* read last: see ai_price_from_litellm_1_5 */
	else if (parse_rate_key(name, &kind, &service, &above))
	{
		bool		context_tier = above > 0;
		const char *label = shortened(name, 100);

		if (context_tier && price->litellm_provider != NULL &&
			strcmp(price->litellm_provider, "xai") == 0)
			above--;
		/* xai's _above_1_tokens would be a tier from 0 tokens: no tier. */
		if (context_tier && above == 0)
		{
			if (value->type != jbvNull)
				add_ignored(price, name);
			return;
		}
		set_rate(price, service, above, kind, read_rate(price, label, value, true),
				 label, false);
	}
	else if (strstr(name, "cost") != NULL && value->type != jbvNull)
		add_ignored(price, name);
}

/*
 * Why an entry without a per-token input and output rate is skipped: the
 * unit of its first rate that is not per token (after the last "_per_":
 * output_cost_per_image -> image, input_cost_per_video_per_second ->
 * second), the commonest units first; else which of the two is missing.
 */
static char *
skip_reason(LitellmPrice *price, RateSet *base)
{
	const char *best_key = NULL;
	char	   *best_unit = NULL;
	int			best_rank = lengthof(skip_units) + 1;
	ListCell   *lc;

	foreach(lc, price->ignored)
	{
		const char *key = (const char *) lfirst(lc);
		const char *tail = NULL;
		const char *p;
		int			word_len;
		int			rank;
		char	   *unit;

		/* a web search fee left out (check_search_billing) is no unit */
		if (strncmp(key, "search_context_cost_per_query", strlen("search_context_cost_per_query")) == 0)
			continue;
		for (p = strstr(key, "_per_"); p != NULL; p = strstr(p + 1, "_per_"))
			tail = p + strlen("_per_");
		if (tail == NULL || *tail == '\0')
			continue;
		word_len = strcspn(tail, "_");
		/* per token, per image token, per audio token: not another unit */
		if ((word_len == 5 && strncmp(tail, "token", 5) == 0) ||
			strncmp(tail + word_len, "_token", 6) == 0)
			continue;
		for (rank = 0; rank < (int) lengthof(skip_units); rank++)
			if ((int) strlen(skip_units[rank]) == word_len &&
				strncmp(tail, skip_units[rank], word_len) == 0)
				break;
		if (rank < (int) lengthof(skip_units))
			unit = pnstrdup(tail, word_len);
		else
		{
			/* file_search_cost_per_1k_calls -> "1k calls" */
			const char *above = strstr(tail, "_above_");

			unit = above ? pnstrdup(tail, above - tail) : pstrdup(tail);
			for (char *u = unit; *u; u++)
				if (*u == '_')
					*u = ' ';
		}
		if (rank < best_rank)
		{
			best_rank = rank;
			best_key = key;
			best_unit = unit;
		}
	}
	if (best_rank < (int) lengthof(skip_units))
		return psprintf("priced per %s (%s); aitrack prices tokens", best_unit, best_key);
	if (price->request_usd != NULL)
		return pstrdup("priced per request (input_cost_per_request); aitrack prices tokens");
	if (best_key != NULL)
		return psprintf("priced per %s (%s); aitrack prices tokens", best_unit, best_key);

	/*
	 * gpt-image-1 and its kin: all output is image tokens.  (LiteLLM's
	 * _get_token_base_cost then bills output at output_cost_per_image_token.)
	 */
	if (base != NULL && base->rate[AI_RATE_INPUT] != NULL && base->rate[AI_RATE_OUTPUT] == NULL &&
		base->rate[AI_RATE_OUTPUT_IMAGE] != NULL)
		return pstrdup("output priced per image token only (output_cost_per_image_token); aitrack needs output_cost_per_token");
	if (base != NULL && base->rate[AI_RATE_INPUT] != NULL)
		return pstrdup("no per-token output price (output_cost_per_token)");
	if (base != NULL && base->rate[AI_RATE_OUTPUT] != NULL)
		return pstrdup("no per-token input price (input_cost_per_token)");
	return pstrdup("no per-token input and output price");
}

static void
push_key(JsonbParseState **state, const char *key)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) key;
	v.val.string.len = strlen(key);
	pushJsonbValue(state, WJB_KEY, &v);
}

static void
push_string(JsonbParseState **state, JsonbIteratorToken token, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(state, token, &v);
}

static void
push_numeric(JsonbParseState **state, const char *key, Numeric num)
{
	JsonbValue	v;

	if (num == NULL)
		return;
	push_key(state, key);
	v.type = jbvNumeric;
	v.val.numeric = num;
	pushJsonbValue(state, WJB_VALUE, &v);
}

/* A set's rates as "<kind>": rate, or as the columns "<kind>_usd_per_mtok". */
static void
push_rates(JsonbParseState **state, RateSet *set, bool columns)
{
	if (set == NULL)
		return;
	for (int k = 0; k < AI_NUM_RATE_KINDS; k++)
		push_numeric(state, columns ? ai_rate_kind_columns[k] : ai_rate_kind_names[k], set->rate[k]);
}

static int
cmp_sets(const ListCell *a, const ListCell *b)
{
	int64		x = ((RateSet *) lfirst(a))->above_tokens;
	int64		y = ((RateSet *) lfirst(b))->above_tokens;

	return (x > y) - (x < y);
}

static int
cmp_strings(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/* "tiers": the sets above a context size, ascending (sets is sorted). */
static void
push_tiers(JsonbParseState **state, List *sets)
{
	ListCell   *lc;

	push_key(state, "tiers");
	pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	foreach(lc, sets)
	{
		RateSet    *set = (RateSet *) lfirst(lc);

		if (set->above_tokens == 0)
			continue;
		pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
		push_numeric(state, "above_tokens", int64_to_numeric(set->above_tokens));
		push_rates(state, set, false);
		pushJsonbValue(state, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

static void
push_price(JsonbParseState **state, LitellmPrice *price)
{
	push_key(state, "price");
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	if (price->provider != NULL)
	{
		push_key(state, "provider");
		push_string(state, WJB_VALUE, price->provider);
	}
	push_rates(state, find_set(price, AI_SERVICE_STANDARD, 0, false), true);
	push_numeric(state, "request_usd", price->request_usd);
	for (int size = 0; size < AI_NUM_SEARCH_SIZES; size++)
		push_numeric(state, ai_web_search_columns[size], price->web_search[size]);
	push_tiers(state, price->sets[AI_SERVICE_STANDARD]);

	push_key(state, "service_tiers");
	pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
	for (int s = AI_SERVICE_STANDARD + 1; s < NUM_SERVICES; s++)
	{
		List	   *sets = price->sets[s];

		if (sets == NIL)
			continue;
		push_key(state, ai_service_tier_names[s]);
		pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
		push_rates(state, find_set(price, (AiServiceTier) s, 0, false), false);
		/* Present only when the tier has context tiers of its own. */
		if (((RateSet *) llast(sets))->above_tokens > 0)
			push_tiers(state, sets);
		pushJsonbValue(state, WJB_END_OBJECT, NULL);
	}
	pushJsonbValue(state, WJB_END_OBJECT, NULL);

	pushJsonbValue(state, WJB_END_OBJECT, NULL);
}

PG_FUNCTION_INFO_V1(ai_price_from_litellm_1_5);

/*
 * ai_price_from_litellm(model text, entry jsonb) RETURNS jsonb: see the top
 * of the file.  model is the entry's key in LiteLLM's file, for messages.
 */
Datum
ai_price_from_litellm_1_5(PG_FUNCTION_ARGS)
{
	char	   *model = text_to_cstring(PG_GETARG_TEXT_PP(0));
	Jsonb	   *entry = PG_GETARG_JSONB_P(1);
	LitellmPrice price;
	JsonbParseState *state = NULL;
	JsonbValue	provider;
	JsonbValue	tier_list;
	JsonbValue *result;
	RateSet    *base;

	memset(&price, 0, sizeof(price));
	price.model = shortened(model, 40);
	price.one = int64_to_numeric(1);
	price.million = int64_to_numeric(1000000);

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	if (!JB_ROOT_IS_OBJECT(entry))
	{
		push_key(&state, "skip");
		push_string(&state, WJB_VALUE, "not a JSON object");
		result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
		PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
	}

	/* Known before the _above_ keys, whatever the order of the keys. */
	if (getKeyJsonValueFromContainer(&entry->root, "litellm_provider",
									 strlen("litellm_provider"), &provider) != NULL)
		read_provider(&price, &provider);

	tier_list.type = jbvNull;
	{
		JsonbIterator *it = JsonbIteratorInit(&entry->root);
		JsonbIteratorToken token;
		JsonbValue	key;
		JsonbValue	value;

		while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
		{
			if (token != WJB_KEY)
				continue;
			token = JsonbIteratorNext(&it, &value, true);
			Assert(token == WJB_VALUE);
			CHECK_FOR_INTERRUPTS();
			read_key(&price, pnstrdup(key.val.string.val, key.val.string.len),
					 &value, &tier_list);
		}
	}
	read_tier_list(&price, &tier_list);
	check_search_billing(&price, entry, model);

	/*
	 * DeepSeek's older name of the cache read rate (the upstream file has it
	 * on some 30 entries, one with nothing else): a cache read rate when the
	 * entry gives none under the usual name.
	 */
	{
		JsonbValue	hit;

		if (getKeyJsonValueFromContainer(&entry->root, "input_cost_per_token_cache_hit",
										 strlen("input_cost_per_token_cache_hit"), &hit) != NULL &&
			hit.type != jbvNull)
		{
			RateSet    *standard = find_set(&price, AI_SERVICE_STANDARD, 0, false);

			if (standard == NULL || standard->rate[AI_RATE_CACHE_READ] == NULL)
				set_rate(&price, AI_SERVICE_STANDARD, 0, AI_RATE_CACHE_READ,
						 read_rate(&price, "input_cost_per_token_cache_hit", &hit, true),
						 "input_cost_per_token_cache_hit", false);
		}
	}

	derive_batch_rates(&price);
	for (int s = 0; s < NUM_SERVICES; s++)
		list_sort(price.sets[s], cmp_sets);
	list_sort(price.ignored, cmp_strings);

	base = find_set(&price, AI_SERVICE_STANDARD, 0, false);
	if (base == NULL || base->rate[AI_RATE_INPUT] == NULL || base->rate[AI_RATE_OUTPUT] == NULL)
	{
		push_key(&state, "skip");
		push_string(&state, WJB_VALUE, skip_reason(&price, base));
	}
	else
		push_price(&state, &price);

	if (price.ignored != NIL)
	{
		const char *previous = NULL;
		ListCell   *lc;

		push_key(&state, "ignored");
		pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
		foreach(lc, price.ignored)
		{
			const char *key = (const char *) lfirst(lc);

			if (previous == NULL || strcmp(previous, key) != 0)
				push_string(&state, WJB_ELEM, key);
			previous = key;
		}
		pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}
