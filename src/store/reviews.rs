//! Review campaigns (Review Akses, procedure 2): the Kasi starts one, the access list is
//! frozen into items, each penanggung jawab marks their items valid or not valid, and at
//! close the rights found not valid are removed at once (as procedure 3 cases) and the
//! undecided ones get the configured default, recorded as such.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::notices::{self, To};
use super::removals::{self, RightKind};
use super::requests::Ctx;
use super::{Changed, Result, StoreError, audit, from_ms, to_ms};
use crate::config::Undecided;
use crate::model::{Actor, Role};
use crate::workflow::{WorkflowError, texts};

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReview {
    /// Defaults to `Review Akses <date>`.
    #[serde(default)]
    pub title: Option<String>,
    /// Defaults to now + `workflow.review.decide_within_days`.
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
    /// Defaults to `workflow.review.default_undecided`.
    #[serde(default)]
    pub default_undecided: Option<Undecided>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// Masih valid: keep.
    Valid,
    /// Tidak valid: remove at close.
    NotValid,
}

impl Validity {
    fn as_str(self) -> &'static str {
        match self {
            Validity::Valid => "valid",
            Validity::NotValid => "not_valid",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub id: i64,
    pub right_kind: RightKind,
    pub right_id: i64,
    pub holder_name: String,
    /// The right as it was when the campaign started.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    pub penanggung_jawab: Option<String>,
    /// The penanggung jawab's account, who alone may decide the item (anyone in the role
    /// when `None`).
    #[serde(skip)]
    pub responsible_id: Option<i64>,
    pub decision: Option<Validity>,
    pub comment: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    /// At close: `kept` or `removed`.
    pub outcome: Option<String>,
    pub outcome_note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    pub id: i64,
    pub title: String,
    /// `open` or `closed`.
    pub status: String,
    pub default_undecided: Undecided,
    pub started_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub started_by: String,
    pub total: usize,
    pub valid: usize,
    pub not_valid: usize,
    pub undecided: usize,
    pub items: Vec<ReviewItem>,
}

/// Starts a campaign over the access list as it is now. `period_key` marks a scheduled
/// campaign so the scheduler starts each period's campaign once.
pub fn start(
    conn: &Connection,
    ctx: Ctx,
    r: &NewReview,
    period_key: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Review> {
    let open: Option<i64> = conn
        .query_row("SELECT id FROM review WHERE status = 'open'", [], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(id) = open {
        return Err(StoreError::Conflict(format!(
            "review {id} is still open; close it before starting another"
        )));
    }
    let cfg = &ctx.workflow.review;
    let deadline = r
        .deadline
        .unwrap_or(now + Duration::days(i64::from(cfg.decide_within_days)));
    if deadline <= now || deadline > now + Duration::days(366) {
        return Err(StoreError::Invalid(
            "deadline must be in the future and within a year".into(),
        ));
    }
    let title = match super::people::text("title", r.title.as_deref())? {
        Some(t) => t,
        None => format!("Review Akses {}", texts::local(now, ctx.tz)),
    };
    let default = r.default_undecided.unwrap_or(cfg.default_undecided);
    conn.execute(
        "INSERT INTO review (title, status, default_undecided, started_at, deadline, period_key,
                             started_by, created_at)
         VALUES (?1, 'open', ?2, ?3, ?4, ?5, ?6, ?3)",
        params![
            title,
            default.as_str(),
            to_ms(now),
            to_ms(deadline),
            period_key,
            actor.name
        ],
    )?;
    let id = conn.last_insert_rowid();
    freeze(conn, id, now)?;
    audit::record(
        conn,
        actor,
        "review.start",
        Some(format!("review:{id}")),
        json!({ "title": title, "deadline": deadline, "default_undecided": default }),
        now,
    )?;
    let review = get(conn, id)?;
    notify_reviewers(conn, ctx, &review, now)?;
    Ok(review)
}

/// One item per right in force now: door rights not removed and not expired, open accounts.
fn freeze(conn: &Connection, review: i64, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "INSERT INTO review_item (review_id, right_kind, right_id, holder_name, summary, responsible_id)
         SELECT ?1, 'door', r.id, p.name,
                json_object('doors', (SELECT json_group_array(d.name) FROM access_right_door x
                                      JOIN door d ON d.id = x.door_id WHERE x.right_id = r.id),
                            'valid_from', r.valid_from, 'valid_until', r.valid_until,
                            'source', r.source, 'unit', p.unit),
                r.responsible_id
         FROM access_right r JOIN person p ON p.id = r.person_id
         WHERE r.status = 'active' AND r.valid_until > ?2 ORDER BY r.id",
        params![review, to_ms(now)],
    )?;
    conn.execute(
        "INSERT INTO review_item (review_id, right_kind, right_id, holder_name, summary, responsible_id)
         SELECT ?1, 'logical', l.id, l.holder_name,
                json_object('kind', l.kind, 'username', l.username, 'hak_akses', l.hak_akses,
                            'instansi', l.instansi, 'planned_until', l.planned_until),
                l.responsible_id
         FROM logical_right l WHERE l.status = 'open' ORDER BY l.id",
        params![review],
    )?;
    Ok(())
}

fn notify_reviewers(
    conn: &Connection,
    ctx: Ctx,
    review: &Review,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut per: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT responsible_id FROM review_item WHERE review_id = ?1 AND decision IS NULL",
    )?;
    for who in stmt.query_map([review.id], |r| r.get::<_, Option<i64>>(0))? {
        *per.entry(who?).or_default() += 1;
    }
    for (who, n) in per {
        let to = match who {
            Some(a) => To::Account(a),
            None => To::Role(Role::PenanggungJawab),
        };
        let text = texts::review_waiting(review.id, &review.title, n, review.deadline, ctx.tz);
        notices::send(conn, &[to], &text, now)?;
    }
    Ok(())
}

/// A penanggung jawab's decision on one item; may be changed until the campaign closes.
pub fn decide(
    conn: &Connection,
    review: i64,
    item: i64,
    decision: Validity,
    comment: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<ReviewItem> {
    let comment = super::cases::note(comment, false, "comment")?;
    let r = get_head(conn, review)?;
    let found = r_item(conn, review, item)?;
    if let Some(owner) = found.1
        && actor.account_id != Some(owner)
    {
        return Err(WorkflowError::NotAddressee {
            case: format!("review {review}"),
            step: format!("item {item}"),
            role: Role::PenanggungJawab,
        }
        .into());
    }
    if r.status != "open" {
        return Err(StoreError::Conflict(format!(
            "review {review} is closed; its decisions are final"
        )));
    }
    conn.execute(
        "UPDATE review_item SET decision = ?2, comment = ?3, decided_at = ?4, decided_by = ?5
         WHERE id = ?1",
        params![item, decision.as_str(), comment, to_ms(now), actor.name],
    )?;
    audit::record(
        conn,
        actor,
        "review.decide",
        Some(format!("review:{review}/item:{item}")),
        json!({ "decision": decision, "comment": comment }),
        now,
    )?;
    items(conn, "i.id = ?1", params![item])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("review item {item}")))
}

fn r_item(conn: &Connection, review: i64, item: i64) -> Result<(i64, Option<i64>)> {
    conn.prepare_cached(
        "SELECT id, responsible_id FROM review_item WHERE id = ?1 AND review_id = ?2",
    )?
    .query_row(params![item, review], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("item {item} of review {review}")))
}

/// Closes the campaign: not valid → removed now; undecided → the campaign's default.
pub fn close(
    conn: &Connection,
    ctx: Ctx,
    review: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Review, Changed)> {
    let r = get(conn, review)?;
    if r.status != "open" {
        return Err(StoreError::Conflict(format!(
            "review {review} is already closed"
        )));
    }
    let mut changed = Changed::none();
    let (mut kept, mut removed) = (0, 0);
    for item in &r.items {
        let (remove, note) = match (item.decision, r.default_undecided) {
            (Some(Validity::NotValid), _) => (true, None),
            (Some(Validity::Valid), _) => (false, None),
            (None, Undecided::Keep) => (
                false,
                Some("tidak diputuskan; dipertahankan sesuai ketentuan review"),
            ),
            (None, Undecided::Remove) => (
                true,
                Some("tidak diputuskan; dihapus sesuai ketentuan review"),
            ),
        };
        let outcome = if remove {
            let still_live = live(conn, item.right_kind, item.right_id)?;
            if still_live {
                let reason = item
                    .comment
                    .clone()
                    .or(note.map(str::to_owned))
                    .unwrap_or_else(|| "tidak valid menurut review".into());
                let c = removals::record_completed(
                    conn,
                    ctx,
                    item.right_kind,
                    item.right_id,
                    &reason,
                    &format!("review:{review}"),
                    actor,
                    now,
                )?;
                changed.persons.extend(c.persons);
                changed.credentials.extend(c.credentials);
            }
            removed += 1;
            "removed"
        } else {
            kept += 1;
            "kept"
        };
        conn.execute(
            "UPDATE review_item SET outcome = ?2, outcome_note = ?3 WHERE id = ?1",
            params![item.id, outcome, note],
        )?;
    }
    conn.execute(
        "UPDATE review SET status = 'closed', closed_at = ?2 WHERE id = ?1",
        params![review, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "review.close",
        Some(format!("review:{review}")),
        json!({ "kept": kept, "removed": removed, "undecided": r.undecided,
                "default_undecided": r.default_undecided }),
        now,
    )?;
    Ok((get(conn, review)?, changed))
}

fn live(conn: &Connection, kind: RightKind, id: i64) -> Result<bool> {
    let sql = match kind {
        RightKind::Door => "SELECT status = 'active' FROM access_right WHERE id = ?1",
        RightKind::Logical => "SELECT status = 'open' FROM logical_right WHERE id = ?1",
    };
    Ok(conn
        .query_row(sql, [id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// Open campaigns whose deadline has passed, for the scheduler to close.
pub fn past_deadline(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM review WHERE status = 'open' AND deadline <= ?1")?;
    let rows = stmt.query_map([to_ms(now)], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn period_started(conn: &Connection, key: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM review WHERE period_key = ?1)",
        [key],
        |r| r.get(0),
    )?)
}

fn get_head(conn: &Connection, id: i64) -> Result<Review> {
    heads(conn, "id = ?1", params![id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("review {id}")))
}

pub fn get(conn: &Connection, id: i64) -> Result<Review> {
    let mut r = get_head(conn, id)?;
    r.items = items(conn, "i.review_id = ?1 ORDER BY i.id", params![id])?;
    r.total = r.items.len();
    r.valid = r
        .items
        .iter()
        .filter(|i| i.decision == Some(Validity::Valid))
        .count();
    r.not_valid = r
        .items
        .iter()
        .filter(|i| i.decision == Some(Validity::NotValid))
        .count();
    r.undecided = r.items.iter().filter(|i| i.decision.is_none()).count();
    Ok(r)
}

/// Campaigns without their items, newest first.
pub fn list(conn: &Connection) -> Result<Vec<Review>> {
    heads(conn, "1 = 1 ORDER BY id DESC", [])
}

fn heads(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Review>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, title, status, default_undecided, started_at, deadline, closed_at, started_by
         FROM review WHERE {filter}"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let default: String = r.get(3)?;
        let closed: Option<i64> = r.get(6)?;
        out.push(Review {
            id: r.get(0)?,
            title: r.get(1)?,
            status: r.get(2)?,
            default_undecided: if default == "remove" {
                Undecided::Remove
            } else {
                Undecided::Keep
            },
            started_at: from_ms(r.get(4)?),
            deadline: from_ms(r.get(5)?),
            closed_at: closed.map(from_ms),
            started_by: r.get(7)?,
            total: 0,
            valid: 0,
            not_valid: 0,
            undecided: 0,
            items: vec![],
        });
    }
    Ok(out)
}

fn items(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<ReviewItem>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.id, i.right_kind, i.right_id, i.holder_name, i.summary, a.username, i.decision,
                i.comment, i.decided_at, i.decided_by, i.outcome, i.outcome_note, i.responsible_id
         FROM review_item i LEFT JOIN account a ON a.id = i.responsible_id WHERE {filter}"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        let summary: String = r.get(4)?;
        let decision: Option<String> = r.get(6)?;
        let decided_at: Option<i64> = r.get(8)?;
        out.push(ReviewItem {
            id: r.get(0)?,
            right_kind: RightKind::parse(&kind)
                .ok_or_else(|| StoreError::Invalid(format!("unknown right kind {kind:?}")))?,
            right_id: r.get(2)?,
            holder_name: r.get(3)?,
            summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
            penanggung_jawab: r.get(5)?,
            responsible_id: r.get(12)?,
            decision: decision.map(|d| {
                if d == "valid" {
                    Validity::Valid
                } else {
                    Validity::NotValid
                }
            }),
            comment: r.get(7)?,
            decided_at: decided_at.map(from_ms),
            decided_by: r.get(9)?,
            outcome: r.get(10)?,
            outcome_note: r.get(11)?,
        });
    }
    Ok(out)
}
