-- 0025: a placeholder on the trafficsum branch only, so its 0026 applies in order. The lead's
-- migration 0025 (the touch time span, issue 12) replaces this file when the branch is merged.
SELECT 1;
