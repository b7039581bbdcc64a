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
-- 1 to 64 of them, each a label of 1 to 100 characters (joined by a
-- newline, which no tag may contain, the whole list is checked by one
-- pattern, without a subquery), no NULL element, one dimension.
ALTER TABLE @extschema@.ai_call
    ADD CONSTRAINT ai_call_project_check
        CHECK (project OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$') NOT VALID,
    ADD CONSTRAINT ai_call_api_key_check
        CHECK (api_key OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$'
               AND api_key OPERATOR(pg_catalog.!~) '^(sk-|sk_|rk_|AIza|xai-|gsk_|hf_)') NOT VALID,
    ADD CONSTRAINT ai_call_tags_check
        CHECK (pg_catalog.array_ndims(tags) OPERATOR(pg_catalog.=) 1
               AND pg_catalog.cardinality(tags) OPERATOR(pg_catalog.<=) 64
               AND pg_catalog.array_position(tags, NULL) IS NULL
               AND pg_catalog.array_to_string(tags, E'\n') OPERATOR(pg_catalog.~)
                   '^[^[:cntrl:]]{1,100}(\n[^[:cntrl:]]{1,100})*$') NOT VALID,
    ADD CONSTRAINT ai_call_trace_id_check
        CHECK (trace_id OPERATOR(pg_catalog.~) '^[0-9a-f]{32}$'
               AND trace_id OPERATOR(pg_catalog.<>) '00000000000000000000000000000000') NOT VALID,
    ADD CONSTRAINT ai_call_span_id_check
        CHECK (span_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
               AND span_id OPERATOR(pg_catalog.<>) '0000000000000000'
               AND parent_span_id OPERATOR(pg_catalog.~) '^[0-9a-f]{16}$'
               AND parent_span_id OPERATOR(pg_catalog.<>) '0000000000000000') NOT VALID,
    ADD CONSTRAINT ai_call_conversation_id_check
        CHECK (conversation_id OPERATOR(pg_catalog.~) '^[^[:cntrl:]]{1,200}$') NOT VALID;

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
-- ==== END SECTION: usage stats ====

-- ==== BEGIN SECTION: budgets ====
-- ==== END SECTION: budgets ====

-- ==== BEGIN SECTION: OpenTelemetry ====
-- ==== END SECTION: OpenTelemetry ====

-- ==== BEGIN SECTION: privileges ====
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
-- ==== END SECTION: comments ====
