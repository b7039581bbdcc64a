/*
 * settings.c
 *		ai_settings(): aitrack's settings, and what is in force for this
 *		session, in one query that works before anything else loaded the
 *		library (SHOW aitrack.x knows the settings only once it is loaded).
 */
#include "aitrack.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(ai_settings_1_4);

static void
add_row(ReturnSetInfo *rsinfo, const char *name, const char *effective,
		const char *description)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	const char *setting = GetConfigOption(name, true, false);

	values[0] = CStringGetTextDatum(name);
	if (setting)
		values[1] = CStringGetTextDatum(setting);
	else
		nulls[1] = true;
	values[2] = CStringGetTextDatum(effective);
	values[3] = CStringGetTextDatum(description);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * ai_settings() RETURNS TABLE (name, setting, effective, description):
 * setting is the session's value (SHOW); effective is what aitrack goes by,
 * which for store_content and tenant comes from the catalog (see
 * role_setting.c).
 */
Datum
ai_settings_1_4(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			tenant_role;
	bool		tenant;
	Datum		user_id;
	const char *user = "";

	InitMaterializedSRF(fcinfo, 0);
	tenant = ai_tenant_session(&tenant_role);
	if (tenant && ai_tenant_user(aitrack_function_schema(fcinfo), tenant_role, &user_id))
		user = DatumGetCString(DirectFunctionCall1(uuid_out, user_id));

	add_row(rsinfo, "aitrack.allow_drop",
			GetConfigOption("aitrack.allow_drop", true, false),
			"on: DROP EXTENSION, TRUNCATE and ALTER EXTENSION ... DROP may delete recorded data");
	add_row(rsinfo, "aitrack.budget_reservations", ai_memory_effective(),
			"where ai_budget_reserve() keeps reservations (1.9): table (ai_budget_reservation) or memory (shared memory, lost on restart; a server setting)");
	add_row(rsinfo, "aitrack.store_content", ai_store_content_effective(),
			"what record_ai_call keeps of prompts and responses: what ALTER ROLE/DATABASE stored, with PostgreSQL's precedence; a session's own value can only make it stricter");
	add_row(rsinfo, "aitrack.tenant",
			tenant ? psprintf("on (role %s)", GetUserNameFromId(tenant_role, false)) : "off",
			"whether this session is a tenant's: a member of aitrack_tenant, or a role with aitrack.tenant = on stored by ALTER ROLE");
	add_row(rsinfo, "aitrack.upkeep_interval",
			GetConfigOption("aitrack.upkeep_interval", true, false),
			"seconds between background folds of the rollups' pending rows started by one session; 0: off (then schedule ai_rollup_compact())");
	add_row(rsinfo, "aitrack.user_id", user,
			"the user a tenant sees and records as: ai_tenant_user, else auth.uid(), else this setting");
	return (Datum) 0;
}
