# test/t/003_crash_recovery.pl: every call whose commit was acknowledged
# survives a crash of the server, and the ledger, its rollups and the
# numbers of purged calls are consistent after crash recovery.
#
# A node with fsync = on and synchronous_commit = on (PostgreSQL::Test::Cluster
# turns fsync off by default), CREATE EXTENSION aitrack CASCADE, a price for
# one model, and 2000 old calls (2020) to purge.  Then, at once:
#
#   - four psql clients, each running a generated file of separate
#     autocommit statements `SELECT 'cC-S', record_ai_call(...)`, S = 1, 2,
#     ... (both call shapes, shared models, a new model every 50 calls,
#     provided, computed and unknown costs).  psql prints a statement's row
#     only once the server has answered it, and the server answers a simple
#     query only after its commit (finish_xact_command() comes before
#     CommandComplete and ReadyForQuery), so every "cC-S|id" line psql wrote
#     is an acknowledged, committed call, with its id.  (Not pgbench: its
#     per-transaction log says which transactions completed but not which
#     call each one recorded.);
#   - a fifth psql purging the old calls hour by hour (ai_purge_calls, which
#     commits every batch) and compacting the rollups (ai_rollup_compact).
#
# Once every client has 100 calls committed, a CHECKPOINT (so recovery starts
# from a checkpoint taken under load and replays full-page images); once
# every client has 250, the postmaster gets SIGKILL.  The clients lose their
# connections (at most one call each may commit without psql hearing of it),
# the server is started again and recovers.  Then:
#
#   - per client, the calls in ai_call are exactly S = 1 .. k or 1 .. k + 1,
#     where k is the number of lines psql printed, with the printed ids: no
#     acknowledged call is lost, none is there twice, and nothing but the
#     single in-flight call of a client may be there unacknowledged;
#   - every such row holds what its statement sent (model, tokens, cost ...);
#   - the old calls that are left plus the calls in ai_usage_purged are the
#     2000, hour by hour, and the purge went oldest first;
#   - ai_usage_stats() (before and after compaction) equals the aggregates
#     written by hand over ai_call plus ai_usage_purged;
#   - after ai_rollup_compact(), ai_usage_rollup and ai_usage_rollup_total
#     equal the aggregates written by hand over ai_call, every column;
#   - amcheck finds the indexes of the extension's tables consistent with
#     their heaps;
#   - new calls and models get ids past every recovered one.
#
# The assertions do not depend on where the crash falls: only on the lines
# psql printed and on what the server holds after recovery.  (With
# synchronous_commit = off instead, acknowledged calls go missing and the
# per-client checks fail, as they should.)  A few seconds in all.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use AitrackRollupCheck;
use IPC::Run;
use Time::HiRes qw(usleep);

my $clients = 4;
# Statements per client: far more than can run before the crash (which comes
# after 250 each), so every client is cut off mid-way.
my $statements = 10000;
my $old_calls = 2000;

my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
fsync = on
synchronous_commit = on
full_page_writes = on
# init sets log_statement = all: tens of thousands of lines for nothing.
log_statement = none
});
$node->start;

is($node->safe_psql('postgres', 'SHOW fsync') . ' '
	  . $node->safe_psql('postgres', 'SHOW synchronous_commit'),
	'on on', 'fsync and synchronous_commit are on');

$node->safe_psql('postgres', 'CREATE EXTENSION aitrack CASCADE');
$node->safe_psql('postgres', 'CREATE EXTENSION amcheck');

# A price for crash-1: its calls without a cost get one computed, 1 and 2
# USD per million input and output tokens.
is( $node->safe_psql('postgres',
		q{SELECT model || ' ' || action FROM ai_load_prices(
		    '{"crash-1": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}')}),
	'crash-1 added',
	'a price for crash-1');

# The old calls: $old_calls in 2020, four an hour, three models.
is( $node->safe_psql('postgres', qq{
SELECT count(*) FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_build_object(
           'modelname', 'old-' || i % 3, 'version', '1', 'prompt', 'old ' || i,
           'response', '{}'::jsonb, 'input_tokens', i, 'output_tokens', i % 17,
           'duration_ms', i % 500,
           'status', CASE WHEN i % 10 = 0 THEN 'error' ELSE 'success' END,
           'created_at', timestamptz '2020-01-01 00:00:00+00' + i * interval '15 minutes')
         ORDER BY i)
    FROM generate_series(1, $old_calls) AS i))}),
	$old_calls,
	'old calls recorded');
$node->safe_psql('postgres', 'SELECT ai_rollup_compact()');

# What client $c sends as statement $s; the check after the crash computes
# the same in SQL.
my @statuses = qw(success success success success success error timeout);

sub call_sql
{
	my ($c, $s) = @_;
	my $model =
	  $s % 50 == 0 ? "crash-c$c-" . int($s / 50) : 'crash-' . ($s % 5);
	my $in = $s % 1000 + 10;
	my $out = $s % 97;
	my $dur = ($s * 7) % 2000;
	my $status = $statuses[ $s % 7 ];
	my $call_type = 'ct' . ($s % 3);
	my $user = '00000000-0000-0000-0000-00000000000' . ($s % 4);
	my $cost = $s % 3 == 0 ? sprintf('%d.%04d', int($s / 10000), $s % 10000) : undef;

	if ($s % 4 == 0)
	{
		# The seed's shape: metrics as one JSON object.
		my $metrics =
			qq{"input_tokens": $in, "output_tokens": $out, "duration_ms": $dur, }
		  . qq{"status": "$status"}
		  . (defined $cost ? qq{, "cost_usd": $cost} : '');
		return "SELECT 'c$c-$s', record_ai_call('$model', 'v1', 'c$c-$s', "
		  . qq{'{"client": $c, "seq": $s}', '{$metrics}'::jsonb, }
		  . "'$call_type', '$user');\n";
	}
	return "SELECT 'c$c-$s', record_ai_call('$model', 'v1', 'c$c-$s', "
	  . qq{'{"client": $c, "seq": $s}', input_tokens => $in, }
	  . "output_tokens => $out, duration_ms => $dur, status => '$status', "
	  . "call_type => '$call_type', user_id => '$user'"
	  . (defined $cost ? ", cost_usd => $cost" : '') . ");\n";
}

my @psql = (
	'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
	'-h', $node->host, '-p', $node->port, '-d', 'postgres');

# Start the clients.
my (@harness, @out_file, @err);
foreach my $c (1 .. $clients)
{
	my $script = "$tempdir/client$c.sql";
	open my $fh, '>', $script or die "could not write $script: $!";
	print $fh call_sql($c, $_) foreach 1 .. $statements;
	close $fh;
	$out_file[$c] = "$tempdir/client$c.out";
	$err[$c] = '';
	$harness[$c] = IPC::Run::start([ @psql, '-f', $script ],
		'<', \undef, '>', $out_file[$c], '2>', \$err[$c],
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
}

# The maintenance session: purge the old calls an hour at a time, in batches
# of 3 (each batch its own transaction), compact now and then, and keep
# compacting once the purge is through.
{
	my $script = "$tempdir/maintenance.sql";
	open my $fh, '>', $script or die "could not write $script: $!";
	print $fh "SET client_min_messages = warning;\n";
	foreach my $h (1 .. $old_calls / 4 + 1)
	{
		print $fh "CALL ai_purge_calls(timestamptz '2020-01-01 00:00:00+00'"
		  . " + interval '1 hour' * $h, 3);\n";
		print $fh "SELECT ai_rollup_compact();\n" if $h % 10 == 0;
		print $fh "SELECT pg_sleep(0.005);\n";
	}
	print $fh "SELECT ai_rollup_compact(), pg_sleep(0.02);\n" foreach 1 .. 20000;
	close $fh;
	$out_file[0] = "$tempdir/maintenance.out";
	$err[0] = '';
	$harness[0] = IPC::Run::start([ @psql, '-f', $script ],
		'<', \undef, '>', $out_file[0], '2>', \$err[0],
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
}

# Committed calls of every client, as the server sees them.
sub all_clients_have
{
	my ($n) = @_;
	return $node->poll_query_until('postgres', qq{
SELECT count(*) = $clients AND min(n) >= $n
  FROM (SELECT count(*) AS n FROM ai_call WHERE prompt ~ '^c[0-9]+-[0-9]+\$'
         GROUP BY split_part(prompt, '-', 1)) AS per_client});
}

ok(all_clients_have(100), 'every client has 100 calls committed');
$node->safe_psql('postgres', 'CHECKPOINT');
ok(all_clients_have(250), 'every client has 250 calls committed');

# The server's processes, to see them gone before the restart: backends
# left behind by a killed postmaster finish what they are doing and exit
# when they next wait, and a new postmaster refuses to start while they
# still hold the old shared memory.
my @pids = split /\n/,
  $node->safe_psql('postgres', 'SELECT pid FROM pg_stat_activity');
my $log_offset = -s $node->logfile;
$node->kill9;

# The clients lose their connections and stop (ON_ERROR_STOP).
foreach my $c (0 .. $clients)
{
	$harness[$c]->finish;
	my $who = $c ? "client $c" : 'the maintenance session';
	isnt($harness[$c]->result(0), 0, "$who was cut off by the crash");
	like($err[$c],
		qr/terminat|server closed the connection|connection to server|no connection/,
		"$who lost its connection");
}

my $deadline = time() + $PostgreSQL::Test::Utils::timeout_default;
while (grep { kill(0, $_) } @pids)
{
	die 'processes of the killed server still running: '
	  . join(' ', grep { kill(0, $_) } @pids)
	  if time() > $deadline;
	usleep(50_000);
}
# Processes started after pg_stat_activity was read (an autovacuum worker)
# may still be on their way out: a few tries.
my $started = 0;
foreach my $try (1 .. 20)
{
	last if $started = $node->start(fail_ok => 1);
	sleep 1;
}
ok($started, 'server starts again after the crash');
ok( $node->log_contains(
		'database system was not properly shut down; automatic recovery in progress',
		$log_offset),
	'the restart ran crash recovery');
like(
	slurp_file($node->logfile, $log_offset),
	qr/redo starts at .*\n(.*\n)*.*redo done at /,
	'crash recovery replayed WAL');

# Every acknowledged call is there with its id; per client, the calls there
# are 1 .. k or 1 .. k + 1 (the one in flight, committed unacknowledged).
my %present;    # client => { seq => id }
foreach my $row (split /\n/,
	$node->safe_psql('postgres',
		q{SELECT prompt || '|' || id FROM ai_call WHERE prompt ~ '^c[0-9]+-[0-9]+$'}))
{
	my ($c, $s, $id) = $row =~ /^c(\d+)-(\d+)\|(\d+)$/
	  or die "unexpected row $row";
	$present{$c}{$s} = $id;
}
my $acked_total = 0;
foreach my $c (1 .. $clients)
{
	my @acked = split /\n/, slurp_file($out_file[$c]);
	my ($problems, $k) = ('', 0);
	foreach my $line (@acked)
	{
		$k++;
		my ($s, $id) = $line =~ /^c$c-(\d+)\|(\d+)$/;
		if (!defined $s || $s != $k)
		{
			$problems .= "line $k of the output is \"$line\"\n";
			last;
		}
		my $there = $present{$c}{$s};
		$problems .= "acknowledged call c$c-$s (id $id) is missing\n"
		  unless defined $there;
		$problems .= "acknowledged call c$c-$s has id $there, not $id\n"
		  if defined $there && $there != $id;
	}
	my @unacked = sort { $a <=> $b } grep { $_ > $k } keys %{ $present{$c} };
	$problems .= "unacknowledged calls present: @unacked\n"
	  unless !@unacked || "@unacked" eq ($k + 1);
	is($problems, '',
		"client $c: the $k acknowledged calls survived, and at most the one in flight besides"
	);
	# 250 were committed before the crash, at most one of them unacknowledged.
	cmp_ok($k, '>=', 249, "client $c: had 249 calls or more acknowledged");
	cmp_ok($k, '<', $statements, "client $c: was cut off before its end");
	$acked_total += $k;
}
note "acknowledged calls before the crash: $acked_total";
my $recovered = $node->safe_psql('postgres',
	q{SELECT count(*) FROM ai_call WHERE prompt ~ '^c[0-9]+-[0-9]+$'});
ok( $recovered >= $acked_total && $recovered <= $acked_total + $clients,
	"$recovered calls recovered for $acked_total acknowledged (and at most $clients in flight)");

# Each recovered row holds what its statement sent.
is( $node->safe_psql('postgres', q{
SELECT count(*) FILTER (WHERE mismatch) || ' of ' || count(*)
       || COALESCE(': ' || string_agg(c.prompt, ' ' ORDER BY c.id) FILTER (WHERE mismatch), '')
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id,
       LATERAL (SELECT substr(split_part(c.prompt, '-', 1), 2)::int AS cl,
                       split_part(c.prompt, '-', 2)::int AS s) AS k,
       LATERAL (SELECT m.modelname IS DISTINCT FROM
                         CASE WHEN k.s % 50 = 0 THEN 'crash-c' || k.cl || '-' || k.s / 50
                              ELSE 'crash-' || k.s % 5 END
                       OR m.version <> 'v1'
                       OR c.response <> jsonb_build_object('client', k.cl, 'seq', k.s)
                       OR c.input_tokens IS DISTINCT FROM k.s % 1000 + 10
                       OR c.output_tokens IS DISTINCT FROM k.s % 97
                       OR c.duration_ms IS DISTINCT FROM (k.s * 7) % 2000
                       OR c.status IS DISTINCT FROM
                            (ARRAY['success', 'success', 'success', 'success', 'success',
                                   'error', 'timeout'])[k.s % 7 + 1]
                       OR c.call_type IS DISTINCT FROM 'ct' || k.s % 3
                       OR c.user_id IS DISTINCT FROM
                            ('00000000-0000-0000-0000-00000000000' || k.s % 4)::uuid
                       OR (c.cost_usd, c.cost_source) IS DISTINCT FROM
                            (CASE WHEN k.s % 3 = 0 THEN k.s / 10000.0
                                  WHEN m.modelname = 'crash-1'
                                  THEN ((k.s % 1000 + 10) + 2 * (k.s % 97)) / 1000000.0 END,
                             CASE WHEN k.s % 3 = 0 THEN 'provided'
                                  WHEN m.modelname = 'crash-1' THEN 'computed'
                                  ELSE 'unknown' END) AS mismatch) AS x
 WHERE c.prompt ~ '^c[0-9]+-[0-9]+$'}),
	'0 of ' . scalar(map { keys %$_ } values %present),
	'every recovered call holds what was sent');

# The old calls: those left and those purged make the 2000, hour by hour,
# and the purge went oldest first.
is( $node->safe_psql('postgres', qq{
WITH sent AS (
  SELECT date_trunc('hour', timestamptz '2020-01-01 00:00:00+00' + i * interval '15 minutes',
                    'UTC') AS bucket,
         count(*) AS calls, sum(i) AS input_tokens
    FROM generate_series(1, $old_calls) AS i GROUP BY 1),
kept AS (
  SELECT bucket, sum(calls) AS calls, sum(input_tokens) AS input_tokens
    FROM (SELECT date_trunc('hour', created_at, 'UTC') AS bucket, 1 AS calls, input_tokens
            FROM ai_call WHERE prompt LIKE 'old %'
          UNION ALL
          SELECT bucket, calls, input_tokens FROM ai_usage_purged) AS u
   GROUP BY 1)
SELECT (SELECT count(*) FROM sent FULL JOIN kept USING (bucket)
         WHERE (sent.calls, sent.input_tokens) IS DISTINCT FROM (kept.calls, kept.input_tokens))
       || ' ' ||
       COALESCE((SELECT max(last_call) FROM ai_usage_purged)
                < (SELECT min(created_at) FROM ai_call WHERE prompt LIKE 'old %'), true)}),
	'0 true',
	'old calls: left plus purged are the ones recorded, purged oldest first');
cmp_ok($node->safe_psql('postgres', 'SELECT COALESCE(sum(calls), 0) FROM ai_usage_purged'),
	'>', 0, 'some old calls were purged before the crash');

# ai_usage_stats() against the same numbers by hand, over the recovered
# calls and the purged ones.
my $stats_by_hand = q{
WITH u AS (
  SELECT c.model_id, c.status, 1::bigint AS calls,
         c.input_tokens::bigint AS input_tokens, (c.input_tokens IS NOT NULL)::int AS input_tokens_n,
         c.reasoning_tokens::bigint AS reasoning_tokens, (c.reasoning_tokens IS NOT NULL)::int AS reasoning_tokens_n,
         c.output_tokens::bigint AS output_tokens, (c.output_tokens IS NOT NULL)::int AS output_tokens_n,
         c.cost_usd, (c.cost_usd IS NOT NULL)::int AS cost_usd_n,
         c.duration_ms::bigint AS duration_ms, (c.duration_ms IS NOT NULL)::int AS duration_ms_n,
         c.created_at AS first_call, c.created_at AS last_call
    FROM ai_call c
  UNION ALL
  SELECT p.model_id, p.status, p.calls, p.input_tokens, p.input_tokens_n,
         p.reasoning_tokens, p.reasoning_tokens_n, p.output_tokens, p.output_tokens_n,
         p.cost_usd, p.cost_usd_n, p.duration_ms, p.duration_ms_n, p.first_call, p.last_call
    FROM ai_usage_purged p)
SELECT string_agg(concat_ws(' ', modelname, version, status, calls, errors,
                            COALESCE(input_tokens::text, '-'), COALESCE(reasoning_tokens::text, '-'),
                            COALESCE(output_tokens::text, '-'), COALESCE(cost_usd::text, '-'),
                            unpriced_calls, COALESCE(avg_duration_ms::text, '-'),
                            first_call, last_call),
                  E'\n' ORDER BY modelname, version, status)
  FROM (SELECT m.modelname, m.version, u.status, sum(u.calls) AS calls,
               COALESCE(sum(u.calls) FILTER (WHERE u.status IS DISTINCT FROM 'success'), 0)
                 AS errors,
               CASE WHEN sum(u.input_tokens_n) > 0 THEN sum(u.input_tokens) END AS input_tokens,
               CASE WHEN sum(u.reasoning_tokens_n) > 0 THEN sum(u.reasoning_tokens) END AS reasoning_tokens,
               CASE WHEN sum(u.output_tokens_n) > 0 THEN sum(u.output_tokens) END AS output_tokens,
               trim_scale(CASE WHEN sum(u.cost_usd_n) > 0 THEN sum(u.cost_usd) END) AS cost_usd,
               sum(u.calls) - sum(u.cost_usd_n) AS unpriced_calls,
               round(CASE WHEN sum(u.duration_ms_n) > 0
                          THEN sum(u.duration_ms)::numeric / sum(u.duration_ms_n) END, 3)
                 AS avg_duration_ms,
               min(u.first_call) AS first_call, max(u.last_call) AS last_call
          FROM u JOIN ai_model m ON m.id = u.model_id
         GROUP BY 1, 2, 3) AS hand
};
my $stats = q{
SELECT string_agg(concat_ws(' ', modelname, version, status, calls, errors,
                            COALESCE(input_tokens::text, '-'), COALESCE(reasoning_tokens::text, '-'),
                            COALESCE(output_tokens::text, '-'),
                            COALESCE(trim_scale(cost_usd)::text, '-'), unpriced_calls,
                            COALESCE(round(avg_duration_ms::numeric, 3)::text, '-'),
                            first_call, last_call),
                  E'\n' ORDER BY modelname, version, status)
  FROM ai_usage_stats(group_by => '{model,status}')
};
my $expected_stats = $node->safe_psql('postgres', $stats_by_hand);
like($expected_stats, qr/^crash-0 v1 error /, 'stats by hand answer');
is($node->safe_psql('postgres', $stats),
	$expected_stats,
	'ai_usage_stats() after recovery, before compaction: as by hand');
is( $node->safe_psql('postgres',
		"SELECT calls FROM ai_usage_stats(group_by => '{}')"),
	$node->safe_psql('postgres',
		'SELECT count(*) + (SELECT COALESCE(sum(calls), 0) FROM ai_usage_purged) FROM ai_call'),
	'ai_usage_stats() total: the recovered calls plus the purged ones');

# (The load's own compactor may have folded everything just before the
# kill, so there may be none: what is pending is what compaction folds.)
my $pending = $node->safe_psql('postgres', 'SELECT count(*) FROM ai_usage_rollup WHERE pending');
is($node->safe_psql('postgres', 'SELECT ai_rollup_compact()'),
	$pending, "ai_rollup_compact() folds every recovered pending row ($pending)");
is($node->safe_psql('postgres', $stats),
	$expected_stats, 'ai_usage_stats() after compaction: as by hand');

# The compacted rollups against ai_call, every column.
rollups_match_calls($node, 'after compaction');
is( $node->safe_psql('postgres',
		'SELECT count(*) FROM ai_usage_rollup WHERE pending'),
	'0', 'nothing pending after compaction');

# amcheck: every btree index of the extension's tables matches its heap
# (bt_index_parent_check raises an error on the first inconsistency).
my ($ret, $checked, $amcheck_err) = $node->psql('postgres', q{
SELECT count(bt_index_parent_check(i.indexrelid, heapallindexed => true))
  FROM pg_index i
  JOIN pg_class x ON x.oid = i.indexrelid
  JOIN pg_am am ON am.oid = x.relam
 WHERE i.indrelid IN ('ai_model'::regclass, 'ai_call'::regclass,
                      'ai_usage_rollup'::regclass, 'ai_usage_rollup_total'::regclass,
                      'ai_usage_purged'::regclass, 'ai_model_price'::regclass)
   AND am.amname = 'btree'});
is("$ret $amcheck_err", '0 ', 'amcheck: the btree indexes of the extension tables are consistent');
cmp_ok($checked, '>=', 10, "amcheck checked $checked indexes");

# New calls and models continue past the recovered ids.
my ($max_call, $max_model) = split /\|/,
  $node->safe_psql('postgres',
	'SELECT (SELECT max(id) FROM ai_call), (SELECT max(id) FROM ai_model)');
my $new_call = $node->safe_psql('postgres',
	q{SELECT record_ai_call('crash-1', 'v1', 'after', '{}', input_tokens => 1000000,
	                        output_tokens => 0)});
cmp_ok($new_call, '>', $max_call, 'a new call gets an id past the recovered ones');
is( $node->safe_psql('postgres',
		"SELECT cost_usd || ' ' || cost_source FROM ai_call WHERE id = $new_call"),
	'1 computed', 'and its cost from the price recorded before the crash');
my $other_call = $node->safe_psql('postgres',
	q{SELECT record_ai_call('crash-new', 'v1', 'after', '{}')});
cmp_ok(
	$node->safe_psql('postgres',
		"SELECT model_id FROM ai_call WHERE id = $other_call"),
	'>', $max_model, 'a new model gets an id past the recovered ones');

$node->stop;
done_testing();
