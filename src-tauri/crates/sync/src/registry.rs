//! Which connector serves which kind of source. Adding a connector is one line in
//! [`connector_for_kind`] and one in [`KINDS`].

use std::sync::Arc;

use crate::connector::Connector;
use crate::connectors;
use crate::{SyncError, SyncResult};

/// Every kind of source `lookback source add` accepts.
pub const KINDS: &[&str] = &[
    "generic",
    "stripe",
    "meta",
    "google_ads",
    "tiktok",
    "shopify",
    "dub",
    "rewardful",
];

/// The connector of a kind of source.
pub fn connector_for_kind(kind: &str) -> SyncResult<Arc<dyn Connector>> {
    let connector: Arc<dyn Connector> = match kind {
        "generic" => Arc::new(connectors::generic::GenericConnector),
        "stripe" => Arc::new(connectors::stripe::StripeConnector),
        "meta" => Arc::new(connectors::meta::MetaConnector),
        "google_ads" => Arc::new(connectors::google_ads::GoogleAdsConnector),
        "tiktok" => Arc::new(connectors::tiktok::TikTokConnector),
        "shopify" => Arc::new(connectors::shopify::ShopifyConnector),
        "dub" => Arc::new(connectors::dub::DubConnector),
        "rewardful" => Arc::new(connectors::rewardful::RewardfulConnector),
        _ => {
            return Err(SyncError::UnknownKind {
                kind: kind.to_owned(),
                known: KINDS.join(", "),
            });
        }
    };
    Ok(connector)
}
