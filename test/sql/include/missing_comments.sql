--
-- Every object of the extension aitrack that carries no COMMENT: functions,
-- procedures and aggregates, tables, sequences and event triggers that are
-- members of the extension (pg_depend deptype 'e'), any other member of
-- another kind, and the columns, triggers and policies of its member
-- tables.  Catalog only; a regression test asserts "(0 rows)".
--
-- Left out: the row types and array types of tables (members from
-- PostgreSQL 17 on), toast tables, dropped columns, system columns, and
-- internal triggers (those of foreign keys).  When aitrack is not installed
-- it returns one row saying so, so that the test cannot pass on nothing.
-- Identities come from pg_identify_object() (schema-qualified, independent
-- of search_path); sorted in the "C" collation, so the order does not depend
-- on the database's locale.
--
WITH ext AS (
    SELECT e.oid
      FROM pg_catalog.pg_extension e
     WHERE e.extname = 'aitrack'
), member AS (
    SELECT d.classid, d.objid
      FROM pg_catalog.pg_depend d
      JOIN ext ON d.refobjid = ext.oid
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.deptype = 'e'
), member_table AS (
    -- Tables and other relations with columns; not sequences, not toast.
    SELECT c.oid
      FROM member m
      JOIN pg_catalog.pg_class c ON c.oid = m.objid
     WHERE m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
       AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
), object AS (
    -- Members: functions, procedures, aggregates, tables, sequences, event
    -- triggers and anything else, but not the types PostgreSQL makes for
    -- each table (row type and array type) nor toast tables or indexes.
    SELECT m.classid, m.objid, 0 AS objsubid
      FROM member m
     WHERE NOT (m.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                AND EXISTS (SELECT FROM pg_catalog.pg_type t
                             WHERE t.oid = m.objid
                               AND (   -- a relation's row type (not CREATE TYPE ... AS)
                                       (t.typrelid <> 0
                                        AND EXISTS (SELECT FROM pg_catalog.pg_class r
                                                     WHERE r.oid = t.typrelid
                                                       AND r.relkind <> 'c'))
                                    -- the array type of another type
                                    OR EXISTS (SELECT FROM pg_catalog.pg_type b
                                                WHERE b.typarray = t.oid))))
       AND NOT (m.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                AND EXISTS (SELECT FROM pg_catalog.pg_class c
                             WHERE c.oid = m.objid
                               AND c.relkind IN ('t', 'i', 'I')))
    UNION ALL
    -- Columns of member tables.
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass, a.attrelid, a.attnum::integer
      FROM member_table mt
      JOIN pg_catalog.pg_attribute a ON a.attrelid = mt.oid
     WHERE a.attnum > 0
       AND NOT a.attisdropped
    UNION ALL
    -- Triggers of member tables (not the internal ones of constraints).
    SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, tg.oid, 0
      FROM member_table mt
      JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = mt.oid
     WHERE NOT tg.tgisinternal
    UNION ALL
    -- Policies of member tables.
    SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass, pol.oid, 0
      FROM member_table mt
      JOIN pg_catalog.pg_policy pol ON pol.polrelid = mt.oid
)
SELECT i.type COLLATE "C" AS object_type,
       i.identity COLLATE "C" AS object_identity
  FROM object o
  CROSS JOIN LATERAL pg_catalog.pg_identify_object(o.classid, o.objid, o.objsubid) AS i
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_description d
                    WHERE d.classoid = o.classid
                      AND d.objoid = o.objid
                      AND d.objsubid = o.objsubid
                      AND d.description <> '')
UNION ALL
SELECT 'extension', 'aitrack is not installed in this database'
 WHERE NOT EXISTS (SELECT FROM ext)
ORDER BY 1, 2;
