-- mysql: scd_type_2_first

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
-- params: ["analytics","target"];

CREATE DATABASE IF NOT EXISTS `analytics`;

CREATE TEMPORARY TABLE `target__tau_stage_0001` AS SELECT src.*, MD5(CONCAT(CASE WHEN src.`name` IS NULL THEN 'N' ELSE CONCAT('V', CHAR_LENGTH(CAST(src.`name` AS CHAR)), ':', CAST(src.`name` AS CHAR)) END, CASE WHEN src.`event_date` IS NULL THEN 'N' ELSE CONCAT('V', CHAR_LENGTH(CAST(src.`event_date` AS CHAR)), ':', CAST(src.`event_date` AS CHAR)) END)) AS `row_hash` FROM (SELECT * FROM raw.source) AS src;

SHOW COLUMNS FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `target__tau_stage_0001`;

CREATE TABLE `analytics`.`target` AS SELECT s.*, CAST(? AS DATETIME(6)) AS `valid_from`, CAST(NULL AS DATETIME(6)) AS `valid_to`, TRUE AS `is_current` FROM `target__tau_stage_0001` AS s
-- params: ["2026-03-01 06:00:00.000"];

DROP TABLE IF EXISTS `target__tau_stage_0001`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
