-- 0013: reserved. Another branch (source settings for OAuth, or Dub sale matching) adds the real
-- 0013; the reconnect branch needs its own migration to be 0014, and versions must be
-- consecutive, so this placeholder holds the number until the branches are merged. It changes
-- nothing; when the other branch's 0013 lands, it replaces this file.
SELECT 1;
