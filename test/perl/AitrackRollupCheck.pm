# test/perl/AitrackRollupCheck.pm: checks shared by aitrack's TAP tests.
#
#   rollups_match_calls($node, $when)
#       After a full ai_rollup_compact(): ai_usage_rollup and
#       ai_usage_rollup_total each hold one row per (hour, model, dimensions)
#       group of ai_call, equal in every column to the aggregates written by
#       hand over ai_call (counts, sums and their *_n counts, first and last
#       call, the latency histogram).  $when names the moment in the test
#       names ("after compaction").  Four Test::More assertions.
#
# Load it with
#   use FindBin;
#   use lib "$FindBin::RealBin/../perl";
#   use AitrackRollupCheck;
package AitrackRollupCheck;

use strict;
use warnings;

use Exporter 'import';
use Test::More;

our @EXPORT = qw(rollups_match_calls);

# The summed columns of a rollup row, as src/rollup.c lists them.
my @sums = qw(input_tokens reasoning_tokens output_tokens cache_read_input_tokens
  cache_creation_input_tokens cost_usd duration_ms time_to_first_token_ms);

sub rollups_match_calls
{
	my ($node, $when) = @_;
	my $sum_columns = join(', ', map { "COALESCE(sum($_), 0), count($_)" } @sums);
	my $rollup_columns = join(', ', map { ($_, "${_}_n") } @sums);

	foreach my $t ([ 'ai_usage_rollup', 'call_type, status, user_id' ],
		[ 'ai_usage_rollup_total', 'call_type, status' ])
	{
		my ($table, $dims) = @$t;
		my @group_by = (1 .. 2 + scalar(my @d = split /, /, $dims));
		my ($groups, $missing, $extra) = split / /, $node->safe_psql('postgres', qq{
WITH hand AS (
  SELECT date_trunc('hour', created_at, 'UTC') AS bucket, model_id, $dims, count(*) AS calls,
         $sum_columns, min(created_at), max(created_at),
         ai_hist_merge(ai_hist_of(duration_ms, 1))
    FROM ai_call GROUP BY @{[ join(', ', @group_by) ]}),
roll AS (
  SELECT bucket, model_id, $dims, calls, $rollup_columns, first_call, last_call, latency
    FROM $table)
SELECT (SELECT count(*) FROM hand) || ' ' ||
       (SELECT count(*) FROM (TABLE hand EXCEPT ALL TABLE roll) AS missing) || ' ' ||
       (SELECT count(*) FROM (TABLE roll EXCEPT ALL TABLE hand) AS extra)});
		cmp_ok($groups, '>', 0, "$table: ai_call has groups");
		is("$missing $extra", '0 0',
			"$table $when: one row per group of ai_call, equal to the aggregates by hand, every column"
		);
	}
	return;
}

1;
