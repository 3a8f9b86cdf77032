//! People: card holders and staff, with the identity data the SOP forms ask for.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Changed, Result, StoreError, audit, from_ms, to_ms};
use crate::model::{Actor, PersonId};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    /// NIP, or the number of an identity document.
    pub id_number: Option<String>,
    /// Unit kerja / instansi.
    pub unit: Option<String>,
    pub contact: Option<String>,
    /// Whether a PIN is set for card + PIN doors (the PIN itself is never shown).
    pub has_pin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    pub name: String,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

/// Fields to change; absent fields are left as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub id_number: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub contact: Option<String>,
}

const MAX_TEXT: usize = 200;

/// Trims and bounds a free-text field; empty means absent.
pub(crate) fn text(field: &str, value: Option<&str>) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > MAX_TEXT {
        return Err(StoreError::Invalid(format!(
            "{field} is at most {MAX_TEXT} characters"
        )));
    }
    if v.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(Some(v.to_owned()))
}

pub(crate) fn required(field: &str, value: &str) -> Result<String> {
    text(field, Some(value))?.ok_or_else(|| StoreError::Invalid(format!("{field} is required")))
}

pub fn create(
    conn: &Connection,
    p: &NewPerson,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Person, Changed)> {
    let name = required("name", &p.name)?;
    let id_number = text("id_number", p.id_number.as_deref())?;
    let unit = text("unit", p.unit.as_deref())?;
    let contact = text("contact", p.contact.as_deref())?;
    conn.execute(
        "INSERT INTO person (name, id_number, unit, contact, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![name, id_number, unit, contact, to_ms(now)],
    )?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "person.create",
        Some(format!("person:{id}")),
        json!({ "name": name }),
        now,
    )?;
    Ok((get(conn, id)?, Changed::none()))
}

pub fn update(
    conn: &Connection,
    id: PersonId,
    u: &PersonUpdate,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Person, Changed)> {
    let current = get(conn, id)?;
    let name = match &u.name {
        Some(n) => required("name", n)?,
        None => current.name,
    };
    let pick = |field: &str, new: &Option<String>, old: Option<String>| -> Result<Option<String>> {
        match new {
            Some(v) => text(field, Some(v)),
            None => Ok(old),
        }
    };
    let id_number = pick("id_number", &u.id_number, current.id_number)?;
    let unit = pick("unit", &u.unit, current.unit)?;
    let contact = pick("contact", &u.contact, current.contact)?;
    conn.execute(
        "UPDATE person SET name = ?2, id_number = ?3, unit = ?4, contact = ?5, updated_at = ?6
         WHERE id = ?1",
        params![id, name, id_number, unit, contact, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "person.update",
        Some(format!("person:{id}")),
        json!({ "name": name }),
        now,
    )?;
    Ok((get(conn, id)?, Changed::none()))
}

/// Sets (or with `None` clears) a person's PIN. Only the argon2 hash is stored; the audit
/// line says that the PIN changed, never what it is.
pub fn set_pin(
    conn: &Connection,
    id: PersonId,
    pin: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<((), Changed)> {
    get(conn, id)?;
    let hash = match pin {
        Some(p) => Some(crate::pin::hash(p).map_err(StoreError::Invalid)?),
        None => None,
    };
    conn.execute(
        "UPDATE person SET pin_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, hash, to_ms(now)],
    )?;
    let action = if pin.is_some() {
        "person.pin_set"
    } else {
        "person.pin_clear"
    };
    audit::record(
        conn,
        actor,
        action,
        Some(format!("person:{id}")),
        json!({}),
        now,
    )?;
    Ok(((), Changed::person(id)))
}

pub fn get(conn: &Connection, id: PersonId) -> Result<Person> {
    find(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("person {id}")))
}

pub fn find(conn: &Connection, id: PersonId) -> Result<Option<Person>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, name, id_number, unit, contact, created_at, updated_at, pin_hash IS NOT NULL
             FROM person WHERE id = ?1",
        )?
        .query_row([id], row)
        .optional()?)
}

/// All people, optionally those whose name, number or unit contains `query`.
pub fn list(
    conn: &Connection,
    query: Option<&str>,
    limit: u32,
    after_id: Option<i64>,
) -> Result<Vec<Person>> {
    let pattern = query.map(|q| format!("%{}%", q.replace('%', "\\%").replace('_', "\\_")));
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, id_number, unit, contact, created_at, updated_at, pin_hash IS NOT NULL
         FROM person WHERE (?1 IS NULL OR name LIKE ?1 ESCAPE '\\' OR id_number LIKE ?1 ESCAPE '\\'
                OR unit LIKE ?1 ESCAPE '\\')
           AND (?2 IS NULL OR id > ?2)
         ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![pattern, after_id, limit], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person {
        id: r.get(0)?,
        name: r.get(1)?,
        id_number: r.get(2)?,
        unit: r.get(3)?,
        contact: r.get(4)?,
        created_at: from_ms(r.get(5)?),
        updated_at: from_ms(r.get(6)?),
        has_pin: r.get(7)?,
    })
}
