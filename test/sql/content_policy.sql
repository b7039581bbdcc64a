--
-- aitrack.store_content (1.3): what record_ai_call() and record_ai_calls()
-- keep of a call's prompt and response.
--   full  both as given (the default)
--   hash  prompt 'sha256:<hex of its UTF-8 bytes>', response
--         {"sha256": "<hex of the response's jsonb text>"}
--   none  prompt '' and response JSON null
-- Token counts are read from the response before the policy applies, so
-- tokens and the computed cost are the same under every policy.  Only a
-- superuser may change the setting (per session, database or role).
--
CREATE EXTENSION aitrack;
-- The superuser running the test, to come back to after \c as another role.
SELECT current_user AS superuser \gset
CREATE ROLE regress_aitrack_writer;
CREATE ROLE regress_aitrack_hasher LOGIN;
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid),
    record_ai_calls(jsonb)
    TO regress_aitrack_writer, regress_aitrack_hasher;
-- A price, so that calls recorded without a cost get one computed from the
-- tokens: $2.50 in, $10 out per million.
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}');

SHOW aitrack.store_content;
-- The values it takes.
SELECT name, setting, context, vartype, enumvals
  FROM pg_settings WHERE name = 'aitrack.store_content';
SET aitrack.store_content = 'partial';
SET aitrack.store_content = '';

-- The calls of this test: each shape, with tokens in the response (OpenAI's
-- usage object) and no cost, so tokens and cost are derived.
CREATE FUNCTION record_four(tag text) RETURNS SETOF bigint LANGUAGE sql AS $$
    SELECT record_ai_call('gpt-4o', 'v1', 'Translate "secret" to French',
                          '{"choices": [{"message": {"content": "secret"}}],
                            "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}',
                          call_type => tag, duration_ms => 40)
    UNION ALL
    SELECT record_ai_call('gpt-4o', 'v1', 'Translate "secret" to French',
                          '{"choices": [{"message": {"content": "secret"}}],
                            "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}',
                          '{"duration_ms": 40}'::jsonb, tag)
    UNION ALL
    SELECT * FROM record_ai_calls(pg_catalog.jsonb_build_array(
        jsonb_build_object('modelname', 'gpt-4o', 'version', 'v1', 'call_type', tag,
                           'prompt', 'Translate "secret" to French',
                           'response', '{"choices": [{"message": {"content": "secret"}}],
                                         "usage": {"prompt_tokens": 1000, "completion_tokens": 100}}'::jsonb),
        jsonb_build_object('modelname', 'gpt-4o', 'version', 'v1', 'call_type', tag,
                           'prompt', 'Résumé ✓ 日本語 🎉',
                           'response', '{"usage": {"input_tokens": 10, "output_tokens": 5},
                                         "type": "message", "content": [{"text": "ok"}]}'::jsonb)))
$$;
-- What a call keeps.
CREATE VIEW kept AS
SELECT c.id, c.call_type AS policy, c.prompt, c.response::text AS response, c.input_tokens,
       c.output_tokens, c.cost_usd, c.cost_source
  FROM ai_call c;

--
-- full (the default): everything as given.
--
SELECT count(*) FROM record_four('full');
SELECT * FROM kept WHERE policy = 'full' ORDER BY id;

--
-- hash: SHA-256 of the prompt and of the response's jsonb text; the same
-- tokens and cost.
--
SET aitrack.store_content = hash;
SELECT count(*) FROM record_four('hash');
SELECT * FROM kept WHERE policy = 'hash' ORDER BY id;
-- The hashes are those of the prompt's UTF-8 bytes and of the response as
-- jsonb prints it (checked against the call kept in full, row by row).
SELECT h.id,
       h.prompt = 'sha256:' || encode(sha256(convert_to(f.prompt, 'UTF8')), 'hex') AS prompt_hash_ok,
       h.response = jsonb_build_object('sha256', encode(sha256(convert_to(f.response::text, 'UTF8')), 'hex'))
           AS response_hash_ok,
       (h.input_tokens, h.output_tokens, h.cost_usd, h.cost_source)
           IS NOT DISTINCT FROM (f.input_tokens, f.output_tokens, f.cost_usd, f.cost_source) AS numbers_same
  FROM (SELECT *, row_number() OVER (ORDER BY id) AS n FROM ai_call WHERE call_type = 'hash') h
  JOIN (SELECT *, row_number() OVER (ORDER BY id) AS n FROM ai_call WHERE call_type = 'full') f USING (n)
 ORDER BY h.id;
-- Identical prompts hash identically, and so do equal JSON documents
-- written differently (key order, spaces); different ones do not.
SELECT record_ai_call('gpt-4o', 'v1', 'same prompt', '{"a": 1, "b": [true, null]}', call_type => 'dup')
     > 0 AS recorded;
SELECT record_ai_call('gpt-4o', 'v1', 'same prompt', '{ "b" : [ true , null ] , "a" : 1.0 }', call_type => 'dup')
     > 0 AS recorded;
SELECT record_ai_call('gpt-4o', 'v1', 'same prompt', '{"a": 1, "b": [true, null]}', '{}'::jsonb, 'dup')
     > 0 AS recorded;
SELECT count(*) FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "v1", "call_type": "dup",
                                        "prompt": "same prompt", "response": {"b": [true, null], "a": 1}},
                                       {"modelname": "gpt-4o", "version": "v1", "call_type": "dup",
                                        "prompt": "same prompt ", "response": {"a": 2, "b": [true, null]}}]');
SELECT count(*) AS calls, count(DISTINCT prompt) AS distinct_prompts,
       count(DISTINCT response) AS distinct_responses
  FROM ai_call WHERE call_type = 'dup';
SELECT prompt, response::text, count(*) FROM ai_call WHERE call_type = 'dup' GROUP BY 1, 2 ORDER BY 3 DESC, 1;
-- ("1.0" and "1" are equal as jsonb but print differently, so they hash
-- differently: the hash is of the text jsonb prints, which keeps a number's
-- scale.)
SELECT '{"a": 1.0}'::jsonb = '{"a": 1}'::jsonb AS jsonb_equal,
       '{"a": 1.0}'::jsonb::text AS one_point_zero, '{"a": 1}'::jsonb::text AS one;
-- The empty prompt has a hash too (SHA-256 of nothing).
SELECT record_ai_call('gpt-4o', 'v1', '', '{}', call_type => 'empty') AS id \gset
SELECT prompt, prompt = 'sha256:' || encode(sha256(''), 'hex') AS ok FROM ai_call WHERE id = :id;

--
-- none: nothing of the content; the numbers as before.
--
SET aitrack.store_content = none;
SELECT count(*) FROM record_four('none');
SELECT * FROM kept WHERE policy = 'none' ORDER BY id;
-- Explicit counts and a given cost are kept too.
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{"usage": {"prompt_tokens": 5}}', 7, 2, 3,
                      cost_usd => 0.5, call_type => 'explicit') AS id \gset
SELECT input_tokens, output_tokens, reasoning_tokens, cost_usd, cost_source, prompt, response
  FROM ai_call WHERE id = :id;
-- The content policy does not loosen validation: a missing prompt or
-- response is still an error, and nothing is written.
SELECT record_ai_call('gpt-4o', 'v1', NULL, '{}');
SELECT record_ai_call('gpt-4o', 'v1', 'p', NULL, '{}'::jsonb);
SELECT * FROM record_ai_calls('[{"modelname": "gpt-4o", "version": "v1", "prompt": "p"}]');
RESET aitrack.store_content;
SHOW aitrack.store_content;

-- Per policy: the same tokens and cost, in the table and in the stats.
SELECT call_type AS policy, count(*) AS calls, sum(input_tokens) AS input_tokens,
       sum(output_tokens) AS output_tokens, sum(cost_usd) AS cost_usd,
       count(*) FILTER (WHERE cost_source = 'computed') AS computed
  FROM ai_call WHERE call_type IN ('full', 'hash', 'none') GROUP BY 1 ORDER BY 1;
SELECT call_type AS policy, calls, input_tokens, output_tokens, cost_usd
  FROM ai_usage_stats(group_by => '{call_type}') WHERE call_type IN ('full', 'hash', 'none')
 ORDER BY 1;

--
-- Only a superuser may change it.  The policy a superuser set for the
-- session holds for a role it switches to, which cannot change it.
--
SET aitrack.store_content = hash;
SET ROLE regress_aitrack_writer;
SET aitrack.store_content = full;
SET aitrack.store_content = none;
RESET aitrack.store_content;
SELECT set_config('aitrack.store_content', 'full', false);
BEGIN;
SET LOCAL aitrack.store_content = full;
ROLLBACK;
SHOW aitrack.store_content;
SELECT record_ai_call('gpt-4o', 'v1', 'writer''s secret', '{}', call_type => 'writer') > 0 AS recorded;
RESET ROLE;
SELECT prompt = 'sha256:' || encode(sha256(convert_to('writer''s secret', 'UTF8')), 'hex') AS hashed
  FROM ai_call WHERE call_type = 'writer';
RESET aitrack.store_content;

--
-- Per role and per database: ALTER ROLE / ALTER DATABASE ... SET (a
-- superuser's statements; the role itself may not).
--
ALTER ROLE regress_aitrack_hasher SET aitrack.store_content = hash;
SELECT format('ALTER DATABASE %I SET aitrack.store_content = none', current_database()) \gexec
SELECT CASE WHEN s.setdatabase = 0 THEN '(all)' ELSE 'this database' END AS db,
       coalesce(r.rolname, '(all)') AS role,
       ARRAY(SELECT c FROM unnest(s.setconfig) AS c WHERE c LIKE 'aitrack.%') AS aitrack_settings
  FROM pg_db_role_setting s
  LEFT JOIN pg_roles r ON r.oid = s.setrole
 WHERE (r.rolname LIKE 'regress_aitrack%'
        OR (s.setrole = 0 AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())))
 ORDER BY 1, 2;
-- It applies at login: the role's setting wins over the database's.  Before
-- anything loads aitrack's library the setting is only a placeholder, so a
-- SET seems to work, but the library refuses it with a WARNING when it loads
-- (here, on the first call) and the call is hashed all the same.
\c - regress_aitrack_hasher
SHOW aitrack.store_content;
SET aitrack.store_content = full;
SELECT record_ai_call('gpt-4o', 'v1', 'hasher''s secret', '{}', call_type => 'hasher') > 0 AS recorded;
SHOW aitrack.store_content;
SET aitrack.store_content = full;
ALTER ROLE CURRENT_USER SET aitrack.store_content = full;
ALTER ROLE CURRENT_USER RESET aitrack.store_content;
-- A role with no setting of its own gets the database's.
\c - :superuser
SHOW aitrack.store_content;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', call_type => 'db') AS id \gset
SELECT prompt, response FROM ai_call WHERE id = :id;
SELECT call_type, prompt = 'sha256:' || encode(sha256(convert_to('hasher''s secret', 'UTF8')), 'hex') AS hashed
  FROM ai_call WHERE call_type = 'hasher';
ALTER ROLE regress_aitrack_hasher RESET aitrack.store_content;
SELECT format('ALTER DATABASE %I RESET aitrack.store_content', current_database()) \gexec
SELECT count(*) AS aitrack_settings_left
  FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) AS c
 WHERE c LIKE 'aitrack.%' AND (r.rolname LIKE 'regress_aitrack%'
    OR (s.setrole = 0 AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())));

SET aitrack.allow_drop = on;
DROP VIEW kept;
DROP FUNCTION record_four(text);
DROP EXTENSION aitrack;
DROP ROLE regress_aitrack_writer, regress_aitrack_hasher;
