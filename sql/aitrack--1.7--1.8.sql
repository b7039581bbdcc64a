/* aitrack 1.7 -> 1.8: spend control in C (budgets counted and reserved by plans kept per session), and usage by project from the rollups. */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION aitrack UPDATE TO '1.8'" to load this file. \quit

-- ==== BEGIN SECTION: budget engine ====
-- ==== END SECTION: budget engine ====

-- ==== BEGIN SECTION: project rollups ====
-- ==== END SECTION: project rollups ====

-- ==== BEGIN SECTION: privileges ====
-- ==== END SECTION: privileges ====

-- ==== BEGIN SECTION: comments ====
-- ==== END SECTION: comments ====
