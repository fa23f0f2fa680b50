//! The busy-year benchmark (issue 12): a creator shop's year of data, built through the CLI a
//! user has, and the commands a user waits for, timed as whole processes.
//!
//! ```text
//! busy_year generate DIR [--people N]   write the year as CSV files into DIR
//! busy_year build DIR DB                 `lookback init` + `lookback import` each file into DB
//! busy_year measure DB [--repeat N]     time the CLI commands of the README's table on DB
//! ```
//!
//! The default size is the issue's busy year: 2.5M people (journeys) with 1–7 touches each
//! (≈10M touches), 150k orders in USD, EUR and GBP with refunds and chargebacks, 365 days of ad
//! spend on 4 platforms (100 campaigns), 200 channels, 50 creators with fees and commissions.
//! `--people 1000000` gives the 4M-touch size. The generator is seeded: the same size gives the
//! same bytes.
//!
//! Every row goes through `lookback import`; `build` writes the daily exchange rates' file
//! itself (`fx-rates.csv` beside the others) from their own seed. The binary is `LOOKBACK_BIN`,
//! else `target/release/lookback`.
//!
//! Each timed command is its own process: its wall time from spawn to exit and its peak
//! resident memory (sampled from /proc every 2 ms) are what a user waits for and what the machine must hold.
//! A measurement program, not a test: nothing here asserts a time.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const DAY_MS: i64 = 86_400_000;
/// 2025-12-01T00:00:00Z: the year ends on 2026-11-30.
const START_MS: i64 = 1_764_547_200_000;
const DAYS: i64 = 365;
const CREATORS: u64 = 50;
const POSTS_PER_CREATOR: u64 = 24;
const PLATFORMS: [&str; 4] = ["meta", "google_ads", "tiktok", "snapchat"];
const CAMPAIGNS: u64 = 100;
/// 10 creator channels + 40 paid channels (10 per platform) + 150 others = 200.
const CREATOR_CHANNELS: u64 = 10;
const PAID_CHANNELS_PER_PLATFORM: u64 = 10;
const OTHER_CHANNELS: u64 = 150;

/// SplitMix64, so a size always gives the same files without a rand crate.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A skewed pick in 0..n: a few values carry most of the traffic, as in real data.
    fn skewed(&mut self, n: u64) -> u64 {
        self.below(n).min(self.below(n)).min(self.below(n))
    }
}

fn instant(ms: i64) -> String {
    lookback_core::time::format_instant_ms(ms).expect("instant in range")
}

fn day_name(day: i64) -> String {
    instant(START_MS + day * DAY_MS)[..10].to_owned()
}

fn campaign_platform(campaign: u64) -> &'static str {
    PLATFORMS[(campaign % 4) as usize]
}

fn campaign_channel(campaign: u64) -> String {
    format!(
        "paid_{}_{}",
        campaign_platform(campaign),
        (campaign / 4) % PAID_CHANNELS_PER_PLATFORM
    )
}

/// Whitelisted creator ads: every tenth campaign runs on a creator's handle.
fn campaign_creator(campaign: u64) -> Option<u64> {
    (campaign % 10 == 3).then_some(campaign % CREATORS)
}

fn other_channel(index: u64) -> String {
    const NAMED: [&str; 6] = [
        "direct",
        "email",
        "organic_search",
        "organic_social",
        "referral",
        "sms",
    ];
    match NAMED.get(index as usize) {
        Some(name) => (*name).to_owned(),
        None => format!("referral_site_{index:03}"),
    }
}

fn email_of(person: u64) -> String {
    format!("buyer{person}@example.com")
}

struct Files {
    touches: Vec<PathBuf>,
    orders: PathBuf,
    refunds: PathBuf,
    spend: PathBuf,
    creator_costs: PathBuf,
}

fn files(dir: &Path) -> Files {
    Files {
        touches: (0..12)
            .map(|month| dir.join(format!("touches-{month:02}.csv")))
            .collect(),
        orders: dir.join("orders.csv"),
        refunds: dir.join("refunds.csv"),
        spend: dir.join("spend.csv"),
        creator_costs: dir.join("creator-costs.csv"),
    }
}

fn csv(path: &Path, header: &str) -> std::io::Result<BufWriter<File>> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(out, "{header}")?;
    Ok(out)
}

/// Writes the year into `dir`. Touches go to one file per 30.4-day month of the year (a shop
/// exports its clicks monthly), by the journey's first touch.
fn generate(dir: &Path, people: u64) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let f = files(dir);
    let touch_header = "touch_id,occurred_at,channel,touch_type,creator_id,campaign_id,content_id,click_id,anonymous_id,email";
    let mut touch_files = f
        .touches
        .iter()
        .map(|p| csv(p, touch_header))
        .collect::<std::io::Result<Vec<_>>>()?;
    let mut orders = csv(
        &f.orders,
        "order_id,occurred_at,amount,currency,status,anonymous_id,email",
    )?;
    let mut refunds = csv(
        &f.refunds,
        "refund_id,order_id,occurred_at,amount,currency,kind,status",
    )?;
    let mut rng = SplitMix(2026);
    let (mut touch_count, mut order_count, mut refund_count) = (0u64, 0u64, 0u64);
    // 6 % of people buy: 2.5M people give 150k orders.
    for person in 0..people {
        let touches = 1 + rng.below(7);
        let first_at = START_MS + rng.below(((DAYS - 14) * DAY_MS) as u64) as i64;
        let month = ((first_at - START_MS) / (DAY_MS * 365 / 12)).min(11) as usize;
        let out = &mut touch_files[month];
        let logged_in = rng.below(4) == 0;
        let anonymous = format!("v{person:x}");
        let mut at = first_at;
        for k in 0..touches {
            let (channel, creator, campaign, content, click) = match rng.below(100) {
                0..30 => {
                    let creator = rng.skewed(CREATORS);
                    let channel = format!("creator_link_{}", creator % CREATOR_CHANNELS);
                    let post = rng.skewed(POSTS_PER_CREATOR);
                    (
                        channel,
                        Some(creator),
                        None,
                        Some(format!("post-{creator}-{post}")),
                        None,
                    )
                }
                30..65 => {
                    let campaign = rng.skewed(CAMPAIGNS);
                    (
                        campaign_channel(campaign),
                        campaign_creator(campaign),
                        Some(campaign),
                        None,
                        Some(format!("clk{:x}", rng.next() >> 16)),
                    )
                }
                _ => (
                    other_channel(rng.skewed(OTHER_CHANNELS)),
                    None,
                    None,
                    None,
                    None,
                ),
            };
            let touch_type = if channel == "email" { "open" } else { "click" };
            let email = if logged_in && rng.below(5) < 2 {
                email_of(person)
            } else {
                String::new()
            };
            writeln!(
                out,
                "t{person:x}-{k},{},{channel},{touch_type},{},{},{},{},{anonymous},{email}",
                instant(at),
                creator.map(|c| format!("cr{c:02}")).unwrap_or_default(),
                campaign.map(|c| format!("cp{c:03}")).unwrap_or_default(),
                content.unwrap_or_default(),
                click.unwrap_or_default(),
            )?;
            touch_count += 1;
            at += rng.below((2 * DAY_MS) as u64) as i64;
        }
        if rng.below(100) < 6 {
            let ordered_at = at + rng.below((3 * DAY_MS) as u64) as i64;
            let currency = match rng.below(10) {
                0..7 => "USD",
                7..9 => "EUR",
                _ => "GBP",
            };
            let cents = 1_500 + rng.below(18_000);
            let order_id = format!("o{person:x}");
            writeln!(
                orders,
                "{order_id},{},{}.{:02},{currency},paid,{anonymous},{}",
                instant(ordered_at),
                cents / 100,
                cents % 100,
                email_of(person),
            )?;
            order_count += 1;
            // 8 % refunded (half of them partly), 0.5 % charged back.
            let fate = rng.below(1000);
            if fate < 85 {
                let refunded_at = ordered_at + (1 + rng.below(40) as i64) * DAY_MS;
                let (amount, kind, status) = if fate < 5 {
                    (
                        cents,
                        "chargeback",
                        ["open", "lost", "won"][rng.below(3) as usize],
                    )
                } else if fate < 45 {
                    (cents, "refund", "succeeded")
                } else {
                    (cents / 2, "refund", "succeeded")
                };
                writeln!(
                    refunds,
                    "r{person:x},{order_id},{},{}.{:02},{currency},{kind},{status}",
                    instant(refunded_at),
                    amount / 100,
                    amount % 100,
                )?;
                refund_count += 1;
            }
        }
    }
    for mut out in touch_files {
        out.flush()?;
    }
    orders.flush()?;
    refunds.flush()?;

    let mut spend = csv(
        &f.spend,
        "date,platform,account_id,campaign_id,channel,creator_id,amount,currency,impressions,clicks,timezone",
    )?;
    let mut spend_rows = 0u64;
    for day in 0..DAYS {
        for campaign in 0..CAMPAIGNS {
            let platform = campaign_platform(campaign);
            // Bigger campaigns first, as the skewed touches are.
            let cents = 2_000 + rng.below(40_000) * (CAMPAIGNS - campaign) / CAMPAIGNS;
            let (currency, zone) = if platform == "tiktok" {
                ("EUR", "Europe/Berlin")
            } else {
                ("USD", "America/New_York")
            };
            writeln!(
                spend,
                "{},{platform},act-{platform},cp{campaign:03},{},{},{}.{:02},{currency},{},{},{zone}",
                day_name(day),
                campaign_channel(campaign),
                campaign_creator(campaign)
                    .map(|c| format!("cr{c:02}"))
                    .unwrap_or_default(),
                cents / 100,
                cents % 100,
                cents * 40 + rng.below(5_000),
                cents / 30 + rng.below(40),
            )?;
            spend_rows += 1;
        }
    }
    spend.flush()?;

    let mut costs = csv(
        &f.creator_costs,
        "date,creator_id,amount,currency,kind,cost_id",
    )?;
    let mut cost_rows = 0u64;
    for month in 0..12 {
        let day = day_name(month * 30);
        for creator in 0..CREATORS {
            let fee = 20_000 + rng.below(200_000);
            writeln!(
                costs,
                "{day},cr{creator:02},{}.{:02},USD,fee,fee-{creator}-{month}",
                fee / 100,
                fee % 100
            )?;
            let commission = 5_000 + rng.below(60_000);
            writeln!(
                costs,
                "{day},cr{creator:02},{}.{:02},USD,commission,com-{creator}-{month}",
                commission / 100,
                commission % 100
            )?;
            cost_rows += 2;
        }
    }
    costs.flush()?;
    println!(
        "wrote {} people: {touch_count} touches in 12 files, {order_count} orders, {refund_count} refunds and chargebacks, {spend_rows} spend rows, {cost_rows} creator costs, to {}",
        people,
        dir.display()
    );
    Ok(())
}

/// One finished process: wall time and peak resident memory.
struct Timed {
    seconds: f64,
    peak_rss_mb: f64,
    stdout: String,
}

/// Runs `lookback` with `args` and waits for it, sampling its peak resident set (`VmHWM` in
/// `/proc/PID/status`, a high-water mark) every 2 ms until it exits.
fn run_lookback(args: &[&str]) -> Timed {
    let bin = std::env::var_os("LOOKBACK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release/lookback"));
    let started = Instant::now();
    let mut child = Command::new(&bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let status_file = format!("/proc/{}/status", child.id());
    // Read the pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let mut peak_kb = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for lookback") {
            break status;
        }
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .unwrap_or(0);
        peak_kb = peak_kb.max(hwm);
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    assert!(
        status.success(),
        "lookback {} failed:\n{stdout}\n{stderr}",
        args.join(" ")
    );
    Timed {
        seconds,
        peak_rss_mb: peak_kb as f64 / 1024.0,
        stdout,
    }
}

fn report(what: &str, timed: &Timed) {
    println!(
        "{what:<58} {:>8.3} s  peak {:>6.0} MB",
        timed.seconds, timed.peak_rss_mb
    );
}

fn build(dir: &Path, db: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let f = files(dir);
    let dbs = db.to_str().ok_or("workspace path is not UTF-8")?;
    let timed = run_lookback(&["--db", dbs, "init", "--name", "Busy year"]);
    report("init", &timed);
    // Daily rates of the two foreign currencies, written here from their own seed (so CSV
    // directories generated before rates had an import still build the same workspace) and
    // imported like every other file.
    let rates = dir.join("fx-rates.csv");
    {
        let mut text = String::from("date,from_currency,to_currency,rate\n");
        let mut rng = SplitMix(4217);
        for day in -1..=DAYS {
            for (from, base) in [("EUR", 1_080u64), ("GBP", 1_260)] {
                let milli = base + rng.below(40);
                text.push_str(&format!(
                    "{},{from},USD,{}.{:03}\n",
                    day_name(day),
                    milli / 1000,
                    milli % 1000
                ));
            }
        }
        std::fs::write(&rates, text)?;
    }
    let imports: Vec<(&str, &Path)> = std::iter::once(("fx-rates", rates.as_path()))
        .chain(std::iter::once(("spend", f.spend.as_path())))
        .chain(std::iter::once((
            "creator-costs",
            f.creator_costs.as_path(),
        )))
        .chain(f.touches.iter().map(|p| ("touches", p.as_path())))
        .chain([
            ("orders", f.orders.as_path()),
            ("refunds", f.refunds.as_path()),
        ])
        .collect();
    let mut rows_total = 0u64;
    let mut seconds_total = 0.0;
    let mut peak = 0.0f64;
    for (kind, path) in imports {
        let file = path.to_str().ok_or("path is not UTF-8")?;
        let rows = std::fs::read(path)?.iter().filter(|b| **b == b'\n').count() as u64 - 1;
        let timed = run_lookback(&["--db", dbs, "import", kind, file]);
        report(
            &format!(
                "import {kind} {} ({rows} rows, {:.0} rows/s)",
                path.file_name().unwrap_or_default().to_string_lossy(),
                rows as f64 / timed.seconds
            ),
            &timed,
        );
        rows_total += rows;
        seconds_total += timed.seconds;
        peak = peak.max(timed.peak_rss_mb);
    }
    println!(
        "imported {rows_total} rows in {seconds_total:.1} s: {:.0} rows/s, peak {peak:.0} MB",
        rows_total as f64 / seconds_total
    );
    file_size(db);
    Ok(())
}

fn file_size(db: &Path) {
    let bytes = std::fs::metadata(db).map(|m| m.len()).unwrap_or(0);
    // A workspace this build cannot open read-only (e.g. one of an older schema, which needs
    // migrating first) has no touch count here: say so rather than divide by zero.
    match lookback_store::Store::open_read_only(db)
        .and_then(|s| s.row_count(lookback_store::Table::Touches))
    {
        Ok(touches) => println!(
            "file {:.1} MB, {touches} touches, {:.0} bytes per touch",
            bytes as f64 / 1e6,
            bytes as f64 / touches.max(1) as f64
        ),
        Err(e) => println!(
            "file {:.1} MB (touches not counted: {e})",
            bytes as f64 / 1e6
        ),
    }
}

/// The median of `repeat` runs of one command (the first run included: nothing is warmed up
/// on purpose beyond what the OS caches).
fn median_of(repeat: usize, args: &[&str]) -> Timed {
    let mut runs: Vec<Timed> = (0..repeat).map(|_| run_lookback(args)).collect();
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    runs.swap_remove(runs.len() / 2)
}

fn measure(db: &Path, repeat: usize) -> Result<(), Box<dyn std::error::Error>> {
    let dbs = db.to_str().ok_or("workspace path is not UTF-8")?;
    file_size(db);
    // Runs of every model are made once first (each its own process, timed), then the cached
    // figures are timed `repeat` times.
    let first: [(&str, &[&str]); 4] = [
        (
            "first run after import (journeys resolved): last-touch",
            &[
                "report",
                "credits",
                "--model",
                "last-touch",
                "--by",
                "channel",
            ],
        ),
        (
            "new heuristic run on cached journeys: first-touch",
            &[
                "report",
                "credits",
                "--model",
                "first-touch",
                "--by",
                "channel",
            ],
        ),
        (
            "new data-driven run: markov",
            &["report", "credits", "--model", "markov", "--by", "channel"],
        ),
        (
            "new data-driven run: shapley",
            &["report", "credits", "--model", "shapley", "--by", "channel"],
        ),
    ];
    for (what, args) in first {
        let full: Vec<&str> = ["--db", dbs]
            .iter()
            .copied()
            .chain(args.iter().copied())
            .collect();
        report(what, &run_lookback(&full));
    }
    let cached: [(&str, &[&str]); 6] = [
        ("model show (opening the workspace)", &["model", "show"]),
        ("overview", &["overview"]),
        (
            "report credits --by creator (cached run)",
            &["report", "credits", "--by", "creator"],
        ),
        (
            "report weights --model markov (cached run)",
            &["report", "weights", "--model", "markov"],
        ),
        (
            "view roas --by creator (cached run)",
            &["view", "roas", "--by", "creator"],
        ),
        (
            "view roas --by campaign --model shapley (cached run)",
            &["view", "roas", "--by", "campaign", "--model", "shapley"],
        ),
    ];
    for (what, args) in cached {
        let full: Vec<&str> = ["--db", dbs]
            .iter()
            .copied()
            .chain(args.iter().copied())
            .collect();
        let timed = median_of(repeat, &full);
        report(&format!("{what}, median of {repeat}"), &timed);
        if std::env::var_os("BUSY_YEAR_SHOW").is_some() {
            println!("{}", timed.stdout);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    match args.first().map(String::as_str) {
        Some("generate") if args.len() >= 2 => {
            generate(Path::new(&args[1]), flag("--people").unwrap_or(2_500_000))?;
        }
        Some("build") if args.len() >= 3 => build(Path::new(&args[1]), Path::new(&args[2]))?,
        Some("measure") if args.len() >= 2 => {
            measure(Path::new(&args[1]), flag("--repeat").unwrap_or(5) as usize)?
        }
        _ => {
            eprintln!(
                "usage: busy_year generate DIR [--people N] | build DIR DB | measure DB [--repeat N]"
            );
            std::process::exit(2);
        }
    }
    Ok(())
}
