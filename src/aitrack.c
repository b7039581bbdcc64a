/*
 * aitrack.c
 *		Module entry: the magic block, the field names shared by messages,
 *		where the extension's tables live, and preparing kept SPI plans.
 */
#include "aitrack.h"

#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

const char *const ai_call_field_names[AI_NUM_FIELDS] = {
	[AI_MODELNAME] = "modelname",
	[AI_VERSION] = "version",
	[AI_PROMPT] = "prompt",
	[AI_RESPONSE] = "response",
	[AI_INPUT_TOKENS] = "input_tokens",
	[AI_REASONING_TOKENS] = "reasoning_tokens",
	[AI_OUTPUT_TOKENS] = "output_tokens",
	[AI_COST_USD] = "cost_usd",
	[AI_DURATION_MS] = "duration_ms",
	[AI_CALL_TYPE] = "call_type",
	[AI_STATUS] = "status",
	[AI_USER_ID] = "user_id",
	[AI_EXTRA] = "extra",
	[AI_CACHE_READ_INPUT_TOKENS] = "cache_read_input_tokens",
	[AI_CACHE_CREATION_INPUT_TOKENS] = "cache_creation_input_tokens",
	[AI_TIME_TO_FIRST_TOKEN_MS] = "time_to_first_token_ms",
	[AI_COST_SOURCE] = "cost_source",
	[AI_CREATED_AT] = "created_at",
};

/*
 * The schema the extension was created in is the schema of the SQL function
 * being called: a syscache lookup, cheaper than reading pg_extension on
 * every call, and right even if the extension was dropped and re-created
 * elsewhere in this backend's lifetime.
 */
Oid
aitrack_function_schema(FunctionCallInfo fcinfo)
{
	Oid			schema = get_func_namespace(fcinfo->flinfo->fn_oid);

	if (!OidIsValid(schema))
		elog(ERROR, "cache lookup failed for function %u",
			 fcinfo->flinfo->fn_oid);
	return schema;
}

/*
 * Prepare a statement once and keep it for the life of the backend.  The
 * caller must be connected to SPI.  Queries are fixed text built from
 * schema-qualified names; values only ever travel as parameters.
 */
SPIPlanPtr
aitrack_prepare_plan(const char *query, int nargs, Oid *argtypes,
					 int cursor_options)
{
	SPIPlanPtr	plan;

	plan = SPI_prepare_cursor(query, nargs, argtypes, cursor_options);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s",
			 query, SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}
