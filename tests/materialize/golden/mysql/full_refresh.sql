-- mysql: full_refresh

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT count(*) AS n FROM `analytics`.`target`;

SELECT 'pre';

DROP TABLE IF EXISTS `analytics`.`target__tau_new`;

CREATE TABLE `analytics`.`target__tau_new` AS SELECT * FROM (SELECT * FROM raw.source) AS src;

RENAME TABLE `analytics`.`target` TO `analytics`.`target__tau_old`, `analytics`.`target__tau_new` TO `analytics`.`target`;

DROP TABLE IF EXISTS `analytics`.`target__tau_old`;

SELECT 'post';

SELECT count(*) AS n FROM `analytics`.`target`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
