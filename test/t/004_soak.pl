# test/t/004_soak.pl: many sessions recording calls while models are
# deleted, calls purged and rollups compacted under them, for a bounded time.
#
# pgbench runs 8 clients for $seconds seconds (15 by default;
# AITRACK_SOAK_SECONDS=N runs longer by hand) with three scripts:
#   - record_ai_call() with named arguments (weight 8),
#   - record_ai_call() in the seed's shape, metrics as one JSON object (1),
#   - record_ai_calls(), a batch of three calls of one model (1),
# each for a model drawn from a small pool (6 names x 2 versions, so the same
# models are hit all the time) or, one call in seven, from a pool of 100 rare
# ones (so new models keep appearing), with random tokens, cost (or none),
# latency, call_type, status and user.
#
# Meanwhile one session loops: it deletes two random models (their calls go
# with them, ON DELETE CASCADE; the next call re-creates them), runs
# CALL ai_purge_calls(now() - interval '2 seconds', 100) and
# SELECT ai_rollup_compact(), and checks that no call is without its model
# and that no compacted rollup row has a negative count or sum.
#
# Asserted at the end:
#   - pgbench ran to the end: no client aborted, no deadlock, and the only
#     failed transactions are the documented serialization failure (40001
#     "could not record call[s]: model ... was deleted while recording",
#     which takes the model being created and deleted again 5 times during
#     one call); they are counted, allowed and printed, and the server log
#     holds exactly that many errors and no other;
#   - every ai_call.model_id exists in ai_model, during the run and after;
#   - ai_usage_stats(group_by => '{model,status}') equals the aggregates
#     written by hand over ai_call plus ai_usage_purged: before the final
#     ai_rollup_compact() for the counts and sums, after it also for the
#     first and last call;
#   - after the final ai_rollup_compact(): nothing pending, and
#     ai_usage_rollup and ai_usage_rollup_total equal the aggregates written
#     by hand over ai_call, every column;
#   - no negative count or sum in ai_usage_rollup, ai_usage_rollup_total or
#     ai_usage_purged.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use AitrackRollupCheck;
use IPC::Run;
use Time::HiRes qw(time usleep);

my $seconds = $ENV{AITRACK_SOAK_SECONDS} || 15;
my $clients = 8;

my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('soak');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
# init sets log_statement = all: hundreds of thousands of lines for nothing.
log_statement = none
max_connections = 30
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION aitrack CASCADE');

# The pgbench scripts.  A model: one of soak-1 .. soak-6, versions v1 and
# v2, or one in seven calls one of soak-rare-0 .. soak-rare-99.
my $model = q{CASE WHEN :r % 7 = 0 THEN 'soak-rare-' || :tok % 100 ELSE 'soak-' || :m END};
my $vars = q{\set m random(1, 6)
\set v random(1, 2)
\set r random(1, 1000)
\set tok random(0, 4000)
\set dur random(0, 3000)
\set u random(0, 9)
};
my $status = q{(ARRAY['success', 'success', 'success', 'error', 'timeout', 'rate_limited'])[1 + :r % 6]};
append_to_file("$tempdir/call.sql", $vars . qq{
SELECT record_ai_call($model, 'v' || :v, 'prompt ' || :r, '{"text": "ok"}',
    input_tokens => :tok, reasoning_tokens => :tok / 8, output_tokens => :tok / 4,
    cache_read_input_tokens => :tok / 2,
    cost_usd => CASE WHEN :r % 4 = 0 THEN NULL ELSE :tok * 0.000001 END,
    duration_ms => :dur, call_type => 'ct' || :r % 3, status => $status,
    user_id => ('00000000-0000-0000-0000-00000000000' || :u)::uuid);
});
append_to_file("$tempdir/metrics.sql", $vars . qq{
SELECT record_ai_call($model, 'v' || :v, 'prompt ' || :r, '{"text": "ok"}',
    jsonb_build_object('input_tokens', :tok, 'output_tokens', :tok / 3,
                       'cost_usd', CASE WHEN :r % 5 = 0 THEN NULL ELSE :tok * 0.000002 END,
                       'duration_ms', :dur, 'status', $status),
    'ct' || :r % 3, ('00000000-0000-0000-0000-00000000000' || :u)::uuid);
});
append_to_file("$tempdir/batch.sql", $vars . qq{
SELECT count(*) FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_build_object(
           'modelname', $model, 'version', 'v' || :v, 'prompt', 'batch ' || i,
           'response', '{}'::jsonb, 'input_tokens', :tok + i, 'output_tokens', i,
           'duration_ms', :dur + i, 'call_type', 'batch', 'status', $status,
           'user_id', '00000000-0000-0000-0000-00000000000' || :u))
    FROM generate_series(1, 3) AS i));
});

my ($pgbench_out, $pgbench_err) = ("$tempdir/pgbench.out", "$tempdir/pgbench.err");
my $log_offset = -s $node->logfile;
my $started = time();
my $pgbench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', $clients, '-j', 2, '-T', $seconds,
		'--failures-detailed', '--verbose-errors',
		'-f', "$tempdir/call.sql\@8", '-f', "$tempdir/metrics.sql\@1",
		'-f', "$tempdir/batch.sql\@1",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'<', \undef, '>', $pgbench_out, '2>', $pgbench_err,
	IPC::Run::timeout($seconds + $PostgreSQL::Test::Utils::timeout_default));

# The maintenance loop, until pgbench's time is up.
my ($rounds, $deleted_models, $purged, $folded) = (0, 0, 0, 0);
my ($orphans, $negative) = (0, 0);
my $negative_rows = q{
       (calls < 0 OR input_tokens < 0 OR input_tokens_n < 0 OR reasoning_tokens < 0
        OR reasoning_tokens_n < 0 OR output_tokens < 0 OR output_tokens_n < 0
        OR cache_read_input_tokens < 0 OR cache_read_input_tokens_n < 0
        OR cache_creation_input_tokens < 0 OR cache_creation_input_tokens_n < 0
        OR cost_usd < 0 OR cost_usd_n < 0 OR duration_ms < 0 OR duration_ms_n < 0
        OR time_to_first_token_ms < 0 OR time_to_first_token_ms_n < 0)};
my $negative_count = qq{
SELECT (SELECT count(*) FROM ai_usage_rollup WHERE NOT pending AND $negative_rows)
     + (SELECT count(*) FROM ai_usage_rollup_total WHERE $negative_rows)
     + (SELECT count(*) FROM ai_usage_purged WHERE $negative_rows)};
my $orphan_count = q{
SELECT count(*) FROM ai_call c WHERE NOT EXISTS (SELECT FROM ai_model m WHERE m.id = c.model_id)};
while (time() < $started + $seconds)
{
	my ($d, $p, $f, $o, $n) = split /\n/, $node->safe_psql('postgres', qq{
SET client_min_messages = warning;
WITH gone AS (DELETE FROM ai_model
               WHERE id IN (SELECT id FROM ai_model ORDER BY random() LIMIT 2)
              RETURNING 1)
SELECT count(*) FROM gone;
CALL ai_purge_calls(now() - interval '2 seconds', 100);
SELECT COALESCE(sum(calls), 0) FROM ai_usage_purged;
SELECT ai_rollup_compact();
$orphan_count;
$negative_count;
});
	$rounds++;
	$deleted_models += $d;
	$purged = $p;
	$folded += $f;
	$orphans += $o;
	$negative += $n;
}
$pgbench->finish;
my $pgbench_rc = $pgbench->result(0);
my $out = slurp_file($pgbench_out);
my $err = slurp_file($pgbench_err);
note "pgbench output:\n$out";

is($pgbench_rc, 0, 'pgbench ran to the end (no client aborted)')
  or diag "pgbench stderr:\n$err";
my ($processed) = $out =~ /^number of transactions actually processed: (\d+)/m;
my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
my ($serialization) = $out =~ /^number of serialization failures: (\d+)/m;
my ($deadlocks) = $out =~ /^number of deadlock failures: (\d+)/m;
ok(defined $processed && defined $failed && defined $serialization && defined $deadlocks,
	'pgbench reported its counts');
cmp_ok($processed, '>=', 100, "pgbench recorded calls ($processed transactions)");
is($deadlocks, 0, 'no deadlock');
is($failed, $serialization, 'every failed transaction is a serialization failure');

# The failures pgbench printed (--verbose-errors) and the errors in the
# server log: the documented one only, as many as pgbench counted.
my $documented =
  qr/could not record calls?: model "[^"]+" version "[^"]+" was deleted while recording/;
my @client_errors = grep { /error|failure|ERROR/ } split /\n/, $err;
is(join("\n", grep { !/$documented/ } @client_errors),
	'', 'pgbench saw no error but the documented one');
my @log_errors = grep { /\b(ERROR|FATAL|PANIC):/ } split /\n/,
  slurp_file($node->logfile, $log_offset);
is(join("\n", grep { !/$documented/ } @log_errors),
	'', 'the server logged no error but the documented one');
is(scalar(@log_errors), $serialization,
	'the server logged one documented error per failed transaction');
diag sprintf(
	"soak: %d s, %d transactions, %d failed with the documented 40001 "
	  . "(model deleted while recording); %d maintenance rounds, %d models deleted, "
	  . "%d calls purged, %d pending rollup rows folded",
	$seconds, $processed // 0, $serialization // 0, $rounds, $deleted_models,
	$purged, $folded);

cmp_ok($rounds, '>=', 3, "the maintenance loop ran ($rounds rounds)");
cmp_ok($deleted_models, '>', 0, 'models were deleted under the writers');
is($orphans, 0, 'no call without its model, at any round');
is($negative, 0, 'no negative compacted rollup row, at any round');

# After the run: no orphans.
is($node->safe_psql('postgres', $orphan_count), '0', 'no call without its model');
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM ai_call'),
	'>', 0, 'there are calls left');

# ai_usage_stats() against the same numbers by hand, over ai_call and the
# purged calls (of the models still there).
sub stats_by_hand
{
	my ($first_last) = @_;
	my $fl = $first_last ? ', first_call, last_call' : '';
	return qq{
WITH u AS (
  SELECT c.model_id, c.status, 1::bigint AS calls,
         c.input_tokens::bigint AS input_tokens, (c.input_tokens IS NOT NULL)::int AS input_tokens_n,
         c.reasoning_tokens::bigint AS reasoning_tokens, (c.reasoning_tokens IS NOT NULL)::int AS reasoning_tokens_n,
         c.output_tokens::bigint AS output_tokens, (c.output_tokens IS NOT NULL)::int AS output_tokens_n,
         c.cache_read_input_tokens::bigint AS cache_read_input_tokens,
         (c.cache_read_input_tokens IS NOT NULL)::int AS cache_read_input_tokens_n,
         c.cost_usd, (c.cost_usd IS NOT NULL)::int AS cost_usd_n,
         c.duration_ms::bigint AS duration_ms, (c.duration_ms IS NOT NULL)::int AS duration_ms_n,
         c.created_at AS first_call, c.created_at AS last_call
    FROM ai_call c
  UNION ALL
  SELECT p.model_id, p.status, p.calls, p.input_tokens, p.input_tokens_n,
         p.reasoning_tokens, p.reasoning_tokens_n, p.output_tokens, p.output_tokens_n,
         p.cache_read_input_tokens, p.cache_read_input_tokens_n,
         p.cost_usd, p.cost_usd_n, p.duration_ms, p.duration_ms_n, p.first_call, p.last_call
    FROM ai_usage_purged p)
SELECT string_agg(concat_ws(' ', modelname, version, status, calls, errors,
                            COALESCE(input_tokens::text, '-'), COALESCE(reasoning_tokens::text, '-'),
                            COALESCE(output_tokens::text, '-'),
                            COALESCE(cache_read_input_tokens::text, '-'),
                            COALESCE(cost_usd::text, '-'), unpriced_calls,
                            COALESCE(avg_duration_ms::text, '-') $fl),
                  E'\\n' ORDER BY modelname, version, status)
  FROM (SELECT m.modelname, m.version, u.status, sum(u.calls) AS calls,
               COALESCE(sum(u.calls) FILTER (WHERE u.status IS DISTINCT FROM 'success'), 0)
                 AS errors,
               CASE WHEN sum(u.input_tokens_n) > 0 THEN sum(u.input_tokens) END AS input_tokens,
               CASE WHEN sum(u.reasoning_tokens_n) > 0 THEN sum(u.reasoning_tokens) END AS reasoning_tokens,
               CASE WHEN sum(u.output_tokens_n) > 0 THEN sum(u.output_tokens) END AS output_tokens,
               CASE WHEN sum(u.cache_read_input_tokens_n) > 0 THEN sum(u.cache_read_input_tokens) END
                 AS cache_read_input_tokens,
               trim_scale(CASE WHEN sum(u.cost_usd_n) > 0 THEN sum(u.cost_usd) END) AS cost_usd,
               sum(u.calls) - sum(u.cost_usd_n) AS unpriced_calls,
               round(CASE WHEN sum(u.duration_ms_n) > 0
                          THEN sum(u.duration_ms)::numeric / sum(u.duration_ms_n) END, 3)
                 AS avg_duration_ms,
               min(u.first_call) AS first_call, max(u.last_call) AS last_call
          FROM u JOIN ai_model m ON m.id = u.model_id
         GROUP BY 1, 2, 3) AS hand};
}

sub stats
{
	my ($first_last) = @_;
	my $fl = $first_last ? ', first_call, last_call' : '';
	return qq{
SELECT string_agg(concat_ws(' ', modelname, version, status, calls, errors,
                            COALESCE(input_tokens::text, '-'), COALESCE(reasoning_tokens::text, '-'),
                            COALESCE(output_tokens::text, '-'),
                            COALESCE(cache_read_input_tokens::text, '-'),
                            COALESCE(trim_scale(cost_usd)::text, '-'), unpriced_calls,
                            COALESCE(round(avg_duration_ms::numeric, 3)::text, '-') $fl),
                  E'\\n' ORDER BY modelname, version, status)
  FROM ai_usage_stats(group_by => '{model,status}')};
}

# (first_call and last_call may still name a deleted call until compaction.)
my $expected = $node->safe_psql('postgres', stats_by_hand(0));
like($expected, qr/^soak-/, 'stats by hand answer');
is($node->safe_psql('postgres', stats(0)),
	$expected,
	'ai_usage_stats(group_by => {model,status}) before the final compaction: counts and sums as by hand');

$node->safe_psql('postgres', 'SELECT ai_rollup_compact()');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ai_usage_rollup WHERE pending'),
	'0', 'nothing pending after the final compaction');
is($node->safe_psql('postgres', stats(1)),
	$node->safe_psql('postgres', stats_by_hand(1)),
	'ai_usage_stats(group_by => {model,status}) after the final compaction: as by hand, first and last call included');

# The compacted rollups against ai_call, every column.
rollups_match_calls($node, 'after the final compaction');

is($node->safe_psql('postgres', $negative_count),
	'0', 'no negative count or sum in the rollup tables and ai_usage_purged');

$node->stop;
done_testing();
