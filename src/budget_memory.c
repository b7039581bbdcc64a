/*
 * budget_memory.c
 *		Budget reservations held in shared memory (1.9): what
 *		ai_budget_reserve() holds when aitrack.budget_reservations is
 *		'memory', and what ai_budget_settle() and ai_budget_release() end.
 *
 * Why: a reservation kept in ai_budget_reservation costs a row inserted,
 * a row deleted and two updates of its spend row, and the reserving
 * transaction a commit that writes WAL: about as much again as the call's
 * recording (README, Performance).  Held here, reserving writes nothing:
 * its transaction is read-only, and ending a reservation is a mark taken
 * off at commit.  The price: a reservation held in memory does not survive
 * a restart of the server (its hold is gone, and its call still counts when
 * recorded), and it is not in ai_budget_reservation (it is in
 * ai_budget_memory_reservations()).
 *
 * What is kept, for the whole cluster, under one LWLock:
 *	- slots: one per reservation (database, install, id, amount, expiry,
 *	  and the spend keys it holds, copied);
 *	- keys: one per spend key held (budget id, a 64-bit hash of the scope
 *	  value, period start), with the sum of what the slots holding it hold,
 *	  so that a check reads one entry.  Both are open-addressing tables with
 *	  linear probing, and deletion by backward shift (no tombstones); both
 *	  have a fixed size (aitrack.h: AI_MEMORY_RESERVATIONS_MAX and the other
 *	  limits), and a reservation they cannot take is refused.
 * "install" is the OID of the extension's ai_budget_reservation_id_seq, so
 * that a dropped and re-created aitrack, or another database, never sees
 * another's holds; ids come from that sequence, never colliding with the
 * rows of ai_budget_reservation.
 *
 * Transactions: a slot made is visible (holds) at once, so that concurrent
 * reservations see each other, but it is the maker's until its transaction
 * commits (no one else can end it), and goes if that transaction (or the
 * subtransaction that made it) aborts.  Ending a slot marks it; the mark
 * takes the slot and its holds out when the ending transaction commits
 * (after its commit is visible: the call it counted is there before its
 * hold goes), and is taken back if it aborts; a second ender waits on a
 * lock the first holds (ai_memory_end()).  PREPARE TRANSACTION is
 * refused while this transaction has either (the slots are per backend
 * business until then).
 *
 * Expired slots hold nothing: whoever reads (the check, the held sums) first
 * sweeps them out when the earliest expiry has passed.
 *
 * Where the memory comes from: shared_preload_libraries = 'aitrack' (every
 * version), else PostgreSQL 17's DSM registry (created at first use).  On
 * PostgreSQL 15 and 16 without preloading, there is none, and reservations
 * stay in the table whatever the setting says.
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "catalog/pg_database.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#if PG_VERSION_NUM >= 170000
#include "storage/dsm_registry.h"
#endif
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#define MEM_SLOTS			8192	/* table size: reservations */
#define MEM_SLOTS_LIVE		AI_MEMORY_RESERVATIONS_MAX	/* at most this many at once */
#define MEM_KEYS			32768	/* table size: spend keys held */
#define MEM_KEYS_LIVE		AI_MEMORY_ROWS_MAX
#define MEM_TENANT_LIVE		AI_MEMORY_TENANT_MAX

typedef struct MemKey
{
	Oid			db;
	Oid			install;
	int64		budget_id;
	TimestampTz period_start;
	uint64		scope_hash;		/* of the scope value: two values whose hashes
								 * collide would share their holds (counted
								 * twice: a refusal, never an overshoot) */
} MemKey;

typedef struct MemKeyEntry
{
	bool		used;
	uint32		hash;
	int32		refs;			/* slots holding this key */
	AiNano		held;			/* what they hold, nano-USD */
	MemKey		key;
} MemKeyEntry;

typedef enum MemSlotState
{
	SLOT_MADE = 1,				/* its maker's transaction is in progress */
	SLOT_LIVE,
	SLOT_ENDING					/* an ending transaction is in progress */
} MemSlotState;

typedef struct MemSlot
{
	uint8		state;			/* 0: free */
	uint32		hash;
	int			owner;			/* pid of the maker or ender in progress */
	Oid			db;
	Oid			install;
	int64		id;
	TimestampTz expires_at;
	AiNano		amount;			/* nano-USD */
	uint32		ender_token;	/* SLOT_ENDING: the ender's lock to wait on */
	bool		by_tenant;		/* made by a tenant, for user: */
	pg_uuid_t	user;
	int			nkeys;
	MemKey		keys[AI_MEMORY_HOLDS_MAX];
} MemSlot;

typedef struct MemStore
{
	LWLock		lock;
	int			tranche;
	int			nslots;
	int			nkeys;
	TimestampTz next_expiry;	/* no slot expires before this */
	MemSlot		slots[MEM_SLOTS];
	MemKeyEntry keys[MEM_KEYS];
} MemStore;

/* What this backend's transaction did to the store, undone or done at its end. */
typedef enum PendingKind
{
	PENDING_MADE,
	PENDING_ENDING
} PendingKind;

typedef struct Pending
{
	PendingKind kind;
	Oid			install;
	int64		id;
	SubTransactionId subid;
	uint8		prev_state;		/* PENDING_ENDING: the slot's state before */
} Pending;

static const struct config_enum_entry reservation_places[] = {
	{"table", AI_RESERVATIONS_TABLE, false},
	{"memory", AI_RESERVATIONS_MEMORY, false},
	{NULL, 0, false}
};

static int	reservations_setting = AI_RESERVATIONS_TABLE;
static MemStore *store;			/* this backend's pointer to it, NULL: none yet */
static bool store_preloaded;	/* allocated at server start */
static bool tranche_registered;
static Pending *pending;
static int	npending;
static int	pending_cap;

/*
 * The lock a transaction that ends a reservation holds, one per
 * subtransaction that ended one, for others to wait on (ai_memory_end()):
 * an advisory lock's tag of a kind of its own (field 4 = 3; SQL's advisory
 * locks use 1 and 2), (database, pid, token), token = this backend's
 * count of transactions << 16 ^ the subtransaction id.  A subtransaction's
 * lock goes when it aborts (a waiter then finds the reservation held
 * again), or passes to its parent when it commits.
 */
static uint32 xact_count;
static SubTransactionId *token_subids;	/* the subtransactions holding one */
static int	ntokens;
static int	token_cap;

static shmem_request_hook_type prev_shmem_request_hook;
static shmem_startup_hook_type prev_shmem_startup_hook;

static void
store_init(MemStore *s)
{
	memset(s, 0, sizeof(MemStore));
	s->tranche = LWLockNewTrancheId();
	LWLockInitialize(&s->lock, s->tranche);
	s->next_expiry = DT_NOEND;
}

static void
memory_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(MemStore)));
}

static void
memory_shmem_startup(void)
{
	bool		found;
	MemStore   *s;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	s = ShmemInitStruct("aitrack budget reservations", sizeof(MemStore), &found);
	if (!found)
		store_init(s);
	LWLockRelease(AddinShmemInitLock);
	store = s;
}

#if PG_VERSION_NUM >= 170000
static void
store_init_callback(void *ptr)
{
	store_init((MemStore *) ptr);
}
#endif

/* The store, attached; NULL when this server has none (PostgreSQL 15, 16 unpreloaded). */
static MemStore *
memory_store(void)
{
	if (store == NULL && !store_preloaded)
	{
#if PG_VERSION_NUM >= 170000
		bool		found;

		store = GetNamedDSMSegment("aitrack budget reservations", sizeof(MemStore),
								   store_init_callback, &found);
#endif
	}
	if (store != NULL && !tranche_registered)
	{
		LWLockRegisterTranche(store->tranche, "aitrack_reservations");
		tranche_registered = true;
	}
	return store;
}

/* ---------------------------------------------------------------- tables */

static uint32
key_hash(const MemKey *key)
{
	return hash_bytes((const unsigned char *) key, sizeof(MemKey));
}

static uint32
slot_hash(Oid db, Oid install, int64 id)
{
	struct
	{
		Oid			db;
		Oid			install;
		int64		id;
	}			k;

	memset(&k, 0, sizeof(k));
	k.db = db;
	k.install = install;
	k.id = id;
	return hash_bytes((const unsigned char *) &k, sizeof(k));
}

/* Does the entry at home h sit cyclically in (hole, j]: it must stay. */
static inline bool
stays(uint32 h, int hole, int j)
{
	return hole <= j ? (hole < (int) h && (int) h <= j) : (hole < (int) h || (int) h <= j);
}

static int
key_find(MemStore *s, const MemKey *key, uint32 hash)
{
	for (int i = hash & (MEM_KEYS - 1);; i = (i + 1) & (MEM_KEYS - 1))
	{
		MemKeyEntry *e = &s->keys[i];

		if (!e->used)
			return -1;
		if (e->hash == hash && memcmp(&e->key, key, sizeof(MemKey)) == 0)
			return i;
	}
}

/* The entry of key, made (held 0) if there is none; the caller checked for room. */
static MemKeyEntry *
key_enter(MemStore *s, const MemKey *key)
{
	uint32		hash = key_hash(key);
	int			i;

	for (i = hash & (MEM_KEYS - 1); s->keys[i].used; i = (i + 1) & (MEM_KEYS - 1))
		if (s->keys[i].hash == hash && memcmp(&s->keys[i].key, key, sizeof(MemKey)) == 0)
			return &s->keys[i];
	s->keys[i].used = true;
	s->keys[i].hash = hash;
	s->keys[i].refs = 0;
	s->keys[i].held = 0;
	s->keys[i].key = *key;
	s->nkeys++;
	return &s->keys[i];
}

static void
key_delete(MemStore *s, int hole)
{
	int			j = hole;

	for (;;)
	{
		j = (j + 1) & (MEM_KEYS - 1);
		if (!s->keys[j].used)
			break;
		if (stays(s->keys[j].hash & (MEM_KEYS - 1), hole, j))
			continue;
		s->keys[hole] = s->keys[j];
		hole = j;
	}
	s->keys[hole].used = false;
	s->nkeys--;
}

static int
slot_find(MemStore *s, Oid install, int64 id)
{
	uint32		hash = slot_hash(MyDatabaseId, install, id);

	for (int i = hash & (MEM_SLOTS - 1);; i = (i + 1) & (MEM_SLOTS - 1))
	{
		MemSlot    *slot = &s->slots[i];

		if (slot->state == 0)
			return -1;
		if (slot->hash == hash && slot->id == id && slot->install == install && slot->db == MyDatabaseId)
			return i;
	}
}

/* Take slot i out, and what it holds off its keys. */
static void
slot_delete(MemStore *s, int hole)
{
	MemSlot    *slot = &s->slots[hole];
	int			j = hole;

	for (int k = 0; k < slot->nkeys; k++)
	{
		int			e = key_find(s, &slot->keys[k], key_hash(&slot->keys[k]));

		if (e < 0)
			elog(PANIC, "aitrack: a reservation's key is missing from shared memory");
		s->keys[e].held -= slot->amount;
		if (--s->keys[e].refs == 0)
			key_delete(s, e);
	}
	for (;;)
	{
		j = (j + 1) & (MEM_SLOTS - 1);
		if (s->slots[j].state == 0)
			break;
		if (stays(s->slots[j].hash & (MEM_SLOTS - 1), hole, j))
			continue;
		s->slots[hole] = s->slots[j];
		hole = j;
	}
	s->slots[hole].state = 0;
	s->nslots--;
}

/* Take the expired slots out, if any may be; under the exclusive lock. */
static void
sweep_expired(MemStore *s, TimestampTz now)
{
	TimestampTz next = DT_NOEND;

	if (now < s->next_expiry)
		return;
	for (int i = 0; i < MEM_SLOTS;)
	{
		MemSlot    *slot = &s->slots[i];

		if (slot->state != 0 && slot->expires_at <= now)
		{
			slot_delete(s, i);	/* (another may have moved into i: look again) */
			continue;
		}
		if (slot->state != 0 && slot->expires_at < next)
			next = slot->expires_at;
		i++;
	}
	s->next_expiry = next;
}

/* --------------------------------------------------- this transaction's */

static void
pending_add(PendingKind kind, Oid install, int64 id, uint8 prev_state)
{
	if (npending == pending_cap)
	{
		pending_cap = pending_cap == 0 ? 16 : pending_cap * 2;
		pending = pending == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(Pending) * pending_cap) :
			repalloc(pending, sizeof(Pending) * pending_cap);
	}
	pending[npending].kind = kind;
	pending[npending].install = install;
	pending[npending].id = id;
	pending[npending].subid = GetCurrentSubTransactionId();
	pending[npending].prev_state = prev_state;
	npending++;
}

/*
 * The end of pending[from..npending) (committed: done; else undone), under
 * the exclusive lock.  Runs after a commit too: nothing here may fail.
 */
static void
pending_finish(int from, bool committed)
{
	MemStore   *s = store;

	if (s == NULL)
	{
		npending = from;
		return;
	}
	LWLockAcquire(&s->lock, LW_EXCLUSIVE);
	for (int p = npending - 1; p >= from; p--)
	{
		int			i = slot_find(s, pending[p].install, pending[p].id);
		MemSlot    *slot;

		if (i < 0)
			continue;			/* swept out when it expired */
		slot = &s->slots[i];
		if (slot->owner != MyProcPid)
			continue;
		if (pending[p].kind == PENDING_MADE && slot->state == SLOT_MADE)
		{
			if (committed)
			{
				slot->state = SLOT_LIVE;
				slot->owner = 0;
			}
			else
				slot_delete(s, i);
		}
		else if (pending[p].kind == PENDING_ENDING && slot->state == SLOT_ENDING)
		{
			if (committed)
				slot_delete(s, i);
			else if (pending[p].prev_state == SLOT_MADE)
				slot->state = SLOT_MADE;	/* (still its maker's, this transaction) */
			else
			{
				slot->state = SLOT_LIVE;
				slot->owner = 0;
			}
		}
	}
	LWLockRelease(&s->lock);
	npending = from;
}

static void
memory_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
	{
		xact_count++;
		ntokens = 0;
	}
	if (npending == 0)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that made or ended a budget reservation held in memory"),
					 errhint("Reserve, settle and release outside of two-phase commit, or set aitrack.budget_reservations to 'table'.")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			pending_finish(0, true);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			pending_finish(0, false);
			break;
		default:
			break;
	}
}

static void
memory_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	int			keep = 0;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* (its lock is released with it) */
		for (int t = 0; t < ntokens; t++)
			if (token_subids[t] == mySubid)
				token_subids[t--] = token_subids[--ntokens];
	}
	if (npending == 0)
		return;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		for (int p = 0; p < npending; p++)
			if (pending[p].subid == mySubid)
				pending[p].subid = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/* the subtransaction's entries to the end, then undone */
		Pending    *moved = palloc(sizeof(Pending) * npending);
		int			nmoved = 0;

		for (int p = 0; p < npending; p++)
		{
			if (pending[p].subid == mySubid)
				moved[nmoved++] = pending[p];
			else
				pending[keep++] = pending[p];
		}
		memcpy(&pending[keep], moved, sizeof(Pending) * nmoved);
		pfree(moved);
		pending_finish(keep, false);
	}
}

/* ------------------------------------------------------------- the API */

void
budget_memory_init(void)
{
	DefineCustomEnumVariable("aitrack.budget_reservations",
							 "Where ai_budget_reserve() keeps reservations: 'table' (ai_budget_reservation) or 'memory' (shared memory, lost on restart).",
							 "'memory' needs shared_preload_libraries = 'aitrack' on PostgreSQL 15 and 16; without it reservations stay in the table.",
							 &reservations_setting, AI_RESERVATIONS_TABLE, reservation_places,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
	{
		store_preloaded = true;
		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = memory_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = memory_shmem_startup;
	}
	RegisterXactCallback(memory_xact_callback, NULL);
	RegisterSubXactCallback(memory_subxact_callback, NULL);
}

/* Is 1.9's ai_budget_memory_held(bigint, text, timestamptz) in schema? */
static bool
held_function_exists(Oid schema)
{
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};

	return SearchSysCacheExists3(PROCNAMEARGSNSP, CStringGetDatum("ai_budget_memory_held"),
								 PointerGetDatum(buildoidvector(types, 3)),
								 ObjectIdGetDatum(schema));
}

/*
 * The store, if this backend can reach it: preloaded, attached already, or
 * (the setting 'memory') attached now.  With 'table' and no store attached
 * on PostgreSQL 17's DSM registry, none is created for nothing.
 */
static MemStore *
reachable_store(void)
{
	if (RecoveryInProgress())
		return NULL;
	if (store != NULL || reservations_setting == AI_RESERVATIONS_MEMORY)
		return memory_store();
	return NULL;
}

/*
 * The install reservations of schema are held under in memory (its id
 * sequence), or InvalidOid: the server has no store within reach, or the
 * installed version predates 1.9 (its status view would not show them).
 * for_new: for a new reservation, which also needs the setting 'memory';
 * otherwise (ending one, reading what memory holds) memory is looked at
 * whatever the setting, so that one held before the setting went back to
 * 'table' still ends and still counts.
 */
Oid
ai_memory_install(Oid schema, bool for_new)
{
	static Oid	known_schema = InvalidOid;
	static Oid	known_install = InvalidOid;
	Oid			install;

	if (for_new && reservations_setting != AI_RESERVATIONS_MEMORY)
		return InvalidOid;
	if (reachable_store() == NULL)
		return InvalidOid;
	install = get_relname_relid("ai_budget_reservation_id_seq", schema);
	if (!OidIsValid(install))
		return InvalidOid;
	if (schema == known_schema && install == known_install)
		return install;
	if (!held_function_exists(schema))
		return InvalidOid;
	known_schema = schema;
	known_install = install;
	return install;
}

/* Where reservations go, as ai_settings() shows it. */
const char *
ai_memory_effective(void)
{
	if (reservations_setting != AI_RESERVATIONS_MEMORY)
		return "table";
	if (!store_preloaded && PG_VERSION_NUM < 170000)
		return "table (no shared memory for it: shared_preload_libraries = 'aitrack' is needed before PostgreSQL 17)";
	return "memory";
}

static void
fill_key(MemKey *mk, Oid install, const AiSpendKey *key)
{
	memset(mk, 0, sizeof(MemKey));
	mk->db = MyDatabaseId;
	mk->install = install;
	mk->budget_id = key->budget_id;
	mk->period_start = key->period_start;
	mk->scope_hash = hash_bytes_extended((const unsigned char *) key->scope_value,
										 strlen(key->scope_value), 0);
}

/*
 * Hold amount (nano-USD) against keys[0..nkeys) as reservation id, until
 * expires_at (by_tenant: a tenant's, for user); held_before[i] gets what
 * the others hold on keys[i] (the expired swept out first).  Otherwise,
 * holding nothing: AI_HOLD_NO_SLOT, AI_HOLD_NO_KEY (the store is full),
 * AI_HOLD_TENANT_FULL (this tenant's user has MEM_TENANT_LIVE already: one
 * tenant may not fill the store for everyone).
 */
AiMemoryHold
ai_memory_hold(Oid install, int64 id, TimestampTz expires_at, AiNano amount,
			   const AiSpendKey *keys, int nkeys, bool by_tenant, const pg_uuid_t *user,
			   AiNano *held_before)
{
	MemStore   *s = memory_store();
	MemKey		mkeys[AI_MEMORY_HOLDS_MAX];
	uint32		hash = slot_hash(MyDatabaseId, install, id);
	int			fresh = 0;
	int			i;
	MemSlot    *slot;

	if (s == NULL || nkeys > AI_MEMORY_HOLDS_MAX)
		elog(ERROR, "aitrack: no reservation store, or too many holds");
	for (int k = 0; k < nkeys; k++)
		fill_key(&mkeys[k], install, &keys[k]);
	/* room for what may be added before anything is (nothing to undo) */
	if (npending == pending_cap)
	{
		pending_add(PENDING_MADE, install, id, 0);
		npending--;
	}

	LWLockAcquire(&s->lock, LW_EXCLUSIVE);
	sweep_expired(s, GetCurrentTimestamp());
	for (int k = 0; k < nkeys; k++)
	{
		int			e = key_find(s, &mkeys[k], key_hash(&mkeys[k]));

		if (e < 0)
			fresh++;
		held_before[k] = e < 0 ? 0 : s->keys[e].held;
	}
	if (s->nslots >= MEM_SLOTS_LIVE || s->nkeys + fresh > MEM_KEYS_LIVE)
	{
		LWLockRelease(&s->lock);
		return s->nslots >= MEM_SLOTS_LIVE ? AI_HOLD_NO_SLOT : AI_HOLD_NO_KEY;
	}
	if (by_tenant)
	{
		int			mine = 0;

		for (int j = 0; j < MEM_SLOTS; j++)
			if (s->slots[j].state != 0 && s->slots[j].by_tenant && s->slots[j].db == MyDatabaseId &&
				s->slots[j].install == install && user != NULL &&
				memcmp(&s->slots[j].user, user, sizeof(pg_uuid_t)) == 0)
				mine++;
		if (mine >= MEM_TENANT_LIVE)
		{
			LWLockRelease(&s->lock);
			return AI_HOLD_TENANT_FULL;
		}
	}
	for (int k = 0; k < nkeys; k++)
	{
		MemKeyEntry *e = key_enter(s, &mkeys[k]);

		e->refs++;
		e->held += amount;
	}
	for (i = hash & (MEM_SLOTS - 1); s->slots[i].state != 0; i = (i + 1) & (MEM_SLOTS - 1))
		;
	slot = &s->slots[i];
	slot->state = SLOT_MADE;
	slot->hash = hash;
	slot->owner = MyProcPid;
	slot->db = MyDatabaseId;
	slot->install = install;
	slot->id = id;
	slot->expires_at = expires_at;
	slot->amount = amount;
	slot->by_tenant = by_tenant;
	if (user != NULL)
		slot->user = *user;
	else
		memset(&slot->user, 0, sizeof(pg_uuid_t));
	slot->nkeys = nkeys;
	memcpy(slot->keys, mkeys, sizeof(MemKey) * nkeys);
	s->nslots++;
	if (expires_at < s->next_expiry)
		s->next_expiry = expires_at;
	pending_add(PENDING_MADE, install, id, 0);	/* (room made above: no palloc) */
	LWLockRelease(&s->lock);
	return AI_HOLD_DONE;
}

/*
 * Take out the slots nobody can end any more: of databases dropped, and of
 * this database's earlier installs (DROP EXTENSION; install is the current
 * one).  Run when the store is full; returns how many went.
 */
int
ai_memory_purge_stale(Oid install)
{
	MemStore   *s = memory_store();
	Oid		   *dbs = palloc(sizeof(Oid) * MEM_SLOTS);
	bool	   *gone = palloc(sizeof(bool) * MEM_SLOTS);
	int			ndbs = 0;
	int			purged = 0;

	LWLockAcquire(&s->lock, LW_SHARED);
	for (int i = 0; i < MEM_SLOTS; i++)
	{
		bool		seen = false;

		if (s->slots[i].state == 0)
			continue;
		for (int d = 0; d < ndbs && !seen; d++)
			seen = dbs[d] == s->slots[i].db;
		if (!seen)
			dbs[ndbs++] = s->slots[i].db;
	}
	LWLockRelease(&s->lock);
	/* (the catalog read with no LWLock held) */
	for (int d = 0; d < ndbs; d++)
	{
		CHECK_FOR_INTERRUPTS();
		gone[d] = !SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(dbs[d]));
	}
	LWLockAcquire(&s->lock, LW_EXCLUSIVE);
	for (int i = 0; i < MEM_SLOTS;)
	{
		MemSlot    *slot = &s->slots[i];
		bool		stale = false;

		if (slot->state != 0)
		{
			stale = slot->db == MyDatabaseId && slot->install != install;
			for (int d = 0; d < ndbs && !stale; d++)
				stale = gone[d] && dbs[d] == slot->db;
		}
		if (stale)
		{
			slot_delete(s, i);	/* (another may have moved into i: look again) */
			purged++;
			continue;
		}
		i++;
	}
	LWLockRelease(&s->lock);
	pfree(dbs);
	pfree(gone);
	return purged;
}

/* Take back what this transaction's ai_memory_hold() of id held (a refusal). */
void
ai_memory_unhold(Oid install, int64 id)
{
	MemStore   *s = memory_store();
	int			i;

	for (int p = npending - 1; p >= 0; p--)
		if (pending[p].kind == PENDING_MADE && pending[p].id == id && pending[p].install == install)
		{
			/* (the order kept: the ends are undone in reverse) */
			memmove(&pending[p], &pending[p + 1], sizeof(Pending) * (npending - p - 1));
			npending--;
			break;
		}
	LWLockAcquire(&s->lock, LW_EXCLUSIVE);
	i = slot_find(s, install, id);
	if (i >= 0 && s->slots[i].state == SLOT_MADE && s->slots[i].owner == MyProcPid)
		slot_delete(s, i);
	LWLockRelease(&s->lock);
}

static void
ender_locktag(LOCKTAG *tag, int pid, uint32 token)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, (uint32) pid, token, 3);
}

/* This (sub)transaction's ender lock, taken if it has none yet; its token. */
static uint32
ender_token(void)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	uint32		token = (xact_count << 16) ^ (uint32) subid;
	LOCKTAG		tag;

	for (int t = 0; t < ntokens; t++)
		if (token_subids[t] == subid)
			return token;
	if (ntokens == token_cap)
	{
		token_cap = token_cap == 0 ? 8 : token_cap * 2;
		token_subids = token_subids == NULL ?
			MemoryContextAlloc(TopMemoryContext, sizeof(SubTransactionId) * token_cap) :
			repalloc(token_subids, sizeof(SubTransactionId) * token_cap);
	}
	ender_locktag(&tag, MyProcPid, token);
	(void) LockAcquire(&tag, ExclusiveLock, false, false);
	token_subids[ntokens++] = subid;
	return token;
}

/*
 * End reservation id, when this transaction commits: AI_MEMORY_ENDING (it
 * is marked), AI_MEMORY_BUSY (another transaction in progress made it, or
 * this one ended it already), AI_MEMORY_NOT_YOURS (a tenant's caller, and
 * not its own tenant's reservation), AI_MEMORY_UNKNOWN (not held in
 * memory: the caller looks in the table).
 *
 * One another transaction is ending is waited for, as the row lock of a
 * DELETE would be: on the ender's lock (ender_token()), a heavyweight lock,
 * so that a cycle of such waits, or of them and row locks, is a deadlock
 * PostgreSQL detects; then it is gone if the ender committed, held again if
 * the ender (or the subtransaction that ended it) rolled back.  (The end is
 * done or undone by the transaction callbacks, before the locks go.)
 */
AiMemoryEnd
ai_memory_end(Oid install, int64 id, bool tenant, const pg_uuid_t *user)
{
	MemStore   *s = memory_store();
	AiMemoryEnd result;
	uint32		token = ender_token();
	int			i;

	if (npending == pending_cap)
	{
		pending_add(PENDING_ENDING, install, id, 0);
		npending--;
	}
	for (;;)
	{
		LOCKTAG		tag;

		CHECK_FOR_INTERRUPTS();
		LWLockAcquire(&s->lock, LW_EXCLUSIVE);
		i = slot_find(s, install, id);
		if (i < 0)
			result = AI_MEMORY_UNKNOWN;
		else if (tenant && !(s->slots[i].by_tenant && user != NULL &&
							 memcmp(&s->slots[i].user, user, sizeof(pg_uuid_t)) == 0))
			result = AI_MEMORY_NOT_YOURS;
		else if (s->slots[i].state == SLOT_ENDING && s->slots[i].owner != MyProcPid)
		{
			/* another's end in progress: wait for it, look again */
			ender_locktag(&tag, s->slots[i].owner, s->slots[i].ender_token);
			LWLockRelease(&s->lock);
			(void) LockAcquire(&tag, ShareLock, false, false);
			LockRelease(&tag, ShareLock, false);
			continue;
		}
		else if (!(s->slots[i].state == SLOT_LIVE ||
				   (s->slots[i].state == SLOT_MADE && s->slots[i].owner == MyProcPid)))
			result = AI_MEMORY_BUSY;	/* another's being made, or ended here already */
		else
		{
			/*
			 * (One made in this transaction too: its end is undone with the
			 * subtransaction that ended it, and it is the maker's again.)
			 */
			pending_add(PENDING_ENDING, install, id, s->slots[i].state);
			s->slots[i].state = SLOT_ENDING;
			s->slots[i].owner = MyProcPid;
			s->slots[i].ender_token = token;
			result = AI_MEMORY_ENDING;
		}
		LWLockRelease(&s->lock);
		return result;
	}
}

/* What the unexpired reservations hold on key, nano-USD (0: none, or no store). */
AiNano
ai_memory_held(Oid install, const AiSpendKey *key)
{
	MemStore   *s = memory_store();
	MemKey		mk;
	int			e;
	AiNano		held = 0;
	TimestampTz now = GetCurrentTimestamp();

	if (s == NULL)
		return 0;
	fill_key(&mk, install, key);
	LWLockAcquire(&s->lock, now >= s->next_expiry ? LW_EXCLUSIVE : LW_SHARED);
	if (LWLockHeldByMeInMode(&s->lock, LW_EXCLUSIVE))
		sweep_expired(s, now);
	e = key_find(s, &mk, key_hash(&mk));
	if (e >= 0)
		held = s->keys[e].held;
	LWLockRelease(&s->lock);
	return held;
}

/* nano-USD as numeric, exactly */
Datum
ai_nano_numeric(AiNano nano)
{
	char		digits[64];
	char		buf[72];
	int			n = 0;
	int			len = 0;
	bool		negative = nano < 0;

	/* the digits, lowest first, at least ten (a zero before the point) */
	do
	{
		int			d = (int) (nano % 10);

		digits[n++] = '0' + (d < 0 ? -d : d);
		nano /= 10;
	} while (nano != 0 || n < 10);
	if (negative)
		buf[len++] = '-';
	while (n > 9)
		buf[len++] = digits[--n];
	buf[len++] = '.';
	while (n > 0)
		buf[len++] = digits[--n];
	buf[len] = '\0';
	while (buf[len - 1] == '0')
		buf[--len] = '\0';
	if (buf[len - 1] == '.')
		buf[--len] = '\0';
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
							   Int32GetDatum(-1));
}

PG_FUNCTION_INFO_V1(ai_budget_memory_held_1_9);

/*
 * ai_budget_memory_held(budget_id bigint, scope_value text, period_start
 * timestamptz) RETURNS numeric: what the unexpired reservations held in
 * memory hold on that spend row (0 when none, or reservations are in the
 * table).
 */
Datum
ai_budget_memory_held_1_9(PG_FUNCTION_ARGS)
{
	Oid			schema = aitrack_function_schema(fcinfo);
	Oid			install;
	Oid			tenant_role;
	AiSpendKey	key;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	install = ai_memory_install(schema, false);
	if (!OidIsValid(install))
		PG_RETURN_DATUM(ai_nano_numeric(0));
	key.budget_id = PG_GETARG_INT64(0);
	key.scope_value = TextDatumGetCString(PG_GETARG_DATUM(1));
	key.period_start = PG_GETARG_TIMESTAMPTZ(2);
	/*
	 * A tenant learns what is held for its own user on a user budget, as
	 * it sees that user's spend rows, and nothing else.
	 */
	if (ai_tenant_session(&tenant_role))
	{
		const AiBudgetSet *set = ai_budget_set(schema);
		Datum		own;
		bool		mine = false;

		if (ai_tenant_user(schema, tenant_role, &own) &&
			strcmp(key.scope_value, DatumGetCString(DirectFunctionCall1(uuid_out, own))) == 0)
			for (int i = 0; i < set->nbudgets; i++)
				if (set->budgets[i].id == key.budget_id)
					mine = set->budgets[i].scope == AI_BUDGET_USER;
		if (!mine)
			PG_RETURN_DATUM(ai_nano_numeric(0));
	}
	PG_RETURN_DATUM(ai_nano_numeric(ai_memory_held(install, &key)));
}

PG_FUNCTION_INFO_V1(ai_budget_memory_reservations_1_9);

/*
 * ai_budget_memory_reservations() RETURNS TABLE (id bigint, amount_usd
 * numeric, expires_at timestamptz, state text, holds integer): the
 * reservations of this database's aitrack held in memory now, expired ones
 * included until swept.
 */
Datum
ai_budget_memory_reservations_1_9(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			schema = aitrack_function_schema(fcinfo);
	Oid			install = get_relname_relid("ai_budget_reservation_id_seq", schema);
	MemStore   *s;
	MemSlot    *copy;
	int			ncopy = 0;
	Oid			tenant_role;

	InitMaterializedSRF(fcinfo, 0);
	if (!OidIsValid(install) || ai_tenant_session(&tenant_role) ||
		!OidIsValid(ai_memory_install(schema, false)) || (s = memory_store()) == NULL)
		return (Datum) 0;
	/* copied out under the lock, returned after it */
	copy = palloc(sizeof(MemSlot) * MEM_SLOTS_LIVE);
	LWLockAcquire(&s->lock, LW_SHARED);
	for (int i = 0; i < MEM_SLOTS && ncopy < MEM_SLOTS_LIVE; i++)
		if (s->slots[i].state != 0 && s->slots[i].db == MyDatabaseId && s->slots[i].install == install)
			copy[ncopy++] = s->slots[i];
	LWLockRelease(&s->lock);
	for (int i = 0; i < ncopy; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		CHECK_FOR_INTERRUPTS();
		values[0] = Int64GetDatum(copy[i].id);
		values[1] = ai_nano_numeric(copy[i].amount);
		values[2] = TimestampTzGetDatum(copy[i].expires_at);
		values[3] = CStringGetTextDatum(copy[i].state == SLOT_MADE ? "being made" :
										copy[i].state == SLOT_ENDING ? "ending" : "held");
		values[4] = Int32GetDatum(copy[i].nkeys);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pfree(copy);
	return (Datum) 0;
}
