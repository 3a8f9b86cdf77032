//! Visits (procedure 4): the desk's check-in form, the head's decision, and the views of a
//! visit. The badge and the check-out are in [`badge`]; the facility register (seed 004) in
//! [`register`].
//!
//! Every step is recorded in the visit's history and the audit log, and tells whoever acts
//! next, in the same transaction as the change.

pub mod badge;
pub mod escort;
pub mod register;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::cases::{HistoryEntry, WaitingStep, note};
use super::notices::{self, To};
use super::people::{required, text};
use super::{Result, StoreError, audit, from_ms, to_ms};
use crate::config::VisitorsConfig;
use crate::model::{Actor, CredentialId, PersonId, Role};
use crate::visit::signature::Checked;
use crate::visit::{
    self, BadgeOutcome, IdKind, MAX_EQUIPMENT, Signature, VisitStatus, approval_step, case_state,
    texts,
};
use crate::workflow::{StepKind, check};

pub use badge::{CheckOut, check_out, check_out_rule, issue_badge};
pub use escort::candidates as escorts;

/// What the store needs beside the connection: the `[visitors]` settings and the office zone.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub visitors: &'a VisitorsConfig,
    pub tz: Tz,
}

/// One row of equipment brought in (Fasilitas).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Equipment {
    /// What it is, e.g. `Laptop`.
    pub jenis: String,
    /// Its serial number, if it has one.
    #[serde(default)]
    pub no_seri: Option<String>,
}

/// The visitor form (buku tamu), filled in at the desk.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVisit {
    pub nama: String,
    /// The visitor's agency or company.
    #[serde(default)]
    pub instansi: Option<String>,
    #[serde(default)]
    pub alamat: Option<String>,
    pub jenis_identitas: IdKind,
    /// With `jenis_identitas = "other"`: which document.
    #[serde(default)]
    pub jenis_identitas_lain: Option<String>,
    /// The document's number; a KTP's is its 16-digit NIK.
    pub no_identitas: String,
    pub tujuan: String,
    /// Whom the visitor comes to see.
    pub host: String,
    /// The staff member who escorts the visitor: a card holder with a right, valid now, for
    /// every door of the visit. The visitor badge opens a door only right after their card.
    pub escort_person_id: PersonId,
    /// Doors the badge will open; default `[visitors] doors`.
    #[serde(default)]
    pub doors: Option<Vec<String>>,
    #[serde(default)]
    pub equipment: Vec<Equipment>,
    /// Whether the identity document is held at the desk until the badge comes back.
    pub id_deposited: bool,
    pub ttd: Signature,
}

/// The signature as shown: the picture itself is at `GET /visits/{id}/signature`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TtdView {
    /// `typed` or `image`.
    pub kind: &'static str,
    /// The typed name.
    pub name: Option<String>,
    /// The picture's type.
    pub mime: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitView {
    pub id: i64,
    pub status: VisitStatus,
    pub nama: String,
    pub instansi: Option<String>,
    pub alamat: Option<String>,
    pub jenis_identitas: IdKind,
    pub jenis_identitas_lain: Option<String>,
    pub no_identitas: String,
    pub tujuan: String,
    pub host: String,
    pub escort_person_id: PersonId,
    pub escort_name: String,
    pub doors: Vec<String>,
    pub equipment: Vec<Equipment>,
    pub id_deposited: bool,
    pub id_returned_at: Option<DateTime<Utc>>,
    pub ttd: TtdView,
    /// The role that grants the visit (as configured at check-in).
    pub approver_role: Role,
    /// The approval step, while it waits, with its time standard.
    pub waiting: Option<WaitingStep>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
    /// The visitor as a card holder, from the badge on (their taps name this person).
    pub person_id: Option<PersonId>,
    pub badge_number: Option<String>,
    pub visitor_badge_id: Option<i64>,
    pub credential_id: Option<CredentialId>,
    pub right_id: Option<i64>,
    pub badge_outcome: Option<BadgeOutcome>,
    pub checked_in_at: DateTime<Utc>,
    pub badge_issued_at: Option<DateTime<Utc>>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub history: Vec<HistoryEntry>,
}

/// Checks the visitor in: the form, its equipment, the signature; the head is told.
pub fn check_in(
    conn: &Connection,
    ctx: Ctx,
    v: &NewVisit,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<VisitView> {
    let nama = required("nama", &v.nama)?;
    let no_identitas = required("no_identitas", &v.no_identitas)?;
    visit::check_id_number(v.jenis_identitas, &no_identitas)?;
    let lain = text("jenis_identitas_lain", v.jenis_identitas_lain.as_deref())?;
    match (v.jenis_identitas, &lain) {
        (IdKind::Other, None) => {
            return Err(StoreError::Invalid(
                "jenis_identitas_lain: name the document when jenis_identitas is \"other\"".into(),
            ));
        }
        (IdKind::Ktp | IdKind::Sim | IdKind::Paspor, Some(_)) => {
            return Err(StoreError::Invalid(
                "jenis_identitas_lain is only for jenis_identitas = \"other\"".into(),
            ));
        }
        _ => {}
    }
    let tujuan = note(Some(&v.tujuan), true, "tujuan")?.unwrap_or_default();
    let host = required("host", &v.host)?;
    let signature = v.ttd.check()?;
    if v.equipment.len() > MAX_EQUIPMENT {
        return Err(StoreError::Invalid(format!(
            "equipment: at most {MAX_EQUIPMENT} rows"
        )));
    }
    let mut equipment = Vec::with_capacity(v.equipment.len());
    for e in &v.equipment {
        equipment.push(Equipment {
            jenis: required("equipment.jenis", &e.jenis)?,
            no_seri: text("equipment.no_seri", e.no_seri.as_deref())?,
        });
    }
    let doors = match &v.doors {
        None => ctx.visitors.doors.clone(),
        Some(d) if d.is_empty() => {
            return Err(StoreError::Invalid(
                "doors: name at least one door, or leave doors out".into(),
            ));
        }
        Some(d) => d.clone(),
    };
    for d in &doors {
        if !ctx.visitors.doors.contains(d) {
            return Err(StoreError::Invalid(format!(
                "doors: {d:?} is not a door visitors may be let through (visitors.doors)"
            )));
        }
    }
    escort::check(conn, v.escort_person_id, &doors, now)?;

    let (ttd_name, ttd_image, ttd_mime) = match signature {
        Checked::Typed(name) => (Some(name), None, None),
        Checked::Image(i) => (None, Some(i.bytes), Some(i.mime)),
    };
    let role = ctx.visitors.approver_role;
    conn.execute(
        "INSERT INTO visit (status, nama, instansi, alamat, jenis_identitas, jenis_identitas_lain,
             no_identitas, tujuan, host, escort_id, doors, id_deposited, ttd_name, ttd_image,
             ttd_mime, approver_role, approve_within_hours, checked_in_at, created_by,
             created_at, updated_at)
         VALUES ('waiting_approval', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,
                 ?14, ?15, ?16, ?17, ?18, ?17, ?17)",
        params![
            nama,
            text("instansi", v.instansi.as_deref())?,
            text("alamat", v.alamat.as_deref())?,
            v.jenis_identitas.as_str(),
            lain,
            no_identitas,
            tujuan,
            host,
            v.escort_person_id,
            serde_json::to_string(&doors).unwrap_or_default(),
            v.id_deposited,
            ttd_name,
            ttd_image,
            ttd_mime,
            role.as_str(),
            ctx.visitors.approve_within_hours,
            to_ms(now),
            actor.account_id,
        ],
    )?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO visit_equipment (visit_id, jenis, no_seri) VALUES (?1, ?2, ?3)",
    )?;
    for e in &equipment {
        stmt.execute(params![id, e.jenis, e.no_seri])?;
    }
    record(conn, id, "check_in", "checked_in", actor, None, now)?;
    audit::record(
        conn,
        actor,
        "visit.check_in",
        Some(format!("visit:{id}")),
        json!({ "nama": nama, "escort_person_id": v.escort_person_id, "doors": doors,
                "id_deposited": v.id_deposited }),
        now,
    )?;
    let view = get(conn, id, now)?;
    if let Some(w) = &view.waiting {
        let text = texts::waiting(id, &who(&view), &view.tujuan, w.since, w.due_at, ctx.tz);
        notices::send(conn, &[To::Role(role)], &text, now)?;
    }
    Ok(view)
}

/// The head of the facility grants or denies the visit; the desk is told.
pub fn decide(
    conn: &Connection,
    id: i64,
    approve: bool,
    decision_note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<VisitView> {
    let decision_note = note(decision_note, !approve, "a reason for the denial (note)")?;
    let (status, role, hours) = state(conn, id)?;
    let chain = [approval_step(role, hours)];
    let name = format!("visit {id}");
    check(
        &case_state(&name, status, &chain),
        "approve",
        StepKind::Approve,
        actor,
    )?;
    let (to, outcome) = if approve {
        (VisitStatus::Approved, "approved")
    } else {
        (VisitStatus::Denied, "denied")
    };
    conn.execute(
        "UPDATE visit SET status = ?2, decided_at = ?3, decision_note = ?4, updated_at = ?3
         WHERE id = ?1",
        params![id, to.as_str(), to_ms(now), decision_note],
    )?;
    record(
        conn,
        id,
        "approve",
        outcome,
        actor,
        decision_note.as_deref(),
        now,
    )?;
    audit::record(
        conn,
        actor,
        if approve {
            "visit.approve"
        } else {
            "visit.deny"
        },
        Some(format!("visit:{id}")),
        json!({ "note": decision_note }),
        now,
    )?;
    let view = get(conn, id, now)?;
    let by = format!("{} ({})", actor.name, actor.role);
    let text = texts::decided(id, &who(&view), approve, &by, decision_note.as_deref());
    notices::send(conn, &[To::Role(Role::Helpdesk)], &text, now)?;
    Ok(view)
}

/// `Nama (Instansi)`, for notices.
fn who(v: &VisitView) -> String {
    match &v.instansi {
        Some(i) => format!("{} ({i})", v.nama),
        None => v.nama.clone(),
    }
}

fn state(conn: &Connection, id: i64) -> Result<(VisitStatus, Role, u32)> {
    let row: Option<(String, String, u32)> = conn
        .prepare_cached(
            "SELECT status, approver_role, approve_within_hours FROM visit WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (status, role, hours) = row.ok_or_else(|| StoreError::NotFound(format!("visit {id}")))?;
    Ok((
        parse_status(&status)?,
        role.parse().map_err(StoreError::Invalid)?,
        hours,
    ))
}

fn parse_status(s: &str) -> Result<VisitStatus> {
    VisitStatus::parse(s).ok_or_else(|| StoreError::Invalid(format!("unknown visit status {s:?}")))
}

/// Records a step of a visit: who, in which role, when.
pub(crate) fn record(
    conn: &Connection,
    id: i64,
    step: &str,
    outcome: &str,
    actor: &Actor,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO visit_history (visit_id, step, outcome, actor, role, account_id, token_id,
                                    note, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
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

fn history(conn: &Connection, id: i64) -> Result<Vec<HistoryEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT step, outcome, actor, role, note, at FROM visit_history WHERE visit_id = ?1
         ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
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

pub(crate) fn equipment(conn: &Connection, id: i64) -> Result<Vec<Equipment>> {
    let mut stmt = conn.prepare_cached(
        "SELECT jenis, no_seri FROM visit_equipment WHERE visit_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Equipment {
            jenis: r.get(0)?,
            no_seri: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The signature picture and its type, if the visitor signed with one.
pub fn signature(conn: &Connection, id: i64) -> Result<Option<(String, Vec<u8>)>> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> = conn
        .prepare_cached("SELECT ttd_mime, ttd_image FROM visit WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        None => Err(StoreError::NotFound(format!("visit {id}"))),
        Some((Some(mime), Some(bytes))) => Ok(Some((mime, bytes))),
        Some(_) => Ok(None),
    }
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub status: Option<VisitStatus>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    pub after_id: Option<i64>,
}

pub fn get(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<VisitView> {
    list_where(conn, "v.id = ?1", params![id], now)?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("visit {id}")))
}

/// Oldest first.
pub fn list(conn: &Connection, f: &Filter, now: DateTime<Utc>) -> Result<Vec<VisitView>> {
    list_where(
        conn,
        "(?1 IS NULL OR v.status = ?1) AND (?2 IS NULL OR v.checked_in_at >= ?2)
         AND (?3 IS NULL OR v.checked_in_at < ?3) AND (?4 IS NULL OR v.id > ?4)
         ORDER BY v.id LIMIT ?5",
        params![
            f.status.map(VisitStatus::as_str),
            f.from.map(to_ms),
            f.until.map(to_ms),
            f.after_id,
            f.limit
        ],
        now,
    )
}

/// The desk's day: visits checked in since `since`, and older ones not checked out yet (the
/// badge or the identity document may still be out), oldest first.
pub fn desk(conn: &Connection, since: DateTime<Utc>, now: DateTime<Utc>) -> Result<Vec<VisitView>> {
    list_where(
        conn,
        "v.checked_in_at >= ?1 OR v.checked_out_at IS NULL ORDER BY v.id LIMIT 500",
        params![to_ms(since)],
        now,
    )
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
    now: DateTime<Utc>,
) -> Result<Vec<VisitView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT v.id, v.status, v.nama, v.instansi, v.alamat, v.jenis_identitas,
                v.jenis_identitas_lain, v.no_identitas, v.tujuan, v.host, v.escort_id, e.name,
                v.doors, v.id_deposited, v.id_returned_at, v.ttd_name, v.ttd_mime,
                v.approver_role, v.approve_within_hours, v.decided_at, v.decision_note,
                v.person_id, b.badge_number, v.badge_id, v.credential_id, v.right_id,
                v.badge_outcome, v.checked_in_at, v.badge_issued_at, v.checked_out_at
         FROM visit v JOIN person e ON e.id = v.escort_id
              LEFT JOIN visitor_badge b ON b.id = v.badge_id
         WHERE {filter}"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let status = parse_status(&r.get::<_, String>(1)?)?;
        let kind: String = r.get(5)?;
        let doors: String = r.get(12)?;
        let ttd_name: Option<String> = r.get(15)?;
        let role: String = r.get(17)?;
        let role: Role = role.parse().map_err(StoreError::Invalid)?;
        let hours: u32 = r.get(18)?;
        let checked_in_at = from_ms(r.get(27)?);
        let outcome: Option<String> = r.get(26)?;
        out.push(VisitView {
            id,
            status,
            nama: r.get(2)?,
            instansi: r.get(3)?,
            alamat: r.get(4)?,
            jenis_identitas: IdKind::parse(&kind)
                .ok_or_else(|| StoreError::Invalid(format!("unknown identity kind {kind:?}")))?,
            jenis_identitas_lain: r.get(6)?,
            no_identitas: r.get(7)?,
            tujuan: r.get(8)?,
            host: r.get(9)?,
            escort_person_id: r.get(10)?,
            escort_name: r.get(11)?,
            doors: serde_json::from_str(&doors).unwrap_or_default(),
            equipment: equipment(conn, id)?,
            id_deposited: r.get(13)?,
            id_returned_at: r.get::<_, Option<i64>>(14)?.map(from_ms),
            ttd: TtdView {
                kind: if ttd_name.is_some() { "typed" } else { "image" },
                name: ttd_name,
                mime: r.get(16)?,
            },
            approver_role: role,
            waiting: (status == VisitStatus::WaitingApproval)
                .then(|| WaitingStep::new(&approval_step(role, hours), checked_in_at, now)),
            decided_at: r.get::<_, Option<i64>>(19)?.map(from_ms),
            decision_note: r.get(20)?,
            person_id: r.get(21)?,
            badge_number: r.get(22)?,
            visitor_badge_id: r.get(23)?,
            credential_id: r.get(24)?,
            right_id: r.get(25)?,
            badge_outcome: match outcome.as_deref() {
                Some("returned") => Some(BadgeOutcome::Returned),
                Some("lost") => Some(BadgeOutcome::Lost),
                _ => None,
            },
            checked_in_at,
            badge_issued_at: r.get::<_, Option<i64>>(28)?.map(from_ms),
            checked_out_at: r.get::<_, Option<i64>>(29)?.map(from_ms),
            history: history(conn, id)?,
        });
    }
    Ok(out)
}
