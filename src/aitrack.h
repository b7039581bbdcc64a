/*
 * aitrack.h
 *		What aitrack's C files share: the shape of one call on its way into
 *		ai_call, the limits that validation enforces, and the entry points
 *		of each file.
 *
 * One file, one job:
 *		aitrack.c		module magic, the extension's schema, SPI plan helper
 *		validate.c		checks one call's values before anything is written
 *		metrics.c		reads the seed's metrics jsonb into a call
 *		usage.c			reads token counts from a provider's response
 *		price.c			the price in force for a model, and a call's cost
 *		hist.c			mergeable latency histograms for the rollups
 *		rollup.c		the trigger that keeps the hourly rollups
 *		guard.c			settings, content policy, tenants, the drop guard
 *		model_cache.c	backend-local (modelname, version) -> ai_model.id
 *		record.c		record_ai_call(): get-or-create the model, insert
 *		stats.c			ai_usage_stats(): grouped aggregates over ai_call
 *
 * One shared library serves every installed version of the extension: a
 * database still on 1.0 calls the *_1_0 entry points, which must keep 1.0's
 * behaviour and touch only 1.0's columns (as pg_stat_statements does).
 */
#ifndef AITRACK_H
#define AITRACK_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/jsonb.h"

/* Longest modelname, version and call_type, in characters (as the CHECKs). */
#define AITRACK_MAX_NAME_CHARS 256

/* The SQL-level API a function was called through; see the comment above. */
typedef enum AitrackApi
{
	AITRACK_API_1_0,
	AITRACK_API_1_1,
	AITRACK_API_1_2,
	AITRACK_NUM_APIS
} AitrackApi;

/* Tries of "find the model, else create it" before giving up on a call. */
#define AITRACK_MODEL_RETRIES 5

/*
 * The fields of one call, in the order of the SPI parameters of the insert
 * statements in record.c ($1 is the cached model id, then these from $2),
 * which is also the argument order of record_ai_call(): 1.0's arguments end
 * at AI_EXTRA, 1.1 appended three more.  AI_COST_SOURCE is never an
 * argument; record.c decides it.
 */
typedef enum AiCallField
{
	AI_MODELNAME,
	AI_VERSION,
	AI_PROMPT,
	AI_RESPONSE,
	AI_INPUT_TOKENS,
	AI_REASONING_TOKENS,
	AI_OUTPUT_TOKENS,
	AI_COST_USD,
	AI_DURATION_MS,
	AI_CALL_TYPE,
	AI_STATUS,
	AI_USER_ID,
	AI_EXTRA,
	/* 1.1 */
	AI_CACHE_READ_INPUT_TOKENS,
	AI_CACHE_CREATION_INPUT_TOKENS,
	AI_TIME_TO_FIRST_TOKEN_MS,
	AI_COST_SOURCE,
	/* 1.2: only record_ai_calls() takes it; NULL means now() */
	AI_CREATED_AT,
	AI_NUM_FIELDS
} AiCallField;

/* How many AiCallFields a version's ai_call has columns for. */
#define AI_CALL_FIELDS(api) ((api) == AITRACK_API_1_0 ? AI_EXTRA + 1 : AI_COST_SOURCE + 1)

typedef struct AiCall
{
	Datum		values[AI_NUM_FIELDS];
	bool		isnull[AI_NUM_FIELDS];
} AiCall;

/* Column name of each field, for messages; indexed by AiCallField. */
extern const char *const ai_call_field_names[AI_NUM_FIELDS];

/* aitrack.c */
extern Oid	aitrack_function_schema(FunctionCallInfo fcinfo);
extern SPIPlanPtr aitrack_prepare_plan(const char *query, int nargs,
									   Oid *argtypes, int cursor_options);

/* validate.c */
extern void ai_call_validate(AiCall *call, AitrackApi api);
extern void ai_validate_status_name(const char *status);

/* metrics.c */
extern void ai_call_apply_metrics(AiCall *call, Datum metrics, AitrackApi api);
extern void ai_call_apply_object(AiCall *call, JsonbContainer *object);

/* usage.c */
extern bool ai_call_has_token_counts(AiCall *call);
extern bool ai_call_usage_from_response(AiCall *call);

/* guard.c */
extern void ai_call_apply_content_policy(AiCall *call);
extern void ai_sha256_hex(const uint8 *data, size_t len, char *hex);
extern bool ai_tenant_mode_active(void);

/* hist.c */
extern struct ArrayType *ai_hist_pair(int32 duration_ms, int32 weight);

/* rollup.c: the summed columns of a rollup row, each beside its *_n count. */
#define AI_ROLLUP_NUM_SUMMED 8
extern const char *const ai_rollup_summed_columns[AI_ROLLUP_NUM_SUMMED];

/* price.c */
extern void ai_call_price(Oid schema, AiCall *call);

/* model_cache.c */
extern bool model_cache_lookup(Oid schema, text *modelname, text *version,
							   int64 *model_id);
extern void model_cache_store(Oid schema, text *modelname, text *version,
							  int64 model_id);
extern void model_cache_forget(Oid schema, text *modelname, text *version);

/* record.c */
extern void ai_call_init(AiCall *call);
extern int64 ai_call_insert(Oid schema, AiCall *call, AitrackApi api);
extern SPIPlanPtr ai_create_model_plan(Oid schema);

#endif							/* AITRACK_H */
