/*
 * aitrack.h
 *		What aitrack's C files share: the shape of one call on its way into
 *		ai_call, the limits that validation enforces, and the entry points
 *		of each file.
 *
 * One file, one job:
 *		aitrack.c		module entry: _PG_init, the extension's schema, SPI plans
 *		ai_call_fields.h the one list of a call's fields (names, types, keys)
 *		call.c			one call on its way in: the field tables, and the
 *						"prepare" step both record paths share (usage,
 *						validation, content policy, price)
 *		validate.c		checks one call's values before anything is written
 *		metrics.c		reads a metrics object or a batch element into a call
 *		usage.c			reads token counts from a provider's response
 *		price.c			the price in force for a model, and a call's cost
 *		price_rules.c	a price's tiers and service tiers, read and checked
 *		price_litellm.c	one entry of LiteLLM's price file, as aitrack's price
 *		content.c		aitrack.store_content: what is kept of prompts
 *		role_setting.c	what ALTER ROLE/DATABASE ... SET stored, from the catalog
 *		tenant.c		which roles are tenants, and which user a tenant is
 *		tenant_citus.c	what keeps a tenant's session off a distributed
 *						ai_call on the coordinator (1.10)
 *		model.c			ai_model ids: find, create, lock, and the per-backend cache
 *		record.c		record_ai_call(): one call
 *		batch.c			record_ai_calls(): many calls in one statement
 *		hist.c			mergeable latency histograms for the rollups
 *		rollup.c		the trigger that keeps the hourly rollups, and
 *						whether the daily level (1.6) is there
 *		stats.c			ai_usage_stats(): grouped aggregates
 *		guard.c			the drop guard
 *		upkeep.c		the background worker that folds the rollups
 *		check_cache.c	ai_call's CHECK constraints prepared once per backend
 *						for record_ai_call()'s insert
 *		budget_cache.c	the enabled budgets kept per backend, which a call
 *						falls under, and the period a moment falls in (1.8)
 *		budget_count.c	the trigger that counts inserted calls against their
 *						budgets, and sends the alerts (1.8)
 *		budget_reserve.c ai_budget_reserve(), _settle() and _release() (1.8)
 *		budget_memory.c	reservations held in shared memory (1.9)
 *		budget_rows.c	spend rows changed through the executor's tuple
 *						routines, not SQL, for the two files above (after 1.8)
 *		distributed.c	aitrack on Citus (1.10): is ai_call distributed, and
 *						counting what statements on it wrote, in place of
 *						its triggers
 *
 * One shared library serves every installed version of the extension: a
 * database still on 1.0 calls the *_1_0 entry points, which must keep 1.0's
 * behaviour and touch only 1.0's columns (as pg_stat_statements does).
 */
#ifndef AITRACK_H
#define AITRACK_H

#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

/* Longest modelname, version and call_type, in characters (as the CHECKs). */
#define AITRACK_MAX_NAME_CHARS 256

/* The SQL-level API a function was called through; see the comment above. */
typedef enum AitrackApi
{
	AITRACK_API_1_0,
	AITRACK_API_1_1,
	AITRACK_API_1_2,
	AITRACK_API_1_5,			/* what is billed apart, the provider */
	AITRACK_API_1_7,			/* attribution: project, API key, tags, trace; stats by them */
	AITRACK_NUM_APIS
} AitrackApi;

/* Tries of "find the model, else create it" before giving up on a call. */
#define AITRACK_MODEL_RETRIES 5

/* How a field reads from a JSON object; see ai_call_fields.h. */
typedef enum AiKeyKind
{
	AI_KEY_NONE,				/* not a key */
	AI_KEY_COUNT,				/* whole number >= 0, int4 */
	AI_KEY_DURATION,			/* number, rounded to whole milliseconds */
	AI_KEY_COST,				/* number, kept exact as numeric */
	AI_KEY_TEXT,				/* string */
	AI_KEY_OBJECT,				/* object */
	AI_KEY_JSON,				/* any JSON */
	AI_KEY_UUID,				/* string holding a uuid */
	AI_KEY_TIMESTAMP,			/* string holding a timestamptz */
	AI_KEY_TEXT_ARRAY			/* array of strings, text[] (1.7) */
} AiKeyKind;

/* The fields of one call, in the order of ai_call_fields.h. */
typedef enum AiCallField
{
#define AI_CALL_FIELD(symbol, name, type, since, argument, metrics_key, key_kind) symbol,
#include "ai_call_fields.h"
#undef AI_CALL_FIELD
	AI_NUM_FIELDS
} AiCallField;

/* One row of ai_call_fields.h. */
typedef struct AiCallFieldInfo
{
	const char *name;
	Oid			type;
	AitrackApi	since;
	bool		argument;
	bool		metrics_key;
	AiKeyKind	key_kind;
} AiCallFieldInfo;

/* Indexed by AiCallField. */
extern const AiCallFieldInfo ai_call_fields[AI_NUM_FIELDS];

#define ai_call_field_name(field) (ai_call_fields[(field)].name)

/*
 * Is the field a column that an API version's insert writes?  modelname
 * and version are ai_model's: the insert writes model_id instead.
 */
#define ai_call_field_is_column(field, api) \
	((field) != AI_MODELNAME && (field) != AI_VERSION && \
	 ai_call_fields[(field)].since <= (api))

typedef struct AiCall
{
	Datum		values[AI_NUM_FIELDS];
	bool		isnull[AI_NUM_FIELDS];
} AiCall;

/* aitrack.c */
extern bool aitrack_preloaded;
extern Oid	aitrack_function_schema(FunctionCallInfo fcinfo);
extern void aitrack_trigger_on_own_table(FunctionCallInfo fcinfo, const char *table);
extern SPIPlanPtr aitrack_prepare_plan(const char *query, int nargs,
									   Oid *argtypes, int cursor_options);

/* call.c */
extern void ai_call_init(AiCall *call);
extern void ai_call_set_text(AiCall *call, AiCallField field, const char *value);
extern void ai_call_prepare(Oid schema, AiCall *call, AitrackApi api);

/* validate.c */
extern void ai_call_validate(AiCall *call, AitrackApi api);
extern void ai_call_check_cost(AiCall *call, bool computed);

/* metrics.c */
extern void ai_call_apply_metrics(AiCall *call, Datum metrics, AitrackApi api);
extern void ai_call_apply_object(AiCall *call, JsonbContainer *object, AitrackApi api);
extern const char *ai_json_type_name(JsonbValue *value);

/* usage.c */
extern bool ai_call_has_token_counts(AiCall *call);
extern bool ai_call_usage_from_response(AiCall *call, bool read_tokens, AitrackApi api);
extern void ai_call_provider_from_response(AiCall *call);

/* record.c */
extern bool ai_call_recorded_here(Oid schema, int64 call_id);

/* price.c */
extern void ai_call_price(Oid schema, AiCall *call, AitrackApi api);

/*
 * price_rules.c: the rules of a price (1.5).  Rates are USD per million
 * tokens, by kind; a kind without a rate of its own costs what its fallback
 * kind costs (src/price_rules.c has the table).
 */
typedef enum AiRateKind
{
	AI_RATE_INPUT,
	AI_RATE_OUTPUT,
	AI_RATE_CACHE_READ,
	AI_RATE_CACHE_CREATION,
	AI_RATE_CACHE_CREATION_1H,
	AI_RATE_REASONING,
	AI_RATE_INPUT_AUDIO,
	AI_RATE_CACHE_READ_AUDIO,
	AI_RATE_OUTPUT_AUDIO,
	AI_RATE_INPUT_IMAGE,
	AI_RATE_OUTPUT_IMAGE,
	AI_NUM_RATE_KINDS
} AiRateKind;

/* Service tiers, as ai_call.service_tier names them. */
typedef enum AiServiceTier
{
	AI_SERVICE_STANDARD,
	AI_SERVICE_FLEX,
	AI_SERVICE_PRIORITY,
	AI_SERVICE_BATCH,
	AI_SERVICE_SCALE,
	AI_NUM_SERVICE_TIERS
} AiServiceTier;

/* Web search context sizes, as ai_call.web_search_context_size names them. */
typedef enum AiSearchSize
{
	AI_SEARCH_LOW,
	AI_SEARCH_MEDIUM,
	AI_SEARCH_HIGH,
	AI_NUM_SEARCH_SIZES
} AiSearchSize;

/* Rates of one level; NULL: this level has none for the kind. */
typedef struct AiRates
{
	Numeric		rate[AI_NUM_RATE_KINDS];
} AiRates;

typedef struct AiTier
{
	int64		above_tokens;
	AiRates		rates;
} AiTier;

/* A service tier's rates, or the standard ones: base and context tiers. */
typedef struct AiRateLevel
{
	AiRates		base;
	int			ntiers;
	AiTier	   *tiers;			/* ascending by above_tokens */
} AiRateLevel;

typedef struct AiPriceRules
{
	AiRateLevel standard;
	bool		has_service[AI_NUM_SERVICE_TIERS];
	AiRateLevel service[AI_NUM_SERVICE_TIERS];
	Numeric		request_usd;	/* NULL: no fee */
	Numeric		web_search_usd[AI_NUM_SEARCH_SIZES];	/* NULL: not priced */
} AiPriceRules;

extern const char *const ai_rate_kind_names[AI_NUM_RATE_KINDS];
extern const char *const ai_rate_kind_columns[AI_NUM_RATE_KINDS];
extern const char *const ai_web_search_columns[AI_NUM_SEARCH_SIZES];
extern const AiRateKind ai_rate_kind_fallback[AI_NUM_RATE_KINDS];
extern const char *const ai_service_tier_names[AI_NUM_SERVICE_TIERS];
extern const char *const ai_search_size_names[AI_NUM_SEARCH_SIZES];
extern void ai_price_rules_init(AiPriceRules *rules);
extern void ai_price_rules_read_tiers(Jsonb *tiers, AiRateLevel *level, const char *where);
extern void ai_price_rules_read_service_tiers(Jsonb *service_tiers, AiPriceRules *rules);
extern int	ai_service_tier_from_name(const char *name);
extern int	ai_search_size_from_name(const char *name);

/* content.c */
extern void content_policy_init(void);
extern void ai_call_apply_content_policy(AiCall *call);
extern const char *ai_store_content_effective(void);

/* role_setting.c */
extern char *ai_stored_setting(Oid role, const char *name);

/* tenant.c */
extern void tenant_init(void);
/* tenant_citus.c */
extern void tenant_citus_init(void);
extern bool ai_tenant_mode_active(void);
extern bool ai_tenant_session(Oid *tenant_role);
extern bool ai_role_reachable_by_tenant(Oid role);
extern bool ai_session_reachable_by_tenant(void);
extern bool ai_tenant_user(Oid schema, Oid tenant_role, Datum *user_id);
extern void ai_tenant_check_call(Oid schema, AiCall *call);

/* A session's tenancy, looked up once for many calls (record_ai_calls). */
typedef struct AiTenantCaller
{
	bool		is_tenant;
	Oid			role;			/* the tenant role, if is_tenant */
	bool		has_user;
	Datum		user_id;		/* its user, if has_user */
} AiTenantCaller;

extern void ai_tenant_caller(Oid schema, AiTenantCaller *caller);
extern void ai_tenant_apply(const AiTenantCaller *caller, AiCall *call);

/* model.c */
extern bool model_cache_lookup(Oid schema, text *modelname, text *version,
							   int64 *model_id);
extern void model_cache_store(Oid schema, text *modelname, text *version,
							  int64 model_id);
extern void model_cache_forget(Oid schema, text *modelname, text *version);
extern void ai_model_create(Oid schema, Datum modelname, Datum version);
extern int64 ai_model_lock_id(Oid schema, Datum modelname, Datum version);
extern void ai_model_deleted_error(Datum modelname, Datum version, bool batch);

/* hist.c */
extern struct ArrayType *ai_hist_pair(int32 duration_ms, int32 weight);

/*
 * rollup.c: the summed columns of a rollup row, each beside its *_n count:
 * 1.2 has the first AI_ROLLUP_NUM_SUMMED_1_2, 1.5 all of them.
 */
#define AI_ROLLUP_NUM_SUMMED 15
#define AI_ROLLUP_NUM_SUMMED_1_2 8
extern const char *const ai_rollup_summed_columns[AI_ROLLUP_NUM_SUMMED];
extern bool ai_rollup_has_daily_level(Oid schema);
extern bool ai_rollup_has_project_level(Oid schema);
extern bool ai_rollup_has_project_daily_level(Oid schema);
extern void rollup_relcache_invalidated(Oid relid);
extern void ai_rollup_capture_rows(Relation ai_call, TriggerEvent event,
								   Tuplestorestate *rows);

/* budget_cache.c: the enabled budgets, kept per backend (1.8) */
typedef enum AiBudgetScope
{
	AI_BUDGET_ALL,
	AI_BUDGET_USER,
	AI_BUDGET_PROJECT,
	AI_BUDGET_API_KEY,
	AI_BUDGET_TAG,
	AI_BUDGET_MODEL,
	AI_NUM_BUDGET_SCOPES
} AiBudgetScope;

typedef struct AiBudget
{
	int64		id;
	char	   *name;
	AiBudgetScope scope;
	char	   *scope_value;	/* NULL: each value has the limit */
	char	   *period;			/* day, week, month, lifetime */
	bool		lifetime;
	text	   *period_text;
	text	   *time_zone;
	Numeric		limit_usd;
	bool		hard;
	int			nalerts;
	int32	   *alert_at_pct;	/* ascending, distinct */
	Numeric    *alert_limit;	/* limit_usd x alert_at_pct[i] */
} AiBudget;

typedef struct AiBudgetSet
{
	bool		valid;
	Oid			schema;
	Oid			relid;			/* ai_budget */
	int			nbudgets;
	AiBudget   *budgets;		/* by id */
	bool		any_model;		/* a model budget: calls need their model's name */
} AiBudgetSet;

typedef struct AiBudgetMatch
{
	const AiBudget *budget;
	const char *scope_value;	/* '' for 'all' */
} AiBudgetMatch;

/* A spend row's key, in the one order every writer of spend rows locks them. */
typedef struct AiSpendKey
{
	int64		budget_id;
	const char *scope_value;
	TimestampTz period_start;
} AiSpendKey;

extern int	ai_spend_key_cmp(const AiSpendKey *a, const AiSpendKey *b);

/* budget_rows.c: a spend row's change, made without SQL. */
typedef struct AiSpendRows AiSpendRows;

typedef struct AiSpendChange
{
	Numeric		spent;			/* added to spent_usd; NULL: nothing */
	int64		calls;			/* added to calls */
	int64		unpriced;		/* added to unpriced_calls */
	Numeric		reserved;		/* added to reserved_usd; NULL: nothing */
	Numeric		limit;			/* not NULL: only if spent + reserved stay within */
	bool		counted;		/* calls counted: updated_at is set */
} AiSpendChange;

typedef struct AiSpendRowState
{
	Numeric		spent;
	Numeric		reserved;
	Datum		alerted;		/* alerted_pct, an int4[]; 0 when NULL */
} AiSpendRowState;

typedef enum AiSpendResult
{
	AI_SPEND_CHANGED,
	AI_SPEND_NO_ROW,
	AI_SPEND_OVER_LIMIT
} AiSpendResult;

typedef struct AiReservationRows AiReservationRows;

/* What an ended reservation held: amount_usd and its hold_* arrays. */
typedef struct AiReservationHolds
{
	Numeric		amount;
	struct ArrayType *budget_ids;
	struct ArrayType *scope_values;
	struct ArrayType *period_starts;
} AiReservationHolds;

extern AiSpendRows *ai_spend_rows_open(Oid schema);
extern void ai_spend_rows_close(AiSpendRows *rows);
extern AiSpendResult ai_spend_row_change(AiSpendRows *rows, const AiSpendKey *key,
										 const AiSpendChange *change, AiSpendRowState *after);
extern AiReservationRows *ai_reservation_rows_open(Oid schema);
extern void ai_reservation_rows_close(AiReservationRows *rows);
extern bool ai_reservation_row_delete(AiReservationRows *rows, int64 id, AiReservationHolds *held);
extern bool ai_spend_row_lock(AiSpendRows *rows, const AiSpendKey *key);
extern bool ai_reservation_row_peek(AiReservationRows *rows, int64 id, AiReservationHolds *held);
extern const AiBudgetSet *ai_budget_set(Oid schema);
extern void budget_cache_relcache_invalidated(Oid relid);
/* budget_rows.c: a spend row read, not locked (1.9) */
extern bool ai_spend_row_read(Oid schema, const AiSpendKey *key, Numeric *spent, Numeric *reserved);

/* budget_memory.c: reservations held in shared memory (1.9) */
#define AI_MEMORY_HOLDS_MAX 16	/* budgets one reservation held in memory holds, at most */
#define AI_MEMORY_RESERVATIONS_MAX 6144	/* reservations held at once, whole server */
#define AI_MEMORY_ROWS_MAX 24576	/* spend rows held at once, whole server */
#define AI_MEMORY_TENANT_MAX 64	/* held at once by one tenant's user, in a database */

#ifndef HAVE_INT128
#error "aitrack needs a 128-bit integer type (what memory holds is summed in it)"
#endif
typedef int128 AiNano;			/* nano-USD */

typedef enum AiReservationsPlace
{
	AI_RESERVATIONS_TABLE,
	AI_RESERVATIONS_MEMORY
} AiReservationsPlace;

typedef enum AiMemoryEnd
{
	AI_MEMORY_UNKNOWN,
	AI_MEMORY_ENDING,
	AI_MEMORY_BUSY,
	AI_MEMORY_NOT_YOURS
} AiMemoryEnd;

extern void budget_memory_init(void);
extern Oid	ai_memory_install(Oid schema, bool for_new);
typedef enum AiMemoryHold
{
	AI_HOLD_DONE,
	AI_HOLD_NO_SLOT,
	AI_HOLD_NO_KEY,
	AI_HOLD_TENANT_FULL
} AiMemoryHold;

extern int	ai_memory_purge_stale(Oid install);
extern AiMemoryHold ai_memory_hold(Oid install, int64 id, TimestampTz expires_at, AiNano amount,
						   const AiSpendKey *keys, int nkeys, bool by_tenant,
						   const pg_uuid_t *user, AiNano *held_before);
extern void ai_memory_unhold(Oid install, int64 id);
extern AiMemoryEnd ai_memory_end(Oid install, int64 id, bool tenant, const pg_uuid_t *user);
extern AiNano ai_memory_held(Oid install, const AiSpendKey *key);
extern Datum ai_nano_numeric(AiNano nano);
extern const char *ai_memory_effective(void);

extern const char *ai_budget_scope_name(AiBudgetScope scope);
extern int	ai_budget_spi_execute(SPIPlanPtr plan, Datum *params, const char *nulls);
extern TimestampTz ai_budget_period_start(const AiBudget *budget, TimestampTz at);
extern int	ai_budget_match(const AiBudgetSet *set, const pg_uuid_t *user_id,
							const char *project, const char *api_key,
							struct ArrayType *tags, const char *modelname,
							AiBudgetMatch **matches);

/* budget_count.c */
extern void ai_budget_count_rows(Relation ai_call, Tuplestorestate *rows);

/* guard.c */
extern void drop_guard_init(void);

/* distributed.c: ai_call as a Citus distributed table (1.10) */
extern bool ai_calls_distributed(Oid schema);
extern void distributed_init(void);
extern int	ai_execute_counted(SPIPlanPtr plan, Datum *values, const char *nulls,
							   Snapshot snapshot, Snapshot crosscheck,
							   bool fire_triggers, long count);
extern bool ai_citus_knows_table(Oid relid);
extern bool ai_citus_worker_here(void);
extern void ai_lock_call_changes(Oid relid, LOCKMODE mode);
extern bool ai_is_aitrack_calls(Oid relid);
extern void distributed_relcache_invalidated(Oid relid);
extern void ai_count_calls(Relation ai_call, TriggerEvent event, Tuplestorestate *rows,
						   bool count_budgets);
extern void ai_count_spi_rows(Oid schema, TriggerEvent event, SPITupleTable *tuptable,
							  uint64 nrows, bool count_budgets);

/* upkeep.c: folding the pending rollup rows in the background */
extern void upkeep_init(void);
extern void ai_upkeep_kick(Oid owner);

/* check_cache.c */
extern void check_cache_init(void);
extern void check_cache_relcache_invalidated(Oid relid);
extern void ai_check_cache_arm(SPIPlanPtr plan, Oid relid);
extern void ai_check_cache_disarm(void);

#endif							/* AITRACK_H */
