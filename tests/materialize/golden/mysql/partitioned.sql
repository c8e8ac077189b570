-- mysql: partitioned

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
-- params: ["analytics","target"];

CREATE TEMPORARY TABLE `target__tau_stage_0001` AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src.`event_date` AS DATETIME(6)) >= CAST(? AS DATETIME(6))
-- params: ["2025-12-01 00:00:00.000"];

SHOW COLUMNS FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE DATE_FORMAT(t.`event_date`, '%Y-%m-%d') IN (SELECT DISTINCT DATE_FORMAT(s.`event_date`, '%Y-%m-%d') FROM `target__tau_stage_0001` AS s);

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE CAST(t.`event_date` AS DATETIME(6)) < CAST(? AS DATETIME(6))
-- params: ["2025-12-01 00:00:00.000"];

START TRANSACTION;

DELETE t FROM `analytics`.`target` AS t WHERE DATE_FORMAT(t.`event_date`, '%Y-%m-%d') IN (SELECT DISTINCT DATE_FORMAT(s.`event_date`, '%Y-%m-%d') FROM `target__tau_stage_0001` AS s);

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `target__tau_stage_0001` AS s;

DELETE t FROM `analytics`.`target` AS t WHERE CAST(t.`event_date` AS DATETIME(6)) < CAST(? AS DATETIME(6))
-- params: ["2025-12-01 00:00:00.000"];

COMMIT;

DROP TABLE IF EXISTS `target__tau_stage_0001`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
