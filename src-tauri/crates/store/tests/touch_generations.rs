//! Click ids across touch generations (migration 0029): a touch written after the rowids
//! passed a generation's end is in the next generation's part of `touches_by_click`, and every
//! reader by click id — the journeys' walk (which the orders' click ids are merged with), the
//! creator-link orders, a person's identity component — still finds it next to the older
//! touches sharing its click id. Each test writes a real workspace file.

use std::path::PathBuf;

use lookback_store::*;
use rusqlite::Connection;

/// Rowids per generation (`touch_generations::GENERATION_BITS`).
const GENERATION_ROWIDS: i64 = 1 << 20;

fn touch(id: &str, at_ms: i64, click: &str, creator: Option<&str>, device: &str) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "web".into(),
        occurred_at_ms: at_ms,
        channel: "creator_link".into(),
        touch_type: "click".into(),
        creator_id: creator.map(Into::into),
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: Some(click.into()),
        identity: IdentityKeys {
            device_id: Some(device.into()),
            ..Default::default()
        },
        raw_event_id: None,
    }
}

/// A workspace whose touch `old` (click `shared`, creator `cr_b`) is in generation 0 and whose
/// touches `new` (click `shared`, creator `cr_a`) and `other` (click `lone`) are in generation 1:
/// a stand-in row at the last rowid of generation 0, written straight into the file, moves the
/// next touch's rowid into generation 1, as a million touches would.
fn two_generations() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("generations.lookback");
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_touch(&touch("old", 1_000, "shared", Some("cr_b"), "dev-old"))?;
            Ok(())
        })
        .unwrap();
    drop(store);
    let raw = Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO touch_rows (rowid, touch_id, occurred_at_ms) VALUES (?1, 'stand-in', 2000)",
        [GENERATION_ROWIDS - 1],
    )
    .unwrap();
    drop(raw);
    let mut store = Store::open(&path).unwrap();
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_touch(&touch("new", 3_000, "shared", Some("cr_a"), "dev-new"))?;
            tx.insert_touch(&touch("other", 4_000, "lone", None, "dev-other"))?;
            // Written again: a duplicate, which takes no rowid.
            tx.insert_touch(&touch("new", 3_000, "shared", Some("cr_a"), "dev-new"))?;
            Ok(())
        })
        .unwrap();
    (dir, path)
}

fn rows_by_generation(path: &PathBuf) -> Vec<(String, i64, i64)> {
    let raw = Connection::open(path).unwrap();
    let mut statement = raw
        .prepare("SELECT touch_id, rowid, generation FROM touch_rows ORDER BY rowid")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_touch_is_written_in_the_generation_of_its_rowid_and_the_generation_is_listed() {
    let (_dir, path) = two_generations();
    assert_eq!(
        rows_by_generation(&path),
        [
            ("old".to_owned(), 1, 0),
            ("stand-in".to_owned(), GENERATION_ROWIDS - 1, 0),
            ("new".to_owned(), GENERATION_ROWIDS, 1),
            ("other".to_owned(), GENERATION_ROWIDS + 1, 1),
        ]
    );
    let raw = Connection::open(&path).unwrap();
    let listed: Vec<i64> = raw
        .prepare("SELECT generation FROM touch_generations ORDER BY generation")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listed, [0, 1]);
}

#[test]
fn the_walk_by_click_id_merges_the_generations_in_click_id_order() {
    let (_dir, path) = two_generations();
    let store = Store::open(&path).unwrap();
    let mut walked = Vec::new();
    store
        .for_each_touch_click(|click, rowid| walked.push((click.to_owned(), rowid)))
        .unwrap();
    assert_eq!(
        walked,
        [
            ("lone".to_owned(), GENERATION_ROWIDS + 1),
            ("shared".to_owned(), 1),
            ("shared".to_owned(), GENERATION_ROWIDS),
        ]
    );
}

#[test]
fn look_ups_by_click_id_find_touches_in_every_generation() {
    let (_dir, path) = two_generations();
    let mut store = Store::open(&path).unwrap();
    // An order with the shared click id is a creator-link order of the smallest creator id
    // among the touches carrying it, whichever generation each is in.
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_order(&Order {
                order_id: "o1".into(),
                source: "shop".into(),
                occurred_at_ms: 5_000,
                gross_minor: 4_200,
                currency: "USD".into(),
                status: "paid".into(),
                click_id: Some("shared".into()),
                identity: IdentityKeys::default(),
                raw_event_id: None,
            })?;
            Ok(())
        })
        .unwrap();
    let linked = store.creator_link_orders(0, 10_000).unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].order_id, "o1");
    assert_eq!(linked[0].creator_id, "cr_a");

    // A person found by the device of the old touch takes in, through their shared click id,
    // the new touch and the order too.
    let component = store
        .identity_component(&IdentityKey::new(IdentityKeyType::DeviceId, "dev-old"))
        .unwrap();
    assert_eq!(
        component.touch_ids.iter().collect::<Vec<_>>(),
        ["new", "old"]
    );
    assert_eq!(component.order_ids.iter().collect::<Vec<_>>(), ["o1"]);
    assert!(
        component
            .keys
            .contains(&IdentityKey::new(IdentityKeyType::DeviceId, "dev-new"))
    );
}
