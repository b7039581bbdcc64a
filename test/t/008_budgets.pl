# test/t/008_budgets.pl: 16 pgbench clients reserving and recording against
# one small hard budget (1.7).
#
# Each pgbench transaction is what an application does around a call to a
# model: reserve the call's estimated cost (its own transaction), then
# record the call with its real cost and settle the reservation in one
# statement.  The real cost here equals the estimate (the worst case the
# guarantee covers).  The budget: 5 USD, lifetime, thresholds 50/80/100 %;
# estimates of 0.01 to 0.05 USD, so the limit is reached within the run and
# most calls after that are refused.  A listener session LISTENs for the
# alerts all along.
#
# Asserted:
#   - pgbench ran to the end: no client aborted, no deadlock, no failure;
#   - every refusal was SQLSTATE 53400 naming the budget (the refusals are
#     caught in SQL and kept, so that pgbench goes on);
#   - spent <= limit (+ one reservation: here the estimate covers the cost,
#     so the limit itself holds), and the spend row equals the sum of the
#     recorded calls' costs;
#   - calls were both made and refused;
#   - exactly one NOTIFY per threshold (3), each with the documented payload;
#   - no reservation is left held.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $seconds = $ENV{AITRACK_BUDGET_SECONDS} || 8;
my $clients = 16;

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $node = PostgreSQL::Test::Cluster->new('budgets');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
log_statement = none
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_budget (name, scope, period, limit_usd, alert_at_pct)
VALUES ('small', 'all', 'lifetime', 5, '{50,80,100}');
CREATE TABLE refused (sqlstate text, message text);
-- Reserve, or keep the refusal and return 0.
CREATE FUNCTION bench_reserve(estimate numeric) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN ai_budget_reserve(estimate);
EXCEPTION WHEN configuration_limit_exceeded THEN
    INSERT INTO refused VALUES (SQLSTATE, SQLERRM);
    RETURN 0;
END $$;
});

# The listener: LISTEN now, read what arrived at the end.
my ($listen_in, $listen_out, $listen_err) = ("LISTEN aitrack_budget;\n", '', '');
my $listener = IPC::Run::start(
	[ 'psql', '-X', '-q', '-h', $node->host, '-p', $node->port, '-d', 'postgres' ],
	'<', \$listen_in, '>', \$listen_out, '2>', \$listen_err,
	IPC::Run::timeout($seconds + $PostgreSQL::Test::Utils::timeout_default));
$listener->pump while length $listen_in;

append_to_file("$tempdir/call.sql", q{
\set cents random(1, 5)
SELECT bench_reserve(:cents * 0.01) AS r \gset
SELECT CASE WHEN :r > 0
            THEN ai_budget_settle(:r, record_ai_call('budget-m', '1', 'p', 'null',
                     input_tokens => 1, output_tokens => 0, cost_usd => :cents * 0.01))
       END AS settled;
});

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::run(
	[
		'pgbench', '-n', '-c', $clients, '-j', 2, '-T', $seconds,
		'-f', "$tempdir/call.sql",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'<', \undef, '>', \$out, '2>', \$err);
note "pgbench output:\n$out";
ok($pgbench, 'pgbench ran to the end (no client aborted)') or diag "pgbench stderr:\n$err";
my ($processed) = $out =~ /^number of transactions actually processed: (\d+)/m;
my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
cmp_ok($processed // 0, '>=', 200, 'pgbench ran transactions (' . ($processed // 0) . ')');
is($failed // 0, 0, 'no transaction failed');

my ($limit, $spent, $recorded, $made, $refused, $bad_refusals, $held) = split /\|/,
  $node->safe_psql('postgres', q{
SELECT b.limit_usd, s.spent_usd, (SELECT sum(cost_usd) FROM ai_call),
       (SELECT count(*) FROM ai_call), (SELECT count(*) FROM refused),
       (SELECT count(*) FROM refused
         WHERE sqlstate <> '53400' OR message <> 'budget "small" would be exceeded'),
       (SELECT count(*) FROM ai_budget_reservation)
       + (SELECT count(*) FROM ai_budget_spend WHERE reserved_usd <> 0)
  FROM ai_budget b JOIN ai_budget_spend s ON s.budget_id = b.id});
diag "budgets: $clients clients, $processed transactions: $made calls made, "
  . "$refused refused; spent $spent of $limit USD";
cmp_ok($spent, '<=', $limit, "spent ($spent) within the limit ($limit)");
is($spent, $recorded, 'the spend row is the sum of the recorded costs');
cmp_ok($made, '>', 0, 'calls were made');
cmp_ok($refused, '>', 0, 'calls were refused');
is($bad_refusals, 0, 'every refusal: SQLSTATE 53400, naming the budget');
is($held, 0, 'no reservation left held');
is($node->safe_psql('postgres', q{SELECT alerted_pct FROM ai_budget_spend}),
	'{50,80,100}', 'every threshold marked');

# What the listener heard.
$listen_in .= "SELECT 1;\n\\q\n";
$listener->finish;
my @heard = $listen_out =~ /^Asynchronous notification "aitrack_budget" with payload "(.*)" received/mg;
is(scalar(@heard), 3, 'exactly one NOTIFY per threshold') or diag $listen_out;
my @pct = map { /"threshold_pct": (\d+)/ ? $1 : 'none' } @heard;
is(join(',', @pct), '50,80,100', 'the thresholds, in order');
like($heard[0] // '', qr/"budget": "small".*"limit_usd": 5.*"period_start": "-infinity"/,
	'the payload names the budget, its limit and period');

$node->stop;
done_testing();
