//! The Operator's step after the approvals: a card for a door request, or the record of an
//! account made in another system for the other kinds.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};
use serde::Deserialize;

use super::{
    RequestView, finish_step, get, load_state, notify_waiting, state, step_of_kind, tell_granted,
};
use crate::model::{Actor, Credential, Technology};
use crate::store::people::{NewPerson, required};
use crate::store::rights::NewRight;
use crate::store::{Changed, Result, StoreError, badges, cases, logical, people, rights, to_ms};
use crate::workflow::{CaseStatus, Chain, StepKind, check};

/// The card for an approved request: typed at the desk, or the next card presented on a
/// desk reader (`enroll_reader`). Exactly one of `uid` and `enroll_reader`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueCard {
    /// Card UID in hex; `:`, `-` and spaces are ignored.
    #[serde(default)]
    pub uid: Option<String>,
    /// A reader with `purpose = "enrollment"`: the call waits for the next card presented
    /// on it and binds that card.
    #[serde(default)]
    pub enroll_reader: Option<String>,
    /// How long to wait for the card, 1-120 seconds (default 30); 408 when none came.
    #[serde(default)]
    pub enroll_timeout_seconds: Option<u64>,
    /// With `uid`: defaults to `iso14443`. With `enroll_reader` the reader says.
    #[serde(default)]
    pub technology: Option<Technology>,
    /// The number printed on the card, if any.
    #[serde(default)]
    pub badge_number: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Whether `actor` may issue the card of request `id` now: checked before anyone is asked
/// to present a card at the desk, and again when it is bound. The request's chain and the
/// index of its issue step.
pub fn may_issue(
    conn: &Connection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Chain, usize)> {
    let (stored, addressed) = load_state(conn, id)?;
    let step = step_of_kind(&stored.chain, StepKind::Issue, id)?;
    let index = check(
        &state(&format!("request {id}"), &stored, &addressed),
        &step,
        StepKind::Issue,
        actor,
    )?;
    let valid_until: i64 =
        conn.query_row("SELECT valid_until FROM request WHERE id = ?1", [id], |r| {
            r.get(0)
        })?;
    let valid_until = crate::store::from_ms(valid_until);
    if valid_until <= now {
        return Err(StoreError::Conflict(format!(
            "the approved period of request {id} ended at {valid_until}; the applicant must ask again"
        )));
    }
    Ok((stored.chain, index))
}

/// Issues `credential` for request `id`: the holder, the card and the right, with the
/// approved doors, period and schedule. The door honours it when this transaction commits.
#[allow(clippy::too_many_arguments)]
pub fn issue(
    conn: &Connection,
    tz: Tz,
    id: i64,
    credential: Credential,
    badge_number: Option<&str>,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(RequestView, Changed)> {
    let note = cases::note(note, false, "note")?;
    let (chain, index) = may_issue(conn, id, actor, now)?;
    let req = get(conn, id, now)?;
    let person = match req.person_id {
        Some(p) => p,
        None => {
            people::create(
                conn,
                &NewPerson {
                    name: req.applicant_name.clone(),
                    id_number: req.applicant_nip.clone(),
                    unit: req.unit_kerja.clone().or_else(|| req.instansi.clone()),
                    contact: req.email.clone(),
                },
                actor,
                now,
            )?
            .0
            .id
        }
    };
    let source = format!("request:{id}");
    let badge = badges::bind(conn, person, credential, badge_number, &source, actor, now)?;
    let (right, _) = rights::create(
        conn,
        person,
        &NewRight {
            doors: req.doors.clone(),
            valid_from: req.valid_from,
            valid_until: req.valid_until,
            schedule: req.schedule.clone(),
        },
        &source,
        actor,
        now,
    )?;
    let responsible: Option<i64> = conn.query_row(
        "SELECT responsible_id FROM request WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?;
    conn.execute(
        "UPDATE access_right SET request_id = ?2, responsible_id = ?3 WHERE id = ?1",
        params![right.id, id, responsible],
    )?;
    conn.execute(
        "UPDATE request SET person_id = ?2, right_id = ?3, credential_id = ?4, updated_at = ?5
         WHERE id = ?1",
        params![id, person, right.id, badge, to_ms(now)],
    )?;
    finish_step(
        conn,
        id,
        &chain,
        index,
        true,
        "issued",
        note.as_deref(),
        actor,
        now,
    )?;
    let view = after_closing_step(conn, tz, id, now)?;
    let mut changed = Changed::credential(credential);
    changed.persons.push(person);
    Ok((view, changed))
}

/// Records the account made in another system for an approved request (seeds 000, 003).
#[allow(clippy::too_many_arguments)]
pub fn grant(
    conn: &Connection,
    tz: Tz,
    id: i64,
    username: &str,
    note: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let username = required("username", username)?;
    let note = cases::note(note, false, "note")?;
    let (stored, addressed) = load_state(conn, id)?;
    let step = step_of_kind(&stored.chain, StepKind::Grant, id)?;
    let index = check(
        &state(&format!("request {id}"), &stored, &addressed),
        &step,
        StepKind::Grant,
        actor,
    )?;
    let req = get(conn, id, now)?;
    let logical = logical::open_from_request(conn, &req, &username, actor, now)?;
    conn.execute(
        "UPDATE request SET logical_id = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, logical, to_ms(now)],
    )?;
    finish_step(
        conn,
        id,
        &stored.chain,
        index,
        true,
        "granted",
        note.as_deref(),
        actor,
        now,
    )?;
    after_closing_step(conn, tz, id, now)
}

/// After issue or grant: tell the next step, or the applicant when the chain ends here.
fn after_closing_step(
    conn: &Connection,
    tz: Tz,
    id: i64,
    now: DateTime<Utc>,
) -> Result<RequestView> {
    let view = get(conn, id, now)?;
    if view.status == CaseStatus::Completed {
        tell_granted(conn, tz, &view, now)?;
    } else {
        notify_waiting(conn, tz, &view, now)?;
    }
    Ok(view)
}
