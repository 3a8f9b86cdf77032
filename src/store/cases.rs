//! What requests and removals share: moving a case along its chain, its history, and
//! recording who did each step.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;

use super::{Result, StoreError, from_ms, to_ms};
use crate::model::Actor;
use crate::workflow::{CaseStatus, Chain, Next, Step, due_at, is_overdue};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseType {
    Request,
    Removal,
}

impl CaseType {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseType::Request => "request",
            CaseType::Removal => "removal",
        }
    }
}

/// One line of a case's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub step: String,
    /// `submitted`, `approved`, `rejected`, `issued`, `granted`, `deactivated`, `informed`,
    /// `withdrawn`, `filed`.
    pub outcome: String,
    pub actor: String,
    pub role: String,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// The step a case waits on, with its time standard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaitingStep {
    #[serde(flatten)]
    pub step: Step,
    pub since: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub overdue: bool,
}

impl WaitingStep {
    pub fn new(step: &Step, since: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        WaitingStep {
            step: step.clone(),
            since,
            due_at: due_at(step, since),
            overdue: is_overdue(step, since, now),
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &Connection,
    case: CaseType,
    id: i64,
    step: &str,
    outcome: &str,
    actor: &Actor,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO workflow_history (case_type, case_id, step, outcome, actor, role, account_id,
                                       token_id, note, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        case.as_str(),
        id,
        step,
        outcome,
        actor.name,
        actor.role.as_str(),
        actor.account_id,
        actor.token_id,
        note,
        to_ms(now)
    ])?;
    Ok(())
}

pub fn history(conn: &Connection, case: CaseType, id: i64) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT step, outcome, actor, role, note, at FROM workflow_history
         WHERE case_type = ?1 AND case_id = ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![case.as_str(), id], |r| {
        Ok(HistoryEntry {
            step: r.get(0)?,
            outcome: r.get(1)?,
            actor: r.get(2)?,
            role: r.get(3)?,
            note: r.get(4)?,
            at: from_ms(r.get(5)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Moves a case on after step `index`: to the next step (waiting from `now`) or to its end.
pub fn advance(
    conn: &Connection,
    case: CaseType,
    id: i64,
    next: Next,
    now: DateTime<Utc>,
) -> Result<()> {
    let (status, index) = match next {
        Next::Step(i) => (CaseStatus::Open, Some(i as i64)),
        Next::Done(s) => (s, None),
    };
    let since = index.map(|_| to_ms(now));
    conn.execute(
        &format!(
            "UPDATE {} SET status = ?2, step_index = ?3, step_since = ?4, updated_at = ?5
             WHERE id = ?1",
            // The case type is its table's name.
            case.as_str()
        ),
        params![id, status.as_str(), index, since, to_ms(now)],
    )?;
    Ok(())
}

/// The stored state columns of a case, parsed.
pub struct Stored {
    pub status: CaseStatus,
    pub chain: Chain,
    pub waiting: Option<usize>,
    pub since: Option<DateTime<Utc>>,
}

impl Stored {
    pub fn parse(
        status: &str,
        chain: &str,
        index: Option<i64>,
        since: Option<i64>,
    ) -> Result<Stored> {
        let status = CaseStatus::parse(status)
            .ok_or_else(|| StoreError::Invalid(format!("unknown case status {status:?}")))?;
        let chain: Chain = serde_json::from_str(chain)
            .map_err(|e| StoreError::Invalid(format!("stored chain: {e}")))?;
        let waiting = index
            .and_then(|i| usize::try_from(i).ok())
            .filter(|i| *i < chain.0.len());
        Ok(Stored {
            status,
            chain,
            waiting,
            since: since.map(from_ms),
        })
    }

    pub fn waiting_step(&self, now: DateTime<Utc>) -> Option<WaitingStep> {
        let step = &self.chain.0[self.waiting?];
        Some(WaitingStep::new(step, self.since?, now))
    }
}

/// A free-text note: trimmed, bounded; required when `required`.
pub fn note(value: Option<&str>, required: bool, what: &str) -> Result<Option<String>> {
    const MAX: usize = 1000;
    let v = value.map(str::trim).filter(|v| !v.is_empty());
    match v {
        None if required => Err(StoreError::Invalid(format!("{what} is required"))),
        None => Ok(None),
        Some(v) if v.chars().count() > MAX => Err(StoreError::Invalid(format!(
            "{what} is at most {MAX} characters"
        ))),
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n') => Err(StoreError::Invalid(
            format!("{what} must not contain control characters"),
        )),
        Some(v) => Ok(Some(v.to_owned())),
    }
}
