#!/usr/bin/python3
# test/drivers/postgrest_rpc.py: POST /rpc/record_ai_call and
# /rpc/record_ai_calls with a JSON body, as PostgREST 12 runs them.
# PostgREST itself is not installable here, so this sends the SQL it sends,
# built the way it builds it (PostgREST v12.2.12, src/PostgREST/Plan.hs
# findProc and callPlan, Query/QueryBuilder.hs callPlanToQuery,
# Query/SqlFragment.hs fromJsonBodyF, Query/Statements.hs prepareCall,
# Query.hs setPgLocals, SchemaCache.hs funcsSqlQuery):
#
# 1. The schema cache lists each function's arguments with their names,
#    `type::regtype::text` and whether they are required (no default).
# 2. The function is chosen by the body's keys, never by the types: of the
#    overloads, the one whose required arguments are all among the keys and
#    whose arguments include every key; none or several is an error (PGRST202,
#    PGRST203).
# 3. In one transaction: `select set_config('search_path', ..., true),
#    set_config('role', ..., true), set_config('request.jwt.claims', ...),
#    set_config('request.method', ...), set_config('request.path', ...),
#    set_config('request.headers', ...), set_config('request.cookies', ...)`,
#    then the call, the body as the one parameter $1 of type json:
#
#    WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar
#      FROM (SELECT $1 AS json_data) pgrst_payload,
#      LATERAL (SELECT "a", "b" FROM json_to_record(pgrst_payload.json_data)
#               AS _("a" text, "b" double precision) LIMIT 1) pgrst_body ,
#      LATERAL (SELECT "public"."f"("a" := pgrst_body."a", "b" := pgrst_body."b")
#               pgrst_scalar) pgrst_call)
#    SELECT null::bigint AS total_result_set, 1 AS page_total,
#      coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null') AS body,
#      nullif(current_setting('response.headers', true), '') AS response_headers,
#      nullif(current_setting('response.status', true), '') AS response_status,
#      '' AS response_inserted
#    FROM (SELECT "f".* FROM "pgrst_source" AS "f"    ) _postgrest_t
#
#    The arguments are the body's keys in the function's declared order, each
#    typed as declared: json_to_record converts each JSON value with that
#    type's input function, so 412.7 for an integer argument is 22P02 before
#    the function runs.  A set-returning function gets
#    pg_catalog.count(_postgrest_t) as page_total and
#    coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]') as body.
#
# The request runs as the role aitrack_drivers_web, which has EXECUTE on
# the functions and nothing else (run.sh creates it), as PostgREST's anon or
# authenticated role would.  Output as in common.py.
import json
import os
import sys

import psycopg
from psycopg.types.json import Json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, Failure, describe  # noqa: E402

V14 = (1, 4)
V15 = (1, 5)
ROLE = os.environ.get("AITRACK_DRIVERS_WEB_ROLE", "aitrack_drivers_web")
USER = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
C = Checks()

# PostgREST's schema cache query, the arguments part (funcsSqlQuery).
ROUTINES = """
SELECT p.oid, pn.nspname, p.proname, p.proretset,
       t.typtype = 'c' OR t.oid = 'record'::regtype AS returns_composite,
       coalesce(array_agg(ROW(coalesce(a.name, ''), a.type::regtype::text,
                              a.idx <= (p.pronargs - p.pronargdefaults))::text
                          ORDER BY a.idx) FILTER (WHERE a.type IS NOT NULL), '{}')
  FROM pg_proc p
  JOIN pg_namespace pn ON pn.oid = p.pronamespace
  JOIN pg_type t ON t.oid = p.prorettype
  LEFT JOIN LATERAL unnest(p.proargnames, p.proargtypes, p.proargmodes)
       WITH ORDINALITY AS a (name, type, mode, idx) ON true
 WHERE pn.nspname = %s AND p.proname = %s AND p.prokind = 'f'
 GROUP BY p.oid, pn.nspname, p.proname, p.proretset, t.typtype, t.oid
"""


def parse_row(text):
    # "(name,type,t)": no commas or quotes in these names; types may hold
    # spaces ("double precision"), which ROW::text quotes
    inner = text[1:-1]
    parts, cur, quoted = [], "", False
    for ch in inner:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return {"name": parts[0], "type": parts[1], "required": parts[2] == "t"}


def routines(conn, schema, name):
    out = []
    for oid, nsp, proname, retset, composite, args in conn.execute(ROUTINES, (schema, name)):
        out.append({"oid": oid, "schema": nsp, "name": proname, "setof": retset,
                    "scalar": not composite, "params": [parse_row(a) for a in args]})
    return out


def find_proc(procs, keys):
    """PostgREST 12's findProc for a POST with a JSON object body."""
    def matches(proc):
        params = proc["params"]
        if not params:
            return not keys
        req = {p["name"] for p in params if p["required"]}
        opt = {p["name"] for p in params if not p["required"]}
        if not opt:
            return keys == req
        if not req:
            return keys <= opt
        return (keys - opt) == req
    found = [p for p in procs if matches(p)]
    if not found:
        raise Failure(f"PGRST202: no function {procs[0]['name'] if procs else '?'} "
                      f"with the arguments {sorted(keys)}")
    if len(found) > 1:
        raise Failure("PGRST203: could not choose the best candidate function between: " +
                      ", ".join(f"{p['name']}({', '.join(a['name'] + ' => ' + a['type'] for a in p['params'])})"
                                for p in found))
    return found[0]


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def call_sql(proc, keys):
    """The statement PostgREST 12 sends for POST /rpc/<proc> (callPlanToQuery + prepareCall)."""
    params = [p for p in proc["params"] if p["name"] in keys]
    qi = f"{ident(proc['schema'])}.{ident(proc['name'])}"
    args = ", ".join(f"{ident(p['name'])} := pgrst_body.{ident(p['name'])}" for p in params)
    if params:
        from_call = (
            "FROM (SELECT $1 AS json_data) pgrst_payload, "
            "LATERAL (SELECT " + ", ".join(ident(p["name"]) for p in params) +
            " FROM json_to_record(pgrst_payload.json_data) AS _(" +
            ", ".join(f"{ident(p['name'])} {p['type']}" for p in params) +
            ") LIMIT 1) pgrst_body , "
            f"LATERAL (SELECT {qi}({args}) pgrst_scalar) pgrst_call")
    else:
        from_call = f"FROM (SELECT {qi}() pgrst_scalar) pgrst_call"
    if proc["setof"]:
        page_total = "pg_catalog.count(_postgrest_t)"
        body = "coalesce(json_agg(_postgrest_t.pgrst_scalar), '[]')"
    else:
        page_total = "1"
        body = "coalesce(json_agg(_postgrest_t.pgrst_scalar)->0, 'null')"
    return ("WITH pgrst_source AS (SELECT pgrst_call.pgrst_scalar " + from_call + ") "
            f"SELECT null::bigint AS total_result_set, {page_total} AS page_total, "
            f"{body} AS body, "
            "nullif(current_setting('response.headers', true), '') AS response_headers, "
            "nullif(current_setting('response.status', true), '') AS response_status, "
            "'' AS response_inserted "
            f"FROM (SELECT {ident(proc['name'])}.* FROM \"pgrst_source\" AS {ident(proc['name'])}"
            "    ) _postgrest_t")


SET_LOCALS = ("select set_config('search_path', %s, true), set_config('role', %s, true), "
              "set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true), "
              "set_config('request.path', %s, true), set_config('request.headers', %s, true), "
              "set_config('request.cookies', %s, true)")


def post_rpc(conn, schema, name, body_text, show_sql=False):
    """POST /rpc/<name> with body_text (a JSON object): the response body, parsed."""
    keys = set(json.loads(body_text))
    proc = find_proc(routines(conn, schema, name), keys)
    sql = call_sql(proc, keys)
    if show_sql:
        C.note(f"PostgREST 12 SQL for POST /rpc/{name} with keys {sorted(keys)}:")
        C.note("  " + sql)
    with conn.transaction():
        conn.execute(SET_LOCALS, (f'"{schema}"', ROLE, '{"role":"%s"}' % ROLE, "POST",
                                  f"/rpc/{name}", '{"content-type":"application/json"}', "{}"))
        # $1 is json-typed (hasql's json encoder); the body text is sent as is
        row = conn.execute(sql.replace("$1", "%s"),
                           (Json(body_text, dumps=lambda s: s),)).fetchone()
    return row[2], proc


def main():
    conn = psycopg.connect(autocommit=True)
    schema = conn.execute(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'aitrack'").fetchone()[0]
    C.note(f"aitrack {C.version}; PostgREST 12 emulated, schema {schema}, role {ROLE}")
    first = [True]

    def rpc(body, name="record_ai_call"):
        show = first[0]
        first[0] = False
        return post_rpc(conn, schema, name, body, show_sql=show)

    def explicit_fractional():
        body = json.dumps({"modelname": "gpt-4o", "version": "drivers-postgrest",
                           "prompt": "explicit", "response": {"text": "bonjour"},
                           "input_tokens": 12, "output_tokens": 3, "cost_usd": 0.000075,
                           "duration_ms": 412.7, "time_to_first_token_ms": 95.4,
                           "call_type": "translation", "user_id": USER})
        cid, proc = rpc(body)
        C.note("  chosen: record_ai_call(" +
               ", ".join(f"{p['name']} {p['type']}" for p in proc["params"]) + ")")
        C.expect_row(cid, input_tokens=12, output_tokens=3, cost_usd="0.000075",
                     duration_ms=413, time_to_first_token_ms=95, call_type="translation",
                     user_id=USER, status="success", cost_source="provided")
    C.check("postgrest: POST /rpc/record_ai_call, explicit fields, float cost_usd, "
            "duration_ms 412.7 -> 413", explicit_fractional, V14)

    def explicit_billed_apart():
        body = json.dumps({"modelname": "gpt-4o", "version": "drivers-postgrest",
                           "prompt": "billed apart", "response": {},
                           "input_tokens": 2000, "output_tokens": 30, "input_audio_tokens": 500,
                           "service_tier": "batch", "web_search_requests": 1,
                           "web_search_context_size": "high", "user_id": USER})
        cid, proc = rpc(body)
        if len(proc["params"]) < 17:
            raise Failure("chose a form without the 1.5 arguments")
        C.expect_row(cid, input_tokens=2000, input_audio_tokens=500, service_tier="batch",
                     web_search_requests=1, web_search_context_size="high")
    C.check("postgrest: POST /rpc/record_ai_call with 1.5 fields picks the explicit form",
            explicit_billed_apart, V15)

    def explicit_whole():
        body = json.dumps({"modelname": "gpt-4o", "version": "drivers-postgrest",
                           "prompt": "explicit whole", "response": {"text": "bonjour"},
                           "input_tokens": 12, "output_tokens": 3, "cost_usd": 0.000075,
                           "duration_ms": 412, "status": "error", "user_id": USER})
        cid, _ = rpc(body)
        C.expect_row(cid, input_tokens=12, output_tokens=3, cost_usd="0.000075",
                     duration_ms=412, user_id=USER, status="error")
    C.check("postgrest: POST /rpc/record_ai_call, explicit fields, whole duration_ms, "
            "status", explicit_whole)

    def explicit_big():
        body = json.dumps({"modelname": "gpt-4o", "version": "drivers-postgrest",
                           "prompt": "big", "response": {}, "input_tokens": 3_000_000_000})
        msg = C.expect_error(lambda: rpc(body), "22003")
        C.note(f"postgrest: input_tokens 3000000000: {msg}")
    C.check("postgrest: POST /rpc/record_ai_call, input_tokens 3000000000 is 22003",
            explicit_big)

    def metrics_body():
        body = json.dumps({"modelname": "gpt-4o", "version": "drivers-postgrest",
                           "prompt": "metrics", "response": {"text": "bonjour"},
                           "metrics": {"input_tokens": 12, "output_tokens": 3,
                                       "cost_usd": 0.000075, "duration_ms": 412.7},
                           "call_type": "translation", "user_id": USER})
        cid, proc = rpc(body)
        names = [p["name"] for p in proc["params"]]
        types = {p["name"]: p["type"] for p in proc["params"]}
        if "metrics" not in names or types["metrics"] != "jsonb":
            raise Failure(f"chose record_ai_call({', '.join(names)})")
        C.expect_row(cid, input_tokens=12, output_tokens=3, cost_usd="0.000075",
                     duration_ms=413, call_type="translation", user_id=USER)
    C.check("postgrest: POST /rpc/record_ai_call with a metrics object picks the "
            "metrics jsonb form", metrics_body)

    def metrics_minimal():
        body = json.dumps({"modelname": "gpt-4o", "version": "drivers-postgrest",
                           "prompt": "metrics min", "response": {},
                           "metrics": {"duration_ms": 12.5}})
        cid, _ = rpc(body)
        C.expect_row(cid, duration_ms=13, user_id=None, call_type=None)
    C.check("postgrest: POST /rpc/record_ai_call, only the required keys and metrics",
            metrics_minimal)

    def batch():
        body = json.dumps({"calls": [
            {"modelname": "gpt-4o", "version": "drivers-postgrest", "prompt": "b1",
             "response": {}, "input_tokens": 12, "output_tokens": 3, "cost_usd": 0.000075,
             "duration_ms": 412, "user_id": USER},
            {"modelname": "gpt-4o", "version": "drivers-postgrest", "prompt": "b2",
             "response": {}, "status": "timeout"}]})
        ids, _ = rpc(body, "record_ai_calls")
        if not isinstance(ids, list) or len(ids) != 2:
            raise Failure(f"response body {ids!r}, expected two ids")
        C.expect_row(ids[0], input_tokens=12, cost_usd="0.000075", user_id=USER)
        C.expect_row(ids[1], status="timeout")
    C.check("postgrest: POST /rpc/record_ai_calls with {\"calls\": [...]}", batch)

    # What the response looks like to an HTTP client, for the README.
    try:
        out, _ = post_rpc(conn, schema, "record_ai_call", json.dumps(
            {"modelname": "gpt-4o", "version": "drivers-postgrest", "prompt": "p",
             "response": {}, "duration_ms": 412}))
        C.note(f"postgrest: response body of record_ai_call: {json.dumps(out)}")
    except Exception as exc:  # noqa: BLE001
        C.note(f"postgrest: {describe(exc)}")
    conn.close()
    return C.finish()


if __name__ == "__main__":
    sys.exit(main())
