#!/usr/bin/env bash
# test/drivers/psql_checks.sh: one call of each record_ai_call form, and
# record_ai_calls, as typed at psql (literals: '...' is unknown, 12 integer,
# 0.000075 and 412.7 numeric), and what each stored.  Output as in common.py;
# run by run.sh with the libpq environment set to the test database.
set -uo pipefail

version=$(psql -XAtq -c "SELECT extversion FROM pg_extension WHERE extname = 'aitrack'")
echo "# aitrack $version; $(psql -XAtq -c 'SELECT version()' | cut -d' ' -f1-2); psql literals"
IFS=. read -r vmaj vmin <<<"$version"
failed=0

# stored ID: the call's numbers, as one line
stored() {
    psql -XAtq -v ON_ERROR_STOP=1 -c "
        SELECT format('input=%s output=%s cost=%s duration=%s status=%s user=%s call_type=%s',
                      input_tokens, output_tokens, trim_scale(cost_usd), duration_ms, status,
                      user_id, call_type)
          FROM ai_call WHERE id = $1"
}

# check NAME NEEDS SQL EXPECTED: SQL returns ids, one a line; EXPECTED is
# what stored prints for each, separated by '|'.  NEEDS: the version the
# check is written for (1.0 for any).
check() {
    local name=$1 needs=$2 sql=$3 expected=$4 out rc=0 got=() id why=
    out=$(psql -XAtq -v ON_ERROR_STOP=1 -c "$sql" 2>&1) || rc=$?
    if [[ $rc -ne 0 ]]; then
        why=$(grep -m1 -E '^(psql:.*)?ERROR' <<<"$out" | sed -E 's/^psql:[^E]*//')
        [[ -n $why ]] || why=$(head -n1 <<<"$out")
    else
        for id in $out; do got+=("$(stored "$id")"); done
        local joined
        joined=$(IFS='|'; echo "${got[*]}")
        [[ $joined == "$expected" ]] || why="stored '$joined', expected '$expected'"
    fi
    if [[ -z $why ]]; then
        echo "ok - psql: $name"
        return
    fi
    IFS=. read -r nmaj nmin <<<"$needs"
    if (( vmaj < nmaj || (vmaj == nmaj && vmin < nmin) )); then
        echo "not ok - psql: $name: $why # TODO needs $needs"
    else
        echo "not ok - psql: $name: $why"
        failed=1
    fi
}

U=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11

check "explicit form, named arguments (the README's call)" 1.0 \
"SELECT record_ai_call('gpt-4o', 'drivers-psql', 'Translate \"hello\" to French', '{\"text\": \"bonjour\"}',
                      input_tokens => 12, output_tokens => 3,
                      cost_usd => 0.000075, duration_ms => 412,
                      call_type => 'translation', user_id => '$U')" \
"input=12 output=3 cost=0.000075 duration=412 status=success user=$U call_type=translation"

check "explicit form, named, cost_usd => 0.000075, duration_ms => 412.7 (numeric literals) -> 413" 1.4 \
"SELECT record_ai_call('gpt-4o', 'drivers-psql', 'Translate \"hello\" to French', '{\"text\": \"bonjour\"}',
                      input_tokens => 12, output_tokens => 3,
                      cost_usd => 0.000075, duration_ms => 412.7,
                      call_type => 'translation', user_id => '$U')" \
"input=12 output=3 cost=0.000075 duration=413 status=success user=$U call_type=translation"

check "metrics form, '...'::jsonb fifth" 1.0 \
"SELECT record_ai_call('gpt-4o', 'drivers-psql', 'p', '{\"text\": \"bonjour\"}',
                      '{\"input_tokens\": 12, \"output_tokens\": 3, \"cost_usd\": 0.000075, \"duration_ms\": 412.7}'::jsonb,
                      'translation', '$U')" \
"input=12 output=3 cost=0.000075 duration=413 status=success user=$U call_type=translation"

check "metrics form, untyped '...' fifth (metrics_json text)" 1.4 \
"SELECT record_ai_call('gpt-4o', 'drivers-psql', 'p', '{\"text\": \"bonjour\"}',
                      '{\"input_tokens\": 12, \"output_tokens\": 3, \"cost_usd\": 0.000075, \"duration_ms\": 412.7}')" \
"input=12 output=3 cost=0.000075 duration=413 status=success user= call_type="

check "record_ai_calls, untyped '[...]'" 1.0 \
"SELECT * FROM record_ai_calls('[
  {\"modelname\": \"gpt-4o\", \"version\": \"drivers-psql\", \"prompt\": \"a\", \"response\": {\"usage\": {\"prompt_tokens\": 12, \"completion_tokens\": 3}}},
  {\"modelname\": \"gpt-4o\", \"version\": \"drivers-psql\", \"prompt\": \"b\", \"response\": {}, \"status\": \"timeout\", \"user_id\": \"$U\"}
]')" \
"input=12 output=3 cost= duration= status=success user= call_type=|input= output= cost= duration= status=timeout user=$U call_type="

exit $failed
