//! Everything that waits for someone: open steps of requests and removals, undecided review
//! items, accounts still open past their planned end, visits waiting for the head's
//! approval. The inbox of each role and the overdue list (Mutu Baku Waktu) are views of
//! this one list.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;

use super::cases::Stored;
use super::{Result, from_ms};
use crate::model::{Actor, Role};
use crate::workflow::{Kind, due_at, is_overdue};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaitingItem {
    /// `request`, `removal`, `review_item`, `logical_right` or `visit`.
    pub case: &'static str,
    pub id: i64,
    /// The review campaign of a review item.
    pub parent_id: Option<i64>,
    /// What it is about, for a person to read.
    pub title: String,
    pub step: String,
    /// What the step does, for a chain step (requests, removals, visits).
    #[serde(skip)]
    pub step_kind: Option<crate::workflow::StepKind>,
    /// The SOP's words for the step.
    pub label: String,
    pub role: Role,
    /// When the step is addressed to one account: its username.
    pub account: Option<String>,
    #[serde(skip)]
    pub account_id: Option<i64>,
    pub since: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

impl WaitingItem {
    /// Whether the item waits for this actor: their role, and their account when it is
    /// addressed to one.
    pub fn is_for(&self, actor: &Actor) -> bool {
        addressed(self.role, self.account_id, actor)
    }
}

/// Whether a step for `role`, addressed to `account` when one is named, is this actor's.
pub fn addressed(role: Role, account: Option<i64>, actor: &Actor) -> bool {
    role == actor.role && account.is_none_or(|a| actor.account_id == Some(a))
}

pub fn all(conn: &Connection, now: DateTime<Utc>) -> Result<Vec<WaitingItem>> {
    let mut out = Vec::new();
    requests(conn, now, &mut out)?;
    removals(conn, now, &mut out)?;
    review_items(conn, now, &mut out)?;
    open_accounts(conn, now, &mut out)?;
    visits(conn, now, &mut out)?;
    out.sort_by_key(|w| (w.due_at, w.id));
    Ok(out)
}

fn requests(conn: &Connection, now: DateTime<Utc>, out: &mut Vec<WaitingItem>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id, r.kind, r.chain, r.step_index, r.step_since, r.applicant_name,
                r.atasan_id, a.username, r.responsible_id, p.username
         FROM request r LEFT JOIN account a ON a.id = r.atasan_id
              LEFT JOIN account p ON p.id = r.responsible_id
         WHERE r.status = 'open'",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let chain: String = r.get(2)?;
        let stored = Stored::parse("open", &chain, r.get(3)?, r.get(4)?)?;
        let (Some(i), Some(since)) = (stored.waiting, stored.since) else {
            continue;
        };
        let step = &stored.chain.0[i];
        let kind: String = r.get(1)?;
        let label = Kind::parse(&kind).map_or("Permintaan", Kind::label);
        let name: String = r.get(5)?;
        let (account_id, account) = match step.role {
            Role::Atasan => (r.get(6)?, r.get(7)?),
            Role::PenanggungJawab => (r.get(8)?, r.get(9)?),
            _ => (None, None),
        };
        let id: i64 = r.get(0)?;
        out.push(WaitingItem {
            case: "request",
            id,
            parent_id: None,
            title: format!("{label} No. {id}: {name}"),
            step: step.name.clone(),
            step_kind: Some(step.kind),
            label: step.label.clone(),
            role: step.role,
            account,
            account_id,
            since,
            due_at: due_at(step, since),
            overdue: is_overdue(step, since, now),
        });
    }
    Ok(())
}

fn removals(conn: &Connection, now: DateTime<Utc>, out: &mut Vec<WaitingItem>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, chain, step_index, step_since, right_kind, right_id, reason
         FROM removal WHERE status = 'open'",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let chain: String = r.get(1)?;
        let stored = Stored::parse("open", &chain, r.get(2)?, r.get(3)?)?;
        let (Some(i), Some(since)) = (stored.waiting, stored.since) else {
            continue;
        };
        let step = &stored.chain.0[i];
        let id: i64 = r.get(0)?;
        let kind: String = r.get(4)?;
        let right: i64 = r.get(5)?;
        let reason: String = r.get(6)?;
        out.push(WaitingItem {
            case: "removal",
            id,
            parent_id: None,
            title: format!("Permintaan Penghapusan Akses No. {id}: hak {kind} {right} ({reason})"),
            step: step.name.clone(),
            step_kind: Some(step.kind),
            label: step.label.clone(),
            role: step.role,
            account: None,
            account_id: None,
            since,
            due_at: due_at(step, since),
            overdue: is_overdue(step, since, now),
        });
    }
    Ok(())
}

fn review_items(conn: &Connection, now: DateTime<Utc>, out: &mut Vec<WaitingItem>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.review_id, i.holder_name, i.right_kind, i.right_id, i.responsible_id,
                a.username, v.started_at, v.deadline
         FROM review_item i JOIN review v ON v.id = i.review_id
              LEFT JOIN account a ON a.id = i.responsible_id
         WHERE v.status = 'open' AND i.decision IS NULL",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let review: i64 = r.get(1)?;
        let holder: String = r.get(2)?;
        let kind: String = r.get(3)?;
        let right: i64 = r.get(4)?;
        let due = from_ms(r.get(8)?);
        out.push(WaitingItem {
            case: "review_item",
            id: r.get(0)?,
            parent_id: Some(review),
            title: format!("Review Akses No. {review}: hak {kind} {right} milik {holder}"),
            step: "decide".into(),
            step_kind: None,
            label: "Verifikasi dan konfirmasi validitas hak akses".into(),
            role: Role::PenanggungJawab,
            account: r.get(6)?,
            account_id: r.get(5)?,
            since: from_ms(r.get(7)?),
            due_at: due,
            overdue: now > due,
        });
    }
    Ok(())
}

/// An account in another system still open after its planned end: the Operator's to close.
fn open_accounts(conn: &Connection, now: DateTime<Utc>, out: &mut Vec<WaitingItem>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, username, holder_name, granted_at, planned_until
         FROM logical_right WHERE status = 'open' AND planned_until < ?1",
    )?;
    let mut rows = stmt.query([super::to_ms(now)])?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        let username: String = r.get(2)?;
        let holder: String = r.get(3)?;
        let due = from_ms(r.get(5)?);
        out.push(WaitingItem {
            case: "logical_right",
            id: r.get(0)?,
            parent_id: None,
            title: format!("Akun {kind} {username} ({holder})"),
            step: "close".into(),
            step_kind: None,
            label: "Penutupan akun dan pemutakhiran formulir".into(),
            role: Role::Operator,
            account: None,
            account_id: None,
            since: from_ms(r.get(4)?),
            due_at: due,
            overdue: now > due,
        });
    }
    Ok(())
}

/// A visitor at the desk waiting for the head of the facility (procedure 4, step 3).
fn visits(conn: &Connection, now: DateTime<Utc>, out: &mut Vec<WaitingItem>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, nama, instansi, approver_role, approve_within_hours, checked_in_at
         FROM visit WHERE status = 'waiting_approval'",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let nama: String = r.get(1)?;
        let instansi: Option<String> = r.get(2)?;
        let role: String = r.get(3)?;
        let step = crate::visit::approval_step(
            role.parse().map_err(super::StoreError::Invalid)?,
            r.get(4)?,
        );
        let since = from_ms(r.get(5)?);
        out.push(WaitingItem {
            case: "visit",
            id,
            parent_id: None,
            title: match instansi {
                Some(i) => format!("Kunjungan No. {id}: {nama} ({i})"),
                None => format!("Kunjungan No. {id}: {nama}"),
            },
            step: step.name.clone(),
            step_kind: Some(step.kind),
            label: step.label.clone(),
            role: step.role,
            account: None,
            account_id: None,
            since,
            due_at: due_at(&step, since),
            overdue: is_overdue(&step, since, now),
        });
    }
    Ok(())
}
