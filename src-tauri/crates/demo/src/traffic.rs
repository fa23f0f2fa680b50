//! The demo's clicks that no person made, as they arrive in real workspaces: e-mail security
//! gateways opening every link of a newsletter seconds after it is sent (in bursts from one
//! recipient, most with a browser's user agent, some naming themselves), chat and social apps
//! fetching link previews of creators' short links and of ad landing pages, search and SEO
//! crawlers, and clicks the link platform or the ad platform itself flagged.
//!
//! The generator plans these touches while it writes people and writes them last, in time
//! order, through the store's `TouchClassifier` like any ingest path; the rules decide their
//! class from the signals (user agent family, platform verdict, seconds after the newsletter
//! was sent, bursts), so some scanner clicks pass as human, as they do in real data.

/// Browsers of people (and of mail gateways that pretend to be one).
pub(crate) const BROWSER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
];

/// Mail security gateways that name themselves when they open a link.
pub(crate) const SCANNER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Mimecast URL Protect)",
    "Proofpoint URL Defense/1.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 SafeLinks",
    "Barracuda Sentinel (Link Protection)",
];

/// Apps that fetch a shared link's preview.
pub(crate) const PREVIEW_AGENTS: &[&str] = &[
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0",
];

/// What Meta sends when it checks an ad's landing page.
pub(crate) const AD_REVIEW_AGENT: &str =
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";

/// Search engines' and SEO tools' crawlers.
pub(crate) const CRAWLER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
];

/// Share of people whose mailbox sits behind a gateway that opens every newsletter link.
pub(crate) const SCANNED_MAILBOX_SHARE: f64 = 0.018;
/// Share of scanned newsletters whose scan is delayed past the seconds-after-send rule
/// (the message was held, or the gateway scans on first open): only the burst gives it away.
pub(crate) const DELAYED_SCAN_SHARE: f64 = 0.3;
/// Share of gateway scans whose user agent names the gateway.
pub(crate) const NAMED_SCANNER_SHARE: f64 = 0.35;
/// Per creator short-link click: a preview fetched when the link was pasted into a chat.
pub(crate) const LINK_PREVIEW_SHARE: f64 = 0.08;
/// Per paid-social click: the platform checking the ad's landing page.
pub(crate) const AD_REVIEW_SHARE: f64 = 0.04;
/// Per organic-search visit and per short-link click: a crawler.
pub(crate) const CRAWLER_SHARE: f64 = 0.015;
/// Per short-link click: a click the link platform flagged as a bot.
pub(crate) const LINK_BOT_FLAG_SHARE: f64 = 0.012;
/// Per TikTok ad click: a click TikTok marked as suspected invalid traffic.
pub(crate) const TIKTOK_INVALID_SHARE: f64 = 0.01;

/// Who made a planned touch: a person's e-mail (a gateway clicking a recipient's tracked
/// link) or a visitor with no history (a preview fetcher, a crawler, a flagged click).
pub(crate) enum AutomatedVisitor {
    Recipient { email_sha256: String },
    Stranger,
}

/// A touch no person made, planned while the people are written and written last.
pub(crate) struct AutomatedTouch {
    pub(crate) at_ms: i64,
    pub(crate) source: &'static str,
    pub(crate) channel: &'static str,
    pub(crate) touch_type: &'static str,
    pub(crate) visitor: AutomatedVisitor,
    pub(crate) creator_id: Option<String>,
    pub(crate) campaign_id: Option<String>,
    pub(crate) content_id: Option<String>,
    /// Whether the touch gets a fresh click id with this prefix (a short link or an ad click).
    pub(crate) click_id_prefix: Option<&'static str>,
    pub(crate) user_agent: &'static str,
    /// The platform's own verdict field and value, when it sent one.
    pub(crate) verdict: Option<(&'static str, &'static str)>,
}
