/*
 * upkeep.c
 *		Folding the rollups' pending rows without anyone scheduling it.
 *
 * The rollup trigger (rollup.c) appends pending rows; ai_rollup_compact()
 * folds them, and until 1.5 only when a user scheduled it.  Now, after a
 * statement appended pending rows, the backend starts (when its
 * transaction commits) a dynamic background worker for its database, at
 * most once per aitrack.upkeep_interval seconds and only when none is
 * running there.  The worker runs
 * ai_rollup_compact() as the extension's owner, ANALYZEs the rollup tables
 * after a large fold (their planner statistics are what keeps the stats
 * fast), (1.6) fills the daily level and (1.8) the project level after an
 * update, (1.7) clears away expired budget reservations, (1.8) folds once
 * more if pending rows came in meanwhile (their commits found it at work
 * and started none), and exits.
 *
 * Why this shape:
 *	- dynamic workers need no shared_preload_libraries (a stock server, a
 *	  managed platform);
 *	- one fold and exit: the worker never holds its database for long, so
 *	  DROP DATABASE (which waits 5 s for other sessions to leave) and
 *	  DROP EXTENSION go through, and a crash or restart leaves nothing to
 *	  clean up (the next statement starts another);
 *	- never two at once per database: the worker holds a session advisory
 *	  lock while it works, and a backend starts one only when it can take
 *	  that lock itself (it lets go at once); ai_rollup_compact() has its own
 *	  lock besides;
 *	- the hot path pays a flag per statement and a clock read per commit,
 *	  and a lock probe and a worker start once per interval per backend;
 *	- rows a backend commits within the interval of its last start wait for
 *	  its next commit (or another backend's): the stats are exact either
 *	  way, folding only keeps them fast.
 *
 * Settings: aitrack.upkeep_interval (seconds, 0 turns it off).  Anyone may
 * set it: it only decides when this session asks for a fold, and a fold
 * (ai_rollup_compact(), as the owner) changes no number the stats give.  What the worker did is logged
 * at DEBUG1 and shown in pg_stat_activity while it runs (backend_type
 * "aitrack upkeep").
 */
#include "aitrack.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "tcop/tcopprot.h"

PGDLLEXPORT void ai_upkeep_main(Datum main_arg);
static void upkeep_xact_callback(XactEvent event, void *arg);

/* Seconds between starts from one backend; 0: never. */
static int	upkeep_interval = 10;
static TimestampTz last_start = 0;

/*
 * Folds of at least this many pending rows, and of at least a tenth of the
 * folded rows already there (as autovacuum's analyze threshold has it), are
 * followed by ANALYZE: a steady stream of calls folded every few seconds
 * does not pay for one each time.
 */
#define ANALYZE_AFTER_ROWS 1000
#define ANALYZE_AFTER_FRACTION 0.1

/* The advisory lock a working worker holds: (database, this key). */
#define UPKEEP_LOCK_KEY 0x61697472	/* "aitr" */

/*
 * An advisory lock tag that no SQL function can name (pg_advisory_lock()
 * and its kin use field 4 = 1 or 2): no session can hold it to keep the
 * upkeep from starting.
 */
static void
upkeep_lock_tag(LOCKTAG *tag, Oid database)
{
	SET_LOCKTAG_ADVISORY(*tag, database, UPKEEP_LOCK_KEY, 0, 3);
}

void
upkeep_init(void)
{
	DefineCustomIntVariable("aitrack.upkeep_interval",
							"Seconds between background folds of the rollups' pending rows started by one session; 0 turns them off.",
							"A short-lived background worker runs ai_rollup_compact() as the extension's owner.",
							&upkeep_interval,
							10, 0, 86400,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	RegisterXactCallback(upkeep_xact_callback, NULL);
}

/*
 * After a statement appended pending rows: ask for a worker once this
 * transaction commits (before, it would find nothing to fold).  owner: the
 * role to fold as (the rollup trigger runs as the extension's owner).
 */
static Oid	kick_owner = InvalidOid;

/* True in the upkeep worker itself, whose own writes start nothing. */
static bool in_upkeep_worker = false;

void
ai_upkeep_kick(Oid owner)
{
	/* Other background workers' writes (pg_cron's, a subscription's) count. */
	if (upkeep_interval <= 0 || in_upkeep_worker)
		return;
	kick_owner = owner;
}

/*
 * At commit: start a worker if it is time and none is running.  Never an
 * error (this runs after the commit): folding is an optimisation, the stats
 * are exact without it.
 */
static void
start_worker(Oid owner)
{
	TimestampTz now = GetCurrentTimestamp();
	LOCKTAG		tag;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	if (last_start != 0 &&
		!TimestampDifferenceExceeds(last_start, now, upkeep_interval * 1000))
		return;

	/* A worker at work holds the lock: then there is nothing to start. */
	upkeep_lock_tag(&tag, MyDatabaseId);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		return;
	LockRelease(&tag, ExclusiveLock, true);
	last_start = now;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "aitrack");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "ai_upkeep_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "aitrack upkeep of database %u", MyDatabaseId);
	snprintf(worker.bgw_type, BGW_MAXLEN, "aitrack upkeep");
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	memcpy(worker.bgw_extra, &owner, sizeof(Oid));
	worker.bgw_notify_pid = 0;
	/* No free slot (max_worker_processes): a later commit tries again. */
	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		elog(DEBUG1, "aitrack upkeep: no background worker slot free");
}

static void
upkeep_xact_callback(XactEvent event, void *arg)
{
	Oid			owner = kick_owner;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	kick_owner = InvalidOid;
	if (event == XACT_EVENT_COMMIT && OidIsValid(owner))
		start_worker(owner);
}

/*
 * The worker's steps, each in a transaction of its own, as the extension's
 * owner, with SPI connected and a snapshot set; a step returns a count.
 */
typedef int64 (*UpkeepStep) (const char *nsp, void *arg);

static Oid	upkeep_owner = InvalidOid;

static int64 record_error(const char *nsp, void *message);

/* The first column of a one-row SPI result as int8 (0 when NULL). */
static int64
first_int8(int rc)
{
	bool		isnull;
	Datum		value;

	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "aitrack upkeep: query returned no row");
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return 0;
	return SPI_gettypeid(SPI_tuptable->tupdesc, 1) == INT4OID ?
		(int64) DatumGetInt32(value) : DatumGetInt64(value);
}

/*
 * Run one step.  An error is logged, kept in ai_upkeep_state.last_error
 * (1.6) and ends the run: returns false.
 */
static bool
run_step(const char *activity, UpkeepStep step, const char *nsp, void *arg, int64 *result)
{
	MemoryContext caller_context = CurrentMemoryContext;
	Oid			save_user;
	int			save_context;
	volatile bool ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		/* Inside the transaction: its start must see no security context. */
		GetUserIdAndSecContext(&save_user, &save_context);
		SetUserIdAndSecContext(upkeep_owner, save_context | SECURITY_LOCAL_USERID_CHANGE);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, activity);
		*result = step(nsp, arg);
		SPI_finish();
		PopActiveSnapshot();
		SetUserIdAndSecContext(save_user, save_context);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *error;

		MemoryContextSwitchTo(caller_context);
		error = CopyErrorData();
		FlushErrorState();
		/* Also undoes SPI, the snapshot and the change of user. */
		AbortCurrentTransaction();
		ereport(LOG,
				(errmsg("aitrack upkeep failed: %s", error->message)));
		ok = false;
		*result = 0;
		if (nsp != NULL && step != record_error)
		{
			int64		ignored;

			run_step("aitrack upkeep: note the error", record_error, nsp, error->message, &ignored);
		}
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}

/* Days ai_rollup_backfill_daily() and ai_rollup_backfill_project() fill per transaction. */
#define BACKFILL_DAYS 7

static bool has_project_level(const char *nsp);
static bool has_project_daily_level(const char *nsp);

/*
 * Where the extension lives (it may have been dropped meanwhile): its
 * schema, quoted, into *(char **) arg, and whether it is 1.6 or later (has
 * ai_upkeep_state) as the result: -1 no extension, 0 before 1.6, 1 from it.
 */
static int64
find_extension(const char *nsp, void *arg)
{
	int			rc;
	char	   *found;
	bool		isnull;

	rc = SPI_execute("SELECT pg_catalog.quote_ident(n.nspname),"
					 " pg_catalog.to_regclass(pg_catalog.quote_ident(n.nspname)"
					 " OPERATOR(pg_catalog.||) '.ai_upkeep_state') IS NOT NULL"
					 " FROM pg_catalog.pg_extension e"
					 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
					 " WHERE e.extname OPERATOR(pg_catalog.=) 'aitrack'"
					 " AND EXISTS (SELECT FROM pg_catalog.pg_proc p"
					 " WHERE p.proname OPERATOR(pg_catalog.=) 'ai_rollup_compact'"
					 " AND p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace)",
					 true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		return -1;
	found = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	*(char **) arg = MemoryContextStrdup(TopMemoryContext, found);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) ? 1 : 0;
}

/*
 * 1.7: clear away the budget reservations that expired (they already count
 * for nothing; this only keeps the table small).  Nothing before 1.7.
 */
static int64
clear_reservations(const char *nsp, void *arg)
{
	char	   *proc = psprintf("%s.ai_budget_clear_expired()", nsp);
	Datum		argv[1] = {CStringGetTextDatum(proc)};
	Oid			argtypes[1] = {TEXTOID};
	bool		isnull;

	if (SPI_execute_with_args("SELECT pg_catalog.to_regprocedure($1) IS NOT NULL",
							  1, argtypes, argv, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1 ||
		!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return 0;
	return first_int8(SPI_execute(psprintf("SELECT %s", proc), false, 1));
}

/* Is this 1.6 or later (the state table, the daily level)? */
static bool has_state = false;

/*
 * The fold: ai_rollup_compact(), then ANALYZE after a large one (without
 * fresh statistics the planner misjudges the rollups and the stats get ten
 * times slower), then (1.6) the run noted in ai_upkeep_state.
 */
static int64
fold(const char *nsp, void *arg)
{
	TimestampTz started = GetCurrentTimestamp();
	int64		folded = first_int8(SPI_execute(psprintf("SELECT %s.ai_rollup_compact()", nsp), false, 1));
	bool		analyzed = false;

	if (folded >= ANALYZE_AFTER_ROWS)
	{
		/* pg_class.reltuples: -1 (PostgreSQL 14 on) before any ANALYZE. */
		Oid			type = TEXTOID;
		Datum		table = CStringGetTextDatum(psprintf("%s.ai_usage_rollup", nsp));
		double		known;

		known = (double) first_int8(SPI_execute_with_args(
			"SELECT GREATEST(c.reltuples, 0)::pg_catalog.int8 FROM pg_catalog.pg_class c"
			" WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass($1)",
			1, &type, &table, NULL, true, 1));
		analyzed = (double) folded >= ANALYZE_AFTER_FRACTION * known;
	}

	if (analyzed)
	{
		pgstat_report_activity(STATE_RUNNING, "aitrack upkeep: ANALYZE the rollups");
		SPI_execute(psprintf("ANALYZE %s.ai_usage_rollup, %s.ai_usage_rollup_total%s%s%s",
							 nsp, nsp, has_state ? ", " : "",
							 has_state ? psprintf("%s.ai_usage_rollup_daily", nsp) : "",
							 has_project_level(nsp) ?
							 psprintf(", %s.ai_usage_rollup_project%s", nsp,
									  has_project_daily_level(nsp) ?
									  psprintf(", %s.ai_usage_rollup_project_daily", nsp) : "") : ""),
					false, 0);
	}
	if (has_state)
	{
		Oid			types[3] = {TIMESTAMPTZOID, INT8OID, BOOLOID};
		Datum		values[3] = {TimestampTzGetDatum(started), Int64GetDatum(folded), BoolGetDatum(analyzed)};

		if (SPI_execute_with_args(psprintf("UPDATE %s.ai_upkeep_state"
										   " SET runs = runs OPERATOR(pg_catalog.+) 1,"
										   " last_run_started = $1,"
										   " last_run_finished = pg_catalog.clock_timestamp(),"
										   " last_run_folded = $2,"
										   " folded_total = folded_total OPERATOR(pg_catalog.+) $2,"
										   " last_analyzed = CASE WHEN $3 THEN pg_catalog.clock_timestamp()"
										   " ELSE last_analyzed END,"
										   " last_error = NULL, last_error_at = NULL", nsp),
								  3, types, values, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "aitrack upkeep: could not note the run");
	}
	elog(DEBUG1, "aitrack upkeep: folded " INT64_FORMAT " pending rollup rows", folded);
	return folded;
}

/* Are there pending rollup rows to fold?  (1 or 0, by the pending index) */
static int64
pending_rows_left(const char *nsp, void *arg)
{
	return first_int8(SPI_execute(psprintf("SELECT EXISTS (SELECT FROM %s.ai_usage_rollup r"
										   " WHERE r.pending)::pg_catalog.int4", nsp), true, 1));
}

/* One step of filling the daily level (after an update to 1.6): days filled. */
static int64
backfill_daily(const char *nsp, void *arg)
{
	return first_int8(SPI_execute(psprintf("SELECT %s.ai_rollup_backfill_daily(%d::pg_catalog.int4)",
										   nsp, BACKFILL_DAYS), false, 1));
}

static int64
analyze_daily(const char *nsp, void *arg)
{
	SPI_execute(psprintf("ANALYZE %s.ai_usage_rollup_daily", nsp), false, 0);
	return 0;
}

/* 1.8: has the extension the project level (its backfill function)? */
static bool
has_project_level(const char *nsp)
{
	Datum		argv[1] = {CStringGetTextDatum(psprintf("%s.ai_rollup_backfill_project(integer)", nsp))};
	Oid			argtypes[1] = {TEXTOID};
	bool		isnull;

	return SPI_execute_with_args("SELECT pg_catalog.to_regprocedure($1) IS NOT NULL",
								 1, argtypes, argv, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* 1.8: has the extension the daily project level (its table)? */
static bool
has_project_daily_level(const char *nsp)
{
	Datum		argv[1] = {CStringGetTextDatum(psprintf("%s.ai_usage_rollup_project_daily", nsp))};
	Oid			argtypes[1] = {TEXTOID};
	bool		isnull;

	return SPI_execute_with_args("SELECT pg_catalog.to_regclass($1) IS NOT NULL",
								 1, argtypes, argv, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * 1.8: one step of bringing the calls of before the update into the
 * project level: days recounted (0 when done, or before 1.8).
 */
static int64
backfill_project(const char *nsp, void *arg)
{
	if (!has_project_level(nsp))
		return 0;
	return first_int8(SPI_execute(psprintf("SELECT %s.ai_rollup_backfill_project(%d::pg_catalog.int4)",
										   nsp, BACKFILL_DAYS), false, 1));
}

static int64
analyze_project(const char *nsp, void *arg)
{
	SPI_execute(psprintf("ANALYZE %s.ai_usage_rollup_project%s", nsp,
						 has_project_daily_level(nsp) ?
						 psprintf(", %s.ai_usage_rollup_project_daily", nsp) : ""), false, 0);
	return 0;
}

/* The last error, kept where ai_upkeep_status shows it. */
static int64
record_error(const char *nsp, void *message)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum((char *) message)};

	if (!has_state)
		return 0;
	SPI_execute_with_args(psprintf("UPDATE %s.ai_upkeep_state SET last_error = $1,"
								   " last_error_at = pg_catalog.clock_timestamp()", nsp),
						  1, types, values, NULL, false, 0);
	return 0;
}

/*
 * The worker: one fold of this database's pending rollup rows, then (1.6)
 * the daily level filled a week per transaction while days are missing,
 * then exit.
 */
void
ai_upkeep_main(Datum main_arg)
{
	Oid			database = DatumGetObjectId(main_arg);
	LOCKTAG		tag;
	char	   *nsp = NULL;
	int64		result;
	int64		days = 0;
	bool		folded;

	memcpy(&upkeep_owner, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	in_upkeep_worker = true;
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/*
	 * Connect as the bootstrap superuser, past the checks a login meets (the
	 * owner may not be allowed to log in or to connect to the database, and
	 * the database may not take connections), then work as the owner, as a
	 * SECURITY DEFINER function would.
	 */
	BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, BGWORKER_BYPASS_ALLOWCONN);

	/*
	 * What a database or role setting must not change for the fold, as
	 * autovacuum has it: no statement timeout (a large fold takes a while;
	 * the steps give way to DROP DATABASE between them), a lock timeout of
	 * its own (only the owner and aitrack_admin can lock ai_upkeep_state,
	 * but an open transaction of theirs must not hold a worker slot and the
	 * xmin horizon for good: the step fails, says so, and the next run goes
	 * on), and READ
	 * COMMITTED (each statement of a fold must see what the fold before it
	 * committed; ai_rollup_compact() refuses to run in a older snapshot).
	 */
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);

	/* One at a time per database; another one is already at work. */
	upkeep_lock_tag(&tag, database);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		proc_exit(0);

	if (!run_step("aitrack upkeep: find the extension", find_extension, NULL, &nsp, &result) ||
		result < 0)
		proc_exit(0);
	has_state = result > 0;

	folded = run_step("aitrack upkeep: ai_rollup_compact()", fold, nsp, NULL, &result);
	if (folded && has_state)
	{
		/*
		 * A transaction per week of days, so that recording, the stats and
		 * DROP DATABASE never wait long on it; SIGTERM ends it between (and
		 * within) steps, and the next worker goes on from where it stopped.
		 */
		while (run_step("aitrack upkeep: ai_rollup_backfill_daily()", backfill_daily, nsp, NULL, &result) &&
			   result > 0)
		{
			days += result;
			CHECK_FOR_INTERRUPTS();
		}
		if (days > 0)
			run_step("aitrack upkeep: ANALYZE the daily level", analyze_daily, nsp, NULL, &result);
		/* 1.8: the same for the project level, a week per transaction. */
		days = 0;
		while (run_step("aitrack upkeep: ai_rollup_backfill_project()", backfill_project, nsp, NULL, &result) &&
			   result > 0)
		{
			days += result;
			CHECK_FOR_INTERRUPTS();
		}
		if (days > 0)
			run_step("aitrack upkeep: ANALYZE the project level", analyze_project, nsp, NULL, &result);
	}

	run_step("aitrack upkeep: ai_budget_clear_expired()", clear_reservations, nsp, NULL, &result);

	/*
	 * The commits made since the fold (during a backfill, say) started no
	 * worker: they found this one at work.  Fold what they appended now
	 * rather than at the next commit, which may not come soon.  (Not after
	 * a fold that failed: it would fail again.)
	 */
	if (folded && run_step("aitrack upkeep: look for pending rows", pending_rows_left, nsp, NULL, &result) &&
		result > 0)
		run_step("aitrack upkeep: ai_rollup_compact()", fold, nsp, NULL, &result);

	LockRelease(&tag, ExclusiveLock, true);
	proc_exit(0);
}
