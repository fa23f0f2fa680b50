-- 0011: one sale, one order, whichever platforms report it. A payment platform and an
-- attribution platform often report the same sale under different ids (a Stripe charge `ch_…`
-- whose invoice `in_…` is the `invoiceId` of Dub's sale event). Connectors name the other ids
-- of an order as aliases; `WriteTx::add_order_alias` folds two orders that turn out to be one
-- sale into the first one stored, and orders, refunds and status updates that arrive under an
-- alias land on that order. Ids of payments and invoices, never of people.
CREATE TABLE order_aliases (
    alias          TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL,
    source         TEXT NOT NULL,
    created_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX order_aliases_by_order ON order_aliases (order_id);
