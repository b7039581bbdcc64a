# test/t/002_upgrade.pl: the upgrade harness.
#
# Versions come from the extension scripts in sql/: aitrack--V.sql installs
# V, aitrack--A--B.sql goes from A to B (an upgrade when B > A, a downgrade
# when B < A); default_version comes from aitrack.control.
#
# The extensions a version requires come from its control file:
# aitrack--V.control when it has a requires line, else aitrack.control.
#
#  - every install-script version is installed on this server (make install
#    ran) and has an update path to default_version;
#  - step by step: CREATE EXTENSION aitrack VERSION <oldest>, fill it with
#    record_ai_call(), then ALTER EXTENSION aitrack UPDATE TO each next
#    version up to default_version; an update to a version that requires an
#    extension not yet installed (1.1: btree_gist) fails and changes nothing,
#    and works once CREATE EXTENSION created it; after each step the rows
#    (counts and all 1.0 columns, updated_at included) are intact and
#    record_ai_call() / ai_usage_stats() work;
#  - 1.0 -> 1.1: cost_source is backfilled ('provided' where a cost was
#    given, 'unknown' where not) without touching updated_at;
#    ai_load_prices() and a call recorded without a cost give a computed
#    cost, also from the response's usage object; ai_reprice() prices the
#    1.0 calls that had none;
#  - 1.1 -> 1.2: the update rolls up the calls already recorded and
#    compacts them: no pending rollup row is left, and ai_usage_stats(),
#    now answering from the rollups, equals the aggregates written by hand
#    over ai_call (counts, sums, cost, averages, first and last call
#    exactly, percentiles within 1%); record_ai_calls() and
#    ai_rollup_compact() work;
#  - 1.2 -> 1.3: row-level security is on for ai_call and the three
#    rollup tables, each with its tenant policy; ai_usage_stats() answers
#    exactly as before the update; the drop guard refuses DROP EXTENSION
#    aitrack in a new session (the update's event trigger loads the library
#    first), leaving extension and rows in place, and lets it through with
#    aitrack.allow_drop = on (rolled back);
#  - in one go: from every older install-script version, plain
#    ALTER EXTENSION aitrack UPDATE keeps the data (and the 1.0 -> 1.1,
#    1.1 -> 1.2 and 1.2 -> 1.3 checks above hold);
#  - grants, in a database of their own (grants are part of the schema the
#    other databases compare): EXECUTE on both record_ai_call() and on
#    ai_usage_stats() and SELECT on ai_call and ai_model granted to a role
#    in 1.0 still work for it after each update up to default_version; the
#    role gets nothing new but, from 1.2, SELECT on the three rollup tables
#    (which ai_usage_stats() reads with the caller's rights) and, from 1.3,
#    EXECUTE on ai_tenant_mode() and ai_tenant_user_id() (open to PUBLIC:
#    the row-level security policies call them); a dump and
#    restore of that database keeps those grants (a GRANT inside the update
#    script would have become an initial privilege, which pg_dump leaves
#    out), and the role can still read ai_usage_stats();
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
# (PREPARE TRANSACTION, below: a fresh install within a two-phase commit)
$node->append_conf('postgresql.conf', 'max_prepared_transactions = 2');
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

# The extensions version $v requires, as its control files say.
sub requires_of
{
	my ($v) = @_;
	foreach my $f ("$root/aitrack--$v.control", "$root/aitrack.control")
	{
		next unless -e $f;
		my ($req) = slurp_file($f) =~ /^\s*requires\s*=\s*'([^']*)'/m;
		return grep { $_ ne '' } split /\s*,\s*/, $req if defined $req;
	}
	return ();
}

# A new database with aitrack (default_version, or $version) and, through
# CASCADE, whatever that version requires.
sub new_db
{
	my ($version) = @_;
	my $db = 'db' . ++$dbcount;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my $sql = 'CREATE EXTENSION aitrack';
	$sql .= " VERSION '$version'" if defined $version;
	$node->safe_psql($db, "$sql CASCADE");
	return $db;
}

# Before updating $db to $to: create the extensions $to requires that are
# not there yet, after checking that the update refuses to run without them.
sub install_requires
{
	my ($db, $to) = @_;
	foreach my $req (requires_of($to))
	{
		next
		  if $node->safe_psql($db,
			"SELECT count(*) FROM pg_extension WHERE extname = '$req'") ne '0';
		my $from = extversion($db);
		my $before = rows_1_0($db);
		my ($ret, $stdout, $stderr) =
		  $node->psql($db, "ALTER EXTENSION aitrack UPDATE TO '$to'");
		isnt($ret, 0, "$from -> $to without $req: refused");
		like($stderr, qr/required extension "\Q$req\E" is not installed/,
			"$from -> $to without $req: the error names it");
		is(extversion($db), $from, "$from -> $to without $req: still $from");
		is(rows_1_0($db), $before, "$from -> $to without $req: rows intact");
		$node->safe_psql($db, "CREATE EXTENSION $req");
	}
	return;
}

sub extversion
{
	my ($db) = @_;
	return $node->safe_psql($db,
		"SELECT extversion FROM pg_extension WHERE extname = 'aitrack'");
}

# Calls in both record_ai_call() shapes of 1.0, on several models; with a
# cost (p1, p3, p5: 0 is a cost too) and without (p2, p4, p6).  p4 and p5
# get edited timestamps.
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
SELECT record_ai_call('claude-3-sonnet', '20240229', 'p5', '{"text": "e"}',
    input_tokens => 40, output_tokens => 4, cost_usd => 0);
SELECT record_ai_call('gpt-4', '0125', 'p6', '{"text": "f"}',
    '{"input_tokens": 100, "output_tokens": 10, "duration_ms": 700}'::jsonb);
UPDATE ai_model SET extra = '{"provider": "openai"}' WHERE modelname = 'gpt-4';
UPDATE ai_call SET created_at = '2024-01-15 10:00:00+00' WHERE prompt = 'p4';
UPDATE ai_call SET updated_at = '2024-02-01 00:00:00+00' WHERE prompt = 'p5';
SQL
	return;
}

# id and updated_at of every call, to compare across an update.
sub calls_updated_at
{
	my ($db) = @_;
	return $node->safe_psql($db,
		"SELECT string_agg(id || ' ' || updated_at, E'\\n' ORDER BY id) FROM ai_call");
}

# After 1.0 -> 1.1 (step by step or in one go): the 1.0 calls got their
# cost_source and kept their updated_at ($old_updated_at: calls_updated_at()
# before the update), and the new features work.
sub check_1_1
{
	my ($db, $label, $old_updated_at) = @_;

	is( $node->safe_psql($db, <<'SQL'),
SELECT string_agg(left(prompt, 2) || ' ' || coalesce(cost_source, 'NULL'), ', '
                  ORDER BY id)
  FROM ai_call WHERE prompt ~ '^p\d'
SQL
		'p1 provided, p2 unknown, p3 provided, p4 unknown, p5 provided, p6 unknown',
		"$label: cost_source backfilled: provided where cost_usd was given, else unknown");
	is( $node->safe_psql($db, <<'SQL'),
SELECT count(*) FILTER (WHERE cost_source IS DISTINCT FROM
                        CASE WHEN cost_usd IS NULL THEN 'unknown' ELSE 'provided' END)
       || ' ' || count(*) FILTER (WHERE cache_read_input_tokens IS NOT NULL
                                    OR cache_creation_input_tokens IS NOT NULL
                                    OR time_to_first_token_ms IS NOT NULL)
  FROM ai_call
SQL
		'0 0',
		"$label: every call has the right cost_source, and no 1.1 values");
	is(calls_updated_at($db), $old_updated_at,
		"$label: the update did not change updated_at");

	# Prices: loaded, then applied to calls recorded without a cost.
	is( $node->safe_psql($db, <<'SQL'),
SELECT string_agg(model || ' ' || action, ', ' ORDER BY model)
  FROM ai_load_prices('{
    "gpt-4": {"input_cost_per_token": 3e-05, "output_cost_per_token": 6e-05},
    "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
               "cache_read_input_token_cost": 1.25e-06},
    "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0}}')
SQL
		'gpt-4 added, gpt-4o added, sample_spec skipped',
		"$label: ai_load_prices() loads prices");
	my $id = $node->safe_psql($db, <<'SQL');
SELECT record_ai_call('gpt-4o', '2024-08-06', 'priced', '{"text": "i"}',
    input_tokens => 1200, cache_read_input_tokens => 1000, output_tokens => 300,
    time_to_first_token_ms => 250);
SQL
	is( $node->safe_psql($db,
			"SELECT concat_ws(' ', cost_usd, cost_source, time_to_first_token_ms)
			   FROM ai_call WHERE id = $id"),
		'0.00475 computed 250',
		"$label: a call recorded without a cost gets a computed one");
	# The response's usage object, read when no tokens are given.
	$id = $node->safe_psql($db, <<'SQL');
SELECT record_ai_call('gpt-4o', '2024-08-06', 'usage', '{"usage":
    {"prompt_tokens": 2000, "completion_tokens": 100,
     "prompt_tokens_details": {"cached_tokens": 1000}}}', '{}'::jsonb);
SQL
	is( $node->safe_psql($db,
			"SELECT concat_ws(' ', input_tokens, cache_read_input_tokens, output_tokens,
			                  cost_usd, cost_source) FROM ai_call WHERE id = $id"),
		'2000 1000 100 0.00475 computed',
		"$label: tokens read from the response, and priced");
	# Repricing prices the 1.0 call p6 (gpt-4, 100 in, 10 out) and leaves
	# the provided p1 alone.
	$node->safe_psql($db, 'SELECT * FROM ai_reprice(NULL, NULL, dry_run => false)');
	is( $node->safe_psql($db,
			"SELECT string_agg(left(prompt, 2) || ' ' || cost_usd || ' ' || cost_source,
			                   ', ' ORDER BY id)
			   FROM ai_call WHERE prompt IN ('p1', 'p6')"),
		'p1 0.0015 provided, p6 0.0036 computed',
		"$label: ai_reprice() prices the 1.0 calls without a cost");
	return;
}

# The stats by hour, model, call_type, status and user against the same
# aggregates written by hand over ai_call: groups, unmatched groups, groups
# with a differing number (every count, sum, cost, average, first and last
# call), groups whose percentiles are off (by 1% or more, or at all when
# every duration is below 100 ms, which the histogram counts exactly).
my $compare_1_2 = <<'SQL';
SELECT count(*) || ' ' || count(*) FILTER (WHERE s.k IS NULL OR h.k IS NULL)
       || ' ' || count(*) FILTER (WHERE (s.calls, s.errors, s.input_tokens, s.reasoning_tokens,
                                         s.output_tokens, s.cost_usd, s.avg_duration_ms,
                                         s.first_call, s.last_call, s.cache_read_input_tokens,
                                         s.cache_creation_input_tokens, s.unpriced_calls,
                                         s.avg_time_to_first_token_ms)
                                        IS DISTINCT FROM
                                        (h.calls, h.errors, h.input_tokens, h.reasoning_tokens,
                                         h.output_tokens, h.cost_usd, h.avg_duration_ms,
                                         h.first_call, h.last_call, h.cache_read_input_tokens,
                                         h.cache_creation_input_tokens, h.unpriced_calls,
                                         h.avg_time_to_first_token_ms))
       || ' ' || count(*) FILTER (WHERE NOT coalesce(
                     CASE WHEN h.p50 IS NULL
                          THEN (s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms) IS NULL
                          WHEN h.max_ms < 100
                          THEN (s.p50_duration_ms, s.p95_duration_ms, s.p99_duration_ms)
                               = (h.p50, h.p95, h.p99)
                          ELSE abs(s.p50_duration_ms - h.p50) < 0.01 * h.p50
                           AND abs(s.p95_duration_ms - h.p95) < 0.01 * h.p95
                           AND abs(s.p99_duration_ms - h.p99) < 0.01 * h.p99
                     END, false))
  FROM (SELECT *, ROW(bucket, modelname, version, call_type, status, user_id)::text AS k
          FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}')) AS s
  FULL JOIN
       (SELECT ROW(date_trunc('hour', c.created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                   m.modelname, m.version, c.call_type, c.status, c.user_id)::text AS k,
               count(*) AS calls,
               count(*) FILTER (WHERE c.status IS DISTINCT FROM 'success') AS errors,
               sum(c.input_tokens) AS input_tokens, sum(c.reasoning_tokens) AS reasoning_tokens,
               sum(c.output_tokens) AS output_tokens, sum(c.cost_usd) AS cost_usd,
               avg(c.duration_ms)::float8 AS avg_duration_ms,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY c.duration_ms) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY c.duration_ms) AS p95,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY c.duration_ms) AS p99,
               max(c.duration_ms) AS max_ms,
               min(c.created_at) AS first_call, max(c.created_at) AS last_call,
               sum(c.cache_read_input_tokens) AS cache_read_input_tokens,
               sum(c.cache_creation_input_tokens) AS cache_creation_input_tokens,
               count(*) FILTER (WHERE c.cost_usd IS NULL) AS unpriced_calls,
               avg(c.time_to_first_token_ms)::float8 AS avg_time_to_first_token_ms
          FROM ai_call c JOIN ai_model m ON m.id = c.model_id
         GROUP BY 1) AS h
    ON h.k = s.k
SQL

# Right after 1.1 -> 1.2 (step by step or in one go, before anything else
# writes): the calls recorded before are rolled up and compacted, and the
# stats from the rollups equal the aggregates written by hand.
sub check_1_2
{
	my ($db, $label) = @_;

	is( $node->safe_psql($db,
			"SELECT count(*) FILTER (WHERE pending) || ' '
			        || (count(*) = (SELECT count(DISTINCT (date_trunc('hour', created_at, 'UTC'),
			                                               model_id, call_type, status, user_id))
			                          FROM ai_call))
			   FROM ai_usage_rollup"),
		'0 true',
		"$label: the calls are rolled up, one compacted row per group");
	like($node->safe_psql($db, $compare_1_2),
		qr/^[1-9]\d* 0 0 0$/,
		"$label: ai_usage_stats() from the rollups equals the aggregates by hand");
	return;
}

# 1.2's batch ingest and compaction on the updated tables.
sub exercise_1_2
{
	my ($db, $label) = @_;

	is( $node->safe_psql($db, <<'SQL'),
SELECT count(*) FROM record_ai_calls('[
    {"modelname": "gpt-4", "version": "0125", "prompt": "batch", "response": {},
     "input_tokens": 4, "duration_ms": 30, "created_at": "2024-01-15T10:20:00Z"},
    {"modelname": "batch-model", "version": "1", "prompt": "batch", "response": {},
     "status": "error"}]')
SQL
		'2',
		"$label: record_ai_calls() records a batch");
	cmp_ok($node->safe_psql($db, 'SELECT ai_rollup_compact()'),
		'>', 0, "$label: ai_rollup_compact() folds the batch's rollup rows");
	like($node->safe_psql($db, $compare_1_2),
		qr/^[1-9]\d* 0 0 0$/,
		"$label: and the stats still equal the aggregates by hand");
	return;
}

# Every answer of ai_usage_stats() by hour, model, call_type, status and
# user (1.2 on: the tz argument and the rollups), to compare across an
# update that must not change them: the columns of 1.2, which later
# versions keep and add to.
my $stats_all = <<'SQL';
SET timezone = 'UTC';
SELECT count(*) || E'\n' || string_agg(r::text, E'\n' ORDER BY r::text)
  FROM ai_usage_stats(group_by => '{hour,model,call_type,status,user}') s,
       LATERAL (SELECT s.bucket, s.modelname, s.version, s.call_type, s.status, s.user_id,
                       s.calls, s.errors, s.input_tokens, s.reasoning_tokens, s.output_tokens,
                       s.cost_usd, s.avg_duration_ms, s.p50_duration_ms, s.p95_duration_ms,
                       s.p99_duration_ms, s.first_call, s.last_call, s.cache_read_input_tokens,
                       s.cache_creation_input_tokens, s.unpriced_calls,
                       s.avg_time_to_first_token_ms) r
SQL

# After 1.2 -> 1.3 (step by step or in one go): row-level security and the
# tenant policies; the stats unchanged ($old_stats: $stats_all before the
# update, when it could be read); the drop guard at work.
sub check_1_3
{
	my ($db, $label, $old_stats) = @_;

	is( $node->safe_psql($db, <<'SQL'),
SELECT string_agg(c.relname || ' ' || c.relrowsecurity || ' '
                  || coalesce(p.polname || ' ' || pg_get_expr(p.polqual, p.polrelid), '-'),
                  E'\n' ORDER BY c.relname)
  FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
 WHERE c.relkind = 'r'
   AND c.oid IN (SELECT objid FROM pg_depend
                  WHERE classid = 'pg_class'::regclass AND deptype = 'e'
                    AND refclassid = 'pg_extension'::regclass
                    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack'))
SQL
		join("\n",
			(vcmp(extversion($db), '1.7') >= 0 ? (
				q{ai_budget true ai_budget_tenant (( SELECT (NOT ai_tenant_mode())) OR ((scope = 'user'::text) AND ((scope_value IS NULL) OR (scope_value = (( SELECT ai_tenant_user_id() AS ai_tenant_user_id))::text))))},
				# (1.8: ai_budget_hold is gone, its lines on the reservations)
				(vcmp(extversion($db), '1.8') < 0 ? (
				q{ai_budget_hold true ai_budget_hold_tenant (( SELECT (NOT ai_tenant_mode())) OR ((scope_value = (( SELECT ai_tenant_user_id() AS ai_tenant_user_id))::text) AND (budget_id IN ( SELECT b.id
   FROM ai_budget b
  WHERE (b.scope = 'user'::text)))))}) : ()),
				q{ai_budget_reservation true ai_budget_reservation_tenant (( SELECT (NOT ai_tenant_mode())) OR (user_id = ( SELECT ai_tenant_user_id() AS ai_tenant_user_id)))},
				q{ai_budget_spend true ai_budget_spend_tenant (( SELECT (NOT ai_tenant_mode())) OR ((scope_value = (( SELECT ai_tenant_user_id() AS ai_tenant_user_id))::text) AND (budget_id IN ( SELECT b.id
   FROM ai_budget b
  WHERE (b.scope = 'user'::text)))))}) : ()),
			'ai_call true ai_call_tenant (( SELECT (NOT ai_tenant_mode())) OR (user_id = ( SELECT ai_tenant_user_id() AS ai_tenant_user_id)))',
			'ai_model false -',
			'ai_model_price false -',
			(vcmp(extversion($db), '1.4') >= 0 ? ('ai_tenant_user false -') : ()),
			(vcmp(extversion($db), '1.6') >= 0 ? ('ai_upkeep_state true ai_upkeep_state_tenant ( SELECT (NOT ai_tenant_mode()))') : ()),
			'ai_usage_purged true ai_usage_purged_tenant (( SELECT (NOT ai_tenant_mode())) OR (user_id = ( SELECT ai_tenant_user_id() AS ai_tenant_user_id)))',
			(vcmp(extversion($db), '1.8') >= 0 ? (
				'ai_usage_purged_project true ai_usage_purged_project_tenant ( SELECT (NOT ai_tenant_mode()))',
				'ai_usage_purged_project_floor false -') : ()),
			'ai_usage_rollup true ai_usage_rollup_tenant (( SELECT (NOT ai_tenant_mode())) OR (user_id = ( SELECT ai_tenant_user_id() AS ai_tenant_user_id)))',
			(vcmp(extversion($db), '1.6') >= 0 ? (
				'ai_usage_rollup_daily true ai_usage_rollup_daily_tenant ( SELECT (NOT ai_tenant_mode()))') : ()),
			(vcmp(extversion($db), '1.8') >= 0 ? (
				'ai_usage_rollup_project true ai_usage_rollup_project_tenant ( SELECT (NOT ai_tenant_mode()))',
				'ai_usage_rollup_project_daily true ai_usage_rollup_project_daily_tenant ( SELECT (NOT ai_tenant_mode()))') : ()),
			'ai_usage_rollup_total true ai_usage_rollup_total_tenant ( SELECT (NOT ai_tenant_mode()))'),
		"$label: row-level security on ai_call and the rollup tables, a tenant policy each");
	is($node->safe_psql($db, $stats_all), $old_stats,
		"$label: ai_usage_stats() answers as before the update")
	  if defined $old_stats;

	# Each psql is a new session: the library is not loaded until the
	# event trigger runs.
	my $before  = rows_1_0($db);
	my $version = extversion($db);
	my ($ret, $stdout, $stderr) = $node->psql($db, 'DROP EXTENSION aitrack');
	isnt($ret, 0, "$label: DROP EXTENSION aitrack refused while calls exist");
	# (From 1.4's library on, whichever kept table it meets first.)
	like($stderr, qr/cannot drop aitrack's \w+ while it holds/,
		"$label: the drop guard says why");
	is(extversion($db), $version, "$label: the extension is still there");
	is(rows_1_0($db), $before, "$label: the rows are still there");
	($ret, $stdout, $stderr) = $node->psql($db,
		'SET aitrack.allow_drop = on; BEGIN; DROP EXTENSION aitrack; ROLLBACK;');
	is($ret, 0, "$label: with aitrack.allow_drop = on it may be dropped (rolled back)")
	  or diag($stderr);
	is(rows_1_0($db), $before, "$label: and the rollback kept the rows");
	return;
}

# A role that may record calls (both shapes) and read the stats, granted
# as README.md says; created once, granted in each database that uses it.
# (Not in the databases whose schema is compared with a fresh install: the
# grants are part of the schema.)
my $app_role = 'aitrack_app';
$node->safe_psql('postgres', "CREATE ROLE $app_role");

sub grant_app_role
{
	my ($db) = @_;
	$node->safe_psql($db, <<"SQL");
GRANT EXECUTE ON FUNCTION
    record_ai_call(text, text, text, jsonb, integer, integer, integer, numeric,
                   integer, text, text, uuid, jsonb),
    record_ai_call(text, text, text, jsonb, jsonb, text, uuid),
    ai_usage_stats(timestamptz, timestamptz, text[], text, text, uuid)
  TO $app_role;
GRANT SELECT ON ai_call, ai_model TO $app_role;
SQL
	return;
}

# What $app_role may do with each function and table of the extension:
# EXECUTE (functions); SELECT and any of INSERT, UPDATE, DELETE, TRUNCATE
# (tables).
my $app_privs = <<"SQL";
SELECT string_agg(x.object || ' ' || x.privs, E'\\n' ORDER BY x.object COLLATE "C")
  FROM (SELECT d.objid::regprocedure::text AS object,
               has_function_privilege('$app_role', d.objid, 'EXECUTE')::text AS privs
          FROM pg_depend d
         WHERE d.classid = 'pg_proc'::regclass
           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack')
        UNION ALL
        SELECT 'table ' || c.relname,
               has_table_privilege('$app_role', c.oid, 'SELECT') || ' '
               || has_table_privilege('$app_role', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
          FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
         WHERE d.classid = 'pg_class'::regclass AND c.relkind = 'r'
           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
           AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack')) AS x
SQL

# The calls, cache tokens and unpriced calls of gpt-4 0125, from the stats.
my $app_stats = <<'SQL';
SELECT concat_ws(' ', calls, coalesce(cache_read_input_tokens, 0),
                 coalesce(cache_creation_input_tokens, 0), unpriced_calls)
  FROM ai_usage_stats(modelname => 'gpt-4') WHERE version = '0125'
SQL

# After each update from 1.0 up to $version: what $app_role was granted in
# 1.0 it has on the functions that replaced those, and on the tables, and
# nothing more but (1.2) SELECT on the rollup tables; it can use them.
sub check_grants
{
	my ($db, $label, $version) = @_;
	my $v12 = vcmp($version, '1.2') >= 0;
	my $v13 = vcmp($version, '1.3') >= 0;
	my $v14 = vcmp($version, '1.4') >= 0;
	my $v15 = vcmp($version, '1.5') >= 0;
	my $v16 = vcmp($version, '1.6') >= 0;
	my $v17 = vcmp($version, '1.7') >= 0;
	my $v18 = vcmp($version, '1.8') >= 0;
	my $v19 = vcmp($version, '1.9') >= 0;
	my $v110 = vcmp($version, '1.10') >= 0;
	my $v111 = vcmp($version, '1.11') >= 0;
	my $v112 = vcmp($version, '1.12') >= 0;

	my @privs = (
		'ai_cost(ai_model_price,integer,integer,integer,integer,integer) false',
		'ai_load_prices(jsonb,timestamp with time zone,text) false',
		'ai_price_at(text,text,timestamp with time zone) false',
		'ai_reprice(timestamp with time zone,timestamp with time zone,boolean) false',
		'ai_touch_updated_at() false',
		($v17
		  ? 'record_ai_call(text,text,text,jsonb,bigint,bigint,bigint,double precision,double precision,text,text,uuid,jsonb,bigint,bigint,double precision,text,text,bigint,bigint,bigint,bigint,bigint,bigint,bigint,text,text,text,text[],text,text,text,text) true'
		  : $v15
		  ? 'record_ai_call(text,text,text,jsonb,bigint,bigint,bigint,double precision,double precision,text,text,uuid,jsonb,bigint,bigint,double precision,text,text,bigint,bigint,bigint,bigint,bigint,bigint,bigint,text) true'
		  : $v14
		  ? 'record_ai_call(text,text,text,jsonb,bigint,bigint,bigint,double precision,double precision,text,text,uuid,jsonb,bigint,bigint,double precision) true'
		  : 'record_ai_call(text,text,text,jsonb,integer,integer,integer,numeric,integer,text,text,uuid,jsonb,integer,integer,integer) true'),
		'record_ai_call(text,text,text,jsonb,jsonb,text,uuid) true',
		'table ai_call true false',
		'table ai_model true false',
		'table ai_model_price false false');
	if ($v12)
	{
		# the ai_hist_* helpers are open to all: they only compute
		push @privs,
		  'ai_hist_accum(internal,integer[]) true',
		  'ai_hist_add(integer[],integer[]) true',
		  'ai_hist_final(internal) true',
		  'ai_hist_merge(integer[]) true',
		  'ai_hist_of(integer,integer) true',
		  'ai_hist_percentile(integer[],double precision) true',
		  'ai_purge_calls(timestamp with time zone,integer) false',
		  'ai_purge_content(timestamp with time zone,integer) false',
		  'ai_rollup_capture() false',
		  'ai_rollup_compact() false',
		  ($v17
			? ('ai_usage_stats(timestamp with time zone,timestamp with time zone,text[],text,text,uuid,text,text,text,text) true',
			   'ai_usage_stats_1_6(timestamp with time zone,timestamp with time zone,text[],text,text,uuid,text) true')
			: 'ai_usage_stats(timestamp with time zone,timestamp with time zone,text[],text,text,uuid,text) true'),
		  'record_ai_calls(jsonb) false',
		  'table ai_usage_purged true false',
		  'table ai_usage_rollup true false',
		  'table ai_usage_rollup_total true false';
	}
	else
	{
		push @privs,
		  'ai_usage_stats(timestamp with time zone,timestamp with time zone,text[],text,text,uuid) true';
	}
	if ($v13)
	{
		# the policies' functions are open to all: every role that may
		# read the tables must be able to evaluate the policies
		push @privs,
		  'ai_drop_guard() false',
		  'ai_tenant_mode() true',
		  'ai_tenant_user_id() true';
	}
	if ($v14)
	{
		# the JSON-text form of record_ai_call gets the jsonb form's grants;
		# the other new objects are for the group roles or internal
		push @privs,
		  'record_ai_call(text,text,text,jsonb,text,text,text) true',
		  'ai_call_model_check() false',
		  'ai_guard_truncate() false',
		  'ai_model_delete_calls() false',
		  'ai_model_keep_id() false',
		  'ai_reset_privileges() false',
		  'ai_rollup_rebuild(timestamp with time zone,timestamp with time zone) false',
		  'ai_settings() false',
		  'table ai_tenant_user false false';
	}
	if ($v15)
	{
		# the cost of a call's own row is for the group roles; the two
		# pure helpers of the prices are open to all (a CHECK calls one)
		push @privs,
		  'ai_cost(ai_model_price,record) false',
		  'ai_intended_privileges() false',
		  'ai_price_from_litellm(text,jsonb) true',
		  'ai_price_rules_valid(jsonb,jsonb) true';
	}
	if ($v16)
	{
		# no grant is copied onto the daily level and the upkeep's state
		# (the stats then read the hourly level); the backfill is for
		# aitrack_admin
		push @privs,
		  'ai_rollup_backfill_daily(integer) false',
		  'table ai_upkeep_state false false',
		  'table ai_usage_rollup_daily false false';
	}
	if ($v17)
	{
		# spend control and the OpenTelemetry names: for the group roles
		# (the period helpers are open to all); the 7-argument stats stay
		# as ai_usage_stats_1_6 with their grants (above)
		push @privs,
		  'ai_budget_caller_user(uuid) false',
		  'ai_budget_changed() false',
		  'ai_budget_check(double precision,uuid,text,text,text[],text) false',
		  'ai_budget_check_attribution(text,text,text[],text) false',
		  'ai_budget_clear_expired() false',
		  'ai_budget_count_calls() false',
		  'ai_budget_matches(uuid,text,text,text[],text) false',
		  'ai_budget_notify(bigint,text,timestamp with time zone,numeric,integer) false',
		  'ai_budget_period_end(text,text,timestamp with time zone) true',
		  'ai_budget_period_start(text,text,timestamp with time zone) true',
		  'ai_budget_recount() false',
		  'ai_budget_recount_current(bigint) false',
		  'ai_budget_release(bigint) false',
		  'ai_budget_reserve(double precision,uuid,text,text,text[],text,interval) false',
		  'ai_budget_settle(bigint,bigint) false',
		  'ai_otel_metrics(timestamp with time zone,timestamp with time zone) false',
		  'table ai_budget false false',
		  ($v18 ? () : 'table ai_budget_hold false false'),
		  'table ai_budget_reservation false false',
		  'table ai_budget_spend false false';
	}
	if ($v18)
	{
		# the engine in C: what expired reservations still count, and the
		# trigger that drops the budgets each session keeps
		push @privs,
		  'ai_budget_deleted() false',
		  'ai_budget_expired_held(bigint,text,timestamp with time zone) false',
		  'ai_budget_invalidate() false',
		  'ai_budget_reservation_ended() false';
		# the project level (1.8; its daily sums too): no grant is copied onto its tables (the
		# stats answer by project from ai_call for a role without them);
		# the backfill is for aitrack_admin
		push @privs,
		  'ai_rollup_backfill_project(integer) false',
		  'table ai_usage_purged_project false false',
		  'table ai_usage_purged_project_floor false false',
		  'table ai_usage_rollup_project false false',
		  'table ai_usage_rollup_project_daily false false';
	}
	if ($v19)
	{
		# reservations in memory: for readers and admins, not for a role
		# granted 1.0's objects one by one
		push @privs,
		  'ai_budget_memory_held(bigint,text,timestamp with time zone) false',
		  'ai_budget_memory_reservations() false',
		  # ai_hist_merge()'s partial aggregation (its owner calls them)
		  'ai_hist_combine(internal,internal) false',
		  'ai_hist_deserialize(bytea,internal) false',
		  'ai_hist_serialize(internal) false';
	}
	if ($v110)
	{
		# a distributed ai_call: for readers, admins and its owner
		push @privs,
		  'ai_call_keep_counted() false',
		  'ai_calls_distributed() true',
		  'ai_delete_calls(bigint[]) false',
		  # the histogram merge Citus computes on its shards (PUBLIC, as ai_hist_merge)
		  'ai_hist_sum(integer[]) true',
		  'ai_hist_sum_accum(bigint[],integer[]) true',
		  'ai_hist_sum_combine(bigint[],bigint[]) true',
		  'ai_hist_sum_final(bigint[]) true',
		  'aitrack_distribute(integer) false';
	}
	if ($v111)
	{
		# a tenant's own calls: for readers (tenants among them)
		push @privs,
		  'ai_tenant_calls(timestamp with time zone,timestamp with time zone) false';
	}
	if ($v112)
	{
		# repricing a distributed ai_call: for admins
		push @privs,
		  'ai_reprice_calls(bigint[]) false';
	}
	is($node->safe_psql($db, $app_privs),
		join("\n", sort @privs),
		"$label: $app_role keeps EXECUTE on record_ai_call() and ai_usage_stats() and SELECT on the tables"
		  . ($v12 ? ', gets SELECT on the rollup tables,' : ',')
		  . ($v13 ? ' EXECUTE on the policy functions,' : '')
		  . ' and nothing more');

	my @before = split / /, $node->safe_psql($db, $app_stats);
	my ($ret, $stdout, $stderr) = $node->psql($db, <<"SQL");
SET ROLE $app_role;
SELECT record_ai_call(modelname => 'gpt-4', version => '0125', prompt => 'as app',
    response => '{"text": "g"}', input_tokens => 3, output_tokens => 1,
    cost_usd => 0.0001);
SELECT record_ai_call(modelname => 'gpt-4', version => '0125', prompt => 'as app',
    response => '{"text": "g"}', input_tokens => 30, output_tokens => 1,
    cache_read_input_tokens => 20, time_to_first_token_ms => 15);
SELECT record_ai_call('gpt-4', '0125', 'as app', '{"text": "h"}',
    '{"input_tokens": 5, "cache_creation_input_tokens": 5}'::jsonb);
SQL
	is($ret, 0, "$label: $app_role calls record_ai_call() (both shapes)")
	  or diag($stderr);
	like($stdout, qr/^\d+\n\d+\n\d+$/, "$label: $app_role gets the new ids");
	# three calls, 20 cache read and 5 cache creation tokens, two unpriced
	my $after = $node->safe_psql($db, $app_stats);
	is($after,
		join(' ', $before[0] + 3, $before[1] + 20, $before[2] + 5, $before[3] + 2),
		"$label: ${app_role}'s calls are recorded and counted");
	($ret, $stdout, $stderr) =
	  $node->psql($db, "SET ROLE $app_role; $app_stats");
	is($ret, 0, "$label: $app_role reads ai_usage_stats()")
	  or diag($stderr);
	is($stdout, $after, "$label: $app_role sees the same stats");
	($ret, $stdout, $stderr) = $node->psql($db,
		"SET ROLE $app_role; SELECT count(*) FROM ai_load_prices('{}')");
	like($stderr, qr/permission denied for function ai_load_prices/,
		"$label: $app_role may not load prices");
	if ($v12)
	{
		($ret, $stdout, $stderr) = $node->psql($db,
			"SET ROLE $app_role; SELECT count(*) FROM record_ai_calls('[]')");
		like($stderr, qr/permission denied for function record_ai_calls/,
			"$label: $app_role may not record batches without a grant of its own");
	}
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

# A plain CREATE EXTENSION starts from the full 1.2 script (made by make:
# scripts/full-install.sh), the shortest way to the default version: it
# makes no temporary object, so that it can run in a two-phase commit, as
# Citus runs it on its workers.  From 1.0 the 1.1-to-1.2 step does.
if (vcmp($default, '1.2') >= 0)
{
	$node->safe_psql('postgres', 'CREATE DATABASE prepared_install');
	is( $node->safe_psql(
			'prepared_install', q{
BEGIN;
CREATE EXTENSION aitrack CASCADE;
SELECT pg_my_temp_schema() = 0;
PREPARE TRANSACTION 'aitrack install';
COMMIT PREPARED 'aitrack install';
SELECT extversion FROM pg_extension WHERE extname = 'aitrack';}),
		"t\n$default",
		'CREATE EXTENSION makes no temporary object and commits in two phases');
	my ($rc, $out, $err) = $node->psql(
		'prepared_install', q{
DROP EXTENSION aitrack;
BEGIN;
CREATE EXTENSION aitrack VERSION '1.0';
ALTER EXTENSION aitrack UPDATE TO '1.2';
PREPARE TRANSACTION 'aitrack update';});
	like($err, qr/cannot PREPARE a transaction that has operated on temporary objects/,
		'from 1.0 the 1.1-to-1.2 update does make one (why the full 1.2 script exists)');
	$node->safe_psql('postgres', 'DROP DATABASE prepared_install');
}
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
	install_requires($db, $next);
	my $updated_at = calls_updated_at($db);
	my $stats = vcmp($cur, '1.2') >= 0 ? $node->safe_psql($db, $stats_all) : undef;
	$node->safe_psql($db, "ALTER EXTENSION aitrack UPDATE TO '$next'");
	is(extversion($db), $next, "ALTER EXTENSION aitrack UPDATE TO '$next'");
	is(rows_1_0($db), $rows, "$cur -> $next: rows intact");
	check_1_1($db, "$cur -> $next", $updated_at)
	  if $cur eq '1.0' && $next eq '1.1';
	if ($cur eq '1.1' && $next eq '1.2')
	{
		check_1_2($db, "$cur -> $next");
		exercise_1_2($db, "$cur -> $next");
	}
	check_1_3($db, "$cur -> $next", $stats)
	  if $cur eq '1.2' && $next eq '1.3';
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
	my $updated_at = calls_updated_at($one);
	my $stats = vcmp($v, '1.2') >= 0 ? $node->safe_psql($one, $stats_all) : undef;
	# what the newest version requires (updates in between may add more)
	$node->safe_psql($one, "CREATE EXTENSION IF NOT EXISTS $_")
	  foreach requires_of($default);
	$node->safe_psql($one, 'ALTER EXTENSION aitrack UPDATE');
	is(extversion($one), $default, "$v: ALTER EXTENSION aitrack UPDATE");
	is(rows_1_0($one), $before, "$v -> $default in one go: rows intact");
	my $to_1_2 = vcmp($v, '1.2') < 0 && vcmp($default, '1.2') >= 0;
	check_1_2($one, "$v -> $default in one go") if $to_1_2;
	# (before anything writes; stats read before 1.2 did not come from the
	# rollups, so they are not compared)
	check_1_3($one, "$v -> $default in one go", $stats)
	  if vcmp($v, '1.3') < 0 && vcmp($default, '1.3') >= 0;
	check_1_1($one, "$v -> $default in one go", $updated_at)
	  if $v eq '1.0' && vcmp($default, '1.1') >= 0;
	exercise_1_2($one, "$v -> $default in one go") if $to_1_2;
	exercise($one, "$v -> $default in one go");
	is_schema($one, $fresh, "updated in one go from $v");
}

# ---- grants given in 1.0, across each update up to default_version --

if (grep({ $_ eq '1.0' } @installs) && vcmp($default, '1.1') >= 0)
{
	my $g = new_db('1.0');
	fill($g);
	grant_app_role($g);
	my $gcur = '1.0';
	while (vcmp($gcur, $default) < 0)
	{
		my ($next) = sort { vcmp($a, $b) }
		  grep { vcmp($_, $gcur) > 0 } keys %{ $edge{$gcur} // {} };
		last unless defined $next;
		my $before = rows_1_0($g);
		install_requires($g, $next);
		$node->safe_psql($g, "ALTER EXTENSION aitrack UPDATE TO '$next'");
		is(extversion($g), $next, "grants: ALTER EXTENSION aitrack UPDATE TO $next");
		is(rows_1_0($g), $before, "grants: $gcur -> $next: rows intact");
		check_grants($g, "1.0 -> $next with grants", $next);
		$gcur = $next;
	}
	is($gcur, $default, "grants: the updates reach $default");

	# The grants must also survive a dump and restore of the updated
	# database (restored into default_version: pg_dump writes CREATE
	# EXTENSION without a version).  The update scripts carry them over by
	# writing the ACLs themselves: a GRANT inside an extension script would
	# be recorded in pg_init_privs as the extension's own initial privilege,
	# which pg_dump leaves out, counting on the restore's CREATE EXTENSION
	# to make it, which it does not.
	my $dump = "$tempdir/$g.grants.sql";
	$node->command_ok([ 'pg_dump', '-d', $g, '-f', $dump ],
		'grants: pg_dump the updated database');
	my $r = 'db' . ++$dbcount;
	$node->safe_psql('postgres', "CREATE DATABASE $r");
	$node->command_ok(
		[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $r, '-f', $dump ],
		'grants: restore it');
	is($node->safe_psql($r, $app_privs), $node->safe_psql($g, $app_privs),
		"grants: $app_role keeps its EXECUTE and SELECT grants through dump and restore");
	like($node->safe_psql($r, $app_privs),
		qr/^ai_usage_stats\(.*\) true$/m,
		"grants: $app_role may still run ai_usage_stats() after the restore");
	check_grants($r, "$default restored with grants", $default);
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
