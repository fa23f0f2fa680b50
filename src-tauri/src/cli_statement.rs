//! `lookback statement`: a creator's statement for a period under the workspace's current
//! model, written as a printable PDF and a CSV beside it (`lookback_app::statement`); prints
//! where it wrote them and the statement's summary, the same lines the PDF shows.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use lookback_app::clock::now_ms;
use lookback_app::statement::{StatementRequest, write_statement};
use lookback_core::time::NaiveDate;
use lookback_store::Store;

#[derive(Debug, Args)]
pub struct StatementArgs {
    /// The creator's id.
    #[arg(long)]
    pub creator: String,
    /// First day of the period, YYYY-MM-DD in the reporting zone (default: the first day of data).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day of the period, inclusive (default: the last day of data).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Where to write the PDF; the CSV goes beside it as FILE.csv (with FILE.csv.json).
    #[arg(long, value_name = "FILE.pdf")]
    pub out: PathBuf,
}

fn day(text: Option<&str>, flag: &str) -> Result<Option<NaiveDate>> {
    text.map(|t| {
        NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d")
            .with_context(|| format!("--{flag} {t}: not a day (YYYY-MM-DD)"))
    })
    .transpose()
}

pub fn run_statement(db: &Path, args: StatementArgs) -> Result<()> {
    let request = StatementRequest {
        creator_id: args.creator.clone(),
        from: day(args.from.as_deref(), "from")?,
        to: day(args.to.as_deref(), "to")?,
        pdf_path: args.out.clone(),
    };
    let mut store =
        Store::open(db).with_context(|| format!("cannot open workspace {}", db.display()))?;
    let written = write_statement(&mut store, &request, now_ms())?;
    println!(
        "statement of {} ({}) for {} to {} · model {} · run #{}",
        written.display_name,
        written.creator_id,
        written.from,
        written.to,
        written.model,
        written.run_id
    );
    for line in &written.summary {
        println!("{}: {}", line.label.trim(), line.figure);
    }
    println!("wrote {}", written.pdf_path);
    println!("wrote {}", written.csv_path);
    Ok(())
}
