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
 * Cost, in exact numeric, rates in USD per million tokens:
 *		(input - cache_read - cache_creation) * input rate
 *		+ cache_read * cache read rate			(default: input rate)
 *		+ cache_creation * cache creation rate	(default: input rate)
 *		+ (output - reasoning) * output rate
 *		+ reasoning * reasoning rate			(default: output rate)
 * Cache tokens are inside input_tokens and reasoning tokens inside
 * output_tokens, so nothing is priced twice.  Unknown cache or reasoning
 * counts count as 0; unknown input or output makes the cost unknown.
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

typedef enum PriceRate
{
	RATE_INPUT,
	RATE_OUTPUT,
	RATE_CACHE_READ,
	RATE_CACHE_CREATION,
	RATE_REASONING,
	NUM_RATES
} PriceRate;

static const char *const rate_columns[NUM_RATES] = {
	"input_usd_per_mtok",
	"output_usd_per_mtok",
	"cache_read_usd_per_mtok",
	"cache_creation_usd_per_mtok",
	"reasoning_usd_per_mtok",
};

typedef struct TokenCounts
{
	int64		input;			/* -1: unknown */
	int64		cache_read;
	int64		cache_creation;
	int64		output;
	int64		reasoning;
} TokenCounts;

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

static Numeric
times(int64 count, Datum rate)
{
	return numeric_mul_opt_error(int64_to_numeric(count), DatumGetNumeric(rate), NULL);
}

/* The cost of counts at rates, or NULL when it cannot be known. */
static Numeric
compute_cost(const Datum *rates, const bool *rate_isnull, TokenCounts counts)
{
	int64		cache_read = Max(counts.cache_read, 0);
	int64		cache_creation = Max(counts.cache_creation, 0);
	int64		reasoning = Max(counts.reasoning, 0);
	Datum		cache_read_rate;
	Datum		cache_creation_rate;
	Datum		reasoning_rate;
	Numeric		total;
	Numeric		per_token;

	if (rate_isnull[RATE_INPUT] || rate_isnull[RATE_OUTPUT] ||
		counts.input < 0 || counts.output < 0 ||
		cache_read + cache_creation > counts.input || reasoning > counts.output)
		return NULL;

	cache_read_rate = rate_isnull[RATE_CACHE_READ] ? rates[RATE_INPUT] : rates[RATE_CACHE_READ];
	cache_creation_rate = rate_isnull[RATE_CACHE_CREATION] ? rates[RATE_INPUT] : rates[RATE_CACHE_CREATION];
	reasoning_rate = rate_isnull[RATE_REASONING] ? rates[RATE_OUTPUT] : rates[RATE_REASONING];

	total = times(counts.input - cache_read - cache_creation, rates[RATE_INPUT]);
	total = numeric_add_opt_error(total, times(cache_read, cache_read_rate), NULL);
	total = numeric_add_opt_error(total, times(cache_creation, cache_creation_rate), NULL);
	total = numeric_add_opt_error(total, times(counts.output - reasoning, rates[RATE_OUTPUT]), NULL);
	total = numeric_add_opt_error(total, times(reasoning, reasoning_rate), NULL);

	/* Multiplying by 10^-6 is exact; dividing by 10^6 would round. */
	per_token = DatumGetNumeric(DirectFunctionCall3(numeric_in,
													CStringGetDatum("0.000001"),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(-1)));
	total = numeric_mul_opt_error(total, per_token, NULL);
	return DatumGetNumeric(DirectFunctionCall1(numeric_trim_scale,
											   NumericGetDatum(total)));
}

static int64
field_count(AiCall *call, AiCallField field)
{
	return call->isnull[field] ? -1 : DatumGetInt32(call->values[field]);
}

/*
 * Decide a call's cost_source, and its cost when the caller gave none: from
 * the price in force at the call's created_at (now, unless given).  The caller is connected
 * to SPI; the results live in the SPI procedure's memory until SPI_finish.
 */
void
ai_call_price(Oid schema, AiCall *call)
{
	const char *source = "unknown";

	if (!call->isnull[AI_COST_USD])
		source = "provided";
	else if (!call->isnull[AI_INPUT_TOKENS] && !call->isnull[AI_OUTPUT_TOKENS] &&
			 find_price(schema, call->values[AI_MODELNAME], call->values[AI_VERSION],
						call->isnull[AI_CREATED_AT] ? GetCurrentTransactionStartTimestamp() :
						DatumGetTimestampTz(call->values[AI_CREATED_AT])))
	{
		Datum		rates[NUM_RATES];
		bool		rate_isnull[NUM_RATES];
		TokenCounts counts = {
			.input = field_count(call, AI_INPUT_TOKENS),
			.cache_read = field_count(call, AI_CACHE_READ_INPUT_TOKENS),
			.cache_creation = field_count(call, AI_CACHE_CREATION_INPUT_TOKENS),
			.output = field_count(call, AI_OUTPUT_TOKENS),
			.reasoning = field_count(call, AI_REASONING_TOKENS),
		};
		Numeric		cost;

		for (int r = 0; r < NUM_RATES; r++)
			rates[r] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									 SPI_fnumber(SPI_tuptable->tupdesc, rate_columns[r]),
									 &rate_isnull[r]);
		cost = compute_cost(rates, rate_isnull, counts);
		/* A batch prices thousands of calls in one SPI connection. */
		SPI_freetuptable(SPI_tuptable);
		if (cost != NULL)
		{
			call->values[AI_COST_USD] = NumericGetDatum(cost);
			call->isnull[AI_COST_USD] = false;
			source = "computed";
		}
	}
	call->values[AI_COST_SOURCE] = CStringGetTextDatum(source);
	call->isnull[AI_COST_SOURCE] = false;
}

PG_FUNCTION_INFO_V1(ai_price_at_1_1);
PG_FUNCTION_INFO_V1(ai_cost_1_1);

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
 * ai_cost(price ai_model_price, input_tokens, cache_read_input_tokens,
 *		cache_creation_input_tokens, output_tokens, reasoning_tokens)
 * RETURNS numeric: the cost, or NULL when it cannot be known.
 */
Datum
ai_cost_1_1(PG_FUNCTION_ARGS)
{
	HeapTupleHeader price;
	Datum		rates[NUM_RATES];
	bool		rate_isnull[NUM_RATES];
	TokenCounts counts;
	Numeric		cost;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	price = PG_GETARG_HEAPTUPLEHEADER(0);
	for (int r = 0; r < NUM_RATES; r++)
		rates[r] = GetAttributeByName(price, rate_columns[r], &rate_isnull[r]);

	counts.input = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	counts.cache_read = PG_ARGISNULL(2) ? -1 : PG_GETARG_INT32(2);
	counts.cache_creation = PG_ARGISNULL(3) ? -1 : PG_GETARG_INT32(3);
	counts.output = PG_ARGISNULL(4) ? -1 : PG_GETARG_INT32(4);
	counts.reasoning = PG_ARGISNULL(5) ? -1 : PG_GETARG_INT32(5);
	/* A negative count is nonsense, not "unknown": no cost for it. */
	for (int arg = 1; arg <= 5; arg++)
		if (!PG_ARGISNULL(arg) && PG_GETARG_INT32(arg) < 0)
			PG_RETURN_NULL();

	cost = compute_cost(rates, rate_isnull, counts);
	if (cost == NULL)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(cost);
}
