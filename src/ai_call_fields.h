/*
 * ai_call_fields.h
 *		The one list of the fields of a call: every table and plan that
 *		names them is built from it (as PostgreSQL's parser/kwlist.h is).
 *
 * Include it after defining
 *
 *	AI_CALL_FIELD(symbol, name, type, since, argument, metrics_key, key_kind)
 *
 *	symbol		the AiCallField constant
 *	name		the column of ai_call (modelname and version: of ai_model),
 *				the argument of record_ai_call() and the JSON key, all one
 *	type		the OID of the column's SQL type
 *	since		the first API version whose ai_call has the column
 *	argument	record_ai_call()'s explicit form takes it as an argument; the
 *				arguments are the fields marked so, in list order
 *	metrics_key	the seed's metrics object takes it as a key
 *	key_kind	how it reads from a JSON object (a metrics object or an
 *				element of record_ai_calls()); AI_KEY_NONE: never a key
 *
 * The order is the argument order of record_ai_call(): 1.0's arguments end
 * at extra, 1.1 appended three more, 1.5 ten, 1.7 seven.  New fields go at the end, and the
 * order of the metrics keys here is the order the hints list them in.
 * No include guard: it is meant to be included more than once.
 */

/* symbol, name, type, since, argument, metrics_key, key_kind */
AI_CALL_FIELD(AI_MODELNAME, "modelname", TEXTOID, AITRACK_API_1_0, true, false, AI_KEY_TEXT)
AI_CALL_FIELD(AI_VERSION, "version", TEXTOID, AITRACK_API_1_0, true, false, AI_KEY_TEXT)
AI_CALL_FIELD(AI_PROMPT, "prompt", TEXTOID, AITRACK_API_1_0, true, false, AI_KEY_TEXT)
AI_CALL_FIELD(AI_RESPONSE, "response", JSONBOID, AITRACK_API_1_0, true, false, AI_KEY_JSON)
AI_CALL_FIELD(AI_INPUT_TOKENS, "input_tokens", INT4OID, AITRACK_API_1_0, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_REASONING_TOKENS, "reasoning_tokens", INT4OID, AITRACK_API_1_0, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_OUTPUT_TOKENS, "output_tokens", INT4OID, AITRACK_API_1_0, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_COST_USD, "cost_usd", NUMERICOID, AITRACK_API_1_0, true, true, AI_KEY_COST)
AI_CALL_FIELD(AI_DURATION_MS, "duration_ms", INT4OID, AITRACK_API_1_0, true, true, AI_KEY_DURATION)
AI_CALL_FIELD(AI_CALL_TYPE, "call_type", TEXTOID, AITRACK_API_1_0, true, false, AI_KEY_TEXT)
AI_CALL_FIELD(AI_STATUS, "status", TEXTOID, AITRACK_API_1_0, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_USER_ID, "user_id", UUIDOID, AITRACK_API_1_0, true, false, AI_KEY_UUID)
AI_CALL_FIELD(AI_EXTRA, "extra", JSONBOID, AITRACK_API_1_0, true, true, AI_KEY_OBJECT)
/* 1.1 */
AI_CALL_FIELD(AI_CACHE_READ_INPUT_TOKENS, "cache_read_input_tokens", INT4OID, AITRACK_API_1_1, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_CACHE_CREATION_INPUT_TOKENS, "cache_creation_input_tokens", INT4OID, AITRACK_API_1_1, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_TIME_TO_FIRST_TOKEN_MS, "time_to_first_token_ms", INT4OID, AITRACK_API_1_1, true, true, AI_KEY_DURATION)
/* decided by pricing, never given */
AI_CALL_FIELD(AI_COST_SOURCE, "cost_source", TEXTOID, AITRACK_API_1_1, false, false, AI_KEY_NONE)
/* a column since 1.0; only record_ai_calls() (1.2) takes it; NULL: now() */
AI_CALL_FIELD(AI_CREATED_AT, "created_at", TIMESTAMPTZOID, AITRACK_API_1_0, false, false, AI_KEY_TIMESTAMP)
/* 1.5: what is billed apart from plain tokens, and who served the call */
AI_CALL_FIELD(AI_PROVIDER, "provider", TEXTOID, AITRACK_API_1_5, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_SERVICE_TIER, "service_tier", TEXTOID, AITRACK_API_1_5, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_CACHE_CREATION_1H_INPUT_TOKENS, "cache_creation_1h_input_tokens", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_INPUT_AUDIO_TOKENS, "input_audio_tokens", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_CACHE_READ_AUDIO_TOKENS, "cache_read_audio_tokens", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_INPUT_IMAGE_TOKENS, "input_image_tokens", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_OUTPUT_AUDIO_TOKENS, "output_audio_tokens", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_OUTPUT_IMAGE_TOKENS, "output_image_tokens", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_WEB_SEARCH_REQUESTS, "web_search_requests", INT4OID, AITRACK_API_1_5, true, true, AI_KEY_COUNT)
AI_CALL_FIELD(AI_WEB_SEARCH_CONTEXT_SIZE, "web_search_context_size", TEXTOID, AITRACK_API_1_5, true, true, AI_KEY_TEXT)
/* 1.7: who and what the call is for (attribution), and its trace (W3C ids) */
AI_CALL_FIELD(AI_PROJECT, "project", TEXTOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_API_KEY, "api_key", TEXTOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_TAGS, "tags", TEXTARRAYOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT_ARRAY)
AI_CALL_FIELD(AI_TRACE_ID, "trace_id", TEXTOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_SPAN_ID, "span_id", TEXTOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_PARENT_SPAN_ID, "parent_span_id", TEXTOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT)
AI_CALL_FIELD(AI_CONVERSATION_ID, "conversation_id", TEXTOID, AITRACK_API_1_7, true, true, AI_KEY_TEXT)
