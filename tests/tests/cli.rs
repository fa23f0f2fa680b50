//! Acceptance tests through the CLI on fresh temporary workspaces: what a user types, what
//! they read back, and what ends up in the file.

use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};

#[test]
fn demo_then_overview_reports_what_the_store_holds() {
    let home = TestHome::new();
    let db = home.path("w.lookback");
    let db_arg = db.to_str().unwrap();
    let out = home.lookback_ok(&[
        "--db",
        db_arg,
        "demo",
        "--seed",
        "3",
        "--orders",
        "1200",
        "--end",
        "2026-09-30",
    ]);
    assert!(out.contains("1200 orders"), "demo summary: {out}");

    let json: serde_json::Value =
        serde_json::from_str(&home.lookback_ok(&["--db", db_arg, "overview", "--format", "json"]))
            .unwrap();
    let conn = open_sqlite(&db);
    assert_eq!(json["orders"].as_i64().unwrap(), 1200);
    assert_eq!(
        json["orders"].as_i64().unwrap(),
        query_i64(&conn, "SELECT COUNT(*) FROM orders")
    );
    assert_eq!(
        json["touches"].as_i64().unwrap(),
        query_i64(&conn, "SELECT COUNT(*) FROM touches")
    );
    assert_eq!(
        json["creators"].as_i64().unwrap(),
        query_i64(&conn, "SELECT COUNT(*) FROM creators")
    );

    // Per currency, the overview's gross and net agree with the rows, and net = gross − deductions.
    for row in json["revenue"].as_array().unwrap() {
        let currency = row["currency"].as_str().unwrap();
        let gross = query_i64(
            &conn,
            &format!("SELECT SUM(gross_minor) FROM orders WHERE currency='{currency}'"),
        );
        assert_eq!(
            row["gross"]["minor"].as_i64().unwrap(),
            gross,
            "{currency} gross"
        );
        let net = row["net"]["minor"].as_i64().unwrap();
        let deductions = row["refunds"]["minor"].as_i64().unwrap()
            + row["chargebacks"]["minor"].as_i64().unwrap();
        assert_eq!(net, gross - deductions, "{currency} net");
        assert!(deductions > 0, "the demo has refunds in {currency}");
    }
    let spend: i64 = json["spend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["minor"].as_i64().unwrap())
        .sum();
    assert_eq!(
        spend,
        query_i64(&conn, "SELECT SUM(spend_minor) FROM ad_spend")
    );
}

#[test]
fn the_demo_is_deterministic_for_a_seed() {
    let home = TestHome::new();
    let dump = |name: &str, seed: &str| {
        let db = home.path(name);
        home.lookback_ok(&[
            "--db",
            db.to_str().unwrap(),
            "demo",
            "--seed",
            seed,
            "--orders",
            "300",
            "--end",
            "2026-06-30",
        ]);
        let conn = open_sqlite(&db);
        let mut stmt = conn.prepare("SELECT order_id, occurred_at_ms, gross_minor, currency FROM orders ORDER BY order_id").unwrap();
        stmt.query_map([], |r| {
            Ok(format!(
                "{}|{}|{}|{}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
    };
    assert_eq!(dump("a.lookback", "9"), dump("b.lookback", "9"));
    assert_ne!(dump("c.lookback", "9"), dump("d.lookback", "10"));
}

#[test]
fn bad_input_gives_one_clear_line_and_a_nonzero_exit() {
    let home = TestHome::new();

    // A workspace file that does not exist.
    let missing = home.path("nope.lookback");
    let out = home.lookback(&["--db", missing.to_str().unwrap(), "overview"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("nope.lookback"), "names the file: {err}");
    assert!(
        !missing.exists(),
        "a missing workspace is not created by reading it"
    );

    // A file that is not a workspace is refused and left byte-for-byte as it was.
    let corrupt = home.path("notes.lookback");
    std::fs::write(
        &corrupt,
        b"these are my notes, not a database\n".repeat(200),
    )
    .unwrap();
    let before = std::fs::read(&corrupt).unwrap();
    let out = home.lookback(&["--db", corrupt.to_str().unwrap(), "overview"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains("notes.lookback"), "names the file: {err}");
    assert_eq!(
        std::fs::read(&corrupt).unwrap(),
        before,
        "the file is untouched"
    );

    // A truncated workspace: the first half of a real one.
    let good = home.path("good.lookback");
    home.lookback_ok(&[
        "--db",
        good.to_str().unwrap(),
        "demo",
        "--orders",
        "200",
        "--end",
        "2026-06-30",
    ]);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = home.path("truncated.lookback");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let out = home.lookback(&["--db", truncated.to_str().unwrap(), "overview"]);
    assert!(!out.status.success(), "a truncated workspace is refused");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim().lines().count(),
        1
    );
    assert_eq!(
        std::fs::read(&truncated).unwrap(),
        &bytes[..bytes.len() / 2],
        "the truncated file is untouched"
    );

    // Demo into an existing workspace is refused and the workspace keeps its data.
    let orders_before = query_i64(&open_sqlite(&good), "SELECT COUNT(*) FROM orders");
    let out = home.lookback(&["--db", good.to_str().unwrap(), "demo"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(
        query_i64(&open_sqlite(&good), "SELECT COUNT(*) FROM orders"),
        orders_before
    );

    // An unknown subcommand.
    let out = home.lookback(&["frobnicate"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("frobnicate"));

    // A command that needs a workspace, without --db.
    let out = home.lookback(&["overview"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--db"));
}

/// `lookback` with no command opens the window by becoming `lookback-window` from its own
/// directory (the window tests launch `lookback`, so they go that way). Copied somewhere
/// without that binary, it names the file it could not run and exits non-zero.
#[test]
fn without_the_window_binary_beside_it_lookback_names_the_missing_file() {
    let home = TestHome::new();
    let alone = home.path("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let bin = alone.join("lookback");
    std::fs::copy(lookback_bin(), &bin).unwrap();
    let mut cmd = std::process::Command::new(&bin);
    home.apply(&mut cmd);
    let out = cmd.output().expect("run the copied lookback");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let missing = alone.join("lookback-window");
    assert!(
        stderr.contains("cannot open the window") && stderr.contains(&*missing.to_string_lossy()),
        "{stderr}"
    );
    // Commands need nothing beside it.
    let mut version = std::process::Command::new(&bin);
    let out = version.arg("--version").output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn help_lists_the_commands() {
    let home = TestHome::new();
    let help = home.lookback_ok(&["--help"]);
    for command in ["demo", "init", "overview"] {
        assert!(help.contains(command), "--help lists {command}:\n{help}");
    }
}

#[test]
fn an_empty_workspace_has_an_empty_overview() {
    let home = TestHome::new();
    let db = home.path("empty.lookback");
    home.lookback_ok(&["--db", db.to_str().unwrap(), "init", "--name", "Acme"]);
    let json: serde_json::Value = serde_json::from_str(&home.lookback_ok(&[
        "--db",
        db.to_str().unwrap(),
        "overview",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["workspace"]["name"], "Acme");
    assert_eq!(json["orders"], 0);
    assert_eq!(json["revenue"].as_array().unwrap().len(), 0);
}

/// `template KIND` prints a file `import KIND` takes as it is (its example row imports), and
/// `settings` changes the reporting currency and zone, refusing a zone that does not exist.
#[test]
fn a_template_imports_and_settings_change_the_reporting_currency_and_zone() {
    let home = TestHome::new();
    let db = home.path("w.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Shop"]);
    for kind in [
        "orders",
        "touches",
        "refunds",
        "spend",
        "creator-costs",
        "identities",
        "fx-rates",
    ] {
        let template = home.lookback_ok(&["template", kind]);
        let file = home.path(&format!("{kind}.csv"));
        std::fs::write(&file, &template).unwrap();
        let out = home.lookback_ok(&["--db", db_arg, "import", kind, file.to_str().unwrap()]);
        assert!(
            out.contains(": 1 imported / 0 duplicates / 0 rejected"),
            "{kind}: {out}"
        );
    }

    let out = home.lookback_ok(&[
        "--db",
        db_arg,
        "settings",
        "--currency",
        "eur",
        "--timezone",
        "Europe/Berlin",
    ]);
    assert!(out.contains("reporting currency EUR"), "{out}");
    assert!(out.contains("reporting time zone Europe/Berlin"), "{out}");
    // The templates' USD order, spend and fee convert to EUR at the imported EUR/USD rate of
    // their day (1.0834, used inverted): the order's 49.00 less its 10.00 refund is 36.00.
    let roas = home.lookback_ok(&["--db", db_arg, "view", "roas", "--by", "channel"]);
    assert!(roas.contains("currency EUR"), "{roas}");
    assert!(roas.contains("missing fx 0 orders"), "{roas}");
    let creator_link = roas
        .lines()
        .find(|l| l.starts_with("creator_link"))
        .unwrap_or_else(|| panic!("{roas}"));
    assert!(creator_link.contains("36.00"), "{roas}");
    let refused = home.lookback(&["--db", db_arg, "settings", "--timezone", "Mars/Olympus"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("Mars/Olympus") && said.contains("IANA"),
        "{said}"
    );
    let refused = home.lookback(&["--db", db_arg, "settings", "--currency", "XYZ"]);
    assert!(!refused.status.success());
    // Nothing of a refused change was written.
    let conn = open_sqlite(&db);
    let setting = |key: &str| -> String {
        conn.query_row(
            "SELECT value FROM workspace_settings WHERE key = ?1",
            [key],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(setting("reporting_currency"), "EUR");
    assert_eq!(setting("reporting_timezone"), "Europe/Berlin");
}
