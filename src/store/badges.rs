//! Badges: physical cards bound to a person, and their lifecycle.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::rights::{self, NewRight, RightView};
use super::{Changed, Result, StoreError, audit, conflict_on_unique, from_ms, to_ms};
use crate::model::{Actor, Credential, CredentialId, CredentialStatus, PersonId, Technology};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBadge {
    pub person_id: PersonId,
    /// Card UID in hex; `:`, `-` and spaces are ignored.
    pub uid: String,
    /// Defaults to `iso14443` (contactless cards read through PC/SC or a PN532).
    #[serde(default)]
    pub technology: Option<Technology>,
    /// The number printed on the card, if any.
    #[serde(default)]
    pub badge_number: Option<String>,
    /// A right to create with the badge (admin import path); omit when the person already
    /// holds the rights this card should open.
    #[serde(default)]
    pub right: Option<NewRight>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Badge {
    pub id: CredentialId,
    pub person_id: PersonId,
    pub person_name: String,
    pub technology: Technology,
    pub uid: String,
    pub badge_number: Option<String>,
    pub status: CredentialStatus,
    pub status_reason: Option<String>,
    pub source: String,
    pub issued_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedBadge {
    pub badge: Badge,
    pub right: Option<RightView>,
}

/// The admin-only direct path, for importing an existing access list: a card and
/// optionally a right, with no request behind them. Marked `direct` in the audit log and
/// in every list and report that shows a source.
pub fn issue(
    conn: &Connection,
    b: &IssueBadge,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(IssuedBadge, Changed)> {
    let tech = b.technology.unwrap_or(Technology::Iso14443);
    let credential =
        Credential::parse_hex(tech, &b.uid).map_err(|e| StoreError::Invalid(e.to_string()))?;
    super::people::get(conn, b.person_id)?;
    if let Some(r) = &b.right {
        rights::validate(r)?;
    }
    let id = bind(
        conn,
        b.person_id,
        credential,
        b.badge_number.as_deref(),
        DIRECT,
        actor,
        now,
    )?;
    let right = match &b.right {
        Some(r) => Some(rights::create(conn, b.person_id, r, DIRECT, actor, now)?.0),
        None => None,
    };
    let mut changed = Changed::credential(credential);
    changed.persons.push(b.person_id);
    Ok((
        IssuedBadge {
            badge: get(conn, id)?,
            right,
        },
        changed,
    ))
}

/// The source of what the admin import path made.
pub const DIRECT: &str = "direct";

/// Binds `credential` to `person`. A card already bound to the same person and active is
/// reused (one card opens all of a holder's rights); bound to anyone else, it is refused.
pub fn bind(
    conn: &Connection,
    person: PersonId,
    credential: Credential,
    badge_number: Option<&str>,
    source: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<CredentialId> {
    let badge_number = super::people::text("badge_number", badge_number)?;
    let live: Option<(CredentialId, PersonId, String)> = conn
        .prepare_cached(
            "SELECT id, person_id, status FROM credential
             WHERE technology = ?1 AND uid = ?2 AND status != 'revoked'",
        )?
        .query_row(
            params![credential.technology().as_str(), credential.uid_hex()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    if let Some((id, holder, status)) = live {
        if holder == person && status == "active" {
            return Ok(id);
        }
        return Err(StoreError::Conflict(format!(
            "card {credential} is already bound to badge {id} ({status}); revoke that badge first"
        )));
    }
    conn.execute(
        "INSERT INTO credential (person_id, technology, uid, badge_number, status, source,
                                 issued_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'active', ?5, ?6, ?6)",
        params![
            person,
            credential.technology().as_str(),
            credential.uid_hex(),
            badge_number,
            source,
            to_ms(now)
        ],
    )
    .map_err(|e| {
        conflict_on_unique(e, || {
            format!("card {credential} is already bound to a badge; revoke that badge first")
        })
    })?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "badge.issue",
        Some(format!("badge:{id}")),
        json!({ "person_id": person, "credential": credential.to_string(), "source": source,
                "path": if source == DIRECT { "direct import (admin)" } else { "workflow" } }),
        now,
    )?;
    Ok(id)
}

/// Moves a badge to `to`. Revoked is final; every other move needs a reason except
/// reactivation.
pub fn set_status(
    conn: &Connection,
    id: CredentialId,
    to: CredentialStatus,
    reason: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Badge, Changed)> {
    let badge = get(conn, id)?;
    if badge.status == CredentialStatus::Revoked {
        return Err(StoreError::Conflict(format!(
            "badge {id} is revoked; issue the card again as a new badge"
        )));
    }
    if badge.status == to {
        return Err(StoreError::Conflict(format!(
            "badge {id} is already {}",
            to.as_str()
        )));
    }
    let reason = match to {
        CredentialStatus::Active => super::people::text("reason", reason)?,
        _ => Some(super::people::required("reason", reason.unwrap_or(""))?),
    };
    conn.execute(
        "UPDATE credential SET status = ?2, status_reason = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, to.as_str(), reason, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        &format!("badge.{}", action_name(to)),
        Some(format!("badge:{id}")),
        json!({ "from": badge.status, "to": to, "reason": reason }),
        now,
    )?;
    let credential = Credential::parse_hex(badge.technology, &badge.uid)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    Ok((get(conn, id)?, Changed::credential(credential)))
}

fn action_name(to: CredentialStatus) -> &'static str {
    match to {
        CredentialStatus::Active => "reactivate",
        CredentialStatus::Suspended => "suspend",
        CredentialStatus::Lost => "report_lost",
        CredentialStatus::Revoked => "revoke",
    }
}

pub fn get(conn: &Connection, id: CredentialId) -> Result<Badge> {
    list_where(conn, "c.id = ?1", params![id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("badge {id}")))
}

pub fn list(
    conn: &Connection,
    person: Option<PersonId>,
    limit: u32,
    after_id: Option<i64>,
) -> Result<Vec<Badge>> {
    list_where(
        conn,
        "(?1 IS NULL OR c.person_id = ?1) AND (?2 IS NULL OR c.id > ?2) ORDER BY c.id LIMIT ?3",
        params![person, after_id, limit],
    )
}

fn list_where(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Badge>> {
    let sql = format!(
        "SELECT c.id, c.person_id, p.name, c.technology, c.uid, c.badge_number, c.status,
                c.status_reason, c.source, c.issued_at, c.updated_at
         FROM credential c JOIN person p ON p.id = c.person_id WHERE {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let tech: String = r.get(3)?;
        let status: String = r.get(6)?;
        out.push(Badge {
            id: r.get(0)?,
            person_id: r.get(1)?,
            person_name: r.get(2)?,
            technology: tech
                .parse()
                .map_err(|e: crate::model::CredentialError| StoreError::Invalid(e.to_string()))?,
            uid: r.get(4)?,
            badge_number: r.get(5)?,
            status: status.parse().map_err(StoreError::Invalid)?,
            status_reason: r.get(7)?,
            source: r.get(8)?,
            issued_at: from_ms(r.get(9)?),
            updated_at: from_ms(r.get(10)?),
        });
    }
    Ok(out)
}
