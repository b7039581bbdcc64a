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
 *		model_cache.c	backend-local (modelname, version) -> ai_model.id
 *		record.c		record_ai_call(): get-or-create the model, insert
 *		stats.c			ai_usage_stats(): grouped aggregates over ai_call
 */
#ifndef AITRACK_H
#define AITRACK_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

/* Longest modelname, version and call_type, in characters (as the CHECKs). */
#define AITRACK_MAX_NAME_CHARS 256

/* Tries of "find the model, else create it" before giving up on a call. */
#define AITRACK_MODEL_RETRIES 5

/*
 * The fields of one call, in the order of the SPI parameters of the insert
 * statements in record.c ($1 is the cached model id, then these from $2).
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
	AI_NUM_FIELDS
} AiCallField;

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
extern void ai_call_validate(AiCall *call);
extern void ai_validate_status_name(const char *status);

/* metrics.c */
extern void ai_call_apply_metrics(AiCall *call, Datum metrics);

/* model_cache.c */
extern bool model_cache_lookup(Oid schema, text *modelname, text *version,
							   int64 *model_id);
extern void model_cache_store(Oid schema, text *modelname, text *version,
							  int64 model_id);
extern void model_cache_forget(Oid schema, text *modelname, text *version);

/* record.c */
extern int64 ai_call_insert(Oid schema, AiCall *call);

#endif							/* AITRACK_H */
