--
-- pricing_rules: the cost aitrack records for a call under every pricing
-- rule of 1.5 (context tiers, service tiers, 5-minute and 1-hour cache
-- writes, audio and image tokens, web search and per-request fees), for
-- each provider's response format, against the cost worked out BY HAND
-- here from the provider's published rates.  No expected value comes from
-- aitrack's own cost code: each is arithmetic on the rates and the counts,
-- written out in the call to pg_temp.hand() below.
--
-- The rules (src/price.c's header comment; the fallback kinds are in
-- src/price_rules.c): rates are USD per million tokens; every count is a
-- part of input_tokens or output_tokens, priced once at the rate of its
-- kind:
--   text input   = input - cache reads - cache writes - uncached audio - images
--   cache reads  (text at cache_read, audio at cache_read_audio)
--   cache writes (5-minute at cache_creation, 1-hour at cache_creation_1h)
--   text output  = output - reasoning - audio - images
-- plus web searches times the fee per query at the search context size
-- (medium when not given), plus the fee per request.  A context tier
-- applies when input_tokens (the whole prompt, cache reads and writes
-- included) exceeds its above_tokens, and then the whole call moves to it.
-- A rate is looked up in the call's service tier (its context tier, then
-- its base), then the standard context tier, then the standard base; a
-- kind found nowhere costs what its fallback kind costs (cache reads,
-- writes, audio and images: input; reasoning, audio and image output:
-- output; 1-hour writes: 5-minute writes; cached audio: cache reads).
-- No cost (NULL, cost_source unknown) rather than a wrong one: a service
-- tier the price has no rates for, web searches the price has no fee for.
--
-- Models are named 'pr-...' so that nothing here can meet another test's
-- rows; every query filters on them.  Responses were written for this test
-- in each provider's current response format (ids and text made up).
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';

-- pg_temp.try(), shared by the tests that show error messages.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_sql :abs_srcdir '/sql/include/try.sql'
\i :try_sql

-- A clean start even in a database where these models were seen before.
DELETE FROM ai_call WHERE model_id IN (SELECT id FROM ai_model WHERE modelname LIKE 'pr-%');
DELETE FROM ai_model_price WHERE model LIKE 'pr-%';

--
-- A call as recorded (its counts, tier, searches and provider, compactly),
-- its cost and cost_source, the hand-computed cost, and ok: the recorded
-- cost is the hand one, and cost_source is computed (unknown when the
-- hand cost is NULL).
--
CREATE FUNCTION pg_temp.hand(call_id bigint, expected numeric)
RETURNS TABLE (id bigint, recorded text, cost_usd numeric, cost_source text,
               expected numeric, ok boolean)
LANGUAGE sql AS $$
    SELECT c.id,
           concat_ws(' ', 'in=' || c.input_tokens, 'cr=' || c.cache_read_input_tokens,
                     'cw=' || c.cache_creation_input_tokens, 'cw1h=' || c.cache_creation_1h_input_tokens,
                     'ia=' || c.input_audio_tokens, 'cra=' || c.cache_read_audio_tokens,
                     'ii=' || c.input_image_tokens, 'out=' || c.output_tokens,
                     'rs=' || c.reasoning_tokens, 'oa=' || c.output_audio_tokens,
                     'oi=' || c.output_image_tokens, 'ws=' || c.web_search_requests,
                     'size=' || c.web_search_context_size, 'tier=' || c.service_tier,
                     'prov=' || c.provider),
           c.cost_usd, c.cost_source, trim_scale(expected),
           c.cost_usd IS NOT DISTINCT FROM expected
             AND c.cost_source = CASE WHEN expected IS NULL THEN 'unknown' ELSE 'computed' END
      FROM ai_call c
     WHERE c.id = call_id
$$;

--
-- Prices, as the providers publish them (USD per million tokens unless
-- said otherwise).
--
-- Claude Sonnet 4.5 (Anthropic): prompts up to 200k tokens: input 3,
-- output 15, cache read 0.30, 5-minute cache write 3.75, 1-hour cache
-- write 6; above 200k (the whole request): 6, 22.50, 0.60, 7.50, 12.  Web
-- search 10 USD per 1000 searches.  Message Batches: half of each rate,
-- cache rates included (1.50, 7.50, 0.15, 1.875, 3; above 200k 3, 11.25,
-- 0.30, 3.75, 6).  No Priority Tier rates here.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok, cache_creation_usd_per_mtok,
                            cache_creation_1h_usd_per_mtok,
                            web_search_low_usd, web_search_medium_usd, web_search_high_usd,
                            tiers, service_tiers)
VALUES ('pr-claude-sonnet-4-5-20250929', 'anthropic', 'pricing_rules', 3, 15, 0.30, 3.75, 6,
        0.01, 0.01, 0.01,
        '[{"above_tokens": 200000, "input": 6, "output": 22.50, "cache_read": 0.60,
           "cache_creation": 7.50, "cache_creation_1h": 12}]',
        '{"batch": {"input": 1.50, "output": 7.50, "cache_read": 0.15, "cache_creation": 1.875,
                    "cache_creation_1h": 3,
                    "tiers": [{"above_tokens": 200000, "input": 3, "output": 11.25, "cache_read": 0.30,
                               "cache_creation": 3.75, "cache_creation_1h": 6}]}}');

-- GPT-5 (OpenAI): standard input 1.25, cached input 0.125, output 10
-- (reasoning tokens are output tokens; no rate of their own); flex 0.625,
-- 0.0625, 5; priority 2.50, 0.25, 20; batch 0.625, 0.0625, 5.  Web search
-- tool: 10 USD per 1000 calls.  No scale tier rates here.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok,
                            web_search_low_usd, web_search_medium_usd, web_search_high_usd,
                            service_tiers)
VALUES ('pr-gpt-5', 'openai', 'pricing_rules', 1.25, 10, 0.125, 0.01, 0.01, 0.01,
        '{"flex":     {"input": 0.625, "output": 5,  "cache_read": 0.0625},
          "priority": {"input": 2.50,  "output": 20, "cache_read": 0.25},
          "batch":    {"input": 0.625, "output": 5,  "cache_read": 0.0625}}');

-- Gemini 2.5 Pro (Google): prompts up to 200k tokens: input 1.25, output
-- 10 (thinking included), context cache read 0.125; above 200k: 2.50, 15,
-- 0.25.  Batch: half the input and output rates (0.625 and 5; above 200k
-- 1.25 and 7.50); this price lists no cache rate for batch, so a batch
-- call's cache reads cost the standard cache rate of its context tier.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok, tiers, service_tiers)
VALUES ('pr-gemini-2.5-pro', 'gcp.gemini', 'pricing_rules', 1.25, 10, 0.125,
        '[{"above_tokens": 200000, "input": 2.50, "output": 15, "cache_read": 0.25}]',
        '{"batch": {"input": 0.625, "output": 5,
                    "tiers": [{"above_tokens": 200000, "input": 1.25, "output": 7.50}]}}');

-- Gemini 2.5 Flash (Google): input 0.30 (text, image, video), audio input
-- 1.00, output 2.50 (thinking included), context cache read 0.03 (text,
-- image, video) and 0.10 (audio).  Images have no rate of their own: input.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok, input_audio_usd_per_mtok,
                            cache_read_audio_usd_per_mtok)
VALUES ('pr-gemini-2.5-flash', 'gcp.gemini', 'pricing_rules', 0.30, 2.50, 0.03, 1.00, 0.10);

-- Gemini 2.5 Flash Image (Google): input 0.30, text output 2.50, image
-- output 30 (1290 tokens an image: 0.039 USD).
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            output_image_usd_per_mtok)
VALUES ('pr-gemini-2.5-flash-image', 'gcp.gemini', 'pricing_rules', 0.30, 2.50, 30);

-- gpt-4o-audio-preview (OpenAI): text input 2.50, text output 10, audio
-- input 40, audio output 80.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            input_audio_usd_per_mtok, output_audio_usd_per_mtok)
VALUES ('pr-gpt-4o-audio-preview', 'openai', 'pricing_rules', 2.50, 10, 40, 80);

-- gpt-realtime (OpenAI): text input 4, cached input 0.40, text output 16;
-- audio input 32, cached audio input 0.40, audio output 64; image input 5
-- (cached image input 0.50: aitrack has no rate kind for it, cached images
-- are cache reads).  Cached audio is left to fall back on the cache read
-- rate, which is the same 0.40.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok, input_audio_usd_per_mtok,
                            output_audio_usd_per_mtok, input_image_usd_per_mtok)
VALUES ('pr-gpt-realtime', 'openai', 'pricing_rules', 4, 16, 0.40, 32, 64, 5);

-- gpt-4o-search-preview (OpenAI): input 2.50, output 10; web search per
-- 1000 queries by search context size: low 30, medium 35, high 50 USD.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            web_search_low_usd, web_search_medium_usd, web_search_high_usd)
VALUES ('pr-gpt-4o-search-preview', 'openai', 'pricing_rules', 2.50, 10, 0.030, 0.035, 0.050);

-- gpt-4.1 (OpenAI): input 2, cached input 0.50, output 8; deliberately
-- without a web search fee.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok)
VALUES ('pr-gpt-4.1', 'openai', 'pricing_rules', 2, 8, 0.50);

-- Perplexity Sonar: input 1, output 1, and a request fee of 5 USD per 1000
-- requests at the low search context size.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            request_usd)
VALUES ('pr-sonar', 'perplexity', 'pricing_rules', 1, 1, 0.005);

-- gpt-image-1 (OpenAI): text input 5, cached text input 1.25, image input
-- 10, image output 40 (its only output).
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok, input_image_usd_per_mtok)
VALUES ('pr-gpt-image-1', 'openai', 'pricing_rules', 5, 40, 1.25, 10);

-- Qwen3-Max (Alibaba Cloud Model Studio, international): three context
-- tiers: prompts up to 32k: input 1.20, output 6; above 32k: 2.40, 12;
-- above 128k: 3, 15.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok, tiers)
VALUES ('pr-qwen3-max', 'dashscope', 'pricing_rules', 1.20, 6,
        '[{"above_tokens": 32000, "input": 2.40, "output": 12},
          {"above_tokens": 128000, "input": 3, "output": 15}]');

-- gpt-4o-mini-search-preview (OpenAI): input 0.15, output 0.60; web
-- search per 1000 queries low 25, medium 27.50, and the high fee left out
-- here, as a price list that lacks it would.
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            web_search_low_usd, web_search_medium_usd)
VALUES ('pr-gpt-4o-mini-search-preview', 'openai', 'pricing_rules', 0.15, 0.60, 0.025, 0.0275);

-- gpt-4o (OpenAI), two periods: at launch input 5, output 15 (batch 2.50,
-- 7.50); from 2024-10-02, when the alias moved to gpt-4o-2024-08-06,
-- input 2.50, cached input 1.25, output 10 (batch 1.25, 5).  No provider
-- on these rows: the calls get theirs from the response's shape.
INSERT INTO ai_model_price (model, source, valid_from, valid_until, input_usd_per_mtok,
                            output_usd_per_mtok, cache_read_usd_per_mtok, service_tiers)
VALUES ('pr-gpt-4o', 'pricing_rules', '2024-05-13 00:00+00', '2024-10-02 00:00+00', 5, 15, NULL,
        '{"batch": {"input": 2.50, "output": 7.50}}'),
       ('pr-gpt-4o', 'pricing_rules', '2024-10-02 00:00+00', 'infinity', 2.50, 10, 1.25,
        '{"batch": {"input": 1.25, "output": 5}}');

SELECT model, valid_from, valid_until, provider, input_usd_per_mtok AS input,
       output_usd_per_mtok AS output, tiers <> '[]' AS has_tiers,
       (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(service_tiers) AS k) AS service_tiers
  FROM ai_model_price WHERE model LIKE 'pr-%' ORDER BY model, valid_from;

--
-- Claude Sonnet 4.5, Anthropic messages API.  Anthropic's input_tokens
-- leaves the cache out: aitrack's input_tokens = input_tokens +
-- cache_read_input_tokens + cache_creation_input_tokens, and the 200k
-- threshold is on that whole prompt.
--

-- Exactly 200000 tokens of prompt (150000 + 30000 read + 15000 5-minute +
-- 5000 1-hour writes): not above 200k, base rates.
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Summarise the attached filings.', $${
  "id": "msg_01PrTest0001", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "The filings show ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 150000, "cache_creation_input_tokens": 20000,
            "cache_read_input_tokens": 30000,
            "cache_creation": {"ephemeral_5m_input_tokens": 15000, "ephemeral_1h_input_tokens": 5000},
            "output_tokens": 1000, "service_tier": "standard"}
}$$) AS sonnet_200000 \gset
-- rule: prompt of exactly 200000 tokens -> base rates
SELECT * FROM pg_temp.hand(:sonnet_200000,
    (150000*3 + 30000*0.30 + 15000*3.75 + 5000*6 + 1000*15)/1e6);

-- One token more (150001 + the same cache): the whole call at the
-- above-200k rates, output and cache included.
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Summarise the attached filings.', $${
  "id": "msg_01PrTest0002", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "The filings show ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 150001, "cache_creation_input_tokens": 20000,
            "cache_read_input_tokens": 30000,
            "cache_creation": {"ephemeral_5m_input_tokens": 15000, "ephemeral_1h_input_tokens": 5000},
            "output_tokens": 1000, "service_tier": "standard"}
}$$) AS sonnet_200001 \gset
-- rule: 200001 tokens of prompt (cache included) -> every token at the above-200k rates
SELECT * FROM pg_temp.hand(:sonnet_200001,
    (150001*6 + 30000*0.60 + 15000*7.50 + 5000*12 + 1000*22.50)/1e6);

-- 5-minute and 1-hour cache writes in one call, below 200k (90000 tokens).
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Review this pull request.', $${
  "id": "msg_01PrTest0003", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "Three issues ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 20000, "cache_creation_input_tokens": 20000,
            "cache_read_input_tokens": 50000,
            "cache_creation": {"ephemeral_5m_input_tokens": 8000, "ephemeral_1h_input_tokens": 12000},
            "output_tokens": 1500, "service_tier": "standard"}
}$$) AS sonnet_writes_below \gset
-- rule: 5-minute writes at 3.75, 1-hour writes at 6, reads at 0.30 (below 200k)
SELECT * FROM pg_temp.hand(:sonnet_writes_below,
    (20000*3 + 50000*0.30 + 8000*3.75 + 12000*6 + 1500*15)/1e6);

-- Both writes above 200k (250000 tokens), with three web searches.
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'What changed in the rules this week?', $${
  "id": "msg_01PrTest0004", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [
    {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "rules change this week"}},
    {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_01", "content": []},
    {"type": "text", "text": "Three changes ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 50000, "cache_creation_input_tokens": 100000,
            "cache_read_input_tokens": 100000,
            "cache_creation": {"ephemeral_5m_input_tokens": 60000, "ephemeral_1h_input_tokens": 40000},
            "output_tokens": 2000,
            "server_tool_use": {"web_search_requests": 3},
            "service_tier": "standard"}
}$$) AS sonnet_writes_above \gset
-- rule: above 200k, 5-minute writes at 7.50, 1-hour at 12, reads at 0.60; web search 0.01 each
SELECT * FROM pg_temp.hand(:sonnet_writes_above,
    (50000*6 + 100000*0.60 + 60000*7.50 + 40000*12 + 2000*22.50)/1e6 + 3*0.01);

-- Web search below 200k.
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Weather in Lisbon tomorrow?', $${
  "id": "msg_01PrTest0005", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "Sunny, 24 degrees ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 5000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": 800,
            "server_tool_use": {"web_search_requests": 3},
            "service_tier": "standard"}
}$$) AS sonnet_search \gset
-- rule: web search fee, 10 USD per 1000 searches, on top of the tokens
SELECT * FROM pg_temp.hand(:sonnet_search,
    (5000*3 + 800*15)/1e6 + 3*0.01);

-- The issue's example: a 250k-token call billed 1.571 USD.  One split that
-- gives exactly that bill: 184000 uncached + 20000 read + 36000 5-minute +
-- 10000 1-hour writes = 250000 tokens, 2000 output, 2 web searches:
--   184000*6 + 20000*0.60 + 36000*7.50 + 10000*12 + 2000*22.50
--     = 1104000 + 12000 + 270000 + 120000 + 45000 = 1551000 per million
--   = 1.551 USD + 2 searches * 0.01 = 1.571 USD
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Audit the repository for the bug.', $${
  "id": "msg_01PrTest0006", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "The bug is in ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 184000, "cache_creation_input_tokens": 46000,
            "cache_read_input_tokens": 20000,
            "cache_creation": {"ephemeral_5m_input_tokens": 36000, "ephemeral_1h_input_tokens": 10000},
            "output_tokens": 2000,
            "server_tool_use": {"web_search_requests": 2},
            "service_tier": "standard"}
}$$) AS sonnet_issue \gset
-- rule: the issue's 250k-token call, 1.571 USD
SELECT * FROM pg_temp.hand(:sonnet_issue,
    (184000*6 + 20000*0.60 + 36000*7.50 + 10000*12 + 2000*22.50)/1e6 + 2*0.01);

-- Message Batches: the result's usage says service_tier "batch".
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Classify ticket 8812.', $${
  "id": "msg_01PrTest0007", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "billing"}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 10000, "cache_creation_input_tokens": 8000,
            "cache_read_input_tokens": 50000,
            "cache_creation": {"ephemeral_5m_input_tokens": 6000, "ephemeral_1h_input_tokens": 2000},
            "output_tokens": 3000, "service_tier": "batch"}
}$$) AS sonnet_batch_below \gset
-- rule: batch tier from the response, below 200k: half of every rate, cache writes included
SELECT * FROM pg_temp.hand(:sonnet_batch_below,
    (10000*1.50 + 50000*0.15 + 6000*1.875 + 2000*3 + 3000*7.50)/1e6);

SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Classify ticket 8813.', $${
  "id": "msg_01PrTest0008", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "refund"}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 180000, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 40000,
            "output_tokens": 5000, "service_tier": "batch"}
}$$) AS sonnet_batch_above \gset
-- rule: batch tier above 200k (220000): the batch tier's own above-200k rates
SELECT * FROM pg_temp.hand(:sonnet_batch_above,
    (180000*3 + 40000*0.30 + 5000*11.25)/1e6);

-- Priority Tier: this price has no rates for it.
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Classify ticket 8814.', $${
  "id": "msg_01PrTest0009", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "billing"}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 1000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "output_tokens": 10, "service_tier": "priority"}
}$$) AS sonnet_priority \gset
-- rule: a service tier the price has no rates for -> no cost (not the standard one)
SELECT * FROM pg_temp.hand(:sonnet_priority, NULL);

--
-- GPT-5, OpenAI chat completions and responses API.  prompt_tokens /
-- input_tokens include the cached tokens; completion_tokens /
-- output_tokens include the reasoning tokens.  The same call (10000 input,
-- 4000 of them cached, 3000 output, 2000 of them reasoning) at each tier.
--
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0001", "object": "chat.completion", "created": 1762160000,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "default", "system_fingerprint": null
}$$) AS gpt5_standard \gset
-- rule: service_tier "default" -> standard; cached at 0.125; reasoning costs output (10)
SELECT * FROM pg_temp.hand(:gpt5_standard,
    (6000*1.25 + 4000*0.125 + 1000*10 + 2000*10)/1e6);

SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "resp_PrTest0002", "object": "response", "created_at": 1762160001, "status": "completed",
  "model": "gpt-5-2025-08-07",
  "output": [{"type": "reasoning", "id": "rs_PrTest0002", "summary": []},
             {"type": "message", "id": "msg_PrTest0002", "status": "completed", "role": "assistant",
              "content": [{"type": "output_text", "text": "Step 1 ...", "annotations": []}]}],
  "service_tier": "flex",
  "usage": {"input_tokens": 10000, "input_tokens_details": {"cached_tokens": 4000},
            "output_tokens": 3000, "output_tokens_details": {"reasoning_tokens": 2000},
            "total_tokens": 13000}
}$$) AS gpt5_flex \gset
-- rule: flex from the response (responses API): half the standard rates; reasoning at flex output
SELECT * FROM pg_temp.hand(:gpt5_flex,
    (6000*0.625 + 4000*0.0625 + 1000*5 + 2000*5)/1e6);

SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0003", "object": "chat.completion", "created": 1762160002,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "priority", "system_fingerprint": null
}$$) AS gpt5_priority \gset
-- rule: priority from the response: double the standard rates here
SELECT * FROM pg_temp.hand(:gpt5_priority,
    (6000*2.50 + 4000*0.25 + 1000*20 + 2000*20)/1e6);

-- A Batch API result: its body says "default"; the caller knows it ran in
-- a batch and says so.
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0004", "object": "chat.completion", "created": 1762160003,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "default", "system_fingerprint": null
}$$, service_tier => 'batch') AS gpt5_batch_arg \gset
-- rule: service_tier given as an argument wins over the response's ("default"); batch rates
SELECT * FROM pg_temp.hand(:gpt5_batch_arg,
    (6000*0.625 + 4000*0.0625 + 1000*5 + 2000*5)/1e6);

SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0005", "object": "chat.completion", "created": 1762160004,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "priority", "system_fingerprint": null
}$$, service_tier => 'flex') AS gpt5_flex_over_priority \gset
-- rule: an explicit flex wins over the response's priority
SELECT * FROM pg_temp.hand(:gpt5_flex_over_priority,
    (6000*0.625 + 4000*0.0625 + 1000*5 + 2000*5)/1e6);

SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0006", "object": "chat.completion", "created": 1762160005,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "scale", "system_fingerprint": null
}$$) AS gpt5_scale \gset
-- rule: "scale" from the response, a tier the price has no rates for -> no cost
SELECT * FROM pg_temp.hand(:gpt5_scale, NULL);

SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0007", "object": "chat.completion", "created": 1762160006,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "default", "system_fingerprint": null
}$$, service_tier => 'scale') AS gpt5_scale_arg \gset
-- rule: scale given as an argument (over the response's default) -> no cost
SELECT * FROM pg_temp.hand(:gpt5_scale_arg, NULL);

-- Responses API with the web search tool: one search per web_search_call
-- output item.
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Latest PostgreSQL minor releases?', $${
  "id": "resp_PrTest0008", "object": "response", "created_at": 1762160007, "status": "completed",
  "model": "gpt-5-2025-08-07",
  "output": [{"type": "reasoning", "id": "rs_PrTest0008", "summary": []},
             {"type": "web_search_call", "id": "ws_PrTest0008a", "status": "completed",
              "action": {"type": "search", "query": "PostgreSQL minor release"}},
             {"type": "web_search_call", "id": "ws_PrTest0008b", "status": "completed",
              "action": {"type": "search", "query": "PostgreSQL 17.11 release notes"}},
             {"type": "message", "id": "msg_PrTest0008", "status": "completed", "role": "assistant",
              "content": [{"type": "output_text", "text": "17.11 ...", "annotations": []}]}],
  "service_tier": "default",
  "usage": {"input_tokens": 8000, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 1200, "output_tokens_details": {"reasoning_tokens": 600},
            "total_tokens": 9200}
}$$) AS gpt5_search \gset
-- rule: web_search_call items counted as searches, 0.01 each; no context size given -> medium
SELECT * FROM pg_temp.hand(:gpt5_search,
    (8000*1.25 + 600*10 + 600*10)/1e6 + 2*0.01);

-- The same response, the caller saying there were no billed searches.
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Latest PostgreSQL minor releases?', $${
  "id": "resp_PrTest0009", "object": "response", "created_at": 1762160008, "status": "completed",
  "model": "gpt-5-2025-08-07",
  "output": [{"type": "web_search_call", "id": "ws_PrTest0009a", "status": "completed",
              "action": {"type": "search", "query": "PostgreSQL minor release"}},
             {"type": "web_search_call", "id": "ws_PrTest0009b", "status": "completed",
              "action": {"type": "search", "query": "PostgreSQL 17.11 release notes"}},
             {"type": "message", "id": "msg_PrTest0009", "status": "completed", "role": "assistant",
              "content": [{"type": "output_text", "text": "17.11 ...", "annotations": []}]}],
  "service_tier": "default",
  "usage": {"input_tokens": 8000, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 1200, "output_tokens_details": {"reasoning_tokens": 600},
            "total_tokens": 9200}
}$$, web_search_requests => 0) AS gpt5_search_zero \gset
-- rule: an explicit web_search_requests (0) wins over the response's items
SELECT * FROM pg_temp.hand(:gpt5_search_zero,
    (8000*1.25 + 1200*10)/1e6);

-- Counts given: the response's counts are not read (no cache, no
-- reasoning), but its service tier still is.
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "resp_PrTest0010", "object": "response", "created_at": 1762160009, "status": "completed",
  "model": "gpt-5-2025-08-07",
  "output": [],
  "service_tier": "flex",
  "usage": {"input_tokens": 10000, "input_tokens_details": {"cached_tokens": 4000},
            "output_tokens": 3000, "output_tokens_details": {"reasoning_tokens": 2000},
            "total_tokens": 13000}
}$$, input_tokens => 10000, output_tokens => 3000) AS gpt5_given_counts \gset
-- rule: explicit counts (all 10000 input uncached), tier flex from the response
SELECT * FROM pg_temp.hand(:gpt5_given_counts,
    (10000*0.625 + 3000*5)/1e6);

--
-- Gemini 2.5 Pro, usageMetadata: promptTokenCount includes the cached
-- content; output = candidatesTokenCount + thoughtsTokenCount; a tool-use
-- prompt is input too.
--
-- The issue's example: a 300k-token prompt, 0.7725 USD.  The split: 300000
-- prompt tokens, 500 candidates + 1000 thoughts of output, no cache:
--   300000*2.50 + 1500*15 = 750000 + 22500 = 772500 per million = 0.7725
SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Summarise the whole codebase.', $${
  "candidates": [{"content": {"parts": [{"text": "The codebase ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 300000, "candidatesTokenCount": 500,
                    "totalTokenCount": 301500, "thoughtsTokenCount": 1000,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 300000}]},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0001"
}$$) AS gemini_300k \gset
-- rule: 300k prompt -> the above-200k tier (input 2.50, output and thoughts 15); the issue's 0.7725
SELECT * FROM pg_temp.hand(:gemini_300k,
    (300000*2.50 + 500*15 + 1000*15)/1e6);

SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Summarise the whole codebase.', $${
  "candidates": [{"content": {"parts": [{"text": "The codebase ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 200000, "candidatesTokenCount": 400,
                    "totalTokenCount": 201000, "thoughtsTokenCount": 600,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 200000}]},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0002"
}$$) AS gemini_200000 \gset
-- rule: exactly 200000 prompt tokens -> base rates
SELECT * FROM pg_temp.hand(:gemini_200000,
    (200000*1.25 + 400*10 + 600*10)/1e6);

SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Summarise the whole codebase.', $${
  "candidates": [{"content": {"parts": [{"text": "The codebase ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 200001, "candidatesTokenCount": 400,
                    "totalTokenCount": 201001, "thoughtsTokenCount": 600,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 200001}]},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0003"
}$$) AS gemini_200001 \gset
-- rule: 200001 prompt tokens -> the whole call above 200k
SELECT * FROM pg_temp.hand(:gemini_200001,
    (200001*2.50 + 400*15 + 600*15)/1e6);

SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Another question on the cached manual.', $${
  "candidates": [{"content": {"parts": [{"text": "Section 4 says ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 120000, "candidatesTokenCount": 2000,
                    "totalTokenCount": 125000, "cachedContentTokenCount": 100000,
                    "thoughtsTokenCount": 3000,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 120000}],
                    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 100000}]},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0004"
}$$) AS gemini_cached_below \gset
-- rule: cached content at 0.125 (below 200k), the rest of the prompt at 1.25, thoughts at output
SELECT * FROM pg_temp.hand(:gemini_cached_below,
    (20000*1.25 + 100000*0.125 + 2000*10 + 3000*10)/1e6);

SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Another question on the cached archive.', $${
  "candidates": [{"content": {"parts": [{"text": "The archive ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 250000, "candidatesTokenCount": 1000,
                    "totalTokenCount": 253000, "cachedContentTokenCount": 200000,
                    "thoughtsTokenCount": 2000,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 250000}],
                    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 200000}]},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0005"
}$$) AS gemini_cached_above \gset
-- rule: above 200k, cached content at 0.25, the rest at 2.50, output and thoughts at 15
SELECT * FROM pg_temp.hand(:gemini_cached_above,
    (50000*2.50 + 200000*0.25 + 1000*15 + 2000*15)/1e6);

SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Search the docs and answer.', $${
  "candidates": [{"content": {"parts": [{"text": "According to ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 190000, "candidatesTokenCount": 800,
                    "totalTokenCount": 210800, "toolUsePromptTokenCount": 20000,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 190000}],
                    "toolUsePromptTokensDetails": [{"modality": "TEXT", "tokenCount": 20000}]},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0006"
}$$) AS gemini_tool_prompt \gset
-- rule: the tool-use prompt counts as input: 190000 + 20000 = 210000 > 200k -> above-200k tier
SELECT * FROM pg_temp.hand(:gemini_tool_prompt,
    (210000*2.50 + 800*15)/1e6);

-- Batch (the caller says so; Gemini's response does not).
SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Batch job 1, request 7.', $${
  "candidates": [{"content": {"parts": [{"text": "..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 100000, "candidatesTokenCount": 1000,
                    "totalTokenCount": 101000, "cachedContentTokenCount": 60000},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0007"
}$$, service_tier => 'batch') AS gemini_batch_below \gset
-- rule: batch input and output at 0.625 and 5; the batch tier has no cache rate -> standard 0.125
SELECT * FROM pg_temp.hand(:gemini_batch_below,
    (40000*0.625 + 60000*0.125 + 1000*5)/1e6);

SELECT record_ai_call('pr-gemini-2.5-pro', 'ga', 'Batch job 1, request 8.', $${
  "candidates": [{"content": {"parts": [{"text": "..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 260000, "candidatesTokenCount": 2000,
                    "totalTokenCount": 263000, "cachedContentTokenCount": 100000,
                    "thoughtsTokenCount": 1000},
  "modelVersion": "gemini-2.5-pro", "responseId": "PrTestGem0008"
}$$, service_tier => 'batch') AS gemini_batch_above \gset
-- rule: batch above 200k (1.25, 7.50); cache reads: batch has none -> the standard above-200k 0.25
SELECT * FROM pg_temp.hand(:gemini_batch_above,
    (160000*1.25 + 100000*0.25 + 2000*7.50 + 1000*7.50)/1e6);

--
-- More than one context tier (Qwen3-Max, an OpenAI-compatible chat
-- completion): the highest tier the prompt is above prices the whole call.
--
SELECT id, n AS prompt_tokens FROM (
  SELECT n, record_ai_call('pr-qwen3-max', '2025-09-23', 'Read the contract.',
           jsonb_build_object('id', 'chatcmpl-PrTestQwen' || n, 'object', 'chat.completion',
                              'model', 'qwen3-max', 'choices', '[]'::jsonb,
                              'usage', jsonb_build_object('prompt_tokens', n, 'completion_tokens', 500,
                                                          'total_tokens', n + 500,
                                                          'prompt_tokens_details', '{"cached_tokens": 0}'::jsonb))) AS id
    FROM unnest('{32000, 32001, 128000, 128001, 200000}'::int[]) WITH ORDINALITY AS t(n, o)
   ORDER BY o) AS q;
SELECT h.*
  FROM (VALUES
         -- rule: exactly 32000 -> base rates
         (32000,  (32000*1.20 + 500*6)/1e6),
         -- rule: 32001 -> the above-32k tier
         (32001,  (32001*2.40 + 500*12)/1e6),
         -- rule: exactly 128000 -> still the above-32k tier
         (128000, (128000*2.40 + 500*12)/1e6),
         -- rule: 128001 -> the above-128k tier, the highest the prompt is above
         (128001, (128001*3 + 500*15)/1e6),
         -- rule: 200000 -> the above-128k tier
         (200000, (200000*3 + 500*15)/1e6)) AS e(prompt_tokens, expected),
       LATERAL pg_temp.hand((SELECT c.id FROM ai_call c JOIN ai_model m ON m.id = c.model_id
                              WHERE m.modelname = 'pr-qwen3-max' AND c.input_tokens = e.prompt_tokens),
                            e.expected) AS h
 ORDER BY e.prompt_tokens;

--
-- Gemini 2.5 Flash: per-modality counts.  promptTokensDetails counts the
-- whole prompt (cached tokens included), cacheTokensDetails the cached
-- part, candidatesTokensDetails the output.
--
SELECT record_ai_call('pr-gemini-2.5-flash', 'ga', 'Transcribe and summarise the call.', $${
  "candidates": [{"content": {"parts": [{"text": "The caller asks ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 12000, "candidatesTokenCount": 500,
                    "totalTokenCount": 12800, "thoughtsTokenCount": 300,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 2000},
                                            {"modality": "AUDIO", "tokenCount": 10000}],
                    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 500}]},
  "modelVersion": "gemini-2.5-flash", "responseId": "PrTestGem0101"
}$$) AS flash_audio \gset
-- rule: audio input at the audio rate (1.00), text at 0.30, output and thoughts at 2.50
SELECT * FROM pg_temp.hand(:flash_audio,
    (2000*0.30 + 10000*1.00 + 500*2.50 + 300*2.50)/1e6);

SELECT record_ai_call('pr-gemini-2.5-flash', 'ga', 'A second question on the cached recording.', $${
  "candidates": [{"content": {"parts": [{"text": "At 12:30 ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 50000, "candidatesTokenCount": 1000,
                    "totalTokenCount": 51000, "cachedContentTokenCount": 45000,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 10000},
                                            {"modality": "AUDIO", "tokenCount": 40000}],
                    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 8000},
                                           {"modality": "AUDIO", "tokenCount": 37000}],
                    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}]},
  "modelVersion": "gemini-2.5-flash", "responseId": "PrTestGem0102"
}$$) AS flash_cached_audio \gset
-- rule: cached audio at 0.10, cached text at 0.03, uncached audio (40000-37000) at 1.00,
--       uncached text (10000-8000) at 0.30
SELECT * FROM pg_temp.hand(:flash_cached_audio,
    (2000*0.30 + 8000*0.03 + 37000*0.10 + 3000*1.00 + 1000*2.50)/1e6);

SELECT record_ai_call('pr-gemini-2.5-flash', 'ga', 'What is in these photos?', $${
  "candidates": [{"content": {"parts": [{"text": "A harbour ..."}], "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 1074, "candidatesTokenCount": 120,
                    "totalTokenCount": 1194,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 42},
                                            {"modality": "IMAGE", "tokenCount": 1032}],
                    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 120}]},
  "modelVersion": "gemini-2.5-flash", "responseId": "PrTestGem0103"
}$$) AS flash_image_in \gset
-- rule: image input without a rate of its own costs the input rate (0.30)
SELECT * FROM pg_temp.hand(:flash_image_in,
    (42*0.30 + 1032*0.30 + 120*2.50)/1e6);

SELECT record_ai_call('pr-gemini-2.5-flash-image', 'ga', 'A lighthouse at dusk, watercolour.', $${
  "candidates": [{"content": {"parts": [{"text": "Here it is."},
                                        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}],
                              "role": "model"},
                  "finishReason": "STOP", "index": 0}],
  "usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 1300,
                    "totalTokenCount": 1320,
                    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 20}],
                    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 10},
                                                {"modality": "IMAGE", "tokenCount": 1290}]},
  "modelVersion": "gemini-2.5-flash-image", "responseId": "PrTestGem0201"
}$$) AS flash_image_out \gset
-- rule: image output at the image output rate (30: 0.0387 USD for the image), text output at 2.50
SELECT * FROM pg_temp.hand(:flash_image_out,
    (20*0.30 + 10*2.50 + 1290*30)/1e6);

--
-- OpenAI audio: gpt-4o-audio-preview (chat completions) and gpt-realtime
-- (the response of a realtime session's response.done event).
--
SELECT record_ai_call('pr-gpt-4o-audio-preview', '2025-06-03', '(audio question)', $${
  "id": "chatcmpl-PrTest0101", "object": "chat.completion", "created": 1762160100,
  "model": "gpt-4o-audio-preview-2025-06-03",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": null,
               "audio": {"id": "audio_PrTest0101", "data": "UklGRg==", "expires_at": 1762163700,
                         "transcript": "It opens at nine."}, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 1200, "completion_tokens": 800, "total_tokens": 2000,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 1000, "text_tokens": 200, "image_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 600, "text_tokens": 200,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "default", "system_fingerprint": "fp_PrTest"
}$$) AS audio_preview \gset
-- rule: audio input at 40, audio output at 80, text at 2.50 and 10
SELECT * FROM pg_temp.hand(:audio_preview,
    (200*2.50 + 1000*40 + 200*10 + 600*80)/1e6);

SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', '(voice session turn)', $${
  "object": "realtime.response", "id": "resp_PrTestRt01", "status": "completed",
  "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": "Sure ..."}]}],
  "usage": {"total_tokens": 7500, "input_tokens": 6000, "output_tokens": 1500,
            "input_token_details": {"text_tokens": 1000, "audio_tokens": 5000, "image_tokens": 0,
                                    "cached_tokens": 3000,
                                    "cached_tokens_details": {"text_tokens": 500, "audio_tokens": 2500, "image_tokens": 0}},
            "output_token_details": {"text_tokens": 300, "audio_tokens": 1200}}
}$$) AS realtime_audio \gset
-- rule: realtime: uncached audio (5000-2500) at 32, cached audio at the cache read rate 0.40
--       (no cached-audio rate: falls back), cached text at 0.40, uncached text at 4,
--       audio output at 64, text output at 16
SELECT * FROM pg_temp.hand(:realtime_audio,
    (500*4 + 500*0.40 + 2500*0.40 + 2500*32 + 300*16 + 1200*64)/1e6);

-- (Images in a realtime session, cached ones among them: near the end,
-- after the checks over every call.)

-- gpt-image-1, images API (edit): usage.input_tokens_details per modality.
SELECT record_ai_call('pr-gpt-image-1', 'latest', 'Make the sky stormy.', $${
  "created": 1762160200, "background": "opaque", "output_format": "png", "quality": "high", "size": "1024x1536",
  "data": [{"b64_json": "iVBORw0KGgo="}],
  "usage": {"total_tokens": 5210, "input_tokens": 1050, "output_tokens": 4160,
            "input_tokens_details": {"text_tokens": 50, "image_tokens": 1000}}
}$$) AS image_edit \gset
-- rule: image input at 10, text input at 5, output (all image) at 40
SELECT * FROM pg_temp.hand(:image_edit,
    (50*5 + 1000*10 + 4160*40)/1e6);

--
-- Web search by search context size: gpt-4o-search-preview searches once a
-- call; chat completions does not count it, the caller does.
--
SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'Who won the match last night?', $${
  "id": "chatcmpl-PrTest0201", "object": "chat.completion", "created": 1762160300,
  "model": "gpt-4o-search-preview-2025-03-11",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "The home side, 2-1 ...", "refusal": null,
               "annotations": [{"type": "url_citation", "url_citation": {"url": "https://example.com/report",
                                "title": "Match report", "start_index": 0, "end_index": 22}}]},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 500, "completion_tokens": 700, "total_tokens": 1200,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "default"
}$$) AS search_response \gset
SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'Who won the match last night?',
                      response, web_search_requests => 1, web_search_context_size => 'low') AS search_low
  FROM ai_call WHERE id = :search_response \gset
-- rule: search context size low: 30 USD per 1000 queries
SELECT * FROM pg_temp.hand(:search_low,
    (500*2.50 + 700*10)/1e6 + 1*0.030);
SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'Who won the match last night?',
                      response, web_search_requests => 1, web_search_context_size => 'medium') AS search_medium
  FROM ai_call WHERE id = :search_response \gset
-- rule: search context size medium: 35 USD per 1000 queries
SELECT * FROM pg_temp.hand(:search_medium,
    (500*2.50 + 700*10)/1e6 + 1*0.035);
SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'Who won the match last night?',
                      response, web_search_requests => 1, web_search_context_size => 'high') AS search_high
  FROM ai_call WHERE id = :search_response \gset
-- rule: search context size high: 50 USD per 1000 queries
SELECT * FROM pg_temp.hand(:search_high,
    (500*2.50 + 700*10)/1e6 + 1*0.050);
SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'Who won the match last night?',
                      response, web_search_requests => 1) AS search_no_size
  FROM ai_call WHERE id = :search_response \gset
-- rule: no search context size given -> priced as medium
SELECT * FROM pg_temp.hand(:search_no_size,
    (500*2.50 + 700*10)/1e6 + 1*0.035);
-- The call recorded first said nothing about searches: tokens only.
-- rule: no web_search_requests -> no fee
SELECT * FROM pg_temp.hand(:search_response,
    (500*2.50 + 700*10)/1e6);

-- gpt-4.1 with the web search tool, but its price has no web search fee.
SELECT record_ai_call('pr-gpt-4.1', '2025-04-14', 'Current EUR/USD rate?', $${
  "id": "resp_PrTest0301", "object": "response", "created_at": 1762160400, "status": "completed",
  "model": "gpt-4.1-2025-04-14",
  "output": [{"type": "web_search_call", "id": "ws_PrTest0301", "status": "completed",
              "action": {"type": "search", "query": "EUR USD exchange rate"}},
             {"type": "message", "id": "msg_PrTest0301", "status": "completed", "role": "assistant",
              "content": [{"type": "output_text", "text": "About 1.16 ...", "annotations": []}]}],
  "service_tier": "default",
  "usage": {"input_tokens": 3000, "input_tokens_details": {"cached_tokens": 1000},
            "output_tokens": 400, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 3400}
}$$) AS gpt41_search \gset
-- rule: web searches but no web search fee in the price -> no cost (not a silent 0 fee)
SELECT * FROM pg_temp.hand(:gpt41_search, NULL);
SELECT record_ai_call('pr-gpt-4.1', '2025-04-14', 'Current EUR/USD rate?', $${
  "id": "resp_PrTest0302", "object": "response", "created_at": 1762160401, "status": "completed",
  "model": "gpt-4.1-2025-04-14",
  "output": [{"type": "message", "id": "msg_PrTest0302", "status": "completed", "role": "assistant",
              "content": [{"type": "output_text", "text": "I cannot browse ...", "annotations": []}]}],
  "service_tier": "default",
  "usage": {"input_tokens": 3000, "input_tokens_details": {"cached_tokens": 1000},
            "output_tokens": 400, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 3400}
}$$) AS gpt41_no_search \gset
-- rule: the same call without a search is priced (an output list without web_search_call: 0 searches)
SELECT * FROM pg_temp.hand(:gpt41_no_search,
    (2000*2 + 1000*0.50 + 400*8)/1e6);

-- A price with web search fees for some sizes only.
SELECT record_ai_call('pr-gpt-4o-mini-search-preview', '2025-03-11', 'p', '{}', input_tokens => 400,
                      output_tokens => 600, web_search_requests => 1,
                      web_search_context_size => 'low') AS mini_search_low \gset
-- rule: a size the price has a fee for (low, 25 USD per 1000)
SELECT * FROM pg_temp.hand(:mini_search_low,
    (400*0.15 + 600*0.60)/1e6 + 1*0.025);
SELECT record_ai_call('pr-gpt-4o-mini-search-preview', '2025-03-11', 'p', '{}', input_tokens => 400,
                      output_tokens => 600, web_search_requests => 1,
                      web_search_context_size => 'high') AS mini_search_high \gset
-- rule: a size the price has no fee for (high) -> no cost, though low and medium are priced
SELECT * FROM pg_temp.hand(:mini_search_high, NULL);

--
-- A fee per request: Perplexity Sonar (its response says what it billed).
--
SELECT record_ai_call('pr-sonar', 'latest', 'What is new in PostgreSQL 18?', $${
  "id": "PrTestPplx0001", "model": "sonar", "object": "chat.completion", "created": 1762160500,
  "citations": ["https://www.postgresql.org/about/news/"],
  "search_results": [{"title": "PostgreSQL 18 Released", "url": "https://www.postgresql.org/about/news/"}],
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Asynchronous I/O ..."}, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 1200, "completion_tokens": 400, "total_tokens": 1600,
            "search_context_size": "low",
            "cost": {"input_tokens_cost": 0.0012, "output_tokens_cost": 0.0004,
                     "request_cost": 0.005, "total_cost": 0.0066}}
}$$) AS sonar_call \gset
-- rule: request_usd once per call on top of the tokens (Perplexity's own total_cost: 0.0066)
SELECT * FROM pg_temp.hand(:sonar_call,
    (1200*1 + 400*1)/1e6 + 0.005);
SELECT record_ai_call('pr-sonar', 'latest', '(cancelled)', '{}',
                      input_tokens => 0, output_tokens => 0) AS sonar_empty \gset
-- rule: the request fee is charged whatever the tokens, even none
SELECT * FROM pg_temp.hand(:sonar_empty,
    (0*1 + 0*1)/1e6 + 0.005);

--
-- Kinds without a rate of their own cost what their fallback kind costs,
-- looked up along the same chain of tiers.
--
-- Claude Haiku 4.5 priced without its 1-hour cache write rate (input 1,
-- output 5, cache read 0.10, 5-minute write 1.25; as a price list from
-- before 1-hour writes would have it).
INSERT INTO ai_model_price (model, provider, source, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok, cache_creation_usd_per_mtok)
VALUES ('pr-claude-haiku-4-5-20251001', 'anthropic', 'pricing_rules', 1, 5, 0.10, 1.25);
SELECT record_ai_call('pr-claude-haiku-4-5', '20251001', 'Tag these emails.', $${
  "id": "msg_01PrTest0701", "type": "message", "role": "assistant",
  "model": "claude-haiku-4-5-20251001",
  "content": [{"type": "text", "text": "work, personal, spam"}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 2000, "cache_creation_input_tokens": 10000, "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 4000, "ephemeral_1h_input_tokens": 6000},
            "output_tokens": 300, "service_tier": "standard"}
}$$) AS haiku_no_1h_rate \gset
-- rule: no 1-hour write rate -> 1-hour writes cost the 5-minute write rate (1.25)
SELECT * FROM pg_temp.hand(:haiku_no_1h_rate,
    (2000*1 + 4000*1.25 + 6000*1.25 + 300*5)/1e6);

-- GPT-5 at flex with cache writes given (OpenAI has no write rate): the
-- writes find no rate in flex or standard, so they cost input, and the
-- input rate is found in flex first (0.625).
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'p', '{}', input_tokens => 10000,
                      cache_creation_input_tokens => 2000, cache_creation_1h_input_tokens => 500,
                      output_tokens => 100, service_tier => 'flex') AS gpt5_flex_writes \gset
-- rule: cache writes (5-minute and 1-hour) without rates -> the input rate of the call's tier
SELECT * FROM pg_temp.hand(:gpt5_flex_writes,
    (8000*0.625 + 1500*0.625 + 500*0.625 + 100*5)/1e6);

--
-- Price periods: calls of gpt-4o at fixed times (record_ai_calls with
-- created_at), priced by the row in force at each call's time
-- (valid_from inclusive, valid_until exclusive).
--
CREATE TEMP TABLE period_calls AS
SELECT row_number() OVER () AS n, id
  FROM record_ai_calls($$[
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "old period",
   "created_at": "2024-07-01T12:00:00Z",
   "response": {"id": "chatcmpl-PrTest0401", "object": "chat.completion", "model": "gpt-4o-2024-05-13",
                "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}},
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "old period, batch",
   "created_at": "2024-07-01T13:00:00Z", "service_tier": "batch",
   "response": {"id": "chatcmpl-PrTest0402", "object": "chat.completion", "model": "gpt-4o-2024-05-13",
                "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}},
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "last moment of the old period",
   "created_at": "2024-10-01T23:59:59.999999Z",
   "response": {"id": "chatcmpl-PrTest0403", "object": "chat.completion", "model": "gpt-4o-2024-05-13",
                "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}},
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "first moment of the new period",
   "created_at": "2024-10-02T00:00:00Z",
   "response": {"id": "chatcmpl-PrTest0404", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
                "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}},
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "before any price",
   "created_at": "2024-05-01T00:00:00Z",
   "response": {"id": "chatcmpl-PrTest0405", "object": "chat.completion", "model": "gpt-4o-2024-05-13",
                "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}},
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "new period, cached",
   "created_at": "2025-01-15T09:30:00Z",
   "response": {"id": "chatcmpl-PrTest0406", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
                "choices": [], "service_tier": "default",
                "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500,
                          "prompt_tokens_details": {"cached_tokens": 600}}}},
  {"modelname": "pr-gpt-4o", "version": "2024-08-06", "prompt": "new period, batch",
   "created_at": "2025-01-15T10:30:00Z", "service_tier": "batch",
   "response": {"id": "chatcmpl-PrTest0407", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
                "choices": [], "service_tier": "default",
                "usage": {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}}}
  ]$$) AS id;
SELECT n, id FROM period_calls ORDER BY n;
SELECT p.n, c.created_at, h.*
  FROM period_calls p JOIN ai_call c ON c.id = p.id,
       LATERAL pg_temp.hand(p.id, CASE p.n
         -- rule: a call in the old period: the old rates (5, 15)
         WHEN 1 THEN (1000*5 + 500*15)/1e6
         -- rule: the old period's own batch rates (2.50, 7.50)
         WHEN 2 THEN (1000*2.50 + 500*7.50)/1e6
         -- rule: valid_until is exclusive: the last microsecond before it is still old
         WHEN 3 THEN (1000*5 + 500*15)/1e6
         -- rule: valid_from is inclusive: the new rates (2.50, 10)
         WHEN 4 THEN (1000*2.50 + 500*10)/1e6
         -- rule: before the first price: no cost
         WHEN 5 THEN NULL
         -- rule: the new period's cached rate (1.25), which the old period did not have
         WHEN 6 THEN (400*2.50 + 600*1.25 + 500*10)/1e6
         -- rule: the new period's batch rates (1.25, 5)
         WHEN 7 THEN (1000*1.25 + 500*5)/1e6
       END) AS h
 ORDER BY p.n;

--
-- The metrics forms and the keys of record_ai_calls(): the new fields,
-- and values given there winning over the response.
--

-- metrics (jsonb): counts, the 1-hour writes, no searches and the standard
-- tier given; the response says priority, 4 searches and other counts.
SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'Review the design doc.', $${
  "id": "msg_01PrTest0501", "type": "message", "role": "assistant",
  "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "Looks good ..."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 999, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "output_tokens": 99, "server_tool_use": {"web_search_requests": 4},
            "service_tier": "priority"}
}$$, '{"input_tokens": 30000, "cache_read_input_tokens": 10000, "cache_creation_input_tokens": 8000,
      "cache_creation_1h_input_tokens": 5000, "output_tokens": 1000,
      "web_search_requests": 0, "service_tier": "standard", "provider": "aws.bedrock"}'::jsonb) AS metrics_sonnet \gset
-- rule: metrics keys win over the response: 12000 text, 10000 reads, 3000 5-minute and 5000 1-hour writes, standard, no fee
SELECT * FROM pg_temp.hand(:metrics_sonnet,
    (12000*3 + 10000*0.30 + 3000*3.75 + 5000*6 + 1000*15)/1e6);

-- metrics (jsonb) giving only service_tier "default": counts from the
-- response, its "priority" overruled.
SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'Plan the migration.', $${
  "id": "chatcmpl-PrTest0502", "object": "chat.completion", "created": 1762160600,
  "model": "gpt-5-2025-08-07",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Step 1 ...", "refusal": null, "annotations": []},
               "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
            "prompt_tokens_details": {"cached_tokens": 4000, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 2000, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}},
  "service_tier": "priority"
}$$, '{"service_tier": "default"}'::jsonb) AS metrics_default \gset
-- rule: "default" given is stored as standard and priced at the standard rates
SELECT * FROM pg_temp.hand(:metrics_default,
    (6000*1.25 + 4000*0.125 + 1000*10 + 2000*10)/1e6);

-- metrics as JSON text: audio counts.
SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', '(voice session turn)', '{}',
    '{"input_tokens": 6000, "cache_read_input_tokens": 3000, "input_audio_tokens": 5000,
      "cache_read_audio_tokens": 2500, "output_tokens": 1500, "output_audio_tokens": 1200}'::text) AS metrics_text_audio \gset
-- rule: metrics text form: the audio keys, priced as the realtime response above
SELECT * FROM pg_temp.hand(:metrics_text_audio,
    (500*4 + 500*0.40 + 2500*0.40 + 2500*32 + 300*16 + 1200*64)/1e6);

-- metrics (jsonb): web searches at a size.
SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'Two searches, deep.', '{}',
    '{"input_tokens": 500, "output_tokens": 700, "web_search_requests": 2,
      "web_search_context_size": "high"}'::jsonb) AS metrics_search \gset
-- rule: metrics keys web_search_requests and web_search_context_size: 2 queries at high (0.05)
SELECT * FROM pg_temp.hand(:metrics_search,
    (500*2.50 + 700*10)/1e6 + 2*0.050);

-- metrics (jsonb): image counts.
SELECT record_ai_call('pr-gemini-2.5-flash-image', 'ga', 'Restyle this photo.', '{}',
    '{"input_tokens": 1310, "input_image_tokens": 1290, "output_tokens": 1300,
      "output_image_tokens": 1290}'::jsonb) AS metrics_image \gset
-- rule: metrics keys input_image_tokens (input rate 0.30) and output_image_tokens (30)
SELECT * FROM pg_temp.hand(:metrics_image,
    (20*0.30 + 1290*0.30 + 10*2.50 + 1290*30)/1e6);

-- record_ai_calls(): the new keys, each element's own values winning over
-- its response.
CREATE TEMP TABLE batch_keys AS
SELECT row_number() OVER () AS n, id
  FROM record_ai_calls($$[
  {"modelname": "pr-claude-sonnet-4-5", "version": "20250929", "prompt": "batch keys 1",
   "created_at": "2025-11-03T10:00:00Z",
   "input_tokens": 250000, "cache_read_input_tokens": 100000, "cache_creation_input_tokens": 60000,
   "cache_creation_1h_input_tokens": 20000, "output_tokens": 4000,
   "web_search_requests": 1, "service_tier": "batch",
   "response": {"id": "msg_01PrTest0601", "type": "message", "role": "assistant", "content": [],
                "usage": {"input_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                          "output_tokens": 10, "server_tool_use": {"web_search_requests": 5},
                          "service_tier": "standard"}}},
  {"modelname": "pr-gpt-realtime", "version": "2025-08-28", "prompt": "batch keys 2",
   "created_at": "2025-11-03T10:00:01Z",
   "input_tokens": 2000, "cache_read_input_tokens": 1000, "input_audio_tokens": 1500,
   "cache_read_audio_tokens": 800, "output_tokens": 900, "output_audio_tokens": 700,
   "response": {}},
  {"modelname": "pr-gpt-4o-search-preview", "version": "2025-03-11", "prompt": "batch keys 3",
   "created_at": "2025-11-03T10:00:02Z",
   "input_tokens": 800, "output_tokens": 300, "web_search_requests": 3, "web_search_context_size": "low",
   "response": {}},
  {"modelname": "pr-gemini-2.5-flash-image", "version": "ga", "prompt": "batch keys 4",
   "created_at": "2025-11-03T10:00:03Z",
   "input_tokens": 600, "input_image_tokens": 516, "output_tokens": 1290, "output_image_tokens": 1290,
   "response": {}},
  {"modelname": "pr-gpt-5", "version": "2025-08-07", "prompt": "batch keys 5",
   "created_at": "2025-11-03T10:00:04Z", "service_tier": "priority",
   "response": {"id": "chatcmpl-PrTest0605", "object": "chat.completion", "model": "gpt-5-2025-08-07", "choices": [],
                "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
                          "prompt_tokens_details": {"cached_tokens": 4000},
                          "completion_tokens_details": {"reasoning_tokens": 2000}},
                "service_tier": "default"}},
  {"modelname": "pr-gpt-5", "version": "2025-08-07", "prompt": "batch keys 6",
   "created_at": "2025-11-03T10:00:05Z", "service_tier": "default", "provider": "azure.ai.openai",
   "response": {"id": "chatcmpl-PrTest0606", "object": "chat.completion", "model": "gpt-5-2025-08-07", "choices": [],
                "usage": {"prompt_tokens": 10000, "completion_tokens": 3000, "total_tokens": 13000,
                          "prompt_tokens_details": {"cached_tokens": 4000},
                          "completion_tokens_details": {"reasoning_tokens": 2000}},
                "service_tier": "flex"}},
  {"modelname": "pr-gemini-2.5-flash", "version": "ga", "prompt": "batch keys 7",
   "created_at": "2025-11-03T10:00:06Z",
   "input_tokens": 50000, "cache_read_input_tokens": 45000, "input_audio_tokens": 40000,
   "cache_read_audio_tokens": 37000, "output_tokens": 1000,
   "response": {}}
  ]$$) AS id;
SELECT b.n, h.*
  FROM batch_keys b,
       LATERAL pg_temp.hand(b.id, CASE b.n
         -- rule: batch keys: 1-hour writes, web searches and the batch tier (above 200k) win over the response
         WHEN 1 THEN (90000*3 + 100000*0.30 + 40000*3.75 + 20000*6 + 4000*11.25)/1e6 + 1*0.01
         -- rule: batch keys input_audio_tokens, cache_read_audio_tokens, output_audio_tokens
         WHEN 2 THEN (300*4 + 200*0.40 + 800*0.40 + 700*32 + 200*16 + 700*64)/1e6
         -- rule: batch keys web_search_requests and web_search_context_size (low, 0.03)
         WHEN 3 THEN (800*2.50 + 300*10)/1e6 + 3*0.030
         -- rule: batch keys input_image_tokens and output_image_tokens
         WHEN 4 THEN (84*0.30 + 516*0.30 + 1290*30)/1e6
         -- rule: batch key service_tier (priority) wins over the response's default; counts from the response
         WHEN 5 THEN (6000*2.50 + 4000*0.25 + 1000*20 + 2000*20)/1e6
         -- rule: batch key service_tier "default" -> standard, over the response's flex; provider given
         WHEN 6 THEN (6000*1.25 + 4000*0.125 + 1000*10 + 2000*10)/1e6
         -- rule: batch keys for cached audio (Gemini Flash rates), as the response case above
         WHEN 7 THEN (2000*0.30 + 8000*0.03 + 37000*0.10 + 3000*1.00 + 1000*2.50)/1e6
       END) AS h
 ORDER BY b.n;

--
-- ai_cost(price, counts) (1.1's form) under the context tiers: the
-- Sonnet 4.5 price at 200000 and 200001 tokens of prompt (30000 read,
-- 20000 written, all at the 5-minute rate: this form has no 1-hour part).
--
SELECT ai_cost(p, 200000, 30000, 20000, 1000, 0) AS cost_200000,
       trim_scale((150000*3 + 30000*0.30 + 20000*3.75 + 1000*15)/1e6) AS expected_200000,
       ai_cost(p, 200000, 30000, 20000, 1000, 0) = (150000*3 + 30000*0.30 + 20000*3.75 + 1000*15)/1e6 AS ok_200000,
       ai_cost(p, 200001, 30000, 20000, 1000, 0) AS cost_200001,
       trim_scale((150001*6 + 30000*0.60 + 20000*7.50 + 1000*22.50)/1e6) AS expected_200001,
       ai_cost(p, 200001, 30000, 20000, 1000, 0) = (150001*6 + 30000*0.60 + 20000*7.50 + 1000*22.50)/1e6 AS ok_200001
  FROM ai_model_price p WHERE p.model = 'pr-claude-sonnet-4-5-20250929';

--
-- Every call of this test, once more: the cost ai_cost(price, call)
-- computes from the stored row, at the price in force at the call's time,
-- agrees with the cost recorded.
--
SELECT count(*) AS calls,
       count(*) FILTER (WHERE ai_cost(ai_price_at(m.modelname, m.version, c.created_at), c)
                              IS DISTINCT FROM c.cost_usd) AS disagree
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname LIKE 'pr-%';
SELECT c.id, c.cost_usd, ai_cost(ai_price_at(m.modelname, m.version, c.created_at), c) AS ai_cost
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname LIKE 'pr-%'
   AND ai_cost(ai_price_at(m.modelname, m.version, c.created_at), c) IS DISTINCT FROM c.cost_usd
 ORDER BY c.id;
-- ... and so a dry-run reprice of all of them would change nothing.
SELECT calls_checked = (SELECT count(*) FROM ai_call) AS checked_all, calls_changed,
       newly_priced, newly_unpriced,
       cost_before_usd = (SELECT sum(cost_usd) FROM ai_call) AS before_is_the_sum, change_usd
  FROM ai_reprice(NULL, NULL);

--
-- ai_usage_stats(): the sums of what is billed apart, per model and in
-- total, against the same sums written by hand over ai_call; from the
-- rollups as written (pending rows), then after compaction.
--
CREATE TEMP VIEW stats_by_hand AS
SELECT m.modelname, m.version, count(*) AS calls, sum(c.cost_usd) AS cost_usd,
       count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls,
       sum(c.cache_creation_1h_input_tokens) AS cache_creation_1h_input_tokens,
       sum(c.input_audio_tokens) AS input_audio_tokens,
       sum(c.cache_read_audio_tokens) AS cache_read_audio_tokens,
       sum(c.input_image_tokens) AS input_image_tokens,
       sum(c.output_audio_tokens) AS output_audio_tokens,
       sum(c.output_image_tokens) AS output_image_tokens,
       sum(c.web_search_requests) AS web_search_requests
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname LIKE 'pr-%'
 GROUP BY m.modelname, m.version;
CREATE TEMP VIEW stats_compared AS
SELECT COALESCE(s.modelname, h.modelname) AS modelname, s.calls,
       s.cache_creation_1h_input_tokens AS cw1h, s.input_audio_tokens AS ia,
       s.cache_read_audio_tokens AS cra, s.input_image_tokens AS ii,
       s.output_audio_tokens AS oa, s.output_image_tokens AS oi, s.web_search_requests AS ws,
       s.cost_usd,
       ROW(s.calls, s.cost_usd, s.unpriced_calls, s.cache_creation_1h_input_tokens, s.input_audio_tokens,
           s.cache_read_audio_tokens, s.input_image_tokens, s.output_audio_tokens,
           s.output_image_tokens, s.web_search_requests)
       IS NOT DISTINCT FROM
       ROW(h.calls, h.cost_usd, h.unpriced_calls, h.cache_creation_1h_input_tokens, h.input_audio_tokens,
           h.cache_read_audio_tokens, h.input_image_tokens, h.output_audio_tokens,
           h.output_image_tokens, h.web_search_requests) AS ok
  FROM (SELECT * FROM ai_usage_stats(group_by => '{model}') WHERE modelname LIKE 'pr-%') s
  FULL JOIN stats_by_hand h ON h.modelname = s.modelname AND h.version = s.version;
CREATE TEMP VIEW totals_compared AS
SELECT s.calls, s.cache_creation_1h_input_tokens AS cw1h, s.input_audio_tokens AS ia,
       s.cache_read_audio_tokens AS cra, s.input_image_tokens AS ii,
       s.output_audio_tokens AS oa, s.output_image_tokens AS oi, s.web_search_requests AS ws,
       ROW(s.calls, s.cost_usd, s.unpriced_calls, s.cache_creation_1h_input_tokens, s.input_audio_tokens,
           s.cache_read_audio_tokens, s.input_image_tokens, s.output_audio_tokens,
           s.output_image_tokens, s.web_search_requests)
       IS NOT DISTINCT FROM
       (SELECT ROW(count(*), sum(c.cost_usd), count(*) FILTER (WHERE c.cost_usd IS NULL),
                   sum(c.cache_creation_1h_input_tokens), sum(c.input_audio_tokens),
                   sum(c.cache_read_audio_tokens), sum(c.input_image_tokens),
                   sum(c.output_audio_tokens), sum(c.output_image_tokens), sum(c.web_search_requests))
          FROM ai_call c JOIN ai_model m ON m.id = c.model_id
         WHERE m.modelname LIKE 'pr-%') AS ok
  FROM ai_usage_stats(group_by => '{}') s;
SELECT * FROM stats_compared ORDER BY modelname;
SELECT * FROM totals_compared;
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT * FROM stats_compared ORDER BY modelname;
SELECT * FROM totals_compared;

--
-- Cached images in OpenAI's usage (realtime here; chat completions and the
-- responses API count them the same way).  These come after the checks
-- over all calls above, so that those checks do not depend on them.
--
-- Images in a realtime session, some of them cached.  The image count
-- includes the cached images (as the audio count includes cached audio);
-- only the uncached ones are input_image_tokens (spec: parts of
-- input_tokens, not read from the cache), the cached ones are cache reads:
--   text 1000 (500 cached), audio 2000 (600 cached), image 1000 (400 cached)
SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', '(voice session turn with a photo)', $${
  "object": "realtime.response", "id": "resp_PrTestRt02", "status": "completed",
  "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_audio", "transcript": "That is ..."}]}],
  "usage": {"total_tokens": 4800, "input_tokens": 4000, "output_tokens": 800,
            "input_token_details": {"text_tokens": 1000, "audio_tokens": 2000, "image_tokens": 1000,
                                    "cached_tokens": 1500,
                                    "cached_tokens_details": {"text_tokens": 500, "audio_tokens": 600, "image_tokens": 400}},
            "output_token_details": {"text_tokens": 200, "audio_tokens": 600}}
}$$) AS realtime_image \gset
-- rule: uncached images (1000-400) at 5; cached text + cached images (500+400) at 0.40; cached audio at 0.40;
--       uncached audio (2000-600) at 32; uncached text (1000-500) at 4; output as above
SELECT * FROM pg_temp.hand(:realtime_image,
    (500*4 + 900*0.40 + 600*0.40 + 1400*32 + 600*5 + 200*16 + 600*64)/1e6);

-- An image that is wholly cached: the image count (1000) is all cache
-- reads, so none of it is input_image_tokens.
SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', '(the same photo, asked again)', $${
  "object": "realtime.response", "id": "resp_PrTestRt03", "status": "completed",
  "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Yes."}]}],
  "usage": {"total_tokens": 1150, "input_tokens": 1100, "output_tokens": 50,
            "input_token_details": {"text_tokens": 100, "audio_tokens": 0, "image_tokens": 1000,
                                    "cached_tokens": 1000,
                                    "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 1000}},
            "output_token_details": {"text_tokens": 50, "audio_tokens": 0}}
}$$) AS realtime_image_cached \gset
-- rule: cached images (1000) at the cache read rate 0.40, no image at 5; text 100 at 4, output 50 at 16
SELECT * FROM pg_temp.hand(:realtime_image_cached,
    (100*4 + 1000*0.40 + 50*16)/1e6);

-- ai_cost(price, call) on these two rows agrees with what was recorded.
SELECT c.id, ai_cost(ai_price_at(m.modelname, m.version, c.created_at), c) IS NOT DISTINCT FROM c.cost_usd AS agrees
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE c.id IN (:realtime_image, :realtime_image_cached)
 ORDER BY c.id;

--
-- Bad input: each refused with a message naming what is wrong, and
-- nothing written.
--
CREATE TEMP TABLE before_bad AS SELECT (SELECT count(*) FROM ai_call) AS calls,
                                       (SELECT count(*) FROM ai_model_price) AS prices;
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'p', '{}', input_tokens => 10, output_tokens => 5,
                                           service_tier => 'gold')$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'p', '{}', '{"input_tokens": 10, "output_tokens": 5,
                                           "service_tier": "Flex"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT * FROM record_ai_calls('[{"modelname": "pr-gpt-5", "version": "2025-08-07", "prompt": "p",
                                                     "response": {}, "service_tier": "auto"}]')$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'p', '{}', input_tokens => 10,
                                           output_tokens => 5, web_search_requests => 1,
                                           web_search_context_size => 'huge')$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-4o-search-preview', '2025-03-11', 'p', '{}',
                                           '{"input_tokens": 10, "output_tokens": 5, "web_search_context_size": "max"}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'p', '{}', input_tokens => 10, output_tokens => 5,
                                           provider => 'OpenAI')$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'p', '{}', input_tokens => 10, output_tokens => 5,
                                           provider => '')$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'p', '{}', input_tokens => 1000,
                                           cache_creation_input_tokens => 100,
                                           cache_creation_1h_input_tokens => 200, output_tokens => 5)$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-claude-sonnet-4-5', '20250929', 'p', '{}', input_tokens => 1000,
                                           cache_creation_1h_input_tokens => 200, output_tokens => 5)$$);
-- 600 cached + 500 audio > 1000 input
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', 'p', '{}', input_tokens => 1000,
                                           cache_read_input_tokens => 600, input_audio_tokens => 500,
                                           output_tokens => 5)$$);
-- 300 read + 300 written + 300 audio + 200 images > 1000 input
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', 'p', '{}', input_tokens => 1000,
                                           cache_read_input_tokens => 300, cache_creation_input_tokens => 300,
                                           input_audio_tokens => 300, input_image_tokens => 200,
                                           output_tokens => 5)$$);
-- cached audio above the cache reads
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', 'p', '{}', input_tokens => 1000,
                                           cache_read_input_tokens => 100, input_audio_tokens => 500,
                                           cache_read_audio_tokens => 200, output_tokens => 5)$$);
-- 60 reasoning + 50 audio > 100 output
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-realtime', '2025-08-28', 'p', '{}', input_tokens => 10,
                                           output_tokens => 100, reasoning_tokens => 60,
                                           output_audio_tokens => 50)$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gemini-2.5-flash-image', 'ga', 'p', '{}',
                                           '{"input_tokens": 10, "output_tokens": 1000, "output_image_tokens": 1290}'::jsonb)$$);
SELECT pg_temp.try($$SELECT record_ai_call('pr-gpt-5', '2025-08-07', 'p', '{}', input_tokens => 10, output_tokens => 5,
                                           web_search_requests => -1)$$);

-- Bad tiers documents.
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '{"above_tokens": 200000, "input": 2}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 0, "input": 2}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000.5, "input": 2}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"input": 2}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000, "input_video": 2}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000, "input": -2}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000, "input": 2000000}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000, "input": "2"}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, tiers)
                     VALUES ('pr-bad', 1, 2, '[{"above_tokens": 200000, "input": 2},
                                               {"above_tokens": 200000, "output": 4}]')$$);
-- Bad service_tiers documents.
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '{"standard": {"input": 1, "output": 2}}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '{"gold": {"input": 1, "output": 2}}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '[{"flex": {"input": 0.5}}]')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '{"flex": 0.5}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '{"flex": {"input": 0.5, "tiers": [{"above_tokens": 0, "input": 1}]}}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '{"flex": {"input": 0.5, "tiers": {"above_tokens": 1000, "input": 1}}}')$$);
SELECT pg_temp.try($$INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, service_tiers)
                     VALUES ('pr-bad', 1, 2, '{"flex": {"inputs": 0.5}}')$$);
-- Bad plain columns (their CHECK constraints; the failing row's detail
-- holds now(), so only the message is shown).
\set VERBOSITY terse
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, web_search_medium_usd)
VALUES ('pr-bad', 1, 2, -0.01);
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, request_usd)
VALUES ('pr-bad', 1, 2, -1);
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, cache_creation_1h_usd_per_mtok)
VALUES ('pr-bad', 1, 2, 1000001);
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, provider)
VALUES ('pr-bad', 1, 2, 'Anthropic');
\set VERBOSITY default
SELECT (SELECT count(*) FROM ai_call) = b.calls AS no_call_written,
       (SELECT count(*) FROM ai_model_price) = b.prices AS no_price_written
  FROM before_bad b;

DROP VIEW totals_compared, stats_compared, stats_by_hand;
DROP TABLE before_bad, batch_keys, period_calls;
DROP FUNCTION pg_temp.hand(bigint, numeric);
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
