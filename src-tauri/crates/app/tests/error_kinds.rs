//! What the window shows when something goes wrong: every job answers an `AppError` whose kind
//! says what happened — a bad input (naming the field), a missing, foreign or damaged file, no
//! workspace — so no expected error surfaces as `internal`. Called as the window calls them:
//! the session jobs of lookback-app, on a real workspace file.

use std::path::Path;
use std::sync::Arc;

use lookback_app::jobs::{realtime, sources, views, workspace};
use lookback_app::wire::{
    AlertChannel, AlertKindName, ModelChoice, ModelName, NewAlertRule, ViewBy, ViewRequest,
};
use lookback_app::{AppError, ErrorKind, NoEvents, Session};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn session() -> Session {
    Session::new(Arc::new(NoEvents))
}

/// A small demo workspace open in a fresh session.
fn demo_session(dir: &Path) -> Session {
    let path = dir.join("demo.lookback");
    lookback_app::workspace::create_demo(
        &path,
        &lookback_app::workspace::DemoOptions {
            seed: 7,
            orders: 200,
            end_at_ms: 1_782_000_000_000,
        },
    )
    .unwrap();
    let session = session();
    workspace::open_in_session(&session, &path).unwrap();
    session
}

fn request() -> ViewRequest {
    ViewRequest {
        model: None,
        by: ViewBy::Creator,
        from: None,
        to: None,
        bucket: None,
        settled_only: false,
        basis: None,
        touches: None,
    }
}

#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: Result<T, AppError>, kind: ErrorKind, names: &str) {
    let err = result.expect_err("the job should have refused");
    assert_eq!(err.kind, kind, "wrong kind for {err:?}");
    assert!(
        err.message.contains(names),
        "the message {:?} should name {names:?}",
        err.message
    );
}

#[test]
fn files_that_cannot_be_opened_say_why_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let session = session();
    assert_kind(
        workspace::open_in_session(&session, &dir.path().join("missing.lookback")),
        ErrorKind::NotFound,
        "missing.lookback",
    );
    let foreign = dir.path().join("notes.txt");
    std::fs::write(
        &foreign,
        "not a database, just text that is long enough to read",
    )
    .unwrap();
    assert_kind(
        workspace::open_in_session(&session, &foreign),
        ErrorKind::NotAWorkspace,
        "notes.txt",
    );
    // A truncated copy of a real workspace: the CLI's open refuses it as damaged.
    let demo = demo_session(dir.path());
    drop(demo);
    let bytes = std::fs::read(dir.path().join("demo.lookback")).unwrap();
    let truncated = dir.path().join("truncated.lookback");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = lookback_app::workspace::open(&truncated)
        .map(drop)
        .map_err(AppError::from);
    assert_kind(err, ErrorKind::Damaged, "damaged");
    // Creating over an existing file never overwrites it.
    assert_kind(
        workspace::create_job(&session, &foreign, "New"),
        ErrorKind::AlreadyExists,
        "notes.txt",
    );
}

#[test]
fn a_job_without_an_open_workspace_says_so() {
    let rt = runtime();
    assert_kind(
        rt.block_on(views::roas_job(&session(), request())),
        ErrorKind::NoWorkspace,
        "No workspace",
    );
}

#[test]
fn bad_inputs_are_invalid_input_and_name_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let session = demo_session(dir.path());
    let rt = runtime();

    assert_kind(
        workspace::create_job(&session, &dir.path().join("new.lookback"), "  "),
        ErrorKind::InvalidInput,
        "name",
    );
    let bad_day = ViewRequest {
        from: Some("2026-13-40".into()),
        ..request()
    };
    assert_kind(
        rt.block_on(views::roas_job(&session, bad_day)),
        ErrorKind::InvalidInput,
        "from",
    );
    let bad_to = ViewRequest {
        to: Some("yesterday".into()),
        ..request()
    };
    assert_kind(
        rt.block_on(views::roas_job(&session, bad_to)),
        ErrorKind::InvalidInput,
        "yesterday",
    );
    let choice = ModelChoice {
        model: ModelName::PositionBased,
        window_days: 30,
        half_life_days: 7,
        position_weights: [40, 20, 40],
    };
    let weights = ModelChoice {
        position_weights: [50, 50, 50],
        ..choice
    };
    assert_kind(
        rt.block_on(views::set_default_model_job(
            &session,
            weights.clone(),
            "because".into(),
        )),
        ErrorKind::InvalidInput,
        "weights",
    );
    let fine = ModelChoice {
        position_weights: [40, 20, 40],
        ..weights
    };
    assert_kind(
        rt.block_on(views::set_default_model_job(&session, fine, "  ".into())),
        ErrorKind::InvalidInput,
        "reason",
    );
    assert_kind(
        rt.block_on(realtime::start_listener_job(
            &session,
            "somewhere".into(),
            Arc::new(|| {
                Box::new(lookback_alerts::StderrNotifier) as Box<dyn lookback_alerts::Notifier>
            }),
        )),
        ErrorKind::InvalidInput,
        "address",
    );
    let rule = NewAlertRule {
        kind: AlertKindName::LargeOrder,
        subject: None,
        threshold: "lots".into(),
        currency: Some("USD".into()),
        include_provisional: false,
        grace_minutes: 0,
        channel: AlertChannel::Desktop,
    };
    assert_kind(
        rt.block_on(realtime::add_alert_rule_job(&session, rule)),
        ErrorKind::InvalidInput,
        "lots",
    );
    assert_kind(
        rt.block_on(sources::replay_job(&session, "no-such-source".into())),
        ErrorKind::InvalidInput,
        "no-such-source",
    );
}

/// A closed set (a grouping, a bucket, a model, an alert's kind or channel, an export table) is
/// an enum on the wire: a value outside it cannot reach a job. The window's arguments are
/// deserialized by Tauri before the command runs, and a failure there is the command's error
/// (naming the value and what was expected), so the job never starts.
#[test]
fn values_outside_a_closed_set_are_refused_when_the_request_is_read() {
    #[track_caller]
    fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str, names: &str) {
        let err = serde_json::from_str::<T>(json).expect_err("the value should be refused");
        assert!(
            err.to_string().contains(names),
            "the error {err} should name {names:?}"
        );
    }
    let view = |by: &str, model: &str, bucket: &str| {
        format!(
            r#"{{"model":{model},"by":{by},"from":null,"to":null,"bucket":{bucket},"settled_only":false}}"#
        )
    };
    let choice = |model: &str| {
        format!(
            r#"{{"model":"{model}","window_days":30,"half_life_days":7,"position_weights":[40,20,40]}}"#
        )
    };
    // The strings the window sends today are read as before.
    let fine: ViewRequest = serde_json::from_str(&view(
        r#""creator""#,
        &choice("position-based"),
        r#""week""#,
    ))
    .unwrap();
    assert_eq!(fine.by, ViewBy::Creator);
    assert_eq!(fine.model.unwrap().model, ModelName::PositionBased);
    refused::<ViewRequest>(&view(r#""colour""#, "null", "null"), "colour");
    refused::<ViewRequest>(
        &view(r#""creator""#, &choice("astrology"), "null"),
        "astrology",
    );
    refused::<ViewRequest>(&view(r#""creator""#, "null", r#""fortnight""#), "fortnight");
    refused::<ModelChoice>(&choice("astrology"), "astrology");
    let rule = |kind: &str, channel: &str| {
        format!(
            r#"{{"kind":"{kind}","subject":null,"threshold":"10","currency":null,"include_provisional":false,"grace_minutes":0,"channel":"{channel}"}}"#
        )
    };
    serde_json::from_str::<NewAlertRule>(&rule("large_order", "slack")).unwrap();
    refused::<NewAlertRule>(&rule("mood", "desktop"), "mood");
    refused::<NewAlertRule>(&rule("dead_letters", "pigeon"), "pigeon");
    refused::<lookback_app::views::ExportTable>(r#""horoscope""#, "horoscope");
    assert_eq!(
        serde_json::from_str::<lookback_app::views::ExportTable>(r#""model-log""#).unwrap(),
        lookback_app::views::ExportTable::ModelLog
    );
}
