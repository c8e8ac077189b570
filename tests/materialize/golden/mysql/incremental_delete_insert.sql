-- mysql: incremental_delete_insert

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
-- params: ["analytics","target"];

CREATE TEMPORARY TABLE `target__tau_stage_0001` AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SHOW COLUMNS FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001` AS s WHERE s.`id` IS NULL OR s.`name` IS NULL;

SELECT s.`id`, s.`name`, count(*) AS n FROM `target__tau_stage_0001` AS s GROUP BY s.`id`, s.`name` HAVING count(*) > 1 ORDER BY n DESC, s.`id`, s.`name` LIMIT 5;

SELECT count(*) AS n FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE EXISTS (SELECT 1 FROM `target__tau_stage_0001` AS i WHERE i.`id` = t.`id` AND i.`name` = t.`name`);

START TRANSACTION;

DELETE t FROM `analytics`.`target` AS t WHERE EXISTS (SELECT 1 FROM `target__tau_stage_0001` AS i WHERE i.`id` = t.`id` AND i.`name` = t.`name`);

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `target__tau_stage_0001` AS s;

COMMIT;

DROP TABLE IF EXISTS `target__tau_stage_0001`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
