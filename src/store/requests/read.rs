//! Reading requests: one with its history, lists for the inbox and the API.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::RequestView;
use crate::store::cases::{self, CaseType, Stored};
use crate::store::{Result, StoreError, from_ms};
use crate::workflow::{CaseStatus, Kind};

/// Whether `account` made the request or is named in it.
pub fn involves(conn: &Connection, id: i64, account: i64) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM request WHERE id = ?1
             AND (created_by = ?2 OR atasan_id = ?2 OR responsible_id = ?2))",
        params![id, account],
        |r| r.get(0),
    )?)
}

pub fn get(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<RequestView> {
    list_where(conn, "r.id = ?1", params![id], now)?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("request {id}")))
}

/// Filters for the request list; an actor of a personal role sees only their own.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<CaseStatus>,
    pub kind: Option<Kind>,
    pub involving: Option<i64>,
    pub limit: u32,
    pub after_id: Option<i64>,
}

pub fn list(conn: &Connection, f: &Filter, now: DateTime<Utc>) -> Result<Vec<RequestView>> {
    list_where(
        conn,
        "(?1 IS NULL OR r.status = ?1) AND (?2 IS NULL OR r.kind = ?2)
         AND (?3 IS NULL OR r.created_by = ?3 OR r.atasan_id = ?3 OR r.responsible_id = ?3)
         AND (?4 IS NULL OR r.id > ?4) ORDER BY r.id LIMIT ?5",
        params![
            f.status.map(CaseStatus::as_str),
            f.kind.map(Kind::as_str),
            f.involving,
            f.after_id,
            f.limit
        ],
        now,
    )
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
    now: DateTime<Utc>,
) -> Result<Vec<RequestView>> {
    let sql = format!(
        "SELECT r.id, r.kind, r.status, r.chain, r.step_index, r.step_since, r.applicant_name,
                r.applicant_nip, r.unit_kerja, r.jabatan, r.instansi, r.email, r.person_id,
                r.purpose, r.nomor_surat, r.doors, r.hak_akses, r.valid_from, r.valid_until,
                r.schedule, a.username, p.username, r.right_id, r.credential_id, r.logical_id,
                r.created_at
         FROM request r LEFT JOIN account a ON a.id = r.atasan_id
              LEFT JOIN account p ON p.id = r.responsible_id
         WHERE {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let kind: String = r.get(1)?;
        let status: String = r.get(2)?;
        let chain: String = r.get(3)?;
        let stored = Stored::parse(&status, &chain, r.get(4)?, r.get(5)?)?;
        let doors: Option<String> = r.get(15)?;
        let schedule: Option<String> = r.get(19)?;
        out.push(RequestView {
            id,
            kind: Kind::parse(&kind)
                .ok_or_else(|| StoreError::Invalid(format!("unknown request kind {kind:?}")))?,
            status: stored.status,
            waiting: stored.waiting_step(now),
            applicant_name: r.get(6)?,
            applicant_nip: r.get(7)?,
            unit_kerja: r.get(8)?,
            jabatan: r.get(9)?,
            instansi: r.get(10)?,
            email: r.get(11)?,
            person_id: r.get(12)?,
            purpose: r.get(13)?,
            nomor_surat: r.get(14)?,
            doors: doors
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default(),
            hak_akses: r.get(16)?,
            valid_from: from_ms(r.get(17)?),
            valid_until: from_ms(r.get(18)?),
            schedule: schedule.and_then(|s| serde_json::from_str(&s).ok()),
            atasan: r.get(20)?,
            penanggung_jawab: r.get(21)?,
            right_id: r.get(22)?,
            badge_id: r.get(23)?,
            logical_right_id: r.get(24)?,
            steps: stored.chain.0.clone(),
            history: vec![],
            created_at: from_ms(r.get(25)?),
        });
    }
    for v in &mut out {
        v.history = cases::history(conn, CaseType::Request, v.id)?;
    }
    Ok(out)
}
