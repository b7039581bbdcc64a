/* aitrack 1.4 -> 1.5: costs that match the provider's bill (context tiers, cache-write durations, service tiers, tool fees, audio and image tokens, the provider), and stats a view can stay on. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.5'" to load this file. \quit

-- Nothing here scans or rewrites ai_call: its new columns have no default
-- and its new constraints are NOT VALID (README's Upgrade says how to
-- validate them later without blocking writers).  Calls recorded before
-- keep their cost; ai_reprice() brings them under the new rules.

--
-- Every table this script alters, locked at once, in the order recording
-- takes them (prices, calls, models, then the rollups its trigger writes);
-- see the 1.3 -> 1.4 script for why.
--
SET LOCAL deadlock_timeout = '10ms';
LOCK TABLE @extschema@.ai_model_price, @extschema@.ai_call, @extschema@.ai_model,
           @extschema@.ai_usage_purged, @extschema@.ai_usage_rollup,
           @extschema@.ai_usage_rollup_total IN ACCESS EXCLUSIVE MODE;

--
-- ai_model_price: every rule of a price (src/price.c says how a cost is
-- computed from them; README's "Prices" lists the LiteLLM keys of each).
--
ALTER TABLE @extschema@.ai_model_price
    ADD COLUMN provider                        text,
    ADD COLUMN cache_creation_1h_usd_per_mtok  numeric,
    ADD COLUMN input_audio_usd_per_mtok        numeric,
    ADD COLUMN cache_read_audio_usd_per_mtok   numeric,
    ADD COLUMN output_audio_usd_per_mtok       numeric,
    ADD COLUMN input_image_usd_per_mtok        numeric,
    ADD COLUMN output_image_usd_per_mtok       numeric,
    ADD COLUMN request_usd                     numeric,
    ADD COLUMN web_search_low_usd              numeric,
    ADD COLUMN web_search_medium_usd           numeric,
    ADD COLUMN web_search_high_usd             numeric,
    ADD COLUMN tiers                           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN service_tiers                   jsonb NOT NULL DEFAULT '{}';

-- The shape of tiers and service_tiers, checked in C (src/price_rules.c)
-- with an error that names what is wrong.
CREATE FUNCTION @extschema@.ai_price_rules_valid(tiers jsonb, service_tiers jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'ai_price_rules_valid_1_5'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- ai_model_price is small (a few thousand rows): these are checked now.
ALTER TABLE @extschema@.ai_model_price
    ADD CONSTRAINT ai_model_price_provider_check
        CHECK (provider OPERATOR(pg_catalog.~) '^[a-z0-9][a-z0-9._-]{0,63}$'),
    ADD CONSTRAINT ai_model_price_rates_1_5_check
        CHECK (cache_creation_1h_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND cache_creation_1h_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND input_audio_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND input_audio_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND cache_read_audio_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND cache_read_audio_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND output_audio_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND output_audio_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND input_image_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND input_image_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND output_image_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND output_image_usd_per_mtok OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND request_usd OPERATOR(pg_catalog.>=) 0
               AND request_usd OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND web_search_low_usd OPERATOR(pg_catalog.>=) 0
               AND web_search_low_usd OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND web_search_medium_usd OPERATOR(pg_catalog.>=) 0
               AND web_search_medium_usd OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric
               AND web_search_high_usd OPERATOR(pg_catalog.>=) 0
               AND web_search_high_usd OPERATOR(pg_catalog.<=) 1000000::pg_catalog.numeric),
    ADD CONSTRAINT ai_model_price_rules_check
        CHECK (@extschema@.ai_price_rules_valid(tiers, service_tiers));

--
-- ai_call: what is billed apart from plain tokens, and who served the call.
-- Token counts are parts of input_tokens and output_tokens, as cache reads
-- and reasoning tokens are (1.1); see README's "Prices".
--
ALTER TABLE @extschema@.ai_call
    ADD COLUMN provider                        text,
    ADD COLUMN service_tier                    text,
    ADD COLUMN cache_creation_1h_input_tokens  integer,
    ADD COLUMN input_audio_tokens              integer,
    ADD COLUMN cache_read_audio_tokens         integer,
    ADD COLUMN input_image_tokens              integer,
    ADD COLUMN output_audio_tokens             integer,
    ADD COLUMN output_image_tokens             integer,
    ADD COLUMN web_search_requests             integer,
    ADD COLUMN web_search_context_size         text;

-- A role that may read the token counts column by column (to reprice
-- without reading prompts, say) may read the new counts: the SELECT grants
-- on input_tokens are copied to each new column.  The ACL is written
-- directly, as 1.2 did for the rollups: a GRANT here would become an
-- initial privilege, which pg_dump leaves out.
UPDATE pg_catalog.pg_attribute a
   SET attacl = (SELECT pg_catalog.array_agg(pg_catalog.makeaclitem(e.grantee, e.grantor, 'SELECT', e.is_grantable))
                   FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) AS e
                  WHERE t.attrelid OPERATOR(pg_catalog.=) a.attrelid
                    AND t.attname OPERATOR(pg_catalog.=) 'input_tokens'
                    AND e.privilege_type OPERATOR(pg_catalog.=) 'SELECT')
 WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.ai_call'::pg_catalog.regclass
   AND a.attname OPERATOR(pg_catalog.=) ANY ('{provider,service_tier,cache_creation_1h_input_tokens,input_audio_tokens,cache_read_audio_tokens,input_image_tokens,output_audio_tokens,output_image_tokens,web_search_requests,web_search_context_size}'::pg_catalog.name[])
   AND EXISTS (SELECT FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) AS e
                WHERE t.attrelid OPERATOR(pg_catalog.=) a.attrelid
                  AND t.attname OPERATOR(pg_catalog.=) 'input_tokens'
                  AND e.privilege_type OPERATOR(pg_catalog.=) 'SELECT');

-- NOT VALID: rows already there are not scanned now (every one of them has
-- NULL in these columns); new rows are checked at once.
ALTER TABLE @extschema@.ai_call
    ADD CONSTRAINT ai_call_provider_check
        CHECK (provider OPERATOR(pg_catalog.~) '^[a-z0-9][a-z0-9._-]{0,63}$') NOT VALID,
    ADD CONSTRAINT ai_call_service_tier_check
        CHECK (service_tier OPERATOR(pg_catalog.=) ANY ('{standard,flex,priority,batch,scale}'::pg_catalog.text[])) NOT VALID,
    ADD CONSTRAINT ai_call_web_search_context_size_check
        CHECK (web_search_context_size OPERATOR(pg_catalog.=) ANY ('{low,medium,high}'::pg_catalog.text[])) NOT VALID,
    ADD CONSTRAINT ai_call_billed_counts_check
        CHECK (cache_creation_1h_input_tokens OPERATOR(pg_catalog.>=) 0
               AND input_audio_tokens OPERATOR(pg_catalog.>=) 0
               AND cache_read_audio_tokens OPERATOR(pg_catalog.>=) 0
               AND input_image_tokens OPERATOR(pg_catalog.>=) 0
               AND output_audio_tokens OPERATOR(pg_catalog.>=) 0
               AND output_image_tokens OPERATOR(pg_catalog.>=) 0
               AND web_search_requests OPERATOR(pg_catalog.>=) 0) NOT VALID,
    -- The parts within their wholes (unknown parts count as none).  Only
    -- for rows that have 1.5's parts: a NOT VALID constraint still holds
    -- every UPDATE, and rows 1.0 recorded may have reasoning_tokens above
    -- output_tokens (1.1 to 1.4 allow that on purpose; see src/validate.c),
    -- which must stay updatable (ai_purge_content, ai_reprice).
    ADD CONSTRAINT ai_call_parts_within_whole_check
        CHECK (COALESCE(cache_creation_1h_input_tokens, 0) OPERATOR(pg_catalog.<=) COALESCE(cache_creation_input_tokens, 0)
               AND COALESCE(cache_read_audio_tokens, 0) OPERATOR(pg_catalog.<=) COALESCE(cache_read_input_tokens, 0)
               AND COALESCE(cache_read_audio_tokens, 0) OPERATOR(pg_catalog.<=) COALESCE(input_audio_tokens, 0)
               AND (input_tokens IS NULL
                    OR pg_catalog.num_nonnulls(input_audio_tokens, input_image_tokens) OPERATOR(pg_catalog.=) 0
                    OR (COALESCE(cache_read_input_tokens, 0)::pg_catalog.int8
                        OPERATOR(pg_catalog.+) COALESCE(cache_creation_input_tokens, 0)
                        OPERATOR(pg_catalog.+) COALESCE(input_audio_tokens, 0)
                        OPERATOR(pg_catalog.-) COALESCE(cache_read_audio_tokens, 0)
                        OPERATOR(pg_catalog.+) COALESCE(input_image_tokens, 0))
                       OPERATOR(pg_catalog.<=) input_tokens)
               AND (output_tokens IS NULL
                    OR pg_catalog.num_nonnulls(output_audio_tokens, output_image_tokens) OPERATOR(pg_catalog.=) 0
                    OR (COALESCE(reasoning_tokens, 0)::pg_catalog.int8
                        OPERATOR(pg_catalog.+) COALESCE(output_audio_tokens, 0)
                        OPERATOR(pg_catalog.+) COALESCE(output_image_tokens, 0))
                       OPERATOR(pg_catalog.<=) output_tokens)) NOT VALID;

--
-- The rollups sum the new counts too.  A column with a constant default is
-- added without rewriting the table, and 0 is right for every row already
-- there: no call recorded before has any of these counts.
--
ALTER TABLE @extschema@.ai_usage_rollup
    ADD COLUMN cache_creation_1h_input_tokens    bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_creation_1h_input_tokens_n  bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_audio_tokens                bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_audio_tokens_n              bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_audio_tokens           bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_audio_tokens_n         bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_image_tokens                bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_image_tokens_n              bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_audio_tokens               bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_audio_tokens_n             bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_image_tokens               bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_image_tokens_n             bigint NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests               bigint NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests_n             bigint NOT NULL DEFAULT 0;
ALTER TABLE @extschema@.ai_usage_rollup_total
    ADD COLUMN cache_creation_1h_input_tokens    bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_creation_1h_input_tokens_n  bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_audio_tokens                bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_audio_tokens_n              bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_audio_tokens           bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_audio_tokens_n         bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_image_tokens                bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_image_tokens_n              bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_audio_tokens               bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_audio_tokens_n             bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_image_tokens               bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_image_tokens_n             bigint NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests               bigint NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests_n             bigint NOT NULL DEFAULT 0;
ALTER TABLE @extschema@.ai_usage_purged
    ADD COLUMN cache_creation_1h_input_tokens    bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_creation_1h_input_tokens_n  bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_audio_tokens                bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_audio_tokens_n              bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_audio_tokens           bigint NOT NULL DEFAULT 0,
    ADD COLUMN cache_read_audio_tokens_n         bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_image_tokens                bigint NOT NULL DEFAULT 0,
    ADD COLUMN input_image_tokens_n              bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_audio_tokens               bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_audio_tokens_n             bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_image_tokens               bigint NOT NULL DEFAULT 0,
    ADD COLUMN output_image_tokens_n             bigint NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests               bigint NOT NULL DEFAULT 0,
    ADD COLUMN web_search_requests_n             bigint NOT NULL DEFAULT 0;

-- The trigger function, summing the new columns (src/rollup.c).
CREATE OR REPLACE FUNCTION @extschema@.ai_rollup_capture()
RETURNS trigger
AS 'MODULE_PATHNAME', 'ai_rollup_capture_1_5'
LANGUAGE C SECURITY DEFINER;

--
-- ai_rollup_compact(), as 1.2 has it, with the new columns; every INSERT
-- now names its columns.
--
CREATE OR REPLACE FUNCTION @extschema@.ai_rollup_compact()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded bigint;
BEGIN
    IF NOT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('aitrack.ai_rollup_compact')) THEN
        RETURN 0;
    END IF;

    CREATE TEMPORARY TABLE aitrack_compact ON COMMIT DROP AS
    WITH pend AS (
        DELETE FROM @extschema@.ai_usage_rollup WHERE pending RETURNING *
    )
    SELECT bucket, model_id, call_type, status, user_id,
           sum(calls) AS calls,
           sum(input_tokens) AS input_tokens,
           sum(input_tokens_n) AS input_tokens_n,
           sum(reasoning_tokens) AS reasoning_tokens,
           sum(reasoning_tokens_n) AS reasoning_tokens_n,
           sum(output_tokens) AS output_tokens,
           sum(output_tokens_n) AS output_tokens_n,
           sum(cache_read_input_tokens) AS cache_read_input_tokens,
           sum(cache_read_input_tokens_n) AS cache_read_input_tokens_n,
           sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
           sum(cache_creation_input_tokens_n) AS cache_creation_input_tokens_n,
           sum(cost_usd) AS cost_usd,
           sum(cost_usd_n) AS cost_usd_n,
           sum(duration_ms) AS duration_ms,
           sum(duration_ms_n) AS duration_ms_n,
           sum(time_to_first_token_ms) AS time_to_first_token_ms,
           sum(time_to_first_token_ms_n) AS time_to_first_token_ms_n,
           sum(cache_creation_1h_input_tokens) AS cache_creation_1h_input_tokens,
           sum(cache_creation_1h_input_tokens_n) AS cache_creation_1h_input_tokens_n,
           sum(input_audio_tokens) AS input_audio_tokens,
           sum(input_audio_tokens_n) AS input_audio_tokens_n,
           sum(cache_read_audio_tokens) AS cache_read_audio_tokens,
           sum(cache_read_audio_tokens_n) AS cache_read_audio_tokens_n,
           sum(input_image_tokens) AS input_image_tokens,
           sum(input_image_tokens_n) AS input_image_tokens_n,
           sum(output_audio_tokens) AS output_audio_tokens,
           sum(output_audio_tokens_n) AS output_audio_tokens_n,
           sum(output_image_tokens) AS output_image_tokens,
           sum(output_image_tokens_n) AS output_image_tokens_n,
           sum(web_search_requests) AS web_search_requests,
           sum(web_search_requests_n) AS web_search_requests_n,
           min(first_call) AS first_call, max(last_call) AS last_call,
           @extschema@.ai_hist_merge(latency) AS latency,
           bool_or(calls < 0) AS lost_calls,
           count(*) AS pending_rows
      FROM pend
     GROUP BY bucket, model_id, call_type, status, user_id;

    -- Statistics for the joins below, or the planner guesses a few rows.
    ANALYZE aitrack_compact;
    SELECT COALESCE(sum(pending_rows), 0) INTO folded FROM aitrack_compact;

    INSERT INTO @extschema@.ai_usage_rollup AS r
           (bucket, model_id, call_type, status, user_id, pending, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT bucket, model_id, call_type, status, user_id, false, calls,
           input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
           first_call, last_call, latency
      FROM aitrack_compact
    ON CONFLICT (bucket, model_id, call_type, status, user_id) WHERE NOT pending DO UPDATE SET
           calls = r.calls + excluded.calls,
           input_tokens = r.input_tokens + excluded.input_tokens,
           input_tokens_n = r.input_tokens_n + excluded.input_tokens_n,
           reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
           reasoning_tokens_n = r.reasoning_tokens_n + excluded.reasoning_tokens_n,
           output_tokens = r.output_tokens + excluded.output_tokens,
           output_tokens_n = r.output_tokens_n + excluded.output_tokens_n,
           cache_read_input_tokens = r.cache_read_input_tokens + excluded.cache_read_input_tokens,
           cache_read_input_tokens_n = r.cache_read_input_tokens_n + excluded.cache_read_input_tokens_n,
           cache_creation_input_tokens = r.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
           cache_creation_input_tokens_n = r.cache_creation_input_tokens_n + excluded.cache_creation_input_tokens_n,
           cost_usd = r.cost_usd + excluded.cost_usd,
           cost_usd_n = r.cost_usd_n + excluded.cost_usd_n,
           duration_ms = r.duration_ms + excluded.duration_ms,
           duration_ms_n = r.duration_ms_n + excluded.duration_ms_n,
           time_to_first_token_ms = r.time_to_first_token_ms + excluded.time_to_first_token_ms,
           time_to_first_token_ms_n = r.time_to_first_token_ms_n + excluded.time_to_first_token_ms_n,
           cache_creation_1h_input_tokens = r.cache_creation_1h_input_tokens + excluded.cache_creation_1h_input_tokens,
           cache_creation_1h_input_tokens_n = r.cache_creation_1h_input_tokens_n + excluded.cache_creation_1h_input_tokens_n,
           input_audio_tokens = r.input_audio_tokens + excluded.input_audio_tokens,
           input_audio_tokens_n = r.input_audio_tokens_n + excluded.input_audio_tokens_n,
           cache_read_audio_tokens = r.cache_read_audio_tokens + excluded.cache_read_audio_tokens,
           cache_read_audio_tokens_n = r.cache_read_audio_tokens_n + excluded.cache_read_audio_tokens_n,
           input_image_tokens = r.input_image_tokens + excluded.input_image_tokens,
           input_image_tokens_n = r.input_image_tokens_n + excluded.input_image_tokens_n,
           output_audio_tokens = r.output_audio_tokens + excluded.output_audio_tokens,
           output_audio_tokens_n = r.output_audio_tokens_n + excluded.output_audio_tokens_n,
           output_image_tokens = r.output_image_tokens + excluded.output_image_tokens,
           output_image_tokens_n = r.output_image_tokens_n + excluded.output_image_tokens_n,
           web_search_requests = r.web_search_requests + excluded.web_search_requests,
           web_search_requests_n = r.web_search_requests_n + excluded.web_search_requests_n,
           first_call = LEAST(r.first_call, excluded.first_call),
           last_call = GREATEST(r.last_call, excluded.last_call),
           latency = @extschema@.ai_hist_add(r.latency, excluded.latency);

    INSERT INTO @extschema@.ai_usage_rollup_total AS r
           (bucket, model_id, call_type, status, calls,
            input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
            first_call, last_call, latency)
    SELECT bucket, model_id, call_type, status, sum(calls),
           sum(input_tokens), sum(input_tokens_n), sum(reasoning_tokens), sum(reasoning_tokens_n), sum(output_tokens), sum(output_tokens_n), sum(cache_read_input_tokens), sum(cache_read_input_tokens_n), sum(cache_creation_input_tokens), sum(cache_creation_input_tokens_n), sum(cost_usd), sum(cost_usd_n), sum(duration_ms), sum(duration_ms_n), sum(time_to_first_token_ms), sum(time_to_first_token_ms_n), sum(cache_creation_1h_input_tokens), sum(cache_creation_1h_input_tokens_n), sum(input_audio_tokens), sum(input_audio_tokens_n), sum(cache_read_audio_tokens), sum(cache_read_audio_tokens_n), sum(input_image_tokens), sum(input_image_tokens_n), sum(output_audio_tokens), sum(output_audio_tokens_n), sum(output_image_tokens), sum(output_image_tokens_n), sum(web_search_requests), sum(web_search_requests_n),
           min(first_call), max(last_call), @extschema@.ai_hist_merge(latency)
      FROM aitrack_compact
     GROUP BY bucket, model_id, call_type, status
    ON CONFLICT (bucket, model_id, call_type, status) DO UPDATE SET
           calls = r.calls + excluded.calls,
           input_tokens = r.input_tokens + excluded.input_tokens,
           input_tokens_n = r.input_tokens_n + excluded.input_tokens_n,
           reasoning_tokens = r.reasoning_tokens + excluded.reasoning_tokens,
           reasoning_tokens_n = r.reasoning_tokens_n + excluded.reasoning_tokens_n,
           output_tokens = r.output_tokens + excluded.output_tokens,
           output_tokens_n = r.output_tokens_n + excluded.output_tokens_n,
           cache_read_input_tokens = r.cache_read_input_tokens + excluded.cache_read_input_tokens,
           cache_read_input_tokens_n = r.cache_read_input_tokens_n + excluded.cache_read_input_tokens_n,
           cache_creation_input_tokens = r.cache_creation_input_tokens + excluded.cache_creation_input_tokens,
           cache_creation_input_tokens_n = r.cache_creation_input_tokens_n + excluded.cache_creation_input_tokens_n,
           cost_usd = r.cost_usd + excluded.cost_usd,
           cost_usd_n = r.cost_usd_n + excluded.cost_usd_n,
           duration_ms = r.duration_ms + excluded.duration_ms,
           duration_ms_n = r.duration_ms_n + excluded.duration_ms_n,
           time_to_first_token_ms = r.time_to_first_token_ms + excluded.time_to_first_token_ms,
           time_to_first_token_ms_n = r.time_to_first_token_ms_n + excluded.time_to_first_token_ms_n,
           cache_creation_1h_input_tokens = r.cache_creation_1h_input_tokens + excluded.cache_creation_1h_input_tokens,
           cache_creation_1h_input_tokens_n = r.cache_creation_1h_input_tokens_n + excluded.cache_creation_1h_input_tokens_n,
           input_audio_tokens = r.input_audio_tokens + excluded.input_audio_tokens,
           input_audio_tokens_n = r.input_audio_tokens_n + excluded.input_audio_tokens_n,
           cache_read_audio_tokens = r.cache_read_audio_tokens + excluded.cache_read_audio_tokens,
           cache_read_audio_tokens_n = r.cache_read_audio_tokens_n + excluded.cache_read_audio_tokens_n,
           input_image_tokens = r.input_image_tokens + excluded.input_image_tokens,
           input_image_tokens_n = r.input_image_tokens_n + excluded.input_image_tokens_n,
           output_audio_tokens = r.output_audio_tokens + excluded.output_audio_tokens,
           output_audio_tokens_n = r.output_audio_tokens_n + excluded.output_audio_tokens_n,
           output_image_tokens = r.output_image_tokens + excluded.output_image_tokens,
           output_image_tokens_n = r.output_image_tokens_n + excluded.output_image_tokens_n,
           web_search_requests = r.web_search_requests + excluded.web_search_requests,
           web_search_requests_n = r.web_search_requests_n + excluded.web_search_requests_n,
           first_call = LEAST(r.first_call, excluded.first_call),
           last_call = GREATEST(r.last_call, excluded.last_call),
           latency = @extschema@.ai_hist_add(r.latency, excluded.latency);

    -- Groups that lost calls: their first and last call, from what is left.
    IF EXISTS (SELECT FROM aitrack_compact WHERE lost_calls) THEN
    UPDATE @extschema@.ai_usage_rollup r
       SET first_call = COALESCE(live.first_call, r.first_call),
           last_call = COALESCE(live.last_call, r.last_call)
      FROM aitrack_compact k,
           LATERAL (SELECT min(c.created_at) AS first_call, max(c.created_at) AS last_call
                      FROM @extschema@.ai_call c
                     WHERE c.created_at >= k.bucket
                       AND c.created_at < k.bucket + interval '1 hour'
                       AND c.model_id = k.model_id
                       AND c.call_type IS NOT DISTINCT FROM k.call_type
                       AND c.status IS NOT DISTINCT FROM k.status
                       AND c.user_id IS NOT DISTINCT FROM k.user_id) AS live
     WHERE k.lost_calls AND NOT r.pending
       AND r.bucket = k.bucket AND r.model_id = k.model_id
       AND r.call_type IS NOT DISTINCT FROM k.call_type
       AND r.status IS NOT DISTINCT FROM k.status
       AND r.user_id IS NOT DISTINCT FROM k.user_id;
    UPDATE @extschema@.ai_usage_rollup_total t
       SET first_call = COALESCE(u.first_call, t.first_call),
           last_call = COALESCE(u.last_call, t.last_call)
      FROM (SELECT r.bucket, r.model_id, r.call_type, r.status,
                   min(r.first_call) AS first_call, max(r.last_call) AS last_call
              FROM @extschema@.ai_usage_rollup r
             WHERE NOT r.pending AND r.calls <> 0
               AND EXISTS (SELECT FROM aitrack_compact k
                            WHERE k.lost_calls AND k.bucket = r.bucket AND k.model_id = r.model_id
                              AND k.call_type IS NOT DISTINCT FROM r.call_type
                              AND k.status IS NOT DISTINCT FROM r.status)
             GROUP BY 1, 2, 3, 4) AS u
     WHERE t.bucket = u.bucket AND t.model_id = u.model_id
       AND t.call_type IS NOT DISTINCT FROM u.call_type
       AND t.status IS NOT DISTINCT FROM u.status;
    END IF;

    -- Groups left without calls are gone.
    DELETE FROM @extschema@.ai_usage_rollup WHERE NOT pending AND calls = 0;
    DELETE FROM @extschema@.ai_usage_rollup_total WHERE calls = 0;

    DROP TABLE aitrack_compact;
    RETURN folded;
END;
$$;

-- ai_purge_calls(), as 1.2 has it, with the new columns.
CREATE OR REPLACE PROCEDURE @extschema@.ai_purge_calls(older_than timestamptz, batch_size integer DEFAULT 10000)
LANGUAGE plpgsql
-- No SET search_path: a procedure with a SET clause cannot COMMIT.  Every
-- name and operator below is qualified instead.
AS $$
DECLARE
    removed bigint;
    total bigint := 0;
BEGIN
    IF older_than IS NULL OR batch_size IS NULL OR batch_size OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'older_than must not be null and batch_size must be positive'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOOP
        -- The deleted calls leave the rollups (through the trigger) and
        -- their numbers move to ai_usage_purged, in the same transaction.
        WITH gone AS (
            DELETE FROM @extschema@.ai_call
             WHERE id OPERATOR(pg_catalog.=) ANY (ARRAY(
                       SELECT c.id FROM @extschema@.ai_call c
                        WHERE c.created_at OPERATOR(pg_catalog.<) older_than
                        ORDER BY c.created_at LIMIT batch_size))
            RETURNING *
        ), summed AS (
            INSERT INTO @extschema@.ai_usage_purged AS p
                   (bucket, model_id, call_type, status, user_id, calls,
                    input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                    first_call, last_call, latency)
            SELECT pg_catalog.date_trunc('hour', g.created_at, 'UTC'), g.model_id, g.call_type,
                   g.status, g.user_id, pg_catalog.count(*),
                   COALESCE(pg_catalog.sum(g.input_tokens), 0), pg_catalog.count(g.input_tokens),
                   COALESCE(pg_catalog.sum(g.reasoning_tokens), 0), pg_catalog.count(g.reasoning_tokens),
                   COALESCE(pg_catalog.sum(g.output_tokens), 0), pg_catalog.count(g.output_tokens),
                   COALESCE(pg_catalog.sum(g.cache_read_input_tokens), 0), pg_catalog.count(g.cache_read_input_tokens),
                   COALESCE(pg_catalog.sum(g.cache_creation_input_tokens), 0), pg_catalog.count(g.cache_creation_input_tokens),
                   COALESCE(pg_catalog.sum(g.cost_usd), 0), pg_catalog.count(g.cost_usd),
                   COALESCE(pg_catalog.sum(g.duration_ms), 0), pg_catalog.count(g.duration_ms),
                   COALESCE(pg_catalog.sum(g.time_to_first_token_ms), 0), pg_catalog.count(g.time_to_first_token_ms),
                   COALESCE(pg_catalog.sum(g.cache_creation_1h_input_tokens), 0), pg_catalog.count(g.cache_creation_1h_input_tokens),
                   COALESCE(pg_catalog.sum(g.input_audio_tokens), 0), pg_catalog.count(g.input_audio_tokens),
                   COALESCE(pg_catalog.sum(g.cache_read_audio_tokens), 0), pg_catalog.count(g.cache_read_audio_tokens),
                   COALESCE(pg_catalog.sum(g.input_image_tokens), 0), pg_catalog.count(g.input_image_tokens),
                   COALESCE(pg_catalog.sum(g.output_audio_tokens), 0), pg_catalog.count(g.output_audio_tokens),
                   COALESCE(pg_catalog.sum(g.output_image_tokens), 0), pg_catalog.count(g.output_image_tokens),
                   COALESCE(pg_catalog.sum(g.web_search_requests), 0), pg_catalog.count(g.web_search_requests),
                   pg_catalog.min(g.created_at), pg_catalog.max(g.created_at),
                   @extschema@.ai_hist_merge(@extschema@.ai_hist_of(g.duration_ms, 1::pg_catalog.int4))
              FROM gone g
             GROUP BY 1, 2, 3, 4, 5
            ON CONFLICT (bucket, model_id, call_type, status, user_id) DO UPDATE SET
                   calls = p.calls OPERATOR(pg_catalog.+) excluded.calls,
                   input_tokens = p.input_tokens OPERATOR(pg_catalog.+) excluded.input_tokens,
                   input_tokens_n = p.input_tokens_n OPERATOR(pg_catalog.+) excluded.input_tokens_n,
                   reasoning_tokens = p.reasoning_tokens OPERATOR(pg_catalog.+) excluded.reasoning_tokens,
                   reasoning_tokens_n = p.reasoning_tokens_n OPERATOR(pg_catalog.+) excluded.reasoning_tokens_n,
                   output_tokens = p.output_tokens OPERATOR(pg_catalog.+) excluded.output_tokens,
                   output_tokens_n = p.output_tokens_n OPERATOR(pg_catalog.+) excluded.output_tokens_n,
                   cache_read_input_tokens = p.cache_read_input_tokens OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens,
                   cache_read_input_tokens_n = p.cache_read_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_input_tokens_n,
                   cache_creation_input_tokens = p.cache_creation_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens,
                   cache_creation_input_tokens_n = p.cache_creation_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_input_tokens_n,
                   cost_usd = p.cost_usd OPERATOR(pg_catalog.+) excluded.cost_usd,
                   cost_usd_n = p.cost_usd_n OPERATOR(pg_catalog.+) excluded.cost_usd_n,
                   duration_ms = p.duration_ms OPERATOR(pg_catalog.+) excluded.duration_ms,
                   duration_ms_n = p.duration_ms_n OPERATOR(pg_catalog.+) excluded.duration_ms_n,
                   time_to_first_token_ms = p.time_to_first_token_ms OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms,
                   time_to_first_token_ms_n = p.time_to_first_token_ms_n OPERATOR(pg_catalog.+) excluded.time_to_first_token_ms_n,
                   cache_creation_1h_input_tokens = p.cache_creation_1h_input_tokens OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens,
                   cache_creation_1h_input_tokens_n = p.cache_creation_1h_input_tokens_n OPERATOR(pg_catalog.+) excluded.cache_creation_1h_input_tokens_n,
                   input_audio_tokens = p.input_audio_tokens OPERATOR(pg_catalog.+) excluded.input_audio_tokens,
                   input_audio_tokens_n = p.input_audio_tokens_n OPERATOR(pg_catalog.+) excluded.input_audio_tokens_n,
                   cache_read_audio_tokens = p.cache_read_audio_tokens OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens,
                   cache_read_audio_tokens_n = p.cache_read_audio_tokens_n OPERATOR(pg_catalog.+) excluded.cache_read_audio_tokens_n,
                   input_image_tokens = p.input_image_tokens OPERATOR(pg_catalog.+) excluded.input_image_tokens,
                   input_image_tokens_n = p.input_image_tokens_n OPERATOR(pg_catalog.+) excluded.input_image_tokens_n,
                   output_audio_tokens = p.output_audio_tokens OPERATOR(pg_catalog.+) excluded.output_audio_tokens,
                   output_audio_tokens_n = p.output_audio_tokens_n OPERATOR(pg_catalog.+) excluded.output_audio_tokens_n,
                   output_image_tokens = p.output_image_tokens OPERATOR(pg_catalog.+) excluded.output_image_tokens,
                   output_image_tokens_n = p.output_image_tokens_n OPERATOR(pg_catalog.+) excluded.output_image_tokens_n,
                   web_search_requests = p.web_search_requests OPERATOR(pg_catalog.+) excluded.web_search_requests,
                   web_search_requests_n = p.web_search_requests_n OPERATOR(pg_catalog.+) excluded.web_search_requests_n,
                   first_call = LEAST(p.first_call, excluded.first_call),
                   last_call = GREATEST(p.last_call, excluded.last_call),
                   latency = @extschema@.ai_hist_add(p.latency, excluded.latency)
            RETURNING 1
        )
        SELECT pg_catalog.count(*) INTO removed FROM gone;
        total := total OPERATOR(pg_catalog.+) removed;
        COMMIT;
        EXIT WHEN removed OPERATOR(pg_catalog.<) batch_size;
    END LOOP;
    RAISE NOTICE 'aitrack: purged % calls made before %', total, older_than;
END;
$$;

-- ai_rollup_rebuild(), as 1.4 has it, with the new columns.
CREATE OR REPLACE PROCEDURE @extschema@.ai_rollup_rebuild(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
LANGUAGE plpgsql
-- No SET search_path: a procedure with a SET clause cannot COMMIT.  Every
-- name and operator below is qualified instead.
AS $$
DECLARE
    day_start timestamptz;
    day_end timestamptz;
    last_day timestamptz;
    days bigint := 0;
BEGIN
    day_start := pg_catalog.date_trunc('day', COALESCE(since,
                     (SELECT pg_catalog.min(c.created_at) FROM @extschema@.ai_call c),
                     (SELECT pg_catalog.min(r.bucket) FROM @extschema@.ai_usage_rollup r),
                     pg_catalog.now()), 'UTC');
    last_day := COALESCE(until,
                     GREATEST((SELECT pg_catalog.max(c.created_at) FROM @extschema@.ai_call c),
                              (SELECT pg_catalog.max(r.bucket) FROM @extschema@.ai_usage_rollup r))
                     OPERATOR(pg_catalog.+) '1 hour'::pg_catalog.interval,
                     pg_catalog.now());
    IF since IS NOT NULL AND until IS NOT NULL AND since OPERATOR(pg_catalog.>=) until THEN
        RAISE EXCEPTION 'since must be before until'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WHILE day_start OPERATOR(pg_catalog.<) last_day LOOP
        -- 24 hours, not '1 day': a day of the session's time zone may be 23 or 25.
        day_end := day_start OPERATOR(pg_catalog.+) '24 hours'::pg_catalog.interval;
        -- No compaction meanwhile (it would fold rows this deletes).
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('aitrack.ai_rollup_compact'));
        WITH gone_rollup AS (
            DELETE FROM @extschema@.ai_usage_rollup r
             WHERE r.bucket OPERATOR(pg_catalog.>=) day_start
               AND r.bucket OPERATOR(pg_catalog.<) day_end
            RETURNING 1
        ), gone_total AS (
            DELETE FROM @extschema@.ai_usage_rollup_total t
             WHERE t.bucket OPERATOR(pg_catalog.>=) day_start
               AND t.bucket OPERATOR(pg_catalog.<) day_end
            RETURNING 1
        )
        INSERT INTO @extschema@.ai_usage_rollup
               (bucket, model_id, call_type, status, user_id, pending, calls,
                input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                first_call, last_call, latency)
        SELECT pg_catalog.date_trunc('hour', c.created_at, 'UTC'), c.model_id, c.call_type, c.status, c.user_id,
               true, pg_catalog.count(*),
               COALESCE(pg_catalog.sum(c.input_tokens), 0), pg_catalog.count(c.input_tokens),
               COALESCE(pg_catalog.sum(c.reasoning_tokens), 0), pg_catalog.count(c.reasoning_tokens),
               COALESCE(pg_catalog.sum(c.output_tokens), 0), pg_catalog.count(c.output_tokens),
               COALESCE(pg_catalog.sum(c.cache_read_input_tokens), 0), pg_catalog.count(c.cache_read_input_tokens),
               COALESCE(pg_catalog.sum(c.cache_creation_input_tokens), 0), pg_catalog.count(c.cache_creation_input_tokens),
               COALESCE(pg_catalog.sum(c.cost_usd), 0), pg_catalog.count(c.cost_usd),
               COALESCE(pg_catalog.sum(c.duration_ms), 0), pg_catalog.count(c.duration_ms),
               COALESCE(pg_catalog.sum(c.time_to_first_token_ms), 0), pg_catalog.count(c.time_to_first_token_ms),
               COALESCE(pg_catalog.sum(c.cache_creation_1h_input_tokens), 0), pg_catalog.count(c.cache_creation_1h_input_tokens),
               COALESCE(pg_catalog.sum(c.input_audio_tokens), 0), pg_catalog.count(c.input_audio_tokens),
               COALESCE(pg_catalog.sum(c.cache_read_audio_tokens), 0), pg_catalog.count(c.cache_read_audio_tokens),
               COALESCE(pg_catalog.sum(c.input_image_tokens), 0), pg_catalog.count(c.input_image_tokens),
               COALESCE(pg_catalog.sum(c.output_audio_tokens), 0), pg_catalog.count(c.output_audio_tokens),
               COALESCE(pg_catalog.sum(c.output_image_tokens), 0), pg_catalog.count(c.output_image_tokens),
               COALESCE(pg_catalog.sum(c.web_search_requests), 0), pg_catalog.count(c.web_search_requests),
               pg_catalog.min(c.created_at), pg_catalog.max(c.created_at),
               @extschema@.ai_hist_merge(@extschema@.ai_hist_of(c.duration_ms, 1::pg_catalog.int4))
          FROM @extschema@.ai_call c
         WHERE c.created_at OPERATOR(pg_catalog.>=) day_start
           AND c.created_at OPERATOR(pg_catalog.<) day_end
           AND (SELECT pg_catalog.count(*) FROM gone_rollup) OPERATOR(pg_catalog.>=) 0
           AND (SELECT pg_catalog.count(*) FROM gone_total) OPERATOR(pg_catalog.>=) 0
         GROUP BY 1, 2, 3, 4, 5;
        COMMIT;
        days := days OPERATOR(pg_catalog.+) 1;
        day_start := day_end;
    END LOOP;
    RAISE NOTICE 'aitrack: rebuilt the rollups of % days; CALL ai_rollup_compact() folds them', days;
END;
$$;

--
-- ai_usage_stats(): its rows are now of a composite type, which later
-- versions widen with ALTER TYPE ... ADD ATTRIBUTE, so that a view over the
-- function (a dashboard's usual shape) survives every later update.  This
-- one last time the function is dropped and created again (a function's
-- result type cannot change in place); the grants carry over by copying
-- the ACL (see the 1.0 -> 1.1 script).  The 1.2 columns come first, in
-- their order; the sums of what is billed apart follow.
--
CREATE TYPE @extschema@.ai_usage_stats_row AS (
    bucket                          timestamptz,
    modelname                       text,
    version                         text,
    call_type                       text,
    status                          text,
    user_id                         uuid,
    calls                           bigint,
    errors                          bigint,
    input_tokens                    bigint,
    reasoning_tokens                bigint,
    output_tokens                   bigint,
    cost_usd                        numeric,
    avg_duration_ms                 double precision,
    p50_duration_ms                 double precision,
    p95_duration_ms                 double precision,
    p99_duration_ms                 double precision,
    first_call                      timestamptz,
    last_call                       timestamptz,
    cache_read_input_tokens         bigint,
    cache_creation_input_tokens     bigint,
    unpriced_calls                  bigint,
    avg_time_to_first_token_ms      double precision,
    cache_creation_1h_input_tokens  bigint,
    input_audio_tokens              bigint,
    cache_read_audio_tokens         bigint,
    input_image_tokens              bigint,
    output_audio_tokens             bigint,
    output_image_tokens             bigint,
    web_search_requests             bigint);

CREATE FUNCTION @extschema@.ai_usage_stats_1_5_new(
    since      timestamptz DEFAULT NULL,
    until      timestamptz DEFAULT NULL,
    group_by   text[]      DEFAULT '{model}',
    modelname  text        DEFAULT NULL,
    call_type  text        DEFAULT NULL,
    user_id    uuid        DEFAULT NULL,
    tz         text        DEFAULT 'UTC')
RETURNS SETOF @extschema@.ai_usage_stats_row
AS 'MODULE_PATHNAME', 'ai_usage_stats_1_5'
LANGUAGE C STABLE;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats_1_5_new(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure;
-- ... and its initial privileges, so that ai_reset_privileges() tells the
-- extension's grants from a DBA's as it did for the old one (a DBA's GRANT
-- ... TO PUBLIC stands).
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats_1_5_new(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
SELECT '@extschema@.ai_usage_stats_1_5_new(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure, i.classoid, i.objsubid, i.privtype, i.initprivs
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure
   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
DROP FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text);
ALTER FUNCTION @extschema@.ai_usage_stats_1_5_new(timestamptz, timestamptz, text[], text, text, uuid, text)
    RENAME TO ai_usage_stats;

--
-- record_ai_call(), explicit columns: 1.4's arguments, then the new ones
-- (src/record.c).  Replaced, with its ACL copied, as 1.4 did.
--
CREATE FUNCTION @extschema@.record_ai_call(
    modelname                       text,
    version                         text,
    prompt                          text,
    response                        jsonb,
    input_tokens                    bigint           DEFAULT NULL,
    reasoning_tokens                bigint           DEFAULT NULL,
    output_tokens                   bigint           DEFAULT NULL,
    cost_usd                        double precision DEFAULT NULL,
    duration_ms                     double precision DEFAULT NULL,
    call_type                       text             DEFAULT NULL,
    status                          text             DEFAULT 'success',
    user_id                         uuid             DEFAULT NULL,
    extra                           jsonb            DEFAULT '{}',
    cache_read_input_tokens         bigint           DEFAULT NULL,
    cache_creation_input_tokens     bigint           DEFAULT NULL,
    time_to_first_token_ms          double precision DEFAULT NULL,
    provider                        text             DEFAULT NULL,
    service_tier                    text             DEFAULT NULL,
    cache_creation_1h_input_tokens  bigint           DEFAULT NULL,
    input_audio_tokens              bigint           DEFAULT NULL,
    cache_read_audio_tokens         bigint           DEFAULT NULL,
    input_image_tokens              bigint           DEFAULT NULL,
    output_audio_tokens             bigint           DEFAULT NULL,
    output_image_tokens             bigint           DEFAULT NULL,
    web_search_requests             bigint           DEFAULT NULL,
    web_search_context_size         text             DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_1_5'
LANGUAGE C VOLATILE SECURITY DEFINER;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure;
-- ... and its initial privileges, so that ai_reset_privileges() tells the
-- extension's grants from a DBA's as it did for the old one (a DBA's GRANT
-- ... TO PUBLIC stands).
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
SELECT '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure, i.classoid, i.objsubid, i.privtype, i.initprivs
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision)'::pg_catalog.regprocedure
   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
DROP FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision);

-- The seed's forms and the batch keep their signatures and grants, and take
-- the new keys.
CREATE OR REPLACE FUNCTION @extschema@.record_ai_call(
    modelname  text,
    version    text,
    prompt     text,
    response   jsonb,
    metrics    jsonb,
    call_type  text DEFAULT NULL,
    user_id    uuid DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_1_5'
LANGUAGE C VOLATILE SECURITY DEFINER;

CREATE OR REPLACE FUNCTION @extschema@.record_ai_call(
    modelname     text,
    version       text,
    prompt        text,
    response      jsonb,
    metrics_json  text,
    call_type     text DEFAULT NULL,
    user_id       text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_text_1_5'
LANGUAGE C VOLATILE SECURITY DEFINER;

CREATE OR REPLACE FUNCTION @extschema@.record_ai_calls(calls jsonb)
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'record_ai_calls_1_5'
LANGUAGE C VOLATILE SECURITY DEFINER;

--
-- Costs under every rule of a price (src/price.c).
--
-- A call's billed columns, by name: a row of ai_call, or of a query that
-- selects those columns (ai_reprice() selects them alone, so that repricing
-- needs no right to read prompts and responses).  What record_ai_call()
-- computes.
CREATE FUNCTION @extschema@.ai_cost(price @extschema@.ai_model_price, call record)
RETURNS numeric
AS 'MODULE_PATHNAME', 'ai_cost_call_1_5'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- Whoever may compute costs from counts may from a call's row (ai_reprice()
-- calls this one now): the ACL is copied, as above.
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure;
-- ... and its initial privileges, so that ai_reset_privileges() tells the
-- extension's grants from a DBA's as it did for the old one (a DBA's GRANT
-- ... TO PUBLIC stands).
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) '@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
SELECT '@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure, i.classoid, i.objsubid, i.privtype, i.initprivs
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid OPERATOR(pg_catalog.=) '@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure
   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;

-- 1.1's token counts, now under the price's context tiers too (a call at
-- the standard service tier, without the parts billed apart).
CREATE OR REPLACE FUNCTION @extschema@.ai_cost(
    price                        @extschema@.ai_model_price,
    input_tokens                 integer,
    cache_read_input_tokens      integer,
    cache_creation_input_tokens  integer,
    output_tokens                integer,
    reasoning_tokens             integer)
RETURNS numeric
AS 'MODULE_PATHNAME', 'ai_cost_counts_1_5'
LANGUAGE C IMMUTABLE;

-- ai_reprice() prices each call's own row, so every rule applies.
CREATE OR REPLACE FUNCTION @extschema@.ai_reprice(
    since    timestamptz,
    until    timestamptz,
    dry_run  boolean DEFAULT true)
RETURNS TABLE (calls_checked bigint, calls_changed bigint, newly_priced bigint,
               newly_unpriced bigint, cost_before_usd numeric, cost_after_usd numeric,
               change_usd numeric)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    message  text;
    details  text;
BEGIN
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'dry_run must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true to see what would change, false to change it.';
    END IF;

    BEGIN
    RETURN QUERY
    WITH repriced AS MATERIALIZED (
        SELECT c.id, c.cost_usd AS old_cost, c.cost_source AS old_source,
               @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at),
                                   billed) AS new_cost
          FROM @extschema@.ai_call c
          JOIN @extschema@.ai_model m ON m.id = c.model_id
          -- The billed columns alone (see ai_cost above).
          CROSS JOIN LATERAL (SELECT c.input_tokens, c.output_tokens, c.cache_read_input_tokens,
                                     c.cache_creation_input_tokens, c.cache_creation_1h_input_tokens,
                                     c.reasoning_tokens, c.input_audio_tokens, c.cache_read_audio_tokens,
                                     c.input_image_tokens, c.output_audio_tokens, c.output_image_tokens,
                                     c.web_search_requests, c.service_tier,
                                     c.web_search_context_size) AS billed
         WHERE (ai_reprice.since IS NULL OR c.created_at >= ai_reprice.since)
           AND (ai_reprice.until IS NULL OR c.created_at < ai_reprice.until)
           AND (c.cost_source IN ('computed', 'unknown')
                OR (c.cost_source IS NULL AND c.cost_usd IS NULL))
    ), written AS (
        -- A data-modifying WITH runs whether or not it is read.
        UPDATE @extschema@.ai_call c
           SET cost_usd = r.new_cost,
               cost_source = CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END
          FROM repriced r
         WHERE NOT ai_reprice.dry_run
           AND c.id = r.id
           AND (r.new_cost IS DISTINCT FROM r.old_cost
                OR r.old_source IS DISTINCT FROM
                   CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END)
        RETURNING c.id
    )
    SELECT pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.new_cost IS DISTINCT FROM r.old_cost
                                       OR r.old_source IS DISTINCT FROM
                                          CASE WHEN r.new_cost IS NULL THEN 'unknown' ELSE 'computed' END),
           pg_catalog.count(*) FILTER (WHERE r.old_cost IS NULL AND r.new_cost IS NOT NULL),
           pg_catalog.count(*) FILTER (WHERE r.old_cost IS NOT NULL AND r.new_cost IS NULL),
           pg_catalog.trim_scale(COALESCE(pg_catalog.sum(r.old_cost), 0)),
           pg_catalog.trim_scale(COALESCE(pg_catalog.sum(r.new_cost), 0)),
           pg_catalog.trim_scale(COALESCE(pg_catalog.sum(r.new_cost), 0)
                                 - COALESCE(pg_catalog.sum(r.old_cost), 0))
      FROM repriced r;
    EXCEPTION WHEN check_violation THEN
        -- A cost above 1e9 USD (ai_call_cost_usd_range), from absurd counts
        -- or rates: said plainly, and nothing is changed.
        GET STACKED DIAGNOSTICS message = MESSAGE_TEXT;
        -- Which call (the error path only: the work of the dry run again).
        SELECT pg_catalog.format('Call %s would cost %s USD (%s).', c.id,
                   @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at), billed),
                   message)
          INTO details
          FROM @extschema@.ai_call c
          JOIN @extschema@.ai_model m ON m.id = c.model_id
          CROSS JOIN LATERAL (SELECT c.input_tokens, c.output_tokens, c.cache_read_input_tokens,
                                     c.cache_creation_input_tokens, c.cache_creation_1h_input_tokens,
                                     c.reasoning_tokens, c.input_audio_tokens, c.cache_read_audio_tokens,
                                     c.input_image_tokens, c.output_audio_tokens, c.output_image_tokens,
                                     c.web_search_requests, c.service_tier,
                                     c.web_search_context_size) AS billed
         WHERE (ai_reprice.since IS NULL OR c.created_at >= ai_reprice.since)
           AND (ai_reprice.until IS NULL OR c.created_at < ai_reprice.until)
           AND (c.cost_source IN ('computed', 'unknown')
                OR (c.cost_source IS NULL AND c.cost_usd IS NULL))
           AND @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at), billed)
               > 1000000000::numeric
         ORDER BY c.id
         LIMIT 1;
        RAISE EXCEPTION 'a repriced cost is out of range'
            USING ERRCODE = 'numeric_value_out_of_range',
                  DETAIL = COALESCE(details, message),
                  HINT = 'A call''s cost must be at most 1e9 USD: check the counts of that call and the price in force at its time; no call was repriced.';
    END;
END;
$$;

--
-- ai_load_prices(): every rule of LiteLLM's format, read in C
-- (src/price_litellm.c), and a detail per entry saying why it was skipped
-- or what it left out.  Its result gains a column, so it is replaced, with
-- its ACL copied.
--
CREATE FUNCTION @extschema@.ai_price_from_litellm(model text, entry jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ai_price_from_litellm_1_5'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The old one steps aside first: PL/pgSQL knows a function's arguments by
-- the name it had when it was created (ai_load_prices.valid_from below).
ALTER FUNCTION @extschema@.ai_load_prices(jsonb, timestamptz, text) RENAME TO ai_load_prices_1_4_old;
CREATE FUNCTION @extschema@.ai_load_prices(
    prices      jsonb,
    valid_from  timestamptz DEFAULT NULL,
    source      text        DEFAULT 'litellm')
RETURNS TABLE (model text, action text, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entry        record;
    parsed       jsonb;
    starts       timestamptz := COALESCE(ai_load_prices.valid_from, pg_catalog.now());
    new_row      @extschema@.ai_model_price;
    current_row  @extschema@.ai_model_price;
    first_valid  timestamptz;
BEGIN
    IF prices IS NULL OR pg_catalog.jsonb_typeof(prices) <> 'object' THEN
        RAISE EXCEPTION 'prices must be a JSON object mapping model names to prices'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the contents of LiteLLM''s model_prices_and_context_window.json, or an object in its format.';
    END IF;

    FOR entry IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(prices) AS e ORDER BY e.key LOOP
        model := entry.key;
        detail := NULL;
        IF entry.key = 'sample_spec' THEN
            action := 'skipped';
            detail := 'LiteLLM''s description of its format, not a model';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF pg_catalog.char_length(entry.key) > 256 THEN
            RAISE EXCEPTION 'model name "%..." is too long', pg_catalog.left(entry.key, 40)
                USING ERRCODE = 'string_data_right_truncation',
                      DETAIL = pg_catalog.format('It has %s characters; the limit is 256.', pg_catalog.char_length(entry.key));
        END IF;

        parsed := @extschema@.ai_price_from_litellm(entry.key, entry.value);
        IF parsed ? 'skip' THEN
            action := 'skipped';
            detail := parsed ->> 'skip';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF parsed ? 'ignored' THEN
            detail := 'not applied: ' OPERATOR(pg_catalog.||)
                      (SELECT pg_catalog.string_agg(k, ', ') FROM pg_catalog.jsonb_array_elements_text(parsed -> 'ignored') AS k);
        END IF;
        new_row := pg_catalog.jsonb_populate_record(NULL::@extschema@.ai_model_price, parsed -> 'price');

        SELECT p.* INTO current_row
          FROM @extschema@.ai_model_price p
         WHERE p.model = entry.key
         ORDER BY p.valid_until DESC
         LIMIT 1
         FOR UPDATE;

        IF NOT FOUND THEN
            -- A model never priced: from valid_from, or from the beginning.
            first_valid := COALESCE(ai_load_prices.valid_from, '-infinity');
            action := 'added';
        ELSIF current_row.valid_until <> 'infinity' THEN
            -- Its last price has ended: the new one starts where asked, or
            -- when the old one ended if that is later than now.
            first_valid := COALESCE(ai_load_prices.valid_from,
                                    GREATEST(pg_catalog.now(), current_row.valid_until));
            action := 'added';
        ELSIF ROW(current_row.input_usd_per_mtok, current_row.output_usd_per_mtok,
                  current_row.cache_read_usd_per_mtok, current_row.cache_creation_usd_per_mtok,
                  current_row.reasoning_usd_per_mtok,
                  current_row.cache_creation_1h_usd_per_mtok, current_row.input_audio_usd_per_mtok,
                  current_row.cache_read_audio_usd_per_mtok, current_row.output_audio_usd_per_mtok,
                  current_row.input_image_usd_per_mtok, current_row.output_image_usd_per_mtok,
                  current_row.request_usd, current_row.web_search_low_usd,
                  current_row.web_search_medium_usd, current_row.web_search_high_usd,
                  current_row.tiers, current_row.service_tiers)
              IS NOT DISTINCT FROM
              ROW(new_row.input_usd_per_mtok, new_row.output_usd_per_mtok,
                  new_row.cache_read_usd_per_mtok, new_row.cache_creation_usd_per_mtok,
                  new_row.reasoning_usd_per_mtok,
                  new_row.cache_creation_1h_usd_per_mtok, new_row.input_audio_usd_per_mtok,
                  new_row.cache_read_audio_usd_per_mtok, new_row.output_audio_usd_per_mtok,
                  new_row.input_image_usd_per_mtok, new_row.output_image_usd_per_mtok,
                  new_row.request_usd, new_row.web_search_low_usd,
                  new_row.web_search_medium_usd, new_row.web_search_high_usd,
                  COALESCE(new_row.tiers, '[]'), COALESCE(new_row.service_tiers, '{}')) THEN
            action := 'unchanged';
            -- Who serves the model is not a rate: a new name is written in
            -- place (an entry without one keeps the old).
            IF new_row.provider IS NOT NULL AND new_row.provider IS DISTINCT FROM current_row.provider THEN
                UPDATE @extschema@.ai_model_price p SET provider = new_row.provider WHERE p.id = current_row.id;
                detail := pg_catalog.concat_ws('; ', 'provider set to ' OPERATOR(pg_catalog.||) new_row.provider, detail);
            END IF;
        ELSIF ROW(current_row.input_usd_per_mtok, current_row.output_usd_per_mtok,
                  current_row.cache_read_usd_per_mtok, current_row.cache_creation_usd_per_mtok,
                  current_row.reasoning_usd_per_mtok)
              IS NOT DISTINCT FROM
              ROW(new_row.input_usd_per_mtok, new_row.output_usd_per_mtok,
                  new_row.cache_read_usd_per_mtok, new_row.cache_creation_usd_per_mtok,
                  new_row.reasoning_usd_per_mtok)
          AND current_row.provider IS NULL
          AND current_row.cache_creation_1h_usd_per_mtok IS NULL AND current_row.input_audio_usd_per_mtok IS NULL
          AND current_row.cache_read_audio_usd_per_mtok IS NULL AND current_row.output_audio_usd_per_mtok IS NULL
          AND current_row.input_image_usd_per_mtok IS NULL AND current_row.output_image_usd_per_mtok IS NULL
          AND current_row.request_usd IS NULL AND current_row.web_search_low_usd IS NULL
          AND current_row.web_search_medium_usd IS NULL AND current_row.web_search_high_usd IS NULL
          AND current_row.tiers = '[]' AND current_row.service_tiers = '{}' THEN
            -- A price loaded before 1.5, whose rates are still the same: the
            -- rules 1.5 reads are added to it in place, so that the calls it
            -- priced can be repriced under them (ai_reprice).
            UPDATE @extschema@.ai_model_price p
               SET provider = new_row.provider,
                   cache_creation_1h_usd_per_mtok = new_row.cache_creation_1h_usd_per_mtok,
                   input_audio_usd_per_mtok = new_row.input_audio_usd_per_mtok,
                   cache_read_audio_usd_per_mtok = new_row.cache_read_audio_usd_per_mtok,
                   output_audio_usd_per_mtok = new_row.output_audio_usd_per_mtok,
                   input_image_usd_per_mtok = new_row.input_image_usd_per_mtok,
                   output_image_usd_per_mtok = new_row.output_image_usd_per_mtok,
                   request_usd = new_row.request_usd,
                   web_search_low_usd = new_row.web_search_low_usd,
                   web_search_medium_usd = new_row.web_search_medium_usd,
                   web_search_high_usd = new_row.web_search_high_usd,
                   tiers = COALESCE(new_row.tiers, '[]'),
                   service_tiers = COALESCE(new_row.service_tiers, '{}')
             WHERE p.id = current_row.id;
            action := 'completed';
            detail := pg_catalog.concat_ws('; ', 'rules added to the price in force since '
                                                 OPERATOR(pg_catalog.||) current_row.valid_from::text,
                                           detail);
            RETURN NEXT;
            CONTINUE;
        ELSE
            IF starts <= current_row.valid_from THEN
                RAISE EXCEPTION 'new price of model "%" must start after the price in force does', entry.key
                    USING ERRCODE = 'invalid_parameter_value',
                          DETAIL = pg_catalog.format('The price in force starts at %s; valid_from is %s.',
                                                     current_row.valid_from, starts),
                          HINT = 'Pass a later valid_from, or change the rows of ai_model_price by hand.';
            END IF;
            UPDATE @extschema@.ai_model_price p SET valid_until = starts WHERE p.id = current_row.id;
            first_valid := starts;
            action := 'changed';
        END IF;

        IF action <> 'unchanged' THEN
            BEGIN
                INSERT INTO @extschema@.ai_model_price
                       (model, valid_from, source, input_usd_per_mtok, output_usd_per_mtok,
                        cache_read_usd_per_mtok, cache_creation_usd_per_mtok, reasoning_usd_per_mtok,
                        provider, cache_creation_1h_usd_per_mtok, input_audio_usd_per_mtok,
                        cache_read_audio_usd_per_mtok, output_audio_usd_per_mtok,
                        input_image_usd_per_mtok, output_image_usd_per_mtok, request_usd,
                        web_search_low_usd, web_search_medium_usd, web_search_high_usd,
                        tiers, service_tiers)
                VALUES (entry.key, first_valid, ai_load_prices.source, new_row.input_usd_per_mtok,
                        new_row.output_usd_per_mtok, new_row.cache_read_usd_per_mtok,
                        new_row.cache_creation_usd_per_mtok, new_row.reasoning_usd_per_mtok,
                        new_row.provider, new_row.cache_creation_1h_usd_per_mtok,
                        new_row.input_audio_usd_per_mtok, new_row.cache_read_audio_usd_per_mtok,
                        new_row.output_audio_usd_per_mtok, new_row.input_image_usd_per_mtok,
                        new_row.output_image_usd_per_mtok, new_row.request_usd,
                        new_row.web_search_low_usd, new_row.web_search_medium_usd,
                        new_row.web_search_high_usd, COALESCE(new_row.tiers, '[]'),
                        COALESCE(new_row.service_tiers, '{}'));
            EXCEPTION WHEN exclusion_violation THEN
                RAISE EXCEPTION 'new price of model "%" from % overlaps a price already there', entry.key, first_valid
                    USING ERRCODE = 'exclusion_violation',
                          HINT = 'Pass a valid_from after the prices of this model in ai_model_price end.';
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.ai_load_prices_1_4_old(jsonb, timestamptz, text)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure;
-- ... and its initial privileges, so that ai_reset_privileges() tells the
-- extension's grants from a DBA's as it did for the old one (a DBA's GRANT
-- ... TO PUBLIC stands).
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) '@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
SELECT '@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure, i.classoid, i.objsubid, i.privtype, i.initprivs
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid OPERATOR(pg_catalog.=) '@extschema@.ai_load_prices_1_4_old(jsonb, timestamptz, text)'::pg_catalog.regprocedure
   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
DROP FUNCTION @extschema@.ai_load_prices_1_4_old(jsonb, timestamptz, text);

--
-- The privileges aitrack means, as a list of its own: later versions
-- replace this function alone, and ai_reset_privileges() (below, its body
-- as 1.4 has it, reading this list) applies it.
--
CREATE FUNCTION @extschema@.ai_intended_privileges()
RETURNS TABLE (obj oid, grantee text, privilege text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.obj, l.grantee, l.privilege
      FROM (VALUES
        -- recording
        ('@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_calls(jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        -- reading
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_price_at(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_settings()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        -- administration: prices, repricing, compaction, retention, tenants
        ('@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_reprice(timestamptz, timestamptz, boolean)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_compact()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_rebuild(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_purge_calls(timestamptz, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_purge_content(timestamptz, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_model_price_id_seq'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'USAGE'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'SELECT'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        -- everyone: pure helpers, and what the row-level security policies call
        ('@extschema@.ai_hist_of(integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_add(integer[], integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_percentile(integer[], double precision)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_accum(internal, integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_final(internal)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_hist_merge(integer[])'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_tenant_mode()'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_tenant_user_id()'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_price_rules_valid(jsonb, jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_price_from_litellm(text, jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE')
      ) AS l(obj, grantee, privilege);
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_intended_privileges() FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.ai_reset_privileges()
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    objs oid[] := '{}';
    grantees text[] := '{}';
    privileges text[] := '{}';
    member record;
    entry record;
    ext oid := (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'aitrack');
    initial aclitem[];
    revoked text[] := '{}';
BEGIN
    SELECT pg_catalog.array_agg(l.obj), pg_catalog.array_agg(l.grantee), pg_catalog.array_agg(l.privilege)
      INTO objs, grantees, privileges
      FROM @extschema@.ai_intended_privileges() AS l;

    FOR member IN
        SELECT d.classid, d.objid,
               CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                    THEN 'ROUTINE ' OPERATOR(pg_catalog.||) d.objid::pg_catalog.regprocedure::pg_catalog.text
                    WHEN c.relkind OPERATOR(pg_catalog.=) 'S'
                    THEN 'SEQUENCE ' OPERATOR(pg_catalog.||) d.objid::pg_catalog.regclass::pg_catalog.text
                    ELSE 'TABLE ' OPERATOR(pg_catalog.||) d.objid::pg_catalog.regclass::pg_catalog.text END AS target,
               CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN 'f'
                    WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 's' ELSE 'r' END::pg_catalog."char" AS kind,
               COALESCE(c.relowner, p.proowner) AS owner,
               COALESCE(c.relnamespace, p.pronamespace) AS namespace,
               CASE WHEN d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                    THEN p.proacl ELSE c.relacl END AS acl,
               i.initprivs
          FROM pg_catalog.pg_depend d
          LEFT JOIN pg_catalog.pg_class c
                 ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                AND c.oid OPERATOR(pg_catalog.=) d.objid
          LEFT JOIN pg_catalog.pg_proc p
                 ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
                AND p.oid OPERATOR(pg_catalog.=) d.objid
          LEFT JOIN pg_catalog.pg_init_privs i
                 ON i.classoid OPERATOR(pg_catalog.=) d.classid AND i.objoid OPERATOR(pg_catalog.=) d.objid
                AND i.objsubid OPERATOR(pg_catalog.=) 0
         WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
           AND d.refobjid OPERATOR(pg_catalog.=) ext
           AND d.deptype OPERATOR(pg_catalog.=) 'e'
           AND (p.oid IS NOT NULL OR c.relkind OPERATOR(pg_catalog.=) ANY ('{r,S}'::pg_catalog."char"[]))
         ORDER BY d.classid, d.objid
    LOOP
        -- Revoke what creation handed out and the list does not have.
        FOR entry IN
            SELECT a.grantee, a.privilege_type,
                   CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                        ELSE pg_catalog.quote_ident(a.grantee::pg_catalog.regrole::pg_catalog.text) END AS grantee_name
              FROM pg_catalog.aclexplode(COALESCE(member.acl, pg_catalog.acldefault(member.kind, member.owner))) a
             WHERE a.grantee OPERATOR(pg_catalog.<>) member.owner
               AND (CASE WHEN member.initprivs IS NOT NULL THEN
                        EXISTS (SELECT FROM pg_catalog.aclexplode(member.initprivs) i
                                 WHERE i.grantee OPERATOR(pg_catalog.=) a.grantee
                                   AND i.privilege_type OPERATOR(pg_catalog.=) a.privilege_type)
                    ELSE
                        EXISTS (SELECT FROM pg_catalog.pg_default_acl da, pg_catalog.aclexplode(da.defaclacl) i
                                 WHERE da.defaclrole OPERATOR(pg_catalog.=) member.owner
                                   AND da.defaclnamespace OPERATOR(pg_catalog.=) ANY (ARRAY[0, member.namespace])
                                   AND da.defaclobjtype OPERATOR(pg_catalog.=) member.kind
                                   AND i.grantee OPERATOR(pg_catalog.=) a.grantee
                                   AND i.privilege_type OPERATOR(pg_catalog.=) a.privilege_type)
                    END)
               AND NOT EXISTS (SELECT FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
                                WHERE l.obj OPERATOR(pg_catalog.=) member.objid
                                  AND l.privilege OPERATOR(pg_catalog.=) a.privilege_type
                                  AND CASE WHEN l.grantee OPERATOR(pg_catalog.=) 'PUBLIC' THEN 0::pg_catalog.oid
                                           ELSE l.grantee::pg_catalog.regrole::pg_catalog.oid END
                                      OPERATOR(pg_catalog.=) a.grantee)
        LOOP
            EXECUTE pg_catalog.format('REVOKE %s ON %s FROM %s CASCADE', entry.privilege_type, member.target, entry.grantee_name);
            revoked := revoked OPERATOR(pg_catalog.||) (entry.grantee_name OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) member.objid::pg_catalog.text);
        END LOOP;

        -- Grant the list, but what an earlier run already granted (it is in
        -- the initial privileges) only if it is still there: a DBA's REVOKE
        -- since then stands.
        FOR entry IN
            SELECT l.grantee, l.privilege
              FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
             WHERE l.obj OPERATOR(pg_catalog.=) member.objid
               AND NOT EXISTS (SELECT FROM pg_catalog.aclexplode(member.initprivs) AS i
                                WHERE i.grantee OPERATOR(pg_catalog.=)
                                      CASE WHEN l.grantee OPERATOR(pg_catalog.=) 'PUBLIC' THEN 0::pg_catalog.oid
                                           ELSE l.grantee::pg_catalog.regrole::pg_catalog.oid END
                                  AND i.privilege_type OPERATOR(pg_catalog.=) l.privilege)
        LOOP
            EXECUTE pg_catalog.format('GRANT %s ON %s TO %s', entry.privilege, member.target, entry.grantee);
        END LOOP;
        -- A function the list does not open to PUBLIC is closed to it, when
        -- its creation opened it (no initial privileges recorded, or PUBLIC
        -- in them): a DBA's GRANT ... TO PUBLIC since then stands.
        IF member.kind OPERATOR(pg_catalog.=) 'f'
           AND (member.initprivs IS NULL
                OR EXISTS (SELECT FROM pg_catalog.aclexplode(member.initprivs) AS i
                            WHERE i.grantee OPERATOR(pg_catalog.=) 0))
           AND NOT EXISTS (
               SELECT FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees)) AS l(obj, grantee)
                WHERE l.obj OPERATOR(pg_catalog.=) member.objid AND l.grantee OPERATOR(pg_catalog.=) 'PUBLIC') THEN
            EXECUTE pg_catalog.format('REVOKE EXECUTE ON %s FROM PUBLIC', member.target);
        END IF;

        -- The initial privileges are the owner's and the list's, nothing
        -- else: pg_dump then dumps every grant made after installing.
        SELECT pg_catalog.array_agg(x) INTO initial FROM (
            SELECT a AS x FROM pg_catalog.unnest(pg_catalog.acldefault(member.kind, member.owner)) AS a
             WHERE (SELECT e.grantee FROM pg_catalog.aclexplode(ARRAY[a]) AS e LIMIT 1)
                   OPERATOR(pg_catalog.=) member.owner
            UNION ALL
            SELECT pg_catalog.format('%s=%s/%s',
                       CASE WHEN l.grantee OPERATOR(pg_catalog.=) 'PUBLIC' THEN '' ELSE pg_catalog.quote_ident(l.grantee) END,
                       pg_catalog.string_agg(CASE l.privilege WHEN 'SELECT' THEN 'r' WHEN 'INSERT' THEN 'a'
                                                 WHEN 'UPDATE' THEN 'w' WHEN 'DELETE' THEN 'd'
                                                 WHEN 'EXECUTE' THEN 'X' WHEN 'USAGE' THEN 'U' END, ''),
                       pg_catalog.quote_ident(member.owner::pg_catalog.regrole::pg_catalog.text))::pg_catalog.aclitem
              FROM ROWS FROM (pg_catalog.unnest(objs), pg_catalog.unnest(grantees), pg_catalog.unnest(privileges)) AS l(obj, grantee, privilege)
             WHERE l.obj OPERATOR(pg_catalog.=) member.objid
             GROUP BY l.grantee) AS s;
        UPDATE pg_catalog.pg_init_privs
           SET initprivs = initial
         WHERE classoid OPERATOR(pg_catalog.=) member.classid AND objoid OPERATOR(pg_catalog.=) member.objid
           AND objsubid OPERATOR(pg_catalog.=) 0;
        IF NOT FOUND THEN
            INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
            VALUES (member.objid, member.classid, 0, 'e', initial);
        END IF;
    END LOOP;

    IF pg_catalog.cardinality(revoked) OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING 'aitrack revoked privileges that default privileges had given on % of its objects when they were created',
                      (SELECT pg_catalog.count(DISTINCT pg_catalog.split_part(r, ' ', 2)) FROM pg_catalog.unnest(revoked) AS r)
            USING DETAIL = (SELECT 'Revoked from: ' OPERATOR(pg_catalog.||)
                                   pg_catalog.string_agg(pg_catalog.format('%s (on %s objects)', g.name, g.n), ', ' ORDER BY g.name)
                                   OPERATOR(pg_catalog.||) '.'
                              FROM (SELECT pg_catalog.split_part(r, ' ', 1) AS name,
                                           pg_catalog.count(DISTINCT pg_catalog.split_part(r, ' ', 2)) AS n
                                      FROM pg_catalog.unnest(revoked) AS r GROUP BY 1) AS g),
                  HINT = 'Grant aitrack_reader, aitrack_writer, aitrack_admin or aitrack_tenant to the roles that need them.';
    END IF;
END;
$$;

SELECT @extschema@.ai_reset_privileges();

--
-- Comments on the objects this script adds or replaces.
--
COMMENT ON TYPE @extschema@.ai_usage_stats_row IS 'A row of ai_usage_stats(): the grouped dimensions (NULL when not grouped), then counts, sums, cost and latency; later versions add attributes at the end (ALTER TYPE ... ADD ATTRIBUTE), so views over ai_usage_stats() survive updates.';
COMMENT ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text) IS 'Calls, errors, token sums (audio, image, 1-hour cache write and web search counts included), cost in USD and latency in milliseconds (mean, p50, p95, p99) of the calls made from since (inclusive) to until (exclusive), grouped by any of model, modelname, call_type, status, user and one hour, day, week or month bucket cut in time zone tz; whole hours come from the rollups, and purged calls count. Rows of type ai_usage_stats_row. SECURITY INVOKER: the caller''s privileges and row-level security apply, so it needs SELECT on ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total and ai_usage_purged (aitrack_reader), and a tenant gets its own user''s calls only.';
COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text) IS 'Records one call from explicit arguments and returns its ai_call.id, creating the ai_model row on first use: token counts as bigint, cost_usd in USD (kept as the shortest decimal that reads back as the same double), durations in milliseconds rounded to whole ms, then (1.5) the provider, service tier, 1-hour cache writes, audio and image tokens and web searches; without a cost it prices the call from ai_model_price under every rule of the price, and what it was not given it reads from the response (token counts all together, the service tier, web searches and the provider each on its own). SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.ai_cost(@extschema@.ai_model_price, record) IS 'Cost in USD (exact numeric) of a call, from a row with its billed columns by name (a row of ai_call, or of a query selecting input_tokens, output_tokens, cache_read_input_tokens, cache_creation_input_tokens, cache_creation_1h_input_tokens, reasoning_tokens, the audio, image and web search counts, service_tier and web_search_context_size; a column left out counts as unknown), at this price under every rule (context tiers, service tier, cache-write duration, audio and image tokens, web search and per-request fees), as record_ai_call() computes it; NULL when the price is NULL, input_tokens or output_tokens is NULL, the counts contradict each other, or the call needs a rate the price lacks (a service tier or web searches it does not price). Reads no table.';
COMMENT ON FUNCTION @extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer) IS 'Cost in USD (exact numeric) of a call at the standard service tier with these input, cache read, cache creation, output and reasoning token counts at this price (rates per million tokens, context tiers applied), as record_ai_call() computes it; NULL when the price, input_tokens or output_tokens is NULL or the counts contradict each other. Reads no table.';
COMMENT ON FUNCTION @extschema@.ai_load_prices(jsonb, timestamptz, text) IS 'Loads a price map in the format of LiteLLM''s model_prices_and_context_window.json (USD per token, stored per million tokens; context tiers, cache-write durations, service tiers, audio and image rates, per-request and web search fees) into ai_model_price and returns per model what it did, with a detail: added, changed (the price in force ends at valid_from, default now), completed (a price loaded before 1.5 with the same rates gains the new rules in place), unchanged or skipped (the detail says why), and the keys it did not apply. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_reprice(timestamptz, timestamptz, boolean) IS 'Recomputes, from the price in force at each call''s created_at and under every rule of that price, the cost in USD of the calls made from since (inclusive) to until (exclusive) whose cost_source is computed or unknown, never a provided cost, and returns the counts and USD totals before and after; dry_run (the default) only reports. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_price_from_litellm(text, jsonb) IS 'One entry of LiteLLM''s price file (model name, entry) as aitrack reads it: {"price": columns of ai_model_price} or {"skip": why}, and "ignored": the cost keys it does not apply; used by ai_load_prices(). Pure function, executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_price_rules_valid(jsonb, jsonb) IS 'Checks the shape of ai_model_price.tiers and service_tiers (constraint ai_model_price_rules_check): true, or an error naming what is wrong. Pure function, executable by PUBLIC.';
COMMENT ON FUNCTION @extschema@.ai_intended_privileges() IS 'The privileges aitrack means its objects to have, as (object, grantee, privilege) rows; ai_reset_privileges() applies them. Owner only.';

--
-- Columns of ai_model_price
--
COMMENT ON COLUMN @extschema@.ai_model_price.provider IS 'Who serves the model, as OpenTelemetry''s gen_ai.provider.name (openai, anthropic, gcp.gemini, gcp.vertex_ai, aws.bedrock, azure.ai.openai, x_ai, deepseek, mistral_ai, ...); ai_load_prices() maps LiteLLM''s litellm_provider. A call that aitrack prices from this price, given no provider, gets this one.';
COMMENT ON COLUMN @extschema@.ai_model_price.cache_creation_1h_usd_per_mtok IS 'USD per million input tokens written to the prompt cache for 1 hour (cache_creation_1h_input_tokens); NULL: the cache creation rate.';
COMMENT ON COLUMN @extschema@.ai_model_price.input_audio_usd_per_mtok IS 'USD per million audio input tokens not read from the cache; NULL: the input rate.';
COMMENT ON COLUMN @extschema@.ai_model_price.cache_read_audio_usd_per_mtok IS 'USD per million audio input tokens read from the cache; NULL: the cache read rate.';
COMMENT ON COLUMN @extschema@.ai_model_price.output_audio_usd_per_mtok IS 'USD per million audio output tokens; NULL: the output rate.';
COMMENT ON COLUMN @extschema@.ai_model_price.input_image_usd_per_mtok IS 'USD per million image input tokens; NULL: the input rate.';
COMMENT ON COLUMN @extschema@.ai_model_price.output_image_usd_per_mtok IS 'USD per million image output tokens; NULL: the output rate.';
COMMENT ON COLUMN @extschema@.ai_model_price.request_usd IS 'USD charged once per call, whatever its tokens; NULL: none.';
COMMENT ON COLUMN @extschema@.ai_model_price.web_search_low_usd IS 'USD per web search query at search context size low; NULL: not priced (a call with web searches of that size then has no cost).';
COMMENT ON COLUMN @extschema@.ai_model_price.web_search_medium_usd IS 'USD per web search query at search context size medium (also for calls that give no size); NULL: not priced.';
COMMENT ON COLUMN @extschema@.ai_model_price.web_search_high_usd IS 'USD per web search query at search context size high; NULL: not priced.';
COMMENT ON COLUMN @extschema@.ai_model_price.tiers IS 'Context tiers: a JSON array (at most 64, in any order) of {"above_tokens": N, rates per million tokens by kind (input, output, cache_read, cache_creation, cache_creation_1h, reasoning, input_audio, cache_read_audio, output_audio, input_image, output_image)}; when a call''s input_tokens (the whole prompt, cache reads and writes included) exceeds N, the whole call is priced at the highest such tier, kinds it lacks at the base rates.';
COMMENT ON COLUMN @extschema@.ai_model_price.service_tiers IS 'Rates of the service tiers other than standard: a JSON object keyed by flex, priority, batch or scale, each {rates by kind, optional "tiers": context tiers as in tiers}; kinds a service tier lacks cost what they cost at the standard tier. A call at a service tier not listed here has no cost.';

--
-- Columns of ai_call
--
COMMENT ON COLUMN @extschema@.ai_call.provider IS 'Who served the call, as OpenTelemetry''s gen_ai.provider.name (openai, anthropic, gcp.gemini, aws.bedrock, ...): as given, else (for a call whose cost aitrack computed) the price''s provider, else from the shape of the response; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.service_tier IS 'The provider''s service tier the call ran at: standard, flex, priority, batch or scale (OpenAI''s default is stored as standard); NULL: not said, priced as standard.';
COMMENT ON COLUMN @extschema@.ai_call.cache_creation_1h_input_tokens IS 'Input tokens written to the prompt cache for 1 hour, counted inside cache_creation_input_tokens (the rest were written for 5 minutes); NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.input_audio_tokens IS 'Audio input tokens, counted inside input_tokens (cached ones included); NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.cache_read_audio_tokens IS 'Audio input tokens read from the prompt cache, counted inside both cache_read_input_tokens and input_audio_tokens; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.input_image_tokens IS 'Image input tokens, counted inside input_tokens and not read from the cache; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.output_audio_tokens IS 'Audio output tokens, counted inside output_tokens; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.output_image_tokens IS 'Image output tokens, counted inside output_tokens; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.web_search_requests IS 'Web search queries the provider ran and bills for (Anthropic''s server_tool_use.web_search_requests, the web_search_call items of OpenAI''s responses API); NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call.web_search_context_size IS 'Search context size of the web searches, low, medium or high (OpenAI prices queries by it); NULL: priced as medium.';


--
-- New columns of ai_usage_rollup
--
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_creation_1h_input_tokens IS 'Sum of cache_creation_1h_input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_creation_1h_input_tokens_n IS 'Number of calls whose cache_creation_1h_input_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.input_audio_tokens IS 'Sum of input_audio_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.input_audio_tokens_n IS 'Number of calls whose input_audio_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_read_audio_tokens IS 'Sum of cache_read_audio_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.cache_read_audio_tokens_n IS 'Number of calls whose cache_read_audio_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.input_image_tokens IS 'Sum of input_image_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.input_image_tokens_n IS 'Number of calls whose input_image_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.output_audio_tokens IS 'Sum of output_audio_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.output_audio_tokens_n IS 'Number of calls whose output_audio_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.output_image_tokens IS 'Sum of output_image_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.output_image_tokens_n IS 'Number of calls whose output_image_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.web_search_requests IS 'Sum of web_search_requests over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup.web_search_requests_n IS 'Number of calls whose web_search_requests is not NULL.';

--
-- New columns of ai_usage_rollup_total
--
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_creation_1h_input_tokens IS 'Sum of cache_creation_1h_input_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_creation_1h_input_tokens_n IS 'Number of calls whose cache_creation_1h_input_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.input_audio_tokens IS 'Sum of input_audio_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.input_audio_tokens_n IS 'Number of calls whose input_audio_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_read_audio_tokens IS 'Sum of cache_read_audio_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.cache_read_audio_tokens_n IS 'Number of calls whose cache_read_audio_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.input_image_tokens IS 'Sum of input_image_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.input_image_tokens_n IS 'Number of calls whose input_image_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.output_audio_tokens IS 'Sum of output_audio_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.output_audio_tokens_n IS 'Number of calls whose output_audio_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.output_image_tokens IS 'Sum of output_image_tokens over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.output_image_tokens_n IS 'Number of calls whose output_image_tokens is not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.web_search_requests IS 'Sum of web_search_requests over the calls that have one; 0 when none has.';
COMMENT ON COLUMN @extschema@.ai_usage_rollup_total.web_search_requests_n IS 'Number of calls whose web_search_requests is not NULL.';

--
-- New columns of ai_usage_purged
--
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_creation_1h_input_tokens IS 'Sum of cache_creation_1h_input_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_creation_1h_input_tokens_n IS 'Number of purged calls whose cache_creation_1h_input_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.input_audio_tokens IS 'Sum of input_audio_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.input_audio_tokens_n IS 'Number of purged calls whose input_audio_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_read_audio_tokens IS 'Sum of cache_read_audio_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.cache_read_audio_tokens_n IS 'Number of purged calls whose cache_read_audio_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.input_image_tokens IS 'Sum of input_image_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.input_image_tokens_n IS 'Number of purged calls whose input_image_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.output_audio_tokens IS 'Sum of output_audio_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.output_audio_tokens_n IS 'Number of purged calls whose output_audio_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.output_image_tokens IS 'Sum of output_image_tokens over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.output_image_tokens_n IS 'Number of purged calls whose output_image_tokens was not NULL.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.web_search_requests IS 'Sum of web_search_requests over the purged calls that had one; 0 when none had.';
COMMENT ON COLUMN @extschema@.ai_usage_purged.web_search_requests_n IS 'Number of purged calls whose web_search_requests was not NULL.';
