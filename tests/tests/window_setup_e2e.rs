//! End-to-end test of a new workspace's setup in the real window: from the welcome screen,
//! create an empty workspace, choose its reporting currency and time zone, download the orders
//! template, import a file shaped like it, and land on the overview showing the imported
//! orders — no terminal. Native file dialogs are answered through the debug-build seams
//! `LOOKBACK_TEST_SAVE_DIR` and `LOOKBACK_TEST_OPEN_FILE`.

use std::sync::Arc;

use lookback_tests::mock::MockServer;
use lookback_tests::mock::generic::GenericApi;
use lookback_tests::webdriver::{Display, Session, TauriDriver};
use lookback_tests::{TestHome, lookback_bin, open_sqlite, query_i64};

#[test]
fn a_new_workspace_is_set_up_and_filled_from_a_template_shaped_csv_in_the_window() {
    let home = TestHome::new();
    let chosen = home.path("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let orders_csv = home.path("my-orders.csv");

    // A file shaped like the orders template (`lookback template orders`): its header, and
    // three orders of the user's own.
    let template = home.lookback_ok(&["template", "orders"]);
    let header = template.lines().next().expect("a header").to_owned();
    let columns: Vec<&str> = header.split(',').collect();
    let row = |id: &str, amount: &str| -> String {
        columns
            .iter()
            .map(|c| match *c {
                "order_id" => id.to_owned(),
                "occurred_at" => "2026-05-04T10:00:00Z".to_owned(),
                "amount" => amount.to_owned(),
                "currency" => "EUR".to_owned(),
                "status" => "paid".to_owned(),
                "customer_id" => format!("cust-{id}"),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    std::fs::write(
        &orders_csv,
        format!(
            "{header}\n{}\n{}\n{}\n",
            row("A-1", "20.00"),
            row("A-2", "35.50"),
            row("A-3", "12.00")
        ),
    )
    .unwrap();

    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[
            ("LOOKBACK_TEST_SAVE_DIR", chosen.to_str().unwrap()),
            ("LOOKBACK_TEST_OPEN_FILE", orders_csv.to_str().unwrap()),
        ],
    );
    let session = Session::launch(&lookback_bin(), &[]);

    // Welcome → an empty workspace → the setup, not a bare overview.
    let create = session.wait_for("[data-testid=create-empty]");
    session.click(&create);
    session.wait_for("[data-testid=setup]");
    let db = chosen.join("workspace.lookback");
    assert!(db.exists(), "the workspace was created at {}", db.display());

    // Step 1: reporting currency and time zone.
    session.wait_for("[data-testid=reporting-form]");
    session.eval("const c = document.querySelector('[data-testid=reporting-currency]'); c.value = 'eur'; const z = document.querySelector('[data-testid=reporting-timezone]'); z.value = 'Europe/Berlin'; return true");
    let save = session.wait_for("[data-testid=save-reporting]");
    session.click(&save);

    // Step 2: the orders template is downloaded; it is the CLI's template.
    session.wait_for("[data-testid=import-panel]");
    session.eval("const k = document.querySelector('[data-testid=import-kind]'); k.value = 'orders'; return true");
    let download = session.wait_for("[data-testid=download-template]");
    session.click(&download);
    session.wait_for("[data-testid=template-saved]");
    assert_eq!(
        std::fs::read_to_string(chosen.join("orders-template.csv")).unwrap(),
        template
    );

    // The user's file imports, with its summary.
    let import = session.wait_for("[data-testid=import-choose]");
    session.click(&import);
    let done = session.wait_for("[data-testid=import-done]");
    assert_eq!(session.attr(&done, "data-imported").as_deref(), Some("3"));

    // Land on the overview, which shows the imported orders.
    let finish = session.wait_for("[data-testid=setup-finish]");
    session.click(&finish);
    session.wait_until(
        "the overview to show the three imported orders",
        "const v = document.querySelector('[data-testid=kpi-orders] .kpi-value'); return !!v && v.textContent === '3'",
    );

    let conn = open_sqlite(&db);
    assert_eq!(query_i64(&conn, "SELECT COUNT(*) FROM orders"), 3);
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

/// A view of a workspace with no data says where data comes from and leads there.
#[test]
fn the_views_of_an_empty_workspace_lead_to_the_import() {
    let home = TestHome::new();
    let db = home.path("empty.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "init", "--name", "Empty"]);
    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let session = Session::launch(&lookback_bin(), &["--db", db_arg]);
    for screen in ["roas", "cac", "cohorts", "compare", "reconcile"] {
        let nav = session.wait_for(&format!("[data-testid=nav-{screen}]"));
        session.click(&nav);
        session.wait_until(
            &format!("the {screen} screen to say what to do next"),
            &format!("return document.querySelector('.content')?.dataset.screen === '{screen}' && !!document.querySelector('[data-testid=empty-workspace]')"),
        );
    }
    session.eval("document.querySelector('[data-testid=empty-workspace] button.primary').click(); return true");
    session.wait_for("[data-testid=import-panel]");
}

/// The other way through the setup: connect a platform; its first sync runs with its progress
/// shown, and the overview then shows what it brought.
#[test]
fn a_new_workspace_is_set_up_by_connecting_a_source_whose_first_sync_shows_its_progress() {
    const TOKEN: &str = "setup-first-sync-token-41aa";
    let server = MockServer::start(Arc::new(GenericApi::new(TOKEN, 60)));
    let home = TestHome::new();
    let chosen = home.path("chosen");
    std::fs::create_dir_all(&chosen).unwrap();
    let display = Display::start();
    let _driver = TauriDriver::start_with_env(
        &display,
        &home,
        &[("LOOKBACK_TEST_SAVE_DIR", chosen.to_str().unwrap())],
    );
    let session = Session::launch(&lookback_bin(), &[]);
    let create = session.wait_for("[data-testid=create-empty]");
    session.click(&create);
    let save = session.wait_for("[data-testid=save-reporting]");
    session.click(&save);

    // Step 2, the platform: the same form as on the Sources screen.
    session.wait_for("[data-testid=import-panel]");
    session.eval(
        "document.querySelector('[data-testid=add-source]').open = true; const s = document.querySelector('[data-testid=new-source-kind]'); s.value = 'generic'; s.dispatchEvent(new Event('change')); return true",
    );
    for (testid, text) in [
        ("new-source-name", "backend"),
        ("new-source-base-url", server.base_url.as_str()),
        ("new-source-secret", TOKEN),
    ] {
        let input = session.wait_for(&format!("[data-testid={testid}]"));
        session.type_text(&input, text);
    }
    let add = session.wait_for("[data-testid=new-source-add]");
    session.click(&add);

    // The first sync runs in the setup, its progress shown until it is done.
    session.wait_for("[data-testid=setup-sync-progress]");
    session.wait_until(
        "the first sync to finish",
        "const p = document.querySelector('[data-testid=setup-sync-progress]'); return !!p && p.textContent.startsWith('Done')",
    );
    let db = chosen.join("workspace.lookback");
    let conn = open_sqlite(&db);
    let orders = query_i64(&conn, "SELECT COUNT(*) FROM orders");
    let touches = query_i64(&conn, "SELECT COUNT(*) FROM touches");
    drop(conn);
    assert!(orders + touches > 0, "the first sync brought data");

    let finish = session.wait_for("[data-testid=setup-finish]");
    session.click(&finish);
    session.wait_until(
        "the overview to show what the sync brought",
        &format!("const v = document.querySelector('[data-testid=kpi-touches] .kpi-value'); return !!v && v.textContent.replace(/[^0-9]/g, '') === '{touches}'"),
    );
}
