//! Behaviour of the workspace file a user relies on, each test against a real SQLite file in a
//! temporary directory: migrations, round trips, idempotency, refusal of foreign and damaged
//! files, the append-only model log, and rollback of uncommitted work.

use std::path::{Path, PathBuf};

use lookback_core::touch_filter::TouchFilter;
use lookback_store::*;
use rusqlite::Connection;

fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.lookback");
    (dir, path)
}

fn touch(id: &str, at_ms: i64) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "web".into(),
        occurred_at_ms: at_ms,
        channel: "paid_social".into(),
        touch_type: "click".into(),
        creator_id: Some("cr_1".into()),
        campaign_id: Some("cmp_1".into()),
        ad_id: Some("ad_1".into()),
        content_id: Some("ct_1".into()),
        click_id: Some(format!("click-{id}")),
        identity: IdentityKeys {
            person_id: None,
            anonymous_id: Some("anon-1".into()),
            email_sha256: Some("ab".repeat(32)),
            customer_id: None,
            device_id: Some("dev-1".into()),
        },
        raw_event_id: None,
    }
}

fn order(id: &str, at_ms: i64, gross_minor: i64, currency: &str) -> Order {
    Order {
        order_id: id.into(),
        source: "shop".into(),
        occurred_at_ms: at_ms,
        gross_minor,
        currency: currency.into(),
        status: "paid".into(),
        click_id: Some("click-t1".into()),
        identity: IdentityKeys {
            customer_id: Some("cus_1".into()),
            ..Default::default()
        },
        raw_event_id: None,
    }
}

fn adjustment(
    id: &str,
    order_id: &str,
    kind: AdjustmentKind,
    amount_minor: i64,
    status: &str,
) -> OrderAdjustment {
    OrderAdjustment {
        adjustment_id: id.into(),
        order_id: order_id.into(),
        source: "shop".into(),
        kind,
        occurred_at_ms: 2_000,
        amount_minor,
        currency: "USD".into(),
        status: status.into(),
        raw_event_id: None,
    }
}

fn spend(day: &str, spend_minor: i64) -> AdSpend {
    AdSpend {
        platform: "meta".into(),
        account_id: "act_1".into(),
        campaign_id: "cmp_1".into(),
        ad_id: String::new(),
        day: day.into(),
        account_timezone: "America/New_York".into(),
        channel: "paid_social".into(),
        creator_id: None,
        spend_minor,
        currency: "USD".into(),
        impressions: Some(1000),
        clicks: Some(10),
        source: "meta".into(),
        raw_event_id: None,
        updated_at_ms: 5,
    }
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn fresh_workspace_is_migrated_and_stamped() {
    let (_dir, path) = workspace();
    let store = Store::create(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    for table in Table::ALL {
        // The one settings row is the marker of this open session (see `integrity_record`).
        let expected = u64::from(*table == Table::WorkspaceSettings);
        assert_eq!(
            store.row_count(*table).unwrap(),
            expected,
            "{}",
            table.sql_name()
        );
    }
    drop(store);
    let raw = Connection::open(&path).unwrap();
    let settings: i64 = raw
        .query_row("SELECT COUNT(*) FROM workspace_settings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(settings, 0, "a clean close removes the session's marker");
    let app_id: i32 = raw
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, APPLICATION_ID);
    let mode: String = raw
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(raw);
    // Reopening an up-to-date workspace works and keeps the version.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}

#[test]
fn create_refuses_an_existing_workspace_and_open_refuses_a_missing_one() {
    let (_dir, path) = workspace();
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::NotFound { .. })
    ));
    drop(Store::create(&path).unwrap());
    assert!(matches!(
        Store::create(&path),
        Err(StoreError::AlreadyExists { .. })
    ));
    // An empty file (as a save dialog leaves it) is fine to create into.
    let (_dir2, empty) = workspace();
    std::fs::write(&empty, b"").unwrap();
    Store::create(&empty).unwrap();
}

#[test]
fn settings_have_defaults_and_round_trip() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let defaults = store.settings().unwrap();
    assert_eq!(defaults.reporting_currency, "USD");
    assert_eq!(defaults.reporting_timezone, "UTC");
    assert_eq!(defaults.lookback_days, 30);
    assert_eq!(defaults.settlement_days, 14);
    assert!(!defaults.probabilistic_matching);
    assert_eq!(defaults.model, "last-touch");

    store.set_name("Maya's shop").unwrap();
    store.set_reporting_currency("EUR").unwrap();
    store.set_reporting_timezone("Europe/Berlin").unwrap();
    store.set_lookback_days(7).unwrap();
    store.set_settlement_days(30).unwrap();
    store.set_probabilistic_matching(true).unwrap();
    assert!(matches!(
        store.set_reporting_currency("eur"),
        Err(StoreError::InvalidValue { .. })
    ));
    assert!(matches!(
        store.set_lookback_days(0),
        Err(StoreError::InvalidValue { .. })
    ));
    drop(store);

    let store = Store::open(&path).unwrap();
    let settings = store.settings().unwrap();
    assert_eq!(settings.name, "Maya's shop");
    assert_eq!(settings.reporting_currency, "EUR");
    assert_eq!(settings.reporting_timezone, "Europe/Berlin");
    assert_eq!(settings.lookback_days, 7);
    assert_eq!(settings.settlement_days, 30);
    assert!(settings.probabilistic_matching);
}

#[test]
fn every_record_type_round_trips() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let source = Source {
        source_id: "shop".into(),
        kind: "shopify".into(),
        name: "My Shopify".into(),
        base_url: Some("https://example.myshopify.com".into()),
        account: Some("example".into()),
        credential_ref: Some("lookback/shop".into()),
        created_at_ms: 1,
        last_attempt_at_ms: None,
        last_success_at_ms: None,
        last_error: None,
    };
    let checkpoint = SyncCheckpoint {
        source_id: "shop".into(),
        stream: "orders".into(),
        cursor: "page-2".into(),
        updated_at_ms: 9,
    };
    let creator = Creator {
        creator_id: "cr_1".into(),
        display_name: "Maya Chen".into(),
        handle: Some("@maya".into()),
        platform: Some("instagram".into()),
        created_at_ms: Some(3),
    };
    let campaign = Campaign {
        campaign_id: "cmp_1".into(),
        platform: "meta".into(),
        account_id: Some("act_1".into()),
        name: "Spring".into(),
        channel: "paid_social".into(),
        creator_id: Some("cr_1".into()),
    };
    let content = Content {
        content_id: "ct_1".into(),
        creator_id: Some("cr_1".into()),
        kind: "link".into(),
        title: "Bio link".into(),
        url: Some("https://lnk.example/maya".into()),
        published_at_ms: Some(4),
    };
    let cost = CreatorCost {
        cost_id: "cost_1".into(),
        creator_id: "cr_1".into(),
        day: "2025-03-01".into(),
        kind: CreatorCostKind::Fee,
        amount_minor: 50_000,
        currency: "USD".into(),
        source: "manual".into(),
        raw_event_id: None,
    };
    let link = IdentityLink {
        a: IdentityKey::new(IdentityKeyType::EmailSha256, "ab".repeat(32)),
        b: IdentityKey::new(IdentityKeyType::AnonymousId, "anon-1"),
        source: "web".into(),
        created_at_ms: 7,
    };
    let rate = FxRate {
        day: "2025-03-01".into(),
        from_currency: "EUR".into(),
        to_currency: "USD".into(),
        rate: "1.0842".into(),
        source: "ecb".into(),
    };
    let dead = NewDeadLetter {
        source: "shop".into(),
        stream: "orders".into(),
        location: "orders.csv:17".into(),
        reason: "amount is not a number".into(),
        payload: "{}".into(),
        created_at_ms: 11,
    };
    let mut t = touch("t1", 1_000);
    let mut o = order("o1", 1_500, 4_900, "USD");
    let adj = adjustment("r1", "o1", AdjustmentKind::Refund, 900, "succeeded");
    let dead_id = store
        .write(|tx| {
            tx.upsert_source(&source)?;
            tx.put_checkpoint(&checkpoint)?;
            let raw = tx.insert_raw_event(&NewRawEvent {
                source: "shop",
                stream: "orders",
                external_id: "o1",
                received_at_ms: 1_600,
                payload: r#"{"id":"o1"}"#,
                normalizer_version: 1,
            })?;
            o.raw_event_id = Some(raw.raw_event_id());
            t.raw_event_id = Some(raw.raw_event_id());
            tx.upsert_creator(&creator)?;
            tx.upsert_campaign(&campaign)?;
            tx.upsert_content(&content)?;
            tx.insert_touch(&t)?;
            tx.insert_order(&o)?;
            tx.insert_adjustment(&adj)?;
            tx.upsert_ad_spend(&spend("2025-03-01", 12_345))?;
            tx.insert_creator_cost(&cost)?;
            tx.insert_identity_link(&link)?;
            tx.upsert_fx_rate(&rate)?;
            tx.record_sync_success("shop", 20)?;
            tx.insert_dead_letter(&dead)
        })
        .unwrap();
    drop(store);

    let store = Store::open(&path).unwrap();
    let mut stored_source = source.clone();
    stored_source.last_attempt_at_ms = Some(20);
    stored_source.last_success_at_ms = Some(20);
    assert_eq!(store.sources().unwrap(), vec![stored_source]);
    assert_eq!(
        store.checkpoint("shop", "orders").unwrap(),
        Some(checkpoint)
    );
    assert_eq!(store.creators().unwrap(), vec![creator]);
    assert_eq!(store.campaigns().unwrap(), vec![campaign]);
    assert_eq!(store.content().unwrap(), vec![content]);
    assert_eq!(store.touches().unwrap(), vec![t]);
    assert_eq!(store.orders().unwrap(), vec![o.clone()]);
    assert_eq!(store.adjustments().unwrap(), vec![adj]);
    assert_eq!(store.ad_spend().unwrap(), vec![spend("2025-03-01", 12_345)]);
    assert_eq!(store.creator_costs().unwrap(), vec![cost]);
    // The link comes back with its keys ordered, whichever way round it was written.
    let stored_links = store.identity_links().unwrap();
    assert_eq!(stored_links.len(), 1);
    assert_eq!(stored_links[0].a, link.b);
    assert_eq!(stored_links[0].b, link.a);
    assert_eq!(store.fx_rates().unwrap(), vec![rate]);
    let letters = store.dead_letters(false).unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].dead_letter_id, dead_id);
    assert_eq!(letters[0].reason, "amount is not a number");
    let loaded = store.orders_with_adjustments().unwrap();
    assert_eq!(loaded[0].order, o);
    assert_eq!(loaded[0].refunds_minor, 900);
    assert_eq!(loaded[0].chargebacks_minor, 0);
}

#[test]
fn reinserting_known_ids_changes_nothing() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let link = IdentityLink {
        a: IdentityKey::new(IdentityKeyType::CustomerId, "cus_1"),
        b: IdentityKey::new(IdentityKeyType::AnonymousId, "anon-1"),
        source: "web".into(),
        created_at_ms: 1,
    };
    let reversed = IdentityLink {
        a: link.b.clone(),
        b: link.a.clone(),
        ..link.clone()
    };
    let cost = CreatorCost {
        cost_id: "c1".into(),
        creator_id: "cr_1".into(),
        day: "2025-03-01".into(),
        kind: CreatorCostKind::Commission,
        amount_minor: 10,
        currency: "USD".into(),
        source: "x".into(),
        raw_event_id: None,
    };
    for round in 0..2 {
        let expected = if round == 0 {
            InsertOutcome::Inserted
        } else {
            InsertOutcome::Duplicate
        };
        store
            .write(|tx| {
                assert_eq!(tx.insert_touch(&touch("t1", 1))?, expected);
                // A different payload under a known id is still the known record.
                assert_eq!(
                    tx.insert_order(&order("o1", 1, 100 + round, "USD"))?,
                    expected
                );
                assert_eq!(
                    tx.insert_adjustment(&adjustment(
                        "a1",
                        "o1",
                        AdjustmentKind::Refund,
                        10,
                        "succeeded"
                    ))?,
                    expected
                );
                assert_eq!(tx.insert_creator_cost(&cost)?, expected);
                assert_eq!(
                    tx.insert_identity_link(if round == 0 { &link } else { &reversed })?,
                    expected
                );
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    for table in [
        Table::Touches,
        Table::Orders,
        Table::OrderAdjustments,
        Table::CreatorCosts,
        Table::IdentityLinks,
    ] {
        assert_eq!(store.row_count(table).unwrap(), 1, "{}", table.sql_name());
    }
    assert_eq!(store.orders().unwrap()[0].gross_minor, 100);
}

#[test]
fn a_restated_ad_spend_day_replaces_the_row() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| tx.upsert_ad_spend(&spend("2025-03-01", 10_000)))
        .unwrap();
    store
        .write(|tx| tx.upsert_ad_spend(&spend("2025-03-02", 5_000)))
        .unwrap();
    store
        .write(|tx| tx.upsert_ad_spend(&spend("2025-03-01", 12_500)))
        .unwrap();
    let rows = store.ad_spend().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].spend_minor, 12_500);
    let overview = store.overview().unwrap();
    assert_eq!(
        overview.ad_spend,
        vec![CurrencyAmount {
            currency: "USD".into(),
            amount_minor: 17_500
        }]
    );
}

#[test]
fn raw_events_are_deduplicated_and_versioned() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let event = |payload: &'static str| NewRawEvent {
        source: "meta",
        stream: "insights",
        external_id: "cmp_1:2025-03-01",
        received_at_ms: 1,
        payload,
        normalizer_version: 1,
    };
    let outcomes = store
        .write(|tx| {
            Ok::<_, StoreError>(vec![
                tx.insert_raw_event(&event(r#"{"spend":"10.00"}"#))?,
                tx.insert_raw_event(&event(r#"{"spend":"10.00"}"#))?,
                tx.insert_raw_event(&event(r#"{"spend":"12.50"}"#))?,
                tx.insert_raw_event(&event(r#"{"spend":"12.50"}"#))?,
                // Restated back to the first payload: the latest version must be it again.
                tx.insert_raw_event(&event(r#"{"spend":"10.00"}"#))?,
            ])
        })
        .unwrap();
    let first = outcomes[0].raw_event_id();
    assert_eq!(outcomes[0], RawEventOutcome::Inserted(first));
    assert_eq!(outcomes[1], RawEventOutcome::Duplicate(first));
    let second = match outcomes[2] {
        RawEventOutcome::NewVersion(id) => id,
        other => panic!("expected a new version, got {other:?}"),
    };
    assert_ne!(second, first);
    assert_eq!(outcomes[3], RawEventOutcome::Duplicate(second));
    assert!(matches!(outcomes[4], RawEventOutcome::NewVersion(_)));
    let versions = store
        .raw_event_versions("meta", "insights", "cmp_1:2025-03-01")
        .unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2].payload, r#"{"spend":"10.00"}"#);
    // The hash is the SHA-256 of the payload bytes.
    assert_eq!(
        versions[0].payload_sha256,
        lookback_store::payload_sha256(r#"{"spend":"10.00"}"#)
    );
    assert_eq!(versions[0].payload_sha256, versions[2].payload_sha256);
    // The same external id in another stream is a different record.
    let other = store
        .write(|tx| {
            tx.insert_raw_event(&NewRawEvent {
                stream: "ads",
                ..event(r#"{"spend":"10.00"}"#)
            })
        })
        .unwrap();
    assert!(matches!(other, RawEventOutcome::Inserted(_)));
}

#[test]
fn dead_letters_can_be_resolved_and_keep_their_history() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let letter = NewDeadLetter {
        source: "csv".into(),
        stream: "orders".into(),
        location: "orders.csv:3".into(),
        reason: "currency \"usd$\" is not an ISO code".into(),
        payload: "o3,usd$,12".into(),
        created_at_ms: 1,
    };
    let (first, _second) = store
        .write(|tx| {
            Ok::<_, StoreError>((
                tx.insert_dead_letter(&letter)?,
                tx.insert_dead_letter(&letter)?,
            ))
        })
        .unwrap();
    assert_eq!(store.overview().unwrap().unresolved_dead_letters, 2);
    assert!(store.write(|tx| tx.resolve_dead_letter(first, 50)).unwrap());
    assert!(
        !store.write(|tx| tx.resolve_dead_letter(first, 60)).unwrap(),
        "resolving twice is a no-op"
    );
    assert_eq!(store.dead_letters(false).unwrap().len(), 1);
    let all = store.dead_letters(true).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].resolved_at_ms, Some(50));

    // Per source: another source's letters are not listed.
    let other = NewDeadLetter {
        source: "meta".into(),
        ..letter.clone()
    };
    store.write(|tx| tx.insert_dead_letter(&other)).unwrap();
    assert_eq!(store.source_dead_letters("csv", false).unwrap().len(), 1);
    assert_eq!(store.source_dead_letters("csv", true).unwrap().len(), 2);
    let meta = store.source_dead_letters("meta", false).unwrap();
    assert_eq!(meta.len(), 1);
    assert_eq!(meta[0].source, "meta");
}

#[test]
fn overview_sums_per_currency_and_counts_only_adjustments_that_cost_money() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| {
            tx.insert_order(&order("o1", 1_000, 10_000, "USD"))?;
            tx.insert_order(&order("o2", 3_000, 5_000, "USD"))?;
            tx.insert_order(&order("o3", 2_000, 8_000, "EUR"))?;
            tx.insert_touch(&touch("t1", 500))?;
            tx.insert_adjustment(&adjustment(
                "r1",
                "o1",
                AdjustmentKind::Refund,
                2_500,
                "succeeded",
            ))?;
            tx.insert_adjustment(&adjustment(
                "r2",
                "o1",
                AdjustmentKind::Refund,
                1_000,
                "failed",
            ))?;
            tx.insert_adjustment(&adjustment(
                "c1",
                "o2",
                AdjustmentKind::Chargeback,
                5_000,
                "open",
            ))?;
            tx.insert_adjustment(&adjustment(
                "c2",
                "o1",
                AdjustmentKind::Chargeback,
                700,
                "won",
            ))?;
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let overview = store.overview().unwrap();
    assert_eq!(overview.order_count, 3);
    assert_eq!(overview.touch_count, 1);
    assert_eq!(overview.first_activity_at_ms, Some(500));
    assert_eq!(overview.last_activity_at_ms, Some(3_000));
    assert_eq!(
        overview.revenue,
        vec![
            CurrencyRevenue {
                currency: "EUR".into(),
                gross_minor: 8_000,
                refunds_minor: 0,
                chargebacks_minor: 0,
                net_minor: 8_000
            },
            CurrencyRevenue {
                currency: "USD".into(),
                gross_minor: 15_000,
                refunds_minor: 2_500,
                chargebacks_minor: 5_000,
                net_minor: 7_500
            },
        ]
    );
    let orders = store.orders_with_adjustments().unwrap();
    let o2 = orders.iter().find(|o| o.order.order_id == "o2").unwrap();
    assert!(o2.disputed);
    assert_eq!(o2.chargebacks_minor, 5_000);
    let o1 = orders.iter().find(|o| o.order.order_id == "o1").unwrap();
    assert!(!o1.disputed);
    assert_eq!((o1.refunds_minor, o1.chargebacks_minor), (2_500, 0));
}

#[test]
fn source_freshness_counts_raw_events_per_source() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| {
            tx.upsert_source(&Source {
                source_id: "meta".into(),
                kind: "meta_ads".into(),
                name: "Meta".into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: 0,
                last_attempt_at_ms: None,
                last_success_at_ms: None,
                last_error: None,
            })?;
            tx.record_sync_failure("meta", 40, "token expired; reconnect Meta")?;
            for (source, id) in [("meta", "1"), ("meta", "2"), ("csv", "1")] {
                tx.insert_raw_event(&NewRawEvent {
                    source,
                    stream: "s",
                    external_id: id,
                    received_at_ms: 30,
                    payload: "{}",
                    normalizer_version: 1,
                })?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let freshness = store.overview().unwrap().sources;
    assert_eq!(freshness.len(), 2);
    assert_eq!(freshness[0].source_id, "csv");
    assert_eq!(freshness[0].kind, None);
    assert_eq!(freshness[0].raw_event_count, 1);
    assert_eq!(freshness[1].source_id, "meta");
    assert_eq!(freshness[1].raw_event_count, 2);
    assert_eq!(freshness[1].last_attempt_at_ms, Some(40));
    assert_eq!(freshness[1].last_success_at_ms, None);
    assert_eq!(
        freshness[1].last_error.as_deref(),
        Some("token expired; reconnect Meta")
    );
}

#[test]
fn a_transaction_dropped_without_commit_leaves_nothing() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let watermark = store.input_watermark().unwrap();
    {
        let mut tx = store.begin().unwrap();
        tx.insert_touch(&touch("t1", 1)).unwrap();
        tx.insert_order(&order("o1", 2, 100, "USD")).unwrap();
        tx.put_checkpoint(&SyncCheckpoint {
            source_id: "x".into(),
            stream: "s".into(),
            cursor: "c".into(),
            updated_at_ms: 1,
        })
        .unwrap_err(); // no such source: the foreign key refuses it
        // Dropped here, as if the process died before commit.
    }
    // An error returned from `write` rolls back everything the closure wrote.
    let failed: Result<(), StoreError> = store.write(|tx| {
        tx.insert_touch(&touch("t2", 1))?;
        tx.insert_order(&order("o2", 2, 100, "not a currency"))?;
        Ok(())
    });
    assert!(matches!(failed, Err(StoreError::InvalidValue { .. })));
    drop(store);
    let store = Store::open(&path).unwrap();
    assert_eq!(store.row_count(Table::Touches).unwrap(), 0);
    assert_eq!(store.row_count(Table::Orders).unwrap(), 0);
    assert_eq!(store.input_watermark().unwrap(), watermark);
}

#[test]
fn input_watermark_changes_with_attribution_inputs_only() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let w0 = store.input_watermark().unwrap();
    store
        .write(|tx| tx.upsert_ad_spend(&spend("2025-03-01", 1)))
        .unwrap();
    assert_eq!(
        store.input_watermark().unwrap(),
        w0,
        "ad spend is not an attribution input"
    );
    store.write(|tx| tx.insert_touch(&touch("t1", 1))).unwrap();
    let w1 = store.input_watermark().unwrap();
    assert_ne!(w1, w0);
    store.write(|tx| tx.insert_touch(&touch("t1", 1))).unwrap();
    assert_eq!(
        store.input_watermark().unwrap(),
        w1,
        "a duplicate changes nothing"
    );
    store
        .write(|tx| tx.insert_order(&order("o1", 2, 100, "USD")))
        .unwrap();
    let w2 = store.input_watermark().unwrap();
    store
        .write(|tx| tx.update_order_status("o1", "cancelled"))
        .unwrap();
    let w3 = store.input_watermark().unwrap();
    assert_ne!(w3, w2, "an update changes the watermark too");
    store.set_lookback_days(7).unwrap();
    assert_ne!(
        store.input_watermark().unwrap(),
        w3,
        "the lookback window is an input"
    );
}

/// The window keeps costs it read while the data stamp stays equal: any commit — this
/// connection's, including tables that are no attribution input, or another connection's —
/// must change it, and reads must not.
#[test]
fn the_data_stamp_changes_with_every_commit_and_only_then() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let s0 = store.data_stamp().unwrap().expect("no transaction is open");
    store.input_watermark().unwrap();
    store.view_spend(None, None).unwrap();
    assert_eq!(
        store.data_stamp().unwrap(),
        Some(s0),
        "reads change nothing"
    );

    store
        .write(|tx| tx.upsert_ad_spend(&spend("2025-03-01", 1)))
        .unwrap();
    let s1 = store.data_stamp().unwrap().unwrap();
    assert_ne!(s1, s0, "ad spend written by this connection");

    let other = Store::open(&path).unwrap();
    let other_stamp = other.data_stamp().unwrap().unwrap();
    assert_ne!(other_stamp, s1, "two connections never share a stamp");
    drop(other);
    let s2 = store.data_stamp().unwrap().unwrap();
    assert_ne!(s2, s1, "another connection committed (its session marker)");

    let conn = Connection::open(&path).unwrap();
    conn.execute("UPDATE ad_spend SET spend_minor = spend_minor + 1", [])
        .unwrap();
    drop(conn);
    let s3 = store.data_stamp().unwrap().unwrap();
    assert_ne!(s3, s2, "a change behind the store's back");
    assert_eq!(store.data_stamp().unwrap(), Some(s3));
}

#[test]
fn a_restated_order_takes_its_sources_newest_status_and_gross_and_no_other_sources() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| tx.insert_order(&order("o1", 2, 10_000, "USD")))
        .unwrap();
    let voided = Order {
        status: "voided".into(),
        gross_minor: 0,
        ..order("o1", 2, 10_000, "USD")
    };
    let from_elsewhere = Order {
        source: "other".into(),
        gross_minor: 9_000,
        ..order("o1", 2, 10_000, "USD")
    };
    assert!(!store.write(|tx| tx.restate_order(&from_elsewhere)).unwrap());
    let w0 = store.input_watermark().unwrap();
    assert!(store.write(|tx| tx.restate_order(&voided)).unwrap());
    assert!(
        !store.write(|tx| tx.restate_order(&voided)).unwrap(),
        "idempotent"
    );
    let stored = store.orders().unwrap();
    assert_eq!(
        (stored[0].gross_minor, stored[0].status.as_str()),
        (0, "voided")
    );
    assert_ne!(store.input_watermark().unwrap(), w0, "runs see the change");
}

#[test]
fn runs_and_credits_round_trip_and_are_reused_only_when_complete() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let watermark = store.input_watermark().unwrap();
    let new_run = NewRun {
        model: "linear".into(),
        parameters: "{}".into(),
        lookback_days: 30,
        settlement_days: 14,
        reporting_currency: "USD".into(),
        input_watermark: watermark.clone(),
        started_at_ms: 100,
    };
    let run_id = store.insert_run(&new_run).unwrap();
    assert_eq!(
        store.find_run("linear", "{}", &watermark).unwrap(),
        None,
        "a running run is not reused"
    );
    let credits: Vec<Credit> = (0..1000)
        .map(|i| Credit {
            order_id: format!("o{:04}", i / 2),
            touch_id: format!("t{i:04}"),
            share_ppb: 500_000_000,
            revenue_minor: 50,
            join_kind: if i % 3 == 0 {
                JoinKind::Deterministic
            } else {
                JoinKind::IdentityGraph
            },
            confidence_ppm: 1_000_000,
        })
        .collect();
    assert_eq!(store.insert_credits(run_id, &credits).unwrap(), 1000);
    let run_orders = vec![
        RunOrder {
            order_id: "o0000".into(),
            outcome: RunOrderOutcome::Attributed,
            net_minor: 100,
            provisional: false,
            join_kind: Some(JoinKind::Deterministic),
        },
        RunOrder {
            order_id: "o9999".into(),
            outcome: RunOrderOutcome::Unattributed,
            net_minor: 70,
            provisional: true,
            join_kind: None,
        },
    ];
    store.insert_run_orders(run_id, &run_orders).unwrap();
    store
        .finish_run(run_id, RunStatus::Complete, 200, None)
        .unwrap();

    let found = store.find_run("linear", "{}", &watermark).unwrap().unwrap();
    assert_eq!(found.run_id, run_id);
    assert_eq!(found.status, RunStatus::Complete);
    assert_eq!(found.finished_at_ms, Some(200));
    assert_eq!(
        store.find_run("linear", r#"{"x":1}"#, &watermark).unwrap(),
        None
    );
    assert_eq!(store.find_run("linear", "{}", "other").unwrap(), None);
    assert_eq!(store.credits_for_run(run_id).unwrap(), credits);
    assert_eq!(store.run_orders(run_id).unwrap(), run_orders);

    assert!(matches!(
        store.insert_credits(run_id + 1, &credits),
        Err(StoreError::RunNotFound { .. })
    ));
    assert!(matches!(
        store.finish_run(run_id + 1, RunStatus::Failed, 1, Some("x")),
        Err(StoreError::RunNotFound { .. })
    ));
    store.delete_run(run_id).unwrap();
    assert_eq!(store.row_count(Table::Credits).unwrap(), 0);
    assert_eq!(store.row_count(Table::RunOrders).unwrap(), 0);
}

#[test]
fn model_changes_are_logged_with_the_setting_and_cannot_be_rewritten() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    let first = store
        .set_model_with_log(&ModelChangeRequest {
            changed_at_ms: 10,
            changed_by: "maya".into(),
            to_model: "linear".into(),
            parameters_after: "{}".into(),
            reason: "compare with the agency's report".into(),
        })
        .unwrap();
    assert_eq!(first.from_model.as_deref(), Some("last-touch"));
    store
        .set_model_with_log(&ModelChangeRequest {
            changed_at_ms: 20,
            changed_by: "sam".into(),
            to_model: "time-decay".into(),
            parameters_after: r#"{"half_life_days":7}"#.into(),
            reason: "long consideration cycle".into(),
        })
        .unwrap();
    assert!(matches!(
        store.set_model_with_log(&ModelChangeRequest {
            changed_at_ms: 30,
            changed_by: "sam".into(),
            to_model: "linear".into(),
            parameters_after: "{}".into(),
            reason: "  ".into(),
        }),
        Err(StoreError::InvalidValue {
            field: "reason",
            ..
        })
    ));
    assert_eq!(store.model().unwrap(), "time-decay");
    assert_eq!(store.model_parameters().unwrap(), r#"{"half_life_days":7}"#);
    let log = store.model_changes().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].changed_by, "sam");
    assert_eq!(log[0].from_model.as_deref(), Some("linear"));
    assert_eq!(log[1].to_model, "linear");
    drop(store);

    let raw = Connection::open(&path).unwrap();
    let update = raw.execute("UPDATE model_changes SET reason = 'nothing happened'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = raw.execute("DELETE FROM model_changes", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    drop(raw);
    assert_eq!(
        Store::open(&path).unwrap().model_changes().unwrap().len(),
        2
    );
}

#[test]
fn a_text_file_is_refused_and_left_unchanged() {
    let (_dir, path) = workspace();
    std::fs::write(&path, "name,amount\nmaya,12\n".repeat(20)).unwrap();
    let before = file_bytes(&path);
    assert!(matches!(
        Store::open(&path),
        Err(StoreError::NotAWorkspace { .. })
    ));
    assert!(matches!(
        Store::open_read_only(&path),
        Err(StoreError::NotAWorkspace { .. })
    ));
    assert!(matches!(
        Store::open_or_create(&path),
        Err(StoreError::NotAWorkspace { .. })
    ));
    assert_eq!(file_bytes(&path), before);
    assert!(!Path::new(&format!("{}-wal", path.display())).exists());
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_left_unchanged() {
    let (_dir, path) = workspace();
    {
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hello');")
            .unwrap();
    }
    let before = file_bytes(&path);
    match Store::open(&path) {
        Err(StoreError::NotAWorkspace { detail, .. }) => {
            assert!(detail.contains("another application"), "{detail}")
        }
        other => panic!("expected NotAWorkspace, got {other:?}"),
    }
    assert_eq!(file_bytes(&path), before);
}

#[test]
fn a_truncated_workspace_is_refused_and_left_unchanged() {
    let (_dir, path) = workspace();
    {
        let mut store = Store::create(&path).unwrap();
        store
            .write(|tx| {
                for i in 0..3000 {
                    tx.insert_touch(&touch(&format!("t{i:05}"), i))?;
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
    }
    // Closing the last connection checkpoints the WAL into the main file.
    let full = file_bytes(&path);
    assert!(full.len() > 100_000, "the test needs a multi-page file");
    for keep in [50, full.len() / 2] {
        std::fs::write(&path, &full[..keep]).unwrap();
        let before = file_bytes(&path);
        let result = Store::open(&path);
        assert!(
            matches!(
                result,
                Err(StoreError::Damaged { .. }) | Err(StoreError::NotAWorkspace { .. })
            ),
            "truncated to {keep} bytes: {result:?}"
        );
        assert_eq!(file_bytes(&path), before, "truncated to {keep} bytes");
    }
}

#[test]
fn a_workspace_from_a_newer_lookback_is_refused_and_left_unchanged() {
    let (_dir, path) = workspace();
    drop(Store::create(&path).unwrap());
    {
        let raw = Connection::open(&path).unwrap();
        raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = file_bytes(&path);
    match Store::open(&path) {
        Err(StoreError::NewerVersion { found, supported }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerVersion, got {other:?}"),
    }
    assert!(matches!(
        Store::open_read_only(&path),
        Err(StoreError::NewerVersion { .. })
    ));
    assert_eq!(file_bytes(&path), before);
}

#[test]
fn a_read_only_store_reads_and_refuses_writes() {
    let (_dir, path) = workspace();
    {
        let mut store = Store::create(&path).unwrap();
        store.write(|tx| tx.insert_touch(&touch("t1", 1))).unwrap();
    }
    let mut store = Store::open_read_only(&path).unwrap();
    assert!(store.is_read_only());
    assert_eq!(store.row_count(Table::Touches).unwrap(), 1);
    assert!(matches!(store.begin(), Err(StoreError::ReadOnly)));
    assert!(matches!(
        store.set_lookback_days(3),
        Err(StoreError::ReadOnly)
    ));
}

/// Aliases of a sale: a new alias of an id that is itself an alias still names the kept order,
/// and an alias naming a second stored order folds it (refunds included) into the first.
#[test]
fn order_aliases_chain_and_fold_into_the_first_stored_order() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| {
            tx.insert_order(&order("in_1", 1_000, 2_000, "USD"))?;
            // The Stripe charge paying in_1 was folded into it earlier.
            tx.add_order_alias("ch_1", "in_1", "stripe", 1)?;
            // A later sync names the charge's payment intent: it must name in_1 too.
            tx.add_order_alias("ch_1", "pi_1", "stripe", 2)?;
            assert_eq!(tx.canonical_order_id("pi_1")?, "in_1");
            assert_eq!(tx.canonical_order_id("ch_1")?, "in_1");
            // A second stored order that turns out to be the same sale is folded.
            tx.insert_order(&order("shop_9", 2_000, 2_000, "USD"))?;
            tx.insert_adjustment(&adjustment(
                "re_1",
                "shop_9",
                AdjustmentKind::Refund,
                500,
                "succeeded",
            ))?;
            assert!(tx.add_order_alias("pi_1", "shop_9", "stripe", 3)?);
            assert_eq!(tx.canonical_order_id("shop_9")?, "in_1");
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let conn = Connection::open(&path).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM orders"), 1);
    assert_eq!(
        count("SELECT COUNT(*) FROM order_adjustments WHERE order_id = 'in_1'"),
        1
    );
}

#[test]
fn journey_touches_are_read_by_rowid_and_click_ids_come_grouped() {
    let (_dir, path) = workspace();
    let mut store = Store::create(&path).unwrap();
    // 60 touches; t(3k+1) and t(3k+2) share click id c{k}, t(3k) has none; odd ones no creator.
    store
        .write(|tx| {
            for n in 0..60i64 {
                let mut t = touch(&format!("t{n:02}"), n);
                t.click_id = (n % 3 != 0).then(|| format!("c{:02}", n / 3));
                if n % 2 == 1 {
                    t.creator_id = None;
                }
                tx.insert_touch(&t)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let mut rowids = Vec::new();
    store
        .for_each_attribution_touch(TouchFilter::All, |t| rowids.push(t.rowid))
        .unwrap();
    assert_eq!(rowids.len(), 60);

    // Near and far apart (more than one range query), in rowid order.
    let wanted = [rowids[0], rowids[1], rowids[5], rowids[40], rowids[59]];
    let mut read = Vec::new();
    store
        .for_each_touch_report_keys(&wanted, |k| {
            read.push((
                k.rowid,
                k.touch_id.to_owned(),
                k.creator_id.map(str::to_owned),
                k.campaign_id.map(str::to_owned),
            ))
        })
        .unwrap();
    let expected: Vec<_> = [0usize, 1, 5, 40, 59]
        .iter()
        .map(|&n| {
            (
                rowids[n],
                format!("t{n:02}"),
                (n % 2 == 0).then(|| "cr_1".to_owned()),
                Some("cmp_1".to_owned()),
            )
        })
        .collect();
    assert_eq!(read, expected);
    // A touch that is gone is an error naming it, whether inside a range or past the end.
    for wanted in [
        vec![rowids[2], rowids[59] + 5],
        vec![rowids[2], rowids[2] + 100],
    ] {
        let error = store
            .for_each_touch_report_keys(&wanted, |_| {})
            .unwrap_err()
            .to_string();
        assert!(error.contains(&wanted[1].to_string()), "{error}");
    }

    let mut clicks = Vec::new();
    store
        .for_each_touch_click(|click, rowid| clicks.push((click.to_owned(), rowid)))
        .unwrap();
    let mut expected: Vec<(String, i64)> = (0..60usize)
        .filter(|n| n % 3 != 0)
        .map(|n| (format!("c{:02}", n / 3), rowids[n]))
        .collect();
    expected.sort();
    assert_eq!(clicks, expected);
}

/// The touch table's (`touch_rows`, migration 0024) indexes as `sqlite_master` holds them:
/// name and creating SQL.
fn touch_index_schema(path: &Path) -> Vec<(String, Option<String>)> {
    let raw = Connection::open(path).unwrap();
    let mut stmt = raw
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'touch_rows' ORDER BY name")
        .unwrap();
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn touch_indexes_deferred_for_a_load_are_rebuilt_as_they_were_and_kept_on_rollback() {
    let (_dir, path) = workspace();
    let (_fresh_dir, fresh) = workspace();
    drop(Store::create(&fresh).unwrap());
    let original = touch_index_schema(&fresh);
    assert_eq!(
        original.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        [
            "sqlite_autoindex_touch_rows_1",
            "touches_by_click",
            "touches_by_creator"
        ]
    );

    let mut store = Store::create(&path).unwrap();
    store
        .write(|tx| -> StoreResult<()> {
            tx.insert_touch(&touch("before", 1_000))?;
            Ok(())
        })
        .unwrap();
    // A load with the indexes deferred: inside it a duplicate is still found by the key.
    store
        .write(|tx| -> StoreResult<()> {
            tx.defer_touch_indexes()?;
            assert_eq!(
                tx.insert_touch(&touch("before", 1_000))?,
                InsertOutcome::Duplicate
            );
            for i in 0..100 {
                tx.insert_touch(&touch(&format!("loaded-{i:03}"), 2_000 + i))?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(touch_index_schema(&path), original);
    assert_eq!(store.row_count(Table::Touches).unwrap(), 101);
    assert_eq!(store.totals().unwrap().touches, 101);
    let mut ids: Vec<String> = store
        .touches()
        .unwrap()
        .into_iter()
        .map(|t| t.touch_id)
        .collect();
    ids.sort();
    assert_eq!(ids.first().map(String::as_str), Some("before"));
    assert_eq!(ids.last().map(String::as_str), Some("loaded-099"));
    // The rebuilt indexes are whole: SQLite's own check of every index against its table.
    let raw = Connection::open(&path).unwrap();
    let check: String = raw
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // A load that fails leaves the indexes (and the rows) as they were.
    let failed = store.write(|tx| -> StoreResult<()> {
        tx.defer_touch_indexes()?;
        tx.insert_touch(&touch("never-kept", 3_000))?;
        Err(StoreError::InvalidValue {
            field: "test",
            detail: "the load failed".into(),
        })
    });
    assert!(failed.is_err());
    assert_eq!(touch_index_schema(&path), original);
    assert_eq!(store.row_count(Table::Touches).unwrap(), 101);
}

#[test]
fn touch_indexes_are_deferred_only_for_a_load_large_against_the_table() {
    assert!(!touch_indexes_worth_deferring(49_999, 0));
    assert!(touch_indexes_worth_deferring(50_000, 0));
    assert!(touch_indexes_worth_deferring(347_000, 347_000));
    assert!(!touch_indexes_worth_deferring(347_000, 347_001));
    assert!(!touch_indexes_worth_deferring(830_000, 9_000_000));
}

/// How each touch's e-mail hash is stored: (touch id, `typeof(email_hash)`,
/// `length(email_hash)`, the `email_sha256` the readers see).
fn stored_email_hashes(path: &Path) -> Vec<(String, String, Option<i64>, Option<String>)> {
    Connection::open(path)
        .unwrap()
        .prepare(
            "SELECT touch_id, typeof(email_hash), length(CAST(email_hash AS BLOB)), email_sha256
             FROM touch_rows ORDER BY touch_id",
        )
        .unwrap()
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Migration 0024: a touch's channel, source and touch type are ids into small dictionaries and
/// read back as their names; its e-mail hash is kept as its 32 bytes and read back, by every
/// reader of `email_sha256`, as the same 64 hex digits; a value that is not a lowercase hex SHA-256
/// (a sync source may send anything) is kept as the text it was, in a workspace upgraded from
/// schema 23 and in a touch written now alike.
#[test]
fn touch_rows_keep_names_as_ids_and_email_hashes_as_bytes() {
    let (_dir, path) = workspace();
    let hash = "0123456789abcdef".repeat(4);
    let upper = "0123456789ABCDEF".repeat(4);
    {
        let mut conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        let tx = conn.transaction().unwrap();
        for migration in MIGRATIONS.iter().filter(|m| m.version <= 23) {
            tx.execute_batch(migration.sql).unwrap();
        }
        for (id, email) in [
            ("old-hash", Some(hash.as_str())),
            ("old-none", None),
            ("old-short", Some("abc")),
            ("old-upper", Some(upper.as_str())),
        ] {
            tx.execute(
                "INSERT INTO touches (touch_id, source, occurred_at_ms, channel, email_sha256)
                 VALUES (?1, 'web', 1, 'email', ?2)",
                rusqlite::params![id, email],
            )
            .unwrap();
        }
        tx.pragma_update(None, "user_version", 23).unwrap();
        tx.commit().unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    store
        .write(|tx| {
            for (id, email) in [("new-hash", Some(&hash)), ("new-upper", Some(&upper))] {
                let mut t = touch(id, 2);
                t.identity.email_sha256 = email.cloned();
                tx.insert_touch(&t)?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let blob = |id: &str| {
        (
            id.to_owned(),
            "blob".to_owned(),
            Some(32),
            Some(hash.clone()),
        )
    };
    let text = |id: &str, value: &str| {
        let length = Some(value.len() as i64);
        (
            id.to_owned(),
            "text".to_owned(),
            length,
            Some(value.to_owned()),
        )
    };
    assert_eq!(
        stored_email_hashes(&path),
        vec![
            blob("new-hash"),
            text("new-upper", &upper),
            blob("old-hash"),
            ("old-none".to_owned(), "null".to_owned(), None, None),
            text("old-short", "abc"),
            text("old-upper", &upper),
        ]
    );
    // The store's own readers see the hex text.
    let read: Vec<(String, Option<String>)> = store
        .touches()
        .unwrap()
        .into_iter()
        .map(|t| (t.touch_id, t.identity.email_sha256))
        .collect();
    assert!(read.contains(&("old-hash".to_owned(), Some(hash.clone()))));
    assert!(read.contains(&("new-hash".to_owned(), Some(hash.clone()))));
    // Channel, source and touch type come back through their dictionaries (the old rows'
    // 'email' / 'web' / the default 'click'; `touch()`'s for the new ones), each name stored once.
    let names: Vec<(String, String, String, String)> = store
        .touches()
        .unwrap()
        .into_iter()
        .map(|t| (t.touch_id, t.channel, t.source, t.touch_type))
        .collect();
    for (id, channel, source, touch_type) in &names {
        let expected = if id.starts_with("old") {
            ("email", "web", "click")
        } else {
            ("paid_social", "web", "click")
        };
        assert_eq!(
            (channel.as_str(), source.as_str(), touch_type.as_str()),
            expected,
            "{id}"
        );
    }
    let dictionary_rows: (i64, i64, i64) = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM touch_channels), (SELECT COUNT(*) FROM touch_sources),
                    (SELECT COUNT(*) FROM touch_types)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!(dictionary_rows, (2, 1, 1));
    // Journey resolution reads the stored bytes and the channel ids, and maps them itself.
    let mut attribution = Vec::new();
    store
        .for_each_attribution_touch(TouchFilter::All, |t| {
            assert!(["email", "paid_social"].contains(&t.channel));
            attribution.push(t.email_sha256.map(str::to_owned));
        })
        .unwrap();
    attribution.sort();
    let mut expected = vec![
        None,
        Some("abc".to_owned()),
        Some(hash.clone()),
        Some(hash.clone()),
        Some(upper.clone()),
        Some(upper.clone()),
    ];
    expected.sort();
    assert_eq!(attribution, expected);
}
