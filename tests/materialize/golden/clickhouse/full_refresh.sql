-- clickhouse: full_refresh

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

SELECT count(*) AS n FROM `analytics`.`target`;

SELECT 'pre';

DROP TABLE IF EXISTS `analytics`.`target__tau_new`;

CREATE TABLE `analytics`.`target__tau_new` ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM (SELECT * FROM raw.source) AS src;

EXCHANGE TABLES `analytics`.`target` AND `analytics`.`target__tau_new`;

DROP TABLE IF EXISTS `analytics`.`target__tau_new`;

SELECT 'post';

SELECT count(*) AS n FROM `analytics`.`target`;
