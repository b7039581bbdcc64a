-- Bad input to record_ai_call(): each case gets a clear message and a
-- specific SQLSTATE, and nothing at all is written.
CREATE EXTENSION aitrack;
-- try() runs a statement and shows what a client would get: the SQLSTATE,
-- the message, and the detail and hint when there are any.

CREATE FUNCTION try(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; msg text; detail text; hint text;
BEGIN
    EXECUTE call;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || msg
        || CASE WHEN detail <> '' THEN E'\n  DETAIL: ' || detail ELSE '' END
        || CASE WHEN hint <> '' THEN E'\n  HINT: ' || hint ELSE '' END;
END $$;

-- Model name and version: NULL, empty, too long.
SELECT try($$SELECT record_ai_call(NULL, 'v', 'p', '{}')$$);
SELECT try($$SELECT record_ai_call('', 'v', 'p', '{}')$$);
SELECT try($$SELECT record_ai_call(repeat('m', 257), 'v', 'p', '{}')$$);
SELECT try($$SELECT record_ai_call(repeat('é', 257), 'v', 'p', '{}')$$);
SELECT try($$SELECT record_ai_call('m', NULL, 'p', '{}')$$);
SELECT try($$SELECT record_ai_call('m', '', 'p', '{}')$$);
SELECT try($$SELECT record_ai_call('m', repeat('v', 300), 'p', '{}')$$);
-- Exactly at the limit is fine (counted in characters, not bytes).
SELECT try($$SELECT record_ai_call(repeat('é', 256), repeat('v', 256), 'p', '{}')$$);
DELETE FROM ai_model;

-- Prompt and response are required.
SELECT try($$SELECT record_ai_call('m', 'v', NULL, '{}')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', NULL)$$);

-- Counts never negative.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => -1)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', reasoning_tokens => -1)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', output_tokens => -2147483648)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', duration_ms => -5)$$);
-- Beyond integer, PostgreSQL itself refuses before we are called.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', input_tokens => 2147483648::bigint::int)$$);

-- Cost: finite and not negative.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => 'NaN')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => 'Infinity')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => '-Infinity')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => -0.01)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => -0.0000000000000000001)$$);
-- Zero, in any spelling, is a cost.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', cost_usd => -0.000)$$);
DELETE FROM ai_model;

-- Status: one of six, never NULL through this function.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => 'ok')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => 'SUCCESS')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => '')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => NULL)$$);

-- call_type: empty or too long.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', call_type => '')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', call_type => repeat('c', 257))$$);

-- extra must be an object; malformed JSON never reaches us.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', extra => '[1, 2]')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', extra => '"text"')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{"unclosed": ')$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', extra => '{bad}')$$);

-- The seed's metrics object: not an object, unknown keys, wrong types.
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '[]'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '12'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"output_token": 5}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"user_id": "x"}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens": "5"}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens": 1.5}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens": 1e10}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"output_tokens": -3}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"reasoning_tokens": true}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"duration_ms": "fast"}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"duration_ms": -0.6}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"duration_ms": 3e9}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cost_usd": "0.01"}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"cost_usd": -1}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"status": 1}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"status": "failed"}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"extra": [1]}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"extra": "x"}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('', 'v', 'p', '{}', '{}'::jsonb)$$);
SELECT try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{}'::jsonb, call_type => '')$$);

-- Not one row was written by any of the above.
SELECT count(*) AS models FROM ai_model;
SELECT count(*) AS calls FROM ai_call;

-- The same errors as psql prints them.
SELECT record_ai_call('m', 'v', 'p', '{}', status => 'ok');
SELECT record_ai_call('m', 'v', 'p', '{}', '{"output_token": 5}'::jsonb);

-- (try() is not left behind for the tests that come after.)
DROP FUNCTION try(text);
DROP EXTENSION aitrack;
