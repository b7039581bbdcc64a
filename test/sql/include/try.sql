-- pg_temp.try(statement) runs a statement and shows what a client would get:
-- 'accepted', or the SQLSTATE, the message, and the detail and hint when
-- there are any.  pg_temp.try(statement, true) shows the statement's one
-- text value instead of 'accepted' ('ok: ' and the value, or NULL).
-- Included by the tests that show error messages (\i, from PG_ABS_SRCDIR);
-- a temporary function, gone when the test's session ends.
CREATE FUNCTION pg_temp.try(call text, show_result boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text; state text; msg text; detail text; hint text;
BEGIN
    IF show_result THEN
        EXECUTE call INTO result;
        RETURN 'ok: ' || coalesce(result, 'NULL');
    END IF;
    EXECUTE call;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || msg
        || CASE WHEN detail <> '' THEN E'\n  DETAIL: ' || detail ELSE '' END
        || CASE WHEN hint <> '' THEN E'\n  HINT: ' || hint ELSE '' END;
END $$;
