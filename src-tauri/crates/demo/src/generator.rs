//! The story of the demo's thirteen months, written in a fixed order through one write
//! transaction: sources, creators and their content, the weekly newsletter, campaigns and daily
//! spend, fx rates, then people — browsers who never buy, buyers with multi-touch journeys,
//! guest checkouts — then the clicks no person made (mail scanners, previews, crawlers), and
//! finally refunds, chargebacks and creator costs. Every canonical row is preceded by its raw
//! event, so the raw log and the canonical tables tell the same story, and every touch is
//! classified by the store's `TouchClassifier` from the signals its payload carried before
//! minimizing, as an import classifies it.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::calendar::{
    DAY_MS, HOUR_MS, MINUTE_MS, civil_from_days, day_of, day_string, days_from_civil, weekday,
};
use crate::payload::JsonObject;
use crate::random::{SplitMix64, mix};
use crate::season;
use crate::traffic::{
    AD_REVIEW_AGENT, AD_REVIEW_SHARE, AutomatedTouch, AutomatedVisitor, BROWSER_AGENTS,
    CRAWLER_AGENTS, CRAWLER_SHARE, DELAYED_SCAN_SHARE, LINK_BOT_FLAG_SHARE, LINK_PREVIEW_SHARE,
    NAMED_SCANNER_SHARE, PREVIEW_AGENTS, SCANNED_MAILBOX_SHARE, SCANNER_AGENTS,
    TIKTOK_INVALID_SHARE,
};
use crate::world::{
    AD_PLATFORMS, CAMPAIGNS, CHANNELS, CREATORS, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES,
    PRICES_MINOR,
};
use crate::{DEMO_DAYS, DemoConfig, DemoError, DemoSummary};
use lookback_core::pii::REDACTED;
use lookback_core::traffic::{TrafficSignals, signals_from_parts};
use lookback_store::{
    AdSpend, AdjustmentKind, Campaign, Content, Creator, CreatorCost, CreatorCostKind, FxRate,
    IdentityKey, IdentityKeyType, IdentityKeys, IdentityLink, InsertOutcome, NewRawEvent, Order,
    OrderAdjustment, RawEventOutcome, Source, Touch, TouchClassifier, WriteTx,
};

const SHOP: &str = "demo-shopify";
const PAYMENTS: &str = "demo-stripe";
const WEB: &str = "demo-web";
const LINKS: &str = "demo-links";
const CREATOR_SHEET: &str = "demo-creators";
const FX: &str = "demo-fx";

/// Salts that keep the id families (anonymous ids, customer ids, click ids) apart although all
/// are derived from one counter.
const ANON_SALT: u64 = 0xA11C_E000_0000_0001;
const CUSTOMER_SALT: u64 = 0xC057_0000_0000_0002;
const CLICK_SALT: u64 = 0xC11C_0000_0000_0003;

/// Share of buyers whose browser is never linked to their email (no login, cookies cleared).
const UNLINKED_BUYER_SHARE: f64 = 0.15;
/// Share of orders that are guest checkouts with no touch at all.
const GUEST_CHECKOUT_SHARE: f64 = 0.07;
/// Share of buyers who order a second time.
const REPEAT_BUYER_SHARE: f64 = 0.15;
/// Browsers who never buy, per buyer.
const BROWSERS_PER_BUYER: f64 = 0.8;
/// Share of orders refunded (returns and goodwill), in full or in part.
const REFUND_SHARE: f64 = 0.06;
/// Probability that an order carries the click id of its last paid or link click.
const CLICK_ID_ON_ORDER: f64 = 0.35;

struct ContentItem {
    content_id: String,
    kind: &'static str,
    published_at_ms: i64,
}

/// One send of the weekly newsletter: when it went out and its content id.
struct NewsletterSend {
    sent_at_ms: i64,
    content_id: String,
}

/// Newsletter links a mail gateway opens when it scans one message.
const LINKS_PER_NEWSLETTER: (i64, i64) = (3, 5);

struct Person {
    anonymous_ids: Vec<String>,
    email_sha256: String,
    customer_id: String,
    currency: &'static str,
    preferred_creator: usize,
    /// Whether their mailbox sits behind a gateway that opens every newsletter link.
    scanned_mailbox: bool,
    /// Whether the browser ids get linked to the email (login or checkout on the same device).
    linked: bool,
}

/// What the later steps need to remember about an order.
struct OrderFacts {
    order_id: String,
    occurred_at_ms: i64,
    gross_minor: i64,
    currency: &'static str,
    /// The creator of the journey's last creator touch, for commissions.
    last_creator: Option<usize>,
}

/// The one-transaction writer of a demo workspace.
pub(crate) struct DemoWriter<'a, 's> {
    tx: &'a mut WriteTx<'s>,
    rng: SplitMix64,
    seed: u64,
    orders_wanted: usize,
    start_ms: i64,
    end_ms: i64,
    /// UTC day number of the window's first day; the window has `DEMO_DAYS` days.
    first_day: i64,
    content: Vec<Vec<ContentItem>>,
    newsletters: Vec<NewsletterSend>,
    orders: Vec<OrderFacts>,
    /// Classifies each touch as it is written, like an import.
    classifier: TouchClassifier,
    /// The signals of each (user agent, verdict) the demo sends, read once.
    signals: HashMap<(&'static str, Option<&'static str>), TrafficSignals>,
    /// Touches no person made, written after the people in time order.
    automated: Vec<AutomatedTouch>,
    id_counter: u64,
    touch_counter: u64,
    summary: DemoSummary,
}

fn email_sha256(email: &str) -> String {
    // The same normalization and hash as every ingest path (core's), so the demo's hashes join.
    lookback_core::identity::email_sha256(email).expect("the demo's generated addresses are valid")
}

impl<'a, 's> DemoWriter<'a, 's> {
    pub(crate) fn new(tx: &'a mut WriteTx<'s>, cfg: &DemoConfig) -> Result<Self, DemoError> {
        let end_ms = cfg.end_at_ms;
        let start_ms = end_ms - DEMO_DAYS * DAY_MS;
        let last_day = day_of(end_ms - 1);
        let classifier = TouchClassifier::load(tx)?;
        Ok(DemoWriter {
            tx,
            rng: SplitMix64::new(cfg.seed),
            seed: cfg.seed,
            orders_wanted: cfg.orders,
            start_ms,
            end_ms,
            first_day: last_day - (DEMO_DAYS - 1),
            content: Vec::new(),
            newsletters: Vec::new(),
            orders: Vec::new(),
            classifier,
            signals: HashMap::new(),
            automated: Vec::new(),
            id_counter: 0,
            touch_counter: 0,
            summary: DemoSummary::default(),
        })
    }

    pub(crate) fn write_all(mut self) -> Result<DemoSummary, DemoError> {
        self.write_creators()?;
        self.write_campaigns_and_spend()?;
        self.write_newsletters()?;
        self.write_fx_rates()?;
        self.write_people()?;
        self.write_automated_touches()?;
        self.write_refunds_and_chargebacks()?;
        self.write_creator_costs()?;
        // Sources last: their freshness is "just after the last record".
        self.write_sources()?;
        Ok(self.summary)
    }

    /// A unique, random-looking 16-hex-digit id: the counter goes through a bijection, so ids
    /// never collide (a collision would silently turn a record into a `Duplicate`).
    fn unique_hex(&mut self, salt: u64) -> String {
        self.id_counter += 1;
        format!(
            "{:016x}",
            mix(self.seed ^ salt ^ self.id_counter.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        )
    }

    fn raw(
        &mut self,
        source: &str,
        stream: &str,
        external_id: &str,
        received_at_ms: i64,
        payload: &str,
    ) -> Result<i64, DemoError> {
        let outcome = self.tx.insert_raw_event(&NewRawEvent {
            source,
            stream,
            external_id,
            received_at_ms: received_at_ms.min(self.end_ms),
            payload,
            normalizer_version: 1,
        })?;
        if let RawEventOutcome::Inserted(_) | RawEventOutcome::NewVersion(_) = outcome {
            self.summary.raw_events += 1;
        }
        Ok(outcome.raw_event_id())
    }

    fn note_activity(&mut self, at_ms: i64) {
        self.summary.first_at_ms = Some(self.summary.first_at_ms.map_or(at_ms, |v| v.min(at_ms)));
        self.summary.last_at_ms = Some(self.summary.last_at_ms.map_or(at_ms, |v| v.max(at_ms)));
    }

    fn write_sources(&mut self) -> Result<(), DemoError> {
        let mut sources: Vec<(&str, &str, &str)> = vec![
            (SHOP, "shopify", "Demo Shopify store"),
            (PAYMENTS, "stripe", "Demo Stripe"),
            (WEB, "web_pixel", "Demo website pixel"),
            (LINKS, "short_links", "Demo tracked links"),
            (CREATOR_SHEET, "csv_import", "Demo creator roster (CSV)"),
            (FX, "fx_rates", "Demo exchange rates"),
        ];
        sources.extend(
            AD_PLATFORMS
                .iter()
                .map(|p| (p.source_id, p.platform, p.source_name)),
        );
        for (source_id, kind, name) in sources {
            let synced_at = self.end_ms - self.rng.between(2, 55) * MINUTE_MS;
            self.tx.upsert_source(&Source {
                source_id: source_id.into(),
                kind: kind.into(),
                name: name.into(),
                base_url: None,
                account: None,
                credential_ref: None,
                created_at_ms: self.start_ms - 7 * DAY_MS,
                last_attempt_at_ms: Some(synced_at),
                last_success_at_ms: Some(synced_at),
                last_error: None,
            })?;
            self.summary.sources += 1;
        }
        Ok(())
    }

    fn write_creators(&mut self) -> Result<(), DemoError> {
        const THEMES: &[&str] = &[
            "Morning routine",
            "Unboxing",
            "Honest review",
            "Get ready with me",
            "3 ways to style it",
            "Week in my life",
            "Before and after",
            "Q&A",
            "Gift guide",
            "Haul",
        ];
        let roster_at = self.start_ms - 20 * DAY_MS;
        for profile in CREATORS {
            let creator = Creator {
                creator_id: format!("cr_{}", profile.slug),
                display_name: profile.display_name.into(),
                handle: Some(format!("@{}", profile.handle)),
                platform: Some(profile.platform.into()),
                created_at_ms: Some(roster_at),
            };
            let payload = JsonObject::new()
                .text("id", &creator.creator_id)
                .text("name", &creator.display_name)
                .text("handle", profile.handle)
                .text("platform", profile.platform)
                .int("fee_minor", profile.monthly_fee_minor)
                .int("commission_percent", profile.commission_percent)
                .finish();
            self.raw(
                CREATOR_SHEET,
                "creators",
                &creator.creator_id,
                roster_at,
                &payload,
            )?;
            self.tx.upsert_creator(&creator)?;
            self.summary.creators += 1;

            let link_slug: String = profile
                .handle
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            let mut items: Vec<(&'static str, String, Option<String>)> = vec![
                (
                    "link",
                    format!("Link in bio — {}", profile.display_name),
                    Some(format!("https://lkbk.to/{link_slug}")),
                ),
                (
                    "story",
                    format!(
                        "Story: {}",
                        THEMES[self.rng.below(THEMES.len() as u64) as usize]
                    ),
                    None,
                ),
                (
                    "story",
                    format!(
                        "Story: {}",
                        THEMES[self.rng.below(THEMES.len() as u64) as usize]
                    ),
                    None,
                ),
            ];
            // A year of posting: a few posts or videos with a tracked link each.
            for _ in 0..self.rng.between(3, 5) {
                let theme = THEMES[self.rng.below(THEMES.len() as u64) as usize];
                let code = self.rng.hex_id();
                let item = match profile.platform {
                    "instagram" if self.rng.chance(0.5) => (
                        "post",
                        theme.to_string(),
                        format!("https://www.instagram.com/p/{}/", &code[..11]),
                    ),
                    "instagram" => (
                        "video",
                        format!("Reel: {theme}"),
                        format!("https://www.instagram.com/reel/{}/", &code[..11]),
                    ),
                    "tiktok" => (
                        "video",
                        theme.to_string(),
                        format!(
                            "https://www.tiktok.com/@{}/video/7{}",
                            profile.handle,
                            &(self.rng.next_u64() % 10u64.pow(18)).to_string()
                        ),
                    ),
                    _ => (
                        "video",
                        theme.to_string(),
                        format!("https://www.youtube.com/watch?v={}", &code[..11]),
                    ),
                };
                items.push((item.0, item.1, Some(item.2)));
            }
            let mut stored = Vec::new();
            for (index, (kind, title, url)) in items.into_iter().enumerate() {
                // The link in bio is older than the demo; the rest is spread over its months.
                let days = if kind == "link" {
                    self.rng.between(-60, -30)
                } else {
                    self.rng.between(-30, DEMO_DAYS - 14)
                };
                let published = self.start_ms + days * DAY_MS + self.rng.between(0, 23) * HOUR_MS;
                let content = Content {
                    content_id: format!("ct_{}_{}", profile.slug, index + 1),
                    creator_id: Some(creator.creator_id.clone()),
                    kind: kind.into(),
                    title,
                    url,
                    published_at_ms: Some(published),
                };
                let payload = JsonObject::new()
                    .text("id", &content.content_id)
                    .text("creator_id", &creator.creator_id)
                    .text("kind", kind)
                    .text("title", &content.title)
                    .opt_text("url", content.url.as_deref())
                    .int("published_at_ms", published)
                    .finish();
                self.raw(
                    CREATOR_SHEET,
                    "content",
                    &content.content_id,
                    roster_at,
                    &payload,
                )?;
                self.tx.upsert_content(&content)?;
                self.summary.content_items += 1;
                stored.push(ContentItem {
                    content_id: content.content_id,
                    kind,
                    published_at_ms: published,
                });
            }
            self.content.push(stored);
        }
        Ok(())
    }

    fn write_campaigns_and_spend(&mut self) -> Result<(), DemoError> {
        // The newsletter is a campaign with no ad spend; email touches name it, so it must exist
        // for reconciliation to find every touch's campaign.
        let newsletter = Campaign {
            campaign_id: "newsletter".into(),
            platform: "email".into(),
            account_id: None,
            name: "Newsletter".into(),
            channel: "email".into(),
            creator_id: None,
        };
        let payload = JsonObject::new()
            .text("id", "newsletter")
            .text("name", "Newsletter")
            .finish();
        self.raw(WEB, "campaigns", "newsletter", self.start_ms, &payload)?;
        self.tx.upsert_campaign(&newsletter)?;
        self.summary.campaigns += 1;
        for plan in CAMPAIGNS {
            let platform = &AD_PLATFORMS[plan.platform];
            let campaign = Campaign {
                campaign_id: plan.campaign_id.into(),
                platform: platform.platform.into(),
                account_id: Some(platform.account_id.into()),
                name: plan.name.into(),
                channel: platform.channel.into(),
                creator_id: plan.creator.map(|c| format!("cr_{}", CREATORS[c].slug)),
            };
            let payload = JsonObject::new()
                .text("id", plan.campaign_id)
                .text("account_id", platform.account_id)
                .text("name", plan.name)
                .opt_text("creator_id", campaign.creator_id.as_deref())
                .finish();
            self.raw(
                platform.source_id,
                "campaigns",
                plan.campaign_id,
                self.start_ms,
                &payload,
            )?;
            self.tx.upsert_campaign(&campaign)?;
            self.summary.campaigns += 1;

            let ads: Vec<String> = if platform.ad_level {
                (1..=2)
                    .map(|n| format!("{}_ad{n}", plan.campaign_id))
                    .collect()
            } else {
                vec![String::new()]
            };
            // Each platform's costs differ: cost per thousand impressions in minor units, and
            // click-through rate in basis points.
            let (cpm_minor, ctr_bp) = match platform.platform {
                "meta" => (1_100, 110),
                "google_ads" => (2_600, 420),
                "tiktok" => (700, 90),
                _ => (500, 60),
            };
            for day_index in plan.starts_on_day..DEMO_DAYS {
                let day = self.first_day + day_index;
                // A little more spend at weekends, and budgets that follow the season (a
                // fourth-quarter push) and the shop's growth.
                let weekend = if weekday(day) >= 5 { 1.15 } else { 1.0 };
                let ramp = season::demand(day, day_index as f64 / DEMO_DAYS as f64);
                for ad_id in &ads {
                    let share = 1.0 / ads.len() as f64;
                    let noise = 0.7 + 0.6 * self.rng.unit();
                    let spend_minor =
                        (plan.daily_budget_minor as f64 * share * weekend * ramp * noise) as i64;
                    let impressions = spend_minor * 1000 / cpm_minor;
                    let clicks = impressions * (ctr_bp + self.rng.between(-20, 20)) / 10_000;
                    let day_text = day_string(day);
                    let external_id = format!("{}:{}:{}", plan.campaign_id, ad_id, day_text);
                    let payload = JsonObject::new()
                        .text("campaign_id", plan.campaign_id)
                        .text("ad_id", ad_id)
                        .text("date", &day_text)
                        .text(
                            "spend",
                            &format!("{}.{:02}", spend_minor / 100, spend_minor % 100),
                        )
                        .text("currency", platform.currency)
                        .int("impressions", impressions)
                        .int("clicks", clicks)
                        .finish();
                    // Platforms report a day a few hours after it ends in the account's zone.
                    let reported_at = (day + 1) * DAY_MS + self.rng.between(3, 9) * HOUR_MS;
                    let raw_event_id = self.raw(
                        platform.source_id,
                        "ad_spend",
                        &external_id,
                        reported_at,
                        &payload,
                    )?;
                    self.tx.upsert_ad_spend(&AdSpend {
                        platform: platform.platform.into(),
                        account_id: platform.account_id.into(),
                        campaign_id: plan.campaign_id.into(),
                        ad_id: ad_id.clone(),
                        day: day_text,
                        account_timezone: platform.timezone.into(),
                        channel: platform.channel.into(),
                        creator_id: campaign.creator_id.clone(),
                        spend_minor,
                        currency: platform.currency.into(),
                        impressions: Some(impressions),
                        clicks: Some(clicks),
                        source: platform.source_id.into(),
                        raw_event_id: Some(raw_event_id),
                        updated_at_ms: reported_at.min(self.end_ms),
                    })?;
                    self.summary.ad_spend_rows += 1;
                }
            }
        }
        Ok(())
    }

    /// The weekly newsletter, every Tuesday at 15:00 UTC, and a second one on Fridays in
    /// November and December: one content item per send, published when it was sent, so a
    /// click's seconds after the send are known (the timing rule reads them).
    fn write_newsletters(&mut self) -> Result<(), DemoError> {
        for day in self.first_day..self.first_day + DEMO_DAYS {
            let (_, month, _) = civil_from_days(day);
            let sends = weekday(day) == 1 || (weekday(day) == 4 && month >= 11);
            let sent_at_ms = day * DAY_MS + 15 * HOUR_MS;
            if !sends || sent_at_ms >= self.end_ms {
                continue;
            }
            let date = day_string(day);
            let content = Content {
                content_id: format!("nl_{date}"),
                creator_id: None,
                kind: "email".into(),
                title: format!("Newsletter {date}"),
                url: None,
                published_at_ms: Some(sent_at_ms),
            };
            let payload = JsonObject::new()
                .text("id", &content.content_id)
                .text("campaign_id", "newsletter")
                .text("subject", &content.title)
                .int("sent_at_ms", sent_at_ms)
                .finish();
            self.raw(WEB, "content", &content.content_id, sent_at_ms, &payload)?;
            self.tx.upsert_content(&content)?;
            self.summary.content_items += 1;
            self.newsletters.push(NewsletterSend {
                sent_at_ms,
                content_id: content.content_id,
            });
        }
        Ok(())
    }

    /// The newsletter send latest before `at_ms`, if any.
    fn newsletter_before(&self, at_ms: i64) -> Option<&NewsletterSend> {
        let index = self.newsletters.partition_point(|n| n.sent_at_ms < at_ms);
        index.checked_sub(1).map(|i| &self.newsletters[i])
    }

    /// Daily EUR→USD and GBP→USD rates with a small random walk, one day either side of the
    /// window so a reporting zone east or west of UTC still finds a rate for every order.
    fn write_fx_rates(&mut self) -> Result<(), DemoError> {
        // Rates in units of 1e-4, so they are exact decimals with four places.
        let mut rates = [
            ("EUR", 10_842_i64, 10_500, 11_300),
            ("GBP", 12_710, 12_300, 13_200),
        ];
        for day in (self.first_day - 1)..=(self.first_day + DEMO_DAYS) {
            for (currency, rate, low, high) in rates.iter_mut() {
                *rate = (*rate + self.rng.between(-25, 25)).clamp(*low, *high);
                let fx = FxRate {
                    day: day_string(day),
                    from_currency: (*currency).into(),
                    to_currency: "USD".into(),
                    rate: format!("{}.{:04}", *rate / 10_000, *rate % 10_000),
                    source: FX.into(),
                };
                let payload = JsonObject::new()
                    .text("date", &fx.day)
                    .text("base", currency)
                    .text("quote", "USD")
                    .text("rate", &fx.rate)
                    .finish();
                let external_id = format!("{}:{}USD", fx.day, currency);
                self.raw(
                    FX,
                    "rates",
                    &external_id,
                    day * DAY_MS + 16 * HOUR_MS,
                    &payload,
                )?;
                self.tx.upsert_fx_rate(&fx)?;
                self.summary.fx_rates += 1;
            }
        }
        Ok(())
    }

    fn new_person(&mut self) -> Person {
        let devices = if self.rng.chance(0.2) { 2 } else { 1 };
        let anonymous_ids = (0..devices)
            .map(|_| format!("anon_{}", self.unique_hex(ANON_SALT)))
            .collect();
        let first = FIRST_NAMES[self.rng.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[self.rng.below(LAST_NAMES.len() as u64) as usize];
        let domain = EMAIL_DOMAINS[self.rng.below(EMAIL_DOMAINS.len() as u64) as usize];
        // Emails arrive in mixed case with stray spaces, as people type them; the person
        // counter keeps two people with the same name apart.
        let email = format!(" {first}.{last}{}@{domain} ", self.summary.persons + 1);
        let popularity: Vec<u32> = CREATORS.iter().map(|c| c.popularity).collect();
        let currency = ["USD", "EUR", "GBP"][self.rng.weighted(&[72, 18, 10])];
        self.summary.persons += 1;
        Person {
            anonymous_ids,
            email_sha256: email_sha256(&email),
            customer_id: format!("cus_{}", self.unique_hex(CUSTOMER_SALT)),
            currency,
            preferred_creator: self.rng.weighted(&popularity),
            scanned_mailbox: self.rng.chance(SCANNED_MAILBOX_SHARE),
            linked: !self.rng.chance(UNLINKED_BUYER_SHARE),
        }
    }

    /// A uniform instant in `[low, high)`.
    fn instant_between(&mut self, low: i64, high: i64) -> i64 {
        low + self.rng.below((high - low).max(1) as u64) as i64
    }

    /// An instant in `[low, end - 1 minute)` drawn as busy the season is: more in November
    /// and December, fewer in February, and slowly more as the shop grows.
    fn seasonal_instant(&mut self, low: i64) -> i64 {
        let span = self.end_ms - MINUTE_MS - low;
        loop {
            let at = low + (self.rng.unit() * span as f64) as i64;
            let progress = (at - self.start_ms) as f64 / (self.end_ms - self.start_ms) as f64;
            let demand = season::demand(day_of(at), progress);
            if self.rng.unit() * season::MAX_DEMAND < demand {
                return at;
            }
        }
    }

    /// When a buyer's first order happens: as busy as the season.
    fn first_order_time(&mut self) -> i64 {
        self.seasonal_instant(self.start_ms + DAY_MS / 2)
    }

    fn write_people(&mut self) -> Result<(), DemoError> {
        let mut written = 0;
        while written < self.orders_wanted {
            if self.rng.chance(GUEST_CHECKOUT_SHARE) {
                let person = self.new_person();
                let at = self.first_order_time();
                self.write_identity_link(
                    &person,
                    IdentityKeyType::CustomerId,
                    &person.customer_id.clone(),
                    SHOP,
                    at,
                )?;
                self.write_order(&person, at, None, None)?;
                self.summary.unresolvable_orders += 1;
                written += 1;
                continue;
            }
            let person = self.new_person();
            self.summary.converting_persons += 1;
            let orders = if self.rng.chance(REPEAT_BUYER_SHARE) && written + 2 <= self.orders_wanted
            {
                2
            } else {
                1
            };
            let mut previous = self.start_ms;
            let mut at = self.first_order_time();
            for order_number in 0..orders {
                let touch_count = 1 + self.rng.weighted(&[22, 24, 20, 15, 11, 8]);
                let journey = self.write_journey(&person, previous, at, touch_count)?;
                if order_number == 0 {
                    self.write_identity_link(
                        &person,
                        IdentityKeyType::CustomerId,
                        &person.customer_id.clone(),
                        SHOP,
                        at,
                    )?;
                    if person.linked {
                        for anonymous_id in person.anonymous_ids.clone() {
                            self.write_identity_link(
                                &person,
                                IdentityKeyType::AnonymousId,
                                &anonymous_id,
                                WEB,
                                at,
                            )?;
                        }
                    }
                }
                let click_id = journey
                    .last_click_id
                    .filter(|_| self.rng.chance(CLICK_ID_ON_ORDER));
                if !person.linked && click_id.is_none() {
                    self.summary.unresolvable_orders += 1;
                }
                self.write_order(&person, at, click_id, journey.last_creator)?;
                written += 1;
                previous = at;
                at += self.rng.between(5, 40) * DAY_MS + self.rng.between(0, 23) * HOUR_MS;
                if at >= self.end_ms - MINUTE_MS {
                    break;
                }
            }
            if self.rng.chance(BROWSERS_PER_BUYER) {
                self.write_browser()?;
            }
        }
        Ok(())
    }

    /// A person who looks around and never buys. Some sign up for the newsletter, which links
    /// their browser to their email.
    fn write_browser(&mut self) -> Result<(), DemoError> {
        let person = self.new_person();
        let touch_count = 1 + self.rng.weighted(&[40, 30, 20, 10]);
        let anchor = self.seasonal_instant(self.start_ms + 10 * DAY_MS);
        self.write_journey(&person, self.start_ms, anchor, touch_count)?;
        if self.rng.chance(0.1) {
            let anonymous_id = person.anonymous_ids[0].clone();
            self.write_identity_link(
                &person,
                IdentityKeyType::AnonymousId,
                &anonymous_id,
                WEB,
                anchor - MINUTE_MS,
            )?;
        }
        Ok(())
    }

    /// Writes `touch_count` touches of `person` after `after_ms` and before `before_ms`.
    fn write_journey(
        &mut self,
        person: &Person,
        after_ms: i64,
        before_ms: i64,
        touch_count: usize,
    ) -> Result<JourneyEnd, DemoError> {
        let room = before_ms - after_ms - MINUTE_MS;
        let span = room.min(25 * DAY_MS);
        let mut offsets: Vec<i64> = (0..touch_count)
            .map(|_| self.rng.between(1, span.max(1)))
            .collect();
        offsets.sort_unstable_by(|a, b| b.cmp(a));
        if person.scanned_mailbox {
            // The gateway opened the links of the newsletters that reached the person before
            // they first came to the shop: on their journey, but not what brought them.
            let first_touch = (before_ms - offsets[0]).max(self.start_ms);
            let earliest = (before_ms - 29 * DAY_MS).max(self.start_ms);
            self.plan_scans(person, first_touch, earliest);
        }
        let mut end = JourneyEnd {
            last_click_id: None,
            last_creator: None,
        };
        let channel_weights: Vec<u32> = CHANNELS.iter().map(|(_, w)| *w).collect();
        for offset in offsets {
            let at = (before_ms - offset).max(self.start_ms);
            let channel = CHANNELS[self.rng.weighted(&channel_weights)].0;
            let touch = self.write_touch(person, at, channel)?;
            if touch.click_id.is_some() {
                end.last_click_id = touch.click_id.clone();
            }
            if let Some(creator_id) = &touch.creator_id {
                end.last_creator = CREATORS
                    .iter()
                    .position(|c| format!("cr_{}", c.slug) == *creator_id);
            }
        }
        Ok(end)
    }

    fn pick_creator(&mut self, person: &Person) -> usize {
        if self.rng.chance(0.75) {
            person.preferred_creator
        } else {
            let popularity: Vec<u32> = CREATORS.iter().map(|c| c.popularity).collect();
            self.rng.weighted(&popularity)
        }
    }

    fn write_touch(
        &mut self,
        person: &Person,
        at: i64,
        channel: &'static str,
    ) -> Result<Touch, DemoError> {
        self.touch_counter += 1;
        let device = self.rng.below(person.anonymous_ids.len() as u64) as usize;
        let mut touch = Touch {
            touch_id: format!("tch_{:07}", self.touch_counter),
            source: WEB.into(),
            occurred_at_ms: at,
            channel: channel.into(),
            touch_type: "click".into(),
            creator_id: None,
            campaign_id: None,
            ad_id: None,
            content_id: None,
            click_id: None,
            identity: IdentityKeys {
                anonymous_id: Some(person.anonymous_ids[device].clone()),
                ..Default::default()
            },
            raw_event_id: None,
        };
        match channel {
            "creator_link" | "creator_story" => {
                let creator = self.pick_creator(person);
                let wanted: &[&str] = if channel == "creator_story" {
                    &["story"]
                } else {
                    &["link", "link", "post", "video"]
                };
                let kind = wanted[self.rng.below(wanted.len() as u64) as usize];
                let matching: Vec<&ContentItem> = self.content[creator]
                    .iter()
                    .filter(|c| c.kind == kind && c.published_at_ms < at)
                    .collect();
                let items: Vec<&ContentItem> = if matching.is_empty() {
                    self.content[creator]
                        .iter()
                        .filter(|c| c.kind == "link")
                        .collect()
                } else {
                    matching
                };
                let item = items[self.rng.below(items.len() as u64) as usize]
                    .content_id
                    .clone();
                touch.creator_id = Some(format!("cr_{}", CREATORS[creator].slug));
                touch.content_id = Some(item);
                if channel == "creator_story" {
                    touch.touch_type = "swipe".into();
                } else {
                    touch.source = LINKS.into();
                    touch.click_id = Some(format!("lk_{}", self.unique_hex(CLICK_SALT)));
                }
            }
            "paid_social" | "paid_search" | "tiktok_ads" => {
                let day_index = (day_of(at) - self.first_day).clamp(0, DEMO_DAYS - 1);
                let candidates: Vec<usize> = (0..CAMPAIGNS.len())
                    .filter(|&i| {
                        AD_PLATFORMS[CAMPAIGNS[i].platform].channel == channel
                            && CAMPAIGNS[i].starts_on_day <= day_index
                    })
                    .collect();
                let weights: Vec<u32> = candidates
                    .iter()
                    .map(|&i| CAMPAIGNS[i].click_weight)
                    .collect();
                let plan = &CAMPAIGNS[candidates[self.rng.weighted(&weights)]];
                let platform = &AD_PLATFORMS[plan.platform];
                touch.campaign_id = Some(plan.campaign_id.into());
                if platform.ad_level {
                    touch.ad_id = Some(format!("{}_ad{}", plan.campaign_id, 1 + self.rng.below(2)));
                }
                touch.creator_id = plan.creator.map(|c| format!("cr_{}", CREATORS[c].slug));
                touch.click_id = Some(format!(
                    "{}{}",
                    platform.click_id_prefix,
                    self.unique_hex(CLICK_SALT)
                ));
            }
            "email" => {
                touch.campaign_id = Some("newsletter".into());
                touch.content_id = self.newsletter_before(at).map(|n| n.content_id.clone());
            }
            _ => touch.touch_type = "visit".into(),
        }
        let payload = JsonObject::new()
            .text("id", &touch.touch_id)
            .int("ts_ms", at)
            .text("channel", channel)
            .text("type", &touch.touch_type)
            .opt_text("anonymous_id", touch.identity.anonymous_id.as_deref())
            .opt_text("creator_id", touch.creator_id.as_deref())
            .opt_text("campaign_id", touch.campaign_id.as_deref())
            .opt_text("ad_id", touch.ad_id.as_deref())
            .opt_text("content_id", touch.content_id.as_deref())
            .opt_text("click_id", touch.click_id.as_deref())
            .text("user_agent", REDACTED)
            .finish();
        let source = touch.source.clone();
        let received_at = at + self.rng.between(200, 4_000);
        touch.raw_event_id =
            Some(self.raw(&source, "touches", &touch.touch_id, received_at, &payload)?);
        if self.tx.insert_touch(&touch)? == InsertOutcome::Inserted {
            self.summary.touches += 1;
            self.note_activity(at);
            let agent = BROWSER_AGENTS[self.rng.below(BROWSER_AGENTS.len() as u64) as usize];
            let signals = self.signals_of(agent, None);
            self.classifier.record(self.tx, &touch, signals)?;
        }
        self.plan_automated_beside(&touch, channel);
        Ok(touch)
    }

    /// The signals of a request with `agent` and the platform's `verdict`, read once per pair
    /// by the rules in force (what an ingest path reads from a payload before minimizing it).
    fn signals_of(&mut self, agent: &'static str, verdict: Option<&'static str>) -> TrafficSignals {
        let rules = self.classifier.rules();
        self.signals
            .entry((agent, verdict))
            .or_insert_with(|| signals_from_parts(Some(agent), verdict, None, rules))
            .clone()
    }

    /// Plans a gateway's scan of the newsletters sent before `first_touch` and not before
    /// `earliest`: the latest one, and sometimes the one before it.
    fn plan_scans(&mut self, person: &Person, first_touch: i64, earliest: i64) {
        let sends = self
            .newsletters
            .partition_point(|n| n.sent_at_ms < first_touch);
        let scanned = if self.rng.chance(0.5) { 2 } else { 1 };
        for index in (0..sends).rev().take(scanned) {
            let sent_at = self.newsletters[index].sent_at_ms;
            if sent_at < earliest {
                break;
            }
            let content_id = self.newsletters[index].content_id.clone();
            let agent = if self.rng.chance(NAMED_SCANNER_SHARE) {
                SCANNER_AGENTS[self.rng.below(SCANNER_AGENTS.len() as u64) as usize]
            } else {
                BROWSER_AGENTS[self.rng.below(BROWSER_AGENTS.len() as u64) as usize]
            };
            let mut at = sent_at
                + if self.rng.chance(DELAYED_SCAN_SHARE) {
                    self.rng.between(20_000, 900_000)
                } else {
                    self.rng.between(1_000, 6_000)
                };
            for _ in 0..self
                .rng
                .between(LINKS_PER_NEWSLETTER.0, LINKS_PER_NEWSLETTER.1)
            {
                self.automated.push(AutomatedTouch {
                    at_ms: at,
                    source: WEB,
                    channel: "email",
                    touch_type: "click",
                    visitor: AutomatedVisitor::Recipient {
                        email_sha256: person.email_sha256.clone(),
                    },
                    creator_id: None,
                    campaign_id: Some("newsletter".into()),
                    content_id: Some(content_id.clone()),
                    click_id_prefix: None,
                    user_agent: agent,
                    verdict: None,
                });
                at += self.rng.between(300, 2_500);
            }
        }
    }

    /// Plans the automated touches a person's click brings along: a preview of a creator's
    /// short link fetched when it was pasted into a chat, Meta checking an ad's landing page,
    /// a crawler following the link, a click the platform flagged.
    fn plan_automated_beside(&mut self, touch: &Touch, channel: &'static str) {
        let at = touch.occurred_at_ms;
        let stranger = |at_ms: i64,
                        source: &'static str,
                        touch_type: &'static str,
                        user_agent: &'static str| AutomatedTouch {
            at_ms,
            source,
            channel,
            touch_type,
            visitor: AutomatedVisitor::Stranger,
            creator_id: touch.creator_id.clone(),
            campaign_id: touch.campaign_id.clone(),
            content_id: touch.content_id.clone(),
            click_id_prefix: None,
            user_agent,
            verdict: None,
        };
        match channel {
            "creator_link" => {
                if self.rng.chance(LINK_PREVIEW_SHARE) {
                    let agent =
                        PREVIEW_AGENTS[self.rng.below(PREVIEW_AGENTS.len() as u64) as usize];
                    let fetched = (at - self.rng.between(10_000, 6 * HOUR_MS)).max(self.start_ms);
                    self.automated.push(AutomatedTouch {
                        click_id_prefix: Some("lk_"),
                        ..stranger(fetched, LINKS, "click", agent)
                    });
                }
                if self.rng.chance(CRAWLER_SHARE) {
                    let agent =
                        CRAWLER_AGENTS[self.rng.below(CRAWLER_AGENTS.len() as u64) as usize];
                    let crawled = (at + self.rng.between(-DAY_MS, DAY_MS))
                        .clamp(self.start_ms, self.end_ms - MINUTE_MS);
                    self.automated.push(AutomatedTouch {
                        click_id_prefix: Some("lk_"),
                        ..stranger(crawled, LINKS, "click", agent)
                    });
                }
                if self.rng.chance(LINK_BOT_FLAG_SHARE) {
                    let agent =
                        BROWSER_AGENTS[self.rng.below(BROWSER_AGENTS.len() as u64) as usize];
                    let flagged = (at + self.rng.between(-DAY_MS, DAY_MS))
                        .clamp(self.start_ms, self.end_ms - MINUTE_MS);
                    self.automated.push(AutomatedTouch {
                        click_id_prefix: Some("lk_"),
                        verdict: Some(("bot", "true")),
                        ..stranger(flagged, LINKS, "click", agent)
                    });
                }
            }
            "paid_social"
                if touch
                    .campaign_id
                    .as_deref()
                    .is_some_and(|c| c.starts_with("cmp_meta"))
                    && self.rng.chance(AD_REVIEW_SHARE) =>
            {
                let fetched = (at - self.rng.between(MINUTE_MS, 3 * HOUR_MS)).max(self.start_ms);
                self.automated
                    .push(stranger(fetched, WEB, "click", AD_REVIEW_AGENT));
            }
            "tiktok_ads" if self.rng.chance(TIKTOK_INVALID_SHARE) => {
                let agent = BROWSER_AGENTS[self.rng.below(BROWSER_AGENTS.len() as u64) as usize];
                let clicked = (at + self.rng.between(-HOUR_MS, HOUR_MS))
                    .clamp(self.start_ms, self.end_ms - MINUTE_MS);
                self.automated.push(AutomatedTouch {
                    click_id_prefix: Some("ttclid."),
                    verdict: Some(("fraud_status", "suspected")),
                    ..stranger(clicked, WEB, "click", agent)
                });
            }
            "organic_search" if self.rng.chance(CRAWLER_SHARE) => {
                let agent = CRAWLER_AGENTS[self.rng.below(2) as usize];
                let crawled = (at + self.rng.between(-DAY_MS, DAY_MS))
                    .clamp(self.start_ms, self.end_ms - MINUTE_MS);
                self.automated.push(stranger(crawled, WEB, "visit", agent));
            }
            _ => {}
        }
    }

    /// Writes the planned automated touches in time order (so a gateway's burst is counted as
    /// an import of the period would count it), each classified from its user agent, the
    /// platform's verdict, its seconds after the newsletter's send and its burst.
    fn write_automated_touches(&mut self) -> Result<(), DemoError> {
        let mut planned = std::mem::take(&mut self.automated);
        planned.sort_by_key(|t| t.at_ms);
        let mut classifier = TouchClassifier::load(self.tx)?;
        for plan in planned {
            self.touch_counter += 1;
            let identity = match plan.visitor {
                AutomatedVisitor::Recipient { email_sha256 } => IdentityKeys {
                    email_sha256: Some(email_sha256),
                    ..Default::default()
                },
                AutomatedVisitor::Stranger => IdentityKeys {
                    anonymous_id: Some(format!("anon_{}", self.unique_hex(ANON_SALT))),
                    ..Default::default()
                },
            };
            let click_id = plan
                .click_id_prefix
                .map(|prefix| format!("{prefix}{}", self.unique_hex(CLICK_SALT)));
            let mut touch = Touch {
                touch_id: format!("tch_{:07}", self.touch_counter),
                source: plan.source.into(),
                occurred_at_ms: plan.at_ms,
                channel: plan.channel.into(),
                touch_type: plan.touch_type.into(),
                creator_id: plan.creator_id,
                campaign_id: plan.campaign_id,
                ad_id: None,
                content_id: plan.content_id,
                click_id,
                identity,
                raw_event_id: None,
            };
            let mut payload = JsonObject::new()
                .text("id", &touch.touch_id)
                .int("ts_ms", touch.occurred_at_ms)
                .text("channel", plan.channel)
                .text("type", plan.touch_type)
                .opt_text("anonymous_id", touch.identity.anonymous_id.as_deref())
                .opt_text("email_sha256", touch.identity.email_sha256.as_deref())
                .opt_text("creator_id", touch.creator_id.as_deref())
                .opt_text("campaign_id", touch.campaign_id.as_deref())
                .opt_text("content_id", touch.content_id.as_deref())
                .opt_text("click_id", touch.click_id.as_deref())
                .text("user_agent", REDACTED);
            if let Some((field, value)) = plan.verdict {
                payload = payload.text(field, value);
            }
            let payload = payload.finish();
            let received_at = plan.at_ms + self.rng.between(200, 4_000);
            touch.raw_event_id = Some(self.raw(
                plan.source,
                "touches",
                &touch.touch_id,
                received_at,
                &payload,
            )?);
            if self.tx.insert_touch(&touch)? == InsertOutcome::Inserted {
                self.summary.touches += 1;
                self.note_activity(touch.occurred_at_ms);
                let signals = self.signals_of(plan.user_agent, plan.verdict.map(|v| v.1));
                classifier.record(self.tx, &touch, signals)?;
            }
        }
        Ok(())
    }

    fn write_identity_link(
        &mut self,
        person: &Person,
        key_type: IdentityKeyType,
        key: &str,
        source: &str,
        at: i64,
    ) -> Result<(), DemoError> {
        let link = IdentityLink {
            a: IdentityKey::new(key_type, key),
            b: IdentityKey::new(IdentityKeyType::EmailSha256, person.email_sha256.clone()),
            source: source.into(),
            created_at_ms: at,
        };
        let external_id = format!("{}:{}|email_sha256:{}", key_type, key, person.email_sha256);
        let payload = JsonObject::new()
            .text("key_type", key_type.as_str())
            .text("key", key)
            .text("email_sha256", &person.email_sha256)
            .int("ts_ms", at)
            .finish();
        self.raw(source, "identity", &external_id, at, &payload)?;
        if self.tx.insert_identity_link(&link)? == InsertOutcome::Inserted {
            self.summary.identity_links += 1;
        }
        Ok(())
    }

    fn basket_minor(&mut self) -> i64 {
        let items = 1 + self.rng.weighted(&[65, 28, 7]);
        let total: i64 = (0..items)
            .map(|_| PRICES_MINOR[self.rng.below(PRICES_MINOR.len() as u64) as usize])
            .sum();
        // Keep baskets in the shop's realistic range; a huge basket becomes its first item.
        if total > 25_000 {
            PRICES_MINOR[self.rng.below(PRICES_MINOR.len() as u64) as usize]
        } else {
            total
        }
    }

    fn write_order(
        &mut self,
        person: &Person,
        at: i64,
        click_id: Option<String>,
        last_creator: Option<usize>,
    ) -> Result<(), DemoError> {
        let order_id = format!("ord_{}", 100_001 + self.orders.len());
        let gross_minor = self.basket_minor();
        let payload = JsonObject::new()
            .text("id", &order_id)
            .int("created_at_ms", at)
            .int("total_minor", gross_minor)
            .text("currency", person.currency)
            .text("financial_status", "paid")
            .text("customer_id", &person.customer_id)
            .text("email_sha256", &person.email_sha256)
            .opt_text("landing_click_id", click_id.as_deref())
            .finish();
        let received_at = at + self.rng.between(1_000, 60_000);
        let raw_event_id = self.raw(SHOP, "orders", &order_id, received_at, &payload)?;
        let order = Order {
            order_id: order_id.clone(),
            source: SHOP.into(),
            occurred_at_ms: at,
            gross_minor,
            currency: person.currency.into(),
            status: "paid".into(),
            click_id,
            identity: IdentityKeys {
                email_sha256: Some(person.email_sha256.clone()),
                customer_id: Some(person.customer_id.clone()),
                ..Default::default()
            },
            raw_event_id: Some(raw_event_id),
        };
        if self.tx.insert_order(&order)? == InsertOutcome::Inserted {
            self.summary.orders += 1;
            self.note_activity(at);
        }
        self.orders.push(OrderFacts {
            order_id,
            occurred_at_ms: at,
            gross_minor,
            currency: person.currency,
            last_creator,
        });
        Ok(())
    }

    fn write_adjustment(
        &mut self,
        adjustment: OrderAdjustment,
        payload: String,
    ) -> Result<(), DemoError> {
        let stream = if adjustment.kind == AdjustmentKind::Refund {
            "refunds"
        } else {
            "disputes"
        };
        let raw_event_id = self.raw(
            &adjustment.source.clone(),
            stream,
            &adjustment.adjustment_id.clone(),
            adjustment.occurred_at_ms,
            &payload,
        )?;
        let adjustment = OrderAdjustment {
            raw_event_id: Some(raw_event_id),
            ..adjustment
        };
        if self.tx.insert_adjustment(&adjustment)? == InsertOutcome::Inserted {
            match adjustment.kind {
                AdjustmentKind::Refund => self.summary.refunds += 1,
                AdjustmentKind::Chargeback => self.summary.chargebacks += 1,
            }
        }
        Ok(())
    }

    fn write_refunds_and_chargebacks(&mut self) -> Result<(), DemoError> {
        let mut refunded: HashSet<usize> = HashSet::new();
        for index in 0..self.orders.len() {
            let (order_id, at, gross, currency) = {
                let o = &self.orders[index];
                (
                    o.order_id.clone(),
                    o.occurred_at_ms,
                    o.gross_minor,
                    o.currency,
                )
            };
            if at > self.end_ms - 3 * DAY_MS || !self.rng.chance(REFUND_SHARE) {
                continue;
            }
            // Returns come back within the shop's 30-day window plus shipping, so many are
            // booked in the month after the order (a clawback on the creator's next statement).
            let latest = (self.end_ms - HOUR_MS).min(at + 35 * DAY_MS);
            let refund_at = self.instant_between((at + 2 * DAY_MS).min(latest - HOUR_MS), latest);
            // Most refunds return the whole order; some only an item or a goodwill amount,
            // rounded to whole units of the currency.
            let amount_minor = if self.rng.chance(0.55) {
                gross
            } else {
                ((gross * self.rng.between(20, 70) / 100) / 100 * 100)
                    .max(100)
                    .min(gross)
            };
            let adjustment_id = format!("ref_{}", order_id.trim_start_matches("ord_"));
            let payload = JsonObject::new()
                .text("id", &adjustment_id)
                .text("order_id", &order_id)
                .int("created_at_ms", refund_at)
                .int("amount_minor", amount_minor)
                .text("currency", currency)
                .text("status", "succeeded")
                .finish();
            self.write_adjustment(
                OrderAdjustment {
                    adjustment_id,
                    order_id,
                    source: SHOP.into(),
                    kind: AdjustmentKind::Refund,
                    occurred_at_ms: refund_at,
                    amount_minor,
                    currency: currency.into(),
                    status: "succeeded".into(),
                    raw_event_id: None,
                },
                payload,
            )?;
            refunded.insert(index);
        }

        // Three disputes: two lost long ago, one still open. Only orders without a refund and
        // old enough for a dispute to have been filed.
        let eligible: Vec<usize> = (0..self.orders.len())
            .filter(|&i| {
                !refunded.contains(&i) && self.orders[i].occurred_at_ms < self.end_ms - 20 * DAY_MS
            })
            .collect();
        let wanted = 3.min(eligible.len());
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < wanted {
            let candidate = eligible[self.rng.below(eligible.len() as u64) as usize];
            if !chosen.contains(&candidate) {
                chosen.push(candidate);
            }
        }
        for (number, (index, status)) in
            chosen.into_iter().zip(["lost", "lost", "open"]).enumerate()
        {
            let (order_id, at, gross, currency) = {
                let o = &self.orders[index];
                (
                    o.order_id.clone(),
                    o.occurred_at_ms,
                    o.gross_minor,
                    o.currency,
                )
            };
            let disputed_at = at + self.rng.between(5, 18) * DAY_MS;
            let adjustment_id = format!("dp_{:03}", number + 1);
            let payload = JsonObject::new()
                .text("id", &adjustment_id)
                .text("charge_order_id", &order_id)
                .int("created_ms", disputed_at)
                .int("amount", gross)
                .text("currency", &currency.to_lowercase())
                .text(
                    "status",
                    if status == "open" {
                        "needs_response"
                    } else {
                        "lost"
                    },
                )
                .text("reason", "fraudulent")
                .finish();
            self.write_adjustment(
                OrderAdjustment {
                    adjustment_id,
                    order_id,
                    source: PAYMENTS.into(),
                    kind: AdjustmentKind::Chargeback,
                    occurred_at_ms: disputed_at,
                    amount_minor: gross,
                    currency: currency.into(),
                    status: status.into(),
                    raw_event_id: None,
                },
                payload,
            )?;
        }
        Ok(())
    }

    /// A monthly flat fee for every creator, and a monthly commission on the gross of orders
    /// whose journey ended with that creator, per currency.
    fn write_creator_costs(&mut self) -> Result<(), DemoError> {
        let last_day = self.first_day + DEMO_DAYS - 1;
        let mut commissions: BTreeMap<(usize, (i64, u32), &'static str), i64> = BTreeMap::new();
        for order in &self.orders {
            if let Some(creator) = order.last_creator {
                let (year, month, _) = civil_from_days(day_of(order.occurred_at_ms));
                *commissions
                    .entry((creator, (year, month), order.currency))
                    .or_default() += order.gross_minor;
            }
        }
        let (mut year, mut month, _) = civil_from_days(self.first_day);
        let mut months = Vec::new();
        while days_from_civil(year, month, 1) <= last_day {
            months.push((year, month));
            (year, month) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
        }
        let mut costs: Vec<CreatorCost> = Vec::new();
        for (creator_index, profile) in CREATORS.iter().enumerate() {
            for &(year, month) in &months {
                let month_start = days_from_civil(year, month, 1);
                let next_month = if month == 12 {
                    days_from_civil(year + 1, 1, 1)
                } else {
                    days_from_civil(year, month + 1, 1)
                };
                let tag = format!("{year:04}-{month:02}");
                costs.push(CreatorCost {
                    cost_id: format!("fee_{}_{tag}", profile.slug),
                    creator_id: format!("cr_{}", profile.slug),
                    day: day_string(month_start.max(self.first_day)),
                    kind: CreatorCostKind::Fee,
                    amount_minor: profile.monthly_fee_minor,
                    currency: "USD".into(),
                    source: CREATOR_SHEET.into(),
                    raw_event_id: None,
                });
                for currency in ["EUR", "GBP", "USD"] {
                    let gross = commissions
                        .get(&(creator_index, (year, month), currency))
                        .copied()
                        .unwrap_or(0);
                    let amount_minor = gross * profile.commission_percent / 100;
                    if amount_minor > 0 {
                        costs.push(CreatorCost {
                            cost_id: format!(
                                "com_{}_{tag}_{}",
                                profile.slug,
                                currency.to_lowercase()
                            ),
                            creator_id: format!("cr_{}", profile.slug),
                            day: day_string((next_month - 1).min(last_day)),
                            kind: CreatorCostKind::Commission,
                            amount_minor,
                            currency: currency.into(),
                            source: CREATOR_SHEET.into(),
                            raw_event_id: None,
                        });
                    }
                }
            }
        }
        for cost in costs {
            let payload = JsonObject::new()
                .text("id", &cost.cost_id)
                .text("creator_id", &cost.creator_id)
                .text("date", &cost.day)
                .text("type", cost.kind.as_str())
                .int("amount_minor", cost.amount_minor)
                .text("currency", &cost.currency)
                .finish();
            let booked_at = (day_of(self.end_ms - 1) * DAY_MS).min(self.end_ms);
            let raw_event_id =
                self.raw(CREATOR_SHEET, "costs", &cost.cost_id, booked_at, &payload)?;
            let cost = CreatorCost {
                raw_event_id: Some(raw_event_id),
                ..cost
            };
            if self.tx.insert_creator_cost(&cost)? == InsertOutcome::Inserted {
                self.summary.creator_costs += 1;
            }
        }
        Ok(())
    }
}

/// What the end of a journey leaves for its order.
struct JourneyEnd {
    last_click_id: Option<String>,
    last_creator: Option<usize>,
}
