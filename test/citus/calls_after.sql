-- test/citus/calls_after.sql: calls recorded after aitrack_distribute()
-- (in the other database, at the same point): both shapes of
-- record_ai_call() and a batch, some in the current hour (which the stats
-- read from ai_call itself, not from the rollups).
SET client_min_messages = warning;
SELECT count(*) AS recorded_after FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
           'modelname', (ARRAY['gpt-4o', 'claude-sonnet-4', 'm-gone', 'new-model'])[1 + i % 4],
           'version', 'v' || (i % 2),
           'prompt', 'after ' || i,
           'response', jsonb_build_object('text', 'r' || i),
           'input_tokens', 7 * i, 'output_tokens', i % 19,
           'cost_usd', CASE WHEN i % 6 <> 0 THEN round(i / 700.0, 6) END,
           'duration_ms', (i * 7919) % 9000 + 1,
           'status', CASE WHEN i % 9 = 0 THEN 'error' ELSE 'success' END,
           'user_id', CASE WHEN i % 6 <> 5 THEN '00000000-0000-0000-0000-00000000000' || (i % 6) END,
           'project', CASE WHEN i % 2 = 0 THEN 'proj-a' END,
           'tags', CASE WHEN i % 3 = 0 THEN jsonb_build_array('t' || (i % 2)) END,
           'created_at', '2025-03-02 12:00+00'::timestamptz + i * interval '9 minutes 41 seconds'))
         ORDER BY i)
    FROM generate_series(1, 200) i));
SELECT count(*) AS recorded_now
  FROM (SELECT record_ai_call('gpt-4o', 'v1', 'now ' || i, '{"text": "n"}', input_tokens => i,
                              output_tokens => 2, cost_usd => i / 100.0, duration_ms => 40 * i,
                              user_id => '00000000-0000-0000-0000-000000000001', project => 'proj-a')
          FROM generate_series(1, 10) i) x;
SELECT record_ai_call('claude-sonnet-4', 'v0', 'now jsonb', '{"text": "j"}',
                      '{"input_tokens": 5, "output_tokens": 6, "cost_usd": 0.25, "duration_ms": 333}'::jsonb,
                      'chat', '00000000-0000-0000-0000-000000000002') > 0 AS recorded_jsonb;
