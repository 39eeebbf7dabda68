CREATE TABLE IF NOT EXISTS main.default.everything (
  s STRING NOT NULL COMMENT 'key', vc VARCHAR(05),by_booleanid MAP<INT, STRUCT<namedecismallineexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxeo STRUCT<lat: DOUBLE NOT NULL, place: STRUCT<codes: ARRAY<INT>, exJJJnamedecismallineen: TIMESTAMP>>, _______________________________1ags MAP<BOOLEAN, STRING>,
  gxxstruczxxxxxxxxxxxxxxxxhxxxxxxJJJJJJJJJJJJJtra: MAP<STRING, STRING>>>
) USING DELTA;
