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
 * fast), and exits.
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
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "tcop/tcopprot.h"

PGDLLEXPORT void ai_upkeep_main(Datum main_arg);
static void upkeep_xact_callback(XactEvent event, void *arg);

/* Seconds between starts from one backend; 0: never. */
static int	upkeep_interval = 10;
static TimestampTz last_start = 0;

/* Folds of at least this many pending rows are followed by ANALYZE. */
#define ANALYZE_AFTER_ROWS 1000

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

/* The worker: one fold of this database's pending rollup rows, then exit. */
void
ai_upkeep_main(Datum main_arg)
{
	Oid			database = DatumGetObjectId(main_arg);
	Oid			owner;
	Oid			save_user;
	int			save_context;
	LOCKTAG		tag;
	int			rc;

	memcpy(&owner, MyBgworkerEntry->bgw_extra, sizeof(Oid));
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

	/* One at a time per database; another one is already folding. */
	upkeep_lock_tag(&tag, database);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		proc_exit(0);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	/* Inside the transaction: its start must see no security context. */
	GetUserIdAndSecContext(&save_user, &save_context);
	SetUserIdAndSecContext(owner, save_context | SECURITY_LOCAL_USERID_CHANGE);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "aitrack upkeep: ai_rollup_compact()");

	/* Where the extension lives (it may have been dropped meanwhile). */
	rc = SPI_execute("SELECT pg_catalog.quote_ident(n.nspname)"
					 " FROM pg_catalog.pg_extension e"
					 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
					 " WHERE e.extname OPERATOR(pg_catalog.=) 'aitrack'"
					 " AND EXISTS (SELECT FROM pg_catalog.pg_proc p"
					 " WHERE p.proname OPERATOR(pg_catalog.=) 'ai_rollup_compact'"
					 " AND p.pronamespace OPERATOR(pg_catalog.=) e.extnamespace)",
					 true, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
	{
		char	   *nsp = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		int64		folded = 0;
		bool		isnull;

		rc = SPI_execute(psprintf("SELECT %s.ai_rollup_compact()", nsp), false, 1);
		if (rc == SPI_OK_SELECT && SPI_processed == 1)
		{
			Datum		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			folded = isnull ? 0 : DatumGetInt64(value);
		}
		/*
		 * Fresh statistics after a large fold: without them the planner
		 * misjudges the rollups and the stats get ten times slower.
		 */
		if (folded >= ANALYZE_AFTER_ROWS)
		{
			pgstat_report_activity(STATE_RUNNING, "aitrack upkeep: ANALYZE the rollups");
			SPI_execute(psprintf("ANALYZE %s.ai_usage_rollup, %s.ai_usage_rollup_total", nsp, nsp),
						false, 0);
		}
		elog(DEBUG1, "aitrack upkeep: folded " INT64_FORMAT " pending rollup rows", folded);
	}

	SPI_finish();
	PopActiveSnapshot();
	SetUserIdAndSecContext(save_user, save_context);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	LockRelease(&tag, ExclusiveLock, true);
	proc_exit(0);
}
