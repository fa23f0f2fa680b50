//! `--touches no-bots|human|all` end to end through the binary (issue 15): a touch file with
//! link previews (bots), a click the platform's fraud check doubts (suspicious) and people's
//! clicks; the default view leaves the bots out, `--touches all` differs from it by exactly the
//! revenue the bot touches are credited, `--touches human` leaves the suspicious click out too,
//! and every provenance line, preamble and sidecar says which touches were read.

use std::collections::BTreeMap;

use std::path::Path;

use lookback_tests::traffic_workspace::traffic_workspace;
use lookback_tests::{TestHome, export_roas};

/// Attributed revenue in cents per channel of `export roas --by channel --preamble` with
/// `flags`, and the lines heading the CSV.
fn roas(home: &TestHome, db: &str, flags: &[&str]) -> (BTreeMap<String, i64>, String) {
    let flags: Vec<&str> = ["--preamble"].iter().chain(flags).copied().collect();
    let (revenue, text) = export_roas(home, Path::new(db), "channel", &flags);
    (
        revenue,
        text.lines().filter(|l| l.starts_with('#')).collect(),
    )
}

fn cents(amount: &str) -> i64 {
    let (units, fraction) = amount.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + fraction.parse::<i64>().unwrap()
}

fn map(items: &[(&str, i64)]) -> BTreeMap<String, i64> {
    items.iter().map(|&(k, v)| (k.to_owned(), v)).collect()
}

#[test]
fn all_touches_differ_from_the_default_by_exactly_the_bot_touches_credit() {
    let home = TestHome::new();
    let db = traffic_workspace(&home);

    // The default (last touch, bot touches excluded): o2 and o4 on email; o1 and o3 have no
    // touch left.
    let (default, preamble) = roas(&home, &db, &[]);
    assert_eq!(default, map(&[("email", 2_000 + 1_000)]));
    assert!(
        preamble.contains("# touches: bot touches excluded"),
        "{preamble}"
    );
    assert_eq!(roas(&home, &db, &["--touches", "no-bots"]).0, default);

    // Every touch: the previews take o1 and o3.
    let (all, preamble) = roas(&home, &db, &["--touches", "all"]);
    assert_eq!(
        all,
        map(&[("email", 5_000 + 2_000 + 1_000), ("social", 3_550)])
    );
    assert!(preamble.contains("# touches: all touches"), "{preamble}");
    // The difference, channel by channel, is what the bot touches were credited in that run.
    let summary = home.lookback_ok(&["--db", &db, "traffic", "summary", "--format", "csv"]);
    let bot_credit: BTreeMap<String, i64> = summary
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            (cells[1].to_owned(), cents(cells[10]))
        })
        .collect();
    assert_eq!(bot_credit, map(&[("email", 5_000), ("social", 3_550)]));
    for (channel, bots) in &bot_credit {
        let with_bots = all.get(channel).copied().unwrap_or(0);
        let without = default.get(channel).copied().unwrap_or(0);
        assert_eq!(with_bots - without, *bots, "{channel}");
    }

    // Only human touches: the doubted click goes too, and o4 with it.
    let (human, preamble) = roas(&home, &db, &["--touches", "human"]);
    assert_eq!(human, map(&[("email", 2_000)]));
    assert!(
        preamble.contains("# touches: only human touches"),
        "{preamble}"
    );

    // `view roas` says it in its provenance line, and so does the sidecar.
    let view = home.lookback_ok(&[
        "--db",
        &db,
        "view",
        "roas",
        "--by",
        "channel",
        "--touches",
        "all",
    ]);
    assert!(view.contains(" · all touches · "), "{view}");
    assert!(view.contains("115.50"), "{view}");
    let view = home.lookback_ok(&["--db", &db, "view", "roas", "--by", "channel"]);
    assert!(view.contains(" · bot touches excluded · "), "{view}");
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path("roas-channel.csv.json")).unwrap())
            .unwrap();
    assert_eq!(sidecar["touches"], "only human touches");
    assert_eq!(sidecar["run"]["parameters"]["touches"], "human");

    // `report credits` takes the flag too.
    let credits = home.lookback_ok(&[
        "--db",
        &db,
        "report",
        "credits",
        "--touches",
        "all",
        "--format",
        "csv",
    ]);
    assert!(credits.contains("social"), "{credits}");
    let credits = home.lookback_ok(&["--db", &db, "report", "credits", "--format", "csv"]);
    assert!(!credits.contains("social"), "{credits}");
}

#[test]
fn the_workspace_default_filter_is_a_logged_model_parameter() {
    let home = TestHome::new();
    let db = traffic_workspace(&home);
    home.lookback_ok(&[
        "--db",
        &db,
        "model",
        "set",
        "last-touch",
        "--touches",
        "human",
        "--reason",
        "count people only",
    ]);
    let shown = home.lookback_ok(&["--db", &db, "model", "show"]);
    assert!(shown.contains(r#""touches":"human""#), "{shown}");
    let log = home.lookback_ok(&["--db", &db, "model", "log", "--format", "json"]);
    let log: serde_json::Value = serde_json::from_str(&log).unwrap();
    assert!(
        log[0]["parameters_after"]
            .as_str()
            .unwrap()
            .contains(r#""touches":"human""#),
        "{log}"
    );
    // Views follow the workspace's filter, and a flag still overrides it.
    assert_eq!(roas(&home, &db, &[]).0, map(&[("email", 2_000)]));
    assert_eq!(
        roas(&home, &db, &["--touches", "no-bots"]).0,
        map(&[("email", 3_000)])
    );
    // Another model set without the flag keeps the filter.
    home.lookback_ok(&[
        "--db",
        &db,
        "model",
        "set",
        "linear",
        "--reason",
        "share credit",
    ]);
    let shown = home.lookback_ok(&["--db", &db, "model", "show"]);
    assert!(shown.contains(r#""touches":"human""#), "{shown}");
    let refused = home.lookback(&["--db", &db, "view", "roas", "--touches", "bots"]);
    assert!(!refused.status.success());
}
