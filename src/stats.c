/*
 * stats.c
 *		ai_usage_stats(): calls, errors, tokens, cost and latency over
 *		ai_call, grouped by any of model, modelname, call_type, status, user,
 *		(1.7) project, api_key, tag and one time bucket.
 *
 * The query text depends only on which dimensions are grouped and which
 * filters are given, never on their values: it is assembled from fixed
 * fragments, prepared once per (dimensions, filters) combination and kept
 * for the life of the backend.  Filter values travel as parameters.
 */
#include "aitrack.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "pgtime.h"
#include "parser/scansup.h"
#include "utils/datetime.h"

/* Grouping dimensions, as bits of the plan key. */
#define DIM_MODEL		(1 << 0)	/* modelname and version */
#define DIM_MODELNAME	(1 << 1)	/* modelname alone */
#define DIM_CALL_TYPE	(1 << 2)
#define DIM_STATUS		(1 << 3)
#define DIM_USER		(1 << 4)
#define DIM_BUCKET_SHIFT 5			/* 3 bits: index into bucket_units */

/*
 * Filters present, as bits of the plan key: since, until, modelname,
 * call_type, user_id, then (1.7) project, api_key, tag.
 */
#define FILTER_SHIFT	8
#define NUM_FILTERS_1_5	5
#define NUM_FILTERS		8

/* The API version, in the plan key above the filter bits (7 bits). */
#define API_SHIFT		16
#define API_MASK		0x7f
/*
 * 1.11: a tenant's question on a distributed ai_call, whose calls come
 * from ai_tenant_calls() (a tenant may not query that ai_call itself; see
 * tenant_calls_source()).
 */
#define KEY_TENANT_CALLS (1u << 23)
/* 1.2: answer from the rollups (else from ai_call, as 1.0 and 1.1 do). */
#define KEY_ROLLUP		(1 << 24)
/* The caller is a tenant: answer from per-user rows only. */
#define KEY_TENANT		(1 << 25)
/*
 * 1.6: whole UTC days may come from the daily level (see daily_range());
 * 1.8, with KEY_PROJECT_LEVEL: from the daily project level.
 */
#define KEY_DAILY		(1 << 26)
/* 1.7: the attribution dimensions, which no rollup holds. */
#define DIM_PROJECT		(1u << 27)
#define DIM_API_KEY		(1u << 28)
#define DIM_TAG			(1u << 29)
/*
 * 1.7: a question naming an attribution dimension or filter, in a zone of
 * whole hours: from ai_call directly, plus ai_usage_purged's whole hours
 * when no attribution filter is given (see build_attribution_query()).
 */
#define KEY_ATTRIBUTION	(1u << 30)
/*
 * 1.8: a question by project (grouped or filtered) that names no user,
 * api_key or tag, asked by a caller who may read the project level: the
 * hours the project level covers from it, the rest from ai_call (see
 * build_project_query()).  Only where the extension has the level (found
 * in the catalog: a 1.7 database keeps 1.7's answers, from the same
 * symbol).
 */
#define KEY_PROJECT_LEVEL	(1u << 31)

#define DIMS_ATTRIBUTION	(DIM_PROJECT | DIM_API_KEY | DIM_TAG)
#define FILTERS_ATTRIBUTION	(7u << (FILTER_SHIFT + NUM_FILTERS_1_5))

/*
 * Parameters of every plan: the five filters, then (1.2) the time zone and
 * the whole hours [$7, $8) that the rollups answer for, then (1.6) the
 * whole UTC days [$9, $10) inside them that the daily level may answer for
 * (both $8 when it may not), then (1.7, plans of the attribution questions
 * only) the filters project, api_key and tag.
 */
#define NUM_PARAMS_1_5	10
#define NUM_PARAMS		13
#define PARAM_TZ		5
#define PARAM_HOURS_FROM 6
#define PARAM_HOURS_UNTIL 7
#define PARAM_DAYS_FROM 8
#define PARAM_DAYS_UNTIL 9

/* Output columns of the widest version. */
#define MAX_STATS_COLUMNS 32

#define STATS_ARG_GROUP_BY 2

static const char *const bucket_units[] = {NULL, "hour", "day", "week", "month"};

static const char *const filter_clauses[NUM_FILTERS] = {
	"c.created_at OPERATOR(pg_catalog.>=) $1",
	"c.created_at OPERATOR(pg_catalog.<) $2",
	"m.modelname OPERATOR(pg_catalog.=) $3",
	"c.call_type OPERATOR(pg_catalog.=) $4",
	"c.user_id OPERATOR(pg_catalog.=) $5",
	/* 1.7 */
	"c.project OPERATOR(pg_catalog.=) $11",
	"c.api_key OPERATOR(pg_catalog.=) $12",
	"c.tags OPERATOR(pg_catalog.@>) ARRAY[$13]",
};

/* The parameter of each filter, and the argument of the function it is. */
static const int filter_params[NUM_FILTERS] = {0, 1, 2, 3, 4, 10, 11, 12};
static const int filter_args[NUM_FILTERS] = {0, 1, 3, 4, 5, 7, 8, 9};
static const char *const filter_names[NUM_FILTERS] = {
	"since", "until", "modelname", "call_type", "user_id", "project", "api_key", "tag"
};

static const Oid param_types[NUM_PARAMS] = {
	TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, UUIDOID,
	TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	TEXTOID, TEXTOID, TEXTOID
};

/*
 * The same filters on a rollup row s (time is handled by the hour range;
 * no rollup row has an attribution).
 */
static const char *const rollup_filter_clauses[NUM_FILTERS] = {
	NULL,
	NULL,
	"m.modelname OPERATOR(pg_catalog.=) $3",
	"s.call_type OPERATOR(pg_catalog.=) $4",
	"s.user_id OPERATOR(pg_catalog.=) $5",
	NULL,
	NULL,
	NULL,
};

#define VALID_DIMENSIONS_HINT \
	"Valid dimensions are: model, modelname, call_type, status, user, and at most one of hour, day, week, month."
#define VALID_DIMENSIONS_HINT_1_7 \
	"Valid dimensions are: model, modelname, call_type, status, user, project, api_key, tag, and at most one of hour, day, week, month."

typedef struct StatsPlanEntry
{
	uint32		key;			/* dimension and filter bits: must be first */
	SPIPlanPtr	plan;
} StatsPlanEntry;

static HTAB *stats_plans = NULL;
static Oid	stats_plans_schema = InvalidOid;

/* Turn the group_by array into dimension bits; reject what we don't know. */
static uint32
parse_group_by(ArrayType *group_by, AitrackApi api)
{
	const char *hint = api >= AITRACK_API_1_7 ? VALID_DIMENSIONS_HINT_1_7 : VALID_DIMENSIONS_HINT;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	uint32		dims = 0;
	int			bucket = 0;

	deconstruct_array(group_by, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		char	   *dim;
		int			unit = 0;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("group_by must not contain null"),
					 errhint("%s", hint)));
		dim = TextDatumGetCString(elems[i]);

		if (strcmp(dim, "model") == 0)
			dims |= DIM_MODEL;
		else if (strcmp(dim, "modelname") == 0)
			dims |= DIM_MODELNAME;
		else if (strcmp(dim, "call_type") == 0)
			dims |= DIM_CALL_TYPE;
		else if (strcmp(dim, "status") == 0)
			dims |= DIM_STATUS;
		else if (strcmp(dim, "user") == 0)
			dims |= DIM_USER;
		else if (api >= AITRACK_API_1_7 && strcmp(dim, "project") == 0)
			dims |= DIM_PROJECT;
		else if (api >= AITRACK_API_1_7 && strcmp(dim, "api_key") == 0)
			dims |= DIM_API_KEY;
		else if (api >= AITRACK_API_1_7 && strcmp(dim, "tag") == 0)
			dims |= DIM_TAG;
		else
		{
			for (int u = 1; u < (int) lengthof(bucket_units); u++)
				if (strcmp(dim, bucket_units[u]) == 0)
					unit = u;
			if (unit == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown group_by dimension \"%s\"", dim),
						 errhint("%s", hint)));
			if (bucket != 0 && bucket != unit)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("group_by names more than one time bucket"),
						 errdetail("Got \"%s\" and \"%s\".",
								   bucket_units[bucket], bucket_units[unit]),
						 errhint("Pick one of hour, day, week, month.")));
			bucket = unit;
		}
	}
	/* "model" already groups by modelname (and version). */
	if (dims & DIM_MODEL)
		dims &= ~DIM_MODELNAME;
	return dims | (bucket << DIM_BUCKET_SHIFT);
}

/* One output column: the grouped expression, or a typed NULL. */
static void
add_dimension(StringInfo select, StringInfo group, bool grouped,
			  const char *expr, const char *null_type, int *position,
			  int column)
{
	if (grouped)
	{
		appendStringInfo(select, "%s, ", expr);
		appendStringInfo(group, "%s%d", (*position)++ ? ", " : "", column);
	}
	else
		appendStringInfo(select, "NULL::%s, ", null_type);
}

/* The six dimension columns, grouped or NULL; rel is ai_call or a rollup. */
static void
add_dimensions(StringInfo select, StringInfo group, uint32 dims,
			   const char *time_column, const char *tz, const char *rel,
			   int *grouped)
{
	int			bucket = (dims >> DIM_BUCKET_SHIFT) & 7;

	add_dimension(select, group, bucket != 0,
				  bucket ? psprintf("pg_catalog.date_trunc('%s', %s, %s)",
									bucket_units[bucket], time_column, tz) : NULL,
				  "pg_catalog.timestamptz", grouped, 1);
	add_dimension(select, group, (dims & (DIM_MODEL | DIM_MODELNAME)) != 0,
				  "m.modelname", "pg_catalog.text", grouped, 2);
	add_dimension(select, group, (dims & DIM_MODEL) != 0,
				  "m.version", "pg_catalog.text", grouped, 3);
	add_dimension(select, group, (dims & DIM_CALL_TYPE) != 0,
				  psprintf("%s.call_type", rel), "pg_catalog.text", grouped, 4);
	add_dimension(select, group, (dims & DIM_STATUS) != 0,
				  psprintf("%s.status", rel), "pg_catalog.text", grouped, 5);
	add_dimension(select, group, (dims & DIM_USER) != 0,
				  psprintf("%s.user_id", rel), "pg_catalog.uuid", grouped, 6);
}

/* The columns of a rollup row, for the UNION ALL of its sources. */
static void
append_rollup_columns(StringInfo q, const char *rel, bool with_user, int nsummed)
{
	appendStringInfo(q, "%s.bucket, %s.model_id, %s.call_type, %s.status, %s, %s.calls",
					 rel, rel, rel, rel,
					 with_user ? psprintf("%s.user_id", rel) : "NULL::pg_catalog.uuid",
					 rel);
	for (int i = 0; i < nsummed; i++)
		appendStringInfo(q, ", %s.%s, %s.%s_n", rel, ai_rollup_summed_columns[i],
						 rel, ai_rollup_summed_columns[i]);
	appendStringInfo(q, ", %s.first_call, %s.last_call, %s.latency", rel, rel, rel);
}

/*
 * The aggregates of ai_usage_stats_row over rows s shaped as
 * append_rollup_columns() writes them (rollup rows, purged rows, calls).
 */
static void
append_rollup_aggregates(StringInfo select, const char *nsp, int nsummed)
{
#define SUM_IF_ANY(col) \
	"CASE WHEN pg_catalog.sum(s." col "_n) OPERATOR(pg_catalog.>) 0" \
	" THEN pg_catalog.sum(s." col ") END::pg_catalog.int8"
#define AVG_IF_ANY(col) \
	"CASE WHEN pg_catalog.sum(s." col "_n) OPERATOR(pg_catalog.>) 0" \
	" THEN (pg_catalog.sum(s." col ") OPERATOR(pg_catalog./) pg_catalog.sum(s." col "_n))" \
	"::pg_catalog.float8 END"
	appendStringInfo(select,
					 "COALESCE(pg_catalog.sum(s.calls), 0)::pg_catalog.int8,"
					 " COALESCE(pg_catalog.sum(s.calls) FILTER (WHERE s.status IS NULL"
					 " OR s.status OPERATOR(pg_catalog.<>) 'success'), 0)::pg_catalog.int8, "
					 SUM_IF_ANY("input_tokens") ", "
					 SUM_IF_ANY("reasoning_tokens") ", "
					 SUM_IF_ANY("output_tokens") ", "
					 "CASE WHEN pg_catalog.sum(s.cost_usd_n) OPERATOR(pg_catalog.>) 0"
					 " THEN pg_catalog.sum(s.cost_usd) END, "
					 AVG_IF_ANY("duration_ms") ", "
					 /*
					  * The fractions are float8, as ai_hist_percentile takes
					  * them: an untyped 0.5 is numeric, and a look-alike
					  * ai_hist_percentile(integer[], numeric) planted in the
					  * extension's schema would be the better match.
					  */
					 "%s.ai_hist_percentile(%s.ai_hist_merge(s.latency), 0.5::pg_catalog.float8),"
					 " %s.ai_hist_percentile(%s.ai_hist_merge(s.latency), 0.95::pg_catalog.float8),"
					 " %s.ai_hist_percentile(%s.ai_hist_merge(s.latency), 0.99::pg_catalog.float8),"
					 " pg_catalog.min(s.first_call), pg_catalog.max(s.last_call), "
					 SUM_IF_ANY("cache_read_input_tokens") ", "
					 SUM_IF_ANY("cache_creation_input_tokens") ", "
					 "(COALESCE(pg_catalog.sum(s.calls), 0) OPERATOR(pg_catalog.-)"
					 " COALESCE(pg_catalog.sum(s.cost_usd_n), 0))::pg_catalog.int8, "
					 AVG_IF_ANY("time_to_first_token_ms"),
					 nsp, nsp, nsp, nsp, nsp, nsp);
	/* 1.5: the sums of what is billed apart, in the order of the summed columns. */
	for (int i = AI_ROLLUP_NUM_SUMMED_1_2; i < nsummed; i++)
		appendStringInfo(select,
						 ", CASE WHEN pg_catalog.sum(s.%s_n) OPERATOR(pg_catalog.>) 0"
						 " THEN pg_catalog.sum(s.%s) END::pg_catalog.int8",
						 ai_rollup_summed_columns[i], ai_rollup_summed_columns[i]);
}

/* A call c as a rollup row of one call (append_rollup_columns()'s shape). */
static void
append_call_columns(StringInfo q, const char *nsp, int nsummed)
{
	appendStringInfoString(q,
						   "pg_catalog.date_trunc('hour', c.created_at, 'UTC'),"
						   " c.model_id, c.call_type, c.status, c.user_id, 1::pg_catalog.int8");
	for (int i = 0; i < nsummed; i++)
		appendStringInfo(q,
						 ", COALESCE(c.%s, 0)%s,"
						 " (c.%s IS NOT NULL)::pg_catalog.int4::pg_catalog.int8",
						 ai_rollup_summed_columns[i],
						 strcmp(ai_rollup_summed_columns[i], "cost_usd") == 0 ? "" : "::pg_catalog.int8",
						 ai_rollup_summed_columns[i]);
	appendStringInfo(q, ", c.created_at, c.created_at, %s.ai_hist_of(c.duration_ms, 1)", nsp);
}

/*
 * 1.10: the calls c of a distributed ai_call summed into rows of the same
 * shape, per hour (when the question has a time bucket), model, status,
 * and call type, user, project, api_key and tags where the question groups
 * or filters by them (NULL otherwise): the caller adds the GROUP BY.  Citus
 * then computes the sums and the latency histogram (ai_hist_sum(), whose
 * state it can carry) on the shards and merges the parts, instead of
 * bringing every call to the coordinator.
 */
static void
append_call_columns_summed(StringInfo q, const char *nsp, int nsummed, uint32 key)
{
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	bool		by_time = ((dims >> DIM_BUCKET_SHIFT) & 7) != 0;
	bool		by_call_type = (dims & DIM_CALL_TYPE) || (key & (1 << (FILTER_SHIFT + 3)));
	bool		by_user = (dims & DIM_USER) || (key & (1 << (FILTER_SHIFT + 4)));

	appendStringInfo(q, "%s, c.model_id, %s, c.status, %s, pg_catalog.count(*)::pg_catalog.int8",
					 by_time ? "pg_catalog.date_trunc('hour', c.created_at, 'UTC')" : "NULL::pg_catalog.timestamptz",
					 by_call_type ? "c.call_type" : "NULL::pg_catalog.text",
					 by_user ? "c.user_id" : "NULL::pg_catalog.uuid");
	for (int i = 0; i < nsummed; i++)
		appendStringInfo(q,
						 ", COALESCE(pg_catalog.sum(c.%s), 0)%s,"
						 " pg_catalog.count(c.%s)::pg_catalog.int8",
						 ai_rollup_summed_columns[i],
						 strcmp(ai_rollup_summed_columns[i], "cost_usd") == 0 ? "" : "::pg_catalog.int8",
						 ai_rollup_summed_columns[i]);
	appendStringInfo(q,
					 ", pg_catalog.min(c.created_at), pg_catalog.max(c.created_at),"
					 " %s.ai_hist_sum(%s.ai_hist_of(c.duration_ms, 1)), %s, %s, %s",
					 nsp, nsp,
					 (key & DIM_PROJECT) ? "c.project" : "NULL::pg_catalog.text",
					 (key & DIM_API_KEY) ? "c.api_key" : "NULL::pg_catalog.text",
					 (key & DIM_TAG) ? "c.tags" : "NULL::pg_catalog.text[]");
}

/*
 * The calls a question reads, as "c": ai_call, or (KEY_TENANT_CALLS) the
 * tenant's own calls of [since, until) from ai_tenant_calls(), which reads
 * the distributed ai_call as its owner with the tenant's user as filter.
 * since and until are parameters ($n) or NULL.
 */
static char *
tenant_calls_source(const char *nsp, uint32 key, const char *since, const char *until)
{
	if (key & KEY_TENANT_CALLS)
		return psprintf("%s.ai_tenant_calls(%s, %s) c", nsp, since, until);
	return psprintf("%s.ai_call c", nsp);
}

/*
 * 1.2: the stats from the rollups.  Whole hours [$7, $8) come from the
 * rollup rows, compacted and pending; the partial hours at either end of
 * [since, until) from ai_call itself, turned into rows of the same shape.
 * Without the user dimension or filter, the per-user rollup is replaced by
 * its sum over users plus the pending rows.
 */
static char *
build_rollup_query(Oid schema, uint32 key)
{
	AitrackApi	api = (AitrackApi) ((key >> API_SHIFT) & API_MASK);
	int			nsummed = api >= AITRACK_API_1_5 ? AI_ROLLUP_NUM_SUMMED : AI_ROLLUP_NUM_SUMMED_1_2;
	const char *nsp = quote_identifier(get_namespace_name(schema));
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	/* A tenant may not read the sums over all users (1.3). */
	bool		per_user = (dims & DIM_USER) || (key & (1 << (FILTER_SHIFT + 4))) ||
		(key & KEY_TENANT);
	StringInfoData select;
	StringInfoData group;
	int			grouped = 0;
	bool		first_filter = true;

	initStringInfo(&select);
	initStringInfo(&group);
	appendStringInfoString(&select, "SELECT ");
	add_dimensions(&select, &group, dims, "s.bucket", "$6", "s", &grouped);

	append_rollup_aggregates(&select, nsp, nsummed);

	/* The sources. */
	appendStringInfoString(&select, " FROM (SELECT ");
	if (per_user)
	{
		append_rollup_columns(&select, "r", true, nsummed);
		appendStringInfo(&select, " FROM %s.ai_usage_rollup r", nsp);
	}
	else if (!(key & KEY_DAILY))
	{
		append_rollup_columns(&select, "r", false, nsummed);
		appendStringInfo(&select, " FROM %s.ai_usage_rollup_total r", nsp);
	}
	else
	{
		/*
		 * 1.6: the days [$9, $10) from the daily level, from the first one
		 * it holds (ai_upkeep_state.daily_from: after an update it is being
		 * filled, newest days first); the hours before and after from the
		 * hourly one.  The bound is read in the query's own snapshot, so
		 * the two levels never overlap or leave a gap.
		 */
		const char *daily_start =
			psprintf("COALESCE((SELECT LEAST(GREATEST($9, u.daily_from), $10)"
					 " FROM %s.ai_upkeep_state u LIMIT 1), $10)", nsp);

		append_rollup_columns(&select, "r", false, nsummed);
		appendStringInfo(&select,
						 " FROM %s.ai_usage_rollup_total r"
						 " WHERE r.bucket OPERATOR(pg_catalog.>=) $7"
						 " AND r.bucket OPERATOR(pg_catalog.<) %s"
						 " UNION ALL SELECT ", nsp, daily_start);
		append_rollup_columns(&select, "d", false, nsummed);
		appendStringInfo(&select,
						 " FROM %s.ai_usage_rollup_daily d"
						 " WHERE d.bucket OPERATOR(pg_catalog.>=) %s"
						 " AND d.bucket OPERATOR(pg_catalog.<) $10"
						 " UNION ALL SELECT ", nsp, daily_start);
		append_rollup_columns(&select, "r", false, nsummed);
		appendStringInfo(&select,
						 " FROM %s.ai_usage_rollup_total r"
						 " WHERE r.bucket OPERATOR(pg_catalog.>=) $10", nsp);
	}
	appendStringInfoString(&select,
						   (!per_user && (key & KEY_DAILY)) ?
						   " AND r.bucket OPERATOR(pg_catalog.<) $8" :
						   " WHERE r.bucket OPERATOR(pg_catalog.>=) $7"
						   " AND r.bucket OPERATOR(pg_catalog.<) $8");
	if (!per_user)
	{
		appendStringInfoString(&select, " UNION ALL SELECT ");
		append_rollup_columns(&select, "p", false, nsummed);
		appendStringInfo(&select,
						 " FROM %s.ai_usage_rollup p WHERE p.pending"
						 " AND p.bucket OPERATOR(pg_catalog.>=) $7"
						 " AND p.bucket OPERATOR(pg_catalog.<) $8", nsp);
	}
	/* Calls purged by ai_purge_calls() count on from ai_usage_purged. */
	appendStringInfoString(&select, " UNION ALL SELECT ");
	append_rollup_columns(&select, "g", per_user, nsummed);
	appendStringInfo(&select,
					 " FROM %s.ai_usage_purged g"
					 " WHERE g.bucket OPERATOR(pg_catalog.>=) $7"
					 " AND g.bucket OPERATOR(pg_catalog.<) $8", nsp);
	appendStringInfoString(&select, " UNION ALL SELECT ");
	append_call_columns(&select, nsp, nsummed);
	/* (a tenant's: only the calls of the partial hours come back) */
	if (key & KEY_TENANT_CALLS)
		appendStringInfo(&select,
						 " FROM (SELECT * FROM %s.ai_tenant_calls($1, $7)"
						 " UNION ALL SELECT * FROM %s.ai_tenant_calls($8, $2)) c",
						 nsp, nsp);
	else
		appendStringInfo(&select, " FROM %s.ai_call c", nsp);
	appendStringInfo(&select,
					 " WHERE (c.created_at OPERATOR(pg_catalog.>=) $1"
					 " AND c.created_at OPERATOR(pg_catalog.<) $7)"
					 " OR (c.created_at OPERATOR(pg_catalog.>=) $8"
					 " AND c.created_at OPERATOR(pg_catalog.<) $2)) s");
	appendStringInfo(&select, " JOIN %s.ai_model m ON m.id OPERATOR(pg_catalog.=) s.model_id",
					 nsp);

	for (int f = 0; f < NUM_FILTERS; f++)
	{
		if (!(key & (1 << (FILTER_SHIFT + f))) || rollup_filter_clauses[f] == NULL)
			continue;
		appendStringInfo(&select, "%s%s", first_filter ? " WHERE " : " AND ",
						 rollup_filter_clauses[f]);
		first_filter = false;
	}
	if (grouped > 0)
		appendStringInfo(&select,
						 " GROUP BY %s HAVING pg_catalog.sum(s.calls) OPERATOR(pg_catalog.>) 0"
						 " ORDER BY %s", group.data, group.data);
	return select.data;
}

/*
 * 1.7: the three attribution columns, at the end of the row (positions
 * 30-32), grouped or NULL; rel holds project, api_key and the tag (t.tag
 * after tag_join()).
 */
static void
add_attribution_dimensions(StringInfo select, StringInfo group, uint32 key,
						   const char *rel, int *grouped)
{
	appendStringInfoString(select, ", ");
	add_dimension(select, group, (key & DIM_PROJECT) != 0,
				  psprintf("%s.project", rel), "pg_catalog.text", grouped, 30);
	add_dimension(select, group, (key & DIM_API_KEY) != 0,
				  psprintf("%s.api_key", rel), "pg_catalog.text", grouped, 31);
	add_dimension(select, group, (key & DIM_TAG) != 0,
				  "t.tag", "pg_catalog.text", grouped, 32);
	/* add_dimension() leaves ", " after each column */
	select->len -= 2;
	select->data[select->len] = '\0';
}

/*
 * 1.7: a row per (call, distinct tag) of rel.tags, or one with tag NULL
 * for a call without tags.  A tag given twice in a call's list (the
 * recording functions remove duplicates, a plain INSERT may not) counts
 * once: only its first position joins.
 */
static void
append_tag_join(StringInfo q, const char *rel)
{
	appendStringInfo(q,
					 " LEFT JOIN LATERAL pg_catalog.unnest(%s.tags) WITH ORDINALITY AS t(tag, n)"
					 " ON pg_catalog.array_position(%s.tags, t.tag) OPERATOR(pg_catalog.=) t.n",
					 rel, rel);
}

/*
 * 1.7: a question by project, api_key or tag (grouped or filtered), which
 * no rollup can answer: every call of [since, until) read from ai_call, in
 * rows of the rollups' shape, so that the aggregates (and the latency
 * histogram the percentiles come from) are the rollup path's own.  When no
 * attribution filter is given, the calls ai_purge_calls() removed count on
 * from ai_usage_purged for the whole hours [$7, $8), as on the rollup path,
 * in the group NULL of each attribution dimension (their attribution is not
 * kept); with such a filter they are left out (it is unknown).  Row-level
 * security applies to both tables, so a tenant gets its own calls only.
 */
static char *
build_attribution_query(Oid schema, uint32 key)
{
	const char *nsp = quote_identifier(get_namespace_name(schema));
	/* (a tenant's calls come to the coordinator: summed there) */
	bool		distributed = ai_calls_distributed(schema) && !(key & KEY_TENANT_CALLS);
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	int			nsummed = AI_ROLLUP_NUM_SUMMED;
	StringInfoData select;
	StringInfoData group;
	int			grouped = 0;
	bool		first_filter = true;

	initStringInfo(&select);
	initStringInfo(&group);
	appendStringInfoString(&select, "SELECT ");
	add_dimensions(&select, &group, dims, "s.bucket", "$6", "s", &grouped);
	append_rollup_aggregates(&select, nsp, nsummed);
	add_attribution_dimensions(&select, &group, key, "s", &grouped);

	appendStringInfoString(&select, " FROM (SELECT ");
	if (distributed)
		append_call_columns_summed(&select, nsp, nsummed, key);
	else
	{
		append_call_columns(&select, nsp, nsummed);
		appendStringInfoString(&select, ", c.project, c.api_key, c.tags");
	}
	appendStringInfo(&select, " FROM %s", tenant_calls_source(nsp, key, "$1", "$2"));
	for (int f = 0; f < NUM_FILTERS; f++)
	{
		/* since and until, and the attribution filters: on the calls */
		if (!(key & (1 << (FILTER_SHIFT + f))) || (f >= 2 && f < NUM_FILTERS_1_5))
			continue;
		appendStringInfo(&select, "%s%s", first_filter ? " WHERE " : " AND ",
						 filter_clauses[f]);
		first_filter = false;
	}
	if (distributed)
		appendStringInfo(&select, " GROUP BY 1, 2, 3, 4, 5, %d, %d, %d",
						 10 + 2 * nsummed, 11 + 2 * nsummed, 12 + 2 * nsummed);
	if (!(key & FILTERS_ATTRIBUTION))
	{
		appendStringInfoString(&select, " UNION ALL SELECT ");
		append_rollup_columns(&select, "g", true, nsummed);
		appendStringInfo(&select,
						 ", NULL::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text[]"
						 " FROM %s.ai_usage_purged g"
						 " WHERE g.bucket OPERATOR(pg_catalog.>=) $7"
						 " AND g.bucket OPERATOR(pg_catalog.<) $8", nsp);
	}
	/* The calls come first: the names of the columns. */
	appendStringInfoString(&select, ") s(bucket, model_id, call_type, status, user_id, calls");
	for (int i = 0; i < nsummed; i++)
		appendStringInfo(&select, ", %s, %s_n", ai_rollup_summed_columns[i],
						 ai_rollup_summed_columns[i]);
	appendStringInfoString(&select, ", first_call, last_call, latency, project, api_key, tags)");
	if (key & DIM_TAG)
		append_tag_join(&select, "s");
	appendStringInfo(&select, " JOIN %s.ai_model m ON m.id OPERATOR(pg_catalog.=) s.model_id",
					 nsp);

	first_filter = true;
	for (int f = 2; f < NUM_FILTERS_1_5; f++)
	{
		if (!(key & (1 << (FILTER_SHIFT + f))))
			continue;
		appendStringInfo(&select, "%s%s", first_filter ? " WHERE " : " AND ",
						 rollup_filter_clauses[f]);
		first_filter = false;
	}
	if (grouped > 0)
		appendStringInfo(&select,
						 " GROUP BY %s HAVING pg_catalog.sum(s.calls) OPERATOR(pg_catalog.>) 0"
						 " ORDER BY %s", group.data, group.data);
	return select.data;
}

/*
 * One arm of the project query's UNION ALL: a rollup table's rows in a
 * range of buckets (bounds as SQL expressions), under the project filter
 * when there is one.  where is an extra condition on the table (alias.),
 * or "".
 */
static void
append_project_arm(StringInfo select, const char *nsp, const char *table, const char *alias,
				   const char *where, const char *from, const char *until,
				   const char *project_filter, int nsummed)
{
	appendStringInfoString(select, " UNION ALL SELECT ");
	append_rollup_columns(select, alias, false, nsummed);
	appendStringInfo(select, ", %s.project FROM %s.%s %s WHERE %s%s.bucket OPERATOR(pg_catalog.>=) %s"
					 " AND %s.bucket OPERATOR(pg_catalog.<) %s",
					 alias, nsp, table, alias, where, alias, from, alias, until);
	appendStringInfo(select, project_filter, alias);
}

/*
 * 1.8: a question by project from the project level (ai_usage_rollup_project,
 * pending and folded rows) for the whole hours [P, $8) it covers, P being
 * ai_upkeep_state.project_from bounded to [$7, $8) and read in the query's
 * own snapshot (the backfill moves it back as it commits, so the two
 * sources never overlap or leave a gap); from ai_call, as build_attribution_query()
 * has it, for [since, P) (the partial hour at the start and the hours not
 * covered yet) and for [$8, until).  Purged calls count in the whole hours
 * [$7, $8): those of the hours from F on (ai_usage_purged_project_floor,
 * the first hour whose purged calls all kept their project) with their
 * project from ai_usage_purged_project; those of the hours before F
 * (purged before 1.8) from ai_usage_purged in the group NULL, and not at
 * all under a project filter, as 1.7 has it.
 */
static char *
build_project_query(Oid schema, uint32 key)
{
	const char *nsp = quote_identifier(get_namespace_name(schema));
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	int			nsummed = AI_ROLLUP_NUM_SUMMED;
	bool		by_project = (key & (1u << (FILTER_SHIFT + 5))) != 0;
	/* without since, $7 is -infinity */
	const char *since = (key & (1u << FILTER_SHIFT)) ? "$1" : "$7";
	const char *covered =
		psprintf("COALESCE((SELECT LEAST(GREATEST($7, u.project_from), $8)"
				 " FROM %s.ai_upkeep_state u LIMIT 1), $8)", nsp);
	const char *purged_from =
		psprintf("LEAST(GREATEST($7, COALESCE((SELECT f.complete_from"
				 " FROM %s.ai_usage_purged_project_floor f LIMIT 1), $7)), $8)", nsp);
	const char *project_filter = by_project ? " AND %s.project OPERATOR(pg_catalog.=) $11" : "";
	StringInfoData select;
	StringInfoData group;
	int			grouped = 0;
	bool		first_filter = true;

	initStringInfo(&select);
	initStringInfo(&group);
	appendStringInfoString(&select, "SELECT ");
	add_dimensions(&select, &group, dims, "s.bucket", "$6", "s", &grouped);
	append_rollup_aggregates(&select, nsp, nsummed);
	add_attribution_dimensions(&select, &group, key, "s", &grouped);

	/* The calls the project level does not cover. */
	appendStringInfoString(&select, " FROM (SELECT ");
	append_call_columns(&select, nsp, nsummed);
	appendStringInfo(&select,
					 ", c.project FROM %s.ai_call c"
					 " WHERE ((c.created_at OPERATOR(pg_catalog.>=) %s"
					 " AND c.created_at OPERATOR(pg_catalog.<) %s)"
					 " OR (c.created_at OPERATOR(pg_catalog.>=) $8"
					 " AND c.created_at OPERATOR(pg_catalog.<) $2))",
					 nsp, since, covered);
	appendStringInfo(&select, project_filter, "c");
	/* The hours it covers. */
	if (!(key & KEY_DAILY))
	{
		/*
		 * Folded and pending rows apart, each through its (partial) index
		 * on the hour: a window of a month need not scan the whole level.
		 */
		append_project_arm(&select, nsp, "ai_usage_rollup_project", "r", "NOT r.pending AND ",
						   covered, "$8", project_filter, nsummed);
		append_project_arm(&select, nsp, "ai_usage_rollup_project", "p", "p.pending AND ",
						   covered, "$8", project_filter, nsummed);
	}
	else
	{
		/*
		 * The whole UTC days [D, $10) that the daily project level holds
		 * complete: D is the first day from P on, bounded to [$9, $10)
		 * (P, and so D, read in the query's own snapshot), from there; the
		 * folded rows of the hours [P, D) and [max(P, $10), $8) from the
		 * hourly level, and its pending rows of all of [P, $8).  When D is
		 * $10 (no whole day covered) the hourly level answers for all.
		 * Folded and pending rows apart: each has its index on the hour
		 * (both partial), so neither part scans the whole level.
		 */
		const char *days_from =
			psprintf("COALESCE((SELECT LEAST(GREATEST($9,"
					 " CASE WHEN pg_catalog.date_trunc('day', u.project_from, 'UTC')"
					 " OPERATOR(pg_catalog.=) u.project_from THEN u.project_from"
					 " ELSE pg_catalog.date_trunc('day', u.project_from, 'UTC')"
					 " OPERATOR(pg_catalog.+) '24 hours'::pg_catalog.interval END), $10)"
					 " FROM %s.ai_upkeep_state u LIMIT 1), $10)", nsp);

		append_project_arm(&select, nsp, "ai_usage_rollup_project", "r", "NOT r.pending AND ",
						   covered, days_from, project_filter, nsummed);
		append_project_arm(&select, nsp, "ai_usage_rollup_project_daily", "d", "",
						   days_from, "$10", project_filter, nsummed);
		append_project_arm(&select, nsp, "ai_usage_rollup_project", "p", "p.pending AND ",
						   covered, "$8", project_filter, nsummed);
		append_project_arm(&select, nsp, "ai_usage_rollup_project", "r", "NOT r.pending AND ",
						   psprintf("GREATEST(%s, $10)", covered), "$8", project_filter, nsummed);
	}
	/* Purged calls whose project is known ... */
	append_project_arm(&select, nsp, "ai_usage_purged_project", "q", "",
					   purged_from, "$8", project_filter, nsummed);
	/* ... and those purged before 1.8, without it. */
	if (!by_project)
	{
		appendStringInfoString(&select, " UNION ALL SELECT ");
		append_rollup_columns(&select, "g", false, nsummed);
		appendStringInfo(&select,
						 ", NULL::pg_catalog.text FROM %s.ai_usage_purged g"
						 " WHERE g.bucket OPERATOR(pg_catalog.>=) $7"
						 " AND g.bucket OPERATOR(pg_catalog.<) %s", nsp, purged_from);
	}
	appendStringInfoString(&select, ") s(bucket, model_id, call_type, status, user_id, calls");
	for (int i = 0; i < nsummed; i++)
		appendStringInfo(&select, ", %s, %s_n", ai_rollup_summed_columns[i],
						 ai_rollup_summed_columns[i]);
	appendStringInfoString(&select, ", first_call, last_call, latency, project)");
	appendStringInfo(&select, " JOIN %s.ai_model m ON m.id OPERATOR(pg_catalog.=) s.model_id",
					 nsp);

	/* modelname and call_type (no user: see project_level_allowed()) */
	for (int f = 2; f < NUM_FILTERS_1_5; f++)
	{
		if (!(key & (1 << (FILTER_SHIFT + f))))
			continue;
		appendStringInfo(&select, "%s%s", first_filter ? " WHERE " : " AND ",
						 rollup_filter_clauses[f]);
		first_filter = false;
	}
	if (grouped > 0)
		appendStringInfo(&select,
						 " GROUP BY %s HAVING pg_catalog.sum(s.calls) OPERATOR(pg_catalog.>) 0"
						 " ORDER BY %s", group.data, group.data);
	return select.data;
}

static char *
build_stats_query(Oid schema, uint32 key)
{
	AitrackApi	api = (AitrackApi) ((key >> API_SHIFT) & API_MASK);
	const char *nsp = quote_identifier(get_namespace_name(schema));
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	StringInfoData select;
	StringInfoData group;
	int			grouped = 0;
	bool		first_filter = true;

	if (key & KEY_ROLLUP)
		return build_rollup_query(schema, key);
	if (key & KEY_PROJECT_LEVEL)
		return build_project_query(schema, key);
	if (key & KEY_ATTRIBUTION)
		return build_attribution_query(schema, key);

	initStringInfo(&select);
	initStringInfo(&group);
	appendStringInfoString(&select, "SELECT ");

	add_dimensions(&select, &group, dims, "c.created_at",
				   api >= AITRACK_API_1_2 ? "$6" : "'UTC'", "c", &grouped);

	/*
	 * Identical percentile_cont calls are computed once by the planner, so
	 * the three percentiles cost one sort per group.
	 */
	appendStringInfo(&select,
					 "pg_catalog.count(*),"
					 " pg_catalog.count(*) FILTER (WHERE c.status IS NULL"
					 " OR c.status OPERATOR(pg_catalog.<>) 'success'),"
					 " pg_catalog.sum(c.input_tokens),"
					 " pg_catalog.sum(c.reasoning_tokens),"
					 " pg_catalog.sum(c.output_tokens),"
					 " pg_catalog.sum(c.cost_usd),"
					 " pg_catalog.avg(c.duration_ms)::pg_catalog.float8,"
					 " (pg_catalog.percentile_cont('{0.5,0.95,0.99}'::pg_catalog.float8[])"
					 " WITHIN GROUP (ORDER BY c.duration_ms::pg_catalog.float8))[1],"
					 " (pg_catalog.percentile_cont('{0.5,0.95,0.99}'::pg_catalog.float8[])"
					 " WITHIN GROUP (ORDER BY c.duration_ms::pg_catalog.float8))[2],"
					 " (pg_catalog.percentile_cont('{0.5,0.95,0.99}'::pg_catalog.float8[])"
					 " WITHIN GROUP (ORDER BY c.duration_ms::pg_catalog.float8))[3],"
					 " pg_catalog.min(c.created_at),"
					 " pg_catalog.max(c.created_at)");
	if (api >= AITRACK_API_1_1)
		appendStringInfoString(&select,
							   ", pg_catalog.sum(c.cache_read_input_tokens),"
							   " pg_catalog.sum(c.cache_creation_input_tokens),"
							   " pg_catalog.count(*) FILTER (WHERE c.cost_usd IS NULL),"
							   " pg_catalog.avg(c.time_to_first_token_ms)::pg_catalog.float8");
	if (api >= AITRACK_API_1_5)
		for (int i = AI_ROLLUP_NUM_SUMMED_1_2; i < AI_ROLLUP_NUM_SUMMED; i++)
			appendStringInfo(&select, ", pg_catalog.sum(c.%s)", ai_rollup_summed_columns[i]);
	/*
	 * 1.7, in a zone with minutes (no rollup there): the attribution
	 * columns.  Questions without them have 1.5's key (see usage_stats()).
	 */
	if (api >= AITRACK_API_1_7)
		add_attribution_dimensions(&select, &group, key, "c", &grouped);
	appendStringInfo(&select,
					 " FROM %s JOIN %s.ai_model m"
					 " ON m.id OPERATOR(pg_catalog.=) c.model_id",
					 tenant_calls_source(nsp, key, "$1", "$2"), nsp);
	if (key & DIM_TAG)
		append_tag_join(&select, "c");

	for (int f = 0; f < NUM_FILTERS; f++)
	{
		if (!(key & (1 << (FILTER_SHIFT + f))))
			continue;
		appendStringInfo(&select, "%s%s", first_filter ? " WHERE " : " AND ",
						 filter_clauses[f]);
		first_filter = false;
	}
	if (grouped > 0)
		appendStringInfo(&select, " GROUP BY %s ORDER BY %s", group.data, group.data);
	return select.data;
}

static SPIPlanPtr
stats_plan(Oid schema, uint32 key)
{
	StatsPlanEntry *entry;
	bool		found;

	if (stats_plans == NULL || stats_plans_schema != schema)
	{
		HASHCTL		ctl;

		if (stats_plans != NULL)
		{
			HASH_SEQ_STATUS scan;

			hash_seq_init(&scan, stats_plans);
			while ((entry = hash_seq_search(&scan)) != NULL)
				SPI_freeplan(entry->plan);
			hash_destroy(stats_plans);
			stats_plans = NULL;
		}
		ctl.keysize = sizeof(uint32);
		ctl.entrysize = sizeof(StatsPlanEntry);
		stats_plans = hash_create("aitrack stats plans", 16, &ctl,
								  HASH_ELEM | HASH_BLOBS);
		stats_plans_schema = schema;
	}

	entry = hash_search(stats_plans, &key, HASH_FIND, &found);
	if (found)
		return entry->plan;

	/* Prepare before entering, so an error leaves no empty entry behind. */
	{
		bool		attribution = (key & (DIMS_ATTRIBUTION | FILTERS_ATTRIBUTION)) != 0;
		SPIPlanPtr	plan = aitrack_prepare_plan(build_stats_query(schema, key),
												attribution ? NUM_PARAMS : NUM_PARAMS_1_5,
												(Oid *) param_types,
												CURSOR_OPT_PARALLEL_OK);

		entry = hash_search(stats_plans, &key, HASH_ENTER, &found);
		entry->plan = plan;
	}
	return entry->plan;
}

/*
 * 1.11: does a tenant's question read its calls from ai_tenant_calls()?
 * On a distributed ai_call, from a version that has it (on 1.10 a
 * tenant's question on it is refused by tenant_citus.c, as before).
 */
static bool
tenant_reads_own_calls(Oid schema)
{
	Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	List	   *name;

	if (!ai_calls_distributed(schema) || !ai_tenant_mode_active())
		return false;
	name = list_make2(makeString(get_namespace_name(schema)), makeString("ai_tenant_calls"));
	return OidIsValid(LookupFuncName(name, 2, argtypes, true));
}

/*
 * The stats run with the caller's rights.  Check them up front so that a
 * role without SELECT gets a message naming the grant it lacks, not one
 * buried under the text of the generated query.
 */
static void
check_read_privilege(Oid schema, const char *relname)
{
	Oid			relid = get_relname_relid(relname, schema);

	if (!OidIsValid(relid))
		elog(ERROR, "aitrack table %s is missing", relname);
	/* Column grants count: the query itself then checks each column it reads. */
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", relname),
				 errhint("ai_usage_stats() reads ai_call, ai_model and (from 1.2) the rollup tables"
						 " with the caller's rights: grant this role SELECT on them.")));
}

/* x rounded down to a whole UTC hour. */
static TimestampTz
hour_floor(TimestampTz x)
{
	TimestampTz rem = x % USECS_PER_HOUR;

	return x - (rem < 0 ? rem + USECS_PER_HOUR : rem);
}

/*
 * Can buckets in this zone be made of whole UTC hours?  Not when its offset
 * from UTC has minutes (India, Nepal, Newfoundland, ...), checked at both
 * ends of the window and now.
 */
static bool
zone_has_whole_hours(Oid schema, Datum tz, Datum *params, char *nulls)
{
	static SPIPlanPtr plan = NULL;
	Datum		args[3] = {tz, params[0], params[1]};
	char		argnulls[3] = {' ', nulls[0], nulls[1]};
	Oid			argtypes[3] = {TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	bool		isnull;
	int			rc;

	if (plan == NULL)
		plan = aitrack_prepare_plan("SELECT pg_catalog.bool_and((pg_catalog.date_part('epoch',"
									" pg_catalog.timezone($1, t)) OPERATOR(pg_catalog.-)"
									" pg_catalog.date_part('epoch', t))::pg_catalog.int8"
									" OPERATOR(pg_catalog.%) 3600 OPERATOR(pg_catalog.=) 0)"
									" FROM pg_catalog.unnest(ARRAY[$2, $3, pg_catalog.now()]) AS t"
									" WHERE pg_catalog.isfinite(t)",
									3, argtypes, 0);
	rc = SPI_execute_plan(plan, args, argnulls, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* x rounded down to a whole UTC day. */
static TimestampTz
day_floor(TimestampTz x)
{
	TimestampTz rem = x % USECS_PER_DAY;

	return x - (rem < 0 ? rem + USECS_PER_DAY : rem);
}

/*
 * Can buckets of a day or longer in this zone be made of whole UTC days?
 * Only in a zone whose offset is always zero ("UTC", "Etc/UTC", "GMT").  The
 * name is resolved as date_trunc() resolves it in this session: an
 * abbreviation first (from PostgreSQL 18 also the session time zone's own,
 * so that under TimeZone = 'UTC+5' even "UTC" means five hours west), then
 * the tz database.  Anything else is read from the hourly level, which is
 * exact in every whole-hour zone.
 */
static bool
zone_is_always_utc(Datum tz)
{
	char	   *name = TextDatumGetCString(tz);
	pg_tz	   *zone;
	long int	offset;

#if PG_VERSION_NUM >= 160000
	zone = DecodeTimezoneNameToTz(name);
#else
	{
		char	   *lowered = downcase_truncate_identifier(name, strlen(name), false);
		int			abbrev_offset;
		int			type = DecodeTimezoneAbbrev(0, lowered, &abbrev_offset, &zone);

		if (type == TZ || type == DTZ)
			return abbrev_offset == 0;
		if (type != DYNTZ)
			zone = pg_tzset(name);
	}
#endif
	return zone != NULL && pg_get_timezone_offset(zone, &offset) && offset == 0;
}

/* May the caller read this table of the extension? */
static bool
may_read(Oid schema, const char *relname)
{
	Oid			relid = get_relname_relid(relname, schema);

	return OidIsValid(relid) &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
}

/*
 * 1.6: may whole UTC days come from the daily level?  Not for per-user
 * questions (it sums over users), nor for hourly buckets, nor for day,
 * week or month buckets cut in a zone other than UTC; and only for a
 * caller who may read it and ai_upkeep_state (a role granted 1.5's list of
 * tables by hand keeps its answers, from the hourly level).
 */
static bool
daily_allowed(Oid schema, uint32 key, Datum tz)
{
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	int			bucket = (dims >> DIM_BUCKET_SHIFT) & 7;
	bool		per_user = (dims & DIM_USER) || (key & (1 << (FILTER_SHIFT + 4))) ||
		(key & KEY_TENANT);

	if (per_user || bucket == 1 || (bucket > 1 && !zone_is_always_utc(tz)))
		return false;
	return ai_rollup_has_daily_level(schema) &&
		may_read(schema, "ai_usage_rollup_daily") && may_read(schema, "ai_upkeep_state");
}

/*
 * 1.8: may a question by project come from the project level?  Not when
 * it names a user, an api_key or a tag (the level has none), nor for a
 * tenant (it sums over users); only where the extension has the level and
 * the caller may read it and what goes with it (a role granted 1.7's
 * tables one by one keeps 1.7's answers, from ai_call).
 */
static bool
project_level_allowed(Oid schema, uint32 key)
{
	uint32		not_here = DIM_USER | DIM_API_KEY | DIM_TAG |
		(1u << (FILTER_SHIFT + 4)) | (1u << (FILTER_SHIFT + 6)) | (1u << (FILTER_SHIFT + 7));

	if ((key & not_here) || !(key & (DIM_PROJECT | (1u << (FILTER_SHIFT + 5)))) ||
		ai_tenant_mode_active())
		return false;
	return ai_rollup_has_project_level(schema) &&
		may_read(schema, "ai_usage_rollup_project") &&
		may_read(schema, "ai_usage_purged_project") &&
		may_read(schema, "ai_usage_purged_project_floor") &&
		may_read(schema, "ai_upkeep_state") &&
		may_read(schema, "ai_usage_purged");
}

/*
 * 1.8: may the whole UTC days of a question the project level answers come
 * from the daily project level?  On the conditions 1.6 sets for the daily
 * level (no hourly buckets, and buckets of a day or longer only in a zone
 * that is always UTC), where the extension has it (a database with the
 * hourly project level alone reads that) and the caller may read it.
 */
static bool
project_daily_allowed(Oid schema, uint32 key, Datum tz)
{
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	int			bucket = (dims >> DIM_BUCKET_SHIFT) & 7;

	if (bucket == 1 || (bucket > 1 && !zone_is_always_utc(tz)))
		return false;
	return ai_rollup_has_project_daily_level(schema) &&
		may_read(schema, "ai_usage_rollup_project_daily");
}

/*
 * The whole UTC days inside the whole hours [from_hour, until_hour), or
 * none (both until_hour).
 */
static void
daily_range(TimestampTz from_hour, TimestampTz until_hour,
			TimestampTz *from_day, TimestampTz *until_day)
{
	*from_day = TIMESTAMP_NOT_FINITE(from_hour) ? from_hour :
		(day_floor(from_hour) == from_hour ? from_hour : day_floor(from_hour) + USECS_PER_DAY);
	*until_day = TIMESTAMP_NOT_FINITE(until_hour) ? until_hour : day_floor(until_hour);
	if (*from_day >= *until_day)
		*from_day = *until_day = until_hour;
}

/*
 * ai_usage_stats(since, until, group_by, modelname, call_type, user_id
 * [, tz [, project, api_key, tag]]) RETURNS TABLE (...): see the install
 * and upgrade scripts for the columns of each version; 1.1 appended four
 * to 1.0's, 1.2 added tz, 1.7 the attribution filters (and columns).
 */
static Datum
usage_stats(FunctionCallInfo fcinfo, AitrackApi api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	uint32		key = 0;
	int			nfilters = api >= AITRACK_API_1_7 ? NUM_FILTERS : NUM_FILTERS_1_5;
	bool		attribution;
	Datum		params[NUM_PARAMS];
	char		nulls[NUM_PARAMS];
	SPIPlanPtr	plan;
	int			rc;

	if (PG_NARGS() <= filter_args[nfilters - 1])
		elog(ERROR, "ai_usage_stats: called with %d arguments", PG_NARGS());

	/* NULL group_by, like an empty one, means one row of totals. */
	if (!PG_ARGISNULL(STATS_ARG_GROUP_BY))
		key |= parse_group_by(PG_GETARG_ARRAYTYPE_P(STATS_ARG_GROUP_BY), api);

	for (int p = 0; p < NUM_PARAMS; p++)
	{
		params[p] = (Datum) 0;
		nulls[p] = 'n';
	}
	for (int f = 0; f < nfilters; f++)
	{
		int			arg = filter_args[f];
		int			param = filter_params[f];

		if (PG_ARGISNULL(arg))
			continue;
		/* 1.7: an empty label matches no call; most likely a mistake */
		if (f >= NUM_FILTERS_1_5 && VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(arg)) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be an empty string", filter_names[f]),
					 errhint("Pass NULL (the default) for calls of any %s;"
							 " group_by => '{%s}' shows the calls without one in its NULL group.",
							 filter_names[f], filter_names[f])));
		nulls[param] = ' ';
		params[param] = PG_GETARG_DATUM(arg);
		key |= 1 << (FILTER_SHIFT + f);
	}

	/*
	 * 1.7: a question without project, api_key or tag is 1.5's, with 1.5's
	 * plan (the same query text, the same cached plan); only the others
	 * take 1.7's paths, from ai_call.
	 */
	attribution = (key & (DIMS_ATTRIBUTION | FILTERS_ATTRIBUTION)) != 0;
	key |= (uint32) (api >= AITRACK_API_1_7 && !attribution ? AITRACK_API_1_5 : api) << API_SHIFT;

	check_read_privilege(schema, "ai_call");
	check_read_privilege(schema, "ai_model");

	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (api >= AITRACK_API_1_2)
	{
		Datum		tz = PG_ARGISNULL(6) ? CStringGetTextDatum("UTC") : PG_GETARG_DATUM(6);
		TimestampTz since = PG_ARGISNULL(0) ? DT_NOBEGIN : PG_GETARG_TIMESTAMPTZ(0);
		TimestampTz until = PG_ARGISNULL(1) ? DT_NOEND : PG_GETARG_TIMESTAMPTZ(1);
		TimestampTz from_hour;
		TimestampTz until_hour;

		params[PARAM_TZ] = tz;
		nulls[PARAM_TZ] = ' ';
		if (zone_has_whole_hours(schema, tz, params, nulls))
		{
			if (attribution)
			{
				/* 1.7: from ai_call, and when grouping, ai_usage_purged */
				if (!(key & FILTERS_ATTRIBUTION))
					check_read_privilege(schema, "ai_usage_purged");
				key |= KEY_ATTRIBUTION;
				/* 1.8: by project alone, from the project level */
				if (project_level_allowed(schema, key))
				{
					key |= KEY_PROJECT_LEVEL;
					/* its whole UTC days from the daily project level */
					if (project_daily_allowed(schema, key, tz))
						key |= KEY_DAILY;
				}
			}
			else
			{
				check_read_privilege(schema, "ai_usage_rollup");
				check_read_privilege(schema, "ai_usage_rollup_total");
				check_read_privilege(schema, "ai_usage_purged");
				key |= KEY_ROLLUP;
				if (ai_tenant_mode_active())
					key |= KEY_TENANT;
			}

			/* The whole hours inside [since, until); the rest is read raw. */
			from_hour = TIMESTAMP_NOT_FINITE(since) ? since :
				(hour_floor(since) == since ? since : hour_floor(since) + USECS_PER_HOUR);
			until_hour = TIMESTAMP_NOT_FINITE(until) ? until : hour_floor(until);
			if (from_hour >= until_hour)
				from_hour = until_hour = since;
			params[PARAM_HOURS_FROM] = TimestampTzGetDatum(from_hour);
			params[PARAM_HOURS_UNTIL] = TimestampTzGetDatum(until_hour);
			nulls[PARAM_HOURS_FROM] = nulls[PARAM_HOURS_UNTIL] = ' ';
			if ((api >= AITRACK_API_1_5 && !attribution && daily_allowed(schema, key, tz)) ||
				(key & (KEY_PROJECT_LEVEL | KEY_DAILY)) == (KEY_PROJECT_LEVEL | KEY_DAILY))
			{
				TimestampTz from_day;
				TimestampTz until_day;

				key |= KEY_DAILY;
				daily_range(from_hour, until_hour, &from_day, &until_day);
				params[PARAM_DAYS_FROM] = TimestampTzGetDatum(from_day);
				params[PARAM_DAYS_UNTIL] = TimestampTzGetDatum(until_day);
				nulls[PARAM_DAYS_FROM] = nulls[PARAM_DAYS_UNTIL] = ' ';
			}
		}
	}

	if (tenant_reads_own_calls(schema))
		key |= KEY_TENANT_CALLS;
	plan = stats_plan(schema, key);
	rc = SPI_execute_plan(plan, params, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		Datum		values[MAX_STATS_COLUMNS];
		bool		isnull[MAX_STATS_COLUMNS];

		Datum	   *wide_values = values;
		bool	   *wide_isnull = isnull;

		CHECK_FOR_INTERRUPTS();
		if (SPI_tuptable->tupdesc->natts > rsinfo->setDesc->natts ||
			SPI_tuptable->tupdesc->natts > MAX_STATS_COLUMNS)
			elog(ERROR, "ai_usage_stats: query returned %d columns, function has %d",
				 SPI_tuptable->tupdesc->natts, rsinfo->setDesc->natts);
		heap_deform_tuple(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						  values, isnull);
		/*
		 * 1.5's row type grows (ALTER TYPE ... ADD ATTRIBUTE) in later
		 * versions: the columns this version does not know are NULL, so the
		 * row type can be widened before the function is replaced.
		 */
		if (rsinfo->setDesc->natts > SPI_tuptable->tupdesc->natts)
		{
			int			natts = rsinfo->setDesc->natts;

			wide_values = palloc0(sizeof(Datum) * natts);
			wide_isnull = palloc(sizeof(bool) * natts);
			for (int i = 0; i < natts; i++)
				wide_isnull[i] = true;
			memcpy(wide_values, values, sizeof(Datum) * SPI_tuptable->tupdesc->natts);
			memcpy(wide_isnull, isnull, sizeof(bool) * SPI_tuptable->tupdesc->natts);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, wide_values, wide_isnull);
		if (wide_values != values)
		{
			pfree(wide_values);
			pfree(wide_isnull);
		}
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ai_usage_stats_1_0);
PG_FUNCTION_INFO_V1(ai_usage_stats_1_1);
PG_FUNCTION_INFO_V1(ai_usage_stats_1_2);
PG_FUNCTION_INFO_V1(ai_usage_stats_1_5);
PG_FUNCTION_INFO_V1(ai_usage_stats_1_7);

Datum
ai_usage_stats_1_0(PG_FUNCTION_ARGS)
{
	return usage_stats(fcinfo, AITRACK_API_1_0);
}

Datum
ai_usage_stats_1_1(PG_FUNCTION_ARGS)
{
	return usage_stats(fcinfo, AITRACK_API_1_1);
}

Datum
ai_usage_stats_1_2(PG_FUNCTION_ARGS)
{
	return usage_stats(fcinfo, AITRACK_API_1_2);
}

/*
 * 1.5: rows of ai_usage_stats_row, with the sums of what is billed apart;
 * where the extension has been updated to 1.6, whole UTC days from the
 * daily level (same signature and rows: no new symbol, see
 * ai_rollup_has_daily_level()).
 */
Datum
ai_usage_stats_1_5(PG_FUNCTION_ARGS)
{
	return usage_stats(fcinfo, AITRACK_API_1_5);
}

/*
 * 1.7: 1.5's arguments, then the filters project, api_key and tag; group_by
 * takes project, api_key and tag too; rows of ai_usage_stats_row with its
 * three attribution columns.  Questions without them are answered as 1.5's.
 */
Datum
ai_usage_stats_1_7(PG_FUNCTION_ARGS)
{
	return usage_stats(fcinfo, AITRACK_API_1_7);
}
