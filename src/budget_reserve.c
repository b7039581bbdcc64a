/*
 * budget_reserve.c
 *		ai_budget_reserve(), ai_budget_settle() and ai_budget_release()
 *		(1.8; 1.7 had them in PL/pgSQL).
 *
 * A reservation holds an estimated cost against every budget a call about
 * to be made falls under.  What is held sits on the budget's spend row
 * (ai_budget_spend.reserved_usd: the sum of every reservation holding that
 * row that has not been ended or cleared), and the reservation's own row
 * lists the spend rows it holds (hold_* arrays), so that ending it takes
 * back exactly what it added.  A reservation past its expires_at holds
 * nothing: whoever decides by reserved_usd subtracts the expired ones still
 * counted in it (ai_budget_expired_held()), until ai_budget_clear_expired()
 * (the upkeep worker) takes them out.
 *
 * The check and the hold are one statement per budget: an upsert of the
 * spend row that adds the estimate only if spent + reserved + estimate
 * stays within a hard limit.  The upsert locks the row until the
 * reservation's transaction ends, so concurrent reservations of one budget
 * take turns and never hold more than its limit; rows are taken in the one
 * order every writer of spend rows keeps (budget id, scope value, period
 * start).  Only when that quick test fails are the expired reservations
 * looked at, under the same lock.
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "storage/lmgr.h"
#include "executor/executor.h"
#include "commands/trigger.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include <math.h>

typedef struct ReservePlans
{
	Oid			schema;
	SPIPlanPtr	check_attribution;
	SPIPlanPtr	hold_there;		/* conditional update of a spend row */
	SPIPlanPtr	hold;			/* conditional upsert of a spend row */
	SPIPlanPtr	row_state;		/* spent, and reserved less the expired */
	SPIPlanPtr	add_held;		/* reserved += estimate, row already locked */
	SPIPlanPtr	insert;			/* the reservation's row */
	SPIPlanPtr	end;			/* delete it, returning its holds */
	SPIPlanPtr	unhold;			/* reserved -= amount */
	SPIPlanPtr	unhold_all;		/* after a TRUNCATE of the reservations */
	SPIPlanPtr	call_exists;
} ReservePlans;

static ReservePlans reserve_plans;

#define SPEND_KEY " WHERE s.budget_id OPERATOR(pg_catalog.=) $1" \
	" AND s.scope_value OPERATOR(pg_catalog.=) $2" \
	" AND s.period_start OPERATOR(pg_catalog.=) $3"

static void
prepare_reserve_plans(Oid schema)
{
	const char *nsp;
	Oid			attribution_types[4] = {TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID};
	Oid			hold_types[6] = {INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID, BOOLOID, NUMERICOID};
	Oid			key_types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, NUMERICOID};
	Oid			insert_types[11] = {NUMERICOID, UUIDOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTOID,
	TIMESTAMPTZOID, INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID, BOOLOID};
	Oid			end_types[3] = {INT8OID, BOOLOID, UUIDOID};
	Oid			id_type[1] = {INT8OID};
	SPIPlanPtr *plans = (SPIPlanPtr *) &reserve_plans.check_attribution;
	int			nplans = (sizeof(ReservePlans) - offsetof(ReservePlans, check_attribution)) / sizeof(SPIPlanPtr);

	if (reserve_plans.schema == schema && reserve_plans.call_exists != NULL)
		return;
	for (int i = 0; i < nplans; i++)
		if (plans[i] != NULL)
			SPI_freeplan(plans[i]);
	memset(&reserve_plans, 0, sizeof(reserve_plans));

	nsp = quote_identifier(get_namespace_name(schema));
	reserve_plans.check_attribution = aitrack_prepare_plan(psprintf(
		"SELECT %s.ai_budget_check_attribution($1, $2, $3, $4)", nsp), 4, attribution_types, 0);
	reserve_plans.hold_there = aitrack_prepare_plan(psprintf(
		"UPDATE %s.ai_budget_spend s SET reserved_usd = s.reserved_usd OPERATOR(pg_catalog.+) $4"
		SPEND_KEY
		" AND (NOT $5 OR s.spent_usd OPERATOR(pg_catalog.+) s.reserved_usd"
		" OPERATOR(pg_catalog.+) $4 OPERATOR(pg_catalog.<=) $6)"
		" RETURNING true", nsp), 6, hold_types, 0);
	reserve_plans.hold = aitrack_prepare_plan(psprintf(
		"INSERT INTO %s.ai_budget_spend AS s (budget_id, scope_value, period_start, reserved_usd)"
		" VALUES ($1, $2, $3, $4)"
		" ON CONFLICT (budget_id, scope_value, period_start) DO UPDATE"
		" SET reserved_usd = s.reserved_usd OPERATOR(pg_catalog.+) excluded.reserved_usd"
		" WHERE NOT $5 OR s.spent_usd OPERATOR(pg_catalog.+) s.reserved_usd"
		" OPERATOR(pg_catalog.+) excluded.reserved_usd OPERATOR(pg_catalog.<=) $6"
		" RETURNING true", nsp), 6, hold_types, 0);
	reserve_plans.row_state = aitrack_prepare_plan(psprintf(
		"SELECT s.spent_usd, s.reserved_usd OPERATOR(pg_catalog.-) %s.ai_budget_expired_held($1, $2, $3)"
		" FROM %s.ai_budget_spend s" SPEND_KEY, nsp, nsp), 3, key_types, 0);
	reserve_plans.add_held = aitrack_prepare_plan(psprintf(
		"UPDATE %s.ai_budget_spend s SET reserved_usd = s.reserved_usd OPERATOR(pg_catalog.+) $4"
		SPEND_KEY, nsp), 4, key_types, 0);
	reserve_plans.insert = aitrack_prepare_plan(psprintf(
		"INSERT INTO %s.ai_budget_reservation (amount_usd, user_id, project, api_key, tags, modelname,"
		" expires_at, hold_budget_ids, hold_scope_values, hold_period_starts, by_tenant)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id", nsp), 11, insert_types, 0);
	reserve_plans.end = aitrack_prepare_plan(psprintf(
		"DELETE FROM %s.ai_budget_reservation r WHERE r.id OPERATOR(pg_catalog.=) $1"
		" AND (NOT $2 OR r.user_id OPERATOR(pg_catalog.=) $3)"
		" RETURNING r.id", nsp),
		3, end_types, 0);
	reserve_plans.unhold = aitrack_prepare_plan(psprintf(
		"UPDATE %s.ai_budget_spend s SET reserved_usd = s.reserved_usd OPERATOR(pg_catalog.-) $4"
		SPEND_KEY, nsp), 4, key_types, 0);
	reserve_plans.unhold_all = aitrack_prepare_plan(psprintf(
		"UPDATE %s.ai_budget_spend s SET reserved_usd = 0"
		" WHERE s.reserved_usd OPERATOR(pg_catalog.<>) 0", nsp), 0, NULL, 0);
	reserve_plans.call_exists = aitrack_prepare_plan(psprintf(
		"SELECT FROM %s.ai_call c WHERE c.id OPERATOR(pg_catalog.=) $1", nsp), 1, id_type, 0);
	reserve_plans.schema = schema;
}

static void
run_plan(SPIPlanPtr plan, Datum *params, const char *nulls, int expected)
{
	int			rc = SPI_execute_plan(plan, params, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
}

/*
 * Is this a tenant's session, and the user the function acts for: a
 * tenant's own (given or not; any other is refused), else the one given.
 * As 1.7's ai_budget_caller_user().
 */
static bool
caller_user(Oid schema, bool given, Datum user_id, Datum *who, bool *has_who)
{
	Oid			tenant_role;
	Datum		own;

	if (!ai_tenant_session(&tenant_role))
	{
		*who = user_id;
		*has_who = given;
		return false;
	}
	if (!ai_tenant_user(schema, tenant_role, &own) ||
		(given && DatumGetBool(DirectFunctionCall2(uuid_ne, user_id, own))))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("a tenant may act only for its own user"),
				 errhint("Leave user_id out: the tenant's user is taken.")));
	*who = own;
	*has_who = true;
	return true;
}

static char *
numeric_text(Datum value)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, value));
}

/* Spent, and reserved less the expired, of a spend row (0 and 0 if none). */
static void
row_state(Datum *key, Datum *spent, Datum *held)
{
	bool		isnull;

	run_plan(reserve_plans.row_state, key, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		*spent = *held = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
		return;
	}
	*spent = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	*held = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
}

static bool
fits(Datum spent, Datum held, Datum estimate, Numeric limit)
{
	Datum		total = DirectFunctionCall2(numeric_add,
											DirectFunctionCall2(numeric_add, spent, held), estimate);

	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, total, NumericGetDatum(limit))) <= 0;
}

static void
refuse(const AiBudgetMatch *m, Datum spent, Datum held, Datum estimate)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("budget \"%s\" would be exceeded", m->budget->name),
			 errdetail("Spent %s USD and reserved %s USD of %s USD%s; this call reserves %s USD.",
					   numeric_text(spent), numeric_text(held),
					   numeric_text(NumericGetDatum(m->budget->limit_usd)),
					   m->scope_value[0] == '\0' ? "" :
					   psprintf(" for %s %s", ai_budget_scope_name(m->budget->scope), m->scope_value),
					   numeric_text(estimate)),
			 errhint("Make the call later, raise the budget's limit_usd, or reserve less.")));
}

/*
 * A tenant's refusal by a budget it may not see the figures of (one shared
 * with other users, or a user budget checked in memory).
 */
static void
refuse_without_figures(const AiBudgetMatch *m)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("budget \"%s\" would be exceeded", m->budget->name),
			 errhint("Make the call later, or ask for the budget to be raised.")));
}

#define ARG_TEXT(n) (PG_ARGISNULL(n) ? NULL : TextDatumGetCString(PG_GETARG_DATUM(n)))

/* estimate (numeric USD, under 1e12) in nano-USD, rounded up: what a memory hold holds */
static AiNano
estimate_nano(Datum estimate)
{
	Datum		whole = DirectFunctionCall1(numeric_floor, estimate);
	Datum		fraction = DirectFunctionCall2(numeric_sub, estimate, whole);
	Datum		nanos = DirectFunctionCall2(numeric_mul, fraction,
											DirectFunctionCall1(int8_numeric, Int64GetDatum(1000000000)));

	return (AiNano) DatumGetInt64(DirectFunctionCall1(numeric_int8, whole)) * 1000000000 +
		DatumGetInt64(DirectFunctionCall1(numeric_int8, DirectFunctionCall1(numeric_ceil, nanos)));
}

/*
 * Reserve in shared memory (budget_memory.c; aitrack.budget_reservations
 * = memory): the hold is put in memory first, where every other
 * reservation sees it, then each hard budget is checked against what its
 * spend row says now plus what the others held in memory when this one
 * was added.  A settle commits (its call counted) before it takes its hold
 * off, so a hold gone before this one went in has its call in the row read
 * after: nothing is missed, and what a settle in flight holds may count
 * twice for a moment (a refusal near the limit, never an overshoot).  Two
 * reservations checked at once near the limit may both be refused where
 * one would have fitted.
 *
 * Every reservation goes to memory while the setting says so (one in the
 * table would not see what memory holds, nor memory what it holds while its
 * transaction is in progress): where memory cannot take it, it is refused.
 * A tenant's holds only its user's budgets, as in the table, and is
 * refused by a shared budget only once that is used up.
 */
static int64
reserve_in_memory(Oid schema, Oid install, const AiBudgetMatch *matches, int nmatches,
				  Datum estimate, TimestampTz now, TimestampTz until, bool tenant,
				  const pg_uuid_t *user)
{
	AiSpendKey	keys[AI_MEMORY_HOLDS_MAX];
	const AiBudgetMatch *held_matches[AI_MEMORY_HOLDS_MAX];
	AiNano		held_before[AI_MEMORY_HOLDS_MAX];
	AiNano		amount = estimate_nano(estimate);
	int			nkeys = 0;
	int64		id;
	AiMemoryHold hold_result;

	for (int i = 0; i < nmatches; i++)
	{
		const AiBudgetMatch *m = &matches[i];
		AiSpendKey	key = {m->budget->id, m->scope_value, ai_budget_period_start(m->budget, now)};

		CHECK_FOR_INTERRUPTS();
		if (tenant && m->budget->scope != AI_BUDGET_USER)
		{
			/* (as in the table: refused only once used up, without figures) */
			Datum		row_key[4] = {Int64GetDatum(key.budget_id), CStringGetTextDatum(key.scope_value),
			TimestampTzGetDatum(key.period_start), estimate};
			Datum		spent;
			Datum		held;

			if (!m->budget->hard)
				continue;
			row_state(row_key, &spent, &held);
			held = DirectFunctionCall2(numeric_add, held, ai_nano_numeric(ai_memory_held(install, &key)));
			if (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
												  DirectFunctionCall2(numeric_add, spent, held),
												  NumericGetDatum(m->budget->limit_usd))) >= 0)
				refuse_without_figures(m);
			continue;
		}
		if (nkeys == AI_MEMORY_HOLDS_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a reservation held in memory can hold at most %d budgets", AI_MEMORY_HOLDS_MAX),
					 errdetail("This call falls under %d budgets.", nmatches),
					 errhint("Reserve with fewer tags, or set aitrack.budget_reservations to 'table'.")));
		held_matches[nkeys] = m;
		keys[nkeys++] = key;
	}
	id = DatumGetInt64(DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(install)));
	hold_result = ai_memory_hold(install, id, until, amount, keys, nkeys, tenant, user, held_before);
	if ((hold_result == AI_HOLD_NO_SLOT || hold_result == AI_HOLD_NO_KEY) && ai_memory_purge_stale(install) > 0)
		hold_result = ai_memory_hold(install, id, until, amount, keys, nkeys, tenant, user, held_before);
	if (hold_result == AI_HOLD_TENANT_FULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a tenant may hold at most %d reservations in memory at once", AI_MEMORY_TENANT_MAX),
				 errhint("Settle or release the reservations already made.")));
	if (hold_result != AI_HOLD_DONE)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many reservations held in memory"),
				 hold_result == AI_HOLD_NO_SLOT ?
				 errdetail("Shared memory holds at most %d reservations at once, for the whole server.",
						   AI_MEMORY_RESERVATIONS_MAX) :
				 errdetail("Shared memory holds at most %d budget rows held at once, for the whole server.",
						   AI_MEMORY_ROWS_MAX),
				 errhint("Settle or release reservations, give them a shorter expires_in, or set aitrack.budget_reservations to 'table'.")));
	for (int i = 0; i < nkeys; i++)
	{
		const AiBudgetMatch *m = held_matches[i];
		Numeric		spent;
		Numeric		reserved;
		Datum		held;

		CHECK_FOR_INTERRUPTS();
		if (!m->budget->hard)
			continue;
		ai_spend_row_read(schema, &keys[i], &spent, &reserved);
		held = DirectFunctionCall2(numeric_add, NumericGetDatum(reserved), ai_nano_numeric(held_before[i]));
		if (fits(NumericGetDatum(spent), held, estimate, m->budget->limit_usd))
			continue;
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(reserved),
											  DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) != 0)
		{
			/* the table's expired reservations hold nothing */
			Datum		key[4] = {Int64GetDatum(keys[i].budget_id), CStringGetTextDatum(keys[i].scope_value),
			TimestampTzGetDatum(keys[i].period_start), estimate};
			Datum		row_spent;
			Datum		row_held;

			row_state(key, &row_spent, &row_held);
			held = DirectFunctionCall2(numeric_add, row_held, ai_nano_numeric(held_before[i]));
			if (fits(row_spent, held, estimate, m->budget->limit_usd))
				continue;
			spent = DatumGetNumeric(row_spent);
		}
		ai_memory_unhold(install, id);
		if (tenant)
			refuse_without_figures(m);
		refuse(m, NumericGetDatum(spent), held, estimate);
	}
	return id;
}

PG_FUNCTION_INFO_V1(ai_budget_reserve_1_8);

/*
 * ai_budget_reserve(estimate_usd double precision, user_id uuid, project
 * text, api_key text, tags text[], modelname text, expires_in interval)
 * RETURNS bigint
 */
Datum
ai_budget_reserve_1_8(PG_FUNCTION_ARGS)
{
	Oid			schema = aitrack_function_schema(fcinfo);
	Datum		who;
	bool		has_who;
	bool		tenant;
	float8		estimate_usd = PG_ARGISNULL(0) ? 0 : PG_GETARG_FLOAT8(0);
	int64		lasts = 0;
	Datum		expires_in = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
	Datum		estimate;
	Datum		until = (Datum) 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	const AiBudgetSet *set;
	AiBudgetMatch *matches;
	int			nmatches;
	Datum	   *hold_ids;
	Datum	   *hold_values;
	Datum	   *hold_starts;
	int			nholds = 0;
	Datum		params[11];
	char		nulls[11];
	bool		isnull;
	int64		reservation;
	AiSpendRows *spend_rows;
	Oid			install;
	Oid			memory_install;

	tenant = caller_user(schema, !PG_ARGISNULL(1), PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
						 &who, &has_who);
	if (PG_ARGISNULL(0) || isnan(estimate_usd) || estimate_usd < 0 || estimate_usd >= 1e12)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("estimate_usd must be between 0 and 1e12"),
				 errdetail("estimate_usd is %s.", PG_ARGISNULL(0) ? "NULL" :
						   DatumGetCString(DirectFunctionCall1(float8out, Float8GetDatum(estimate_usd)))),
				 errhint("Give the most the call can cost: its input tokens and max_tokens at the model's price.")));
	/*
	 * The interval added to the clock, then measured: compared as an
	 * interval, '1000 years -359999 days' would be at most a day (interval
	 * comparison counts a month as 30 days) and last 5,000.
	 */
	if (!PG_ARGISNULL(6))
	{
		TimestampTz clock = GetCurrentTimestamp();

		until = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(clock), expires_in);
		lasts = DatumGetTimestampTz(until) - clock;
	}
	if (PG_ARGISNULL(6) || lasts <= 0 || lasts > USECS_PER_DAY)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expires_in must be more than 0 and at most 1 day"),
				 errdetail("expires_in is %s.", PG_ARGISNULL(6) ? "NULL" :
						   DatumGetCString(DirectFunctionCall1(interval_out, expires_in)))));
	/*
	 * Under a snapshot older than the statement, the holds of reservations
	 * made since would be unseen and the check would let both pass.
	 */
	if (XactIsoLevel != XACT_READ_COMMITTED)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("ai_budget_reserve() must run at READ COMMITTED"),
				 errdetail("This transaction is %s: its snapshot would not see reservations made since it began.",
						   GetConfigOption("transaction_isolation", false, false)),
				 errhint("Reserve in a transaction of its own, at the default isolation level.")));
	/*
	 * A tenant's reservation holds for 15 minutes at most: long enough for a
	 * call, too short to keep a shared budget blocked.
	 */
	if (tenant && lasts > 15 * 60 * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a tenant's reservation may last 15 minutes at most"),
				 errdetail("expires_in is %s.", DatumGetCString(DirectFunctionCall1(interval_out, expires_in)))));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_reserve_plans(schema);
	if (!PG_ARGISNULL(2) || !PG_ARGISNULL(3) || !PG_ARGISNULL(4) || !PG_ARGISNULL(5))
	{
		for (int i = 0; i < 4; i++)
		{
			params[i] = PG_ARGISNULL(i + 2) ? (Datum) 0 : PG_GETARG_DATUM(i + 2);
			nulls[i] = PG_ARGISNULL(i + 2) ? 'n' : ' ';
		}
		run_plan(reserve_plans.check_attribution, params, nulls, SPI_OK_SELECT);
	}

	/* (double precision, as drivers send a float; kept and summed exactly) */
	estimate = DirectFunctionCall1(float8_numeric, Float8GetDatum(estimate_usd));

	set = ai_budget_set(schema);
	nmatches = ai_budget_match(set, has_who ? DatumGetUUIDP(who) : NULL,
							   ARG_TEXT(2), ARG_TEXT(3),
							   PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4),
							   ARG_TEXT(5), &matches);
	/* held in shared memory, where the setting says so and there is some */
	if (OidIsValid(install = ai_memory_install(schema, true)))
	{
		reservation = reserve_in_memory(schema, install, matches, nmatches, estimate, now,
										DatumGetTimestampTz(until), tenant,
										has_who ? DatumGetUUIDP(who) : NULL);
		SPI_finish();
		PG_RETURN_INT64(reservation);
	}
	memory_install = nmatches > 0 ? ai_memory_install(schema, false) : InvalidOid;
	spend_rows = nmatches > 0 ? ai_spend_rows_open(schema) : NULL;
	hold_ids = palloc(sizeof(Datum) * Max(nmatches, 1));
	hold_values = palloc(sizeof(Datum) * Max(nmatches, 1));
	hold_starts = palloc(sizeof(Datum) * Max(nmatches, 1));

	for (int i = 0; i < nmatches; i++)
	{
		const AiBudgetMatch *m = &matches[i];
		Datum		key[4];
		Datum		spent;
		Datum		held;
		Datum		in_memory = (Datum) 0;	/* what memory holds on the row, if any */
		Numeric		limit = m->budget->limit_usd;	/* less that */

		CHECK_FOR_INTERRUPTS();
		key[0] = Int64GetDatum(m->budget->id);
		key[1] = CStringGetTextDatum(m->scope_value);
		key[2] = TimestampTzGetDatum(ai_budget_period_start(m->budget, now));
		key[3] = estimate;
		/*
		 * Reservations still held in memory (made before the setting went
		 * back to 'table') count against the limit here too.
		 */
		if (OidIsValid(memory_install))
		{
			AiSpendKey memory_key = {m->budget->id, m->scope_value, DatumGetTimestampTz(key[2])};
			AiNano		nano = ai_memory_held(memory_install, &memory_key);

			if (nano != 0)
			{
				in_memory = ai_nano_numeric(nano);
				limit = DatumGetNumeric(DirectFunctionCall2(numeric_sub, NumericGetDatum(limit), in_memory));
			}
		}

		/*
		 * A tenant's reservation holds nothing against a budget shared with
		 * other users (it could block that budget for all of them, or learn
		 * its figures by trying amounts): it is refused only once the budget
		 * is used up, and its call counts when recorded.
		 */
		if (tenant && m->budget->scope != AI_BUDGET_USER)
		{
			row_state(key, &spent, &held);
			if (m->budget->hard &&
				DatumGetInt32(DirectFunctionCall2(numeric_cmp,
												  DirectFunctionCall2(numeric_add, spent, held),
												  NumericGetDatum(limit))) >= 0)
				refuse_without_figures(m);
			continue;
		}

		if (!m->budget->hard ||
			DatumGetInt32(DirectFunctionCall2(numeric_cmp, estimate,
											  NumericGetDatum(limit))) <= 0)
		{
			Datum		hold[6] = {key[0], key[1], key[2], estimate,
			BoolGetDatum(m->budget->hard), NumericGetDatum(limit)};

			/*
			 * An UPDATE first (cheaper than the upsert's speculative
			 * insertion); the upsert when it found nothing: no row yet, or
			 * past the limit.
			 */
			AiSpendResult held_there = AI_SPEND_NO_ROW;

			if (spend_rows != NULL)
			{
				/* the row there: no SQL (budget_rows.c) */
				AiSpendKey spend_key = {m->budget->id, m->scope_value, DatumGetTimestampTz(key[2])};
				AiSpendChange change = {0};

				change.reserved = DatumGetNumeric(estimate);
				change.limit = m->budget->hard ? limit : NULL;
				held_there = ai_spend_row_change(spend_rows, &spend_key, &change, NULL);
			}
			else
			{
				run_plan(reserve_plans.hold_there, hold, NULL, SPI_OK_UPDATE_RETURNING);
				if (SPI_processed > 0)
					held_there = AI_SPEND_CHANGED;
			}
			if (held_there == AI_SPEND_NO_ROW)
				run_plan(reserve_plans.hold, hold, NULL, SPI_OK_INSERT_RETURNING);
			if (held_there == AI_SPEND_OVER_LIMIT ||
				(held_there == AI_SPEND_NO_ROW && SPI_processed == 0))
			{
				/*
				 * Past the limit by what reserved_usd says; the row is locked
				 * now.  Expired reservations still counted in it hold
				 * nothing.
				 */
				row_state(key, &spent, &held);
				if (!fits(spent, held, estimate, limit))
					refuse(m, spent, in_memory == (Datum) 0 ? held :
						   DirectFunctionCall2(numeric_add, held, in_memory), estimate);
				run_plan(reserve_plans.add_held, key, NULL, SPI_OK_UPDATE);
			}
		}
		else
		{
			/* this estimate alone passes the limit */
			row_state(key, &spent, &held);
			refuse(m, spent, in_memory == (Datum) 0 ? held :
				   DirectFunctionCall2(numeric_add, held, in_memory), estimate);
		}
		hold_ids[nholds] = key[0];
		hold_values[nholds] = key[1];
		hold_starts[nholds] = key[2];
		nholds++;
	}

	memset(nulls, ' ', sizeof(nulls));
	params[0] = estimate;
	params[1] = who;
	nulls[1] = has_who ? ' ' : 'n';
	for (int i = 2; i <= 5; i++)
	{
		params[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	params[6] = until;
	params[7] = PointerGetDatum(construct_array(hold_ids, nholds, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	params[8] = PointerGetDatum(construct_array(hold_values, nholds, TEXTOID, -1, false, TYPALIGN_INT));
	params[9] = PointerGetDatum(construct_array(hold_starts, nholds, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	params[10] = BoolGetDatum(tenant);
	ai_spend_rows_close(spend_rows);
	run_plan(reserve_plans.insert, params, nulls, SPI_OK_INSERT_RETURNING);
	reservation = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(reservation);
}

/* One spend row a reservation holds, for taking it off in lock order. */
typedef struct Hold
{
	AiSpendKey	key;
	Numeric		amount;
} Hold;

static int
compare_holds(const void *a, const void *b)
{
	return ai_spend_key_cmp(&((const Hold *) a)->key, &((const Hold *) b)->key);
}

/* Add what one ended reservation held to holds[0..*nholds). */
static void
add_holds(Hold **holds, int *nholds, int *cap, const AiReservationHolds *held)
{
	Datum	   *ids;
	Datum	   *values;
	Datum	   *starts;
	bool	   *ids_nulls;
	bool	   *values_nulls;
	bool	   *starts_nulls;
	int			nids;
	int			nvalues;
	int			nstarts;

	deconstruct_array(held->budget_ids, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &ids, &ids_nulls, &nids);
	deconstruct_array(held->scope_values, TEXTOID, -1, false, TYPALIGN_INT,
					  &values, &values_nulls, &nvalues);
	deconstruct_array(held->period_starts, TIMESTAMPTZOID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &starts, &starts_nulls, &nstarts);
	if (nvalues != nids || nstarts != nids)
		elog(ERROR, "reservation's holds do not line up");
	for (int i = 0; i < nids; i++)
	{
		if (*nholds == *cap)
		{
			*cap *= 2;
			*holds = repalloc_huge(*holds, sizeof(Hold) * *cap);
		}
		(*holds)[*nholds].key.budget_id = DatumGetInt64(ids[i]);
		(*holds)[*nholds].key.scope_value = TextDatumGetCString(values[i]);
		(*holds)[*nholds].key.period_start = DatumGetTimestampTz(starts[i]);
		(*holds)[*nholds].amount = DatumGetNumericCopy(NumericGetDatum(held->amount));
		(*nholds)++;
	}
	pfree(ids);
	pfree(values);
	pfree(starts);
	pfree(ids_nulls);
	pfree(values_nulls);
	pfree(starts_nulls);
}

/* Lock the spend rows of holds[0..nholds), in the one lock order. */
static void
lock_held_rows(Oid schema, Hold *holds, int nholds)
{
	AiSpendRows *spend_rows = ai_spend_rows_open(schema);

	if (spend_rows == NULL)
		return;					/* (take_holds_off() goes through SQL, in order) */
	if (nholds > 1)
		qsort(holds, nholds, sizeof(Hold), compare_holds);
	for (int i = 0; i < nholds; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (i == 0 || compare_holds(&holds[i - 1], &holds[i]) != 0)
			(void) ai_spend_row_lock(spend_rows, &holds[i].key);
	}
	ai_spend_rows_close(spend_rows);
}

/*
 * Take holds[0..nholds) off their spend rows, one change per row, in the
 * one lock order.  SPI is connected, the plans prepared.
 */
static void
take_holds_off(Oid schema, Hold *holds, int nholds)
{
	AiSpendRows *spend_rows;

	if (nholds > 1)
		qsort(holds, nholds, sizeof(Hold), compare_holds);
	spend_rows = ai_spend_rows_open(schema);
	for (int i = 0; i < nholds;)
	{
		Datum		amount = NumericGetDatum(holds[i].amount);
		int			j = i + 1;

		CHECK_FOR_INTERRUPTS();
		for (; j < nholds && compare_holds(&holds[i], &holds[j]) == 0; j++)
			amount = DirectFunctionCall2(numeric_add, amount, NumericGetDatum(holds[j].amount));
		/* (a row gone with its budget changes nothing) */
		if (spend_rows != NULL)
		{
			AiSpendChange change = {0};

			change.reserved = DatumGetNumeric(DirectFunctionCall1(numeric_uminus, amount));
			(void) ai_spend_row_change(spend_rows, &holds[i].key, &change, NULL);
		}
		else
		{
			Datum		key[4];

			key[0] = Int64GetDatum(holds[i].key.budget_id);
			key[1] = CStringGetTextDatum(holds[i].key.scope_value);
			key[2] = TimestampTzGetDatum(holds[i].key.period_start);
			key[3] = amount;
			if (ai_budget_spi_execute(reserve_plans.unhold, key, NULL) != SPI_OK_UPDATE)
				elog(ERROR, "SPI_execute_snapshot failed");
		}
		i = j;
	}
	ai_spend_rows_close(spend_rows);
}

/*
 * End a reservation (settled or released): its row deleted, and with it
 * (the trigger ai_budget_reservation_ended) what it held taken off the
 * spend rows.  False when it was gone already, or is another user's and
 * the caller a tenant.
 */
static bool
end_reservation(Oid schema, bool has_id, Datum id)
{
	Datum		who;
	bool		has_who;
	bool		tenant;
	Datum		params[3];
	char		nulls[3] = {' ', ' ', ' '};
	Oid			budget_relid = get_relname_relid("ai_budget", schema);
	bool		found;
	AiReservationRows *reservations;
	Oid			install;

	tenant = caller_user(schema, false, (Datum) 0, &who, &has_who);
	if (!has_id)
		return false;
	/*
	 * Held in shared memory: ended when this transaction commits (looked
	 * for whatever the setting is now).  One another transaction in
	 * progress made is not this one's to end, nor another tenant's (or a
	 * non-tenant's) for a tenant, as the table's rows would be invisible.
	 */
	if (OidIsValid(install = ai_memory_install(schema, false)))
	{
		switch (ai_memory_end(install, DatumGetInt64(id), tenant, has_who ? DatumGetUUIDP(who) : NULL))
		{
			case AI_MEMORY_ENDING:
				return true;
			case AI_MEMORY_BUSY:
			case AI_MEMORY_NOT_YOURS:
				return false;
			case AI_MEMORY_UNKNOWN:
				break;
		}
	}
	/*
	 * ai_budget first, as recording and reserving take it: a transaction
	 * that releases, then records, must not hold spend rows while it waits
	 * behind a budget change (ai_budget_changed() locks ai_budget, then the
	 * spend rows).
	 */
	if (OidIsValid(budget_relid))
		LockRelationOid(budget_relid, AccessShareLock);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_reserve_plans(schema);
	/*
	 * Not a tenant: the row deleted without SQL (budget_rows.c), and its
	 * holds taken off here, as the trigger would.  A tenant's goes through
	 * SQL: its DELETE must not lock another user's reservation.
	 */
	if (!tenant && (reservations = ai_reservation_rows_open(schema)) != NULL)
	{
		AiReservationHolds held;

		/*
		 * The spend rows first, then the reservation: the order
		 * ai_budget_clear_expired() and a settle after recording (which
		 * counted into the rows) take them in, so that none of them
		 * deadlocks with this.  What it holds is read unlocked to know
		 * which rows; it cannot change meanwhile (only ai_budget_changed()
		 * changes holds, and it waits for the ACCESS SHARE lock above).
		 */
		found = ai_reservation_row_peek(reservations, DatumGetInt64(id), &held);
		if (found)
		{
			int			nholds = 0;
			int			cap = 8;
			Hold	   *holds = palloc(sizeof(Hold) * cap);

			add_holds(&holds, &nholds, &cap, &held);
			lock_held_rows(schema, holds, nholds);
			found = ai_reservation_row_delete(reservations, DatumGetInt64(id), &held);
			if (found)
			{
				/* (as the locked version says: the same holds) */
				nholds = 0;
				add_holds(&holds, &nholds, &cap, &held);
				take_holds_off(schema, holds, nholds);
			}
		}
		ai_reservation_rows_close(reservations);
		SPI_finish();
		return found;
	}
	params[0] = id;
	params[1] = BoolGetDatum(tenant);
	params[2] = who;
	nulls[2] = has_who ? ' ' : 'n';
	run_plan(reserve_plans.end, params, nulls, SPI_OK_DELETE_RETURNING);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

PG_FUNCTION_INFO_V1(ai_budget_reservation_ended_1_8);

/*
 * ai_budget_reservation_ended(): AFTER DELETE ... FOR EACH STATEMENT (OLD
 * TABLE) and AFTER TRUNCATE on ai_budget_reservation.  However reservations
 * go (settled, released, cleared when expired, or deleted by an admin, as
 * 1.7 let one), what they held is taken off their spend rows, in the one
 * lock order; a TRUNCATE leaves nothing held anywhere.
 */
Datum
ai_budget_reservation_ended_1_8(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			schema;
	TupleDesc	desc;
	TupleTableSlot *slot;
	AttrNumber	amount_att;
	AttrNumber	ids_att;
	AttrNumber	values_att;
	AttrNumber	starts_att;
	Hold	   *holds;
	int			nholds = 0;
	int			cap = 8;
	int			ptr;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "ai_budget_reservation_ended must be an AFTER ... FOR EACH STATEMENT trigger");
	aitrack_trigger_on_own_table(fcinfo, "ai_budget_reservation");
	schema = RelationGetNamespace(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		prepare_reserve_plans(schema);
		if (SPI_execute_plan(reserve_plans.unhold_all, NULL, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "SPI_execute_plan failed");
		SPI_finish();
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) || trigdata->tg_oldtable == NULL)
		elog(ERROR, "ai_budget_reservation_ended needs an OLD TABLE on DELETE");
	if (tuplestore_tuple_count(trigdata->tg_oldtable) == 0)
		return PointerGetDatum(NULL);

	desc = RelationGetDescr(trigdata->tg_relation);
	amount_att = SPI_fnumber(desc, "amount_usd");
	ids_att = SPI_fnumber(desc, "hold_budget_ids");
	values_att = SPI_fnumber(desc, "hold_scope_values");
	starts_att = SPI_fnumber(desc, "hold_period_starts");
	if (amount_att <= 0 || ids_att <= 0 || values_att <= 0 || starts_att <= 0)
		elog(ERROR, "ai_budget_reservation lacks its hold columns");

	holds = palloc(sizeof(Hold) * cap);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	ptr = tuplestore_alloc_read_pointer(trigdata->tg_oldtable, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(trigdata->tg_oldtable, ptr);
	tuplestore_rescan(trigdata->tg_oldtable);
	while (tuplestore_gettupleslot(trigdata->tg_oldtable, true, false, slot))
	{
		bool		isnull;
		AiReservationHolds held;

		CHECK_FOR_INTERRUPTS();
		held.amount = DatumGetNumeric(slot_getattr(slot, amount_att, &isnull));
		held.budget_ids = DatumGetArrayTypeP(slot_getattr(slot, ids_att, &isnull));
		held.scope_values = DatumGetArrayTypeP(slot_getattr(slot, values_att, &isnull));
		held.period_starts = DatumGetArrayTypeP(slot_getattr(slot, starts_att, &isnull));
		add_holds(&holds, &nholds, &cap, &held);
	}
	ExecDropSingleTupleTableSlot(slot);
	if (nholds == 0)
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	prepare_reserve_plans(schema);
	take_holds_off(schema, holds, nholds);
	SPI_finish();
	return PointerGetDatum(NULL);
}

PG_FUNCTION_INFO_V1(ai_budget_release_1_8);

/* ai_budget_release(reservation_id bigint) RETURNS boolean */
Datum
ai_budget_release_1_8(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(end_reservation(aitrack_function_schema(fcinfo),
								   !PG_ARGISNULL(0), PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0)));
}

PG_FUNCTION_INFO_V1(ai_budget_settle_1_8);

/*
 * ai_budget_settle(reservation_id bigint, call_id bigint) RETURNS boolean:
 * the call's real cost was counted when it was recorded; this ends the
 * reservation, once the call is there.
 */
Datum
ai_budget_settle_1_8(PG_FUNCTION_ARGS)
{
	Oid			schema = aitrack_function_schema(fcinfo);
	bool		found = false;

	if (!PG_ARGISNULL(1) && ai_call_recorded_here(schema, PG_GETARG_INT64(1)))
		found = true;
	else if (!PG_ARGISNULL(1))
	{
		Datum		id = PG_GETARG_DATUM(1);

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		prepare_reserve_plans(schema);
		run_plan(reserve_plans.call_exists, &id, NULL, SPI_OK_SELECT);
		found = SPI_processed > 0;
		SPI_finish();
	}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("no call with id %s", PG_ARGISNULL(1) ? "<NULL>" :
						psprintf(INT64_FORMAT, PG_GETARG_INT64(1))),
				 errhint("Settle with the id record_ai_call() returned, in the transaction that recorded it or after; without a call, use ai_budget_release().")));
	PG_RETURN_BOOL(end_reservation(schema, !PG_ARGISNULL(0), PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0)));
}
