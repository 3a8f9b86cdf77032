//! Formulir Pencatatan Penggunaan Fasilitas (seed 004): one line per granted visit, filled
//! from the desk and from the door. Jam masuk is the visitor's first granted entry at a reader
//! and jam keluar their last granted exit (when it came after their last entry); where the
//! readers saw nothing, the desk's check-in and check-out times stand in.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{Equipment, equipment, parse_status};
use crate::store::{Result, from_ms, to_ms};
use crate::visit::{IdKind, VisitStatus};

/// Where a time of the register comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    /// A granted tap of the visitor badge.
    Reader,
    /// The desk's check-in or check-out.
    Desk,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterRow {
    /// No.: the line number in the period.
    pub no: u32,
    pub visit_id: i64,
    pub nama: String,
    pub instansi: Option<String>,
    pub alamat: Option<String>,
    /// As the form prints it: `KTP`, `SIM`, `Paspor`, or the document named.
    pub jenis_identitas: String,
    pub no_identitas: String,
    pub no_badge: Option<String>,
    /// The day of the visit in the office's zone.
    #[schema(value_type = String, format = Date)]
    pub tanggal: NaiveDate,
    pub jam_masuk: DateTime<Utc>,
    pub jam_masuk_from: TimeSource,
    /// `null` while the visit goes on.
    pub jam_keluar: Option<DateTime<Utc>>,
    pub jam_keluar_from: Option<TimeSource>,
    pub tujuan: String,
    /// Fasilitas: jenis and no. seri of what was brought in.
    pub fasilitas: Vec<Equipment>,
    /// TTD: the typed name, or `null` for a picture (`GET /visits/{id}/signature`).
    pub ttd_name: Option<String>,
    pub status: VisitStatus,
}

/// The granted visits checked in within `[from, until)`, oldest first.
pub fn rows(
    conn: &Connection,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    tz: Tz,
) -> Result<Vec<RegisterRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.id, v.nama, v.instansi, v.alamat, v.jenis_identitas, v.jenis_identitas_lain,
                v.no_identitas, b.badge_number, v.checked_in_at, v.checked_out_at, v.tujuan,
                v.ttd_name, v.status,
                (SELECT MIN(r.at) FROM register r WHERE r.person_id = v.person_id
                   AND r.event = 'tap' AND r.granted = 1 AND r.direction = 'in'),
                (SELECT MAX(r.at) FROM register r WHERE r.person_id = v.person_id
                   AND r.event = 'tap' AND r.granted = 1 AND r.direction = 'in'),
                (SELECT MAX(r.at) FROM register r WHERE r.person_id = v.person_id
                   AND r.event = 'tap' AND r.granted = 1 AND r.direction = 'out')
         FROM visit v LEFT JOIN visitor_badge b ON b.id = v.badge_id
         WHERE v.decided_at IS NOT NULL AND v.status != 'denied'
           AND (?1 IS NULL OR v.checked_in_at >= ?1) AND (?2 IS NULL OR v.checked_in_at < ?2)
         ORDER BY v.checked_in_at, v.id",
    )?;
    let mut rows = stmt.query(params![from.map(to_ms), until.map(to_ms)])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let kind: String = r.get(4)?;
        let other: Option<String> = r.get(5)?;
        let checked_in = from_ms(r.get(8)?);
        let checked_out = r.get::<_, Option<i64>>(9)?.map(from_ms);
        let first_in = r.get::<_, Option<i64>>(13)?.map(from_ms);
        let last_in = r.get::<_, Option<i64>>(14)?.map(from_ms);
        let last_out = r.get::<_, Option<i64>>(15)?.map(from_ms);
        let (jam_masuk, jam_masuk_from) = match first_in {
            Some(t) => (t, TimeSource::Reader),
            None => (checked_in, TimeSource::Desk),
        };
        let (jam_keluar, jam_keluar_from) = match (last_out, last_in, checked_out) {
            (Some(out), Some(inn), _) if out > inn => (Some(out), Some(TimeSource::Reader)),
            (_, _, Some(desk)) => (Some(desk), Some(TimeSource::Desk)),
            _ => (None, None),
        };
        out.push(RegisterRow {
            no: out.len() as u32 + 1,
            visit_id: id,
            nama: r.get(1)?,
            instansi: r.get(2)?,
            alamat: r.get(3)?,
            jenis_identitas: match (IdKind::parse(&kind), other) {
                (Some(IdKind::Other), Some(o)) => o,
                (Some(k), _) => k.label().to_owned(),
                (None, _) => kind,
            },
            no_identitas: r.get(6)?,
            no_badge: r.get(7)?,
            tanggal: checked_in.with_timezone(&tz).date_naive(),
            jam_masuk,
            jam_masuk_from,
            jam_keluar,
            jam_keluar_from,
            tujuan: r.get(10)?,
            fasilitas: equipment(conn, id)?,
            ttd_name: r.get(11)?,
            status: parse_status(&r.get::<_, String>(12)?)?,
        });
    }
    Ok(out)
}
