-- mysql: partitioned_first

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
-- params: ["analytics","target"];

CREATE DATABASE IF NOT EXISTS `analytics`;

CREATE TEMPORARY TABLE `target__tau_stage_0001` AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE CAST(src.`event_date` AS DATETIME(6)) >= CAST(? AS DATETIME(6))
-- params: ["2025-12-01 00:00:00.000"];

SHOW COLUMNS FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001`;

CREATE TABLE `analytics`.`target` AS SELECT * FROM `target__tau_stage_0001`;

DROP TABLE IF EXISTS `target__tau_stage_0001`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
