# test/t/006_field.pl: aitrack 1.4 where 1.3 failed in the field.
#
#  - pg_restore -j 4 keeps every call, with thousands of models with a
#    sizeable extra (the foreign key made ai_call's COPY fail beside
#    ai_model's); a plain dump restores too (no foreign key orders it now).
#  - pg_restore --clean: refused by the drop guard, and works with the
#    documented PGOPTIONS='-c aitrack.allow_drop=on'.
#  - Settings given when connecting (PGOPTIONS) switch nothing off: a tenant
#    role marked the 1.3 way stays a tenant, a database set to hash keeps
#    hashing, a tenant's aitrack.user_id does not outrank auth.uid() or
#    ai_tenant_user; with and without shared_preload_libraries.
#  - Writes under session_replication_role = replica (logical replication's
#    apply) keep the stats equal to the table; after pg_restore
#    --disable-triggers, ai_rollup_rebuild() makes them equal again.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('field');
$node->init;
$node->start;

# What every restored copy must equal: calls, models, and the stats.
my $fingerprint = <<'SQL';
SELECT (SELECT count(*) FROM ai_call) || ' ' || (SELECT count(*) FROM ai_model) || ' '
       || (SELECT md5(string_agg(c::text, ',' ORDER BY c.id)) FROM ai_call c) || ' '
       || (SELECT md5(string_agg(m::text, ',' ORDER BY m.id)) FROM ai_model m)
SQL
my $stats = <<'SQL';
SELECT string_agg(s::text, E'\n' ORDER BY s::text)
  FROM ai_usage_stats(group_by => '{model,status,user}') s
SQL
# The stats agree with the table, group by group.
my $stats_match = <<'SQL';
SELECT count(*) FROM (
  (SELECT m.modelname, c.user_id, count(*) FROM ai_call c JOIN ai_model m ON m.id = c.model_id GROUP BY 1, 2
   EXCEPT ALL
   SELECT modelname, user_id, calls FROM ai_usage_stats(group_by => '{modelname,user}'))
  UNION ALL
  (SELECT modelname, user_id, calls FROM ai_usage_stats(group_by => '{modelname,user}')
   EXCEPT ALL
   SELECT m.modelname, c.user_id, count(*) FROM ai_call c JOIN ai_model m ON m.id = c.model_id GROUP BY 1, 2)) d
SQL

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION aitrack CASCADE');
# 5,000 models with 6 kB of extra each (ai_model's data is the bigger one,
# so its COPY is still running when ai_call's starts), 20,000 calls.
$node->safe_psql('src', <<'SQL');
INSERT INTO ai_model (modelname, version, extra)
SELECT 'model-' || g, 'v1', jsonb_build_object('card', repeat(md5(g::text), 200))
  FROM generate_series(1, 5000) g;
SELECT count(*) FROM record_ai_calls((
  SELECT jsonb_agg(jsonb_build_object('modelname', 'model-' || (g % 5000 + 1), 'version', 'v1',
                                      'prompt', 'p' || g, 'response', '{}', 'input_tokens', g % 100,
                                      'output_tokens', g % 10, 'duration_ms', g % 1000,
                                      'user_id', '00000000-0000-4000-8000-' || lpad((g % 7)::text, 12, '0'),
                                      'created_at', '2025-01-01'::timestamptz + g * interval '1 minute'))
    FROM generate_series(1, 20000) g));
SQL
my $src_print = $node->safe_psql('src', $fingerprint);
my $src_stats = $node->safe_psql('src', $stats);

# Parallel restore, three times (the race is not the same each time).
my $dumpdir = "$tempdir/src.dir";
$node->command_ok([ 'pg_dump', '-Fd', '-f', $dumpdir, '-d', $node->connstr('src') ],
	'pg_dump -Fd');
for my $round (1 .. 3)
{
	my $db = "par$round";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->command_ok([ 'pg_restore', '-j', '4', '-d', $node->connstr($db), $dumpdir ],
		"pg_restore -j 4, round $round: no error");
	is($node->safe_psql($db, $fingerprint), $src_print,
		"pg_restore -j 4, round $round: every call and model, as they were");
	is($node->safe_psql($db, $stats), $src_stats,
		"pg_restore -j 4, round $round: the same stats");
}

# A plain dump, restored with psql in one session: ai_call's data comes
# first (no foreign key orders the tables any more).
my $plain = "$tempdir/src.sql";
$node->command_ok([ 'pg_dump', '-f', $plain, '-d', $node->connstr('src') ], 'pg_dump plain');
$node->safe_psql('postgres', 'CREATE DATABASE plain');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('plain'), '-f', $plain ],
	'plain dump restored with psql');
is($node->safe_psql('plain', $fingerprint), $src_print, 'plain restore: every call and model');

# pg_restore --clean onto a database that has the ledger: refused by the
# guard without allow_drop, done with it.
{
	my $out = `pg_restore --clean --if-exists -d '@{[ $node->connstr('par1') ]}' $dumpdir 2>&1`;
	like($out, qr/cannot drop aitrack's \w+ while it holds/,
		'pg_restore --clean: the drop guard refuses to drop the ledger');
	local $ENV{PGOPTIONS} = '-c aitrack.allow_drop=on';
	$node->command_ok([ 'pg_restore', '--clean', '--if-exists', '-d', $node->connstr('par1'), $dumpdir ],
		"pg_restore --clean with PGOPTIONS='-c aitrack.allow_drop=on'");
	is($node->safe_psql('par1', $fingerprint), $src_print, 'pg_restore --clean: the ledger as dumped');
}

# After a data-only restore with triggers disabled the rollups are empty;
# ai_rollup_rebuild() makes the stats equal to the table again.
$node->safe_psql('postgres', 'CREATE DATABASE notrig');
$node->safe_psql('notrig', 'CREATE EXTENSION aitrack CASCADE');
$node->command_ok(
	[ 'pg_restore', '--data-only', '--disable-triggers', '-d', $node->connstr('notrig'), $dumpdir ],
	'pg_restore --data-only --disable-triggers');
isnt($node->safe_psql('notrig', $stats_match), '0', 'with triggers disabled the rollups missed the calls');
$node->safe_psql('notrig', 'CALL ai_rollup_rebuild()');
is($node->safe_psql('notrig', $stats_match), '0', 'ai_rollup_rebuild(): the stats equal the table');
$node->safe_psql('notrig', 'SELECT ai_rollup_compact()');
is($node->safe_psql('notrig', $stats), $src_stats, 'ai_rollup_rebuild(): the same stats as the source');

# Writes under session_replication_role = replica, as logical replication
# applies them: the rollup triggers fire (ENABLE ALWAYS).
$node->safe_psql('par2', <<'SQL');
SET session_replication_role = replica;
INSERT INTO ai_call (model_id, prompt, response, input_tokens, user_id)
SELECT id, 'replicated', '{}', 5, '00000000-0000-4000-8000-000000000001' FROM ai_model WHERE id <= 100;
UPDATE ai_call SET user_id = NULL WHERE id % 50 = 0;
DELETE FROM ai_call WHERE id % 77 = 0;
SQL
is($node->safe_psql('par2', $stats_match), '0',
	'session_replication_role = replica: the stats equal the table after inserts, updates and deletes');

# Settings given when connecting.  Roles marked the 1.3 way.
$node->safe_psql('src', <<'SQL');
CREATE ROLE field_tenant LOGIN;
GRANT aitrack_reader, aitrack_writer TO field_tenant;
ALTER ROLE field_tenant SET aitrack.tenant = on;
CREATE ROLE field_mapped LOGIN IN ROLE aitrack_tenant;
INSERT INTO ai_tenant_user VALUES ('field_mapped', '00000000-0000-4000-8000-000000000003');
CREATE ROLE field_app LOGIN IN ROLE aitrack_writer, aitrack_reader;
SQL
my $own = $node->safe_psql('src',
	"SELECT count(*) FROM ai_call WHERE user_id = '00000000-0000-4000-8000-000000000002'");
my $mapped_own = $node->safe_psql('src',
	"SELECT count(*) FROM ai_call WHERE user_id = '00000000-0000-4000-8000-000000000003'");

sub as_role
{
	my ($role, $options, $sql) = @_;
	local $ENV{PGOPTIONS} = $options;
	# With the library preloaded, the server refuses the connection (FATAL)
	# and psql may be gone before its input is written: a broken pipe, which
	# is the connection failing, as a refusal should.
	my ($ret, $stdout, $stderr);
	eval {
		($ret, $stdout, $stderr) = $node->psql('src', $sql, extra_params => [ '-U', $role ]);
		1;
	} or return (1, '', "psql failed: $@");
	return ($ret, $stdout, $stderr);
}

sub connection_checks
{
	my ($label) = @_;
	my ($ret, $out, $err);

	($ret, $out, $err) = as_role('field_tenant',
		'-c aitrack.tenant=off -c aitrack.user_id=00000000-0000-4000-8000-000000000002',
		'SELECT count(*) FROM ai_call');
	ok($ret != 0 || $out eq $own,
		"$label: PGOPTIONS aitrack.tenant=off: the tenant sees only its user's calls, or cannot connect")
	  or diag("ret $ret out $out err $err");
	($ret, $out, $err) = as_role('field_tenant', '-c aitrack.tenant=off',
		"SELECT sum(calls) FROM ai_usage_stats(group_by => '{}')");
	ok($ret != 0 || $out eq '0',
		"$label: PGOPTIONS aitrack.tenant=off without a user: the stats show nothing")
	  or diag("ret $ret out $out err $err");

	($ret, $out, $err) = as_role('field_mapped',
		'-c aitrack.user_id=00000000-0000-4000-8000-000000000001',
		'SELECT count(*) FROM ai_call');
	is($out, $mapped_own, "$label: a mapped tenant's aitrack.user_id chooses nothing");

	$node->safe_psql('src', 'ALTER DATABASE src SET aitrack.store_content = hash');
	($ret, $out, $err) = as_role('field_app', '-c aitrack.store_content=full',
		"SELECT record_ai_call('m', 'v', 'secret', '{}') AS id \\gset\nSELECT prompt FROM ai_call WHERE id = :id");
	ok($ret != 0 || $out =~ /^sha256:[0-9a-f]{64}$/,
		"$label: PGOPTIONS aitrack.store_content=full against a database set to hash: hashed")
	  or diag("ret $ret out $out err $err");
	$node->safe_psql('src', 'ALTER DATABASE src RESET aitrack.store_content');

	# ALTER ROLE ALL SET, the row (all databases, all roles) of the catalog.
	$node->safe_psql('src', 'ALTER ROLE ALL SET aitrack.store_content = none');
	($ret, $out, $err) = as_role('field_app', '-c aitrack.store_content=full',
		"SELECT record_ai_call('m', 'v', 'secret', '{}') AS id \\gset\nSELECT prompt FROM ai_call WHERE id = :id");
	ok($ret != 0 || $out eq '',
		"$label: PGOPTIONS aitrack.store_content=full against ALTER ROLE ALL SET ... none: nothing kept")
	  or diag("ret $ret out $out err $err");
	$node->safe_psql('src', 'ALTER ROLE ALL RESET aitrack.store_content');

	# ALTER DATABASE SET aitrack.tenant = on: every role is a tenant.
	$node->safe_psql('src', 'ALTER DATABASE src SET aitrack.tenant = on');
	($ret, $out, $err) = as_role('field_app', '-c aitrack.tenant=off', 'SELECT count(*) FROM ai_call');
	ok($ret != 0 || $out eq '0',
		"$label: ALTER DATABASE SET aitrack.tenant = on: a reader without a user sees nothing, PGOPTIONS or not")
	  or diag("ret $ret out $out err $err");
	$node->safe_psql('src', 'ALTER DATABASE src RESET aitrack.tenant');

	($ret, $out, $err) = as_role('field_tenant', '-c aitrack.tenant=off',
		"SELECT record_ai_call('m', 'v', 'p', '{}', user_id => '00000000-0000-4000-8000-000000000005')");
	isnt($ret, 0, "$label: a tenant cannot record a call for another user");
	return;
}

connection_checks('library loaded late');
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'aitrack'");
$node->restart;
connection_checks('shared_preload_libraries');

$node->stop;
done_testing();
