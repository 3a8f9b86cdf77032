//! The SOP's procedures as pure state machines: access requests (procedure 1), removals
//! (procedure 3) and the time standards (Mutu Baku Waktu) of their steps.
//!
//! A procedure is a [`Chain`] of [`Step`]s, each done by one role. A case (a request, a
//! removal) waits on one step at a time; [`check`] says whether an actor may do a named
//! step now and, if not, why: the wrong role is refused (403) before the wrong moment (409),
//! so a caller learns first whether the step is theirs at all. Nothing here touches the
//! store or reads the clock; `now` is always passed in.

pub mod chain;
pub mod texts;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Actor, Role};

pub use chain::{Chain, Kind};

/// One step of a procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    /// The name used in the API, e.g. `dispose`.
    pub name: String,
    pub role: Role,
    pub kind: StepKind,
    /// The time standard: how long the step may wait before it is overdue.
    pub within_hours: u32,
    /// What the SOP calls the step, in Indonesian, for notices and forms.
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Approve and pass on, or reject with a reason.
    Approve,
    /// Issue the access card: the right at the door starts here.
    Issue,
    /// Record the account made in another system (username).
    Grant,
    /// Deactivate the right named in a removal request.
    Deactivate,
    /// Tell the applicant (or the penanggung jawab) how it ended; completes the case.
    Inform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Rejected,
    Completed,
    Withdrawn,
}

impl CaseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Completed => "completed",
            CaseStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CaseStatus::Open,
            CaseStatus::Rejected,
            CaseStatus::Completed,
            CaseStatus::Withdrawn,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// What [`check`] needs to know of a case.
#[derive(Debug, Clone, Copy)]
pub struct CaseState<'a> {
    /// For messages: `request 12`.
    pub name: &'a str,
    pub status: CaseStatus,
    /// The step waiting, while open.
    pub waiting: Option<usize>,
    pub chain: &'a [Step],
    /// Accounts a step is addressed to by role (a named superior, a penanggung jawab):
    /// only that account may do it.
    pub addressed: &'a [(Role, i64)],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("{case} has no step {step:?}; its steps are {steps}")]
    NoSuchStep {
        case: String,
        step: String,
        steps: String,
    },
    #[error("step {step:?} of {case} is done by the role {needed}; this token's role is {role}")]
    WrongRole {
        case: String,
        step: String,
        needed: Role,
        role: Role,
    },
    #[error(
        "step {step:?} of {case} is addressed to another {role} account; only that account may do it"
    )]
    NotAddressee {
        case: String,
        step: String,
        role: Role,
    },
    #[error("{case} is {status}; its steps are over")]
    Closed { case: String, status: &'static str },
    #[error("{case} is waiting for step {waiting:?} by {role}, not {step:?}")]
    OutOfOrder {
        case: String,
        step: String,
        waiting: String,
        role: Role,
    },
    #[error("step {step:?} of {case} is a {kind} step; {detail}")]
    WrongKind {
        case: String,
        step: String,
        kind: &'static str,
        detail: &'static str,
    },
}

impl WorkflowError {
    /// Whether the caller may not do this at all (403), as opposed to not now (409) or a
    /// step that does not exist (400).
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            WorkflowError::WrongRole { .. } | WorkflowError::NotAddressee { .. }
        )
    }

    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            WorkflowError::Closed { .. } | WorkflowError::OutOfOrder { .. }
        )
    }
}

fn kind_name(k: StepKind) -> &'static str {
    match k {
        StepKind::Approve => "approve",
        StepKind::Issue => "issue",
        StepKind::Grant => "grant",
        StepKind::Deactivate => "deactivate",
        StepKind::Inform => "inform",
    }
}

/// Whether `actor` may do step `step` of `case` now, expecting a step of kind `kind`;
/// returns the step's index.
pub fn check(
    case: &CaseState,
    step: &str,
    kind: StepKind,
    actor: &Actor,
) -> Result<usize, WorkflowError> {
    let Some(index) = case.chain.iter().position(|s| s.name == step) else {
        return Err(WorkflowError::NoSuchStep {
            case: case.name.into(),
            step: step.into(),
            steps: case
                .chain
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let def = &case.chain[index];
    if def.kind != kind {
        return Err(WorkflowError::WrongKind {
            case: case.name.into(),
            step: step.into(),
            kind: kind_name(def.kind),
            detail: match def.kind {
                StepKind::Approve => "send a decision (approve or reject)",
                StepKind::Issue => "issue a card for it",
                StepKind::Grant => "record the account made for it",
                StepKind::Deactivate => "deactivate the right for it",
                StepKind::Inform => "inform for it",
            },
        });
    }
    if def.role != actor.role {
        return Err(WorkflowError::WrongRole {
            case: case.name.into(),
            step: step.into(),
            needed: def.role,
            role: actor.role,
        });
    }
    if let Some((_, id)) = case.addressed.iter().find(|(r, _)| *r == def.role)
        && actor.account_id != Some(*id)
    {
        return Err(WorkflowError::NotAddressee {
            case: case.name.into(),
            step: step.into(),
            role: def.role,
        });
    }
    if case.status != CaseStatus::Open {
        return Err(WorkflowError::Closed {
            case: case.name.into(),
            status: case.status.as_str(),
        });
    }
    match case.waiting {
        Some(w) if w == index => Ok(index),
        Some(w) => {
            let waiting = &case.chain[w];
            Err(WorkflowError::OutOfOrder {
                case: case.name.into(),
                step: step.into(),
                waiting: waiting.name.clone(),
                role: waiting.role,
            })
        }
        None => Err(WorkflowError::Closed {
            case: case.name.into(),
            status: case.status.as_str(),
        }),
    }
}

/// Where a case goes once step `index` is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Step(usize),
    Done(CaseStatus),
}

pub fn after(chain: &[Step], index: usize, approved: bool) -> Next {
    if !approved {
        Next::Done(CaseStatus::Rejected)
    } else if index + 1 < chain.len() {
        Next::Step(index + 1)
    } else {
        Next::Done(CaseStatus::Completed)
    }
}

/// When a step that started waiting at `since` becomes overdue.
pub fn due_at(step: &Step, since: DateTime<Utc>) -> DateTime<Utc> {
    since + Duration::hours(i64::from(step.within_hours))
}

pub fn is_overdue(step: &Step, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now > due_at(step, since)
}

#[cfg(test)]
mod tests;
