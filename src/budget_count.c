/*
 * budget_count.c
 *		The trigger that counts every inserted call against the budgets it
 *		falls under, in the recording transaction, and sends the alerts
 *		(1.8; 1.7 did the same in PL/pgSQL).
 *
 * AFTER INSERT ... FOR EACH STATEMENT on ai_call, with the inserted rows as
 * a transition table: whatever wrote them (record_ai_call(), a batch, COPY,
 * a restore) they count.  Without an enabled budget it returns after one
 * look at the kept budgets (budget_cache.c).  Otherwise it reads the rows
 * straight from the transition table, adds them up per (budget, scope
 * value, period), and upserts one ai_budget_spend row each, in the order
 * (budget id, scope value, period start) that every writer of those rows
 * keeps, so that concurrent writers cannot deadlock on them.  The upsert
 * locks the row to the end of the transaction: of two statements that both
 * pass a threshold, the second sees the first one's mark, and the threshold
 * is sent once.  NOTIFY is sent at commit, and not at all on rollback.
 *
 * Updates and deletes of calls (ai_reprice(), purges) leave the spend as it
 * was counted: a budget counts what was spent when.
 */
#include "aitrack.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

typedef struct CountPlans
{
	Oid			schema;
	SPIPlanPtr	add;			/* add to a spend row there, returning spent and marks */
	SPIPlanPtr	upsert;			/* the same, making the row if it is not there */
	SPIPlanPtr	mark;			/* thresholds sent */
	SPIPlanPtr	notify;			/* one alert */
	SPIPlanPtr	model_name;		/* a model id's name, for model budgets */
} CountPlans;

static CountPlans count_plans;

/* One call's share of one spend row, then (merged) one spend row's total. */
typedef struct CountEntry
{
	AiSpendKey	key;
	int			budget;			/* index into the set */
	Numeric		cost;			/* NULL: nothing priced */
	int64		calls;
	int64		unpriced;
} CountEntry;

/* Where the columns read here sit in ai_call, found once per table shape. */
typedef struct CountColumns
{
	Oid			relid;
	int			natts;
	AttrNumber	created_at;
	AttrNumber	cost_usd;
	AttrNumber	user_id;
	AttrNumber	project;
	AttrNumber	api_key;
	AttrNumber	tags;
	AttrNumber	model_id;
} CountColumns;

static CountColumns count_columns;

static const CountColumns *
get_count_columns(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (count_columns.relid != RelationGetRelid(rel) || count_columns.natts != desc->natts)
	{
		count_columns.created_at = SPI_fnumber(desc, "created_at");
		count_columns.cost_usd = SPI_fnumber(desc, "cost_usd");
		count_columns.user_id = SPI_fnumber(desc, "user_id");
		count_columns.project = SPI_fnumber(desc, "project");
		count_columns.api_key = SPI_fnumber(desc, "api_key");
		count_columns.tags = SPI_fnumber(desc, "tags");
		count_columns.model_id = SPI_fnumber(desc, "model_id");
		if (count_columns.created_at <= 0 || count_columns.cost_usd <= 0 ||
			count_columns.user_id <= 0 || count_columns.project <= 0 ||
			count_columns.api_key <= 0 || count_columns.tags <= 0 ||
			count_columns.model_id <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("ai_call lacks a column that budgets count by"),
					 errhint("Run ALTER EXTENSION aitrack UPDATE.")));
		count_columns.relid = RelationGetRelid(rel);
		count_columns.natts = desc->natts;
	}
	return &count_columns;
}

static void
prepare_count_plans(Oid schema)
{
	const char *nsp;
	Oid			upsert_types[6] = {INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID, INT8OID, INT8OID};
	Oid			mark_types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, INT4ARRAYOID};
	Oid			notify_types[5] = {INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID, INT4OID};
	Oid			model_types[1] = {INT8OID};

	if (count_plans.schema == schema && count_plans.upsert != NULL)
		return;
	if (count_plans.add)
		SPI_freeplan(count_plans.add);
	if (count_plans.upsert)
		SPI_freeplan(count_plans.upsert);
	if (count_plans.mark)
		SPI_freeplan(count_plans.mark);
	if (count_plans.notify)
		SPI_freeplan(count_plans.notify);
	if (count_plans.model_name)
		SPI_freeplan(count_plans.model_name);
	memset(&count_plans, 0, sizeof(count_plans));

	nsp = quote_identifier(get_namespace_name(schema));
	count_plans.upsert = aitrack_prepare_plan(psprintf(
		"INSERT INTO %s.ai_budget_spend AS s"
		" (budget_id, scope_value, period_start, spent_usd, calls, unpriced_calls)"
		" VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (budget_id, scope_value, period_start) DO UPDATE"
		" SET spent_usd = s.spent_usd OPERATOR(pg_catalog.+) excluded.spent_usd,"
		" calls = s.calls OPERATOR(pg_catalog.+) excluded.calls,"
		" unpriced_calls = s.unpriced_calls OPERATOR(pg_catalog.+) excluded.unpriced_calls,"
		" updated_at = pg_catalog.now()"
		" RETURNING s.spent_usd, s.alerted_pct", nsp), 6, upsert_types, 0);
	/* (An UPDATE costs less than the upsert's speculative insertion.) */
	count_plans.add = aitrack_prepare_plan(psprintf(
		"UPDATE %s.ai_budget_spend s"
		" SET spent_usd = s.spent_usd OPERATOR(pg_catalog.+) $4,"
		" calls = s.calls OPERATOR(pg_catalog.+) $5,"
		" unpriced_calls = s.unpriced_calls OPERATOR(pg_catalog.+) $6,"
		" updated_at = pg_catalog.now()"
		" WHERE s.budget_id OPERATOR(pg_catalog.=) $1"
		" AND s.scope_value OPERATOR(pg_catalog.=) $2"
		" AND s.period_start OPERATOR(pg_catalog.=) $3"
		" RETURNING s.spent_usd, s.alerted_pct", nsp), 6, upsert_types, 0);
	count_plans.mark = aitrack_prepare_plan(psprintf(
		"UPDATE %s.ai_budget_spend s"
		" SET alerted_pct = s.alerted_pct OPERATOR(pg_catalog.||) $4"
		" WHERE s.budget_id OPERATOR(pg_catalog.=) $1"
		" AND s.scope_value OPERATOR(pg_catalog.=) $2"
		" AND s.period_start OPERATOR(pg_catalog.=) $3", nsp), 4, mark_types, 0);
	count_plans.notify = aitrack_prepare_plan(psprintf(
		"SELECT %s.ai_budget_notify($1, $2, $3, $4, $5)", nsp), 5, notify_types, 0);
	count_plans.model_name = aitrack_prepare_plan(psprintf(
		"SELECT m.modelname FROM %s.ai_model m WHERE m.id OPERATOR(pg_catalog.=) $1", nsp),
		1, model_types, 0);
	count_plans.schema = schema;
}

static int
compare_entries(const void *a, const void *b)
{
	return ai_spend_key_cmp(&((const CountEntry *) a)->key, &((const CountEntry *) b)->key);
}

/*
 * Sort entries[0..n) into lock order and merge those of one spend row;
 * returns how many are left.  The survivors' values are copied into into
 * (a fresh context), so that the caller may drop the context the merged
 * away ones were made in: what a long statement keeps is one entry per
 * spend row, not one per call and budget.
 */
static int
merge_entries(CountEntry *entries, int n, MemoryContext into)
{
	int			nmerged = 0;
	/* the sums made while merging: only the survivors' are kept */
	MemoryContext scratch = AllocSetContextCreate(CurrentMemoryContext, "aitrack budget count merge",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(scratch);

	if (n > 1)
		qsort(entries, n, sizeof(CountEntry), compare_entries);
	for (int i = 0; i < n; i++)
	{
		CountEntry *e = &entries[i];

		CHECK_FOR_INTERRUPTS();
		if (nmerged > 0 && compare_entries(&entries[nmerged - 1], e) == 0)
		{
			CountEntry *sum = &entries[nmerged - 1];

			if (e->cost != NULL)
				sum->cost = sum->cost == NULL ? e->cost :
					DatumGetNumeric(DirectFunctionCall2(numeric_add, NumericGetDatum(sum->cost),
														NumericGetDatum(e->cost)));
			sum->calls += e->calls;
			sum->unpriced += e->unpriced;
			continue;
		}
		entries[nmerged++] = *e;
	}
	MemoryContextSwitchTo(into);
	for (int i = 0; i < nmerged; i++)
	{
		entries[i].key.scope_value = pstrdup(entries[i].key.scope_value);
		if (entries[i].cost != NULL)
			entries[i].cost = DatumGetNumericCopy(NumericGetDatum(entries[i].cost));
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(scratch);
	return nmerged;
}

/* The name of model id, or NULL (a restore loads ai_model after ai_call). */
static char *
model_name_of(Datum model_id)
{
	Datum		param = model_id;
	int			rc = SPI_execute_plan(count_plans.model_name, &param, NULL, true, 1);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return NULL;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

static char *
text_column(TupleTableSlot *slot, AttrNumber att)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, att, &isnull);

	return isnull ? NULL : TextDatumGetCString(value);
}

/* Thresholds newly reached by spent: marked sent, then sent, in order. */
static void
send_alerts(const AiBudget *budget, const CountEntry *row, Datum spent, Datum alerted)
{
	Numeric		spent_x100 = DatumGetNumeric(DirectFunctionCall2(numeric_mul, spent,
																 DirectFunctionCall1(int4_numeric, Int32GetDatum(100))));
	Datum	   *sent = NULL;
	int			nsent = 0;
	Datum	   *reached = palloc(sizeof(Datum) * Max(budget->nalerts, 1));
	int			nreached = 0;
	bool	   *sent_nulls;

	if (budget->nalerts == 0)
		return;
	if (alerted != (Datum) 0)
		deconstruct_array(DatumGetArrayTypeP(alerted), INT4OID, 4, true, TYPALIGN_INT,
						  &sent, &sent_nulls, &nsent);
	for (int i = 0; i < budget->nalerts; i++)
	{
		bool		was_sent = false;

		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(spent_x100),
											  NumericGetDatum(budget->alert_limit[i]))) < 0)
			break;				/* ascending: none further is reached */
		for (int j = 0; j < nsent && !was_sent; j++)
			was_sent = !sent_nulls[j] && DatumGetInt32(sent[j]) == budget->alert_at_pct[i];
		if (!was_sent)
			reached[nreached++] = Int32GetDatum(budget->alert_at_pct[i]);
	}
	if (nreached == 0)
		return;

	{
		Datum		mark[4];
		Datum		notify[5];
		int			rc;

		mark[0] = Int64GetDatum(budget->id);
		mark[1] = CStringGetTextDatum(row->key.scope_value);
		mark[2] = TimestampTzGetDatum(row->key.period_start);
		mark[3] = PointerGetDatum(construct_array(reached, nreached, INT4OID, 4, true, TYPALIGN_INT));
		rc = ai_budget_spi_execute(count_plans.mark, mark, NULL);
		if (rc != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		notify[0] = mark[0];
		notify[1] = mark[1];
		notify[2] = mark[2];
		notify[3] = spent;
		for (int i = 0; i < nreached; i++)
		{
			notify[4] = reached[i];
			rc = ai_budget_spi_execute(count_plans.notify, notify, NULL);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		}
	}
}

/* Count the calls of rows against set's budgets. */
static void
count_rows(Oid schema, const AiBudgetSet *set, Relation rel, Tuplestorestate *rows)
{
	const CountColumns *cols = get_count_columns(rel);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsMinimalTuple);
	int			ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
	CountEntry *entries;
	int			nentries = 0;
	int			cap = 16;
	int			nmerged = 0;
	int			compact_at = 65536;	/* entries before the next merge */
	MemoryContext values_context;
	/*
	 * The budgets as they are now: a reload further down (a nested
	 * statement) would replace set->budgets, while these stay valid to the
	 * end of the transaction (budget_cache.c).
	 */
	const AiBudget *budgets = set->budgets;
	Datum		last_model_id = (Datum) 0;
	char	   *last_model_name = NULL;
	bool		model_known = false;
	MemoryContext call_context;
	MemoryContext outer = CurrentMemoryContext;
	AiSpendRows *spend_rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_count_plans(schema);
	/* The entries outlive each row; each row's own values go with it. */
	MemoryContextSwitchTo(outer);
	entries = palloc(sizeof(CountEntry) * cap);
	call_context = AllocSetContextCreate(outer, "aitrack budget count row", ALLOCSET_SMALL_SIZES);
	values_context = AllocSetContextCreate(outer, "aitrack budget count values", ALLOCSET_DEFAULT_SIZES);

	tuplestore_select_read_pointer(rows, ptr);
	tuplestore_rescan(rows);
	while (tuplestore_gettupleslot(rows, true, false, slot))
	{
		bool		isnull;
		Datum		created_at;
		Datum		cost;
		bool		cost_null;
		Datum		user_id;
		bool		user_null;
		Datum		tags;
		bool		tags_null;
		char	   *modelname = NULL;
		AiBudgetMatch *matches;
		int			nmatches;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(call_context);
		old = MemoryContextSwitchTo(call_context);

		created_at = slot_getattr(slot, cols->created_at, &isnull);
		cost = slot_getattr(slot, cols->cost_usd, &cost_null);
		user_id = slot_getattr(slot, cols->user_id, &user_null);
		tags = slot_getattr(slot, cols->tags, &tags_null);
		if (set->any_model)
		{
			Datum		model_id = slot_getattr(slot, cols->model_id, &isnull);

			if (!model_known || model_id != last_model_id)
			{
				/* (in the outer context: kept for the next rows) */
				MemoryContextSwitchTo(outer);
				last_model_name = model_name_of(model_id);
				if (last_model_name != NULL)
					last_model_name = pstrdup(last_model_name);
				MemoryContextSwitchTo(call_context);
				last_model_id = model_id;
				model_known = true;
			}
			modelname = last_model_name;
		}
		nmatches = ai_budget_match(set, user_null ? NULL : DatumGetUUIDP(user_id),
								   text_column(slot, cols->project),
								   text_column(slot, cols->api_key),
								   tags_null ? NULL : DatumGetArrayTypeP(tags),
								   modelname, &matches);

		MemoryContextSwitchTo(values_context);
		for (int m = 0; m < nmatches; m++)
		{
			CountEntry *e;

			if (nentries == cap)
			{
				cap *= 2;
				entries = repalloc_huge(entries, sizeof(CountEntry) * cap);
			}
			e = &entries[nentries++];
			e->budget = (int) (matches[m].budget - budgets);
			e->key.budget_id = matches[m].budget->id;
			e->key.scope_value = pstrdup(matches[m].scope_value);
			e->key.period_start = ai_budget_period_start(matches[m].budget, DatumGetTimestampTz(created_at));
			e->cost = cost_null ? NULL : DatumGetNumericCopy(cost);
			e->calls = 1;
			e->unpriced = cost_null ? 1 : 0;
		}
		MemoryContextSwitchTo(old);

		/* A long statement (COPY, a restore): keep one entry per row. */
		if (nentries >= compact_at)
		{
			MemoryContext fresh = AllocSetContextCreate(outer, "aitrack budget count values",
														ALLOCSET_DEFAULT_SIZES);

			nentries = merge_entries(entries, nentries, fresh);
			MemoryContextDelete(values_context);
			values_context = fresh;
			compact_at = Max(65536, 2 * nentries);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(call_context);

	/* Merged per spend row, in lock order. */
	nmerged = merge_entries(entries, nentries, values_context);
	spend_rows = nmerged > 0 ? ai_spend_rows_open(schema) : NULL;

	for (int i = 0; i < nmerged; i++)
	{
		CountEntry *e = &entries[i];
		const AiBudget *budget = &budgets[e->budget];
		Datum		params[6];
		int			rc;
		bool		isnull;
		Datum		spent;
		Datum		alerted;
		SPITupleTable *result;

		CHECK_FOR_INTERRUPTS();
		params[0] = Int64GetDatum(budget->id);
		params[1] = CStringGetTextDatum(e->key.scope_value);
		params[2] = TimestampTzGetDatum(e->key.period_start);
		params[3] = e->cost != NULL ? NumericGetDatum(e->cost) :
			DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
		params[4] = Int64GetDatum(e->calls);
		params[5] = Int64GetDatum(e->unpriced);
		if (spend_rows != NULL)
		{
			/* the row there (all but a period's first call): no SQL */
			AiSpendChange change = {0};
			AiSpendRowState after;

			change.spent = DatumGetNumeric(params[3]);
			change.calls = e->calls;
			change.unpriced = e->unpriced;
			change.counted = true;
			if (ai_spend_row_change(spend_rows, &e->key, &change, &after) == AI_SPEND_CHANGED)
			{
				if (budget->nalerts > 0)
					send_alerts(budget, e, NumericGetDatum(after.spent), after.alerted);
				pfree(DatumGetPointer(params[1]));
				continue;
			}
		}
		else
		{
			rc = ai_budget_spi_execute(count_plans.add, params, NULL);
			if (rc != SPI_OK_UPDATE_RETURNING)
				elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		}
		if (spend_rows != NULL || SPI_processed == 0)
		{
			/* the first call of the row's period */
			if (spend_rows == NULL)
				SPI_freetuptable(SPI_tuptable);
			rc = ai_budget_spi_execute(count_plans.upsert, params, NULL);
			if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
				elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		}
		result = SPI_tuptable;
		if (budget->nalerts > 0)
		{
			spent = SPI_getbinval(result->vals[0], result->tupdesc, 1, &isnull);
			alerted = SPI_getbinval(result->vals[0], result->tupdesc, 2, &isnull);
			send_alerts(budget, e, spent, isnull ? (Datum) 0 : alerted);
		}
		SPI_freetuptable(result);
		pfree(DatumGetPointer(params[1]));
	}
	ai_spend_rows_close(spend_rows);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(ai_budget_count_calls_1_8);

Datum
ai_budget_count_calls_1_8(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || trigdata->tg_newtable == NULL)
		elog(ERROR, "ai_budget_count_calls must be an AFTER INSERT ... FOR EACH STATEMENT trigger with a NEW TABLE");
	aitrack_trigger_on_own_table(fcinfo, "ai_call");
	ai_budget_count_rows(trigdata->tg_relation, trigdata->tg_newtable);
	return PointerGetDatum(NULL);
}

/*
 * Count the rows inserted into ai_call (the trigger's transition table, or
 * 1.10's rows inserted into a distributed ai_call, which has no trigger:
 * src/distributed.c) against the enabled budgets they fall under.
 */
void
ai_budget_count_rows(Relation ai_call, Tuplestorestate *rows)
{
	Oid			schema = RelationGetNamespace(ai_call);
	const AiBudgetSet *set;
	MemoryContext work;
	MemoryContext old;

	if (tuplestore_tuple_count(rows) == 0)
		return;
	set = ai_budget_set(schema);
	if (set->nbudgets == 0)
		return;

	work = AllocSetContextCreate(CurrentMemoryContext, "aitrack budget count", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	count_rows(schema, set, ai_call, rows);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
}
