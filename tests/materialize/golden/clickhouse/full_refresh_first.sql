-- clickhouse: full_refresh_first

SELECT if(engine = 'View', 'view', 'table') AS kind FROM system.tables WHERE database = {p1:String} AND table = {p2:String}
-- params: ["analytics","target"];

CREATE DATABASE IF NOT EXISTS `analytics`;

CREATE TABLE `analytics`.`target` ENGINE = MergeTree ORDER BY tuple() AS SELECT * FROM (SELECT * FROM raw.source) AS src;

SELECT count(*) AS n FROM `analytics`.`target`;
