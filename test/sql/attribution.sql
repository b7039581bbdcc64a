--
-- 1.7: attribution (project, api_key, tags, conversation_id) and the trace
-- (trace_id, span_id, parent_span_id) in every form of record_ai_call()
-- and in record_ai_calls(); src/validate.c's rules, and the CHECKs that a
-- plain INSERT meets.
--
CREATE EXTENSION aitrack;

-- pg_temp.try(), shared by the tests that show error messages.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql

-- A plain INSERT's error without the failing row (which holds now()).
CREATE FUNCTION pg_temp.try_insert(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; msg text;
BEGIN
    EXECUTE call;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN state || ': ' || msg;
END $$;

CREATE VIEW attribution AS
SELECT c.id, c.project, c.api_key, c.tags, c.trace_id, c.span_id, c.parent_span_id,
       c.conversation_id
  FROM ai_call c;

--
-- Every new field, in each form.
--
-- The explicit form, by name: tags lose their duplicates (the first of each
-- stays, in order), the ids are stored lowercase.
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}',
                      project => 'checkout', api_key => 'prod-backend',
                      tags => ARRAY['beta', 'eu', 'beta', 'mobile', 'eu'],
                      trace_id => '4BF92F3577B34DA6A3CE929D0E0E4736',
                      span_id => '00F067AA0BA902B7', parent_span_id => '53995c3f42cd8ad8',
                      conversation_id => 'conv-42') AS id;
-- ... and by position: the new arguments follow 1.5's, in this order.
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', NULL, NULL, NULL, NULL, NULL, NULL,
                      'success', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                      NULL, NULL, NULL, NULL, NULL, NULL,
                      'search', 'key-2', '{solo}', '0af7651916cd43dd8448eb211c80319c',
                      'b7ad6b7169203331', NULL, 'thread 7') AS id;
-- The metrics jsonb form: tags as a JSON array of strings.
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}',
                      '{"input_tokens": 10, "output_tokens": 2, "project": "checkout",
                        "api_key": "prod-backend", "tags": ["beta", "beta", "café"],
                        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                        "span_id": "00f067aa0ba902b8", "parent_span_id": "00F067AA0BA902B7",
                        "conversation_id": "conv-42"}'::jsonb) AS id;
-- The metrics JSON text form (what an untyped fifth argument resolves to).
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}',
                      '{"project": "search", "api_key": "key-3", "tags": ["a"],
                        "trace_id": "0AF7651916CD43DD8448EB211C80319C",
                        "span_id": "B7AD6B7169203332", "conversation_id": "thread 7"}'::text) AS id;
-- JSON null means "not given", as for every other key.
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}',
                      '{"project": null, "tags": null, "trace_id": null}'::jsonb) AS id;
-- A batch: each element takes the same keys.
SELECT * FROM record_ai_calls('[
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null,
   "project": "batch", "api_key": "key-4", "tags": ["x", "y", "x", "z"],
   "trace_id": "5bf92f3577b34da6a3ce929d0e0e4736", "span_id": "10f067aa0ba902b7",
   "parent_span_id": "20f067aa0ba902b7", "conversation_id": "c-1"},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null,
   "tags": ["only"]},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null}]');

-- In a batch the tags travel as their array's text form: every character
-- a tag may hold comes back as given (the string NULL is no NULL).
SELECT * FROM record_ai_calls($$[{"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null,
                                  "tags": ["a,b", "c\"d", "e\\f", "{g}", " h ", "NULL", "é ü", "a,b"]}]$$);
SELECT tags, tags = ARRAY['a,b', 'c"d', 'e\f', '{g}', ' h ', 'NULL', 'é ü'] AS as_given,
       tags[6] IS NULL AS null_element
  FROM ai_call ORDER BY id DESC LIMIT 1;

SELECT * FROM attribution ORDER BY id;

-- The stored arrays are plain one-dimensional text[] from 1, as written.
SELECT id, array_lower(tags, 1), array_ndims(tags), cardinality(tags)
  FROM ai_call WHERE tags IS NOT NULL ORDER BY id;

--
-- What passes at the edges.
--
-- A hash of a key is a fine api_key (64 hex digits); so is a label that
-- merely contains a secret prefix later on.
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}',
                       api_key => encode(sha256(convert_to('sk-proj-abc123', 'UTF8')), 'hex'))$$);
SELECT api_key, length(api_key) FROM ai_call ORDER BY id DESC LIMIT 1;
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', api_key => 'my-sk-key')$$);
-- Lengths are in characters, not bytes: 200 two-byte characters pass.
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', project => %L)$$,
                          repeat('é', 200)));
-- 64 tags of 100 characters pass; 65 given that are 64 after duplicates go, too.
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => %L)$$,
                          (SELECT array_agg(lpad(i::text, 100, 'é')) FROM generate_series(1, 64) i)));
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => %L)$$,
                          (SELECT array_agg(i::text) || '{1}'::text[] FROM generate_series(1, 64) i)));
SELECT cardinality(tags) FROM ai_call ORDER BY id DESC LIMIT 1;
-- A tag array with another lower bound is stored from 1.
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => '[0:1]={a,b}')$$);
SELECT tags, array_lower(tags, 1) FROM ai_call ORDER BY id DESC LIMIT 1;

--
-- Refusals: each with its message.
--
-- Labels (project, api_key, conversation_id): 1 to 200 characters, no
-- control character.
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', project => %L)$$,
                          repeat('é', 201)));
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', api_key => %L)$$,
                          repeat('k', 201)));
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', conversation_id => %L)$$,
                          repeat('c', 201)));
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', project => '')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', conversation_id => '')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', project => E'check\tout')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', api_key => E'key\n')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', conversation_id => E'é\u0085')$$);
-- api_key: never a secret.  The value is not echoed.
SELECT p, pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', api_key => %L)$$,
                             p || 'abcdef0123456789'))
  FROM unnest(ARRAY['sk-', 'sk-proj-', 'sk-ant-api03-', 'sk_live_', 'rk_live_', 'AIza',
                    'xai-', 'gsk_', 'hf_']) p;
-- tags
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => %L)$$,
                          (SELECT array_agg(i::text) FROM generate_series(1, 65) i)));
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => ARRAY['a', NULL])$$);
SELECT pg_temp.try(format($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => ARRAY['a', %L])$$,
                          repeat('t', 101)));
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => ARRAY['a', ''])$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => ARRAY['a', E'b\nc'])$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => '{}')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', tags => '{{a,b},{c,d}}')$$);
-- trace ids: 32 and 16 hex digits, not all zeros; a span needs its trace.
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6a3ce929d0e0e473')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6a3ce929d0e0e4736a')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6-3ce929d0e0e4736')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6a3ce929d0e0e473g')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '00000000000000000000000000000000')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6a3ce929d0e0e4736',
                                           span_id => '00f067aa0ba902b')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6a3ce929d0e0e4736',
                                           span_id => '0000000000000000')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', trace_id => '4bf92f3577b34da6a3ce929d0e0e4736',
                                           parent_span_id => '0000000000000000')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', span_id => '00f067aa0ba902b7')$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', parent_span_id => '00f067aa0ba902b7')$$);
-- The JSON forms: a wrong JSON type, or an element that is not a string.
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tags": "beta"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tags": {"a": 1}}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tags": ["a", 1]}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tags": ["a", null]}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tags": ["a", ["b"]]}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tags": []}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"project": 7}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"trace_id": 1234}'::text)$$);
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"api_key": "sk-abc"}'::text)$$);
-- An unknown key's hint lists the new keys.
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"tag": ["a"]}'::jsonb)$$);
SELECT pg_temp.try($$SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "v", "prompt": "",
                                                      "response": null, "projects": "a"}]')$$);

-- A batch with one bad element writes nothing; the error names the element.
CREATE TEMP TABLE before AS SELECT count(*) AS calls FROM ai_call;
\set VERBOSITY default
SELECT * FROM record_ai_calls('[
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null, "project": "ok"},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null, "tags": ["a", 2]},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null, "project": "ok"}]');
SELECT * FROM record_ai_calls('[
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null, "project": "ok"},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null, "project": "ok"},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "", "response": null,
   "span_id": "00f067aa0ba902b7"}]');
SELECT (SELECT count(*) FROM ai_call) = b.calls AS nothing_written FROM before b;

--
-- A plain INSERT meets the CHECKs: each refused, by its constraint.
--
CREATE TEMP TABLE one_model AS SELECT id FROM ai_model LIMIT 1;
SELECT col, val, pg_temp.try_insert(format(
         'INSERT INTO ai_call (model_id, prompt, response, %I) SELECT id, %L, %L, %L::%s FROM one_model',
         col, 'p', '{}', val, CASE WHEN col = 'tags' THEN 'text[]' ELSE 'text' END))
  FROM (VALUES ('project', ''), ('project', repeat('p', 201)), ('project', E'a\tb'),
               ('api_key', 'sk-abc'), ('api_key', E'a\nb'),
               ('conversation_id', repeat('c', 201)),
               ('tags', '{}'), ('tags', '{a,NULL}'), ('tags', '{{a},{b}}'), ('tags', '{""}'),
               ('tags', format('{%s}', repeat('t', 101))), ('tags', E'{"a\tb"}'),
               ('tags', (SELECT array_agg(i)::text FROM generate_series(1, 65) i)),
               ('trace_id', '4BF92F3577B34DA6A3CE929D0E0E4736'),
               ('trace_id', '00000000000000000000000000000000'),
               ('span_id', '00F067AA0BA902B7'), ('span_id', '0000000000000000'),
               ('parent_span_id', '00f067aa0ba902b'), ('parent_span_id', '0000000000000000'))
       AS t(col, val);
-- A tag holding a newline (the CHECK joins the tags with newlines and
-- matches the whole, so it first checks that no tag holds a control
-- character).
SELECT pg_temp.try_insert($$INSERT INTO ai_call (model_id, prompt, response, tags)
                            SELECT id, 'p', '{}', ARRAY[E'a\nb'] FROM one_model$$);
-- ... and what passes the CHECKs there (a span without a trace is only
-- refused by record_ai_call(), as the other rules beyond the CHECKs are).
SELECT pg_temp.try_insert($$INSERT INTO ai_call (model_id, prompt, response, project, api_key, tags,
                                                 trace_id, span_id, parent_span_id, conversation_id)
                            SELECT id, 'p', '{}', 'proj', 'label', '{a,b}',
                                   '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7',
                                   '00f067aa0ba902b8', 'conv' FROM one_model$$);
SELECT pg_temp.try_insert($$INSERT INTO ai_call (model_id, prompt, response, span_id)
                            SELECT id, 'p', '{}', '00f067aa0ba902b7' FROM one_model$$);

--
-- A 1.6 database keeps 1.6's behaviour (the *_1_5 entry points): the new
-- keys are unknown there.  The update to 1.7 brings them, and the explicit
-- form's grants carry over to its new signature.
--
DROP VIEW attribution;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
CREATE EXTENSION aitrack VERSION '1.6';
CREATE ROLE regress_aitrack_attribution;
GRANT EXECUTE ON FUNCTION record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)
    TO regress_aitrack_attribution;
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"project": "a"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT * FROM record_ai_calls('[{"modelname": "m", "version": "v", "prompt": "",
                                                      "response": null, "tags": ["a"]}]')$$);
ALTER EXTENSION aitrack UPDATE TO '1.7';
SELECT has_function_privilege('regress_aitrack_attribution',
         'record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)',
         'EXECUTE') AS granted,
       has_function_privilege('public',
         'record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)',
         'EXECUTE') AS public_may;
SELECT to_regprocedure('record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)') AS old_form;
SELECT pg_temp.try($$SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"project": "a", "tags": ["t"]}'::jsonb)::text$$, true);
SELECT project, tags FROM ai_call ORDER BY id DESC LIMIT 1;

DROP EXTENSION aitrack;
DROP ROLE regress_aitrack_attribution;
