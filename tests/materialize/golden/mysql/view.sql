-- mysql: view

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

CREATE OR REPLACE VIEW `analytics`.`target` AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
