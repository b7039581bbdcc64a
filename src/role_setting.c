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
#include "catalog/pg_db_role_setting.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/rel.h"

/* The value of name in a pg_db_role_setting row's setconfig, or NULL. */
static char *
value_in_row(HeapTuple tuple, TupleDesc desc, const char *name)
{
	bool		isnull;
	Datum		config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig, desc, &isnull);
	Datum	   *items;
	bool	   *item_nulls;
	int			nitems;
	char	   *result = NULL;

	if (isnull)
		return NULL;
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
		 * Not ParseLongOption(): up to 15 it mallocs its results.  Names
		 * are stored as SET normalized them (lower case).
		 */
		equals = strchr(item, '=');
		if (equals != NULL && (size_t) (equals - item) == strlen(name) &&
			pg_strncasecmp(item, name, equals - item) == 0)
			result = pstrdup(equals + 1);
		pfree(item);
	}
	return result;
}

/*
 * What a superuser stored for name that applies to role in this database,
 * with PostgreSQL's precedence at login: ALTER ROLE role IN DATABASE this
 * SET, else ALTER ROLE role SET, else ALTER DATABASE this SET, else ALTER
 * ROLE ALL SET; NULL if none.  (postgresql.conf and ALTER SYSTEM are not in
 * the catalog: see README's Security.)
 *
 * One pass over the catalog, which holds a row per (database, role) that
 * has settings: fewer reads than an index probe for each of the four.
 */
char *
ai_stored_setting(Oid role, const char *name)
{
	Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tuple;
	char	   *found[4] = {NULL, NULL, NULL, NULL};

	while (HeapTupleIsValid(tuple = systable_getnext(scan)))
	{
		Form_pg_db_role_setting row = (Form_pg_db_role_setting) GETSTRUCT(tuple);
		int			rank;

		if (row->setdatabase != MyDatabaseId && row->setdatabase != InvalidOid)
			continue;
		if (row->setrole != role && row->setrole != InvalidOid)
			continue;
		/* 0: role in this database, 1: role, 2: this database, 3: everyone */
		rank = (row->setrole == InvalidOid ? 2 : 0) + (row->setdatabase == InvalidOid ? 1 : 0);
		found[rank] = value_in_row(tuple, RelationGetDescr(rel), name);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	for (int i = 0; i < 4; i++)
		if (found[i] != NULL)
			return found[i];
	return NULL;
}
