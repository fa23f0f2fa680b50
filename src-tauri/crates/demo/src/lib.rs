//! lookback-demo: writes a deterministic, realistic demo workspace (creators, campaigns, spend,
//! touches, orders, refunds) through the store, from a seed.
