//! Access rights: which doors a person may open, from when until when, and when in the week.

use chrono::{DateTime, Datelike, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Changed, Result, StoreError, audit, from_ms, to_ms};
use crate::model::{Actor, PersonId, RightId};
use crate::schedule::Schedule;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRight {
    /// Door names from the configuration.
    pub doors: Vec<String>,
    /// RFC 3339 with an offset, e.g. `2026-01-01T00:00:00+07:00`.
    pub valid_from: DateTime<Utc>,
    /// Exclusive end.
    pub valid_until: DateTime<Utc>,
    /// Omit for any time of the week.
    #[serde(default)]
    pub schedule: Option<Schedule>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RightView {
    pub id: RightId,
    pub person_id: PersonId,
    pub doors: Vec<String>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub schedule: Option<Schedule>,
    /// Where the right came from: `direct` (admin import) or a workflow reference.
    pub source: String,
    /// `active` or `removed`.
    pub status: String,
    pub removed_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Dates outside this range are typing mistakes, not access periods.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

pub fn validate(r: &NewRight) -> Result<()> {
    validate_period(r.valid_from, r.valid_until)?;
    if r.doors.is_empty() {
        return Err(StoreError::Invalid(
            "a right needs at least one door".into(),
        ));
    }
    if let Some(s) = &r.schedule {
        s.validate().map_err(StoreError::Invalid)?;
    }
    Ok(())
}

/// A validity period: both ends in a plausible range, the end after the start.
pub fn validate_period(valid_from: DateTime<Utc>, valid_until: DateTime<Utc>) -> Result<()> {
    for (field, t) in [("valid_from", valid_from), ("valid_until", valid_until)] {
        if !YEARS.contains(&t.year()) {
            return Err(StoreError::Invalid(format!(
                "{field} {t} is out of range (years {} to {})",
                YEARS.start(),
                YEARS.end()
            )));
        }
    }
    if valid_until <= valid_from {
        return Err(StoreError::Invalid(
            "valid_until must be after valid_from".into(),
        ));
    }
    Ok(())
}

/// The id of the configured door `name`, or a clear error.
pub fn door_id(conn: &Connection, name: &str) -> Result<i64> {
    conn.prepare_cached("SELECT id FROM door WHERE name = ?1")?
        .query_row([name], |row| row.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Invalid(format!("no door is named {name:?}")))
}

pub fn create(
    conn: &Connection,
    person: PersonId,
    r: &NewRight,
    source: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(RightView, Changed)> {
    validate(r)?;
    super::people::get(conn, person)?;
    let mut door_ids = Vec::with_capacity(r.doors.len());
    for name in &r.doors {
        door_ids.push(door_id(conn, name)?);
    }
    let schedule = r
        .schedule
        .as_ref()
        .map(|s| serde_json::to_string(s).unwrap_or_default());
    conn.execute(
        "INSERT INTO access_right (person_id, valid_from, valid_until, schedule, source, status,
                                   created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?6)",
        params![
            person,
            to_ms(r.valid_from),
            to_ms(r.valid_until),
            schedule,
            source,
            to_ms(now)
        ],
    )?;
    let id = conn.last_insert_rowid();
    for door in door_ids {
        conn.execute(
            "INSERT OR IGNORE INTO access_right_door (right_id, door_id) VALUES (?1, ?2)",
            [id, door],
        )?;
    }
    audit::record(
        conn,
        actor,
        "right.create",
        Some(format!("right:{id}")),
        json!({ "person_id": person, "doors": r.doors, "valid_from": r.valid_from,
                "valid_until": r.valid_until, "source": source,
                "path": if source == super::badges::DIRECT { "direct import (admin)" } else { "workflow" } }),
        now,
    )?;
    Ok((get(conn, id)?, Changed::person(person)))
}

pub fn remove(
    conn: &Connection,
    id: RightId,
    reason: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(RightView, Changed)> {
    let reason = super::people::required("reason", reason)?;
    let right = get(conn, id)?;
    if right.status == "removed" {
        return Err(StoreError::Conflict(format!(
            "right {id} is already removed"
        )));
    }
    conn.execute(
        "UPDATE access_right SET status = 'removed', removed_reason = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, reason, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "right.remove",
        Some(format!("right:{id}")),
        json!({ "reason": reason }),
        now,
    )?;
    Ok((get(conn, id)?, Changed::person(right.person_id)))
}

pub fn get(conn: &Connection, id: RightId) -> Result<RightView> {
    list_where(conn, "r.id = ?1", params![id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("right {id}")))
}

pub fn list_for_person(conn: &Connection, person: PersonId) -> Result<Vec<RightView>> {
    list_where(conn, "r.person_id = ?1", params![person])
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<RightView>> {
    let sql = format!(
        "SELECT r.id, r.person_id, r.valid_from, r.valid_until, r.schedule, r.source, r.status,
                r.removed_reason, r.created_at,
                (SELECT group_concat(d.name, ',') FROM access_right_door x JOIN door d ON d.id = x.door_id
                 WHERE x.right_id = r.id)
         FROM access_right r WHERE {filter} ORDER BY r.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(args, |r| {
        let schedule: Option<String> = r.get(4)?;
        let doors: Option<String> = r.get(9)?;
        Ok(RightView {
            id: r.get(0)?,
            person_id: r.get(1)?,
            valid_from: from_ms(r.get(2)?),
            valid_until: from_ms(r.get(3)?),
            schedule: schedule.and_then(|s| serde_json::from_str(&s).ok()),
            source: r.get(5)?,
            status: r.get(6)?,
            removed_reason: r.get(7)?,
            created_at: from_ms(r.get(8)?),
            doors: doors
                .map(|d| d.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
