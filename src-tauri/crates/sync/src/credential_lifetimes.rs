//! How long each platform's credential lives when the platform cannot be asked (every kind but
//! Meta, whose `debug_token` reports a token's own expiry: see `credential_check`). The facts are
//! the platforms' published policies (`shared/api-notes.md`, "credential lifetime"), in one table
//! so the Sources card says for every source what a manager must renew, and when.

/// What a platform's policy says of a kind's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialLifetime {
    /// The credential never needs renewing by hand (a key that lasts until revoked), or it is
    /// short-lived and Lookback renews it itself from what the keyring holds.
    pub renewal: Renewal,
    /// The policy in words, for the card.
    pub in_words: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Lasts until revoked, rolled or deleted on the platform.
    Never,
    /// Short-lived access tokens Lookback renews before they expire.
    ByLookback,
}

/// The policy of `kind`'s credential; `None` where the platform reports the expiry itself
/// (Meta) or the credential is the user's own (generic).
pub fn lifetime_of(kind: &str) -> Option<CredentialLifetime> {
    let (renewal, in_words) = match kind {
        "stripe" => (
            Renewal::Never,
            "Stripe secret and restricted keys do not expire; they stop when rolled or deleted in the Dashboard",
        ),
        "dub" => (
            Renewal::Never,
            "Dub API keys do not expire; they stop when deleted",
        ),
        "rewardful" => (
            Renewal::Never,
            "the Rewardful API secret does not expire; it stops when regenerated",
        ),
        "tiktok" => (
            Renewal::Never,
            "TikTok long-term access tokens last until the advertiser revokes the app",
        ),
        "google_ads" => (
            Renewal::ByLookback,
            "access tokens last about an hour and are renewed from the refresh token, which lasts until revoked (7 days while the OAuth consent screen is in Testing)",
        ),
        "shopify" => (
            Renewal::ByLookback,
            "client-credentials tokens last 24 hours and are renewed from the app's client secret; a legacy shpat_ token lasts until the app is uninstalled",
        ),
        _ => return None,
    };
    Some(CredentialLifetime { renewal, in_words })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connector_but_meta_and_generic_has_a_stated_policy() {
        for kind in [
            "stripe",
            "dub",
            "rewardful",
            "tiktok",
            "google_ads",
            "shopify",
        ] {
            assert!(lifetime_of(kind).is_some(), "{kind}");
        }
        assert_eq!(lifetime_of("meta"), None, "Meta's expiry is asked of Meta");
        assert_eq!(lifetime_of("generic"), None);
        assert_eq!(
            lifetime_of("shopify").map(|l| l.renewal),
            Some(Renewal::ByLookback)
        );
    }
}
