//! The procedures as the seeds write them, the defaults an agency adjusts in its config.

use serde::{Deserialize, Serialize};

use super::{Step, StepKind};
use crate::model::Role;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A card for the server-room door (seed 002).
    ServerRoom,
    /// A website control-panel account (seed 003).
    ControlPanel,
    /// A remote-access account for a third party (seed 000).
    RemoteAccess,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::ServerRoom, Kind::ControlPanel, Kind::RemoteAccess];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServerRoom => "server_room",
            Kind::ControlPanel => "control_panel",
            Kind::RemoteAccess => "remote_access",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the right is a door right (a card) rather than an account elsewhere.
    pub fn is_door(self) -> bool {
        self == Kind::ServerRoom
    }

    /// The SOP's name for the request, in Indonesian.
    pub fn label(self) -> &'static str {
        match self {
            Kind::ServerRoom => "Permintaan Akses Ruang Server",
            Kind::ControlPanel => "Permintaan Hak Akses Control Panel Website",
            Kind::RemoteAccess => "Permintaan Remote Akses",
        }
    }
}

/// The steps of one procedure, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Chain(pub Vec<Step>);

pub(crate) fn step(name: &str, role: Role, kind: StepKind, hours: u32, label: &str) -> Step {
    Step {
        name: name.into(),
        role,
        kind,
        within_hours: hours,
        label: label.into(),
    }
}

/// The approval steps of seed 002 (and, with its own roles mapped onto these, seed 003).
pub fn default_approvals() -> Vec<Step> {
    vec![
        step(
            "approve",
            Role::Atasan,
            StepKind::Approve,
            24,
            "Persetujuan atasan langsung",
        ),
        step(
            "dispose",
            Role::Kadis,
            StepKind::Approve,
            24,
            "Disposisi Kadis Komunikasi dan Informatika",
        ),
        step(
            "forward",
            Role::Kabid,
            StepKind::Approve,
            24,
            "Disposisi diterima dan diteruskan oleh Kabid",
        ),
        step(
            "verify",
            Role::Kasi,
            StepKind::Approve,
            48,
            "Verifikasi oleh Kasi Layanan Infrastruktur TIK",
        ),
    ]
}

/// Seed 000: the coordinator permits, the technical officer makes the account.
pub fn default_remote_approvals() -> Vec<Step> {
    vec![step(
        "permit",
        Role::Kasi,
        StepKind::Approve,
        24,
        "Izin remote akses oleh Koordinator",
    )]
}

/// The closing steps after the approvals: issue (or grant), then inform.
pub fn closing(kind: Kind, issue_hours: u32, inform_hours: Option<u32>) -> Vec<Step> {
    let mut out = vec![match kind {
        Kind::ServerRoom => step(
            "issue",
            Role::Operator,
            StepKind::Issue,
            issue_hours,
            "Pembuatan akses berupa kartu akses oleh Operator Ruang Server",
        ),
        Kind::ControlPanel => step(
            "grant",
            Role::Operator,
            StepKind::Grant,
            issue_hours,
            "Pembuatan akses berupa username dan password",
        ),
        Kind::RemoteAccess => step(
            "grant",
            Role::Operator,
            StepKind::Grant,
            issue_hours,
            "Pembuatan akun remote akses dan pengisian formulir",
        ),
    }];
    if let Some(hours) = inform_hours {
        out.push(step(
            "inform",
            Role::Operator,
            StepKind::Inform,
            hours,
            "Informasi status permintaan kepada pemohon dan pencatatan di daftar akses",
        ));
    }
    out
}

/// Procedure 3: the penanggung jawab files, the Kasi records and forwards, the
/// Administrator deactivates, the Kasi updates the list and informs.
pub fn default_removal() -> Chain {
    Chain(vec![
        step(
            "forward",
            Role::Kasi,
            StepKind::Approve,
            24,
            "Pencatatan permintaan dan diteruskan kepada Administrator",
        ),
        step(
            "deactivate",
            Role::Admin,
            StepKind::Deactivate,
            24,
            "Penonaktifan hak akses oleh Administrator",
        ),
        step(
            "confirm",
            Role::Kasi,
            StepKind::Inform,
            24,
            "Pemutakhiran status dan daftar akses, informasi kepada Penanggung jawab",
        ),
    ])
}
