#!/usr/bin/env bash
# bench/batch_memory.sh: what one record_ai_calls() (1.2) of a large array
# costs its backend in memory, and how fast a cancel or a statement_timeout
# stops it.  Targets: peak memory of 200k priced calls under 1 GB and
# growing no faster than the input; a cancel or timeout acting within 100
# ms at any moment of the call, with nothing written.  Skipped when
# record_ai_calls is not installed (1.1).
#
#   bash bench/batch_memory.sh        this part alone, on a cluster of its own
#   bash bench/run.sh batch_memory    the same through the entry point
#
# The calls: priced models of test/data/model_prices_sample.json (loaded
# with ai_load_prices), no cost_usd, so that every call is priced; half give
# their token counts, half leave them to the usage object of the response.
# Each array is made once, in a table, so that what is measured is the
# function and not the parsing of the jsonb text (measured apart, below).
#
# Memory: peak RssAnon (the backend's private memory; shared buffers are
# not in it) sampled every 10 ms from /proc/PID/status while the call runs,
# minus the same backend's RssAnon just before.  Cancel: another session
# runs pg_cancel_backend() at moments spread over the call, or the call
# runs under statement_timeout; the latency is from the cancel (or the
# timeout's expiry) to the moment the session can run its next statement,
# both read from the server's clock.  The phase is read from the error's
# CONTEXT.
#
# Settings (environment, besides those of bench/lib.sh):
#   BENCH_MEMORY_SIZES="50000 100000 200000"   array sizes measured (add
#                                     1000000 for the largest; it takes
#                                     minutes to build)
#   BENCH_CANCEL_SIZE=200000          the array the cancels interrupt
#   BENCH_CANCEL_POINTS="0.05 0.2 0.4 0.6 0.75 0.85 0.9 0.95 0.98"
#                                     when the cancels come, as fractions of
#                                     an uncancelled call's time

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BENCH_MEMORY_SIZES=${BENCH_MEMORY_SIZES:-"50000 100000 200000"}
BENCH_CANCEL_SIZE=${BENCH_CANCEL_SIZE:-200000}
BENCH_CANCEL_POINTS=${BENCH_CANCEL_POINTS:-"0.05 0.2 0.4 0.6 0.75 0.85 0.9 0.95 0.98"}

# mem_input_sql N: the element i of every array (its model priced, its
# cost computed from the price in force)
MEM_ELEMENT="jsonb_build_object(
        'modelname', (ARRAY['gpt-4o', 'gpt-4o-mini', 'claude-3-5-sonnet', 'gemini-1.5-pro'])[1 + i % 4],
        'version', (ARRAY['2024-08-06', 'latest', '20241022', '002'])[1 + i % 4],
        'prompt', 'message ' || i,
        'duration_ms', 200 + i % 5000,
        'call_type', 'chat')
    || CASE WHEN i % 2 = 0
            THEN jsonb_build_object('input_tokens', 100 + i % 900, 'output_tokens', 20 + i % 300,
                                    'response', jsonb_build_object('id', i))
            ELSE jsonb_build_object('response', jsonb_build_object('usage',
                     jsonb_build_object('prompt_tokens', 100 + i % 900,
                                        'completion_tokens', 20 + i % 300)))
       END"

# mem_counts: "calls models rollup rows", to check that nothing was written
mem_counts() {
    bval "SELECT (SELECT count(*) FROM ai_call) || ' ' || (SELECT count(*) FROM ai_model)
                 || ' ' || (SELECT count(*) FROM ai_usage_rollup)"
}

# mem_sample PIDFILE PSQLPID: waits for the backend's pid in PIDFILE (the
# session writes it, then sleeps 1 s), reads its RssAnon then, and the
# largest RssAnon until the session PSQLPID exits; sets MEM_BASE MEM_PEAK
# (kB).  Reads /proc with bash builtins only, to keep the sampler light.
MEM_BASE=0 MEM_PEAK=0
_rss_anon() {
    local k v _
    # the backend may have exited already (its client is still quitting)
    { while read -r k v _; do
          [[ $k == RssAnon: ]] && { echo "$v"; return; }
      done <"/proc/$1/status"; } 2>/dev/null
    echo 0
}
mem_sample() {
    local pidfile=$1 client=$2 pid='' v
    while :; do
        [[ -s $pidfile ]] && read -r pid <"$pidfile"
        [[ -z $pid ]] && kill -0 "$client" 2>/dev/null || break
        sleep 0.01
    done
    if [[ -z $pid ]]; then
        err "the measured session did not start"
        return 1
    fi
    sleep 0.5       # in the session's pg_sleep(1): the pid's output is written
    MEM_BASE=$(_rss_anon "$pid")
    MEM_PEAK=$MEM_BASE
    while kill -0 "$client" 2>/dev/null; do
        v=$(_rss_anon "$pid")
        (( v <= MEM_PEAK )) || MEM_PEAK=$v
        sleep 0.01
    done
}

# mem_script N [PRE]: the measured session: its pid, a second of quiet,
# PRE (e.g. SET statement_timeout), the start time, the call, the end time
mem_script() {
    cat <<SQL
\\o $WORK/mem.pid
SELECT pg_backend_pid();
\\o /dev/null
SELECT pg_sleep(1);
${2:-}
\\o $WORK/mem.start
SELECT 'start', extract(epoch FROM clock_timestamp());
\\o /dev/null
SELECT count(*) FROM record_ai_calls((SELECT calls FROM bench.mem_input WHERE n = $1));
\\o $WORK/mem.end
SELECT 'end', extract(epoch FROM clock_timestamp());
\\o
SQL
}

# mem_run N [PRE]: run the session of mem_script in the background and
# sample it; sets MEM_BASE MEM_PEAK, MEM_START MEM_END (epoch s) and MEM_ERR
# (its stderr, the error and its CONTEXT if it failed)
MEM_START='' MEM_END='' MEM_ERR=''
MEM_CLIENT=''
mem_launch() {
    rm -f "$WORK/mem.pid" "$WORK/mem.start" "$WORK/mem.end" "$WORK/mem.err"
    mem_script "$@" | write_file mem.sql >/dev/null
    as_pg psql -X -q -At -F ' ' -P pager=off -d "$DB" -f "$WORK/mem.sql" 2>"$WORK/mem.err" &
    MEM_CLIENT=$!
}
mem_finish() {
    mem_sample "$WORK/mem.pid" "$MEM_CLIENT"
    wait "$MEM_CLIENT" || true
    MEM_START=$(awk '$1 == "start" { print $2 }' "$WORK/mem.start")
    MEM_END=$(awk '$1 == "end" { print $2 }' "$WORK/mem.end")
    MEM_ERR=$(cat "$WORK/mem.err")
}

mb() { calc "$1 / 1024" %.0f; }

# phase_of ERR: where the error says the call was, from its CONTEXT
phase_of() {
    local e=$1 el
    el=$(sed -nE 's/.*element ([0-9]+) of the calls array.*/\1/p' <<<"$e" | head -n 1)
    if [[ $e == *"ai_usage_rollup"* ]]; then echo "rollup trigger"
    elif [[ $e == *"INSERT INTO"*"ai_call"* ]]; then echo "INSERT ... unnest()"
    elif [[ $e == *"ai_model_price"* ]]; then echo "price lookup, element $el"
    elif [[ $e == *"ai_model m"* || $e == *"INSERT INTO"*"ai_model "* ]]; then echo "model lookup, element $el"
    elif [[ -n $el ]]; then echo "element loop, element $el"
    elif [[ -z $e ]]; then echo "(not cancelled: finished first)"
    else echo "other"
    fi
}

bench_batch_memory() {
    section "batch_memory: one record_ai_calls() of a large array: peak memory, cancel and timeout"
    requires batch_memory record_ai_calls "record_ai_calls memory" || return 0

    local prices sizes n
    prices=$(write_file prices.json <test/data/model_prices_sample.json)
    sizes=$(tr ' ' '\n' <<<"$BENCH_MEMORY_SIZES $BENCH_CANCEL_SIZE" | sort -n -u | xargs)
    log "batch_memory: loading prices and building arrays of $sizes calls"
    bpsql -q -f - <<SQL
SET client_min_messages = warning;
SELECT count(*) FROM ai_load_prices(pg_read_file('$prices')::jsonb,
                                    valid_from => now() - interval '1 day');
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.mem_input;
CREATE TABLE bench.mem_input (n int PRIMARY KEY, calls jsonb);
SQL
    for n in $sizes; do
        bpsql -q -c "INSERT INTO bench.mem_input
                     SELECT $n, jsonb_agg($MEM_ELEMENT ORDER BY i) FROM generate_series(1, $n) AS i"
    done
    # The models exist beforehand, as in a ledger that is in use: the
    # figures are those of the calls, not of four new models.
    bpsql -q -c "SELECT count(*) FROM record_ai_calls((SELECT jsonb_agg($MEM_ELEMENT) FROM generate_series(1, 4) AS i))"

    sub "the call measured (each run: TRUNCATE the call tables, CHECKPOINT, wait for quiet, a new session)"
    mem_script N | indent
    echo "    an element: $(bval "SELECT calls -> 0 FROM bench.mem_input ORDER BY n LIMIT 1")"
    echo "    another:    $(bval "SELECT calls -> 1 FROM bench.mem_input ORDER BY n LIMIT 1")"

    sub "memory (RssAnon of the backend: peak during the call minus before it)"
    printf '  %9s %12s %12s %12s %10s %10s\n' calls "input MB" "peak MB" "peak/input" "seconds" "rows"
    local -A peak=() input=() secs=()
    local rows
    for n in $BENCH_MEMORY_SIZES; do
        log "batch_memory: $n calls"
        fresh_start
        mem_launch "$n"
        mem_finish
        if [[ -n $MEM_ERR ]]; then
            err "record_ai_calls of $n calls failed: $MEM_ERR"
            return 1
        fi
        rows=$(bval 'SELECT count(*) FROM ai_call')
        [[ $rows == "$n" ]] || { err "$n calls: ai_call has $rows rows"; return 1; }
        # the array as the function reads it: detoasted, uncompressed
        input[$n]=$(bval "SELECT pg_column_size(calls || '[]'::jsonb) FROM bench.mem_input WHERE n = $n")
        input[$n]=$(calc "${input[$n]} / 1048576" %.1f)
        peak[$n]=$(mb $(( MEM_PEAK - MEM_BASE )))
        secs[$n]=$(calc "$MEM_END - $MEM_START" %.2f)
        printf '  %9s %12s %12s %12s %10s %10s\n' "$n" "${input[$n]}" "${peak[$n]}" \
            "$(calc "${peak[$n]} / ${input[$n]}" %.1f)" "${secs[$n]}" "$rows"
    done

    # The jsonb text parsed from a client's literal, which happens before
    # the function runs (PostgreSQL's jsonb_in): the same sampler.
    sub "for comparison: parsing the $BENCH_CANCEL_SIZE-call array from text (jsonb_in, before the function is called)"
    bpsql -At -o "$WORK/mem_input.json" -c "SELECT calls FROM bench.mem_input WHERE n = $BENCH_CANCEL_SIZE"
    chown postgres:postgres "$WORK/mem_input.json"
    rm -f "$WORK/mem.pid"
    cat <<SQL | write_file mem_parse.sql >/dev/null
\\o $WORK/mem.pid
SELECT pg_backend_pid();
\\o /dev/null
SELECT pg_sleep(1);
SELECT pg_column_size(pg_read_file('$WORK/mem_input.json')::jsonb);
SQL
    as_pg psql -X -q -At -d "$DB" -f "$WORK/mem_parse.sql" &
    MEM_CLIENT=$!
    mem_sample "$WORK/mem.pid" "$MEM_CLIENT"
    wait "$MEM_CLIENT"
    echo "  pg_read_file(...)::jsonb of $(du -m "$WORK/mem_input.json" | cut -f1) MB of text: peak $(mb $(( MEM_PEAK - MEM_BASE ))) MB"

    # Cancels: at moments spread over an uncancelled call's time.
    local total=${secs[$BENCH_CANCEL_SIZE]:-}
    if [[ -z $total ]]; then
        fresh_start
        mem_launch "$BENCH_CANCEL_SIZE"
        mem_finish
        total=$(calc "$MEM_END - $MEM_START" %.2f)
    fi
    sub "cancel: pg_cancel_backend() from another session during a $BENCH_CANCEL_SIZE-call record_ai_calls() ($total s uncancelled)"
    printf '  %8s %10s %12s  %-34s %s\n' "at" "at s" "latency ms" "phase (from the error's CONTEXT)" "written (calls models rollups)"
    local p at before after lat worst=0 pid ts phase
    for p in $BENCH_CANCEL_POINTS; do
        at=$(calc "$total * $p" %.2f)
        fresh_start
        before=$(mem_counts)
        mem_launch "$BENCH_CANCEL_SIZE"
        while [[ ! -s $WORK/mem.start ]]; do sleep 0.005; done
        read -r pid <"$WORK/mem.pid"
        sleep "$at"
        ts=$(bval "SELECT extract(epoch FROM clock_timestamp()) || ' ' || pg_cancel_backend($pid)")
        mem_finish
        after=$(mem_counts)
        phase=$(phase_of "$MEM_ERR")
        if [[ $MEM_ERR == *"canceling statement due to user request"* ]]; then
            lat=$(calc "($MEM_END - ${ts%% *}) * 1000" %.0f)
            (( lat <= worst )) || worst=$lat
        else
            lat="-"
        fi
        printf '  %8s %10s %12s  %-34s %s\n' "$p" "$at" "$lat" "$phase" \
            "$( [[ $before == "$after" ]] && echo "nothing ($after)" || echo "WRITTEN: $before -> $after")"
        if [[ $before != "$after" && $lat != - ]]; then
            err "a cancelled call wrote rows: $before -> $after"
            return 1
        fi
    done
    local cancel_worst=$worst

    sub "statement_timeout during the same call"
    printf '  %8s %10s %12s  %-34s %s\n' "at" "timeout" "latency ms" "phase (from the error's CONTEXT)" "written (calls models rollups)"
    worst=0
    local ms
    for p in $BENCH_CANCEL_POINTS; do
        ms=$(calc "$total * $p * 1000" %.0f)
        fresh_start
        before=$(mem_counts)
        mem_launch "$BENCH_CANCEL_SIZE" "SET statement_timeout = $ms;"
        mem_finish
        after=$(mem_counts)
        phase=$(phase_of "$MEM_ERR")
        if [[ $MEM_ERR == *"canceling statement due to statement timeout"* ]]; then
            lat=$(calc "($MEM_END - $MEM_START) * 1000 - $ms" %.0f)
            (( lat <= worst )) || worst=$lat
        else
            lat="-"
        fi
        printf '  %8s %10s %12s  %-34s %s\n' "$p" "${ms} ms" "$lat" "$phase" \
            "$( [[ $before == "$after" ]] && echo "nothing ($after)" || echo "WRITTEN: $before -> $after")"
        if [[ $before != "$after" && $lat != - ]]; then
            err "a timed-out call wrote rows: $before -> $after"
            return 1
        fi
    done

    sub "ratios"
    ratio_line batch_memory "peak MB, $BENCH_CANCEL_SIZE calls" "${peak[$BENCH_CANCEL_SIZE]:-nan}" "<" 1024
    local first last
    first=$(tr ' ' '\n' <<<"$BENCH_MEMORY_SIZES" | head -n 1)
    last=$(tr ' ' '\n' <<<"$BENCH_MEMORY_SIZES" | tail -n 1)
    if [[ $first != "$last" ]]; then
        # growth of the peak over growth of the input, smallest to largest
        ratio_line batch_memory "peak growth / input growth, $first to $last" \
            "$(calc "(${peak[$last]} / ${peak[$first]}) / (${input[$last]} / ${input[$first]})")" "<=" 1.1
    fi
    ratio_line batch_memory "worst cancel latency ms" "$cancel_worst" "<=" 100
    ratio_line batch_memory "worst statement_timeout latency ms" "$worst" "<=" 100
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main batch_memory "$@"
