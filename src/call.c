/*
 * call.c
 *		One call on its way into ai_call: the field table built from
 *		ai_call_fields.h, an empty call, and the "prepare" step that both
 *		record_ai_call() (record.c) and record_ai_calls() (batch.c) run on
 *		every call before it is written.
 */
#include "aitrack.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

const AiCallFieldInfo ai_call_fields[AI_NUM_FIELDS] = {
#define AI_CALL_FIELD(symbol, name, type, since, argument, metrics_key, key_kind) \
	[symbol] = {name, type, since, argument, metrics_key, key_kind},
#include "ai_call_fields.h"
#undef AI_CALL_FIELD
};

/* An empty call: every field NULL. */
void
ai_call_init(AiCall *call)
{
	for (int i = 0; i < AI_NUM_FIELDS; i++)
	{
		call->isnull[i] = true;
		call->values[i] = (Datum) 0;
	}
}

void
ai_call_set_text(AiCall *call, AiCallField field, const char *value)
{
	call->values[field] = CStringGetTextDatum(value);
	call->isnull[field] = false;
}

/*
 * Make a call that holds what its caller gave ready to be written, in the
 * same order for every way in:
 *
 *	1. token counts from the response, when the caller gave none (1.1),
 *	   and the service tier and web searches, each when not given (1.5)
 *	2. validation: the first problem found is an error
 *	3. the content policy (after 1: the counts come from the real response)
 *	4. the cost from the price in force, and cost_source (1.1), within the
 *	   range a cost may have; the price's provider for a call without one
 *	5. the provider from the response's shape, when still unknown (1.5)
 *
 * The caller is connected to SPI (pricing reads ai_model_price); what is
 * computed here lives in the caller's current memory context (the SPI
 * procedure's for record_ai_call(), a per-element one for record_ai_calls()).
 */
void
ai_call_prepare(Oid schema, AiCall *call, AitrackApi api)
{
	if (api >= AITRACK_API_1_1 && !call->isnull[AI_RESPONSE])
		ai_call_usage_from_response(call, !ai_call_has_token_counts(call), api);
	ai_call_validate(call, api);
	ai_call_apply_content_policy(call);
	if (api >= AITRACK_API_1_1)
	{
		ai_call_price(schema, call, api);
		ai_call_check_cost(call, true);
	}
	/* After the price, whose provider comes first (1.5). */
	if (api >= AITRACK_API_1_5)
		ai_call_provider_from_response(call);
}
