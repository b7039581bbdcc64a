/*
 * aitrack.c
 *		Module entry: the magic block, _PG_init calling each module's init,
 *		where the extension's tables live, and preparing kept SPI plans.
 */
#include "aitrack.h"

#include "utils/guc.h"
#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Loaded by the first call of any aitrack function in a backend (or by
 * shared_preload_libraries): define the settings, install the hooks.
 */
void
_PG_init(void)
{
	content_policy_init();
	tenant_init();
	drop_guard_init();
	upkeep_init();
	check_cache_init();
	budget_memory_init();
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
