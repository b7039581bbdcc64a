# test/t/002_upgrade.pl: the upgrade harness.
#
# Versions come from the extension scripts in sql/: aitrack--V.sql installs
# V, aitrack--A--B.sql goes from A to B (an upgrade when B > A, a downgrade
# when B < A); default_version comes from aitrack.control.
#
#  - every install-script version is installed on this server (make install
#    ran) and has an update path to default_version;
#  - step by step: CREATE EXTENSION aitrack VERSION <oldest>, fill it with
#    record_ai_call(), then ALTER EXTENSION aitrack UPDATE TO each next
#    version up to default_version; after each step the rows (counts and all
#    1.0 columns) are intact and record_ai_call() / ai_usage_stats() work;
#  - in one go: from every older install-script version, plain
#    ALTER EXTENSION aitrack UPDATE keeps the data;
#  - the upgraded database has the same schema as a fresh
#    CREATE EXTENSION aitrack: pg_dump --schema-only, both plain and
#    --binary-upgrade (which spells out every member of the extension),
#    with only comments, OIDs, xids, sequence positions and dropped-column
#    placeholders normalised away; a difference is shown as a unified diff;
#  - every downgrade script runs, keeps the data, leaves the schema of a
#    fresh install of its target, and the upgrade back works.
#
# With a single version (1.0) this installs it, fills it and compares it
# with a fresh install.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root    = abs_path(dirname(__FILE__) . '/../..');
my $tempdir = PostgreSQL::Test::Utils::tempdir;

# ---- versions ---------------------------------------------------------

# Compare version strings piecewise: numbers as numbers, the rest as text.
sub vcmp
{
	my @a = split /[._-]/, shift;
	my @b = split /[._-]/, shift;
	while (@a || @b)
	{
		my $x = shift(@a) // '';
		my $y = shift(@b) // '';
		my $c =
		  ($x =~ /^\d+$/ && $y =~ /^\d+$/) ? ($x <=> $y) : ($x cmp $y);
		return $c if $c;
	}
	return 0;
}

my (%install, %edge);
opendir(my $dh, "$root/sql") or die "cannot open $root/sql: $!";
foreach my $f (readdir $dh)
{
	next unless $f =~ /^aitrack--(.+)\.sql$/;
	my $v = $1;
	if ($v =~ /^(.+?)--(.+)$/) { $edge{$1}{$2} = 1; }
	else                       { $install{$v} = 1; }
}
closedir $dh;

my ($default) =
  slurp_file("$root/aitrack.control") =~ /^\s*default_version\s*=\s*'([^']+)'/m;
ok(defined $default, 'aitrack.control has a default_version')
  or BAIL_OUT('no default_version');

my @installs = sort { vcmp($a, $b) } keys %install;
ok(@installs, 'sql/ has install scripts: ' . join(' ', @installs))
  or BAIL_OUT('no install script');
my $oldest = $installs[0];
my @upgrades;
my @downgrades;
foreach my $from (sort { vcmp($a, $b) } keys %edge)
{
	foreach my $to (sort { vcmp($a, $b) } keys %{ $edge{$from} })
	{
		if (vcmp($to, $from) > 0) { push @upgrades, [ $from, $to ]; }
		else                      { push @downgrades, [ $from, $to ]; }
	}
}
note "default_version $default; oldest install script $oldest";
note 'upgrade scripts: ' . (join(' ', map { "$_->[0]--$_->[1]" } @upgrades) || 'none');
note 'downgrade scripts: ' . (join(' ', map { "$_->[0]--$_->[1]" } @downgrades) || 'none');
cmp_ok(vcmp($oldest, $default), '<=', 0,
	"oldest install script ($oldest) is not newer than default_version");

# ---- server -----------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

my $available = $node->safe_psql('postgres',
	"SELECT string_agg(version, ' ') FROM pg_available_extension_versions
	  WHERE name = 'aitrack'");
my %seen;
foreach my $v (grep { !$seen{$_}++ } @installs, $default)
{
	ok(grep({ $_ eq $v } split / /, $available),
		"version $v is installed on the server (make install)");
}
foreach my $v (grep { vcmp($_, $default) < 0 } @installs)
{
	is( $node->safe_psql('postgres',
			"SELECT path IS NOT NULL FROM pg_extension_update_paths('aitrack')
			  WHERE source = '$v' AND target = '$default'"),
		't',
		"there is an update path from $v to $default");
}

# ---- helpers ----------------------------------------------------------

my $dbcount = 0;

sub new_db
{
	my ($version) = @_;
	my $db = 'db' . ++$dbcount;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my $sql = 'CREATE EXTENSION aitrack';
	$sql .= " VERSION '$version'" if defined $version;
	$node->safe_psql($db, $sql);
	return $db;
}

sub extversion
{
	my ($db) = @_;
	return $node->safe_psql($db,
		"SELECT extversion FROM pg_extension WHERE extname = 'aitrack'");
}

# Calls in both record_ai_call() shapes of 1.0, on several models.
sub fill
{
	my ($db) = @_;
	$node->safe_psql($db, <<'SQL');
SELECT record_ai_call(
    modelname => 'gpt-4', version => '0125', prompt => 'p1',
    response => '{"text": "a"}', input_tokens => 10, reasoning_tokens => 2,
    output_tokens => 5, cost_usd => 0.0015, duration_ms => 300,
    call_type => 'translation', status => 'success',
    user_id => '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01',
    extra => '{"temperature": 0.2}');
SELECT record_ai_call('gpt-4', '0125', E'p2 with ''quotes''\nand lines',
    '{"text": "b"}', input_tokens => 20, status => 'error');
SELECT record_ai_call('claude-3-sonnet', '20240229', 'p3', '{"text": "c"}',
    '{"input_tokens": 30, "output_tokens": 7, "cost_usd": 0.002,
      "duration_ms": 900, "status": "timeout", "extra": {"retry": 2}}'::jsonb,
    'metadata', '0b7a7d2c-52a4-4f0e-8d7e-3f4a1e9c2b10');
SELECT record_ai_call('gpt-4o-mini', '2024-07-18', 'p4', '{"text": "d"}',
    metrics => '{}');
UPDATE ai_model SET extra = '{"provider": "openai"}' WHERE modelname = 'gpt-4';
UPDATE ai_call SET created_at = '2024-01-15 10:00:00+00' WHERE prompt = 'p4';
SQL
	return;
}

# The rows as 1.0 knew them: counts and every 1.0 column, as text.
sub rows_1_0
{
	my ($db) = @_;
	return $node->safe_psql($db, <<'SQL');
SELECT 'ai_model ' || count(*) || ' ' || coalesce(md5(string_agg(
         ROW(id, created_at, updated_at, modelname, version, extra)::text,
         E'\n' ORDER BY id)), '-')
  FROM ai_model
UNION ALL
SELECT 'ai_call ' || count(*) || ' ' || coalesce(md5(string_agg(
         ROW(id, created_at, updated_at, model_id, prompt, response,
             input_tokens, reasoning_tokens, output_tokens, cost_usd,
             duration_ms, call_type, status, user_id, extra)::text,
         E'\n' ORDER BY id)), '-')
  FROM ai_call
UNION ALL
SELECT 'sequences ' || m.last_value || ' ' || c.last_value
  FROM ai_model_id_seq m, ai_call_id_seq c
SQL
}

# record_ai_call() in both 1.0 shapes and ai_usage_stats() still work.
sub exercise
{
	my ($db, $label) = @_;
	my $before = $node->safe_psql($db, 'SELECT coalesce(max(id), 0) FROM ai_call');
	my ($id1, $id2) = split /\n/, $node->safe_psql($db, <<'SQL');
SELECT record_ai_call(modelname => 'gpt-4', version => '0125',
    prompt => 'exercise', response => '{"text": "e"}', input_tokens => 1,
    status => 'error');
SELECT record_ai_call('new-model', '1', 'exercise', '{"text": "f"}',
    '{"output_tokens": 2}'::jsonb);
SQL
	ok(defined $id2 && $id1 > $before && $id2 > $id1,
		"$label: record_ai_call() works in both shapes");
	is( $node->safe_psql($db,
			'SELECT (SELECT sum(calls) FROM ai_usage_stats())
			        = (SELECT count(*) FROM ai_call)'),
		't',
		"$label: ai_usage_stats() counts every call");
	return;
}

# Config tables and their filters, by name.
sub ext_config
{
	my ($db) = @_;
	return $node->safe_psql($db, <<'SQL');
SELECT e.extversion || ': ' || coalesce(string_agg(
         c.rel::regclass::text || ' ' || coalesce(c.cond, 'NULL'), ', '
         ORDER BY c.rel::regclass::text), '')
  FROM pg_extension e
  LEFT JOIN LATERAL unnest(e.extconfig, e.extcondition) AS c(rel, cond) ON true
 WHERE e.extname = 'aitrack'
 GROUP BY e.extversion
SQL
}

# pg_dump --schema-only [--binary-upgrade], normalised.
sub schema_dump
{
	my ($db, $binary) = @_;
	my $file = "$tempdir/$db" . ($binary ? '.binary' : '') . '.sql';
	$node->command_ok(
		[
			'pg_dump', '--schema-only', ($binary ? '--binary-upgrade' : ()),
			'-d', $db, '-f', $file
		],
		"pg_dump --schema-only" . ($binary ? ' --binary-upgrade' : '') . " $db");
	my $text = slurp_file($file);

	# comments, blank lines, the random \restrict keys of newer pg_dumps
	$text = join '', grep { !/^--/ && !/^\s*$/ && !/^\\(un)?restrict / }
	  split /^/, $text;
	# dropped columns that ALTER TABLE ... DROP COLUMN leaves behind
	$text =~ s/^ *"\.+pg\.dropped\.\d+\.+" [^\n]*\n//mg;
	$text =~ s/,\n\);/\n);/g;
	# whole statements: OIDs, relfilenodes, xids, dropped-column fixups,
	# and sequence positions (--binary-upgrade dumps them; the rows are
	# compared elsewhere)
	my @stmts = split /(?<=;\n)/, $text;
	@stmts = grep {
		!/^SELECT pg_catalog\.binary_upgrade_set_next_/
		  && !/^SELECT pg_catalog\.binary_upgrade_set_missing_value/
		  && !/^UPDATE pg_catalog\.pg_class\s+SET relfrozenxid/
		  && !/^SELECT pg_catalog\.setval\(/
		  && !/pg\.dropped/
	} @stmts;
	$text = join '', @stmts;
	$text =~ s/(binary_upgrade_create_empty_extension\([^)]*?)'\{[\d,]*\}'/$1'{OIDS}'/g;
	return $text;
}

# is_schema(DB, REFDB, LABEL): same schema, else a diff in the output.
sub is_schema
{
	my ($db, $ref, $label) = @_;
	is(ext_config($db), ext_config($ref),
		"$label: same extension version and config tables");
	foreach my $binary (0, 1)
	{
		my $a = "$tempdir/$ref.norm" . ($binary ? '.binary' : '');
		my $b = "$tempdir/$db.norm" . ($binary ? '.binary' : '');
		append_to_file($a, schema_dump($ref, $binary)) unless -e $a;
		unlink $b;
		append_to_file($b, schema_dump($db, $binary));
		my ($diff) = run_command([ 'diff', '-u', $a, $b ]);
		ok($diff eq '',
			"$label: pg_dump --schema-only"
			  . ($binary ? ' --binary-upgrade' : '')
			  . " matches $ref")
		  or diag("schema differs: - $ref (reference), + $db ($label)\n$diff");
	}
	return;
}

# ---- step by step from the oldest version ----------------------------

my $fresh = new_db();
is(extversion($fresh), $default,
	"plain CREATE EXTENSION installs default_version $default");
exercise($fresh, 'fresh');

my $db = new_db($oldest);
is(extversion($db), $oldest, "CREATE EXTENSION aitrack VERSION '$oldest'");
fill($db);
exercise($db, $oldest);
my $rows = rows_1_0($db);
like($rows, qr/^ai_call \d+ [0-9a-f]{32}$/m, "$oldest: rows to compare");

my $cur = $oldest;
while (vcmp($cur, $default) < 0)
{
	my ($next) = sort { vcmp($a, $b) }
	  grep { vcmp($_, $cur) > 0 } keys %{ $edge{$cur} // {} };
	if (!defined $next)
	{
		fail("an upgrade script from $cur (sql/aitrack--$cur--<next>.sql)");
		last;
	}
	$node->safe_psql($db, "ALTER EXTENSION aitrack UPDATE TO '$next'");
	is(extversion($db), $next, "ALTER EXTENSION aitrack UPDATE TO '$next'");
	is(rows_1_0($db), $rows, "$cur -> $next: rows intact");
	exercise($db, $next);
	$rows = rows_1_0($db);
	$cur = $next;
}
is($cur, $default, "step by step from $oldest reaches $default");
is_schema($db, $fresh, "upgraded from $oldest");

# ---- in one ALTER EXTENSION UPDATE from every older install version --

foreach my $v (grep { vcmp($_, $default) < 0 } @installs)
{
	my $one = new_db($v);
	fill($one);
	my $before = rows_1_0($one);
	$node->safe_psql($one, 'ALTER EXTENSION aitrack UPDATE');
	is(extversion($one), $default, "$v: ALTER EXTENSION aitrack UPDATE");
	is(rows_1_0($one), $before, "$v -> $default in one go: rows intact");
	exercise($one, "$v -> $default in one go");
	is_schema($one, $fresh, "updated in one go from $v");
}

# ---- downgrades ----------------------------------------------------

foreach my $d (@downgrades)
{
	my ($from, $to) = @$d;
	my $down = new_db($from);
	fill($down);
	my $before = rows_1_0($down);
	$node->safe_psql($down, "ALTER EXTENSION aitrack UPDATE TO '$to'");
	is(extversion($down), $to, "downgrade $from -> $to runs");
	is(rows_1_0($down), $before, "downgrade $from -> $to: rows intact");
	exercise($down, "downgraded to $to");
	is_schema($down, new_db($to), "downgraded from $from to $to");
	$before = rows_1_0($down);
	$node->safe_psql($down, "ALTER EXTENSION aitrack UPDATE TO '$from'");
	is(extversion($down), $from, "and back up $to -> $from");
	is(rows_1_0($down), $before, "back up $to -> $from: rows intact");
}
note 'no downgrade scripts to test' unless @downgrades;

$node->stop;
done_testing();
