# test/drivers/common.py: what the Python driver checks share: the check
# runner with its output lines, the read-back of a recorded call, and the
# SQLSTATE of any driver's exception.
#
# Output, one line per check (run.sh counts them):
#   ok - DRIVER: WHAT
#   not ok - DRIVER: WHAT: WHY
#   not ok - DRIVER: WHAT: WHY # TODO needs 1.4
# The last form is a check written for a later version of aitrack than the
# one installed: it is reported (the "before" evidence) but not counted as a
# failure.  Lines starting with "#" are notes.
#
# The cluster comes from the libpq environment (PGHOST, PGPORT, PGUSER,
# PGDATABASE): run.sh sets it.
import decimal
import sys

import psycopg

# Every column of the call (to_jsonb: those of whatever version is
# installed, 1.5's service_tier and counts included), and these as named.
READ_BACK = """
SELECT (to_jsonb(c) - 'cost_usd') || jsonb_build_object(
    'input_tokens', c.input_tokens, 'reasoning_tokens', c.reasoning_tokens,
    'output_tokens', c.output_tokens,
    'cost_usd', trim_scale(c.cost_usd)::text, 'cost_source', c.cost_source,
    'duration_ms', c.duration_ms, 'status', c.status, 'user_id', c.user_id,
    'call_type', c.call_type, 'extra', c.extra,
    'cache_read_input_tokens', c.cache_read_input_tokens,
    'cache_creation_input_tokens', c.cache_creation_input_tokens,
    'time_to_first_token_ms', c.time_to_first_token_ms,
    'modelname', m.modelname, 'version', m.version,
    'prompt', c.prompt, 'response', c.response)
  FROM ai_call c JOIN ai_model m ON m.id = c.model_id
 WHERE c.id = %s
"""


class Failure(Exception):
    pass


def sqlstate(exc):
    """The SQLSTATE of a psycopg, psycopg2, SQLAlchemy or peewee error."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for attr in ("sqlstate", "pgcode"):
            code = getattr(exc, attr, None)
            if code:
                return code
        nxt = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
        if nxt is None and exc.args and isinstance(exc.args[0], BaseException):
            nxt = exc.args[0]
        exc = nxt
    return None


def describe(exc):
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{sqlstate(exc) or type(exc).__name__} {first}"


class Checks:
    def __init__(self):
        self.verify = psycopg.connect(autocommit=True)
        self.version = self.verify.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'aitrack'").fetchone()[0]
        self.version_t = tuple(int(p) for p in self.version.split("."))
        self.passed = self.failed = self.todo = 0

    def note(self, text):
        print(f"# {text}", flush=True)

    def row(self, call_id):
        r = self.verify.execute(READ_BACK, (call_id,)).fetchone()
        if r is None:
            raise Failure(f"no ai_call row with id {call_id}")
        return r[0]

    def expect_row(self, call_id, **want):
        """The stored call has these values (cost_usd as its trimmed text)."""
        if not isinstance(call_id, int):
            raise Failure(f"returned {call_id!r}, not a bigint id")
        got = self.row(call_id)
        diffs = []
        for key, value in want.items():
            have = got.get(key)
            if key == "cost_usd" and value is not None and have is not None:
                same = decimal.Decimal(have) == decimal.Decimal(str(value))
            elif key == "user_id" and value is not None:
                same = have == str(value)
            else:
                same = have == value
            if not same:
                diffs.append(f"{key} {have!r}, expected {value!r}")
        if diffs:
            raise Failure("stored " + "; ".join(diffs))

    def check(self, name, fn, needs=None):
        """Run fn(); it raises on failure.  needs: the version it is written for."""
        todo = needs is not None and self.version_t < needs
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 -- any failure is reported
            why = str(exc) if isinstance(exc, Failure) else describe(exc)
            if todo:
                self.todo += 1
                print(f"not ok - {name}: {why} # TODO needs {'.'.join(map(str, needs))}",
                      flush=True)
            else:
                self.failed += 1
                print(f"not ok - {name}: {why}", flush=True)
            return
        self.passed += 1
        print(f"ok - {name}", flush=True)

    def expect_error(self, fn, code, contains=None):
        """fn() must fail with SQLSTATE code (and a message containing contains)."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            got = sqlstate(exc)
            if got != code or (contains and contains not in str(exc)):
                raise Failure(f"expected {code}{' ' + contains if contains else ''}, got {describe(exc)}")
            return str(exc).strip().splitlines()[0]
        raise Failure(f"expected {code}, but the call succeeded")

    def finish(self):
        sys.stdout.flush()
        return 1 if self.failed else 0
