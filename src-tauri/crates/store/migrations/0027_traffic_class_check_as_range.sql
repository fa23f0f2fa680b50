-- 0027: the traffic class's CHECK as a range instead of a list (issue 12).
--
-- 0019 added `traffic_class ... CHECK (traffic_class IN (0, 1, 2))`. SQLite evaluates a CHECK
-- with an IN list of three or more constants by building a temporary B-tree of the list, and it
-- does that on every insert: opening, filling and closing it was ~12 % of the CSV import's
-- writing thread (`perf` on a 347k-row touch file). `BETWEEN 0 AND 2` accepts exactly the same
-- values of this STRICT INTEGER column and costs two comparisons.
--
-- A constraint change that leaves every stored row valid and the file's format as it is can be
-- made in the schema's text, as SQLite's documentation on ALTER TABLE describes ("making other
-- kinds of table schema changes"), instead of copying the whole table (which would rewrite
-- every touch: ~50 s on 4M touches). `writable_schema = RESET` makes this connection read the
-- new text; the empty table made and dropped after it moves the schema cookie, so every other
-- connection reads it again too. A file that has the range already is left as it is.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (traffic_class IN (0, 1, 2))', 'CHECK (traffic_class BETWEEN 0 AND 2)')
WHERE type = 'table' AND name = 'touch_rows';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_cookie_moved (x);
DROP TABLE schema_cookie_moved;
