-- snowflake: partitioned

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src."event_date" AS TIMESTAMP_TZ) >= CAST(? AS TIMESTAMP_TZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE date_trunc('day', t."event_date") IN (SELECT DISTINCT date_trunc('day', s."event_date") FROM "analytics"."target__tau_stage_0001" AS s);

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE CAST(t."event_date" AS TIMESTAMP_TZ) < CAST(? AS TIMESTAMP_TZ)
-- params: ["2025-12-01 00:00:00.000+00:00"];

-- one request:
BEGIN TRANSACTION;
DELETE FROM "analytics"."target" AS t WHERE date_trunc('day', t."event_date") IN (SELECT DISTINCT date_trunc('day', s."event_date") FROM "analytics"."target__tau_stage_0001" AS s);
INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at") SELECT s."id", s."name", s."event_date", s."updated_at" FROM "analytics"."target__tau_stage_0001" AS s;
DELETE FROM "analytics"."target" AS t WHERE CAST(t."event_date" AS TIMESTAMP_TZ) < CAST(? AS TIMESTAMP_TZ);
COMMIT
-- params: ["2025-12-01 00:00:00.000+00:00"];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
