//! The TypeScript name of each type that crosses the bridge as a command's argument or answer,
//! or an event's payload (test builds only): the wire types' own names from ts-rs, numbers for
//! integers,. `crate::bindings` writes the UI's files
//! with them.

use lookback_app::views::ExportTable;
use lookback_app::wire::*;

/// A command as the UI calls it.
pub struct CommandSignature {
    pub name: &'static str,
    pub args: Vec<(&'static str, String)>,
    pub returns: String,
}

/// The TypeScript type of a command's argument or answer: the wire type's own name (ts-rs),
/// numbers for integers (they stay within JavaScript's safe range).
pub trait TsName {
    fn ts_name() -> String;
}

macro_rules! ts_named {
    ($($ty:ty),*) => {$(
        impl TsName for $ty {
            fn ts_name() -> String {
                <$ty as ts_rs::TS>::name()
            }
        }
    )*};
}

ts_named!(
    String,
    bool,
    StartupState,
    WorkspaceInfo,
    Maintenance,
    CompactionResult,
    Overview,
    ModelCatalog,
    DateRange,
    ModelChoice,
    ModelName,
    SourceKind,
    ChangeKind,
    ModelChangeEntry,
    ViewRequest,
    RoasView,
    ChartSvg,
    CacView,
    CohortView,
    CompareView,
    CreatorListItem,
    CreatorRevenueView,
    ExportResult,
    StatementWritten,
    StatementLine,
    WeightsView,
    WeightIntervalsView,
    RevenueIntervalsView,
    OrderCreditsView,
    ExportTable,
    ReconcileView,
    SourceRow,
    NewSourceRequest,
    ReconnectSourceRequest,
    DeadLetterRow,
    ReplayResult,
    SyncProgress,
    ListenerStatus,
    WebhookSecretRow,
    NewWebhookSecret,
    AlertCheckSummary,
    ImportKindName,
    ImportResult,
    PrivacyView,
    AlertRuleRow,
    NewAlertRule,
    RunRow,
    ConservationView,
    CreatorMoveRow,
    DuplicateRow,
    AlertNotificationRow,
    TrafficRow,
    TrafficView,
    TrafficClassName,
    TrafficRuleView,
    TrafficRuleVersion,
    TrafficRulesView,
    TrafficRuleEdit,
    TrafficRulesChange,
    TrafficClassCounts,
    TrafficMove,
    TrafficRulesAdopted,
    JobProgress
);

impl TsName for i64 {
    fn ts_name() -> String {
        "number".into()
    }
}

impl<T: TsName> TsName for Vec<T> {
    fn ts_name() -> String {
        format!("Array<{}>", T::ts_name())
    }
}

impl<T: TsName> TsName for Option<T> {
    fn ts_name() -> String {
        format!("{} | null", T::ts_name())
    }
}

impl TsName for () {
    fn ts_name() -> String {
        "null".into()
    }
}
