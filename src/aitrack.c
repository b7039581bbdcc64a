/*
 * aitrack.c
 *		Module entry: the magic block, _PG_init calling each module's init,
 *		where the extension's tables live, preparing kept SPI plans, and
 *		the check that a trigger runs on aitrack's own table.
 */
#include "aitrack.h"

#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* Loaded by shared_preload_libraries, so in every backend from its start? */
bool		aitrack_preloaded = false;

/*
 * One relcache callback for every file that keeps something about a
 * table: PostgreSQL has room for only ten in a backend (MAX_RELCACHE_
 * CALLBACKS), shared with every other loaded library, and Citus takes
 * several of them.
 */
static void
aitrack_relcache_callback(Datum arg, Oid relid)
{
	check_cache_relcache_invalidated(relid);
	rollup_relcache_invalidated(relid);
	budget_cache_relcache_invalidated(relid);
	distributed_relcache_invalidated(relid);
}

/*
 * Loaded by the first call of any aitrack function in a backend (or by
 * shared_preload_libraries): define the settings, install the hooks.
 */
void
_PG_init(void)
{
	aitrack_preloaded = process_shared_preload_libraries_in_progress;
	content_policy_init();
	tenant_init();
	tenant_citus_init();
	distributed_init();
	drop_guard_init();
	upkeep_init();
	check_cache_init();
	budget_memory_init();
	CacheRegisterRelcacheCallback(aitrack_relcache_callback, (Datum) 0);
	/* Nothing else may define aitrack.* settings; a typo is an error. */
	MarkGUCPrefixReserved("aitrack");
}

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
 * aitrack's triggers run on the tables its scripts put them on, and on no
 * copy.  Citus copies a distributed or reference table's triggers to each
 * of its shards (with citus.enable_unsafe_triggers), named like the table
 * plus a shard id: there they would count into the node's own copy of the
 * rollup and spend tables, or find nothing, and say nothing, leaving the
 * stats and budgets wrong.  Such a trigger refuses, naming the copy;
 * aitrack_distribute() (1.10) distributes ai_call without them (README,
 * "Scaling out with Citus").
 */
void
aitrack_trigger_on_own_table(FunctionCallInfo fcinfo, const char *table)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *name = RelationGetRelationName(trigdata->tg_relation);

	/* (the table in the extension's schema: that of the trigger's function) */
	if (strcmp(name, table) != 0 ||
		RelationGetNamespace(trigdata->tg_relation) != aitrack_function_schema(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aitrack trigger \"%s\" fired on %s, not on %s",
						trigdata->tg_trigger->tgname,
						quote_qualified_identifier(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)), name),
						quote_qualified_identifier(get_namespace_name(aitrack_function_schema(fcinfo)), table)),
				 errdetail("On a copy of %s, such as a Citus shard, its triggers would count into the wrong tables or none.",
						   table),
				 errhint("Distribute aitrack with aitrack_distribute(), which keeps every table but ai_call local to the coordinator; see README, \"Scaling out with Citus\".")));
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
