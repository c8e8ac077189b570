-- clickhouse: incremental_merge

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

SELECT 1 AS marked FROM `analytics`.`target` WHERE `updated_at` IS NOT NULL LIMIT 1;

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.* FROM (SELECT * FROM raw.source) AS src WHERE src.`updated_at` > (SELECT max(`updated_at`) FROM `analytics`.`target`);

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE s.`id` IS NULL;

SELECT s.`id`, count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s GROUP BY s.`id` HAVING count(*) > 1 ORDER BY n DESC, s.`id` LIMIT 5;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001` AS s WHERE (s.`id`) IN (SELECT i.`id` FROM `analytics`.`target` AS i);

DELETE FROM `analytics`.`target` WHERE (`id`) IN (SELECT i.`id` FROM `analytics`.`target__tau_stage_0001` AS i);

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s;

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
