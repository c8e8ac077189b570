-- postgres: view

BEGIN;

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

DROP VIEW "analytics"."target";

CREATE VIEW "analytics"."target" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

COMMIT;
