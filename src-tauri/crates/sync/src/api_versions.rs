//! The API version each connector is pinned to, in one table, with the day each platform has
//! announced for retiring it, and the pure checks built on it: how many days a pin has left
//! ([`version_warning`]), the versioned API root of a source ([`versioned_root`]), and the error
//! a connector reports when the platform says the pin is retired ([`retired_error`]).
//!
//! Why a pin and not "the latest": each normalizer was written against one version's field names
//! and meanings, so every request of a connector asks for exactly that version, whatever base
//! URL the source was registered with. Moving a pin is a code change, checked against the
//! platform's official SDK (named in [`ApiVersionPin::checked_against`]).
//!
//! Architecture Invariant: no connector spells a version itself; its URLs and headers take the
//! version from [`ApiVersionPin::version`] of its row here.

use lookback_core::time::{NaiveDate, Tz, day_in_zone};

use crate::SyncError;

/// One connector's pinned API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersionPin {
    /// The connector's kind name (`meta`, `google_ads`, ...).
    pub kind: &'static str,
    /// The platform's name as people know it, for messages.
    pub platform: &'static str,
    /// The version as it appears in URLs or headers (`v26.0`, `v26`, `2026-07`), or `None` for
    /// an API that has no versions.
    pub version: Option<&'static str>,
    /// The day (`YYYY-MM-DD`, UTC) the platform has announced it stops serving this version;
    /// `None` while it has announced none.
    pub sunset: Option<&'static str>,
    /// Where the pin and the sunset day were checked.
    pub checked_against: &'static str,
}

/// Meta Marketing API: the version `facebook-business` 26.0.3 ships (`apiconfig.API_VERSION`).
/// Meta's version table lists v26.0 (released 2026-07-29) with expiry "TBD"; v25.0 expires
/// 2027-02-23, v24.0 expired 2026-11-10 and v23.0 2026-06-09.
pub const META: ApiVersionPin = ApiVersionPin {
    kind: "meta",
    platform: "Meta",
    version: Some("v26.0"),
    sunset: None,
    checked_against: "facebook-business 26.0.3 apiconfig.API_VERSION; Meta's Marketing API version table",
};

/// Google Ads API: the newest of `google-ads` 34.0.0 `_VALID_API_VERSIONS` (v23–v26, default
/// v26). Google has not published a sunset day for v26 (v21 ended 2026-08-05, v22 2026-10-07).
pub const GOOGLE_ADS: ApiVersionPin = ApiVersionPin {
    kind: "google_ads",
    platform: "Google Ads",
    version: Some("v26"),
    sunset: None,
    checked_against: "google-ads 34.0.0 client._VALID_API_VERSIONS",
};

/// The Shopify Admin API version in every path (`/admin/api/{version}/…`).
pub const SHOPIFY_VERSION: &str = "2026-04";

/// Shopify Admin API: the newest version for which `@shopify/shopify-api` 13.1.0 ships REST
/// resources (`rest/admin/2026-04`; its `ApiVersion` names 2026-07, but REST is legacy and the
/// SDK has no REST resources for it), so every field the connector reads is checked against the
/// SDK by the contract tests. Shopify supports a stable version for at least 12 months — four
/// at a time, one released each quarter — so 2026-04 leaves support when 2027-04 is released;
/// after that Shopify serves its requests from the oldest supported version ("falling
/// forward") rather than failing, which the connector notices by `X-Shopify-API-Version`.
pub const SHOPIFY: ApiVersionPin = ApiVersionPin {
    kind: "shopify",
    platform: "Shopify",
    version: Some(SHOPIFY_VERSION),
    sunset: Some("2027-04-01"),
    checked_against: "@shopify/shopify-api 13.1.0 rest/admin/2026-04 and ApiVersion",
};

/// TikTok Marketing API: v1.3, the only version `tiktok-business-api-sdk-official` 1.1.3 calls.
pub const TIKTOK: ApiVersionPin = ApiVersionPin {
    kind: "tiktok",
    platform: "TikTok",
    version: Some("v1.3"),
    sunset: None,
    checked_against: "tiktok-business-api-sdk-official 1.1.3",
};

/// The `Stripe-Version` header value (a plain constant, so the Stripe connector can name it in
/// its own constant).
pub const STRIPE_VERSION: &str = "2024-06-20";

/// Stripe: the `Stripe-Version` header every request sends. Stripe keeps old versions working;
/// webhooks still arrive in the endpoint's own version.
pub const STRIPE: ApiVersionPin = ApiVersionPin {
    kind: "stripe",
    platform: "Stripe",
    version: Some(STRIPE_VERSION),
    sunset: None,
    checked_against: "shared/api-notes.md (2024-06-20 still accepted)",
};

/// Rewardful: `/v1/` in every path.
pub const REWARDFUL: ApiVersionPin = ApiVersionPin {
    kind: "rewardful",
    platform: "Rewardful",
    version: Some("v1"),
    sunset: None,
    checked_against: "shared/api-notes.md",
};

/// Dub: an unversioned API.
pub const DUB: ApiVersionPin = ApiVersionPin {
    kind: "dub",
    platform: "Dub",
    version: None,
    sunset: None,
    checked_against: "dub 0.73.5 (unversioned paths)",
};

/// Lookback's own generic attribution contract: its `/v1/` is Lookback's, not a platform's.
pub const GENERIC: ApiVersionPin = ApiVersionPin {
    kind: "generic",
    platform: "generic attribution API",
    version: None,
    sunset: None,
    checked_against: "README: the generic attribution API (Lookback's own contract)",
};

/// Every connector's pin, in the order the Sources table lists them.
pub const PINS: &[ApiVersionPin] = &[
    META, GOOGLE_ADS, TIKTOK, STRIPE, SHOPIFY, DUB, REWARDFUL, GENERIC,
];

/// Days before a known sunset from which [`version_warning`] speaks up.
pub const WARNING_DAYS: i64 = 30;

/// The pin of a connector kind, if it is one Lookback knows.
pub fn pin_for(kind: &str) -> Option<&'static ApiVersionPin> {
    PINS.iter().find(|pin| pin.kind == kind)
}

/// A pinned version close to (or past) its announced sunset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionWarning {
    pub kind: &'static str,
    pub platform: &'static str,
    pub version: &'static str,
    /// `YYYY-MM-DD`.
    pub sunset: &'static str,
    /// Whole days from today (UTC) to the sunset day: 0 on the day itself, negative after it.
    pub days_left: i64,
}

impl std::fmt::Display for VersionWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (platform, version, sunset) = (self.platform, self.version, self.sunset);
        match self.days_left {
            days if days < 0 => write!(
                f,
                "{platform}: pinned version {version} was retired on {sunset} ({} days ago); this Lookback needs an update",
                -days
            ),
            0 => write!(
                f,
                "{platform}: pinned version {version} retires on {sunset} (today)"
            ),
            1 => write!(
                f,
                "{platform}: pinned version {version} retires on {sunset} (in 1 day)"
            ),
            days => write!(
                f,
                "{platform}: pinned version {version} retires on {sunset} (in {days} days)"
            ),
        }
    }
}

/// What the Sources screen and `lookback health` say about `kind`'s pinned version at `now_ms`:
/// a warning from [`WARNING_DAYS`] days before its announced sunset on (and after it), `None`
/// otherwise — also for unknown kinds, unversioned APIs and versions with no announced sunset.
pub fn version_warning(kind: &str, now_ms: i64) -> Option<VersionWarning> {
    pin_for(kind).and_then(|pin| pin_warning(pin, now_ms))
}

/// [`version_warning`] for every pin that has one at `now_ms`, in [`PINS`] order: what
/// `lookback health` lists.
pub fn version_warnings(now_ms: i64) -> Vec<VersionWarning> {
    PINS.iter()
        .filter_map(|pin| pin_warning(pin, now_ms))
        .collect()
}

/// [`version_warning`] for one pin.
pub fn pin_warning(pin: &ApiVersionPin, now_ms: i64) -> Option<VersionWarning> {
    let version = pin.version?;
    let sunset = pin.sunset?;
    let sunset_day = NaiveDate::parse_from_str(sunset, "%Y-%m-%d").ok()?;
    let today = day_in_zone(now_ms, Tz::UTC).ok()?;
    let days_left = sunset_day.signed_duration_since(today).num_days();
    (days_left <= WARNING_DAYS).then_some(VersionWarning {
        kind: pin.kind,
        platform: pin.platform,
        version,
        sunset,
        days_left,
    })
}

/// `base_url` with its last path segment set to `version`: a trailing version segment (`v23.0`,
/// `v21`, `v1.3`) is replaced, since a base URL saved by an older Lookback or copied from a
/// platform's docs names an older version; otherwise the version is appended.
pub fn versioned_root(base_url: &str, version: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let root = match base.rsplit_once('/') {
        Some((head, last)) if is_version_segment(last) && !head.ends_with('/') => head,
        _ => base,
    };
    format!("{root}/{version}")
}

/// `v` followed by digits, optionally `.digits` (`v26`, `v26.0`, `v1.3`).
fn is_version_segment(segment: &str) -> bool {
    let Some(rest) = segment.strip_prefix('v') else {
        return false;
    };
    let (major, minor) = rest.split_once('.').unwrap_or((rest, "0"));
    !major.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit())
        && !minor.is_empty()
        && minor.bytes().all(|b| b.is_ascii_digit())
}

/// The error for "the platform no longer serves `pin`'s version": the pin's announced sunset
/// day when one is known.
pub fn retired_error(pin: &ApiVersionPin) -> SyncError {
    SyncError::ApiVersionRetired {
        platform: pin.platform.to_owned(),
        version: pin.version.unwrap_or("(unversioned)").to_owned(),
        date: pin.sunset.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2027-01-24T12:00:00Z.
    const JAN_24_NOON: i64 = 1_800_792_000_000;
    const DAY_MS: i64 = 86_400_000;

    fn pin(sunset: Option<&'static str>) -> ApiVersionPin {
        ApiVersionPin { sunset, ..META }
    }

    #[test]
    fn a_pin_warns_from_thirty_days_before_its_sunset_and_keeps_warning_after_it() {
        let v25 = ApiVersionPin {
            version: Some("v25.0"),
            ..pin(Some("2027-02-23"))
        };
        // 2027-01-24 is 30 days before 2027-02-23.
        let warning = pin_warning(&v25, JAN_24_NOON).expect("30 days out");
        assert_eq!(warning.days_left, 30);
        assert_eq!(
            warning.to_string(),
            "Meta: pinned version v25.0 retires on 2027-02-23 (in 30 days)"
        );
        assert_eq!(pin_warning(&v25, JAN_24_NOON - DAY_MS), None, "31 days out");
        let last_day = pin_warning(&v25, JAN_24_NOON + 29 * DAY_MS).unwrap();
        assert_eq!(
            last_day.to_string(),
            "Meta: pinned version v25.0 retires on 2027-02-23 (in 1 day)"
        );
        assert_eq!(
            pin_warning(&v25, JAN_24_NOON + 30 * DAY_MS)
                .unwrap()
                .to_string(),
            "Meta: pinned version v25.0 retires on 2027-02-23 (today)"
        );
        assert_eq!(
            pin_warning(&v25, JAN_24_NOON + 33 * DAY_MS)
                .unwrap()
                .to_string(),
            "Meta: pinned version v25.0 was retired on 2027-02-23 (3 days ago); this Lookback needs an update"
        );
    }

    #[test]
    fn no_warning_without_an_announced_sunset_a_version_or_a_known_kind() {
        assert_eq!(pin_warning(&pin(None), JAN_24_NOON), None);
        let unversioned = ApiVersionPin {
            version: None,
            ..pin(Some("2027-02-23"))
        };
        assert_eq!(pin_warning(&unversioned, JAN_24_NOON), None);
        assert_eq!(version_warning("no_such_kind", JAN_24_NOON), None);
        assert_eq!(version_warning("dub", JAN_24_NOON), None);
        // Today's pins have no announced sunset, so nothing is said about them yet.
        assert_eq!(version_warnings(JAN_24_NOON), Vec::new());
    }

    #[test]
    fn every_connector_has_one_pin_and_the_pins_are_todays_versions() {
        for kind in [
            "meta",
            "google_ads",
            "tiktok",
            "stripe",
            "shopify",
            "dub",
            "rewardful",
            "generic",
        ] {
            assert_eq!(PINS.iter().filter(|p| p.kind == kind).count(), 1, "{kind}");
        }
        // The floor: Google Ads v23+, Meta v25.0+, Shopify 2026-01+.
        let number = |v: &str| -> f64 { v.trim_start_matches('v').parse().unwrap() };
        assert!(number(GOOGLE_ADS.version.unwrap()) >= 23.0);
        assert!(number(META.version.unwrap()) >= 25.0);
        assert!(SHOPIFY.version.unwrap() >= "2026-01");
        for pin in PINS {
            if let Some(sunset) = pin.sunset {
                assert!(
                    NaiveDate::parse_from_str(sunset, "%Y-%m-%d").is_ok(),
                    "{sunset}"
                );
            }
        }
    }

    #[test]
    fn the_version_segment_of_a_base_url_is_the_pinned_one() {
        assert_eq!(
            versioned_root("https://graph.facebook.com", "v26.0"),
            "https://graph.facebook.com/v26.0"
        );
        assert_eq!(
            versioned_root("http://127.0.0.1:9/v23.0/", "v26.0"),
            "http://127.0.0.1:9/v26.0"
        );
        assert_eq!(
            versioned_root("https://googleads.googleapis.com/v21", "v26"),
            "https://googleads.googleapis.com/v26"
        );
        assert_eq!(
            versioned_root("https://business-api.tiktok.com/open_api/v1.3", "v1.3"),
            "https://business-api.tiktok.com/open_api/v1.3"
        );
        assert_eq!(
            versioned_root("https://proxy.example/graph", "v26.0"),
            "https://proxy.example/graph/v26.0"
        );
        // A host that merely starts with v is not a version.
        assert_eq!(versioned_root("http://v1", "v26"), "http://v1/v26");
    }

    #[test]
    fn a_retired_pin_is_one_clear_error_naming_the_day_when_known() {
        assert_eq!(
            retired_error(&ApiVersionPin {
                version: Some("v25.0"),
                ..pin(Some("2027-02-23"))
            })
            .to_string(),
            "Meta retired API version v25.0 on 2027-02-23; this Lookback needs an update"
        );
        assert_eq!(
            retired_error(&GOOGLE_ADS).to_string(),
            "Google Ads retired API version v26; this Lookback needs an update"
        );
    }
}
