--
-- ai_usage_stats(): every grouping dimension and every filter, checked
-- against the same aggregates written by hand in SQL over ai_call.
--
CREATE EXTENSION aitrack;
SET timezone = 'UTC';

--
-- The empty table: totals ('{}' and NULL group_by) are one row of zeros and
-- NULLs, any grouping is no rows at all.
--
\x on
SELECT * FROM ai_usage_stats(group_by => '{}');
\x off
SELECT calls, errors, input_tokens, cost_usd, first_call, unpriced_calls
  FROM ai_usage_stats(group_by => NULL);
SELECT count(*) FROM ai_usage_stats();
SELECT count(*) FROM ai_usage_stats(group_by => '{model,status,day}');

--
-- Bad group_by values.
--
SELECT * FROM ai_usage_stats(group_by => '{model,bogus}');
SELECT * FROM ai_usage_stats(group_by => '{Model}');
SELECT * FROM ai_usage_stats(group_by => '{status,day,week}');
SELECT * FROM ai_usage_stats(group_by => '{month,hour}');
SELECT * FROM ai_usage_stats(group_by => ARRAY['model', NULL]);

--
-- Generated calls, all through record_ai_call().  Call i (1..2000):
--   model       i % 10: 0-3 gpt/v1, 4-5 gpt/v2, 6-8 claude/3, 9 mistral/large
--   call_type   (i / 3) % 4: chat, embed, tool, NULL
--   status      i % 7: success, error, timeout, cancelled, rate_limited,
--               filtered, success; NULL (by UPDATE below) when i % 101 = 0
--   user_id     i % 5: NULL, ...01, ...02, ...03, ...01
--   tokens, cost, duration and time to first token: arithmetic in i, each
--               NULL on some i; reasoning_tokens never above output_tokens,
--               and the cache tokens together never above input_tokens
--               (record_ai_call() refuses either), cache tokens NULL when
--               input_tokens is; cost_usd NULL when i % 17 = 0 (no price is
--               loaded, so it stays NULL: cost_source 'unknown')
-- i is kept in extra so that the UPDATE below can find each call again.
--
SELECT count(record_ai_call(
           modelname => CASE WHEN i % 10 < 6 THEN 'gpt'
                             WHEN i % 10 < 9 THEN 'claude'
                             ELSE 'mistral' END,
           version => CASE WHEN i % 10 < 4 THEN 'v1'
                           WHEN i % 10 < 6 THEN 'v2'
                           WHEN i % 10 < 9 THEN '3'
                           ELSE 'large' END,
           prompt => 'prompt ' || i,
           response => jsonb_build_object('n', i),
           input_tokens => t.input,
           reasoning_tokens => CASE WHEN i % 3 = 0 THEN least((i * 13) % 700, t.output) END,
           output_tokens => t.output,
           cost_usd => CASE WHEN i % 17 = 0 THEN NULL
                            ELSE ((i * 7919) % 100000) * 0.000001 END,
           duration_ms => t.duration,
           call_type => (ARRAY['chat', 'embed', 'tool', NULL])[(i / 3) % 4 + 1],
           status => (ARRAY['success', 'error', 'timeout', 'cancelled',
                            'rate_limited', 'filtered', 'success'])[i % 7 + 1],
           user_id => (ARRAY[NULL, '00000000-0000-0000-0000-000000000001',
                             '00000000-0000-0000-0000-000000000002',
                             '00000000-0000-0000-0000-000000000003',
                             '00000000-0000-0000-0000-000000000001'])[i % 5 + 1]::uuid,
           extra => jsonb_build_object('i', i),
           cache_read_input_tokens => CASE WHEN i % 4 <> 0 THEN t.input * (i % 5) / 10 END,
           cache_creation_input_tokens => CASE WHEN i % 6 IN (1, 2) THEN t.input * (i % 7) / 20 END,
           time_to_first_token_ms => CASE WHEN i % 23 = 0 THEN NULL
                                          ELSE least((i * 97) % 800 + 5, t.duration) END))
  FROM generate_series(1, 2000) AS i,
       LATERAL (SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 37) % 1500 + 10 END,
                       CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 53) % 900 END,
                       CASE WHEN i % 19 = 0 THEN NULL ELSE (i * 211) % 3000 + 50 END)
               AS t(input, output, duration);

--
-- Spread the calls over the 60 days from 2024-02-10 00:00 UTC (across the
-- leap day and two month ends): i * 7919 seconds modulo 60 days, all
-- distinct; every 200th call lands exactly on a midnight, 5 days apart, so
-- that 2024-03-01 00:00 (i = 800) and 2024-03-26 00:00 (i = 1800) each hold
-- exactly one call.  A few calls get a NULL status, which the C entry point
-- never writes but the table allows.
--
UPDATE ai_call
   SET created_at = timestamptz '2024-02-10 00:00:00+00'
                    + CASE WHEN i % 200 = 0 THEN (i / 200) * 5 * 86400
                           ELSE (i * 7919) % (60 * 86400) END
                      * interval '1 second',
       status = CASE WHEN i % 101 = 0 THEN NULL ELSE status END
  FROM (SELECT id, (extra ->> 'i')::int AS i FROM ai_call) AS g
 WHERE g.id = ai_call.id;

SELECT count(*) AS calls, count(DISTINCT model_id) AS models,
       count(DISTINCT created_at) AS distinct_times,
       min(created_at), max(created_at)
  FROM ai_call;

-- 1.1's columns in the generated calls: the NULL costs stayed NULL (no
-- price is loaded) and are 'unknown', the others 'provided'; all_reasoning
-- counts the calls whose reasoning_tokens were capped at output_tokens.
SELECT cost_source, count(*) AS calls, count(cost_usd) AS with_cost,
       count(cache_read_input_tokens) AS with_cache_read,
       count(cache_creation_input_tokens) AS with_cache_creation,
       count(time_to_first_token_ms) AS with_ttft,
       count(*) FILTER (WHERE reasoning_tokens > 0
                          AND reasoning_tokens = output_tokens) AS all_reasoning
  FROM ai_call
 GROUP BY cost_source
 ORDER BY cost_source;

--
-- The hand-written reference: ai_usage_stats()'s documented semantics in
-- plain SQL.  A dimension not named in group_by is a NULL column; "model"
-- is modelname and version, "modelname" is modelname alone; buckets are
-- UTC calendar units; errors are calls whose status is not 'success'
-- (NULL included); unpriced calls are calls whose cost_usd is NULL; the
-- cache token sums and the mean time to first token skip NULLs, as the
-- other sums and means do.  An empty or NULL group_by gives one row even
-- when no call matches: the grouping set () does that, and HAVING keeps
-- either the () row or the grouped rows.
--
CREATE FUNCTION hand_stats(p_since timestamptz, p_until timestamptz,
                           p_group_by text[], p_modelname text,
                           p_call_type text, p_user_id uuid)
RETURNS TABLE (bucket timestamptz, modelname text, version text,
               call_type text, status text, user_id uuid,
               calls bigint, errors bigint, input_tokens bigint,
               reasoning_tokens bigint, output_tokens bigint, cost_usd numeric,
               avg_duration_ms float8, p50_duration_ms float8,
               p95_duration_ms float8, p99_duration_ms float8,
               first_call timestamptz, last_call timestamptz,
               cache_read_input_tokens bigint, cache_creation_input_tokens bigint,
               unpriced_calls bigint, avg_time_to_first_token_ms float8)
LANGUAGE sql STABLE
AS $$
WITH dims AS (
    SELECT coalesce(p_group_by, '{}') AS dims,
           (SELECT d FROM unnest(p_group_by) AS d
             WHERE d IN ('hour', 'day', 'week', 'month')) AS unit
), facts AS (
    SELECT CASE WHEN unit IS NOT NULL
                THEN date_trunc(unit, c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
           END AS g_bucket,
           CASE WHEN 'model' = ANY (dims) OR 'modelname' = ANY (dims)
                THEN m.modelname END AS g_modelname,
           CASE WHEN 'model' = ANY (dims) THEN m.version END AS g_version,
           CASE WHEN 'call_type' = ANY (dims) THEN c.call_type END AS g_call_type,
           CASE WHEN 'status' = ANY (dims) THEN c.status END AS g_status,
           CASE WHEN 'user' = ANY (dims) THEN c.user_id END AS g_user_id,
           c.*
      FROM ai_call AS c
      JOIN ai_model AS m ON m.id = c.model_id
     CROSS JOIN dims
     WHERE (p_since IS NULL OR c.created_at >= p_since)
       AND (p_until IS NULL OR c.created_at < p_until)
       AND (p_modelname IS NULL OR m.modelname = p_modelname)
       AND (p_call_type IS NULL OR c.call_type = p_call_type)
       AND (p_user_id IS NULL OR c.user_id = p_user_id)
)
SELECT g_bucket, g_modelname, g_version, g_call_type, g_status, g_user_id,
       count(*),
       count(*) FILTER (WHERE facts.status IS DISTINCT FROM 'success'),
       sum(facts.input_tokens),
       sum(facts.reasoning_tokens),
       sum(facts.output_tokens),
       sum(facts.cost_usd),
       avg(duration_ms)::float8,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
       percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms),
       min(created_at),
       max(created_at),
       sum(facts.cache_read_input_tokens),
       sum(facts.cache_creation_input_tokens),
       count(*) FILTER (WHERE facts.cost_usd IS NULL),
       avg(facts.time_to_first_token_ms)::float8
  FROM facts
 GROUP BY GROUPING SETS ((g_bucket, g_modelname, g_version, g_call_type,
                          g_status, g_user_id), ())
HAVING (GROUPING(g_bucket, g_modelname, g_version, g_call_type, g_status,
                 g_user_id) = 0) = (cardinality(coalesce(p_group_by, '{}')) > 0)
$$;

--
-- One comparison: how many rows ai_usage_stats() returns, how many of
-- them the hand-written query lacks and vice versa (EXCEPT ALL: NULLs
-- match NULLs, duplicates count), and whether the rows come ordered by the
-- grouping columns (the columns not grouped are all NULL, so ordering by
-- all six is ordering by the grouped ones).
--
CREATE FUNCTION compare_stats(p_since timestamptz, p_until timestamptz,
                              p_group_by text[], p_modelname text,
                              p_call_type text, p_user_id uuid,
                              OUT result_rows bigint, OUT only_in_c bigint,
                              OUT only_in_sql bigint, OUT ordered boolean)
LANGUAGE sql STABLE
AS $$
SELECT (SELECT count(*) FROM ai_usage_stats($1, $2, $3, $4, $5, $6)),
       (SELECT count(*) FROM (SELECT * FROM ai_usage_stats($1, $2, $3, $4, $5, $6)
                              EXCEPT ALL
                              SELECT * FROM hand_stats($1, $2, $3, $4, $5, $6)) AS d),
       (SELECT count(*) FROM (SELECT * FROM hand_stats($1, $2, $3, $4, $5, $6)
                              EXCEPT ALL
                              SELECT * FROM ai_usage_stats($1, $2, $3, $4, $5, $6)) AS d),
       (SELECT coalesce(bool_and(n = rn), true)
          FROM (SELECT n, row_number() OVER (ORDER BY bucket, modelname, version,
                                                       call_type, status, user_id) AS rn
                  FROM ai_usage_stats($1, $2, $3, $4, $5, $6) WITH ORDINALITY
                       AS s(bucket, modelname, version, call_type, status, user_id,
                            calls, errors, input_tokens, reasoning_tokens,
                            output_tokens, cost_usd, avg_duration_ms,
                            p50_duration_ms, p95_duration_ms, p99_duration_ms,
                            first_call, last_call, cache_read_input_tokens,
                            cache_creation_input_tokens, unpriced_calls,
                            avg_time_to_first_token_ms, n)) AS o)
$$;

--
-- Every grouping dimension alone, totals, and combinations; no filters.
--
SELECT coalesce(g, '(null)') AS group_by, r.*
  FROM unnest(ARRAY[
           NULL, '{}', '{model}', '{modelname}', '{call_type}', '{status}',
           '{user}', '{hour}', '{day}', '{week}', '{month}',
           '{model,modelname}', '{modelname,status}', '{month,status,model}',
           '{model,call_type,day}', '{status,user,week}',
           '{call_type,user,month}', '{model,call_type,status,user,hour}'
       ]::text[][]) WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, g::text[], NULL, NULL, NULL) AS r
 ORDER BY ord;

-- The default group_by is '{model}'.
SELECT count(*) AS differing FROM (
    (SELECT * FROM ai_usage_stats() EXCEPT ALL
     SELECT * FROM hand_stats(NULL, NULL, '{model}', NULL, NULL, NULL))
    UNION ALL
    (SELECT * FROM hand_stats(NULL, NULL, '{model}', NULL, NULL, NULL) EXCEPT ALL
     SELECT * FROM ai_usage_stats())) AS d;

--
-- Every filter alone, all of them together, and empty windows, each with
-- totals and two groupings.  2024-03-01 00:00 and 2024-03-26 00:00 each
-- hold exactly one call, so since and until sit on a call.
--
SELECT f.label, g.group_by, r.*
  FROM (VALUES
        (1, 'since', timestamptz '2024-03-01 00:00:00+00', NULL::timestamptz,
         NULL::text, NULL::text, NULL::uuid),
        (2, 'until', NULL, '2024-03-26 00:00:00+00', NULL, NULL, NULL),
        (3, 'since+until', '2024-03-01 00:00:00+00', '2024-03-26 00:00:00+00',
         NULL, NULL, NULL),
        (4, 'modelname gpt', NULL, NULL, 'gpt', NULL, NULL),
        (5, 'modelname claude', NULL, NULL, 'claude', NULL, NULL),
        (6, 'modelname unknown', NULL, NULL, 'v1', NULL, NULL),
        (7, 'call_type chat', NULL, NULL, NULL, 'chat', NULL),
        (8, 'call_type tool', NULL, NULL, NULL, 'tool', NULL),
        (9, 'user_id ...01', NULL, NULL, NULL, NULL,
         '00000000-0000-0000-0000-000000000001'),
        (10, 'user_id ...03', NULL, NULL, NULL, NULL,
         '00000000-0000-0000-0000-000000000003'),
        (11, 'all five', '2024-03-01 00:00:00+00', '2024-03-26 00:00:00+00',
         'gpt', 'chat', '00000000-0000-0000-0000-000000000001'),
        (12, 'since = until', '2024-03-01 00:00:00+00', '2024-03-01 00:00:00+00',
         NULL, NULL, NULL),
        (13, 'since > until', '2024-03-26 00:00:00+00', '2024-03-01 00:00:00+00',
         NULL, NULL, NULL)
       ) AS f(ord, label, since, until, modelname, call_type, user_id),
       (VALUES (1, '{}'::text[]), (2, '{model,status}'),
               (3, '{modelname,call_type,user,day}')) AS g(ord, group_by),
       compare_stats(f.since, f.until, g.group_by, f.modelname, f.call_type,
                     f.user_id) AS r
 ORDER BY f.ord, g.ord;

--
-- One case written out in full, without the helper: by model, status and
-- week, all filters but user_id.
--
SELECT count(*) AS differing FROM (
    (SELECT * FROM ai_usage_stats('2024-02-15 12:00+00', '2024-04-01 00:00+00',
                                  '{week,status,model}', 'gpt', 'embed')
     EXCEPT ALL
     SELECT date_trunc('week', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
            m.modelname, m.version, NULL, c.status, NULL,
            count(*), count(*) FILTER (WHERE c.status IS NULL OR c.status <> 'success'),
            sum(c.input_tokens), sum(c.reasoning_tokens), sum(c.output_tokens),
            sum(c.cost_usd), avg(c.duration_ms)::float8,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms),
            percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms),
            percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms),
            min(c.created_at), max(c.created_at),
            sum(c.cache_read_input_tokens), sum(c.cache_creation_input_tokens),
            count(*) FILTER (WHERE c.cost_usd IS NULL),
            avg(c.time_to_first_token_ms)::float8
       FROM ai_call c JOIN ai_model m ON m.id = c.model_id
      WHERE c.created_at >= '2024-02-15 12:00+00'
        AND c.created_at < '2024-04-01 00:00+00'
        AND m.modelname = 'gpt' AND c.call_type = 'embed'
      GROUP BY 1, 2, 3, 5)
    UNION ALL
    (SELECT date_trunc('week', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
            m.modelname, m.version, NULL, c.status, NULL,
            count(*), count(*) FILTER (WHERE c.status IS NULL OR c.status <> 'success'),
            sum(c.input_tokens), sum(c.reasoning_tokens), sum(c.output_tokens),
            sum(c.cost_usd), avg(c.duration_ms)::float8,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms),
            percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms),
            percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms),
            min(c.created_at), max(c.created_at),
            sum(c.cache_read_input_tokens), sum(c.cache_creation_input_tokens),
            count(*) FILTER (WHERE c.cost_usd IS NULL),
            avg(c.time_to_first_token_ms)::float8
       FROM ai_call c JOIN ai_model m ON m.id = c.model_id
      WHERE c.created_at >= '2024-02-15 12:00+00'
        AND c.created_at < '2024-04-01 00:00+00'
        AND m.modelname = 'gpt' AND c.call_type = 'embed'
      GROUP BY 1, 2, 3, 5
     EXCEPT ALL
     SELECT * FROM ai_usage_stats('2024-02-15 12:00+00', '2024-04-01 00:00+00',
                                  '{week,status,model}', 'gpt', 'embed'))) AS d;

--
-- Buckets are UTC whatever the session's timezone: New York (UTC-5, UTC-4
-- from 2024-03-10) moves every day, week and month boundary, Kolkata
-- (UTC+5:30) every hour boundary.
--
SET timezone = 'America/New_York';
SELECT g AS group_by, r.*
  FROM unnest('{day,week,month}'::text[]) WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, ARRAY[g], NULL, NULL, NULL) AS r
 ORDER BY ord;
SET timezone = 'Asia/Kolkata';
SELECT r.* FROM compare_stats(NULL, NULL, '{hour}', NULL, NULL, NULL) AS r;
SET timezone = 'UTC';

--
-- since is inclusive and until exclusive, to the microsecond: the only
-- call at 2024-03-01 00:00 is in [00:00, 00:00.000001) and not in
-- [23:59:59.999999, 00:00).
--
SELECT calls, first_call, last_call
  FROM ai_usage_stats('2024-03-01 00:00:00+00', '2024-03-01 00:00:00.000001+00', '{}');
SELECT calls, first_call, last_call
  FROM ai_usage_stats('2024-02-29 23:59:59.999999+00', '2024-03-01 00:00:00+00', '{}');
SELECT calls, first_call, last_call
  FROM ai_usage_stats('2024-03-01 00:00:00+00', '2024-03-26 00:00:00+00', '{}');
SELECT calls, first_call, last_call
  FROM ai_usage_stats('2024-03-01 00:00:00.000001+00', '2024-03-26 00:00:00.000001+00', '{}');

-- An empty window: one row of totals, no grouped rows.
SELECT calls, errors, input_tokens, cost_usd, avg_duration_ms, first_call,
       cache_read_input_tokens, unpriced_calls, avg_time_to_first_token_ms
  FROM ai_usage_stats('2024-03-26 00:00+00', '2024-03-01 00:00+00', '{}');
SELECT count(*) FROM ai_usage_stats('2024-03-01 00:00+00', '2024-03-01 00:00+00');

--
-- A few results in full, to read.
--
-- (Latencies rounded: percentile_cont interpolates in float8.)
\x on
SELECT bucket, modelname, version, call_type, status, user_id,
       calls, errors, input_tokens, reasoning_tokens, output_tokens, cost_usd,
       round(avg_duration_ms::numeric, 3) AS avg_duration_ms,
       round(p50_duration_ms::numeric, 3) AS p50_duration_ms,
       round(p95_duration_ms::numeric, 3) AS p95_duration_ms,
       round(p99_duration_ms::numeric, 3) AS p99_duration_ms,
       first_call, last_call, cache_read_input_tokens,
       cache_creation_input_tokens, unpriced_calls,
       round(avg_time_to_first_token_ms::numeric, 3) AS avg_time_to_first_token_ms
  FROM ai_usage_stats(group_by => '{}');
\x off
SELECT status, calls, errors, input_tokens, reasoning_tokens, output_tokens,
       cost_usd, round(avg_duration_ms::numeric, 3) AS avg_ms,
       round(p50_duration_ms::numeric, 3) AS p50,
       round(p95_duration_ms::numeric, 3) AS p95,
       round(p99_duration_ms::numeric, 3) AS p99
  FROM ai_usage_stats(group_by => '{status}');
SELECT modelname, version, calls, errors, cost_usd, first_call, last_call
  FROM ai_usage_stats();
SELECT modelname, version, input_tokens, cache_read_input_tokens AS cache_read,
       cache_creation_input_tokens AS cache_creation, unpriced_calls,
       round(avg_time_to_first_token_ms::numeric, 3) AS avg_ttft_ms
  FROM ai_usage_stats();
SELECT modelname, version, calls, errors, cost_usd
  FROM ai_usage_stats(group_by => '{modelname}');
SELECT bucket, calls, errors, input_tokens, cost_usd
  FROM ai_usage_stats(group_by => '{month}');
SELECT bucket, call_type, user_id, calls, errors
  FROM ai_usage_stats('2024-03-01 00:00+00', '2024-03-26 00:00+00',
                      '{call_type,user,month}', 'gpt', 'chat');

DROP EXTENSION aitrack;
