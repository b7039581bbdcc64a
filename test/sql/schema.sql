-- The seed's tables, 1.1's price table and 1.2's rollup tables: every
-- field, its type, nullability and default; the constraints that keep
-- garbage out; the indexes; the triggers on ai_call; 1.3's row-level
-- security policies, drop guard event trigger, functions and settings;
-- pg_dump registration; and updated_at following updates.
CREATE EXTENSION aitrack;

SELECT c.relname AS table, a.attname AS column,
       pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS default
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relname IN ('ai_model', 'ai_call', 'ai_model_price', 'ai_usage_rollup',
                     'ai_usage_rollup_total', 'ai_usage_purged')
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY array_position('{ai_model,ai_call,ai_model_price,ai_usage_rollup,ai_usage_rollup_total,ai_usage_purged}',
                         c.relname::text), a.attnum;

-- (The rollup tables have no constraints beyond NOT NULL: only the
-- extension's own code writes them.)
SELECT conrelid::regclass AS table, conname, pg_catalog.pg_get_constraintdef(oid) AS definition
  FROM pg_catalog.pg_constraint
 WHERE conrelid IN ('ai_model'::regclass, 'ai_call'::regclass, 'ai_model_price'::regclass,
                    'ai_usage_rollup'::regclass, 'ai_usage_rollup_total'::regclass,
                    'ai_usage_purged'::regclass)
   -- NOT NULL is in the column listing; from 18 on it is a constraint row too
   AND contype OPERATOR(pg_catalog.<>) 'n'
 ORDER BY conrelid::regclass::text DESC, conname;

-- 1.2: one compacted rollup row per group (NULLS NOT DISTINCT, so that a
-- NULL call_type, status or user is a group like any other), pending rows
-- found by bucket.
SELECT indexrelid::regclass AS index, pg_catalog.pg_get_indexdef(indexrelid) AS definition
  FROM pg_catalog.pg_index
 WHERE indrelid IN ('ai_model'::regclass, 'ai_call'::regclass, 'ai_model_price'::regclass,
                    'ai_usage_rollup'::regclass, 'ai_usage_rollup_total'::regclass,
                    'ai_usage_purged'::regclass)
 ORDER BY indexrelid::regclass::text;

-- The triggers on ai_call: updated_at (1.0), and (1.2) the statement-level
-- triggers that append rollup rows for every insert, update, delete and
-- truncate, with the transition tables they read.
SELECT tgname, tgenabled, pg_catalog.pg_get_triggerdef(oid) AS definition
  FROM pg_catalog.pg_trigger
 WHERE tgrelid = 'ai_call'::regclass AND NOT tgisinternal
 ORDER BY tgname;

-- 1.3: row-level security on ai_call and the three rollup tables (not
-- forced: the extension's owner, who runs record_ai_call, the rollup
-- trigger and compaction, is not held back), none on ai_model and
-- ai_model_price.
SELECT c.relname AS table, c.relrowsecurity AS row_security,
       c.relforcerowsecurity AS forced
  FROM pg_catalog.pg_class c
 WHERE c.relname IN ('ai_model', 'ai_call', 'ai_model_price', 'ai_usage_rollup',
                     'ai_usage_rollup_total', 'ai_usage_purged')
 ORDER BY array_position('{ai_model,ai_call,ai_model_price,ai_usage_rollup,ai_usage_rollup_total,ai_usage_purged}',
                         c.relname::text);
-- One permissive policy per table, for every command and role: a tenant
-- (aitrack.tenant) sees its user's rows, and no sum over all users; any
-- other role sees every row, as before 1.3.
SELECT tablename, policyname, permissive, roles, cmd, qual, with_check
  FROM pg_catalog.pg_policies
 WHERE schemaname = 'public'
 ORDER BY tablename, policyname;
-- The functions the policies call (open to PUBLIC: see the privileges
-- test) and the drop guard's event trigger function.
SELECT p.oid::regprocedure AS function, p.prorettype::regtype AS returns,
       p.provolatile AS volatile, p.proparallel AS parallel,
       p.prosecdef AS security_definer, p.prosrc AS symbol
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'public'::regnamespace
   AND p.proname IN ('ai_tenant_mode', 'ai_tenant_user_id', 'ai_drop_guard')
 ORDER BY p.proname;
-- The drop guard: an event trigger on the commands that can drop the
-- extension, loading the library whose object access hook does the check;
-- it belongs to the extension.
SELECT e.evtname, e.evtevent, e.evtfoid::regprocedure AS function, e.evtenabled,
       e.evttags,
       pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0) AS member_of
  FROM pg_catalog.pg_event_trigger e
  LEFT JOIN pg_catalog.pg_depend d
    ON d.classid = 'pg_catalog.pg_event_trigger'::regclass AND d.objid = e.oid
   AND d.deptype = 'e'
 ORDER BY e.evtname;
-- The settings (CREATE EXTENSION loaded the library), at their defaults.
SELECT name, setting, context, vartype, enumvals
  FROM pg_catalog.pg_settings
 WHERE name LIKE 'aitrack.%'
 ORDER BY name;

-- Tables and sequences whose contents pg_dump keeps: ai_usage_purged (1.2)
-- holds the numbers of purged calls, which exist nowhere else; the two
-- rollup tables are not dumped, the restore's COPY into ai_call refills
-- them through the triggers above.
SELECT cfg::regclass AS dumped, cond AS condition
  FROM pg_catalog.pg_extension, unnest(extconfig, extcondition) AS u(cfg, cond)
 WHERE extname = 'aitrack'
 ORDER BY cfg::regclass::text;

-- The CHECK constraints hold for rows written without record_ai_call().
-- (terse: the failing rows' DETAIL would print the clock)
\set VERBOSITY terse
INSERT INTO ai_model (modelname, version) VALUES ('gpt-4o', '2024-08-06');
INSERT INTO ai_model (modelname, version) VALUES ('gpt-4o', '2024-08-06');
INSERT INTO ai_model (modelname, version) VALUES ('', 'x');
INSERT INTO ai_model (modelname, version, extra) VALUES ('m', 'x', '[]');
INSERT INTO ai_call (model_id, prompt, response, input_tokens)
     SELECT id, 'p', '{}', -1 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, output_tokens)
     SELECT id, 'p', '{}', -1 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, reasoning_tokens)
     SELECT id, 'p', '{}', -1 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, duration_ms)
     SELECT id, 'p', '{}', -1 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cost_usd)
     SELECT id, 'p', '{}', 'NaN' FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cost_usd)
     SELECT id, 'p', '{}', 'Infinity' FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cost_usd)
     SELECT id, 'p', '{}', -0.5 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, status)
     SELECT id, 'p', '{}', 'ok' FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, call_type)
     SELECT id, 'p', '{}', '' FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, extra)
     SELECT id, 'p', '{}', '"x"' FROM ai_model;
-- 1.4: model_id is checked by a trigger, not a foreign key (a parallel
-- restore loads ai_call beside ai_model), for every writer but the owner and
-- superusers, who restore and who write through record_ai_call().
CREATE ROLE regress_aitrack_direct_writer;
GRANT INSERT, UPDATE ON ai_call TO regress_aitrack_direct_writer;
GRANT USAGE ON SEQUENCE ai_call_id_seq TO regress_aitrack_direct_writer;
SET ROLE regress_aitrack_direct_writer;
INSERT INTO ai_call (model_id, prompt, response) VALUES (424242, 'p', '{}');
RESET ROLE;
REVOKE ALL ON ai_call FROM regress_aitrack_direct_writer;
REVOKE ALL ON SEQUENCE ai_call_id_seq FROM regress_aitrack_direct_writer;
DROP ROLE regress_aitrack_direct_writer;
-- 1.1: cache tokens inside input_tokens, cost_source agreeing with cost_usd.
INSERT INTO ai_call (model_id, prompt, response, input_tokens, cache_read_input_tokens)
     SELECT id, 'p', '{}', 10, 11 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, input_tokens, cache_read_input_tokens,
                     cache_creation_input_tokens)
     SELECT id, 'p', '{}', 10, 6, 5 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cache_read_input_tokens)
     SELECT id, 'p', '{}', -1 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, time_to_first_token_ms)
     SELECT id, 'p', '{}', -1 FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cost_usd, cost_source)
     SELECT id, 'p', '{}', 1, 'unknown' FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cost_source)
     SELECT id, 'p', '{}', 'computed' FROM ai_model;
INSERT INTO ai_call (model_id, prompt, response, cost_usd, cost_source)
     SELECT id, 'p', '{}', 1, 'guessed' FROM ai_model;
-- Prices: rates finite and not negative, a non-empty time range, and never
-- two prices for one model at one moment.
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('gpt-4o', -1, 10);
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, reasoning_usd_per_mtok)
     VALUES ('gpt-4o', 2.5, 10, 'Infinity');
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('gpt-4o', '2025-01-01', '2025-01-01', 2.5, 10);
INSERT INTO ai_model_price (model, valid_until, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('gpt-4o', '2025-01-01', 5, 15);
INSERT INTO ai_model_price (model, valid_from, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('gpt-4o', '2024-12-31', 2.5, 10);
-- Touching ranges do not overlap ([from, until)).
INSERT INTO ai_model_price (model, valid_from, input_usd_per_mtok, output_usd_per_mtok)
     VALUES ('gpt-4o', '2025-01-01', 2.5, 10);
SELECT model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok
  FROM ai_model_price ORDER BY valid_from;
\set VERBOSITY default
-- The seed's nullable fields may be NULL, and status too.
INSERT INTO ai_call (model_id, prompt, response, status)
     SELECT id, '', 'null', NULL FROM ai_model;
SELECT prompt, response, input_tokens, reasoning_tokens, output_tokens, cost_usd,
       duration_ms, call_type, status, user_id, extra, cache_read_input_tokens,
       cache_creation_input_tokens, time_to_first_token_ms, cost_source
  FROM ai_call;

-- updated_at follows every UPDATE, even one that sets it; created_at stays.
SELECT updated_at = created_at AS untouched FROM ai_model;
SELECT updated_at = created_at AS untouched FROM ai_call;
SELECT updated_at = created_at AS untouched FROM ai_model_price;
UPDATE ai_model SET extra = '{"provider": "openai"}';
UPDATE ai_call SET call_type = 'chat', updated_at = '2000-01-01';
SELECT updated_at > created_at AS model_touched, extra FROM ai_model;
SELECT updated_at > created_at AS call_touched, call_type FROM ai_call;
UPDATE ai_model_price SET source = 'manual';
SELECT updated_at > created_at AS price_touched, source FROM ai_model_price;

-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
