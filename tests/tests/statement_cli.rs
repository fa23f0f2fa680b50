//! `lookback statement` on the demo workspace: the PDF's text carries every figure the command
//! prints, the CSV's order and clawback amounts add up to the printed net, a second statement
//! of the same run reads the same but for its creation time, and a bad request writes nothing.

use std::collections::BTreeMap;
use std::path::Path;

use lookback_tests::{TestHome, output_text};

const CREATOR: &str = "cr_maya_chen";

/// `label: figure` lines of the command's summary.
fn summary(stdout: &str) -> BTreeMap<String, String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with("wrote ") && !l.starts_with("statement of "))
        .filter_map(|l| l.split_once(": "))
        .map(|(label, figure)| (label.to_owned(), figure.to_owned()))
        .collect()
}

fn pdf_text(path: &Path) -> String {
    pdf_extract::extract_text(path)
        .unwrap_or_else(|e| panic!("cannot read the text of {}: {e}", path.display()))
}

/// The statement's text without its "Created …" line.
fn without_creation(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("Created "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_statement_prints_writes_and_reads_the_same_figures() {
    let home = TestHome::new();
    let db = home.path("demo.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&["--db", db_arg, "demo", "--end", "2026-11-30"]);
    let out = home.path("maya-november.pdf");
    let stdout = home.lookback_ok(&[
        "--db",
        db_arg,
        "statement",
        "--creator",
        CREATOR,
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stdout.contains("statement of Maya Chen (cr_maya_chen) for 2026-11-01 to 2026-11-30"),
        "{stdout}"
    );
    let lines = summary(&stdout);
    let net = lines
        .get("Net credited revenue")
        .expect("a net line")
        .clone();
    let clawbacks = lines
        .iter()
        .find(|(label, _)| label.starts_with("Clawbacks of earlier orders ("))
        .map(|(label, figure)| (label.clone(), figure.clone()))
        .expect("a clawbacks line");
    assert_ne!(
        clawbacks.0, "Clawbacks of earlier orders (0)",
        "the demo's November has clawbacks"
    );

    let text = pdf_text(&out);
    for (label, figure) in &lines {
        assert!(
            text.contains(label.as_str()),
            "{label:?} is not in the PDF:\n{text}"
        );
        assert!(
            text.contains(figure.as_str()),
            "{figure:?} ({label}) is not in the PDF:\n{text}"
        );
    }
    // Other creators' names never appear.
    for other in ["Leo Martins", "Priya Raman", "cr_leo_martins"] {
        assert!(!text.contains(other), "{other} is in Maya's statement");
    }

    // The CSV: order and clawback amounts add up to the printed net.
    let csv = std::fs::read_to_string(home.path("maya-november.csv")).unwrap();
    let mut rows = csv.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let (section, amount) = (
        header.iter().position(|h| *h == "section").unwrap(),
        header.iter().position(|h| *h == "amount").unwrap(),
    );
    let mut cents = 0i64;
    let mut clawback_rows = 0;
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        if cells[section] == "order" || cells[section] == "clawback" {
            clawback_rows += usize::from(cells[section] == "clawback");
            let value = cells[amount].replace('.', "");
            cents += value.parse::<i64>().unwrap();
        }
    }
    let net_cents: i64 = net
        .trim_end_matches(" USD")
        .replace('.', "")
        .parse()
        .unwrap();
    assert_eq!(
        cents, net_cents,
        "Σ amount of the CSV vs the printed net {net}"
    );
    assert!(clawback_rows > 0);
    assert!(home.path("maya-november.csv.json").exists());

    // Again: the same run, the same statement but for when it was made.
    let again = home.path("again.pdf");
    home.lookback_ok(&[
        "--db",
        db_arg,
        "statement",
        "--creator",
        CREATOR,
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::metadata(&out).unwrap().len(),
        std::fs::metadata(&again).unwrap().len()
    );
    assert_eq!(without_creation(&text), without_creation(&pdf_text(&again)));
}

#[test]
fn an_unknown_creator_or_a_backwards_period_is_refused_and_writes_nothing() {
    let home = TestHome::new();
    let db = home.path("demo.lookback");
    let db_arg = db.to_str().unwrap();
    home.lookback_ok(&[
        "--db",
        db_arg,
        "demo",
        "--orders",
        "300",
        "--end",
        "2026-11-30",
    ]);
    let out = home.path("nobody.pdf");
    for (creator, from, to, says) in [
        ("cr_nobody", "2026-11-01", "2026-11-30", "cr_nobody"),
        (CREATOR, "2026-11-30", "2026-11-01", "2026-11-30"),
    ] {
        let result = home.lookback(&[
            "--db",
            db_arg,
            "statement",
            "--creator",
            creator,
            "--from",
            from,
            "--to",
            to,
            "--out",
            out.to_str().unwrap(),
        ]);
        let text = output_text(&result);
        assert!(!result.status.success(), "{text}");
        assert!(text.contains(says), "{text}");
        assert!(!out.exists() && !home.path("nobody.csv").exists());
        assert!(!home.path("nobody.pdf.partial").exists());
    }
}
