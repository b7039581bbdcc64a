/*
 * stats.c
 *		ai_usage_stats(): calls, errors, tokens, cost and latency over
 *		ai_call, grouped by any of model, modelname, call_type, status, user
 *		and one UTC time bucket.
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
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* Grouping dimensions, as bits of the plan key. */
#define DIM_MODEL		(1 << 0)	/* modelname and version */
#define DIM_MODELNAME	(1 << 1)	/* modelname alone */
#define DIM_CALL_TYPE	(1 << 2)
#define DIM_STATUS		(1 << 3)
#define DIM_USER		(1 << 4)
#define DIM_BUCKET_SHIFT 5			/* 3 bits: index into bucket_units */

/* Filters present, as bits of the plan key, in parameter order. */
#define FILTER_SHIFT	8
#define NUM_FILTERS		5

/* The API version, in the plan key above the filter bits. */
#define API_SHIFT		16

/* Output columns of the widest version. */
#define MAX_STATS_COLUMNS 22

#define STATS_ARG_GROUP_BY 2

static const char *const bucket_units[] = {NULL, "hour", "day", "week", "month"};

static const char *const filter_clauses[NUM_FILTERS] = {
	"c.created_at OPERATOR(pg_catalog.>=) $1",
	"c.created_at OPERATOR(pg_catalog.<) $2",
	"m.modelname OPERATOR(pg_catalog.=) $3",
	"c.call_type OPERATOR(pg_catalog.=) $4",
	"c.user_id OPERATOR(pg_catalog.=) $5",
};

static const Oid filter_types[NUM_FILTERS] = {
	TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, TEXTOID, UUIDOID
};

#define VALID_DIMENSIONS_HINT \
	"Valid dimensions are: model, modelname, call_type, status, user, and at most one of hour, day, week, month."

typedef struct StatsPlanEntry
{
	uint32		key;			/* dimension and filter bits: must be first */
	SPIPlanPtr	plan;
} StatsPlanEntry;

static HTAB *stats_plans = NULL;
static Oid	stats_plans_schema = InvalidOid;

/* Turn the group_by array into dimension bits; reject what we don't know. */
static uint32
parse_group_by(ArrayType *group_by)
{
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
					 errhint(VALID_DIMENSIONS_HINT)));
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
		else
		{
			for (int u = 1; u < (int) lengthof(bucket_units); u++)
				if (strcmp(dim, bucket_units[u]) == 0)
					unit = u;
			if (unit == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unknown group_by dimension \"%s\"", dim),
						 errhint(VALID_DIMENSIONS_HINT)));
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

static char *
build_stats_query(Oid schema, uint32 key)
{
	AitrackApi	api = (AitrackApi) (key >> API_SHIFT);
	const char *nsp = quote_identifier(get_namespace_name(schema));
	uint32		dims = key & ((1 << FILTER_SHIFT) - 1);
	int			bucket = (dims >> DIM_BUCKET_SHIFT) & 7;
	StringInfoData select;
	StringInfoData group;
	int			grouped = 0;
	bool		first_filter = true;

	initStringInfo(&select);
	initStringInfo(&group);
	appendStringInfoString(&select, "SELECT ");

	add_dimension(&select, &group, bucket != 0,
				  bucket ? psprintf("pg_catalog.date_trunc('%s', c.created_at, 'UTC')",
									bucket_units[bucket]) : NULL,
				  "pg_catalog.timestamptz", &grouped, 1);
	add_dimension(&select, &group, (dims & (DIM_MODEL | DIM_MODELNAME)) != 0,
				  "m.modelname", "pg_catalog.text", &grouped, 2);
	add_dimension(&select, &group, (dims & DIM_MODEL) != 0,
				  "m.version", "pg_catalog.text", &grouped, 3);
	add_dimension(&select, &group, (dims & DIM_CALL_TYPE) != 0,
				  "c.call_type", "pg_catalog.text", &grouped, 4);
	add_dimension(&select, &group, (dims & DIM_STATUS) != 0,
				  "c.status", "pg_catalog.text", &grouped, 5);
	add_dimension(&select, &group, (dims & DIM_USER) != 0,
				  "c.user_id", "pg_catalog.uuid", &grouped, 6);

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
	appendStringInfo(&select,
					 " FROM %s.ai_call c JOIN %s.ai_model m"
					 " ON m.id OPERATOR(pg_catalog.=) c.model_id",
					 nsp, nsp);

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
		SPIPlanPtr	plan = aitrack_prepare_plan(build_stats_query(schema, key),
												NUM_FILTERS, (Oid *) filter_types,
												CURSOR_OPT_PARALLEL_OK);

		entry = hash_search(stats_plans, &key, HASH_ENTER, &found);
		entry->plan = plan;
	}
	return entry->plan;
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
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", relname),
				 errhint("ai_usage_stats() reads ai_call and ai_model with the caller's rights: "
						 "grant this role SELECT on both.")));
}

/*
 * ai_usage_stats(since, until, group_by, modelname, call_type, user_id)
 * RETURNS TABLE (...): see the install and upgrade scripts for the columns
 * of each version; 1.1 appended four to 1.0's.
 */
static Datum
usage_stats(FunctionCallInfo fcinfo, AitrackApi api)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	uint32		key = (uint32) api << API_SHIFT;
	Datum		params[NUM_FILTERS];
	char		nulls[NUM_FILTERS];
	SPIPlanPtr	plan;
	int			rc;

	/* NULL group_by, like an empty one, means one row of totals. */
	if (!PG_ARGISNULL(STATS_ARG_GROUP_BY))
		key |= parse_group_by(PG_GETARG_ARRAYTYPE_P(STATS_ARG_GROUP_BY));

	for (int f = 0; f < NUM_FILTERS; f++)
	{
		/* Arguments 0-1 are since/until, 3-5 the other filters. */
		int			arg = f < 2 ? f : f + 1;

		nulls[f] = PG_ARGISNULL(arg) ? 'n' : ' ';
		params[f] = PG_ARGISNULL(arg) ? (Datum) 0 : PG_GETARG_DATUM(arg);
		if (!PG_ARGISNULL(arg))
			key |= 1 << (FILTER_SHIFT + f);
	}

	check_read_privilege(schema, "ai_call");
	check_read_privilege(schema, "ai_model");

	InitMaterializedSRF(fcinfo, 0);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = stats_plan(schema, key);
	rc = SPI_execute_plan(plan, params, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));

	for (uint64 row = 0; row < SPI_processed; row++)
	{
		Datum		values[MAX_STATS_COLUMNS];
		bool		isnull[MAX_STATS_COLUMNS];

		if (SPI_tuptable->tupdesc->natts != rsinfo->setDesc->natts ||
			rsinfo->setDesc->natts > MAX_STATS_COLUMNS)
			elog(ERROR, "ai_usage_stats: query returned %d columns, function has %d",
				 SPI_tuptable->tupdesc->natts, rsinfo->setDesc->natts);
		heap_deform_tuple(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						  values, isnull);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, isnull);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(ai_usage_stats_1_0);
PG_FUNCTION_INFO_V1(ai_usage_stats_1_1);

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
