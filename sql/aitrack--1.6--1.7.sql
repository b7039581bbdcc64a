/* aitrack 1.6 -> 1.7: spend control (budgets counted in the recording transaction, reservations, alerts), attribution by project, API key, tags and trace, and OpenTelemetry GenAI names. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.7'" to load this file. \quit

-- Nothing here scans or rewrites ai_call: its new columns have no default
-- and its new constraints are NOT VALID (every row already there has NULL
-- in them).  The indexes on the new columns are built here only when
-- ai_call is small (below 100,000 rows); on a larger ledger the script says
-- so in a NOTICE, and README's Upgrade gives the CREATE INDEX CONCURRENTLY
-- statements to run afterwards (recording goes on meanwhile).

--
-- Every table this script alters, locked at once, in the order recording
-- takes them (prices, calls, models, then the rollups its trigger writes);
-- see the 1.3 -> 1.4 script for why.  The lock is held for milliseconds.
--
SET LOCAL deadlock_timeout = '10ms';
LOCK TABLE @extschema@.ai_model_price, @extschema@.ai_call, @extschema@.ai_model
        IN ACCESS EXCLUSIVE MODE;

--
-- ai_call: who and what a call is for (attribution), and the trace it
-- belongs to (OpenTelemetry: trace and span ids as W3C trace context
-- writes them, lowercase hex).
--
ALTER TABLE @extschema@.ai_call
    ADD COLUMN project          text,
    ADD COLUMN api_key          text,
    ADD COLUMN tags             text[],
    ADD COLUMN trace_id         text,
    ADD COLUMN span_id          text,
    ADD COLUMN parent_span_id   text,
    ADD COLUMN conversation_id  text;

-- A role that may read the token counts column by column may read the
-- attribution too (as 1.5 did for its columns): the ACL is written
-- directly, since a GRANT here would become an initial privilege.
UPDATE pg_catalog.pg_attribute a
   SET attacl = (SELECT pg_catalog.array_agg(pg_catalog.makeaclitem(e.grantee, e.grantor, 'SELECT', e.is_grantable))
                   FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) AS e
                  WHERE t.attrelid OPERATOR(pg_catalog.=) a.attrelid
                    AND t.attname OPERATOR(pg_catalog.=) 'input_tokens'
                    AND e.privilege_type OPERATOR(pg_catalog.=) 'SELECT')
 WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.ai_call'::pg_catalog.regclass
   AND a.attname OPERATOR(pg_catalog.=) ANY ('{project,api_key,tags,trace_id,span_id,parent_span_id,conversation_id}'::pg_catalog.name[])
   AND EXISTS (SELECT FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) AS e
                WHERE t.attrelid OPERATOR(pg_catalog.=) a.attrelid
                  AND t.attname OPERATOR(pg_catalog.=) 'input_tokens'
                  AND e.privilege_type OPERATOR(pg_catalog.=) 'SELECT');

-- NOT VALID: rows already there are not scanned (all NULL); new rows are
-- checked at once.  src/validate.c gives record_ai_call()'s callers the
-- same rules with clearer messages.  Labels: 1 to 200 characters, no
-- control characters.  api_key is a label or a hash of the key: values
-- shaped like the secret keys of the common providers are refused.  Tags:
-- 1 to 64 of them, each a label of 1 to 100 characters (joined by a
-- newline, which no tag may contain, the whole list is checked by one
-- pattern, without a subquery), no NULL element, one dimension.
ALTER TABLE @extschema@.ai_call
    ADD CONSTRAINT ai_call_project_check
        CHECK (project OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$') NOT VALID,
    ADD CONSTRAINT ai_call_api_key_check
        CHECK (api_key OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$'
               AND api_key OPERATOR(pg_catalog.!~) '^(sk-|sk_|rk_|AIza|xai-|gsk_|hf_)') NOT VALID,
    ADD CONSTRAINT ai_call_tags_check
        CHECK (pg_catalog.array_ndims(tags) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.cardinality(tags) OPERATOR(pg_catalog.<=) 64
               AND pg_catalog.array_position(tags, NULL) IS NULL
               AND pg_catalog.array_to_string(tags, E'\n') OPERATOR(pg_catalog.~)
                   '^[^[:cntrl:]]{1,100}(\n[^[:cntrl:]]{1,100})*$') NOT VALID,
    ADD CONSTRAINT ai_call_trace_id_check
        CHECK (trace_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'
               AND trace_id OPERATOR(pg_catalog.<>) '00000000000000000000000000000000') NOT VALID,
    ADD CONSTRAINT ai_call_span_id_check
        CHECK (span_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
               AND span_id OPERATOR(pg_catalog.<>) '0000000000000000'
               AND parent_span_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
               AND parent_span_id OPERATOR(pg_catalog.<>) '0000000000000000') NOT VALID,
    ADD CONSTRAINT ai_call_conversation_id_check
        CHECK (conversation_id OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$') NOT VALID;

-- Indexes for the filters users run (a project's or key's calls over a
-- time, a tag's calls, a trace's or conversation's calls).  Partial: calls
-- without the value cost nothing to index.  Built here only on a small
-- ledger (an index build reads the whole table under a lock that stops
-- recording); on a larger one, README's Upgrade has the CONCURRENTLY form.
DO $$
DECLARE
    big boolean := (SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 100000
                      FROM (SELECT FROM @extschema@.ai_call LIMIT 100001) x);
BEGIN
    IF big THEN
        RAISE NOTICE 'aitrack: the indexes on ai_call''s attribution columns were not built (ai_call has more than 100000 rows)'
            USING HINT = 'Build them without blocking writers as README''s "Upgrade" shows (CREATE INDEX CONCURRENTLY ai_call_project_idx ...).';
        RETURN;
    END IF;
    CREATE INDEX ai_call_project_idx ON @extschema@.ai_call (project, created_at)
        WHERE project IS NOT NULL;
    CREATE INDEX ai_call_api_key_idx ON @extschema@.ai_call (api_key, created_at)
        WHERE api_key IS NOT NULL;
    CREATE INDEX ai_call_tags_idx ON @extschema@.ai_call USING gin (tags)
        WHERE tags IS NOT NULL;
    CREATE INDEX ai_call_trace_id_idx ON @extschema@.ai_call (trace_id)
        WHERE trace_id IS NOT NULL;
    CREATE INDEX ai_call_conversation_id_idx ON @extschema@.ai_call (conversation_id, created_at)
        WHERE conversation_id IS NOT NULL;
END
$$;

-- ==== BEGIN SECTION: record functions (record_ai_call, record_ai_calls with attribution) ====
-- ==== END SECTION: record functions ====

-- ==== BEGIN SECTION: usage stats by project, api_key and tag ====
-- ==== END SECTION: usage stats ====

-- ==== BEGIN SECTION: budgets ====
-- ==== END SECTION: budgets ====

-- ==== BEGIN SECTION: OpenTelemetry ====

--
-- ai_call_otel: one row per call, its columns named as the OpenTelemetry
-- GenAI semantic conventions (v1.41: model/gen-ai/registry.yaml, spans.yaml
-- and metrics.yaml of open-telemetry/semantic-conventions) name the
-- attributes of a GenAI client span, so that an exporter can copy them
-- over as they are.  Names the conventions do not have are aitrack's own,
-- under "aitrack.".
--
-- Span timing: aitrack records a call once it has returned (the row
-- carries the response, its tokens and its duration), so created_at is
-- taken as the end of the call: "end_time" is created_at, "start_time" is
-- created_at minus duration_ms (created_at itself when the duration is
-- unknown, "duration" being NULL then).  record_ai_call() writes now(),
-- the start of the recording transaction; record_ai_calls() may be given
-- created_at for old calls.
--
-- gen_ai.operation.name (required by the conventions): call_type is free
-- text in aitrack; the spellings applications use for the conventions'
-- well-known operations (README, the tests and the benchmarks use chat,
-- embed, embedding, tool) are mapped to them, case aside; any other value
-- (translation, classify, summarise, ...) is passed through as it is, as
-- the conventions allow; a NULL call_type is 'chat': the attribute is
-- required, and a prompt with a response is the shape of a chat call.
--
-- gen_ai.provider.name: ai_call.provider is written in the conventions'
-- spelling already (record_ai_call's rules and ai_load_prices' mapping of
-- LiteLLM's names); the other names a hand-written row may carry (LiteLLM's
-- gemini, bedrock, azure, xai, mistral, watsonx, ...) are mapped to the
-- well-known values; anything else is passed through; NULL stays NULL
-- (unknown: no provider is guessed).
--
-- gen_ai.response.model: the "model" string of the stored response
-- (OpenAI's and Anthropic's responses carry one), else Gemini's
-- "modelVersion", else the model name.  A response whose content was not
-- kept (aitrack.store_content = hash or none, ai_purge_content) has
-- neither, and the model name stands.  This is the only use the view makes
-- of the response, and it needs SELECT on ai_call.response.
--
-- error.type: NULL for a success, else the status (error, timeout,
-- cancelled, rate_limited, filtered): a low-cardinality list, as the
-- conventions ask.
--
-- enduser.id: user_id, the application's end user.  v1.28 of the
-- conventions deprecated enduser.* for user.*; v1.31 took enduser.id back,
-- and it is the current name in v1.41 (user.id describes an account of
-- the system, its example a Windows SID).
--
-- No prompt and no response content (gen_ai.input.messages,
-- gen_ai.output.messages): the conventions make them opt-in, and aitrack
-- keeps them under its own rules (aitrack.store_content, ai_purge_content,
-- the tenants' row security); a view that exporters read whole must not
-- carry them to a collector.  Read ai_call.prompt and response where they
-- are meant to be read.
--
-- Security invoker: the caller needs SELECT on ai_call and ai_model, and a
-- tenant sees its own user's calls only (the row-level security of
-- ai_call applies to the view's reader).
--
CREATE VIEW @extschema@.ai_call_otel WITH (security_invoker = true) AS
SELECT c.id AS "aitrack.call.id",
       c.trace_id AS "trace_id",
       c.span_id AS "span_id",
       c.parent_span_id AS "parent_span_id",
       c.created_at OPERATOR(pg_catalog.-)
           (COALESCE(c.duration_ms, 0) OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval)
           AS "start_time",
       c.created_at AS "end_time",
       c.duration_ms::pg_catalog.float8 OPERATOR(pg_catalog./) 1000::pg_catalog.float8 AS "duration",
       CASE WHEN c.call_type IS NULL THEN 'chat'::pg_catalog.text
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{chat,chats,chat_completion,chat_completions,chat.completion,chat.completions,message,messages}'::pg_catalog.text[])
                 THEN 'chat'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{completion,completions,text_completion,text_completions}'::pg_catalog.text[])
                 THEN 'text_completion'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{embed,embeds,embedding,embeddings}'::pg_catalog.text[])
                 THEN 'embeddings'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{generate_content,generatecontent}'::pg_catalog.text[])
                 THEN 'generate_content'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{tool,tools,tool_call,tool_calls,function,function_call,execute_tool}'::pg_catalog.text[])
                 THEN 'execute_tool'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{retrieval,retrieve}'::pg_catalog.text[])
                 THEN 'retrieval'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) 'create_agent'
                 THEN 'create_agent'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{agent,invoke_agent}'::pg_catalog.text[])
                 THEN 'invoke_agent'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{workflow,invoke_workflow}'::pg_catalog.text[])
                 THEN 'invoke_workflow'
            ELSE c.call_type END AS "gen_ai.operation.name",
       CASE WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{gemini,google_ai_studio,ai_studio}'::pg_catalog.text[]) THEN 'gcp.gemini'::pg_catalog.text
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{vertex_ai,vertex,vertexai,vertex_ai_beta}'::pg_catalog.text[]) THEN 'gcp.vertex_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) 'google' THEN 'gcp.gen_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{bedrock,bedrock_converse,aws_bedrock}'::pg_catalog.text[]) THEN 'aws.bedrock'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{azure,azure_text,azure_openai}'::pg_catalog.text[]) THEN 'azure.ai.openai'
            WHEN c.provider OPERATOR(pg_catalog.=) 'azure_ai' THEN 'azure.ai.inference'
            WHEN c.provider OPERATOR(pg_catalog.=) 'text-completion-openai' THEN 'openai'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY ('{xai,x-ai,x.ai}'::pg_catalog.text[]) THEN 'x_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{mistral,mistralai,mistral-ai,codestral}'::pg_catalog.text[]) THEN 'mistral_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) 'cohere_chat' THEN 'cohere'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{watsonx,watsonx_text,ibm}'::pg_catalog.text[]) THEN 'ibm.watsonx.ai'
            ELSE c.provider END AS "gen_ai.provider.name",
       m.modelname AS "gen_ai.request.model",
       CASE WHEN pg_catalog.jsonb_typeof(c.response OPERATOR(pg_catalog.->) 'model'::pg_catalog.text)
                 OPERATOR(pg_catalog.=) 'string'
                 THEN c.response OPERATOR(pg_catalog.->>) 'model'::pg_catalog.text
            WHEN pg_catalog.jsonb_typeof(c.response OPERATOR(pg_catalog.->) 'modelVersion'::pg_catalog.text)
                 OPERATOR(pg_catalog.=) 'string'
                 THEN c.response OPERATOR(pg_catalog.->>) 'modelVersion'::pg_catalog.text
            ELSE m.modelname END AS "gen_ai.response.model",
       c.input_tokens AS "gen_ai.usage.input_tokens",
       c.output_tokens AS "gen_ai.usage.output_tokens",
       c.cache_read_input_tokens AS "gen_ai.usage.cache_read.input_tokens",
       c.cache_creation_input_tokens AS "gen_ai.usage.cache_creation.input_tokens",
       c.reasoning_tokens AS "gen_ai.usage.reasoning.output_tokens",
       c.time_to_first_token_ms::pg_catalog.float8 OPERATOR(pg_catalog./) 1000::pg_catalog.float8
           AS "gen_ai.response.time_to_first_chunk",
       c.conversation_id AS "gen_ai.conversation.id",
       CASE WHEN c.status OPERATOR(pg_catalog.=) 'success' THEN NULL ELSE c.status END AS "error.type",
       c.user_id AS "enduser.id",
       c.project AS "aitrack.project",
       c.tags AS "aitrack.tags"
  FROM @extschema@.ai_call c
  JOIN @extschema@.ai_model m ON m.id OPERATOR(pg_catalog.=) c.model_id;
REVOKE ALL ON TABLE @extschema@.ai_call_otel FROM PUBLIC;

--
-- ai_otel_metrics(since, until): the conventions' two client histograms
-- over the calls recorded in [since, until) (by created_at, the end of
-- each call), as OTLP's explicit-bucket histogram data points of delta
-- temporality: one row per metric and attribute set.
--
--   gen_ai.client.token.usage        {token}  gen_ai.token.type input / output
--   gen_ai.client.operation.duration s        error.type when not a success
--
-- both with gen_ai.operation.name, gen_ai.provider.name,
-- gen_ai.request.model and gen_ai.response.model (attributes whose value
-- is NULL are left out, as OTLP has no null attribute), and the bucket
-- boundaries docs/gen-ai/gen-ai-metrics.md gives for each.  bucket_counts has one more
-- element than the boundaries: element i (1-based) counts the values in
-- (boundaries[i-1], boundaries[i]], the last one those above every
-- boundary (OTLP's rule: a value on a boundary is in the lower bucket).
-- A call whose input (output) token count is unknown is left out of the
-- input (output) token histogram; one whose duration is unknown, out of
-- the duration histogram.
--
-- Read through ai_call_otel (the same names and mappings), with the
-- caller's rights.  PL/pgSQL for its RAISE (an SQL function cannot
-- raise); the body is one query, one scan of the window.  The (0-based)
-- bucket of a value v is the number of boundaries below it: n -
-- width_bucket(-v, the boundaries negated and reversed), width_bucket
-- counting the thresholds at or below its operand.
--
CREATE FUNCTION @extschema@.ai_otel_metrics(since timestamptz, until timestamptz)
RETURNS TABLE (metric text, unit text, attributes jsonb,
               bucket_boundaries double precision[], bucket_counts bigint[],
               count bigint, sum double precision,
               min double precision, max double precision)
LANGUAGE plpgsql STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF since IS NULL OR until IS NULL THEN
        RAISE EXCEPTION 'since and until must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give the window of calls to aggregate, e.g. ai_otel_metrics(now() - interval ''1 minute'', now()).';
    END IF;
    IF since OPERATOR(pg_catalog.>=) until THEN
        RAISE EXCEPTION 'since must be before until'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('since is %s, until is %s.', since, until),
                  HINT = 'The window is [since, until): since is included, until is not.';
    END IF;
    RETURN QUERY
    WITH bounds (b_metric, b_unit, b_bounds, b_key) AS (
        VALUES ('gen_ai.client.token.usage'::pg_catalog.text, '{token}'::pg_catalog.text,
                '{1,4,16,64,256,1024,4096,16384,65536,262144,1048576,4194304,16777216,67108864}'::pg_catalog.float8[],
                'gen_ai.token.type'::pg_catalog.text),
               ('gen_ai.client.operation.duration', 's',
                '{0.01,0.02,0.04,0.08,0.16,0.32,0.64,1.28,2.56,5.12,10.24,20.48,40.96,81.92}'::pg_catalog.float8[],
                'error.type')
    ), negated (n_metric, n_buckets, n_negated) AS (
        -- the boundaries negated, in ascending order, for width_bucket
        SELECT b.b_metric, pg_catalog.cardinality(b.b_bounds) OPERATOR(pg_catalog.+) 1,
               ARRAY(SELECT OPERATOR(pg_catalog.-) x.v
                       FROM pg_catalog.unnest(b.b_bounds) WITH ORDINALITY AS x (v, i)
                      ORDER BY x.i DESC)
          FROM bounds b
    ), points (p_metric, p_operation, p_provider, p_request_model, p_response_model, p_kind, p_value) AS (
        -- one scan of the window: each call's input tokens, output tokens
        -- and duration, those that are known
        SELECT t.metric, o."gen_ai.operation.name", o."gen_ai.provider.name",
               o."gen_ai.request.model", o."gen_ai.response.model", t.kind, t.value
          FROM @extschema@.ai_call_otel o
         CROSS JOIN LATERAL (VALUES
                ('gen_ai.client.token.usage'::pg_catalog.text, 'input'::pg_catalog.text,
                 o."gen_ai.usage.input_tokens"::pg_catalog.float8),
                ('gen_ai.client.token.usage', 'output', o."gen_ai.usage.output_tokens"::pg_catalog.float8),
                ('gen_ai.client.operation.duration', o."error.type", o."duration")) AS t (metric, kind, value)
         WHERE o."end_time" OPERATOR(pg_catalog.>=) since
           AND o."end_time" OPERATOR(pg_catalog.<) until
           AND t.value IS NOT NULL
    ), per_bucket AS (
        -- k_bucket: 1-based, 1 + the number of boundaries below the value.
        -- Sums in numeric: whole milliseconds and tokens add up exactly,
        -- in any order.
        SELECT p.p_metric, p.p_operation, p.p_provider, p.p_request_model, p.p_response_model, p.p_kind,
               n.n_buckets OPERATOR(pg_catalog.-)
                   pg_catalog.width_bucket(OPERATOR(pg_catalog.-) p.p_value, n.n_negated) AS k_bucket,
               pg_catalog.count(*) AS k_count, pg_catalog.sum(p.p_value::pg_catalog.numeric) AS k_sum,
               pg_catalog.min(p.p_value) AS k_min, pg_catalog.max(p.p_value) AS k_max
          FROM points p
          JOIN negated n ON n.n_metric OPERATOR(pg_catalog.=) p.p_metric
         GROUP BY 1, 2, 3, 4, 5, 6, 7
    ), per_group AS (
        SELECT k.p_metric, k.p_operation, k.p_provider, k.p_request_model, k.p_response_model, k.p_kind,
               pg_catalog.array_agg(k.k_bucket) AS g_buckets, pg_catalog.array_agg(k.k_count) AS g_counts,
               pg_catalog.sum(k.k_count)::pg_catalog.int8 AS g_count, pg_catalog.sum(k.k_sum) AS g_sum,
               pg_catalog.min(k.k_min) AS g_min, pg_catalog.max(k.k_max) AS g_max
          FROM per_bucket k
         GROUP BY 1, 2, 3, 4, 5, 6
    ), answer AS (
        SELECT g.p_metric AS a_metric, b.b_unit AS a_unit,
               -- OTLP has no null attribute: those without a value are left out
               pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'gen_ai.operation.name', g.p_operation,
                   'gen_ai.provider.name', g.p_provider,
                   'gen_ai.request.model', g.p_request_model,
                   'gen_ai.response.model', g.p_response_model,
                   b.b_key, g.p_kind)) AS a_attributes,
               b.b_bounds AS a_bounds,
               ARRAY(SELECT COALESCE(g.g_counts[pg_catalog.array_position(g.g_buckets, s.i)], 0)
                       FROM pg_catalog.generate_series(1, n.n_buckets) AS s (i)
                      ORDER BY s.i) AS a_counts,
               g.g_count AS a_count, g.g_sum::pg_catalog.float8 AS a_sum, g.g_min AS a_min, g.g_max AS a_max
          FROM per_group g
          JOIN bounds b ON b.b_metric OPERATOR(pg_catalog.=) g.p_metric
          JOIN negated n ON n.n_metric OPERATOR(pg_catalog.=) g.p_metric
    )
    SELECT a.a_metric, a.a_unit, a.a_attributes, a.a_bounds, a.a_counts,
           a.a_count, a.a_sum, a.a_min, a.a_max
      FROM answer a
     ORDER BY a.a_metric, a.a_attributes;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_otel_metrics(timestamptz, timestamptz) FROM PUBLIC;
-- Nothing is granted here: the privileges section below grants the view
-- and the function to aitrack_reader (ai_intended_privileges()) and runs
-- ai_reset_privileges(), which also takes back what default privileges
-- handed out when they were created (REVOKE ... FROM PUBLIC does not).

COMMENT ON VIEW @extschema@.ai_call_otel IS 'aitrack: one row per call, its columns named as OpenTelemetry''s GenAI semantic conventions (v1.41) name a client span''s attributes (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.usage.*, error.type, ...), with the trace context and the span''s start and end, for exporting calls to a collector. No prompt or response content. Security invoker (aitrack_reader; a tenant sees its own user''s calls).';
COMMENT ON COLUMN @extschema@.ai_call_otel."aitrack.call.id" IS 'ai_call.id.';
COMMENT ON COLUMN @extschema@.ai_call_otel.trace_id IS 'The W3C trace id the call belongs to: 32 lowercase hex digits, or NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel.span_id IS 'The span id of the call: 16 lowercase hex digits, or NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel.parent_span_id IS 'The span id of the call''s parent: 16 lowercase hex digits, or NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel.start_time IS 'When the call started (timestamptz): created_at minus duration_ms, created_at when the duration is unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel.end_time IS 'When the call ended (timestamptz): created_at, written when the call was recorded, after it returned.';
COMMENT ON COLUMN @extschema@.ai_call_otel.duration IS 'The call''s duration in seconds (s): duration_ms / 1000; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.operation.name" IS 'call_type as the conventions'' operation: chat, text_completion, embeddings, generate_content, execute_tool, retrieval, create_agent, invoke_agent or invoke_workflow for the usual spellings (chat, embed, embedding, tool, completion, ...; case aside), any other call_type as it is, chat when call_type is NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.provider.name" IS 'ai_call.provider, in the conventions'' spelling (LiteLLM''s names such as gemini, bedrock, azure, xai, mistral mapped to gcp.gemini, aws.bedrock, azure.ai.openai, x_ai, mistral_ai); NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.request.model" IS 'The model''s name, ai_model.modelname.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.response.model" IS 'The "model" string of the stored response, else its "modelVersion" (Gemini), else the model''s name.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.input_tokens" IS 'Input tokens ({token}), cache reads and writes included; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.output_tokens" IS 'Output tokens ({token}), reasoning included; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.cache_read.input_tokens" IS 'Input tokens read from the provider''s cache ({token}), inside the input tokens.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.cache_creation.input_tokens" IS 'Input tokens written to the provider''s cache ({token}), inside the input tokens.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.reasoning.output_tokens" IS 'Output tokens used for reasoning ({token}), inside the output tokens.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.response.time_to_first_chunk" IS 'Time to the first chunk of a streamed response in seconds (s): time_to_first_token_ms / 1000; NULL when not recorded.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.conversation.id" IS 'ai_call.conversation_id: the conversation (session, thread) the call belongs to.';
COMMENT ON COLUMN @extschema@.ai_call_otel."error.type" IS 'NULL for a success, else the status: error, timeout, cancelled, rate_limited or filtered.';
COMMENT ON COLUMN @extschema@.ai_call_otel."enduser.id" IS 'ai_call.user_id: the end user who caused the call.';
COMMENT ON COLUMN @extschema@.ai_call_otel."aitrack.project" IS 'ai_call.project.';
COMMENT ON COLUMN @extschema@.ai_call_otel."aitrack.tags" IS 'ai_call.tags.';
COMMENT ON FUNCTION @extschema@.ai_otel_metrics(timestamptz, timestamptz) IS 'OpenTelemetry''s GenAI client histograms gen_ai.client.token.usage ({token}, by gen_ai.token.type input and output) and gen_ai.client.operation.duration (s, with error.type) over the calls recorded in [since, until), one row per metric and attribute set, with the conventions'' explicit bucket boundaries (bucket i counts the values in (boundaries[i-1], boundaries[i]]), count, sum, min and max, read through ai_call_otel. Calls with unknown tokens or duration are left out of that histogram. SECURITY INVOKER (aitrack_reader).';

-- ==== END SECTION: OpenTelemetry ====

-- ==== BEGIN SECTION: privileges ====
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
-- ==== END SECTION: comments ====
