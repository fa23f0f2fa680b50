//! What a user waits for in the window (issue 12), on a workspace of any size: from launching
//! the app to the overview's numbers, and the repaint after switching the ROAS screen (by
//! creator) between cached models.
//!
//! ```text
//! window_bench DB [--repeat N]
//! ```
//!
//! The real window under Xvfb through tauri-driver, as the E2E tests drive it (Xvfb,
//! tauri-driver and WebKitWebDriver installed; the app binary is `LOOKBACK_BIN`, else
//! `target/release/lookback`, built with the UI). Two start figures are printed:
//! - **launch → numbers**: from asking tauri-driver for a session (which starts the app
//!   process) to the overview's order count on screen, polled every 10 ms; it includes
//!   WebKitWebDriver's own start-up, so compare it with the same figure on a small workspace;
//! - **page → numbers**: from the page's navigation start (`performance.timeOrigin`) to the
//!   numbers, measured in the page.
//!
//! A model switch is timed in the page: from the `change` of the model selector to the second
//! animation frame after the table shows the new model's provenance (the frame it is painted
//! in). Every model is run once with the CLI first so each switch reads a cached run.
//! A measurement program, not a test: nothing here asserts a time.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lookback_tests::TestHome;
use lookback_tests::webdriver::{Display, Session, TauriDriver};

const MODELS: [&str; 5] = ["last-touch", "linear", "markov", "first-touch", "shapley"];

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(db) = args.first().map(PathBuf::from) else {
        eprintln!("usage: window_bench DB [--repeat N]");
        std::process::exit(2);
    };
    let repeat: usize = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let bin = std::env::var_os("LOOKBACK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release/lookback"));
    let db_arg = db.to_str().expect("UTF-8 path").to_owned();
    let home = TestHome::new();

    for model in MODELS {
        let status = std::process::Command::new(&bin)
            .args(["--db", &db_arg, "report", "credits", "--model", model])
            .env("XDG_DATA_HOME", home.data_home())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run lookback");
        assert!(
            status.success(),
            "lookback report credits --model {model} failed"
        );
    }

    let display = Display::start();
    let _driver = TauriDriver::start(&display, &home);
    let (mut launch, mut page) = (Vec::new(), Vec::new());
    let mut switches = Vec::new();
    for round in 0..repeat {
        let started = Instant::now();
        let session = Session::launch(&bin, &["--db", &db_arg]);
        loop {
            let shown = session.eval(
                "const v = document.querySelector('[data-testid=kpi-orders] .kpi-value'); \
                 return v && /[0-9]/.test(v.textContent) ? performance.now() : null",
            );
            if let Some(in_page) = shown.as_f64() {
                launch.push(started.elapsed().as_secs_f64() * 1000.0);
                page.push(in_page);
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the overview's numbers did not appear"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        session.click(&session.wait_for("[data-testid=nav-roas]"));
        session.wait_for("[data-testid=roas-table]");
        for model in MODELS.iter().cycle().skip(1).take(MODELS.len() * 2) {
            let script = format!(
                "const done = arguments[arguments.length - 1]; const t0 = performance.now(); \
                 const s = document.querySelector('[data-testid=model-select]'); s.value = '{model}'; \
                 s.dispatchEvent(new Event('change')); \
                 const ready = () => {{ const p = document.querySelector('[data-testid=provenance]'); \
                   return p && p.dataset.model === '{model}' && document.querySelector('[data-testid=roas-table]'); }}; \
                 const wait = () => ready() ? requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0))) : setTimeout(wait, 1); \
                 wait();"
            );
            let ms = session.eval_async(&script).as_f64().expect("a time in ms");
            if round > 0 || switches.len() >= MODELS.len() {
                switches.push(ms);
            }
        }
        drop(session);
    }
    println!(
        "launch → overview numbers: median {:.0} ms of {repeat} (each {:?})",
        median(launch.clone()),
        launch.iter().map(|v| v.round()).collect::<Vec<_>>()
    );
    println!(
        "page → overview numbers: median {:.0} ms (each {:?})",
        median(page.clone()),
        page.iter().map(|v| v.round()).collect::<Vec<_>>()
    );
    println!(
        "ROAS by creator, switch between cached models to repaint: median {:.1} ms, max {:.1} ms over {} switches",
        median(switches.clone()),
        switches.iter().copied().fold(0.0, f64::max),
        switches.len()
    );
}
