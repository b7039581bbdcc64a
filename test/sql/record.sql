-- record_ai_call() with explicit columns: positional, named, defaults, the
-- returned id, and get-or-create of the model.
CREATE EXTENSION aitrack;

-- The four required arguments alone: status defaults to success, extra to {}.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'Translate "hello" to French', '{"text": "bonjour"}') AS id;

-- Every argument, positionally.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'Summarise this', '{"text": "short"}',
                      120, 0, 30, 0.00042, 850, 'summary', 'success',
                      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"temperature": 0.2}') AS id;

-- Named arguments, in any order, skipping what is not known.
SELECT record_ai_call(modelname => 'claude-3-5-sonnet', version => '20241022',
                      prompt => 'Classify', response => '{"label": "spam"}',
                      status => 'error', duration_ms => 30000, call_type => 'classify',
                      extra => '{"error": "overloaded"}') AS id;
SELECT record_ai_call(prompt => 'Think', response => '"42"', version => 'latest',
                      modelname => 'o1', reasoning_tokens => 900,
                      output_tokens => 902, input_tokens => 10) AS id;

-- Each call is a row with exactly what was given.
SELECT c.id, m.modelname, m.version, c.prompt, c.response, c.input_tokens,
       c.reasoning_tokens, c.output_tokens, c.cost_usd, c.duration_ms,
       c.call_type, c.status, c.user_id, c.extra
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 ORDER BY c.id;

-- A model is created once and then reused; a new version is a new model.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'again', '{}') AS id;
SELECT record_ai_call('gpt-4o', '2024-11-20', 'newer', '{}') AS id;
SELECT id, modelname, version, extra FROM ai_model ORDER BY id;
SELECT m.modelname, m.version, count(*) AS calls
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 GROUP BY 1, 2 ORDER BY 1, 2;

-- Names are matched exactly (case, spaces and non-ASCII included).
SELECT record_ai_call('GPT-4o', '2024-08-06', 'p', '{}') AS id;
SELECT record_ai_call('mistral-large ', '2407', 'p', '{}') AS id;
SELECT record_ai_call('modèle-ü', 'v1', 'p', '{}') AS id;
SELECT modelname, version FROM ai_model ORDER BY id;

-- Every status the ledger knows.
SELECT s AS status, record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', status => s) > 0 AS recorded
  FROM unnest('{success,error,timeout,cancelled,rate_limited,filtered}'::text[]) AS s;

-- Counts at their limits are kept exactly.  1.4's explicit form takes the
-- cost as double precision (what drivers send for a float), kept as the
-- shortest decimal that reads back as the same double: 17 significant
-- digits here; the metrics form keeps every digit.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}',
                      input_tokens => 2147483647, output_tokens => 0,
                      cost_usd => 123456789.123456789012345678, duration_ms => 0) AS id \gset
SELECT input_tokens, output_tokens, cost_usd, duration_ms FROM ai_call WHERE id = :id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}',
                      '{"cost_usd": 123456789.123456789012345678}'::jsonb) AS id \gset
SELECT cost_usd FROM ai_call WHERE id = :id;

-- An explicit NULL extra is stored as {} (the seed's default).
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', extra => NULL) AS id \gset
SELECT extra FROM ai_call WHERE id = :id;

-- A failed call inside a transaction leaves nothing behind, the model
-- included; the next call still works.
BEGIN;
SELECT record_ai_call('rolled-back', 'v1', 'p', '{}') > 0 AS recorded;
ROLLBACK;
SELECT count(*) AS rolled_back_models FROM ai_model WHERE modelname = 'rolled-back';
SELECT record_ai_call('rolled-back', 'v1', 'p', '{}') > 0 AS recorded;
SELECT count(*) AS models FROM ai_model WHERE modelname = 'rolled-back';

-- Many calls in one statement, as a backfill would do.
SELECT count(*) AS recorded
  FROM generate_series(1, 500) AS i,
       LATERAL record_ai_call('bulk-model', 'v' || (i % 3), 'p' || i, '{}',
                              input_tokens => i) AS id;
SELECT m.version, count(*), sum(c.input_tokens)
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname = 'bulk-model' GROUP BY 1 ORDER BY 1;

-- 1.1's arguments come after 1.0's: cache tokens (inside input_tokens) and
-- the time to the first token; positionally too.
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}', 1200, NULL, 50, 0.001,
                      900, 'chat', 'success', NULL, '{}', 1000, 100, 250) AS id \gset
SELECT input_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens,
       time_to_first_token_ms, cost_usd, cost_source
  FROM ai_call WHERE id = :id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}', input_tokens => 10,
                      output_tokens => 5, time_to_first_token_ms => 80) AS id \gset
SELECT input_tokens, cache_read_input_tokens, output_tokens, time_to_first_token_ms,
       cost_usd, cost_source
  FROM ai_call WHERE id = :id;

-- An untyped 5th argument, as psycopg2 and node-postgres send it, is the
-- metrics as JSON text (1.4; 1.3 found it ambiguous), and so are untyped
-- 6th and 7th ones.  An untyped number there is not a token count.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"input_tokens": 1}') AS id \gset
SELECT input_tokens FROM ai_call WHERE id = :id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"input_tokens": 2}', 'chat',
                      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS id \gset
SELECT input_tokens, call_type, user_id FROM ai_call WHERE id = :id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '12');
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{}', NULL, 'not-a-uuid');
-- Typed, each goes where its type says.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', 12) AS id \gset
SELECT input_tokens FROM ai_call WHERE id = :id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"input_tokens": 3}'::jsonb) AS id \gset
SELECT input_tokens FROM ai_call WHERE id = :id;
-- What drivers send for numbers: bigint and double precision arguments
-- (1.4), durations rounded half away from zero as the metrics form does.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 10::bigint,
                      output_tokens => 3::smallint, cost_usd => 0.0012::float8,
                      duration_ms => 12.5::float8, time_to_first_token_ms => 2.49) AS id \gset
SELECT input_tokens, output_tokens, cost_usd, duration_ms, time_to_first_token_ms FROM ai_call WHERE id = :id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"duration_ms": 12.5}'::jsonb) AS id \gset
SELECT duration_ms FROM ai_call WHERE id = :id;
\set VERBOSITY terse
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', input_tokens => 3000000000);
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', duration_ms => 'NaN');
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', duration_ms => 1e12);
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', cost_usd => '-Infinity');
\set VERBOSITY default

-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
