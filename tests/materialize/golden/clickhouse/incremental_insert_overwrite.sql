-- clickhouse: incremental_insert_overwrite

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target"];

CREATE TABLE `analytics`.`target__tau_stage_0001` ENGINE = MergeTree ORDER BY tuple() AS SELECT src.* FROM (SELECT * FROM raw.source) AS src;

SELECT name, type FROM system.columns WHERE database = {p1:String} AND table = {p2:String} ORDER BY position
-- params: ["analytics","target__tau_stage_0001"];

SELECT count(*) AS n FROM `analytics`.`target__tau_stage_0001`;

SELECT count(*) AS n FROM `analytics`.`target`;

TRUNCATE TABLE `analytics`.`target`;

INSERT INTO `analytics`.`target` (`id`, `name`, `event_date`, `updated_at`) SELECT s.`id`, s.`name`, s.`event_date`, s.`updated_at` FROM `analytics`.`target__tau_stage_0001` AS s;

DROP TABLE IF EXISTS `analytics`.`target__tau_stage_0001`;
