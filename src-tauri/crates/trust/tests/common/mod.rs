//! Hand-built workspaces for the trust tests: a few records written through the store's
//! public API, with exactly the gaps a test plants.
#![allow(dead_code)]

use lookback_store::{
    IdentityKey, IdentityKeyType, IdentityKeys, IdentityLink, NewRawEvent, Order, Store, Touch,
};

pub const DAY_MS: i64 = 86_400_000;
/// 2026-03-10T00:00:00Z.
pub const T0: i64 = 1_773_100_800_000;

pub fn touch(
    id: &str,
    at_ms: i64,
    creator: Option<&str>,
    keys: IdentityKeys,
    click: Option<&str>,
) -> Touch {
    Touch {
        touch_id: id.into(),
        source: "dub".into(),
        occurred_at_ms: at_ms,
        channel: "creator".into(),
        touch_type: "click".into(),
        creator_id: creator.map(Into::into),
        campaign_id: None,
        ad_id: None,
        content_id: None,
        click_id: click.map(Into::into),
        identity: keys,
        raw_event_id: None,
    }
}

pub fn order(
    id: &str,
    at_ms: i64,
    gross: i64,
    currency: &str,
    keys: IdentityKeys,
    click: Option<&str>,
) -> Order {
    Order {
        order_id: id.into(),
        source: "stripe".into(),
        occurred_at_ms: at_ms,
        gross_minor: gross,
        currency: currency.into(),
        status: "paid".into(),
        click_id: click.map(Into::into),
        identity: keys,
        raw_event_id: None,
    }
}

pub fn customer(id: &str) -> IdentityKeys {
    IdentityKeys {
        customer_id: Some(id.into()),
        ..IdentityKeys::default()
    }
}

pub fn link(a: (IdentityKeyType, &str), b: (IdentityKeyType, &str)) -> IdentityLink {
    IdentityLink {
        a: IdentityKey::new(a.0, a.1),
        b: IdentityKey::new(b.0, b.1),
        source: "shopify".into(),
        created_at_ms: T0,
    }
}

pub fn raw(
    store: &mut Store,
    source: &str,
    stream: &str,
    id: &str,
    payload: &str,
    at_ms: i64,
) -> i64 {
    let mut tx = store.begin().unwrap();
    let outcome = tx
        .insert_raw_event(&NewRawEvent {
            source,
            stream,
            external_id: id,
            received_at_ms: at_ms,
            payload,
            normalizer_version: 1,
        })
        .unwrap();
    tx.commit().unwrap();
    outcome.raw_event_id()
}
