/*
 * model_cache.c
 *		Backend-local map from (schema, modelname, version) to ai_model.id.
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

#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
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
