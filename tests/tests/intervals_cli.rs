//! Bootstrap intervals through the real binary on a demo workspace: `report weights
//! --intervals` keeps the weights and adds `weight_low,weight_high,interval_note`, the same seed
//! gives the same bytes and another seed other intervals, `view roas --intervals` puts an
//! interval (or the words) beside each data-driven revenue figure, and bad requests say why.

use lookback_tests::{TestHome, output_text};

fn demo(home: &TestHome) -> String {
    let db = home.path("demo.lookback");
    let db = db.to_str().unwrap().to_owned();
    home.lookback_ok(&[
        "--db",
        &db,
        "demo",
        "--orders",
        "800",
        "--end",
        "2026-06-30",
    ]);
    db
}

#[test]
fn weights_with_intervals_keep_the_weights_and_are_reproducible() {
    let home = TestHome::new();
    let db = demo(&home);
    for (model, value) in [("markov", "removal_effect"), ("shapley", "shapley_value")] {
        let plain = home.lookback_ok(&[
            "--db", &db, "report", "weights", "--model", model, "--format", "csv",
        ]);
        let with = home.lookback_ok(&[
            "--db",
            &db,
            "report",
            "weights",
            "--model",
            model,
            "--format",
            "csv",
            "--intervals",
        ]);
        let mut lines = with.lines();
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "channel,{value},weight,conversions,paths,weight_low,weight_high,interval_note"
            )
        );
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
        assert_eq!(rows.len(), plain.lines().count() - 1);
        for (row, plain_row) in rows.iter().zip(plain.lines().skip(1)) {
            // The first five columns are exactly the report without intervals.
            assert_eq!(row[..5].join(","), plain_row, "{model}");
            let (low, high): (f64, f64) = (row[5].parse().unwrap(), row[6].parse().unwrap());
            assert!(0.0 <= low && low <= high && high <= 1.0, "{model}: {row:?}");
            let conversions: u64 = row[3].parse().unwrap();
            let weight: f64 = row[2].parse().unwrap();
            let too_few = conversions < 30 || high - low > weight;
            assert_eq!(row[7] == "too few conversions to say", too_few, "{row:?}");
        }
        // Seeded: the same command prints the same bytes; another seed other intervals.
        let again = home.lookback_ok(&[
            "--db",
            &db,
            "report",
            "weights",
            "--model",
            model,
            "--format",
            "csv",
            "--intervals",
        ]);
        assert_eq!(again, with);
        let other = home.lookback_ok(&[
            "--db",
            &db,
            "report",
            "weights",
            "--model",
            model,
            "--format",
            "csv",
            "--intervals",
            "--seed",
            "7",
        ]);
        assert_ne!(other, with);
    }
    let json: serde_json::Value = serde_json::from_str(&home.lookback_ok(&[
        "--db",
        &db,
        "report",
        "weights",
        "--model",
        "markov",
        "--format",
        "json",
        "--intervals",
        "--resamples",
        "50",
        "--level",
        "0.8",
    ]))
    .unwrap();
    assert_eq!(json["intervals"]["resamples"], 50);
    assert_eq!(json["intervals"]["level"], 0.8);
    assert_eq!(json["intervals"]["seed"], 14);
    assert!(
        json["rows"][0]["weight_low"].as_f64().unwrap()
            <= json["rows"][0]["weight_high"].as_f64().unwrap()
    );
}

#[test]
fn roas_intervals_stand_beside_each_figure_and_too_few_orders_are_said_in_words() {
    let home = TestHome::new();
    let db = demo(&home);
    let whole = home.lookback_ok(&[
        "--db",
        &db,
        "view",
        "roas",
        "--model",
        "markov",
        "--by",
        "channel",
        "--intervals",
    ]);
    assert!(
        whole.contains("90% intervals: 200 bootstrap resamples over journeys, seed 14"),
        "{whole}"
    );
    assert!(
        whole
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("90% intervals"))
    );
    let header = whole.lines().nth(2).unwrap();
    assert!(header.ends_with("revenue interval"), "{header}");
    // Every channel with revenue has a low–high (all channels have hundreds of orders).
    let channel_rows: Vec<&str> = whole
        .lines()
        .skip(3)
        .filter(|l| !l.starts_with("Total") && !l.starts_with("Creator fees"))
        .collect();
    assert!(!channel_rows.is_empty());
    for row in channel_rows {
        assert!(row.contains('–'), "{row}");
    }
    // The last two days hold fewer than 30 orders: no creator's figure can be stated.
    let few = home.lookback_ok(&[
        "--db",
        &db,
        "view",
        "roas",
        "--model",
        "shapley",
        "--by",
        "creator",
        "--intervals",
        "--from",
        "2026-06-29",
    ]);
    assert!(few.contains("too few conversions to say"), "{few}");
    assert!(!few.lines().skip(3).any(|l| l.contains('–')), "{few}");
}

#[test]
fn intervals_that_cannot_be_made_say_why() {
    let home = TestHome::new();
    let db = demo(&home);
    for (args, words) in [
        (
            vec![
                "report",
                "weights",
                "--model",
                "markov",
                "--intervals",
                "--level",
                "1.5",
            ],
            "level: ",
        ),
        (
            vec![
                "report",
                "weights",
                "--model",
                "markov",
                "--intervals",
                "--resamples",
                "3",
            ],
            "resamples: ",
        ),
        (
            vec!["view", "roas", "--model", "linear", "--intervals"],
            "data-driven models",
        ),
        (
            vec![
                "view",
                "roas",
                "--model",
                "markov",
                "--by",
                "platform",
                "--intervals",
            ],
            "not by platform",
        ),
        (
            vec![
                "view",
                "roas",
                "--model",
                "markov",
                "--bucket",
                "week",
                "--intervals",
            ],
            "leave out",
        ),
    ] {
        let mut all = vec!["--db", db.as_str()];
        all.extend(args.iter().copied());
        let out = home.lookback(&all);
        assert!(!out.status.success(), "{args:?}");
        let text = output_text(&out);
        assert!(text.contains(words), "{args:?}: {text}");
    }
}
