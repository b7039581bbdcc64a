-- test/valgrind/citus.sql: what scripts/valgrind-citus.sh runs on the
-- coordinator of a Citus cluster, the coordinator under valgrind: every
-- path of aitrack that only a distributed ai_call takes (src/distributed.c,
-- reprice.c, tenant_citus.c, the stats over shards, the tenant's calls),
-- once or a few times.  The assertions are test/citus/run.sh's; here
-- valgrind looks on.  Errors expected by the script are caught.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION aitrack CASCADE;
-- Calls before distributing, priced (the 'vg-priced' model has a price).
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, valid_from)
VALUES ('vg-priced', 1, 2, '2020-01-01');
SELECT count(*) FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_build_object(
           'modelname', CASE WHEN i % 3 = 0 THEN 'vg-provided' ELSE 'vg-priced' END, 'version', '1',
           'prompt', 'p' || i, 'response', '{}'::jsonb,
           'input_tokens', 100 + i, 'output_tokens', i % 50,
           'cost_usd', CASE WHEN i % 3 = 0 THEN 0.001 END, 'duration_ms', 10 + i % 900,
           'user_id', '00000000-0000-0000-0000-' || lpad((i % 5)::text, 12, '0'),
           'project', 'proj-' || (i % 4), 'api_key', 'key-' || (i % 2),
           'tags', jsonb_build_array('t' || (i % 3)),
           'created_at', '2025-03-01 00:00+00'::timestamptz + i * interval '7 minutes')
         ORDER BY i)
    FROM generate_series(1, 1500) i));
SELECT aitrack_distribute(4);
SELECT aitrack_distribute(4);
-- Recording: both shapes, a batch, under a budget with a reservation.
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('vg all', 'all', 'lifetime', 1000);
SELECT ai_budget_reserve(0.01) AS r \gset
SELECT ai_budget_settle(:r, record_ai_call('vg-priced', '1', 'reserved', '{}', input_tokens => 10,
                                           output_tokens => 1, user_id => '00000000-0000-0000-0000-000000000001'));
SELECT record_ai_call('vg-priced', '1', 'json shape', '{}',
                      '{"input_tokens": 5, "output_tokens": 2}'::jsonb, 'success', '00000000-0000-0000-0000-000000000002') > 0;
SELECT count(*) FROM record_ai_calls((SELECT jsonb_agg(jsonb_build_object('modelname', 'vg-batch-' || (i % 3),
         'version', '1', 'prompt', 'b' || i, 'response', '{}'::jsonb, 'input_tokens', i)) FROM generate_series(1, 200) i));
-- The stats: from the rollups, from the shards (api_key, project, tag), a window cut inside hours.
SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{model}');
SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{api_key,project}');
SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{tag}');
SELECT count(*) FROM ai_usage_stats('2025-03-02 10:30+00', '2025-03-04 05:15+00', group_by => '{hour}');
-- Repricing: over 1,000 changed calls (two batches of ai_reprice_calls()), a dry run, nothing left.
UPDATE ai_model_price SET input_usd_per_mtok = 3 WHERE model = 'vg-priced';
SELECT calls_changed FROM ai_reprice('-infinity', 'infinity');
SELECT calls_changed FROM ai_reprice('-infinity', 'infinity', false);
SELECT calls_changed FROM ai_reprice('-infinity', 'infinity', false);
SELECT ai_reprice_calls('{}');
SELECT ai_reprice_calls(ARRAY[-1, 0, 9223372036854775807]::bigint[]);
DO $$ BEGIN PERFORM ai_reprice_calls(NULL);
EXCEPTION WHEN null_value_not_allowed THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
DO $$ BEGIN PERFORM ai_reprice_calls('{{1},{2}}'::bigint[]);
EXCEPTION WHEN array_subscript_error THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
DO $$ BEGIN PERFORM ai_reprice_calls('{1,NULL}'::bigint[]);
EXCEPTION WHEN null_value_not_allowed THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
SELECT ai_reprice_calls(ARRAY[i, i, i]) FROM (SELECT min(id) AS i FROM ai_call) m;
-- Deleting: by id, a purge, a model's calls.
SELECT count(*) FROM ai_delete_calls(ARRAY(SELECT id FROM ai_call ORDER BY id LIMIT 10));
CALL ai_purge_calls('2025-03-01 12:00+00', 25);
DELETE FROM ai_model WHERE modelname = 'vg-batch-1';
CALL ai_purge_content('2025-03-02 00:00+00', 100);
-- Refused writes and updates.
DO $$ BEGIN INSERT INTO ai_call (model_id, prompt, response) SELECT id, 'by hand', '{}' FROM ai_model LIMIT 1;
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
DO $$ BEGIN UPDATE ai_call SET cost_usd = 1 WHERE id = (SELECT max(id) FROM ai_call);
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
-- A tenant: records, reads its calls and stats, is refused ai_call and COPY.
CREATE ROLE vg_tenant;
GRANT aitrack_tenant, aitrack_reader TO vg_tenant;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('vg_tenant', '00000000-0000-0000-0000-000000000003');
SET ROLE vg_tenant;
SELECT record_ai_call('vg-priced', '1', 'tenant', '{}', input_tokens => 3) > 0;
SELECT count(*) > 0 FROM ai_tenant_calls();
SELECT count(*) FROM ai_usage_stats('-infinity', 'infinity', group_by => '{api_key}');
DO $$ BEGIN PERFORM count(*) FROM ai_call;
EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
DO $$ BEGIN PERFORM ai_reprice_calls('{1}');
EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
RESET ROLE;
-- Upkeep by hand.
CALL ai_rollup_rebuild();
SELECT ai_rollup_compact() >= 0;
SELECT ai_budget_recount();
-- TRUNCATE with aitrack.allow_drop: refused where Citus leaves the shards, then the rollups emptied.
SET aitrack.allow_drop = on;
SET citus.enable_ddl_propagation = off;
DO $$ BEGIN TRUNCATE ai_call;
EXCEPTION WHEN object_not_in_prerequisite_state THEN RAISE NOTICE 'refused: %', SQLERRM; END $$;
RESET citus.enable_ddl_propagation;
TRUNCATE ai_call;
RESET aitrack.allow_drop;
SELECT count(*) FROM ai_usage_rollup_total;
SELECT 'citus.sql done';
