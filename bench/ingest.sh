#!/usr/bin/env bash
# bench/ingest.sh: the cost of recording one call.  pgbench, BENCH_CLIENTS
# clients, -M prepared, BENCH_DURATION s per run, each run from an empty
# ai_call, each variant BENCH_ROUNDS times, interleaved, mean tps.  Every
# variant writes the same call:
#   a  a plain INSERT with the model id known (the floor)
#   b  record_ai_call()
#   c  a PL/pgSQL get-or-create-then-insert function (what a user would write)
#   d  the client-side pattern: BEGIN; SELECT the model; INSERT ... ON
#      CONFLICT DO NOTHING; SELECT it again; INSERT the call; END
# then a and b with the user triggers of ai_call (the rollups of 1.2)
# disabled and b with them enabled.  Targets (1.6): b / a without triggers
# >= 0.95, b faster than c and d, rollups on/off >= 0.9.
#
#   bash bench/ingest.sh              this part alone, on a cluster of its own
#   bash bench/run.sh ingest          the same through the entry point
# The settings are those of bench/lib.sh (bash bench/ingest.sh --help).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The row every variant writes, and the columns it fills.
PROMPT="Translate the following customer message into French, keeping the tone polite and the product names unchanged. Message - Hello, my order 4711 arrived damaged, could you send a replacement before Friday? Thanks, Anna"
RESPONSE='{"id": "chatcmpl-bench", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Bonjour, ma commande 4711 est arrivee endommagee."}}]}'
USER_EXPR="('00000000-0000-4000-8000-' || lpad(:u, 12, '0'))::uuid"
CALL_COLS="model_id, prompt, response, input_tokens, reasoning_tokens, output_tokens, cost_usd, duration_ms, call_type, status, user_id, cost_source"

write_ingest_scripts() {
    write_file ingest_a_insert.sql >/dev/null <<EOF
\\set u random(1, 100)
INSERT INTO ai_call ($CALL_COLS)
VALUES (:model_id, '$PROMPT',
        '$RESPONSE'::jsonb,
        120, 0, 45, 0.00075, 412, 'translation', 'success',
        $USER_EXPR, 'provided')
RETURNING id;
EOF
    write_file ingest_b_record_ai_call.sql >/dev/null <<EOF
\\set u random(1, 100)
SELECT record_ai_call('gpt-4o', '2024-08-06',
    '$PROMPT',
    '$RESPONSE'::jsonb,
    input_tokens => 120, reasoning_tokens => 0, output_tokens => 45,
    cost_usd => 0.00075, duration_ms => 412, call_type => 'translation',
    status => 'success', user_id => $USER_EXPR);
EOF
    write_file ingest_c_plpgsql.sql >/dev/null <<EOF
\\set u random(1, 100)
SELECT bench.record_call('gpt-4o', '2024-08-06',
    '$PROMPT',
    '$RESPONSE'::jsonb,
    120, 0, 45, 0.00075, 412, 'translation', 'success', $USER_EXPR);
EOF
    write_file ingest_d_client.sql >/dev/null <<EOF
\\set u random(1, 100)
BEGIN;
SELECT id FROM ai_model WHERE modelname = 'gpt-4o' AND version = '2024-08-06';
INSERT INTO ai_model (modelname, version) VALUES ('gpt-4o', '2024-08-06')
    ON CONFLICT (modelname, version) DO NOTHING;
SELECT id AS d_model_id FROM ai_model WHERE modelname = 'gpt-4o' AND version = '2024-08-06' \\gset
INSERT INTO ai_call ($CALL_COLS)
VALUES (:d_model_id, '$PROMPT',
        '$RESPONSE'::jsonb,
        120, 0, 45, 0.00075, 412, 'translation', 'success',
        $USER_EXPR, 'provided')
RETURNING id;
END;
EOF
    # c: the get-or-create function a user would write.
    write_file ingest_c_function.sql >/dev/null <<'EOF'
CREATE SCHEMA bench;
CREATE FUNCTION bench.record_call(
    p_modelname text, p_version text, p_prompt text, p_response jsonb,
    p_input_tokens int, p_reasoning_tokens int, p_output_tokens int,
    p_cost_usd numeric, p_duration_ms int, p_call_type text, p_status text,
    p_user_id uuid)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    v_model_id bigint;
    v_call_id  bigint;
BEGIN
    SELECT id INTO v_model_id FROM public.ai_model
     WHERE modelname = p_modelname AND version = p_version;
    IF NOT FOUND THEN
        INSERT INTO public.ai_model (modelname, version)
        VALUES (p_modelname, p_version)
        ON CONFLICT (modelname, version) DO NOTHING
        RETURNING id INTO v_model_id;
        IF v_model_id IS NULL THEN      -- another session created it first
            SELECT id INTO v_model_id FROM public.ai_model
             WHERE modelname = p_modelname AND version = p_version;
        END IF;
    END IF;
    INSERT INTO public.ai_call (model_id, prompt, response, input_tokens,
                                reasoning_tokens, output_tokens, cost_usd,
                                duration_ms, call_type, status, user_id,
                                cost_source)
    VALUES (v_model_id, p_prompt, p_response, p_input_tokens,
            p_reasoning_tokens, p_output_tokens, p_cost_usd, p_duration_ms,
            p_call_type, p_status, p_user_id,
            CASE WHEN p_cost_usd IS NULL THEN 'unknown' ELSE 'provided' END)
    RETURNING id INTO v_call_id;
    RETURN v_call_id;
END;
$$;
EOF
}

bench_ingest() {
    local name round
    section "ingest: pgbench, $BENCH_CLIENTS clients, -j $BENCH_JOBS, ${BENCH_DURATION}s per run, -M prepared"
    write_ingest_scripts
    bpsql -f "$WORK/ingest_c_function.sql"
    bpsql -c "INSERT INTO ai_model (modelname, version) VALUES ('gpt-4o', '2024-08-06')
              ON CONFLICT (modelname, version) DO NOTHING"
    local model_id
    model_id=$(bval "SELECT id FROM ai_model WHERE modelname = 'gpt-4o' AND version = '2024-08-06'")
    PGBENCH_ARGS=(-n -c "$BENCH_CLIENTS" -j "$BENCH_JOBS" -T "$BENCH_DURATION" -M prepared
                  -D "model_id=$model_id")

    local -A script=(
        [a]=$WORK/ingest_a_insert.sql
        [b]=$WORK/ingest_b_record_ai_call.sql
        [c]=$WORK/ingest_c_plpgsql.sql
        [d]=$WORK/ingest_d_client.sql)
    local -A label=(
        [a]="a  plain INSERT, model_id known"
        [b]="b  record_ai_call(), explicit form"
        [c]="c  PL/pgSQL get-or-create + INSERT"
        [d]="d  client: SELECT, INSERT model, SELECT, INSERT"
        [on]="record_ai_call(), user triggers enabled"
        [off]="record_ai_call(), user triggers disabled"
        [a0]="a  plain INSERT, user triggers disabled")
    local -A runs=() others=() mean=() spread=()

    sub "commands (each run: TRUNCATE the call tables, CHECKPOINT, wait for quiet, then)"
    echo "    pgbench ${PGBENCH_ARGS[*]} -f SCRIPT $DB"
    echo "    (-D model_id: the id of gpt-4o/2024-08-06 in ai_model, used by a only)"
    for name in a b c d; do
        sub "${label[$name]}: $(basename "${script[$name]}")"
        indent <"${script[$name]}"
    done
    sub "c's function, created by the bench: $(basename "$WORK/ingest_c_function.sql")"
    indent <"$WORK/ingest_c_function.sql"

    sub "runs (a b c d, $BENCH_ROUNDS times, interleaved)"
    for (( round = 1; round <= BENCH_ROUNDS; round++ )); do
        for name in a b c d; do
            log "ingest round $round: ${label[$name]}"
            pgbench_run "${script[$name]}"
            runs[$name]+="$TPS "
            others[$name]+="$OTHERS "
        done
    done

    # Rollups: statement-level triggers of a later version on ai_call.
    local rollup_triggers
    rollup_triggers=$(bval "SELECT coalesce(string_agg(tgname, ', ' ORDER BY tgname), '')
                              FROM pg_trigger
                             WHERE tgrelid = 'ai_call'::regclass AND NOT tgisinternal
                               AND tgname <> 'ai_call_touch_updated_at'")
    sub "with and without the user triggers of ai_call (rollups)"
    echo "    ALTER TABLE ai_call ENABLE TRIGGER USER   / DISABLE TRIGGER USER"
    echo "    then pgbench ${PGBENCH_ARGS[*]} -f $(basename "${script[b]}") $DB"
    echo "    user triggers on ai_call besides ai_call_touch_updated_at (UPDATE only): ${rollup_triggers:-none}"
    for (( round = 1; round <= BENCH_ROUNDS; round++ )); do
        for name in on off a0; do
            log "ingest round $round: ${label[$name]}"
            if [[ $name == on ]]; then
                bpsql -c 'ALTER TABLE ai_call ENABLE TRIGGER USER'
            else
                bpsql -c 'ALTER TABLE ai_call DISABLE TRIGGER USER'
            fi
            pgbench_run "${script[$([[ $name == a0 ]] && echo a || echo b)]}"
            runs[$name]+="$TPS "
            others[$name]+="$OTHERS "
        done
    done
    bpsql -c 'ALTER TABLE ai_call ENABLE TRIGGER USER'

    sub "results (tps; each run starts from an empty ai_call; spread = (max - min) / mean)"
    echo "  (runs: tps of each run, and in brackets the % of the machine's CPU that other"
    echo "  processes took during it; a run above $BENCH_MAX_OTHERS% was run again, up to $BENCH_RETRIES times,"
    echo "  and the least disturbed kept)"
    printf '  %-48s %10s %8s   %s\n' variant "mean tps" spread "runs"
    for name in a b c d on off a0; do
        mean[$name]=$(echo "${runs[$name]}" | awk '{ for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }')
        spread[$name]=$(echo "${runs[$name]}" | awk '{ lo = hi = $1; for (i = 1; i <= NF; i++) {
            s += $i; if ($i < lo) lo = $i; if ($i > hi) hi = $i }
            printf "%.0f%%", 100 * (hi - lo) / (s / NF) }')
        printf '  %-48s %10s %8s   %s\n' "${label[$name]}" "${mean[$name]}" "${spread[$name]}" \
            "$(runs_cell %.0f "${runs[$name]}" "${others[$name]}")"
    done

    sub "ratios (of mean tps)"
    ratio_line ingest "b/a record_ai_call / plain INSERT" \
        "$(calc "${mean[b]} / ${mean[a]}")" ">=" 0.9
    ratio_line ingest "record_ai_call / INSERT, no triggers" \
        "$(calc "${mean[on]} / ${mean[a0]}")" ">=" 0.95
    ratio_line ingest "b/c record_ai_call / PL/pgSQL function" \
        "$(calc "${mean[b]} / ${mean[c]}")" ">" 1
    ratio_line ingest "b/d record_ai_call / client-side pattern" \
        "$(calc "${mean[b]} / ${mean[d]}")" ">" 1
    ratio_line ingest "rollups: triggers on / off" \
        "$(calc "${mean[on]} / ${mean[off]}")" ">=" 0.9
    [[ -n $rollup_triggers ]] ||
        echo "  (no rollup triggers in this version: on and off run the same code, ~1.0 is expected)"
    note_noise ingest "${others[*]}"
}

[[ ${BASH_SOURCE[0]} != "$0" ]] || bench_part_main ingest "$@"
