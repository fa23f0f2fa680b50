//! lookback-store: the SQLite file of a workspace — schema by numbered migrations, typed queries,
//! the append-only raw-event log and dead letters. The only crate that speaks SQL.
