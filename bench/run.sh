#!/usr/bin/env bash
# bench/run.sh: performance of aitrack as installed on this machine, as
# ratios measured in one run on one throwaway cluster, as root.  The entry
# point: it runs the parts named, each in its own file over bench/lib.sh,
# and ends with a summary of every ratio.
#
#   bash bench/run.sh                 ingest, stats and batch
#   bash bench/run.sh ingest          pgbench: record_ai_call() against a plain
#                                     INSERT, a PL/pgSQL get-or-create function
#                                     and the client-side 4-statement pattern;
#                                     and record_ai_call() with the user
#                                     triggers of ai_call (the rollups of 1.2)
#                                     enabled and disabled (bench/ingest.sh)
#   bash bench/run.sh stats           ai_usage_stats() against the same
#                                     aggregates written by hand, at 1M and
#                                     10M calls over 90 days (bench/stats.sh)
#   bash bench/run.sh batch           record_ai_calls() (1.2) against COPY;
#                                     skipped when it is not installed
#                                     (bench/batch.sh)
#   bash bench/run.sh batch_memory    one record_ai_calls() of 50k to 200k
#                                     priced calls: peak backend memory, and
#                                     how fast pg_cancel_backend() and
#                                     statement_timeout stop it, nothing
#                                     written (bench/batch_memory.sh); run
#                                     only when named
#   bash bench/run.sh retention       record_ai_call() latency while
#                                     ai_purge_calls() (1.3) deletes a third of
#                                     10M calls (bench/retention.sh); long, so
#                                     run only when named
#   bash bench/run.sh upgrade         ALTER EXTENSION aitrack UPDATE from 1.3
#                                     on 1M calls while clients record: the
#                                     longest stall, the worst latency against
#                                     the seconds before, failed calls
#                                     (bench/upgrade.sh); run only when named
#   bash bench/run.sh load_prices     ai_load_prices() (1.5) on LiteLLM's
#                                     whole price file: first load, again,
#                                     every rate changed, against one INSERT
#                                     of the base rates (bench/load_prices.sh);
#                                     run only when named
#   bash bench/run.sh upkeep          (1.6) record_ai_call() with the upkeep
#                                     worker at its default interval against
#                                     off, and a 2M-call backfill folded by the
#                                     worker: time to fold, stats after it
#                                     against compacted by hand
#                                     (bench/upkeep.sh); run only when named
#   bash bench/run.sh budgets         (1.7) record_ai_call() with spend
#                                     control: reserve + record + settle
#                                     against record alone, per-user and
#                                     global budgets (bench/budgets.sh); run
#                                     only when named
#   bash bench/run.sh ingest batch    any several of them (they run in the
#                                     order ingest, stats, batch,
#                                     batch_memory, retention, upgrade,
#                                     load_prices, upkeep, budgets);
#                                     `all` stands for ingest stats batch
#
# Each part also runs on its own, on a cluster of its own, with the same
# settings and summary: bash bench/stats.sh.  Each prints the exact commands
# and SQL it ran, a table of absolute figures, and its ratios next to their
# targets.  The settings (environment variables) follow.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for part in "${BENCH_PARTS[@]}"; do
    # shellcheck source=/dev/null
    source "$BENCH_DIR/$part.sh"
done

main() {
    local -a want=()
    local arg part
    for arg in "$@"; do
        case $arg in
            -h|--help) usage; exit 0 ;;
            all) want+=("${BENCH_DEFAULT_PARTS[@]}") ;;
            ingest|stats|batch|batch_memory|retention|upgrade|load_prices|upkeep) want+=("$arg") ;;
            *) err "unknown part '$arg' (ingest, stats, batch, batch_memory, retention, upgrade, load_prices, upkeep or all)"
               usage >&2
               exit 2 ;;
        esac
    done
    (( ${#want[@]} )) || want=("${BENCH_DEFAULT_PARTS[@]}")
    # in the documented order, each once
    local -a todo=()
    for part in "${BENCH_PARTS[@]}"; do
        [[ " ${want[*]} " == *" $part "* ]] && todo+=("$part")
    done
    bench_run "${todo[@]}"
}

main "$@"
