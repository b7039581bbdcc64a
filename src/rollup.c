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
 * pending rows later: it is PL/pgSQL, defined (as of 1.8) in sql/aitrack--1.7--1.8.sql
 * (README's "Where each SQL object is defined" lists every object).
 *
 * 1.8 (ai_rollup_capture_1_8): each statement also appends pending rows to
 * the project level, ai_usage_rollup_project, one per (hour, project,
 * model, call_type, status) it touched, the same way.  A level of its own
 * rather than a new key of ai_usage_rollup: the update creates it empty
 * (no index build or rewrite of the big hourly table, whose unique key
 * would have to change), and recording pays one more heap row and one
 * index entry per call (written without the executor, as the first).
 */
#include "aitrack.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/rls.h"

/*
 * The levels the trigger appends pending rows to: the hourly one per user
 * (1.2), and (1.8) the hourly one per project.  Their rows differ in the
 * fifth key column only.
 */
typedef enum RollupLevel
{
	LEVEL_USER,
	LEVEL_PROJECT,
	NUM_LEVELS
} RollupLevel;

static const char *const level_tables[NUM_LEVELS] = {"ai_usage_rollup", "ai_usage_rollup_project"};
static const char *const level_keys[NUM_LEVELS] = {"user_id", "project"};
static const Oid level_key_types[NUM_LEVELS] = {UUIDOID, TEXTOID};

typedef struct CapturePlans
{
	Oid			schema;
	int			nsummed;		/* 1.2's summed columns, or 1.5's */
	bool		project;		/* 1.8: the project level too */
	bool		truncate_daily; /* the truncate plan empties the daily level */
	bool		truncate_project_daily; /* ... and (1.8) the daily project level */
	SPIPlanPtr	add_new[NUM_LEVELS];	/* + rows of aitrack_new */
	SPIPlanPtr	remove_old[NUM_LEVELS]; /* - rows of aitrack_old */
	SPIPlanPtr	truncate;
	SPIPlanPtr	one_row[NUM_LEVELS];	/* a rollup row from values, for one call */
} CapturePlans;

/*
 * A rollup row as parameters of one_row: bucket, model_id, call_type,
 * status, user_id (project, on the project level), calls, then (sum, count)
 * per summed column, first_call, last_call, latency.
 */
#define ONE_ROW_PARAMS (6 + 2 * AI_ROLLUP_NUM_SUMMED + 3)
#define PARAM_KEY 4

static CapturePlans capture_plans;

/*
 * The numeric columns of a rollup row, each as (sum, count of non-NULL), in
 * table order.
 */
const char *const ai_rollup_summed_columns[AI_ROLLUP_NUM_SUMMED] = {
	"input_tokens", "reasoning_tokens", "output_tokens",
	"cache_read_input_tokens", "cache_creation_input_tokens",
	"cost_usd", "duration_ms", "time_to_first_token_ms",
	/* 1.5 */
	"cache_creation_1h_input_tokens", "input_audio_tokens", "cache_read_audio_tokens",
	"input_image_tokens", "output_audio_tokens", "output_image_tokens",
	"web_search_requests",
};

/*
 * Has the extension in this schema 1.6's daily level?  Found in the
 * catalog, not by a version number, so that 1.6 needs no new C symbol (a
 * session that loaded the library before a make install goes on working
 * after ALTER EXTENSION UPDATE); the tables must be the extension's own, not
 * look-alikes someone with CREATE on the schema made.
 */
bool
ai_rollup_has_daily_level(Oid schema)
{
	Oid			extension = get_extension_oid("aitrack", true);
	Oid			daily = get_relname_relid("ai_usage_rollup_daily", schema);
	Oid			state = get_relname_relid("ai_upkeep_state", schema);

	return OidIsValid(extension) && OidIsValid(daily) && OidIsValid(state) &&
		getExtensionOfObject(RelationRelationId, daily) == extension &&
		getExtensionOfObject(RelationRelationId, state) == extension;
}

/*
 * 1.8: has the extension in this schema the daily project level
 * (ai_usage_rollup_project_daily, the folded project level summed per UTC
 * day) beside the hourly one?  The extension's own table, as above: a
 * database that has the hourly project level only reads that.
 */
bool
ai_rollup_has_project_daily_level(Oid schema)
{
	Oid			extension = get_extension_oid("aitrack", true);
	Oid			relid = get_relname_relid("ai_usage_rollup_project_daily", schema);

	return OidIsValid(extension) && OidIsValid(relid) &&
		getExtensionOfObject(RelationRelationId, relid) == extension &&
		ai_rollup_has_project_level(schema);
}

/*
 * 1.8: has the extension in this schema the project level?  Its tables,
 * the extension's own, as for the daily level above.  ai_usage_stats()
 * asks (the rollup trigger knows by its symbol).
 */
bool
ai_rollup_has_project_level(Oid schema)
{
	static const char *const tables[] = {
		"ai_usage_rollup_project", "ai_usage_purged_project", "ai_usage_purged_project_floor"
	};
	Oid			extension = get_extension_oid("aitrack", true);

	if (!OidIsValid(extension) || !ai_rollup_has_daily_level(schema))
		return false;
	for (int i = 0; i < (int) lengthof(tables); i++)
	{
		Oid			relid = get_relname_relid(tables[i], schema);

		if (!OidIsValid(relid) ||
			getExtensionOfObject(RelationRelationId, relid) != extension)
			return false;
	}
	return true;
}

/* The columns of a rollup row, named: 1.5 added some after latency. */
static char *
rollup_column_list(int nsummed, RollupLevel level)
{
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfo(&q, "(bucket, model_id, call_type, status, %s, pending, calls",
					 level_keys[level]);
	for (int i = 0; i < nsummed; i++)
		appendStringInfo(&q, ", %s, %s_n", ai_rollup_summed_columns[i], ai_rollup_summed_columns[i]);
	appendStringInfoString(&q, ", first_call, last_call, latency)");
	return q.data;
}

static char *
capture_query(const char *nsp, const char *table, bool add, int nsummed, RollupLevel level)
{
	StringInfoData q;
	const char *neg = add ? "" : "OPERATOR(pg_catalog.-) ";

	initStringInfo(&q);
	appendStringInfo(&q,
					 "INSERT INTO %s.%s %s"
					 " SELECT pg_catalog.date_trunc('hour', t.created_at, 'UTC'),"
					 " t.model_id, t.call_type, t.status, t.%s, true,"
					 " %spg_catalog.count(*)",
					 nsp, level_tables[level], rollup_column_list(nsummed, level),
					 level_keys[level], neg);
	for (int i = 0; i < nsummed; i++)
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
/* Forget every plan when the schema, the version or the levels change. */
static void
reset_capture_plans(Oid schema, int nsummed, bool project)
{
	if (capture_plans.schema == schema && capture_plans.nsummed == nsummed &&
		capture_plans.project == project)
		return;
	for (int l = 0; l < NUM_LEVELS; l++)
	{
		if (capture_plans.add_new[l])
			SPI_freeplan(capture_plans.add_new[l]);
		if (capture_plans.remove_old[l])
			SPI_freeplan(capture_plans.remove_old[l]);
		if (capture_plans.one_row[l])
			SPI_freeplan(capture_plans.one_row[l]);
	}
	if (capture_plans.truncate)
		SPI_freeplan(capture_plans.truncate);
	memset(&capture_plans, 0, sizeof(capture_plans));
	capture_plans.schema = schema;
	capture_plans.nsummed = nsummed;
	capture_plans.project = project;
}

static SPIPlanPtr
get_capture_plan(Oid schema, int nsummed, bool project, SPIPlanPtr *plan,
				 const char *table, bool add, RollupLevel level)
{
	const char *nsp;

	reset_capture_plans(schema, nsummed, project);
	if (*plan != NULL)
		return *plan;

	nsp = quote_identifier(get_namespace_name(schema));
	if (table != NULL)
		*plan = aitrack_prepare_plan(capture_query(nsp, table, add, nsummed, level), 0, NULL, 0);
	else
	{
		/* 1.6's daily level too, where the extension has it; 1.8's project level. */
		bool		daily = ai_rollup_has_daily_level(schema);
		bool		project_daily = project && ai_rollup_has_project_daily_level(schema);

		*plan = aitrack_prepare_plan(psprintf("DELETE FROM %s.ai_usage_rollup;"
											  " DELETE FROM %s.ai_usage_rollup_total%s%s%s%s",
											  nsp, nsp,
											  daily ? "; DELETE FROM " : "",
											  daily ? psprintf("%s.ai_usage_rollup_daily", nsp) : "",
											  project ? psprintf("; DELETE FROM %s.ai_usage_rollup_project", nsp) : "",
											  project_daily ? psprintf("; DELETE FROM %s.ai_usage_rollup_project_daily", nsp) : ""),
									 0, NULL, 0);
		capture_plans.truncate_daily = daily;
		capture_plans.truncate_project_daily = project_daily;
	}
	return *plan;
}

static void
run_with(SPIPlanPtr plan, Datum *params, const char *nulls)
{
	int			rc = SPI_execute_plan(plan, params, nulls, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

static void run(SPIPlanPtr plan);

static SPIPlanPtr
get_one_row_plan(Oid schema, int nsummed, bool project, RollupLevel level)
{
	Oid			types[ONE_ROW_PARAMS];
	StringInfoData q;
	int			n = 0;

	/* resets on schema or version change */
	reset_capture_plans(schema, nsummed, project);
	if (capture_plans.one_row[level] != NULL)
		return capture_plans.one_row[level];

	types[n++] = TIMESTAMPTZOID;
	types[n++] = INT8OID;
	types[n++] = TEXTOID;
	types[n++] = TEXTOID;
	types[n++] = level_key_types[level];
	types[n++] = INT8OID;
	for (int i = 0; i < nsummed; i++)
	{
		types[n++] = strcmp(ai_rollup_summed_columns[i], "cost_usd") == 0 ? NUMERICOID : INT8OID;
		types[n++] = INT8OID;
	}
	types[n++] = TIMESTAMPTZOID;
	types[n++] = TIMESTAMPTZOID;
	types[n++] = INT4ARRAYOID;

	initStringInfo(&q);
	appendStringInfo(&q, "INSERT INTO %s.%s %s VALUES ($1, $2, $3, $4, $5, true",
					 quote_identifier(get_namespace_name(schema)), level_tables[level],
					 rollup_column_list(nsummed, level));
	for (int p = 6; p <= n; p++)
		appendStringInfo(&q, ", $%d", p);
	appendStringInfoChar(&q, ')');
	capture_plans.one_row[level] = aitrack_prepare_plan(q.data, n, types, 0);
	return capture_plans.one_row[level];
}

static TimestampTz
hour_of(TimestampTz t)
{
	TimestampTz rem = t % USECS_PER_HOUR;

	return t - (rem < 0 ? rem + USECS_PER_HOUR : rem);
}

/*
 * Where the columns the fast path reads sit in ai_call, looked up once per
 * backend (again if the table is re-created or gains columns): this runs
 * for every record_ai_call().
 */
typedef struct CallColumns
{
	Oid			relid;
	int			natts;
	AttrNumber	created_at;
	AttrNumber	model_id;
	AttrNumber	call_type;
	AttrNumber	status;
	AttrNumber	user_id;
	AttrNumber	project;		/* 1.7 on; read by 1.8's trigger only */
	AttrNumber	duration_ms;
	AttrNumber	summed[AI_ROLLUP_NUM_SUMMED];
} CallColumns;

static CallColumns call_columns;

static const CallColumns *
get_call_columns(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (call_columns.relid != RelationGetRelid(rel) || call_columns.natts != desc->natts)
	{
		/* A 1.2 to 1.4 ai_call lacks 1.5's columns: those are never read. */
		call_columns.created_at = SPI_fnumber(desc, "created_at");
		call_columns.model_id = SPI_fnumber(desc, "model_id");
		call_columns.call_type = SPI_fnumber(desc, "call_type");
		call_columns.status = SPI_fnumber(desc, "status");
		call_columns.user_id = SPI_fnumber(desc, "user_id");
		call_columns.project = SPI_fnumber(desc, "project");
		call_columns.duration_ms = SPI_fnumber(desc, "duration_ms");
		for (int i = 0; i < AI_ROLLUP_NUM_SUMMED; i++)
			call_columns.summed[i] = SPI_fnumber(desc, ai_rollup_summed_columns[i]);
		call_columns.relid = RelationGetRelid(rel);
		call_columns.natts = desc->natts;
	}
	return &call_columns;
}

/*
 * SPI, connected once per trigger call, and only when needed: the one-row
 * path writes without it.
 */
static bool spi_connected = false;

/*
 * What one capture counts: a trigger's transition tables, or (1.10) the
 * rows that a statement on a distributed ai_call wrote, given by the
 * statement's writer (src/distributed.c) under the same names.
 */
typedef struct CaptureInput
{
	Relation	rel;			/* ai_call */
	TriggerEvent event;
	Tuplestorestate *oldtable;	/* "aitrack_old": deleted or updated rows */
	Tuplestorestate *newtable;	/* "aitrack_new": inserted or updated rows */
	TriggerData *trigdata;		/* the trigger's, or NULL */
} CaptureInput;

/* Make rows readable by SPI queries as the named relation name. */
static void
register_rows(const char *name, Relation rel, Tuplestorestate *rows)
{
	EphemeralNamedRelation enr = palloc0(sizeof(EphemeralNamedRelationData));

	enr->md.name = pstrdup(name);
	enr->md.reliddesc = RelationGetRelid(rel);
	enr->md.tupdesc = NULL;
	enr->md.enrtype = ENR_NAMED_TUPLESTORE;
	enr->md.enrtuples = tuplestore_tuple_count(rows);
	enr->reldata = rows;
	if (SPI_register_relation(enr) != SPI_OK_REL_REGISTER)
		elog(ERROR, "SPI_register_relation failed");
}

static void
connect_for_capture(const CaptureInput *in)
{
	if (spi_connected)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (in->trigdata != NULL)
	{
		if (SPI_register_trigger_data(in->trigdata) != SPI_OK_TD_REGISTER)
			elog(ERROR, "SPI_register_trigger_data failed");
	}
	else
	{
		if (in->oldtable != NULL)
			register_rows("aitrack_old", in->rel, in->oldtable);
		if (in->newtable != NULL)
			register_rows("aitrack_new", in->rel, in->newtable);
	}
	spi_connected = true;
}

/*
 * Where one_row's parameters go in ai_usage_rollup, by column name, looked
 * up once per backend and again when the table's relcache entry is
 * invalidated (ALTER TABLE, DROP EXTENSION).  usable: every column of the
 * table is one of them (none is left to a default), of the type the
 * parameter has, so the tuple can be formed without the executor.
 */
typedef struct RollupColumns
{
	Oid			relid;			/* InvalidOid: look again */
	int			nsummed;
	bool		usable;
	AttrNumber	pending;
	AttrNumber	param_att[ONE_ROW_PARAMS];	/* attnum of each parameter */
} RollupColumns;

/* One per level. */
static RollupColumns rollup_columns[NUM_LEVELS];

void
rollup_relcache_invalidated(Oid relid)
{
	for (int l = 0; l < NUM_LEVELS; l++)
		if (relid == InvalidOid || relid == rollup_columns[l].relid)
			rollup_columns[l].relid = InvalidOid;
}

static void
map_rollup_columns(Relation rel, int nsummed, RollupLevel level)
{
	RollupColumns *cols = &rollup_columns[level];
	TupleDesc	desc = RelationGetDescr(rel);
	Oid			types[ONE_ROW_PARAMS];
	const char *names[ONE_ROW_PARAMS];
	int			n = 0;
	int			live = 0;
	bool		usable = true;

	names[n] = "bucket";
	types[n++] = TIMESTAMPTZOID;
	names[n] = "model_id";
	types[n++] = INT8OID;
	names[n] = "call_type";
	types[n++] = TEXTOID;
	names[n] = "status";
	types[n++] = TEXTOID;
	names[n] = level_keys[level];
	types[n++] = level_key_types[level];
	names[n] = "calls";
	types[n++] = INT8OID;
	for (int i = 0; i < nsummed; i++)
	{
		names[n] = ai_rollup_summed_columns[i];
		types[n++] = strcmp(ai_rollup_summed_columns[i], "cost_usd") == 0 ? NUMERICOID : INT8OID;
		names[n] = psprintf("%s_n", ai_rollup_summed_columns[i]);
		types[n++] = INT8OID;
	}
	names[n] = "first_call";
	types[n++] = TIMESTAMPTZOID;
	names[n] = "last_call";
	types[n++] = TIMESTAMPTZOID;
	names[n] = "latency";
	types[n++] = INT4ARRAYOID;

	cols->pending = SPI_fnumber(desc, "pending");
	if (cols->pending <= 0 ||
		TupleDescAttr(desc, cols->pending - 1)->atttypid != BOOLOID)
		usable = false;
	for (int p = 0; p < n; p++)
	{
		AttrNumber	att = SPI_fnumber(desc, names[p]);

		cols->param_att[p] = att;
		/* A typmod (numeric(3,2), timestamptz(0)) would need the INSERT's coercion. */
		if (att <= 0 || TupleDescAttr(desc, att - 1)->atttypid != types[p] ||
			TupleDescAttr(desc, att - 1)->atttypmod != -1)
			usable = false;
	}
	for (int a = 0; a < desc->natts; a++)
		if (!TupleDescAttr(desc, a)->attisdropped)
			live++;
	if (live != n + 1)
		usable = false;			/* a column we do not fill */

	cols->nsummed = nsummed;
	cols->usable = usable;
	cols->relid = RelationGetRelid(rel);
}

/*
 * Insert one_row's row into ai_usage_rollup without SPI: form the tuple,
 * insert it, insert its index entries, as the executor's INSERT would.
 * That INSERT's executor start-up (plan check, result relation, a
 * projection of 39 parameters) cost more than the insert itself.
 *
 * Only where the INSERT would do nothing else, and false (the caller then
 * runs the INSERT) otherwise: the table has triggers, CHECK constraints,
 * columns we do not fill, row-level security that applies to this role,
 * or no INSERT privilege for it, or a NOT NULL column would get a NULL (the
 * INSERT then raises PostgreSQL's own error).
 */
static bool
insert_one_row(Oid schema, int nsummed, RollupLevel level, Datum *params, const char *nulls)
{
	Oid			relid = get_relname_relid(level_tables[level], schema);
	RollupColumns *cols = &rollup_columns[level];
	Relation	rel;
	TupleDesc	desc;
	TupleTableSlot *slot;
	EState	   *estate;
	ResultRelInfo *rri;

	if (!OidIsValid(relid))
		return false;
	/* What the INSERT checks first; it would fail the same way. */
	if (pg_class_aclcheck(relid, GetUserId(), ACL_INSERT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return false;

	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);
	if (cols->relid != relid || cols->nsummed != nsummed)
		map_rollup_columns(rel, nsummed, level);
	if (!cols->usable || rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relispartition || rel->trigdesc != NULL || rel->rd_rules != NULL ||
		(desc->constr != NULL && desc->constr->num_check > 0))
	{
		table_close(rel, RowExclusiveLock);
		return false;
	}

	slot = table_slot_create(rel, NULL);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * desc->natts);
	slot->tts_values[cols->pending - 1] = BoolGetDatum(true);
	slot->tts_isnull[cols->pending - 1] = false;
	for (int p = 0; p < ONE_ROW_PARAMS - 2 * (AI_ROLLUP_NUM_SUMMED - nsummed); p++)
	{
		AttrNumber	att = cols->param_att[p];

		if (nulls[p] == 'n' && TupleDescAttr(desc, att - 1)->attnotnull)
		{
			ExecDropSingleTupleTableSlot(slot);
			table_close(rel, RowExclusiveLock);
			return false;
		}
		slot->tts_values[att - 1] = params[p];
		slot->tts_isnull[att - 1] = nulls[p] == 'n';
	}
	ExecStoreVirtualTuple(slot);

	estate = CreateExecutorState();
	rri = makeNode(ResultRelInfo);
	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);
	table_tuple_insert(rel, slot, GetCurrentCommandId(true), 0, NULL);
	if (rri->ri_NumIndices > 0)
		list_free(ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL
#if PG_VERSION_NUM >= 160000
										,false
#endif
										));
	ExecCloseIndices(rri);
	FreeExecutorState(estate);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
	return true;
}

/*
 * A statement that wrote one call (every record_ai_call()) needs no GROUP
 * BY: read the row from the transition table and insert its rollup row.
 */
static void
capture_one_row(const CaptureInput *in, Oid schema, int nsummed, bool project,
				Tuplestorestate *rows, bool add)
{
	Relation	rel = in->rel;
	TupleDesc	desc = RelationGetDescr(rel);
	const CallColumns *cols = get_call_columns(rel);
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	Datum		params[ONE_ROW_PARAMS];
	char		nulls[ONE_ROW_PARAMS];
	int			n = 0;
	bool		isnull;
	Datum		value;
	/*
	 * A read pointer of our own that may rewind (the transition table was
	 * created with EXEC_FLAG_REWIND), so the rescan below is allowed.
	 */
	int			ptr = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);

#define COLUMN(attnum) slot_getattr(slot, (attnum), &isnull)
	tuplestore_select_read_pointer(rows, ptr);
	tuplestore_rescan(rows);
	if (!tuplestore_gettupleslot(rows, true, false, slot))
		elog(ERROR, "transition table is empty");

	memset(nulls, ' ', sizeof(nulls));
	value = COLUMN(cols->created_at);
	params[n++] = TimestampTzGetDatum(hour_of(DatumGetTimestampTz(value)));
	params[n++] = COLUMN(cols->model_id);
	params[n] = COLUMN(cols->call_type);
	nulls[n++] = isnull ? 'n' : ' ';
	params[n] = COLUMN(cols->status);
	nulls[n++] = isnull ? 'n' : ' ';
	params[n] = COLUMN(cols->user_id);
	nulls[n++] = isnull ? 'n' : ' ';
	params[n++] = Int64GetDatum(add ? 1 : -1);
	for (int i = 0; i < nsummed; i++)
	{
		bool		is_cost = strcmp(ai_rollup_summed_columns[i], "cost_usd") == 0;

		value = COLUMN(cols->summed[i]);
		if (is_cost)
			params[n++] = isnull ? DirectFunctionCall1(int8_numeric, Int64GetDatum(0)) :
				(add ? value : DirectFunctionCall1(numeric_uminus, value));
		else
			params[n++] = Int64GetDatum(isnull ? 0 : (add ? 1 : -1) * (int64) DatumGetInt32(value));
		params[n++] = Int64GetDatum(isnull ? 0 : (add ? 1 : -1));
	}
	/* A removed call cannot move first_call or last_call; see compaction. */
	value = COLUMN(cols->created_at);
	params[n] = value;
	nulls[n++] = add ? ' ' : 'n';
	params[n] = value;
	nulls[n++] = add ? ' ' : 'n';
	value = COLUMN(cols->duration_ms);
	params[n] = isnull ? (Datum) 0 : PointerGetDatum(ai_hist_pair(DatumGetInt32(value), add ? 1 : -1));
	nulls[n++] = isnull ? 'n' : ' ';

	for (int l = 0; l < (project ? NUM_LEVELS : 1); l++)
	{
		/* 1.8: the same row on the project level, with the call's project. */
		if (l == LEVEL_PROJECT)
		{
			if (cols->project <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("ai_call has no column project"),
						 errhint("The 1.8 rollup trigger needs the columns of 1.7.")));
			params[PARAM_KEY] = COLUMN(cols->project);
			nulls[PARAM_KEY] = isnull ? 'n' : ' ';
		}
		if (!insert_one_row(schema, nsummed, (RollupLevel) l, params, nulls))
		{
			/* The general way, through SPI: see insert_one_row(). */
			connect_for_capture(in);
			run_with(get_one_row_plan(schema, nsummed, project, (RollupLevel) l), params, nulls);
		}
	}
#undef COLUMN
	ExecDropSingleTupleTableSlot(slot);
}

static void
run(SPIPlanPtr plan)
{
	run_with(plan, NULL, NULL);
}

/*
 * Count what one statement did to ai_call: its deleted or updated rows out
 * of the rollups, its inserted or updated rows in, or all of them out on
 * TRUNCATE.
 */
static void
capture(const CaptureInput *in, int nsummed, bool project)
{
	TriggerEvent event = in->event;
	Oid			schema = RelationGetNamespace(in->rel);
	volatile bool saved_connected;

	/* A trigger of a nested statement connects on its own. */
	saved_connected = spi_connected;
	spi_connected = false;

	PG_TRY();
	{
		if (TRIGGER_FIRED_BY_TRUNCATE(event))
		{
			connect_for_capture(in);
			/* An update to 1.6 since the plan was made: make it again. */
			if (capture_plans.truncate != NULL && capture_plans.schema == schema &&
				(capture_plans.truncate_daily != ai_rollup_has_daily_level(schema) ||
				 capture_plans.truncate_project_daily !=
				 (project && ai_rollup_has_project_daily_level(schema))))
			{
				SPI_freeplan(capture_plans.truncate);
				capture_plans.truncate = NULL;
			}
			/* (resets the plans first on a change of schema or version) */
			reset_capture_plans(schema, nsummed, project);
			run(get_capture_plan(schema, nsummed, project, &capture_plans.truncate, NULL, false,
								 LEVEL_USER));
		}
		if (TRIGGER_FIRED_BY_DELETE(event) || TRIGGER_FIRED_BY_UPDATE(event))
		{
			if (tuplestore_tuple_count(in->oldtable) == 1)
				capture_one_row(in, schema, nsummed, project, in->oldtable, false);
			else if (tuplestore_tuple_count(in->oldtable) > 1)
			{
				connect_for_capture(in);
				for (int l = 0; l < (project ? NUM_LEVELS : 1); l++)
				{
					reset_capture_plans(schema, nsummed, project);
					run(get_capture_plan(schema, nsummed, project, &capture_plans.remove_old[l],
										 "aitrack_old", false, (RollupLevel) l));
				}
			}
		}
		if (TRIGGER_FIRED_BY_INSERT(event) || TRIGGER_FIRED_BY_UPDATE(event))
		{
			if (tuplestore_tuple_count(in->newtable) == 1)
				capture_one_row(in, schema, nsummed, project, in->newtable, true);
			else if (tuplestore_tuple_count(in->newtable) > 1)
			{
				connect_for_capture(in);
				for (int l = 0; l < (project ? NUM_LEVELS : 1); l++)
				{
					reset_capture_plans(schema, nsummed, project);
					run(get_capture_plan(schema, nsummed, project, &capture_plans.add_new[l],
										 "aitrack_new", true, (RollupLevel) l));
				}
			}
		}
	}
	PG_CATCH();
	{
		spi_connected = saved_connected;
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (spi_connected)
		SPI_finish();
	spi_connected = saved_connected;
	/*
	 * Pending rows were appended: have them folded in the background
	 * (src/upkeep.c), as the extension's owner, whose rights this SECURITY
	 * DEFINER trigger (and every writer of a distributed ai_call) runs
	 * with.
	 */
	if (!TRIGGER_FIRED_BY_TRUNCATE(event))
		ai_upkeep_kick(GetUserId());
}

/* AFTER INSERT / UPDATE / DELETE / TRUNCATE ... FOR EACH STATEMENT on ai_call. */
static Datum
rollup_capture(FunctionCallInfo fcinfo, int nsummed, bool project)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	CaptureInput in;

	if (!CALLED_AS_TRIGGER(fcinfo) ||
		!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "ai_rollup_capture must be an AFTER ... FOR EACH STATEMENT trigger");
	aitrack_trigger_on_own_table(fcinfo, "ai_call");

	in.rel = trigdata->tg_relation;
	in.event = trigdata->tg_event;
	in.oldtable = trigdata->tg_oldtable;
	in.newtable = trigdata->tg_newtable;
	in.trigdata = trigdata;
	capture(&in, nsummed, project);
	return PointerGetDatum(NULL);
}

/*
 * 1.10: the rows a statement inserted into (TRIGGER_EVENT_INSERT) or
 * deleted from (TRIGGER_EVENT_DELETE) a distributed ai_call, which has no
 * rollup trigger, counted as the trigger of 1.8 on counts them; or all of
 * them out after a TRUNCATE (TRIGGER_EVENT_TRUNCATE, rows NULL).  The caller
 * runs with the rights of the extension's owner.
 */
void
ai_rollup_capture_rows(Relation ai_call, TriggerEvent event, Tuplestorestate *rows)
{
	CaptureInput in;

	Assert(event == TRIGGER_EVENT_INSERT || event == TRIGGER_EVENT_DELETE ||
		   event == TRIGGER_EVENT_TRUNCATE);
	in.rel = ai_call;
	in.event = event;
	in.oldtable = event == TRIGGER_EVENT_DELETE ? rows : NULL;
	in.newtable = event == TRIGGER_EVENT_INSERT ? rows : NULL;
	in.trigdata = NULL;
	capture(&in, AI_ROLLUP_NUM_SUMMED, true);
}

PG_FUNCTION_INFO_V1(ai_rollup_capture_1_2);
PG_FUNCTION_INFO_V1(ai_rollup_capture_1_5);
PG_FUNCTION_INFO_V1(ai_rollup_capture_1_8);

Datum
ai_rollup_capture_1_2(PG_FUNCTION_ARGS)
{
	return rollup_capture(fcinfo, AI_ROLLUP_NUM_SUMMED_1_2, false);
}

/* 1.5: the rollups sum what is billed apart too. */
Datum
ai_rollup_capture_1_5(PG_FUNCTION_ARGS)
{
	return rollup_capture(fcinfo, AI_ROLLUP_NUM_SUMMED, false);
}

/*
 * 1.8: and the project level.  A symbol of its own, not found in the
 * catalog: a session that loaded the library of 1.7 must not go on
 * recording into a 1.8 database without the project level, where the
 * stats would then miss its calls (it fails instead, "could not find
 * function", until it reconnects: make install before the update).
 */
Datum
ai_rollup_capture_1_8(PG_FUNCTION_ARGS)
{
	return rollup_capture(fcinfo, AI_ROLLUP_NUM_SUMMED, true);
}
