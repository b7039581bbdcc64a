-- 1.4: every object of the extension says what it is for (COMMENT), and the
-- settings are visible to a DBA through ai_settings(), in a session where
-- nothing has loaded the library yet.
\getenv abs_srcdir PG_ABS_SRCDIR
\set missing_sql :abs_srcdir '/sql/include/missing_comments.sql'
CREATE EXTENSION aitrack;
-- Objects without a comment (the query is test/sql/include/missing_comments.sql): none.
\set ECHO none
\i :missing_sql
\set ECHO all
-- What \df+ and \d+ show, for two of them.
SELECT pg_catalog.obj_description('record_ai_calls(jsonb)'::regprocedure, 'pg_proc') AS record_ai_calls;
SELECT pg_catalog.col_description('ai_call'::regclass, 5) AS ai_call_column_5,
       (SELECT attname FROM pg_attribute WHERE attrelid = 'ai_call'::regclass AND attnum = 5) AS name;
-- A new session: the library is not loaded, so SHOW does not know the
-- settings; ai_settings() does, and after it SHOW does too.
\c -
SELECT count(*) AS aitrack_settings_known FROM pg_settings WHERE name LIKE 'aitrack.%';
SELECT name, setting, effective FROM ai_settings() ORDER BY name;
SHOW aitrack.store_content;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
-- Without the extension the check says so, rather than finding nothing.
\set ECHO none
\i :missing_sql
\set ECHO all
