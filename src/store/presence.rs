//! Who is inside a door, as the register says: the start of each door's in-memory presence
//! list (see `door::presence`), so a restart forgets nobody who is inside.

use rusqlite::Connection;

use super::{Result, from_ms};
use crate::door::Inside;
use crate::model::DoorId;

/// Each person whose last granted tap at `door` was an entry, except visitors whose badge the
/// desk has since taken back (they are outside, whatever the readers saw). One pass over the
/// door's granted taps; it runs once per door at start.
pub fn inside(conn: &Connection, door: DoorId) -> Result<Vec<Inside>> {
    let mut stmt = conn.prepare(
        "SELECT r.person_id, r.credential_id, r.at, v.escort_id
         FROM register r
         JOIN (SELECT MAX(id) AS id FROM register
               WHERE door_id = ?1 AND event = 'tap' AND granted = 1 AND person_id IS NOT NULL
               GROUP BY person_id) last ON last.id = r.id
         LEFT JOIN visit v ON v.credential_id = r.credential_id
         WHERE r.direction = 'in' AND (v.id IS NULL OR v.checked_out_at IS NULL)
         ORDER BY r.at",
    )?;
    let rows = stmt.query_map([door], |r| {
        Ok(Inside {
            person_id: r.get(0)?,
            credential_id: r.get(1)?,
            since: from_ms(r.get(2)?),
            escort: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
