-- record_ai_call() in the seed's shape: record_ai_call(modelname, version,
-- prompt, response, metrics jsonb, call_type, user_id).
CREATE EXTENSION aitrack;

-- The seed's example: every metrics key.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'Translate', '{"text": "bonjour"}',
                      '{"input_tokens": 12, "reasoning_tokens": 0, "output_tokens": 3,
                        "cost_usd": 0.000075, "duration_ms": 412, "status": "success",
                        "extra": {"temperature": 0}}'::jsonb,
                      'translation', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS id;

-- Keys left out take the seed's defaults: status success, extra {}.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{}'::jsonb) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', '{"status": "rate_limited"}'::jsonb) AS id;

-- JSON null means "not given", as Python's None in metrics.get() does.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}',
                      '{"input_tokens": null, "cost_usd": null, "status": null,
                        "extra": null}'::jsonb) AS id;

-- A NULL metrics object is no metrics at all.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}', NULL::jsonb) AS id;

-- Durations measured as floats are rounded to the millisecond; cost keeps
-- every digit the JSON number had.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}',
                      '{"duration_ms": 412.5, "cost_usd": 0.000000123456789123}'::jsonb) AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{}',
                      '{"duration_ms": 0.4, "input_tokens": 1e3}'::jsonb) AS id;

-- Named arguments work in this shape too.
SELECT record_ai_call(modelname => 'claude-3-haiku', version => '20240307', prompt => 'p',
                      response => '{}', metrics => '{"output_tokens": 7}',
                      user_id => 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS id;

SELECT c.id, m.modelname, m.version, c.input_tokens, c.reasoning_tokens,
       c.output_tokens, c.cost_usd, c.duration_ms, c.call_type, c.status,
       c.user_id, c.extra
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 ORDER BY c.id;

-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
