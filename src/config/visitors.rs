//! `[visitors]`: procedure 4 (seeds 001 and 004): who grants a visitor the facility, how long
//! the head has to answer, which doors a visitor badge opens, and the escort window.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{DoorConfig, Invalid};
use crate::model::Role;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct VisitorsFile {
    /// The head of the facility who grants or denies a visit: `kepala` (Kepala LPSE /
    /// Kasubbag Pengelolaan LPSE), or e.g. `kasi` where the Kasi decides.
    pub approver_role: Spanned<Role>,
    /// The time standard of the approval, in hours.
    pub approve_within_hours: u32,
    /// A visitor badge opens a door only if its escort's own card was granted there this
    /// many seconds before it at most; an escort who exits while their visitor is still
    /// inside raises `escort_left` once the visitor has not followed within this time.
    pub escort_window_seconds: Spanned<u64>,
    /// Doors a visitor badge opens; unset means every door.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doors: Option<Spanned<Vec<String>>>,
}

impl Default for VisitorsFile {
    fn default() -> Self {
        VisitorsFile {
            approver_role: Spanned::new(0..0, Role::Kepala),
            approve_within_hours: 1,
            escort_window_seconds: Spanned::new(0..0, 10),
            doors: None,
        }
    }
}

/// The validated `[visitors]` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorsConfig {
    pub approver_role: Role,
    pub approve_within_hours: u32,
    pub escort_window: Duration,
    pub doors: Vec<String>,
}

impl Default for VisitorsConfig {
    fn default() -> Self {
        VisitorsConfig {
            approver_role: Role::Kepala,
            approve_within_hours: 1,
            escort_window: Duration::from_secs(10),
            doors: Vec::new(),
        }
    }
}

/// Roles that may not grant a visit: the desk does not approve its own check-in, and the
/// applicant and the auditor act in no approval.
const NOT_APPROVERS: [Role; 3] = [Role::Helpdesk, Role::Pemohon, Role::Auditor];

pub(super) fn validate(
    file: &VisitorsFile,
    doors: &[DoorConfig],
) -> Result<VisitorsConfig, Invalid> {
    let role = *file.approver_role.get_ref();
    if NOT_APPROVERS.contains(&role) {
        return Err((
            file.approver_role.span(),
            format!(
                "visitors.approver_role: the role {role} cannot grant a visit; use the head of the facility (kepala) or e.g. kasi"
            ),
        ));
    }
    let window = *file.escort_window_seconds.get_ref();
    if !(1..=120).contains(&window) {
        return Err((
            file.escort_window_seconds.span(),
            format!("visitors.escort_window_seconds must be 1 to 120, got {window}"),
        ));
    }
    if !(1..=720).contains(&file.approve_within_hours) {
        return Err((
            0..0,
            format!(
                "visitors.approve_within_hours must be 1 to 720, got {}",
                file.approve_within_hours
            ),
        ));
    }
    let names = match &file.doors {
        None => doors.iter().map(|d| d.name.clone()).collect(),
        Some(list) => {
            if list.get_ref().is_empty() {
                return Err((
                    list.span(),
                    "visitors.doors: name at least one door, or leave it out for every door".into(),
                ));
            }
            for name in list.get_ref() {
                if !doors.iter().any(|d| d.name == *name) {
                    return Err((
                        list.span(),
                        format!("visitors.doors: no [[door]] is named {name:?}"),
                    ));
                }
            }
            list.get_ref().clone()
        }
    };
    Ok(VisitorsConfig {
        approver_role: role,
        approve_within_hours: file.approve_within_hours,
        escort_window: Duration::from_secs(window),
        doors: names,
    })
}
