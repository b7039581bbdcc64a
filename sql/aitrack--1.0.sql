/* aitrack 1.0: the seed's tables, record_ai_call() and ai_usage_stats(). */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION aitrack" to load this file. \quit

--
-- ai_model: one row per (modelname, version) an application has called.
--
CREATE SEQUENCE @extschema@.ai_model_id_seq;

CREATE TABLE @extschema@.ai_model (
    id          bigint      NOT NULL DEFAULT pg_catalog.nextval('@extschema@.ai_model_id_seq'),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    modelname   text        NOT NULL,
    version     text        NOT NULL,
    extra       jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT ai_model_pkey PRIMARY KEY (id),
    CONSTRAINT ai_model_modelname_version_key UNIQUE (modelname, version),
    CONSTRAINT ai_model_modelname_check
        CHECK (pg_catalog.char_length(modelname) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.char_length(modelname) OPERATOR(pg_catalog.<=) 256),
    CONSTRAINT ai_model_version_check
        CHECK (pg_catalog.char_length(version) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.char_length(version) OPERATOR(pg_catalog.<=) 256),
    CONSTRAINT ai_model_extra_check
        CHECK (pg_catalog.jsonb_typeof(extra) OPERATOR(pg_catalog.=) 'object')
);
ALTER SEQUENCE @extschema@.ai_model_id_seq OWNED BY @extschema@.ai_model.id;

COMMENT ON TABLE @extschema@.ai_model IS 'AI models an application has called, one row per (modelname, version)';

--
-- ai_call: one row per call to a model.
--
CREATE SEQUENCE @extschema@.ai_call_id_seq;

CREATE TABLE @extschema@.ai_call (
    id                bigint      NOT NULL DEFAULT pg_catalog.nextval('@extschema@.ai_call_id_seq'),
    created_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    model_id          bigint      NOT NULL,
    prompt            text        NOT NULL,
    response          jsonb       NOT NULL,
    input_tokens      integer,
    reasoning_tokens  integer,
    output_tokens     integer,
    cost_usd          numeric,
    duration_ms       integer,
    call_type         text,
    status            text,
    user_id           uuid,
    extra             jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT ai_call_pkey PRIMARY KEY (id),
    CONSTRAINT ai_call_model_id_fkey FOREIGN KEY (model_id)
        REFERENCES @extschema@.ai_model (id) ON DELETE CASCADE,
    CONSTRAINT ai_call_input_tokens_check
        CHECK (input_tokens OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT ai_call_reasoning_tokens_check
        CHECK (reasoning_tokens OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT ai_call_output_tokens_check
        CHECK (output_tokens OPERATOR(pg_catalog.>=) 0),
    -- numeric admits NaN and +/-Infinity; money sums must not.
    CONSTRAINT ai_call_cost_usd_check
        CHECK (cost_usd OPERATOR(pg_catalog.>=) 0
               AND cost_usd OPERATOR(pg_catalog.<>) 'NaN'::pg_catalog.numeric
               AND cost_usd OPERATOR(pg_catalog.<>) 'Infinity'::pg_catalog.numeric),
    CONSTRAINT ai_call_duration_ms_check
        CHECK (duration_ms OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT ai_call_call_type_check
        CHECK (pg_catalog.char_length(call_type) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.char_length(call_type) OPERATOR(pg_catalog.<=) 256),
    CONSTRAINT ai_call_status_check
        CHECK (status OPERATOR(pg_catalog.=) ANY
               ('{success,error,timeout,cancelled,rate_limited,filtered}'::pg_catalog.text[])),
    CONSTRAINT ai_call_extra_check
        CHECK (pg_catalog.jsonb_typeof(extra) OPERATOR(pg_catalog.=) 'object')
);
ALTER SEQUENCE @extschema@.ai_call_id_seq OWNED BY @extschema@.ai_call.id;

COMMENT ON TABLE @extschema@.ai_call IS 'one row per call to an AI model: prompt, response, tokens, cost, latency, status, user';

-- The cascade delete of a model and model-filtered time ranges.
CREATE INDEX ai_call_model_id_created_at_idx
    ON @extschema@.ai_call (model_id, created_at);
-- Time windows of ai_usage_stats().
CREATE INDEX ai_call_created_at_idx
    ON @extschema@.ai_call (created_at);
-- "What did this user cause": per-user filters.
CREATE INDEX ai_call_user_id_created_at_idx
    ON @extschema@.ai_call (user_id, created_at) WHERE user_id IS NOT NULL;

--
-- updated_at follows every UPDATE, as the seed's BaseModel does.
--
CREATE FUNCTION @extschema@.ai_touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_touch_updated_at() FROM PUBLIC;

CREATE TRIGGER ai_model_touch_updated_at
    BEFORE UPDATE ON @extschema@.ai_model
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ai_touch_updated_at();
CREATE TRIGGER ai_call_touch_updated_at
    BEFORE UPDATE ON @extschema@.ai_call
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ai_touch_updated_at();

-- pg_dump keeps the rows and the sequence positions.
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_model', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_model_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_call', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_call_id_seq', '');

--
-- record_ai_call(): one call, explicit columns.
--
-- SECURITY DEFINER so that an application role needs EXECUTE on this
-- function and nothing else; the C code runs only its own fixed,
-- schema-qualified statements, so the caller's search_path cannot steer it.
--
CREATE FUNCTION @extschema@.record_ai_call(
    modelname         text,
    version           text,
    prompt            text,
    response          jsonb,
    input_tokens      integer     DEFAULT NULL,
    reasoning_tokens  integer     DEFAULT NULL,
    output_tokens     integer     DEFAULT NULL,
    cost_usd          numeric     DEFAULT NULL,
    duration_ms       integer     DEFAULT NULL,
    call_type         text        DEFAULT NULL,
    status            text        DEFAULT 'success',
    user_id           uuid        DEFAULT NULL,
    extra             jsonb       DEFAULT '{}')
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_1_0'
LANGUAGE C VOLATILE SECURITY DEFINER;

--
-- record_ai_call(): the seed's shape, metrics as one jsonb object.
--
CREATE FUNCTION @extschema@.record_ai_call(
    modelname  text,
    version    text,
    prompt     text,
    response   jsonb,
    metrics    jsonb,
    call_type  text DEFAULT NULL,
    user_id    uuid DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_1_0'
LANGUAGE C VOLATILE SECURITY DEFINER;

--
-- ai_usage_stats(): calls, errors, tokens, cost and latency, grouped.
--
-- SECURITY INVOKER: the caller reads only what its own privileges allow.
--
CREATE FUNCTION @extschema@.ai_usage_stats(
    since      timestamptz DEFAULT NULL,
    until      timestamptz DEFAULT NULL,
    group_by   text[]      DEFAULT '{model}',
    modelname  text        DEFAULT NULL,
    call_type  text        DEFAULT NULL,
    user_id    uuid        DEFAULT NULL)
RETURNS TABLE (
    bucket            timestamptz,
    modelname         text,
    version           text,
    call_type         text,
    status            text,
    user_id           uuid,
    calls             bigint,
    errors            bigint,
    input_tokens      bigint,
    reasoning_tokens  bigint,
    output_tokens     bigint,
    cost_usd          numeric,
    avg_duration_ms   double precision,
    p50_duration_ms   double precision,
    p95_duration_ms   double precision,
    p99_duration_ms   double precision,
    first_call        timestamptz,
    last_call         timestamptz)
AS 'MODULE_PATHNAME', 'ai_usage_stats_1_0'
LANGUAGE C STABLE;

-- Nothing is usable by PUBLIC by accident; README.md lists the grants an
-- application role and a reporting role need.
REVOKE ALL ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, jsonb, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid) FROM PUBLIC;
REVOKE ALL ON TABLE @extschema@.ai_model, @extschema@.ai_call FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.ai_model_id_seq, @extschema@.ai_call_id_seq FROM PUBLIC;
