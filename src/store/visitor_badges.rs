//! The desk's pool of visitor badges (tanda pengenal khusus): physical cards with a number
//! printed on them. A card opens nothing by itself; it is bound to one visit at a time (see
//! `store::visits`), and one reported lost stays out of the pool until it is found.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::people::{required, text};
use super::{Changed, Result, StoreError, audit, conflict_on_unique, from_ms, to_ms};
use crate::model::{Actor, Credential, CredentialStatus, Technology};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolStatus {
    /// At the desk, free for the next visit.
    Available,
    /// Out with a visit.
    Issued,
    /// Not handed back: blocked at every door.
    Lost,
    /// Taken out of use.
    Retired,
}

impl PoolStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolStatus::Available => "available",
            PoolStatus::Issued => "issued",
            PoolStatus::Lost => "lost",
            PoolStatus::Retired => "retired",
        }
    }

    fn parse(s: &str) -> Result<PoolStatus> {
        [
            PoolStatus::Available,
            PoolStatus::Issued,
            PoolStatus::Lost,
            PoolStatus::Retired,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
        .ok_or_else(|| StoreError::Invalid(format!("unknown visitor badge status {s:?}")))
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitorBadge {
    pub id: i64,
    pub badge_number: String,
    pub technology: Technology,
    pub uid: String,
    pub status: PoolStatus,
    pub note: Option<String>,
    /// The visit it is out with, while issued; the visit it was lost on, while lost.
    pub visit_id: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

impl VisitorBadge {
    pub fn credential(&self) -> Result<Credential> {
        Credential::parse_hex(self.technology, &self.uid)
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisitorBadge {
    /// The number printed on the card, e.g. `V-01`.
    pub badge_number: String,
    /// Card UID in hex; `:`, `-` and spaces are ignored. Or `enroll_reader`.
    #[serde(default)]
    pub uid: Option<String>,
    /// A desk reader (`purpose = "enrollment"`): the call waits for the next card presented
    /// on it and adds that card.
    #[serde(default)]
    pub enroll_reader: Option<String>,
    /// How long to wait for the card, 1-120 seconds (default 30); 408 when none came.
    #[serde(default)]
    pub enroll_timeout_seconds: Option<u64>,
    /// With `uid`: defaults to `iso14443`. With `enroll_reader` the reader says.
    #[serde(default)]
    pub technology: Option<Technology>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Refuses a badge number already in the pool, before anyone presents a card for it.
pub fn check_number(conn: &Connection, number: &str) -> Result<()> {
    let number = required("badge_number", number)?;
    let taken: Option<i64> = conn
        .prepare_cached("SELECT id FROM visitor_badge WHERE badge_number = ?1")?
        .query_row([&number], |r| r.get(0))
        .optional()?;
    match taken {
        Some(id) => Err(StoreError::Conflict(format!(
            "visitor badge {number:?} is already in the pool (id {id})"
        ))),
        None => Ok(()),
    }
}

/// Adds a card to the pool. A card bound to a staff badge cannot also be a visitor badge.
pub fn add(
    conn: &Connection,
    b: &NewVisitorBadge,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<VisitorBadge> {
    let number = required("badge_number", &b.badge_number)?;
    let tech = b.technology.unwrap_or(Technology::Iso14443);
    let uid = b
        .uid
        .as_deref()
        .ok_or_else(|| StoreError::Invalid("uid is required".into()))?;
    let credential =
        Credential::parse_hex(tech, uid).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let bound: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM credential WHERE technology = ?1 AND uid = ?2 AND status != 'revoked'",
        )?
        .query_row(params![tech.as_str(), credential.uid_hex()], |r| r.get(0))
        .optional()?;
    if let Some(badge) = bound {
        return Err(StoreError::Conflict(format!(
            "card {credential} is bound to badge {badge}; revoke that badge before it joins the visitor badges"
        )));
    }
    conn.execute(
        "INSERT INTO visitor_badge (badge_number, technology, uid, status, note, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'available', ?4, ?5, ?5)",
        params![
            number,
            tech.as_str(),
            credential.uid_hex(),
            text("note", b.note.as_deref())?,
            to_ms(now)
        ],
    )
    .map_err(|e| {
        conflict_on_unique(e, || {
            format!("visitor badge {number:?} or card {credential} is already in the pool")
        })
    })?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "visitor_badge.add",
        Some(format!("visitor_badge:{id}")),
        json!({ "badge_number": number, "credential": credential.to_string() }),
        now,
    )?;
    get(conn, id)
}

/// Puts a card back in use (`available`: a lost card found, a retired one brought back) or
/// takes it out (`retired`). A card out with a visit comes back only through its check-out.
pub fn set_status(
    conn: &Connection,
    id: i64,
    to: PoolStatus,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(VisitorBadge, Changed)> {
    let reason = required("reason", reason)?;
    let badge = get(conn, id)?;
    let mut changed = Changed::none();
    match (badge.status, to) {
        (PoolStatus::Issued, _) => {
            return Err(StoreError::Conflict(format!(
                "visitor badge {} is out with visit {}; it comes back when that visit is checked out",
                badge.badge_number,
                badge.visit_id.unwrap_or_default()
            )));
        }
        (from, to) if from == to => {
            return Err(StoreError::Conflict(format!(
                "visitor badge {} is already {}",
                badge.badge_number,
                to.as_str()
            )));
        }
        (_, PoolStatus::Available | PoolStatus::Retired) => {}
        (_, other) => {
            return Err(StoreError::Invalid(format!(
                "a visitor badge is set available or retired here, not {}",
                other.as_str()
            )));
        }
    }
    // A found card's lost credential is withdrawn, so the card can be bound again.
    let lost: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM credential WHERE technology = ?1 AND uid = ?2 AND status = 'lost'",
        )?
        .query_row(params![badge.technology.as_str(), badge.uid], |r| r.get(0))
        .optional()?;
    if let Some(credential) = lost {
        let (_, c) = super::badges::set_status(
            conn,
            credential,
            CredentialStatus::Revoked,
            Some(&format!(
                "kartu tamu {} ditemukan kembali",
                badge.badge_number
            )),
            actor,
            now,
        )?;
        changed = c;
    }
    conn.execute(
        "UPDATE visitor_badge SET status = ?2, note = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, to.as_str(), reason, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "visitor_badge.status",
        Some(format!("visitor_badge:{id}")),
        json!({ "from": badge.status, "to": to, "reason": reason }),
        now,
    )?;
    Ok((get(conn, id)?, changed))
}

/// Marks a card issued, available again or lost as a visit takes or returns it.
pub(crate) fn mark(conn: &Connection, id: i64, to: PoolStatus, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE visitor_badge SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, to.as_str(), to_ms(now)],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: i64) -> Result<VisitorBadge> {
    list_where(conn, "b.id = ?1", params![id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("visitor badge {id}")))
}

/// The card with this printed number, or a clear "not found".
pub fn by_number(conn: &Connection, number: &str) -> Result<VisitorBadge> {
    list_where(conn, "b.badge_number = ?1", params![number.trim()])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("visitor badge {:?}", number.trim())))
}

/// The free card with the lowest number, for a desk that does not say which.
pub fn first_available(conn: &Connection) -> Result<VisitorBadge> {
    list_where(
        conn,
        "b.status = 'available' ORDER BY length(b.badge_number), b.badge_number LIMIT 1",
        [],
    )?
    .pop()
    .ok_or_else(|| {
        StoreError::Conflict(
            "no visitor badge is free: every card is out, lost or retired; add cards with POST /visitor-badges"
                .into(),
        )
    })
}

pub fn list(conn: &Connection, status: Option<PoolStatus>) -> Result<Vec<VisitorBadge>> {
    list_where(
        conn,
        "(?1 IS NULL OR b.status = ?1) ORDER BY length(b.badge_number), b.badge_number",
        params![status.map(PoolStatus::as_str)],
    )
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<VisitorBadge>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT b.id, b.badge_number, b.technology, b.uid, b.status, b.note, b.updated_at,
                (SELECT v.id FROM visit v WHERE v.badge_id = b.id
                   AND (v.status = 'active' OR v.badge_outcome = 'lost')
                 ORDER BY v.id DESC LIMIT 1)
         FROM visitor_badge b WHERE {filter}"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let tech: String = r.get(2)?;
        let status: String = r.get(4)?;
        let status = PoolStatus::parse(&status)?;
        let visit: Option<i64> = r.get(7)?;
        out.push(VisitorBadge {
            id: r.get(0)?,
            badge_number: r.get(1)?,
            technology: tech
                .parse()
                .map_err(|e: crate::model::CredentialError| StoreError::Invalid(e.to_string()))?,
            uid: r.get(3)?,
            note: r.get(5)?,
            updated_at: from_ms(r.get(6)?),
            visit_id: visit.filter(|_| matches!(status, PoolStatus::Issued | PoolStatus::Lost)),
            status,
        });
    }
    Ok(out)
}
