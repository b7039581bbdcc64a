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
-- More look-alikes, for what the upgrade scripts, the procedures, the
-- triggers and the C code's queries use: arithmetic and comparisons on the
-- other types, aggregates, functions, the transition table names and the
-- extension's own function names.
CREATE FUNCTION evil.hijacked_int8_op(bigint, bigint) RETURNS bigint
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: bigint arithmetic'; END $$;
CREATE OPERATOR evil.+ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_op);
CREATE OPERATOR evil.- (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_op);
CREATE OPERATOR evil.* (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_op);
CREATE OPERATOR evil./ (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_op);
CREATE FUNCTION evil.hijacked_int8_neg(bigint) RETURNS bigint
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: unary minus on bigint'; END $$;
CREATE OPERATOR evil.- (RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_neg);
CREATE OPERATOR evil.<> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_cmp);
CREATE OPERATOR evil.< (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_cmp);
CREATE OPERATOR evil.<= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_cmp);
CREATE OPERATOR evil.> (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_cmp);
CREATE OPERATOR evil.>= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.hijacked_int8_cmp);
CREATE FUNCTION evil.hijacked_int84_cmp(bigint, integer) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: bigint-integer operator'; END $$;
CREATE OPERATOR evil.< (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.hijacked_int84_cmp);
CREATE OPERATOR evil.<= (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.hijacked_int84_cmp);
CREATE FUNCTION evil.hijacked_int4_op(integer, integer) RETURNS integer
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: integer arithmetic'; END $$;
CREATE OPERATOR evil.+ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_op);
CREATE OPERATOR evil.- (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_op);
CREATE OPERATOR evil.* (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_op);
CREATE OPERATOR evil./ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_op);
CREATE FUNCTION evil.hijacked_int4_cmp(integer, integer) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: integer operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_cmp);
CREATE OPERATOR evil.<> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_cmp);
CREATE OPERATOR evil.< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_cmp);
CREATE OPERATOR evil.<= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_cmp);
CREATE OPERATOR evil.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_cmp);
CREATE OPERATOR evil.>= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.hijacked_int4_cmp);
CREATE FUNCTION evil.hijacked_numeric_op(numeric, numeric) RETURNS numeric
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: numeric arithmetic'; END $$;
CREATE OPERATOR evil.+ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_op);
CREATE OPERATOR evil.- (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_op);
CREATE OPERATOR evil.* (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_op);
CREATE OPERATOR evil./ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_op);
CREATE FUNCTION evil.hijacked_numeric_neg(numeric) RETURNS numeric
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: unary minus on numeric'; END $$;
CREATE OPERATOR evil.- (RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_neg);
CREATE FUNCTION evil.hijacked_numeric_cmp(numeric, numeric) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: numeric operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_cmp);
CREATE OPERATOR evil.<> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_cmp);
CREATE OPERATOR evil.< (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_cmp);
CREATE OPERATOR evil.<= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_cmp);
CREATE OPERATOR evil.> (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_cmp);
CREATE OPERATOR evil.>= (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = evil.hijacked_numeric_cmp);
CREATE FUNCTION evil.hijacked_bool_cmp(boolean, boolean) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: boolean operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = boolean, RIGHTARG = boolean, FUNCTION = evil.hijacked_bool_cmp);
CREATE OPERATOR evil.<> (LEFTARG = boolean, RIGHTARG = boolean, FUNCTION = evil.hijacked_bool_cmp);
CREATE OPERATOR evil.<> (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.hijacked_uuid_cmp);
CREATE OPERATOR evil.= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.hijacked_ts_cmp);
CREATE OPERATOR evil.<> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.hijacked_ts_cmp);
CREATE FUNCTION evil.hijacked_ts_plus(timestamptz, interval) RETURNS timestamptz
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: timestamptz + interval'; END $$;
CREATE OPERATOR evil.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = evil.hijacked_ts_plus);
CREATE FUNCTION evil.hijacked_jsonb_cmp(jsonb, jsonb) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.hijacked_jsonb_cmp);
CREATE OPERATOR evil.<> (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.hijacked_jsonb_cmp);
CREATE FUNCTION evil.hijacked_jsonb_concat(jsonb, jsonb) RETURNS jsonb
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb ||'; END $$;
CREATE OPERATOR evil.|| (LEFTARG = jsonb, RIGHTARG = jsonb, FUNCTION = evil.hijacked_jsonb_concat);
CREATE FUNCTION evil.hijacked_jsonb_get(jsonb, text) RETURNS jsonb
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb ->'; END $$;
CREATE OPERATOR evil.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.hijacked_jsonb_get);
CREATE FUNCTION evil.hijacked_jsonb_get_text(jsonb, text) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb ->>'; END $$;
CREATE OPERATOR evil.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.hijacked_jsonb_get_text);
CREATE FUNCTION evil.hijacked_jsonb_exists(jsonb, text) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: jsonb ?'; END $$;
CREATE OPERATOR evil.? (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.hijacked_jsonb_exists);
CREATE FUNCTION evil.hijacked_oid_cmp(oid, oid) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: oid operator'; END $$;
CREATE OPERATOR evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.hijacked_oid_cmp);
CREATE OPERATOR evil.<> (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.hijacked_oid_cmp);
CREATE FUNCTION evil.hijacked_array_concat(anycompatiblearray, anycompatiblearray)
    RETURNS anycompatiblearray
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: array ||'; END $$;
CREATE OPERATOR evil.|| (LEFTARG = anycompatiblearray, RIGHTARG = anycompatiblearray,
                         FUNCTION = evil.hijacked_array_concat);
-- Aggregates.
CREATE FUNCTION evil.agg_sfunc(bigint, anyelement) RETURNS bigint
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: aggregate'; END $$;
CREATE AGGREGATE evil.count(integer) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.count(bigint) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.count(numeric) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.count(timestamptz) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.sum(bigint) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.sum(numeric) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.avg(integer) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.min(timestamptz) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.max(timestamptz) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.bool_or(boolean) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.bool_and(boolean) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE AGGREGATE evil.array_agg(bigint) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE FUNCTION evil.pct_final(bigint, double precision[], double precision)
    RETURNS double precision[]
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: percentile_cont()'; END $$;
CREATE AGGREGATE evil.percentile_cont(double precision[] ORDER BY double precision)
    (SFUNC = evil.agg_sfunc, STYPE = bigint, FINALFUNC = evil.pct_final, FINALFUNC_EXTRA,
     INITCOND = '0');
-- Functions.
CREATE FUNCTION evil.date_trunc(text, timestamptz) RETURNS timestamptz
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: date_trunc()'; END $$;
CREATE FUNCTION evil.date_part(text, timestamptz) RETURNS double precision
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: date_part()'; END $$;
CREATE FUNCTION evil.timezone(text, timestamptz) RETURNS timestamp
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: timezone()'; END $$;
CREATE FUNCTION evil.isfinite(timestamptz) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: isfinite()'; END $$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: unnest()'; END $$;
CREATE FUNCTION evil.hashtext(text) RETURNS integer
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: hashtext()'; END $$;
CREATE FUNCTION evil.pg_try_advisory_xact_lock(bigint) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: pg_try_advisory_xact_lock()'; END $$;
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: set_config()'; END $$;
CREATE FUNCTION evil.format(text, text) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: format()'; END $$;
CREATE FUNCTION evil.left(text, integer) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: left()'; END $$;
CREATE FUNCTION evil.tstzrange(timestamptz, timestamptz) RETURNS tstzrange
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: tstzrange()'; END $$;
CREATE FUNCTION evil.makeaclitem(oid, oid, text, boolean) RETURNS aclitem
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: makeaclitem()'; END $$;
CREATE FUNCTION evil.aclexplode(aclitem[], OUT grantor oid, OUT grantee oid,
                                OUT privilege_type text, OUT is_grantable boolean)
    RETURNS SETOF record
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: aclexplode()'; END $$;
-- The extension's own names: its queries and procedures qualify them, and
-- the policies hold the functions themselves, not their names.
CREATE FUNCTION evil.ai_hist_of(integer, integer) RETURNS integer[]
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ai_hist_of()'; END $$;
CREATE FUNCTION evil.ai_hist_add(integer[], integer[]) RETURNS integer[]
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ai_hist_add()'; END $$;
CREATE FUNCTION evil.ai_hist_percentile(integer[], double precision) RETURNS double precision
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ai_hist_percentile()'; END $$;
CREATE AGGREGATE evil.ai_hist_merge(integer[]) (SFUNC = evil.agg_sfunc, STYPE = bigint);
CREATE FUNCTION evil.ai_tenant_mode() RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ai_tenant_mode()'; END $$;
CREATE FUNCTION evil.ai_tenant_user_id() RETURNS uuid
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: ai_tenant_user_id()'; END $$;
-- The names of the rollup trigger's transition tables.
CREATE TABLE evil.aitrack_new ();
CREATE TABLE evil.aitrack_old ();
RESET ROLE;

-- The look-alikes are live: unqualified SQL under this path runs them.
SET search_path = evil, public, pg_catalog;
SELECT 'a'::text = 'b'::text;
SELECT now();
-- Each of the others too: one NOTICE per statement, with what it raised.
DO $$
DECLARE
    stmt text;
BEGIN
    FOREACH stmt IN ARRAY ARRAY[
        'SELECT 1::bigint + 1::bigint', 'SELECT 1::bigint - 1::bigint',
        'SELECT 1::bigint * 1::bigint', 'SELECT 1::bigint / 1::bigint', 'SELECT - 1::bigint',
        'SELECT 1::bigint = 1::bigint', 'SELECT 1::bigint <> 1::bigint',
        'SELECT 1::bigint < 1::bigint', 'SELECT 1::bigint <= 1::bigint',
        'SELECT 1::bigint > 1::bigint', 'SELECT 1::bigint >= 1::bigint',
        'SELECT 1::bigint < 1', 'SELECT 1::bigint <= 1',
        'SELECT 1 + 1', 'SELECT 1 - 1', 'SELECT 1 * 1', 'SELECT 1 / 1',
        'SELECT 1 = 1', 'SELECT 1 <> 1', 'SELECT 1 < 1', 'SELECT 1 <= 1', 'SELECT 1 > 1', 'SELECT 1 >= 1',
        'SELECT 1.5 + 1.5', 'SELECT 1.5 - 1.5', 'SELECT 1.5 * 1.5', 'SELECT 1.5 / 1.5', 'SELECT - x FROM (VALUES (1.5)) v(x)',
        'SELECT 1.5 = 1.5', 'SELECT 1.5 <> 1.5', 'SELECT 1.5 < 1.5', 'SELECT 1.5 <= 1.5',
        'SELECT 1.5 > 1.5', 'SELECT 1.5 >= 1.5',
        'SELECT true = false', 'SELECT true <> false',
        'SELECT ''a'' <> ''b''::text', 'SELECT ''a''::text || ''b''::text',
        'SELECT gen_random_uuid() = gen_random_uuid()', 'SELECT gen_random_uuid() <> gen_random_uuid()',
        'SELECT ''epoch''::timestamptz = ''epoch''', 'SELECT ''epoch''::timestamptz <> ''epoch''',
        'SELECT ''epoch''::timestamptz < ''epoch''', 'SELECT ''epoch''::timestamptz <= ''epoch''',
        'SELECT ''epoch''::timestamptz > ''epoch''', 'SELECT ''epoch''::timestamptz >= ''epoch''',
        'SELECT ''epoch''::timestamptz + interval ''1 hour''',
        'SELECT ''{}''::jsonb = ''{}''', 'SELECT ''{}''::jsonb <> ''{}''',
        'SELECT ''{}''::jsonb || ''{}''::jsonb', 'SELECT ''{}''::jsonb -> ''a''',
        'SELECT ''{}''::jsonb ->> ''a''', 'SELECT ''{}''::jsonb ? ''a''',
        'SELECT 1::oid = 1::oid', 'SELECT 1::oid <> 1::oid',
        'SELECT ARRAY[1] || ARRAY[2]', 'SELECT ''{}''::aclitem[] || ''{}''::aclitem[]',
        'SELECT count(*) FROM pg_class', 'SELECT count(x) FROM (VALUES (1)) v(x)',
        'SELECT count(x) FROM (VALUES (1::bigint)) v(x)', 'SELECT count(x) FROM (VALUES (1.5)) v(x)',
        'SELECT count(x) FROM (VALUES (''epoch''::timestamptz)) v(x)',
        'SELECT sum(x) FROM (VALUES (1)) v(x)', 'SELECT sum(x) FROM (VALUES (1::bigint)) v(x)',
        'SELECT sum(x) FROM (VALUES (1.5)) v(x)', 'SELECT avg(x) FROM (VALUES (1)) v(x)',
        'SELECT min(x) FROM (VALUES (''epoch''::timestamptz)) v(x)',
        'SELECT max(x) FROM (VALUES (''epoch''::timestamptz)) v(x)',
        'SELECT bool_or(x) FROM (VALUES (true)) v(x)', 'SELECT bool_and(x) FROM (VALUES (true)) v(x)',
        'SELECT array_agg(x) FROM (VALUES (1::bigint)) v(x)',
        'SELECT percentile_cont(''{0.5}''::float8[]) WITHIN GROUP (ORDER BY x) FROM (VALUES (1::float8)) v(x)',
        'SELECT date_trunc(''hour'', ''epoch''::timestamptz)',
        'SELECT date_trunc(''hour'', ''epoch''::timestamptz, ''UTC'')',
        'SELECT date_part(''epoch'', ''epoch''::timestamptz)',
        'SELECT timezone(''UTC'', ''epoch''::timestamptz)', 'SELECT isfinite(''epoch''::timestamptz)',
        'SELECT now()', 'SELECT nextval(''pg_class''::regclass)',
        'SELECT trim_scale(1.5)', 'SELECT jsonb_typeof(''{}'')', 'SELECT * FROM jsonb_each(''{}'')',
        'SELECT char_length(''a''::text)', 'SELECT * FROM unnest(ARRAY[1])',
        'SELECT hashtext(''a''::text)', 'SELECT pg_try_advisory_xact_lock(1::bigint)',
        'SELECT set_config(''a.b'', ''c'', true)', 'SELECT format(''%s'', ''a''::text)',
        'SELECT left(''a''::text, 1)', 'SELECT tstzrange(''epoch''::timestamptz, ''infinity''::timestamptz)',
        'SELECT makeaclitem(10, 10, ''SELECT'', false)', 'SELECT * FROM aclexplode(''{}''::aclitem[])',
        'SELECT pg_extension_config_dump(''pg_class''::regclass, '''')',
        'SELECT ai_hist_of(1, 1)', 'SELECT ai_hist_add(''{}''::int[], ''{}''::int[])',
        'SELECT ai_hist_percentile(''{}''::int[], 0.5::float8)',
        'SELECT ai_hist_merge(x) FROM (VALUES (''{}''::int[])) v(x)',
        'SELECT ai_tenant_mode()', 'SELECT ai_tenant_user_id()'
    ] LOOP
        BEGIN
            EXECUTE stmt;
            RAISE NOTICE '%: NOT HIJACKED', stmt;
        EXCEPTION WHEN raise_exception THEN
            RAISE NOTICE '% -> %', stmt, SQLERRM;
        END;
    END LOOP;
END $$;

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

--
-- From the oldest version, with the hostile path in force throughout:
-- install 1.0, record, update step by step to 1.3 (each update script and
-- what it calls runs none of evil's objects), then call every function and
-- procedure of 1.3 and drop the extension.  Names that evil also has
-- (ai_hist_*, ai_tenant_*) are called schema-qualified; comparisons in the
-- test's own queries are qualified or avoid evil's argument types.
--
RESET aitrack.allow_drop;
SET search_path = evil, public, pg_catalog;
SET timezone = 'UTC';
CREATE EXTENSION aitrack VERSION '1.0' SCHEMA public;
SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'aitrack';
-- 1.0: both shapes, then the calls moved to fixed times (the updated_at trigger fires).
SELECT record_ai_call('gpt-4o', 'v1', 'first', '{"text": "a"}', input_tokens => 1000,
                      output_tokens => 200, cost_usd => 0.5, duration_ms => 120,
                      call_type => 'chat', user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS id;
SELECT record_ai_call('gpt-4o', 'v1', 'second', '{"text": "b"}',
                      '{"input_tokens": 10, "output_tokens": 5, "duration_ms": 300, "status": "error"}'::jsonb,
                      'chat', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a22') AS id;
SELECT record_ai_call('claude', '3', 'third', '{"text": "c"}', input_tokens => 50,
                      output_tokens => 7, duration_ms => 45) AS id;
UPDATE ai_call c SET created_at = v.t
  FROM (VALUES (1, '2024-03-01 10:15:00+00'::timestamptz), (2, '2024-03-01 10:45:00+00'),
               (3, '2024-03-01 12:05:00+00')) AS v(id, t)
 WHERE c.id OPERATOR(pg_catalog.=) v.id;
SELECT id, created_at, updated_at OPERATOR(pg_catalog.>) created_at AS touched FROM ai_call ORDER BY id;
SELECT bucket, modelname, version, status, user_id, calls, errors, input_tokens, output_tokens,
       cost_usd, avg_duration_ms, p50_duration_ms, first_call, last_call
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-02',
                      group_by => '{hour,model,status,user}');

-- 1.0 -> 1.1: the costs of the calls recorded are marked provided or unknown.
ALTER EXTENSION aitrack UPDATE TO '1.1';
SELECT id, cost_usd, cost_source FROM ai_call ORDER BY id;
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025,
                                          "output_cost_per_token": 0.00001},
                               "claude-3": {"input_cost_per_token": 0.000003,
                                            "output_cost_per_token": 0.000015,
                                            "cache_read_input_token_cost": 0.0000003},
                               "sample_spec": {"input_cost_per_token": 1}}');
SELECT record_ai_call('claude', '3', 'fourth',
                      '{"usage": {"input_tokens": 400, "output_tokens": 40,
                                  "cache_read_input_tokens": 100}}',
                      duration_ms => 700, time_to_first_token_ms => 90) AS id;
UPDATE ai_call SET created_at = '2024-03-01 12:30:00+00' WHERE id OPERATOR(pg_catalog.=) 4;
SELECT id, input_tokens, cache_read_input_tokens, output_tokens, cost_usd, cost_source
  FROM ai_call WHERE id OPERATOR(pg_catalog.=) 4;
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok
  FROM ai_price_at('claude', '3', '2024-03-01 12:00:00+00');
SELECT ai_cost(ai_price_at('gpt-4o', 'v1', '2024-03-01 12:00:00+00'), 1000, 0, 0, 200, 0) AS cost;
SELECT * FROM ai_reprice('2024-03-01', '2024-03-02');
SELECT modelname, version, calls, cost_usd, cache_read_input_tokens, unpriced_calls,
       avg_time_to_first_token_ms
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-02', group_by => '{model}');

-- 1.1 -> 1.2: the calls recorded are rolled up and compacted.
ALTER EXTENSION aitrack UPDATE TO '1.2';
SELECT r.bucket, m.modelname, r.call_type, r.status, r.user_id, r.pending, r.calls,
       r.cost_usd, r.cost_usd_n, r.latency
  FROM ai_usage_rollup r JOIN ai_model m ON m.id OPERATOR(pg_catalog.=) r.model_id
 ORDER BY r.bucket, m.modelname, r.status;
SELECT * FROM record_ai_calls('[
  {"modelname": "gpt-4o", "version": "v1", "prompt": "fifth", "response": {},
   "input_tokens": 100, "output_tokens": 10, "duration_ms": 80, "call_type": "chat",
   "user_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "created_at": "2024-03-01 11:20:00+00"},
  {"modelname": "gemini", "version": "1.5", "prompt": "sixth",
   "response": {"usage": {"prompt_tokens": 5, "completion_tokens": 1}},
   "status": "timeout", "created_at": "2024-03-02 01:00:00+00"}]');
SELECT bucket, modelname, calls, errors, input_tokens, output_tokens, cost_usd, p50_duration_ms
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-03',
                      group_by => '{day,modelname}', tz => 'Asia/Tokyo');

-- 1.2 -> 1.3.
ALTER EXTENSION aitrack UPDATE TO '1.3';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'aitrack';

-- 1.3: record in both shapes and in a batch.
SELECT record_ai_call('gpt-4o', 'v1', 'seventh', '{"text": "g"}', input_tokens => 300,
                      output_tokens => 30, duration_ms => 250, call_type => 'chat',
                      user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                      cache_read_input_tokens => 100, cache_creation_input_tokens => 20,
                      time_to_first_token_ms => 60) AS id;
SELECT record_ai_call('gemini', '1.5', 'eighth', '{}',
                      '{"input_tokens": 20, "output_tokens": 2, "duration_ms": 5000,
                        "time_to_first_token_ms": 40}'::jsonb, 'tool') AS id;
SELECT * FROM record_ai_calls('[{"modelname": "claude", "version": "3", "prompt": "ninth",
                                 "response": {}, "input_tokens": 60, "output_tokens": 6,
                                 "duration_ms": 33, "created_at": "2024-03-01 12:10:00+00"}]');
-- An UPDATE (the rollup and updated_at triggers) and a DELETE (the rollup trigger).
UPDATE ai_call c SET created_at = v.t, status = v.s
  FROM (VALUES (7, '2024-03-01 13:05:00+00'::timestamptz, 'success'),
               (8, '2024-03-01 13:40:00+00', 'rate_limited')) AS v(id, t, s)
 WHERE c.id OPERATOR(pg_catalog.=) v.id;
DELETE FROM ai_call WHERE id OPERATOR(pg_catalog.=) 6;
SELECT ai_rollup_compact() AS folded;
SELECT ai_rollup_compact() AS folded;
-- Stats: from the rollups summed over users, with partial hours at both
-- ends read raw, in a whole-hour zone; per user; in a half-hour zone (raw).
SELECT bucket, modelname, version, status, calls, errors, input_tokens, output_tokens,
       cost_usd, avg_duration_ms, p50_duration_ms, p99_duration_ms, first_call, last_call,
       cache_read_input_tokens, cache_creation_input_tokens, unpriced_calls,
       avg_time_to_first_token_ms
  FROM ai_usage_stats(since => '2024-03-01 10:30:00+00', until => '2024-03-01 13:30:00+00',
                      group_by => '{hour,model,status}', tz => 'Asia/Tokyo');
SELECT bucket, user_id, calls, input_tokens, cost_usd, first_call, last_call
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-02', group_by => '{day,user}',
                      user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                      tz => 'America/New_York');
SELECT bucket, call_type, calls, errors, input_tokens, cost_usd
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-03',
                      group_by => '{day,call_type}', call_type => 'chat', tz => 'Asia/Kolkata');
-- Prices: a new gpt-4o price from noon (claude-3 unchanged), looked up on
-- both sides, a cost, and a reprice dry run and for real.
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.000005,
                                          "output_cost_per_token": 0.00002},
                               "claude-3": {"input_cost_per_token": 0.000003,
                                            "output_cost_per_token": 0.000015,
                                            "cache_read_input_token_cost": 0.0000003}}',
                             valid_from => '2024-03-01 12:00:00+00');
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok
  FROM ai_price_at('gpt-4o', 'v1', '2024-03-01 11:00:00+00');
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok
  FROM ai_price_at('gpt-4o', 'v1', '2024-03-01 13:00:00+00');
SELECT ai_cost(ai_price_at('gpt-4o', 'v1', '2024-03-01 13:00:00+00'), 300, 100, 20, 30, 0) AS cost;
SELECT * FROM ai_reprice('2024-03-01', '2024-03-02', dry_run => true);
SELECT * FROM ai_reprice('2024-03-01', '2024-03-02', dry_run => false);
SELECT id, created_at, cost_usd, cost_source FROM ai_call ORDER BY id;
-- Retention, at top level: batches of one, each committed.
CALL ai_purge_content('2024-03-01 11:00:00+00', 1);
CALL ai_purge_calls('2024-03-01 10:30:00+00', 1);
SELECT id, created_at, prompt, response FROM ai_call ORDER BY id;
SELECT bucket, calls, input_tokens, cost_usd, first_call, last_call
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-02', group_by => '{day}');
-- The histogram functions.
SELECT public.ai_hist_of(120, 2) AS hist,
       public.ai_hist_add(public.ai_hist_of(120, 1), public.ai_hist_of(3000, 1)) AS added,
       public.ai_hist_percentile(public.ai_hist_of(120, 1), 0.5) AS p50;
SELECT public.ai_hist_merge(public.ai_hist_of(d, 1)) AS merged
  FROM (VALUES (10), (20), (5000), (NULL)) AS v(d);
-- 1.3 -> 1.4 with the look-alikes in place: the privileges reset, the
-- triggers that replace the foreign key, the new record forms.
ALTER EXTENSION aitrack UPDATE TO '1.4';
SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'aitrack';
SELECT record_ai_call('gpt-4o', 'v1', 'tenth', '{}', input_tokens => 7::bigint, cost_usd => 0.5::float8,
                      duration_ms => 12.5::float8, user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') > 0 AS recorded;
SELECT record_ai_call('gpt-4o', 'v1', 'eleventh', '{}', '{"input_tokens": 1}', 'chat',
                      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') > 0 AS recorded;
SELECT pg_catalog.count(*) FROM ai_call c WHERE NOT EXISTS (SELECT FROM ai_model m WHERE m.id OPERATOR(pg_catalog.=) c.model_id);
SELECT * FROM ai_settings() ORDER BY name;
-- Tenants: off, then a member of aitrack_tenant (1.4) for one user.  The
-- stats then take the per-user path (never the sums over users), and the
-- policies run, all with the look-alikes first on the search_path.
SELECT public.ai_tenant_mode(), public.ai_tenant_user_id();
CREATE ROLE regress_aitrack_sp_tenant IN ROLE aitrack_tenant;
GRANT USAGE ON SCHEMA evil TO regress_aitrack_sp_tenant;
SET ROLE regress_aitrack_sp_tenant;
SET aitrack.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT public.ai_tenant_mode(), public.ai_tenant_user_id();
SELECT modelname, calls, input_tokens
  FROM ai_usage_stats(since => '2024-03-01', until => '2024-03-02', group_by => '{model}');
SELECT pg_catalog.count(*) FROM ai_call;
-- Its calls are its user's.
SELECT record_ai_call('gpt-4o', 'v1', 'twelfth', '{}') > 0 AS recorded;
SELECT record_ai_call('gpt-4o', 'v1', 'twelfth', '{}', user_id => '00000000-0000-0000-0000-000000000000');
SELECT pg_catalog.count(*) FROM ai_call;
RESET aitrack.user_id;
RESET ROLE;
REVOKE USAGE ON SCHEMA evil FROM regress_aitrack_sp_tenant;
DROP ROLE regress_aitrack_sp_tenant;
-- The drop guard refuses while the ledger holds calls (here it meets
-- ai_usage_purged, with the purged call, first); then the test drops it.
DROP EXTENSION aitrack;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
RESET aitrack.allow_drop;
RESET timezone;
RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
RESET client_min_messages;
REVOKE CREATE ON DATABASE :"db" FROM regress_aitrack_evil;
DROP ROLE regress_aitrack_evil;
