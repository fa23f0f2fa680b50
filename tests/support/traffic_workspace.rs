//! A small workspace with classified traffic, shared by the touch-filter tests of the CLI and
//! the window: link previews (bots: e1, e2, s1), a click the platform's fraud check doubts
//! (suspicious: e5) and people's clicks (e3, s2); o1's only touch is a chat preview (e1), o3's a
//! Facebook preview (s1), o2 follows a person's click (e3), o4 the doubted one (e5).

use crate::TestHome;

/// The touches, as a CSV touch file with a user agent and the platform's verdict.
pub const TOUCHES: &str = "touch_id,occurred_at,channel,anonymous_id,content_id,user_agent,fraud_status\n\
    e1,2026-05-01T10:00:00Z,email,r1,news-1,Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com),\n\
    e2,2026-05-01T10:00:01Z,email,r2,news-1,Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com),\n\
    e3,2026-05-01T11:30:00Z,email,r3,news-1,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148,\n\
    e5,2026-05-01T12:00:00Z,email,r7,news-1,Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148,review\n\
    s1,2026-05-02T09:00:00Z,social,r5,post-1,facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php),\n\
    s2,2026-05-02T09:30:00Z,social,r6,post-1,Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36,\n";

/// The orders, as a CSV order file.
pub const ORDERS: &str = "order_id,occurred_at,amount,currency,anonymous_id\n\
    o1,2026-05-01T13:00:00Z,50.00,USD,r1\n\
    o2,2026-05-01T14:00:00Z,20.00,USD,r3\n\
    o3,2026-05-02T10:00:00Z,35.50,USD,r5\n\
    o4,2026-05-01T15:00:00Z,10.00,USD,r7\n";

/// Creates `touches.lookback` in `home` and imports [`TOUCHES`] and [`ORDERS`] through the CLI;
/// returns the workspace's path as text.
pub fn traffic_workspace(home: &TestHome) -> String {
    let db = home.path("touches.lookback");
    let db = db.to_str().unwrap().to_owned();
    home.lookback_ok(&["--db", &db, "init", "--name", "Touches"]);
    for (kind, name, body) in [("touches", "t.csv", TOUCHES), ("orders", "o.csv", ORDERS)] {
        let file = home.path(name);
        std::fs::write(&file, body).unwrap();
        home.lookback_ok(&["--db", &db, "import", kind, file.to_str().unwrap()]);
    }
    db
}
