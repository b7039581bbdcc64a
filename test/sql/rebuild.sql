-- 1.4: ai_rollup_rebuild() recomputes the rollups from ai_call after writes
-- that skipped the rollup triggers, in whole UTC days (24 hours, whatever
-- the session's time zone: Lord Howe Island's clocks move by half an hour),
-- and ai_rollup_compact() folds what it wrote; the stats then equal the table.
SET timezone = 'UTC';
CREATE EXTENSION aitrack;
CREATE FUNCTION pg_temp.stats_match() RETURNS TABLE (groups bigint, differing bigint) LANGUAGE sql AS $$
    WITH hand AS (
        SELECT date_trunc('hour', c.created_at, 'UTC') AS bucket, m.modelname, count(*) AS calls,
               sum(c.input_tokens) AS input_tokens
          FROM ai_call c JOIN ai_model m ON m.id = c.model_id GROUP BY 1, 2),
    stats AS (
        SELECT bucket, modelname, calls, input_tokens
          FROM ai_usage_stats(group_by => '{hour,modelname}') WHERE calls > 0)
    SELECT (SELECT count(*) FROM hand),
           (SELECT count(*) FROM ((TABLE hand EXCEPT ALL TABLE stats) UNION ALL (TABLE stats EXCEPT ALL TABLE hand)) d)
$$;
SELECT count(*) FROM record_ai_calls('[
  {"modelname": "m", "version": "v", "prompt": "p", "response": {}, "created_at": "2024-04-06T13:10:00Z", "input_tokens": 3},
  {"modelname": "m", "version": "v", "prompt": "p", "response": {}, "created_at": "2024-04-06T23:59:00Z", "input_tokens": 4},
  {"modelname": "m", "version": "v", "prompt": "p", "response": {}, "created_at": "2024-04-07T00:10:00Z", "input_tokens": 7},
  {"modelname": "m", "version": "v", "prompt": "p", "response": {}, "created_at": "2024-04-07T00:45:00Z", "input_tokens": 5},
  {"modelname": "m", "version": "v", "prompt": "p", "response": {}, "created_at": "2024-04-08T02:00:00Z", "input_tokens": 1}]');
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT * FROM pg_temp.stats_match();
-- Writes with the triggers disabled leave the rollups behind.
ALTER TABLE ai_call DISABLE TRIGGER USER;
INSERT INTO ai_call (model_id, created_at, prompt, response, input_tokens, cost_source)
SELECT id, '2024-04-07 00:30+00', 'no trigger', '{}', 100, 'unknown' FROM ai_model;
DELETE FROM ai_call WHERE input_tokens = 4;
ALTER TABLE ai_call ENABLE TRIGGER USER;
ALTER TABLE ai_call ENABLE ALWAYS TRIGGER ai_call_rollup_insert, ENABLE ALWAYS TRIGGER ai_call_rollup_update,
                    ENABLE ALWAYS TRIGGER ai_call_rollup_delete, ENABLE ALWAYS TRIGGER ai_call_rollup_truncate;
SELECT * FROM pg_temp.stats_match();
-- Rebuilt in another time zone, in the days around the change.
SET timezone = 'Australia/Lord_Howe';
CALL ai_rollup_rebuild('2024-04-06 00:00+00', '2024-04-08 00:00+00');
SET timezone = 'UTC';
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT * FROM pg_temp.stats_match();
SELECT bucket, calls, input_tokens FROM ai_usage_stats(group_by => '{hour}') ORDER BY bucket;
-- The whole ledger, and bad arguments.
CALL ai_rollup_rebuild();
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT * FROM pg_temp.stats_match();
CALL ai_rollup_rebuild('2024-04-08', '2024-04-07');
-- Only what aitrack_admin may run.
CREATE ROLE regress_aitrack_rebuilder;
SET ROLE regress_aitrack_rebuilder;
CALL ai_rollup_rebuild();
RESET ROLE;
DROP ROLE regress_aitrack_rebuilder;
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
