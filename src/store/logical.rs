//! Logical rights: accounts in other systems (remote access for a third party, a website
//! control panel). Lawang records when each was given and closed and reminds when one is
//! still open past its planned end; it never creates or closes the account itself.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::json;

use super::requests::RequestView;
use super::{Result, StoreError, audit, from_ms, to_ms};
use crate::model::Actor;
use crate::workflow::Kind;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogicalRight {
    pub id: i64,
    pub kind: Kind,
    /// Nama.
    pub holder_name: String,
    pub instansi: Option<String>,
    pub username: String,
    pub hak_akses: Option<String>,
    /// Tujuan.
    pub tujuan: String,
    pub planned_from: DateTime<Utc>,
    pub planned_until: DateTime<Utc>,
    /// Waktu pemberian.
    pub granted_at: DateTime<Utc>,
    /// Waktu penutupan.
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_reason: Option<String>,
    /// `open` or `closed`.
    pub status: String,
    /// Still open after its planned end: the account should have been closed.
    pub overdue: bool,
    pub request_id: Option<i64>,
    pub penanggung_jawab: Option<String>,
}

pub(crate) fn open_from_request(
    conn: &Connection,
    req: &RequestView,
    username: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<i64> {
    let responsible: Option<i64> = conn.query_row(
        "SELECT responsible_id FROM request WHERE id = ?1",
        [req.id],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO logical_right (kind, holder_name, instansi, username, hak_akses, tujuan,
             planned_from, planned_until, granted_at, status, request_id, responsible_id,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'open', ?10, ?11, ?9, ?9)",
        params![
            req.kind.as_str(),
            req.applicant_name,
            req.instansi.as_ref().or(req.unit_kerja.as_ref()),
            username,
            req.hak_akses,
            req.purpose,
            to_ms(req.valid_from),
            to_ms(req.valid_until),
            to_ms(now),
            req.id,
            responsible,
        ],
    )?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "logical_right.grant",
        Some(format!("logical_right:{id}")),
        json!({ "kind": req.kind, "username": username, "request_id": req.id }),
        now,
    )?;
    Ok(id)
}

/// Records that the account was closed in its system (the work is done, or a removal).
pub fn close(
    conn: &Connection,
    id: i64,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<LogicalRight> {
    let reason = super::people::required("reason", reason)?;
    let right = get(conn, id, now)?;
    if right.status == "closed" {
        return Err(StoreError::Conflict(format!(
            "account {:?} (logical right {id}) was already closed",
            right.username
        )));
    }
    conn.execute(
        "UPDATE logical_right SET status = 'closed', closed_at = ?2, closed_reason = ?3,
                updated_at = ?2 WHERE id = ?1",
        params![id, to_ms(now), reason],
    )?;
    audit::record(
        conn,
        actor,
        "logical_right.close",
        Some(format!("logical_right:{id}")),
        json!({ "username": right.username, "reason": reason }),
        now,
    )?;
    get(conn, id, now)
}

pub fn get(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<LogicalRight> {
    list_where(conn, "l.id = ?1", params![id], now)?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("logical right {id}")))
}

/// Filters: by kind, open only, overdue only (open past the planned end at `now`).
pub fn list(
    conn: &Connection,
    kind: Option<Kind>,
    open_only: bool,
    overdue_only: bool,
    now: DateTime<Utc>,
) -> Result<Vec<LogicalRight>> {
    list_where(
        conn,
        "(?1 IS NULL OR l.kind = ?1) AND (?2 = 0 OR l.status = 'open')
         AND (?3 = 0 OR (l.status = 'open' AND l.planned_until < ?4)) ORDER BY l.id",
        params![kind.map(Kind::as_str), open_only, overdue_only, to_ms(now)],
        now,
    )
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
    now: DateTime<Utc>,
) -> Result<Vec<LogicalRight>> {
    let sql = format!(
        "SELECT l.id, l.kind, l.holder_name, l.instansi, l.username, l.hak_akses, l.tujuan,
                l.planned_from, l.planned_until, l.granted_at, l.closed_at, l.closed_reason,
                l.status, l.request_id, a.username
         FROM logical_right l LEFT JOIN account a ON a.id = l.responsible_id WHERE {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        let planned_until = from_ms(r.get(8)?);
        let status: String = r.get(12)?;
        let closed: Option<i64> = r.get(10)?;
        out.push(LogicalRight {
            id: r.get(0)?,
            kind: Kind::parse(&kind)
                .ok_or_else(|| StoreError::Invalid(format!("unknown kind {kind:?}")))?,
            holder_name: r.get(2)?,
            instansi: r.get(3)?,
            username: r.get(4)?,
            hak_akses: r.get(5)?,
            tujuan: r.get(6)?,
            planned_from: from_ms(r.get(7)?),
            planned_until,
            granted_at: from_ms(r.get(9)?),
            closed_at: closed.map(from_ms),
            closed_reason: r.get(11)?,
            overdue: status == "open" && now > planned_until,
            status,
            request_id: r.get(13)?,
            penanggung_jawab: r.get(14)?,
        });
    }
    Ok(out)
}
