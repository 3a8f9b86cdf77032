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
        /// List rights ending within this many days (default: `report.expiring_within_days`).
        #[arg(long)]
        expiring_days: Option<u32>,
        /// List rights unused for this many days (default: `report.unused_for_days`).
        #[arg(long)]
        unused_days: Option<u32>,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// One of the SOP's forms, filled in (PDF by default): `access-request --id N`,
    /// `access-list [--door D]`, `review --id N`, `removal --id N`,
    /// `facility-register --month M`, `remote-access --month M`.
    Form {
        #[arg(value_enum)]
        form: FormName,
        /// The request, review or removal.
        #[arg(long)]
        id: Option<i64>,
        /// The access list of one door.
        #[arg(long)]
        door: Option<String>,
        #[command(flatten)]
        period: PeriodArgs,
        #[command(flatten)]
        out: OutputArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormName {
    AccessRequest,
    AccessList,
    Review,
    Removal,
    FacilityRegister,
    RemoteAccess,
}

/// One period (the daemon says so when none or two are given).
#[derive(Debug, Args)]
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

/// Where an export goes and how it reads; the register, visit register, reports and forms
/// all download this way.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// `id` (default) or `en`.
    #[arg(long)]
    lang: Option<String>,
    /// CSV with `;` (Indonesian-locale spreadsheets).
    #[arg(long)]
    semicolon: bool,
    /// Write to this file instead of standard output (a PDF must go to a file).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

impl ExportArgs {
    /// Downloads `path` into the file or standard output.
    pub fn fetch(
        &self,
        client: &Client,
        path: &str,
        mut query: Vec<(&'static str, String)>,
    ) -> anyhow::Result<()> {
        query.extend(self.lang.clone().map(|v| ("lang", v)));
        if self.semicolon {
            query.push(("sep", "semicolon".into()));
        }
        match &self.output {
            Some(file) => {
                // Written beside the target and renamed, so a failed export leaves no half file.
                let mut tmp = file.as_os_str().to_owned();
                tmp.push(".part");
                let tmp = std::path::PathBuf::from(tmp);
                let mut f = std::fs::File::create(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                let n = match client.download(path, &query, &mut f) {
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

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// `json`, `csv`, `html` or `pdf` (default: from the file's extension, else json).
    #[arg(long)]
    format: Option<String>,
    #[command(flatten)]
    export: ExportArgs,
}

impl OutputArgs {
    fn format_from_extension(&self) -> Option<String> {
        self.export
            .output
            .as_ref()
            .and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .filter(|e| ["json", "csv", "html", "pdf"].contains(e))
            .map(str::to_owned)
    }

    fn format(&self) -> anyhow::Result<String> {
        let format = self
            .format
            .clone()
            .or_else(|| self.format_from_extension())
            .unwrap_or_else(|| "json".into());
        if format == "pdf" && self.export.output.is_none() {
            bail!("a PDF goes to a file: add --output FILE.pdf");
        }
        Ok(format)
    }

    /// Downloads `path` in the chosen format into the file or standard output.
    pub fn fetch(
        &self,
        client: &Client,
        path: &str,
        mut query: Vec<(&'static str, String)>,
    ) -> anyhow::Result<()> {
        query.push(("format", self.format()?));
        self.export.fetch(client, path, query)
    }
}

pub fn run(cmd: ReportCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        ReportCmd::Access {
            period,
            door,
            expiring_days,
            unused_days,
            out,
            api,
        } => {
            let mut query = period.query();
            query.extend(door.map(|d| ("door", d)));
            query.extend(expiring_days.map(|d| ("expiring_within_days", d.to_string())));
            query.extend(unused_days.map(|d| ("unused_for_days", d.to_string())));
            out.fetch(&client(api), "/api/v1/reports/access", query)
        }
        ReportCmd::Form {
            form,
            id,
            door,
            period,
            mut out,
            api,
        } => {
            let by_id = |name: &str| match id {
                Some(id) => Ok(format!("/api/v1/forms/{name}/{id}")),
                None => Err(anyhow::anyhow!("the {name} form needs --id")),
            };
            let path = match form {
                FormName::AccessRequest => by_id("access-request")?,
                FormName::Review => by_id("review")?,
                FormName::Removal => by_id("removal")?,
                FormName::AccessList => "/api/v1/forms/access-list".to_owned(),
                FormName::FacilityRegister => "/api/v1/forms/facility-register".to_owned(),
                FormName::RemoteAccess => "/api/v1/forms/remote-access".to_owned(),
            };
            let mut query = period.query();
            query.extend(door.map(|d| ("door", d)));
            if out.format.is_none() && out.export.output.is_some() {
                // A form is for printing: PDF unless the file's extension says otherwise.
                out.format = out.format_from_extension().or(Some("pdf".into()));
            }
            out.fetch(&client(api), &path, query)
        }
    }
}
