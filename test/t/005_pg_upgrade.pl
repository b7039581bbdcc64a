# test/t/005_pg_upgrade.pl: a major-version upgrade with aitrack in place.
#
# An older server (AITRACK_UPGRADE_FROM: the install prefix of a PostgreSQL
# with aitrack installed; scripts/test.sh sets it to a private 15.18 for the
# 17 and 18 runs) gets a ledger: prices, 5,000 calls in two models and many
# hours, some purged, the rollups partly compacted (pending rows left), a
# reporting role with SELECT, an application role with EXECUTE, and a tenant
# role (ALTER ROLE ... SET aitrack.tenant = on).  pg_upgrade moves it to the
# server this test runs under.  Asserted afterwards, on the new server:
#   - the extension's version and members, every row of ai_model, ai_call,
#     ai_model_price and ai_usage_purged, and ai_usage_stats() by model and
#     status are as before;
#   - after ai_rollup_compact() the rollups equal the aggregates of ai_call;
#   - the grants and the tenant setting still hold: the reader reads, the
#     application records, the tenant sees only its user's calls;
#   - recording goes on (a new id, cost from the upgraded prices), and the
#     drop guard still refuses DROP EXTENSION.
# Without AITRACK_UPGRADE_FROM the test is skipped.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use FindBin;
use lib "$FindBin::RealBin/../perl";
use AitrackRollupCheck;

my $old_path = $ENV{AITRACK_UPGRADE_FROM};
plan skip_all =>
  'AITRACK_UPGRADE_FROM (an older PostgreSQL with aitrack installed) is not set'
  unless $old_path;

my $tenant_user = '11111111-1111-1111-1111-111111111111';

my $old = PostgreSQL::Test::Cluster->new('old', install_path => $old_path);
$old->init;
$old->start;
my $old_version = $old->safe_psql('postgres', 'SHOW server_version');

$old->safe_psql(
	'postgres', qq{
CREATE EXTENSION aitrack CASCADE;
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok, valid_from)
VALUES ('gpt-4o', 2.5, 10, '2020-01-01'), ('claude-sonnet', 3, 15, '2020-01-01');
-- 5,000 calls over 50 hours, half of them priced from the table
INSERT INTO ai_model (modelname, version) VALUES ('gpt-4o', '2024-08-06'), ('claude-sonnet', '4');
INSERT INTO ai_call (model_id, created_at, prompt, response, input_tokens, output_tokens,
                     cost_usd, cost_source, duration_ms, call_type, status, user_id)
SELECT 1 + i % 2, '2026-01-01'::timestamptz + (i % 50) * interval '1 hour' + i * interval '1 ms',
       'prompt ' || i, jsonb_build_object('n', i), 100 + i % 7, 10 + i % 5,
       CASE WHEN i % 3 <> 0 THEN (i % 3) * 0.001 END,
       CASE WHEN i % 3 = 0 THEN 'unknown' ELSE 'provided' END,
       i % 900, CASE WHEN i % 4 = 0 THEN 'chat' ELSE 'embed' END,
       CASE WHEN i % 10 = 0 THEN 'error' ELSE 'success' END,
       CASE i % 3 WHEN 0 THEN '$tenant_user'::uuid
                  WHEN 1 THEN '22222222-2222-2222-2222-222222222222'::uuid END
  FROM generate_series(1, 4990) AS i;
SELECT ai_rollup_compact();
SELECT record_ai_call('gpt-4o', '2024-08-06', 'p ' || i, '{}', input_tokens => 1000,
                      output_tokens => 100, user_id => '$tenant_user')
  FROM generate_series(1, 10) AS i;
CALL ai_purge_calls('2026-01-01 05:00+00', 100);
CREATE ROLE pgu_reader;
GRANT SELECT ON ai_call, ai_model TO pgu_reader;
CREATE ROLE pgu_app;
GRANT EXECUTE ON FUNCTION record_ai_call(text, text, text, jsonb, jsonb, text, uuid) TO pgu_app;
CREATE ROLE pgu_tenant LOGIN;
GRANT SELECT ON ai_call TO pgu_tenant;
ALTER ROLE pgu_tenant SET aitrack.tenant = on;
});

# What must survive, as text.
my %queries = (
	version => q{SELECT extversion FROM pg_extension WHERE extname = 'aitrack'},
	members => q{
SELECT pg_describe_object(classid, objid, 0) FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'aitrack')
   AND classid <> 'pg_type'::regclass ORDER BY 1},
	models => q{SELECT id, modelname, version, extra FROM ai_model ORDER BY id},
	calls => q{
SELECT count(*), sum(id), md5(string_agg(ai_call::text, '|' ORDER BY id)) FROM ai_call},
	prices => q{SELECT * FROM ai_model_price ORDER BY id},
	purged => q{SELECT * FROM ai_usage_purged ORDER BY 1, 2, 3, 4},
	stats => q{
SELECT modelname, version, status, calls, errors, input_tokens, output_tokens, cost_usd,
       p50_duration_ms
  FROM ai_usage_stats(group_by => '{model,status}') ORDER BY 1, 2, 3},
	grants => q{
SELECT has_table_privilege('pgu_reader', 'ai_call', 'SELECT'),
       has_table_privilege('pgu_reader', 'ai_call', 'DELETE'),
       has_function_privilege('pgu_app',
         'record_ai_call(text, text, text, jsonb, jsonb, text, uuid)', 'EXECUTE'),
       has_function_privilege('pgu_app', 'ai_purge_calls(timestamptz, integer)', 'EXECUTE')},
	tenant_setting => q{
SELECT setconfig FROM pg_db_role_setting WHERE setrole = 'pgu_tenant'::regrole},);

my %before;
$before{$_} = $old->safe_psql('postgres', $queries{$_}) foreach keys %queries;
like($before{calls}, qr/^4\d\d\d\|/, "$old_version: calls recorded");
isnt($before{purged}, '', "$old_version: some calls purged");
cmp_ok(
	$old->safe_psql('postgres', 'SELECT count(*) FROM ai_usage_rollup WHERE pending'),
	'>', 0, "$old_version: pending rollup rows left for the new server");
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
# From 18 initdb turns data checksums on by default; the old cluster has none.
$new->init($new->pg_version >= 18 ? (extra => ['--no-data-checksums']) : ());
my $new_version = $new->pg_version;

# pg_upgrade writes its logs into the new data directory (and, before 15,
# the current one): run it from the test's own folder.
my $workdir = PostgreSQL::Test::Utils::tempdir;
chdir $workdir or die "chdir $workdir: $!";
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $old->config_data('--bindir'),
		'-B', $new->config_data('--bindir'),
		'-s', $new->host, '-p', $old->port, '-P', $new->port,
	],
	"pg_upgrade from $old_version to $new_version");
$new->start;

foreach my $check (sort keys %queries)
{
	is($new->safe_psql('postgres', $queries{$check}),
		$before{$check}, "after pg_upgrade to $new_version: same $check");
}

cmp_ok($new->safe_psql('postgres', 'SELECT ai_rollup_compact()'),
	'>', 0, 'ai_rollup_compact() folds the pending rows carried over');
rollups_match_calls($new, 'after pg_upgrade and compaction');
is($new->safe_psql('postgres', $queries{stats}),
	$before{stats}, 'ai_usage_stats() after compaction: as before');

# The roles still get exactly what they were given.
is( $new->safe_psql(
		'postgres', 'SET ROLE pgu_reader; SELECT count(*) > 0 FROM ai_call'),
	't', 'the reader reads ai_call');
my ($ret, $out, $err) = $new->psql('postgres',
	'SET ROLE pgu_reader; DELETE FROM ai_call');
like($err, qr/permission denied/, 'the reader cannot delete calls');
like(
	$new->safe_psql(
		'postgres', q{SET ROLE pgu_app;
SELECT record_ai_call('gpt-4o', '2024-08-06', 'after', '{}',
                      '{"input_tokens": 1000000, "output_tokens": 0}'::jsonb)}),
	qr/^\d+$/, 'the application records');
is( $new->safe_psql(
		'postgres',
		q{SELECT cost_usd || ' ' || cost_source FROM ai_call WHERE prompt = 'after'}),
	'2.5 computed', 'and the call is priced from the upgraded price table');
# Role settings apply at login: log in as the tenant.
is( $new->safe_psql(
		'postgres', qq{SET aitrack.user_id = '$tenant_user';
SELECT current_setting('aitrack.tenant'),
       count(*) = count(*) FILTER (WHERE user_id = '$tenant_user'), count(*) > 0 FROM ai_call},
		extra_params => [ '-U', 'pgu_tenant' ]),
	'on|t|t', 'the tenant role is still a tenant and sees only its user\'s calls');

($ret, $out, $err) = $new->psql('postgres', 'DROP EXTENSION aitrack CASCADE');
like($err, qr/cannot drop aitrack's (ai_call|ai_usage_purged|ai_usage_purged_project|ai_usage_purged_project_floor) while it holds/,
	'the drop guard still refuses DROP EXTENSION');
is($new->safe_psql('postgres', $queries{version}),
	$before{version}, 'and the extension is still there');

$new->stop;
done_testing();
