/*
 * budget_cache.c
 *		The enabled budgets of a database, kept per backend (1.8), which of
 *		them a call falls under, and the period a moment falls in.
 *
 * Every recording statement and every reservation asks which budgets a
 * call falls under.  Reading ai_budget for that (1.7 did, in PL/pgSQL) cost
 * more than the insert itself; ai_budget changes a few times a day.  So the
 * enabled budgets are read once and kept, and any change to ai_budget drops
 * them: its statement trigger ai_budget_invalidate (this file) sends a
 * relcache invalidation of ai_budget, which every backend receives, at the
 * latest when it next locks the table, as ai_budget_set() does each time.
 *
 * The lock is the other half: ai_budget_changed() takes ai_budget in ACCESS
 * EXCLUSIVE mode before it recounts a budget, so while a recording
 * transaction holds ACCESS SHARE (taken here, kept to its end) no budget's
 * scope or period changes under it, and each call is counted by exactly one
 * definition of each budget.
 *
 * The budgets are read with the latest snapshot, not the transaction's:
 * what is kept must be what is committed now, whatever the isolation level
 * of the transaction that happened to load it.
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

static const char *const scope_names[AI_NUM_BUDGET_SCOPES] = {
	"all", "user", "project", "api_key", "tag", "model"
};

static AiBudgetSet budget_set;
static MemoryContext budget_context = NULL;
static SPIPlanPtr load_plan = NULL;
static Oid	load_plan_schema = InvalidOid;

/* Moments past these have no period start of their own (see 1.7's script). */
static TimestampTz latest_truncatable;
static TimestampTz earliest_truncatable;
static bool bounds_known = false;

void
budget_cache_relcache_invalidated(Oid relid)
{
	if (relid == InvalidOid || relid == budget_set.relid)
		budget_set.valid = false;
}

const char *
ai_budget_scope_name(AiBudgetScope scope)
{
	return scope_names[scope];
}

static AiBudgetScope
scope_from_name(const char *name)
{
	for (int i = 0; i < AI_NUM_BUDGET_SCOPES; i++)
		if (strcmp(name, scope_names[i]) == 0)
			return (AiBudgetScope) i;
	/* ai_budget's CHECK allows no other */
	elog(ERROR, "unknown budget scope \"%s\"", name);
	return AI_BUDGET_ALL;		/* keep the compiler quiet */
}

static int
compare_int32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a;
	int32		y = *(const int32 *) b;

	return (x > y) - (x < y);
}

/* The thresholds of a budget, ascending, each once. */
static void
read_thresholds(AiBudget *budget, Datum array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			kept = 0;

	deconstruct_array(DatumGetArrayTypeP(array), INT4OID, 4, true, TYPALIGN_INT,
					  &elems, &nulls, &n);
	budget->alert_at_pct = palloc(sizeof(int32) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			budget->alert_at_pct[kept++] = DatumGetInt32(elems[i]);
	qsort(budget->alert_at_pct, kept, sizeof(int32), compare_int32);
	budget->nalerts = 0;
	budget->alert_limit = palloc(sizeof(Numeric) * Max(kept, 1));
	for (int i = 0; i < kept; i++)
	{
		if (budget->nalerts > 0 &&
			budget->alert_at_pct[budget->nalerts - 1] == budget->alert_at_pct[i])
			continue;
		budget->alert_at_pct[budget->nalerts] = budget->alert_at_pct[i];
		/* limit x pct, compared with spent x 100: exact, no division */
		budget->alert_limit[budget->nalerts] =
			DatumGetNumeric(DirectFunctionCall2(numeric_mul, NumericGetDatum(budget->limit_usd),
												DirectFunctionCall1(int4_numeric,
																	Int32GetDatum(budget->alert_at_pct[i]))));
		budget->nalerts++;
	}
}

static void
load_budgets(Oid schema)
{
	MemoryContext old;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (load_plan == NULL || load_plan_schema != schema)
	{
		if (load_plan != NULL)
			SPI_freeplan(load_plan);
		load_plan = NULL;
		load_plan = aitrack_prepare_plan(psprintf(
			"SELECT b.id, b.name, b.scope, b.scope_value, b.period, b.time_zone,"
			" b.limit_usd, b.hard, b.alert_at_pct"
			" FROM %s.ai_budget b WHERE b.enabled ORDER BY b.id",
			quote_identifier(get_namespace_name(schema))), 0, NULL, 0);
		load_plan_schema = schema;
	}
	rc = SPI_execute_snapshot(load_plan, NULL, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));

	/*
	 * The budgets kept before may still be in use by a statement further up
	 * (a trigger of a nested record_ai_call() reloading them): they go with
	 * the transaction.
	 */
	if (budget_context != NULL)
		MemoryContextSetParent(budget_context, TopTransactionContext);
	budget_context = AllocSetContextCreate(TopMemoryContext, "aitrack budgets",
										   ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(budget_context);

	budget_set.nbudgets = (int) SPI_processed;
	budget_set.budgets = palloc0(sizeof(AiBudget) * Max(budget_set.nbudgets, 1));
	budget_set.any_model = false;
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		AiBudget   *b = &budget_set.budgets[i];
		bool		isnull;
		char	   *value;

		b->id = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		b->name = SPI_getvalue(tuple, desc, 2);
		b->scope = scope_from_name(SPI_getvalue(tuple, desc, 3));
		value = SPI_getvalue(tuple, desc, 4);
		b->scope_value = value;	/* NULL: each value */
		b->period = SPI_getvalue(tuple, desc, 5);
		b->lifetime = strcmp(b->period, "lifetime") == 0;
		b->period_text = cstring_to_text(b->period);
		b->time_zone = cstring_to_text(SPI_getvalue(tuple, desc, 6));
		b->limit_usd = DatumGetNumericCopy(SPI_getbinval(tuple, desc, 7, &isnull));
		b->hard = DatumGetBool(SPI_getbinval(tuple, desc, 8, &isnull));
		read_thresholds(b, SPI_getbinval(tuple, desc, 9, &isnull));
		if (b->scope == AI_BUDGET_MODEL)
			budget_set.any_model = true;
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/*
 * The enabled budgets of the extension in schema, for this statement; the
 * caller's transaction holds ai_budget in ACCESS SHARE mode from here on.
 * Loads them (through SPI, connecting on its own) when they are not kept.
 */
const AiBudgetSet *
ai_budget_set(Oid schema)
{
	Oid			relid = get_relname_relid("ai_budget", schema);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("aitrack's table ai_budget is missing"),
				 errhint("Run ALTER EXTENSION aitrack UPDATE.")));
	LockRelationOid(relid, AccessShareLock);
	/* (LockRelationOid accepts them only for a lock not yet held) */
	AcceptInvalidationMessages();
	if (!budget_set.valid || budget_set.schema != schema || budget_set.relid != relid)
	{
		budget_set.relid = relid;
		budget_set.schema = schema;
		/* an invalidation that comes in while loading leaves it invalid */
		budget_set.valid = true;
		PG_TRY();
		{
			load_budgets(schema);
		}
		PG_CATCH();
		{
			budget_set.valid = false;
			budget_set.nbudgets = 0;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return &budget_set;
}

/*
 * The start of the period of budget that the moment at falls in; as
 * ai_budget_period_start() in SQL.
 */
TimestampTz
ai_budget_period_start(const AiBudget *budget, TimestampTz at)
{
	if (!bounds_known)
	{
		latest_truncatable = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																	 CStringGetDatum("294276-12-01 00:00+00"),
																	 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		earliest_truncatable = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
																	   CStringGetDatum("4713-02-01 00:00+00 BC"),
																	   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		bounds_known = true;
	}
	if (budget->lifetime)
		return DT_NOBEGIN;
	if (TIMESTAMP_IS_NOEND(at) || at >= latest_truncatable)
		return DT_NOEND;
	if (TIMESTAMP_IS_NOBEGIN(at) || at < earliest_truncatable)
		return DT_NOBEGIN;
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_trunc_zone,
												   PointerGetDatum(budget->period_text),
												   TimestampTzGetDatum(at),
												   PointerGetDatum(budget->time_zone)));
}

/*
 * The lock order of spend rows: budget id, scope value byte by byte (SQL
 * that locks them orders by scope_value COLLATE "C"), period start.
 */
int
ai_spend_key_cmp(const AiSpendKey *a, const AiSpendKey *b)
{
	int			c;

	if (a->budget_id != b->budget_id)
		return a->budget_id < b->budget_id ? -1 : 1;
	c = strcmp(a->scope_value, b->scope_value);
	if (c != 0)
		return c;
	return (a->period_start > b->period_start) - (a->period_start < b->period_start);
}

static int
compare_matches(const void *a, const void *b)
{
	const AiBudgetMatch *x = a;
	const AiBudgetMatch *y = b;

	if (x->budget->id != y->budget->id)
		return x->budget->id < y->budget->id ? -1 : 1;
	return strcmp(x->scope_value, y->scope_value);
}

/*
 * The budgets of set that a call with this attribution falls under, each
 * with the scope value its spend is kept under ('' for 'all', each distinct
 * tag for 'tag'), in lock order: budget id, then scope value byte by byte
 * (SQL that locks spend rows orders them COLLATE "C", the same).  NULL
 * arguments are absent values.  Returns the number of matches in *matches
 * (palloc'd in the current context).
 */
int
ai_budget_match(const AiBudgetSet *set, const pg_uuid_t *user_id, const char *project,
				const char *api_key, ArrayType *tags, const char *modelname,
				AiBudgetMatch **matches)
{
	AiBudgetMatch *out;
	int			n = 0;
	int			cap = 8;
	char	   *user_text = NULL;
	Datum	   *tag_values = NULL;
	int			ntags = 0;

	*matches = NULL;
	if (set->nbudgets == 0)
		return 0;
	out = palloc(sizeof(AiBudgetMatch) * cap);
	if (tags != NULL)
	{
		bool	   *tag_nulls;

		deconstruct_array(tags, TEXTOID, -1, false, TYPALIGN_INT,
						  &tag_values, &tag_nulls, &ntags);
		for (int i = 0; i < ntags; i++)
			tag_values[i] = tag_nulls[i] ? (Datum) 0 : CStringGetDatum(TextDatumGetCString(tag_values[i]));
	}

	for (int i = 0; i < set->nbudgets; i++)
	{
		const AiBudget *b = &set->budgets[i];
		const char *value = NULL;
		int			nvalues = 1;

		if (b->scope == AI_BUDGET_TAG)
			nvalues = ntags;
		for (int v = 0; v < nvalues; v++)
		{
			switch (b->scope)
			{
				case AI_BUDGET_ALL:
					value = "";
					break;
				case AI_BUDGET_USER:
					if (user_id != NULL && user_text == NULL)
						user_text = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(user_id)));
					value = user_text;
					break;
				case AI_BUDGET_PROJECT:
					value = project;
					break;
				case AI_BUDGET_API_KEY:
					value = api_key;
					break;
				case AI_BUDGET_MODEL:
					value = modelname;
					break;
				case AI_BUDGET_TAG:
					value = DatumGetCString(tag_values[v]);
					/* each distinct tag once */
					for (int w = 0; value != NULL && w < v; w++)
						if (tag_values[w] != (Datum) 0 && strcmp(DatumGetCString(tag_values[w]), value) == 0)
							value = NULL;
					break;
				case AI_NUM_BUDGET_SCOPES:
					break;
			}
			if (value == NULL || (b->scope_value != NULL && strcmp(b->scope_value, value) != 0))
				continue;
			if (n == cap)
			{
				cap *= 2;
				out = repalloc(out, sizeof(AiBudgetMatch) * cap);
			}
			out[n].budget = b;
			out[n].scope_value = value;
			n++;
		}
	}
	if (n > 1)
		qsort(out, n, sizeof(AiBudgetMatch), compare_matches);
	*matches = out;
	return n;
}

/*
 * A transaction at REPEATABLE READ or SERIALIZABLE counts its calls by the
 * budgets committed now (what this file keeps), not by those of its
 * snapshot: a budget made after the snapshot was taken still counts them
 * (1.7 missed them), and its spend rows are read and written as they are
 * now, not as the snapshot saw them (1.7 failed with 40001 on a row another
 * session had counted into since).
 */
int
ai_budget_spi_execute(SPIPlanPtr plan, Datum *params, const char *nulls)
{
	if (IsolationUsesXactSnapshot())
		return SPI_execute_snapshot(plan, params, nulls, GetLatestSnapshot(),
									InvalidSnapshot, false, true, 0);
	return SPI_execute_plan(plan, params, nulls, false, 0);
}

/*
 * ai_budget_invalidate(): AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ...
 * FOR EACH STATEMENT on ai_budget.  Every backend's kept budgets are
 * dropped when the change commits (this backend's at once).
 */
PG_FUNCTION_INFO_V1(ai_budget_invalidate_1_8);

Datum
ai_budget_invalidate_1_8(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "ai_budget_invalidate must be a FOR EACH STATEMENT trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
