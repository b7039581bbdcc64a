/*
 * rollup.c
 *		The trigger that keeps ai_usage_rollup in step with ai_call.
 *
 * After every statement that inserts, updates or deletes calls, it appends
 * one pending rollup row per (hour, model, call_type, status, user) the
 * statement touched: the counts and sums of the new rows, minus those of
 * the old ones.  The rows are written in the statement's own transaction,
 * so they commit and roll back with the calls; writers only ever insert,
 * so no two of them wait on the same row.  ai_rollup_compact() folds the
 * pending rows later.
 *
 * aitrack.skip_rollup = on (set by the retention procedures for their own
 * transactions) leaves the rollups alone: the purged calls' numbers stay.
 */
#include "aitrack.h"

#include "commands/trigger.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

typedef struct CapturePlans
{
	Oid			schema;
	SPIPlanPtr	add_new;		/* + rows of aitrack_new */
	SPIPlanPtr	remove_old;		/* - rows of aitrack_old */
	SPIPlanPtr	truncate;
} CapturePlans;

static CapturePlans capture_plans;

/*
 * The numeric columns of a rollup row, each as (sum, count of non-NULL), in
 * table order.
 */
const char *const ai_rollup_summed_columns[AI_ROLLUP_NUM_SUMMED] = {
	"input_tokens", "reasoning_tokens", "output_tokens",
	"cache_read_input_tokens", "cache_creation_input_tokens",
	"cost_usd", "duration_ms", "time_to_first_token_ms",
};

static char *
capture_query(const char *nsp, const char *table, bool add)
{
	StringInfoData q;
	const char *neg = add ? "" : "OPERATOR(pg_catalog.-) ";

	initStringInfo(&q);
	appendStringInfo(&q,
					 "INSERT INTO %s.ai_usage_rollup"
					 " SELECT pg_catalog.date_trunc('hour', t.created_at, 'UTC'),"
					 " t.model_id, t.call_type, t.status, t.user_id, true,"
					 " %spg_catalog.count(*)",
					 nsp, neg);
	for (size_t i = 0; i < lengthof(ai_rollup_summed_columns); i++)
		appendStringInfo(&q,
						 ", %sCOALESCE(pg_catalog.sum(t.%s), 0), %spg_catalog.count(t.%s)",
						 neg, ai_rollup_summed_columns[i], neg, ai_rollup_summed_columns[i]);
	/* A removed call cannot move first_call or last_call; see compaction. */
	if (add)
		appendStringInfoString(&q, ", pg_catalog.min(t.created_at), pg_catalog.max(t.created_at)");
	else
		appendStringInfoString(&q, ", NULL::pg_catalog.timestamptz, NULL::pg_catalog.timestamptz");
	appendStringInfo(&q,
					 ", %s.ai_hist_merge(%s.ai_hist_of(t.duration_ms, %d))"
					 " FROM %s t GROUP BY 1, 2, 3, 4, 5",
					 nsp, nsp, add ? 1 : -1, table);
	return q.data;
}

/*
 * The plan for one kind of work, prepared on first use.  A plan that reads
 * a transition table can only be prepared while the trigger has registered
 * it, hence one at a time.
 */
static SPIPlanPtr
get_capture_plan(Oid schema, SPIPlanPtr *plan, const char *table, bool add)
{
	const char *nsp;

	if (capture_plans.schema != schema)
	{
		if (capture_plans.add_new)
			SPI_freeplan(capture_plans.add_new);
		if (capture_plans.remove_old)
			SPI_freeplan(capture_plans.remove_old);
		if (capture_plans.truncate)
			SPI_freeplan(capture_plans.truncate);
		memset(&capture_plans, 0, sizeof(capture_plans));
		capture_plans.schema = schema;
	}
	if (*plan != NULL)
		return *plan;

	nsp = quote_identifier(get_namespace_name(schema));
	if (table != NULL)
		*plan = aitrack_prepare_plan(capture_query(nsp, table, add), 0, NULL, 0);
	else
		*plan = aitrack_prepare_plan(psprintf("DELETE FROM %s.ai_usage_rollup;"
											  " DELETE FROM %s.ai_usage_rollup_total",
											  nsp, nsp),
									 0, NULL, 0);
	return *plan;
}

static void
run(SPIPlanPtr plan)
{
	int			rc = SPI_execute_plan(plan, NULL, NULL, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

static bool
rollup_skipped(void)
{
	const char *value = GetConfigOption("aitrack.skip_rollup", true, false);
	bool		skip = false;

	return value != NULL && parse_bool(value, &skip) && skip;
}

PG_FUNCTION_INFO_V1(ai_rollup_capture_1_2);

/* AFTER INSERT / UPDATE / DELETE / TRUNCATE ... FOR EACH STATEMENT on ai_call. */
Datum
ai_rollup_capture_1_2(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TriggerEvent event;
	Oid			schema;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "ai_rollup_capture must be an AFTER ... FOR EACH STATEMENT trigger");
	if (rollup_skipped())
		return PointerGetDatum(NULL);

	event = trigdata->tg_event;
	schema = RelationGetNamespace(trigdata->tg_relation);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "SPI_register_trigger_data failed");

	if (TRIGGER_FIRED_BY_TRUNCATE(event))
		run(get_capture_plan(schema, &capture_plans.truncate, NULL, false));
	if (TRIGGER_FIRED_BY_DELETE(event) || TRIGGER_FIRED_BY_UPDATE(event))
		run(get_capture_plan(schema, &capture_plans.remove_old, "aitrack_old", false));
	if (TRIGGER_FIRED_BY_INSERT(event) || TRIGGER_FIRED_BY_UPDATE(event))
		run(get_capture_plan(schema, &capture_plans.add_new, "aitrack_new", true));

	SPI_finish();
	return PointerGetDatum(NULL);
}
