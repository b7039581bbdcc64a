-- Bad input to record_ai_call(): each case gets a clear message and a
-- specific SQLSTATE, and nothing at all is written.
CREATE EXTENSION aitrack;
-- pg_temp.try(), shared by the tests that show error messages.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql

-- Model name and version: NULL, empty, too long.
SELECT pg_temp.try($$SELECT record_ai_call(NULL, 'v', 'p', '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call('', 'v', 'p', '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call(repeat('m', 257), 'v', 'p', '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call(repeat('é', 257), 'v', 'p', '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', NULL, 'p', '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', '', 'p', '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', repeat('v', 300), 'p', '{}')$$);
-- Exactly at the limit is fine (counted in characters, not bytes).
SELECT pg_temp.try($$SELECT record_ai_call(repeat('é', 256), repeat('v', 256), 'p', '{}')$$);
DELETE FROM ai_model;

-- Prompt and response are required.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', NULL, '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', NULL)$$);

-- Counts never negative.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => -1)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', reasoning_tokens => -1)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', output_tokens => -2147483648)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', duration_ms => -5)$$);
-- Beyond integer, PostgreSQL itself refuses before we are called.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => 2147483648::bigint::int)$$);

-- Cost: finite and not negative.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => 'NaN')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => 'Infinity')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => '-Infinity')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => -0.01)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => -0.0000000000000000001)$$);
-- Zero, in any spelling, is a cost.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => -0.000)$$);
DELETE FROM ai_model;

-- Status: one of six, never NULL through this function.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => 'ok')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => 'SUCCESS')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => '')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => NULL)$$);

-- call_type: empty or too long.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', call_type => '')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', call_type => repeat('c', 257))$$);

-- extra must be an object; malformed JSON never reaches us.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', extra => '[1, 2]')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', extra => '"text"')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{"unclosed": ')$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', extra => '{bad}')$$);

-- The seed's metrics object: not an object, unknown keys, wrong types.
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '[]'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '12'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"output_token": 5}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"user_id": "x"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens": "5"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens": 1.5}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens": 1e10}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"output_tokens": -3}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"reasoning_tokens": true}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"duration_ms": "fast"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"duration_ms": -0.6}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"duration_ms": 3e9}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cost_usd": "0.01"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cost_usd": -1}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"status": 1}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"status": "failed"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"extra": [1]}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"extra": "x"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('', 'v', 'p', '{}', '{}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{}'::jsonb, call_type => '')$$);

-- Not one row was written by any of the above.
SELECT count(*) AS models FROM ai_model;
SELECT count(*) AS calls FROM ai_call;

-- The same errors as psql prints them.
SELECT record_ai_call('m', 'v', 'p', '{}', status => 'ok');
SELECT record_ai_call('m', 'v', 'p', '{}', '{"output_token": 5}'::jsonb);

DROP EXTENSION aitrack;
