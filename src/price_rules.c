/*
 * price_rules.c
 *		The rules of a price beyond its base rates (1.5): context tiers and
 *		service tiers, read from ai_model_price.tiers and service_tiers into
 *		the structs price.c prices a call with, and checked (the constraint
 *		ai_model_price_rules_check calls ai_price_rules_valid()).
 *
 * tiers			[{"above_tokens": N, "<kind>": rate, ...}, ...], in any order
 *					(read sorted by above_tokens)
 * service_tiers	{"flex" | "priority" | "batch" | "scale":
 *					 {"<kind>": rate, ..., "tiers": [...]}}
 *
 * Rates are USD per million tokens, 0 to 1e6 as the base rates' columns
 * (constraint ai_model_price_rates_range); the kinds are named as the
 * columns are, without _usd_per_mtok.  A bad document is an error naming
 * the element and what is wrong, never a rule silently left out.
 */
#include "aitrack.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

const char *const ai_rate_kind_names[AI_NUM_RATE_KINDS] = {
	[AI_RATE_INPUT] = "input",
	[AI_RATE_OUTPUT] = "output",
	[AI_RATE_CACHE_READ] = "cache_read",
	[AI_RATE_CACHE_CREATION] = "cache_creation",
	[AI_RATE_CACHE_CREATION_1H] = "cache_creation_1h",
	[AI_RATE_REASONING] = "reasoning",
	[AI_RATE_INPUT_AUDIO] = "input_audio",
	[AI_RATE_CACHE_READ_AUDIO] = "cache_read_audio",
	[AI_RATE_OUTPUT_AUDIO] = "output_audio",
	[AI_RATE_INPUT_IMAGE] = "input_image",
	[AI_RATE_OUTPUT_IMAGE] = "output_image",
};

/*
 * What a kind costs when no level of the price has a rate for it: cached
 * and image input cost what input costs, reasoning and audio output what
 * output costs, and so on.  Input and output are their own (the base
 * columns are NOT NULL).
 */
const AiRateKind ai_rate_kind_fallback[AI_NUM_RATE_KINDS] = {
	[AI_RATE_INPUT] = AI_RATE_INPUT,
	[AI_RATE_OUTPUT] = AI_RATE_OUTPUT,
	[AI_RATE_CACHE_READ] = AI_RATE_INPUT,
	[AI_RATE_CACHE_CREATION] = AI_RATE_INPUT,
	[AI_RATE_CACHE_CREATION_1H] = AI_RATE_CACHE_CREATION,
	[AI_RATE_REASONING] = AI_RATE_OUTPUT,
	[AI_RATE_INPUT_AUDIO] = AI_RATE_INPUT,
	[AI_RATE_CACHE_READ_AUDIO] = AI_RATE_CACHE_READ,
	[AI_RATE_OUTPUT_AUDIO] = AI_RATE_OUTPUT,
	[AI_RATE_INPUT_IMAGE] = AI_RATE_INPUT,
	[AI_RATE_OUTPUT_IMAGE] = AI_RATE_OUTPUT,
};

/* The columns of ai_model_price holding the base rates, by kind. */
const char *const ai_rate_kind_columns[AI_NUM_RATE_KINDS] = {
	[AI_RATE_INPUT] = "input_usd_per_mtok",
	[AI_RATE_OUTPUT] = "output_usd_per_mtok",
	[AI_RATE_CACHE_READ] = "cache_read_usd_per_mtok",
	[AI_RATE_CACHE_CREATION] = "cache_creation_usd_per_mtok",
	[AI_RATE_CACHE_CREATION_1H] = "cache_creation_1h_usd_per_mtok",
	[AI_RATE_REASONING] = "reasoning_usd_per_mtok",
	[AI_RATE_INPUT_AUDIO] = "input_audio_usd_per_mtok",
	[AI_RATE_CACHE_READ_AUDIO] = "cache_read_audio_usd_per_mtok",
	[AI_RATE_OUTPUT_AUDIO] = "output_audio_usd_per_mtok",
	[AI_RATE_INPUT_IMAGE] = "input_image_usd_per_mtok",
	[AI_RATE_OUTPUT_IMAGE] = "output_image_usd_per_mtok",
};

/* The columns of the web search fees, by search context size. */
const char *const ai_web_search_columns[AI_NUM_SEARCH_SIZES] = {
	[AI_SEARCH_LOW] = "web_search_low_usd",
	[AI_SEARCH_MEDIUM] = "web_search_medium_usd",
	[AI_SEARCH_HIGH] = "web_search_high_usd",
};

const char *const ai_service_tier_names[AI_NUM_SERVICE_TIERS] = {
	[AI_SERVICE_STANDARD] = "standard",
	[AI_SERVICE_FLEX] = "flex",
	[AI_SERVICE_PRIORITY] = "priority",
	[AI_SERVICE_BATCH] = "batch",
	[AI_SERVICE_SCALE] = "scale",
};

const char *const ai_search_size_names[AI_NUM_SEARCH_SIZES] = {
	[AI_SEARCH_LOW] = "low",
	[AI_SEARCH_MEDIUM] = "medium",
	[AI_SEARCH_HIGH] = "high",
};

/* The most context tiers of one level. */
#define AI_MAX_TIERS 64

/* The largest rate, as the constraints on the rate columns have it. */
#define MAX_RATE "1000000"

#define TIERS_HINT \
	"tiers is a JSON array (at most 64, in any order) of objects {\"above_tokens\": N, \"input\": rate, \"output\": rate, ...} with rates in USD per million tokens."
#define SERVICE_TIERS_HINT \
	"service_tiers is a JSON object keyed by flex, priority, batch or scale, each {\"input\": rate, ..., \"tiers\": [...]} with rates in USD per million tokens."

int
ai_service_tier_from_name(const char *name)
{
	for (int t = 0; t < AI_NUM_SERVICE_TIERS; t++)
		if (strcmp(name, ai_service_tier_names[t]) == 0)
			return t;
	return -1;
}

int
ai_search_size_from_name(const char *name)
{
	for (int s = 0; s < AI_NUM_SEARCH_SIZES; s++)
		if (strcmp(name, ai_search_size_names[s]) == 0)
			return s;
	return -1;
}

static int
rate_kind_from_name(const char *name)
{
	for (int k = 0; k < AI_NUM_RATE_KINDS; k++)
		if (strcmp(name, ai_rate_kind_names[k]) == 0)
			return k;
	return -1;
}

void
ai_price_rules_init(AiPriceRules *rules)
{
	memset(rules, 0, sizeof(*rules));
}

static void
bad_rules(const char *where, const char *hint, const char *fmt, const char *arg)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s in price", where),
			 errdetail(fmt, arg),
			 errhint("%s", hint)));
}

/* A rate: a JSON number from 0 to 1e6. */
static Numeric
read_rate(JsonbValue *value, const char *key, const char *where, const char *hint)
{
	Datum		rate;

	if (value->type != jbvNumeric)
		bad_rules(where, hint, "The rate \"%s\" is not a number.", key);
	rate = NumericGetDatum(value->val.numeric);
	if (DatumGetBool(DirectFunctionCall2(numeric_lt, rate,
										 NumericGetDatum(int64_to_numeric(0)))) ||
		DatumGetBool(DirectFunctionCall2(numeric_gt, rate,
										 NumericGetDatum(int64_to_numeric(1000000)))))
		bad_rules(where, hint, "The rate \"%s\" is outside 0 to " MAX_RATE " USD per million tokens.", key);
	return value->val.numeric;
}

/*
 * The rates of one object (a tier, or a service tier's base); "above_tokens"
 * and "tiers" are left to the caller.  Returns how many rates it had.
 */
static int
read_rates(JsonbContainer *object, AiRates *rates, const char *where, const char *hint,
		   bool in_tier)
{
	JsonbIterator *it = JsonbIteratorInit(object);
	JsonbValue	key;
	JsonbValue	value;
	JsonbIteratorToken token;
	int			count = 0;

	memset(rates, 0, sizeof(*rates));
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *name;
		int			kind;

		if (token != WJB_KEY)
			continue;
		name = pnstrdup(key.val.string.val, key.val.string.len);
		token = JsonbIteratorNext(&it, &value, true);
		if (strcmp(name, in_tier ? "above_tokens" : "tiers") == 0)
			continue;
		kind = rate_kind_from_name(name);
		if (kind < 0)
			bad_rules(where, hint, "Unknown key \"%s\".", name);
		rates->rate[kind] = read_rate(&value, name, where, hint);
		count++;
	}
	return count;
}

static int
compare_tiers(const void *a, const void *b)
{
	int64		x = ((const AiTier *) a)->above_tokens;
	int64		y = ((const AiTier *) b)->above_tokens;

	return (x > y) - (x < y);
}

/* A tiers array (from a Jsonb or a jsonb container) into level. */
static void
read_tiers_container(JsonbContainer *array, AiRateLevel *level, const char *where)
{
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken token;
	int			n = 0;

	level->ntiers = 0;
	level->tiers = NULL;
	if (!JsonContainerIsArray(array) || JsonContainerIsScalar(array))
		bad_rules(where, TIERS_HINT, "%s is not a JSON array.", where);
	if (JsonContainerSize(array) == 0)
		return;
	/* Every call priced reads them: a price has a few, never thousands. */
	if (JsonContainerSize(array) > AI_MAX_TIERS)
		bad_rules(where, TIERS_HINT, "%s", psprintf("It has %u tiers; the limit is %d.",
												JsonContainerSize(array), AI_MAX_TIERS));
	level->tiers = palloc0(sizeof(AiTier) * JsonContainerSize(array));

	it = JsonbIteratorInit(array);
	while ((token = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		JsonbValue	above;
		AiTier	   *tier;
		bool		overflow = false;

		if (token != WJB_ELEM)
			continue;
		if (elem.type != jbvBinary || !JsonContainerIsObject(elem.val.binary.data))
			bad_rules(where, TIERS_HINT, "Element %s is not a JSON object.",
					  psprintf("%d", n));
		tier = &level->tiers[n];
		if (getKeyJsonValueFromContainer(elem.val.binary.data, "above_tokens",
										 strlen("above_tokens"), &above) == NULL ||
			above.type != jbvNumeric)
			bad_rules(where, TIERS_HINT, "Element %s has no number above_tokens.",
					  psprintf("%d", n));
		tier->above_tokens = numeric_int4_opt_error(above.val.numeric, &overflow);
		if (overflow || tier->above_tokens < 1 ||
			!DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(above.val.numeric),
											  NumericGetDatum(int64_to_numeric(tier->above_tokens)))))
			bad_rules(where, TIERS_HINT, "above_tokens of element %s must be a whole number from 1 to 2147483647.",
					  psprintf("%d", n));
		if (read_rates(elem.val.binary.data, &tier->rates, where, TIERS_HINT, true) == 0)
			bad_rules(where, TIERS_HINT, "Element %s has no rate.", psprintf("%d", n));
		n++;
	}
	level->ntiers = n;
	qsort(level->tiers, n, sizeof(AiTier), compare_tiers);
	for (int i = 1; i < n; i++)
		if (level->tiers[i].above_tokens == level->tiers[i - 1].above_tokens)
			bad_rules(where, TIERS_HINT, "Two elements have above_tokens %s.",
					  psprintf(INT64_FORMAT, level->tiers[i].above_tokens));
}

void
ai_price_rules_read_tiers(Jsonb *tiers, AiRateLevel *level, const char *where)
{
	read_tiers_container(&tiers->root, level, where);
}

void
ai_price_rules_read_service_tiers(Jsonb *service_tiers, AiPriceRules *rules)
{
	JsonbIterator *it;
	JsonbValue	key;
	JsonbValue	value;
	JsonbIteratorToken token;

	if (!JB_ROOT_IS_OBJECT(service_tiers))
		bad_rules("service_tiers", SERVICE_TIERS_HINT, "%s is not a JSON object.", "service_tiers");
	it = JsonbIteratorInit(&service_tiers->root);
	while ((token = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		char	   *name;
		int			tier;
		int			nrates;
		JsonbValue	sub;

		if (token != WJB_KEY)
			continue;
		name = pnstrdup(key.val.string.val, key.val.string.len);
		token = JsonbIteratorNext(&it, &value, true);
		tier = ai_service_tier_from_name(name);
		if (tier <= AI_SERVICE_STANDARD)
			bad_rules("service_tiers", SERVICE_TIERS_HINT,
					  "Unknown service tier \"%s\" (the standard rates are the price's own).", name);
		if (value.type != jbvBinary || !JsonContainerIsObject(value.val.binary.data))
			bad_rules("service_tiers", SERVICE_TIERS_HINT, "Service tier \"%s\" is not a JSON object.", name);
		rules->has_service[tier] = true;
		nrates = read_rates(value.val.binary.data, &rules->service[tier].base, "service_tiers",
							SERVICE_TIERS_HINT, false);
		if (getKeyJsonValueFromContainer(value.val.binary.data, "tiers", strlen("tiers"), &sub) != NULL)
		{
			if (sub.type != jbvBinary)
				bad_rules("service_tiers", SERVICE_TIERS_HINT,
						  "The tiers of service tier \"%s\" are not a JSON array.", name);
			read_tiers_container(sub.val.binary.data, &rules->service[tier],
								 psprintf("tiers of service tier %s", name));
		}
		/* {"flex": {}} would price flex calls at the standard rates: say so. */
		if (nrates == 0 && rules->service[tier].ntiers == 0)
			bad_rules("service_tiers", SERVICE_TIERS_HINT,
					  "Service tier \"%s\" has no rate.", name);
	}
}

PG_FUNCTION_INFO_V1(ai_price_rules_valid_1_5);

/* ai_price_rules_valid(tiers jsonb, service_tiers jsonb) RETURNS boolean */
Datum
ai_price_rules_valid_1_5(PG_FUNCTION_ARGS)
{
	AiPriceRules rules;

	ai_price_rules_init(&rules);
	if (!PG_ARGISNULL(0))
		ai_price_rules_read_tiers(PG_GETARG_JSONB_P(0), &rules.standard, "tiers");
	if (!PG_ARGISNULL(1))
		ai_price_rules_read_service_tiers(PG_GETARG_JSONB_P(1), &rules);
	PG_RETURN_BOOL(true);
}
