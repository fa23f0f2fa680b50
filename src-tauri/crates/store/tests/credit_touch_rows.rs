//! Each credit carries the rowid of the touch it credits (migration 0030), which is what the
//! readers of credits join touches by: a credit written through `insert_credits` gets it from
//! its touch id, an upgraded file gets it filled in, and a file older than 0030 opened
//! read-only is still read by touch id. Each test writes a real workspace file.

use std::path::PathBuf;

use lookback_store::*;
use rusqlite::Connection;

fn touch(id: &str, at_ms: i64, creator: &str) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "web".into(),
        occurred_at_ms: at_ms,
        channel: "creator_link".into(),
        touch_type: "click".into(),
        creator_id: Some(creator.into()),
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: None,
        identity: IdentityKeys::default(),
        raw_event_id: None,
    }
}

fn credit(order_id: &str, touch_id: &str, revenue_minor: i64) -> Credit {
    Credit {
        order_id: order_id.into(),
        touch_id: touch_id.into(),
        share_ppb: 500_000_000,
        revenue_minor,
        join_kind: JoinKind::Deterministic,
        confidence_ppm: 1_000_000,
    }
}

/// A workspace with touches `a` (creator `cr1`) and `b` (`cr2`), written after a stand-in row
/// at rowid 1000 so that their rowids are not 1 and 2, and a run crediting them and a touch id
/// `gone` that names no touch. Returns the run's id.
fn workspace() -> (tempfile::TempDir, PathBuf, i64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credits.lookback");
    drop(Store::create(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO touch_rows (rowid, touch_id, occurred_at_ms) VALUES (1000, 'stand-in', 1)",
            [],
        )
        .unwrap();
    let mut store = Store::open(&path).unwrap();
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_touch(&touch("b", 2_000, "cr2"))?;
            tx.insert_touch(&touch("a", 3_000, "cr1"))?;
            Ok(())
        })
        .unwrap();
    let run_id = store
        .insert_run(&NewRun {
            model: "linear".into(),
            parameters: "{}".into(),
            lookback_days: 30,
            settlement_days: 14,
            reporting_currency: "USD".into(),
            input_watermark: store.input_watermark().unwrap(),
            started_at_ms: 100,
        })
        .unwrap();
    store
        .insert_credits(
            run_id,
            [
                credit("o1", "a", 70),
                credit("o1", "b", 30),
                credit("o2", "gone", 5),
            ],
        )
        .unwrap();
    store
        .finish_run(run_id, RunStatus::Complete, 200, None)
        .unwrap();
    (dir, path, run_id)
}

/// Each credit's touch id and `touch_row`, by touch id.
fn touch_rows_of_credits(path: &PathBuf) -> Vec<(String, Option<i64>)> {
    Connection::open(path)
        .unwrap()
        .prepare("SELECT touch_id, touch_row FROM credits ORDER BY touch_id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn by_creator() -> Vec<(Option<String>, i64)> {
    vec![
        (None, 5),
        (Some("cr1".into()), 70),
        (Some("cr2".into()), 30),
    ]
}

#[test]
fn a_credit_names_its_touchs_row_and_one_naming_no_touch_none() {
    let (_dir, path, run_id) = workspace();
    assert_eq!(
        touch_rows_of_credits(&path),
        [
            ("a".to_owned(), Some(1002)),
            ("b".to_owned(), Some(1001)),
            ("gone".to_owned(), None),
        ]
    );
    let store = Store::open(&path).unwrap();
    assert_eq!(store.run_revenue_by_creator(run_id).unwrap(), by_creator());
}

#[test]
fn an_older_file_is_read_by_touch_id_and_its_credits_get_their_rows_on_upgrade() {
    let (_dir, path, run_id) = workspace();
    let written = touch_rows_of_credits(&path);
    // Back to schema 29: the credits as they were before 0030.
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE credits DROP COLUMN touch_row")
            .unwrap();
        conn.pragma_update(None, "user_version", 29).unwrap();
    }
    // Opened read-only at its own schema (as a damaged file is), it is read by touch id.
    let old = Store::open_damaged_read_only(&path).unwrap();
    assert_eq!(old.run_revenue_by_creator(run_id).unwrap(), by_creator());
    drop(old);
    // The upgrade fills each credit's row in from its touch id.
    let store = Store::open(&path).unwrap();
    assert_eq!(touch_rows_of_credits(&path), written);
    assert_eq!(store.run_revenue_by_creator(run_id).unwrap(), by_creator());
}
