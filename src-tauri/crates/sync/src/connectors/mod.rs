//! One module per platform. Each implements [`crate::Connector`] and nothing else: no IO, no
//! store access, no clock (the run's time is `SourceContext::now_ms`).

pub mod ad_platform;
pub mod dub;
pub mod generic;
pub mod google_ads;
pub mod meta;
pub mod meta_token;
pub mod rewardful;
pub mod shopify;
pub mod stripe;
pub mod tiktok;
