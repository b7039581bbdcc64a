-- Deleting a model deletes its calls (ON DELETE CASCADE), and nothing else;
-- recording for a deleted, renamed or re-created model still works in the
-- same session, whose model cache must never hand out a stale id.
CREATE EXTENSION aitrack;

SELECT record_ai_call('gpt-4o', 'v1', 'p1', '{}') AS a1,
       record_ai_call('gpt-4o', 'v1', 'p2', '{}') AS a2,
       record_ai_call('claude', 'v1', 'p3', '{}') AS b1;
SELECT id, modelname FROM ai_model ORDER BY id;

DELETE FROM ai_model WHERE modelname = 'gpt-4o';
SELECT m.modelname, c.prompt FROM ai_call c JOIN ai_model m ON m.id = c.model_id ORDER BY c.id;

-- This session cached gpt-4o's id; the model is gone, so it is created anew
-- under a new id and the call lands there.
SELECT record_ai_call('gpt-4o', 'v1', 'p4', '{}') AS a4;
SELECT id, modelname FROM ai_model ORDER BY id;
SELECT m.id AS model_id, m.modelname, c.prompt
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id ORDER BY c.id;

-- Renaming a model row: the old name is a new model, the renamed row keeps
-- its calls.
UPDATE ai_model SET modelname = 'claude-renamed' WHERE modelname = 'claude';
SELECT record_ai_call('claude', 'v1', 'p5', '{}') AS b2;
SELECT m.id AS model_id, m.modelname, c.prompt
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id ORDER BY c.id;

-- A model id taken over by another model (ids set by hand): the cached id
-- for gpt-4o now points at a row with another name and must not be used.
DELETE FROM ai_model WHERE modelname = 'gpt-4o';
INSERT INTO ai_model (id, modelname, version)
     SELECT max(id) + 1, 'impostor', 'v1' FROM ai_model;
UPDATE ai_model SET id = 3 WHERE modelname = 'impostor';
SELECT record_ai_call('gpt-4o', 'v1', 'p6', '{}') AS a6;
SELECT m.id AS model_id, m.modelname, c.prompt
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id ORDER BY c.id;

-- Dropping every model empties the ledger.
DELETE FROM ai_model;
SELECT count(*) AS calls FROM ai_call;

-- 1.4: no foreign key, so TRUNCATE ai_model CASCADE would not reach the
-- calls; TRUNCATE is guarded (drop_guard), and on purpose empties both.
SELECT record_ai_call('gpt-4o', 'v1', 'p7', '{}') > 0 AS recorded;
SET aitrack.allow_drop = on;
TRUNCATE ai_model, ai_call;
RESET aitrack.allow_drop;
SELECT count(*) AS calls FROM ai_call;
SELECT record_ai_call('gpt-4o', 'v1', 'p8', '{}') > 0 AS recorded;
SELECT m.modelname, c.prompt FROM ai_call c JOIN ai_model m ON m.id = c.model_id;

-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
