//! "Needs reconnecting" end to end in the library, against the Meta mock: every sync first asks
//! `debug_token` and stores the token's expiry and permissions (a week ahead the health state
//! warns); a token Meta refuses with error 190 — any subcode — puts the source in its own
//! state, needs reconnecting (not failing), with nothing it brought touched; a token without
//! `ads_read` is refused before any data request; a new token that syncs ends the state and
//! the sync resumes from the stored checkpoint.

use std::sync::Arc;

use lookback_store::{Source, Store};
use lookback_sync::{CancellationToken, SyncError};
use lookback_tests::mock::MockServer;
use lookback_tests::mock::ad_ledger::AdLedger;
use lookback_tests::mock::harness::{
    TEST_NOW_MS, fast_options, file_contains, run_sync_with, table_dump, workspace_with_source,
};
use lookback_tests::mock::meta::{MetaApi, TokenFacts};
use lookback_trust::{CredentialExpiry, HealthPolicy, HealthState, source_health_states};

const TOKEN: &str = "EAAGreconnectToken4f1b";
const NEW_TOKEN: &str = "EAAGnewSystemUserToken77c2";
const ACCOUNT: &str = "1234567";
const DAY_MS: i64 = 86_400_000;

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: Store,
    source: Source,
    api: Arc<MetaApi>,
    server: MockServer,
}

fn fixture() -> Fixture {
    let ledger = AdLedger::generate(
        "2026-01-01",
        "2026-02-28",
        &[("2385", "23851"), ("2390", "23901")],
        10_000,
    );
    let api = Arc::new(MetaApi::new(TOKEN, ACCOUNT, "USD", "UTC", ledger));
    let server = MockServer::start(api.clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("workspace.lookback");
    let (mut store, mut source) =
        workspace_with_source(&path, "meta", "ads", &format!("{}/v23.0", server.base_url));
    source.account = Some(format!("act_{ACCOUNT}"));
    store.write(|tx| tx.upsert_source(&source)).unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
        source,
        api,
        server,
    }
}

impl Fixture {
    fn sync(&mut self, token: &str, now_ms: i64) -> Result<(), SyncError> {
        run_sync_with(
            &mut self.store,
            &self.source,
            token,
            &fast_options(now_ms),
            &CancellationToken::new(),
            |_| {},
        )
        .map(|_| ())
    }

    fn health(&self, now_ms: i64) -> lookback_trust::SourceHealthState {
        source_health_states(&self.store, now_ms, HealthPolicy::default())
            .unwrap()
            .remove(0)
    }

    /// The requests after the `debug_token` ones: data requests.
    fn data_requests(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| !r.path.ends_with("/debug_token"))
            .count()
    }
}

#[test]
fn every_sync_stores_the_tokens_expiry_and_warns_seven_days_ahead() {
    let mut f = fixture();
    // A System User token: never expires.
    f.sync(TOKEN, TEST_NOW_MS).expect("first sync");
    assert_eq!(f.api.token_inspections(), 1, "one debug_token per sync");
    let inspection = f
        .server
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/debug_token"))
        .expect("debug_token asked");
    // At the pinned version, like every other request, whatever the base URL names.
    assert_eq!(
        inspection.path,
        format!(
            "/{}/debug_token",
            lookback_sync::api_versions::META.version.unwrap()
        )
    );
    assert_eq!(inspection.query("input_token"), Some(TOKEN));
    assert_eq!(
        inspection.query("access_token"),
        Some(TOKEN),
        "the token inspects itself"
    );
    let health = f.health(TEST_NOW_MS);
    assert_eq!(health.state, HealthState::Ok);
    assert_eq!(health.credential_expiry, CredentialExpiry::Never);
    let credential = f.store.source_credential("ads").unwrap().unwrap();
    assert_eq!(credential.token_type.as_deref(), Some("SYSTEM_USER"));
    assert_eq!(credential.scopes, ["ads_read", "business_management"]);
    assert_eq!(credential.checked_at_ms, Some(TEST_NOW_MS));

    // A user token that expires in 30 days (its data access in 80): not yet a warning; a day
    // later than 23 days on, it is.
    let expires_at_s = (TEST_NOW_MS + 30 * DAY_MS) / 1000;
    f.api.token_facts(TokenFacts {
        token_type: "USER".to_owned(),
        expires_at: expires_at_s,
        data_access_expires_at: (TEST_NOW_MS + 80 * DAY_MS) / 1000,
        scopes: vec!["ads_read".to_owned()],
    });
    let later = TEST_NOW_MS + 3_600_000;
    f.sync(TOKEN, later).expect("second sync");
    assert_eq!(
        f.health(later).credential_expiry,
        CredentialExpiry::At {
            expires_at_ms: expires_at_s * 1000
        }
    );
    let week_before = expires_at_s * 1000 - 7 * DAY_MS;
    assert_eq!(
        f.health(week_before - 1).credential_expiry.as_str(),
        "ok",
        "just over a week ahead"
    );
    assert_eq!(
        f.health(week_before).credential_expiry,
        CredentialExpiry::Soon {
            expires_at_ms: expires_at_s * 1000
        },
        "a week ahead the expiry is flagged"
    );
    // The token never reached the workspace, through the inspection or otherwise.
    assert!(!file_contains(&f.path, TOKEN));
}

#[test]
fn error_190_puts_the_source_in_needs_reconnecting_and_touches_nothing_stored() {
    for subcode in [463, 460, 467] {
        let mut f = fixture();
        f.sync(TOKEN, TEST_NOW_MS).expect("first sync");
        let stored = table_dump(&f.path);
        assert!(
            stored.contains("ads_insights"),
            "the first sync stored data and a checkpoint"
        );

        f.api.refuse_token(subcode);
        let later = TEST_NOW_MS + 3_600_000;
        let error = f.sync(TOKEN, later).expect_err("Meta refuses the token");
        let message = error.to_string();
        assert!(matches!(error, SyncError::Unauthorized { .. }), "{error:?}");
        assert!(
            message.contains(&format!("190/{subcode}"))
                && message.contains("needs reconnecting")
                && message.contains("lookback source reconnect ads"),
            "{message}"
        );
        assert!(!message.contains(TOKEN), "{message}");

        // Its own state, which wins over failing; never a generic failure.
        let health = f.health(later);
        assert_eq!(health.state, HealthState::NeedsReconnecting, "{subcode}");
        assert_eq!(health.needs_reconnect_since_ms, Some(later));
        assert!(
            health
                .needs_reconnect_reason
                .as_deref()
                .is_some_and(|r| r.contains(&format!("190/{subcode}"))),
            "{health:?}"
        );
        // Nothing already stored was touched: raw events, canonical rows, dead letters and
        // checkpoints are exactly as before.
        assert_eq!(table_dump(&f.path), stored, "{subcode}");

        // A second refused sync keeps the outage's first instant (one alert per outage).
        let even_later = later + 3_600_000;
        f.sync(TOKEN, even_later).expect_err("still refused");
        assert_eq!(f.health(even_later).needs_reconnect_since_ms, Some(later));
    }
}

#[test]
fn a_new_token_that_syncs_ends_the_state_and_resumes_from_the_checkpoint() {
    let mut f = fixture();
    f.sync(TOKEN, TEST_NOW_MS).expect("first sync");
    let spend_rows = lookback_tests::mock::harness::count(&f.path, "ad_spend");
    let backfill_jobs = f.api.jobs_submitted();
    f.api.refuse_token(463);
    let later = TEST_NOW_MS + 3_600_000;
    f.sync(TOKEN, later).expect_err("refused");
    assert_eq!(f.health(later).state, HealthState::NeedsReconnecting);

    // The user makes a System User token; the next sync with it succeeds and clears the state.
    f.api.accept_new_token(NEW_TOKEN);
    f.server.clear_requests();
    let next = later + 60_000;
    f.sync(NEW_TOKEN, next).expect("the new token syncs");
    let health = f.health(next);
    assert_eq!(health.state, HealthState::Ok);
    assert_eq!(health.needs_reconnect_since_ms, None);
    assert_eq!(health.last_error, None);
    // It resumed from the checkpoint: only the 28-day restatement window was read again, no
    // backfill job, and nothing was doubled.
    assert_eq!(
        f.api.jobs_submitted(),
        backfill_jobs,
        "no backfill job: the sync went on from the checkpoint"
    );
    assert_eq!(
        lookback_tests::mock::harness::count(&f.path, "ad_spend"),
        spend_rows
    );
}

#[test]
fn a_token_without_ads_read_is_refused_before_any_data_request() {
    let mut f = fixture();
    f.api.token_facts(TokenFacts {
        scopes: vec![
            "pages_show_list".to_owned(),
            "business_management".to_owned(),
        ],
        ..TokenFacts::default()
    });
    let error = f.sync(TOKEN, TEST_NOW_MS).expect_err("no ads_read");
    let message = error.to_string();
    assert!(
        message.contains("lacks the ads_read permission")
            && message.contains("lookback source reconnect ads"),
        "{message}"
    );
    assert_eq!(f.data_requests(), 0, "only debug_token was asked");
    assert_eq!(f.health(TEST_NOW_MS).state, HealthState::NeedsReconnecting);
}

/// A refused credential raises one source-health alert per outage, at once (a 4-hour rule
/// does not wait: only a reconnect fixes it), and a sync-failing rule names it "needs
/// reconnecting" with the command, never "failing".
#[test]
fn a_refusal_raises_one_alert_per_outage_with_the_reconnect_action() {
    use lookback_alerts::{AlertKind, Channel, RuleRequest};
    let mut f = fixture();
    f.sync(TOKEN, TEST_NOW_MS).expect("first sync");
    let rule = |kind: AlertKind, threshold: i64| RuleRequest {
        kind,
        subject: None,
        threshold,
        currency: None,
        include_provisional: false,
        grace_minutes: 0,
        channel: Channel::Desktop,
    };
    lookback_alerts::add_rule(
        &mut f.store,
        &rule(AlertKind::SourceHealth, 240),
        TEST_NOW_MS,
    )
    .unwrap();
    lookback_alerts::add_rule(
        &mut f.store,
        &rule(AlertKind::SyncFailing, 240),
        TEST_NOW_MS,
    )
    .unwrap();
    let later = TEST_NOW_MS + 60_000;
    assert_eq!(
        lookback_alerts::claim_findings(&mut f.store, later).unwrap(),
        (0, 0),
        "a healthy source raises nothing"
    );

    f.api.refuse_token(460);
    f.sync(TOKEN, later).expect_err("refused");
    assert_eq!(
        lookback_alerts::claim_findings(&mut f.store, later + 1).unwrap(),
        (2, 2),
        "one finding per rule, at once"
    );
    // The next checks, and another refused sync, are the same outage.
    f.sync(TOKEN, later + 600_000).expect_err("still refused");
    assert_eq!(
        lookback_alerts::claim_findings(&mut f.store, later + 700_000).unwrap(),
        (2, 0),
        "one notification per outage"
    );
    let conn = lookback_tests::open_sqlite(&f.path);
    let mut statement = conn
        .prepare("SELECT title, body FROM alert_notifications ORDER BY rule_id")
        .unwrap();
    let notes: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(notes.len(), 2);
    for (title, body) in &notes {
        assert_eq!(title, "ads needs reconnecting");
        assert!(
            body.contains("lookback source reconnect ads") && body.contains("190/460"),
            "{body}"
        );
        assert!(!body.contains(TOKEN));
    }

    // Reconnected (a sync with a new token succeeds), then refused again: a new outage, a new
    // notification per rule.
    f.api.accept_new_token(NEW_TOKEN);
    f.sync(NEW_TOKEN, later + 800_000).expect("new token");
    assert_eq!(
        lookback_alerts::claim_findings(&mut f.store, later + 900_000).unwrap(),
        (0, 0)
    );
    f.api.refuse_token(463);
    f.sync(NEW_TOKEN, later + 1_000_000)
        .expect_err("refused again");
    assert_eq!(
        lookback_alerts::claim_findings(&mut f.store, later + 1_100_000).unwrap(),
        (2, 2)
    );
}
