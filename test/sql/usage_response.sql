-- Token counts read from the usage object of the provider's response, for
-- calls recorded without them, and the cost computed from them.
--
-- aitrack counts cache tokens inside input_tokens and reasoning tokens
-- inside output_tokens.  The responses below were written for this test in
-- the shape of each provider's API response (ids and text made up).  Rates
-- come from test/data/model_prices_sample.json, in USD per million tokens:
--
--   model                         input  output  cache read  cache write  reasoning
--   o3-mini                         1.1     4.4        0.55            -          -
--   gpt-4o-2024-08-06               2.5      10        1.25            -          -
--   claude-3-5-sonnet-20241022        3      15         0.3         3.75          -
--   gemini-1.5-pro                 1.25       5           -            -          -
--   gemini-2.5-flash               0.15     0.6      0.0375            -        3.5
--
-- ("-": that rate is not set; those tokens cost the input or output rate.)
CREATE EXTENSION aitrack;
\getenv abs_srcdir PG_ABS_SRCDIR
-- The sample's priced models (its image model and sample_spec are skipped).
SELECT count(*) AS prices_added
  FROM ai_load_prices(pg_read_file(:'abs_srcdir' || '/data/model_prices_sample.json')::jsonb)
 WHERE action = 'added';

CREATE TEMP VIEW call_usage AS
SELECT c.id, m.modelname, m.version, c.input_tokens, c.cache_read_input_tokens,
       c.cache_creation_input_tokens, c.output_tokens, c.reasoning_tokens,
       c.cost_usd, c.cost_source
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id;

--
-- OpenAI chat completions: prompt_tokens includes the cached tokens,
-- completion_tokens the reasoning tokens.
--   tokens: input 2006 (cache read 1920), output 300 (reasoning 192)
--   cost:   (2006 - 1920) * 1.1 + 1920 * 0.55 + 300 * 4.4
--         = 94.6 + 1056 + 1320 = 2470.6 per million = 0.0024706
-- The price is o3-mini's: there is no 'o3-mini-2025-01-31'.
--
SELECT record_ai_call('o3-mini', '2025-01-31', 'Prove that there are infinitely many primes.', $${
  "id": "chatcmpl-aitrack-0001",
  "object": "chat.completion",
  "created": 1738900000,
  "model": "o3-mini-2025-01-31",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "Suppose there were finitely many primes p1, ..., pn ...", "refusal": null, "annotations": []},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 192, "audio_tokens": 0,
                                  "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_aitrack01"
}$$) AS id;
SELECT * FROM call_usage WHERE id = 1;
SELECT (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        output_tokens, reasoning_tokens, cost_usd, cost_source)
       IS NOT DISTINCT FROM (2006, 1920, NULL::int, 300, 192, 0.0024706, 'computed')
       AS as_computed_by_hand
  FROM ai_call WHERE id = 1;

--
-- OpenAI responses API: input_tokens includes input_tokens_details.cached_tokens,
-- output_tokens includes output_tokens_details.reasoning_tokens.
--   gpt-4o 2024-08-06, priced as gpt-4o-2024-08-06:
--   tokens: input 1536 (cache read 1024), output 250 (reasoning 0)
--   cost:   (1536 - 1024) * 2.5 + 1024 * 1.25 + 250 * 10
--         = 1280 + 1280 + 2500 = 5060 per million = 0.00506
--
SELECT record_ai_call('gpt-4o', '2024-08-06', 'Summarise the attached contract.', $${
  "id": "resp_aitrack0002",
  "object": "response",
  "created_at": 1741476542,
  "status": "completed",
  "error": null,
  "incomplete_details": null,
  "model": "gpt-4o-2024-08-06",
  "output": [{
    "type": "message",
    "id": "msg_aitrack0002",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "The contract runs for two years ...", "annotations": []}]
  }],
  "parallel_tool_calls": true,
  "temperature": 1.0,
  "usage": {
    "input_tokens": 1536,
    "input_tokens_details": {"cached_tokens": 1024},
    "output_tokens": 250,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 1786
  }
}$$) AS id;
SELECT * FROM call_usage WHERE id = 2;
SELECT (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        output_tokens, reasoning_tokens, cost_usd, cost_source)
       IS NOT DISTINCT FROM (1536, 1024, NULL::int, 250, 0, 0.00506, 'computed')
       AS as_computed_by_hand
  FROM ai_call WHERE id = 2;

--   o3-mini through the responses API, with reasoning:
--   tokens: input 1200 (cache read 1024), output 640 (reasoning 448)
--   cost:   (1200 - 1024) * 1.1 + 1024 * 0.55 + 640 * 4.4
--         = 193.6 + 563.2 + 2816 = 3572.8 per million = 0.0035728
SELECT record_ai_call('o3-mini', '2025-01-31', 'Plan a three-day trip to Lisbon.', $${
  "id": "resp_aitrack0003",
  "object": "response",
  "created_at": 1741476600,
  "status": "completed",
  "model": "o3-mini-2025-01-31",
  "output": [
    {"type": "reasoning", "id": "rs_aitrack0003", "summary": []},
    {"type": "message", "id": "msg_aitrack0003", "status": "completed", "role": "assistant",
     "content": [{"type": "output_text", "text": "Day 1: Alfama and the castle ...", "annotations": []}]}
  ],
  "reasoning": {"effort": "medium", "summary": null},
  "usage": {
    "input_tokens": 1200,
    "input_tokens_details": {"cached_tokens": 1024},
    "output_tokens": 640,
    "output_tokens_details": {"reasoning_tokens": 448},
    "total_tokens": 1840
  }
}$$) AS id;
SELECT * FROM call_usage WHERE id = 3;
SELECT (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        output_tokens, reasoning_tokens, cost_usd, cost_source)
       IS NOT DISTINCT FROM (1200, 1024, NULL::int, 640, 448, 0.0035728, 'computed')
       AS as_computed_by_hand
  FROM ai_call WHERE id = 3;

--
-- Anthropic messages: input_tokens leaves the cache out; cache reads and
-- cache writes are counted beside it, and aitrack adds them in.
--   tokens: input 30 + 2000 + 1000 = 3030 (cache read 2000, cache write
--           1000), output 350 (no reasoning count)
--   cost:   (3030 - 2000 - 1000) * 3 + 2000 * 0.3 + 1000 * 3.75 + 350 * 15
--         = 90 + 600 + 3750 + 5250 = 9690 per million = 0.00969
--
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'Review this pull request.', $${
  "id": "msg_aitrack0004",
  "type": "message",
  "role": "assistant",
  "model": "claude-3-5-sonnet-20241022",
  "content": [{"type": "text", "text": "The change looks right, but the loop in parse() ..."}],
  "stop_reason": "end_turn",
  "stop_sequence": null,
  "usage": {
    "input_tokens": 30,
    "cache_creation_input_tokens": 1000,
    "cache_read_input_tokens": 2000,
    "output_tokens": 350
  }
}$$) AS id;
SELECT * FROM call_usage WHERE id = 4;
SELECT (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        output_tokens, reasoning_tokens, cost_usd, cost_source)
       IS NOT DISTINCT FROM (3030, 2000, 1000, 350, NULL::int, 0.00969, 'computed')
       AS as_computed_by_hand
  FROM ai_call WHERE id = 4;

--
-- Google Gemini: usageMetadata.  promptTokenCount includes the cached
-- content; tool-use prompt tokens are counted beside it and added; the
-- thoughts are output counted beside candidatesTokenCount and added.
--   gemini-2.5-flash:
--   tokens: input 1500 + 24 = 1524 (cache read 1024), output 200 + 800 = 1000
--           (reasoning 800)
--   cost:   (1524 - 1024) * 0.15 + 1024 * 0.0375 + (1000 - 800) * 0.6 + 800 * 3.5
--         = 75 + 38.4 + 120 + 2800 = 3033.4 per million = 0.0030334
--
SELECT record_ai_call('gemini-2.5-flash', 'stable', 'What is the weather in Oslo?', $${
  "candidates": [{
    "content": {"parts": [{"text": "It is 4 degrees and raining in Oslo."}], "role": "model"},
    "finishReason": "STOP",
    "index": 0
  }],
  "usageMetadata": {
    "promptTokenCount": 1500,
    "candidatesTokenCount": 200,
    "totalTokenCount": 2524,
    "cachedContentTokenCount": 1024,
    "toolUsePromptTokenCount": 24,
    "thoughtsTokenCount": 800,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1500}],
    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 1024}]
  },
  "modelVersion": "gemini-2.5-flash",
  "responseId": "aitrack0005"
}$$) AS id;
SELECT * FROM call_usage WHERE id = 5;
SELECT (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        output_tokens, reasoning_tokens, cost_usd, cost_source)
       IS NOT DISTINCT FROM (1524, 1024, NULL::int, 1000, 800, 0.0030334, 'computed')
       AS as_computed_by_hand
  FROM ai_call WHERE id = 5;

--   gemini-1.5-pro 002, priced as gemini-1.5-pro, no cache, no thoughts:
--   tokens: input 1000, output 100
--   cost:   1000 * 1.25 + 100 * 5 = 1250 + 500 = 1750 per million = 0.00175
SELECT record_ai_call('gemini-1.5-pro', '002', 'Name three rivers in France.', $${
  "candidates": [{
    "content": {"parts": [{"text": "The Loire, the Seine and the Rhone."}], "role": "model"},
    "finishReason": "STOP",
    "avgLogprobs": -0.05
  }],
  "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 100, "totalTokenCount": 1100},
  "modelVersion": "gemini-1.5-pro-002"
}$$) AS id;
SELECT * FROM call_usage WHERE id = 6;
SELECT (input_tokens, cache_read_input_tokens, cache_creation_input_tokens,
        output_tokens, reasoning_tokens, cost_usd, cost_source)
       IS NOT DISTINCT FROM (1000, NULL::int, NULL::int, 100, NULL::int, 0.00175, 'computed')
       AS as_computed_by_hand
  FROM ai_call WHERE id = 6;

--
-- Token counts given by the caller win, all or nothing: when any of the
-- five is given, the response is not read at all.
--
CREATE TEMP TABLE chat_response AS
SELECT response FROM ai_call WHERE id = 1;
-- input and output given: the cached and reasoning counts of the response
-- are not taken either.  10 * 1.1 + 5 * 4.4 = 33 per million = 0.000033
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      input_tokens => 10, output_tokens => 5) AS id;
-- Only a reasoning count given: input and output stay unknown, and so does
-- the cost.
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      reasoning_tokens => 0) AS id;
-- Only a cache count given: the same.
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      cache_read_input_tokens => 0) AS id;
-- Other arguments do not stop the response from being read.
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      duration_ms => 2300, time_to_first_token_ms => 900) AS id;
SELECT * FROM call_usage WHERE id BETWEEN 7 AND 10 ORDER BY id;
SELECT id, cost_usd = 0.000033 AS as_computed_by_hand FROM ai_call WHERE id = 7;
SELECT id, cost_usd = 0.0024706 AS same_as_call_1 FROM ai_call WHERE id = 10;

--
-- The seed's shape: metrics without token keys reads the response; metrics
-- with one does not.  JSON null means "not given".
--
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      '{"duration_ms": 2300.4, "time_to_first_token_ms": 900}'::jsonb) AS id;
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      '{"input_tokens": 10, "output_tokens": 5}'::jsonb) AS id;
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      '{"input_tokens": null, "status": "success"}'::jsonb) AS id;
SELECT record_ai_call('o3-mini', '2025-01-31', 'p', (SELECT response FROM chat_response),
                      '{"cache_read_input_tokens": 0}'::jsonb) AS id;
SELECT * FROM call_usage WHERE id BETWEEN 11 AND 14 ORDER BY id;
SELECT id, duration_ms, time_to_first_token_ms FROM ai_call WHERE id = 11;

--
-- No usage object we know: tokens unknown, cost unknown (never 0).
--
-- A chat completion without usage (streamed without include_usage).
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', $${
  "id": "chatcmpl-aitrack-0015",
  "object": "chat.completion",
  "model": "gpt-4o-2024-08-06",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}]
}$$) AS id;
-- An error body.
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p',
                      '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
                      status => 'error') AS id;
-- usage that is not an object, or an empty one.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{"usage": null}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{"usage": [2006, 300]}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '{"usage": {}}') AS id;
SELECT record_ai_call('gemini-1.5-pro', '002', 'p', '{"usageMetadata": "none"}') AS id;
-- Usage keys that are not where the providers put them.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"choices": [], "prompt_tokens": 5, "completion_tokens": 1}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"result": {"usage": {"prompt_tokens": 5, "completion_tokens": 1}}}') AS id;
-- A response that is not an object: an array, a string, a number, null.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '[{"usage": {"prompt_tokens": 5, "completion_tokens": 1}}]') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '"usage: 5 prompt tokens"') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', '42') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p', 'null') AS id;
SELECT * FROM call_usage WHERE id BETWEEN 15 AND 26 ORDER BY id;
SELECT count(*) AS unknown_cost_calls FROM ai_call
 WHERE id BETWEEN 15 AND 26 AND cost_usd IS NULL AND cost_source = 'unknown';

--
-- Odd counts are taken as not reported (the call is still recorded, never
-- an error): strings, negative, fractional, beyond integer, booleans,
-- objects.  A known input with an unknown output (or the reverse) leaves the
-- cost unknown.
--
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": "2006", "completion_tokens": 300}}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": -5, "completion_tokens": 300}}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 12.5, "completion_tokens": 300}}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1000, "completion_tokens": 3000000000}}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1000, "completion_tokens": 1e100}}') AS id;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": true, "completion_tokens": {"n": 3}}}') AS id;
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p',
                      '{"usage": {"input_tokens": "30", "output_tokens": -1}}') AS id;
SELECT record_ai_call('gemini-2.5-flash', 'stable', 'p',
                      '{"usageMetadata": {"promptTokenCount": 0.5, "candidatesTokenCount": null}}') AS id;
SELECT * FROM call_usage WHERE id BETWEEN 27 AND 34 ORDER BY id;
-- An odd cache or reasoning count is dropped alone; what is left is priced
-- (the cached tokens at the input rate, as if none were cached):
--   1536 * 2.5 + 250 * 10 = 3840 + 2500 = 6340 per million = 0.00634
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"input_tokens": 1536, "output_tokens": 250,
                                  "input_tokens_details": {"cached_tokens": "1024"},
                                  "output_tokens_details": {"reasoning_tokens": -1}}}') AS id;
SELECT * FROM call_usage WHERE id = 35;
SELECT cost_usd = 0.00634 AS as_computed_by_hand FROM ai_call WHERE id = 35;
-- Whole numbers written with a fraction or an exponent are counts:
--   1000 * 2.5 + 20 * 10 = 2700 per million = 0.0027
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 1e3, "completion_tokens": 20.000}}') AS id;
SELECT * FROM call_usage WHERE id = 36;
SELECT cost_usd = 0.0027 AS as_computed_by_hand FROM ai_call WHERE id = 36;
-- The largest integer is a count.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 2147483647, "completion_tokens": 0}}') AS id;
SELECT * FROM call_usage WHERE id = 37;
SELECT cost_usd = 2147483647 * 2.5 / 1000000 AS as_computed_by_hand FROM ai_call WHERE id = 37;

-- Gemini leaves zero counts out (proto3 JSON): with the prompt count there,
-- no candidatesTokenCount means no output.  1000 * 1.25 = 0.00125
SELECT record_ai_call('gemini-1.5-pro', '002', 'p',
                      '{"usageMetadata": {"promptTokenCount": 1000, "totalTokenCount": 1000}}') AS id \gset
SELECT input_tokens, output_tokens, reasoning_tokens, cost_usd, cost_source
  FROM ai_call WHERE id = :id;
-- Parts that exceed their whole are dropped and the call is still recorded
-- and priced on the whole: 10 * 2.5 + 5 * 10 = 75 per million.
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p',
                      '{"usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                  "prompt_tokens_details": {"cached_tokens": 20},
                                  "completion_tokens_details": {"reasoning_tokens": 6}}}') AS id \gset
SELECT input_tokens, cache_read_input_tokens, output_tokens, reasoning_tokens, cost_usd
  FROM ai_call WHERE id = :id;
-- Anthropic's input plus cache counts beyond an integer: input is unknown,
-- so the cache counts cannot be placed either; the cost is unknown.
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p',
                      '{"usage": {"input_tokens": 5, "output_tokens": 1,
                                  "cache_read_input_tokens": 2000000000,
                                  "cache_creation_input_tokens": 2000000000}}') AS id \gset
SELECT input_tokens, cache_read_input_tokens, cache_creation_input_tokens, output_tokens,
       cost_usd, cost_source
  FROM ai_call WHERE id = :id;
-- Given as arguments without input_tokens, such cache counts are kept (the
-- table's check adds them up in bigint).
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'p', '{}',
                      cache_read_input_tokens => 2000000000,
                      cache_creation_input_tokens => 2000000000) AS id \gset
SELECT input_tokens, cache_read_input_tokens, cache_creation_input_tokens, cost_source
  FROM ai_call WHERE id = :id;

SELECT count(*) AS calls FROM ai_call;

DROP VIEW call_usage;
DROP TABLE chat_response;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
