--
-- Planted overloads (issue 10, case 6).  A role with CREATE on the
-- extension's own schema plants, beside the extension's functions, look-
-- alikes of every function that the extension calls from its own SQL (the
-- queries built in C, the SQL and PL/pgSQL bodies, the aggregate, the
-- policies and triggers): the same name with argument types that would be
-- a better match than the real function's for a call that did not pass
-- exactly its types (numeric, bigint, smallint, integer, real, double
-- precision, text, anyelement, anycompatible, VARIADIC, a domain over the
-- real type).  A schema-qualified call does not help here: the look-alikes
-- sit in that very schema, and functions pinned to
-- search_path = pg_catalog, pg_temp still look there for @extschema@.f().
--
-- Every look-alike raises "planted: <signature> run by <role>", so one that
-- ran would fail the statement that called it (none of the calls below
-- catches errors).  Then, as a superuser, a writer, a reader and a tenant,
-- everything is exercised: none of them runs, and the numbers are right.
-- (VARIADIC "any" look-alikes cannot be planted: only C functions take
-- "any", and only a superuser can create those.)
--
-- pg_temp.try(), shared by the tests that show error messages.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
SELECT n.nspname AS extschema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'aitrack';

CREATE ROLE regress_aitrack_planter;
GRANT CREATE ON SCHEMA public TO regress_aitrack_planter;
SET ROLE regress_aitrack_planter;
CREATE DOMAIN public.regress_planted_int4 AS integer;
CREATE DOMAIN public.regress_planted_int4s AS integer[];
CREATE DOMAIN public.regress_planted_float8 AS double precision;
CREATE DOMAIN public.regress_planted_text AS text;
CREATE DOMAIN public.regress_planted_tstz AS timestamptz;
-- One function per row: name, arguments, result.
DO $plant$
DECLARE
    f text[];
BEGIN
    FOREACH f SLICE 1 IN ARRAY ARRAY[
        -- ai_usage_stats() (src/stats.c): ai_hist_percentile(integer[], double precision)
        ['ai_hist_percentile', 'integer[], numeric', 'double precision'],
        ['ai_hist_percentile', 'integer[], bigint', 'double precision'],
        ['ai_hist_percentile', 'integer[], integer', 'double precision'],
        ['ai_hist_percentile', 'integer[], smallint', 'double precision'],
        ['ai_hist_percentile', 'integer[], real', 'double precision'],
        ['ai_hist_percentile', 'integer[], text', 'double precision'],
        ['ai_hist_percentile', 'integer[], anyelement', 'double precision'],
        ['ai_hist_percentile', 'anycompatiblearray, anycompatible', 'double precision'],
        ['ai_hist_percentile', 'integer[], VARIADIC numeric[]', 'double precision'],
        ['ai_hist_percentile', 'integer[], VARIADIC double precision[]', 'double precision'],
        ['ai_hist_percentile', 'integer[], VARIADIC anyarray', 'double precision'],
        ['ai_hist_percentile', 'integer[], regress_planted_float8', 'double precision'],
        ['ai_hist_percentile', 'regress_planted_int4s, double precision', 'double precision'],
        ['ai_hist_percentile', 'bigint[], double precision', 'double precision'],
        ['ai_hist_percentile', 'numeric[], numeric', 'double precision'],
        -- stats, the rollup trigger (src/rollup.c), ai_purge_calls(), the
        -- 1.2 backfill: ai_hist_of(integer, integer)
        ['ai_hist_of', 'integer, bigint', 'integer[]'],
        ['ai_hist_of', 'integer, numeric', 'integer[]'],
        ['ai_hist_of', 'integer, smallint', 'integer[]'],
        ['ai_hist_of', 'bigint, bigint', 'integer[]'],
        ['ai_hist_of', 'smallint, smallint', 'integer[]'],
        ['ai_hist_of', 'double precision, integer', 'integer[]'],
        ['ai_hist_of', 'numeric, numeric', 'integer[]'],
        ['ai_hist_of', 'text, text', 'integer[]'],
        ['ai_hist_of', 'anyelement, anyelement', 'integer[]'],
        ['ai_hist_of', 'anycompatible, anycompatible', 'integer[]'],
        ['ai_hist_of', 'integer, VARIADIC integer[]', 'integer[]'],
        ['ai_hist_of', 'VARIADIC anyarray', 'integer[]'],
        ['ai_hist_of', 'regress_planted_int4, integer', 'integer[]'],
        ['ai_hist_of', 'integer, regress_planted_int4', 'integer[]'],
        -- ai_rollup_compact(), ai_purge_calls(): ai_hist_add(integer[], integer[])
        ['ai_hist_add', 'integer[], bigint[]', 'integer[]'],
        ['ai_hist_add', 'bigint[], bigint[]', 'integer[]'],
        ['ai_hist_add', 'numeric[], numeric[]', 'integer[]'],
        ['ai_hist_add', 'smallint[], smallint[]', 'integer[]'],
        ['ai_hist_add', 'text, text', 'integer[]'],
        ['ai_hist_add', 'anyarray, anyarray', 'integer[]'],
        ['ai_hist_add', 'anycompatiblearray, anycompatiblearray', 'integer[]'],
        ['ai_hist_add', 'anyelement, anyelement', 'integer[]'],
        ['ai_hist_add', 'integer[], VARIADIC anyarray', 'integer[]'],
        ['ai_hist_add', 'VARIADIC anycompatiblearray', 'integer[]'],
        ['ai_hist_add', 'regress_planted_int4s, regress_planted_int4s', 'integer[]'],
        -- Everything that merges histograms: the aggregate ai_hist_merge(integer[])
        -- (more look-alikes of it, aggregates, below).
        ['ai_hist_merge', 'anyelement', 'integer[]'],
        ['ai_hist_merge', 'text', 'integer[]'],
        ['ai_hist_merge', 'double precision[]', 'integer[]'],
        ['ai_hist_merge', 'VARIADIC anyarray', 'integer[]'],
        ['ai_hist_merge', 'regress_planted_int4s', 'integer[]'],
        -- The aggregate's own functions, ai_hist_accum(internal, integer[]) and
        -- ai_hist_final(internal), held by OID in pg_aggregate.  (No PL/pgSQL
        -- function takes internal.)  The first three rows are the state
        -- functions of the planted aggregates below.
        ['ai_hist_accum', 'bigint[], bigint[]', 'bigint[]'],
        ['ai_hist_accum', 'numeric[], numeric[]', 'numeric[]'],
        ['ai_hist_accum', 'anycompatiblearray, anycompatiblearray', 'anycompatiblearray'],
        ['ai_hist_accum', 'integer[], integer[]', 'integer[]'],
        ['ai_hist_accum', 'anyelement, integer[]', 'integer[]'],
        ['ai_hist_accum', 'text, integer[]', 'integer[]'],
        ['ai_hist_final', 'bigint[]', 'integer[]'],
        ['ai_hist_final', 'integer[]', 'integer[]'],
        ['ai_hist_final', 'anyelement', 'integer[]'],
        ['ai_hist_final', 'text', 'integer[]'],
        -- ai_reprice(): ai_price_at(text, text, timestamptz) ...
        ['ai_price_at', 'text, text, timestamp', 'public.ai_model_price'],
        ['ai_price_at', 'text, text, date', 'public.ai_model_price'],
        ['ai_price_at', 'text, text, text', 'public.ai_model_price'],
        ['ai_price_at', 'varchar, varchar, timestamptz', 'public.ai_model_price'],
        ['ai_price_at', 'name, name, timestamptz', 'public.ai_model_price'],
        ['ai_price_at', 'anyelement, anyelement, timestamptz', 'public.ai_model_price'],
        ['ai_price_at', 'anycompatible, anycompatible, anycompatible', 'public.ai_model_price'],
        ['ai_price_at', 'text, text, VARIADIC timestamptz[]', 'public.ai_model_price'],
        ['ai_price_at', 'text, VARIADIC text[]', 'public.ai_model_price'],
        ['ai_price_at', 'regress_planted_text, text, timestamptz', 'public.ai_model_price'],
        ['ai_price_at', 'text, text, regress_planted_tstz', 'public.ai_model_price'],
        -- ... and ai_cost(ai_model_price, integer x 5)
        ['ai_cost', 'public.ai_model_price, bigint, bigint, bigint, bigint, bigint', 'numeric'],
        ['ai_cost', 'public.ai_model_price, numeric, numeric, numeric, numeric, numeric', 'numeric'],
        ['ai_cost', 'public.ai_model_price, smallint, smallint, smallint, smallint, smallint', 'numeric'],
        ['ai_cost', 'public.ai_model_price, text, text, text, text, text', 'numeric'],
        ['ai_cost', 'record, integer, integer, integer, integer, integer', 'numeric'],
        ['ai_cost', 'anyelement, integer, integer, integer, integer, integer', 'numeric'],
        ['ai_cost', 'public.ai_model_price, anycompatible, anycompatible, anycompatible, anycompatible, anycompatible', 'numeric'],
        ['ai_cost', 'public.ai_model_price, VARIADIC integer[]', 'numeric'],
        ['ai_cost', 'public.ai_model_price, VARIADIC anyarray', 'numeric'],
        ['ai_cost', 'public.ai_model_price, regress_planted_int4, regress_planted_int4, regress_planted_int4, regress_planted_int4, regress_planted_int4', 'numeric'],
        -- The policies: ai_tenant_mode(), ai_tenant_user_id().  A call without
        -- arguments has no better match (a VARIADIC needs one argument).
        ['ai_tenant_mode', 'integer', 'boolean'],
        ['ai_tenant_mode', 'boolean', 'boolean'],
        ['ai_tenant_mode', 'text', 'boolean'],
        ['ai_tenant_mode', 'anyelement', 'boolean'],
        ['ai_tenant_mode', 'VARIADIC anyarray', 'boolean'],
        ['ai_tenant_mode', 'VARIADIC integer[]', 'boolean'],
        ['ai_tenant_user_id', 'integer', 'uuid'],
        ['ai_tenant_user_id', 'uuid', 'uuid'],
        ['ai_tenant_user_id', 'text', 'uuid'],
        ['ai_tenant_user_id', 'anyelement', 'uuid'],
        ['ai_tenant_user_id', 'VARIADIC anyarray', 'uuid'],
        -- The triggers and the event trigger (a PL/pgSQL trigger function
        -- takes no arguments, so these return something else).
        ['ai_touch_updated_at', 'integer', 'integer'],
        ['ai_touch_updated_at', 'text', 'integer'],
        ['ai_touch_updated_at', 'anyelement', 'integer'],
        ['ai_touch_updated_at', 'VARIADIC anyarray', 'integer'],
        ['ai_rollup_capture', 'integer', 'integer'],
        ['ai_rollup_capture', 'text', 'integer'],
        ['ai_rollup_capture', 'anyelement', 'integer'],
        ['ai_rollup_capture', 'VARIADIC anyarray', 'integer'],
        ['ai_drop_guard', 'integer', 'boolean'],
        ['ai_drop_guard', 'anyelement', 'boolean'],
        -- The 1.2 update script calls ai_rollup_compact().
        ['ai_rollup_compact', 'integer', 'bigint'],
        ['ai_rollup_compact', 'bigint', 'bigint'],
        ['ai_rollup_compact', 'anyelement', 'bigint'],
        ['ai_rollup_compact', 'VARIADIC anyarray', 'bigint']
    ] LOOP
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION public.%I(%s) RETURNS %s LANGUAGE plpgsql AS %L',
            f[1], f[2], f[3],
            pg_catalog.format('BEGIN RAISE EXCEPTION ''planted: %s(%s) run by %%'', current_user; END',
                              f[1], f[2]));
    END LOOP;
END $plant$;
CREATE AGGREGATE public.ai_hist_merge(bigint[])
    (SFUNC = public.ai_hist_accum, STYPE = bigint[], FINALFUNC = public.ai_hist_final);
CREATE AGGREGATE public.ai_hist_merge(numeric[])
    (SFUNC = public.ai_hist_accum, STYPE = numeric[]);
CREATE AGGREGATE public.ai_hist_merge(anycompatiblearray)
    (SFUNC = public.ai_hist_accum, STYPE = anycompatiblearray);
RESET ROLE;

-- What is planted, beside the extension's own functions.
SELECT p.proname, pg_catalog.count(*) AS planted,
       pg_catalog.count(*) FILTER (WHERE p.prokind = 'a') AS aggregates,
       pg_catalog.count(*) FILTER (WHERE p.provariadic <> 0) AS variadic,
       pg_catalog.count(*) FILTER (WHERE EXISTS (
           SELECT FROM pg_catalog.unnest(p.proargtypes) AS t(oid)
            WHERE t.oid IN ('anyelement'::regtype, 'anyarray'::regtype, 'anycompatible'::regtype,
                            'anycompatiblearray'::regtype))) AS polymorphic,
       pg_catalog.count(*) FILTER (WHERE EXISTS (
           SELECT FROM pg_catalog.unnest(p.proargtypes) AS t(oid)
             JOIN pg_catalog.pg_type ty ON ty.oid = t.oid
            WHERE ty.typtype = 'd')) AS domain_args,
       pg_catalog.bool_and(p.pronamespace = 'public'::regnamespace) AS all_in_public,
       (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc x
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = x.oid
                                     AND d.deptype = 'e'
         WHERE x.proname = p.proname AND x.pronamespace = p.pronamespace) AS extension_own
  FROM pg_catalog.pg_proc p
 WHERE p.proowner = 'regress_aitrack_planter'::regrole
 GROUP BY p.proname, p.pronamespace
 ORDER BY p.proname;

-- The roles that use the extension (the README's grants).
CREATE ROLE regress_aitrack_po_writer;
CREATE ROLE regress_aitrack_po_reader;
CREATE ROLE regress_aitrack_po_tenant IN ROLE aitrack_tenant;
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid),
    record_ai_calls(jsonb)
    TO regress_aitrack_po_writer;
GRANT EXECUTE ON FUNCTION
    ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text),
    ai_price_at(text, text, timestamptz),
    ai_cost(ai_model_price, integer, integer, integer, integer, integer)
    TO regress_aitrack_po_reader, regress_aitrack_po_tenant;
GRANT SELECT ON ai_call, ai_model, ai_model_price, ai_usage_rollup, ai_usage_rollup_total,
                ai_usage_purged
    TO regress_aitrack_po_reader, regress_aitrack_po_tenant;

-- The look-alikes are live: a reader's own call with a numeric literal,
-- the call that ai_usage_stats() made before the fix, picks the planted
-- one; so does a call of ai_price_at() with untyped literals.  (That is
-- the reader's own SQL: the calls of the extension below never do.)
SET ROLE regress_aitrack_po_reader;
SELECT pg_temp.try($$SELECT public.ai_hist_percentile('{1,1}'::integer[], 0.5)$$);
SELECT pg_temp.try($$SELECT public.ai_hist_of(1, 1::bigint)$$);
SELECT pg_temp.try($$SELECT * FROM public.ai_price_at('gpt-4o', 'v1', '2024-03-01')$$);
-- With their exact types, the extension's own.
SELECT public.ai_hist_percentile('{1,1}'::integer[], 0.5::double precision) AS p50,
       public.ai_hist_of(1, 1) AS hist;
RESET ROLE;

--
-- Prices (PL/pgSQL, search_path pinned), so that calls are priced.
--
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.0000025,
                                          "output_cost_per_token": 0.00001}}');

--
-- Record: both shapes of record_ai_call() and a batch, as the writer.  The
-- rollup trigger's one-row and many-row paths both run.
--
SET ROLE regress_aitrack_po_writer;
SELECT record_ai_call('gpt-4o', 'v1', 'first', '{"text": "a"}', input_tokens => 100,
                      output_tokens => 10, duration_ms => 10, call_type => 'chat',
                      user_id => '00000000-0000-0000-0000-00000000000a') AS id;
SELECT record_ai_call('gpt-4o', 'v1', 'second', '{"text": "b"}',
                      '{"input_tokens": 200, "output_tokens": 20, "duration_ms": 20,
                        "status": "error"}'::jsonb,
                      'chat', '00000000-0000-0000-0000-00000000000b') AS id;
SELECT * FROM record_ai_calls('[
  {"modelname": "gpt-4o", "version": "v1", "prompt": "third", "response": {},
   "input_tokens": 300, "output_tokens": 30, "duration_ms": 30, "call_type": "chat",
   "user_id": "00000000-0000-0000-0000-00000000000a", "created_at": "2024-03-01 10:30:00+00"},
  {"modelname": "gpt-4o", "version": "v1", "prompt": "fourth", "response": {},
   "input_tokens": 400, "output_tokens": 40, "duration_ms": 40, "call_type": "tool",
   "created_at": "2024-03-01 11:15:00+00"},
  {"modelname": "claude", "version": "3", "prompt": "fifth", "response": {},
   "input_tokens": 50, "output_tokens": 5, "duration_ms": 50, "cost_usd": 0.01,
   "call_type": "chat", "user_id": "00000000-0000-0000-0000-00000000000a",
   "created_at": "2024-03-01 12:05:00+00"},
  {"modelname": "claude", "version": "3", "prompt": "sixth", "response": {},
   "input_tokens": 60, "output_tokens": 6, "duration_ms": 60,
   "created_at": "2024-03-01 12:10:00+00"},
  {"modelname": "claude", "version": "3", "prompt": "seventh", "response": {},
   "input_tokens": 70, "output_tokens": 7, "duration_ms": 70,
   "created_at": "2024-03-01 12:20:00+00"}]');
RESET ROLE;

--
-- UPDATE and DELETE (the rollup and updated_at triggers): the first two
-- calls moved to fixed times in one statement, one call updated alone, one
-- deleted alone, two deleted in one statement.
--
UPDATE ai_call c SET created_at = v.t
  FROM (VALUES (1, '2024-03-01 10:10:00+00'::timestamptz), (2, '2024-03-01 10:20:00+00'))
       AS v(id, t)
 WHERE c.id = v.id;
UPDATE ai_call SET extra = '{"k": 1}' WHERE id = 4;
SELECT id, created_at, updated_at > created_at AS touched, cost_usd, cost_source
  FROM ai_call ORDER BY id;
SELECT ai_rollup_compact() AS folded;
-- Compacting into rows already there (ON CONFLICT ... ai_hist_add()), for
-- groups that lost calls too.
UPDATE ai_call SET extra = '{"k": 2}' WHERE id IN (1, 3);
DELETE FROM ai_call WHERE id = 7;
SELECT ai_rollup_compact() AS folded;

--
-- ai_usage_stats(), as the superuser (the case of the report) and as the
-- reader: every group_by dimension, totals, filters, a whole-hour zone
-- (the rollups), a half-hour zone (ai_call itself).
--
SELECT bucket, modelname, version, call_type, status, user_id, calls, errors,
       input_tokens, output_tokens, cost_usd, avg_duration_ms,
       p50_duration_ms, p95_duration_ms, p99_duration_ms, first_call, last_call
  FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}');
SET ROLE regress_aitrack_po_reader;
CREATE FUNCTION pg_temp.regress_stats(g text[], tz text DEFAULT 'UTC')
RETURNS TABLE (bucket timestamptz, modelname text, version text, call_type text,
               status text, user_id uuid, calls bigint, errors bigint,
               input_tokens bigint, cost_usd numeric, p50 double precision,
               p95 double precision, p99 double precision, unpriced bigint)
LANGUAGE sql AS $$
    SELECT s.bucket, s.modelname, s.version, s.call_type, s.status, s.user_id, s.calls,
           s.errors, s.input_tokens, s.cost_usd, s.p50_duration_ms, s.p95_duration_ms,
           s.p99_duration_ms, s.unpriced_calls
      FROM public.ai_usage_stats(group_by => g, tz => tz) AS s
$$;
SELECT * FROM pg_temp.regress_stats('{model}');
SELECT * FROM pg_temp.regress_stats('{modelname}');
SELECT * FROM pg_temp.regress_stats('{call_type}');
SELECT * FROM pg_temp.regress_stats('{status}');
SELECT * FROM pg_temp.regress_stats('{user}');
SELECT * FROM pg_temp.regress_stats('{hour}');
SELECT * FROM pg_temp.regress_stats('{day}', 'Asia/Tokyo');
SELECT * FROM pg_temp.regress_stats('{week}', 'America/New_York');
SELECT * FROM pg_temp.regress_stats('{month}');
SELECT * FROM pg_temp.regress_stats('{}');
SELECT * FROM pg_temp.regress_stats(NULL);
SELECT * FROM pg_temp.regress_stats('{hour,modelname}', 'Asia/Kolkata');
-- The rollups (UTC) and ai_call itself (Kolkata) agree on every grouping
-- without a time bucket (all latencies are below 100 ms, so the
-- histograms are exact).
SELECT g AS group_by,
       (SELECT pg_catalog.count(*) FROM pg_temp.regress_stats(g)) AS rows,
       NOT EXISTS (SELECT * FROM pg_temp.regress_stats(g)
                   EXCEPT ALL SELECT * FROM pg_temp.regress_stats(g, 'Asia/Kolkata'))
       AND NOT EXISTS (SELECT * FROM pg_temp.regress_stats(g, 'Asia/Kolkata')
                       EXCEPT ALL SELECT * FROM pg_temp.regress_stats(g)) AS same
  FROM (VALUES ('{model}'::text[]), ('{modelname}'), ('{call_type}'), ('{status}'), ('{user}'),
               ('{}'), ('{model,call_type,status,user}')) AS u(g);
-- Filters, and a window with partial hours at both ends.
SELECT modelname, calls, input_tokens, cost_usd, p50_duration_ms, p99_duration_ms
  FROM ai_usage_stats(since => '2024-03-01 10:15:00+00', until => '2024-03-01 12:15:00+00',
                      group_by => '{model}', modelname => 'gpt-4o', call_type => 'chat',
                      user_id => '00000000-0000-0000-0000-00000000000a', tz => 'Europe/Berlin');
-- The price functions, called with their exact types.
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok
  FROM ai_price_at('gpt-4o'::text, 'v1'::text, '2024-03-01 10:00:00+00'::timestamptz);
SELECT ai_cost(ai_price_at('gpt-4o'::text, 'v1'::text, '2024-03-01 10:00:00+00'::timestamptz),
               1000, 100, 0, 100, 10) AS cost;
RESET ROLE;

--
-- Tenants (1.4: a member of aitrack_tenant): the policies call
-- ai_tenant_mode() and ai_tenant_user_id().
--
SET ROLE regress_aitrack_po_tenant;
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000a';
SELECT id, user_id FROM ai_call ORDER BY id;
SELECT pg_catalog.count(*) AS rollup_rows, pg_catalog.sum(calls) AS calls FROM ai_usage_rollup;
SELECT pg_catalog.count(*) AS total_rows FROM ai_usage_rollup_total;
SELECT * FROM pg_temp.regress_stats('{model,user}');
RESET aitrack.user_id;
SELECT pg_catalog.count(*) AS without_user FROM ai_call;
RESET ROLE;
RESET aitrack.tenant;

--
-- Repricing (PL/pgSQL: ai_cost(ai_price_at(...)) from the extension's
-- schema): a new gpt-4o price from 11:00, dry run, then for real.
--
SELECT * FROM ai_load_prices('{"gpt-4o": {"input_cost_per_token": 0.000005,
                                          "output_cost_per_token": 0.00002}}',
                             valid_from => '2024-03-01 11:00:00+00');
SELECT * FROM ai_reprice('2024-03-01', '2024-03-02');
SELECT * FROM ai_reprice('2024-03-01', '2024-03-02', dry_run => false);
SELECT id, created_at, cost_usd, cost_source FROM ai_call ORDER BY id;

--
-- Retention, at top level (each batch commits): batches of one, so that
-- the second call of a group meets the ai_usage_purged row of the first
-- (ON CONFLICT ... ai_hist_add()).
--
CALL ai_purge_content('2024-03-01 10:25:00+00', 1);
SELECT id, created_at, prompt, response FROM ai_call ORDER BY id;
CALL ai_purge_calls('2024-03-01 10:35:00+00', 1);
SELECT id, created_at, prompt, response FROM ai_call ORDER BY id;
SELECT bucket, call_type, status, user_id, calls, latency FROM ai_usage_purged
 ORDER BY bucket, call_type, status, user_id;
-- The purged calls still count; then a delete of two calls in one statement.
SELECT ai_rollup_compact() AS folded;
SELECT * FROM pg_temp.regress_stats('{hour}');
DELETE FROM ai_call WHERE id IN (5, 6);
SELECT ai_rollup_compact() AS folded;
-- 1.4: rebuilding the rollups, and the model triggers (delete, id change).
CALL ai_rollup_rebuild();
SELECT ai_rollup_compact() > 0 AS folded;
SELECT * FROM pg_temp.regress_stats('{hour}');
INSERT INTO ai_model (modelname, version) VALUES ('spare', 'v1');
UPDATE ai_model SET id = id + 1000 WHERE modelname = 'spare';
DELETE FROM ai_model WHERE modelname = 'spare';
SET ROLE regress_aitrack_po_reader;
SELECT * FROM pg_temp.regress_stats('{model,status}');
RESET ROLE;

--
-- What exact types cannot prevent: a look-alike whose extra argument has a
-- default makes the call ambiguous.  Then the statement fails, and the
-- look-alike does not run either.  (Here the stats with a grouping not
-- asked for before: each one's plan is prepared once per session.)
--
SET ROLE regress_aitrack_planter;
CREATE FUNCTION public.ai_hist_percentile(integer[], double precision, integer DEFAULT 0)
RETURNS double precision LANGUAGE plpgsql
AS $$ BEGIN RAISE EXCEPTION 'planted: ai_hist_percentile(integer[], double precision, integer) run by %', current_user; END $$;
RESET ROLE;
SELECT pg_temp.try($$SELECT * FROM public.ai_usage_stats(group_by => '{call_type,user}')$$);
DROP FUNCTION public.ai_hist_percentile(integer[], double precision, integer);

--
-- Install and update with the look-alikes in place: the 1.2 update
-- backfills the rollups (ai_hist_merge(ai_hist_of(...))) and calls
-- ai_rollup_compact(); 1.3 creates the policies.  The look-alikes that take
-- or return the extension's row type go with the extension.
--
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p
              WHERE p.proowner = 'regress_aitrack_planter'::regrole
                AND p.proname IN ('ai_price_at', 'ai_cost')
    LOOP
        EXECUTE pg_catalog.format('DROP FUNCTION %s', f);
    END LOOP;
END $$;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
RESET aitrack.allow_drop;
SET timezone = 'UTC';
CREATE EXTENSION aitrack VERSION '1.0';
SELECT record_ai_call('gpt-4o', 'v1', 'a', '{}', input_tokens => 10, duration_ms => 15,
                      user_id => '00000000-0000-0000-0000-00000000000a') AS id;
SELECT record_ai_call('gpt-4o', 'v1', 'b', '{}', '{"input_tokens": 20, "duration_ms": 25}'::jsonb) AS id;
UPDATE ai_call SET created_at = '2024-03-01 10:00:00+00';
ALTER EXTENSION aitrack UPDATE TO '1.1';
ALTER EXTENSION aitrack UPDATE TO '1.2';
SELECT bucket, pending, calls, latency FROM ai_usage_rollup ORDER BY bucket, pending;
ALTER EXTENSION aitrack UPDATE TO '1.3';
ALTER EXTENSION aitrack UPDATE TO '1.4';
SELECT extversion FROM pg_extension WHERE extname = 'aitrack';
SELECT modelname, calls, input_tokens, p50_duration_ms, p95_duration_ms
  FROM ai_usage_stats(group_by => '{model}');
GRANT SELECT ON ai_call TO regress_aitrack_po_tenant;
SET ROLE regress_aitrack_po_tenant;
SELECT pg_catalog.count(*) AS tenant_sees FROM ai_call;
SET aitrack.user_id = '00000000-0000-0000-0000-00000000000a';
SELECT pg_catalog.count(*) AS tenant_sees FROM ai_call;
RESET aitrack.user_id;
RESET ROLE;
RESET aitrack.tenant;

-- Clean up.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
RESET aitrack.allow_drop;
DROP OWNED BY regress_aitrack_planter, regress_aitrack_po_writer, regress_aitrack_po_reader,
              regress_aitrack_po_tenant;
DROP ROLE regress_aitrack_planter, regress_aitrack_po_writer, regress_aitrack_po_reader,
          regress_aitrack_po_tenant;
