//! Who may escort a visitor: a staff member with their own active card and a right, valid
//! now, for every door of the visit (the visitor badge opens a door only right after the
//! escort's card). The check-in refuses anyone else, and the desk's form offers only these.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::model::PersonId;
use crate::store::{Result, StoreError, people, rights, to_ms};

/// Why `escort` may not escort through `doors` now, or `None` when they may.
fn refusal(
    conn: &Connection,
    escort: PersonId,
    name: &str,
    doors: &[String],
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    let card: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM credential WHERE person_id = ?1 AND status = 'active'
               AND source NOT LIKE 'visit:%' LIMIT 1",
        )?
        .query_row([escort], |r| r.get(0))
        .optional()?;
    if card.is_none() {
        return Ok(Some(format!(
            "escort_person_id: {name} has no active staff card; the escort opens the door first with their own card"
        )));
    }
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM access_right r JOIN access_right_door d ON d.right_id = r.id
         WHERE r.person_id = ?1 AND d.door_id = ?2 AND r.status = 'active'
           AND r.valid_from <= ?3 AND r.valid_until > ?3 AND r.source NOT LIKE 'visit:%'",
    )?;
    for door in doors {
        let id = rights::door_id(conn, door)?;
        if !stmt.exists(params![escort, id, to_ms(now)])? {
            return Ok(Some(format!(
                "escort_person_id: {name} has no right valid now for door {door:?}"
            )));
        }
    }
    Ok(None)
}

/// Refuses an escort who may not escort through `doors` now.
pub(super) fn check(
    conn: &Connection,
    escort: PersonId,
    doors: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let person = people::find(conn, escort)?
        .ok_or_else(|| StoreError::Invalid(format!("escort_person_id: no person {escort}")))?;
    match refusal(conn, escort, &person.name, doors, now)? {
        Some(why) => Err(StoreError::Invalid(why)),
        None => Ok(()),
    }
}

/// Everyone the check-in would accept as escort through `doors` now, by name.
pub fn candidates(
    conn: &Connection,
    doors: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<(PersonId, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT p.id, p.name FROM person p JOIN credential c ON c.person_id = p.id
         WHERE c.status = 'active' AND c.source NOT LIKE 'visit:%' ORDER BY p.name, p.id",
    )?;
    let holders = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(PersonId, String)>>>()?;
    let mut out = Vec::new();
    for (id, name) in holders {
        if refusal(conn, id, &name, doors, now)?.is_none() {
            out.push((id, name));
        }
    }
    Ok(out)
}
