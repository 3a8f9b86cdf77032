//! `[report]`: what the printed reports and forms say about the office (agency header and
//! signature blocks) and how the periodic access report judges taps (working hours, the
//! windows for expiring and unused rights).

use serde::{Deserialize, Serialize};

use super::{DoorConfig, Invalid};
use crate::model::Role;
use crate::report::Lang;
use crate::report::doc::Format;
use crate::schedule::{ClockTime, Schedule};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportFile {
    /// The agency in the header of every report and form (instansi).
    pub instansi: String,
    /// The unit under it (unit kerja).
    pub unit: String,
    /// Office hours; a granted entry outside them is listed in the access report.
    pub working_hours: Schedule,
    /// Rights ending within this many days are listed (to renew or let lapse).
    pub expiring_within_days: u32,
    /// Active rights not used for this many days are listed (candidates for the next review).
    pub unused_for_days: u32,
    /// Signature blocks (TTD) at the foot of reports and forms, left to right.
    #[serde(rename = "signer")]
    pub signers: Vec<Signer>,
    /// Make the access report by itself each period (off unless the section is present).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleFile>,
}

/// `[report.schedule]`: the access report of the past month (or quarter) written into a
/// directory on a given day, and the Kasi told by email where to find it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    /// Where the files go (created if missing; owned by the service user).
    pub directory: std::path::PathBuf,
    /// `month` (default) or `quarter`: the period each report covers.
    #[serde(default = "default_every")]
    pub every: Every,
    /// Day of the month it is made, 1–28 (for a quarter: of the quarter's first month).
    #[serde(default = "default_day")]
    pub day: u32,
    /// Local time it is made, `HH:MM`.
    #[serde(default = "default_at")]
    pub at: ClockTime,
    /// Any of `pdf`, `csv`, `html`, `json`.
    #[serde(default = "default_formats")]
    pub formats: Vec<String>,
    #[serde(default)]
    pub lang: Lang,
    /// CSV with `;` (Indonesian-locale spreadsheets).
    #[serde(default)]
    pub semicolon: bool,
    /// Only this door; every door when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<String>,
    /// Roles whose staff accounts are emailed (their account's address).
    #[serde(default = "default_notify")]
    pub notify_roles: Vec<Role>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    Month,
    Quarter,
}

fn default_every() -> Every {
    Every::Month
}
fn default_day() -> u32 {
    1
}
fn default_at() -> ClockTime {
    ClockTime::hm(6, 0)
}
fn default_formats() -> Vec<String> {
    vec!["pdf".into(), "csv".into()]
}
fn default_notify() -> Vec<Role> {
    vec![Role::Kasi]
}

/// The validated `[report.schedule]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    pub directory: std::path::PathBuf,
    pub every: Every,
    pub day: u32,
    pub at: ClockTime,
    pub formats: Vec<Format>,
    pub lang: Lang,
    pub semicolon: bool,
    pub door: Option<String>,
    pub notify_roles: Vec<Role>,
}

/// A signature block: position, name and NIP, as on the SOP's forms.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    /// Position, e.g. `Kasi Layanan Infrastruktur TIK`.
    pub jabatan: String,
    pub nama: String,
    /// NIP (Nomor Induk Pegawai); may be left out for a non-civil-servant.
    #[serde(default)]
    pub nip: String,
}

impl Default for ReportFile {
    fn default() -> Self {
        ReportFile {
            instansi: "Dinas Komunikasi dan Informatika".into(),
            unit: "Bidang Infrastruktur dan APTIKA".into(),
            working_hours: default_working_hours(),
            expiring_within_days: 30,
            unused_for_days: 90,
            signers: Vec::new(),
            schedule: None,
        }
    }
}

/// Monday to Friday, 07:30–16:00 local time: the usual hours of a regional office.
fn default_working_hours() -> Schedule {
    use crate::schedule::{ClockTime, Day, Window};
    Schedule {
        windows: vec![Window {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
            from: ClockTime::hm(7, 30),
            until: ClockTime::hm(16, 0),
        }],
    }
}

/// The validated `[report]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportConfig {
    pub instansi: String,
    pub unit: String,
    pub working_hours: Schedule,
    pub expiring_within_days: u32,
    pub unused_for_days: u32,
    pub signers: Vec<Signer>,
    pub schedule: Option<ScheduleConfig>,
}

impl Default for ReportConfig {
    fn default() -> Self {
        // The defaults are valid by construction.
        let f = ReportFile::default();
        ReportConfig {
            instansi: f.instansi,
            unit: f.unit,
            working_hours: f.working_hours,
            expiring_within_days: f.expiring_within_days,
            unused_for_days: f.unused_for_days,
            signers: f.signers,
            schedule: None,
        }
    }
}

fn validate_schedule(s: &ScheduleFile, doors: &[DoorConfig]) -> Result<ScheduleConfig, Invalid> {
    if !s.directory.is_absolute() {
        return Err((
            0..0,
            "report.schedule.directory must be an absolute path".into(),
        ));
    }
    if !(1..=28).contains(&s.day) {
        return Err((
            0..0,
            format!(
                "report.schedule.day must be 1 to 28 (every month has it), got {}",
                s.day
            ),
        ));
    }
    let mut formats = Vec::new();
    for f in &s.formats {
        let format = Format::parse(f).ok_or_else(|| {
            (
                0..0,
                format!("report.schedule.formats: {f:?} is not pdf, csv, html or json"),
            )
        })?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if formats.is_empty() {
        return Err((
            0..0,
            "report.schedule.formats: name at least one format".into(),
        ));
    }
    if let Some(door) = &s.door
        && !doors.iter().any(|d| d.name == *door)
    {
        return Err((
            0..0,
            format!("report.schedule.door: no [[door]] is named {door:?}"),
        ));
    }
    Ok(ScheduleConfig {
        directory: s.directory.clone(),
        every: s.every,
        day: s.day,
        at: s.at,
        formats,
        lang: s.lang,
        semicolon: s.semicolon,
        door: s.door.clone(),
        notify_roles: s.notify_roles.clone(),
    })
}

pub(super) fn validate(file: &ReportFile, doors: &[DoorConfig]) -> Result<ReportConfig, Invalid> {
    file.working_hours
        .validate()
        .map_err(|e| (0..0, format!("report.working_hours: {e}")))?;
    for (key, days) in [
        ("expiring_within_days", file.expiring_within_days),
        ("unused_for_days", file.unused_for_days),
    ] {
        if !(1..=3650).contains(&days) {
            return Err((0..0, format!("report.{key} must be 1 to 3650, got {days}")));
        }
    }
    if file.signers.len() > 4 {
        return Err((
            0..0,
            format!(
                "report.signer: at most 4 signature blocks fit on a page, got {}",
                file.signers.len()
            ),
        ));
    }
    for s in &file.signers {
        if s.jabatan.trim().is_empty() || s.nama.trim().is_empty() {
            return Err((
                0..0,
                "report.signer: jabatan and nama must not be empty".into(),
            ));
        }
    }
    Ok(ReportConfig {
        instansi: file.instansi.trim().to_owned(),
        unit: file.unit.trim().to_owned(),
        working_hours: file.working_hours.clone(),
        expiring_within_days: file.expiring_within_days,
        unused_for_days: file.unused_for_days,
        signers: file.signers.clone(),
        schedule: file
            .schedule
            .as_ref()
            .map(|s| validate_schedule(s, doors))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const DOOR: &str = "[[door]]\nname = \"ruang-server\"\n";

    #[test]
    fn the_report_section_with_its_schedule() {
        let (c, _) = Config::parse(
            &format!(
                "{DOOR}[report]\ninstansi = \"Diskominfo Kota Salatiga\"\n\
                 [[report.signer]]\njabatan = \"Kasi\"\nnama = \"Sri\"\nnip = \"1980\"\n\
                 [report.schedule]\ndirectory = \"/var/lib/lawang/laporan\"\nformats = [\"pdf\", \"csv\", \"pdf\"]\n\
                 door = \"ruang-server\"\n"
            ),
            "test",
        )
        .unwrap();
        assert_eq!(c.report.instansi, "Diskominfo Kota Salatiga");
        assert_eq!(c.report.signers[0].nip, "1980");
        let s = c.report.schedule.unwrap();
        assert_eq!(
            (s.day, s.at.to_string(), s.formats.len()),
            (1, "06:00".into(), 2)
        );
        assert!(
            Config::parse(DOOR, "test")
                .unwrap()
                .0
                .report
                .schedule
                .is_none()
        );
        for (bad, says) in [
            ("[report.schedule]\ndirectory = \"laporan\"\n", "absolute"),
            (
                "[report.schedule]\ndirectory = \"/x\"\nday = 31\n",
                "1 to 28",
            ),
            (
                "[report.schedule]\ndirectory = \"/x\"\nformats = [\"docx\"]\n",
                "docx",
            ),
            (
                "[report.schedule]\ndirectory = \"/x\"\ndoor = \"dapur\"\n",
                "dapur",
            ),
            ("[report]\nunused_for_days = 0\n", "unused_for_days"),
            (
                "[report]\nworking_hours = { windows = [] }\n",
                "working_hours",
            ),
        ] {
            let e = Config::parse(&format!("{DOOR}{bad}"), "test")
                .unwrap_err()
                .to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
