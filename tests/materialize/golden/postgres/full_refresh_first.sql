-- postgres: full_refresh_first

BEGIN;

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

CREATE SCHEMA IF NOT EXISTS "analytics";

CREATE TABLE "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM "analytics"."target";

COMMIT;
