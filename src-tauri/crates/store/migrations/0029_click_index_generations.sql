-- 0029: the click-id index in generations (issue 12).
--
-- `touches_by_click` kept every touch's click id in one B-tree in click-id order. Click ids are
-- random, so a monthly file's new ones (a third of its touches) landed all over an index of
-- millions, and its commit rewrote nearly every leaf page of that index: at 10M touches the
-- index was ~40 % of what SQLite itself spends on a late monthly file.
--
-- Now each touch row carries the generation it was written in: its rowid shifted right by 20
-- (a generation is 1,048,576 rowids), or 0 for a row written before this migration. The index is
-- in (generation, click id) order, so a file's click ids land in the part of the newest
-- generation, a small index of their own in all but name, and the older parts are not touched.
-- `touch_generations` lists the generations that have ever been written; a look-up by click id
-- looks in each (a seek per generation), and the walk of every click id in click-id order merges
-- the generations' sorted runs (see `touch_generations.rs`).
--
-- Existing rows keep generation 0 without being rewritten (the column's default); the index is
-- built again once, by sorting the stored click ids, inside the upgrade's transaction.
ALTER TABLE touch_rows ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE TABLE touch_generations (generation INTEGER PRIMARY KEY) STRICT;
INSERT INTO touch_generations (generation) VALUES (0);
DROP INDEX touches_by_click;
CREATE INDEX touches_by_click ON "touch_rows" (generation, click_id) WHERE click_id IS NOT NULL;
