--
-- Hostile input to every function: SQL in strings, quotes and backslashes,
-- Unicode, control characters, a 100 MB prompt, deeply nested JSON, numbers
-- at and beyond the edges, invalid UTF-8, and NULL in every argument
-- position.  Each gets a clear error or a correct row, and the server runs
-- on.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';

-- pg_temp.try(), shared by the tests that show error messages.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql

--
-- SQL, quotes and backslashes in every text argument: stored exactly as
-- given, never run.  (Shown as JSON strings, which escape what a terminal
-- would not show.)
--
CREATE TEMP TABLE nasty (n int, s text);
INSERT INTO nasty VALUES
    (1, $$'; DROP TABLE ai_call; --$$),
    (2, $$Robert'); DROP TABLE ai_model;--$$),
    (3, $$\'; SELECT pg_sleep(10); --\$$),
    (4, $$"; DELETE FROM ai_call; --"$$),
    (5, $$'||(SELECT current_user)||'$$),
    (6, $$%s%s%s%n%x %1$s {{7*7}} ${7*7} $(id) `id`$$),
    (7, $$\\\\ \x00 \0 \n \\' '' "" \"$$),
    (8, $$OPERATOR(pg_catalog.=) $1 $$ || '$$' || $$ $body$ E'\x27'$$);
SELECT n, pg_temp.try(format('SELECT record_ai_call(%L, %L, %L, %L::jsonb, call_type => %L, status => %L, extra => %L::jsonb)::text',
                     s, s, s, jsonb_build_object(s, s, 'usage', jsonb_build_object('prompt_tokens', n, 'completion_tokens', n)),
                     s, 'success', jsonb_build_object('note', s)), true)
  FROM nasty ORDER BY n;
-- Every value came back as it went in.
SELECT n.n, m.modelname = n.s AND m.version = n.s AND c.prompt = n.s AND c.call_type = n.s
            AND c.response -> n.s = to_jsonb(n.s) AND c.extra ->> 'note' = n.s
            AND c.input_tokens = n.n AND c.output_tokens = n.n AS same,
       to_jsonb(c.prompt)::text AS prompt
  FROM nasty n JOIN ai_model m ON m.modelname = n.s JOIN ai_call c ON c.model_id = m.id
 ORDER BY n.n;
-- The same through the seed's form and through record_ai_calls.
SELECT n, pg_temp.try(format('SELECT record_ai_call(%L, %L, %L, %L::jsonb, %L::jsonb, %L, NULL)::text',
                     s, s, s, jsonb_build_object('q', s), jsonb_build_object('extra', jsonb_build_object('note', s)), s), true)
  FROM nasty ORDER BY n;
SELECT count(*) FROM record_ai_calls(
    (SELECT jsonb_agg(jsonb_build_object('modelname', s, 'version', s, 'prompt', s, 'response', jsonb_build_object('q', s),
                                         'call_type', s, 'extra', jsonb_build_object('note', s)) ORDER BY n)
       FROM nasty));
SELECT n.n, count(*) AS calls,
       bool_and(c.prompt = n.s AND c.call_type = n.s AND c.extra ->> 'note' = n.s) AS same
  FROM nasty n JOIN ai_model m ON m.modelname = n.s AND m.version = n.s JOIN ai_call c ON c.model_id = m.id
 GROUP BY n.n ORDER BY n.n;
-- As filters of ai_usage_stats: values, matched exactly.
SELECT n.n, s.modelname = n.s AS same_model, s.calls
  FROM nasty n, ai_usage_stats(modelname => n.s, call_type => n.s) s
 ORDER BY n.n;
-- In status, metrics keys and group_by: refused, and named in the message
-- as given (a format directive in a value is not interpreted).
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => 'success'' OR ''1''=''1')::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', status => '%s%n%x')::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"status": "error\"; DROP TABLE ai_call; --"}'::jsonb)::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('m', 'v', 'p', '{}', '{"input_tokens'' OR 1=1 --": 1}'::jsonb)::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_calls('[{"modelname": "m", "version": "v", "prompt": "p", "response": {}, "user_id": "'' OR 1=1"}]')::text$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM ai_usage_stats(group_by => '{"model; DROP TABLE ai_call"}')$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM ai_usage_stats(tz => 'UTC''; DROP TABLE ai_call; --')$$, true);
-- Nothing was dropped or deleted.
SELECT to_regclass('ai_call') AS ai_call, to_regclass('ai_model') AS ai_model,
       (SELECT count(*) FROM ai_call) AS calls;

--
-- Unicode: names, prompts and responses in any script, emoji sequences,
-- combining marks, right-to-left text and invisible characters.  Names are
-- limited to 256 characters, not bytes.
--
CREATE TEMP TABLE uni (n int, s text);
INSERT INTO uni VALUES
    (1, '🤖 模型 مودل'),
    (2, U&'v\0661.\0660 \202EgnirtS\202C'),
    (3, U&'Ünïcödé e\0301 ΩЖ中文日本語한국어 👨‍👩‍👧‍👦 🏳️‍🌈 \200B\200D\FEFF \FFFD \FFFF \+10FFFF ﷽'),
    (4, U&'\0301\0301\0301 ᄀᄀᄀ Z̸̡̢̛̖̗̘̙̜̝̞̟̠̣̤̥̦̩̪̫̬̭̮̯̰̱̲̳̹̺̻̼͇͈͉͍͎̀́̂̃̄̅̆̇̈̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿̀́͂̓̈́͆͊͋͌̕̚ͅ͏͓͔͕͖͙͚͐͑͒͗͛ͣͤͥͦͧͨͩͪͫͬͭͮͯ͘͜͟͢͝͞͠͡');
SELECT n, pg_temp.try(format('SELECT record_ai_call(%L, %L, %L, %L::jsonb, call_type => %L)::text',
                     s, s, s, jsonb_build_object('t', s), s), true)
  FROM uni ORDER BY n;
-- Back as given; lengths in characters and bytes (shown as numbers: the
-- strings themselves include right-to-left overrides and invisible marks).
SELECT u.n, m.modelname = u.s AND m.version = u.s AND c.prompt = u.s AND c.call_type = u.s
            AND c.response ->> 't' = u.s AS same,
       length(c.prompt) AS chars, octet_length(c.prompt) AS bytes
  FROM uni u JOIN ai_model m ON m.modelname = u.s JOIN ai_call c ON c.model_id = m.id
 ORDER BY u.n;
-- A JSON \u escape pair is stored as the character it stands for.
SELECT record_ai_call('m', 'v', 'p', '{"t": "\ud83e\udd16"}') AS id \gset
SELECT response ->> 't' = '🤖' AS decoded, response::text FROM ai_call WHERE id = :id;
-- The 256-character limit on names counts characters, not bytes.
SELECT pg_temp.try(format('SELECT record_ai_call(%L, ''v'', ''p'', ''{}'')::text', repeat('🤖', 256)), true) LIKE 'ok: %' AS accepted;
SELECT length(modelname) AS chars, octet_length(modelname) AS bytes FROM ai_model WHERE modelname = repeat('🤖', 256);
SELECT pg_temp.try(format('SELECT record_ai_call(%L, ''v'', ''p'', ''{}'')::text', repeat('🤖', 257)), true);
SELECT pg_temp.try(format('SELECT record_ai_call(''m'', ''v'', ''p'', ''{}'', call_type => %L)::text', repeat('👨‍👩‍👧‍👦', 37)), true);
SELECT length(modelname), calls FROM ai_usage_stats(group_by => '{modelname}') WHERE modelname LIKE '🤖%' ORDER BY 1;
-- JSON escapes PostgreSQL cannot store: its own errors.
SELECT record_ai_call('m', 'v', 'p', '{"t": "\ud800"}');
SELECT record_ai_call('m', 'v', 'p', '{"t": "\u0000"}');
SELECT * FROM record_ai_calls('[{"modelname": "m\u0000", "version": "v", "prompt": "p", "response": {}}]');

--
-- Control characters and binary-looking text (NUL aside: text cannot hold
-- it, and PostgreSQL says so).
--
SELECT record_ai_call(E'\x01\x02\x03\x1b[31mred\x1b[0m\x07\x08\x7f', E'v\r\n\t1',
                      (SELECT string_agg(chr(i), '' ORDER BY i) FROM generate_series(1, 31) AS i) || chr(127),
                      to_jsonb(E'\x1b]0;title\x07\x1b[2J'::text), call_type => E'a\tb') AS id \gset
SELECT to_jsonb(m.modelname)::text AS modelname, to_jsonb(m.version)::text AS version,
       to_jsonb(c.prompt)::text AS prompt, c.response::text, to_jsonb(c.call_type)::text AS call_type
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id WHERE c.id = :id;
-- Every character of the Basic Multilingual Plane but NUL and the
-- surrogates, and 20000 code points from anywhere, made from their UTF-8
-- bytes with convert_from: stored and read back unchanged, as prompt and as
-- a JSON string in the response, also through record_ai_calls.
CREATE TEMP TABLE blobs AS
SELECT 'bmp' AS name, string_agg(chr(i), '' ORDER BY i) AS s
  FROM generate_series(1, 65535) AS i WHERE i NOT BETWEEN 55296 AND 57343;
SELECT setseed(0.5);
INSERT INTO blobs
SELECT 'random', convert_from(string_agg(convert_to(chr(cp), 'UTF8'), ''::bytea ORDER BY n), 'UTF8')
  FROM (SELECT n, 1 + (random() * 1114110)::int AS cp FROM generate_series(1, 20000) AS n) r
 WHERE cp NOT BETWEEN 55296 AND 57343;
SELECT name, length(s) > 19000 AS long, s = convert_from(convert_to(s, 'UTF8'), 'UTF8') AS utf8_roundtrip FROM blobs ORDER BY name;
SELECT name, pg_temp.try(format('SELECT record_ai_call(%L, ''v'', %L, %L::jsonb)::text', 'blob ' || name, s, jsonb_build_object('s', s)), true) <> ''
       AS recorded
  FROM blobs ORDER BY name;
SELECT count(*) FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'blob ' || name, 'version', 'v',
                                                                       'prompt', s, 'response', jsonb_build_object('s', s)))
                                        FROM blobs));
SELECT b.name, count(*) AS calls, bool_and(c.prompt = b.s AND c.response ->> 's' = b.s) AS same
  FROM blobs b JOIN ai_model m ON m.modelname = 'blob ' || b.name JOIN ai_call c ON c.model_id = m.id
 GROUP BY b.name ORDER BY b.name;
-- NUL: refused by PostgreSQL before aitrack sees it.
SELECT record_ai_call('m', 'v', chr(0), '{}');
SELECT record_ai_call('m', 'v', E'a\x00b', '{}');

--
-- Invalid UTF-8 in a UTF8 database: the server refuses the literal (or the
-- conversion) before aitrack is called.
--
SELECT record_ai_call('m', 'v', E'\xff', '{}');
SELECT record_ai_call(E'\xc3', 'v', 'p', '{}');
SELECT record_ai_call('m', 'v', E'ok \xed\xa0\x80', '{}');
SELECT record_ai_call('m', 'v', convert_from('\xfffe'::bytea, 'UTF8'), '{}');
SELECT record_ai_call('m', 'v', 'p', E'{"t": "\xc0\xaf"}');
SELECT * FROM record_ai_calls(E'[{"modelname": "\xff"}]');

--
-- A 100 MB prompt: accepted whole (one call; it compresses well).
--
SELECT record_ai_call('big', 'v1', repeat('x', 100 * 1024 * 1024),
                      '{"usage": {"prompt_tokens": 26214400, "completion_tokens": 1}}') AS id \gset
SELECT length(prompt) = 100 * 1024 * 1024 AS all_100_mb, octet_length(prompt), left(prompt, 3), right(prompt, 3),
       input_tokens, output_tokens
  FROM ai_call WHERE id = :id;
SELECT calls, input_tokens FROM ai_usage_stats(modelname => 'big');
DELETE FROM ai_call WHERE id = :id;

--
-- Deeply nested JSON: 5000 levels are stored as they are, in the response,
-- inside the usage object (where no count is found) and in extra; far
-- deeper is PostgreSQL's own error, before aitrack is called.
--
SELECT record_ai_call('deep', 'v1', 'p', (repeat('[', 5000) || repeat(']', 5000))::jsonb) AS id \gset
SELECT jsonb_typeof(response), length(response::text), input_tokens FROM ai_call WHERE id = :id;
SELECT record_ai_call('deep', 'v1', 'p',
                      ('{"usage": ' || repeat('{"prompt_tokens": ', 5000) || '7' || repeat('}', 5000) || '}')::jsonb) AS id \gset
SELECT length(response::text), input_tokens, output_tokens, cost_source FROM ai_call WHERE id = :id;
SELECT record_ai_call('deep', 'v1', 'p', '{}',
                      ('{"extra": ' || repeat('{"a": ', 5000) || '1' || repeat('}', 5000) || '}')::jsonb) AS id \gset
SELECT length(extra::text) FROM ai_call WHERE id = :id;
SELECT count(*) FROM record_ai_calls(jsonb_build_array(jsonb_build_object(
    'modelname', 'deep', 'version', 'v1', 'prompt', 'p',
    'response', (repeat('{"a": [', 2500) || repeat(']}', 2500))::jsonb)));
-- Hashed (aitrack.store_content = hash) too.
SET aitrack.store_content = hash;
SELECT record_ai_call('deep', 'v1', 'p', (repeat('[', 5000) || repeat(']', 5000))::jsonb) AS id \gset
SELECT response ->> 'sha256' = encode(sha256(convert_to(repeat('[', 5000) || repeat(']', 5000), 'UTF8')), 'hex') AS hash_ok
  FROM ai_call WHERE id = :id;
RESET aitrack.store_content;
-- A metrics object or a call element nested deeply where a number belongs.
SELECT pg_temp.try($$SELECT record_ai_call('deep', 'v1', 'p', '{}', ('{"input_tokens": ' || repeat('[', 5000) || repeat(']', 5000) || '}')::jsonb)::text$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM record_ai_calls(('[' || repeat('[', 5000) || repeat(']', 5000) || ']')::jsonb)$$, true);
\set VERBOSITY terse
SELECT record_ai_call('deep', 'v1', 'p', (repeat('[', 1000000) || repeat(']', 1000000))::jsonb);
SELECT * FROM record_ai_calls(('[{"modelname": "deep", "response": ' || repeat('[', 1000000) || repeat(']', 1000000) || '}]')::jsonb);
\set VERBOSITY default
SELECT count(*) AS deep_calls FROM ai_call c JOIN ai_model m ON m.id = c.model_id WHERE m.modelname = 'deep';

--
-- Numbers at the edges: 0 and 2147483647 are counts like any other; -1 and
-- 2147483648 are not (1.4: the explicit form takes bigint, as drivers send
-- large integers, and says which argument is out of range).  A cost may be
-- up to 1e9 USD (1.4; 1.3 took 9e131071, and two of those overflowed every
-- sum).
--
SELECT record_ai_call('num', 'v1', 'p', '{}', 0, 0, 0, 0, 0, cache_read_input_tokens => 0,
                      cache_creation_input_tokens => 0, time_to_first_token_ms => 0) AS id \gset
SELECT input_tokens, reasoning_tokens, output_tokens, cost_usd, duration_ms, cache_read_input_tokens,
       cache_creation_input_tokens, time_to_first_token_ms, cost_source FROM ai_call WHERE id = :id;
SELECT record_ai_call('num', 'v1', 'p', '{}', 2147483647, 2147483647, 2147483647, 1000000000,
                      2147483647, cache_read_input_tokens => 2147483647,
                      time_to_first_token_ms => 2147483647) AS id \gset
SELECT input_tokens, reasoning_tokens, output_tokens, cost_usd, duration_ms, cache_read_input_tokens,
       cache_creation_input_tokens, time_to_first_token_ms, cost_source FROM ai_call WHERE id = :id;
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', cost_usd => 1000000000.01)::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', cost_usd => '9e131071')::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', '{"cost_usd": 9e131071}'::jsonb)::text$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM record_ai_calls('[{"modelname": "num", "version": "v1", "prompt": "p", "response": {}, "cost_usd": 1e10}]')$$, true);
SELECT pg_temp.try($$INSERT INTO ai_call (model_id, created_at, updated_at, prompt, response, cost_usd, cost_source)
                     SELECT 1, '2025-01-01', '2025-01-01', 'p', '{}', 1e10, 'provided'$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (created_at, updated_at, model, input_usd_per_mtok, output_usd_per_mtok)
                     VALUES ('2025-01-01', '2025-01-01', 'absurd', 1000001, 1)$$);
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', input_tokens => -1)::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', input_tokens => 2147483648)::text$$, true);
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', input_tokens => 2147483648::int)::text$$, true);
-- Two maximal cache counts do not wrap around when added up.
SELECT pg_temp.try($$SELECT record_ai_call('num', 'v1', 'p', '{}', input_tokens => 2147483647,
                                   cache_read_input_tokens => 2147483647,
                                   cache_creation_input_tokens => 2147483647)::text$$, true);
-- Through metrics.
SELECT m, pg_temp.try(format('SELECT record_ai_call(''num'', ''v1'', ''p'', ''{}'', %L::jsonb)::text', m), true)
  FROM unnest(ARRAY[
    '{"input_tokens": 0, "output_tokens": 0, "cost_usd": 0, "duration_ms": 0}',
    '{"input_tokens": 2147483647, "output_tokens": 2147483647, "reasoning_tokens": 2147483647}',
    '{"input_tokens": -1}',
    '{"input_tokens": 2147483648}',
    '{"output_tokens": -2147483649}',
    '{"input_tokens": 1e30}',
    '{"input_tokens": 1.5}',
    '{"input_tokens": 1.0, "output_tokens": -0}',
    '{"input_tokens": 2147483647.0}',
    '{"duration_ms": 2147483647.4}',
    '{"duration_ms": 2147483647.5}',
    '{"duration_ms": -0.4}',
    '{"duration_ms": -0.6}',
    '{"cost_usd": -0.000000000000000001}',
    '{"cost_usd": 1e-300}',
    '{"cost_usd": "1"}',
    '{"input_tokens": "1"}',
    '{"input_tokens": true}',
    '{"input_tokens": [1]}']) AS m;
-- Counts in a provider's usage object beyond integer are not read; a
-- sibling that fits is.
SELECT record_ai_call('num', 'v1', 'p', '{"usage": {"prompt_tokens": 2147483648, "completion_tokens": 2147483647}}') AS id \gset
SELECT input_tokens, output_tokens, cost_source FROM ai_call WHERE id = :id;
SELECT record_ai_call('num', 'v1', 'p', '{"usage": {"prompt_tokens": -1, "completion_tokens": 1e400}}') AS id \gset
SELECT input_tokens, output_tokens FROM ai_call WHERE id = :id;
-- Infinite time bounds for the stats are the same as none.
SELECT (SELECT calls FROM ai_usage_stats(NULL, NULL, '{}')) AS no_bounds,
       (SELECT calls FROM ai_usage_stats('-infinity', 'infinity', '{}')) AS infinite_bounds,
       (SELECT calls FROM ai_usage_stats('-infinity', 'infinity', '{}', tz => 'Asia/Kolkata')) AS infinite_kolkata;
-- Sums over many maximal counts do not overflow the stats.
SELECT count(*) FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'max', 'version', 'v', 'prompt', 'p',
                                                                       'response', '{}'::jsonb, 'input_tokens', 2147483647,
                                                                       'output_tokens', 2147483647, 'duration_ms', 2147483647))
                                        FROM generate_series(1, 10)));
SELECT calls, input_tokens, output_tokens, avg_duration_ms, p50_duration_ms > 2e9 AS p50_large
  FROM ai_usage_stats(modelname => 'max');
-- Times in a batch element.
SELECT t, pg_temp.try(format('SELECT count(*)::text FROM record_ai_calls(%L)',
                     jsonb_build_array(jsonb_build_object('modelname', 'num', 'version', 'v1', 'prompt', 'p',
                                                          'response', '{}'::jsonb, 'created_at', t))), true)
  FROM unnest(ARRAY['infinity', '-infinity', '294277-01-01T00:00:00Z', '4713-01-01 BC', 'not a time',
                    '2024-02-30T00:00:00Z', '2024-06-01T12:00:00+14:00']) AS t;

--
-- NULL in every argument position.
--
-- record_ai_call, explicit form (16 arguments): NULL at each position in
-- turn, the others valid.  modelname, version, prompt, response and status
-- must not be NULL; every other NULL means "not given".
CREATE TEMP TABLE explicit_args (pos int, name text, type text, value text);
INSERT INTO explicit_args VALUES
    (1, 'modelname', 'text', '''nulls'''), (2, 'version', 'text', '''explicit'''),
    (3, 'prompt', 'text', '''p'''), (4, 'response', 'jsonb', '''{"usage": {"prompt_tokens": 99}}'''),
    (5, 'input_tokens', 'integer', '10'), (6, 'reasoning_tokens', 'integer', '1'),
    (7, 'output_tokens', 'integer', '5'), (8, 'cost_usd', 'numeric', '0.5'),
    (9, 'duration_ms', 'integer', '100'), (10, 'call_type', 'text', '''chat'''),
    (11, 'status', 'text', '''error'''), (12, 'user_id', 'uuid', '''00000000-0000-0000-0000-000000000001'''),
    (13, 'extra', 'jsonb', '''{"k": 1}'''), (14, 'cache_read_input_tokens', 'integer', '2'),
    (15, 'cache_creation_input_tokens', 'integer', '3'), (16, 'time_to_first_token_ms', 'integer', '20');
SELECT e.pos, e.name,
       pg_temp.try(format('SELECT record_ai_call(%s)::text',
                  (SELECT string_agg(CASE WHEN a.pos = e.pos THEN 'NULL::' || a.type ELSE a.value || '::' || a.type END,
                                     ', ' ORDER BY a.pos) FROM explicit_args a)), true) AS result
  FROM explicit_args e ORDER BY e.pos;
SELECT c.id, c.prompt, c.response::text, c.input_tokens AS inp, c.reasoning_tokens AS rsn, c.output_tokens AS outp,
       c.cost_usd, c.cost_source, c.duration_ms AS dur, c.call_type, c.status, c.user_id IS NOT NULL AS has_user,
       c.extra::text, c.cache_read_input_tokens AS cr, c.cache_creation_input_tokens AS cc,
       c.time_to_first_token_ms AS ttft
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname = 'nulls' AND m.version = 'explicit' ORDER BY c.id;
-- All NULL.
SELECT pg_temp.try('SELECT record_ai_call(NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::integer, NULL::integer,
                                  NULL::integer, NULL::numeric, NULL::integer, NULL::text, NULL::text, NULL::uuid,
                                  NULL::jsonb, NULL::integer, NULL::integer, NULL::integer)::text', true);
-- The seed's form (7 arguments).
CREATE TEMP TABLE metrics_args (pos int, name text, type text, value text);
INSERT INTO metrics_args VALUES
    (1, 'modelname', 'text', '''nulls'''), (2, 'version', 'text', '''metrics'''),
    (3, 'prompt', 'text', '''p'''), (4, 'response', 'jsonb', '''{"usage": {"prompt_tokens": 99}}'''),
    (5, 'metrics', 'jsonb', '''{"input_tokens": 10, "output_tokens": 5, "status": "error"}'''),
    (6, 'call_type', 'text', '''chat'''), (7, 'user_id', 'uuid', '''00000000-0000-0000-0000-000000000001''');
SELECT e.pos, e.name,
       pg_temp.try(format('SELECT record_ai_call(%s)::text',
                  (SELECT string_agg(CASE WHEN a.pos = e.pos THEN 'NULL::' || a.type ELSE a.value || '::' || a.type END,
                                     ', ' ORDER BY a.pos) FROM metrics_args a)), true) AS result
  FROM metrics_args e ORDER BY e.pos;
SELECT c.id, c.prompt, c.input_tokens AS inp, c.output_tokens AS outp, c.status, c.call_type,
       c.user_id IS NOT NULL AS has_user, c.extra::text
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname = 'nulls' AND m.version = 'metrics' ORDER BY c.id;
SELECT pg_temp.try('SELECT record_ai_call(NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb, NULL::text, NULL::uuid)::text', true);
-- JSON null inside metrics: "not given", for every key.
SELECT pg_temp.try($$SELECT record_ai_call('nulls', 'metrics', 'p', '{}',
    '{"input_tokens": null, "reasoning_tokens": null, "output_tokens": null, "cost_usd": null,
      "duration_ms": null, "status": null, "extra": null, "cache_read_input_tokens": null,
      "cache_creation_input_tokens": null, "time_to_first_token_ms": null}'::jsonb)::text$$, true);
SELECT status, extra::text, input_tokens, cost_source FROM ai_call ORDER BY id DESC LIMIT 1;
-- record_ai_calls: a NULL argument, JSON null for the whole, for an
-- element, and for each key of an element in turn.
SELECT pg_temp.try('SELECT count(*)::text FROM record_ai_calls(NULL)', true);
SELECT pg_temp.try($$SELECT count(*)::text FROM record_ai_calls('null')$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM record_ai_calls('[null]')$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM record_ai_calls('[{}]')$$, true);
SELECT k, pg_temp.try(format('SELECT count(*)::text FROM record_ai_calls(%L)',
                     jsonb_build_array(jsonb_set(e, ARRAY[k], 'null'))), true)
  FROM (SELECT '{"modelname": "nulls", "version": "batch", "prompt": "p", "response": {},
                 "input_tokens": 10, "reasoning_tokens": 1, "output_tokens": 5, "cost_usd": 0.5,
                 "duration_ms": 100, "call_type": "chat", "status": "error",
                 "user_id": "00000000-0000-0000-0000-000000000001", "extra": {"k": 1},
                 "cache_read_input_tokens": 2, "cache_creation_input_tokens": 3,
                 "time_to_first_token_ms": 20, "created_at": "2025-01-01T00:00:00Z"}'::jsonb AS e) x,
       jsonb_object_keys(e) AS k
 ORDER BY k;
-- What the accepted ones stored: JSON null is "not given" (status
-- success, extra {}, created_at now), except for the response, where it is
-- the JSON value null.
SELECT c.status, c.extra::text, c.response::text, c.created_at = '2025-01-01 00:00+00' AS at_given_time,
       c.input_tokens AS inp, c.output_tokens AS outp, c.cost_usd, c.call_type, c.user_id IS NOT NULL AS has_user,
       count(*)
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id WHERE m.modelname = 'nulls' AND m.version = 'batch'
 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 10 DESC, 1, 2, 3, 4;
-- ai_usage_stats (7 arguments): every NULL means "no filter", "totals"
-- (group_by) or "UTC" (tz).
SELECT pos, pg_temp.try(format('SELECT string_agg(calls::text, '','') FROM ai_usage_stats(%s)',
                       (SELECT string_agg(CASE WHEN a.pos = p.pos THEN 'NULL::' || a.type ELSE a.value END, ', ' ORDER BY a.pos)
                          FROM (VALUES (1, 'timestamptz', '''-infinity''::timestamptz'),
                                       (2, 'timestamptz', '''infinity''::timestamptz'),
                                       (3, 'text[]', '''{}''::text[]'), (4, 'text', '''nulls'''),
                                       (5, 'text', '''chat'''), (6, 'uuid', '''00000000-0000-0000-0000-000000000001''::uuid'),
                                       (7, 'text', '''UTC''')) AS a(pos, type, value))), true) AS calls
  FROM generate_series(1, 7) AS p(pos);
SELECT pg_temp.try('SELECT calls::text FROM ai_usage_stats(NULL, NULL, NULL, NULL, NULL, NULL, NULL)', true) AS all_null;
SELECT count(*)::text AS calls FROM ai_call;
SELECT pg_temp.try($$SELECT count(*)::text FROM ai_usage_stats(group_by => ARRAY[NULL]::text[])$$, true);
SELECT pg_temp.try($$SELECT count(*)::text FROM ai_usage_stats(group_by => '{}', tz => '')$$, true);
-- ai_load_prices(prices, valid_from, source).
SELECT pg_temp.try('SELECT string_agg(model || '' '' || action, '', '') FROM ai_load_prices(NULL)', true);
SELECT pg_temp.try('SELECT string_agg(model || '' '' || action, '', '') FROM ai_load_prices(NULL, NULL, NULL)', true);
SELECT pg_temp.try($$SELECT string_agg(model || ' ' || action, ', ') FROM ai_load_prices('{"nulls": {"input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}}', NULL, NULL)$$, true);
SELECT model, valid_from, source IS NULL AS source_null FROM ai_model_price WHERE model = 'nulls';
SELECT pg_temp.try($$SELECT string_agg(model || ' ' || action, ', ' ORDER BY model) FROM ai_load_prices('{"a": null, "b": {"input_cost_per_token": null, "output_cost_per_token": 1}, "c": {"input_cost_per_token": 1, "output_cost_per_token": 1, "cache_read_input_token_cost": null}}')$$, true);
SELECT pg_temp.try($$SELECT string_agg(model || ' ' || action, ', ') FROM ai_load_prices('null')$$, true);
SELECT pg_temp.try($$SELECT string_agg(model || ' ' || action, ', ') FROM ai_load_prices('[]')$$, true);
SELECT pg_temp.try($$SELECT string_agg(model || ' ' || action, ', ') FROM ai_load_prices('{"x''; DROP TABLE ai_call; --": {"input_cost_per_token": 1e-6, "output_cost_per_token": -1e-6}}')$$, true);
-- ai_reprice(since, until, dry_run).
SELECT pg_temp.try('SELECT calls_checked::text FROM ai_reprice(NULL, NULL)', true);
SELECT pg_temp.try('SELECT calls_checked::text FROM ai_reprice(NULL, NULL, NULL)', true);
SELECT pg_temp.try('SELECT calls_checked::text FROM ai_reprice(NULL, now())', true);
SELECT pg_temp.try($$SELECT calls_checked::text FROM ai_reprice('infinity', '-infinity')$$, true);
-- ai_price_at(modelname, version, at): the price, or NULL.
SELECT pg_temp.try($$SELECT (ai_price_at('nulls', 'v', now())).input_usd_per_mtok::text$$, true);
SELECT pg_temp.try($$SELECT ai_price_at(NULL, 'v', now())::text$$, true);
SELECT pg_temp.try($$SELECT ai_price_at('nulls', NULL, now())::text$$, true);
SELECT pg_temp.try($$SELECT ai_price_at('nulls', 'v', NULL)::text$$, true);
SELECT pg_temp.try($$SELECT ai_price_at(NULL, NULL, NULL)::text$$, true);
-- ai_cost(price, input, cache_read, cache_creation, output, reasoning):
-- NULL price, or unknown input or output, is an unknown cost; unknown cache
-- or reasoning counts count as 0.
SELECT pos, pg_temp.try(format('SELECT ai_cost(%s)::text',
                       (SELECT string_agg(CASE WHEN a.pos = p.pos THEN 'NULL' ELSE a.value END, ', ' ORDER BY a.pos)
                          FROM (VALUES (1, $$ai_price_at('nulls', 'v', now())$$), (2, '1000000'), (3, '100000'),
                                       (4, '0'), (5, '1000000'), (6, '10')) AS a(pos, value))), true) AS cost
  FROM generate_series(0, 6) AS p(pos);
SELECT pg_temp.try('SELECT ai_cost(NULL, NULL, NULL, NULL, NULL, NULL)::text', true);
-- A price row with NULL rates, or negative and overflowing counts.
-- (Built with jsonb_populate_record, so that it stays a row of every version's ai_model_price.)
SELECT pg_temp.try($$SELECT ai_cost(jsonb_populate_record(NULL::ai_model_price, '{"model": "x"}'), 1, 0, 0, 1, 0)::text$$, true);
SELECT pg_temp.try($$SELECT ai_cost(ai_price_at('nulls', 'v', now()), -1, 0, 0, 1, 0)::text$$, true);
SELECT pg_temp.try($$SELECT ai_cost(ai_price_at('nulls', 'v', now()), 2147483647, 2147483647, 2147483647, 2147483647, 2147483647)::text$$, true);
SELECT pg_temp.try($$SELECT ai_cost(ai_price_at('nulls', 'v', now()), 2147483647, 0, 0, 2147483647, 0)::text$$, true);

-- aitrack's triggers put on a copy of its tables (what Citus does to each
-- shard of a distributed or reference table) refuse, naming the copy: there
-- they would count the calls into nothing.  Nothing is written.
CREATE TABLE ai_call_102008 (LIKE ai_call INCLUDING DEFAULTS);
CREATE TRIGGER ai_call_rollup_insert AFTER INSERT ON ai_call_102008
    REFERENCING NEW TABLE AS aitrack_new FOR EACH STATEMENT EXECUTE FUNCTION ai_rollup_capture();
SELECT count(*) AS rollup_rows_before FROM ai_usage_rollup \gset
SELECT pg_temp.try($$INSERT INTO ai_call_102008 (model_id, prompt, response, cost_usd)
                     SELECT id, 'copied', '{}', 1 FROM ai_model LIMIT 1$$);
SELECT count(*) AS copy_rows, (SELECT count(*) FROM ai_usage_rollup) = :rollup_rows_before AS rollups_unchanged
  FROM ai_call_102008;
DROP TRIGGER ai_call_rollup_insert ON ai_call_102008;
CREATE TRIGGER ai_call_budget_count AFTER INSERT ON ai_call_102008
    REFERENCING NEW TABLE AS aitrack_new FOR EACH STATEMENT EXECUTE FUNCTION ai_budget_count_calls();
SELECT pg_temp.try($$INSERT INTO ai_call_102008 (model_id, prompt, response) SELECT id, 'copied', '{}' FROM ai_model LIMIT 1$$);
DROP TABLE ai_call_102008;
CREATE TABLE ai_model_102009 (LIKE ai_model INCLUDING DEFAULTS);
INSERT INTO ai_model_102009 (id, modelname, version) VALUES (1, 'copied', 'v');
CREATE TRIGGER ai_model_delete_calls AFTER DELETE ON ai_model_102009
    REFERENCING OLD TABLE AS aitrack_old FOR EACH STATEMENT EXECUTE FUNCTION ai_model_delete_calls();
SELECT pg_temp.try($$DELETE FROM ai_model_102009$$);
DROP TABLE ai_model_102009;
-- (and on a table of the same name in another schema)
CREATE SCHEMA copies;
CREATE TABLE copies.ai_call (LIKE ai_call INCLUDING DEFAULTS);
CREATE TRIGGER ai_call_rollup_insert AFTER INSERT ON copies.ai_call
    REFERENCING NEW TABLE AS aitrack_new FOR EACH STATEMENT EXECUTE FUNCTION ai_rollup_capture();
SELECT pg_temp.try($$INSERT INTO copies.ai_call (model_id, prompt, response) SELECT id, 'copied', '{}' FROM ai_model LIMIT 1$$);
DROP SCHEMA copies CASCADE;

-- Still there, still answering.
SELECT to_regclass('ai_call') IS NOT NULL AS ai_call_there, (SELECT count(*) > 0 FROM ai_call) AS has_calls,
       (SELECT sum(calls) FROM ai_usage_stats(group_by => '{}')) = (SELECT count(*) FROM ai_call) AS stats_agree;
SELECT 1;

SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
