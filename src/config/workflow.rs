//! `[workflow]`: the agency's chains of approval, the time standard of each step, and how
//! review campaigns run. The defaults are seed 002 (server room), seed 003 (control panel)
//! and seed 000 (remote access); an LPSE with one approver lists one approval.

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Invalid;
use crate::model::Role;
use crate::workflow::chain::{self, Chain, Kind};
use crate::workflow::{Step, StepKind};

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowFile {
    pub server_room: Option<ChainFile>,
    pub control_panel: Option<ChainFile>,
    pub remote_access: Option<ChainFile>,
    pub removal: RemovalFile,
    pub review: ReviewFile,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChainFile {
    /// The approval steps in order; the last one verifies.
    pub approvals: Spanned<Vec<ApprovalFile>>,
    /// Hours the Operator has to issue the card (or make the account).
    #[serde(default = "default_hours")]
    pub issue_within_hours: u32,
    /// Hours to inform the applicant; `0` means the procedure has no inform step.
    #[serde(default = "default_inform_hours")]
    pub inform_within_hours: u32,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalFile {
    /// The name used in the API, e.g. `dispose`.
    pub step: String,
    pub role: Role,
    #[serde(default = "default_hours")]
    pub within_hours: u32,
    /// The SOP's words for the step, for notices and forms.
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemovalFile {
    pub forward_within_hours: u32,
    pub deactivate_within_hours: u32,
    pub confirm_within_hours: u32,
}

impl Default for RemovalFile {
    fn default() -> Self {
        RemovalFile {
            forward_within_hours: 24,
            deactivate_within_hours: 24,
            confirm_within_hours: 24,
        }
    }
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewFile {
    /// `never`, `monthly`, `quarterly` or `yearly`: when a campaign starts by itself.
    pub schedule: ReviewSchedule,
    /// Days the penanggung jawab have to decide.
    pub decide_within_days: Spanned<u32>,
    /// What happens to a right nobody decided by the deadline: `keep` or `remove`.
    pub default_undecided: Undecided,
    /// Hours between reminders of a step or review item still waiting.
    pub remind_every_hours: Spanned<u32>,
}

impl Default for ReviewFile {
    fn default() -> Self {
        ReviewFile {
            schedule: ReviewSchedule::Quarterly,
            decide_within_days: Spanned::new(0..0, 14),
            default_undecided: Undecided::Keep,
            remind_every_hours: Spanned::new(0..0, 24),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewSchedule {
    Never,
    Monthly,
    Quarterly,
    Yearly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Undecided {
    Keep,
    Remove,
}

impl Undecided {
    pub fn as_str(self) -> &'static str {
        match self {
            Undecided::Keep => "keep",
            Undecided::Remove => "remove",
        }
    }
}

fn default_hours() -> u32 {
    24
}

fn default_inform_hours() -> u32 {
    8
}

/// The validated workflow settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowConfig {
    pub server_room: Chain,
    pub control_panel: Chain,
    pub remote_access: Chain,
    pub removal: Chain,
    pub review: ReviewConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewConfig {
    pub schedule: ReviewSchedule,
    pub decide_within_days: u32,
    pub default_undecided: Undecided,
    pub remind_every_hours: u32,
}

impl WorkflowConfig {
    pub fn chain(&self, kind: Kind) -> &Chain {
        match kind {
            Kind::ServerRoom => &self.server_room,
            Kind::ControlPanel => &self.control_panel,
            Kind::RemoteAccess => &self.remote_access,
        }
    }
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        // The defaults are valid by construction; validating them cannot fail.
        validate(&WorkflowFile::default()).unwrap_or_else(|_| WorkflowConfig {
            server_room: Chain(vec![]),
            control_panel: Chain(vec![]),
            remote_access: Chain(vec![]),
            removal: chain::default_removal(),
            review: ReviewConfig {
                schedule: ReviewSchedule::Never,
                decide_within_days: 14,
                default_undecided: Undecided::Keep,
                remind_every_hours: 24,
            },
        })
    }
}

pub(super) fn validate(file: &WorkflowFile) -> Result<WorkflowConfig, Invalid> {
    let removal = &file.removal;
    let mut removal_chain = chain::default_removal();
    for (step, hours) in removal_chain.0.iter_mut().zip([
        removal.forward_within_hours,
        removal.deactivate_within_hours,
        removal.confirm_within_hours,
    ]) {
        step.within_hours = hours;
    }
    let review = &file.review;
    if !(1..=90).contains(review.decide_within_days.get_ref()) {
        return Err((
            review.decide_within_days.span(),
            "workflow.review.decide_within_days must be 1 to 90".into(),
        ));
    }
    if *review.remind_every_hours.get_ref() == 0 {
        return Err((
            review.remind_every_hours.span(),
            "workflow.review.remind_every_hours must be at least 1".into(),
        ));
    }
    Ok(WorkflowConfig {
        server_room: chain_of(Kind::ServerRoom, file.server_room.as_ref())?,
        control_panel: chain_of(Kind::ControlPanel, file.control_panel.as_ref())?,
        remote_access: chain_of(Kind::RemoteAccess, file.remote_access.as_ref())?,
        removal: removal_chain,
        review: ReviewConfig {
            schedule: review.schedule,
            decide_within_days: *review.decide_within_days.get_ref(),
            default_undecided: review.default_undecided,
            remind_every_hours: *review.remind_every_hours.get_ref(),
        },
    })
}

fn chain_of(kind: Kind, file: Option<&ChainFile>) -> Result<Chain, Invalid> {
    let Some(file) = file else {
        let (approvals, inform) = match kind {
            Kind::RemoteAccess => (chain::default_remote_approvals(), None),
            _ => (chain::default_approvals(), Some(8)),
        };
        let mut steps = approvals;
        steps.extend(chain::closing(kind, 24, inform));
        return Ok(Chain(steps));
    };
    let key = format!("workflow.{}.approvals", kind.as_str());
    let span = file.approvals.span();
    if file.approvals.get_ref().is_empty() {
        return Err((span, format!("{key}: at least one approval step")));
    }
    let inform = (file.inform_within_hours > 0).then_some(file.inform_within_hours);
    let closing = chain::closing(kind, file.issue_within_hours, inform);
    let mut steps: Vec<Step> = Vec::new();
    for a in file.approvals.get_ref() {
        let name = a.step.trim();
        let valid = !name.is_empty()
            && name.len() <= 32
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if !valid {
            return Err((
                span.clone(),
                format!("{key}: step {name:?} must be lowercase letters and '_'"),
            ));
        }
        if steps.iter().chain(&closing).any(|s| s.name == name) {
            return Err((span.clone(), format!("{key}: step {name:?} is named twice")));
        }
        if a.role == Role::Pemohon {
            return Err((
                span.clone(),
                format!("{key}: step {name:?}: the applicant cannot approve their own request"),
            ));
        }
        let label = a
            .label
            .clone()
            .unwrap_or_else(|| format!("Persetujuan {}", a.role));
        steps.push(chain::step(
            name,
            a.role,
            StepKind::Approve,
            a.within_hours,
            &label,
        ));
    }
    steps.extend(closing);
    Ok(Chain(steps))
}
