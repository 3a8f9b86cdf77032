//! Access requests (Permintaan Akses, procedure 1): the form, its chain of approvals, and
//! the issuance that puts the approved right into the access list.
//!
//! Every step is checked by [`crate::workflow::check`], recorded in the request's history
//! and the audit log, and tells whoever the next step waits for, all in one transaction.

pub mod issue;
mod read;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::cases::{self, CaseType, HistoryEntry, Stored, WaitingStep};
use super::notices::{self, To};
use super::people::{required, text};
use super::{Result, StoreError, accounts, audit, to_ms};
use crate::model::{Actor, PersonId, Role};
use crate::schedule::Schedule;
use crate::workflow::texts;
use crate::workflow::{CaseState, CaseStatus, Chain, Kind, Next, StepKind, after, check};

pub use issue::{IssueCard, grant, issue, may_issue};
pub use read::{Filter, get, involves, list};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// Defaults to `server_room`.
    #[serde(default)]
    pub kind: Option<Kind>,
    pub applicant_name: String,
    /// NIP of a civil servant; the identity number of a third party.
    #[serde(default)]
    pub applicant_nip: Option<String>,
    #[serde(default)]
    pub unit_kerja: Option<String>,
    #[serde(default)]
    pub jabatan: Option<String>,
    /// The agency or company of a third party.
    #[serde(default)]
    pub instansi: Option<String>,
    /// Where the applicant is told how the request ended.
    #[serde(default)]
    pub email: Option<String>,
    /// An existing card holder the request is for; omit to create one at issuance.
    #[serde(default)]
    pub person_id: Option<PersonId>,
    /// Keperluan / tujuan.
    pub purpose: String,
    /// The reference letter (nomor surat), if any.
    #[serde(default)]
    pub nomor_surat: Option<String>,
    /// Door names, for a server-room request.
    #[serde(default)]
    pub doors: Vec<String>,
    /// What an account in another system may do (hak akses), for the other kinds.
    #[serde(default)]
    pub hak_akses: Option<String>,
    /// RFC 3339 with an offset.
    pub valid_from: DateTime<Utc>,
    /// Exclusive end.
    pub valid_until: DateTime<Utc>,
    /// Weekly windows; omit for any time.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// The username of the applicant's direct superior: only that account may approve.
    #[serde(default)]
    pub atasan: Option<String>,
    /// The username of the penanggung jawab who answers for the right in reviews.
    #[serde(default)]
    pub penanggung_jawab: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: i64,
    pub kind: Kind,
    pub status: CaseStatus,
    /// The step the request waits on, while open.
    pub waiting: Option<WaitingStep>,
    pub applicant_name: String,
    pub applicant_nip: Option<String>,
    pub unit_kerja: Option<String>,
    pub jabatan: Option<String>,
    pub instansi: Option<String>,
    pub email: Option<String>,
    pub person_id: Option<PersonId>,
    pub purpose: String,
    pub nomor_surat: Option<String>,
    pub doors: Vec<String>,
    pub hak_akses: Option<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub schedule: Option<Schedule>,
    pub atasan: Option<String>,
    pub penanggung_jawab: Option<String>,
    /// The right made at issuance.
    pub right_id: Option<i64>,
    pub badge_id: Option<i64>,
    pub logical_right_id: Option<i64>,
    pub steps: Vec<crate::workflow::Step>,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
}

/// What the store needs beside the connection: the chains and the office's zone.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub workflow: &'a crate::config::WorkflowConfig,
    pub tz: Tz,
}

pub fn create(
    conn: &Connection,
    ctx: Ctx,
    r: &NewRequest,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let kind = r.kind.unwrap_or(Kind::ServerRoom);
    let name = required("applicant_name", &r.applicant_name)?;
    let purpose = required("purpose", &r.purpose)?;
    let email = accounts::email(r.email.as_deref())?;
    super::rights::validate_period(r.valid_from, r.valid_until)?;
    if r.valid_until <= now {
        return Err(StoreError::Invalid(
            "valid_until is in the past; ask for a period that has not ended".into(),
        ));
    }
    if let Some(s) = &r.schedule {
        s.validate().map_err(StoreError::Invalid)?;
    }
    if kind.is_door() {
        if r.doors.is_empty() {
            return Err(StoreError::Invalid(
                "a server-room request names at least one door".into(),
            ));
        }
        for d in &r.doors {
            super::rights::door_id(conn, d)?;
        }
        if r.hak_akses.is_some() {
            return Err(StoreError::Invalid(
                "hak_akses is for accounts in other systems; a server-room request names doors"
                    .into(),
            ));
        }
    } else if !r.doors.is_empty() || r.schedule.is_some() {
        return Err(StoreError::Invalid(format!(
            "a {} request is for an account, not a door: leave out doors and schedule",
            kind.as_str()
        )));
    }
    if let Some(p) = r.person_id {
        super::people::get(conn, p)?;
    }
    let atasan = match &r.atasan {
        Some(u) => Some(accounts::named(conn, "atasan", u, Role::Atasan)?.id),
        None => None,
    };
    let responsible = match &r.penanggung_jawab {
        Some(u) => Some(accounts::named(conn, "penanggung_jawab", u, Role::PenanggungJawab)?.id),
        None => None,
    };
    let chain = ctx.workflow.chain(kind);
    let chain_json =
        serde_json::to_string(chain).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let doors = (!r.doors.is_empty()).then(|| serde_json::to_string(&r.doors).unwrap_or_default());
    let schedule = r
        .schedule
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_default());
    conn.execute(
        "INSERT INTO request (kind, status, chain, step_index, step_since, applicant_name,
             applicant_nip, unit_kerja, jabatan, instansi, email, purpose, nomor_surat, doors,
             hak_akses, valid_from, valid_until, schedule, person_id, atasan_id, responsible_id,
             created_by, created_at, updated_at)
         VALUES (?1, 'open', ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                 ?16, ?17, ?18, ?19, ?20, ?3, ?3)",
        params![
            kind.as_str(),
            chain_json,
            to_ms(now),
            name,
            text("applicant_nip", r.applicant_nip.as_deref())?,
            text("unit_kerja", r.unit_kerja.as_deref())?,
            text("jabatan", r.jabatan.as_deref())?,
            text("instansi", r.instansi.as_deref())?,
            email,
            cases::note(Some(&purpose), true, "purpose")?,
            text("nomor_surat", r.nomor_surat.as_deref())?,
            doors,
            text("hak_akses", r.hak_akses.as_deref())?,
            to_ms(r.valid_from),
            to_ms(r.valid_until),
            schedule,
            r.person_id,
            atasan,
            responsible,
            actor.account_id,
        ],
    )?;
    let id = conn.last_insert_rowid();
    cases::record(
        conn,
        CaseType::Request,
        id,
        "submit",
        "submitted",
        actor,
        None,
        now,
    )?;
    audit::record(
        conn,
        actor,
        "request.submit",
        Some(format!("request:{id}")),
        json!({ "kind": kind, "applicant": name, "doors": r.doors,
                "valid_from": r.valid_from, "valid_until": r.valid_until }),
        now,
    )?;
    let view = get(conn, id, now)?;
    notify_waiting(conn, ctx.tz, &view, now)?;
    Ok(view)
}

/// An approval step: pass the request on, or reject it with a reason.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    conn: &Connection,
    tz: Tz,
    id: i64,
    step: &str,
    approve: bool,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let note = cases::note(note, !approve, "a reason for the rejection (note)")?;
    let (stored, addressed) = load_state(conn, id)?;
    let index = check(
        &state(&format!("request {id}"), &stored, &addressed),
        step,
        StepKind::Approve,
        actor,
    )?;
    let outcome = if approve { "approved" } else { "rejected" };
    finish_step(
        conn,
        id,
        &stored.chain,
        index,
        approve,
        outcome,
        note.as_deref(),
        actor,
        now,
    )?;
    let view = get(conn, id, now)?;
    if approve {
        notify_waiting(conn, tz, &view, now)?;
    } else {
        let label = &stored.chain.0[index].label;
        let text = texts::rejected(view.kind.label(), id, label, note.as_deref().unwrap_or(""));
        notices::send(conn, &applicant(&view), &text, now)?;
    }
    Ok(view)
}

/// The last step: the applicant is told, and the request is complete.
pub fn inform(
    conn: &Connection,
    tz: Tz,
    id: i64,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let note = cases::note(note, false, "note")?;
    let (stored, addressed) = load_state(conn, id)?;
    let step = step_of_kind(&stored.chain, StepKind::Inform, id)?;
    let index = check(
        &state(&format!("request {id}"), &stored, &addressed),
        &step,
        StepKind::Inform,
        actor,
    )?;
    finish_step(
        conn,
        id,
        &stored.chain,
        index,
        true,
        "informed",
        note.as_deref(),
        actor,
        now,
    )?;
    let view = get(conn, id, now)?;
    tell_granted(conn, tz, &view, now)?;
    Ok(view)
}

/// The applicant (or the Operator on their behalf) withdraws a request not yet issued.
pub fn withdraw(
    conn: &Connection,
    id: i64,
    reason: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let reason = cases::note(reason, true, "reason")?;
    let (stored, _) = load_state(conn, id)?;
    let created_by: Option<i64> =
        conn.query_row("SELECT created_by FROM request WHERE id = ?1", [id], |r| {
            r.get(0)
        })?;
    let own = created_by.is_some() && created_by == actor.account_id;
    if !(own || matches!(actor.role, Role::Operator | Role::Admin)) {
        return Err(crate::workflow::WorkflowError::WrongRole {
            case: format!("request {id}"),
            step: "withdraw".into(),
            needed: Role::Operator,
            role: actor.role,
        }
        .into());
    }
    let waiting = stored.waiting.map(|i| &stored.chain.0[i]);
    match waiting {
        Some(s) if s.kind == StepKind::Approve => {}
        _ => {
            return Err(StoreError::Conflict(format!(
                "request {id} is {}; only a request still waiting for approval can be withdrawn",
                describe(&stored)
            )));
        }
    }
    cases::advance(
        conn,
        CaseType::Request,
        id,
        Next::Done(CaseStatus::Withdrawn),
        now,
    )?;
    cases::record(
        conn,
        CaseType::Request,
        id,
        "withdraw",
        "withdrawn",
        actor,
        reason.as_deref(),
        now,
    )?;
    audit::record(
        conn,
        actor,
        "request.withdraw",
        Some(format!("request:{id}")),
        json!({ "reason": reason }),
        now,
    )?;
    get(conn, id, now)
}

fn describe(s: &Stored) -> String {
    match s.waiting {
        Some(i) => format!("waiting for step {:?}", s.chain.0[i].name),
        None => s.status.as_str().to_owned(),
    }
}

/// Records a step done and moves the request on.
#[allow(clippy::too_many_arguments)]
fn finish_step(
    conn: &Connection,
    id: i64,
    chain: &Chain,
    index: usize,
    approved: bool,
    outcome: &str,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let step = &chain.0[index];
    cases::advance(
        conn,
        CaseType::Request,
        id,
        after(&chain.0, index, approved),
        now,
    )?;
    cases::record(
        conn,
        CaseType::Request,
        id,
        &step.name,
        outcome,
        actor,
        note,
        now,
    )?;
    audit::record(
        conn,
        actor,
        &format!("request.{}", step.name),
        Some(format!("request:{id}")),
        json!({ "outcome": outcome, "note": note }),
        now,
    )
}

pub(crate) fn step_of_kind(chain: &Chain, kind: StepKind, id: i64) -> Result<String> {
    chain
        .0
        .iter()
        .find(|s| s.kind == kind)
        .map(|s| s.name.clone())
        .ok_or_else(|| {
            let what = match kind {
                StepKind::Issue => "no card to issue (it is for an account: record it with grant)",
                StepKind::Grant => "no account to record (it is for a card: issue one)",
                StepKind::Inform => "no inform step",
                _ => "no step of that kind",
            };
            StoreError::Invalid(format!("request {id}'s procedure has {what}"))
        })
}

pub(crate) fn load_state(conn: &Connection, id: i64) -> Result<(Stored, Vec<(Role, i64)>)> {
    let row = conn
        .prepare_cached(
            "SELECT status, chain, step_index, step_since, atasan_id, responsible_id
             FROM request WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<i64>>(5)?,
            ))
        })
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("request {id}")))?;
    let stored = Stored::parse(&row.0, &row.1, row.2, row.3)?;
    let mut addressed = Vec::new();
    if let Some(a) = row.4 {
        addressed.push((Role::Atasan, a));
    }
    if let Some(p) = row.5 {
        addressed.push((Role::PenanggungJawab, p));
    }
    Ok((stored, addressed))
}

pub(crate) fn state<'a>(
    name: &'a str,
    stored: &'a Stored,
    addressed: &'a [(Role, i64)],
) -> CaseState<'a> {
    CaseState {
        name,
        status: stored.status,
        waiting: stored.waiting,
        chain: &stored.chain.0,
        addressed,
    }
}

/// Tells whoever the request now waits for.
pub(crate) fn notify_waiting(
    conn: &Connection,
    tz: Tz,
    view: &RequestView,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(w) = &view.waiting else {
        return Ok(());
    };
    let to = match (w.step.role, &view.atasan, &view.penanggung_jawab) {
        (Role::Atasan, Some(u), _) | (Role::PenanggungJawab, _, Some(u)) => {
            vec![To::Account(accounts::by_username(conn, u)?.id)]
        }
        (role, _, _) => vec![To::Role(role)],
    };
    let about = format!("{}, {}", view.applicant_name, view.purpose);
    let text = texts::step_waiting(view.kind.label(), view.id, &about, &w.step, w.due_at, tz);
    notices::send(conn, &to, &text, now)?;
    notices::event(
        conn,
        "workflow.step_waiting",
        json!({ "case": "request", "id": view.id, "step": w.step.name, "role": w.step.role,
                "due_at": w.due_at }),
        now,
    )
}

fn applicant(view: &RequestView) -> Vec<To> {
    view.email.iter().map(|e| To::Email(e.clone())).collect()
}

/// Tells the applicant their right is in force (after issuance when the chain has no
/// inform step, or at the inform step).
pub(crate) fn tell_granted(
    conn: &Connection,
    tz: Tz,
    view: &RequestView,
    now: DateTime<Utc>,
) -> Result<()> {
    let what = if view.kind.is_door() {
        format!("Kartu akses untuk pintu: {}.", view.doors.join(", "))
    } else {
        format!("Akun: {}.", view.hak_akses.as_deref().unwrap_or("-"))
    };
    let text = texts::granted(
        view.kind.label(),
        view.id,
        &what,
        view.valid_from,
        view.valid_until,
        tz,
    );
    notices::send(conn, &applicant(view), &text, now)
}
