--
-- OpenTelemetry (1.7): the view ai_call_otel, one row per call with its
-- columns named as the GenAI semantic conventions (v1.41) name a client
-- span's attributes, and ai_otel_metrics(since, until), the conventions'
-- histograms gen_ai.client.token.usage and gen_ai.client.operation.duration
-- over a window, with their explicit bucket boundaries.
--
-- The attribution columns are set with UPDATE ai_call here: the record
-- functions' arguments for them are not in this test's scope.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
-- pg_temp.try(), shared by the tests that show error messages.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql

--
-- The view's columns, in order, with their types and comments (the
-- comments give the units: seconds "s", tokens "{token}").  Security
-- invoker; neither it nor the function is open to PUBLIC.
--
SELECT a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       pg_catalog.col_description(a.attrelid, a.attnum) AS comment
  FROM pg_catalog.pg_attribute a
 WHERE a.attrelid = 'ai_call_otel'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum;
SELECT c.reloptions FROM pg_catalog.pg_class c WHERE c.oid = 'ai_call_otel'::regclass;
SELECT pg_catalog.pg_get_function_result('ai_otel_metrics(timestamptz, timestamptz)'::regprocedure) AS returns;
SELECT (SELECT l.lanname FROM pg_catalog.pg_language l WHERE l.oid = p.prolang) AS language, p.provolatile AS volatility, p.prosecdef AS security_definer,
       p.proconfig
  FROM pg_catalog.pg_proc p WHERE p.oid = 'ai_otel_metrics(timestamptz, timestamptz)'::regprocedure;
SELECT pg_catalog.has_table_privilege('public', 'ai_call_otel', 'SELECT') AS public_may_select,
       pg_catalog.has_function_privilege('public', 'ai_otel_metrics(timestamptz, timestamptz)', 'EXECUTE')
           AS public_may_execute;

--
-- Four calls on 2026-03-01, made as record_ai_calls() takes old calls
-- (created_at given), then attributed by hand.
--
SELECT * FROM record_ai_calls($$[
  {"modelname": "gpt-4o", "version": "2024-08-06", "prompt": "p1",
   "response": {"object": "chat.completion", "model": "gpt-4o-2024-08-06", "choices": []},
   "input_tokens": 1200, "output_tokens": 300, "cache_read_input_tokens": 1000,
   "reasoning_tokens": 0, "duration_ms": 2500, "time_to_first_token_ms": 1500,
   "call_type": "chat", "provider": "openai", "user_id": "00000000-0000-0000-0000-00000000000a",
   "created_at": "2026-03-01 10:00:02.5+00"},
  {"modelname": "claude-sonnet-4", "version": "20250514", "prompt": "p2",
   "response": {"type": "message", "model": "claude-sonnet-4-20250514", "usage": {}},
   "input_tokens": 5000, "output_tokens": 800, "cache_creation_input_tokens": 4000,
   "reasoning_tokens": 200, "duration_ms": 30000, "status": "timeout",
   "call_type": "Tool", "provider": "anthropic", "user_id": "00000000-0000-0000-0000-00000000000b",
   "created_at": "2026-03-01 10:05:00+00"},
  {"modelname": "text-embedding-3-small", "version": "1", "prompt": "p3",
   "response": {"model": 42},
   "input_tokens": 8, "duration_ms": 40, "call_type": "embed", "provider": "bedrock",
   "created_at": "2026-03-01 10:10:00+00"},
  {"modelname": "gemini-2.5-flash", "version": "001", "prompt": "p4",
   "response": {"modelVersion": "gemini-2.5-flash-001"},
   "created_at": "2026-03-01 10:15:00+00"}
]$$) AS id ORDER BY id;
UPDATE ai_call SET project = 'checkout', tags = '{prod,eu}',
       trace_id = '4bf92f3577b34da6a3ce929d0e0e4736', span_id = '00f067aa0ba902b7',
       parent_span_id = '53995c3f42cd8ad8', conversation_id = 'conv_1'
 WHERE id = 1;
UPDATE ai_call SET project = 'support', trace_id = '4bf92f3577b34da6a3ce929d0e0e4736',
       span_id = '1111111111111111', parent_span_id = '00f067aa0ba902b7'
 WHERE id = 2;

-- Every column, call by call.  Call 1: 1500 ms to the first token is 1.5
-- s, 2500 ms of duration 2.5 s, the span starting 2.5 s before it was
-- recorded; the response names the exact model.  Call 2: "Tool" is
-- execute_tool, the timeout its error.type.  Call 3: LiteLLM's "bedrock" is
-- aws.bedrock; the response's "model" is not a string, so the model name
-- stands; no output tokens (NULL, not 0).  Call 4: no call_type (chat), no
-- provider (NULL), no duration (start = end), Gemini's modelVersion.
\x on
SELECT * FROM ai_call_otel ORDER BY "aitrack.call.id";
\x off

-- call_type and provider as the conventions spell them: the usual
-- spellings mapped (case aside for call_type), anything else passed
-- through as it is.
CREATE TEMP TABLE spellings AS
SELECT i, call_type, provider
  FROM (VALUES (1, 'chat', 'openai'), (2, 'CHAT', 'gemini'), (3, 'completion', 'vertex_ai'),
               (4, 'embedding', 'azure'), (5, 'Embeddings', 'azure_ai'), (6, 'tool', 'xai'),
               (7, 'execute_tool', 'mistral'), (8, 'generate_content', 'watsonx'),
               (9, 'retrieval', 'cohere_chat'), (10, 'create_agent', 'google'),
               (11, 'agent', 'text-completion-openai'), (12, 'invoke_workflow', 'bedrock_converse'),
               (13, 'translation', 'groq'), (14, 'classify', 'deepseek'),
               (15, 'summarise', 'my-gateway'), (16, NULL, 'gcp.vertex_ai')) AS v (i, call_type, provider);
SELECT count(*) FROM spellings s,
       LATERAL record_ai_call('m', 'v', 'p', '{}', call_type => s.call_type, provider => s.provider,
                              extra => jsonb_build_object('spelling', s.i));
SELECT s.call_type, o."gen_ai.operation.name", s.provider, o."gen_ai.provider.name"
  FROM spellings s
  JOIN ai_call c ON (c.extra ->> 'spelling')::int = s.i
  JOIN ai_call_otel o ON o."aitrack.call.id" = c.id
 ORDER BY s.i;
DELETE FROM ai_call WHERE extra ? 'spelling';

--
-- ai_otel_metrics() over the four calls above: per metric and attribute
-- set (NULL attributes left out: call 4 has no provider), the
-- conventions' boundaries; unknown counts and durations left out (call 3
-- has no output tokens, call 4 neither tokens nor duration).
--
SELECT metric, unit, attributes, bucket_counts, count, sum, min, max
  FROM ai_otel_metrics('2026-03-01', '2026-03-02');
SELECT DISTINCT metric, bucket_boundaries, cardinality(bucket_boundaries) AS boundaries
  FROM ai_otel_metrics('2026-03-01', '2026-03-02') ORDER BY metric;
-- [since, until): a call recorded at until is out, one at since is in.
SELECT metric, attributes ->> 'gen_ai.request.model' AS model,
       attributes ->> 'gen_ai.token.type' AS token_type, count
  FROM ai_otel_metrics('2026-03-01 10:05:00', '2026-03-01 10:10:00');

--
-- The buckets against width_bucket, on 2026-03-02: one model, token counts
-- and durations on every boundary, one above, 0, and beyond the last.
-- OTLP's bucket i holds (b[i-1], b[i]]: a value on a boundary goes in the
-- lower bucket.  width_bucket(x, thresholds) counts the thresholds <= x,
-- so for whole numbers v, width_bucket(v - 0.5, b) + 1 is v's bucket.
--
CREATE TEMP TABLE hist_values AS
SELECT v AS tokens, d AS duration_ms
  FROM unnest('{0,1,2,4,5,16,17,64,65,256,257,1024,1025,4096,4097,16384,16385,65536,65537,262144,262145,1048576,1048577,4194304,4194305,16777216,16777217,67108864,67108865,100000000}'::int[],
              '{0,10,11,20,21,40,41,80,81,160,161,320,321,640,641,1280,1281,2560,2561,5120,5121,10240,10241,20480,20481,40960,40961,81920,81921,600000}'::int[]) AS u (v, d);
SELECT count(*) FROM hist_values h,
       LATERAL record_ai_calls(jsonb_build_array(jsonb_build_object(
           'modelname', 'hist', 'version', 'v', 'prompt', 'p', 'response', '{}',
           'provider', 'openai', 'call_type', 'chat',
           'input_tokens', h.tokens, 'output_tokens', h.tokens, 'duration_ms', h.duration_ms,
           'created_at', '2026-03-02 12:00:00+00')));
-- and one call with neither tokens nor duration, which no histogram counts
SELECT count(*) FROM record_ai_calls('[{"modelname": "hist", "version": "v", "prompt": "p", "response": {},
    "provider": "openai", "call_type": "chat", "created_at": "2026-03-02 12:00:00+00"}]');

SELECT metric, attributes ->> 'gen_ai.token.type' AS token_type, bucket_counts, count, sum, min, max
  FROM ai_otel_metrics('2026-03-02', '2026-03-03');

WITH boundaries (metric, b, scale) AS (
    VALUES ('gen_ai.client.token.usage', '{1,4,16,64,256,1024,4096,16384,65536,262144,1048576,4194304,16777216,67108864}'::float8[], 1),
           ('gen_ai.client.operation.duration', '{0.01,0.02,0.04,0.08,0.16,0.32,0.64,1.28,2.56,5.12,10.24,20.48,40.96,81.92}'::float8[], 1000)
), vals (metric, token_type, v) AS (
    SELECT 'gen_ai.client.token.usage', 'input', input_tokens FROM ai_call WHERE created_at = '2026-03-02 12:00' AND input_tokens IS NOT NULL
    UNION ALL
    SELECT 'gen_ai.client.token.usage', 'output', output_tokens FROM ai_call WHERE created_at = '2026-03-02 12:00' AND output_tokens IS NOT NULL
    UNION ALL
    SELECT 'gen_ai.client.operation.duration', NULL, duration_ms FROM ai_call WHERE created_at = '2026-03-02 12:00' AND duration_ms IS NOT NULL
), by_hand AS (
    SELECT x.metric, x.token_type,
           array_agg(coalesce(n.count, 0) ORDER BY s.i) AS bucket_counts
      FROM (SELECT DISTINCT metric, token_type FROM vals) x
      CROSS JOIN generate_series(1, 15) AS s (i)
      LEFT JOIN (SELECT v.metric, v.token_type,
                        width_bucket(v.v - 0.5, ARRAY(SELECT e * b.scale FROM unnest(b.b) e)) + 1 AS i,
                        count(*)
                   FROM vals v JOIN boundaries b USING (metric)
                  GROUP BY 1, 2, 3) n
             ON n.metric = x.metric AND n.token_type IS NOT DISTINCT FROM x.token_type AND n.i = s.i
     GROUP BY 1, 2
)
SELECT h.metric, h.token_type, h.bucket_counts = f.bucket_counts AS same_buckets,
       f.bucket_boundaries = b.b AS same_boundaries, f.count = (SELECT sum(c) FROM unnest(h.bucket_counts) c) AS same_count
  FROM by_hand h
  JOIN boundaries b USING (metric)
  JOIN ai_otel_metrics('2026-03-02', '2026-03-03') f
    ON f.metric = h.metric AND f.attributes ->> 'gen_ai.token.type' IS NOT DISTINCT FROM h.token_type
 ORDER BY 1, 2;

-- Two values around one boundary: 4 tokens in (1, 4], 5 in (4, 16]; 10 ms
-- (0.01 s) in the first bucket, 11 ms in (0.01, 0.02].
SELECT count(*) FROM record_ai_calls('[
  {"modelname": "edge", "version": "v", "prompt": "p", "response": {}, "provider": "openai",
   "input_tokens": 4, "duration_ms": 10, "created_at": "2026-03-04 00:00:00+00"},
  {"modelname": "edge", "version": "v", "prompt": "p", "response": {}, "provider": "openai",
   "input_tokens": 5, "duration_ms": 11, "created_at": "2026-03-04 00:00:00+00"}]');
SELECT metric, bucket_counts[1:4] AS first_buckets, count, min, max
  FROM ai_otel_metrics('2026-03-04', '2026-03-05');

--
-- A window that is NULL or holds no time is refused.
--
SELECT pg_temp.try($$SELECT * FROM ai_otel_metrics(NULL, '2026-03-02')$$);
SELECT pg_temp.try($$SELECT * FROM ai_otel_metrics('2026-03-01', NULL)$$);
SELECT pg_temp.try($$SELECT * FROM ai_otel_metrics('2026-03-02', '2026-03-01')$$);
SELECT pg_temp.try($$SELECT * FROM ai_otel_metrics('2026-03-01', '2026-03-01')$$);
-- As psql shows one:
\set VERBOSITY default
SELECT * FROM ai_otel_metrics('2026-03-02', '2026-03-01');
\set VERBOSITY terse
-- An empty window that is not inverted: no rows.
SELECT count(*) FROM ai_otel_metrics('2020-01-01', '2020-01-02');

--
-- With the caller's rights: a tenant sees only its user's calls, in the
-- view and in the histograms; a role without SELECT on ai_call cannot read
-- the view at all.
--
CREATE ROLE regress_otel_tenant IN ROLE aitrack_tenant;
CREATE ROLE regress_otel_nobody;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('regress_otel_tenant', '00000000-0000-0000-0000-00000000000a');
GRANT SELECT ON ai_call, ai_model, ai_call_otel TO regress_otel_tenant;
GRANT EXECUTE ON FUNCTION ai_otel_metrics(timestamptz, timestamptz) TO regress_otel_tenant;
GRANT SELECT ON ai_call_otel TO regress_otel_nobody;
SELECT count(*) AS calls, count(DISTINCT "enduser.id") AS users FROM ai_call_otel;
SET ROLE regress_otel_tenant;
SELECT "aitrack.call.id", "enduser.id", "gen_ai.request.model" FROM ai_call_otel ORDER BY 1;
SELECT metric, attributes ->> 'gen_ai.request.model' AS model,
       attributes ->> 'gen_ai.token.type' AS token_type, count
  FROM ai_otel_metrics('2026-03-01', '2026-03-05');
RESET ROLE;
SET ROLE regress_otel_nobody;
SELECT count(*) FROM ai_call_otel;
RESET ROLE;
DELETE FROM ai_tenant_user;
REVOKE ALL ON ai_call, ai_model, ai_call_otel FROM regress_otel_tenant, regress_otel_nobody;
REVOKE ALL ON FUNCTION ai_otel_metrics(timestamptz, timestamptz) FROM regress_otel_tenant;
DROP ROLE regress_otel_tenant, regress_otel_nobody;

SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
