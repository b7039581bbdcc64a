/* aitrack 1.6 -> 1.7: spend control (budgets counted in the recording transaction, reservations, alerts), attribution by project, API key, tags and trace, and OpenTelemetry GenAI names. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.7'" to load this file. \quit

-- Nothing here scans or rewrites ai_call: its new columns have no default
-- and its new constraints are NOT VALID (every row already there has NULL
-- in them).  The indexes on the new columns are built here only when
-- ai_call is small (below 100,000 rows); on a larger ledger the script says
-- so in a NOTICE, and README's Upgrade gives the CREATE INDEX CONCURRENTLY
-- statements to run afterwards (recording goes on meanwhile).

--
-- Every table this script alters, locked at once, in the order recording
-- takes them (prices, calls, models, then the rollups its trigger writes);
-- see the 1.3 -> 1.4 script for why.  The lock is held for milliseconds.
--
SET LOCAL deadlock_timeout = '10ms';
LOCK TABLE @extschema@.ai_model_price, @extschema@.ai_call, @extschema@.ai_model
        IN ACCESS EXCLUSIVE MODE;

--
-- ai_call: who and what a call is for (attribution), and the trace it
-- belongs to (OpenTelemetry: trace and span ids as W3C trace context
-- writes them, lowercase hex).
--
ALTER TABLE @extschema@.ai_call
    ADD COLUMN project          text,
    ADD COLUMN api_key          text,
    ADD COLUMN tags             text[],
    ADD COLUMN trace_id         text,
    ADD COLUMN span_id          text,
    ADD COLUMN parent_span_id   text,
    ADD COLUMN conversation_id  text;

-- A role that may read the token counts column by column may read the
-- attribution too (as 1.5 did for its columns): the ACL is written
-- directly, since a GRANT here would become an initial privilege.
UPDATE pg_catalog.pg_attribute a
   SET attacl = (SELECT pg_catalog.array_agg(pg_catalog.makeaclitem(e.grantee, e.grantor, 'SELECT', e.is_grantable))
                   FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) AS e
                  WHERE t.attrelid OPERATOR(pg_catalog.=) a.attrelid
                    AND t.attname OPERATOR(pg_catalog.=) 'input_tokens'
                    AND e.privilege_type OPERATOR(pg_catalog.=) 'SELECT')
 WHERE a.attrelid OPERATOR(pg_catalog.=) '@extschema@.ai_call'::pg_catalog.regclass
   AND a.attname OPERATOR(pg_catalog.=) ANY ('{project,api_key,tags,trace_id,span_id,parent_span_id,conversation_id}'::pg_catalog.name[])
   AND EXISTS (SELECT FROM pg_catalog.pg_attribute t, pg_catalog.aclexplode(t.attacl) AS e
                WHERE t.attrelid OPERATOR(pg_catalog.=) a.attrelid
                  AND t.attname OPERATOR(pg_catalog.=) 'input_tokens'
                  AND e.privilege_type OPERATOR(pg_catalog.=) 'SELECT');

-- NOT VALID: rows already there are not scanned (all NULL); new rows are
-- checked at once.  src/validate.c gives record_ai_call()'s callers the
-- same rules with clearer messages.  Labels: 1 to 200 characters, no
-- control characters.  api_key is a label or a hash of the key: values
-- shaped like the secret keys of the common providers are refused.  Tags:
-- 1 to 64 of them from subscript 1, each a label of 1 to 100 characters,
-- no NULL element, one dimension; with no control character in any tag,
-- the tags joined by newlines show an empty tag as two newlines in a row
-- and a long one as 101 characters between newlines, without a subquery.
-- (Lengths by length() and one search for a control character, not by a
-- bounded repetition such as [^[:cntrl:]]{1,200}: that pattern costs
-- 21 us a value, a third of a call.)
ALTER TABLE @extschema@.ai_call
    ADD CONSTRAINT ai_call_project_check
        CHECK (pg_catalog.length(project) OPERATOR(pg_catalog.<=) 200 AND project OPERATOR(pg_catalog.<>) ''
               AND project OPERATOR(pg_catalog.!~) '[[:cntrl:]]') NOT VALID,
    ADD CONSTRAINT ai_call_api_key_check
        CHECK (pg_catalog.length(api_key) OPERATOR(pg_catalog.<=) 200 AND api_key OPERATOR(pg_catalog.<>) ''
               AND api_key OPERATOR(pg_catalog.!~) '[[:cntrl:]]'
               AND api_key OPERATOR(pg_catalog.!~) '^(sk-|sk_|rk_|AIza|xai-|gsk_|hf_)') NOT VALID,
    ADD CONSTRAINT ai_call_tags_check
        CHECK (pg_catalog.array_ndims(tags) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.array_lower(tags, 1) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.cardinality(tags) OPERATOR(pg_catalog.<=) 64
               AND pg_catalog.array_position(tags, NULL) IS NULL
               AND pg_catalog.array_to_string(tags, '') OPERATOR(pg_catalog.!~) '[[:cntrl:]]'
               AND pg_catalog.strpos(E'\n' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(tags, E'\n') OPERATOR(pg_catalog.||) E'\n', E'\n\n') OPERATOR(pg_catalog.=) 0
               AND pg_catalog.array_to_string(tags, E'\n') OPERATOR(pg_catalog.!~) E'[^\n]{101}') NOT VALID,
    ADD CONSTRAINT ai_call_trace_id_check
        CHECK (pg_catalog.length(trace_id) OPERATOR(pg_catalog.=) 32 AND trace_id OPERATOR(pg_catalog.~) '^[0-9a-f]+$'
               AND trace_id OPERATOR(pg_catalog.<>) '00000000000000000000000000000000') NOT VALID,
    ADD CONSTRAINT ai_call_span_id_check
        CHECK (pg_catalog.length(span_id) OPERATOR(pg_catalog.=) 16 AND span_id OPERATOR(pg_catalog.~) '^[0-9a-f]+$'
               AND span_id OPERATOR(pg_catalog.<>) '0000000000000000'
               AND pg_catalog.length(parent_span_id) OPERATOR(pg_catalog.=) 16 AND parent_span_id OPERATOR(pg_catalog.~) '^[0-9a-f]+$'
               AND parent_span_id OPERATOR(pg_catalog.<>) '0000000000000000') NOT VALID,
    ADD CONSTRAINT ai_call_conversation_id_check
        CHECK (pg_catalog.length(conversation_id) OPERATOR(pg_catalog.<=) 200 AND conversation_id OPERATOR(pg_catalog.<>) ''
               AND conversation_id OPERATOR(pg_catalog.!~) '[[:cntrl:]]') NOT VALID;

-- Indexes for the filters users run (a project's or key's calls over a
-- time, a tag's calls, a trace's or conversation's calls).  Partial: calls
-- without the value cost nothing to index.  Built here only on a small
-- ledger (an index build reads the whole table under a lock that stops
-- recording); on a larger one, README's Upgrade has the CONCURRENTLY form.
DO $$
DECLARE
    big boolean := (SELECT pg_catalog.count(*) OPERATOR(pg_catalog.>) 100000
                      FROM (SELECT FROM @extschema@.ai_call LIMIT 100001) x);
BEGIN
    IF big THEN
        RAISE NOTICE 'aitrack: the indexes on ai_call''s attribution columns were not built (ai_call has more than 100000 rows)'
            USING HINT = 'Build them without blocking writers as README''s "Upgrade" shows (CREATE INDEX CONCURRENTLY ai_call_project_idx ...).';
        RETURN;
    END IF;
    CREATE INDEX ai_call_project_idx ON @extschema@.ai_call (project, created_at)
        WHERE project IS NOT NULL;
    CREATE INDEX ai_call_api_key_idx ON @extschema@.ai_call (api_key, created_at)
        WHERE api_key IS NOT NULL;
    CREATE INDEX ai_call_tags_idx ON @extschema@.ai_call USING gin (tags)
        WHERE tags IS NOT NULL;
    CREATE INDEX ai_call_trace_id_idx ON @extschema@.ai_call (trace_id)
        WHERE trace_id IS NOT NULL;
    CREATE INDEX ai_call_conversation_id_idx ON @extschema@.ai_call (conversation_id, created_at)
        WHERE conversation_id IS NOT NULL;
END
$$;

--
-- ai_rollup_compact(), as 1.6 has it, but serialized by the row of
-- ai_upkeep_state instead of a lock on the table.
--
CREATE OR REPLACE FUNCTION @extschema@.ai_rollup_compact()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    folded bigint;
    complete_from timestamptz;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'ai_rollup_compact() must run at READ COMMITTED'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = pg_catalog.format('This transaction is %s: its snapshot may predate the last fold.',
                                             current_setting('transaction_isolation')),
                  HINT = 'Call it in a transaction of its own, at the default isolation level.';
    END IF;
    -- One fold at a time: a lock only the owner and aitrack_admin may take.
    -- 1.7: the state row's lock, where 1.6 locked the table in EXCLUSIVE
    -- mode, which VACUUM and ANALYZE of the table (autovacuum's too) also
    -- conflict with: a fold that met one did nothing and returned 0.  ROW
    -- SHARE first, without waiting, still steps aside for a backfill or a
    -- rebuild (they lock the table in EXCLUSIVE mode); the table lock
    -- remains for a state table without its row.
    BEGIN
        LOCK TABLE @extschema@.ai_upkeep_state IN ROW SHARE MODE NOWAIT;
        PERFORM FROM @extschema@.ai_upkeep_state FOR UPDATE NOWAIT;
        IF NOT FOUND THEN
            LOCK TABLE @extschema@.ai_upkeep_state IN EXCLUSIVE MODE NOWAIT;
        END IF;
    EXCEPTION WHEN lock_not_available THEN
        RETURN 0;
    END;

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

    -- 1.6: the daily level of every day this fold touched, summed again
    -- from that day's hourly rows (so it holds exactly what they hold);
    -- days before daily_from are not in it yet (ai_rollup_backfill_daily()).
    SELECT s.daily_from INTO complete_from FROM @extschema@.ai_upkeep_state s;
    IF FOUND THEN
        CREATE TEMPORARY TABLE aitrack_compact_days ON COMMIT DROP AS
        SELECT DISTINCT date_trunc('day', k.bucket, 'UTC') AS day
          FROM aitrack_compact k
         WHERE k.bucket >= complete_from;
        DELETE FROM @extschema@.ai_usage_rollup_daily d
         USING aitrack_compact_days k
         WHERE d.bucket = k.day;
        INSERT INTO @extschema@.ai_usage_rollup_daily
               (bucket, model_id, call_type, status, calls,
                input_tokens, input_tokens_n, reasoning_tokens, reasoning_tokens_n, output_tokens, output_tokens_n, cache_read_input_tokens, cache_read_input_tokens_n, cache_creation_input_tokens, cache_creation_input_tokens_n, cost_usd, cost_usd_n, duration_ms, duration_ms_n, time_to_first_token_ms, time_to_first_token_ms_n, cache_creation_1h_input_tokens, cache_creation_1h_input_tokens_n, input_audio_tokens, input_audio_tokens_n, cache_read_audio_tokens, cache_read_audio_tokens_n, input_image_tokens, input_image_tokens_n, output_audio_tokens, output_audio_tokens_n, output_image_tokens, output_image_tokens_n, web_search_requests, web_search_requests_n,
                first_call, last_call, latency)
        SELECT k.day, t.model_id, t.call_type, t.status, sum(t.calls),
               pg_catalog.sum(t.input_tokens), pg_catalog.sum(t.input_tokens_n), pg_catalog.sum(t.reasoning_tokens), pg_catalog.sum(t.reasoning_tokens_n), pg_catalog.sum(t.output_tokens), pg_catalog.sum(t.output_tokens_n), pg_catalog.sum(t.cache_read_input_tokens), pg_catalog.sum(t.cache_read_input_tokens_n), pg_catalog.sum(t.cache_creation_input_tokens), pg_catalog.sum(t.cache_creation_input_tokens_n), pg_catalog.sum(t.cost_usd), pg_catalog.sum(t.cost_usd_n), pg_catalog.sum(t.duration_ms), pg_catalog.sum(t.duration_ms_n), pg_catalog.sum(t.time_to_first_token_ms), pg_catalog.sum(t.time_to_first_token_ms_n), pg_catalog.sum(t.cache_creation_1h_input_tokens), pg_catalog.sum(t.cache_creation_1h_input_tokens_n), pg_catalog.sum(t.input_audio_tokens), pg_catalog.sum(t.input_audio_tokens_n), pg_catalog.sum(t.cache_read_audio_tokens), pg_catalog.sum(t.cache_read_audio_tokens_n), pg_catalog.sum(t.input_image_tokens), pg_catalog.sum(t.input_image_tokens_n), pg_catalog.sum(t.output_audio_tokens), pg_catalog.sum(t.output_audio_tokens_n), pg_catalog.sum(t.output_image_tokens), pg_catalog.sum(t.output_image_tokens_n), pg_catalog.sum(t.web_search_requests), pg_catalog.sum(t.web_search_requests_n),
               min(t.first_call), max(t.last_call), @extschema@.ai_hist_merge(t.latency)
          FROM aitrack_compact_days k
          JOIN @extschema@.ai_usage_rollup_total t
            ON t.bucket >= k.day
           AND t.bucket < CASE WHEN k.day < '294276-12-31 00:00+00'::timestamptz
                               THEN k.day + interval '24 hours' ELSE 'infinity'::timestamptz END
         GROUP BY k.day, t.model_id, t.call_type, t.status;
        DROP TABLE aitrack_compact_days;
    END IF;

    DROP TABLE aitrack_compact;
    RETURN folded;
END;
$$;

-- ==== BEGIN SECTION: record functions (record_ai_call, record_ai_calls with attribution) ====
-- The explicit form's new signature, for the privileges section:
--   @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)
-- The seed's forms and record_ai_calls keep theirs:
--   @extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid)
--   @extschema@.record_ai_call(text, text, text, jsonb, text, text, text)
--   @extschema@.record_ai_calls(jsonb)

--
-- record_ai_call(), explicit columns: 1.5's arguments, then attribution
-- and the trace (src/record.c; src/validate.c checks them as the CHECKs
-- above do, with clearer messages, and stores tags without duplicates and
-- the ids in lowercase).  Replaced, with its ACL and initial privileges
-- copied, as 1.5 did.
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
    web_search_context_size         text             DEFAULT NULL,
    project                         text             DEFAULT NULL,
    api_key                         text             DEFAULT NULL,
    tags                            text[]           DEFAULT NULL,
    trace_id                        text             DEFAULT NULL,
    span_id                         text             DEFAULT NULL,
    parent_span_id                  text             DEFAULT NULL,
    conversation_id                 text             DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_1_7'
LANGUAGE C VOLATILE SECURITY DEFINER;
-- Nobody may call it before its ACL is the old one's (CREATE grants PUBLIC).
REVOKE ALL ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text) FROM PUBLIC;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)'::pg_catalog.regprocedure;
-- ... and its initial privileges, so that ai_reset_privileges() tells the
-- extension's grants from a DBA's as it did for the old one (a DBA's GRANT
-- ... TO PUBLIC stands).
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)'::pg_catalog.regprocedure
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
SELECT '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)'::pg_catalog.regprocedure, i.classoid, i.objsubid, i.privtype, i.initprivs
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text)'::pg_catalog.regprocedure
   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
DROP FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text);

-- The seed's forms and the batch keep their signatures and grants (CREATE
-- OR REPLACE keeps the ACL, so no REVOKE here: it would take back a DBA's
-- GRANT ... TO PUBLIC), and take the new keys; tags is a JSON array of
-- strings.
CREATE OR REPLACE FUNCTION @extschema@.record_ai_call(
    modelname  text,
    version    text,
    prompt     text,
    response   jsonb,
    metrics    jsonb,
    call_type  text DEFAULT NULL,
    user_id    uuid DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_1_7'
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
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_text_1_7'
LANGUAGE C VOLATILE SECURITY DEFINER;

CREATE OR REPLACE FUNCTION @extschema@.record_ai_calls(calls jsonb)
RETURNS SETOF bigint
AS 'MODULE_PATHNAME', 'record_ai_calls_1_7'
LANGUAGE C VOLATILE SECURITY DEFINER;

COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text) IS 'Records one call from explicit arguments and returns its ai_call.id, creating the ai_model row on first use: token counts as bigint, cost_usd in USD (kept as the shortest decimal that reads back as the same double), durations in milliseconds rounded to whole ms, then (1.5) the provider, service tier, 1-hour cache writes, audio and image tokens and web searches, and (1.7) attribution: project, api_key (a label or a hash of the key; values shaped like a secret key are refused), tags (text[], duplicates removed), the W3C trace ids trace_id, span_id and parent_span_id (hex, stored lowercase) and conversation_id; without a cost it prices the call from ai_model_price under every rule of the price, and what it was not given it reads from the response (token counts all together, the service tier, web searches and the provider each on its own). SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid) IS 'Records one call in the seed''s shape, the metrics as one jsonb object (the token counts, cost_usd in USD, duration_ms and time_to_first_token_ms in milliseconds, status, extra, 1.5''s provider, service tier, audio, image and web search keys, and 1.7''s project, api_key, tags as a JSON array of strings, trace_id, span_id, parent_span_id and conversation_id), and returns its ai_call.id. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, text, text, text) IS 'Records one call as the jsonb metrics form does (the same keys, 1.7''s attribution and trace included), with the metrics given as JSON text in metrics_json: the form that an untyped fifth argument from a driver resolves to; returns its ai_call.id. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (a call without user_id gets the tenant''s user).';
COMMENT ON FUNCTION @extschema@.record_ai_calls(jsonb) IS 'Records a JSON array of calls in one statement, all or nothing, and returns their ai_call ids in order; each element takes the argument names of record_ai_call() as keys (1.7: project, api_key, tags as a JSON array of strings, trace_id, span_id, parent_span_id, conversation_id too), plus created_at for backfills. SECURITY DEFINER: the caller needs only EXECUTE (aitrack_writer), and a tenant may record only its own user''s calls (an element without user_id gets the tenant''s user).';
-- ==== END SECTION: record functions ====

-- ==== BEGIN SECTION: usage stats by project, api_key and tag ====
--
-- The new function, as a regprocedure (for the privileges section):
--   @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
--
-- ai_usage_stats() gains the trailing filters project, api_key and tag,
-- group_by takes project, api_key and tag, and its rows three attributes
-- at the end (as the type's comment promises: a view over the function
-- keeps the columns it was made with).  Questions naming none of them are
-- answered as in 1.6, by the same plans; the others from ai_call directly
-- (the rollups hold no attribution), src/stats.c.
--
-- A new argument list is a new function: it is created beside the old one,
-- takes the old one's ACL and initial privileges (as 1.5 did), and replaces
-- it under its name; the old one stays, renamed, for the views over it.
--
-- The row type first: until the function is replaced, the 1.5 symbol
-- fills the new attributes with NULL (src/stats.c), so the old function
-- answers in between.
ALTER TYPE @extschema@.ai_usage_stats_row
    ADD ATTRIBUTE project text,
    ADD ATTRIBUTE api_key text,
    ADD ATTRIBUTE tag     text;

CREATE FUNCTION @extschema@.ai_usage_stats_1_7_new(
    since      timestamptz DEFAULT NULL,
    until      timestamptz DEFAULT NULL,
    group_by   text[]      DEFAULT '{model}',
    modelname  text        DEFAULT NULL,
    call_type  text        DEFAULT NULL,
    user_id    uuid        DEFAULT NULL,
    tz         text        DEFAULT 'UTC',
    project    text        DEFAULT NULL,
    api_key    text        DEFAULT NULL,
    tag        text        DEFAULT NULL)
RETURNS SETOF @extschema@.ai_usage_stats_row
AS 'MODULE_PATHNAME', 'ai_usage_stats_1_7'
LANGUAGE C STABLE;
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT p.proacl FROM pg_catalog.pg_proc p
                  WHERE p.oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats_1_7_new(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)'::pg_catalog.regprocedure;
-- ... and its initial privileges, so that ai_reset_privileges() tells the
-- extension's grants from a DBA's as it did for the old one.
DELETE FROM pg_catalog.pg_init_privs
 WHERE objoid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats_1_7_new(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)'::pg_catalog.regprocedure
   AND classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
INSERT INTO pg_catalog.pg_init_privs (objoid, classoid, objsubid, privtype, initprivs)
SELECT '@extschema@.ai_usage_stats_1_7_new(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)'::pg_catalog.regprocedure, i.classoid, i.objsubid, i.privtype, i.initprivs
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure
   AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass;
-- The 7-argument function is not dropped but renamed: a view over it (the
-- type's comment promises views survive updates) keeps working, through
-- ai_usage_stats_1_6, with its grants; new queries get the new function.
-- (Both named ai_usage_stats would make every call that leaves the new
-- arguments out ambiguous.)
ALTER FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text)
    RENAME TO ai_usage_stats_1_6;
ALTER FUNCTION @extschema@.ai_usage_stats_1_7_new(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
    RENAME TO ai_usage_stats;
COMMENT ON FUNCTION @extschema@.ai_usage_stats_1_6(timestamptz, timestamptz, text[], text, text, uuid, text) IS 'ai_usage_stats() as 1.6 had it, kept under this name so that views made over it before 1.7 go on working (they now read ai_usage_stats_1_6); the same answers, without project, api_key and tag (NULL in its rows). New queries: ai_usage_stats().';

COMMENT ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text) IS 'Calls, errors, token sums (audio, image, 1-hour cache write and web search counts included), cost in USD and latency in milliseconds (mean, p50, p95, p99) of the calls made from since (inclusive) to until (exclusive), grouped by any of model, modelname, call_type, status, user, project, api_key, tag and one hour, day, week or month bucket cut in time zone tz, and filtered by any of modelname, call_type, user_id, project, api_key and tag (the calls carrying it). 1.7 adds project, api_key and tag: a call with several tags counts once under each, calls without a project, key or tag form the group NULL. Questions naming none of them: whole UTC days come from the daily rollup level (when no user is asked for and buckets, if any, are days or longer in a zone that is always UTC), whole hours from the hourly one. Questions naming one of them come from ai_call directly (the rollups hold no attribution). Purged calls count, in the NULL groups of project, api_key and tag (their attribution is not kept), and not when filtering by one of them. Rows of type ai_usage_stats_row. SECURITY INVOKER: the caller''s privileges and row-level security apply, so it needs SELECT on ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_rollup_daily, ai_usage_purged and ai_upkeep_state (aitrack_reader), and a tenant gets its own user''s calls only.';
-- ==== END SECTION: usage stats ====

-- ==== BEGIN SECTION: budgets ====
--
-- Budgets (1.7).  A budget limits the cost of the calls that fall under it
-- (its scope) within a period; spend is counted by a trigger on ai_call in
-- the transaction that records the call, so no recorded call is missed or
-- counted twice, whatever path wrote it.  A call about to be made reserves
-- its estimated cost first (ai_budget_reserve()): under the lock of each
-- budget's spend row, a hard budget refuses when spent + reserved + the
-- estimate would pass the limit.  See README's "Spend control".
--
-- scope: 'all' (every call), 'user', 'project', 'api_key', 'tag' or
-- 'model' (a model name).  scope_value: the one user (as text), project,
-- key, tag or model the budget is for; NULL: each of them separately
-- (every user has the limit of their own), not allowed for 'all'.
-- period: 'day', 'week' (from Monday), 'month' in time_zone, or 'lifetime'.
--
-- (Sequences created explicitly, as every sequence of aitrack: a serial
-- column's sequence gets no initial privileges recorded, so what default
-- privileges hand out on it would stay.)
CREATE SEQUENCE @extschema@.ai_budget_id_seq;
CREATE TABLE @extschema@.ai_budget (
    id            bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.ai_budget_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    name          text NOT NULL UNIQUE
                  CHECK (name OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$'),
    scope         text NOT NULL
                  CHECK (scope OPERATOR(pg_catalog.=) ANY ('{all,user,project,api_key,tag,model}'::pg_catalog.text[])),
    scope_value   text
                  CHECK (scope_value OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$'),
    period        text NOT NULL
                  CHECK (period OPERATOR(pg_catalog.=) ANY ('{day,week,month,lifetime}'::pg_catalog.text[])),
    time_zone     text NOT NULL DEFAULT 'Etc/UTC'
                  -- A zone of the tz database by its full name (Area/City,
                  -- Etc/UTC): a name without a slash ("EST", "UTC") may
                  -- also be an abbreviation, whose meaning the session's
                  -- timezone_abbreviations (and, from PostgreSQL 18, its
                  -- TimeZone) decide, so a caller could move the period.
                  -- An unknown name: date_trunc()'s error names it.
                  CHECK (pg_catalog.strpos(time_zone, '/') OPERATOR(pg_catalog.>) 0
                         AND pg_catalog.date_trunc('day'::pg_catalog.text, '2000-01-01 00:00+00'::pg_catalog.timestamptz, time_zone) IS NOT NULL),
    limit_usd     numeric NOT NULL
                  CHECK (limit_usd OPERATOR(pg_catalog.>) 0 AND limit_usd OPERATOR(pg_catalog.<) 1e12),
    hard          boolean NOT NULL DEFAULT true,
    alert_at_pct  integer[] NOT NULL DEFAULT '{50,80,100}'
                  CHECK (pg_catalog.cardinality(alert_at_pct) OPERATOR(pg_catalog.<=) 10
                         AND pg_catalog.array_position(alert_at_pct, NULL) IS NULL
                         AND 1 OPERATOR(pg_catalog.<=) ALL (alert_at_pct)
                         AND 1000 OPERATOR(pg_catalog.>=) ALL (alert_at_pct)),
    enabled       boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT ai_budget_scope_value_fits_scope
        CHECK (CASE scope WHEN 'all' THEN scope_value IS NULL
                          WHEN 'user' THEN scope_value OPERATOR(pg_catalog.~) '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                                           OR scope_value IS NULL
                          ELSE true END)
);
ALTER SEQUENCE @extschema@.ai_budget_id_seq OWNED BY @extschema@.ai_budget.id;
REVOKE ALL ON TABLE @extschema@.ai_budget FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.ai_budget_id_seq FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_budget', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_budget_id_seq', '');

--
-- ai_budget_spend: per budget, scope value ('' for 'all') and period, what
-- the recorded calls cost and which alert thresholds were sent.  It follows
-- from ai_call and is not dumped: a restore counts it again, by the trigger
-- as ai_call loads, or, when the budgets load after the calls, by the
-- budgets' own trigger (the current period from ai_call).
--
CREATE TABLE @extschema@.ai_budget_spend (
    budget_id       bigint NOT NULL REFERENCES @extschema@.ai_budget (id) ON DELETE CASCADE,
    scope_value     text NOT NULL,
    period_start    timestamptz NOT NULL,
    spent_usd       numeric NOT NULL DEFAULT 0,
    calls           bigint NOT NULL DEFAULT 0,
    unpriced_calls  bigint NOT NULL DEFAULT 0,
    alerted_pct     integer[] NOT NULL DEFAULT '{}',
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (budget_id, scope_value, period_start)
);
REVOKE ALL ON TABLE @extschema@.ai_budget_spend FROM PUBLIC;

--
-- Reservations: an estimated cost held against every budget a call about
-- to be made falls under, until settled, released or expired.  Not dumped
-- (they last minutes).
--
CREATE SEQUENCE @extschema@.ai_budget_reservation_id_seq;
CREATE TABLE @extschema@.ai_budget_reservation (
    id           bigint NOT NULL DEFAULT pg_catalog.nextval('@extschema@.ai_budget_reservation_id_seq'::pg_catalog.regclass) PRIMARY KEY,
    amount_usd   numeric NOT NULL,
    user_id      uuid,
    project      text,
    api_key      text,
    tags         text[],
    modelname    text,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz NOT NULL
);
ALTER SEQUENCE @extschema@.ai_budget_reservation_id_seq OWNED BY @extschema@.ai_budget_reservation.id;
REVOKE ALL ON TABLE @extschema@.ai_budget_reservation FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.ai_budget_reservation_id_seq FROM PUBLIC;

CREATE TABLE @extschema@.ai_budget_hold (
    reservation_id  bigint NOT NULL REFERENCES @extschema@.ai_budget_reservation (id) ON DELETE CASCADE,
    budget_id       bigint NOT NULL REFERENCES @extschema@.ai_budget (id) ON DELETE CASCADE,
    scope_value     text NOT NULL,
    period_start    timestamptz NOT NULL,
    amount_usd      numeric NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (reservation_id, budget_id, scope_value)
);
CREATE INDEX ai_budget_hold_spend_key ON @extschema@.ai_budget_hold (budget_id, scope_value, period_start);
REVOKE ALL ON TABLE @extschema@.ai_budget_hold FROM PUBLIC;

-- Tenants see the budgets of users (their own user's, and those every
-- user has) and only their own user's spend and holds; nothing else.
ALTER TABLE @extschema@.ai_budget ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_budget_tenant ON @extschema@.ai_budget
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR (scope OPERATOR(pg_catalog.=) 'user'
               AND (scope_value IS NULL
                    OR scope_value OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id())::pg_catalog.text)));
ALTER TABLE @extschema@.ai_budget_spend ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_budget_spend_tenant ON @extschema@.ai_budget_spend
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR (scope_value OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id())::pg_catalog.text
               AND budget_id OPERATOR(pg_catalog.=) ANY (SELECT b.id FROM @extschema@.ai_budget b
                                                          WHERE b.scope OPERATOR(pg_catalog.=) 'user')));
ALTER TABLE @extschema@.ai_budget_hold ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_budget_hold_tenant ON @extschema@.ai_budget_hold
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR (scope_value OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id())::pg_catalog.text
               AND budget_id OPERATOR(pg_catalog.=) ANY (SELECT b.id FROM @extschema@.ai_budget b
                                                          WHERE b.scope OPERATOR(pg_catalog.=) 'user')));
ALTER TABLE @extschema@.ai_budget_reservation ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_budget_reservation_tenant ON @extschema@.ai_budget_reservation
    USING ((SELECT NOT @extschema@.ai_tenant_mode())
           OR user_id OPERATOR(pg_catalog.=) (SELECT @extschema@.ai_tenant_user_id()));

--
-- The period of a budget that a moment falls in: its start, and the start
-- of the next one ('-infinity' and 'infinity' for 'lifetime').  Days, weeks
-- and months are cut in the budget's zone, across DST changes as
-- date_trunc() cuts them.
--
-- (A budget's zone is a full tz database name, never an abbreviation: see
-- ai_budget.time_zone.  Pinning timezone_abbreviations here instead would
-- reload the abbreviation file on every call, 60 us each.)  Moments within
-- a day of the ends of the timestamp range have no period start of their
-- own.
-- (PL/pgSQL for the same reason as ai_budget_matches(): a simple
-- expression, evaluated without a plan of its own per calling statement.)
CREATE FUNCTION @extschema@.ai_budget_period_start(period text, time_zone text, at timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN period OPERATOR(pg_catalog.=) 'lifetime' THEN '-infinity'::pg_catalog.timestamptz
                WHEN at OPERATOR(pg_catalog.>=) '294276-12-01 00:00+00'::pg_catalog.timestamptz THEN 'infinity'::pg_catalog.timestamptz
                WHEN at OPERATOR(pg_catalog.<) '4713-02-01 00:00+00 BC'::pg_catalog.timestamptz THEN '-infinity'::pg_catalog.timestamptz
                ELSE pg_catalog.date_trunc(period, at, time_zone) END;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_period_start(text, text, timestamptz) FROM PUBLIC;

CREATE FUNCTION @extschema@.ai_budget_period_end(period text, time_zone text, period_start timestamptz)
RETURNS timestamptz
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN period OPERATOR(pg_catalog.=) 'lifetime' OR NOT pg_catalog.isfinite(period_start)
                     OR period_start OPERATOR(pg_catalog.>=) '294276-11-01 00:00+00'::pg_catalog.timestamptz
                THEN 'infinity'::pg_catalog.timestamptz
                ELSE pg_catalog.timezone(time_zone,
                         pg_catalog.timezone(time_zone, period_start)
                         OPERATOR(pg_catalog.+) ('1 ' OPERATOR(pg_catalog.||) period)::pg_catalog.interval) END;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_period_end(text, text, timestamptz) FROM PUBLIC;

--
-- The budgets a call falls under, and for each the scope value its spend
-- is kept under ('' for 'all'; each distinct tag of the call for 'tag').
--
-- (PL/pgSQL, not SQL: PostgreSQL before 18 plans a SQL function's body
-- again for every statement that calls it, 0.3 ms here; PL/pgSQL keeps the
-- plan for the session.  force_generic_plan here and in the functions
-- that reserve, settle and check: left to itself the plan cache finds the
-- plans made for each call's values cheaper and plans every call again,
-- 80 us a statement.)
CREATE FUNCTION @extschema@.ai_budget_matches(user_id uuid, project text, api_key text, tags text[], modelname text)
RETURNS TABLE (budget_id bigint, scope_value text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    SELECT b.id, v.val
      FROM @extschema@.ai_budget b
     CROSS JOIN LATERAL (
           SELECT CASE b.scope WHEN 'all' THEN ''
                               WHEN 'user' THEN user_id::pg_catalog.text
                               WHEN 'project' THEN project
                               WHEN 'api_key' THEN api_key
                               WHEN 'model' THEN modelname END AS val
            WHERE b.scope OPERATOR(pg_catalog.<>) 'tag'
           UNION
           SELECT t FROM pg_catalog.unnest(tags) AS t
            WHERE b.scope OPERATOR(pg_catalog.=) 'tag') v
     WHERE b.enabled
       AND v.val IS NOT NULL
       AND (b.scope_value IS NULL OR b.scope_value OPERATOR(pg_catalog.=) v.val);
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_matches(uuid, text, text, text[], text) FROM PUBLIC;

--
-- One alert: the payload README's "Alerts" documents.
--
CREATE FUNCTION @extschema@.ai_budget_notify(budget_id bigint, scope_value text, period_start timestamptz,
                                             spent_usd numeric, threshold_pct integer)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    -- (The arguments by function name: in a SQL function a column of the
    -- same name, ai_budget.scope_value, would win.)
    SELECT pg_catalog.pg_notify('aitrack_budget', pg_catalog.jsonb_build_object(
               'budget', b.name, 'budget_id', b.id, 'scope', b.scope,
               'scope_value', NULLIF(ai_budget_notify.scope_value, ''), 'period', b.period,
               'time_zone', b.time_zone, 'period_start', ai_budget_notify.period_start,
               'spent_usd', ai_budget_notify.spent_usd, 'limit_usd', b.limit_usd,
               'threshold_pct', ai_budget_notify.threshold_pct, 'hard', b.hard)::pg_catalog.text)
      FROM @extschema@.ai_budget b
     WHERE b.id OPERATOR(pg_catalog.=) ai_budget_notify.budget_id
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_notify(bigint, text, timestamptz, numeric, integer) FROM PUBLIC;


--
-- The trigger: every statement that inserts calls counts them against
-- their budgets, in its own transaction.  Without an enabled budget it
-- costs one index probe.  Updates and deletes of calls (ai_reprice,
-- purges) leave the spend as recorded: a budget counts what was spent when.
--
CREATE FUNCTION @extschema@.ai_budget_count_calls()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r record;
BEGIN
    IF NOT EXISTS (SELECT FROM @extschema@.ai_budget b WHERE b.enabled) THEN
        RETURN NULL;
    END IF;
    -- ai_budget_matches() and ai_budget_period_start() written out, so
    -- that this one plan, kept for the session, is all a statement runs.
    -- The spend rows are upserted in one order (budget, scope value,
    -- period), so that concurrent writers take their locks in it; the row
    -- stays locked until the transaction ends, so of two that both pass a
    -- threshold the second sees the first one's alert.  NOTIFY is sent at
    -- commit (and not at all on rollback, with the spend).
    FOR r IN
        WITH a AS (
            SELECT b.id AS budget_id, v.val AS scope_value,
                   CASE WHEN b.period OPERATOR(pg_catalog.=) 'lifetime' THEN '-infinity'::pg_catalog.timestamptz
                        WHEN c.created_at OPERATOR(pg_catalog.>=) '294276-12-01 00:00+00'::pg_catalog.timestamptz THEN 'infinity'::pg_catalog.timestamptz
                        WHEN c.created_at OPERATOR(pg_catalog.<) '4713-02-01 00:00+00 BC'::pg_catalog.timestamptz THEN '-infinity'::pg_catalog.timestamptz
                        ELSE pg_catalog.date_trunc(b.period, c.created_at, b.time_zone) END AS period_start,
                   COALESCE(pg_catalog.sum(c.cost_usd), 0) AS cost,
                   pg_catalog.count(*) AS calls,
                   pg_catalog.count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced
              FROM new_calls c
              -- (LEFT: a restore loads ai_model after ai_call; only model
              -- budgets need the name, see ai_budget_recount())
              LEFT JOIN @extschema@.ai_model mo ON mo.id OPERATOR(pg_catalog.=) c.model_id
              JOIN @extschema@.ai_budget b ON b.enabled
             CROSS JOIN LATERAL (
                   SELECT CASE b.scope WHEN 'all' THEN ''
                                       WHEN 'user' THEN c.user_id::pg_catalog.text
                                       WHEN 'project' THEN c.project
                                       WHEN 'api_key' THEN c.api_key
                                       WHEN 'model' THEN mo.modelname END AS val
                    WHERE b.scope OPERATOR(pg_catalog.<>) 'tag'
                   UNION
                   SELECT t FROM pg_catalog.unnest(c.tags) AS t
                    WHERE b.scope OPERATOR(pg_catalog.=) 'tag') v
             WHERE v.val IS NOT NULL
               AND (b.scope_value IS NULL OR b.scope_value OPERATOR(pg_catalog.=) v.val)
             GROUP BY 1, 2, 3
             ORDER BY 1, 2, 3),
        up AS (
            INSERT INTO @extschema@.ai_budget_spend AS s
                   (budget_id, scope_value, period_start, spent_usd, calls, unpriced_calls)
            SELECT a.budget_id, a.scope_value, a.period_start, a.cost, a.calls, a.unpriced FROM a
            ON CONFLICT (budget_id, scope_value, period_start) DO UPDATE
               SET spent_usd = s.spent_usd OPERATOR(pg_catalog.+) excluded.spent_usd,
                   calls = s.calls OPERATOR(pg_catalog.+) excluded.calls,
                   unpriced_calls = s.unpriced_calls OPERATOR(pg_catalog.+) excluded.unpriced_calls,
                   updated_at = pg_catalog.now()
            RETURNING s.budget_id, s.scope_value, s.period_start, s.spent_usd, s.alerted_pct)
        SELECT up.budget_id, up.scope_value, up.period_start, up.spent_usd,
               ARRAY(SELECT t FROM pg_catalog.unnest(b.alert_at_pct) AS t
                      WHERE up.spent_usd OPERATOR(pg_catalog.>=) (b.limit_usd OPERATOR(pg_catalog.*) t OPERATOR(pg_catalog./) 100)
                        AND t OPERATOR(pg_catalog.<>) ALL (up.alerted_pct)
                      ORDER BY t) AS reached
          FROM up JOIN @extschema@.ai_budget b ON b.id OPERATOR(pg_catalog.=) up.budget_id
         ORDER BY up.budget_id, up.scope_value, up.period_start
    LOOP
        CONTINUE WHEN pg_catalog.cardinality(r.reached) OPERATOR(pg_catalog.=) 0;
        UPDATE @extschema@.ai_budget_spend s
           SET alerted_pct = s.alerted_pct OPERATOR(pg_catalog.||) r.reached
         WHERE s.budget_id OPERATOR(pg_catalog.=) r.budget_id
           AND s.scope_value OPERATOR(pg_catalog.=) r.scope_value
           AND s.period_start OPERATOR(pg_catalog.=) r.period_start;
        FOR i IN 1 .. pg_catalog.cardinality(r.reached) LOOP
            PERFORM @extschema@.ai_budget_notify(r.budget_id, r.scope_value, r.period_start,
                                                 r.spent_usd, r.reached[i]);
        END LOOP;
    END LOOP;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_count_calls() FROM PUBLIC;

CREATE TRIGGER ai_call_budget_count
    AFTER INSERT ON @extschema@.ai_call
    REFERENCING NEW TABLE AS new_calls
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ai_budget_count_calls();
-- As the rollups: also under session_replication_role = replica.
ALTER TABLE @extschema@.ai_call ENABLE ALWAYS TRIGGER ai_call_budget_count;

--
-- A new budget (or one whose scope, period or zone changed) starts from
-- the calls of its current period already in ai_call; the thresholds they
-- reach are marked sent without a NOTIFY (a budget created late in a month,
-- or restored after the calls, does not re-announce the past).
--
CREATE FUNCTION @extschema@.ai_budget_recount_current(budget bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b @extschema@.ai_budget;
    since timestamptz;
    until timestamptz;
BEGIN
    SELECT * INTO b FROM @extschema@.ai_budget x WHERE x.id OPERATOR(pg_catalog.=) budget;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    since := @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now());
    until := @extschema@.ai_budget_period_end(b.period, b.time_zone, since);
    DELETE FROM @extschema@.ai_budget_spend s
     WHERE s.budget_id OPERATOR(pg_catalog.=) b.id AND s.period_start OPERATOR(pg_catalog.=) since;
    IF NOT b.enabled THEN
        RETURN;
    END IF;
    INSERT INTO @extschema@.ai_budget_spend AS s
           (budget_id, scope_value, period_start, spent_usd, calls, unpriced_calls, alerted_pct)
    SELECT g.budget_id, g.scope_value, since, g.cost, g.calls, g.unpriced,
           ARRAY(SELECT t FROM pg_catalog.unnest(b.alert_at_pct) AS t
                  WHERE g.cost OPERATOR(pg_catalog.>=) (b.limit_usd OPERATOR(pg_catalog.*) t OPERATOR(pg_catalog./) 100)
                  ORDER BY t)
      -- (The matching of ai_budget_matches() written out for this one
      -- budget: one pass over the period's calls, no function call each.)
      FROM (SELECT b.id AS budget_id, v.val AS scope_value,
                   COALESCE(pg_catalog.sum(c.cost_usd), 0) AS cost,
                   pg_catalog.count(*) AS calls,
                   pg_catalog.count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced
              FROM @extschema@.ai_call c
              LEFT JOIN @extschema@.ai_model mo ON mo.id OPERATOR(pg_catalog.=) c.model_id
             CROSS JOIN LATERAL (
                   SELECT CASE b.scope WHEN 'all' THEN ''
                                       WHEN 'user' THEN c.user_id::pg_catalog.text
                                       WHEN 'project' THEN c.project
                                       WHEN 'api_key' THEN c.api_key
                                       WHEN 'model' THEN mo.modelname END AS val
                    WHERE b.scope OPERATOR(pg_catalog.<>) 'tag'
                   UNION
                   SELECT t FROM pg_catalog.unnest(c.tags) AS t
                    WHERE b.scope OPERATOR(pg_catalog.=) 'tag') v
             WHERE c.created_at OPERATOR(pg_catalog.>=) since
               AND c.created_at OPERATOR(pg_catalog.<) until
               AND v.val IS NOT NULL
               AND (b.scope_value IS NULL OR b.scope_value OPERATOR(pg_catalog.=) v.val)
             GROUP BY 1, 2) g;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_recount_current(bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.ai_budget_changed()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- A recording transaction left open must not hold a budget change, and
-- every recording queued behind it, for long: the change fails instead.
SET lock_timeout = '2s'
AS $$
DECLARE
    r record;
    current_start timestamptz;
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'INSERT'
       OR (NEW.scope, NEW.scope_value, NEW.period, NEW.time_zone, NEW.enabled)
          IS DISTINCT FROM (OLD.scope, OLD.scope_value, OLD.period, OLD.time_zone, OLD.enabled) THEN
        -- Every recording transaction reads ai_budget (the counting
        -- trigger) and holds that lock until it ends: this waits for the
        -- ones that may have counted under the old definition (2 s at
        -- most, then the change fails), and holds back the next ones until
        -- this change commits.  So the recount below misses no call that
        -- the trigger did not count either, and none is counted twice.
        -- Recording waits for the recount: about 1 us per call of the
        -- budget's current period.  (Two budget changes at once may end in
        -- a deadlock error: run it again.)
        LOCK TABLE @extschema@.ai_budget IN ACCESS EXCLUSIVE MODE;
        IF TG_OP OPERATOR(pg_catalog.=) 'UPDATE' THEN
            DELETE FROM @extschema@.ai_budget_spend s WHERE s.budget_id OPERATOR(pg_catalog.=) NEW.id;
            DELETE FROM @extschema@.ai_budget_hold h WHERE h.budget_id OPERATOR(pg_catalog.=) NEW.id;
        END IF;
        PERFORM @extschema@.ai_budget_recount_current(NEW.id);
        -- The live reservations hold against the budget as it is now.
        IF NEW.enabled THEN
            INSERT INTO @extschema@.ai_budget_hold (reservation_id, budget_id, scope_value, period_start, amount_usd, expires_at)
            SELECT x.id, m.budget_id, m.scope_value,
                   @extschema@.ai_budget_period_start(NEW.period, NEW.time_zone, pg_catalog.now()),
                   x.amount_usd, x.expires_at
              FROM @extschema@.ai_budget_reservation x
             CROSS JOIN LATERAL @extschema@.ai_budget_matches(x.user_id, x.project, x.api_key, x.tags, x.modelname) m
             WHERE m.budget_id OPERATOR(pg_catalog.=) NEW.id
               AND x.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()
            ON CONFLICT DO NOTHING;
        END IF;
    ELSIF (NEW.limit_usd, NEW.alert_at_pct) IS DISTINCT FROM (OLD.limit_usd, OLD.alert_at_pct) THEN
        -- The thresholds count from the new limit: one sent before and
        -- still reached stays sent; one the new limit makes reached is sent
        -- now (at commit) for the current period, marked for earlier ones;
        -- one no longer reached is sent again when it is.
        current_start := @extschema@.ai_budget_period_start(NEW.period, NEW.time_zone, pg_catalog.now());
        FOR r IN
            SELECT s.scope_value, s.period_start, s.spent_usd,
                   ARRAY(SELECT t FROM pg_catalog.unnest(NEW.alert_at_pct) AS t
                          WHERE s.spent_usd OPERATOR(pg_catalog.>=) (NEW.limit_usd OPERATOR(pg_catalog.*) t OPERATOR(pg_catalog./) 100)
                          ORDER BY t) AS reached,
                   s.alerted_pct
              FROM @extschema@.ai_budget_spend s
             WHERE s.budget_id OPERATOR(pg_catalog.=) NEW.id
               FOR UPDATE
        LOOP
            UPDATE @extschema@.ai_budget_spend s
               SET alerted_pct = r.reached
             WHERE s.budget_id OPERATOR(pg_catalog.=) NEW.id
               AND s.scope_value OPERATOR(pg_catalog.=) r.scope_value
               AND s.period_start OPERATOR(pg_catalog.=) r.period_start;
            IF r.period_start OPERATOR(pg_catalog.=) current_start THEN
                FOR i IN 1 .. COALESCE(pg_catalog.cardinality(r.reached), 0) LOOP
                    CONTINUE WHEN r.reached[i] OPERATOR(pg_catalog.=) ANY (r.alerted_pct);
                    PERFORM @extschema@.ai_budget_notify(NEW.id, r.scope_value, r.period_start,
                                                         r.spent_usd, r.reached[i]);
                END LOOP;
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_changed() FROM PUBLIC;

CREATE TRIGGER ai_budget_changed
    AFTER INSERT OR UPDATE ON @extschema@.ai_budget
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ai_budget_changed();
ALTER TABLE @extschema@.ai_budget ENABLE ALWAYS TRIGGER ai_budget_changed;

--
-- ai_budget_recount(): every budget's current period counted again from
-- ai_call (thresholds reached marked, silently).  For after a restore that
-- skipped the triggers (--disable-triggers, --data-only), and for model
-- budgets after any restore (pg_restore loads ai_model after ai_call, so
-- the trigger could not name the model of the calls it loaded).
--
CREATE FUNCTION @extschema@.ai_budget_recount()
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b bigint;
    n bigint := 0;
BEGIN
    LOCK TABLE @extschema@.ai_budget IN ACCESS EXCLUSIVE MODE;
    FOR b IN SELECT x.id FROM @extschema@.ai_budget x ORDER BY x.id LOOP
        PERFORM @extschema@.ai_budget_recount_current(b);
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN n;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_recount() FROM PUBLIC;

--
-- Attribution given to ai_budget_reserve() and ai_budget_check(): the
-- rules of ai_call's columns (a spend row per value it names: no free-form
-- key may make them).
--
CREATE FUNCTION @extschema@.ai_budget_check_attribution(project text, api_key text, tags text[], modelname text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    label record;
BEGIN
    FOR label IN SELECT * FROM (VALUES ('project', project), ('api_key', api_key), ('modelname', modelname)) AS v(name, value)
                  WHERE v.value IS NOT NULL
    LOOP
        IF pg_catalog.length(label.value) OPERATOR(pg_catalog.>) 200 OR label.value OPERATOR(pg_catalog.=) ''
           OR label.value OPERATOR(pg_catalog.~) '[[:cntrl:]]' THEN
            RAISE EXCEPTION '% must be 1 to 200 characters without control characters', label.name
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = pg_catalog.format('It has %s characters.', pg_catalog.length(label.value));
        END IF;
    END LOOP;
    IF tags IS NOT NULL AND NOT (
           pg_catalog.array_ndims(tags) OPERATOR(pg_catalog.=) 1
           AND (SELECT pg_catalog.count(DISTINCT t) FROM pg_catalog.unnest(tags) AS t) OPERATOR(pg_catalog.<=) 64
           AND pg_catalog.array_position(tags, NULL) IS NULL
           AND pg_catalog.array_to_string(tags, '') OPERATOR(pg_catalog.!~) '[[:cntrl:]]'
           AND pg_catalog.strpos(E'\n' OPERATOR(pg_catalog.||) pg_catalog.array_to_string(tags, E'\n') OPERATOR(pg_catalog.||) E'\n', E'\n\n') OPERATOR(pg_catalog.=) 0
           AND pg_catalog.array_to_string(tags, E'\n') OPERATOR(pg_catalog.!~) E'[^\n]{101}') THEN
        RAISE EXCEPTION 'tags must be 1 to 64 distinct tags of 1 to 100 characters without control characters'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the tags the call will be recorded with.';
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_check_attribution(text, text, text[], text) FROM PUBLIC;

--
-- The user a budget function acts for: a tenant's own (given or not; any
-- other is refused), else the one given.
--
CREATE FUNCTION @extschema@.ai_budget_caller_user(user_id uuid)
RETURNS uuid
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    own uuid;
BEGIN
    IF NOT @extschema@.ai_tenant_mode() THEN
        RETURN user_id;
    END IF;
    own := @extschema@.ai_tenant_user_id();
    IF own IS NULL OR (user_id IS NOT NULL AND user_id OPERATOR(pg_catalog.<>) own) THEN
        RAISE EXCEPTION 'a tenant may act only for its own user'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Leave user_id out: the tenant''s user is taken.';
    END IF;
    RETURN own;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_caller_user(uuid) FROM PUBLIC;

--
-- ai_budget_check(): may a call of this estimated cost go ahead, and how
-- much is left, per budget it falls under (no lock taken: the answer may
-- be stale by the time the call is made; ai_budget_reserve() is the
-- binding form).  A tenant gets the figures of its own user's budgets
-- only; other budgets show their name and verdict.
--
CREATE FUNCTION @extschema@.ai_budget_check(
    estimate_usd  double precision DEFAULT 0,
    user_id       uuid    DEFAULT NULL,
    project       text    DEFAULT NULL,
    api_key       text    DEFAULT NULL,
    tags          text[]  DEFAULT NULL,
    modelname     text    DEFAULT NULL)
RETURNS TABLE (budget text, scope text, scope_value text, period_start timestamptz,
               period_end timestamptz, hard boolean, limit_usd numeric, spent_usd numeric,
               reserved_usd numeric, remaining_usd numeric, allowed boolean)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    who uuid := @extschema@.ai_budget_caller_user(user_id);
    tenant boolean := @extschema@.ai_tenant_mode();
    estimate numeric;
BEGIN
    IF estimate_usd IS NULL OR estimate_usd OPERATOR(pg_catalog.<) 0 OR estimate_usd OPERATOR(pg_catalog.>=) 1e12 THEN
        RAISE EXCEPTION 'estimate_usd must be between 0 and 1e12'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('estimate_usd is %s.', COALESCE(estimate_usd::pg_catalog.text, 'NULL'));
    END IF;
    estimate := estimate_usd::numeric;
    PERFORM @extschema@.ai_budget_check_attribution(project, api_key, tags, modelname);
    RETURN QUERY
    SELECT b.name, b.scope,
           CASE WHEN NOT tenant OR b.scope OPERATOR(pg_catalog.=) 'user' THEN NULLIF(m.scope_value, '') END,
           p.start, @extschema@.ai_budget_period_end(b.period, b.time_zone, p.start),
           b.hard,
           CASE WHEN v.shown THEN b.limit_usd END,
           CASE WHEN v.shown THEN COALESCE(s.spent_usd, 0) END,
           CASE WHEN v.shown THEN h.held END,
           CASE WHEN v.shown THEN b.limit_usd OPERATOR(pg_catalog.-) COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.-) h.held END,
           CASE WHEN v.shown THEN
                    NOT b.hard OR COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.+) h.held OPERATOR(pg_catalog.+) estimate
                                  OPERATOR(pg_catalog.<=) b.limit_usd
                -- (a tenant, of a shared budget: only whether it is used up,
                -- as ai_budget_reserve() decides for it)
                ELSE NOT b.hard OR COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.+) h.held
                                   OPERATOR(pg_catalog.<) b.limit_usd END
      FROM @extschema@.ai_budget_matches(who, project, api_key, tags, modelname) m
      JOIN @extschema@.ai_budget b ON b.id OPERATOR(pg_catalog.=) m.budget_id
     CROSS JOIN LATERAL (SELECT @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now()) AS start) p
     CROSS JOIN LATERAL (SELECT NOT tenant OR b.scope OPERATOR(pg_catalog.=) 'user' AS shown) v
      LEFT JOIN @extschema@.ai_budget_spend s
             ON s.budget_id OPERATOR(pg_catalog.=) b.id AND s.scope_value OPERATOR(pg_catalog.=) m.scope_value
            AND s.period_start OPERATOR(pg_catalog.=) p.start
     CROSS JOIN LATERAL (SELECT COALESCE(pg_catalog.sum(x.amount_usd), 0) AS held
                           FROM @extschema@.ai_budget_hold x
                          WHERE x.budget_id OPERATOR(pg_catalog.=) b.id
                            AND x.scope_value OPERATOR(pg_catalog.=) m.scope_value
                            AND x.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()) h
     ORDER BY b.name, m.scope_value;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_check(double precision, uuid, text, text, text[], text) FROM PUBLIC;

--
-- ai_budget_reserve(): hold an estimated cost against every budget a call
-- about to be made falls under, and return the reservation's id; refused
-- (SQLSTATE 53400, nothing held) when a hard budget's spent + reserved +
-- this estimate would pass its limit.  Each budget's spend row is locked
-- (in one order, so concurrent reservations cannot deadlock) until the
-- transaction ends: concurrent callers of one budget take turns for the
-- check, and N of them never hold more than the limit.  Per-user (or
-- per-project ...) budgets lock that user's row only.
--
CREATE FUNCTION @extschema@.ai_budget_reserve(
    estimate_usd  double precision,
    user_id       uuid     DEFAULT NULL,
    project       text     DEFAULT NULL,
    api_key       text     DEFAULT NULL,
    tags          text[]   DEFAULT NULL,
    modelname     text     DEFAULT NULL,
    expires_in    interval DEFAULT '10 minutes')
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    who uuid := @extschema@.ai_budget_caller_user(user_id);
    tenant boolean := @extschema@.ai_tenant_mode();
    reservation bigint;
    until timestamptz;
    r record;
    spent numeric;
    held numeric;
    estimate numeric;
BEGIN
    IF estimate_usd IS NULL OR estimate_usd OPERATOR(pg_catalog.<) 0 OR estimate_usd OPERATOR(pg_catalog.>=) 1e12 THEN
        RAISE EXCEPTION 'estimate_usd must be between 0 and 1e12'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('estimate_usd is %s.', COALESCE(estimate_usd::pg_catalog.text, 'NULL')),
                  HINT = 'Give the most the call can cost: its input tokens and max_tokens at the model''s price.';
    END IF;
    IF expires_in IS NULL OR expires_in OPERATOR(pg_catalog.<=) '0'::pg_catalog.interval
       OR expires_in OPERATOR(pg_catalog.>) '1 day'::pg_catalog.interval THEN
        RAISE EXCEPTION 'expires_in must be more than 0 and at most 1 day'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('expires_in is %s.', COALESCE(expires_in::pg_catalog.text, 'NULL'));
    END IF;
    -- Under a snapshot older than the statement, the holds of reservations
    -- made since would be unseen and the check would let both pass.
    IF current_setting('transaction_isolation') OPERATOR(pg_catalog.<>) 'read committed' THEN
        RAISE EXCEPTION 'ai_budget_reserve() must run at READ COMMITTED'
            USING ERRCODE = 'active_sql_transaction',
                  DETAIL = pg_catalog.format('This transaction is %s: its snapshot would not see reservations made since it began.',
                                             current_setting('transaction_isolation')),
                  HINT = 'Reserve in a transaction of its own, at the default isolation level.';
    END IF;
    -- A tenant's reservation holds for 15 minutes at most: long enough for
    -- a call, too short to keep a shared budget blocked.
    IF tenant AND expires_in OPERATOR(pg_catalog.>) '15 minutes'::pg_catalog.interval THEN
        RAISE EXCEPTION 'a tenant''s reservation may last 15 minutes at most'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('expires_in is %s.', expires_in);
    END IF;
    IF num_nonnulls(project, api_key, tags, modelname) OPERATOR(pg_catalog.>) 0 THEN
        PERFORM @extschema@.ai_budget_check_attribution(project, api_key, tags, modelname);
    END IF;
    -- (double precision, as drivers send a float; kept and summed exactly)
    estimate := estimate_usd::numeric;
    until := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) expires_in;
    INSERT INTO @extschema@.ai_budget_reservation (amount_usd, user_id, project, api_key, tags, modelname, expires_at)
    VALUES (estimate, who, project, api_key, tags, modelname, until)
    RETURNING id INTO reservation;

    FOR r IN
        SELECT m.budget_id, m.scope_value, b.name, b.hard, b.limit_usd, b.scope,
               @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now()) AS start
          FROM @extschema@.ai_budget_matches(who, project, api_key, tags, modelname) m
          JOIN @extschema@.ai_budget b ON b.id OPERATOR(pg_catalog.=) m.budget_id
         ORDER BY m.budget_id, m.scope_value
    LOOP
        -- A tenant's reservation holds nothing against a budget shared
        -- with other users (it could block that budget for all of them, or
        -- learn its figures by trying amounts): it is refused only once
        -- the budget is used up, and its call counts when recorded.
        IF tenant AND r.scope OPERATOR(pg_catalog.<>) 'user' THEN
            SELECT COALESCE((SELECT s.spent_usd FROM @extschema@.ai_budget_spend s
                              WHERE s.budget_id OPERATOR(pg_catalog.=) r.budget_id
                                AND s.scope_value OPERATOR(pg_catalog.=) r.scope_value
                                AND s.period_start OPERATOR(pg_catalog.=) r.start), 0)
                   OPERATOR(pg_catalog.+)
                   (SELECT COALESCE(pg_catalog.sum(x.amount_usd), 0) FROM @extschema@.ai_budget_hold x
                     WHERE x.budget_id OPERATOR(pg_catalog.=) r.budget_id
                       AND x.scope_value OPERATOR(pg_catalog.=) r.scope_value
                       AND x.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp())
              INTO spent;
            IF r.hard AND spent OPERATOR(pg_catalog.>=) r.limit_usd THEN
                RAISE EXCEPTION 'budget "%" would be exceeded', r.name
                    USING ERRCODE = 'configuration_limit_exceeded',
                          HINT = 'Make the call later, or ask for the budget to be raised.';
            END IF;
            CONTINUE;
        END IF;
        -- The spend row, locked (made if it is not there), and what it
        -- spent; then, in a statement of its own (a snapshot taken after
        -- the lock, which sees the holds of the reservation it waited for),
        -- what is held.
        INSERT INTO @extschema@.ai_budget_spend AS s (budget_id, scope_value, period_start)
        VALUES (r.budget_id, r.scope_value, r.start)
        ON CONFLICT (budget_id, scope_value, period_start) DO UPDATE SET updated_at = s.updated_at
        RETURNING s.spent_usd INTO spent;
        SELECT COALESCE(pg_catalog.sum(x.amount_usd), 0) INTO held
          FROM @extschema@.ai_budget_hold x
         WHERE x.budget_id OPERATOR(pg_catalog.=) r.budget_id
           AND x.scope_value OPERATOR(pg_catalog.=) r.scope_value
           AND x.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp();
        IF r.hard AND spent OPERATOR(pg_catalog.+) held OPERATOR(pg_catalog.+) estimate
                      OPERATOR(pg_catalog.>) r.limit_usd THEN
            RAISE EXCEPTION 'budget "%" would be exceeded', r.name
                USING ERRCODE = 'configuration_limit_exceeded',
                      DETAIL = pg_catalog.format('Spent %s USD and reserved %s USD of %s USD%s; this call reserves %s USD.',
                                                 spent, held, r.limit_usd,
                                                 CASE WHEN r.scope_value OPERATOR(pg_catalog.=) '' THEN ''
                                                      ELSE pg_catalog.format(' for %s %s', r.scope, r.scope_value) END,
                                                 estimate),
                      HINT = 'Make the call later, raise the budget''s limit_usd, or reserve less.';
        END IF;
        INSERT INTO @extschema@.ai_budget_hold (reservation_id, budget_id, scope_value, period_start, amount_usd, expires_at)
        VALUES (reservation, r.budget_id, r.scope_value, r.start, estimate, until);
    END LOOP;
    RETURN reservation;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_reserve(double precision, uuid, text, text, text[], text, interval) FROM PUBLIC;

--
-- Settle a reservation once its call is recorded (the trigger has counted
-- the call's real cost by then), or release it when no call was made.
-- Both return false when the reservation is gone already (settled,
-- released, or expired and cleared).  A tenant may end only its own.
--
CREATE FUNCTION @extschema@.ai_budget_release(reservation_id bigint)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    who uuid := @extschema@.ai_budget_caller_user(NULL);
    tenant boolean := @extschema@.ai_tenant_mode();
BEGIN
    DELETE FROM @extschema@.ai_budget_reservation r
     WHERE r.id OPERATOR(pg_catalog.=) reservation_id
       AND (NOT tenant OR r.user_id OPERATOR(pg_catalog.=) who);
    RETURN FOUND;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_release(bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.ai_budget_settle(reservation_id bigint, call_id bigint)
RETURNS boolean
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM @extschema@.ai_call c WHERE c.id OPERATOR(pg_catalog.=) call_id) THEN
        RAISE EXCEPTION 'no call with id %', call_id
            USING ERRCODE = 'no_data_found',
                  HINT = 'Settle with the id record_ai_call() returned, in the transaction that recorded it or after; without a call, use ai_budget_release().';
    END IF;
    RETURN @extschema@.ai_budget_release(reservation_id);
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_settle(bigint, bigint) FROM PUBLIC;

-- Expired reservations count for nothing already; this clears them away
-- (the upkeep worker calls it), returning how many.
CREATE FUNCTION @extschema@.ai_budget_clear_expired()
RETURNS bigint
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM @extschema@.ai_budget_reservation r
         WHERE r.expires_at OPERATOR(pg_catalog.<=) pg_catalog.clock_timestamp()
        RETURNING 1)
    SELECT pg_catalog.count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_budget_clear_expired() FROM PUBLIC;

--
-- ai_budget_status: every budget's state now, in its current period: one
-- row per budget with a fixed scope, one per scope value that has spent or
-- reserved in this period for budgets kept per value.
--
CREATE VIEW @extschema@.ai_budget_status WITH (security_invoker = true) AS
SELECT b.name AS budget, b.scope, COALESCE(b.scope_value, NULLIF(s.scope_value, '')) AS scope_value,
       b.period, b.time_zone, p.start AS period_start,
       @extschema@.ai_budget_period_end(b.period, b.time_zone, p.start) AS period_end,
       b.hard, b.enabled, b.limit_usd,
       COALESCE(s.spent_usd, 0) AS spent_usd,
       h.held AS reserved_usd,
       b.limit_usd OPERATOR(pg_catalog.-) COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.-) h.held AS remaining_usd,
       pg_catalog.round(COALESCE(s.spent_usd, 0) OPERATOR(pg_catalog.*) 100 OPERATOR(pg_catalog./) b.limit_usd, 2) AS used_pct,
       COALESCE(s.calls, 0) AS calls, COALESCE(s.unpriced_calls, 0) AS unpriced_calls,
       COALESCE(s.alerted_pct, '{}') AS alerted_pct, b.alert_at_pct
  FROM @extschema@.ai_budget b
 CROSS JOIN LATERAL (SELECT @extschema@.ai_budget_period_start(b.period, b.time_zone, pg_catalog.now()) AS start) p
  LEFT JOIN @extschema@.ai_budget_spend s
         ON s.budget_id OPERATOR(pg_catalog.=) b.id AND s.period_start OPERATOR(pg_catalog.=) p.start
 CROSS JOIN LATERAL (SELECT COALESCE(pg_catalog.sum(x.amount_usd), 0) AS held
                       FROM @extschema@.ai_budget_hold x
                      WHERE x.budget_id OPERATOR(pg_catalog.=) b.id
                        AND x.scope_value OPERATOR(pg_catalog.=) COALESCE(s.scope_value, COALESCE(b.scope_value, ''))
                        AND x.expires_at OPERATOR(pg_catalog.>) pg_catalog.clock_timestamp()) h
 WHERE s.budget_id IS NOT NULL OR b.scope_value IS NOT NULL OR b.scope OPERATOR(pg_catalog.=) 'all';
REVOKE ALL ON TABLE @extschema@.ai_budget_status FROM PUBLIC;
-- ==== END SECTION: budgets ====

-- ==== BEGIN SECTION: OpenTelemetry ====

--
-- ai_call_otel: one row per call, its columns named as the OpenTelemetry
-- GenAI semantic conventions (v1.41: model/gen-ai/registry.yaml, spans.yaml
-- and metrics.yaml of open-telemetry/semantic-conventions) name the
-- attributes of a GenAI client span, so that an exporter can copy them
-- over as they are.  Names the conventions do not have are aitrack's own,
-- under "aitrack.".
--
-- Span timing: aitrack records a call once it has returned (the row
-- carries the response, its tokens and its duration), so created_at is
-- taken as the end of the call: "end_time" is created_at, "start_time" is
-- created_at minus duration_ms (created_at itself when the duration is
-- unknown, "duration" being NULL then).  record_ai_call() writes now(),
-- the start of the recording transaction; record_ai_calls() may be given
-- created_at for old calls.
--
-- gen_ai.operation.name (required by the conventions): call_type is free
-- text in aitrack; the spellings applications use for the conventions'
-- well-known operations (README, the tests and the benchmarks use chat,
-- embed, embedding, tool) are mapped to them, case aside; any other value
-- (translation, classify, summarise, ...) is passed through as it is, as
-- the conventions allow; a NULL call_type is 'chat': the attribute is
-- required, and a prompt with a response is the shape of a chat call.
--
-- gen_ai.provider.name: ai_call.provider is written in the conventions'
-- spelling already (record_ai_call's rules and ai_load_prices' mapping of
-- LiteLLM's names); the other names a hand-written row may carry (LiteLLM's
-- gemini, bedrock, azure, xai, mistral, watsonx, ...) are mapped to the
-- well-known values; anything else is passed through; NULL stays NULL
-- (unknown: no provider is guessed).
--
-- gen_ai.response.model: the "model" string of the stored response
-- (OpenAI's and Anthropic's responses carry one), else Gemini's
-- "modelVersion", else the model name.  A response whose content was not
-- kept (aitrack.store_content = hash or none, ai_purge_content) has
-- neither, and the model name stands.  This is the only use the view makes
-- of the response, and it needs SELECT on ai_call.response.
--
-- error.type: NULL for a success, else the status (error, timeout,
-- cancelled, rate_limited, filtered): a low-cardinality list, as the
-- conventions ask.
--
-- enduser.id: user_id, the application's end user.  v1.28 of the
-- conventions deprecated enduser.* for user.*; v1.31 took enduser.id back,
-- and it is the current name in v1.41 (user.id describes an account of
-- the system, its example a Windows SID).
--
-- No prompt and no response content (gen_ai.input.messages,
-- gen_ai.output.messages): the conventions make them opt-in, and aitrack
-- keeps them under its own rules (aitrack.store_content, ai_purge_content,
-- the tenants' row security); a view that exporters read whole must not
-- carry them to a collector.  Read ai_call.prompt and response where they
-- are meant to be read.
--
-- Security invoker: the caller needs SELECT on ai_call and ai_model, and a
-- tenant sees its own user's calls only (the row-level security of
-- ai_call applies to the view's reader).
--
CREATE VIEW @extschema@.ai_call_otel WITH (security_invoker = true) AS
SELECT c.id AS "aitrack.call.id",
       c.trace_id AS "trace_id",
       c.span_id AS "span_id",
       c.parent_span_id AS "parent_span_id",
       c.created_at OPERATOR(pg_catalog.-)
           (COALESCE(c.duration_ms, 0) OPERATOR(pg_catalog.*) '1 millisecond'::pg_catalog.interval)
           AS "start_time",
       c.created_at AS "end_time",
       c.duration_ms::pg_catalog.float8 OPERATOR(pg_catalog./) 1000::pg_catalog.float8 AS "duration",
       CASE WHEN c.call_type IS NULL THEN 'chat'::pg_catalog.text
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{chat,chats,chat_completion,chat_completions,chat.completion,chat.completions,message,messages}'::pg_catalog.text[])
                 THEN 'chat'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{completion,completions,text_completion,text_completions}'::pg_catalog.text[])
                 THEN 'text_completion'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{embed,embeds,embedding,embeddings}'::pg_catalog.text[])
                 THEN 'embeddings'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{generate_content,generatecontent}'::pg_catalog.text[])
                 THEN 'generate_content'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{tool,tools,tool_call,tool_calls,function,function_call,execute_tool}'::pg_catalog.text[])
                 THEN 'execute_tool'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{retrieval,retrieve}'::pg_catalog.text[])
                 THEN 'retrieval'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) 'create_agent'
                 THEN 'create_agent'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{agent,invoke_agent}'::pg_catalog.text[])
                 THEN 'invoke_agent'
            WHEN pg_catalog.lower(c.call_type) OPERATOR(pg_catalog.=) ANY
                 ('{workflow,invoke_workflow}'::pg_catalog.text[])
                 THEN 'invoke_workflow'
            ELSE c.call_type END AS "gen_ai.operation.name",
       CASE WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{gemini,google_ai_studio,ai_studio}'::pg_catalog.text[]) THEN 'gcp.gemini'::pg_catalog.text
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{vertex_ai,vertex,vertexai,vertex_ai_beta}'::pg_catalog.text[]) THEN 'gcp.vertex_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) 'google' THEN 'gcp.gen_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{bedrock,bedrock_converse,aws_bedrock}'::pg_catalog.text[]) THEN 'aws.bedrock'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{azure,azure_text,azure_openai}'::pg_catalog.text[]) THEN 'azure.ai.openai'
            WHEN c.provider OPERATOR(pg_catalog.=) 'azure_ai' THEN 'azure.ai.inference'
            WHEN c.provider OPERATOR(pg_catalog.=) 'text-completion-openai' THEN 'openai'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY ('{xai,x-ai,x.ai}'::pg_catalog.text[]) THEN 'x_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{mistral,mistralai,mistral-ai,codestral}'::pg_catalog.text[]) THEN 'mistral_ai'
            WHEN c.provider OPERATOR(pg_catalog.=) 'cohere_chat' THEN 'cohere'
            WHEN c.provider OPERATOR(pg_catalog.=) ANY
                 ('{watsonx,watsonx_text,ibm}'::pg_catalog.text[]) THEN 'ibm.watsonx.ai'
            ELSE c.provider END AS "gen_ai.provider.name",
       m.modelname AS "gen_ai.request.model",
       CASE WHEN pg_catalog.jsonb_typeof(c.response OPERATOR(pg_catalog.->) 'model'::pg_catalog.text)
                 OPERATOR(pg_catalog.=) 'string'
                 THEN c.response OPERATOR(pg_catalog.->>) 'model'::pg_catalog.text
            WHEN pg_catalog.jsonb_typeof(c.response OPERATOR(pg_catalog.->) 'modelVersion'::pg_catalog.text)
                 OPERATOR(pg_catalog.=) 'string'
                 THEN c.response OPERATOR(pg_catalog.->>) 'modelVersion'::pg_catalog.text
            ELSE m.modelname END AS "gen_ai.response.model",
       c.input_tokens AS "gen_ai.usage.input_tokens",
       c.output_tokens AS "gen_ai.usage.output_tokens",
       c.cache_read_input_tokens AS "gen_ai.usage.cache_read.input_tokens",
       c.cache_creation_input_tokens AS "gen_ai.usage.cache_creation.input_tokens",
       c.reasoning_tokens AS "gen_ai.usage.reasoning.output_tokens",
       c.time_to_first_token_ms::pg_catalog.float8 OPERATOR(pg_catalog./) 1000::pg_catalog.float8
           AS "gen_ai.response.time_to_first_chunk",
       c.conversation_id AS "gen_ai.conversation.id",
       CASE WHEN c.status OPERATOR(pg_catalog.=) 'success' THEN NULL ELSE c.status END AS "error.type",
       c.user_id AS "enduser.id",
       c.project AS "aitrack.project",
       c.tags AS "aitrack.tags"
  FROM @extschema@.ai_call c
  JOIN @extschema@.ai_model m ON m.id OPERATOR(pg_catalog.=) c.model_id;
REVOKE ALL ON TABLE @extschema@.ai_call_otel FROM PUBLIC;

--
-- ai_otel_metrics(since, until): the conventions' two client histograms
-- over the calls recorded in [since, until) (by created_at, the end of
-- each call), as OTLP's explicit-bucket histogram data points of delta
-- temporality: one row per metric and attribute set.
--
--   gen_ai.client.token.usage        {token}  gen_ai.token.type input / output
--   gen_ai.client.operation.duration s        error.type when not a success
--
-- both with gen_ai.operation.name, gen_ai.provider.name,
-- gen_ai.request.model and gen_ai.response.model (attributes whose value
-- is NULL are left out, as OTLP has no null attribute), and the bucket
-- boundaries docs/gen-ai/gen-ai-metrics.md gives for each.  bucket_counts has one more
-- element than the boundaries: element i (1-based) counts the values in
-- (boundaries[i-1], boundaries[i]], the last one those above every
-- boundary (OTLP's rule: a value on a boundary is in the lower bucket).
-- A call whose input (output) token count is unknown is left out of the
-- input (output) token histogram; one whose duration is unknown, out of
-- the duration histogram.
--
-- Read through ai_call_otel (the same names and mappings), with the
-- caller's rights.  PL/pgSQL for its RAISE (an SQL function cannot
-- raise); the body is one query, one scan of the window.  The (0-based)
-- bucket of a value v is the number of boundaries below it: n -
-- width_bucket(-v, the boundaries negated and reversed), width_bucket
-- counting the thresholds at or below its operand.
--
CREATE FUNCTION @extschema@.ai_otel_metrics(since timestamptz, until timestamptz)
RETURNS TABLE (metric text, unit text, attributes jsonb,
               bucket_boundaries double precision[], bucket_counts bigint[],
               count bigint, sum double precision,
               min double precision, max double precision)
LANGUAGE plpgsql STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF since IS NULL OR until IS NULL THEN
        RAISE EXCEPTION 'since and until must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give the window of calls to aggregate, e.g. ai_otel_metrics(now() - interval ''1 minute'', now()).';
    END IF;
    IF since OPERATOR(pg_catalog.>=) until THEN
        RAISE EXCEPTION 'since must be before until'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('since is %s, until is %s.', since, until),
                  HINT = 'The window is [since, until): since is included, until is not.';
    END IF;
    RETURN QUERY
    WITH bounds (b_metric, b_unit, b_bounds, b_key) AS (
        VALUES ('gen_ai.client.token.usage'::pg_catalog.text, '{token}'::pg_catalog.text,
                '{1,4,16,64,256,1024,4096,16384,65536,262144,1048576,4194304,16777216,67108864}'::pg_catalog.float8[],
                'gen_ai.token.type'::pg_catalog.text),
               ('gen_ai.client.operation.duration', 's',
                '{0.01,0.02,0.04,0.08,0.16,0.32,0.64,1.28,2.56,5.12,10.24,20.48,40.96,81.92}'::pg_catalog.float8[],
                'error.type')
    ), negated (n_metric, n_buckets, n_negated) AS (
        -- the boundaries negated, in ascending order, for width_bucket
        SELECT b.b_metric, pg_catalog.cardinality(b.b_bounds) OPERATOR(pg_catalog.+) 1,
               ARRAY(SELECT OPERATOR(pg_catalog.-) x.v
                       FROM pg_catalog.unnest(b.b_bounds) WITH ORDINALITY AS x (v, i)
                      ORDER BY x.i DESC)
          FROM bounds b
    ), points (p_metric, p_operation, p_provider, p_request_model, p_response_model, p_kind, p_value) AS (
        -- one scan of the window: each call's input tokens, output tokens
        -- and duration, those that are known
        SELECT t.metric, o."gen_ai.operation.name", o."gen_ai.provider.name",
               o."gen_ai.request.model", o."gen_ai.response.model", t.kind, t.value
          FROM @extschema@.ai_call_otel o
         CROSS JOIN LATERAL (VALUES
                ('gen_ai.client.token.usage'::pg_catalog.text, 'input'::pg_catalog.text,
                 o."gen_ai.usage.input_tokens"::pg_catalog.float8),
                ('gen_ai.client.token.usage', 'output', o."gen_ai.usage.output_tokens"::pg_catalog.float8),
                ('gen_ai.client.operation.duration', o."error.type", o."duration")) AS t (metric, kind, value)
         WHERE o."end_time" OPERATOR(pg_catalog.>=) since
           AND o."end_time" OPERATOR(pg_catalog.<) until
           AND t.value IS NOT NULL
    ), per_bucket AS (
        -- k_bucket: 1-based, 1 + the number of boundaries below the value.
        -- Sums in numeric: whole milliseconds and tokens add up exactly,
        -- in any order.
        SELECT p.p_metric, p.p_operation, p.p_provider, p.p_request_model, p.p_response_model, p.p_kind,
               n.n_buckets OPERATOR(pg_catalog.-)
                   pg_catalog.width_bucket(OPERATOR(pg_catalog.-) p.p_value, n.n_negated) AS k_bucket,
               pg_catalog.count(*) AS k_count, pg_catalog.sum(p.p_value::pg_catalog.numeric) AS k_sum,
               pg_catalog.min(p.p_value) AS k_min, pg_catalog.max(p.p_value) AS k_max
          FROM points p
          JOIN negated n ON n.n_metric OPERATOR(pg_catalog.=) p.p_metric
         GROUP BY 1, 2, 3, 4, 5, 6, 7
    ), per_group AS (
        SELECT k.p_metric, k.p_operation, k.p_provider, k.p_request_model, k.p_response_model, k.p_kind,
               pg_catalog.array_agg(k.k_bucket) AS g_buckets, pg_catalog.array_agg(k.k_count) AS g_counts,
               pg_catalog.sum(k.k_count)::pg_catalog.int8 AS g_count, pg_catalog.sum(k.k_sum) AS g_sum,
               pg_catalog.min(k.k_min) AS g_min, pg_catalog.max(k.k_max) AS g_max
          FROM per_bucket k
         GROUP BY 1, 2, 3, 4, 5, 6
    ), answer AS (
        SELECT g.p_metric AS a_metric, b.b_unit AS a_unit,
               -- OTLP has no null attribute: those without a value are left out
               pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'gen_ai.operation.name', g.p_operation,
                   'gen_ai.provider.name', g.p_provider,
                   'gen_ai.request.model', g.p_request_model,
                   'gen_ai.response.model', g.p_response_model,
                   b.b_key, g.p_kind)) AS a_attributes,
               b.b_bounds AS a_bounds,
               ARRAY(SELECT COALESCE(g.g_counts[pg_catalog.array_position(g.g_buckets, s.i)], 0)
                       FROM pg_catalog.generate_series(1, n.n_buckets) AS s (i)
                      ORDER BY s.i) AS a_counts,
               g.g_count AS a_count, g.g_sum::pg_catalog.float8 AS a_sum, g.g_min AS a_min, g.g_max AS a_max
          FROM per_group g
          JOIN bounds b ON b.b_metric OPERATOR(pg_catalog.=) g.p_metric
          JOIN negated n ON n.n_metric OPERATOR(pg_catalog.=) g.p_metric
    )
    SELECT a.a_metric, a.a_unit, a.a_attributes, a.a_bounds, a.a_counts,
           a.a_count, a.a_sum, a.a_min, a.a_max
      FROM answer a
     ORDER BY a.a_metric, a.a_attributes;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_otel_metrics(timestamptz, timestamptz) FROM PUBLIC;
-- Nothing is granted here: the privileges section below grants the view
-- and the function to aitrack_reader (ai_intended_privileges()) and runs
-- ai_reset_privileges(), which also takes back what default privileges
-- handed out when they were created (REVOKE ... FROM PUBLIC does not).

COMMENT ON VIEW @extschema@.ai_call_otel IS 'aitrack: one row per call, its columns named as OpenTelemetry''s GenAI semantic conventions (v1.41) name a client span''s attributes (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.usage.*, error.type, ...), with the trace context and the span''s start and end, for exporting calls to a collector. No prompt or response content. Security invoker (aitrack_reader; a tenant sees its own user''s calls).';
COMMENT ON COLUMN @extschema@.ai_call_otel."aitrack.call.id" IS 'ai_call.id.';
COMMENT ON COLUMN @extschema@.ai_call_otel.trace_id IS 'The W3C trace id the call belongs to: 32 lowercase hex digits, or NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel.span_id IS 'The span id of the call: 16 lowercase hex digits, or NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel.parent_span_id IS 'The span id of the call''s parent: 16 lowercase hex digits, or NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel.start_time IS 'When the call started (timestamptz): created_at minus duration_ms, created_at when the duration is unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel.end_time IS 'When the call ended (timestamptz): created_at, written when the call was recorded, after it returned.';
COMMENT ON COLUMN @extschema@.ai_call_otel.duration IS 'The call''s duration in seconds (s): duration_ms / 1000; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.operation.name" IS 'call_type as the conventions'' operation: chat, text_completion, embeddings, generate_content, execute_tool, retrieval, create_agent, invoke_agent or invoke_workflow for the usual spellings (chat, embed, embedding, tool, completion, ...; case aside), any other call_type as it is, chat when call_type is NULL.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.provider.name" IS 'ai_call.provider, in the conventions'' spelling (LiteLLM''s names such as gemini, bedrock, azure, xai, mistral mapped to gcp.gemini, aws.bedrock, azure.ai.openai, x_ai, mistral_ai); NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.request.model" IS 'The model''s name, ai_model.modelname.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.response.model" IS 'The "model" string of the stored response, else its "modelVersion" (Gemini), else the model''s name.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.input_tokens" IS 'Input tokens ({token}), cache reads and writes included; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.output_tokens" IS 'Output tokens ({token}), reasoning included; NULL when unknown.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.cache_read.input_tokens" IS 'Input tokens read from the provider''s cache ({token}), inside the input tokens.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.cache_creation.input_tokens" IS 'Input tokens written to the provider''s cache ({token}), inside the input tokens.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.usage.reasoning.output_tokens" IS 'Output tokens used for reasoning ({token}), inside the output tokens.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.response.time_to_first_chunk" IS 'Time to the first chunk of a streamed response in seconds (s): time_to_first_token_ms / 1000; NULL when not recorded.';
COMMENT ON COLUMN @extschema@.ai_call_otel."gen_ai.conversation.id" IS 'ai_call.conversation_id: the conversation (session, thread) the call belongs to.';
COMMENT ON COLUMN @extschema@.ai_call_otel."error.type" IS 'NULL for a success, else the status: error, timeout, cancelled, rate_limited or filtered.';
COMMENT ON COLUMN @extschema@.ai_call_otel."enduser.id" IS 'ai_call.user_id: the end user who caused the call.';
COMMENT ON COLUMN @extschema@.ai_call_otel."aitrack.project" IS 'ai_call.project.';
COMMENT ON COLUMN @extschema@.ai_call_otel."aitrack.tags" IS 'ai_call.tags.';
COMMENT ON FUNCTION @extschema@.ai_otel_metrics(timestamptz, timestamptz) IS 'OpenTelemetry''s GenAI client histograms gen_ai.client.token.usage ({token}, by gen_ai.token.type input and output) and gen_ai.client.operation.duration (s, with error.type) over the calls recorded in [since, until), one row per metric and attribute set, with the conventions'' explicit bucket boundaries (bucket i counts the values in (boundaries[i-1], boundaries[i]]), count, sum, min and max, read through ai_call_otel. Calls with unknown tokens or duration are left out of that histogram. SECURITY INVOKER (aitrack_reader).';

-- ==== END SECTION: OpenTelemetry ====

-- ==== BEGIN SECTION: privileges ====
-- The privileges of 1.7's objects: the list grows (budgets, the
-- OpenTelemetry view) and names the new signatures; ai_reset_privileges(),
-- as 1.6 has it, applies it.
CREATE OR REPLACE FUNCTION @extschema@.ai_intended_privileges()
RETURNS TABLE (obj oid, grantee text, privilege text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT l.obj, l.grantee, l.privilege
      FROM (VALUES
        -- recording
        ('@extschema@.record_ai_call(text, text, text, jsonb, bigint, bigint, bigint, double precision, double precision, text, text, uuid, jsonb, bigint, bigint, double precision, text, text, bigint, bigint, bigint, bigint, bigint, bigint, bigint, text, text, text, text[], text, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_call(text, text, text, jsonb, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.record_ai_calls(jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        -- spend control (1.7): asking, reserving, settling
        ('@extschema@.ai_budget_check(double precision, uuid, text, text, text[], text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.ai_budget_reserve(double precision, uuid, text, text, text[], text, interval)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.ai_budget_settle(bigint, bigint)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        ('@extschema@.ai_budget_release(bigint)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_writer', 'EXECUTE'),
        -- reading
        ('@extschema@.ai_call'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_model'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_model_price'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup_total'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_upkeep_state'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_upkeep_status'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_usage_stats_1_6(timestamptz, timestamptz, text[], text, text, uuid, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_price_at(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_cost(@extschema@.ai_model_price, record)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_settings()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_spend'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_hold'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_status'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_budget_check(double precision, uuid, text, text, text[], text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        ('@extschema@.ai_call_otel'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_reader', 'SELECT'),
        ('@extschema@.ai_otel_metrics(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_reader', 'EXECUTE'),
        -- administration: prices, repricing, compaction, retention, tenants
        ('@extschema@.ai_load_prices(jsonb, timestamptz, text)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_reprice(timestamptz, timestamptz, boolean)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_compact()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_rebuild(timestamptz, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_rollup_backfill_daily(integer)'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
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
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_rollup_daily'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_upkeep_state'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_usage_purged'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'SELECT'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_tenant_user'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'INSERT'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'UPDATE'),
        ('@extschema@.ai_budget'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_budget_id_seq'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'USAGE'),
        ('@extschema@.ai_budget_reservation'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'SELECT'),
        ('@extschema@.ai_budget_reservation'::pg_catalog.regclass::pg_catalog.oid, 'aitrack_admin', 'DELETE'),
        ('@extschema@.ai_budget_clear_expired()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
        ('@extschema@.ai_budget_recount()'::pg_catalog.regprocedure::pg_catalog.oid, 'aitrack_admin', 'EXECUTE'),
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
        ('@extschema@.ai_price_from_litellm(text, jsonb)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_budget_period_start(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE'),
        ('@extschema@.ai_budget_period_end(text, text, timestamptz)'::pg_catalog.regprocedure::pg_catalog.oid, 'PUBLIC', 'EXECUTE')
      ) AS l(obj, grantee, privilege);
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_intended_privileges() FROM PUBLIC;

SELECT @extschema@.ai_reset_privileges();
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
--
-- Comments on the objects this script adds.
--
COMMENT ON COLUMN @extschema@.ai_call.project IS 'The project (team, feature, app) the call is for; a label of 1 to 200 characters (1.7). Budgets and ai_usage_stats() group and filter by it.';
COMMENT ON COLUMN @extschema@.ai_call.api_key IS 'A label or a hash of the API key the call used, never the key itself: values shaped like the secret keys of the common providers (sk-, sk_, rk_, AIza, xai-, gsk_, hf_) are refused (1.7).';
COMMENT ON COLUMN @extschema@.ai_call.tags IS 'Free labels of the call (LiteLLM request_tags, Helicone properties): 1 to 64 distinct tags of 1 to 100 characters, no control characters (1.7). A call with two tags counts once under each.';
COMMENT ON COLUMN @extschema@.ai_call.trace_id IS 'The OpenTelemetry / W3C trace id the call belongs to: 32 lowercase hex digits, not all zeros (1.7).';
COMMENT ON COLUMN @extschema@.ai_call.span_id IS 'The span id of the call in its trace: 16 lowercase hex digits, not all zeros; only with trace_id (1.7).';
COMMENT ON COLUMN @extschema@.ai_call.parent_span_id IS 'The span id of the call''s parent span: 16 lowercase hex digits, not all zeros; only with trace_id (1.7).';
COMMENT ON COLUMN @extschema@.ai_call.conversation_id IS 'The conversation or session the call is part of (OpenTelemetry gen_ai.conversation.id); 1 to 200 characters (1.7).';

COMMENT ON TABLE @extschema@.ai_budget IS 'aitrack: budgets: a limit in USD on the cost of the calls in a scope (everything, a user, project, API key, tag or model, or each of them) per period (day, week, month in a time zone, or lifetime), hard (reservations refused past it) or soft (alerts only), with alert thresholds; dumped';
COMMENT ON COLUMN @extschema@.ai_budget.id IS 'Identifies the budget (ai_budget_spend.budget_id, alerts'' budget_id).';
COMMENT ON COLUMN @extschema@.ai_budget.name IS 'Unique name, 1 to 200 characters; named in refusals and alerts.';
COMMENT ON COLUMN @extschema@.ai_budget.scope IS 'Which calls count: all, user, project, api_key, tag or model (by model name).';
COMMENT ON COLUMN @extschema@.ai_budget.scope_value IS 'The one user (uuid as text), project, API key, tag or model name the budget is for; NULL: each of them separately, with a limit of its own (NULL for scope all).';
COMMENT ON COLUMN @extschema@.ai_budget.period IS 'day, week (from Monday), month (in time_zone) or lifetime.';
COMMENT ON COLUMN @extschema@.ai_budget.time_zone IS 'The zone days, weeks and months are cut in (any zone PostgreSQL knows; default UTC).';
COMMENT ON COLUMN @extschema@.ai_budget.limit_usd IS 'The limit in USD per period, above 0 and below 1e12.';
COMMENT ON COLUMN @extschema@.ai_budget.hard IS 'true: ai_budget_reserve() refuses (SQLSTATE 53400) a reservation that would pass the limit; false: alerts only. Recording is never refused.';
COMMENT ON COLUMN @extschema@.ai_budget.alert_at_pct IS 'Thresholds in percent of limit_usd (up to 10, 1 to 1000): each sends one NOTIFY aitrack_budget per period when the spend reaches it.';
COMMENT ON COLUMN @extschema@.ai_budget.enabled IS 'A disabled budget counts nothing and refuses nothing; enabling it counts its current period from ai_call.';
COMMENT ON COLUMN @extschema@.ai_budget.created_at IS 'When the budget was created.';
COMMENT ON SEQUENCE @extschema@.ai_budget_id_seq IS 'aitrack: ids of ai_budget (dumped with it)';
COMMENT ON POLICY ai_budget_tenant ON @extschema@.ai_budget IS 'A tenant sees the budgets of users only: its own user''s and those kept per user; sessions that are not a tenant''s are not restricted.';

COMMENT ON TABLE @extschema@.ai_budget_spend IS 'aitrack: what the recorded calls cost per budget, scope value and period, and which alert thresholds were sent; kept by the trigger ai_call_budget_count in the recording transaction; follows from ai_call and is not dumped';
COMMENT ON COLUMN @extschema@.ai_budget_spend.budget_id IS 'The budget (ai_budget.id); deleted with it.';
COMMENT ON COLUMN @extschema@.ai_budget_spend.scope_value IS 'The user (uuid as text), project, key, tag or model the row counts for; empty for a budget over everything.';
COMMENT ON COLUMN @extschema@.ai_budget_spend.period_start IS 'Start of the period (in the budget''s zone; -infinity for lifetime).';
COMMENT ON COLUMN @extschema@.ai_budget_spend.spent_usd IS 'Sum of cost_usd of the calls counted (unpriced calls count 0).';
COMMENT ON COLUMN @extschema@.ai_budget_spend.calls IS 'Calls counted.';
COMMENT ON COLUMN @extschema@.ai_budget_spend.unpriced_calls IS 'Calls counted without a cost.';
COMMENT ON COLUMN @extschema@.ai_budget_spend.alerted_pct IS 'Thresholds (percent of the limit) already sent in this period.';
COMMENT ON COLUMN @extschema@.ai_budget_spend.updated_at IS 'When a call last counted here.';
COMMENT ON POLICY ai_budget_spend_tenant ON @extschema@.ai_budget_spend IS 'A tenant sees only its own user''s rows of user budgets.';

COMMENT ON TABLE @extschema@.ai_budget_reservation IS 'aitrack: reservations (ai_budget_reserve()): an estimated cost held against budgets until settled, released or expired; not dumped';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.id IS 'The reservation''s id, returned by ai_budget_reserve().';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.amount_usd IS 'The estimate held, in USD.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.user_id IS 'The user the call is for (a tenant''s own).';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.project IS 'The project the call is for.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.api_key IS 'The API key label the call will use.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.tags IS 'The tags the call will carry.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.modelname IS 'The model the call will use.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.created_at IS 'When it was reserved.';
COMMENT ON COLUMN @extschema@.ai_budget_reservation.expires_at IS 'From then on it holds nothing (ai_budget_clear_expired() deletes it).';
COMMENT ON SEQUENCE @extschema@.ai_budget_reservation_id_seq IS 'aitrack: ids of ai_budget_reservation';
COMMENT ON POLICY ai_budget_reservation_tenant ON @extschema@.ai_budget_reservation IS 'A tenant sees only its own user''s reservations.';

COMMENT ON TABLE @extschema@.ai_budget_hold IS 'aitrack: what each reservation holds against each budget row (budget, scope value, period); deleted with its reservation';
COMMENT ON COLUMN @extschema@.ai_budget_hold.reservation_id IS 'The reservation (ai_budget_reservation.id).';
COMMENT ON COLUMN @extschema@.ai_budget_hold.budget_id IS 'The budget held against.';
COMMENT ON COLUMN @extschema@.ai_budget_hold.scope_value IS 'The scope value held against, as in ai_budget_spend.';
COMMENT ON COLUMN @extschema@.ai_budget_hold.period_start IS 'The period held against.';
COMMENT ON COLUMN @extschema@.ai_budget_hold.amount_usd IS 'The estimate held, in USD.';
COMMENT ON COLUMN @extschema@.ai_budget_hold.expires_at IS 'From then on it holds nothing.';
COMMENT ON POLICY ai_budget_hold_tenant ON @extschema@.ai_budget_hold IS 'A tenant sees only its own user''s holds on user budgets.';

COMMENT ON VIEW @extschema@.ai_budget_status IS 'aitrack: every budget now, in its current period: one row per budget with a fixed scope, one per scope value that spent or reserved this period for budgets kept per value. SECURITY INVOKER (aitrack_reader; a tenant sees its own user''s rows).';
COMMENT ON COLUMN @extschema@.ai_budget_status.budget IS 'ai_budget.name.';
COMMENT ON COLUMN @extschema@.ai_budget_status.scope IS 'ai_budget.scope.';
COMMENT ON COLUMN @extschema@.ai_budget_status.scope_value IS 'The user, project, key, tag or model of the row; NULL for everything.';
COMMENT ON COLUMN @extschema@.ai_budget_status.period IS 'ai_budget.period.';
COMMENT ON COLUMN @extschema@.ai_budget_status.time_zone IS 'ai_budget.time_zone.';
COMMENT ON COLUMN @extschema@.ai_budget_status.period_start IS 'Start of the current period.';
COMMENT ON COLUMN @extschema@.ai_budget_status.period_end IS 'Start of the next period (infinity for lifetime).';
COMMENT ON COLUMN @extschema@.ai_budget_status.hard IS 'ai_budget.hard.';
COMMENT ON COLUMN @extschema@.ai_budget_status.enabled IS 'ai_budget.enabled.';
COMMENT ON COLUMN @extschema@.ai_budget_status.limit_usd IS 'ai_budget.limit_usd.';
COMMENT ON COLUMN @extschema@.ai_budget_status.spent_usd IS 'What the calls of the period cost.';
COMMENT ON COLUMN @extschema@.ai_budget_status.reserved_usd IS 'What unexpired reservations hold.';
COMMENT ON COLUMN @extschema@.ai_budget_status.remaining_usd IS 'limit_usd - spent_usd - reserved_usd (negative when over).';
COMMENT ON COLUMN @extschema@.ai_budget_status.used_pct IS 'spent_usd in percent of limit_usd.';
COMMENT ON COLUMN @extschema@.ai_budget_status.calls IS 'Calls counted in the period.';
COMMENT ON COLUMN @extschema@.ai_budget_status.unpriced_calls IS 'Calls counted without a cost.';
COMMENT ON COLUMN @extschema@.ai_budget_status.alerted_pct IS 'Thresholds already sent in the period.';
COMMENT ON COLUMN @extschema@.ai_budget_status.alert_at_pct IS 'ai_budget.alert_at_pct.';

COMMENT ON FUNCTION @extschema@.ai_budget_period_start(text, text, timestamptz) IS 'Start of the budget period (day, week, month in the zone, or lifetime: -infinity) that a moment falls in.';
COMMENT ON FUNCTION @extschema@.ai_budget_period_end(text, text, timestamptz) IS 'Start of the period after the one starting at period_start (infinity for lifetime), DST changes included.';
COMMENT ON FUNCTION @extschema@.ai_budget_matches(uuid, text, text, text[], text) IS 'The enabled budgets a call with this attribution falls under, with the scope value its spend is kept under (one per distinct tag for tag budgets). Internal.';
COMMENT ON FUNCTION @extschema@.ai_budget_count_calls() IS 'Trigger (AFTER INSERT, per statement, ENABLE ALWAYS) on ai_call: counts the inserted calls against their budgets in the recording transaction. SECURITY DEFINER.';
COMMENT ON TRIGGER ai_call_budget_count ON @extschema@.ai_call IS 'Counts every inserted call against the budgets it falls under (ai_budget_count_calls()).';
COMMENT ON FUNCTION @extschema@.ai_budget_recount_current(bigint) IS 'Counts a budget''s current period again from ai_call, marking the thresholds reached without a NOTIFY. Internal.';
COMMENT ON FUNCTION @extschema@.ai_budget_changed() IS 'Trigger on ai_budget: a new budget, or one whose scope, period, zone or enabled changed, counts its current period from ai_call; a new limit or thresholds re-marks the thresholds reached. SECURITY DEFINER.';
COMMENT ON TRIGGER ai_budget_changed ON @extschema@.ai_budget IS 'Keeps ai_budget_spend in step with the budget''s definition (ai_budget_changed()).';
COMMENT ON FUNCTION @extschema@.ai_budget_caller_user(uuid) IS 'The user a budget function acts for: a tenant''s own (another is refused with 42501), else the one given. Internal.';
COMMENT ON FUNCTION @extschema@.ai_budget_check(double precision, uuid, text, text, text[], text) IS 'Per budget a call with this attribution and estimated cost would fall under: its period, limit, spent, reserved, remaining and whether the call may go ahead; takes no lock (ai_budget_reserve() is the binding check). A tenant gets the figures of user budgets only. SECURITY DEFINER (aitrack_writer, aitrack_reader).';
COMMENT ON FUNCTION @extschema@.ai_budget_reserve(double precision, uuid, text, text, text[], text, interval) IS 'Holds an estimated cost against every budget a call about to be made falls under, and returns the reservation id; refused with SQLSTATE 53400 (budget "NAME" would be exceeded), holding nothing, when a hard budget''s spent + reserved + estimate would pass its limit. Locks each budget''s spend row until the transaction ends. SECURITY DEFINER (aitrack_writer); a tenant reserves for its own user.';
COMMENT ON FUNCTION @extschema@.ai_budget_settle(bigint, bigint) IS 'Ends a reservation once its call (call_id, which must exist) is recorded: the call''s real cost was counted when it was recorded. False when the reservation was already gone. SECURITY DEFINER (aitrack_writer).';
COMMENT ON FUNCTION @extschema@.ai_budget_release(bigint) IS 'Ends a reservation without a call; false when it was already gone. SECURITY DEFINER (aitrack_writer); a tenant ends its own user''s only.';
COMMENT ON FUNCTION @extschema@.ai_budget_recount() IS 'Counts the current period of every budget again from ai_call (thresholds reached marked without a NOTIFY) and returns the number of budgets: after a restore with --disable-triggers or --data-only, and for model budgets after any restore. SECURITY INVOKER (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_budget_notify(bigint, text, timestamptz, numeric, integer) IS 'Sends one alert on channel aitrack_budget, with the documented JSON payload. Internal.';
COMMENT ON FUNCTION @extschema@.ai_budget_check_attribution(text, text, text[], text) IS 'Refuses attribution that ai_call would refuse (labels of 1 to 200 characters, up to 64 distinct tags of 1 to 100), for ai_budget_reserve() and ai_budget_check(). Internal.';
COMMENT ON FUNCTION @extschema@.ai_budget_clear_expired() IS 'Deletes expired reservations (they already hold nothing) and returns how many; the upkeep worker runs it. SECURITY INVOKER (aitrack_admin).';
COMMENT ON FUNCTION @extschema@.ai_rollup_compact() IS 'Folds the pending rows of ai_usage_rollup into one row per group, into ai_usage_rollup_total and into the daily level of the days it touched, and returns the number of pending rows folded; safe from several sessions at once (all but one return 0; 1.7: VACUUM or ANALYZE of ai_upkeep_state no longer makes it return 0). The upkeep worker runs it within seconds of every commit that appended pending rows; call it by hand when aitrack.upkeep_interval is 0. SECURITY INVOKER: the caller''s privileges apply (aitrack_admin).';
-- ==== END SECTION: comments ====
