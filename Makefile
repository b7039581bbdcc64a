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
	src/validate.o \
	src/metrics.o \
	src/usage.o \
	src/price.o \
	src/hist.o \
	src/rollup.o \
	src/model_cache.o \
	src/batch.o \
	src/guard.o \
	src/record.o \
	src/stats.o

DATA = $(wildcard sql/aitrack--*.sql) $(wildcard aitrack--*.control)

# One regression file per feature; sql/ holds them next to the extension
# scripts (sql/aitrack--*.sql), expected/ their reviewed output.
REGRESS = schema install_schema record record_metrics validation cascade stats privileges \
	usage_response prices reprice \
	batch retention rollup_random \
	search_path upgrade \
	tenants content_policy drop_guard hostile_input
REGRESS_OPTS = --inputdir=. --load-extension=btree_gist

# Concurrency: isolationtester specs under test/specs.
ISOLATION = model_create model_delete rollup_concurrency
ISOLATION_OPTS = --inputdir=test --load-extension=btree_gist

# Restarts, crashes, dump/restore and upgrades: TAP under test/t.
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

PG_CPPFLAGS = -I$(srcdir)/src
# -Wextra's unused-parameter fires inside PostgreSQL's own headers.
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter

EXTRA_CLEAN = output_iso test/output_iso tmp_check

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Every C file includes the shared header.
$(OBJS): src/aitrack.h
