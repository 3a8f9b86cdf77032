//! Builds the door's access-list snapshot from the tables, in full at start and per card
//! after each change.

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, params};

use super::{Changed, Result, from_ms};
use crate::decision::{AccessList, Entry, Right, Snapshot};
use crate::model::{Credential, CredentialStatus, PersonId, Technology};

/// Loads every card. Revoked rows sort first so a live row for the same UID wins, and among
/// revoked rows the latest wins (the door then says "revoked", not "unknown").
pub fn load_all(conn: &Connection, timezone: chrono_tz::Tz) -> Result<Snapshot> {
    let mut rights: HashMap<PersonId, Vec<Right>> = HashMap::new();
    let mut doors: HashMap<i64, Vec<i64>> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT d.right_id, d.door_id FROM access_right_door d
             JOIN access_right r ON r.id = d.right_id WHERE r.status = 'active'",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            doors.entry(row.get(0)?).or_default().push(row.get(1)?);
        }
        let mut stmt = conn.prepare(
            "SELECT id, person_id, valid_from, valid_until, schedule FROM access_right
             WHERE status = 'active'",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let right = right_from(id, doors.remove(&id).unwrap_or_default(), row)?;
            rights.entry(row.get(1)?).or_default().push(right);
        }
    }
    let rights: HashMap<PersonId, Arc<[Right]>> =
        rights.into_iter().map(|(p, r)| (p, r.into())).collect();
    let none: Arc<[Right]> = Arc::from(Vec::new());

    let mut snapshot = Snapshot::new(timezone);
    let mut stmt = conn.prepare(
        "SELECT c.technology, c.uid, c.id, c.person_id, c.status, p.pin_hash, v.escort_id
         FROM credential c JOIN person p ON p.id = c.person_id
              LEFT JOIN visit v ON v.credential_id = c.id
         ORDER BY c.status != 'revoked', c.id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (credential, mut entry) = entry_from(row, none.clone())?;
        if let Some(r) = rights.get(&entry.person_id) {
            entry.rights = r.clone();
        }
        snapshot.insert(credential, entry);
    }
    Ok(snapshot)
}

/// Reloads the cards a write touched and publishes the new snapshot.
pub fn refresh(conn: &Connection, access: &AccessList, changed: &Changed) -> Result<()> {
    if changed.persons.is_empty() && changed.credentials.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<Credential> = changed.credentials.clone();
    let mut stmt =
        conn.prepare_cached("SELECT technology, uid FROM credential WHERE person_id = ?1")?;
    for person in &changed.persons {
        let mut rows = stmt.query([person])?;
        while let Some(row) = rows.next()? {
            keys.push(credential_from(
                &row.get::<_, String>(0)?,
                &row.get::<_, String>(1)?,
            )?);
        }
    }
    keys.sort();
    keys.dedup();
    let mut entries = Vec::with_capacity(keys.len());
    for key in keys {
        entries.push((key, load_entry(conn, &key)?));
    }
    access.update(|s| {
        for (key, entry) in entries {
            match entry {
                Some(e) => s.insert(key, e),
                None => s.remove(&key),
            }
        }
    });
    Ok(())
}

fn load_entry(conn: &Connection, key: &Credential) -> Result<Option<Entry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.technology, c.uid, c.id, c.person_id, c.status, p.pin_hash, v.escort_id
         FROM credential c JOIN person p ON p.id = c.person_id
              LEFT JOIN visit v ON v.credential_id = c.id
         WHERE c.technology = ?1 AND c.uid = ?2
         ORDER BY c.status != 'revoked' DESC, c.id DESC LIMIT 1",
    )?;
    let mut rows = stmt.query(params![key.technology().as_str(), key.uid_hex()])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let (_, mut entry) = entry_from(row, Arc::from(Vec::new()))?;
    entry.rights = person_rights(conn, entry.person_id)?.into();
    Ok(Some(entry))
}

fn person_rights(conn: &Connection, person: PersonId) -> Result<Vec<Right>> {
    let mut doors_stmt =
        conn.prepare_cached("SELECT door_id FROM access_right_door WHERE right_id = ?1")?;
    let mut stmt = conn.prepare_cached(
        "SELECT id, person_id, valid_from, valid_until, schedule FROM access_right
         WHERE person_id = ?1 AND status = 'active'",
    )?;
    let mut rows = stmt.query([person])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let doors = doors_stmt
            .query_map([id], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        out.push(right_from(id, doors, row)?);
    }
    Ok(out)
}

fn right_from(id: i64, doors: Vec<i64>, row: &rusqlite::Row<'_>) -> Result<Right> {
    let schedule: Option<String> = row.get(4)?;
    let schedule = match schedule {
        Some(json) => Some(Arc::new(serde_json::from_str(&json).map_err(|e| {
            super::StoreError::Invalid(format!("right {id} has an unreadable schedule: {e}"))
        })?)),
        None => None,
    };
    Ok(Right {
        id,
        doors: doors.into(),
        valid_from: from_ms(row.get(2)?),
        valid_until: from_ms(row.get(3)?),
        schedule,
    })
}

fn entry_from(row: &rusqlite::Row<'_>, rights: Arc<[Right]>) -> Result<(Credential, Entry)> {
    let credential = credential_from(&row.get::<_, String>(0)?, &row.get::<_, String>(1)?)?;
    let status: String = row.get(4)?;
    let status: CredentialStatus = status.parse().map_err(super::StoreError::Invalid)?;
    let pin_hash: Option<String> = row.get(5)?;
    Ok((
        credential,
        Entry {
            credential_id: row.get(2)?,
            person_id: row.get(3)?,
            status,
            rights,
            pin_hash: pin_hash.map(Arc::from),
            escort: row.get(6)?,
        },
    ))
}

pub(crate) fn credential_from(technology: &str, uid: &str) -> Result<Credential> {
    let tech: Technology = technology
        .parse()
        .map_err(|e: crate::model::CredentialError| super::StoreError::Invalid(e.to_string()))?;
    Credential::parse_hex(tech, uid).map_err(|e| super::StoreError::Invalid(e.to_string()))
}
