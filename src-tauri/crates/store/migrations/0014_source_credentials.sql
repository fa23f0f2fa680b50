-- 0014: what Lookback knows about a source's credential, besides the secret itself (which
-- only the OS keyring holds).
--
-- needs_reconnect_since_ms / needs_reconnect_reason: the platform refused the credential (HTTP
-- 401/403, Meta error 190, TikTok's auth codes, a revoked OAuth grant) at this instant, and
-- nothing but a new secret fixes it. Set on the first refusal of an outage (kept through the
-- refusals that follow, so an alert fires once per outage), cleared by a successful sync or by
-- `lookback source reconnect`. NULL while the credential works (or was never refused).
--
-- credential_*: the credential's own facts as the platform reported them when last inspected
-- (Meta's GET /debug_token): expiry (NULL with credential_checked_at_ms set = never expires),
-- when data access expires, its scopes (space-separated) and token type. Not secret.
ALTER TABLE sources ADD COLUMN needs_reconnect_since_ms INTEGER;
ALTER TABLE sources ADD COLUMN needs_reconnect_reason TEXT;
ALTER TABLE sources ADD COLUMN credential_checked_at_ms INTEGER;
ALTER TABLE sources ADD COLUMN credential_expires_at_ms INTEGER;
ALTER TABLE sources ADD COLUMN credential_data_access_expires_at_ms INTEGER;
ALTER TABLE sources ADD COLUMN credential_scopes TEXT;
ALTER TABLE sources ADD COLUMN credential_type TEXT;
