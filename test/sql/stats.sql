--
-- ai_usage_stats(): every grouping dimension and every filter, checked
-- against the same aggregates written by hand in SQL over ai_call.
--
-- 1.2 answers from the hourly rollups that triggers on ai_call keep (and
-- from ai_call itself for the partial hours at either end of the window,
-- and for time zones whose offset is not a whole number of hours).  What
-- that changes in the comparison is said where it applies: percentiles
-- within 1% (see compare_stats), first_call and last_call after
-- compaction (see the block after the UPDATE below).
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
-- The same through both of 1.2's paths: the rollups (New York) and ai_call
-- itself (Kolkata, UTC+5:30).
SELECT calls, errors, input_tokens, cost_usd, p50_duration_ms, first_call, unpriced_calls
  FROM ai_usage_stats(group_by => '{}', tz => 'America/New_York');
SELECT calls, errors, input_tokens, cost_usd, p50_duration_ms, first_call, unpriced_calls
  FROM ai_usage_stats(group_by => '{}', tz => 'Asia/Kolkata');
SELECT count(*) FROM ai_usage_stats(group_by => '{model,status,day}', tz => 'America/New_York');
SELECT count(*) FROM ai_usage_stats(group_by => '{model,status,day}', tz => 'Asia/Kolkata');

--
-- Bad group_by values.
--
SELECT * FROM ai_usage_stats(group_by => '{model,bogus}');
SELECT * FROM ai_usage_stats(group_by => '{Model}');
SELECT * FROM ai_usage_stats(group_by => '{status,day,week}');
SELECT * FROM ai_usage_stats(group_by => '{month,hour}');
SELECT * FROM ai_usage_stats(group_by => ARRAY['model', NULL]);
-- A time zone PostgreSQL does not know (terse: the error comes from the
-- query that checks the zone's offset).
\set VERBOSITY terse
SELECT * FROM ai_usage_stats(group_by => '{day}', tz => 'Mars/Olympus_Mons');
\set VERBOSITY default

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
-- calendar units in the time zone p_tz (1.2's tz argument, UTC by
-- default); errors are calls whose status is not 'success' (NULL
-- included); unpriced calls are calls whose cost_usd is NULL; the cache
-- token sums and the mean time to first token skip NULLs, as the other
-- sums and means do.  An empty or NULL group_by gives one row even when no
-- call matches: the grouping set () does that, and HAVING keeps either the
-- () row or the grouped rows.
--
-- Beside the 22 columns of ai_usage_stats(), each percentile gets a flag
-- saying whether 1.2's histogram must give it exactly: percentile_cont
-- interpolates between two neighbouring values, and the histogram counts
-- every value below 100 ms exactly, so the percentile is exact when both
-- neighbours are below 100 ms.  The same percentile_cont over "duration_ms
-- >= 100" (0 or 1, in the same order as the durations) is 0 exactly then.
--
-- (The rows of ai_usage_stats() are of the type ai_usage_stats_row from 1.5.)
CREATE TYPE hand_row AS (
    bucket timestamptz, modelname text, version text, call_type text,
    status text, user_id uuid, calls bigint, errors bigint,
    input_tokens bigint, reasoning_tokens bigint, output_tokens bigint,
    cost_usd numeric, avg_duration_ms float8, p50_duration_ms float8,
    p95_duration_ms float8, p99_duration_ms float8, first_call timestamptz,
    last_call timestamptz, cache_read_input_tokens bigint,
    cache_creation_input_tokens bigint, unpriced_calls bigint,
    avg_time_to_first_token_ms float8,
    p50_exact boolean, p95_exact boolean, p99_exact boolean);

CREATE FUNCTION hand_stats(p_since timestamptz, p_until timestamptz,
                           p_group_by text[], p_modelname text,
                           p_call_type text, p_user_id uuid,
                           p_tz text DEFAULT 'UTC')
RETURNS SETOF hand_row
LANGUAGE sql STABLE
AS $$
WITH dims AS (
    SELECT coalesce(p_group_by, '{}') AS dims,
           (SELECT d FROM unnest(p_group_by) AS d
             WHERE d IN ('hour', 'day', 'week', 'month')) AS unit
), facts AS (
    SELECT CASE WHEN unit IS NOT NULL
                THEN date_trunc(unit, c.created_at AT TIME ZONE p_tz) AT TIME ZONE p_tz
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
       avg(facts.time_to_first_token_ms)::float8,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (duration_ms >= 100)::int) = 0,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY (duration_ms >= 100)::int) = 0,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY (duration_ms >= 100)::int) = 0
  FROM facts
 GROUP BY GROUPING SETS ((g_bucket, g_modelname, g_version, g_call_type,
                          g_status, g_user_id), ())
HAVING (GROUPING(g_bucket, g_modelname, g_version, g_call_type, g_status,
                 g_user_id) = 0) = (cardinality(coalesce(p_group_by, '{}')) > 0)
$$;

--
-- Does a row of ai_usage_stats() (c) agree with a hand-written one (h)?
-- The group, the counts, every sum, the cost and the averages must be
-- equal (IS NOT DISTINCT FROM: NULL matches NULL; numeric equality, so
-- 1.50 = 1.5, as 1.1's EXCEPT ALL compared them).  1.2 takes
-- p50/p95/p99 from a log-bucket histogram, documented within 1% of
-- percentile_cont's: each must be below 1% off, and equal when the flag
-- above says both its neighbours are below 100 ms, or when
-- exact_percentiles (the paths that read ai_call) asks for it.
-- first_call and last_call must be equal unless with_first_last is off,
-- which only the comparisons made before ai_rollup_compact() use.
--
CREATE FUNCTION percentile_agrees(c float8, h float8, exact boolean)
RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
SELECT CASE WHEN c IS NULL OR h IS NULL THEN c IS NULL AND h IS NULL
            WHEN exact THEN c = h
            ELSE abs(c - h) < 0.01 * h
       END
$$;

CREATE FUNCTION stats_agree(c ai_usage_stats_row, h hand_row,
                            exact_percentiles boolean DEFAULT false,
                            with_first_last boolean DEFAULT true)
RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
SELECT (c.bucket, c.modelname, c.version, c.call_type, c.status, c.user_id,
        c.calls, c.errors, c.input_tokens, c.reasoning_tokens, c.output_tokens,
        c.cost_usd, c.avg_duration_ms, c.cache_read_input_tokens,
        c.cache_creation_input_tokens, c.unpriced_calls,
        c.avg_time_to_first_token_ms)
       IS NOT DISTINCT FROM
       (h.bucket, h.modelname, h.version, h.call_type, h.status, h.user_id,
        h.calls, h.errors, h.input_tokens, h.reasoning_tokens, h.output_tokens,
        h.cost_usd, h.avg_duration_ms, h.cache_read_input_tokens,
        h.cache_creation_input_tokens, h.unpriced_calls,
        h.avg_time_to_first_token_ms)
   AND (NOT with_first_last
        OR (c.first_call, c.last_call) IS NOT DISTINCT FROM (h.first_call, h.last_call))
   AND percentile_agrees(c.p50_duration_ms, h.p50_duration_ms, exact_percentiles OR h.p50_exact)
   AND percentile_agrees(c.p95_duration_ms, h.p95_duration_ms, exact_percentiles OR h.p95_exact)
   AND percentile_agrees(c.p99_duration_ms, h.p99_duration_ms, exact_percentiles OR h.p99_exact)
$$;

--
-- One comparison: how many rows ai_usage_stats() returns, how many of
-- them the hand-written query has no agreeing row for and vice versa, and
-- whether the rows come ordered by the grouping columns (the columns not
-- grouped are all NULL, so ordering by all six is ordering by the grouped
-- ones).  Rows are paired by their six group columns; a row whose group
-- comes twice on its side counts as unmatched (as EXCEPT ALL, which 1.1
-- used, would count the extra copy), so only_in_c = only_in_sql = 0 means
-- the two sides agree row for row.
--
CREATE FUNCTION compare_stats(p_since timestamptz, p_until timestamptz,
                              p_group_by text[], p_modelname text,
                              p_call_type text, p_user_id uuid,
                              p_tz text DEFAULT 'UTC',
                              p_exact_percentiles boolean DEFAULT false,
                              p_with_first_last boolean DEFAULT true,
                              OUT result_rows bigint, OUT only_in_c bigint,
                              OUT only_in_sql bigint, OUT ordered boolean)
LANGUAGE sql STABLE
AS $$
WITH c AS MATERIALIZED (
    SELECT s AS r,
           ROW(s.bucket, s.modelname, s.version, s.call_type, s.status, s.user_id)::text AS k
      FROM ai_usage_stats($1, $2, $3, $4, $5, $6, $7) AS s
), h AS MATERIALIZED (
    SELECT s::hand_row AS r,
           ROW(s.bucket, s.modelname, s.version, s.call_type, s.status, s.user_id)::text AS k
      FROM hand_stats($1, $2, $3, $4, $5, $6, $7) AS s
), matched AS (
    SELECT c.k
      FROM (SELECT *, count(*) OVER (PARTITION BY k) AS copies FROM c) AS c
      JOIN (SELECT *, count(*) OVER (PARTITION BY k) AS copies FROM h) AS h ON h.k = c.k
     WHERE c.copies = 1 AND h.copies = 1
       AND stats_agree(c.r, h.r, $8, $9)
)
SELECT (SELECT count(*) FROM c),
       (SELECT count(*) FROM c WHERE c.k NOT IN (SELECT k FROM matched)),
       (SELECT count(*) FROM h WHERE h.k NOT IN (SELECT k FROM matched)),
       (SELECT coalesce(bool_and(n = rn), true)
          FROM (SELECT n, row_number() OVER (ORDER BY bucket, modelname, version,
                                                       call_type, status, user_id) AS rn
                  FROM ai_usage_stats($1, $2, $3, $4, $5, $6, $7) WITH ORDINALITY
                       AS s(bucket, modelname, version, call_type, status, user_id,
                            calls, errors, input_tokens, reasoning_tokens,
                            output_tokens, cost_usd, avg_duration_ms,
                            p50_duration_ms, p95_duration_ms, p99_duration_ms,
                            first_call, last_call, cache_read_input_tokens,
                            cache_creation_input_tokens, unpriced_calls,
                            avg_time_to_first_token_ms, n)) AS o)
$$;

--
-- The rollups right after that UPDATE.  record_ai_call() wrote all 2000
-- calls in one statement, at one now(), and the UPDATE moved every one of
-- them out of that hour: for each call, the rollup trigger appended a row
-- that adds it to its new hour and one that takes it away from the old
-- hour, and nothing has been compacted yet.  Counts, sums, costs, averages
-- and latency histograms cancel out exactly in such a pair; first_call and
-- last_call cannot (a minimum or a maximum does not subtract), so until
-- ai_rollup_compact() runs they may still name a call that moved away:
-- the totals' last_call is still the time of the INSERT.
--
SELECT last_call > (SELECT max(created_at) FROM ai_call) AS last_call_is_stale,
       first_call = (SELECT min(created_at) FROM ai_call) AS first_call_is_right,
       calls = (SELECT count(*) FROM ai_call) AS calls_are_right
  FROM ai_usage_stats(group_by => '{}');
SELECT count(*) FILTER (WHERE pending) = count(*) AS all_pending,
       (SELECT count(*) FROM ai_usage_rollup_total) AS compacted_total_rows
  FROM ai_usage_rollup;
-- Everything but first_call and last_call already agrees, from the pending
-- rows alone.
SELECT coalesce(g, '(null)') AS group_by, r.*
  FROM unnest(ARRAY[
           NULL, '{}', '{model}', '{modelname}', '{call_type}', '{status}',
           '{user}', '{hour}', '{day}', '{week}', '{month}',
           '{model,modelname}', '{modelname,status}', '{month,status,model}',
           '{model,call_type,day}', '{status,user,week}',
           '{call_type,user,month}', '{model,call_type,status,user,hour}'
       ]::text[][]) WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, g::text[], NULL, NULL, NULL,
                     p_with_first_last => false) AS r
 ORDER BY ord;

--
-- Compaction folds the pending rows into one row per group (and the same
-- summed over users into ai_usage_rollup_total) and, for the groups that
-- lost calls, looks first_call and last_call up again in ai_call; here the
-- hour of the INSERT is left without calls and goes away.  It runs here so
-- that every comparison below holds first_call and last_call exact too.
-- A second run finds nothing to fold.
--
SELECT ai_rollup_compact() > 0 AS folded;
SELECT ai_rollup_compact() AS folded_again;
SELECT count(*) FILTER (WHERE pending) AS pending_rows,
       count(*) = (SELECT count(DISTINCT (date_trunc('hour', created_at, 'UTC'), model_id,
                                          call_type, status, user_id))
                     FROM ai_call) AS one_row_per_group,
       (SELECT count(*) FROM ai_usage_rollup_total)
         = (SELECT count(DISTINCT (date_trunc('hour', created_at, 'UTC'), model_id,
                                   call_type, status))
              FROM ai_call) AS one_total_row_per_group
  FROM ai_usage_rollup;
SELECT last_call = (SELECT max(created_at) FROM ai_call) AS last_call_is_right
  FROM ai_usage_stats(group_by => '{}');

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

-- The percentiles are really checked: how many of them the comparison
-- above holds to "equal" (both neighbours below 100 ms) and to "within
-- 1%", at the finest grouping, and how far off the histogram is at most.
SELECT count(*) FILTER (WHERE p.exact) AS held_exact,
       count(*) FILTER (WHERE NOT p.exact) AS held_within_1pct,
       count(*) FILTER (WHERE p.c = p.h) AS equal,
       max(abs(p.c - p.h) / p.h) < 0.01 AS max_error_below_1pct
  FROM ai_usage_stats(group_by => '{model,call_type,status,user,hour}') AS c
  JOIN hand_stats(NULL, NULL, '{model,call_type,status,user,hour}', NULL, NULL, NULL) AS h
    ON ROW(c.bucket, c.modelname, c.version, c.call_type, c.status, c.user_id)::text
       = ROW(h.bucket, h.modelname, h.version, h.call_type, h.status, h.user_id)::text,
       LATERAL (VALUES (c.p50_duration_ms, h.p50_duration_ms, h.p50_exact),
                       (c.p95_duration_ms, h.p95_duration_ms, h.p95_exact),
                       (c.p99_duration_ms, h.p99_duration_ms, h.p99_exact)) AS p(c, h, exact)
 WHERE p.h IS NOT NULL;

-- The default group_by is '{model}'.
SELECT (SELECT count(*) FROM ai_usage_stats() AS c
         WHERE NOT EXISTS (SELECT FROM hand_stats(NULL, NULL, '{model}', NULL, NULL, NULL) AS h
                            WHERE stats_agree(c, h)))
     + (SELECT count(*) FROM hand_stats(NULL, NULL, '{model}', NULL, NULL, NULL) AS h
         WHERE NOT EXISTS (SELECT FROM ai_usage_stats() AS c
                            WHERE stats_agree(c, h))) AS differing;

--
-- Every filter alone, all of them together, and empty windows, each with
-- totals and two groupings.  2024-03-01 00:00 and 2024-03-26 00:00 each
-- hold exactly one call, so since and until sit on a call.  (1.2: since
-- and until on whole hours read only the rollups; "mid-hour" makes both
-- ends partial hours, read from ai_call, around the whole hours between;
-- "in one hour" and "across 00:00" hold no whole hour at all.)
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
         NULL, NULL, NULL),
        (14, 'mid-hour', '2024-02-20 10:30:00+00', '2024-03-20 17:45:00+00',
         NULL, NULL, NULL),
        (15, 'in one hour', '2024-03-01 00:00:00+00', '2024-03-01 00:45:00+00',
         NULL, NULL, NULL),
        (16, 'across 00:00', '2024-02-29 23:30:00+00', '2024-03-01 00:30:00+00',
         NULL, NULL, NULL),
        (17, 'mid-hour all five', '2024-02-20 10:30:00+00', '2024-03-20 17:45:00+00',
         'gpt', 'chat', '00000000-0000-0000-0000-000000000001')
       ) AS f(ord, label, since, until, modelname, call_type, user_id),
       (VALUES (1, '{}'::text[]), (2, '{model,status}'),
               (3, '{modelname,call_type,user,day}')) AS g(ord, group_by),
       compare_stats(f.since, f.until, g.group_by, f.modelname, f.call_type,
                     f.user_id) AS r
 ORDER BY f.ord, g.ord;

--
-- One case written out in full, without the helpers: by model, status and
-- week, all filters but user_id.  Every column but the percentiles must be
-- equal (EXCEPT ALL both ways); the percentiles, from 1.2's histogram,
-- within 1%, and equal in the groups whose durations are all below 100 ms
-- (two groups of one call each, here).
--
WITH fn AS (
    SELECT * FROM ai_usage_stats('2024-02-15 12:00+00', '2024-04-01 00:00+00',
                                 '{week,status,model}', 'gpt', 'embed')
), by_hand AS (
    SELECT date_trunc('week', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS bucket,
           m.modelname, m.version, NULL::text AS call_type, c.status, NULL::uuid AS user_id,
           count(*) AS calls,
           count(*) FILTER (WHERE c.status IS NULL OR c.status <> 'success') AS errors,
           sum(c.input_tokens) AS input_tokens, sum(c.reasoning_tokens) AS reasoning_tokens,
           sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
           avg(c.duration_ms)::float8 AS avg_duration_ms,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms) AS p50_duration_ms,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms) AS p95_duration_ms,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms) AS p99_duration_ms,
           min(c.created_at) AS first_call, max(c.created_at) AS last_call,
           sum(c.cache_read_input_tokens) AS cache_read_input_tokens,
           sum(c.cache_creation_input_tokens) AS cache_creation_input_tokens,
           count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls,
           avg(c.time_to_first_token_ms)::float8 AS avg_time_to_first_token_ms,
           max(c.duration_ms) AS max_duration_ms
      FROM ai_call c JOIN ai_model m ON m.id = c.model_id
     WHERE c.created_at >= '2024-02-15 12:00+00'
       AND c.created_at < '2024-04-01 00:00+00'
       AND m.modelname = 'gpt' AND c.call_type = 'embed'
     GROUP BY 1, 2, 3, 5
)
SELECT (SELECT count(*) FROM fn) AS result_rows,
       (SELECT count(*) FROM (
            SELECT bucket, modelname, version, call_type, status, user_id, calls, errors,
                   input_tokens, reasoning_tokens, output_tokens, cost_usd, avg_duration_ms,
                   first_call, last_call, cache_read_input_tokens,
                   cache_creation_input_tokens, unpriced_calls, avg_time_to_first_token_ms
              FROM fn
            EXCEPT ALL
            SELECT bucket, modelname, version, call_type, status, user_id, calls, errors,
                   input_tokens, reasoning_tokens, output_tokens, cost_usd, avg_duration_ms,
                   first_call, last_call, cache_read_input_tokens,
                   cache_creation_input_tokens, unpriced_calls, avg_time_to_first_token_ms
              FROM by_hand) AS d) AS only_in_c,
       (SELECT count(*) FROM (
            SELECT bucket, modelname, version, call_type, status, user_id, calls, errors,
                   input_tokens, reasoning_tokens, output_tokens, cost_usd, avg_duration_ms,
                   first_call, last_call, cache_read_input_tokens,
                   cache_creation_input_tokens, unpriced_calls, avg_time_to_first_token_ms
              FROM by_hand
            EXCEPT ALL
            SELECT bucket, modelname, version, call_type, status, user_id, calls, errors,
                   input_tokens, reasoning_tokens, output_tokens, cost_usd, avg_duration_ms,
                   first_call, last_call, cache_read_input_tokens,
                   cache_creation_input_tokens, unpriced_calls, avg_time_to_first_token_ms
              FROM fn) AS d) AS only_in_sql,
       (SELECT count(*)
          FROM fn JOIN by_hand h
            ON (fn.bucket, fn.modelname, fn.version) = (h.bucket, h.modelname, h.version)
           AND fn.status IS NOT DISTINCT FROM h.status
         WHERE CASE WHEN h.max_duration_ms < 100
                    THEN (fn.p50_duration_ms, fn.p95_duration_ms, fn.p99_duration_ms)
                         = (h.p50_duration_ms, h.p95_duration_ms, h.p99_duration_ms)
                    ELSE abs(fn.p50_duration_ms - h.p50_duration_ms) < 0.01 * h.p50_duration_ms
                     AND abs(fn.p95_duration_ms - h.p95_duration_ms) < 0.01 * h.p95_duration_ms
                     AND abs(fn.p99_duration_ms - h.p99_duration_ms) < 0.01 * h.p99_duration_ms
               END) AS percentiles_agreeing,
       (SELECT count(*) FROM by_hand WHERE max_duration_ms < 100) AS groups_below_100ms;

--
-- Buckets are UTC whatever the session's timezone (tz defaults to 'UTC'):
-- New York (UTC-5, UTC-4 from 2024-03-10) moves every day, week and month
-- boundary, Kolkata (UTC+5:30) every hour boundary.
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
-- 1.2's tz argument: buckets cut in that zone.  New York's offset is a
-- whole number of hours, also across its DST change on 2024-03-10, so its
-- hours, days, weeks and months are made of whole UTC hours and come from
-- the rollups (percentiles within 1%).
--
SELECT g AS group_by, r.*
  FROM unnest('{hour,day,week,month,"model,call_type,status,user,day"}'::text[])
       WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, string_to_array(g, ','), NULL, NULL, NULL,
                     'America/New_York') AS r
 ORDER BY ord;
SELECT r.*
  FROM compare_stats('2024-03-09 22:30:00+00', '2024-03-11 04:15:00+00', '{hour,model}',
                     NULL, NULL, NULL, 'America/New_York') AS r;

--
-- Kolkata (UTC+5:30) cuts its hours at half past UTC hours, which whole
-- UTC hours cannot make: for such a zone ai_usage_stats() reads ai_call
-- itself, whatever the grouping (it looks at the zone, not at group_by),
-- and its percentiles are percentile_cont's, exactly, as 1.1's were.
-- Without a time bucket the zone plays no part, so these are the UTC
-- results (hand_stats ignores p_tz then), now with exact percentiles.
--
SELECT coalesce(g, '(null)') AS group_by, r.*
  FROM unnest(ARRAY[
           NULL, '{}', '{model}', '{modelname}', '{call_type}', '{status}',
           '{user}', '{model,modelname}', '{modelname,status}',
           '{model,call_type,status,user}'
       ]::text[][]) WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, g::text[], NULL, NULL, NULL,
                     'Asia/Kolkata', true) AS r
 ORDER BY ord;
-- Filters, including partial hours, through the same path.
SELECT f.label, g.group_by, r.*
  FROM (VALUES
        (1, 'since+until', timestamptz '2024-03-01 00:00:00+00',
         timestamptz '2024-03-26 00:00:00+00', NULL::text, NULL::text, NULL::uuid),
        (2, 'mid-hour', '2024-02-20 10:30:00+00', '2024-03-20 17:45:00+00',
         NULL, NULL, NULL),
        (3, 'all five', '2024-03-01 00:00:00+00', '2024-03-26 00:00:00+00',
         'gpt', 'chat', '00000000-0000-0000-0000-000000000001')
       ) AS f(ord, label, since, until, modelname, call_type, user_id),
       (VALUES (1, '{}'::text[]), (2, '{model,status}'),
               (3, '{modelname,call_type,user}')) AS g(ord, group_by),
       compare_stats(f.since, f.until, g.group_by, f.modelname, f.call_type,
                     f.user_id, 'Asia/Kolkata', true) AS r
 ORDER BY f.ord, g.ord;
-- And time buckets in Kolkata, from the same path: exact too.
SELECT g AS group_by, r.*
  FROM unnest('{hour,day,week,month,"model,call_type,status,user,hour"}'::text[])
       WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, string_to_array(g, ','), NULL, NULL, NULL,
                     'Asia/Kolkata', true) AS r
 ORDER BY ord;
-- Side by side, by model: every column but the percentiles is the same in
-- UTC (from the rollups) and in Kolkata (from ai_call); the percentiles of
-- Kolkata are percentile_cont's to the last digit, UTC's the histogram's.
SELECT u.modelname, u.version,
       (u.calls, u.errors, u.input_tokens, u.reasoning_tokens, u.output_tokens,
        u.cost_usd, u.avg_duration_ms, u.first_call, u.last_call,
        u.cache_read_input_tokens, u.cache_creation_input_tokens, u.unpriced_calls,
        u.avg_time_to_first_token_ms)
       IS NOT DISTINCT FROM
       (k.calls, k.errors, k.input_tokens, k.reasoning_tokens, k.output_tokens,
        k.cost_usd, k.avg_duration_ms, k.first_call, k.last_call,
        k.cache_read_input_tokens, k.cache_creation_input_tokens, k.unpriced_calls,
        k.avg_time_to_first_token_ms) AS same_other_columns,
       round(u.p50_duration_ms::numeric, 3) AS p50_utc,
       round(k.p50_duration_ms::numeric, 3) AS p50_kolkata,
       k.p50_duration_ms = h.p50_duration_ms AS p50_kolkata_exact,
       round(u.p99_duration_ms::numeric, 3) AS p99_utc,
       round(k.p99_duration_ms::numeric, 3) AS p99_kolkata,
       k.p99_duration_ms = h.p99_duration_ms AS p99_kolkata_exact
  FROM ai_usage_stats(tz => 'UTC') AS u
  JOIN ai_usage_stats(tz => 'Asia/Kolkata') AS k
    ON (k.modelname, k.version) = (u.modelname, u.version)
  JOIN hand_stats(NULL, NULL, '{model}', NULL, NULL, NULL) AS h
    ON (h.modelname, h.version) = (u.modelname, u.version)
 ORDER BY u.modelname, u.version;

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
-- (Latencies rounded: percentile_cont interpolates in float8.  1.2: the
-- percentiles are the histogram's, within 1% of percentile_cont's, which
-- the Kolkata comparison above shows exactly.)
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

--
-- 1.2: writes after compaction, whose pending rows add to and take from
-- compacted groups: calls moved to another status, calls moved by 90
-- minutes (often into another hour, some into another day), calls
-- deleted.  Until the next compaction everything but first_call and
-- last_call agrees; the groups that lost their first or last call still
-- name it; compaction looks those up again, and then everything agrees.
--
UPDATE ai_call SET status = 'error' WHERE (extra ->> 'i')::int % 50 = 1;
UPDATE ai_call SET created_at = created_at + interval '90 minutes'
 WHERE (extra ->> 'i')::int % 37 = 2;
DELETE FROM ai_call WHERE (extra ->> 'i')::int % 29 = 3;
SELECT g AS group_by, r.*
  FROM unnest(ARRAY['{}', '{model}', '{status}', '{day}', '{status,user,week}',
                    '{model,call_type,status,user,hour}']::text[][])
       WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, g::text[], NULL, NULL, NULL,
                     p_with_first_last => false) AS r
 ORDER BY ord;
SELECT count(*) > 0 AS some_day_names_a_removed_call
  FROM ai_usage_stats(group_by => '{day}') AS c
  JOIN hand_stats(NULL, NULL, '{day}', NULL, NULL, NULL) AS h USING (bucket)
 WHERE (c.first_call, c.last_call) IS DISTINCT FROM (h.first_call, h.last_call);
SELECT ai_rollup_compact() > 0 AS folded;
SELECT g AS group_by, r.*
  FROM unnest(ARRAY['{}', '{model}', '{status}', '{day}', '{status,user,week}',
                    '{model,call_type,status,user,hour}']::text[][])
       WITH ORDINALITY AS u(g, ord),
       compare_stats(NULL, NULL, g::text[], NULL, NULL, NULL) AS r
 ORDER BY ord;

--
-- 1.2: ai_purge_calls() deletes the calls made before 2024-02-20, in
-- batches, and keeps their numbers in ai_usage_purged: the stats of those
-- days do not change at all, not even the percentiles (the same
-- histograms, moved), neither before compaction nor after; the stats from
-- 2024-02-20 on still agree with ai_call.
--
CREATE TEMP TABLE stats_before_purge AS
SELECT * FROM ai_usage_stats(NULL, '2024-02-20 00:00+00', '{day,model,call_type,status,user}');
CREATE TEMP TABLE totals_before_purge AS
SELECT * FROM ai_usage_stats(group_by => '{model}');
SELECT count(*) AS calls_to_purge FROM ai_call WHERE created_at < '2024-02-20 00:00+00';
CALL ai_purge_calls('2024-02-20 00:00+00', batch_size => 100);
SELECT count(*) AS calls_left_before FROM ai_call WHERE created_at < '2024-02-20 00:00+00';
SELECT sum(calls) AS purged_calls, min(first_call), max(last_call) FROM ai_usage_purged;
CREATE FUNCTION differing_from(before regclass, p_until timestamptz, p_group_by text[])
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((SELECT * FROM ai_usage_stats(NULL, $1, $2)
                                           EXCEPT ALL SELECT * FROM %s)
                                          UNION ALL
                                          (SELECT * FROM %s
                                           EXCEPT ALL SELECT * FROM ai_usage_stats(NULL, $1, $2))) AS d',
                   before, before)
       INTO n USING p_until, p_group_by;
    RETURN n;
END;
$$;
SELECT differing_from('stats_before_purge', '2024-02-20 00:00+00',
                      '{day,model,call_type,status,user}') AS differing_days,
       differing_from('totals_before_purge', NULL, '{model}') AS differing_totals;
SELECT ai_rollup_compact() > 0 AS folded;
SELECT differing_from('stats_before_purge', '2024-02-20 00:00+00',
                      '{day,model,call_type,status,user}') AS differing_days,
       differing_from('totals_before_purge', NULL, '{model}') AS differing_totals;
SELECT g AS group_by, r.*
  FROM unnest(ARRAY['{}', '{model}', '{day}', '{model,call_type,status,user,hour}']::text[][])
       WITH ORDINALITY AS u(g, ord),
       compare_stats('2024-02-20 00:00+00', NULL, g::text[], NULL, NULL, NULL) AS r
 ORDER BY ord;

-- ai_purge_content() blanks prompts and responses and leaves the numbers
-- alone: the rollup rows its UPDATEs append cancel out, so the stats stay
-- the same, and once compacted the rollups are what they were.
CREATE TEMP TABLE totals_before_content AS
SELECT * FROM ai_usage_stats(group_by => '{day,model}');
CREATE TEMP TABLE rollup_before_content AS SELECT * FROM ai_usage_rollup;
CREATE TEMP TABLE rollup_total_before_content AS SELECT * FROM ai_usage_rollup_total;
CALL ai_purge_content('2024-03-01 00:00+00', batch_size => 100);
SELECT count(*) FILTER (WHERE prompt = '' AND response = 'null') AS blanked,
       count(*) FILTER (WHERE created_at < '2024-03-01 00:00+00') AS before_march
  FROM ai_call;
SELECT differing_from('totals_before_content', NULL, '{day,model}') AS differing;
SELECT ai_rollup_compact() > 0 AS folded;
SELECT differing_from('totals_before_content', NULL, '{day,model}') AS differing;
SELECT (SELECT count(*) FROM ((TABLE ai_usage_rollup EXCEPT ALL TABLE rollup_before_content)
                              UNION ALL
                              (TABLE rollup_before_content EXCEPT ALL TABLE ai_usage_rollup)) AS d)
       AS rollup_rows_changed,
       (SELECT count(*) FROM ((TABLE ai_usage_rollup_total
                               EXCEPT ALL TABLE rollup_total_before_content)
                              UNION ALL
                              (TABLE rollup_total_before_content
                               EXCEPT ALL TABLE ai_usage_rollup_total)) AS d)
       AS total_rows_changed;

-- 1.9: ai_hist_merge() aggregates in parts (combine, serial and deserial
-- functions): a parallel plan of partial aggregates gives the same
-- histograms, and so the same percentiles, as a plan without workers.
CREATE TABLE hist_parts AS
SELECT ai_hist_of((i * 7919) % 60000, 1 + i % 3) AS h, i % 7 AS g FROM generate_series(1, 20000) i;
ANALYZE hist_parts;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE hist_serial AS SELECT g, ai_hist_merge(h) AS m FROM hist_parts GROUP BY g;
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT g, ai_hist_merge(h) FROM hist_parts GROUP BY g;
SELECT count(*) AS differing
  FROM (SELECT g, ai_hist_merge(h) AS m FROM hist_parts GROUP BY g) p
  FULL JOIN hist_serial s USING (g)
 WHERE p.m IS DISTINCT FROM s.m;
SELECT g, round(ai_hist_percentile(ai_hist_merge(h), 0.5)::numeric, 3) AS p50,
       round(ai_hist_percentile(ai_hist_merge(h), 0.99)::numeric, 3) AS p99
  FROM hist_parts GROUP BY g ORDER BY g;
-- 1.10: ai_hist_sum(), the same merge with a state of a real type (what
-- Citus computes on its shards): the same histograms, in parts too, and
-- NULL for no histogram or only NULLs.
EXPLAIN (COSTS OFF) SELECT g, ai_hist_sum(h) FROM hist_parts GROUP BY g;
SELECT count(*) AS differing
  FROM (SELECT g, ai_hist_sum(h) AS m FROM hist_parts GROUP BY g) p
  FULL JOIN hist_serial s USING (g)
 WHERE p.m IS DISTINCT FROM s.m;
SELECT ai_hist_sum(h) IS NULL AS none FROM hist_parts WHERE false;
SELECT ai_hist_sum(NULL::integer[]) IS NULL AS only_nulls FROM generate_series(1, 3);
SELECT ai_hist_sum(h) AS cancelled FROM (VALUES (ai_hist_of(5, 2)), (ai_hist_of(5, -2))) v(h);
SELECT ai_hist_sum_final('{1,2}'::bigint[]);
RESET enable_hashagg;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
RESET max_parallel_workers_per_gather;
DROP TABLE hist_parts;

DROP FUNCTION compare_stats(timestamptz, timestamptz, text[], text, text, uuid, text, boolean, boolean);
DROP FUNCTION stats_agree(ai_usage_stats_row, hand_row, boolean, boolean);
DROP FUNCTION percentile_agrees(float8, float8, boolean);
DROP FUNCTION hand_stats(timestamptz, timestamptz, text[], text, text, uuid, text);
DROP FUNCTION differing_from(regclass, timestamptz, text[]);
DROP TYPE hand_row;
-- 1.3: DROP EXTENSION refuses while ai_call holds calls; these are test calls.
SET aitrack.allow_drop = on;
DROP EXTENSION aitrack;

