/* aitrack 1.0 -> 1.1: prices, automatic cost, usage read from the response, repricing. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.1'" to load this file. \quit

--
-- Richer usage on ai_call.  Cache tokens are counted inside input_tokens and
-- reasoning tokens inside output_tokens, as the OpenTelemetry GenAI
-- conventions and OpenAI's usage object count them.
--
ALTER TABLE @extschema@.ai_call
    ADD COLUMN cache_read_input_tokens integer,
    ADD COLUMN cache_creation_input_tokens integer,
    ADD COLUMN time_to_first_token_ms integer,
    ADD COLUMN cost_source text,
    ADD CONSTRAINT ai_call_cache_read_input_tokens_check
        CHECK (cache_read_input_tokens OPERATOR(pg_catalog.>=) 0),
    ADD CONSTRAINT ai_call_cache_creation_input_tokens_check
        CHECK (cache_creation_input_tokens OPERATOR(pg_catalog.>=) 0),
    ADD CONSTRAINT ai_call_cache_within_input_check
        CHECK (COALESCE(cache_read_input_tokens, 0)::pg_catalog.int8
               OPERATOR(pg_catalog.+) COALESCE(cache_creation_input_tokens, 0)::pg_catalog.int8
               OPERATOR(pg_catalog.<=) input_tokens::pg_catalog.int8),
    ADD CONSTRAINT ai_call_time_to_first_token_ms_check
        CHECK (time_to_first_token_ms OPERATOR(pg_catalog.>=) 0),
    -- provided: given by the caller; computed: from ai_model_price; unknown:
    -- no price applied, and cost_usd is NULL (never a silent 0).  NULL: the
    -- row was written without record_ai_call() and did not say.
    ADD CONSTRAINT ai_call_cost_source_check
        CHECK (cost_source OPERATOR(pg_catalog.=) ANY ('{provided,computed,unknown}'::pg_catalog.text[])
               AND (cost_source OPERATOR(pg_catalog.=) 'unknown') OPERATOR(pg_catalog.=) (cost_usd IS NULL));

-- Calls recorded by 1.0 carried the caller's cost, or none.  The trigger
-- would stamp every row's updated_at; this is not an update of the calls.
ALTER TABLE @extschema@.ai_call DISABLE TRIGGER ai_call_touch_updated_at;
UPDATE @extschema@.ai_call
   SET cost_source = CASE WHEN cost_usd IS NULL THEN 'unknown' ELSE 'provided' END;
ALTER TABLE @extschema@.ai_call ENABLE TRIGGER ai_call_touch_updated_at;

--
-- ai_model_price: what a model costs per million tokens, over a time range.
--
CREATE SEQUENCE @extschema@.ai_model_price_id_seq;

CREATE TABLE @extschema@.ai_model_price (
    id                           bigint      NOT NULL DEFAULT pg_catalog.nextval('@extschema@.ai_model_price_id_seq'),
    created_at                   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at                   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- As providers name models: 'gpt-4o', 'claude-3-5-sonnet-20241022'.
    model                        text        NOT NULL,
    valid_from                   timestamptz NOT NULL DEFAULT '-infinity',
    valid_until                  timestamptz NOT NULL DEFAULT 'infinity',
    input_usd_per_mtok           numeric     NOT NULL,
    output_usd_per_mtok          numeric     NOT NULL,
    -- NULL: these tokens cost what input (cache) or output (reasoning) costs.
    cache_read_usd_per_mtok      numeric,
    cache_creation_usd_per_mtok  numeric,
    reasoning_usd_per_mtok       numeric,
    source                       text,
    extra                        jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT ai_model_price_pkey PRIMARY KEY (id),
    CONSTRAINT ai_model_price_model_check
        CHECK (pg_catalog.char_length(model) OPERATOR(pg_catalog.>=) 1
               AND pg_catalog.char_length(model) OPERATOR(pg_catalog.<=) 256),
    CONSTRAINT ai_model_price_valid_check
        CHECK (valid_from OPERATOR(pg_catalog.<) valid_until),
    CONSTRAINT ai_model_price_rates_check
        CHECK (input_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND input_usd_per_mtok OPERATOR(pg_catalog.<) 'Infinity'::pg_catalog.numeric
               AND output_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND output_usd_per_mtok OPERATOR(pg_catalog.<) 'Infinity'::pg_catalog.numeric
               AND cache_read_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND cache_read_usd_per_mtok OPERATOR(pg_catalog.<) 'Infinity'::pg_catalog.numeric
               AND cache_creation_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND cache_creation_usd_per_mtok OPERATOR(pg_catalog.<) 'Infinity'::pg_catalog.numeric
               AND reasoning_usd_per_mtok OPERATOR(pg_catalog.>=) 0
               AND reasoning_usd_per_mtok OPERATOR(pg_catalog.<) 'Infinity'::pg_catalog.numeric),
    CONSTRAINT ai_model_price_extra_check
        CHECK (pg_catalog.jsonb_typeof(extra) OPERATOR(pg_catalog.=) 'object'),
    -- Never two prices for one model at one moment (btree_gist gives "=" to gist).
    CONSTRAINT ai_model_price_no_overlap
        EXCLUDE USING gist (model WITH OPERATOR(pg_catalog.=),
                            (pg_catalog.tstzrange(valid_from, valid_until)) WITH OPERATOR(pg_catalog.&&))
);
ALTER SEQUENCE @extschema@.ai_model_price_id_seq OWNED BY @extschema@.ai_model_price.id;

COMMENT ON TABLE @extschema@.ai_model_price IS 'USD per million tokens of a model, valid from valid_from (inclusive) until valid_until (exclusive)';

-- The lookup of the price in force: model, then time.
CREATE INDEX ai_model_price_model_valid_from_idx
    ON @extschema@.ai_model_price (model, valid_from);

CREATE TRIGGER ai_model_price_touch_updated_at
    BEFORE UPDATE ON @extschema@.ai_model_price
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ai_touch_updated_at();

SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_model_price', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ai_model_price_id_seq', '');

REVOKE ALL ON TABLE @extschema@.ai_model_price FROM PUBLIC;
REVOKE ALL ON SEQUENCE @extschema@.ai_model_price_id_seq FROM PUBLIC;

--
-- ai_price_at(): the price in force for a model at a moment.  A price named
-- modelname || '-' || version wins over one named modelname.
--
CREATE FUNCTION @extschema@.ai_price_at(modelname text, version text, at timestamptz)
RETURNS @extschema@.ai_model_price
AS 'MODULE_PATHNAME', 'ai_price_at_1_1'
LANGUAGE C STABLE;

--
-- ai_cost(): what a call with these tokens costs at this price.  NULL when
-- the price is NULL, input or output tokens are unknown, or the counts
-- contradict each other (cache tokens beyond input, reasoning beyond output).
--
CREATE FUNCTION @extschema@.ai_cost(
    price                        @extschema@.ai_model_price,
    input_tokens                 integer,
    cache_read_input_tokens      integer,
    cache_creation_input_tokens  integer,
    output_tokens                integer,
    reasoning_tokens             integer)
RETURNS numeric
AS 'MODULE_PATHNAME', 'ai_cost_1_1'
LANGUAGE C IMMUTABLE;

--
-- record_ai_call(), explicit columns: the 1.0 arguments, in the same order,
-- then the new ones.  The 1.0 function is replaced rather than overloaded
-- (an overload would make every short call ambiguous); its EXECUTE grants
-- carry over to the new one.
--
CREATE FUNCTION @extschema@.record_ai_call(
    modelname                    text,
    version                      text,
    prompt                       text,
    response                     jsonb,
    input_tokens                 integer     DEFAULT NULL,
    reasoning_tokens             integer     DEFAULT NULL,
    output_tokens                integer     DEFAULT NULL,
    cost_usd                     numeric     DEFAULT NULL,
    duration_ms                  integer     DEFAULT NULL,
    call_type                    text        DEFAULT NULL,
    status                       text        DEFAULT 'success',
    user_id                      uuid        DEFAULT NULL,
    extra                        jsonb       DEFAULT '{}',
    cache_read_input_tokens      integer     DEFAULT NULL,
    cache_creation_input_tokens  integer     DEFAULT NULL,
    time_to_first_token_ms       integer     DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_1_1'
LANGUAGE C VOLATILE SECURITY DEFINER;
REVOKE ALL ON FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb, integer, integer, integer) FROM PUBLIC;

-- Carry the EXECUTE grants of the 1.0 function over by copying its ACL.  A
-- GRANT here would be recorded in pg_init_privs as the extension's own
-- initial privilege, which pg_dump leaves out: the grant would be lost on
-- the next dump and restore.
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT proacl FROM pg_catalog.pg_proc
                  WHERE oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb, integer, integer, integer)'::pg_catalog.regprocedure;

DROP FUNCTION @extschema@.record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric, integer, text, text, uuid, jsonb);

-- The seed's shape keeps its signature (and so its grants); metrics gains
-- the keys cache_read_input_tokens, cache_creation_input_tokens and
-- time_to_first_token_ms.
CREATE OR REPLACE FUNCTION @extschema@.record_ai_call(
    modelname  text,
    version    text,
    prompt     text,
    response   jsonb,
    metrics    jsonb,
    call_type  text DEFAULT NULL,
    user_id    uuid DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'record_ai_call_metrics_1_1'
LANGUAGE C VOLATILE SECURITY DEFINER;

--
-- ai_usage_stats(): the 1.0 columns, in the same order, then the cache token
-- sums, the number of calls without a cost, and the mean time to first
-- token.  A new result type needs a new function; grants carry over.
--
CREATE FUNCTION @extschema@.ai_usage_stats_1_1_new(
    since      timestamptz DEFAULT NULL,
    until      timestamptz DEFAULT NULL,
    group_by   text[]      DEFAULT '{model}',
    modelname  text        DEFAULT NULL,
    call_type  text        DEFAULT NULL,
    user_id    uuid        DEFAULT NULL)
RETURNS TABLE (
    bucket                       timestamptz,
    modelname                    text,
    version                      text,
    call_type                    text,
    status                       text,
    user_id                      uuid,
    calls                        bigint,
    errors                       bigint,
    input_tokens                 bigint,
    reasoning_tokens             bigint,
    output_tokens                bigint,
    cost_usd                     numeric,
    avg_duration_ms              double precision,
    p50_duration_ms              double precision,
    p95_duration_ms              double precision,
    p99_duration_ms              double precision,
    first_call                   timestamptz,
    last_call                    timestamptz,
    cache_read_input_tokens      bigint,
    cache_creation_input_tokens  bigint,
    unpriced_calls               bigint,
    avg_time_to_first_token_ms   double precision)
AS 'MODULE_PATHNAME', 'ai_usage_stats_1_1'
LANGUAGE C STABLE;
REVOKE ALL ON FUNCTION @extschema@.ai_usage_stats_1_1_new(timestamptz, timestamptz, text[], text, text, uuid) FROM PUBLIC;

-- Grants carry over as for record_ai_call above.
UPDATE pg_catalog.pg_proc
   SET proacl = (SELECT proacl FROM pg_catalog.pg_proc
                  WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid)'::pg_catalog.regprocedure)
 WHERE oid OPERATOR(pg_catalog.=) '@extschema@.ai_usage_stats_1_1_new(timestamptz, timestamptz, text[], text, text, uuid)'::pg_catalog.regprocedure;

DROP FUNCTION @extschema@.ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid);
ALTER FUNCTION @extschema@.ai_usage_stats_1_1_new(timestamptz, timestamptz, text[], text, text, uuid)
    RENAME TO ai_usage_stats;

--
-- ai_load_prices(): load a price map in the key names of LiteLLM's
-- model_prices_and_context_window.json (USD per token).  Per model: a price
-- equal to the one in force is left alone; a different one closes the price
-- in force at valid_from and starts the new one there; a model without any
-- price gets one valid from valid_from, or from the beginning of time when
-- valid_from is NULL (so calls recorded before the first load can be
-- repriced).  Entries without both input and output per-token prices (image,
-- audio or embedding-only models, LiteLLM's sample_spec) are skipped.
--
CREATE FUNCTION @extschema@.ai_load_prices(
    prices      jsonb,
    valid_from  timestamptz DEFAULT NULL,
    source      text        DEFAULT 'litellm')
RETURNS TABLE (model text, action text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entry        record;
    starts       timestamptz := COALESCE(ai_load_prices.valid_from, pg_catalog.now());
    current_row  @extschema@.ai_model_price;
    first_valid  timestamptz;
    new_rates    numeric[];
    per_mtok     CONSTANT numeric := 1000000;
BEGIN
    IF prices IS NULL OR pg_catalog.jsonb_typeof(prices) <> 'object' THEN
        RAISE EXCEPTION 'prices must be a JSON object mapping model names to prices'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the contents of LiteLLM''s model_prices_and_context_window.json, or an object in its format.';
    END IF;

    FOR entry IN SELECT e.key, e.value FROM pg_catalog.jsonb_each(prices) AS e ORDER BY e.key LOOP
        model := entry.key;
        IF pg_catalog.jsonb_typeof(entry.value) <> 'object'
           OR pg_catalog.jsonb_typeof(entry.value -> 'input_cost_per_token') IS DISTINCT FROM 'number'
           OR pg_catalog.jsonb_typeof(entry.value -> 'output_cost_per_token') IS DISTINCT FROM 'number'
           OR entry.key = 'sample_spec' THEN
            action := 'skipped';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF pg_catalog.char_length(entry.key) > 256 THEN
            RAISE EXCEPTION 'model name "%..." is too long', pg_catalog.left(entry.key, 40)
                USING ERRCODE = 'string_data_right_truncation',
                      DETAIL = pg_catalog.format('It has %s characters; the limit is 256.', pg_catalog.char_length(entry.key));
        END IF;

        -- Optional rates must be numbers when present.
        IF EXISTS (SELECT FROM pg_catalog.unnest(ARRAY['cache_read_input_token_cost',
                                                       'cache_creation_input_token_cost',
                                                       'output_cost_per_reasoning_token']) AS k
                    WHERE entry.value ? k
                      AND pg_catalog.jsonb_typeof(entry.value -> k) NOT IN ('number', 'null')) THEN
            RAISE EXCEPTION 'price of model "%" has a rate that is not a number', entry.key
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = pg_catalog.format('Got %s.', entry.value);
        END IF;

        new_rates := ARRAY[pg_catalog.trim_scale((entry.value ->> 'input_cost_per_token')::numeric * per_mtok),
                           pg_catalog.trim_scale((entry.value ->> 'output_cost_per_token')::numeric * per_mtok),
                           pg_catalog.trim_scale((entry.value ->> 'cache_read_input_token_cost')::numeric * per_mtok),
                           pg_catalog.trim_scale((entry.value ->> 'cache_creation_input_token_cost')::numeric * per_mtok),
                           pg_catalog.trim_scale((entry.value ->> 'output_cost_per_reasoning_token')::numeric * per_mtok)];
        IF EXISTS (SELECT FROM pg_catalog.unnest(new_rates) AS r WHERE r < 0) THEN
            RAISE EXCEPTION 'price of model "%" has a negative rate', entry.key
                USING ERRCODE = 'numeric_value_out_of_range',
                      DETAIL = pg_catalog.format('Got %s.', entry.value);
        END IF;

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
        ELSIF ARRAY[current_row.input_usd_per_mtok, current_row.output_usd_per_mtok,
                    current_row.cache_read_usd_per_mtok, current_row.cache_creation_usd_per_mtok,
                    current_row.reasoning_usd_per_mtok]
              IS NOT DISTINCT FROM new_rates THEN
            action := 'unchanged';
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
                       (model, valid_from, input_usd_per_mtok, output_usd_per_mtok,
                        cache_read_usd_per_mtok, cache_creation_usd_per_mtok,
                        reasoning_usd_per_mtok, source)
                VALUES (entry.key, first_valid, new_rates[1], new_rates[2], new_rates[3],
                        new_rates[4], new_rates[5], ai_load_prices.source);
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
REVOKE ALL ON FUNCTION @extschema@.ai_load_prices(jsonb, timestamptz, text) FROM PUBLIC;

--
-- ai_reprice(): recompute the cost of calls whose cost was computed, or
-- unknown, from the prices in force at each call's time; never touches a
-- provided cost.  dry_run (the default) reports without writing.
--
CREATE FUNCTION @extschema@.ai_reprice(
    since    timestamptz,
    until    timestamptz,
    dry_run  boolean DEFAULT true)
RETURNS TABLE (calls_checked bigint, calls_changed bigint, newly_priced bigint,
               newly_unpriced bigint, cost_before_usd numeric, cost_after_usd numeric,
               change_usd numeric)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF dry_run IS NULL THEN
        RAISE EXCEPTION 'dry_run must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass true to see what would change, false to change it.';
    END IF;

    RETURN QUERY
    WITH repriced AS MATERIALIZED (
        SELECT c.id, c.cost_usd AS old_cost, c.cost_source AS old_source,
               @extschema@.ai_cost(@extschema@.ai_price_at(m.modelname, m.version, c.created_at),
                                   c.input_tokens, c.cache_read_input_tokens,
                                   c.cache_creation_input_tokens, c.output_tokens,
                                   c.reasoning_tokens) AS new_cost
          FROM @extschema@.ai_call c
          JOIN @extschema@.ai_model m ON m.id = c.model_id
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
END;
$$;
REVOKE ALL ON FUNCTION @extschema@.ai_reprice(timestamptz, timestamptz, boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION @extschema@.ai_price_at(text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ai_cost(@extschema@.ai_model_price, integer, integer, integer, integer, integer) FROM PUBLIC;
