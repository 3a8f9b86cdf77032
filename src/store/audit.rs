//! The audit log: every admin action, with who did it, in which role, and when. Written in
//! the same transaction as the action, so an action without its audit line cannot exist.
//! Lines are hash-chained (see [`super::chain`]): each carries the hash of the one before.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ToSql, params};
use serde::Serialize;

use super::chain::{self, Table};
use super::{Result, from_ms, to_ms};
use crate::model::Actor;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditLine {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub token_id: Option<i64>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub target: Option<String>,
    #[schema(value_type = Object)]
    pub detail: Option<serde_json::Value>,
}

/// Appends a line to the chain. Called inside the action's transaction; on its own (an
/// autocommit connection) it takes a write transaction so that reading the chain's head and
/// appending to it cannot interleave with another writer.
pub fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    if !conn.is_autocommit() {
        return append(conn, actor, action, target, detail, now);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    match append(conn, actor, action, target, detail, now) {
        Ok(()) => Ok(conn.execute_batch("COMMIT")?),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn append(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    target: Option<String>,
    detail: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let (last_id, prev) = chain::last(conn, Table::Audit)?;
    let id = last_id + 1;
    let at = to_ms(now);
    let role = actor.role.as_str();
    let detail = detail.to_string();
    let values: [&dyn ToSql; 8] = [
        &id,
        &at,
        &actor.token_id,
        &actor.name,
        &role,
        &action,
        &target,
        &detail,
    ];
    let hash = chain::hash_row(Table::Audit, &prev, &values)?;
    conn.prepare_cached(
        "INSERT INTO audit (id, at, token_id, actor, role, action, target, detail,
                            prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        at,
        actor.token_id,
        actor.name,
        role,
        action,
        target,
        detail,
        &prev[..],
        &hash[..],
    ])?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// Newest first, paged by id.
pub fn list(conn: &Connection, f: &AuditFilter) -> Result<Vec<AuditLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, token_id, actor, role, action, target, detail FROM audit
         WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![f.from.map(to_ms), f.until.map(to_ms), f.before_id, f.limit],
        |r| {
            let detail: Option<String> = r.get(7)?;
            Ok(AuditLine {
                id: r.get(0)?,
                at: from_ms(r.get(1)?),
                token_id: r.get(2)?,
                actor: r.get(3)?,
                role: r.get(4)?,
                action: r.get(5)?,
                target: r.get(6)?,
                detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
