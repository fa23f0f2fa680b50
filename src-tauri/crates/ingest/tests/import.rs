//! Imports of every kind of CSV into a real workspace file in a temporary directory, checked
//! through lookback-store's public reads.

use std::path::Path;

use lookback_core::traffic::TrafficClass;
use lookback_ingest::{ImportKind, ImportSummary, IngestError, import_csv, import_csv_reader};
use lookback_store::{AdjustmentKind, CreatorCostKind, IdentityKey, IdentityKeyType, Store, Table};
use tempfile::TempDir;

const NOW: i64 = 1_750_000_000_000;
/// sha256("ann@example.com"), checked with `printf %s ann@example.com | sha256sum`.
const ANN_SHA: &str = "71d4f55f72fa128dfb468a1a3901507c804b74316488744d769d7f4b16696476";

fn workspace() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("workspace.lookback")).unwrap();
    (dir, store)
}

fn import(store: &mut Store, kind: ImportKind, csv: &str) -> ImportSummary {
    import_csv_reader(store, kind, csv.as_bytes(), "file.csv", NOW).unwrap()
}

fn counts(store: &Store) -> Vec<(Table, u64)> {
    Table::ALL
        .iter()
        .map(|&t| (t, store.row_count(t).unwrap()))
        .collect()
}

fn payload(store: &Store, stream: &str, external_id: &str) -> serde_json::Value {
    let versions = store
        .raw_event_versions("csv", stream, external_id)
        .unwrap();
    serde_json::from_str(&versions.last().expect("a raw event").payload).unwrap()
}

/// The maintained touch counts per source, channel, class and family equal a recount.
fn assert_traffic_totals_are_a_recount(store: &Store) {
    assert_eq!(
        store.traffic_totals().unwrap(),
        store.recount_traffic_totals().unwrap()
    );
}

/// The traffic class stored for `touch_id`.
fn class_of(store: &Store, touch_id: &str) -> TrafficClass {
    store.touch_traffic(touch_id).unwrap().unwrap().class
}

#[test]
fn sha_constant_is_the_hash_of_the_normalized_email() {
    assert_eq!(
        lookback_core::identity::email_sha256(" Ann@Example.COM ").unwrap(),
        ANN_SHA
    );
}

#[test]
fn touches_import_with_keys_hashes_and_raw_payload() {
    let (_dir, mut store) = workspace();
    let csv = "touch_id,occurred_at,channel,email,anonymous_id,creator_id,click_id,touch_type,utm_source\n\
               t1,2025-03-01T12:00:00Z,creator_link, Ann@Example.com ,,cr_1,clk_1,,ig\n\
               t2,2025-03-01T14:00:00.250+02:00,paid_social,,anon-9,,,view,fb\n";
    let summary = import(&mut store, ImportKind::Touches, csv);
    assert_eq!(
        (
            summary.imported,
            summary.duplicates,
            summary.updated,
            summary.rejected
        ),
        (2, 0, 0, 0)
    );
    assert_eq!(summary.file, "file.csv");
    assert_eq!(summary.kind, ImportKind::Touches);

    let mut touches = store.touches().unwrap();
    touches.sort_by(|a, b| a.touch_id.cmp(&b.touch_id));
    let t1 = &touches[0];
    assert_eq!(t1.source, "csv");
    assert_eq!(t1.occurred_at_ms, 1_740_830_400_000);
    assert_eq!(t1.channel, "creator_link");
    assert_eq!(t1.touch_type, "click");
    assert_eq!(t1.creator_id.as_deref(), Some("cr_1"));
    assert_eq!(t1.click_id.as_deref(), Some("clk_1"));
    assert_eq!(t1.identity.email_sha256.as_deref(), Some(ANN_SHA));
    assert_eq!(t1.identity.anonymous_id, None);
    // Its payload is in a raw-event block, not a raw_events row.
    assert_eq!(t1.raw_event_id, None);
    let t2 = &touches[1];
    assert_eq!(t2.occurred_at_ms, 1_740_830_400_250);
    assert_eq!(t2.touch_type, "view");
    assert_eq!(t2.identity.anonymous_id.as_deref(), Some("anon-9"));
    assert_eq!(t2.identity.email_sha256, None);

    // The raw payload keeps every column, the extra one included, with the email hashed.
    let raw = payload(&store, "touches", "t1");
    assert_eq!(raw["utm_source"], "ig");
    assert_eq!(raw["email_sha256"], ANN_SHA);
    assert!(raw.get("email").is_none());
    assert_eq!(raw["occurred_at"], "2025-03-01T12:00:00Z");

    let sources = store.sources().unwrap();
    let csv_source = sources
        .iter()
        .find(|s| s.source_id == "csv")
        .expect("csv source registered");
    assert_eq!(csv_source.kind, "csv");
    assert_eq!(csv_source.last_success_at_ms, Some(NOW));
}

#[test]
fn orders_convert_amounts_with_each_currencys_exponent() {
    let (_dir, mut store) = workspace();
    let csv = "order_id,occurred_at,amount,currency,customer_id,click_id,status\n\
               o-usd,2025-03-02T10:00:00Z,14.35,USD,cus_1,,\n\
               o-jpy,2025-03-02T10:00:00Z,1200,jpy,cus_2,,\n\
               o-kwd,2025-03-02T10:00:00Z,1.5,KWD,,clk_7,\n\
               o-eur,2025-03-02T10:00:00+01:00,0.5,EUR,cus_3,,Refunded\n\
               o-jpy-bad,2025-03-02T10:00:00Z,12.5,JPY,cus_2,,\n\
               o-usd-bad,2025-03-02T10:00:00Z,12.345,USD,cus_2,,\n";
    let summary = import(&mut store, ImportKind::Orders, csv);
    assert_eq!((summary.imported, summary.rejected), (4, 2));
    let orders = store.orders().unwrap();
    let get = |id: &str| orders.iter().find(|o| o.order_id == id).unwrap().clone();
    assert_eq!(
        (get("o-usd").gross_minor, get("o-usd").currency.as_str()),
        (1435, "USD")
    );
    assert_eq!(
        (get("o-jpy").gross_minor, get("o-jpy").currency.as_str()),
        (1200, "JPY")
    );
    assert_eq!(
        (get("o-kwd").gross_minor, get("o-kwd").currency.as_str()),
        (1500, "KWD")
    );
    assert_eq!(get("o-kwd").click_id.as_deref(), Some("clk_7"));
    assert_eq!(get("o-kwd").identity, Default::default());
    assert_eq!(get("o-usd").status, "paid");
    assert_eq!(get("o-usd").identity.customer_id.as_deref(), Some("cus_1"));
    assert_eq!(get("o-eur").status, "refunded");
    assert_eq!(get("o-eur").occurred_at_ms, 1_740_906_000_000);

    let letters = store.dead_letters(false).unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].location, "file.csv:6");
    assert_eq!(
        letters[0].reason,
        "amount \"12.5\" has more decimal places than JPY allows (0)"
    );
    assert_eq!(letters[1].location, "file.csv:7");
    assert_eq!(
        letters[1].reason,
        "amount \"12.345\" has more decimal places than USD allows (2)"
    );
    assert_eq!(
        (letters[0].source.as_str(), letters[0].stream.as_str()),
        ("csv", "orders")
    );
    let dead: serde_json::Value = serde_json::from_str(&letters[0].payload).unwrap();
    assert_eq!(dead["order_id"], "o-jpy-bad");
}

#[test]
fn refunds_and_chargebacks_import_with_kinds_and_statuses() {
    let (_dir, mut store) = workspace();
    let csv = "refund_id,order_id,occurred_at,amount,currency,kind,status\n\
               r1,o1,2025-03-03T08:00:00-05:00,5.00,USD,,\n\
               r2,o1,2025-03-04T08:00:00Z,10,USD,Chargeback,\n\
               r3,o2,2025-03-04T08:00:00Z,300,JPY,chargeback,won\n\
               r4,o2,2025-03-04T08:00:00Z,1,JPY,refund,lost\n\
               r5,o2,2025-03-04T08:00:00Z,1,JPY,credit,\n\
               r6,o2,2025-03-05T08:00:00Z,200,JPY,chargeback,Prevented\n";
    let summary = import(&mut store, ImportKind::Refunds, csv);
    assert_eq!((summary.imported, summary.rejected), (4, 2));
    let adjustments = store.adjustments().unwrap();
    let get = |id: &str| {
        adjustments
            .iter()
            .find(|a| a.adjustment_id == id)
            .unwrap()
            .clone()
    };
    let r1 = get("r1");
    assert_eq!(
        (
            r1.kind,
            r1.status.as_str(),
            r1.amount_minor,
            r1.order_id.as_str()
        ),
        (AdjustmentKind::Refund, "succeeded", 500, "o1")
    );
    assert_eq!(r1.occurred_at_ms, 1_741_006_800_000);
    assert_eq!(
        (get("r2").kind, get("r2").status.as_str()),
        (AdjustmentKind::Chargeback, "open")
    );
    assert_eq!(
        (
            get("r3").kind,
            get("r3").status.as_str(),
            get("r3").amount_minor
        ),
        (AdjustmentKind::Chargeback, "won", 300)
    );
    // A dispute stopped before it became a chargeback (Stripe's `prevented`).
    assert_eq!(get("r6").status, "prevented");
    let reasons: Vec<String> = store
        .dead_letters(false)
        .unwrap()
        .into_iter()
        .map(|d| format!("{} {}", d.location, d.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            "file.csv:5 status \"lost\" is not a refund status: expected one of succeeded, pending, failed, canceled, cancelled",
            "file.csv:6 kind \"credit\" is not refund or chargeback",
        ]
    );
}

#[test]
fn spend_uses_account_zone_and_a_restated_day_replaces_the_row() {
    let (_dir, mut store) = workspace();
    store.set_reporting_timezone("Europe/Berlin").unwrap();
    let csv = "date,channel,amount,currency,platform,account_id,campaign_id,ad_id,creator_id,impressions,clicks,timezone\n\
               2025-03-01,paid_social,120.50,USD,meta,act_1,cmp_1,ad_1,cr_1,1000,40,America/New_York\n\
               2025-03-01,newsletter,30,EUR,,,,,,,,\n\
               2025-03-01,podcast,45,EUR,,,,,,,,\n";
    let summary = import(&mut store, ImportKind::Spend, csv);
    assert_eq!(
        (summary.imported, summary.updated, summary.rejected),
        (3, 0, 0)
    );
    let spend = store.ad_spend().unwrap();
    assert_eq!(
        spend.len(),
        3,
        "two channels on one day without a platform stay two rows"
    );
    let meta = spend.iter().find(|s| s.platform == "meta").unwrap();
    assert_eq!(
        (
            meta.account_id.as_str(),
            meta.campaign_id.as_str(),
            meta.ad_id.as_str()
        ),
        ("act_1", "cmp_1", "ad_1")
    );
    assert_eq!(
        (meta.day.as_str(), meta.account_timezone.as_str()),
        ("2025-03-01", "America/New_York")
    );
    assert_eq!((meta.spend_minor, meta.currency.as_str()), (12_050, "USD"));
    assert_eq!(
        (meta.impressions, meta.clicks, meta.creator_id.as_deref()),
        (Some(1000), Some(40), Some("cr_1"))
    );
    assert_eq!(meta.updated_at_ms, NOW);
    let newsletter = spend.iter().find(|s| s.channel == "newsletter").unwrap();
    assert_eq!(
        (
            newsletter.platform.as_str(),
            newsletter.account_timezone.as_str()
        ),
        ("newsletter", "Europe/Berlin")
    );
    assert_eq!(
        (
            newsletter.campaign_id.as_str(),
            newsletter.ad_id.as_str(),
            newsletter.spend_minor
        ),
        ("", "", 3000)
    );
    assert!(
        store
            .raw_event_versions("csv", "spend", "meta|act_1|cmp_1|ad_1|2025-03-01")
            .unwrap()
            .len()
            == 1
    );

    // The platform restates the day: same key, new amount.
    let restated = "date,channel,amount,currency,platform,account_id,campaign_id,ad_id,creator_id,impressions,clicks,timezone\n\
                    2025-03-01,paid_social,99.99,USD,meta,act_1,cmp_1,ad_1,cr_1,1100,41,America/New_York\n";
    let later = import_csv_reader(
        &mut store,
        ImportKind::Spend,
        restated.as_bytes(),
        "restated.csv",
        NOW + 1,
    )
    .unwrap();
    assert_eq!((later.imported, later.updated, later.duplicates), (0, 1, 0));
    let spend = store.ad_spend().unwrap();
    assert_eq!(spend.len(), 3);
    let meta = spend.iter().find(|s| s.platform == "meta").unwrap();
    assert_eq!(
        (meta.spend_minor, meta.impressions, meta.updated_at_ms),
        (9_999, Some(1100), NOW + 1)
    );
    assert_eq!(
        store
            .raw_event_versions("csv", "spend", "meta|act_1|cmp_1|ad_1|2025-03-01")
            .unwrap()
            .len(),
        2
    );

    // Bad days and zones are row errors.
    let bad = "date,channel,amount,currency,timezone\n2025-3-1,x,1,USD,\n2025-03-02,x,1,USD,Mars/Olympus\n2025-03-02,x,-1,USD,\n";
    let summary = import(&mut store, ImportKind::Spend, bad);
    assert_eq!(summary.rejected, 3);
    let reasons: Vec<String> = store
        .dead_letters(false)
        .unwrap()
        .into_iter()
        .map(|d| d.reason)
        .collect();
    assert_eq!(
        reasons[0],
        "date \"2025-3-1\" is not a calendar day written YYYY-MM-DD"
    );
    assert!(
        reasons[1].starts_with("timezone \"Mars/Olympus\" is not an IANA time zone name"),
        "{}",
        reasons[1]
    );
    assert!(
        reasons[2].starts_with("amount \"-1\" is negative"),
        "{}",
        reasons[2]
    );
}

#[test]
fn creator_costs_derive_a_stable_id_or_use_the_given_one() {
    let (_dir, mut store) = workspace();
    let csv = "date,creator_id,amount,currency,kind\n\
               2025-03-01,cr_1,250,USD,\n\
               2025-03-31,cr_1,37.5,USD,Commission\n";
    let summary = import(&mut store, ImportKind::CreatorCosts, csv);
    assert_eq!(summary.imported, 2);
    let costs = store.creator_costs().unwrap();
    let fee = costs
        .iter()
        .find(|c| c.kind == CreatorCostKind::Fee)
        .unwrap();
    assert_eq!(
        (fee.day.as_str(), fee.amount_minor, fee.creator_id.as_str()),
        ("2025-03-01", 25_000, "cr_1")
    );
    assert!(
        fee.cost_id.starts_with("csv-") && fee.cost_id.len() == 36,
        "{}",
        fee.cost_id
    );
    let commission = costs
        .iter()
        .find(|c| c.kind == CreatorCostKind::Commission)
        .unwrap();
    assert_eq!(commission.amount_minor, 3_750);

    // The same cost written differently ("250.00", lowercase currency) is the same cost.
    let again = "date,creator_id,amount,currency,kind\n2025-03-01,cr_1,250.00,usd,fee\n";
    let summary = import(&mut store, ImportKind::CreatorCosts, again);
    assert_eq!(
        (summary.imported, summary.duplicates, summary.updated),
        (0, 1, 0)
    );
    assert_eq!(store.row_count(Table::CreatorCosts).unwrap(), 2);

    let explicit = "cost_id,date,creator_id,amount,currency\ninv-77,2025-04-01,cr_2,100,EUR\n";
    import(&mut store, ImportKind::CreatorCosts, explicit);
    assert!(
        store
            .creator_costs()
            .unwrap()
            .iter()
            .any(|c| c.cost_id == "inv-77" && c.amount_minor == 10_000)
    );
}

#[test]
fn identities_link_keys_and_hash_emails() {
    let (_dir, mut store) = workspace();
    let csv = "key_type_a,key_a,key_type_b,key_b\n\
               email,Ann@Example.com,customer_id,cus_1\n\
               customer_id,cus_1,EMAIL,ann@example.com\n\
               anonymous_id,anon-1,device_id,dev-1\n\
               phone,+4912345,customer_id,cus_1\n\
               person_id,p1,person_id,p1\n\
               email,not-an-address,customer_id,cus_9\n";
    let summary = import(&mut store, ImportKind::Identities, csv);
    assert_eq!(
        (summary.imported, summary.duplicates, summary.rejected),
        (2, 1, 3)
    );
    let links = store.identity_links().unwrap();
    assert_eq!(links.len(), 2);
    let email_link = links
        .iter()
        .find(|l| {
            l.a.key_type == IdentityKeyType::EmailSha256
                || l.b.key_type == IdentityKeyType::EmailSha256
        })
        .unwrap();
    let mut keys = [email_link.a.clone(), email_link.b.clone()];
    keys.sort();
    assert_eq!(
        keys,
        [
            IdentityKey::new(IdentityKeyType::EmailSha256, ANN_SHA),
            IdentityKey::new(IdentityKeyType::CustomerId, "cus_1")
        ]
    );
    assert_eq!(email_link.created_at_ms, NOW);
    let letters = store.dead_letters(false).unwrap();
    assert_eq!(letters[0].location, "file.csv:5");
    assert!(
        letters[0]
            .reason
            .starts_with("key_type_a \"phone\" is not a key type"),
        "{}",
        letters[0].reason
    );
    assert_eq!(
        letters[1].reason,
        "key_a and key_b are the same key; a link needs two different keys"
    );
    assert_eq!(
        letters[2].reason,
        "key_a is not a valid email address (the value is not stored)"
    );
    assert!(!letters[2].payload.contains("not-an-address"));
}

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let (_dir, mut store) = workspace();
    let touches = "touch_id,occurred_at,channel,customer_id\nt1,2025-03-01T12:00:00Z,direct,c1\nt2,bad,direct,c1\nt3,2025-03-01T13:00:00Z,direct,c2\n";
    let orders =
        "order_id,occurred_at,amount,currency,customer_id\no1,2025-03-01T12:30:00Z,10,USD,c1\n";
    let spend = "date,channel,amount,currency\n2025-03-01,meta,12,USD\n";
    let first = import(&mut store, ImportKind::Touches, touches);
    import(&mut store, ImportKind::Orders, orders);
    import(&mut store, ImportKind::Spend, spend);
    assert_eq!((first.imported, first.rejected), (2, 1));
    let before = counts(&store);
    let watermark = store.input_watermark().unwrap();

    let second = import(&mut store, ImportKind::Touches, touches);
    assert_eq!(
        (
            second.imported,
            second.duplicates,
            second.updated,
            second.rejected
        ),
        (0, 2, 0, 1)
    );
    let second_orders = import(&mut store, ImportKind::Orders, orders);
    assert_eq!((second_orders.imported, second_orders.duplicates), (0, 1));
    let second_spend = import(&mut store, ImportKind::Spend, spend);
    assert_eq!(
        (
            second_spend.imported,
            second_spend.duplicates,
            second_spend.updated
        ),
        (0, 1, 0)
    );
    assert_eq!(counts(&store), before);
    assert_eq!(store.input_watermark().unwrap(), watermark);
}

#[test]
fn bad_rows_go_to_dead_letters_at_their_physical_line() {
    let (_dir, mut store) = workspace();
    // Line 2 holds a quoted newline, so the row after it starts on line 4, not 3.
    let csv = "touch_id,occurred_at,channel,customer_id,note\n\
               t1,2025-03-01T12:00:00Z,direct,c1,\"two\nlines\"\n\
               t2,2025-13-01,direct,c1,\n\
               t3,2025-03-01T12:00:00Z,direct,,\n\
               ,2025-03-01T12:00:00Z,direct,c1,\n\
               t5,2025-03-01T12:00:00,direct,c1,\n\
               t6,2025-03-01T12:00:00Z,direct,c1\n\
               t7,2025-03-01T12:00:00Z,,c1,\n\
               t8,2025-03-01T12:00:00Z,direct,c8,\"ok, \"\"fine\"\"\"\n";
    let summary = import(&mut store, ImportKind::Touches, csv);
    assert_eq!((summary.imported, summary.rejected), (2, 6));
    let letters: Vec<(String, String)> = store
        .dead_letters(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.location, d.reason))
        .collect();
    let expected = [
        (
            "file.csv:4",
            "occurred_at \"2025-13-01\" is not an ISO-8601 instant with offset: not an RFC 3339 timestamp such as 2024-03-01T12:00:00Z",
        ),
        (
            "file.csv:5",
            "no identity key: fill at least one of customer_id so the touch can be joined to a person",
        ),
        ("file.csv:6", "touch_id is empty; it is required"),
        (
            "file.csv:7",
            "occurred_at \"2025-03-01T12:00:00\" is not an ISO-8601 instant with offset: has no UTC offset; add Z or an offset such as +02:00",
        ),
        (
            "file.csv:8",
            "the row has 4 fields but the header has 5; check for an unquoted comma or a missing field",
        ),
        ("file.csv:9", "channel is empty; it is required"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(l, r)| (l.to_string(), r.to_string()))
        .collect();
    assert_eq!(letters, expected);
    assert_eq!(payload(&store, "touches", "t1")["note"], "two\nlines");
    assert_eq!(payload(&store, "touches", "t8")["note"], "ok, \"fine\"");
}

#[test]
fn unknown_currency_bad_number_and_missing_values_are_row_errors() {
    let (_dir, mut store) = workspace();
    let csv = "order_id,occurred_at,amount,currency,customer_id\n\
               o1,2025-03-01T12:00:00Z,10,XYZ,c\n\
               o2,2025-03-01T12:00:00Z,1,234.00,USD,c\n\
               o3,2025-03-01T12:00:00Z,abc,USD,c\n\
               o4,2025-03-01T12:00:00Z,,USD,c\n\
               o5,2025-03-01T12:00:00Z,1e3,USD,c\n\
               o6,2025-03-01T12:00:00Z,10,USD,\n\
               o7,2025-03-01T12:00:00Z,10,USD,c\n";
    let summary = import(&mut store, ImportKind::Orders, csv);
    assert_eq!((summary.imported, summary.rejected), (1, 6));
    let reasons: Vec<String> = store
        .dead_letters(false)
        .unwrap()
        .into_iter()
        .map(|d| d.reason)
        .collect();
    assert_eq!(
        reasons[0],
        "currency \"XYZ\" is not a known ISO-4217 code such as USD, EUR or JPY"
    );
    assert!(
        reasons[1].starts_with("the row has 6 fields"),
        "{}",
        reasons[1]
    );
    assert!(
        reasons[2].starts_with("amount \"abc\" is not a plain decimal number"),
        "{}",
        reasons[2]
    );
    assert_eq!(reasons[3], "amount is empty; it is required");
    assert!(reasons[4].contains("exponent notation"), "{}", reasons[4]);
    assert_eq!(
        reasons[5],
        "no click_id and no identity key: fill at least one of customer_id"
    );
}

#[test]
fn a_missing_required_column_is_a_whole_file_error_and_writes_nothing() {
    let (dir, mut store) = workspace();
    let before = counts(&store);
    let path = dir.path().join("orders_march.csv");
    std::fs::write(
        &path,
        "order_id,occurred_at,amount,customer_id\no1,2025-03-01T12:00:00Z,10,c1\n",
    )
    .unwrap();
    let error = import_csv(&mut store, ImportKind::Orders, &path, NOW).unwrap_err();
    match &error {
        IngestError::MissingColumns { file, missing, .. } => {
            assert_eq!(file, "orders_march.csv");
            assert_eq!(missing, &["currency".to_owned()]);
        }
        other => panic!("unexpected error {other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains("orders_march.csv") && message.contains("currency"),
        "{message}"
    );
    assert_eq!(counts(&store), before);

    // Touches need at least one identity column.
    let error = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        "touch_id,occurred_at,channel\n".as_bytes(),
        "t.csv",
        NOW,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("one of person_id, anonymous_id, email"),
        "{error}"
    );
    // Several missing columns are all named.
    let error = import_csv_reader(
        &mut store,
        ImportKind::Spend,
        "Date,amount\n".as_bytes(),
        "s.csv",
        NOW,
    )
    .unwrap_err();
    assert!(
        matches!(&error, IngestError::MissingColumns { missing, .. } if missing == &["channel", "currency"])
    );
    let error =
        import_csv_reader(&mut store, ImportKind::Spend, "".as_bytes(), "e.csv", NOW).unwrap_err();
    assert!(matches!(error, IngestError::EmptyFile { .. }));
    let error = import_csv_reader(
        &mut store,
        ImportKind::Spend,
        "date,DATE,channel,amount,currency\n".as_bytes(),
        "d.csv",
        NOW,
    )
    .unwrap_err();
    assert!(matches!(error, IngestError::BadHeader { .. }), "{error}");
    assert!(matches!(
        import_csv(
            &mut store,
            ImportKind::Spend,
            &dir.path().join("nope.csv"),
            NOW
        ),
        Err(IngestError::Io { .. })
    ));
    assert_eq!(counts(&store), before);
}

#[test]
fn header_is_trimmed_and_case_insensitive_and_a_bom_is_skipped() {
    let (_dir, mut store) = workspace();
    let csv = "\u{feff}\"Touch_ID\", Occurred_At ,CHANNEL,Device_Id\r\nt1,2025-03-01T12:00:00Z,direct,d1\r\n";
    let summary = import(&mut store, ImportKind::Touches, csv);
    assert_eq!((summary.imported, summary.rejected), (1, 0));
    assert_eq!(
        store.touches().unwrap()[0].identity.device_id.as_deref(),
        Some("d1")
    );
}

#[test]
fn a_row_that_is_not_utf8_is_a_dead_letter() {
    let (_dir, mut store) = workspace();
    let mut bytes =
        b"touch_id,occurred_at,channel,customer_id\nt1,2025-03-01T12:00:00Z,dir".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"ect,c1\nt2,2025-03-01T12:00:00Z,direct,c1\n");
    let summary = import_csv_reader(
        &mut store,
        ImportKind::Touches,
        bytes.as_slice(),
        "latin1.csv",
        NOW,
    )
    .unwrap();
    assert_eq!((summary.imported, summary.rejected), (1, 1));
    let letter = &store.dead_letters(false).unwrap()[0];
    assert_eq!(letter.location, "latin1.csv:2");
    assert!(letter.reason.contains("UTF-8"));
}

#[test]
fn an_order_restated_with_a_new_status_is_updated() {
    let (_dir, mut store) = workspace();
    import(
        &mut store,
        ImportKind::Orders,
        "order_id,occurred_at,amount,currency,customer_id,status\no1,2025-03-01T12:00:00Z,10,USD,c1,paid\n",
    );
    let summary = import(
        &mut store,
        ImportKind::Orders,
        "order_id,occurred_at,amount,currency,customer_id,status\no1,2025-03-01T12:00:00Z,10,USD,c1,cancelled\n",
    );
    assert_eq!(
        (summary.imported, summary.updated, summary.duplicates),
        (0, 1, 0)
    );
    assert_eq!(store.orders().unwrap()[0].status, "cancelled");
    assert_eq!(
        store
            .raw_event_versions("csv", "orders", "o1")
            .unwrap()
            .len(),
        2
    );
}

/// Every byte of every file in `dir` (the workspace, its WAL and shared-memory files).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[test]
fn a_raw_email_is_never_stored() {
    let (dir, mut store) = workspace();
    let touches = "touch_id,occurred_at,channel,email\n\
                   t1,2025-03-01T12:00:00Z,direct,Zelda.Secret@Example.org\n\
                   t2,not-a-time,direct,zelda.secret@example.org\n\
                   t3,2025-03-01T12:00:00Z,direct,zelda.secret(at)example.org\n\
                   t4,2025-03-01T12:00:00Z,Zelda.Secret@example.org\n";
    let summary = import(&mut store, ImportKind::Touches, touches);
    assert_eq!((summary.imported, summary.rejected), (1, 3));
    // An address in a column the format does not use is hashed too.
    let orders = "order_id,occurred_at,amount,currency,email,contact\no1,2025-03-01T12:00:00Z,10,USD,zelda.secret@example.org,zelda.secret@example.org\n";
    import(&mut store, ImportKind::Orders, orders);
    let refunds = "refund_id,order_id,occurred_at,amount,currency,email\nr1,o1,2025-03-02T12:00:00Z,1,USD,zelda.secret@example.org\n";
    import(&mut store, ImportKind::Refunds, refunds);
    let links =
        "key_type_a,key_a,key_type_b,key_b\nemail,zelda.secret@example.org,customer_id,c1\n";
    import(&mut store, ImportKind::Identities, links);
    let bad_utf8 = b"touch_id,occurred_at,channel,email\nt9,2025-03-01T12:00:00Z,dir\xff,zelda.secret@example.org\n".to_vec();
    import_csv_reader(
        &mut store,
        ImportKind::Touches,
        bad_utf8.as_slice(),
        "file.csv",
        NOW,
    )
    .unwrap();

    let hash = lookback_core::identity::email_sha256("zelda.secret@example.org").unwrap();
    assert_eq!(
        store.touches().unwrap()[0].identity.email_sha256.as_deref(),
        Some(hash.as_str())
    );
    assert_eq!(
        store.orders().unwrap()[0].identity.email_sha256.as_deref(),
        Some(hash.as_str())
    );
    assert_eq!(store.dead_letters(false).unwrap().len(), 4);
    assert_eq!(payload(&store, "orders", "o1")["contact"], hash.as_str());

    // Search while open (WAL and shared memory included) and after closing.
    let bytes = all_bytes(dir.path());
    assert!(
        contains(&bytes, &hash),
        "the hash is stored, so the search can find things"
    );
    for needle in ["zelda.secret", "zelda"] {
        assert!(
            !contains(&bytes, needle),
            "{needle:?} found in the open workspace"
        );
    }
    drop(store);
    let bytes = all_bytes(dir.path());
    assert!(
        !contains(&bytes, "zelda"),
        "raw email found in the closed workspace"
    );
}

#[test]
fn importing_from_a_path_names_the_file_in_locations() {
    let (dir, mut store) = workspace();
    let path = dir.path().join("touches-march.csv");
    std::fs::write(
        &path,
        "touch_id,occurred_at,channel,customer_id\nt1,yesterday,direct,c1\n",
    )
    .unwrap();
    let summary = import_csv(&mut store, ImportKind::Touches, &path, NOW).unwrap();
    assert_eq!(
        (summary.file.as_str(), summary.rejected),
        ("touches-march.csv", 1)
    );
    assert_eq!(
        store.dead_letters(false).unwrap()[0].location,
        "touches-march.csv:2"
    );
    assert_eq!(
        summary.to_string(),
        "touches-march.csv (touches): 0 imported, 0 duplicates, 0 updated, 1 rejected"
    );
}

#[test]
fn kinds_parse_from_cli_names() {
    for kind in ImportKind::ALL {
        assert_eq!(kind.as_str().parse::<ImportKind>().unwrap(), kind);
    }
    assert_eq!(
        ImportKind::parse(" Creator-Costs ").unwrap(),
        ImportKind::CreatorCosts
    );
    assert!(matches!(
        ImportKind::parse("clicks"),
        Err(IngestError::UnknownKind { .. })
    ));
}

#[test]
fn twenty_thousand_rows_import_in_one_go() {
    let (_dir, mut store) = workspace();
    let mut csv = String::from("touch_id,occurred_at,channel,anonymous_id,email,creator_id\n");
    for i in 0..20_000 {
        let email = if i % 3 == 0 {
            format!("user{}@example.com", i % 500)
        } else {
            String::new()
        };
        csv.push_str(&format!(
            "t{i},2025-03-{:02}T{:02}:{:02}:00Z,ch{},anon-{},{email},cr_{}\n",
            1 + i % 28,
            i % 24,
            i % 60,
            i % 7,
            i % 1000,
            i % 50
        ));
    }
    let summary = import(&mut store, ImportKind::Touches, &csv);
    assert_eq!((summary.imported, summary.rejected), (20_000, 0));
    assert_eq!(store.row_count(Table::Touches).unwrap(), 20_000);
    // Their payloads are kept in blocks, counted in the source's totals like rows.
    assert_eq!(store.row_count(Table::RawEvents).unwrap(), 0);
    let csv_source = store.totals().unwrap().sources;
    let csv_source = csv_source.iter().find(|s| s.source == "csv").unwrap();
    assert_eq!(
        (csv_source.raw_events, csv_source.raw_records),
        (20_000, 20_000)
    );
    let touches = store.touches().unwrap();
    let t3 = touches.iter().find(|t| t.touch_id == "t3").unwrap();
    assert_eq!(
        t3.occurred_at_ms,
        lookback_core::time::parse_instant_ms("2025-03-04T03:03:00Z").unwrap()
    );
    assert_eq!(
        t3.identity.email_sha256,
        lookback_core::identity::email_sha256("user3@example.com")
    );
    assert_eq!(
        touches
            .iter()
            .filter(|t| t.identity.email_sha256.is_some())
            .count(),
        6_667
    );
    let again = import(&mut store, ImportKind::Touches, &csv);
    assert_eq!((again.imported, again.duplicates), (0, 20_000));
}

#[test]
fn every_template_imports_its_example_row() {
    let (_dir, mut store) = workspace();
    // Orders before refunds, as a user would fill them in.
    for kind in ImportKind::ALL {
        let template = lookback_ingest::template_csv(kind);
        let summary = import(&mut store, kind, &template);
        assert_eq!(
            (summary.imported, summary.rejected),
            (1, 0),
            "{kind} template: {template}"
        );
    }
}

/// A touch file of `rows` rows whose `note` column (kept only in the raw payload) pads each row
/// to about 420 bytes, with one row repeated (a duplicate inside the file) and one bad row.
fn padded_touch_file(rows: usize) -> String {
    let mut csv =
        String::from("touch_id,occurred_at,channel,creator_id,click_id,anonymous_id,note\n");
    let note = "x".repeat(360);
    for i in 0..rows {
        csv.push_str(&format!(
            "t{i:05},2025-03-{:02}T{:02}:00:00Z,ch{},cr{},clk{i},anon{},{note}\n",
            1 + i % 28,
            i % 24,
            i % 7,
            i % 5,
            i % 997
        ));
    }
    csv.push_str(&format!(
        "t00003,2025-03-04T03:00:00Z,ch3,cr3,clk3,anon3,{note}\n"
    ));
    csv.push_str("t-bad,not a time,ch1,,,anon1,\n");
    csv
}

#[test]
fn a_large_touch_file_builds_the_touch_indexes_once_and_stores_what_a_row_by_row_import_stores() {
    let csv = padded_touch_file(12_000);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("touches.csv");
    std::fs::write(&file, &csv).unwrap();

    // From the file: ~5 MB, estimated at more than 50,000 rows against an empty table, so the
    // indexes are built at the end.
    let (_a, mut bulk) = workspace();
    let by_file = import_csv(&mut bulk, ImportKind::Touches, &file, NOW).unwrap();
    assert!(by_file.touch_indexes_rebuilt);
    // From a reader of unknown size: kept row by row.
    let (_b, mut rows) = workspace();
    let by_rows = import_csv_reader(
        &mut rows,
        ImportKind::Touches,
        csv.as_bytes(),
        "touches.csv",
        NOW,
    )
    .unwrap();
    assert!(!by_rows.touch_indexes_rebuilt);

    assert_eq!(
        (
            by_file.imported,
            by_file.duplicates,
            by_file.rejected,
            by_file.to_string()
        ),
        (12_000, 1, 1, by_rows.to_string())
    );
    assert_eq!(counts(&bulk), counts(&rows));
    let sorted = |store: &Store| {
        let mut t = store.touches().unwrap();
        t.sort_by(|a, b| a.touch_id.cmp(&b.touch_id));
        t
    };
    assert_eq!(sorted(&bulk), sorted(&rows));
    assert_eq!(
        payload(&bulk, "touches", "t00042"),
        payload(&rows, "touches", "t00042")
    );
    assert_eq!(
        bulk.dead_letters(false).unwrap(),
        rows.dead_letters(false).unwrap()
    );

    // A second, small file into the now larger table is kept row by row.
    let small = dir.path().join("more.csv");
    std::fs::write(&small, padded_touch_file(100)).unwrap();
    let again = import_csv(&mut bulk, ImportKind::Touches, &small, NOW).unwrap();
    assert!(!again.touch_indexes_rebuilt);
    assert_eq!(again.duplicates, 101);
}

#[test]
fn touches_are_classified_from_their_user_agent_and_verdict_before_the_agent_is_redacted() {
    let (_dir, mut store) = workspace();
    let csv = "touch_id,occurred_at,channel,anonymous_id,content_id,user_agent,is_bot\n\
        t-slack,2026-05-01T10:00:00Z,social,a1,post-1,Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots),\n\
        t-person,2026-05-01T11:00:00Z,social,a2,post-1,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148,false\n\
        t-flagged,2026-05-01T12:00:00Z,affiliate,a3,post-2,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X),true\n\
        t-plain,2026-05-01T13:00:00Z,email,a4,,,\n";
    let summary = import(&mut store, ImportKind::Touches, csv);
    assert_eq!(summary.imported, 4);
    let slack = store.touch_traffic("t-slack").unwrap().unwrap();
    assert_eq!(slack.class, TrafficClass::Bot);
    assert_eq!(slack.family.as_deref(), Some("slack-preview"));
    assert_eq!(class_of(&store, "t-person"), TrafficClass::Human);
    let flagged = store.touch_traffic("t-flagged").unwrap().unwrap();
    assert_eq!(flagged.class, TrafficClass::Bot);
    assert_eq!(flagged.rule.as_deref(), Some("platform-bot-flag"));
    assert_eq!(class_of(&store, "t-plain"), TrafficClass::Human);
    // Inserted with their class and family: the maintained counts are a recount's.
    assert_traffic_totals_are_a_recount(&store);
    assert!(
        store
            .traffic_totals()
            .unwrap()
            .iter()
            .any(|t| t.class == TrafficClass::Bot
                && t.family.as_deref() == Some("slack-preview")
                && t.touches == 1)
    );
    // The user agent itself is not kept: the payload has it redacted.
    assert_eq!(
        payload(&store, "touches", "t-slack")["user_agent"],
        "[redacted]"
    );
    assert_eq!(
        payload(&store, "touches", "t-person")["user_agent"],
        "[redacted]"
    );
}

/// A touch file's bursts are decided on the import's reading thread, before anything is
/// written: every click of the file counts, the ones stored by an earlier import too, so a
/// file that overlaps the last one decides its new clicks as a re-classification of the whole
/// workspace would. The rows are inserted with their class, and the maintained traffic
/// totals stay equal to a recount.
#[test]
fn a_burst_counts_the_files_clicks_stored_already_as_a_reclassification_does() {
    let (_dir, mut store) = workspace();
    let header = "touch_id,occurred_at,channel,anonymous_id,content_id,user_agent\n";
    let browser =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
    let first = format!(
        "{header}b-1,2026-05-01T10:00:00Z,email,reader-a,news-9,{browser}\n\
         b-2,2026-05-01T10:00:02Z,email,reader-a,news-9,{browser}\n"
    );
    let summary = import(&mut store, ImportKind::Touches, &first);
    assert_eq!(summary.imported, 2);
    assert_eq!(class_of(&store, "b-2"), TrafficClass::Human);
    // The next export repeats the two clicks and adds a third within the burst window.
    let second = format!(
        "{first}b-3,2026-05-01T10:00:04Z,email,reader-a,news-9,{browser}\n\
         c-1,2026-05-01T10:00:04Z,email,reader-b,news-9,{browser}\n"
    );
    let summary = import(&mut store, ImportKind::Touches, &second);
    assert_eq!((summary.imported, summary.duplicates), (2, 2));
    let third = store.touch_traffic("b-3").unwrap().unwrap();
    assert_eq!(third.class, TrafficClass::Bot);
    assert_eq!(third.rule.as_deref(), Some("click-burst"));
    assert_eq!(class_of(&store, "c-1"), TrafficClass::Human);
    assert_traffic_totals_are_a_recount(&store);
    // Hindsight over every stored touch decides the same: nothing moves class.
    let reclassified = store.reclassify_traffic(&mut |_, _| {}).unwrap();
    assert_eq!(reclassified.touches, 4);
    assert!(
        reclassified.moved.iter().all(|((from, to), _)| from == to),
        "{:?}",
        reclassified.moved
    );
    assert_traffic_totals_are_a_recount(&store);
}

/// Daily exchange rates (`fx-rates`): a rate is kept in its canonical decimal, a duplicate row
/// changes nothing, a restated day replaces the stored rate, and each unusable row goes to dead
/// letters naming its line and the field at fault.
#[test]
fn fx_rates_import_keyed_by_pair_and_day_and_bad_rows_are_named() {
    let (_dir, mut store) = workspace();
    let csv = "date,from_currency,to_currency,rate\n\
               2026-03-02,EUR,USD,1.0800\n\
               2026-03-02,EUR,USD,1.0800\n\
               2026-03-02,GBP,USD,1.27\n\
               2026-03-03,EUR,USD,abc\n\
               2026-03-04,EUR,EUR,1\n\
               2026-03-05,XXX,USD,1.1\n\
               2026-03-06,EUR,USD,-1.2\n\
               03/07/2026,EUR,USD,1.1\n";
    let summary = import(&mut store, ImportKind::FxRates, csv);
    assert_eq!(
        (
            summary.imported,
            summary.duplicates,
            summary.updated,
            summary.rejected
        ),
        (2, 1, 0, 5)
    );
    let rates: Vec<(String, String, String, String)> = store
        .fx_rates()
        .unwrap()
        .into_iter()
        .map(|r| (r.day, r.from_currency, r.to_currency, r.rate))
        .collect();
    assert_eq!(
        rates,
        vec![
            (
                "2026-03-02".into(),
                "EUR".into(),
                "USD".into(),
                "1.08".into()
            ),
            (
                "2026-03-02".into(),
                "GBP".into(),
                "USD".into(),
                "1.27".into()
            ),
        ]
    );
    let letters: Vec<(String, String)> = store
        .dead_letters(false)
        .unwrap()
        .into_iter()
        .map(|d| (d.location, d.reason))
        .collect();
    let reason_at = |line: &str| {
        letters
            .iter()
            .find(|(location, _)| location == &format!("file.csv:{line}"))
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| panic!("no dead letter for line {line} in {letters:?}"))
    };
    assert!(reason_at("5").starts_with("rate \"abc\""), "{letters:?}");
    assert!(reason_at("6").contains("both EUR"), "{letters:?}");
    assert!(
        reason_at("7").starts_with("from_currency \"XXX\""),
        "{letters:?}"
    );
    assert!(reason_at("8").contains("positive"), "{letters:?}");
    assert!(
        reason_at("9").starts_with("date \"03/07/2026\""),
        "{letters:?}"
    );

    // The same file again changes nothing; a restated rate replaces the day's.
    let again = import(&mut store, ImportKind::FxRates, csv);
    assert_eq!((again.imported, again.updated), (0, 0));
    let restated = import(
        &mut store,
        ImportKind::FxRates,
        "date,from_currency,to_currency,rate\n2026-03-02,EUR,USD,1.0815\n",
    );
    assert_eq!((restated.imported, restated.updated), (0, 1));
    let eur = store
        .fx_rates()
        .unwrap()
        .into_iter()
        .find(|r| r.from_currency == "EUR")
        .unwrap();
    assert_eq!(eur.rate, "1.0815");
}
