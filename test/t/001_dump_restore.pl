# test/t/001_dump_restore.pl: aitrack's rows and sequence positions survive
# pg_dump and restore, and the restored database keeps working.
#
# A database with the extension (CREATE EXTENSION ... CASCADE, which brings
# btree_gist along) and a set of calls (both record_ai_call() shapes, several
# models, user_id/cost/extra, an error, NULL metrics, a cascade-deleted model,
# edited timestamps) and of 1.1 data (prices loaded with ai_load_prices(),
# one of them replaced from a date on, a deleted price; calls with a computed,
# provided and unknown cost, cache tokens, time to first token, tokens read
# from a provider's response; and, 1.2, calls purged by ai_purge_calls(),
# whose numbers only ai_usage_purged keeps) is dumped in plain format and
# restored with createdb + psql on the same node, and in custom format and
# restored with createdb + pg_restore on a second node.  In each restored
# database: the same ai_model, ai_call, ai_model_price and ai_usage_purged
# rows (every column), the same sequence positions, the same extension
# membership and config tables, the same row-level security and tenant
# policies (1.3), the same ai_usage_stats() (the purged
# periods included) and ai_price_at(), a dump identical to the source's;
# the rollup tables, which pg_dump leaves out, rebuilt by the triggers from
# the restored calls, and once compacted on both sides identical to the
# source's; new calls and prices get ids past every restored id without
# colliding, and a call recorded without a cost still gets one computed
# from the restored prices.
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
$node->safe_psql('src', 'CREATE EXTENSION aitrack CASCADE');
is( $node->safe_psql('src',
		"SELECT string_agg(extname, ' ' ORDER BY extname) FROM pg_extension
		  WHERE extname IN ('aitrack', 'btree_gist')"),
	'aitrack btree_gist',
	'CREATE EXTENSION aitrack CASCADE installs btree_gist too');

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
    input_tokens => 900, reasoning_tokens => 120, output_tokens => 180,
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

# 1.1: prices in LiteLLM's format (USD per token), loaded twice: gpt-4o's
# price changes from 2024-06-01, so its first row is closed there, and
# o1-mini, new in the second load, starts there.  A price added and deleted
# by hand leaves ai_model_price_id_seq past max(id).
$node->safe_psql('src', <<'SQL');
SELECT count(*) FROM ai_load_prices('{
  "gpt-4o": {"input_cost_per_token": 5e-06, "output_cost_per_token": 1.5e-05,
             "litellm_provider": "openai", "mode": "chat"},
  "claude-3-5-sonnet-20241022": {"input_cost_per_token": 3e-06,
             "output_cost_per_token": 1.5e-05,
             "cache_read_input_token_cost": 3e-07,
             "cache_creation_input_token_cost": 3.75e-06,
             "litellm_provider": "anthropic"},
  "sample_spec": {"input_cost_per_token": 0, "output_cost_per_token": 0}
}'::jsonb);
SELECT count(*) FROM ai_load_prices('{
  "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
             "cache_read_input_token_cost": 1.25e-06},
  "o1-mini": {"input_cost_per_token": 1.1e-06, "output_cost_per_token": 4.4e-06,
              "output_cost_per_reasoning_token": 4.4e-06}
}'::jsonb, valid_from => '2024-06-01 00:00:00+00', source => 'test');
INSERT INTO ai_model_price (model, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('doomed-price', 1, 1);
DELETE FROM ai_model_price WHERE model = 'doomed-price';
SQL

# 1.1 calls: a cost computed from the price (gpt-4o by modelname, the claude
# one by modelname || '-' || version), with cache tokens and time to first
# token; tokens read from an Anthropic response; reasoning tokens; a provided
# cost; a model without a price (cost unknown).
$node->safe_psql('src', <<'SQL');
SELECT record_ai_call(
    modelname => 'gpt-4o', version => '2024-08-06',
    prompt => 'cached prompt', response => '{"text": "cached"}',
    input_tokens => 1200, cache_read_input_tokens => 1000, output_tokens => 300,
    duration_ms => 900, time_to_first_token_ms => 180,
    user_id => '6f1c2b1e-3c1d-4c7e-9a53-2f0c7d9b1a01');
SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'anthropic usage',
    '{"id": "msg_01", "type": "message", "role": "assistant",
      "content": [{"type": "text", "text": "hello"}],
      "usage": {"input_tokens": 50, "cache_read_input_tokens": 2000,
                "cache_creation_input_tokens": 300, "output_tokens": 120}}',
    metrics => '{"duration_ms": 1500, "time_to_first_token_ms": 420}',
    call_type => 'chat');
SELECT record_ai_call('o1-mini', '2024-09-12', 'think', '{"text": "thought"}',
    input_tokens => 100, reasoning_tokens => 400, output_tokens => 500,
    time_to_first_token_ms => 2000);
SELECT record_ai_call('gpt-4o', '2024-08-06', 'provided cost', '{"text": "p"}',
    input_tokens => 10, cache_creation_input_tokens => 4, output_tokens => 5,
    cost_usd => 0.5);
SELECT record_ai_call('unpriced-model', 'x', 'no price', '{"text": "u"}',
    input_tokens => 10, output_tokens => 5, time_to_first_token_ms => 0);
SQL
is( $node->safe_psql('src', <<'SQL'),
SELECT string_agg(concat_ws(' ', m.modelname, c.input_tokens,
                            c.cache_read_input_tokens, c.cache_creation_input_tokens,
                            c.output_tokens, c.reasoning_tokens,
                            c.time_to_first_token_ms, c.cost_usd, c.cost_source),
                  E'\n' ORDER BY c.id)
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE m.modelname IN ('gpt-4o', 'claude-3-5-sonnet', 'o1-mini', 'unpriced-model')
SQL
	join("\n",
		'gpt-4o 1200 1000 300 180 0.00475 computed',
		'claude-3-5-sonnet 2350 2000 300 120 420 0.003675 computed',
		'o1-mini 100 500 400 2000 0.00231 computed',
		'gpt-4o 10 4 5 0.5 provided',
		'unpriced-model 10 5 0 unknown'),
	'source: 1.1 calls have their tokens, time to first token and cost');

# Hand edits: model extra (through the updated_at trigger), calls on an
# earlier day, a cascade delete, and the newest call removed.
$node->safe_psql('src', <<'SQL');
UPDATE ai_model SET extra = '{"provider": "openai"}' WHERE modelname = 'gpt-4';
UPDATE ai_call SET created_at = '2024-01-15 10:00:00+00'
 WHERE prompt IN ('Say hi', 'Classify');
DELETE FROM ai_model WHERE modelname = 'mistral';
DELETE FROM ai_call WHERE id = (SELECT max(id) FROM ai_call);
SQL

# 1.2: three more calls, made in 2023 and purged: they leave ai_call, and
# their numbers stay in ai_usage_purged, which is all that still knows them.
$node->safe_psql('src', <<'SQL');
SELECT record_ai_call('gpt-4', '0125', 'old one', '{"text": "o1"}',
    input_tokens => 50, output_tokens => 5, cost_usd => 0.002, duration_ms => 700,
    call_type => 'summary');
SELECT record_ai_call('claude-3-sonnet', '20240229', 'old two', '{"text": "o2"}',
    input_tokens => 80, duration_ms => 60, status => 'error',
    user_id => '0b7a7d2c-52a4-4f0e-8d7e-3f4a1e9c2b10');
SELECT record_ai_call('gpt-4', '0125', 'old three', '{"text": "o3"}',
    input_tokens => 20, output_tokens => 2, cost_usd => 0.0007, duration_ms => 1300,
    call_type => 'summary');
UPDATE ai_call SET created_at = CASE prompt
           WHEN 'old one' THEN timestamptz '2023-11-05 08:20:00+00'
           WHEN 'old two' THEN timestamptz '2023-11-05 08:40:00+00'
           ELSE timestamptz '2023-12-20 17:00:00+00' END
 WHERE prompt LIKE 'old %';
SQL
$node->safe_psql('src',
	"SET client_min_messages = warning; CALL ai_purge_calls('2024-01-01 00:00:00+00')");
is( $node->safe_psql('src',
		"SELECT count(*) || ' ' || (SELECT sum(calls) FROM ai_usage_purged)
		   FROM ai_call WHERE created_at < '2024-01-01 00:00:00+00'"),
	'0 3',
	'source: the 2023 calls are purged, their numbers kept in ai_usage_purged');
# (The last column: p50 is the call's duration, exactly below 100 ms, else
# within the histogram's 1%.)
is( $node->safe_psql('src',
		"SET timezone = 'UTC';
		 SELECT string_agg(concat_ws(' ', s.bucket, s.modelname, s.version, s.calls,
		                             s.errors, s.input_tokens, s.cost_usd,
		                             CASE WHEN d.ms < 100 THEN s.p50_duration_ms = d.ms
		                                  ELSE abs(s.p50_duration_ms - d.ms) < 0.01 * d.ms
		                             END),
		                   E'\\n' ORDER BY s.bucket, s.modelname)
		   FROM ai_usage_stats(until => '2024-01-01 00:00:00+00', group_by => '{day,model}') s
		   LEFT JOIN (VALUES ('2023-11-05 00:00:00+00'::timestamptz, 'claude-3-sonnet', 60),
		                     ('2023-11-05 00:00:00+00', 'gpt-4', 700),
		                     ('2023-12-20 00:00:00+00', 'gpt-4', 1300)) AS d(day, modelname, ms)
		     ON (d.day, d.modelname) = (s.bucket, s.modelname)"),
	join("\n",
		'2023-11-05 00:00:00+00 claude-3-sonnet 20240229 1 1 80 t',
		'2023-11-05 00:00:00+00 gpt-4 0125 1 0 50 0.002 t',
		'2023-12-20 00:00:00+00 gpt-4 0125 1 0 20 0.0007 t'),
	'source: ai_usage_stats() still reports the purged days');

# Fold the rollups of the source, so that its first_call and last_call are
# exact after the moves and deletes above (until compaction they may still
# name a call that moved or went away; the restored rollups, built from the
# restored calls only, never do).
$node->safe_psql('src', 'SELECT ai_rollup_compact()');

is($node->safe_psql('src', 'SELECT count(*) FROM ai_model'),
	'8', 'source: eight models left');
is($node->safe_psql('src', 'SELECT count(*) FROM ai_call'),
	'11', 'source: eleven calls left');
ok( $node->safe_psql('src',
		'SELECT last_value > (SELECT max(id) FROM ai_call) FROM ai_call_id_seq'
	) eq 't',
	'source: ai_call_id_seq is past max(id)');
is( $node->safe_psql('src',
		"SET timezone = 'UTC';
		 SELECT string_agg(concat_ws(' ', model, valid_from, valid_until,
		                             input_usd_per_mtok, output_usd_per_mtok,
		                             cache_read_usd_per_mtok, source), E'\n'
		                   ORDER BY model, valid_from)
		   FROM ai_model_price"),
	join("\n",
		'claude-3-5-sonnet-20241022 -infinity infinity 3 15 0.3 litellm',
		'gpt-4o -infinity 2024-06-01 00:00:00+00 5 15 litellm',
		'gpt-4o 2024-06-01 00:00:00+00 infinity 2.5 10 1.25 test',
		'o1-mini 2024-06-01 00:00:00+00 infinity 1.1 4.4 test'),
	'source: ai_model_price holds the loaded prices');
ok( $node->safe_psql('src',
		'SELECT last_value > (SELECT max(id) FROM ai_model_price)
		   FROM ai_model_price_id_seq') eq 't',
	'source: ai_model_price_id_seq is past max(id)');

# Everything that must be identical in a restored database, as text.
my %checks = (
	ai_model => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\' ORDER BY id)
	               FROM ai_model t',
	ai_call => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\' ORDER BY id)
	              FROM ai_call t',
	ai_model_price => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\' ORDER BY id)
	                     FROM ai_model_price t',
	sequences => 'SELECT format(\'%s %s / %s %s / %s %s\', m.last_value, m.is_called,
	                            c.last_value, c.is_called, p.last_value, p.is_called)
	                FROM ai_model_id_seq m, ai_call_id_seq c,
	                     ai_model_price_id_seq p',
	price_at => 'SELECT string_agg(concat_ws(\' \', x.modelname, x.version, x.at,
	                                         (x.p).id, (x.p).model), E\'\n\'
	                               ORDER BY x.modelname, x.at)
	               FROM (SELECT v.*, ai_price_at(v.modelname, v.version, v.at) AS p
	                       FROM (VALUES (\'gpt-4o\', \'2024-08-06\',
	                                     \'2024-05-31 23:59:59.999999+00\'::timestamptz),
	                                    (\'gpt-4o\', \'2024-08-06\', \'2024-06-01 00:00:00+00\'),
	                                    (\'claude-3-5-sonnet\', \'20241022\', \'2024-01-01 00:00:00+00\'),
	                                    (\'dall-e-3\', \'1\', \'2024-01-01 00:00:00+00\'))
	                            AS v(modelname, version, at)) AS x',
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
	# 1.3: row-level security and the tenant policies, which pg_dump leaves
	# to the restore's CREATE EXTENSION
	policies => 'SELECT string_agg(concat_ws(\' \', c.relname, c.relrowsecurity, p.polname,
	                                         pg_get_expr(p.polqual, p.polrelid)),
	                               E\'\n\' ORDER BY c.relname)
	               FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid
	              WHERE c.relnamespace = \'public\'::regnamespace AND c.relkind = \'r\'',
	ai_usage_purged => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\'
	                      ORDER BY bucket, model_id, call_type, status, user_id)
	                      FROM ai_usage_purged t',
	# compacted on both sides before these are read (see check_restored)
	ai_usage_rollup => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\'
	                      ORDER BY bucket, model_id, call_type, status, user_id)
	                      FROM ai_usage_rollup t',
	ai_usage_rollup_total => 'SELECT count(*) || E\'\n\' || string_agg(t::text, E\'\n\'
	                            ORDER BY bucket, model_id, call_type, status)
	                            FROM ai_usage_rollup_total t',
	stats_model => 'SELECT string_agg(s::text, E\'\n\' ORDER BY s.modelname, s.version)
	                  FROM ai_usage_stats() s',
	stats_day_model => 'SELECT string_agg(s::text, E\'\n\'
	                                      ORDER BY s.bucket, s.modelname, s.version)
	                      FROM ai_usage_stats(group_by => \'{day,model}\') s',
	stats_user_hour => 'SELECT string_agg(s::text, E\'\n\'
	                                      ORDER BY s.bucket, s.modelname, s.version,
	                                               s.call_type, s.status, s.user_id)
	                      FROM ai_usage_stats(group_by => \'{hour,model,call_type,status,user}\') s',);

# The stats, read before the restored rollups are compacted too.
my @stats_checks = qw(stats_model stats_day_model stats_user_hour);

my %expected =
  map { $_ => $node->safe_psql('src', $checks{$_}) } keys %checks;

like($expected{stats_model}, qr/claude-3-sonnet/,
	'source: ai_usage_stats() answers');
like($expected{stats_day_model}, qr/^\("2023-11-05 00:00:00\+00",claude-3-sonnet,/,
	'source: ai_usage_stats() reports the purged days');
like($expected{ai_usage_purged}, qr/^3\n/,
	'source: ai_usage_purged has a row per purged group');
is( $node->safe_psql('src',
		'SELECT count(*) FILTER (WHERE pending) FROM ai_usage_rollup'),
	'0', 'source: the rollups are compacted');
isnt($expected{members}, '', 'source: extension has members');
like($expected{policies}, qr/(?:\A|\n)ai_call t ai_call_tenant [^\n]*\nai_model f\n/,
	'source: row-level security and a tenant policy on ai_call (1.3)');
like(
	$expected{price_at},
	qr/^claude-3-5-sonnet 20241022 .* claude-3-5-sonnet-20241022\ndall-e-3 1 [^\n]*[^ \n]\ngpt-4o /,
	'source: ai_price_at() answers, by modelname-version, and NULL without a price');

sub check_restored
{
	my ($n, $db, $label) = @_;

	# pg_dump left the rollup tables out; the restore's COPY into ai_call
	# refilled ai_usage_rollup through the rollup trigger, with pending rows
	# only, and ai_usage_rollup_total is left to compaction.
	is( $n->safe_psql($db,
			"SELECT count(*) FILTER (WHERE pending) > 0
			        AND count(*) FILTER (WHERE NOT pending) = 0
			        AND (SELECT count(*) FROM ai_usage_rollup_total) = 0
			   FROM ai_usage_rollup"),
		't',
		"$label: the rollups were rebuilt from the restored calls, not restored");
	# Those rows already give the source's stats, purged days included.
	foreach my $check (@stats_checks)
	{
		is($n->safe_psql($db, $checks{$check}),
			$expected{$check},
			"$label: same $check as the source, before compaction");
	}
	isnt($n->safe_psql($db, 'SELECT ai_rollup_compact()'),
		'0', "$label: ai_rollup_compact() folds the rebuilt rollups");

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

	# ai_usage_stats() counts the restored and the new calls, and still the
	# purged ones (gpt-4 0125: two restored, one new, two purged).
	is( $n->safe_psql($db,
			"SELECT calls || ' ' || errors FROM ai_usage_stats(modelname => 'gpt-4')
			  WHERE version = '0125'"),
		'5 1',
		"$label: ai_usage_stats() counts restored, new and purged calls");
	is( $n->safe_psql($db,
			"SELECT calls FROM ai_usage_stats() WHERE modelname = 'brand-new'"),
		'1',
		"$label: ai_usage_stats() sees the new model");

	# The restored prices price new calls: gpt-4o's from 2024-06-01 (2.5,
	# 10, cache reads 1.25 USD per million tokens), and claude's through
	# modelname || '-' || version, with tokens read from the response.
	my $id3 = $n->safe_psql($db,
		"SELECT record_ai_call(modelname => 'gpt-4o', version => '2024-08-06',
		    prompt => 'after restore', response => '{\"text\": \"priced\"}',
		    input_tokens => 2000, cache_read_input_tokens => 1000,
		    output_tokens => 100, time_to_first_token_ms => 50)");
	is( $n->safe_psql($db,
			"SELECT cost_usd || ' ' || cost_source FROM ai_call WHERE id = $id3"),
		'0.00475 computed',
		"$label: a call recorded without a cost gets it from the restored price");
	my $id4 = $n->safe_psql($db,
		"SELECT record_ai_call('claude-3-5-sonnet', '20241022', 'after restore',
		    '{\"usage\": {\"input_tokens\": 10, \"cache_read_input_tokens\": 1000,
		                  \"cache_creation_input_tokens\": 0, \"output_tokens\": 20}}',
		    '{}'::jsonb)");
	is( $n->safe_psql($db,
			"SELECT concat_ws(' ', input_tokens, cache_read_input_tokens,
			                  cache_creation_input_tokens, output_tokens,
			                  cost_usd, cost_source)
			   FROM ai_call WHERE id = $id4"),
		'1010 1000 0 20 0.00063 computed',
		"$label: tokens read from the response are priced too");

	# A new price continues the restored sequence.
	my $max_price =
	  $n->safe_psql($db, 'SELECT max(id) FROM ai_model_price');
	is( $n->safe_psql($db,
			"SELECT model || ' ' || action FROM ai_load_prices(
			   '{\"gemini-1.5-flash\": {\"input_cost_per_token\": 7.5e-08,
			                            \"output_cost_per_token\": 3e-07}}')"),
		'gemini-1.5-flash added',
		"$label: ai_load_prices() adds a price");
	cmp_ok(
		$n->safe_psql($db,
			"SELECT id FROM ai_model_price WHERE model = 'gemini-1.5-flash'"),
		'>', $max_price,
		"$label: new price id past restored ids");
	is( $n->safe_psql($db,
			"SELECT string_agg(model || ' ' || action, ', ' ORDER BY model)
			   FROM ai_load_prices('{\"gpt-4o\": {\"input_cost_per_token\": 2.5e-06,
			                         \"output_cost_per_token\": 1e-05,
			                         \"cache_read_input_token_cost\": 1.25e-06}}')"),
		'gpt-4o unchanged',
		"$label: reloading a restored price leaves it alone");
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
