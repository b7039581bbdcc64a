#!/usr/bin/python3
# test/drivers/python_drivers.py: record_ai_call and record_ai_calls from
# Python's PostgreSQL drivers as applications call them, with the Python
# types they pass, and what each call stored (read back from ai_call by the
# returned id).  Debian's packages: python3-psycopg (psycopg 3),
# python3-psycopg2, python3-sqlalchemy, python3-peewee; run with
# /usr/bin/python3, which sees them.
#
# What the drivers send (the point of these checks):
#   psycopg 3  server-side parameters, typed by the Python value: int as
#              int2/int4/int8 by size, float as float8, Decimal as numeric,
#              uuid.UUID as uuid, Jsonb as jsonb, Json as json; str and None
#              untyped (unknown)
#   psycopg2   values spliced into the SQL text client-side: int as an
#              integer literal (int4, or int8 past 2^31-1), float and
#              Decimal as numeric literals (1.5, 7.5e-05), str, Json and a
#              registered uuid.UUID as quoted literals (unknown; uuid with
#              ::uuid), None as NULL
#   SQLAlchemy and peewee: through psycopg2, the same
#
# Output: see common.py.  Exits 1 when a check that is not TODO failed.
import decimal
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Checks, Failure  # noqa: E402

V14 = (1, 4)
V15 = (1, 5)
V17 = (1, 7)
USER = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
RESPONSE = {"text": "bonjour"}
METRICS = {"input_tokens": 12, "output_tokens": 3, "cost_usd": 0.000075,
           "duration_ms": 412.7, "status": "success"}
# what a call with METRICS must store
STORED = dict(input_tokens=12, output_tokens=3, cost_usd="0.000075",
              duration_ms=413, status="success", cost_source="provided")
BIG = 3_000_000_000  # above 2^31-1

C = Checks()


def placeholders(n):
    return ", ".join(["%s"] * n)


def explicit_sql(n):
    return f"SELECT record_ai_call({placeholders(n)})"


# ---------------------------------------------------------------------------
# psycopg 3 and psycopg2: the same calls, with each one's JSON wrapper
# ---------------------------------------------------------------------------
def dbapi_checks(driver, conn, jsonb_wrap, json_name):
    """driver: label; jsonb_wrap: the wrapper an application uses for jsonb
    (psycopg 3's Jsonb, psycopg2's Json); json_name: its name in the labels."""

    def scalar(sql, params):
        cur = conn.cursor()
        cur.execute(sql, params)
        return cur.fetchone()[0]

    def rows(sql, params):
        cur = conn.cursor()
        cur.execute(sql, params)
        return [r[0] for r in cur.fetchall()]

    ver = f"drivers-{driver}"

    def float_positional():
        cid = scalar(explicit_sql(9), ("gpt-4o", ver, "float positional", jsonb_wrap(RESPONSE),
                                       12, None, 3, 0.000075, 412.7))
        C.expect_row(cid, **STORED, reasoning_tokens=None, user_id=None)
    C.check(f"{driver}: explicit form, positional, float cost_usd 0.000075 and "
            "duration_ms 412.7 -> 413", float_positional, V14)

    def float_named():
        cid = scalar("SELECT record_ai_call(%s, %s, %s, %s, input_tokens => %s, output_tokens => %s,"
                     " cost_usd => %s, duration_ms => %s, time_to_first_token_ms => %s,"
                     " call_type => %s, user_id => %s)",
                     ("gpt-4o", ver, "float named", jsonb_wrap(RESPONSE), 12, 3, 0.000075, 412.7,
                      95.4, "translation", USER))
        C.expect_row(cid, **STORED, time_to_first_token_ms=95, call_type="translation",
                     user_id=USER)
    C.check(f"{driver}: explicit form, named, float cost_usd, duration_ms and "
            "time_to_first_token_ms, uuid.UUID user_id", float_named, V14)

    def ints_decimal():
        cid = scalar("SELECT record_ai_call(%s, %s, %s, %s, input_tokens => %s,"
                     " output_tokens => %s, cache_read_input_tokens => %s, cost_usd => %s,"
                     " duration_ms => %s, user_id => %s)",
                     ("gpt-4o", ver, "ints decimal", jsonb_wrap(RESPONSE), 1000, 100, 800,
                      decimal.Decimal("0.0025"), 412, str(USER)))
        C.expect_row(cid, input_tokens=1000, output_tokens=100, cache_read_input_tokens=800,
                     cost_usd="0.0025", duration_ms=412, user_id=USER, status="success")
    C.check(f"{driver}: explicit form, named, int tokens and duration_ms, Decimal cost_usd, "
            "str user_id", ints_decimal)

    def big_int():
        msg = C.expect_error(lambda: scalar(
            "SELECT record_ai_call(%s, %s, %s, %s, input_tokens => %s, output_tokens => %s)",
            ("gpt-4o", ver, "big int", jsonb_wrap(RESPONSE), BIG, 3)), "22003")
        C.note(f"{driver}: input_tokens {BIG}: {msg}")
    C.check(f"{driver}: int {BIG} for input_tokens is 22003 out of range, "
            "not 'does not exist'", big_int, V14)

    def big_int_positional():
        C.expect_error(lambda: scalar(explicit_sql(7), ("gpt-4o", ver, "big int", jsonb_wrap(RESPONSE),
                                                        12, None, BIG)), "22003")
    C.check(f"{driver}: int {BIG} for output_tokens, positional, is 22003", big_int_positional, V14)

    def all_none():
        cid = scalar(explicit_sql(12), ("gpt-4o", ver, "none", jsonb_wrap(RESPONSE),
                                        None, None, None, None, None, None, "success", None))
        C.expect_row(cid, input_tokens=None, reasoning_tokens=None, output_tokens=None,
                     cost_usd=None, cost_source="unknown", duration_ms=None, call_type=None,
                     status="success", user_id=None)
    C.check(f"{driver}: explicit form, positional, None for every metric", all_none)

    def billed_apart_named():
        cid = scalar("SELECT record_ai_call(%s, %s, %s, %s, input_tokens => %s, output_tokens => %s,"
                     " cache_creation_input_tokens => %s, cache_creation_1h_input_tokens => %s,"
                     " web_search_requests => %s, service_tier => %s, provider => %s)",
                     ("gpt-4o", ver, "billed apart", jsonb_wrap(RESPONSE), 12000, 300, 10000, 4000,
                      2, "flex", "openai"))
        C.expect_row(cid, input_tokens=12000, cache_creation_input_tokens=10000,
                     cache_creation_1h_input_tokens=4000, web_search_requests=2,
                     service_tier="flex", provider="openai")
    C.check(f"{driver}: 1.5 arguments by name (Python ints and strs): 1-hour cache writes, "
            "web searches, service tier, provider", billed_apart_named, V15)

    def billed_apart_response():
        response = {"type": "message", "service_tier_note": "from the response",
                    "usage": {"input_tokens": 1000, "output_tokens": 50,
                              "cache_creation_input_tokens": 600,
                              "cache_creation": {"ephemeral_5m_input_tokens": 200,
                                                 "ephemeral_1h_input_tokens": 400},
                              "server_tool_use": {"web_search_requests": 3},
                              "service_tier": "priority"}}
        cid = scalar("SELECT record_ai_call(%s, %s, %s, %s)",
                     ("claude-sonnet-4-5", ver, "anthropic response", jsonb_wrap(response)))
        C.expect_row(cid, input_tokens=1600, cache_creation_input_tokens=600,
                     cache_creation_1h_input_tokens=400, web_search_requests=3,
                     service_tier="priority", provider="anthropic")
    C.check(f"{driver}: 1.5 reads an Anthropic response: 1-hour writes, web searches, "
            "service tier, provider", billed_apart_response, V15)

    def metrics_wrapped():
        cid = scalar(explicit_sql(7), ("gpt-4o", ver, "metrics wrapped", jsonb_wrap(RESPONSE),
                                       jsonb_wrap(METRICS), "translation", USER))
        C.expect_row(cid, **STORED, call_type="translation", user_id=USER)
    # psycopg 3's Jsonb is typed jsonb: the metrics form on every version.
    # psycopg2's Json is an untyped literal: ambiguous before 1.4.
    C.check(f"{driver}: metrics form, {json_name}(dict) fifth positional, uuid.UUID user_id",
            metrics_wrapped, None if json_name == "Jsonb" else V14)

    def metrics_str():
        cid = scalar(explicit_sql(5), ("gpt-4o", ver, "metrics str", jsonb_wrap(RESPONSE),
                                       json.dumps(METRICS)))
        C.expect_row(cid, **STORED, user_id=None)
    C.check(f"{driver}: metrics form, str (json.dumps) fifth positional", metrics_str, V14)

    def metrics_str_7():
        cid = scalar(explicit_sql(7), ("gpt-4o", ver, "metrics str 7", jsonb_wrap(RESPONSE),
                                       json.dumps(METRICS), "translation", str(USER)))
        C.expect_row(cid, **STORED, call_type="translation", user_id=USER)
    C.check(f"{driver}: metrics form, str metrics, call_type and str user_id positional",
            metrics_str_7, V14)

    def metrics_none():
        m = {"input_tokens": None, "output_tokens": None, "cost_usd": None, "duration_ms": 12.5}
        cid = scalar(explicit_sql(7), ("gpt-4o", ver, "metrics none", jsonb_wrap(RESPONSE),
                                       jsonb_wrap(m), None, None))
        C.expect_row(cid, input_tokens=None, output_tokens=None, cost_usd=None,
                     duration_ms=13, call_type=None, user_id=None)
    C.check(f"{driver}: metrics form, {json_name}(dict) with None values, None call_type "
            "and user_id", metrics_none, None if json_name == "Jsonb" else V14)

    def metrics_named():
        cid = scalar("SELECT record_ai_call(modelname => %s, version => %s, prompt => %s,"
                     " response => %s, metrics => %s, user_id => %s)",
                     ("gpt-4o", ver, "metrics named", jsonb_wrap(RESPONSE), jsonb_wrap(METRICS),
                      USER))
        C.expect_row(cid, **STORED, user_id=USER)
    C.check(f"{driver}: metrics form, named metrics => {json_name}(dict)", metrics_named)

    def batch():
        calls = [
            {"modelname": "gpt-4o", "version": ver, "prompt": "b1", "response": RESPONSE,
             "input_tokens": 12, "output_tokens": 3, "cost_usd": 0.000075, "duration_ms": 412,
             "user_id": str(USER)},
            {"modelname": "gpt-4o", "version": ver, "prompt": "b2", "response": {},
             "status": "timeout", "duration_ms": None},
        ]
        ids = rows("SELECT * FROM record_ai_calls(%s)", (jsonb_wrap(calls),))
        if len(ids) != 2:
            raise Failure(f"returned {ids!r}, expected 2 ids")
        C.expect_row(ids[0], input_tokens=12, output_tokens=3, cost_usd="0.000075",
                     duration_ms=412, user_id=USER, status="success")
        C.expect_row(ids[1], status="timeout", duration_ms=None, input_tokens=None)
        ids = rows("SELECT * FROM record_ai_calls(%s)", (json.dumps(calls[:1]),))
        if len(ids) != 1:
            raise Failure(f"str list: returned {ids!r}, expected 1 id")
        C.expect_row(ids[0], input_tokens=12, prompt="b1")
    C.check(f"{driver}: record_ai_calls({json_name}(list)) and record_ai_calls(json.dumps(list))",
            batch)


def psycopg3_checks():
    import psycopg
    from psycopg.types.json import Json, Jsonb
    with psycopg.connect(autocommit=True) as conn:
        dbapi_checks("psycopg3", conn, Jsonb, "Jsonb")
        # Json (not Jsonb) is typed json: json -> jsonb and json -> text are
        # assignment casts only, so no form takes it.  A note, not a check.
        try:
            conn.execute(explicit_sql(5), ("gpt-4o", "drivers-psycopg3", "json", Jsonb(RESPONSE),
                                           Json(METRICS)))
            C.note("psycopg3: Json(metrics) (json, not jsonb) fifth positional: accepted")
        except Exception as exc:  # noqa: BLE001
            from common import describe
            C.note(f"psycopg3: Json(metrics) (json, not jsonb) fifth positional: {describe(exc)}"
                   " (use Jsonb or a str)")
        # cost_usd double precision (1.4) keeps 15-17 significant digits
        if C.version_t >= V14:
            cid = conn.execute("SELECT record_ai_call(%s, %s, %s, %s, cost_usd => %s)",
                               ("gpt-4o", "drivers-psycopg3", "decimal precision", Jsonb(RESPONSE),
                                decimal.Decimal("0.12345678901234567890"))).fetchone()[0]
            C.note("psycopg3: Decimal('0.12345678901234567890') as cost_usd is stored as "
                   f"{C.row(cid)['cost_usd']}")


def psycopg3_budget_checks():
    """README's "Spend control" example, as psycopg 3 runs it: reserve, a
    refusal as errors.ConfigurationLimitExceeded, record and settle in one
    statement, and the alert read with conn.notifies()."""
    import json
    import uuid
    import psycopg
    from psycopg import errors
    from psycopg.types.json import Jsonb

    def spend():
        user = uuid.UUID("00000000-0000-4000-8000-0000000000b7")
        with psycopg.connect(autocommit=True) as admin, \
                psycopg.connect(autocommit=True) as listener, \
                psycopg.connect(autocommit=True) as conn:
            admin.execute("DELETE FROM ai_budget WHERE name = 'drivers per user'")
            admin.execute("INSERT INTO ai_budget (name, scope, period, time_zone, limit_usd, alert_at_pct)"
                          " VALUES ('drivers per user', 'user', 'month', 'Europe/Berlin', 0.03, '{50}')")
            heard = []
            listener.add_notify_handler(lambda n: heard.append(json.loads(n.payload)))
            listener.execute("LISTEN aitrack_budget")
            with conn.transaction():
                reservation = conn.execute(
                    "SELECT ai_budget_reserve(%s, user_id => %s, modelname => %s)",
                    (0.02, user, "gpt-4o")).fetchone()[0]   # a float: double precision
            try:
                with conn.transaction():
                    conn.execute("SELECT ai_budget_reserve(%s, user_id => %s)",
                                 (decimal.Decimal("0.02"), user))
                raise Failure("a second reservation of 0.02 against 0.03 was allowed")
            except errors.ConfigurationLimitExceeded as exc:
                if exc.diag.message_primary != 'budget "drivers per user" would be exceeded':
                    raise Failure(f"refusal said {exc.diag.message_primary!r}")
            with conn.transaction():
                settled = conn.execute(
                    "SELECT ai_budget_settle(%s, record_ai_call(%s, %s, %s, %s, cost_usd => %s, user_id => %s))",
                    (reservation, "gpt-4o", "drivers-psycopg3", "budget", Jsonb(RESPONSE),
                     0.02, user)).fetchone()[0]
            if settled is not True:
                raise Failure(f"settle returned {settled!r}")
            spent, reserved = admin.execute(
                "SELECT spent_usd, reserved_usd FROM ai_budget_status WHERE budget = 'drivers per user'"
                " AND scope_value = %s", (str(user),)).fetchone()
            if (spent, reserved) != (decimal.Decimal("0.02"), 0):
                raise Failure(f"status: spent {spent}, reserved {reserved}")
            listener.execute("SELECT 1")   # delivers what arrived meanwhile
            alerts = heard
            if [a["threshold_pct"] for a in alerts] != [50] or alerts[0]["budget"] != "drivers per user":
                raise Failure(f"alerts {alerts!r}")
            admin.execute("DELETE FROM ai_budget WHERE name = 'drivers per user'")
    C.check("psycopg3: reserve, ConfigurationLimitExceeded, settle(record_ai_call(...)), notifies()",
            spend, needs=V17)


def psycopg2_checks():
    import psycopg2
    import psycopg2.extras
    conn = psycopg2.connect("")
    conn.autocommit = True
    psycopg2.extras.register_uuid(conn_or_curs=conn)  # uuid.UUID -> '...'::uuid
    try:
        dbapi_checks("psycopg2", conn, psycopg2.extras.Json, "Json")
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# SQLAlchemy: func.record_ai_call and text() with named notation
# ---------------------------------------------------------------------------
def sqlalchemy_checks(dialect):
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB
    driver = f"sqlalchemy+{dialect}"
    ver = f"drivers-{driver}"
    engine = sa.create_engine(f"postgresql+{dialect}://", isolation_level="AUTOCOMMIT")

    def j(value):
        return sa.bindparam(None, value, type_=JSONB)

    with engine.connect() as conn:
        def scalar(stmt, params=None):
            return conn.execute(stmt, params or {}).scalar()

        def func_float():
            cid = scalar(sa.select(sa.func.record_ai_call(
                "gpt-4o", ver, "func float", j(RESPONSE), 12, None, 3, 0.000075, 412.7)))
            C.expect_row(cid, **STORED)
        C.check(f"{driver}: func.record_ai_call, positional, float cost_usd and duration_ms",
                func_float, V14)

        def text_named():
            stmt = sa.text("SELECT record_ai_call(:m, :v, :p, :r, input_tokens => :i,"
                           " output_tokens => :o, cost_usd => :c, duration_ms => :d,"
                           " user_id => :u)").bindparams(sa.bindparam("r", type_=JSONB))
            cid = scalar(stmt, dict(m="gpt-4o", v=ver, p="text named", r=RESPONSE, i=12, o=3,
                                    c=0.000075, d=412.7, u=USER))
            C.expect_row(cid, **STORED, user_id=USER)
        C.check(f"{driver}: text() with named arguments, float cost_usd and duration_ms, "
                "uuid.UUID user_id", text_named, V14)

        def func_ints_decimal():
            cid = scalar(sa.select(sa.func.record_ai_call(
                "gpt-4o", ver, "func ints", j(RESPONSE), 12, None, 3,
                decimal.Decimal("0.000075"), 412)))
            C.expect_row(cid, **{**STORED, "duration_ms": 412})
        C.check(f"{driver}: func.record_ai_call, positional, int tokens and duration_ms, "
                "Decimal cost_usd", func_ints_decimal)

        def func_big():
            C.expect_error(lambda: scalar(sa.select(sa.func.record_ai_call(
                "gpt-4o", ver, "func big", j(RESPONSE), BIG))), "22003")
        C.check(f"{driver}: func.record_ai_call, int {BIG} for input_tokens is 22003",
                func_big, V14)

        def func_metrics():
            cid = scalar(sa.select(sa.func.record_ai_call(
                "gpt-4o", ver, "func metrics", j(RESPONSE), j(METRICS), "translation", USER)))
            C.expect_row(cid, **STORED, call_type="translation", user_id=USER)
        C.check(f"{driver}: func.record_ai_call, metrics as a JSONB bind fifth positional, "
                "uuid.UUID user_id", func_metrics, V14)

        def func_metrics_none():
            cid = scalar(sa.select(sa.func.record_ai_call(
                "gpt-4o", ver, "func metrics none", j(RESPONSE), j(METRICS), None, None)))
            C.expect_row(cid, **STORED, call_type=None, user_id=None)
        C.check(f"{driver}: func.record_ai_call, metrics, None call_type and user_id",
                func_metrics_none, V14)

        def batch():
            calls = [{"modelname": "gpt-4o", "version": ver, "prompt": "sa b1",
                      "response": RESPONSE, "input_tokens": 12, "output_tokens": 3}]
            stmt = sa.text("SELECT * FROM record_ai_calls(:calls)").bindparams(
                sa.bindparam("calls", type_=JSONB))
            ids = [r[0] for r in conn.execute(stmt, {"calls": calls})]
            if len(ids) != 1:
                raise Failure(f"returned {ids!r}")
            C.expect_row(ids[0], input_tokens=12, output_tokens=3)
        C.check(f"{driver}: record_ai_calls with a JSONB bind of a list", batch)
    engine.dispose()


# ---------------------------------------------------------------------------
# peewee: fn.record_ai_call
# ---------------------------------------------------------------------------
def peewee_checks():
    import peewee
    from peewee import SQL, Select, fn
    from psycopg2.extras import Json
    driver = "peewee"
    ver = f"drivers-{driver}"
    db = peewee.PostgresqlDatabase(os.environ.get("PGDATABASE"), autorollback=True)
    db.connect()

    def scalar(expr):
        return Select(columns=[expr]).bind(db).scalar()

    def fn_float():
        cid = scalar(fn.record_ai_call("gpt-4o", ver, "fn float", Json(RESPONSE),
                                       12, None, 3, 0.000075, 412.7))
        C.expect_row(cid, **STORED)
    C.check(f"{driver}: fn.record_ai_call, positional, float cost_usd and duration_ms",
            fn_float, V14)

    def fn_named():
        cid = scalar(fn.record_ai_call("gpt-4o", ver, "fn named", Json(RESPONSE),
                                       SQL("input_tokens => %s", [12]),
                                       SQL("output_tokens => %s", [3]),
                                       SQL("cost_usd => %s", [0.000075]),
                                       SQL("duration_ms => %s", [412.7]),
                                       SQL("user_id => %s", [str(USER)])))
        C.expect_row(cid, **STORED, user_id=USER)
    C.check(f"{driver}: fn.record_ai_call with SQL('name => %s') arguments, float cost_usd "
            "and duration_ms", fn_named, V14)

    def fn_ints():
        cid = scalar(fn.record_ai_call("gpt-4o", ver, "fn ints", Json(RESPONSE),
                                       12, None, 3, decimal.Decimal("0.000075"), 412))
        C.expect_row(cid, **{**STORED, "duration_ms": 412})
    C.check(f"{driver}: fn.record_ai_call, positional, int tokens, Decimal cost_usd", fn_ints)

    def fn_big():
        C.expect_error(lambda: scalar(fn.record_ai_call("gpt-4o", ver, "fn big", Json(RESPONSE),
                                                        BIG)), "22003")
    C.check(f"{driver}: fn.record_ai_call, int {BIG} for input_tokens is 22003", fn_big, V14)

    def fn_metrics():
        cid = scalar(fn.record_ai_call("gpt-4o", ver, "fn metrics", Json(RESPONSE),
                                       Json(METRICS), "translation", str(USER)))
        C.expect_row(cid, **STORED, call_type="translation", user_id=USER)
    C.check(f"{driver}: fn.record_ai_call, Json(dict) metrics fifth positional", fn_metrics, V14)

    def fn_batch():
        calls = [{"modelname": "gpt-4o", "version": ver, "prompt": "pw b1", "response": RESPONSE,
                  "input_tokens": 12, "output_tokens": 3},
                 {"modelname": "gpt-4o", "version": ver, "prompt": "pw b2", "response": RESPONSE}]
        ids = [r[0] for r in Select(columns=[fn.record_ai_calls(Json(calls))]).bind(db).tuples()]
        if len(ids) != 2:
            raise Failure(f"returned {ids!r}")
        C.expect_row(ids[0], input_tokens=12, output_tokens=3)
        C.expect_row(ids[1], prompt="pw b2", input_tokens=None)
    C.check(f"{driver}: fn.record_ai_calls(Json(list))", fn_batch)
    db.close()


def main():
    C.note(f"aitrack {C.version}; Python {sys.version.split()[0]}")
    import peewee
    import psycopg
    import psycopg2
    import sqlalchemy
    C.note(f"psycopg {psycopg.__version__}, psycopg2 {psycopg2.__version__.split()[0]}, "
           f"SQLAlchemy {sqlalchemy.__version__}, peewee {peewee.__version__}")
    psycopg3_checks()
    psycopg3_budget_checks()
    psycopg2_checks()
    sqlalchemy_checks("psycopg2")
    try:
        import sqlalchemy.dialects.postgresql.psycopg  # noqa: F401  (SQLAlchemy 2.0+)
    except ImportError:
        C.note(f"skip sqlalchemy+psycopg: SQLAlchemy {sqlalchemy.__version__} has no psycopg 3 "
               "dialect (2.0 and later)")
    else:
        sqlalchemy_checks("psycopg")
    peewee_checks()
    return C.finish()


if __name__ == "__main__":
    sys.exit(main())
