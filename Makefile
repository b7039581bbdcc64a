# aitrack: build, install and test with PGXS.
#
#   make && make install        build and install into the pg_config found
#   make installcheck           regression, isolation and TAP tests against a
#                               running server (PGHOST/PGPORT); scripts/test.sh
#                               does all of it on a throwaway cluster

EXTENSION = aitrack
MODULE_big = aitrack
OBJS = \
	src/aitrack.o \
	src/call.o \
	src/validate.o \
	src/metrics.o \
	src/usage.o \
	src/price.o \
	src/price_rules.o \
	src/price_litellm.o \
	src/content.o \
	src/role_setting.o \
	src/tenant.o \
	src/tenant_citus.o \
	src/model.o \
	src/record.o \
	src/batch.o \
	src/hist.o \
	src/rollup.o \
	src/stats.o \
	src/guard.o \
	src/model_link.o \
	src/settings.o \
	src/upkeep.o \
	src/check_cache.o \
	src/budget_cache.o \
	src/budget_count.o \
	src/budget_reserve.o \
	src/budget_rows.o \
	src/budget_memory.o \
	src/distributed.o \
	src/reprice.o

# sql/aitrack--1.2.sql, a full install script for 1.2, is made by make from
# the frozen 1.0 script and the 1.0-to-1.1 and 1.1-to-1.2 update scripts,
# leaving out only 1.1-to-1.2's backfill of the rollups from calls already
# recorded: on a new install there are none, and the backfill's
# ai_rollup_compact() makes a temporary table, which Citus's two-phase
# commit refuses when it runs CREATE EXTENSION on its workers (issue 14).
# CREATE EXTENSION takes the shortest way to the version it installs, so
# from 1.2 on it starts here; the upgrade test checks that the result is
# the same as the 1.0 script and every update after it.
FULL_INSTALL = sql/aitrack--1.2.sql
FULL_INSTALL_PARTS = sql/aitrack--1.0.sql sql/aitrack--1.0--1.1.sql sql/aitrack--1.1--1.2.sql
DATA = $(filter-out $(FULL_INSTALL),$(wildcard sql/aitrack--*.sql)) $(wildcard aitrack--*.control)
DATA_built = $(FULL_INSTALL)

# Where things live: sql/ holds the extension scripts only; the tests are
# under test/ (test/sql regression inputs, test/specs isolation specs,
# test/t TAP tests, test/data their data files); expected/ holds the
# reviewed output of both pg_regress and isolationtester.
#
# One regression file per feature.
REGRESS = schema install_schema comments platform record record_metrics attribution validation cascade stats stats_attribution rollup_project otel privileges \
	usage_response prices reprice pricing_rules load_prices price_edges \
	batch retention rebuild rollup_random rollup_daily fast_paths \
	search_path planted_overloads upgrade \
	tenants budgets budgets_engine content_policy drop_guard hostile_input
REGRESS_OPTS = --load-extension=btree_gist
# The suites count pending rollup rows: no background folding in their
# sessions (src/upkeep.c), whatever the server's setting.  test/t/007_upkeep.pl
# turns it on for its own node.
export PGOPTIONS += -c aitrack.upkeep_interval=0

# SKIP_TESTS="a b": leave those regression tests out of this run.
REGRESS := $(filter-out $(SKIP_TESTS),$(REGRESS))

# Concurrency: isolationtester specs.
ISOLATION = model_create model_delete model_delete_rr rollup_concurrency fold_locks budget_reserve budget_cache
ISOLATION_OPTS = --load-extension=btree_gist

# Restarts, crashes, dump/restore and upgrades: TAP under test/t.
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CPPFLAGS = -I$(srcdir)/src
# -Wextra's unused-parameter fires inside PostgreSQL's own headers.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter

EXTRA_CLEAN = output_iso tmp_check $(REGRESS_BRIDGE) .built-for $(FULL_INSTALL).tmp

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# pg_regress and pg_isolation_regress read inputs from INPUTDIR/sql (or
# INPUTDIR/specs) and expected output from INPUTDIR/expected.  From 16 on
# pg_regress takes --expecteddir; 15's does not, and pg_isolation_regress
# (up to 18 at least) still reads INPUTDIR/expected, so those see the tests
# through a generated folder of links shaped like test/ with expected/
# beside it.  Tests read their data files as $PG_ABS_SRCDIR/data/..., which
# is test/data either way.
REGRESS_BRIDGE = .regress_inputs
ISOLATION_OPTS += --inputdir=$(REGRESS_BRIDGE)
ifeq ($(shell test $(MAJORVERSION) -ge 16 && echo new),new)
REGRESS_OPTS += --inputdir=test --expecteddir=.
else
REGRESS_OPTS += --inputdir=$(REGRESS_BRIDGE)
endif
installcheck check: $(REGRESS_BRIDGE)

$(REGRESS_BRIDGE):
	rm -rf $@ && mkdir $@
	ln -s ../test/sql ../test/specs ../test/data ../expected $@/

.PHONY: $(REGRESS_BRIDGE)

$(FULL_INSTALL): $(FULL_INSTALL_PARTS) scripts/full-install.sh
	bash scripts/full-install.sh $(FULL_INSTALL_PARTS) > $@.tmp && mv $@.tmp $@

# Every C file includes the shared header.
$(OBJS): src/aitrack.h src/ai_call_fields.h

# make dist: the PGXN archive, aitrack-<default_version>.zip, of the
# committed HEAD (paths marked export-ignore in .gitattributes stay out).
# META.json gives the same version as semver (1.3 -> 1.3.0).
EXTVERSION = $(shell sed -n "s/^default_version[[:space:]]*=[[:space:]]*'\([^']*\)'.*/\1/p" $(EXTENSION).control)

.PHONY: dist
dist:
	@grep -q '"version": *"$(EXTVERSION)\.0"' META.json || \
		{ echo "META.json's version is not $(EXTVERSION).0" >&2; exit 1; }
	git archive --format zip --prefix=$(EXTENSION)-$(EXTVERSION)/ --output $(EXTENSION)-$(EXTVERSION).zip HEAD
