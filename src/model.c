/*
 * model.c
 *		ai_model ids for the calls being recorded: create a model, find and
 *		lock one, and a backend-local map from (schema, modelname, version)
 *		to ai_model.id.
 *
 * Sessions racing to create the same new model meet in the unique index:
 * one inserts, the others find its row.  A model found for a call is locked
 * FOR KEY SHARE until commit, so a session deleting it waits for the call
 * (or, if it deleted first, the call creates the model again).
 *
 * The cache only saves record.c a lookup through the text unique index:
 * record.c inserts a call with a cached id only if the ai_model row with
 * that id still exists and still carries the same modelname and version
 * (checked and row-locked in the same statement), so an entry left behind
 * by a deleted, renamed or re-created model is never used; record.c then
 * forgets it and falls back to the lookup by name.
 *
 * Entries are keyed by a 64-bit hash of the names and keep the names
 * themselves to rule out collisions.  The map is bounded: when it holds
 * MODEL_CACHE_MAX entries it is emptied and starts again, which costs one
 * lookup by name per model and keeps memory flat for applications that
 * generate model names.
 */
#include "aitrack.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#define MODEL_CACHE_MAX 1024

typedef struct ModelCacheEntry
{
	uint64		key;			/* hash key: must be first */
	Oid			schema;
	int64		model_id;
	char	   *modelname;		/* NUL-terminated copies, in cache_context */
	char	   *version;
} ModelCacheEntry;

static HTAB *model_cache = NULL;
static MemoryContext cache_context = NULL;

static void
model_cache_reset(void)
{
	HASHCTL		ctl;

	if (cache_context == NULL)
		cache_context = AllocSetContextCreate(TopMemoryContext,
											  "aitrack model cache",
											  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache_context);

	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(ModelCacheEntry);
	ctl.hcxt = cache_context;
	model_cache = hash_create("aitrack model cache", 64, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

static uint64
model_key(Oid schema, text *modelname, text *version)
{
	uint64		h;

	h = hash_bytes_extended((const unsigned char *) VARDATA_ANY(modelname),
							VARSIZE_ANY_EXHDR(modelname), schema);
	return hash_bytes_extended((const unsigned char *) VARDATA_ANY(version),
							   VARSIZE_ANY_EXHDR(version), h);
}

static bool
text_equals(const char *stored, text *value)
{
	size_t		len = VARSIZE_ANY_EXHDR(value);

	return strlen(stored) == len && memcmp(stored, VARDATA_ANY(value), len) == 0;
}

static ModelCacheEntry *
find_entry(Oid schema, text *modelname, text *version)
{
	uint64		key;
	ModelCacheEntry *entry;

	if (model_cache == NULL)
		return NULL;
	key = model_key(schema, modelname, version);
	entry = hash_search(model_cache, &key, HASH_FIND, NULL);
	if (entry == NULL || entry->schema != schema ||
		!text_equals(entry->modelname, modelname) ||
		!text_equals(entry->version, version))
		return NULL;
	return entry;
}

bool
model_cache_lookup(Oid schema, text *modelname, text *version, int64 *model_id)
{
	ModelCacheEntry *entry = find_entry(schema, modelname, version);

	if (entry == NULL)
		return false;
	*model_id = entry->model_id;
	return true;
}

void
model_cache_store(Oid schema, text *modelname, text *version, int64 model_id)
{
	uint64		key;
	ModelCacheEntry *entry;
	bool		found;

	if (model_cache == NULL || hash_get_num_entries(model_cache) >= MODEL_CACHE_MAX)
		model_cache_reset();

	key = model_key(schema, modelname, version);
	entry = hash_search(model_cache, &key, HASH_ENTER, &found);
	if (found)
	{
		/* Same model with a new id, or a hash collision: take the slot. */
		pfree(entry->modelname);
		pfree(entry->version);
	}
	entry->schema = schema;
	entry->model_id = model_id;
	entry->modelname = MemoryContextStrdup(cache_context, text_to_cstring(modelname));
	entry->version = MemoryContextStrdup(cache_context, text_to_cstring(version));
}

void
model_cache_forget(Oid schema, text *modelname, text *version)
{
	ModelCacheEntry *entry = find_entry(schema, modelname, version);

	if (entry == NULL)
		return;
	pfree(entry->modelname);
	pfree(entry->version);
	hash_search(model_cache, &entry->key, HASH_REMOVE, NULL);
}

/* The statements on ai_model, prepared once per backend (and schema). */
typedef struct ModelPlans
{
	Oid			schema;
	SPIPlanPtr	create;			/* INSERT ... ON CONFLICT DO NOTHING */
	SPIPlanPtr	lock;			/* SELECT id ... FOR KEY SHARE */
} ModelPlans;

static ModelPlans model_plans;

static ModelPlans *
get_model_plans(Oid schema)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	const char *nsp;

	if (model_plans.schema == schema && model_plans.create != NULL)
		return &model_plans;
	if (model_plans.create != NULL)
		SPI_freeplan(model_plans.create);
	if (model_plans.lock != NULL)
		SPI_freeplan(model_plans.lock);
	memset(&model_plans, 0, sizeof(model_plans));

	nsp = quote_identifier(get_namespace_name(schema));
	model_plans.create =
		aitrack_prepare_plan(psprintf("INSERT INTO %s.ai_model (modelname, version)"
									  " VALUES ($1, $2)"
									  " ON CONFLICT (modelname, version) DO NOTHING",
									  nsp),
							 2, types, 0);
	model_plans.lock =
		aitrack_prepare_plan(psprintf("SELECT m.id FROM %s.ai_model m"
									  " WHERE m.modelname OPERATOR(pg_catalog.=) $1"
									  " AND m.version OPERATOR(pg_catalog.=) $2"
									  " FOR KEY SHARE",
									  nsp),
							 2, types, 0);
	model_plans.schema = schema;
	return &model_plans;
}

/*
 * Create the model unless it exists (or is being created by a session that
 * has not committed yet: then this waits for it).  Connected to SPI.
 */
void
ai_model_create(Oid schema, Datum modelname, Datum version)
{
	Datum		params[2] = {modelname, version};

	if (SPI_execute_plan(get_model_plans(schema)->create, params, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed for create_model");
}

/*
 * The id of a model, created if need be, locked until commit.  Connected to
 * SPI.
 */
int64
ai_model_lock_id(Oid schema, Datum modelname, Datum version)
{
	Datum		params[2] = {modelname, version};

	for (int attempt = 0; attempt < AITRACK_MODEL_RETRIES; attempt++)
	{
		if (SPI_execute_plan(get_model_plans(schema)->lock, params, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed for lock_model");
		if (SPI_processed == 1)
		{
			bool		isnull;
			int64		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
														 SPI_tuptable->tupdesc, 1, &isnull));

			SPI_freetuptable(SPI_tuptable);
			return id;
		}
		SPI_freetuptable(SPI_tuptable);
		ai_model_create(schema, modelname, version);
	}
	ai_model_deleted_error(modelname, version, true);
	pg_unreachable();			/* it raises an error */
}

/*
 * Give up on a call (or a batch) whose model was deleted again each time
 * it was created, AITRACK_MODEL_RETRIES times.
 */
void
ai_model_deleted_error(Datum modelname, Datum version, bool batch)
{
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("could not record %s: model \"%s\" version \"%s\" was deleted while recording",
					batch ? "calls" : "call",
					TextDatumGetCString(modelname), TextDatumGetCString(version)),
			 batch ? 0 : errdetail("The model was created and deleted again %d times.",
								   AITRACK_MODEL_RETRIES),
			 errhint("Retry the %s once the sessions deleting the model are done.",
					 batch ? "batch" : "call")));
	pg_unreachable();
}
