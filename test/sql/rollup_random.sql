--
-- rollup_random: a randomized test of the 1.2 rollups and (1.6) their daily
-- level, emptied and filled back step by step between the operations.  A fixed seed drives
-- a few thousand operations on ai_call: record_ai_call() (both forms) and
-- record_ai_calls() (with back-dated created_at over ten days), plain
-- INSERT ... SELECT, UPDATEs of tokens, status, cost, created_at, user_id,
-- model_id and prompt, DELETEs (single, ranges, by predicate, and a
-- model's cascade), subtransactions that write and then roll back (some
-- with a compaction inside), ai_rollup_compact() now and then, and, at top
-- level between the rounds, ai_purge_calls() and ai_purge_content().
--
-- Left out of the runs on assert-enabled servers (AITRACK_CASSERT_SKIP in
-- scripts/cluster.sh): its compactions inside subtransactions that roll
-- back are the pattern that trips PostgreSQL's own heap_update assertion.
--
-- After every step (60 operations) ai_usage_stats() is compared with the
-- same aggregates written by hand over ai_call plus the calls purged so far
-- (rr_gone: a copy of what each purge was about to delete, so purged calls
-- keep counting, as they must): calls, errors, token sums, cost,
-- unpriced_calls and both averages exactly; p50/p95/p99 within 1% relative,
-- exactly where the values they fall between are below 100 ms; first_call
-- and last_call exactly at the steps that compact first (they may lag after
-- deletes and updates until compaction).  Several groupings, time zones,
-- filters and windows are checked at each step, and ai_usage_purged itself
-- against rr_gone.  Each step prints one row with its count of mismatches,
-- which must be 0; a negative control at the end breaks the rollups by hand
-- and shows the same check then finds mismatches.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';
SET client_min_messages = warning;

-- Prices: rr-a changes price on 2025-03-07 (so a back-dated call costs what
-- its own time's price says); rr-c has one price; rr-b and rr-tmp none.
INSERT INTO ai_model_price (model, valid_from, valid_until, input_usd_per_mtok, output_usd_per_mtok,
                            cache_read_usd_per_mtok)
VALUES ('rr-a', '-infinity', '2025-03-07 00:00+00', 2.5, 10, 1.25),
       ('rr-a', '2025-03-07 00:00+00', 'infinity', 3, 12, NULL),
       ('rr-c', '-infinity', 'infinity', 0.15, 0.6, 0.075);

-- The calls purged so far, as they were just before the purge.
CREATE TABLE rr_gone (LIKE ai_call);
-- How often each kind of operation ran (committed ones only).
CREATE TABLE rr_ops (kind text PRIMARY KEY, n int NOT NULL DEFAULT 0);
-- Result rows compared, over all checks.
CREATE TABLE rr_compared (n bigint NOT NULL);
INSERT INTO rr_compared VALUES (0);

--
-- Random helpers.  random() is never evaluated once per row of a
-- multi-row statement, so the sequence of operations depends on the seed
-- alone, never on the physical order of rows.
--
CREATE FUNCTION rr_int(lo int, hi int) RETURNS int LANGUAGE sql VOLATILE
AS $$ SELECT lo + floor(random() * (hi - lo + 1))::int $$;

CREATE FUNCTION rr_pick(a text[]) RETURNS text LANGUAGE sql VOLATILE
AS $$ SELECT a[rr_int(1, cardinality(a))] $$;

CREATE FUNCTION rr_users() RETURNS text[] LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY[NULL, '00000000-0000-0000-0000-0000000000a1', '00000000-0000-0000-0000-0000000000a2',
                   '00000000-0000-0000-0000-0000000000a3', '00000000-0000-0000-0000-0000000000a4'] $$;

CREATE FUNCTION rr_statuses() RETURNS text[] LANGUAGE sql IMMUTABLE
AS $$ SELECT ARRAY['success', 'success', 'success', 'error', 'timeout', 'rate_limited',
                   'filtered', 'cancelled'] $$;

-- A moment in the ten days from 2025-03-03 (across the US DST change of
-- 2025-03-09); one in ten exactly on an hour.
CREATE FUNCTION rr_time() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    t timestamptz := timestamptz '2025-03-03 00:00+00' + random() * interval '10 days';
BEGIN
    IF random() < 0.1 THEN
        t := date_trunc('hour', t);
    END IF;
    RETURN t;
END $$;

-- Latency: some unknown, many below 100 ms (kept exactly by the
-- histogram), most above, a few very long.
CREATE FUNCTION rr_duration() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r float8 := random();
BEGIN
    RETURN CASE WHEN r < 0.1 THEN NULL
                WHEN r < 0.45 THEN rr_int(0, 99)
                WHEN r < 0.9 THEN rr_int(100, 5000)
                ELSE rr_int(5001, 600000) END;
END $$;

-- One call as a record_ai_calls() element.  with_time: usually with a
-- created_at in the ten days, else now().
CREATE FUNCTION rr_call(with_time boolean) RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    m int := rr_int(1, 5);
    j jsonb;
    inp int; outp int; cr int; cc int; rs int; dur int; ttft int;
    cost numeric;
BEGIN
    j := jsonb_build_object('modelname', (ARRAY['rr-a', 'rr-a', 'rr-b', 'rr-c', 'rr-tmp'])[m],
                            'version', (ARRAY['1', '2', 'x', '1', '1'])[m],
                            'prompt', 'prompt ' || rr_int(1, 1000000));
    IF random() < 0.15 THEN
        -- No counts given: they come from the provider's usage object.
        j := j || jsonb_build_object('response', jsonb_build_object('usage',
                      jsonb_build_object('prompt_tokens', rr_int(0, 5000),
                                         'completion_tokens', rr_int(0, 2000))));
    ELSE
        j := j || jsonb_build_object('response', jsonb_build_object('text', 'ok'));
        IF random() < 0.9 THEN inp := rr_int(0, 20000); END IF;
        IF random() < 0.9 THEN outp := rr_int(0, 4000); END IF;
        IF inp IS NOT NULL AND random() < 0.5 THEN cr := rr_int(0, inp / 2); END IF;
        IF inp IS NOT NULL AND random() < 0.3 THEN cc := rr_int(0, inp / 3); END IF;
        IF outp IS NOT NULL AND random() < 0.4 THEN rs := rr_int(0, outp); END IF;
        j := j || jsonb_build_object('input_tokens', inp, 'output_tokens', outp,
                                     'cache_read_input_tokens', cr,
                                     'cache_creation_input_tokens', cc,
                                     'reasoning_tokens', rs);
    END IF;
    IF random() < 0.3 THEN
        cost := round(random()::numeric * 0.5, 7);
    END IF;
    dur := rr_duration();
    IF random() < 0.5 THEN
        ttft := least(rr_int(0, 800), dur);
    END IF;
    j := j || jsonb_build_object('cost_usd', cost, 'duration_ms', dur,
                                 'time_to_first_token_ms', ttft,
                                 'call_type', rr_pick(ARRAY[NULL, 'chat', 'embed', 'tool']),
                                 'status', rr_pick(rr_statuses()),
                                 'user_id', rr_pick(rr_users()));
    IF with_time AND random() < 0.9 THEN
        j := j || jsonb_build_object('created_at', rr_time());
    END IF;
    RETURN j;
END $$;

-- A live call, picked at random by id (NULL if there is none).
CREATE FUNCTION rr_target() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    top bigint := (SELECT max(id) FROM ai_call);
    x bigint := rr_int(1, greatest(coalesce(top, 1), 1)::int);
    found bigint;
BEGIN
    SELECT id INTO found FROM ai_call WHERE id >= x ORDER BY id LIMIT 1;
    RETURN found;
END $$;

CREATE FUNCTION rr_count(kind text) RETURNS void LANGUAGE sql
AS $$ INSERT INTO rr_ops VALUES (kind, 1) ON CONFLICT (kind) DO UPDATE SET n = rr_ops.n + 1 $$;

--
-- One random operation.  nested: inside a subtransaction that will roll
-- back (no further nesting there).
--
CREATE FUNCTION rr_op(nested boolean) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r float8 := random();
    j jsonb;
    target bigint;
    x bigint;
    k int;
    v text;
    u text;
    n numeric;
    t timestamptz;
    new_id bigint;
BEGIN
    -- 1.6: the daily level emptied as an update to 1.6 leaves it (to be
    -- filled from the hourly rows), and filled back a few days at a time,
    -- in between the other operations.
    IF r < 0.01 THEN
        PERFORM rr_count('daily level reset');
        UPDATE ai_upkeep_state SET daily_from = 'infinity';
        DELETE FROM ai_usage_rollup_daily;
        RETURN;
    ELSIF r < 0.05 THEN
        PERFORM rr_count('daily backfill step');
        PERFORM ai_rollup_backfill_daily(rr_int(1, 3));
        RETURN;
    END IF;
    r := random();
    IF r < 0.22 THEN
        -- record_ai_call(), explicit or metrics form; often back-dated by
        -- an UPDATE straight after.
        j := rr_call(false);
        IF random() < 0.7 THEN
            PERFORM rr_count('record_ai_call');
            new_id := record_ai_call(
                modelname => j->>'modelname', version => j->>'version',
                prompt => j->>'prompt', response => j->'response',
                input_tokens => (j->>'input_tokens')::int,
                reasoning_tokens => (j->>'reasoning_tokens')::int,
                output_tokens => (j->>'output_tokens')::int,
                cost_usd => (j->>'cost_usd')::numeric,
                duration_ms => (j->>'duration_ms')::int,
                call_type => j->>'call_type', status => j->>'status',
                user_id => (j->>'user_id')::uuid, extra => NULL,
                cache_read_input_tokens => (j->>'cache_read_input_tokens')::int,
                cache_creation_input_tokens => (j->>'cache_creation_input_tokens')::int,
                time_to_first_token_ms => (j->>'time_to_first_token_ms')::int);
        ELSE
            PERFORM rr_count('record_ai_call metrics');
            new_id := record_ai_call(j->>'modelname', j->>'version', j->>'prompt', j->'response',
                                 j - '{modelname,version,prompt,response,call_type,user_id}'::text[],
                                 j->>'call_type', (j->>'user_id')::uuid);
        END IF;
        IF random() < 0.6 THEN
            t := rr_time();
            UPDATE ai_call SET created_at = t WHERE ai_call.id = new_id;
        END IF;
    ELSIF r < 0.38 THEN
        -- record_ai_calls(): a batch of 1 to 20, mostly back-dated.
        PERFORM rr_count('record_ai_calls');
        k := rr_int(1, 20);
        j := '[]';
        FOR i IN 1..k LOOP
            j := j || jsonb_build_array(rr_call(true));
        END LOOP;
        PERFORM record_ai_calls(j);
    ELSIF r < 0.40 THEN
        -- A batch with a bad last element writes nothing.
        PERFORM rr_count('record_ai_calls refused');
        j := jsonb_build_array(rr_call(true), rr_call(true), '{"modelname": "rr-a"}'::jsonb);
        BEGIN
            PERFORM record_ai_calls(j);
            RAISE EXCEPTION 'record_ai_calls accepted a call without version';
        EXCEPTION WHEN null_value_not_allowed THEN
            NULL;
        END;
    ELSIF r < 0.42 THEN
        -- Plain INSERT ... SELECT: copies of a few calls, a day later.
        PERFORM rr_count('insert select');
        x := rr_target();
        k := rr_int(1, 15);
        INSERT INTO ai_call (created_at, model_id, prompt, response, input_tokens, reasoning_tokens,
                             output_tokens, cost_usd, duration_ms, call_type, status, user_id, extra,
                             cache_read_input_tokens, cache_creation_input_tokens,
                             time_to_first_token_ms, cost_source)
        SELECT c.created_at + interval '1 day', c.model_id, c.prompt, c.response, c.input_tokens,
               c.reasoning_tokens, c.output_tokens, c.cost_usd, c.duration_ms, c.call_type, c.status,
               c.user_id, c.extra, c.cache_read_input_tokens, c.cache_creation_input_tokens,
               c.time_to_first_token_ms, c.cost_source
          FROM ai_call c WHERE c.id BETWEEN x AND x + k ORDER BY c.id;
    ELSIF r < 0.58 THEN
        -- UPDATE one call.
        target := rr_target();
        k := rr_int(1, 8);
        PERFORM rr_count('update one');
        IF k = 1 THEN
            v := rr_pick(rr_statuses());
            UPDATE ai_call SET status = v WHERE ai_call.id = target;
        ELSIF k = 2 THEN
            t := rr_time();
            UPDATE ai_call SET created_at = t WHERE ai_call.id = target;
        ELSIF k = 3 THEN
            u := rr_pick(rr_users());
            UPDATE ai_call SET user_id = u::uuid WHERE ai_call.id = target;
        ELSIF k = 4 THEN
            IF random() < 0.3 THEN n := NULL; ELSE n := round(random()::numeric, 6); END IF;
            UPDATE ai_call SET cost_usd = n,
                               cost_source = CASE WHEN n IS NULL THEN 'unknown' ELSE 'provided' END
             WHERE ai_call.id = target;
        ELSIF k = 5 THEN
            -- Token counts, kept within the rules (cache within input,
            -- reasoning within output), sometimes unknown.
            x := rr_int(0, 3000);
            IF random() < 0.15 THEN
                UPDATE ai_call SET input_tokens = NULL, cache_read_input_tokens = NULL,
                                   cache_creation_input_tokens = NULL
                 WHERE ai_call.id = target;
            ELSE
                UPDATE ai_call SET input_tokens = coalesce(cache_read_input_tokens, 0)
                                                  + coalesce(cache_creation_input_tokens, 0) + x::int,
                                   output_tokens = coalesce(reasoning_tokens, 0) + (x / 3)::int
                 WHERE ai_call.id = target;
            END IF;
        ELSIF k = 6 THEN
            x := rr_duration();
            UPDATE ai_call SET duration_ms = x::int,
                               time_to_first_token_ms = least(time_to_first_token_ms, x::int)
             WHERE ai_call.id = target;
        ELSIF k = 7 THEN
            v := rr_pick(ARRAY[NULL, 'chat', 'embed', 'tool']);
            UPDATE ai_call SET call_type = v WHERE ai_call.id = target;
        ELSE
            -- No number changes.
            UPDATE ai_call SET prompt = prompt || '.' WHERE ai_call.id = target;
        END IF;
    ELSIF r < 0.66 THEN
        -- UPDATE many calls at once.
        x := rr_target();
        k := rr_int(1, 8);
        PERFORM rr_count('update many');
        IF k = 1 THEN
            v := rr_pick(rr_statuses());
            UPDATE ai_call SET status = v WHERE ai_call.id BETWEEN x AND x + 40;
        ELSIF k = 2 THEN
            -- Move a user's day by a few hours (some leave the ten days).
            t := date_trunc('day', rr_time());
            u := rr_pick(rr_users());
            k := rr_int(-30, 30);
            UPDATE ai_call SET created_at = created_at + k * interval '1 hour'
             WHERE user_id IS NOT DISTINCT FROM u::uuid
               AND created_at >= t AND created_at < t + interval '1 day';
        ELSIF k = 3 THEN
            u := rr_pick(rr_users());
            UPDATE ai_call SET user_id = u::uuid WHERE ai_call.id BETWEEN x AND x + 25 AND ai_call.id % 2 = 0;
        ELSIF k = 4 THEN
            k := rr_int(0, 4);
            UPDATE ai_call SET output_tokens = output_tokens + 7, cost_usd = cost_usd * 2
             WHERE ai_call.id % 5 = k AND ai_call.id BETWEEN x AND x + 100;
        ELSIF k = 5 THEN
            -- Move calls to another model.
            v := rr_pick(ARRAY['1', '2']);
            UPDATE ai_call c SET model_id = m.id
              FROM ai_model m
             WHERE m.modelname = 'rr-a' AND m.version = v AND c.id BETWEEN x AND x + 12;
        ELSIF k = 6 THEN
            UPDATE ai_call SET duration_ms = NULL WHERE ai_call.id BETWEEN x AND x + 5;
        ELSIF k = 7 THEN
            UPDATE ai_call SET cost_usd = NULL, cost_source = 'unknown'
             WHERE ai_call.id BETWEEN x AND x + 10 AND cost_source = 'computed';
        ELSE
            UPDATE ai_call SET prompt = '', response = 'null' WHERE ai_call.id BETWEEN x AND x + 30;
        END IF;
    ELSIF r < 0.78 THEN
        -- DELETE one call.
        PERFORM rr_count('delete one');
        target := rr_target();
        DELETE FROM ai_call WHERE ai_call.id = target;
    ELSIF r < 0.84 THEN
        -- DELETE several.
        PERFORM rr_count('delete many');
        x := rr_target();
        IF random() < 0.5 THEN
            k := rr_int(1, 12);
            DELETE FROM ai_call WHERE ai_call.id BETWEEN x AND x + k;
        ELSE
            v := rr_pick(rr_statuses());
            u := rr_pick(rr_users());
            DELETE FROM ai_call WHERE status = v AND user_id IS NOT DISTINCT FROM u::uuid
                                  AND ai_call.id BETWEEN x AND x + 300;
        END IF;
    ELSIF r < 0.86 THEN
        -- Delete a model: its calls go by ON DELETE CASCADE.
        PERFORM rr_count('delete model (cascade)');
        IF random() < 0.8 THEN
            DELETE FROM ai_model WHERE modelname = 'rr-tmp';
        ELSE
            DELETE FROM ai_model WHERE modelname = 'rr-c';
        END IF;
    ELSIF r < 0.89 THEN
        PERFORM rr_count('compact');
        PERFORM ai_rollup_compact();
    ELSIF NOT nested THEN
        -- Write, then roll the subtransaction back.
        k := rr_int(1, 4);
        BEGIN
            FOR i IN 1..k LOOP
                PERFORM rr_op(true);
            END LOOP;
            IF random() < 0.3 THEN
                PERFORM ai_rollup_compact();
            END IF;
            RAISE EXCEPTION 'roll back' USING ERRCODE = 'RRBAK';
        EXCEPTION WHEN SQLSTATE 'RRBAK' THEN
            NULL;
        END;
        PERFORM rr_count('rolled back');
    ELSE
        PERFORM rr_count('nested record_ai_calls');
        PERFORM record_ai_calls(jsonb_build_array(rr_call(true), rr_call(true)));
    END IF;
END $$;

--
-- The hand-written aggregates: ai_usage_stats()'s columns over ai_call
-- plus rr_gone, and per group the sorted durations (for the exactness
-- rule of the percentiles).
--
CREATE FUNCTION rr_ref(since timestamptz, until timestamptz, dims text[], f_model text,
                       f_type text, f_user uuid, tz text)
RETURNS TABLE (bucket timestamptz, modelname text, version text, call_type text, status text,
               user_id uuid, calls bigint, errors bigint, input_tokens bigint,
               reasoning_tokens bigint, output_tokens bigint, cost_usd numeric,
               avg_duration_ms float8, pct float8[], first_call timestamptz,
               last_call timestamptz, cache_read_input_tokens bigint,
               cache_creation_input_tokens bigint, unpriced_calls bigint,
               avg_time_to_first_token_ms float8, durations int[])
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN 'hour' = ANY (dims) THEN date_trunc('hour', c.created_at, tz)
                WHEN 'day' = ANY (dims) THEN date_trunc('day', c.created_at, tz)
                WHEN 'week' = ANY (dims) THEN date_trunc('week', c.created_at, tz)
                WHEN 'month' = ANY (dims) THEN date_trunc('month', c.created_at, tz) END,
           CASE WHEN dims && '{model,modelname}' THEN m.modelname END,
           CASE WHEN 'model' = ANY (dims) THEN m.version END,
           CASE WHEN 'call_type' = ANY (dims) THEN c.call_type END,
           CASE WHEN 'status' = ANY (dims) THEN c.status END,
           CASE WHEN 'user' = ANY (dims) THEN c.user_id END,
           count(*),
           count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success'),
           sum(c.input_tokens), sum(c.reasoning_tokens), sum(c.output_tokens), sum(c.cost_usd),
           avg(c.duration_ms)::float8,
           percentile_cont('{0.5,0.95,0.99}'::float8[]) WITHIN GROUP (ORDER BY c.duration_ms),
           min(c.created_at), max(c.created_at),
           sum(c.cache_read_input_tokens), sum(c.cache_creation_input_tokens),
           count(*) FILTER (WHERE c.cost_usd IS NULL),
           avg(c.time_to_first_token_ms)::float8,
           array_agg(c.duration_ms ORDER BY c.duration_ms) FILTER (WHERE c.duration_ms IS NOT NULL)
      FROM (SELECT * FROM ai_call UNION ALL SELECT * FROM rr_gone) c
      JOIN ai_model m ON m.id = c.model_id
     WHERE (since IS NULL OR c.created_at >= since)
       AND (until IS NULL OR c.created_at < until)
       AND (f_model IS NULL OR m.modelname = f_model)
       AND (f_type IS NULL OR c.call_type = f_type)
       AND (f_user IS NULL OR c.user_id = f_user)
     GROUP BY 1, 2, 3, 4, 5, 6
$$;

-- A percentile from the histogram against percentile_cont: within 1%, and
-- exact when the two values it lies between are below 100 ms.
CREATE FUNCTION rr_close(got float8, want float8, p float8, durations int[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN got IS NULL OR want IS NULL THEN got IS NULL AND want IS NULL
                WHEN durations[ceil(p * (cardinality(durations) - 1))::int + 1] < 100
                    THEN abs(got - want) <= 1e-9
                ELSE abs(got - want) < 0.01 * want + 1e-9 END
$$;

-- Mismatched rows between ai_usage_stats() and rr_ref() for one question.
CREATE FUNCTION rr_compare(since timestamptz, until timestamptz, dims text[], f_model text,
                           f_type text, f_user uuid, tz text, with_times boolean)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
    seen bigint;
BEGIN
    -- (totals over nothing: one row of zeros and NULLs, which rr_ref()
    -- leaves out)
    WITH s AS (SELECT ROW(x.bucket, x.modelname, x.version, x.call_type, x.status, x.user_id)::text AS k, x.*
                 FROM ai_usage_stats(since, until, dims, f_model, f_type, f_user, tz) x
                WHERE NOT (cardinality(dims) = 0 AND x.calls = 0 AND x.errors = 0 AND x.unpriced_calls = 0
                           AND num_nulls(x.input_tokens, x.reasoning_tokens, x.output_tokens, x.cost_usd,
                                         x.avg_duration_ms, x.p50_duration_ms, x.p95_duration_ms,
                                         x.p99_duration_ms, x.first_call, x.last_call,
                                         x.cache_read_input_tokens, x.cache_creation_input_tokens,
                                         x.avg_time_to_first_token_ms) = 13)),
         r AS (SELECT ROW(y.bucket, y.modelname, y.version, y.call_type, y.status, y.user_id)::text AS k, y.*
                 FROM rr_ref(since, until, dims, f_model, f_type, f_user, tz) y)
    SELECT count(*) FILTER (
               WHERE s.k IS NULL OR r.k IS NULL
                  OR (s.calls, s.errors, s.input_tokens, s.reasoning_tokens, s.output_tokens,
                      s.cost_usd, s.avg_duration_ms, s.cache_read_input_tokens,
                      s.cache_creation_input_tokens, s.unpriced_calls, s.avg_time_to_first_token_ms)
                     IS DISTINCT FROM
                     (r.calls, r.errors, r.input_tokens, r.reasoning_tokens, r.output_tokens,
                      r.cost_usd, r.avg_duration_ms, r.cache_read_input_tokens,
                      r.cache_creation_input_tokens, r.unpriced_calls, r.avg_time_to_first_token_ms)
                  OR NOT rr_close(s.p50_duration_ms, r.pct[1], 0.5, r.durations)
                  OR NOT rr_close(s.p95_duration_ms, r.pct[2], 0.95, r.durations)
                  OR NOT rr_close(s.p99_duration_ms, r.pct[3], 0.99, r.durations)
                  OR (with_times AND (s.first_call, s.last_call) IS DISTINCT FROM (r.first_call, r.last_call))),
           count(*)
      INTO bad, seen
      FROM s FULL JOIN r ON s.k = r.k;
    UPDATE rr_compared SET n = n + seen;
    RETURN bad;
END $$;

-- ai_usage_purged against rr_gone, group by group.
CREATE FUNCTION rr_purged_mismatches() RETURNS bigint LANGUAGE sql AS $$
    WITH g AS (SELECT ROW(date_trunc('hour', created_at, 'UTC'), model_id, call_type, status, user_id)::text AS k,
                      count(*) AS calls,
                      sum(input_tokens) AS input_tokens, sum(reasoning_tokens) AS reasoning_tokens,
                      sum(output_tokens) AS output_tokens,
                      sum(cache_read_input_tokens) AS cache_read_input_tokens,
                      sum(cache_creation_input_tokens) AS cache_creation_input_tokens,
                      sum(cost_usd) AS cost_usd, count(cost_usd) AS cost_usd_n,
                      sum(duration_ms) AS duration_ms, count(duration_ms) AS duration_ms_n,
                      sum(time_to_first_token_ms) AS time_to_first_token_ms,
                      min(created_at) AS first_call, max(created_at) AS last_call,
                      ai_hist_merge(ai_hist_of(duration_ms, 1)) AS latency
                 FROM rr_gone GROUP BY 1),
         p AS (SELECT ROW(bucket, model_id, call_type, status, user_id)::text AS k, *
                 FROM ai_usage_purged)
    SELECT count(*)
      FROM g FULL JOIN p ON g.k = p.k
     WHERE g.k IS NULL OR p.k IS NULL
        OR (g.calls, coalesce(g.input_tokens, 0), coalesce(g.reasoning_tokens, 0),
            coalesce(g.output_tokens, 0), coalesce(g.cache_read_input_tokens, 0),
            coalesce(g.cache_creation_input_tokens, 0), coalesce(g.cost_usd, 0), g.cost_usd_n,
            coalesce(g.duration_ms, 0), g.duration_ms_n, coalesce(g.time_to_first_token_ms, 0),
            g.first_call, g.last_call, g.latency)
           IS DISTINCT FROM
           (p.calls, p.input_tokens, p.reasoning_tokens, p.output_tokens,
            p.cache_read_input_tokens, p.cache_creation_input_tokens, p.cost_usd, p.cost_usd_n,
            p.duration_ms, p.duration_ms_n, p.time_to_first_token_ms,
            p.first_call, p.last_call, p.latency)
$$;

-- 1.6: the daily level against the hourly rows it sums, day by day, from
-- daily_from on; before it, no daily row may exist.
CREATE FUNCTION rr_daily_mismatches() RETURNS bigint LANGUAGE sql AS $$
    WITH h AS (SELECT ROW(date_trunc('day', t.bucket, 'UTC'), t.model_id, t.call_type, t.status)::text AS k,
                      sum(t.calls) AS calls, sum(t.input_tokens) AS input_tokens,
                      sum(t.input_tokens_n) AS input_tokens_n, sum(t.output_tokens) AS output_tokens,
                      sum(t.cache_read_input_tokens) AS cache_read_input_tokens,
                      sum(t.cost_usd) AS cost_usd, sum(t.cost_usd_n) AS cost_usd_n,
                      sum(t.duration_ms) AS duration_ms, sum(t.duration_ms_n) AS duration_ms_n,
                      sum(t.time_to_first_token_ms) AS time_to_first_token_ms,
                      min(t.first_call) AS first_call, max(t.last_call) AS last_call,
                      ai_hist_merge(t.latency) AS latency
                 FROM ai_usage_rollup_total t, ai_upkeep_state s
                WHERE t.bucket >= s.daily_from
                GROUP BY 1),
         d AS (SELECT ROW(bucket, model_id, call_type, status)::text AS k, * FROM ai_usage_rollup_daily)
    SELECT count(*)
      FROM h FULL JOIN d ON h.k = d.k
     WHERE h.k IS NULL OR d.k IS NULL
        OR (h.calls, h.input_tokens, h.input_tokens_n, h.output_tokens, h.cache_read_input_tokens,
            h.cost_usd, h.cost_usd_n, h.duration_ms, h.duration_ms_n, h.time_to_first_token_ms,
            h.first_call, h.last_call, h.latency)
           IS DISTINCT FROM
           (d.calls, d.input_tokens, d.input_tokens_n, d.output_tokens, d.cache_read_input_tokens,
            d.cost_usd, d.cost_usd_n, d.duration_ms, d.duration_ms_n, d.time_to_first_token_ms,
            d.first_call, d.last_call, d.latency)
$$;

-- Every question of a checkpoint; the number of mismatched rows.
CREATE FUNCTION rr_check(with_times boolean) RETURNS bigint LANGUAGE sql AS $$
    SELECT rr_compare(NULL, NULL, '{model}', NULL, NULL, NULL, 'UTC', with_times)
         + rr_compare(NULL, NULL, '{model,status}', NULL, NULL, NULL, 'UTC', with_times)
         + rr_compare(NULL, NULL, '{day,user}', NULL, NULL, NULL, 'UTC', with_times)
         + rr_compare(NULL, NULL, '{hour}', NULL, NULL, NULL, 'UTC', with_times)
         + rr_compare(NULL, NULL, '{}', NULL, NULL, NULL, 'UTC', with_times)
         -- days cut in New York, across its DST change; weeks in Tokyo
         + rr_compare(NULL, NULL, '{user,day}', NULL, NULL, NULL, 'America/New_York', with_times)
         + rr_compare(NULL, NULL, '{week,call_type}', NULL, NULL, NULL, 'Asia/Tokyo', with_times)
         -- filters
         + rr_compare(NULL, NULL, '{modelname,call_type}', 'rr-a', NULL, NULL, 'UTC', with_times)
         + rr_compare(NULL, NULL, '{model,status,user}', NULL, NULL,
                      '00000000-0000-0000-0000-0000000000a2', 'UTC', with_times)
         -- whole hours, and a window with partial hours at both ends (all
         -- after the last purge horizon: purged calls are kept by the hour)
         + rr_compare('2025-03-05 00:00+00', '2025-03-10 07:00+00', '{status}', NULL, 'chat', NULL,
                      'UTC', with_times)
         + rr_compare('2025-03-11 10:17:30+00', '2025-03-12 13:45+00', '{hour,model}', NULL, NULL, NULL,
                      'UTC', with_times)
         + rr_compare('2025-03-11 10:17:30+00', '2025-03-11 10:59:59+00', '{}', NULL, NULL, NULL,
                      'UTC', with_times)
         + rr_compare('2025-03-11 10:17:30+00', NULL, '{user}', NULL, NULL, NULL, 'UTC', with_times)
         + rr_compare(NULL, '2025-03-12 13:45+00', '{day,status}', NULL, NULL, NULL, 'UTC', with_times)
         -- 1.6: whole UTC days from the daily level: a window of whole
         -- and partial days, weeks and months in zones that are always
         -- UTC, and days in one that is UTC in March but not always
         + rr_compare('2025-03-04 10:00+00', '2025-03-11 03:30+00', '{model}', NULL, NULL, NULL,
                      'UTC', with_times)
         + rr_compare(NULL, NULL, '{week,status}', NULL, NULL, NULL, 'Etc/UTC', with_times)
         + rr_compare('2025-03-05 00:00+00', NULL, '{month,model}', NULL, NULL, NULL, 'GMT', with_times)
         + rr_compare(NULL, NULL, '{day}', NULL, NULL, NULL, 'Europe/London', with_times)
         + rr_purged_mismatches()
         + rr_daily_mismatches()
$$;

-- Steps first..last: 60 operations each, then the check; every fourth
-- step compacts first and then also checks first_call and last_call.
CREATE FUNCTION rr_run(from_step int, to_step int)
RETURNS TABLE (step int, mismatches bigint) LANGUAGE plpgsql AS $$
BEGIN
    FOR s IN from_step..to_step LOOP
        FOR i IN 1..60 LOOP
            PERFORM rr_op(false);
        END LOOP;
        IF s % 4 = 0 THEN
            PERFORM ai_rollup_compact();
        END IF;
        step := s;
        mismatches := rr_check(s % 4 = 0);
        RETURN NEXT;
    END LOOP;
END $$;

SELECT setseed(0.5);

SELECT * FROM rr_run(1, 12);

-- Purge at top level (a procedure that commits cannot run inside a
-- function), in batches of 13.  Nothing may change in the stats.
INSERT INTO rr_gone SELECT * FROM ai_call WHERE created_at < '2025-03-04 07:30+00';
CALL ai_purge_calls('2025-03-04 07:30+00', 13);
SELECT 'after purge 1' AS step, rr_check(false) AS mismatches;
SELECT ai_rollup_compact() > 0 AS folded;
SELECT 'compacted' AS step, rr_check(true) AS mismatches;

SELECT * FROM rr_run(13, 25);

INSERT INTO rr_gone SELECT * FROM ai_call WHERE created_at < '2025-03-06 00:00+00';
CALL ai_purge_calls('2025-03-06 00:00+00', 50);
SELECT 'after purge 2' AS step, rr_check(false) AS mismatches;
CALL ai_purge_content('2025-03-09 00:00+00', 40);
SELECT 'after content purge' AS step, rr_check(false) AS mismatches;

SELECT * FROM rr_run(26, 38);

INSERT INTO rr_gone SELECT * FROM ai_call WHERE created_at < '2025-03-08 12:40+00';
CALL ai_purge_calls('2025-03-08 12:40+00', 1000);
SELECT 'after purge 3' AS step, rr_check(false) AS mismatches;

SELECT * FROM rr_run(39, 50);

SELECT ai_rollup_compact() > 0 AS folded;
SELECT 'final' AS step, rr_check(true) AS mismatches;

-- What ran (committed operations; rolled-back ones are in "rolled back"),
-- and that the checks compared real data.
SELECT kind, n FROM rr_ops ORDER BY kind;
SELECT (SELECT count(*) FROM ai_call) > 1000 AS many_calls,
       (SELECT count(*) FROM rr_gone) > 500 AS many_purged,
       (SELECT count(DISTINCT date_trunc('day', created_at)) FROM ai_call
         WHERE created_at < '2025-03-14') >= 6 AS days_spread,
       (SELECT n FROM rr_compared) > 20000 AS rows_compared,
       (SELECT count(*) FROM ai_usage_rollup_daily) > 5 AS daily_rows;

--
-- Negative controls: break the rollups by hand (each in a transaction that
-- rolls back) and the same check must see it.
--
-- 1. Lose one pending row (first write some, so that there are some).
SELECT setseed(0.25);
DO $$ BEGIN FOR i IN 1..30 LOOP PERFORM rr_op(true); END LOOP; END $$;
-- ... and surely some pending rows, whatever the operations were.
SELECT count(*) FROM record_ai_calls(jsonb_build_array(rr_call(true), rr_call(true), rr_call(true)));
SELECT rr_check(false) AS mismatches_before;
BEGIN;
DELETE FROM ai_usage_rollup
 WHERE ctid = (SELECT ctid FROM ai_usage_rollup WHERE pending AND calls > 0 ORDER BY bucket LIMIT 1);
SELECT rr_check(false) > 0 AS lost_pending_row_seen;
ROLLBACK;
-- 2. A compacted row off by one call.
SELECT ai_rollup_compact() > 0 AS compacted;
BEGIN;
UPDATE ai_usage_rollup_total SET calls = calls + 1
 WHERE ctid = (SELECT ctid FROM ai_usage_rollup_total ORDER BY bucket LIMIT 1);
SELECT rr_check(false) > 0 AS wrong_total_seen;
ROLLBACK;
-- 3. A purged cost off by a millionth of a cent.
BEGIN;
UPDATE ai_usage_purged SET cost_usd = cost_usd + 0.00000001
 WHERE ctid = (SELECT ctid FROM ai_usage_purged ORDER BY bucket LIMIT 1);
SELECT rr_check(false) > 0 AS wrong_purged_cost_seen;
ROLLBACK;
-- 4. Latencies two buckets (4%) too high in one busy hour: only the percentiles change.
BEGIN;
UPDATE ai_usage_rollup_total
   SET latency = (SELECT array_agg(CASE WHEN o % 2 = 1 AND e >= 100 THEN e + 2 ELSE e END ORDER BY o)
                    FROM unnest(latency) WITH ORDINALITY AS l(e, o))
 WHERE ctid = (SELECT ctid FROM ai_usage_rollup_total ORDER BY calls DESC, bucket LIMIT 1);
SELECT rr_check(false) > 0 AS shifted_latency_seen;
ROLLBACK;
-- 5. first_call a day early: seen only where first_call is checked.  (A
-- day, not a second: of the rows of the latest hour the one picked is
-- whichever comes first physically, which autovacuum's timing decides;
-- a second earlier than a row that is not its group's first is no
-- mismatch at all, and this control failed now and then.  A day earlier
-- is before every call of the row's day, so rr_check's question by day
-- and user always shows it.)
BEGIN;
UPDATE ai_usage_rollup SET first_call = first_call - interval '1 day'
 WHERE ctid = (SELECT ctid FROM ai_usage_rollup WHERE calls > 0 AND first_call IS NOT NULL
                ORDER BY bucket DESC LIMIT 1);
SELECT rr_check(false) AS without_times, rr_check(true) > 0 AS first_call_seen;
ROLLBACK;
-- 6. (1.6) A daily row off by one call, and one day missing from it.
BEGIN;
UPDATE ai_usage_rollup_daily SET calls = calls + 1
 WHERE ctid = (SELECT ctid FROM ai_usage_rollup_daily ORDER BY bucket DESC LIMIT 1);
SELECT rr_daily_mismatches() > 0 AS wrong_daily_seen, rr_check(false) > 0 AS wrong_daily_stats_seen;
ROLLBACK;
BEGIN;
DELETE FROM ai_usage_rollup_daily WHERE bucket = (SELECT min(bucket) FROM ai_usage_rollup_daily);
SELECT rr_daily_mismatches() > 0 AS missing_day_seen, rr_check(false) > 0 AS missing_day_stats_seen;
ROLLBACK;
SELECT rr_check(true) AS mismatches_after_controls;

-- The case this test first failed on, kept as a fixed example: after
-- compaction, a group summed over users kept the first_call of a user
-- whose calls in that hour had all been deleted.
SELECT count(*) FROM record_ai_calls(
    '[{"modelname": "rr-fc", "version": "1", "prompt": "a", "response": {},
       "user_id": "00000000-0000-0000-0000-0000000000a1", "created_at": "2030-01-01 10:10+00"},
      {"modelname": "rr-fc", "version": "1", "prompt": "b", "response": {},
       "user_id": "00000000-0000-0000-0000-0000000000a2", "created_at": "2030-01-01 10:30+00"}]');
SELECT ai_rollup_compact() > 0 AS compacted;
DELETE FROM ai_call WHERE created_at = '2030-01-01 10:10+00';
SELECT ai_rollup_compact() > 0 AS compacted;
SELECT calls, first_call, last_call FROM ai_usage_stats(group_by => '{model}', modelname => 'rr-fc');
SELECT calls, first_call, last_call FROM ai_usage_stats(group_by => '{model,user}', modelname => 'rr-fc');

RESET client_min_messages;
DROP FUNCTION rr_run(int, int), rr_check(boolean), rr_purged_mismatches(), rr_daily_mismatches(),
    rr_compare(timestamptz, timestamptz, text[], text, text, uuid, text, boolean),
    rr_close(float8, float8, float8, int[]),
    rr_ref(timestamptz, timestamptz, text[], text, text, uuid, text),
    rr_op(boolean), rr_count(text), rr_target(), rr_call(boolean), rr_duration(), rr_time(),
    rr_statuses(), rr_users(), rr_pick(text[]), rr_int(int, int);
DROP TABLE rr_gone, rr_ops, rr_compared;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;
