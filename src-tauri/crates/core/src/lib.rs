//! lookback-core: domain types and all the math — money, time, journeys and attribution models.
//! Pure functions of their inputs (`now` included); no IO, no clock, no SQL, no HTTP.
