//! Removals (Permintaan Penghapusan Akses, procedure 3): the penanggung jawab files, the
//! Kasi records and forwards, the Administrator deactivates (the door refuses the card from
//! that moment), the Kasi updates the list and the penanggung jawab is told.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::cases::{self, CaseType, HistoryEntry, Stored, WaitingStep};
use super::notices::{self, To};
use super::requests::Ctx;
use super::{Changed, Result, StoreError, audit, from_ms, logical, rights, to_ms};
use crate::model::{Actor, Role};
use crate::workflow::texts;
use crate::workflow::{CaseState, CaseStatus, Step, StepKind, after, check};

/// Which kind of right a removal or review item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightKind {
    /// A right at the door (`/api/v1/rights`).
    Door,
    /// An account in another system (`/api/v1/logical-rights`).
    Logical,
}

impl RightKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RightKind::Door => "door",
            RightKind::Logical => "logical",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "door" => Some(RightKind::Door),
            "logical" => Some(RightKind::Logical),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRemoval {
    pub right_kind: RightKind,
    pub right_id: i64,
    /// Why the right is no longer valid.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RemovalView {
    pub id: i64,
    pub status: CaseStatus,
    pub waiting: Option<WaitingStep>,
    pub right_kind: RightKind,
    pub right_id: i64,
    /// Whose right it is, for the form.
    pub holder_name: String,
    pub reason: String,
    /// `manual`, or `review:N` for a right a review campaign found not valid.
    pub source: String,
    pub filed_by: Option<String>,
    pub steps: Vec<Step>,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
}

/// The holder's name and whether the right is still in force.
fn right_state(conn: &Connection, kind: RightKind, id: i64) -> Result<(String, bool)> {
    let sql = match kind {
        RightKind::Door => {
            "SELECT p.name, r.status = 'active' FROM access_right r JOIN person p ON p.id = r.person_id
             WHERE r.id = ?1"
        }
        RightKind::Logical => {
            "SELECT holder_name || ' (' || username || ')', status = 'open' FROM logical_right WHERE id = ?1"
        }
    };
    conn.prepare_cached(sql)?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("{} right {id}", kind.as_str())))
}

pub fn create(
    conn: &Connection,
    ctx: Ctx,
    r: &NewRemoval,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RemovalView> {
    let reason = cases::note(Some(&r.reason), true, "reason")?.unwrap_or_default();
    let (_, live) = right_state(conn, r.right_kind, r.right_id)?;
    if !live {
        return Err(StoreError::Conflict(format!(
            "{} right {} is already removed",
            r.right_kind.as_str(),
            r.right_id
        )));
    }
    let pending: Option<i64> = conn
        .query_row(
            "SELECT id FROM removal WHERE right_kind = ?1 AND right_id = ?2 AND status = 'open'",
            params![r.right_kind.as_str(), r.right_id],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(p) = pending {
        return Err(StoreError::Conflict(format!(
            "removal {p} for this right is already in progress"
        )));
    }
    let chain = serde_json::to_string(&ctx.workflow.removal)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO removal (status, chain, step_index, step_since, right_kind, right_id, reason,
                              source, created_by, created_at, updated_at)
         VALUES ('open', ?1, 0, ?2, ?3, ?4, ?5, 'manual', ?6, ?2, ?2)",
        params![
            chain,
            to_ms(now),
            r.right_kind.as_str(),
            r.right_id,
            reason,
            actor.account_id
        ],
    )?;
    let id = conn.last_insert_rowid();
    cases::record(
        conn,
        CaseType::Removal,
        id,
        "file",
        "filed",
        actor,
        Some(&reason),
        now,
    )?;
    audit::record(
        conn,
        actor,
        "removal.file",
        Some(format!("removal:{id}")),
        json!({ "right_kind": r.right_kind, "right_id": r.right_id, "reason": reason }),
        now,
    )?;
    let view = get(conn, id, now)?;
    notify_waiting(conn, ctx.tz, &view, now)?;
    Ok(view)
}

fn load(conn: &Connection, id: i64) -> Result<Stored> {
    let (status, chain, index, since): (String, String, Option<i64>, Option<i64>) = conn
        .prepare_cached("SELECT status, chain, step_index, step_since FROM removal WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("removal {id}")))?;
    Stored::parse(&status, &chain, index, since)
}

/// Does step `step` (of kind `kind`) of removal `id`, then moves it on.
#[allow(clippy::too_many_arguments)]
pub fn act(
    conn: &Connection,
    tz: Tz,
    id: i64,
    step: Option<&str>,
    kind: StepKind,
    approve: bool,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(RemovalView, Changed)> {
    let note = cases::note(note, !approve, "a reason for the refusal (note)")?;
    let stored = load(conn, id)?;
    // Deactivate and confirm are named by their kind, in the chain the removal was filed with.
    let step = match step {
        Some(s) => s.to_owned(),
        None => stored
            .chain
            .0
            .iter()
            .find(|s| s.kind == kind)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    };
    let step = step.as_str();
    let name = format!("removal {id}");
    let case = CaseState {
        name: &name,
        status: stored.status,
        waiting: stored.waiting,
        chain: &stored.chain.0,
        addressed: &[],
    };
    let index = check(&case, step, kind, actor)?;
    let before = get(conn, id, now)?;
    let mut changed = Changed::none();
    let outcome = match (kind, approve) {
        (StepKind::Deactivate, _) => {
            let why = format!("penghapusan akses No. {id}: {}", before.reason);
            changed = deactivate(conn, before.right_kind, before.right_id, &why, actor, now)?;
            "deactivated"
        }
        (StepKind::Inform, _) => "informed",
        (_, true) => "approved",
        (_, false) => "rejected",
    };
    cases::advance(
        conn,
        CaseType::Removal,
        id,
        after(&stored.chain.0, index, approve),
        now,
    )?;
    cases::record(
        conn,
        CaseType::Removal,
        id,
        step,
        outcome,
        actor,
        note.as_deref(),
        now,
    )?;
    audit::record(
        conn,
        actor,
        &format!("removal.{step}"),
        Some(format!("removal:{id}")),
        json!({ "outcome": outcome, "note": note }),
        now,
    )?;
    let view = get(conn, id, now)?;
    if view.status == CaseStatus::Completed {
        let filer: Option<i64> =
            conn.query_row("SELECT created_by FROM removal WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
        // Step 7: the penanggung jawab who filed receives the status.
        let to = match filer {
            Some(a) => To::Account(a),
            None => To::Role(Role::PenanggungJawab),
        };
        let text = texts::removal_done(id, &format!("hak akses {}", view.holder_name));
        notices::send(conn, &[to], &text, now)?;
    } else {
        notify_waiting(conn, tz, &view, now)?;
    }
    Ok((view, changed))
}

/// Ends a right at once: a door right is removed (refused at the next tap), a logical right
/// is recorded closed.
fn deactivate(
    conn: &Connection,
    kind: RightKind,
    id: i64,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Changed> {
    match kind {
        RightKind::Door => Ok(rights::remove(conn, id, reason, actor, now)?.1),
        RightKind::Logical => {
            logical::close(conn, id, reason, actor, now)?;
            Ok(Changed::none())
        }
    }
}

/// A removal decided elsewhere (a review campaign's close): recorded as a completed
/// procedure 3 case so the removal form lists it, and the right ended now.
#[allow(clippy::too_many_arguments)]
pub fn record_completed(
    conn: &Connection,
    ctx: Ctx,
    kind: RightKind,
    right_id: i64,
    reason: &str,
    source: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Changed> {
    let chain = serde_json::to_string(&ctx.workflow.removal)
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.execute(
        "INSERT INTO removal (status, chain, step_index, step_since, right_kind, right_id, reason,
                              source, created_by, created_at, updated_at)
         VALUES ('completed', ?1, NULL, NULL, ?2, ?3, ?4, ?5, NULL, ?6, ?6)",
        params![chain, kind.as_str(), right_id, reason, source, to_ms(now)],
    )?;
    let id = conn.last_insert_rowid();
    let changed = deactivate(
        conn,
        kind,
        right_id,
        &format!("{source}: {reason}"),
        actor,
        now,
    )?;
    cases::record(
        conn,
        CaseType::Removal,
        id,
        "deactivate",
        "deactivated",
        actor,
        Some(reason),
        now,
    )?;
    Ok(changed)
}

fn notify_waiting(conn: &Connection, tz: Tz, view: &RemovalView, now: DateTime<Utc>) -> Result<()> {
    let Some(w) = &view.waiting else {
        return Ok(());
    };
    let about = format!("hak akses {}: {}", view.holder_name, view.reason);
    let text = texts::step_waiting(
        "Permintaan Penghapusan Akses",
        view.id,
        &about,
        &w.step,
        w.due_at,
        tz,
    );
    notices::send(conn, &[To::Role(w.step.role)], &text, now)
}

pub fn get(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<RemovalView> {
    list_where(conn, "m.id = ?1", params![id], now)?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("removal {id}")))
}

pub fn list(
    conn: &Connection,
    status: Option<CaseStatus>,
    now: DateTime<Utc>,
) -> Result<Vec<RemovalView>> {
    list_where(
        conn,
        "(?1 IS NULL OR m.status = ?1) ORDER BY m.id",
        params![status.map(CaseStatus::as_str)],
        now,
    )
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
    now: DateTime<Utc>,
) -> Result<Vec<RemovalView>> {
    let sql = format!(
        "SELECT m.id, m.status, m.chain, m.step_index, m.step_since, m.right_kind, m.right_id,
                m.reason, m.source, a.username, m.created_at
         FROM removal m LEFT JOIN account a ON a.id = m.created_by WHERE {filter}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let status: String = r.get(1)?;
        let chain: String = r.get(2)?;
        let stored = Stored::parse(&status, &chain, r.get(3)?, r.get(4)?)?;
        let kind: String = r.get(5)?;
        let right_kind = RightKind::parse(&kind)
            .ok_or_else(|| StoreError::Invalid(format!("unknown right kind {kind:?}")))?;
        let right_id: i64 = r.get(6)?;
        out.push(RemovalView {
            id: r.get(0)?,
            status: stored.status,
            waiting: stored.waiting_step(now),
            right_kind,
            right_id,
            holder_name: String::new(),
            reason: r.get(7)?,
            source: r.get(8)?,
            filed_by: r.get(9)?,
            steps: stored.chain.0.clone(),
            history: vec![],
            created_at: from_ms(r.get(10)?),
        });
    }
    for v in &mut out {
        v.holder_name = right_state(conn, v.right_kind, v.right_id)?.0;
        v.history = cases::history(conn, CaseType::Removal, v.id)?;
    }
    Ok(out)
}
