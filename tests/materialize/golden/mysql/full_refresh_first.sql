-- mysql: full_refresh_first

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

CREATE DATABASE IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target` AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM `analytics`.`target`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
