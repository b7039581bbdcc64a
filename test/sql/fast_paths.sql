--
-- fast_paths: record_ai_call()'s two shortcuts behave as the statements
-- they stand for.  ai_call's CHECK constraints are read and planned once
-- per backend (src/check_cache.c): constraints added, dropped and replaced
-- between calls, constraints whose executor steps keep state in the
-- statement's memory (a whole-row reference, a row type conversion), and an
-- inlined SQL function under another search_path.  The pending rollup row
-- of a one-call statement is inserted without SPI (src/rollup.c): a rule
-- and a typmod on ai_usage_rollup send it back through the INSERT.
--
SET client_min_messages = warning;
-- Errors without their failing rows (they hold the time of the call).
\set VERBOSITY terse
CREATE EXTENSION aitrack;
SET aitrack.allow_drop = on;
-- Churn in between, so that freed memory is reused.
CREATE FUNCTION pg_temp.churn() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM count(*) FROM (SELECT repeat('x', 1000 + g) FROM generate_series(1, 2000) g) s;
END $$;

-- A constraint added after the first call applies to the next; dropped,
-- it no longer does.
SELECT record_ai_call('fp', '1', 'first', '{}', input_tokens => 5) > 0 AS recorded;
ALTER TABLE ai_call ADD CONSTRAINT fp_small CHECK (input_tokens < 100) NOT VALID;
SELECT record_ai_call('fp', '1', 'too many', '{}', input_tokens => 500);
ALTER TABLE ai_call DROP CONSTRAINT fp_small;
SELECT record_ai_call('fp', '1', 'fine again', '{}', input_tokens => 500) > 0 AS recorded;

-- A whole-row reference and a row type conversion, each call after churn.
ALTER TABLE ai_call ADD CONSTRAINT fp_row CHECK (row_to_json(ai_call) IS NOT NULL) NOT VALID;
CREATE TABLE fp_par (a int, b int);
CREATE TABLE fp_chi (x int) INHERITS (fp_par);
ALTER TABLE ai_call ADD CONSTRAINT fp_convert
    CHECK (((ROW(input_tokens, input_tokens, input_tokens)::fp_chi)::fp_par).a IS NOT DISTINCT FROM input_tokens) NOT VALID;
SELECT pg_temp.churn(), record_ai_call('fp', '1', 'row 1', '{}', input_tokens => 7) > 0 AS recorded;
SELECT pg_temp.churn(), record_ai_call('fp', '1', 'row 2', '{}', input_tokens => 8) > 0 AS recorded;
SELECT pg_temp.churn(), record_ai_call('fp', '1', 'row 3', '{}', input_tokens => 9) > 0 AS recorded;
DO $$ BEGIN FOR i IN 1..50 LOOP PERFORM pg_temp.churn(); PERFORM record_ai_call('fp', '1', 'loop', '{}', input_tokens => i); END LOOP; END $$;
SELECT count(*) AS calls FROM ai_call;
ALTER TABLE ai_call DROP CONSTRAINT fp_row, DROP CONSTRAINT fp_convert;

-- An inlined SQL function resolves its names by the search_path it is
-- planned under: record_ai_call() plans again under another one.
CREATE SCHEMA fp_a;
CREATE SCHEMA fp_b;
CREATE FUNCTION fp_a.fp_limit() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1000';
CREATE FUNCTION fp_b.fp_limit() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 10';
SET search_path = public, fp_a;
CREATE FUNCTION public.fp_under(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 < fp_limit()';
ALTER TABLE ai_call ADD CONSTRAINT fp_inlined CHECK (fp_under(input_tokens)) NOT VALID;
SELECT record_ai_call('fp', '1', 'under a', '{}', input_tokens => 100) > 0 AS recorded;
SET search_path = public, fp_b;
SELECT record_ai_call('fp', '1', 'under b', '{}', input_tokens => 100);
INSERT INTO ai_call (model_id, prompt, response, input_tokens)
SELECT id, 'plain insert under b', '{}', 100 FROM ai_model WHERE modelname = 'fp';
RESET search_path;
ALTER TABLE ai_call DROP CONSTRAINT fp_inlined;

-- A rule on ai_usage_rollup sees every pending row, as it would see the
-- INSERT's.
CREATE TABLE fp_audit (calls bigint);
CREATE RULE fp_audit AS ON INSERT TO ai_usage_rollup DO ALSO INSERT INTO fp_audit VALUES (NEW.calls);
SELECT record_ai_call('fp', '1', 'audited', '{}', input_tokens => 1) > 0 AS recorded;
SELECT count(*) AS audited FROM fp_audit;
DROP RULE fp_audit ON ai_usage_rollup;

-- A typmod on a rollup column rounds, and overflows, as the INSERT does.
SELECT ai_rollup_compact() > 0 AS folded;
ALTER TABLE ai_usage_rollup ALTER COLUMN cost_usd TYPE numeric(20,2);
SELECT record_ai_call('fp', '1', 'rounded', '{}', input_tokens => 1, cost_usd => 0.123456) > 0 AS recorded;
SELECT cost_usd FROM ai_usage_rollup WHERE pending;
ALTER TABLE ai_usage_rollup ALTER COLUMN cost_usd TYPE numeric(3,2);
SELECT record_ai_call('fp', '1', 'overflow', '{}', input_tokens => 1, cost_usd => 12345.678);

RESET client_min_messages;
DROP TABLE fp_audit, fp_chi, fp_par;
DROP FUNCTION public.fp_under(int);
DROP SCHEMA fp_a, fp_b CASCADE;
DROP EXTENSION aitrack;
