//! Doors and readers are declared in the configuration; their rows give them stable ids
//! for rights and register lines across restarts and renames of other devices.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{Result, to_ms};
use crate::config::{DoorConfig, ReaderConfig};
use crate::model::{DoorId, ReaderId};

#[derive(Debug, Clone, Default)]
pub struct DeviceIds {
    pub doors: HashMap<String, DoorId>,
    pub readers: HashMap<String, ReaderId>,
}

/// Inserts configured doors and readers that are new, updates readers that moved. Rows of
/// devices no longer configured stay, so old register lines keep their names.
pub fn sync(
    conn: &Connection,
    doors: &[DoorConfig],
    readers: &[ReaderConfig],
    now: DateTime<Utc>,
) -> Result<DeviceIds> {
    let mut ids = DeviceIds::default();
    for door in doors {
        conn.execute(
            "INSERT INTO door (name, created_at) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
            params![door.name, to_ms(now)],
        )?;
        let id = conn.query_row("SELECT id FROM door WHERE name = ?1", [&door.name], |r| {
            r.get(0)
        })?;
        ids.doors.insert(door.name.clone(), id);
    }
    for reader in readers {
        let door = ids.doors[&reader.door];
        conn.execute(
            "INSERT INTO reader (name, door_id, direction, kind, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(name) DO UPDATE SET door_id = ?2, direction = ?3, kind = ?4",
            params![
                reader.name,
                door,
                reader.direction.as_str(),
                reader.kind.as_str(),
                to_ms(now)
            ],
        )?;
        let id = conn.query_row(
            "SELECT id FROM reader WHERE name = ?1",
            [&reader.name],
            |r| r.get(0),
        )?;
        ids.readers.insert(reader.name.clone(), id);
    }
    Ok(ids)
}

/// Names of every door and reader ever configured, for showing old register lines.
pub fn names(conn: &Connection) -> Result<(HashMap<DoorId, String>, HashMap<ReaderId, String>)> {
    let collect = |sql: &str| -> Result<HashMap<i64, String>> {
        let mut stmt = conn.prepare_cached(sql)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok((
        collect("SELECT id, name FROM door")?,
        collect("SELECT id, name FROM reader")?,
    ))
}
