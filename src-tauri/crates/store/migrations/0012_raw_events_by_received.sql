-- 0012: data health counts the raw events each source received per 24 hours over the last two
-- weeks (`Store::daily_received_counts`) for the Sources screen, `lookback health` and every
-- source-health alert check. Without this index each count read the whole raw_events table,
-- payloads included; with it the count reads only the window, from the index alone.
CREATE INDEX raw_events_by_received ON raw_events (received_at_ms, source);
