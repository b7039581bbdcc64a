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
-- it.  A view or function of a user's that depends on the 7-argument
-- ai_usage_stats() stops the update at the DROP below (drop it, update,
-- create it again).
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
DROP FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text);
ALTER FUNCTION @extschema@.ai_usage_stats_1_7_new(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text)
    RENAME TO ai_usage_stats;

COMMENT ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid, text, text, text, text) IS 'Calls, errors, token sums (audio, image, 1-hour cache write and web search counts included), cost in USD and latency in milliseconds (mean, p50, p95, p99) of the calls made from since (inclusive) to until (exclusive), grouped by any of model, modelname, call_type, status, user, project, api_key, tag and one hour, day, week or month bucket cut in time zone tz, and filtered by any of modelname, call_type, user_id, project, api_key and tag (the calls carrying it). 1.7 adds project, api_key and tag: a call with several tags counts once under each, calls without a project, key or tag form the group NULL. Questions naming none of them: whole UTC days come from the daily rollup level (when no user is asked for and buckets, if any, are days or longer in a zone that is always UTC), whole hours from the hourly one. Questions naming one of them come from ai_call directly (the rollups hold no attribution). Purged calls count, in the NULL groups of project, api_key and tag (their attribution is not kept), and not when filtering by one of them. Rows of type ai_usage_stats_row. SECURITY INVOKER: the caller''s privileges and row-level security apply, so it needs SELECT on ai_call, ai_model, ai_usage_rollup, ai_usage_rollup_total, ai_usage_rollup_daily, ai_usage_purged and ai_upkeep_state (aitrack_reader), and a tenant gets its own user''s calls only.';
-- ==== END SECTION: usage stats ====

-- ==== BEGIN SECTION: budgets ====
-- ==== END SECTION: budgets ====

-- ==== BEGIN SECTION: OpenTelemetry ====
-- ==== END SECTION: OpenTelemetry ====

-- ==== BEGIN SECTION: privileges ====
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
-- ==== END SECTION: comments ====
