-- mysql: incremental_merge

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT GET_LOCK(?, 3600) AS acquired
-- params: ["tau.materialize:analytics.target"];

SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN 'view' ELSE 'table' END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
-- params: ["analytics","target"];

SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
-- params: ["analytics","target"];

SELECT 1 AS marked FROM `analytics`.`target` WHERE `updated_at` IS NOT NULL LIMIT 1;

SELECT max(`updated_at`) FROM `analytics`.`target` INTO @tau_hwm;

CREATE TEMPORARY TABLE `target__tau_stage_0001` AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src.`updated_at` > @tau_hwm;

SHOW COLUMNS FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `target__tau_stage_0001`;

SELECT count(*) AS n FROM `target__tau_stage_0001` AS s WHERE EXISTS (SELECT 1 FROM `analytics`.`target` AS i WHERE i.`id` = s.`id`);

START TRANSACTION;

UPDATE `analytics`.`target` AS t INNER JOIN `target__tau_stage_0001` AS s ON t.`id` = s.`id` SET t.`name` = s.`name`, t.`event_date` = s.`event_date`, t.`updated_at` = s.`updated_at`;

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `target__tau_stage_0001` AS s WHERE NOT EXISTS (SELECT 1 FROM `analytics`.`target` AS i WHERE i.`id` = s.`id`);

COMMIT;

DROP TABLE IF EXISTS `target__tau_stage_0001`;

SELECT RELEASE_LOCK(?) AS released
-- params: ["tau.materialize:analytics.target"];
