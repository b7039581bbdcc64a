/*
 * role_setting.c
 *		What ALTER ROLE ... SET and ALTER DATABASE ... SET stored for an
 *		aitrack setting, read from the catalog pg_db_role_setting.
 *
 * Why not the setting's value in this session: a custom setting is a
 * placeholder until the library is loaded, and a placeholder takes any
 * value a client gives (PGOPTIONS='-c aitrack.x=...', SET, set_config).
 * When the library then defines the setting, the client's value outranks
 * the role's and the database's, is refused for want of privilege, and the
 * built-in default is left.  Decisions about what is kept or who sees what
 * (content.c, tenant.c) therefore read what a superuser stored, which no
 * client can change.
 */
#include "aitrack.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

/*
 * The value stored for name in the pg_db_role_setting row of (database,
 * role), or NULL when there is none.  InvalidOid means "all databases" or
 * "all roles", as in the catalog.
 */
static char *
stored_value(Relation rel, Oid database, Oid role, const char *name)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tuple;
	char	   *result = NULL;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(database));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(role));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true,
							  NULL, 2, keys);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
										  RelationGetDescr(rel), &isnull);

		if (!isnull)
		{
			Datum	   *items;
			bool	   *item_nulls;
			int			nitems;

			deconstruct_array(DatumGetArrayTypeP(config), TEXTOID, -1, false,
							  TYPALIGN_INT, &items, &item_nulls, &nitems);
			/* The catalog keeps "name=value" items; the last one wins. */
			for (int i = 0; i < nitems; i++)
			{
				char	   *item;
				char	   *equals;

				if (item_nulls[i])
					continue;
				item = TextDatumGetCString(items[i]);
				/*
				 * Not ParseLongOption(): up to 15 it mallocs its results.
				 * Names are stored as SET normalized them (lower case).
				 */
				equals = strchr(item, '=');
				if (equals != NULL && (size_t) (equals - item) == strlen(name) &&
					pg_strncasecmp(item, name, equals - item) == 0)
					result = pstrdup(equals + 1);
				pfree(item);
			}
		}
	}
	systable_endscan(scan);
	return result;
}

/*
 * What a superuser stored for name that applies to role in this database,
 * with PostgreSQL's precedence at login: ALTER ROLE role IN DATABASE this
 * SET, else ALTER ROLE role SET, else ALTER DATABASE this SET, else ALTER
 * ROLE ALL SET; NULL if none.  (postgresql.conf and ALTER SYSTEM are not in
 * the catalog: see README's Security.)
 */
char *
ai_stored_setting(Oid role, const char *name)
{
	Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	Oid			databases[4] = {MyDatabaseId, InvalidOid, MyDatabaseId, InvalidOid};
	Oid			roles[4] = {role, role, InvalidOid, InvalidOid};
	char	   *value = NULL;

	for (int i = 0; i < 4 && value == NULL; i++)
		value = stored_value(rel, databases[i], roles[i], name);
	table_close(rel, AccessShareLock);
	return value;
}
