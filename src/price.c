/*
 * price.c
 *		The price in force for a model at a moment, and what a call costs at
 *		that price: for record_ai_call() (a call recorded without cost_usd),
 *		and as ai_price_at() and ai_cost() for ai_reprice() and for users,
 *		so that recording and repricing can never disagree.
 *
 * Matching: a price covers an ai_model row whose modelname equals the
 * price's model, or whose modelname || '-' || version does (providers name
 * models as 'gpt-4o-2024-08-06', 'claude-3-5-sonnet-20241022'); the
 * version-specific price wins.  A price applies to a call by the call's
 * time, valid_from inclusive, valid_until exclusive.
 *
 * Cost, in exact numeric, rates in USD per million tokens.  Every count is
 * a part of input_tokens or output_tokens (as OpenTelemetry's GenAI
 * conventions count them), so nothing is priced twice:
 *
 *	input_tokens = text + cache reads (text + audio) + cache writes (5 min
 *				   + 1 h) + uncached audio + images
 *	output_tokens = text + reasoning + audio + images
 *
 * each part times the rate of its kind, plus web searches times the price's
 * fee per query at the call's search context size (medium when not given),
 * plus the price's fee per request.
 *
 * The rate of a kind (1.5): a price has base rates (its columns), context
 * tiers (tiers: when the call's input_tokens, the whole prompt, exceeds a
 * tier's above_tokens, the highest such tier prices the whole call) and
 * service tiers (service_tiers: flex, priority, batch, scale, each with
 * base rates and tiers of its own).  The rate is the first found of: the
 * call's service tier's context tier, its base, the standard context tier,
 * the standard base; a kind none of them has costs what its fallback kind
 * costs (price_rules.c: cache reads and images cost input, reasoning and
 * audio output cost output, 1-hour writes cost 5-minute writes, ...).
 *
 * No cost (NULL) rather than a wrong one: when input or output tokens are
 * unknown, when parts exceed their whole, when the call ran at a service
 * tier the price has no rates for, or made web searches the price has no
 * fee for.  Unknown parts count as 0.
 */
#include "aitrack.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

/* 1.1's kinds: what ai_cost_1_1 reads, and all a 1.1 to 1.4 price has. */
#define NUM_RATE_KINDS_1_1 (AI_RATE_REASONING + 1)


/* What a call has that is priced; -1: unknown (only input and output). */
typedef struct CallCounts
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
	int64		web_search_requests;
	int			service_tier;	/* AiServiceTier, or -1: one we do not know */
	int			search_size;	/* AiSearchSize */
} CallCounts;

/* A row (a price, or a call) read by column name; absent columns are NULL. */
typedef struct RowView
{
	HeapTupleData tuple;
	TupleDesc	desc;
} RowView;

static Datum
row_get(RowView *row, const char *name, bool *isnull)
{
	for (int i = 0; i < row->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(row->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return heap_getattr(&row->tuple, i + 1, row->desc, isnull);
	}
	*isnull = true;
	return (Datum) 0;
}

static Numeric
row_numeric(RowView *row, const char *name)
{
	bool		isnull;
	Datum		value = row_get(row, name, &isnull);

	return isnull ? NULL : DatumGetNumeric(value);
}

/* The type of a row's column, or InvalidOid when it has none of that name. */
static Oid
row_type(RowView *row, const char *name)
{
	for (int i = 0; i < row->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(row->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->atttypid;
	}
	return InvalidOid;
}

/*
 * A row given to ai_cost(price, call) may be any record: a column is read
 * only as the type it must have, or the call is refused.
 */
static void
wrong_column_type(RowView *row, const char *name, const char *wanted)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of the call must be %s", name, wanted),
			 errdetail("It is of type %s.", format_type_be(row_type(row, name))),
			 errhint("Pass a row of ai_call, or cast the column in the query that builds the row.")));
}

/* A count: -1 when NULL or absent, -2 when negative or beyond integer. */
static int64
row_count(RowView *row, const char *name)
{
	bool		isnull;
	Oid			type = row_type(row, name);
	Datum		value = row_get(row, name, &isnull);
	int64		count = 0;

	if (isnull)
		return -1;
	if (type == INT4OID)
		count = DatumGetInt32(value);
	else if (type == INT2OID)
		count = DatumGetInt16(value);
	else if (type == INT8OID)
		count = DatumGetInt64(value);
	else
		wrong_column_type(row, name, "an integer (smallint, integer or bigint)");
	if (count < 0 || count > PG_INT32_MAX)
		return -2;
	return count;
}

/* A text column (text or varchar), or NULL. */
static text *
row_text(RowView *row, const char *name)
{
	bool		isnull;
	Oid			type = row_type(row, name);
	Datum		value = row_get(row, name, &isnull);

	if (isnull)
		return NULL;
	if (type != TEXTOID && type != VARCHAROID)
		wrong_column_type(row, name, "text");
	return DatumGetTextPP(value);
}

/* A composite Datum as a row; release with row_release. */
static void
row_from_composite(RowView *row, HeapTupleHeader header)
{
	row->tuple.t_len = HeapTupleHeaderGetDatumLength(header);
	ItemPointerSetInvalid(&row->tuple.t_self);
	row->tuple.t_tableOid = InvalidOid;
	row->tuple.t_data = header;
	row->desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(header),
									   HeapTupleHeaderGetTypMod(header));
}

static void
row_release(RowView *row)
{
	ReleaseTupleDesc(row->desc);
}

/*
 * The rules of a price row.  with_rules false: the base rates of 1.1 only
 * (ai_cost_1_1 keeps 1.1's behaviour).
 */
static void
read_price_rules(RowView *price, AiPriceRules *rules, bool with_rules)
{
	bool		isnull;
	Datum		value;

	ai_price_rules_init(rules);
	for (int k = 0; k < (with_rules ? AI_NUM_RATE_KINDS : NUM_RATE_KINDS_1_1); k++)
		rules->standard.base.rate[k] = row_numeric(price, ai_rate_kind_columns[k]);
	if (!with_rules)
		return;
	rules->request_usd = row_numeric(price, "request_usd");
	for (int s = 0; s < AI_NUM_SEARCH_SIZES; s++)
		rules->web_search_usd[s] = row_numeric(price, ai_web_search_columns[s]);
	value = row_get(price, "tiers", &isnull);
	if (!isnull)
		ai_price_rules_read_tiers(DatumGetJsonbP(value), &rules->standard, "tiers");
	value = row_get(price, "service_tiers", &isnull);
	if (!isnull)
		ai_price_rules_read_service_tiers(DatumGetJsonbP(value), rules);
}

/* The context tier of a level for a prompt of context tokens, or NULL. */
static const AiRates *
tier_for(const AiRateLevel *level, int64 context)
{
	const AiRates *found = NULL;

	for (int i = 0; i < level->ntiers; i++)
		if (context > level->tiers[i].above_tokens)
			found = &level->tiers[i].rates;
	return found;
}

/* The rate of a kind for a call; see the header comment. */
static Numeric
rate_of(const AiPriceRules *rules, int service_tier, int64 context, AiRateKind kind)
{
	const AiRates *levels[4];
	int			nlevels = 0;
	const AiRates *tier;

	if (service_tier > AI_SERVICE_STANDARD)
	{
		if ((tier = tier_for(&rules->service[service_tier], context)) != NULL)
			levels[nlevels++] = tier;
		levels[nlevels++] = &rules->service[service_tier].base;
	}
	if ((tier = tier_for(&rules->standard, context)) != NULL)
		levels[nlevels++] = tier;
	levels[nlevels++] = &rules->standard.base;

	for (;;)
	{
		for (int l = 0; l < nlevels; l++)
			if (levels[l]->rate[kind] != NULL)
				return levels[l]->rate[kind];
		if (ai_rate_kind_fallback[kind] == kind)
			return NULL;
		kind = ai_rate_kind_fallback[kind];
	}
}

/* total + count * rate */
static Numeric
add_tokens(Numeric total, int64 count, Numeric rate)
{
	if (count == 0)
		return total;
	return numeric_add_opt_error(total,
								 numeric_mul_opt_error(int64_to_numeric(count), rate, NULL),
								 NULL);
}

/* The cost of a call at a price, or NULL when it cannot be known. */
static Numeric
compute_cost(const AiPriceRules *rules, const CallCounts *c)
{
	int64		cache_read = Max(c->cache_read, 0);
	int64		cache_creation = Max(c->cache_creation, 0);
	int64		cache_1h = Max(c->cache_creation_1h, 0);
	int64		reasoning = Max(c->reasoning, 0);
	int64		input_audio = Max(c->input_audio, 0);
	int64		cache_read_audio = Max(c->cache_read_audio, 0);
	int64		input_image = Max(c->input_image, 0);
	int64		output_audio = Max(c->output_audio, 0);
	int64		output_image = Max(c->output_image, 0);
	int64		searches = Max(c->web_search_requests, 0);
	int64		text_input;
	int64		text_output;
	Numeric		total = int64_to_numeric(0);
	Numeric		per_token;

#define RATE(kind) rate_of(rules, c->service_tier, c->input, (kind))

	if (c->input < 0 || c->output < 0 || c->service_tier < 0 ||
		rules->standard.base.rate[AI_RATE_INPUT] == NULL ||
		rules->standard.base.rate[AI_RATE_OUTPUT] == NULL)
		return NULL;
	/* A service tier the price has no rates for: no cost, not the standard one. */
	if (c->service_tier > AI_SERVICE_STANDARD && !rules->has_service[c->service_tier])
		return NULL;
	if (searches > 0 &&
		(c->search_size < 0 || rules->web_search_usd[c->search_size] == NULL))
		return NULL;

	text_input = c->input - cache_read - cache_creation - (input_audio - cache_read_audio) - input_image;
	text_output = c->output - reasoning - output_audio - output_image;
	if (cache_1h > cache_creation || cache_read_audio > cache_read ||
		cache_read_audio > input_audio || text_input < 0 || text_output < 0)
		return NULL;

	total = add_tokens(total, text_input, RATE(AI_RATE_INPUT));
	total = add_tokens(total, cache_read - cache_read_audio, RATE(AI_RATE_CACHE_READ));
	total = add_tokens(total, cache_read_audio, RATE(AI_RATE_CACHE_READ_AUDIO));
	total = add_tokens(total, cache_creation - cache_1h, RATE(AI_RATE_CACHE_CREATION));
	total = add_tokens(total, cache_1h, RATE(AI_RATE_CACHE_CREATION_1H));
	total = add_tokens(total, input_audio - cache_read_audio, RATE(AI_RATE_INPUT_AUDIO));
	total = add_tokens(total, input_image, RATE(AI_RATE_INPUT_IMAGE));
	total = add_tokens(total, text_output, RATE(AI_RATE_OUTPUT));
	total = add_tokens(total, reasoning, RATE(AI_RATE_REASONING));
	total = add_tokens(total, output_audio, RATE(AI_RATE_OUTPUT_AUDIO));
	total = add_tokens(total, output_image, RATE(AI_RATE_OUTPUT_IMAGE));
#undef RATE

	/* Multiplying by 10^-6 is exact; dividing by 10^6 would round. */
	per_token = DatumGetNumeric(DirectFunctionCall3(numeric_in,
													CStringGetDatum("0.000001"),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(-1)));
	total = numeric_mul_opt_error(total, per_token, NULL);
	if (searches > 0)
		total = add_tokens(total, searches, rules->web_search_usd[c->search_size]);
	if (rules->request_usd != NULL)
		total = numeric_add_opt_error(total, rules->request_usd, NULL);
	return DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale,
											   NumericGetDatum(total)));
}

static void
counts_init(CallCounts *c)
{
	c->input = c->output = -1;
	c->cache_read = c->cache_creation = c->cache_creation_1h = c->reasoning = 0;
	c->input_audio = c->cache_read_audio = c->input_image = 0;
	c->output_audio = c->output_image = c->web_search_requests = 0;
	c->service_tier = AI_SERVICE_STANDARD;
	c->search_size = AI_SEARCH_MEDIUM;
}

/* service_tier and web_search_context_size of a call, from their text. */
static void
counts_set_tiers(CallCounts *c, text *service_tier, text *search_size)
{
	if (service_tier != NULL)
	{
		char	   *name = text_to_cstring(service_tier);

		/* OpenAI's name of the standard tier, as record_ai_call() takes it */
		c->service_tier = strcmp(name, "default") == 0 ? AI_SERVICE_STANDARD :
			ai_service_tier_from_name(name);
	}
	/* An unknown size (only a hand-made row has one) prices as no cost. */
	if (search_size != NULL)
		c->search_size = ai_search_size_from_name(text_to_cstring(search_size));
}

static int64
field_count(AiCall *call, AiCallField field)
{
	return call->isnull[field] ? -1 : DatumGetInt32(call->values[field]);
}

static void
counts_from_call(AiCall *call, CallCounts *c)
{
	counts_init(c);
	c->input = field_count(call, AI_INPUT_TOKENS);
	c->output = field_count(call, AI_OUTPUT_TOKENS);
	c->cache_read = field_count(call, AI_CACHE_READ_INPUT_TOKENS);
	c->cache_creation = field_count(call, AI_CACHE_CREATION_INPUT_TOKENS);
	c->cache_creation_1h = field_count(call, AI_CACHE_CREATION_1H_INPUT_TOKENS);
	c->reasoning = field_count(call, AI_REASONING_TOKENS);
	c->input_audio = field_count(call, AI_INPUT_AUDIO_TOKENS);
	c->cache_read_audio = field_count(call, AI_CACHE_READ_AUDIO_TOKENS);
	c->input_image = field_count(call, AI_INPUT_IMAGE_TOKENS);
	c->output_audio = field_count(call, AI_OUTPUT_AUDIO_TOKENS);
	c->output_image = field_count(call, AI_OUTPUT_IMAGE_TOKENS);
	c->web_search_requests = field_count(call, AI_WEB_SEARCH_REQUESTS);
	counts_set_tiers(c,
					 call->isnull[AI_SERVICE_TIER] ? NULL : DatumGetTextPP(call->values[AI_SERVICE_TIER]),
					 call->isnull[AI_WEB_SEARCH_CONTEXT_SIZE] ? NULL :
					 DatumGetTextPP(call->values[AI_WEB_SEARCH_CONTEXT_SIZE]));
}

/*
 * The same from a row of ai_call, or any record with its columns by name
 * (ai_cost(price, call)).  False when a count is negative or beyond
 * integer: no cost for such a call, as ai_cost(price, counts) has it.
 */
static bool
counts_from_row(RowView *row, CallCounts *c)
{
	int64	   *all[] = {&c->input, &c->output, &c->cache_read, &c->cache_creation,
		&c->cache_creation_1h, &c->reasoning, &c->input_audio, &c->cache_read_audio,
	&c->input_image, &c->output_audio, &c->output_image, &c->web_search_requests};

	counts_init(c);
	c->input = row_count(row, "input_tokens");
	c->output = row_count(row, "output_tokens");
	c->cache_read = row_count(row, "cache_read_input_tokens");
	c->cache_creation = row_count(row, "cache_creation_input_tokens");
	c->cache_creation_1h = row_count(row, "cache_creation_1h_input_tokens");
	c->reasoning = row_count(row, "reasoning_tokens");
	c->input_audio = row_count(row, "input_audio_tokens");
	c->cache_read_audio = row_count(row, "cache_read_audio_tokens");
	c->input_image = row_count(row, "input_image_tokens");
	c->output_audio = row_count(row, "output_audio_tokens");
	c->output_image = row_count(row, "output_image_tokens");
	c->web_search_requests = row_count(row, "web_search_requests");
	counts_set_tiers(c, row_text(row, "service_tier"), row_text(row, "web_search_context_size"));
	for (size_t i = 0; i < lengthof(all); i++)
	{
		if (*all[i] == -2)
			return false;
		/* Unknown parts count as none (unknown input or output: no cost). */
		if (*all[i] == -1 && all[i] != &c->input && all[i] != &c->output)
			*all[i] = 0;
	}
	return true;
}

static Oid	price_plan_schema = InvalidOid;
static SPIPlanPtr price_plan = NULL;

/* The price in force: $1 modelname, $2 version, $3 the moment. */
static SPIPlanPtr
get_price_plan(Oid schema)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TIMESTAMPTZOID};
	char	   *query;

	if (price_plan != NULL && price_plan_schema == schema)
		return price_plan;
	if (price_plan != NULL)
		SPI_freeplan(price_plan);
	price_plan = NULL;

	query = psprintf("SELECT p.* FROM %s.ai_model_price p"
					 " WHERE (p.model OPERATOR(pg_catalog.=)"
					 " ($1 OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) $2)"
					 " OR p.model OPERATOR(pg_catalog.=) $1)"
					 " AND p.valid_from OPERATOR(pg_catalog.<=) $3"
					 " AND p.valid_until OPERATOR(pg_catalog.>) $3"
					 " ORDER BY p.model OPERATOR(pg_catalog.=) $1"	/* false first */
					 " LIMIT 1",
					 quote_identifier(get_namespace_name(schema)));
	price_plan = aitrack_prepare_plan(query, 3, argtypes, 0);
	price_plan_schema = schema;
	return price_plan;
}

/*
 * Look the price up; the caller is connected to SPI.  True, with the row in
 * SPI_tuptable->vals[0], if a price is in force.
 */
static bool
find_price(Oid schema, Datum modelname, Datum version, TimestampTz at)
{
	Datum		params[3] = {modelname, version, TimestampTzGetDatum(at)};
	MemoryContext caller_cxt = CurrentMemoryContext;
	int			rc;

	rc = SPI_execute_plan(get_price_plan(schema), params, NULL, true, 1);
	/*
	 * SPI returns in its procedure context; go back to the caller's, so that
	 * the cost computed next lives (and is freed) where the caller wants:
	 * record_ai_calls() prepares each element in a context of its own.
	 */
	MemoryContextSwitchTo(caller_cxt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
		return true;
	/* A batch looks up thousands of prices in one SPI connection. */
	SPI_freetuptable(SPI_tuptable);
	return false;
}

/*
 * Decide a call's cost_source, and its cost when the caller gave none: from
 * the price in force at the call's created_at (now, unless given).  From
 * 1.5 a call priced here without a provider gets the price's.  The caller is connected
 * to SPI; the results live in the caller's memory context.
 */
void
ai_call_price(Oid schema, AiCall *call, AitrackApi api)
{
	const char *source = call->isnull[AI_COST_USD] ? "unknown" : "provided";
	bool		need_cost = call->isnull[AI_COST_USD] &&
		!call->isnull[AI_INPUT_TOKENS] && !call->isnull[AI_OUTPUT_TOKENS];
	/*
	 * 1.5: the price names who serves the model, for a call priced here.  A
	 * call that comes with its cost is not looked up for its provider alone:
	 * that lookup took a fifth of record_ai_call()'s throughput (7,800
	 * against 9,800 calls/s, 4 clients), and a caller that knows the cost
	 * knows the provider too (or the response's shape tells).
	 */
	bool		need_provider = api >= AITRACK_API_1_5 && call->isnull[AI_PROVIDER];

	if (need_cost &&
		find_price(schema, call->values[AI_MODELNAME], call->values[AI_VERSION],
				   call->isnull[AI_CREATED_AT] ? GetCurrentTransactionStartTimestamp() :
				   DatumGetTimestampTz(call->values[AI_CREATED_AT])))
	{
		RowView		price;

		price.tuple = *SPI_tuptable->vals[0];
		price.desc = SPI_tuptable->tupdesc;
		if (need_provider)
		{
			bool		isnull;
			Datum		provider = row_get(&price, "provider", &isnull);

			if (!isnull)
			{
				call->values[AI_PROVIDER] = PointerGetDatum(DatumGetTextPCopy(provider));
				call->isnull[AI_PROVIDER] = false;
			}
		}
		{
			AiPriceRules rules;
			CallCounts	counts;
			Numeric		cost;

			read_price_rules(&price, &rules, api >= AITRACK_API_1_5);
			counts_from_call(call, &counts);
			cost = compute_cost(&rules, &counts);
			if (cost != NULL)
			{
				call->values[AI_COST_USD] = NumericGetDatum(cost);
				call->isnull[AI_COST_USD] = false;
				source = "computed";
			}
		}
		/* A batch prices thousands of calls in one SPI connection. */
		SPI_freetuptable(SPI_tuptable);
	}
	call->values[AI_COST_SOURCE] = CStringGetTextDatum(source);
	call->isnull[AI_COST_SOURCE] = false;
}

PG_FUNCTION_INFO_V1(ai_price_at_1_1);
PG_FUNCTION_INFO_V1(ai_cost_1_1);
PG_FUNCTION_INFO_V1(ai_cost_counts_1_5);
PG_FUNCTION_INFO_V1(ai_cost_call_1_5);

/*
 * ai_price_at(modelname text, version text, at timestamptz)
 * RETURNS ai_model_price: the price in force, or NULL.
 */
Datum
ai_price_at_1_1(PG_FUNCTION_ARGS)
{
	TupleDesc	result_desc;
	HeapTuple	result = NULL;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	if (get_call_result_type(fcinfo, NULL, &result_desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	result_desc = BlessTupleDesc(result_desc);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (find_price(aitrack_function_schema(fcinfo), PG_GETARG_DATUM(0),
				   PG_GETARG_DATUM(1), PG_GETARG_TIMESTAMPTZ(2)))
	{
		Datum	   *values = palloc(sizeof(Datum) * result_desc->natts);
		bool	   *isnull = palloc(sizeof(bool) * result_desc->natts);

		heap_deform_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, values, isnull);
		/* SPI_copytuple copies into the caller's memory, which outlives SPI_finish. */
		result = SPI_copytuple(heap_form_tuple(result_desc, values, isnull));
	}
	SPI_finish();

	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(HeapTupleGetDatum(result));
}

/*
 * ai_cost(price, input_tokens, cache_read_input_tokens,
 *		cache_creation_input_tokens, output_tokens, reasoning_tokens)
 * RETURNS numeric; with_rules: 1.5's context tiers apply (1.1: base rates).
 */
static Datum
cost_of_counts(FunctionCallInfo fcinfo, bool with_rules)
{
	RowView		price;
	AiPriceRules rules;
	CallCounts	counts;
	Numeric		cost;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	/* A negative count is nonsense, not "unknown": no cost for it. */
	for (int arg = 1; arg <= 5; arg++)
		if (!PG_ARGISNULL(arg) && PG_GETARG_INT32(arg) < 0)
			PG_RETURN_NULL();
	counts_init(&counts);
	counts.input = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	counts.cache_read = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	counts.cache_creation = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3);
	counts.output = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4);
	counts.reasoning = PG_ARGISNULL(5) ? 0 : PG_GETARG_INT32(5);

	row_from_composite(&price, PG_GETARG_HEAPTUPLEHEADER(0));
	read_price_rules(&price, &rules, with_rules);
	row_release(&price);
	cost = compute_cost(&rules, &counts);
	if (cost == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(cost);
}

Datum
ai_cost_1_1(PG_FUNCTION_ARGS)
{
	return cost_of_counts(fcinfo, false);
}

Datum
ai_cost_counts_1_5(PG_FUNCTION_ARGS)
{
	return cost_of_counts(fcinfo, true);
}

/* ai_cost(price ai_model_price, call ai_call) RETURNS numeric */
Datum
ai_cost_call_1_5(PG_FUNCTION_ARGS)
{
	RowView		price;
	RowView		call;
	AiPriceRules rules;
	CallCounts	counts;
	Numeric		cost;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	row_from_composite(&price, PG_GETARG_HEAPTUPLEHEADER(0));
	read_price_rules(&price, &rules, true);
	row_release(&price);
	row_from_composite(&call, PG_GETARG_HEAPTUPLEHEADER(1));
	if (!counts_from_row(&call, &counts))
	{
		row_release(&call);
		PG_RETURN_NULL();
	}
	row_release(&call);
	cost = compute_cost(&rules, &counts);
	if (cost == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(cost);
}
