# test/t/007_upkeep.pl: the rollups fold themselves (src/upkeep.c), on a
# stock server: no shared_preload_libraries, no cron, nothing scheduled.
#
# A node with aitrack.upkeep_interval = 1 (the test clusters turn it off
# elsewhere, through TEMP_CONFIG).  Then:
#
#   - a backfill of 72,000 calls with one INSERT ... SELECT (1,200 hours,
#     so 1,200 pending rollup rows): within 60 s of its commit, with no call
#     by the test, no pending row is left, the stats equal the calls, and
#     the rollups have been ANALYZEd (a fold of 1,000 rows or more);
#   - a call recorded by a role that may only record (aitrack_writer) is
#     folded too: the worker works with the extension owner's rights;
#   - an extension owned by a role that cannot log in is folded too (the
#     worker connects as the bootstrap superuser and works as the owner);
#   - a session holding every advisory lock it can name does not keep the
#     worker from starting;
#   - DROP DATABASE right after a backfill there goes through (the worker
#     folds once and leaves; DROP DATABASE waits 5 s for sessions);
#   - (1.6) ai_upkeep_status shows the runs, and the daily level is full;
#   - (1.6) after ALTER EXTENSION UPDATE of a ledger 1.5 folded, the worker
#     fills the daily level a week per transaction, and the stats answer
#     the same before, right after and after; an error of the worker shows
#     in ai_upkeep_status and the next run clears it; DROP EXTENSION while
#     the worker folds goes through and leaves no worker behind;
#   - after a crash (immediate stop) and restart, a new backfill is folded;
#   - with aitrack.upkeep_interval = 0 nothing is folded: 5 s after a
#     backfill its pending rows are all there, and ai_rollup_compact() still
#     folds them by hand.
#
# Every wait is poll_query_until (bounded by $PostgreSQL::Test::Utils::
# timeout_default), not a sleep, except the one that shows nothing happens.
use strict;
use warnings FATAL => 'all';

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

# The Makefile turns the upkeep off in every session of the suites; here
# it is what is tested.
$ENV{PGOPTIONS} = '';

my $node = PostgreSQL::Test::Cluster->new('upkeep');
$node->init;
# After TEMP_CONFIG's "off": the later line wins.
$node->append_conf('postgresql.conf', "aitrack.upkeep_interval = 1\n");
$node->start;

$node->safe_psql('postgres', q{
SET client_min_messages = warning;
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model (modelname, version) VALUES ('backfill', 'v');
});

my $backfill = sub {
	my ($db, $n, $from) = @_;
	$node->safe_psql($db, qq{
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, cost_usd, created_at)
SELECT (SELECT id FROM ai_model WHERE modelname = 'backfill'), 'p', '{}', 10, 1, 0.001,
       timestamptz '$from' + i * interval '1 minute'
  FROM generate_series(0, $n - 1) AS i;
});
};

$backfill->('postgres', 72000, '2025-01-01');
is($node->safe_psql('postgres', 'SELECT count(*) > 0 FROM ai_usage_rollup WHERE pending'),
	't', 'the backfill left pending rollup rows');
ok($node->poll_query_until('postgres',
		'SELECT count(*) = 0 FROM ai_usage_rollup WHERE pending'),
	'the upkeep worker folded every pending row, with no call by anyone');
is($node->safe_psql('postgres', q{
SELECT (SELECT sum(calls) FROM ai_usage_stats(group_by => '{}')) = 72000
   AND (SELECT sum(calls) FROM ai_usage_rollup) = 72000
   AND (SELECT count(*) FROM ai_usage_rollup) = 1200}),
	't', 'the stats and the folded rollups count every call, one row per hour');
ok($node->poll_query_until('postgres', q{
SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'ai_usage_rollup'}),
	'the rollups were analyzed after the large fold');

# 1.6: what the worker did, in ai_upkeep_status; the daily level has every
# day (72,000 minutes: 50 of them) and the stats from it count every call.
is($node->safe_psql('postgres', q{
SELECT runs >= 1, folded_total >= 1200, last_analyzed IS NOT NULL, last_error IS NULL,
       pending_rows, lag, daily_complete
  FROM ai_upkeep_status}),
	't|t|t|t|0|00:00:00|t', 'ai_upkeep_status shows the runs, the rows folded, the ANALYZE, no error, nothing pending');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM ai_usage_rollup_daily),
       (SELECT calls FROM ai_usage_stats('2025-01-02', '2025-02-19', '{}'))}),
	'50|69120', 'the daily level has the 50 days; 48 whole days from it count 69,120 calls');

# A role that may only record: the fold runs with the owner's rights.
$node->safe_psql('postgres', q{
CREATE ROLE recorder LOGIN IN ROLE aitrack_writer;
});
$node->safe_psql('postgres',
	q{SELECT record_ai_call('writer-model', 'v', 'p', '{}', input_tokens => 1, output_tokens => 1)},
	extra_params => [ '-U', 'recorder' ]);
ok($node->poll_query_until('postgres', q{
SELECT count(*) = 0 FROM ai_usage_rollup WHERE pending}),
	"a writer's call is folded too");

# An extension owner that cannot log in (a background worker must): the
# worker connects as the bootstrap superuser and works as the owner.
$node->safe_psql('postgres', q{
CREATE ROLE keeper SUPERUSER NOLOGIN;
CREATE DATABASE nologin;
});
$node->safe_psql('nologin', q{
SET client_min_messages = warning;
SET ROLE keeper;
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model (modelname, version) VALUES ('backfill', 'v');
});
is($node->safe_psql('nologin', q{
SELECT r.rolname, r.rolcanlogin FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner
 WHERE e.extname = 'aitrack'}), 'keeper|f', 'the extension is owned by a role that cannot log in');
$node->safe_psql('nologin', q{
SET ROLE keeper;
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, created_at)
SELECT (SELECT id FROM ai_model WHERE modelname = 'backfill'), 'p', '{}', 10, 1,
       timestamptz '2025-01-01' + i * interval '1 minute'
  FROM generate_series(0, 599) AS i;
});
ok($node->poll_query_until('nologin',
		'SELECT count(*) = 0 FROM ai_usage_rollup WHERE pending'),
	'its pending rows are folded too');
$node->safe_psql('postgres', 'DROP DATABASE nologin');

my ($ret, $out, $err);

# A session that holds the advisory locks SQL can take (both key forms of
# the worker's lock numbers) does not keep the worker from starting.
my ($hold_out, $hold_err) = ('', '');
my $holder = IPC::Run::start(
	[ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
	  q{SELECT pg_advisory_lock(x'6169747200000000'::bigint), pg_advisory_lock(1634301042, 0),
	           pg_advisory_lock(0, 1634301042), pg_advisory_lock(1634301042::bigint), pg_sleep(120)} ],
	'>', \$hold_out, '2>', \$hold_err);
ok($node->poll_query_until('postgres',
		q{SELECT count(*) = 4 FROM pg_locks WHERE locktype = 'advisory' AND granted}),
	'another session holds four advisory locks');
$backfill->('postgres', 600, '2022-01-01');
ok($node->poll_query_until('postgres',
		'SELECT count(*) = 0 FROM ai_usage_rollup WHERE pending'),
	'a session holding advisory locks does not stop the upkeep');
$holder->kill_kill;

# DROP DATABASE right after a backfill there.
$node->safe_psql('postgres', 'CREATE DATABASE scratch');
$node->safe_psql('scratch', q{
SET client_min_messages = warning;
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model (modelname, version) VALUES ('backfill', 'v');
});
$backfill->('scratch', 20000, '2025-01-01');
($ret, $out, $err) = $node->psql('postgres', 'DROP DATABASE scratch');
is($ret, 0, 'DROP DATABASE right after a backfill goes through') or diag($err);

# 1.6: an update of a ledger that 1.5 folded, online: the worker fills the
# daily level afterwards, a week per transaction, with nobody asking; the
# stats are exact before, during and after.
$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
$node->safe_psql('upgraded', q{
SET client_min_messages = warning;
CREATE EXTENSION aitrack VERSION '1.5' CASCADE;
INSERT INTO ai_model (modelname, version) VALUES ('backfill', 'v');
});
$backfill->('upgraded', 72000, '2025-01-01');
ok($node->poll_query_until('upgraded',
		'SELECT count(*) = 0 FROM ai_usage_rollup WHERE pending'),
	'1.5: the worker folds the backfill into the hourly level');
my $stats_1_5 = $node->safe_psql('upgraded',
	q{SELECT calls, input_tokens, p95_duration_ms FROM ai_usage_stats('2025-01-01 10:30', '2025-02-17', '{model}')});
$node->safe_psql('upgraded', 'ALTER EXTENSION aitrack UPDATE');
is($node->safe_psql('upgraded', 'SELECT daily_from, daily_complete FROM ai_upkeep_status'),
	'infinity|f', 'right after the update the daily level is empty, to be filled');
is($node->safe_psql('upgraded',
		q{SELECT calls, input_tokens, p95_duration_ms FROM ai_usage_stats('2025-01-01 10:30', '2025-02-17', '{model}')}),
	$stats_1_5, 'the stats answer as before the update');
$node->safe_psql('upgraded',
	q{SELECT record_ai_call('backfill', 'v', 'p', '{}', input_tokens => 1, output_tokens => 1)});
ok($node->poll_query_until('upgraded', 'SELECT daily_complete FROM ai_upkeep_status'),
	'the worker fills the daily level after the next call, with nobody asking');
is($node->safe_psql('upgraded',
		q{SELECT count(*) FROM ai_usage_rollup_daily WHERE bucket < '2026-01-01'}),
	'50', 'every day is in');
is($node->safe_psql('upgraded',
		q{SELECT calls, input_tokens, p95_duration_ms FROM ai_usage_stats('2025-01-01 10:30', '2025-02-17', '{model}')}),
	$stats_1_5, 'the stats answer the same, now from the daily level');
ok($node->poll_query_until('upgraded', q{
SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'ai_usage_rollup_daily'}),
	'the daily level was analyzed after its backfill');

# An error in the worker (here a trigger planted by hand that fails every
# write of the daily level).  It is logged and shown in ai_upkeep_status;
# once the cause is gone the next run clears it and goes on.
$node->safe_psql('upgraded', q{
CREATE FUNCTION planted_failure() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'planted failure'; END $$;
CREATE TRIGGER planted_failure BEFORE INSERT ON ai_usage_rollup_daily
  FOR EACH ROW EXECUTE FUNCTION planted_failure();
});
$node->safe_psql('upgraded',
	q{SELECT record_ai_call('backfill', 'v', 'p', '{}', input_tokens => 1, output_tokens => 1)});
ok($node->poll_query_until('upgraded', 'SELECT last_error IS NOT NULL FROM ai_upkeep_status'),
	'an error of the worker shows in ai_upkeep_status');
is($node->safe_psql('upgraded', 'SELECT last_error, pending_rows > 0 FROM ai_upkeep_status'),
	'planted failure|t', 'with its message; the fold that failed left its rows pending');
$node->safe_psql('upgraded', q{
DROP TRIGGER planted_failure ON ai_usage_rollup_daily;
DROP FUNCTION planted_failure();
});
$node->safe_psql('upgraded',
	q{SELECT record_ai_call('backfill', 'v', 'p', '{}', input_tokens => 1, output_tokens => 1)});
ok($node->poll_query_until('upgraded',
		'SELECT daily_complete AND last_error IS NULL AND pending_rows = 0 FROM ai_upkeep_status'),
	'the next run clears the error and folds');

# DROP EXTENSION while the worker folds a large backfill: the drop waits
# for the fold's transaction, the worker then finds nothing to do and
# leaves; no worker is left behind.
$node->safe_psql('upgraded', q{
INSERT INTO ai_call (model_id, prompt, response, input_tokens, output_tokens, created_at, user_id)
SELECT (SELECT id FROM ai_model WHERE modelname = 'backfill'), 'p', '{}', 10, 1,
       timestamptz '2020-01-01' + i * interval '10 seconds', md5(i::text)::uuid
  FROM generate_series(0, 199999) AS i;
});
ok($node->poll_query_until('upgraded',
		q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'aitrack upkeep'}),
	'a worker folds the 200,000 pending rows (one per user) of a backfill');
($ret, $out, $err) = $node->psql('upgraded',
	'SET aitrack.allow_drop = on; DROP EXTENSION aitrack CASCADE');
is($ret, 0, 'DROP EXTENSION while the worker folds goes through') or diag($err);
ok($node->poll_query_until('upgraded',
		q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'aitrack upkeep'}),
	'no upkeep worker is left');
$node->safe_psql('postgres', 'DROP DATABASE upgraded');

# A crash, a restart, and the upkeep goes on.
$node->stop('immediate');
$node->start;
$backfill->('postgres', 3000, '2024-01-01');
ok($node->poll_query_until('postgres',
		'SELECT count(*) = 0 FROM ai_usage_rollup WHERE pending'),
	'after a crash and restart, a new backfill is folded');
is($node->safe_psql('postgres', q{SELECT sum(calls) FROM ai_usage_stats(group_by => '{}')}),
	'75601', 'the stats count every call after the restart');

# Off: nothing is folded in the background.
$node->safe_psql('postgres', 'ALTER SYSTEM SET aitrack.upkeep_interval = 0');
$node->reload;
$backfill->('postgres', 3000, '2023-01-01');
sleep 5;
is($node->safe_psql('postgres', 'SELECT count(*) FROM ai_usage_rollup WHERE pending'),
	'50', 'with aitrack.upkeep_interval = 0, 5 s later the 50 pending rows are still there');
is($node->safe_psql('postgres', 'SELECT ai_rollup_compact() > 0'), 't',
	'ai_rollup_compact() still folds them by hand');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ai_usage_rollup WHERE pending'),
	'0', 'none is left');

$node->stop;
done_testing();
