//! The seven kinds of CSV import, named as on the command line.

use std::fmt;
use std::str::FromStr;

use crate::IngestError;

/// What a CSV file holds; decides its required columns, its canonical table and the
/// `raw_events.stream` its rows are logged under (the CLI name, e.g. `creator-costs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportKind {
    /// Clicks, link visits, swipes and other touches → `touches`.
    Touches,
    /// Orders at their gross amount → `orders`.
    Orders,
    /// Refunds and chargebacks → `order_adjustments`.
    Refunds,
    /// Daily ad spend → `ad_spend` (a restated day replaces the stored one).
    Spend,
    /// Creator fees and commissions → `creator_costs`.
    CreatorCosts,
    /// Pairs of identity keys known to be one person → `identity_links`.
    Identities,
    /// Daily exchange rates → `fx_rates` (a restated day's rate replaces the stored one).
    FxRates,
}

impl ImportKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [ImportKind; 7] = [
        ImportKind::Touches,
        ImportKind::Orders,
        ImportKind::Refunds,
        ImportKind::Spend,
        ImportKind::CreatorCosts,
        ImportKind::Identities,
        ImportKind::FxRates,
    ];

    /// The CLI name, also used as the `raw_events` / `dead_letters` stream.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Touches => "touches",
            ImportKind::Orders => "orders",
            ImportKind::Refunds => "refunds",
            ImportKind::Spend => "spend",
            ImportKind::CreatorCosts => "creator-costs",
            ImportKind::Identities => "identities",
            ImportKind::FxRates => "fx-rates",
        }
    }

    /// Parses a CLI name, ignoring case and surrounding whitespace.
    pub fn parse(name: &str) -> Result<ImportKind, IngestError> {
        let wanted = name.trim();
        ImportKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| IngestError::UnknownKind {
                name: name.to_owned(),
            })
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportKind {
    type Err = IngestError;

    fn from_str(s: &str) -> Result<ImportKind, IngestError> {
        ImportKind::parse(s)
    }
}
