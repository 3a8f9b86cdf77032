//! The visitor badge of a visit: handed out once the head has approved, open for that visit
//! and that day only; taken back at check-out in exchange for the identity document, or
//! reported lost, which blocks the card at every door.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::json;

use super::{VisitView, get, record};
use crate::model::{Actor, CredentialStatus, PersonId};
use crate::store::cases::note;
use crate::store::notices::{self, To};
use crate::store::people::{self, NewPerson};
use crate::store::rights::{self, NewRight};
use crate::store::visitor_badges::{self, PoolStatus};
use crate::store::{Changed, Result, StoreError, audit, badges, to_ms};
use crate::visit::{self, BadgeOutcome, VisitStatus, badge_valid_until, texts};

/// Binds a free visitor badge to an approved visit: the visitor becomes a card holder with
/// a right on the visit's doors until the end of the day. The door honours it (next to the
/// escort) when the call returns.
pub fn issue_badge(
    conn: &Connection,
    tz: Tz,
    id: i64,
    badge_number: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(VisitView, Changed)> {
    let view = get(conn, id, now)?;
    visit::may_issue_badge(id, view.status, view.approver_role)?;
    let badge = match badge_number {
        Some(n) => visitor_badges::by_number(conn, n)?,
        None => visitor_badges::first_available(conn)?,
    };
    if badge.status != PoolStatus::Available {
        return Err(StoreError::Conflict(format!(
            "visitor badge {} is {}; hand out another",
            badge.badge_number,
            badge.status.as_str()
        )));
    }
    let credential = badge.credential()?;
    let (person, _) = people::create(
        conn,
        &NewPerson {
            name: view.nama.clone(),
            id_number: Some(view.no_identitas.clone()),
            unit: view.instansi.clone(),
            contact: None,
        },
        actor,
        now,
    )?;
    let source = format!("visit:{id}");
    let credential_id = badges::bind(
        conn,
        person.id,
        credential,
        Some(&badge.badge_number),
        &source,
        actor,
        now,
    )?;
    let (right, _) = rights::create(
        conn,
        person.id,
        &NewRight {
            doors: view.doors.clone(),
            valid_from: now,
            valid_until: badge_valid_until(now, tz),
            schedule: None,
        },
        &source,
        actor,
        now,
    )?;
    visitor_badges::mark(conn, badge.id, PoolStatus::Issued, now)?;
    conn.execute(
        "UPDATE visit SET status = 'active', person_id = ?2, badge_id = ?3, credential_id = ?4,
                          right_id = ?5, badge_issued_at = ?6, updated_at = ?6
         WHERE id = ?1",
        params![id, person.id, badge.id, credential_id, right.id, to_ms(now)],
    )?;
    record(
        conn,
        id,
        "badge",
        "issued",
        actor,
        Some(&badge.badge_number),
        now,
    )?;
    audit::record(
        conn,
        actor,
        "visit.badge",
        Some(format!("visit:{id}")),
        json!({ "badge_number": badge.badge_number, "person_id": person.id,
                "valid_until": right.valid_until }),
        now,
    )?;
    let changed = Changed {
        persons: vec![person.id],
        credentials: vec![credential],
    };
    Ok((get(conn, id, now)?, changed))
}

/// Check-out at the desk.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOut {
    /// Required while a visitor badge is out: `returned` (handed back) or `lost`.
    #[serde(default)]
    pub badge: Option<BadgeOutcome>,
    /// Required (`true`) when the identity document was deposited: it was handed back.
    #[serde(default)]
    pub id_returned: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// The check-out rule ([`visit::check_out`]) for a stored visit. The pages read it first, so
/// a refusal lands on the field at fault.
pub fn check_out_rule(
    view: &VisitView,
    c: &CheckOut,
) -> std::result::Result<VisitStatus, visit::VisitError> {
    let badge_out =
        (view.status == VisitStatus::Active).then(|| view.badge_number.clone().unwrap_or_default());
    visit::check_out(
        view.id,
        view.status,
        view.checked_out_at.is_some(),
        badge_out.as_deref(),
        c.badge,
        view.id_deposited,
        c.id_returned,
    )
}

/// Ends the visit: the badge back in the pool (or blocked as lost), the right removed, the
/// identity document returned, the head told. Refused while the badge is unaccounted for.
/// Returns the visitor as a card holder, whom the doors then count outside.
pub fn check_out(
    conn: &Connection,
    tz: Tz,
    id: i64,
    c: &CheckOut,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(VisitView, Changed, Option<PersonId>)> {
    let view = get(conn, id, now)?;
    let end = check_out_rule(&view, c)?;
    let note = note(c.note.as_deref(), false, "note")?;
    let mut changed = Changed::none();
    if let (Some(outcome), Some(credential_id)) = (c.badge, view.credential_id) {
        let (to, pool, reason) = match outcome {
            BadgeOutcome::Returned => (
                CredentialStatus::Revoked,
                PoolStatus::Available,
                format!("kartu tamu dikembalikan, kunjungan {id} selesai"),
            ),
            BadgeOutcome::Lost => (
                CredentialStatus::Lost,
                PoolStatus::Lost,
                format!("kartu tamu hilang pada kunjungan {id}"),
            ),
        };
        // An operator may have blocked the card already; the desk's word still ends it.
        let current = badges::get(conn, credential_id)?.status;
        if current != to && current != CredentialStatus::Revoked {
            let (_, c) = badges::set_status(conn, credential_id, to, Some(&reason), actor, now)?;
            changed.credentials.extend(c.credentials);
        }
        if let Some(right) = view.right_id
            && rights::get(conn, right)?.status == "active"
        {
            let (_, c) =
                rights::remove(conn, right, &format!("kunjungan {id} selesai"), actor, now)?;
            changed.persons.extend(c.persons);
        }
        if let Some(b) = view.visitor_badge_id {
            visitor_badges::mark(conn, b, pool, now)?;
        }
    }
    conn.execute(
        "UPDATE visit SET status = ?2, checked_out_at = ?3, badge_outcome = ?4,
                          id_returned_at = CASE WHEN id_deposited THEN ?3 END, updated_at = ?3
         WHERE id = ?1",
        params![
            id,
            end.as_str(),
            to_ms(now),
            c.badge.map(BadgeOutcome::as_str)
        ],
    )?;
    record(
        conn,
        id,
        "check_out",
        "checked_out",
        actor,
        note.as_deref(),
        now,
    )?;
    audit::record(
        conn,
        actor,
        "visit.check_out",
        Some(format!("visit:{id}")),
        json!({ "badge": c.badge, "id_returned": view.id_deposited, "note": note }),
        now,
    )?;
    let badge = match (c.badge, &view.badge_number) {
        (Some(BadgeOutcome::Returned), Some(n)) => {
            format!("Badge pengunjung {n} telah dikembalikan.")
        }
        (Some(BadgeOutcome::Lost), Some(n)) => {
            format!("Badge pengunjung {n} dilaporkan hilang dan telah diblokir di semua pintu.")
        }
        _ => "Tidak ada badge pengunjung yang diserahkan.".into(),
    };
    let who = view.nama.clone();
    let text = texts::ended(id, &who, now, &badge, tz);
    notices::send(conn, &[To::Role(view.approver_role)], &text, now)?;
    Ok((get(conn, id, now)?, changed, view.person_id))
}
