-- snowflake: snapshot

SELECT CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END AS "kind" FROM information_schema.tables WHERE table_schema = ? AND table_name = ?
-- params: ["analytics","target"];

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target"];

CREATE TRANSIENT TABLE "analytics"."target__tau_stage_0001" AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM "analytics"."target__tau_stage_0001";

SELECT coalesce(max("snapshot_id"), 0) AS n FROM "analytics"."target";

SELECT count(*) AS n FROM "analytics"."target" AS t WHERE t."snapshot_id" <= CAST(? AS NUMBER(38,0))
-- params: [2];

-- one request:
BEGIN TRANSACTION;
INSERT INTO "analytics"."target" ("id", "name", "event_date", "updated_at", "snapshot_id", "snapshot_at") SELECT s."id", s."name", s."event_date", s."updated_at", CAST(? AS NUMBER(38,0)), CAST(? AS TIMESTAMP_TZ) FROM "analytics"."target__tau_stage_0001" AS s;
DELETE FROM "analytics"."target" AS t WHERE t."snapshot_id" <= CAST(? AS NUMBER(38,0));
COMMIT
-- params: [5,"2026-03-01 06:00:00.000+00:00",2];

DROP TABLE IF EXISTS "analytics"."target__tau_stage_0001";
