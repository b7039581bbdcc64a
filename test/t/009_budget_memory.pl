# test/t/009_budget_memory.pl: budget reservations held in shared memory
# (1.9, aitrack.budget_reservations = 'memory'; src/budget_memory.c).
#
# A server with shared_preload_libraries = 'aitrack', the setting on:
#   - 16 pgbench clients reserving, then recording and settling (or
#     releasing) against one small hard budget: spent <= limit, the spend
#     row equals the recorded costs, every refusal 53400 naming the budget,
#     nothing left held, in memory or in the table;
#   - a reservation is in memory, not in ai_budget_reservation, and the
#     status view and ai_budget_check() show what it holds; settle and
#     release end it at commit; a rollback (of the transaction, or of a
#     savepoint) undoes a reserve or an end; another session cannot end a
#     reservation whose transaction is in progress; PREPARE TRANSACTION is
#     refused; an expired one holds nothing;
#   - every reservation goes to memory (long scope values, huge estimates,
#     tenants, who hold only their own user's budgets there and see only
#     what is held for it); more than 16 budgets, or memory full (6,144),
#     is refused with a message, never put in the table;
#   - two ends of one reservation take turns (the second waits on the
#     first's lock, also when that one rolls back to a savepoint);
#   - a tenant holds at most 64; a dropped database's slots make room;
#   - a restart loses what memory held (the documented price): a settle
#     afterwards returns false, and its call is counted all the same;
#   - the setting back at 'table': new reservations go to the table, those
#     in memory still count (also for the table's check) and still end.
# Then, without shared_preload_libraries: on PostgreSQL 17 and later the DSM
# registry gives the memory; before 17 reservations stay in the table.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $seconds = $ENV{AITRACK_BUDGET_SECONDS} || 6;
my $clients = 16;
my $user = '00000000-0000-0000-0000-0000000000b1';

my $tempdir = PostgreSQL::Test::Utils::tempdir;
my $node = PostgreSQL::Test::Cluster->new('budget_memory');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'aitrack'
aitrack.budget_reservations = 'memory'
max_connections = 40
max_prepared_transactions = 2
log_statement = none
});
$node->start;
my $server_major = $node->safe_psql('postgres', 'SHOW server_version_num') / 10000;

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql(q{
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model (modelname, version) VALUES ('budget-m', '1');
INSERT INTO ai_budget (name, scope, period, limit_usd, alert_at_pct)
VALUES ('small', 'all', 'lifetime', 5, '{50,80,100}');
CREATE TABLE refused (sqlstate text, message text);
CREATE FUNCTION bench_reserve(estimate numeric) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN ai_budget_reserve(estimate);
EXCEPTION WHEN configuration_limit_exceeded THEN
    INSERT INTO refused VALUES (SQLSTATE, SQLERRM);
    RETURN 0;
END $$;
});
is(sql('SHOW aitrack.budget_reservations'), 'memory', 'the setting is on');

# ---- 16 clients, one small hard budget --------------------------------
append_to_file("$tempdir/call.sql", q{
\set cents random(1, 5)
\set release random(1, 5)
SELECT bench_reserve(:cents * 0.01) AS r \gset
SELECT CASE WHEN :r = 0 THEN NULL
            WHEN :release = 1 THEN ai_budget_release(:r)
            ELSE ai_budget_settle(:r, record_ai_call('budget-m', '1', 'p', 'null',
                     input_tokens => 1, output_tokens => 0, cost_usd => :cents * 0.01))
       END AS ended;
});
my ($out, $err) = ('', '');
my $pgbench = IPC::Run::run(
	[
		'pgbench', '-n', '-c', $clients, '-j', 2, '-T', $seconds,
		'-f', "$tempdir/call.sql",
		'-h', $node->host, '-p', $node->port, 'postgres'
	],
	'<', \undef, '>', \$out, '2>', \$err);
ok($pgbench, 'pgbench ran to the end (no client aborted)') or diag "pgbench stderr:\n$err";
my ($processed) = $out =~ /^number of transactions actually processed: (\d+)/m;
my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
cmp_ok($processed // 0, '>=', 200, 'pgbench ran transactions (' . ($processed // 0) . ')');
is($failed // 0, 0, 'no transaction failed');
my ($limit, $spent, $recorded, $made, $refused, $bad, $in_table, $in_memory, $row_reserved) = split /\|/,
  sql(q{
SELECT b.limit_usd, s.spent_usd, (SELECT sum(cost_usd) FROM ai_call), (SELECT count(*) FROM ai_call),
       (SELECT count(*) FROM refused),
       (SELECT count(*) FROM refused WHERE sqlstate <> '53400' OR message <> 'budget "small" would be exceeded'),
       (SELECT count(*) FROM ai_budget_reservation),
       (SELECT count(*) FROM ai_budget_memory_reservations()),
       s.reserved_usd
  FROM ai_budget b JOIN ai_budget_spend s ON s.budget_id = b.id});
diag "budget in memory: $clients clients, $processed transactions: $made calls made, "
  . "$refused refused; spent $spent of $limit USD";
cmp_ok($spent, '<=', $limit, "spent ($spent) within the limit ($limit)");
is($spent, $recorded, 'the spend row is the sum of the recorded costs');
cmp_ok($made, '>', 0, 'calls were made');
cmp_ok($refused, '>', 0, 'calls were refused');
is($bad, 0, 'every refusal: SQLSTATE 53400, naming the budget');
is("$in_table|$in_memory|$row_reserved", '0|0|0', 'nothing left held, in the table or in memory');
is(sql(q{SELECT alerted_pct FROM ai_budget_spend}), '{50,80,100}', 'every threshold marked');

# ---- one reservation, step by step ------------------------------------
sql(q{
DELETE FROM ai_budget;
INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('each user', 'user', 'month', 1);
});
my $r = sql(qq{SELECT ai_budget_reserve(0.4, '$user')});
is(sql(qq{SELECT (SELECT count(*) FROM ai_budget_reservation) || ' ' ||
               (SELECT string_agg(amount_usd || ' ' || state || ' ' || holds, ',') FROM ai_budget_memory_reservations())}),
	'0 0.4 held 1', 'the reservation is in memory, not in the table');
is(sql(qq{SELECT spent_usd || ' ' || reserved_usd || ' ' || allowed FROM ai_budget_check(0.6, '$user')}),
	'0 0.4 true', 'ai_budget_check() counts it (0.6 more fits)');
is(sql(qq{SELECT reserved_usd FROM ai_budget_status WHERE budget = 'each user'}), '',
	'the status view shows no row before the user spent (a memory hold makes none)');
my ($ok, $stdout, $stderr) = $node->psql('postgres', qq{SELECT ai_budget_reserve(0.7, '$user')});
like($stderr, qr/budget "each user" would be exceeded.*\n.*Spent 0 USD and reserved 0\.4 USD of 1 USD/,
	'past the limit with what memory holds: refused, with the figures');
is(sql(qq{SELECT ai_budget_settle($r, record_ai_call('budget-m', '1', 'p', 'null', cost_usd => 0.3,
                                                    user_id => '$user'))}),
	't', 'settled');
is(sql(q{SELECT count(*) FROM ai_budget_memory_reservations()}), '0', 'the settle took it out');
is(sql(q{SELECT spent_usd || ' ' || reserved_usd FROM ai_budget_status WHERE budget = 'each user'}),
	'0.3 0', 'spent counted, nothing held');
is(sql(qq{SELECT ai_budget_release($r)}), 'f', 'a second end finds nothing');

# rollbacks
is(sql(qq{BEGIN; SELECT ai_budget_reserve(0.1, '$user') > 0; ROLLBACK;
        SELECT count(*) FROM ai_budget_memory_reservations()}), "t\n0",
	'a reserve rolled back holds nothing');
$r = sql(qq{SELECT ai_budget_reserve(0.1, '$user')});
is(sql(qq{BEGIN; SAVEPOINT a; SELECT ai_budget_release($r); ROLLBACK TO a;
        SELECT string_agg(state, ',') FROM ai_budget_memory_reservations(); COMMIT}),
	"t\nheld", 'a release rolled back to a savepoint: still held');
is(sql(qq{BEGIN; SELECT ai_budget_release($r); ROLLBACK; SELECT count(*) FROM ai_budget_memory_reservations()}),
	"t\n1", 'a release rolled back: still held');
($ok, $stdout, $stderr) = $node->psql('postgres',
	qq{BEGIN; SELECT ai_budget_release($r); PREPARE TRANSACTION 'p1';});
like($stderr, qr/cannot PREPARE a transaction that made or ended a budget reservation held in memory/,
	'PREPARE TRANSACTION refused');
is(sql(q{SELECT string_agg(state, ',') FROM ai_budget_memory_reservations()}), 'held',
	'and the reservation is still held');
is(sql(qq{BEGIN; SELECT ai_budget_reserve(0.1, '$user') > 0; SAVEPOINT a;
        SELECT ai_budget_release(max(id)) FROM ai_budget_memory_reservations() WHERE state = 'being made';
        ROLLBACK TO a; SELECT string_agg(state, ',' ORDER BY id) FROM ai_budget_memory_reservations(); COMMIT;
        SELECT string_agg(state, ',') FROM ai_budget_memory_reservations()}),
	"t\nt\nheld,being made\nheld,held", 'one made and ended in a savepoint rolled back: made, then held at commit');
sql(q{SELECT ai_budget_release(id) FROM ai_budget_memory_reservations()});

# another session's reservation in progress
my ($in, $bout, $berr) = ("BEGIN;\nSELECT 'id=' || ai_budget_reserve(0.1, '$user');\n", '', '');
my $h = IPC::Run::start(
	[ 'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port, '-d', 'postgres' ],
	'<', \$in, '>', \$bout, '2>', \$berr, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
$h->pump until $bout =~ /id=(\d+)/;
my $other = $1;
is(sql(qq{SELECT ai_budget_release($other)}), 'f', "another session's reservation in progress: not this one's to end");
$in .= "COMMIT;\n\\q\n";
$h->finish;
is(sql(qq{SELECT ai_budget_release($other)}), 't', 'once committed, it is');

# expired
sql(qq{SELECT ai_budget_reserve(0.5, '$user', expires_in => '1 millisecond'); SELECT pg_sleep(0.05)});
is(sql(qq{SELECT reserved_usd FROM ai_budget_check(0.1, '$user')}), '0', 'an expired reservation holds nothing');
is(sql(q{SELECT count(*) FROM ai_budget_memory_reservations()}), '0', 'and was swept out');

# every reservation goes to memory: long scope values, huge estimates,
# tenants; where memory cannot take one, it is refused (a reservation in
# the table would not see what memory holds)
sql(q{INSERT INTO ai_budget (name, scope, period, limit_usd) VALUES ('projects', 'project', 'month', 10)});
my $long = 'p' x 200;
sql(qq{SELECT ai_budget_reserve(0.1, project => '$long'); SELECT ai_budget_reserve(2e9)});
is(sql(q{SELECT (SELECT count(*) FROM ai_budget_reservation) || ' ' ||
               (SELECT string_agg(amount_usd::text, ',' ORDER BY id) FROM ai_budget_memory_reservations())}),
	'0 0.1,2000000000', 'a scope value of 200 characters and an estimate of 2e9 USD: in memory');
is(sql(qq{SELECT reserved_usd FROM ai_budget_check(project => '$long') WHERE budget = 'projects'}), '0.1',
	'and counted for that project');
sql(q{SELECT count(ai_budget_release(id)) FROM ai_budget_memory_reservations()});
sql(qq{
CREATE ROLE app_tenant LOGIN IN ROLE aitrack_tenant;
INSERT INTO ai_tenant_user (role, user_id) VALUES ('app_tenant', '$user');
});
sub tenant_sql { return $node->safe_psql('postgres', $_[0], extra_params => [ '-U', 'app_tenant' ]); }
my $tenant_r = tenant_sql(q{SELECT ai_budget_reserve(0.3)});
my $app_r = sql(qq{SELECT ai_budget_reserve(0.2, '$user')});
is(sql(q{SELECT (SELECT count(*) FROM ai_budget_reservation) || ' ' || (SELECT count(*) FROM ai_budget_memory_reservations())}),
	'0 2', "a tenant's reservation: in memory too");
is(tenant_sql(q{SELECT reserved_usd FROM ai_budget_check(0.1)}), '0.5',
	"the tenant sees what is held for its own user (its own and the application's)");
($ok, $stdout, $stderr) = $node->psql('postgres', q{SELECT ai_budget_reserve(0.6)}, extra_params => [ '-U', 'app_tenant' ]);
like($stderr, qr/budget "each user" would be exceeded/, "the tenant's reservation counts what memory holds: refused");
is(tenant_sql(qq{SELECT ai_budget_release($app_r)}), 'f', "a tenant cannot end the application's reservation");
is(sql(qq{SELECT ai_budget_release($tenant_r)}), 't', "the application can end the tenant's");
is(sql(qq{SELECT ai_budget_release($app_r)}), 't', 'and its own');
is(tenant_sql(q{
DO $$ BEGIN FOR i IN 1..64 LOOP PERFORM ai_budget_reserve(0); END LOOP; END $$;
SELECT count(*) FROM pg_catalog.pg_class WHERE false}), '0', 'a tenant holds 64');
($ok, $stdout, $stderr) = $node->psql('postgres', q{SELECT ai_budget_reserve(0)}, extra_params => [ '-U', 'app_tenant' ]);
like($stderr, qr/a tenant may hold at most 64 reservations in memory at once/,
	'and no more: one tenant cannot fill the memory for everyone');
sql(q{SELECT count(ai_budget_release(id)) FROM ai_budget_memory_reservations()});
sql(q{INSERT INTO ai_budget (name, scope, period, limit_usd) SELECT 'tags', 'tag', 'month', 10});
($ok, $stdout, $stderr) = $node->psql('postgres',
	q{SELECT ai_budget_reserve(0.1, tags => (SELECT array_agg('t' || i) FROM generate_series(1, 17) i))});
like($stderr, qr/a reservation held in memory can hold at most 16 budgets/, 'more than 16 budgets: refused, saying why');
sql(q{DELETE FROM ai_budget WHERE name = 'tags'});
is(sql(q{
DO $$ BEGIN FOR i IN 1..6144 LOOP PERFORM ai_budget_reserve(0.0001, project => 'fill'); END LOOP; END $$;
SELECT count(*) FROM ai_budget_memory_reservations()}), '6144', 'memory holds 6,144 reservations');
($ok, $stdout, $stderr) = $node->psql('postgres', q{SELECT ai_budget_reserve(0.0001, project => 'fill')});
like($stderr, qr/too many reservations held in memory/, 'memory full: the next is refused, saying why');
is(sql(q{SELECT (SELECT count(*) FROM ai_budget_reservation) || ' ' || reserved_usd
           FROM ai_budget_check(project => 'fill') WHERE budget = 'projects'}), '0 0.6144',
	'nothing went to the table');
sql(q{SELECT count(ai_budget_release(id)) FROM ai_budget_memory_reservations()});
# slots nobody can end any more (a dropped database) are taken out when
# memory is full
sql(q{CREATE DATABASE scratch});
$node->safe_psql('scratch', q{
SET client_min_messages = warning;
CREATE EXTENSION aitrack CASCADE;
DO $$ BEGIN FOR i IN 1..6144 LOOP PERFORM ai_budget_reserve(0.0001, expires_in => '1 day'); END LOOP; END $$;});
sql(q{DROP DATABASE scratch});
is(sql(q{SELECT ai_budget_reserve(0.0001, project => 'fill') > 0}), 't',
	"a dropped database's reservations make room when memory is full");
sql(q{SELECT count(ai_budget_release(id)) FROM ai_budget_memory_reservations()});

# two ends of one reservation take turns: the second waits for the first,
# and ends it when the first rolls back
$r = sql(qq{SELECT ai_budget_reserve(0.1, '$user')});
my ($a_in, $a_out, $a_err) = ("BEGIN;\nSELECT 'a=' || ai_budget_release($r);\n", '', '');
my $a = IPC::Run::start(
	[ 'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port, '-d', 'postgres' ],
	'<', \$a_in, '>', \$a_out, '2>', \$a_err, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
$a->pump until $a_out =~ /a=t/;
my ($b_in, $b_out, $b_err) = ("SELECT 'b=' || ai_budget_release($r);\n\\q\n", '', '');
my $b = IPC::Run::start(
	[ 'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port, '-d', 'postgres' ],
	'<', \$b_in, '>', \$b_out, '2>', \$b_err, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
$b->pump while length $b_in;
$node->poll_query_until('postgres', q{SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)});
is($b_out, '', 'the second end waits for the first');
$a_in .= "ROLLBACK;\n\\q\n";
$a->finish;
$b->finish;
like($b_out, qr/b=t/, 'and ends it, the first having rolled back');
is(sql(q{SELECT count(*) FROM ai_budget_memory_reservations()}), '0', 'gone');
# the same when the first end rolls back to a savepoint, its transaction
# going on
$r = sql(qq{SELECT ai_budget_reserve(0.1, '$user')});
($a_in, $a_out, $a_err) = ("BEGIN;\nSAVEPOINT s;\nSELECT 'a=' || ai_budget_release($r);\n", '', '');
$a = IPC::Run::start(
	[ 'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port, '-d', 'postgres' ],
	'<', \$a_in, '>', \$a_out, '2>', \$a_err, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
$a->pump until $a_out =~ /a=t/;
($b_in, $b_out, $b_err) = ("SELECT 'b=' || ai_budget_release($r);\n\\q\n", '', '');
$b = IPC::Run::start(
	[ 'psql', '-X', '-q', '-A', '-t', '-h', $node->host, '-p', $node->port, '-d', 'postgres' ],
	'<', \$b_in, '>', \$b_out, '2>', \$b_err, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
$b->pump while length $b_in;
$node->poll_query_until('postgres', q{SELECT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND NOT granted)});
$a_in .= "ROLLBACK TO s;\nSELECT 'a2=' || count(*) FROM ai_budget_memory_reservations();\n";
$a->pump until $a_out =~ /a2=/;
$b->finish;
like($b_out, qr/b=t/, 'a savepoint rolled back: the waiter ends it at once, the first transaction still open');
$a_in .= "COMMIT;\n\\q\n";
$a->finish;
is(sql(q{SELECT count(*) FROM ai_budget_memory_reservations()}), '0', 'gone');

# a restart loses what memory held
$r = sql(qq{SELECT ai_budget_reserve(0.2, '$user')});
$node->restart;
is(sql(q{SELECT count(*) FROM ai_budget_memory_reservations()}), '0', 'a restart: memory holds nothing');
is(sql(qq{SELECT ai_budget_settle($r, record_ai_call('budget-m', '1', 'p', 'null', cost_usd => 0.2,
                                                    user_id => '$user'))}),
	'f', 'a settle after the restart: false');
is(sql(q{SELECT spent_usd FROM ai_budget_status WHERE budget = 'each user'}), '0.5', 'and the call counted');

# back to the table: new reservations go there, those in memory still end
# and still count
my $before = sql(qq{SELECT ai_budget_reserve(0.1, '$user')});
sql(q{ALTER SYSTEM SET aitrack.budget_reservations = 'table'; SELECT pg_reload_conf()});
$node->poll_query_until('postgres', q{SELECT current_setting('aitrack.budget_reservations') = 'table'});
sql(qq{SELECT ai_budget_reserve(0.1, '$user')});
is(sql(q{SELECT (SELECT count(*) FROM ai_budget_reservation) || ' ' || (SELECT count(*) FROM ai_budget_memory_reservations())}),
	'1 1', "the setting at 'table': a new one in the table, the one before still in memory");
is(sql(qq{SELECT reserved_usd FROM ai_budget_check(0, '$user')}), '0.2', 'both count');
($ok, $stdout, $stderr) = $node->psql('postgres', qq{SELECT ai_budget_reserve(0.35, '$user')});
like($stderr, qr/budget "each user" would be exceeded.*\n.*reserved 0\.2 USD/,
	'a reservation in the table counts what memory holds (0.5 spent, 0.2 held, 0.35 more: refused)');
is(sql(qq{SELECT ai_budget_release($before)}), 't', 'the one in memory ends');
sql(q{DELETE FROM ai_budget_reservation; ALTER SYSTEM RESET aitrack.budget_reservations});

# ---- without shared_preload_libraries ---------------------------------
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->restart;
sql(q{ALTER SYSTEM SET aitrack.budget_reservations = 'memory'; SELECT pg_reload_conf()});
$node->poll_query_until('postgres', q{SELECT current_setting('aitrack.budget_reservations', true) IS DISTINCT FROM 'table'});
sql(qq{SELECT ai_budget_reserve(0.1, '$user')});
my $where = sql(q{SELECT (SELECT count(*) FROM ai_budget_reservation) || ' ' || (SELECT count(*) FROM ai_budget_memory_reservations())});
if ($server_major >= 17)
{
	is($where, '0 1', 'not preloaded, PostgreSQL 17+: in memory (the DSM registry)');
}
else
{
	is($where, '1 0', 'not preloaded, before PostgreSQL 17: in the table');
}

$node->stop;
done_testing();
