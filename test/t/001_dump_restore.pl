# test/t/001_dump_restore.pl: aitrack's rows and sequence positions survive
# pg_dump and restore, and the restored database keeps working.
#
# A database with the extension and a set of calls (both record_ai_call()
# shapes, several models, user_id/cost/extra, an error, NULL metrics, a
# cascade-deleted model, edited timestamps) is dumped in plain format and
# restored with createdb + psql on the same node, and in custom format and
# restored with createdb + pg_restore on a second node.  In each restored
# database: the same ai_model and ai_call rows (every column), the same
# sequence positions, the same extension membership and config tables, the
# same ai_usage_stats(), a dump identical to the source's; and new calls get
# ids past every restored id without colliding.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $tempdir = PostgreSQL::Test::Utils::tempdir;

my $node = PostgreSQL::Test::Cluster->new('main');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION aitrack');

# Calls in both shapes.  The 'mistral' model is deleted again below, so the
# sequences end past the largest surviving id, and the last call is deleted
# so ai_call_id_seq is past max(id) too.
$node->safe_psql('src', <<'SQL');
SELECT record_ai_call(
    modelname => 'gpt-4', version => '0125',
    prompt => 'Translate "good morning" into French',
    response => '{"text": "bonjour"}',
    input_tokens => 12, output_tokens => 3, cost_usd => 0.00045,
    duration_ms => 420, call_type => 'translation',
    user_id => '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01',
    extra => '{"temperature": 0.2, "tags": ["a", "b"]}');
SELECT record_ai_call(
    modelname => 'gpt-4', version => '0125',
    prompt => E'multi\nline prompt with ''quotes'', a backslash \\ and ünïcødé',
    response => '{"text": "ok", "nested": {"a": [1, 2, {"b": null}]}}',
    input_tokens => 900, reasoning_tokens => 120, output_tokens => 60,
    cost_usd => 0.0321, duration_ms => 2300, call_type => 'summary');
SELECT record_ai_call('gpt-4', '0613', 'Say hi', '{"text": "hi"}');
SELECT record_ai_call(
    modelname => 'claude-3-sonnet', version => '20240229',
    prompt => 'Extract the title', response => '{"error": "upstream 500"}',
    input_tokens => 300, duration_ms => 5100, call_type => 'metadata',
    status => 'error', user_id => '0b7a7d2c-52a4-4f0e-8d7e-3f4a1e9c2b10');
SELECT record_ai_call('claude-3-sonnet', '20240229', 'Extract the title',
    '{"text": "Hello, World"}',
    '{"input_tokens": 300, "output_tokens": 8, "cost_usd": 0.0011,
      "duration_ms": 950, "status": "success", "extra": {"retry": 1}}'::jsonb,
    'metadata', '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01');
SELECT record_ai_call('claude-3-sonnet', '20240229', 'Classify',
    '{"label": "positive"}',
    metrics => '{"input_tokens": 40, "output_tokens": 1, "duration_ms": 310,
                 "status": "timeout"}',
    call_type => 'classification');
SELECT record_ai_call('mistral', 'large', 'Doomed', '{"text": "x"}',
    input_tokens => 1, cost_usd => 0.5);
SELECT record_ai_call('mistral', 'large', 'Doomed too', '{"text": "y"}',
    metrics => '{"cost_usd": 0.25}');
SELECT record_ai_call('gpt-4o-mini', '2024-07-18', 'Last one', '{"text": "z"}',
    metrics => '{"input_tokens": 3, "output_tokens": 1, "duration_ms": 95}');
SQL

# Hand edits: model extra (through the updated_at trigger), calls on an
# earlier day, a cascade delete, and the newest call removed.
$node->safe_psql('src', <<'SQL');
UPDATE ai_model SET extra = '{"provider": "openai"}' WHERE modelname = 'gpt-4';
UPDATE ai_call SET created_at = '2024-01-15 10:00:00+00'
 WHERE prompt IN ('Say hi', 'Classify');
DELETE FROM ai_model WHERE modelname = 'mistral';
DELETE FROM ai_call WHERE id = (SELECT max(id) FROM ai_call);
SQL

is($node->safe_psql('src', 'SELECT count(*) FROM ai_model'),
	'4', 'source: four models left');
is($node->safe_psql('src', 'SELECT count(*) FROM ai_call'),
	'6', 'source: six calls left');
ok( $node->safe_psql('src',
		'SELECT last_value > (SELECT max(id) FROM ai_call) FROM ai_call_id_seq'
	) eq 't',
	'source: ai_call_id_seq is past max(id)');

# Everything that must be identical in a restored database, as text.
my %checks = (
	ai_model => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\' ORDER BY id)
	               FROM ai_model t',
	ai_call => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\' ORDER BY id)
	              FROM ai_call t',
	sequences => 'SELECT format(\'%s %s / %s %s\', m.last_value, m.is_called,
	                            c.last_value, c.is_called)
	                FROM ai_model_id_seq m, ai_call_id_seq c',
	extension => 'SELECT extversion || \' \' || extrelocatable || \' \'
	                     || extconfig::regclass[]::text || \' \'
	                     || extcondition::text
	                FROM pg_extension WHERE extname = \'aitrack\'',
	members => 'SELECT string_agg(pg_describe_object(classid, objid, objsubid),
	                              E\'\n\' ORDER BY pg_describe_object(classid, objid, objsubid))
	              FROM pg_depend
	             WHERE refclassid = \'pg_extension\'::regclass
	               AND refobjid = (SELECT oid FROM pg_extension
	                               WHERE extname = \'aitrack\')
	               AND deptype = \'e\'',
	stats_model => 'SELECT string_agg(s::text, E\'\n\' ORDER BY s.modelname, s.version)
	                  FROM ai_usage_stats() s',
	stats_day_model => 'SELECT string_agg(s::text, E\'\n\'
	                                      ORDER BY s.bucket, s.modelname, s.version)
	                      FROM ai_usage_stats(group_by => \'{day,model}\') s',);

my %expected =
  map { $_ => $node->safe_psql('src', $checks{$_}) } keys %checks;

like($expected{stats_model}, qr/claude-3-sonnet/,
	'source: ai_usage_stats() answers');
isnt($expected{members}, '', 'source: extension has members');

sub check_restored
{
	my ($n, $db, $label) = @_;

	foreach my $check (sort keys %checks)
	{
		is($n->safe_psql($db, $checks{$check}),
			$expected{$check}, "$label: same $check as the source");
	}

	# A dump of the restored database is the dump of the source (but for
	# the random key of the \restrict line of newer pg_dumps).
	my $a = "$tempdir/$label.src.sql";
	my $b = "$tempdir/$label.restored.sql";
	$node->command_ok([ 'pg_dump', '-d', 'src', '-f', $a ],
		"$label: dump source again");
	$n->command_ok([ 'pg_dump', '-d', $db, '-f', $b ],
		"$label: dump restored");
	foreach my $f ($a, $b)
	{
		my $text = slurp_file($f);
		$text =~ s/^\\(un)?restrict .*\n//mg;
		unlink $f;
		append_to_file($f, $text);
	}
	my ($diff) = run_command([ 'diff', '-u', $a, $b ]);
	is($diff, '', "$label: restored database dumps like the source")
	  or diag($diff);

	# The sequences continue: new calls get ids past every restored id.
	my ($max_call, $max_model, $models) = split /\|/,
	  $n->safe_psql($db,
		'SELECT (SELECT max(id) FROM ai_call), (SELECT max(id) FROM ai_model),
		        (SELECT count(*) FROM ai_model)');
	my $id1 = $n->safe_psql($db,
		"SELECT record_ai_call(modelname => 'gpt-4', version => '0125',
		    prompt => 'after restore', response => '{\"text\": \"new\"}',
		    input_tokens => 7, cost_usd => 0.001, duration_ms => 100,
		    status => 'error')");
	my $id2 = $n->safe_psql($db,
		"SELECT record_ai_call('brand-new', '1', 'after restore',
		    '{\"text\": \"new\"}', '{\"input_tokens\": 5}'::jsonb)");
	cmp_ok($id1, '>', $max_call, "$label: new call id past restored ids");
	cmp_ok($id2, '>', $id1, "$label: second new call id past the first");
	is( $n->safe_psql($db,
			"SELECT count(*) FROM ai_model WHERE modelname = 'gpt-4' AND version = '0125'"
		),
		'1',
		"$label: a call to a restored model reuses its row");
	is($n->safe_psql($db, 'SELECT count(*) FROM ai_model'),
		$models + 1, "$label: one new model row");
	cmp_ok(
		$n->safe_psql($db,
			"SELECT id FROM ai_model WHERE modelname = 'brand-new'"),
		'>', $max_model,
		"$label: new model id past restored ids");

	# ai_usage_stats() counts the restored and the new calls.
	is( $n->safe_psql($db,
			"SELECT calls || ' ' || errors FROM ai_usage_stats(modelname => 'gpt-4')
			  WHERE version = '0125'"),
		'3 1',
		"$label: ai_usage_stats() counts restored and new calls");
	is( $n->safe_psql($db,
			"SELECT calls FROM ai_usage_stats() WHERE modelname = 'brand-new'"),
		'1',
		"$label: ai_usage_stats() sees the new model");
	return;
}

# Plain format, restored with createdb + psql on the same node.
my $plain = "$tempdir/src.sql";
$node->command_ok([ 'pg_dump', '-d', 'src', '-f', $plain ],
	'pg_dump plain format');
$node->command_ok([ 'createdb', 'restored_plain' ], 'createdb restored_plain');
$node->command_ok(
	[
		'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
		'-d', 'restored_plain', '-f', $plain
	],
	'restore plain dump with psql');
check_restored($node, 'restored_plain', 'plain');

# Custom format, restored with createdb + pg_restore on a second node.
my $custom = "$tempdir/src.dump";
$node->command_ok([ 'pg_dump', '-Fc', '-d', 'src', '-f', $custom ],
	'pg_dump custom format');

my $node2 = PostgreSQL::Test::Cluster->new('restore');
$node2->init;
$node2->start;
$node2->command_ok([ 'createdb', 'restored_custom' ],
	'createdb restored_custom on a second node');
$node2->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', 'restored_custom', $custom ],
	'restore custom dump with pg_restore');
check_restored($node2, 'restored_custom', 'custom');

# The source itself was not disturbed by the dumps.
is($node->safe_psql('src', $checks{ai_call}),
	$expected{ai_call}, 'source unchanged');

$node2->stop;
$node->stop;
done_testing();
