-- test/citus/calls_before.sql: calls recorded before aitrack_distribute()
-- (test/citus/run.sh loads the same files, in the same order, into the
-- database it distributes and into one it keeps on one server).  Every
-- value is fixed, so the two end with the same ids, rows and numbers.
SET client_min_messages = warning;
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('everything', 'all', 'lifetime', 1000);
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('each user', 'user', 'lifetime', 100);
INSERT INTO ai_budget (name, scope, scope_value, period, limit_usd) VALUES ('project a', 'project', 'proj-a', 'lifetime', 100);
-- 300 calls over three days of 2025: three models, four users and none,
-- two projects and none, tags, errors, call types, durations 1 ms to ~7 s.
SELECT count(*) AS recorded_before FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'modelname', (ARRAY['gpt-4o', 'claude-sonnet-4', 'm-gone'])[1 + i % 3],
           'version', 'v' || (i % 2),
           'prompt', 'before ' || i,
           'response', jsonb_build_object('text', 'r' || i),
           'input_tokens', 10 * i, 'output_tokens', i % 17,
           'cache_read_input_tokens', CASE WHEN i % 5 = 0 THEN i END,
           'cost_usd', CASE WHEN i % 7 <> 0 THEN round(i / 1000.0, 6) END,
           'duration_ms', CASE WHEN i % 11 <> 0 THEN (i * i * 37) % 7000 + 1 END,
           'status', CASE WHEN i % 13 = 0 THEN 'error' ELSE 'success' END,
           'call_type', (ARRAY['chat', 'embedding'])[1 + i % 2],
           'user_id', CASE WHEN i % 5 <> 4 THEN '00000000-0000-0000-0000-00000000000' || (i % 5) END,
           'project', CASE WHEN i % 3 <> 2 THEN 'proj-' || (ARRAY['a', 'b'])[1 + i % 2] END,
           'tags', CASE WHEN i % 4 = 0 THEN jsonb_build_array('t' || (i % 3), 'common') END,
           'api_key', 'key-' || (i % 2),
           'created_at', '2025-03-01 00:00+00'::timestamptz + i * interval '14 minutes 23 seconds'))
         ORDER BY i)
    FROM generate_series(1, 300) i));
