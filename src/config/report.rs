//! `[report]`: what the printed reports and forms say about the office (agency header and
//! signature blocks) and how the periodic access report judges taps (working hours, the
//! windows for expiring and unused rights).

use serde::{Deserialize, Serialize};

use super::Invalid;
use crate::schedule::Schedule;

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
        }
    }
}

pub(super) fn validate(file: &ReportFile) -> Result<ReportConfig, Invalid> {
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
    })
}
