-- 0030: each credit names the row of the touch it credits (issue 12).
--
-- A run's credits name their touch by its text id, and about a dozen readers join them to the
-- touch rows by that id: a descent of the touch-id key (an index of every touch) and then one
-- of the table, per credit. `touch_row` is the touch's rowid, so the same join is one descent of
-- the table. It is also what lets the touch-id key stop being one index over every touch (the
-- import's largest remaining cost, see README): the readers of credits no longer need it.
--
-- A run writes the rowid its journeys were resolved with (the engine works by rowid already);
-- a credit written through `Store::insert_credits` looks its touch up by id. The column is NULL
-- only for a credit whose touch id names no touch, which no join by id matched either. A
-- touch's rowid does not change while a credit names it: erasing a touch deletes every run
-- that credits it, and nothing else deletes or moves touch rows.
--
-- Existing credits are filled in once here, by a look-up of their touch id.
ALTER TABLE credits ADD COLUMN touch_row INTEGER;
UPDATE credits SET touch_row = (SELECT t.rowid FROM touch_rows t WHERE t.touch_id = credits.touch_id);
