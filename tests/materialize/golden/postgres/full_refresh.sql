-- postgres: full_refresh

BEGIN;

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT pg_advisory_xact_lock(hashtextextended($1, 0))
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN c.relkind IN ('v', 'm') THEN 'view' ELSE 'table' END AS kind FROM pg_class c WHERE c.oid = to_regclass($1)
-- params: ["\"analytics\".\"target\""];

SELECT count(*) AS n FROM "analytics"."target";

SELECT 'pre';

DROP TABLE IF EXISTS "analytics"."target__tau_new";

CREATE TABLE "analytics"."target__tau_new" AS SELECT * FROM (SELECT * FROM raw.source) AS src;

ALTER TABLE "analytics"."target" RENAME TO "target__tau_old";

ALTER TABLE "analytics"."target__tau_new" RENAME TO "target";

DROP TABLE IF EXISTS "analytics"."target__tau_old";

SELECT 'post';

SELECT count(*) AS n FROM "analytics"."target";

COMMIT;
