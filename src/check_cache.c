/*
 * check_cache.c
 *		The CHECK constraints of ai_call, made ready to run once per backend
 *		for record_ai_call()'s insert, instead of once per statement.
 *
 * PostgreSQL prepares a table's CHECK constraints for every statement that
 * writes it (ExecRelCheck: stringToNode() of each constraint's stored tree,
 * expression_planner(), ExecInitExpr()), and keeps them only for that
 * statement.  ai_call has 19 of them, 23 kB of stored trees: for a one-row
 * INSERT, preparing them took a third of record_ai_call()'s time (perf,
 * PG 15), far more than evaluating them.
 *
 * record_ai_call() arms this file just before it runs its insert through
 * SPI; an ExecutorStart hook then finds that statement (the one whose
 * source text is the armed plan's), and hands its ai_call result relation
 * the constraints made from the trees read and planned earlier, exactly as
 * ExecRelCheck would have made them (same trees, same planner step, same
 * order, PG 18's not-enforced ones left NULL); only the reading and
 * planning are saved, the executor state is the statement's own, made in
 * its memory (steps keep state there).  ExecRelCheck sees them in place and
 * evaluates them as usual, with the statement's own per-tuple context; the
 * error, its constraint name and its detail are PostgreSQL's own.
 *
 * The planned trees are dropped when ai_call's relcache entry is
 * invalidated (ALTER TABLE ... ADD / DROP / VALIDATE CONSTRAINT, a new
 * column, DROP EXTENSION), any function or type changes (a constraint may
 * call one, and the planner step may have inlined or folded it) or the
 * search_path differs from the one they were planned under (an inlined SQL
 * function's body resolves its names by it), and rebuilt on next use.  They are used by one statement at a time: record.c arms the
 * hook only for the outermost record_ai_call(), never for one running
 * inside it (a constraint, a trigger or a default calling it), whose
 * statement then prepares its own as PostgreSQL does.  Every other
 * statement writing ai_call is left alone.
 */
#include "aitrack.h"

#include "catalog/namespace.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "optimizer/optimizer.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#if PG_VERSION_NUM >= 180000
#include "rewrite/rewriteHandler.h"
#endif

/* PG 18 renamed the field. */
#if PG_VERSION_NUM >= 180000
#define RRI_CHECK_EXPRS(rri) ((rri)->ri_CheckConstraintExprs)
#else
#define RRI_CHECK_EXPRS(rri) ((rri)->ri_ConstraintExprs)
#endif

static ExecutorStart_hook_type prev_executor_start = NULL;

/*
 * The prepared constraints, for one relation.  An invalidation only marks
 * them stale: it may arrive while a statement runs them (any lock taken
 * mid-statement reads the invalidation queue), so their memory is reset
 * only when they are rebuilt, at the start of the next armed statement,
 * when no statement uses them (see the header).
 */
static MemoryContext cache_cxt = NULL;
static bool cache_stale = false;
static Oid	cache_relid = InvalidOid;
static ConstrCheck *cache_source = NULL;	/* relcache array they came from */
static int	cache_ncheck = 0;
static Expr **cache_trees = NULL;	/* planned; NULL: not enforced (PG 18) */
static char *cache_search_path = NULL;	/* SQL functions were inlined under it */

/* Armed by ai_check_cache_arm(): the statement to look for. */
static const char *armed_source = NULL;
static Oid	armed_relid = InvalidOid;

void
check_cache_relcache_invalidated(Oid relid)
{
	if (relid == InvalidOid || relid == cache_relid)
		cache_stale = true;
}

static void
syscache_callback(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_stale = true;
}

/*
 * The planned trees, as ExecRelCheck makes them (execMain.c), in a context
 * of our own.  Only the trees: the executor state of each statement is made
 * from them in that statement's own memory (install()), as some steps keep
 * state there on their first run (a whole-row reference's tuple
 * descriptor, a row type conversion's map, a JSON coercion's cache).
 */
static void
cache_build(Relation rel)
{
	TupleConstr *constr = rel->rd_att->constr;
	int			ncheck = constr->num_check;
	ConstrCheck *check = constr->check;
	MemoryContext old;

	if (cache_cxt == NULL)
		cache_cxt = AllocSetContextCreate(TopMemoryContext, "aitrack check cache",
										  ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(cache_cxt);
	cache_relid = InvalidOid;
	cache_trees = NULL;
	cache_stale = false;
	old = MemoryContextSwitchTo(cache_cxt);
	cache_trees = palloc0(sizeof(Expr *) * ncheck);
	cache_search_path = pstrdup(namespace_search_path);
	for (int i = 0; i < ncheck; i++)
	{
		Expr	   *expr;

#if PG_VERSION_NUM >= 180000
		if (!check[i].ccenforced)
			continue;
#endif
		expr = stringToNode(check[i].ccbin);
#if PG_VERSION_NUM >= 180000
		expr = (Expr *) expand_generated_columns_in_expr((Node *) expr, rel, 1);
#endif
		cache_trees[i] = expression_planner(expr);
	}
	MemoryContextSwitchTo(old);
	cache_relid = RelationGetRelid(rel);
	cache_source = check;
	cache_ncheck = ncheck;
}

static void
install(EState *estate, ResultRelInfo *rri)
{
	Relation	rel = rri->ri_RelationDesc;
	TupleConstr *constr = rel->rd_att->constr;
	ExprState **exprs;
	MemoryContext old;

	if (RRI_CHECK_EXPRS(rri) != NULL || constr == NULL || constr->num_check == 0 ||
		constr->num_check != rel->rd_rel->relchecks)
		return;					/* ExecRelCheck's own way, and its errors */
	/*
	 * Again after an invalidation, and under another search_path: the
	 * planner step inlines SQL functions, whose bodies it parsed under it.
	 */
	if (cache_stale || cache_relid != RelationGetRelid(rel) ||
		cache_source != constr->check || cache_ncheck != constr->num_check ||
		strcmp(cache_search_path, namespace_search_path) != 0)
		cache_build(rel);
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	exprs = palloc0(sizeof(ExprState *) * cache_ncheck);
	for (int i = 0; i < cache_ncheck; i++)
		if (cache_trees[i] != NULL)
			exprs[i] = ExecInitExpr(cache_trees[i], NULL);
	MemoryContextSwitchTo(old);
	RRI_CHECK_EXPRS(rri) = exprs;
}

static void
check_cache_executor_start(QueryDesc *queryDesc, int eflags)
{
	const char *source = armed_source;
	Oid			relid = armed_relid;

	/* The armed statement is the first to start; disarm either way. */
	armed_source = NULL;
	armed_relid = InvalidOid;

	if (prev_executor_start)
		prev_executor_start(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (source != NULL && queryDesc->sourceText == source &&
		!(eflags & EXEC_FLAG_EXPLAIN_ONLY) &&
		queryDesc->planstate != NULL && IsA(queryDesc->planstate, ModifyTableState))
	{
		ModifyTableState *mt = (ModifyTableState *) queryDesc->planstate;

		for (int i = 0; i < mt->mt_nrels; i++)
			if (RelationGetRelid(mt->resultRelInfo[i].ri_RelationDesc) == relid)
				install(queryDesc->estate, &mt->resultRelInfo[i]);
	}
}

void
check_cache_init(void)
{
	prev_executor_start = ExecutorStart_hook;
	ExecutorStart_hook = check_cache_executor_start;
	CacheRegisterSyscacheCallback(PROCOID, syscache_callback, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, syscache_callback, (Datum) 0);
}

/*
 * The next statement to start is plan's, writing relid: give it the
 * prepared constraints.  The caller disarms with ai_check_cache_disarm()
 * after running it (also on error: an armed hook that did not fire must not
 * outlive the call).
 */
void
ai_check_cache_arm(SPIPlanPtr plan, Oid relid)
{
	List	   *sources = SPI_plan_get_plan_sources(plan);

	if (list_length(sources) != 1)
		return;
	armed_source = ((CachedPlanSource *) linitial(sources))->query_string;
	armed_relid = relid;
}

void
ai_check_cache_disarm(void)
{
	armed_source = NULL;
	armed_relid = InvalidOid;
}
