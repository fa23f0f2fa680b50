//! The fixed cast of the demo: creators, their content, ad platforms, accounts and campaigns,
//! products and customer names. Randomness decides what happens to them, never who they are.

pub(crate) struct CreatorProfile {
    pub(crate) slug: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) handle: &'static str,
    pub(crate) platform: &'static str,
    /// Relative share of creator traffic; a few creators drive most of it, as in life.
    pub(crate) popularity: u32,
    /// Monthly flat fee in USD cents.
    pub(crate) monthly_fee_minor: i64,
    /// Commission in percent of attributed gross.
    pub(crate) commission_percent: i64,
}

pub(crate) const CREATORS: &[CreatorProfile] = &[
    CreatorProfile {
        slug: "maya_chen",
        display_name: "Maya Chen",
        handle: "mayamakes",
        platform: "instagram",
        popularity: 30,
        monthly_fee_minor: 250_000,
        commission_percent: 10,
    },
    CreatorProfile {
        slug: "leo_martins",
        display_name: "Leo Martins",
        handle: "leo.lifts",
        platform: "tiktok",
        popularity: 22,
        monthly_fee_minor: 180_000,
        commission_percent: 8,
    },
    CreatorProfile {
        slug: "priya_raman",
        display_name: "Priya Raman",
        handle: "priyacooks",
        platform: "youtube",
        popularity: 18,
        monthly_fee_minor: 300_000,
        commission_percent: 5,
    },
    CreatorProfile {
        slug: "jonas_weber",
        display_name: "Jonas Weber",
        handle: "jonas.outdoors",
        platform: "instagram",
        popularity: 14,
        monthly_fee_minor: 120_000,
        commission_percent: 10,
    },
    CreatorProfile {
        slug: "amara_okafor",
        display_name: "Amara Okafor",
        handle: "amarastyle",
        platform: "tiktok",
        popularity: 12,
        monthly_fee_minor: 90_000,
        commission_percent: 12,
    },
    CreatorProfile {
        slug: "sofia_rossi",
        display_name: "Sofia Rossi",
        handle: "sofiarossi",
        platform: "instagram",
        popularity: 10,
        monthly_fee_minor: 150_000,
        commission_percent: 8,
    },
    CreatorProfile {
        slug: "kenji_sato",
        display_name: "Kenji Sato",
        handle: "kenjibuilds",
        platform: "youtube",
        popularity: 8,
        monthly_fee_minor: 200_000,
        commission_percent: 0,
    },
    CreatorProfile {
        slug: "hannah_lee",
        display_name: "Hannah Lee",
        handle: "hannahruns",
        platform: "tiktok",
        popularity: 7,
        monthly_fee_minor: 50_000,
        commission_percent: 15,
    },
    CreatorProfile {
        slug: "diego_alvarez",
        display_name: "Diego Alvarez",
        handle: "diegoeats",
        platform: "instagram",
        popularity: 6,
        monthly_fee_minor: 60_000,
        commission_percent: 10,
    },
    CreatorProfile {
        slug: "elin_berg",
        display_name: "Elin Berg",
        handle: "elin.home",
        platform: "youtube",
        popularity: 5,
        monthly_fee_minor: 110_000,
        commission_percent: 0,
    },
    CreatorProfile {
        slug: "noah_fischer",
        display_name: "Noah Fischer",
        handle: "noahfits",
        platform: "tiktok",
        popularity: 4,
        monthly_fee_minor: 30_000,
        commission_percent: 20,
    },
    CreatorProfile {
        slug: "zara_ahmed",
        display_name: "Zara Ahmed",
        handle: "zaraglow",
        platform: "instagram",
        popularity: 3,
        monthly_fee_minor: 40_000,
        commission_percent: 15,
    },
];

pub(crate) struct AdPlatform {
    pub(crate) platform: &'static str,
    pub(crate) source_id: &'static str,
    pub(crate) source_name: &'static str,
    pub(crate) account_id: &'static str,
    pub(crate) timezone: &'static str,
    pub(crate) currency: &'static str,
    pub(crate) channel: &'static str,
    pub(crate) click_id_prefix: &'static str,
    /// Whether the platform reports spend per ad (true) or per campaign (false).
    pub(crate) ad_level: bool,
}

pub(crate) const AD_PLATFORMS: &[AdPlatform] = &[
    AdPlatform {
        platform: "meta",
        source_id: "demo-meta",
        source_name: "Demo Meta Ads",
        account_id: "act_1029384756",
        timezone: "America/New_York",
        currency: "USD",
        channel: "paid_social",
        click_id_prefix: "fbclid.",
        ad_level: true,
    },
    AdPlatform {
        platform: "google_ads",
        source_id: "demo-google-ads",
        source_name: "Demo Google Ads",
        account_id: "123-456-7890",
        timezone: "America/New_York",
        currency: "USD",
        channel: "paid_search",
        click_id_prefix: "gclid.",
        ad_level: false,
    },
    AdPlatform {
        platform: "tiktok",
        source_id: "demo-tiktok-ads",
        source_name: "Demo TikTok Ads",
        account_id: "7012345678901234567",
        timezone: "Europe/Berlin",
        currency: "EUR",
        channel: "tiktok_ads",
        click_id_prefix: "ttclid.",
        ad_level: true,
    },
    AdPlatform {
        platform: "pinterest",
        source_id: "demo-pinterest",
        source_name: "Demo Pinterest Ads",
        account_id: "549755813888",
        timezone: "UTC",
        currency: "USD",
        channel: "paid_social",
        click_id_prefix: "epik.",
        ad_level: true,
    },
];

pub(crate) struct CampaignPlan {
    pub(crate) campaign_id: &'static str,
    /// Index into [`AD_PLATFORMS`].
    pub(crate) platform: usize,
    pub(crate) name: &'static str,
    /// Index into [`CREATORS`] for whitelisted / spark ads run through a creator's handle.
    pub(crate) creator: Option<usize>,
    /// Average daily spend in the account currency's minor units.
    pub(crate) daily_budget_minor: i64,
    /// Day of the demo's window (`DEMO_DAYS` long) the campaign starts on.
    pub(crate) starts_on_day: i64,
    /// Relative share of its channel's clicks.
    pub(crate) click_weight: u32,
}

pub(crate) const CAMPAIGNS: &[CampaignPlan] = &[
    CampaignPlan {
        campaign_id: "cmp_meta_prospecting",
        platform: 0,
        name: "Prospecting — Broad",
        creator: None,
        daily_budget_minor: 15_800,
        starts_on_day: 0,
        click_weight: 40,
    },
    CampaignPlan {
        campaign_id: "cmp_meta_retargeting",
        platform: 0,
        name: "Retargeting — 30 days",
        creator: None,
        daily_budget_minor: 5_800,
        starts_on_day: 0,
        click_weight: 25,
    },
    CampaignPlan {
        campaign_id: "cmp_meta_wl_mayamakes",
        platform: 0,
        name: "Whitelisted — @mayamakes",
        creator: Some(0),
        daily_budget_minor: 7_200,
        starts_on_day: 45,
        click_weight: 20,
    },
    CampaignPlan {
        campaign_id: "cmp_meta_wl_amarastyle",
        platform: 0,
        name: "Whitelisted — @amarastyle",
        creator: Some(4),
        daily_budget_minor: 4_000,
        starts_on_day: 150,
        click_weight: 10,
    },
    CampaignPlan {
        campaign_id: "cmp_google_brand",
        platform: 1,
        name: "Brand Search",
        creator: None,
        daily_budget_minor: 3_000,
        starts_on_day: 0,
        click_weight: 45,
    },
    CampaignPlan {
        campaign_id: "cmp_google_generic",
        platform: 1,
        name: "Non-brand — Generic",
        creator: None,
        daily_budget_minor: 10_800,
        starts_on_day: 0,
        click_weight: 30,
    },
    CampaignPlan {
        campaign_id: "cmp_google_shopping",
        platform: 1,
        name: "Shopping — All products",
        creator: None,
        daily_budget_minor: 9_000,
        starts_on_day: 0,
        click_weight: 35,
    },
    CampaignPlan {
        campaign_id: "cmp_tiktok_spark_leolifts",
        platform: 2,
        name: "Spark Ads — @leo.lifts",
        creator: Some(1),
        daily_budget_minor: 5_400,
        starts_on_day: 20,
        click_weight: 55,
    },
    CampaignPlan {
        campaign_id: "cmp_tiktok_prospecting",
        platform: 2,
        name: "Prospecting — 18-34",
        creator: None,
        daily_budget_minor: 6_900,
        starts_on_day: 0,
        click_weight: 45,
    },
    CampaignPlan {
        campaign_id: "cmp_pinterest_home",
        platform: 3,
        name: "Home Inspiration",
        creator: None,
        daily_budget_minor: 3_400,
        starts_on_day: 130,
        click_weight: 8,
    },
];

/// Prices of the shop's products in minor units (the same figures in USD, EUR and GBP, as small
/// shops tend to price).
pub(crate) const PRICES_MINOR: &[i64] = &[
    1_900, 2_400, 2_900, 3_500, 3_900, 4_500, 4_900, 5_900, 6_500, 7_900, 8_900, 9_900, 12_900,
    14_900, 18_900, 24_900,
];

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mateo", "Chloe",
    "Leon", "Isla", "Finn", "Aisha", "Omar", "Yuki", "Hana", "Lena", "Jonas", "Clara", "Felix",
    "Nora", "Elias", "Zoe", "Arjun",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Garcia", "Müller", "Martin", "Rossi", "Kim", "Nguyen", "Brown", "Schmidt", "Dubois",
    "Silva", "Khan", "Jensen", "Novak", "Tanaka", "Okafor", "Cohen", "Walsh", "Larsen", "Moreau",
];

pub(crate) const EMAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "outlook.com",
    "icloud.com",
    "yahoo.com",
    "proton.me",
    "web.de",
];

/// Touch channels with their share of touches in a journey.
pub(crate) const CHANNELS: &[(&str, u32)] = &[
    ("creator_link", 20),
    ("creator_story", 12),
    ("paid_social", 18),
    ("paid_search", 14),
    ("tiktok_ads", 8),
    ("email", 8),
    ("direct", 10),
    ("organic_search", 10),
];
