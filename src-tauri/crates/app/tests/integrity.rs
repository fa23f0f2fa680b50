//! Damage the open cannot see (issue 12): opening reads only the header and the file's length,
//! so a flipped bit inside a data page is caught later — by the job whose query reads the page,
//! or by the whole-file check the window runs in the background when one is due — and either
//! way the window ends up in the read-only damaged mode with a message naming the file.
//! `lookback check` (the job behind it) catches it too, and records a pass.

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use lookback_app::jobs::workspace;
use lookback_app::{AppError, AppEvent, ErrorKind, EventSink, Session};
use lookback_store::{IdentityKeys, Store, StoreError, Touch};

/// Hands every event the session emits to the test.
struct Events(mpsc::Sender<AppEvent>);

impl EventSink for Events {
    fn emit(&self, event: AppEvent) {
        let _ = self.0.send(event);
    }
}

fn session() -> (Session, mpsc::Receiver<AppEvent>) {
    let (sender, receiver) = mpsc::channel();
    (Session::new(Arc::new(Events(sender))), receiver)
}

/// Waits for the session to say the workspace was found damaged; what it says.
fn damaged_event(events: &mpsc::Receiver<AppEvent>) -> lookback_app::wire::WorkspaceInfo {
    loop {
        match events.recv_timeout(Duration::from_secs(120)) {
            Ok(AppEvent::WorkspaceDamaged(info)) => return info,
            Ok(_) => continue,
            Err(e) => panic!("the workspace was never reported damaged: {e}"),
        }
    }
}

/// A workspace of 20,000 touches, closed; `checked_at_ms` stamps a passing check.
fn workspace_of_touches(dir: &Path, checked_at_ms: Option<i64>) -> PathBuf {
    let path = dir.join("touches.lookback");
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| {
            for i in 0..20_000 {
                tx.insert_touch(&Touch {
                    touch_id: format!("touch-{i:06}"),
                    source: "web".into(),
                    occurred_at_ms: 1_700_000_000_000 + i,
                    channel: "paid_social".into(),
                    touch_type: "click".into(),
                    creator_id: Some(format!("creator-{}", i % 50)),
                    campaign_id: Some("campaign".into()),
                    ad_id: None,
                    content_id: None,
                    click_id: Some(format!("click-{i}")),
                    identity: IdentityKeys {
                        anonymous_id: Some(format!("anon-{i}")),
                        ..Default::default()
                    },
                    raw_event_id: None,
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    if let Some(at) = checked_at_ms {
        store.record_check_passed(at, &[]).unwrap();
    }
    drop(store);
    path
}

/// Flips one bit in the first byte of 16 pages in the middle of the file (a b-tree page's
/// type, or the next-page number of a list page): damage in the data, far from the header.
fn flip_bits_in_the_middle(path: &Path) {
    let page_size = usize::try_from(Store::open_read_only(path).unwrap().page_size().unwrap())
        .expect("a page size is positive");
    let mut bytes = std::fs::read(path).unwrap();
    let pages = bytes.len() / page_size;
    assert!(pages > 100, "the test needs a file of many pages");
    for page in pages / 2..pages / 2 + 16 {
        bytes[page * page_size] ^= 0x40;
    }
    std::fs::write(path, &bytes).unwrap();
}

#[test]
fn a_job_meeting_a_damaged_page_names_the_file_and_leaves_the_workspace_read_only() {
    let dir = tempfile::tempdir().unwrap();
    // Checked a moment ago, so no background check is due: the job is what finds the damage.
    let path = workspace_of_touches(dir.path(), Some(lookback_app::clock::now_ms()));
    flip_bits_in_the_middle(&path);
    let file = path.display().to_string();

    // SQLite's own report is already the `damaged` kind, before anything names the file.
    let raw = Store::open(&path).unwrap().touches().unwrap_err();
    assert!(raw.is_damage(), "{raw}");
    assert_eq!(AppError::from(raw).kind, ErrorKind::Damaged);

    let (session, events) = session();
    let info = workspace::open_in_session(&session, &path).expect("the cheap checks pass");
    assert_eq!(info.read_only_reason, None);
    let err = session
        .with_workspace(|open| Ok(open.store.touches()?.len()))
        .expect_err("reading the damaged pages fails");
    assert_eq!(err.kind, ErrorKind::Damaged, "{err:?}");
    assert!(
        err.message.contains(&file) && err.message.contains("damaged"),
        "{}",
        err.message
    );

    // The window is told, and from now on the workspace is the read-only damaged one.
    let told = damaged_event(&events);
    let reason = told.read_only_reason.expect("a reason for the banner");
    assert!(
        reason.contains("read-only") && reason.contains(&file),
        "{reason}"
    );
    let state = workspace::startup_state(&session).workspace.unwrap();
    assert_eq!(state.read_only_reason.as_deref(), Some(reason.as_str()));
    assert!(
        session
            .with_workspace(|open| Ok(open.store.is_read_only()))
            .unwrap()
    );
    let before = std::fs::read(&path).unwrap();
    drop(session);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the damaged file was written after the damage was found"
    );
}

#[test]
fn a_due_background_check_finds_damage_the_open_cannot_see() {
    let dir = tempfile::tempdir().unwrap();
    // Never checked here: the check is due as soon as the window opens the file.
    let path = workspace_of_touches(dir.path(), None);
    flip_bits_in_the_middle(&path);
    let (session, events) = session();
    let info = workspace::open_in_session(&session, &path).expect("the cheap checks pass");
    assert_eq!(info.read_only_reason, None, "the open itself ran no check");

    let told = damaged_event(&events);
    let reason = told.read_only_reason.expect("a reason for the banner");
    assert!(
        reason.contains("damaged") && reason.contains("read-only"),
        "{reason}"
    );
    let state = workspace::startup_state(&session).workspace.unwrap();
    assert_eq!(state.read_only_reason.as_deref(), Some(reason.as_str()));
}

#[test]
fn a_passing_background_check_is_recorded_and_clears_a_crashed_session() {
    let dir = tempfile::tempdir().unwrap();
    let checked_long_ago = lookback_app::clock::now_ms() - 2 * lookback_trust::CHECK_INTERVAL_MS;
    let path = workspace_of_touches(dir.path(), Some(checked_long_ago));
    // A session that never closed.
    std::mem::forget(Store::open(&path).unwrap());
    let before_open = lookback_app::clock::now_ms();
    let (session, _events) = session();
    workspace::open_in_session(&session, &path).unwrap();

    // The check runs on its own thread; wait for its stamp.
    let mut waited = Duration::ZERO;
    let record = loop {
        let record = session
            .with_workspace(|open| Ok(open.store.integrity_record()?))
            .unwrap();
        if record.last_check_passed_at_ms != Some(checked_long_ago) {
            break record;
        }
        assert!(waited < Duration::from_secs(120), "the check never passed");
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    };
    let stamp = record.last_check_passed_at_ms.unwrap();
    assert!(stamp >= before_open, "stamped at {stamp}");
    assert!(record.unclosed_sessions.is_empty(), "{record:?}");
    assert_eq!(lookback_trust::check_due(&record, stamp), None);
    assert!(
        workspace::startup_state(&session)
            .workspace
            .unwrap()
            .read_only_reason
            .is_none()
    );
}

#[test]
fn lookback_check_finds_a_damaged_page_and_records_a_pass() {
    const NOW: i64 = 1_780_000_000_000;
    let dir = tempfile::tempdir().unwrap();
    let sound = workspace_of_touches(dir.path(), None);
    std::mem::forget(Store::open(&sound).unwrap());
    lookback_app::trust::check(&sound, NOW).unwrap();
    let record = Store::open_read_only(&sound)
        .unwrap()
        .integrity_record()
        .unwrap();
    assert_eq!(record.last_check_passed_at_ms, Some(NOW));
    assert!(record.unclosed_sessions.is_empty(), "{record:?}");

    let damaged_dir = tempfile::tempdir().unwrap();
    let damaged = workspace_of_touches(damaged_dir.path(), None);
    flip_bits_in_the_middle(&damaged);
    let before = std::fs::read(&damaged).unwrap();
    let err = AppError::from(lookback_app::trust::check(&damaged, NOW).unwrap_err());
    assert_eq!(err.kind, ErrorKind::Damaged, "{err:?}");
    assert!(
        err.message.contains(&damaged.display().to_string()),
        "{}",
        err.message
    );
    assert_eq!(std::fs::read(&damaged).unwrap(), before, "check wrote");
}
