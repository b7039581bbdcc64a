-- A hostile search_path: an unprivileged role fills a schema with
-- look-alike operators and functions and puts it first.  Installing the
-- extension and calling every function with that search_path runs none of
-- them (each one would raise "hijacked").
CREATE ROLE regress_aitrack_evil;
SELECT current_database() AS db \gset
GRANT CREATE ON DATABASE :"db" TO regress_aitrack_evil;
SET ROLE regress_aitrack_evil;
CREATE SCHEMA evil;
CREATE FUNCTION evil.hijacked_text_cmp(text, text) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: text operator'; END $$;
CREATE FUNCTION evil.hijacked_int8_cmp(bigint, bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: bigint operator'; END $$;
CREATE FUNCTION evil.hijacked_ts_cmp(timestamptz, timestamptz) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: timestamptz operator'; END $$;
CREATE FUNCTION evil.hijacked_uuid_cmp(uuid, uuid) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: uuid operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.hijacked_text_cmp);
CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.hijacked_text_cmp);
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_cmp);
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.hijacked_uuid_cmp);
CREATE OPERATOR evil.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.hijacked_ts_cmp);
CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.hijacked_ts_cmp);
CREATE OPERATOR evil.<= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.hijacked_ts_cmp);
CREATE OPERATOR evil.> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.hijacked_ts_cmp);
CREATE FUNCTION evil.hijacked_concat(text, text) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: || operator'; END $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.hijacked_concat);
CREATE FUNCTION evil.trim_scale(numeric) RETURNS numeric
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: trim_scale()'; END $$;
CREATE FUNCTION evil.jsonb_each(jsonb, OUT key text, OUT value jsonb) RETURNS SETOF record
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb_each()'; END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: now()'; END $$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: nextval()'; END $$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb_typeof()'; END $$;
CREATE FUNCTION evil.char_length(text) RETURNS integer
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: char_length()'; END $$;
CREATE FUNCTION evil.date_trunc(text, timestamptz, text) RETURNS timestamptz
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: date_trunc()'; END $$;
CREATE FUNCTION evil.coalesce_sfunc(bigint, integer) RETURNS bigint
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: sum()'; END $$;
CREATE AGGREGATE evil.sum(integer) (SFUNC = evil.coalesce_sfunc, STYPE = bigint);
CREATE FUNCTION evil.count_sfunc(bigint) RETURNS bigint
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: count()'; END $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_sfunc, STYPE = bigint);
CREATE FUNCTION evil.pg_extension_config_dump(regclass, text) RETURNS void
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: pg_extension_config_dump()'; END $$;
RESET ROLE;

-- The look-alikes are live: unqualified SQL under this path runs them.
SET search_path = evil, public, pg_catalog;
SELECT 'a'::text = 'b'::text;
SELECT now();

-- Install, record in both shapes, read every grouping and filter.
CREATE EXTENSION aitrack SCHEMA public;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{"text": "hi"}', input_tokens => 5,
                      cost_usd => 0.25, duration_ms => 10, call_type => 'chat',
                      user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS id;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}', '{"input_tokens": 7, "status": "error"}'::jsonb,
                      'chat', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS id;
SELECT modelname, version, call_type, status, user_id, calls, errors, input_tokens, cost_usd
  FROM ai_usage_stats(since => '2000-01-01', until => '2100-01-01',
                      group_by => '{day,model,call_type,status,user}',
                      modelname => 'gpt-4o', call_type => 'chat',
                      user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
-- 1.1: prices loaded, a call priced automatically from its response's
-- usage, the price looked up, and a reprice.
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025,
                                          "output_cost_per_token": 0.00001}}');
SELECT record_ai_call('gpt-4o', 'v1', 'p',
                      '{"usage": {"prompt_tokens": 100, "completion_tokens": 10}}') AS id \gset
SELECT input_tokens, output_tokens, cost_usd, cost_source FROM ai_call WHERE id = :id;
SELECT model, input_usd_per_mtok FROM ai_price_at('gpt-4o', 'v1', pg_catalog.now());
SELECT calls_checked, calls_changed FROM ai_reprice(NULL, NULL, false);
-- The updated_at trigger (PL/pgSQL, search_path pinned) and the cascade.
UPDATE ai_call SET call_type = 'chat2';
DELETE FROM ai_model;
SELECT record_ai_call('gpt-4o', 'v1', 'p', '{}') > 0 AS recorded;

RESET search_path;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
RESET client_min_messages;
REVOKE CREATE ON DATABASE :"db" FROM regress_aitrack_evil;
DROP ROLE regress_aitrack_evil;
