//! `lawang report …`: the periodic access report (and, through the same options, the forms)
//! fetched from the daemon and written to a file or standard output.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use super::ApiArgs;
use super::client::Client;

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// The periodic access report: entries and exits per person, refusals by reason, entries
    /// outside working hours, alarms, visits, overdue steps, rights expiring or unused.
    Access {
        #[command(flatten)]
        period: PeriodArgs,
        /// Only this door.
        #[arg(long)]
        door: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Exactly one period.
#[derive(Debug, Args)]
#[group(required = true, multiple = true)]
pub struct PeriodArgs {
    /// A day, `2026-11-30`.
    #[arg(long, group = "one")]
    day: Option<String>,
    /// An ISO week, `2026-W48`.
    #[arg(long, group = "one")]
    week: Option<String>,
    /// A month, `2026-11`.
    #[arg(long, group = "one")]
    month: Option<String>,
    /// A quarter, `2026-Q4`.
    #[arg(long, group = "one")]
    quarter: Option<String>,
    /// Custom range start: a date or an RFC 3339 time (with `--to`).
    #[arg(long, requires = "to", conflicts_with = "one")]
    from: Option<String>,
    /// Custom range end: a date (included) or an RFC 3339 time (excluded).
    #[arg(long, requires = "from", conflicts_with = "one")]
    to: Option<String>,
}

impl PeriodArgs {
    pub fn query(self) -> Vec<(&'static str, String)> {
        [
            ("day", self.day),
            ("week", self.week),
            ("month", self.month),
            ("quarter", self.quarter),
            ("from", self.from),
            ("to", self.to),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// `json`, `csv`, `html` or `pdf` (default: from the file's extension, else json).
    #[arg(long)]
    format: Option<String>,
    /// `id` (default) or `en`.
    #[arg(long)]
    lang: Option<String>,
    /// CSV with `;` (Indonesian-locale spreadsheets).
    #[arg(long)]
    semicolon: bool,
    /// Write to this file (a PDF must go to a file).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

impl OutputArgs {
    fn format(&self) -> anyhow::Result<String> {
        let from_ext = self
            .output
            .as_ref()
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .filter(|e| ["json", "csv", "html", "pdf"].contains(e));
        let format = self
            .format
            .clone()
            .or_else(|| from_ext.map(str::to_owned))
            .unwrap_or_else(|| "json".into());
        if format == "pdf" && self.output.is_none() {
            bail!("a PDF goes to a file: add --output FILE.pdf");
        }
        Ok(format)
    }

    fn query(&self, query: &mut Vec<(&'static str, String)>) -> anyhow::Result<()> {
        query.push(("format", self.format()?));
        query.extend(self.lang.clone().map(|v| ("lang", v)));
        if self.semicolon {
            query.push(("sep", "semicolon".into()));
        }
        Ok(())
    }

    /// Downloads `path` into the file or standard output.
    pub fn fetch(
        &self,
        client: &Client,
        path: &str,
        mut query: Vec<(&'static str, String)>,
    ) -> anyhow::Result<()> {
        self.query(&mut query)?;
        match &self.output {
            Some(file) => {
                // Written beside the target and renamed, so a failed export leaves no half file.
                let tmp = file.with_extension("part");
                let mut f = std::fs::File::create(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                let n = client.download(path, &query, &mut f);
                let n = match n {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(e);
                    }
                };
                f.sync_all()?;
                std::fs::rename(&tmp, file)
                    .with_context(|| format!("cannot write {}", file.display()))?;
                eprintln!("wrote {n} bytes to {}", file.display());
            }
            None => {
                client.download(path, &query, &mut std::io::stdout().lock())?;
            }
        }
        Ok(())
    }
}

pub fn run(cmd: ReportCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        ReportCmd::Access {
            period,
            door,
            out,
            api,
        } => {
            let mut query = period.query();
            query.extend(door.map(|d| ("door", d)));
            out.fetch(&client(api), "/api/v1/reports/access", query)
        }
    }
}
