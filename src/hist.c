/*
 * hist.c
 *		A mergeable latency histogram for the rollups: counts of
 *		duration_ms per log-spaced bucket, from which p50/p95/p99 come with
 *		a relative error below 1%.
 *
 * Buckets: every whole millisecond below HIST_LINEAR_MAX has a bucket of
 * its own (exact); above it, bucket k covers [L * R^k, L * R^(k+1)) with
 * R = 1.02, and stands for its geometric middle, L * R^(k + 1/2), which is
 * within sqrt(1.02) - 1 = 0.995% of every value in the bucket.
 *
 * Stored form: int4[] of (bucket, count) pairs in bucket order, sparse, so
 * that an hour holding a handful of distinct latencies costs a handful of
 * pairs.  Counts may be negative in the rows that undo a deleted call; the
 * merge adds them up.
 */
#include "aitrack.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#define HIST_LINEAR_MAX	100		/* ms below this are counted exactly */
#define HIST_RATIO		1.02
/* Enough log buckets to reach 2^31 ms from HIST_LINEAR_MAX. */
#define HIST_NUM_LOG	860
#define HIST_BUCKETS	(HIST_LINEAR_MAX + HIST_NUM_LOG)

static int
bucket_of(int32 ms)
{
	int			k;

	if (ms < HIST_LINEAR_MAX)
		return Max(ms, 0);
	k = (int) floor(log((double) ms / HIST_LINEAR_MAX) / log(HIST_RATIO));
	/* Guard the edge where floating point rounds just under a boundary. */
	if (HIST_LINEAR_MAX * pow(HIST_RATIO, k + 1) <= ms)
		k++;
	return HIST_LINEAR_MAX + Min(k, HIST_NUM_LOG - 1);
}

static double
bucket_value(int bucket)
{
	if (bucket < HIST_LINEAR_MAX)
		return bucket;
	return HIST_LINEAR_MAX * pow(HIST_RATIO, bucket - HIST_LINEAR_MAX + 0.5);
}

/* The data of a stored (bucket, count) pair array, checked. */
static int32 *
check_pairs(ArrayType *pairs)
{
	int32	   *data;
	int			n;

	if (ARR_NDIM(pairs) == 0)
		return NULL;
	if (ARR_NDIM(pairs) != 1 || ARR_HASNULL(pairs) ||
		ARR_ELEMTYPE(pairs) != INT4OID || ARR_DIMS(pairs)[0] % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("malformed latency histogram"),
				 errdetail("A histogram is an int4[] of (bucket, count) pairs.")));
	/* No NULLs (checked above), so the data follows the fixed overhead. */
	data = (int32 *) (((char *) pairs) + ARR_OVERHEAD_NONULLS(ARR_NDIM(pairs)));
	n = ARR_DIMS(pairs)[0];
	for (int i = 0; i < n; i += 2)
		if (data[i] < 0 || data[i] >= HIST_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("malformed latency histogram"),
					 errdetail("Bucket %d is out of range.", data[i])));
	return data;
}

/* Add a stored (bucket, count) pair array into dense counts. */
static void
add_pairs(int64 *dense, ArrayType *pairs)
{
	int32	   *data = check_pairs(pairs);
	int			n = ARR_NDIM(pairs) == 0 ? 0 : ARR_DIMS(pairs)[0];

	for (int i = 0; i < n; i += 2)
		dense[data[i]] += data[i + 1];
}

/* Dense counts to the stored form; NULL when every count is zero. */
static ArrayType *
to_pairs(const int64 *dense)
{
	Datum	   *elems = palloc(sizeof(Datum) * 2 * HIST_BUCKETS);
	int			n = 0;

	for (int b = 0; b < HIST_BUCKETS; b++)
	{
		if (dense[b] == 0)
			continue;
		if (dense[b] > PG_INT32_MAX || dense[b] < PG_INT32_MIN)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("latency histogram bucket count out of range")));
		elems[n++] = Int32GetDatum(b);
		elems[n++] = Int32GetDatum((int32) dense[b]);
	}
	if (n == 0)
		return NULL;
	return construct_array(elems, n, INT4OID, sizeof(int32), true, TYPALIGN_INT);
}

PG_FUNCTION_INFO_V1(ai_hist_of_1_2);
PG_FUNCTION_INFO_V1(ai_hist_accum_1_2);
PG_FUNCTION_INFO_V1(ai_hist_final_1_2);
PG_FUNCTION_INFO_V1(ai_hist_percentile_1_2);

/* The stored histogram of one call of duration_ms, counted weight times. */
ArrayType *
ai_hist_pair(int32 duration_ms, int32 weight)
{
	Datum		elems[2];

	elems[0] = Int32GetDatum(bucket_of(duration_ms));
	elems[1] = Int32GetDatum(weight);
	return construct_array(elems, 2, INT4OID, sizeof(int32), true, TYPALIGN_INT);
}

/* ai_hist_of(duration_ms int, weight int) RETURNS int4[]: one call's pair. */
Datum
ai_hist_of_1_2(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_GETARG_INT32(1) == 0)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(ai_hist_pair(PG_GETARG_INT32(0), PG_GETARG_INT32(1)));
}

/*
 * The state of ai_hist_merge(): most groups see only a few distinct buckets
 * (compaction folds a handful of rows per group, over a million groups), so
 * the state starts as a short list of (bucket, count) and turns into dense
 * counts only once it holds HIST_SPARSE_MAX buckets.
 */
#define HIST_SPARSE_MAX 64

typedef struct HistState
{
	int64	   *dense;			/* HIST_BUCKETS counts, or NULL while sparse */
	int			n;				/* sparse: buckets in use */
	int			cap;			/* sparse: room in bucket[] and count[] */
	int32	   *bucket;
	int64	   *count;
} HistState;

static void
state_add(HistState *state, int32 bucket, int64 count, MemoryContext aggcontext)
{
	if (state->dense == NULL)
	{
		for (int i = 0; i < state->n; i++)
			if (state->bucket[i] == bucket)
			{
				state->count[i] += count;
				return;
			}
		if (state->n < HIST_SPARSE_MAX)
		{
			if (state->n == state->cap)
			{
				int			cap = state->cap == 0 ? 4 : state->cap * 2;

				state->bucket = state->bucket == NULL ?
					MemoryContextAlloc(aggcontext, sizeof(int32) * cap) :
					repalloc(state->bucket, sizeof(int32) * cap);
				state->count = state->count == NULL ?
					MemoryContextAlloc(aggcontext, sizeof(int64) * cap) :
					repalloc(state->count, sizeof(int64) * cap);
				state->cap = cap;
			}
			state->bucket[state->n] = bucket;
			state->count[state->n++] = count;
			return;
		}
		state->dense = MemoryContextAllocZero(aggcontext, sizeof(int64) * HIST_BUCKETS);
		for (int i = 0; i < state->n; i++)
			state->dense[state->bucket[i]] += state->count[i];
	}
	state->dense[bucket] += count;
}

/*
 * ai_hist_merge(int4[]) aggregate: transition function.
 */
Datum
ai_hist_accum_1_2(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	HistState  *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ai_hist_accum called in non-aggregate context");

	if (PG_ARGISNULL(0))
		state = MemoryContextAllocZero(aggcontext, sizeof(HistState));
	else
		state = (HistState *) PG_GETARG_POINTER(0);
	if (!PG_ARGISNULL(1))
	{
		ArrayType  *pairs = PG_GETARG_ARRAYTYPE_P(1);
		int32	   *data = check_pairs(pairs);
		int			n = ARR_NDIM(pairs) == 0 ? 0 : ARR_DIMS(pairs)[0];

		for (int i = 0; i < n; i += 2)
			state_add(state, data[i], data[i + 1], aggcontext);
	}
	PG_RETURN_POINTER(state);
}

Datum
ai_hist_final_1_2(PG_FUNCTION_ARGS)
{
	HistState  *state;
	int64	   *dense;
	ArrayType  *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (HistState *) PG_GETARG_POINTER(0);
	dense = state->dense;
	if (dense == NULL)
	{
		dense = palloc0(sizeof(int64) * HIST_BUCKETS);
		for (int i = 0; i < state->n; i++)
			dense[state->bucket[i]] += state->count[i];
	}
	result = to_pairs(dense);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * ai_hist_merge()'s partial aggregation (1.9): combine, serialize and
 * deserialize, so that PostgreSQL's parallel workers (and Citus's shards)
 * each merge their part and the leader merges the parts.
 */
PG_FUNCTION_INFO_V1(ai_hist_combine_1_9);
PG_FUNCTION_INFO_V1(ai_hist_serialize_1_9);
PG_FUNCTION_INFO_V1(ai_hist_deserialize_1_9);

/* Add every (bucket, count) of from into into. */
static void
state_merge(HistState *into, const HistState *from, MemoryContext aggcontext)
{
	if (from->dense != NULL)
	{
		for (int b = 0; b < HIST_BUCKETS; b++)
			if (from->dense[b] != 0)
				state_add(into, b, from->dense[b], aggcontext);
	}
	else
		for (int i = 0; i < from->n; i++)
			state_add(into, from->bucket[i], from->count[i], aggcontext);
}

/* ai_hist_combine(internal, internal) RETURNS internal; not strict */
Datum
ai_hist_combine_1_9(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	HistState  *into;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ai_hist_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(PG_ARGISNULL(0) ? NULL : PG_GETARG_POINTER(0));
	into = PG_ARGISNULL(0) ? MemoryContextAllocZero(aggcontext, sizeof(HistState)) :
		(HistState *) PG_GETARG_POINTER(0);
	state_merge(into, (HistState *) PG_GETARG_POINTER(1), aggcontext);
	PG_RETURN_POINTER(into);
}

/*
 * ai_hist_serialize(internal) RETURNS bytea: the number of buckets in use,
 * then (int32 bucket, int64 count) for each, in the sender's byte order
 * (a state only travels between the processes of one server, or between
 * Citus nodes of one build).
 */
Datum
ai_hist_serialize_1_9(PG_FUNCTION_ARGS)
{
	HistState  *state;
	StringInfoData buf;
	int32		n = 0;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "ai_hist_serialize called in non-aggregate context");
	state = (HistState *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	if (state->dense != NULL)
	{
		for (int b = 0; b < HIST_BUCKETS; b++)
			n += state->dense[b] != 0;
		pq_sendint32(&buf, n);
		for (int b = 0; b < HIST_BUCKETS; b++)
			if (state->dense[b] != 0)
			{
				pq_sendint32(&buf, b);
				pq_sendint64(&buf, state->dense[b]);
			}
	}
	else
	{
		pq_sendint32(&buf, state->n);
		for (int i = 0; i < state->n; i++)
		{
			pq_sendint32(&buf, state->bucket[i]);
			pq_sendint64(&buf, state->count[i]);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ai_hist_deserialize(bytea, internal) RETURNS internal */
Datum
ai_hist_deserialize_1_9(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	bytea	   *bytes;
	StringInfoData buf;
	HistState  *state;
	int32		n;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "ai_hist_deserialize called in non-aggregate context");
	bytes = PG_GETARG_BYTEA_PP(0);
	/* (read only: what initReadOnlyStringInfo() does from PostgreSQL 17) */
	buf.data = VARDATA_ANY(bytes);
	buf.len = VARSIZE_ANY_EXHDR(bytes);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	state = MemoryContextAllocZero(aggcontext, sizeof(HistState));
	n = pq_getmsgint(&buf, 4);
	if (n < 0 || n > HIST_BUCKETS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid ai_hist_merge state"),
				 errdetail("It has %d buckets, out of 0 to %d.", n, HIST_BUCKETS)));
	for (int i = 0; i < n; i++)
	{
		int32		bucket = pq_getmsgint(&buf, 4);
		int64		count = pq_getmsgint64(&buf);

		if (bucket < 0 || bucket >= HIST_BUCKETS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid ai_hist_merge state"),
					 errdetail("Bucket %d is out of 0 to %d.", bucket, HIST_BUCKETS - 1)));
		state_add(state, bucket, count, aggcontext);
	}
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(state);
}

/* The value of the element at 0-based rank in the dense counts. */
static double
value_at_rank(const int64 *dense, int64 rank)
{
	int64		seen = 0;

	for (int b = 0; b < HIST_BUCKETS; b++)
	{
		if (dense[b] <= 0)
			continue;
		seen += dense[b];
		if (seen > rank)
			return bucket_value(b);
	}
	return 0;					/* not reached for 0 <= rank < total */
}

/*
 * ai_hist_percentile(hist int4[], p float8) RETURNS float8: as
 * percentile_cont(p) over the counted values, each value replaced by its
 * bucket's.  NULL for an empty histogram.
 */
Datum
ai_hist_percentile_1_2(PG_FUNCTION_ARGS)
{
	int64	   *dense;
	int64		total = 0;
	double		p;
	double		rank;
	int64		lo;
	double		lo_value;
	double		hi_value;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	p = PG_GETARG_FLOAT8(1);
	if (p < 0 || p > 1 || isnan(p))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("percentile value %g is not between 0 and 1", p)));

	dense = palloc0(sizeof(int64) * HIST_BUCKETS);
	add_pairs(dense, PG_GETARG_ARRAYTYPE_P(0));
	for (int b = 0; b < HIST_BUCKETS; b++)
		total += Max(dense[b], 0);
	if (total == 0)
		PG_RETURN_NULL();

	/* percentile_cont: interpolate between the two neighbouring ranks. */
	rank = p * (total - 1);
	lo = (int64) floor(rank);
	lo_value = value_at_rank(dense, lo);
	hi_value = (rank > lo) ? value_at_rank(dense, lo + 1) : lo_value;
	PG_RETURN_FLOAT8(lo_value + (rank - lo) * (hi_value - lo_value));
}

PG_FUNCTION_INFO_V1(ai_hist_add_1_2);

/* ai_hist_add(int4[], int4[]) RETURNS int4[]: two histograms merged. */
Datum
ai_hist_add_1_2(PG_FUNCTION_ARGS)
{
	int64	   *dense = palloc0(sizeof(int64) * HIST_BUCKETS);
	ArrayType  *result;

	if (!PG_ARGISNULL(0))
		add_pairs(dense, PG_GETARG_ARRAYTYPE_P(0));
	if (!PG_ARGISNULL(1))
		add_pairs(dense, PG_GETARG_ARRAYTYPE_P(1));
	result = to_pairs(dense);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(result);
}

/*
 * ai_hist_sum(int4[]) (1.10): ai_hist_merge() with a state of a real type,
 * int8[] of HIST_BUCKETS dense counts, for Citus: it computes a custom
 * aggregate on the shards and merges the parts on the coordinator only when
 * the state is no pseudo-type (internal is one), sending each part as the
 * state's text.  The stats use it over a distributed ai_call (stats.c);
 * ai_hist_merge()'s sparse start stays the faster on one server.  The
 * transition and combine functions add into the state in place when they
 * run as an aggregate (it lives in the aggregate's context), else into a
 * copy.
 */
PG_FUNCTION_INFO_V1(ai_hist_sum_accum_1_10);
PG_FUNCTION_INFO_V1(ai_hist_sum_combine_1_10);
PG_FUNCTION_INFO_V1(ai_hist_sum_final_1_10);

/* The dense counts of a state array, checked. */
static int64 *
dense_of(ArrayType *state)
{
	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != INT8OID ||
		ARR_DIMS(state)[0] != HIST_BUCKETS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("malformed latency histogram state"),
				 errdetail("The state of ai_hist_sum() is an int8[] of %d counts.", HIST_BUCKETS)));
	/* No NULLs (checked above), so the data follows the fixed overhead. */
	return (int64 *) (((char *) state) + ARR_OVERHEAD_NONULLS(1));
}

/*
 * The state to add into: a new one of zeros when there is none, else arg's
 * own (in place, in an aggregate) or a copy, in the aggregate's context.
 */
static ArrayType *
state_for_adding(FunctionCallInfo fcinfo, int arg)
{
	MemoryContext aggcontext;
	bool		in_aggregate = AggCheckCallContext(fcinfo, &aggcontext) != 0;
	MemoryContext old;
	ArrayType  *state;

	if (!PG_ARGISNULL(arg) && in_aggregate)
		return PG_GETARG_ARRAYTYPE_P(arg);
	old = in_aggregate ? MemoryContextSwitchTo(aggcontext) : NULL;
	if (PG_ARGISNULL(arg))
	{
		Datum	   *zeros = palloc(sizeof(Datum) * HIST_BUCKETS);

		for (int b = 0; b < HIST_BUCKETS; b++)
			zeros[b] = Int64GetDatum(0);
		state = construct_array(zeros, HIST_BUCKETS, INT8OID, sizeof(int64),
								FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
		pfree(zeros);
	}
	else
		state = PG_GETARG_ARRAYTYPE_P_COPY(arg);
	if (old)
		MemoryContextSwitchTo(old);
	return state;
}

/* ai_hist_sum's transition: int8[] state, int4[] (bucket, count) pairs. */
Datum
ai_hist_sum_accum_1_10(PG_FUNCTION_ARGS)
{
	ArrayType  *state;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	state = state_for_adding(fcinfo, 0);
	add_pairs(dense_of(state), PG_GETARG_ARRAYTYPE_P(1));
	PG_RETURN_ARRAYTYPE_P(state);
}

/* ai_hist_sum's combine: the counts of two parts added. */
Datum
ai_hist_sum_combine_1_10(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64	   *into;
	const int64 *from;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	state = state_for_adding(fcinfo, 0);
	into = dense_of(state);
	from = dense_of(PG_GETARG_ARRAYTYPE_P(1));
	for (int b = 0; b < HIST_BUCKETS; b++)
		into[b] += from[b];
	PG_RETURN_ARRAYTYPE_P(state);
}

/* ai_hist_sum's final: the stored form, as ai_hist_merge() returns it. */
Datum
ai_hist_sum_final_1_10(PG_FUNCTION_ARGS)
{
	ArrayType  *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	result = to_pairs(dense_of(PG_GETARG_ARRAYTYPE_P(0)));
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_ARRAYTYPE_P(result);
}
