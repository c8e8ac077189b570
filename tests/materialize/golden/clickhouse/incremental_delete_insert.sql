-- clickhouse: incremental_delete_insert

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL OR s.`name` IS NULL;

SELECT s.`id`, s.`name`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id`, s.`name` HAVING count(*) > 1 ORDER BY n DESC, s.`id`, s.`name` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target` AS t WHERE (`id`, `name`) IN (SELECT i.`id`, i.`name` FROM `analytics`.`target__tau_stage_0001` AS i);

DELETE FROM `analytics`.`target` WHERE (`id`, `name`) IN (SELECT i.`id`, i.`name` FROM `analytics`.`target__tau_stage_0001` AS i);

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s;

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
