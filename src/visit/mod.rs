//! Procedure 4 (seeds 001 and 004): a visitor's use of the facility, from the desk's check-in
//! to the badge exchanged back for the identity document. Pure: the states of a visit and
//! which step may happen in which, the check-in form's own rules, the badge's validity; the
//! store drives them, `now` is passed in.
//!
//! ```text
//! check-in ─► waiting_approval ─(head approves)─► approved ─(badge)─► active ─(check-out)─► closed
//!                    │                               │
//!                    └─(head denies)─► denied        └─(check-out, no badge)─► closed
//! ```
//!
//! The head's approval is a one-step chain of the workflow machinery ([`approval_step`]), so
//! the wrong role is refused (403) before the wrong moment (409), as for requests. At the
//! door a visitor badge opens only right after its escort (see `door::presence`).

pub mod signature;
pub mod texts;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::model::Role;
use crate::workflow::{CaseState, CaseStatus, Step, StepKind};

pub use signature::{Signature, SignatureImage};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VisitStatus {
    /// Checked in at the desk; the head of the facility has not decided yet.
    WaitingApproval,
    /// Granted; the desk may hand out a visitor badge.
    Approved,
    /// Not granted: the visitor may not use the facility.
    Denied,
    /// The visitor badge is out: the visit is under way.
    Active,
    /// Checked out: badge back (or reported lost), identity document returned.
    Closed,
}

impl VisitStatus {
    pub const ALL: [VisitStatus; 5] = [
        VisitStatus::WaitingApproval,
        VisitStatus::Approved,
        VisitStatus::Denied,
        VisitStatus::Active,
        VisitStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::WaitingApproval => "waiting_approval",
            VisitStatus::Approved => "approved",
            VisitStatus::Denied => "denied",
            VisitStatus::Active => "active",
            VisitStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<VisitStatus> {
        VisitStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Jenis identitas: the identity document the visitor shows (and may deposit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    Ktp,
    Sim,
    Paspor,
    /// Another document, named in `jenis_identitas_lain`.
    Other,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Ktp => "ktp",
            IdKind::Sim => "sim",
            IdKind::Paspor => "paspor",
            IdKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<IdKind> {
        [IdKind::Ktp, IdKind::Sim, IdKind::Paspor, IdKind::Other]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// As the form prints it.
    pub fn label(self) -> &'static str {
        match self {
            IdKind::Ktp => "KTP",
            IdKind::Sim => "SIM",
            IdKind::Paspor => "Paspor",
            IdKind::Other => "Lainnya",
        }
    }
}

/// What the desk or the head asked for, and why it cannot be done now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitError {
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: String,
    },
    #[error(
        "visit {id} is waiting for the approval of the {approver}; a visitor badge is handed out only after approval"
    )]
    NotApproved { id: i64, approver: Role },
    #[error("visit {id} is {status}; {what}")]
    NotNow {
        id: i64,
        status: &'static str,
        what: &'static str,
    },
    #[error(
        "visit {id} has visitor badge {badge} out; take it back (badge = \"returned\") or report it lost (badge = \"lost\") to check the visitor out"
    )]
    BadgeUnaccounted { id: i64, badge: String },
    #[error(
        "visit {id}: the identity document held at the desk goes back at check-out; send id_returned = true once it is handed back"
    )]
    IdNotReturned { id: i64 },
}

impl VisitError {
    /// A problem with the input (400), as opposed to the visit's state (409).
    pub fn is_invalid(&self) -> bool {
        matches!(self, VisitError::Invalid { .. })
    }
}

fn invalid(field: &'static str, problem: impl Into<String>) -> VisitError {
    VisitError::Invalid {
        field,
        problem: problem.into(),
    }
}

/// The head's approval as a one-step chain, so [`crate::workflow::check`] judges it.
pub fn approval_step(role: Role, within_hours: u32) -> Step {
    Step {
        name: "approve".into(),
        role,
        kind: StepKind::Approve,
        within_hours,
        label: "Izin penggunaan fasilitas oleh Kepala LPSE / Kasubbag Pengelolaan LPSE".into(),
    }
}

/// The workflow's view of a visit's approval: open while waiting, over after.
pub fn case_state<'a>(name: &'a str, status: VisitStatus, chain: &'a [Step]) -> CaseState<'a> {
    let (status, waiting) = match status {
        VisitStatus::WaitingApproval => (CaseStatus::Open, Some(0)),
        VisitStatus::Denied => (CaseStatus::Rejected, None),
        _ => (CaseStatus::Completed, None),
    };
    CaseState {
        name,
        status,
        waiting,
        chain,
        addressed: &[],
    }
}

/// Whether a badge may be handed out for a visit in `status`.
pub fn may_issue_badge(id: i64, status: VisitStatus, approver: Role) -> Result<(), VisitError> {
    match status {
        VisitStatus::Approved => Ok(()),
        VisitStatus::WaitingApproval => Err(VisitError::NotApproved { id, approver }),
        VisitStatus::Denied => Err(VisitError::NotNow {
            id,
            status: "denied",
            what: "the visitor may not use the facility",
        }),
        VisitStatus::Active => Err(VisitError::NotNow {
            id,
            status: "active",
            what: "its visitor badge is already out",
        }),
        VisitStatus::Closed => Err(VisitError::NotNow {
            id,
            status: "closed",
            what: "check the visitor in again for a new visit",
        }),
    }
}

/// What happened to the visitor badge at check-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BadgeOutcome {
    /// Handed back in exchange for the identity document; the card is free again.
    Returned,
    /// Not handed back: the card is blocked at every door and stays out of the pool.
    Lost,
}

impl BadgeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            BadgeOutcome::Returned => "returned",
            BadgeOutcome::Lost => "lost",
        }
    }
}

/// Checks a check-out: a badge that is out must be accounted for, a deposited identity
/// document must go back, and a visit already checked out cannot be again. Returns the
/// status the visit ends in.
pub fn check_out(
    id: i64,
    status: VisitStatus,
    checked_out: bool,
    badge: Option<&str>,
    outcome: Option<BadgeOutcome>,
    id_deposited: bool,
    id_returned: bool,
) -> Result<VisitStatus, VisitError> {
    if checked_out {
        return Err(VisitError::NotNow {
            id,
            status: status.as_str(),
            what: "it is already checked out",
        });
    }
    match (badge, outcome) {
        (Some(badge), None) => {
            return Err(VisitError::BadgeUnaccounted {
                id,
                badge: badge.to_owned(),
            });
        }
        (None, Some(_)) => {
            return Err(invalid(
                "badge",
                format!("visit {id} has no visitor badge out; leave badge out"),
            ));
        }
        _ => {}
    }
    if id_deposited && !id_returned {
        return Err(VisitError::IdNotReturned { id });
    }
    Ok(match status {
        VisitStatus::Denied => VisitStatus::Denied,
        _ => VisitStatus::Closed,
    })
}

/// A visitor badge opens from its issue until the end of that day in the office's zone:
/// "valid only for that visit and that day".
pub fn badge_valid_until(issued: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let day: NaiveDate = issued.with_timezone(&tz).date_naive();
    crate::report::TimeSpec::Date(day).end_inclusive_date(tz)
}

/// A KTP number (NIK) is 16 digits; other documents are checked by the desk.
pub fn check_id_number(kind: IdKind, number: &str) -> Result<(), VisitError> {
    if kind == IdKind::Ktp && !(number.len() == 16 && number.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid(
            "no_identitas",
            format!("a KTP number (NIK) is 16 digits, got {number:?}"),
        ));
    }
    Ok(())
}

/// Equipment rows (Fasilitas: jenis, no. seri) a visit may list.
pub const MAX_EQUIPMENT: usize = 50;

#[cfg(test)]
mod tests;
