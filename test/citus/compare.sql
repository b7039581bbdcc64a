-- test/citus/compare.sql: what test/citus/run.sh compares between the
-- distributed database and the one on one server, as text: every call
-- (ids included), the stats by every dimension, with filters, over all
-- time and over a window cut inside hours, and the budgets.  The calls
-- recorded now were made a moment apart in the two: their times are cut
-- to the hour (run.sh records them in one hour).
\pset format unaligned
\pset tuples_only on
SELECT 'calls', count(*), count(DISTINCT id), min(id), max(id), sum(input_tokens), sum(cost_usd) FROM ai_call;
SELECT 'call', c.id, m.modelname, m.version, c.prompt, CASE WHEN c.created_at > '2026-01-01' THEN date_trunc('hour', c.created_at, 'UTC') ELSE c.created_at END, c.cost_usd, c.duration_ms,
       c.user_id, c.project, c.tags, c.extra
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id ORDER BY c.id;
SELECT 'stats ' || g.dims, to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r
  FROM unnest(ARRAY['{}', '{model}', '{modelname}', '{call_type}', '{status}', '{user}', '{project}', '{api_key}',
                    '{tag}', '{model,user}', '{day}', '{hour,modelname}', '{week,status}', '{month,project}',
                    '{user,tag}', '{day,project,api_key}']) AS g(dims),
       LATERAL ai_usage_stats('-infinity', 'infinity', group_by => g.dims::text[]) s
 ORDER BY 1, 2;
SELECT 'window ' || g.dims, to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r
  FROM unnest(ARRAY['{}', '{model}', '{user}', '{hour}', '{project}', '{tag}']) AS g(dims),
       LATERAL ai_usage_stats('2025-03-01 10:30+00', '2025-03-03 05:15+00', group_by => g.dims::text[]) s
 ORDER BY 1, 2;
SELECT 'filtered', to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r FROM ai_usage_stats('-infinity', 'infinity', modelname => 'gpt-4o', group_by => '{user}') s ORDER BY 2;
SELECT 'filtered', to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r FROM ai_usage_stats('-infinity', 'infinity', user_id => '00000000-0000-0000-0000-000000000001', group_by => '{day}') s ORDER BY 2;
SELECT 'filtered', to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r FROM ai_usage_stats('-infinity', 'infinity', call_type => 'embedding') s ORDER BY 2;
SELECT 'filtered', to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r FROM ai_usage_stats('-infinity', 'infinity', project => 'proj-a', group_by => '{status}') s ORDER BY 2;
SELECT 'filtered', to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r FROM ai_usage_stats('-infinity', 'infinity', tag => 'common', group_by => '{modelname}') s ORDER BY 2;
SELECT 'filtered', to_jsonb(s) || jsonb_build_object('first_call', CASE WHEN s.first_call > '2026-01-01' THEN date_trunc('hour', s.first_call, 'UTC') ELSE s.first_call END, 'last_call', CASE WHEN s.last_call > '2026-01-01' THEN date_trunc('hour', s.last_call, 'UTC') ELSE s.last_call END) AS r FROM ai_usage_stats('-infinity', 'infinity', api_key => 'key-1', group_by => '{}') s;
SELECT 'budget', budget, scope_value, spent_usd, calls FROM ai_budget_status ORDER BY 2, 3;
