-- 0028: a run's credit and order rows check their kind by comparisons instead of an IN list
-- (issue 12).
--
-- 0001 gave `credits.join_kind` and `run_orders.outcome` a CHECK with an IN list of three
-- strings. As 0027 found for the touch insert, SQLite evaluates such a CHECK by building a
-- temporary B-tree of the list for every row it inserts. A new run inserts a row per order and
-- a row per (order, touch): 600k credit rows for a first-touch run on the 10M busy year. In the
-- system `sqlite3`, inserting those rows took 0.63–0.70 s of CPU with the IN list and 0.29–0.33 s
-- with the same values spelt as comparisons joined by OR. Both forms accept exactly the same
-- values (the columns are NOT NULL and compare with the BINARY collation either way).
--
-- As in 0027, the schema's text changes in place (every stored row stays valid, the file's
-- format is unchanged, no row is copied), and the table made and dropped afterwards moves the
-- schema cookie so that every other connection reads the new text. A file that has the new text
-- already is left as it is.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (join_kind IN (''deterministic'', ''identity_graph'', ''probabilistic''))',
                  'CHECK (join_kind = ''deterministic'' OR join_kind = ''identity_graph'' OR join_kind = ''probabilistic'')')
WHERE type = 'table' AND name = 'credits';
UPDATE sqlite_schema
SET sql = replace(sql, 'CHECK (outcome IN (''attributed'', ''unattributed'', ''missing_fx''))',
                  'CHECK (outcome = ''attributed'' OR outcome = ''unattributed'' OR outcome = ''missing_fx'')')
WHERE type = 'table' AND name = 'run_orders';
PRAGMA writable_schema = RESET;
CREATE TABLE schema_cookie_moved (x);
DROP TABLE schema_cookie_moved;
