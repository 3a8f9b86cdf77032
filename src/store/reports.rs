//! The queries behind the periodic access report: one pass over the register lines of the
//! period (by the time index, no joins, nothing kept per line), then the small lists —
//! names, visits, overdue steps, rights expiring or unused.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, params};

use super::{Result, StoreError, from_ms, to_ms};
use crate::config::ReportConfig;
use crate::report::Lang;
use crate::report::access::{self, AccessReport, Context, Line, RightLine, Tally, VisitLine, Who};
use crate::report::period::Period;

/// What to report on.
#[derive(Debug, Clone)]
pub struct AccessQuery {
    pub period: Period,
    /// Door name; `None` for every door.
    pub door: Option<String>,
}

/// Builds the report; `progress` hears the number of register lines read so far.
pub fn access_report(
    conn: &Connection,
    q: &AccessQuery,
    cfg: &ReportConfig,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64),
) -> Result<AccessReport> {
    let door_id = match &q.door {
        None => None,
        Some(name) => Some(
            conn.query_row("SELECT id FROM door WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|_| StoreError::Invalid(format!("no door is named {name:?}")))?,
        ),
    };
    let (from, until) = q.period.bounds(tz);
    if until <= from {
        return Err(StoreError::Invalid(
            "the period ends before it starts".into(),
        ));
    }
    let mut tally = Tally::new(tz, cfg.working_hours.clone());
    scan(conn, from, until, door_id, &mut tally, &mut progress)?;

    let ids: Vec<i64> = tally.people.keys().flatten().copied().collect();
    let people = names(conn, &ids)?;
    let doors = doors(conn)?;
    let visits = super::visits::register::rows(conn, Some(from), Some(until), tz)?
        .into_iter()
        .map(|r| VisitLine {
            visit_id: r.visit_id,
            nama: r.nama,
            instansi: r.instansi,
            tujuan: r.tujuan,
            no_badge: r.no_badge,
            jam_masuk: r.jam_masuk,
            jam_keluar: r.jam_keluar,
        })
        .collect();
    let overdue = super::waiting::all(conn, now)?
        .into_iter()
        .filter(|w| w.overdue)
        .collect();
    let expiring_until = now + Duration::days(i64::from(cfg.expiring_within_days));
    let rights_expiring = rights(conn, door_id, now, |r| r.line.valid_until < expiring_until)?;
    let unused_since = now - Duration::days(i64::from(cfg.unused_for_days));
    let rights_unused = rights(conn, door_id, now, |r| {
        r.valid_from <= unused_since && r.line.last_used.is_none_or(|t| t < unused_since)
    })?;
    let context = Context {
        period: q.period.slug(tz),
        period_label: q.period.label(Lang::Id, tz),
        period_label_en: q.period.label(Lang::En, tz),
        from,
        until,
        door: q.door.clone(),
        now,
        expiring_within_days: cfg.expiring_within_days,
        unused_for_days: cfg.unused_for_days,
        doors,
        people,
        visits,
        overdue,
        rights_expiring,
        rights_unused,
    };
    Ok(access::assemble(tally, context))
}

/// Feeds every register line of `[from, until)` (at one door, or all) to the tally.
pub fn scan(
    conn: &Connection,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    door_id: Option<i64>,
    tally: &mut Tally,
    progress: &mut impl FnMut(u64),
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, event, door_id, direction, person_id, granted, reason FROM register
         WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR door_id = ?3)",
    )?;
    let mut rows = stmt.query(params![to_ms(from), to_ms(until), door_id])?;
    while let Some(r) = rows.next()? {
        let event = r.get_ref(1)?.as_str().unwrap_or("");
        let direction = r.get_ref(3)?.as_str_or_null().unwrap_or(None);
        let reason = r.get_ref(6)?.as_str().unwrap_or("");
        tally.add(Line {
            at: from_ms(r.get(0)?),
            event,
            door_id: r.get(2)?,
            direction,
            person_id: r.get(4)?,
            granted: r.get(5)?,
            reason,
        });
        if tally.lines.is_multiple_of(100_000) {
            progress(tally.lines);
        }
    }
    progress(tally.lines);
    Ok(())
}

fn names(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, Who>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, id_number, unit, EXISTS (SELECT 1 FROM visit v WHERE v.person_id = p.id)
         FROM person p WHERE id = ?1",
    )?;
    let mut out = HashMap::with_capacity(ids.len());
    for &id in ids {
        let who = stmt
            .query_row([id], |r| {
                Ok(Who {
                    name: r.get(0)?,
                    id_number: r.get(1)?,
                    unit: r.get(2)?,
                    visitor: r.get(3)?,
                })
            })
            .map_err(StoreError::from);
        match who {
            Ok(w) => {
                out.insert(id, w);
            }
            Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn doors(conn: &Connection) -> Result<HashMap<i64, String>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM door")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

struct Candidate {
    valid_from: DateTime<Utc>,
    line: RightLine,
}

/// Active rights still valid at `now` (at the door, if one is given) that `keep` selects,
/// soonest ending first.
fn rights(
    conn: &Connection,
    door_id: Option<i64>,
    now: DateTime<Utc>,
    keep: impl Fn(&Candidate) -> bool,
) -> Result<Vec<RightLine>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ar.id, ar.person_id, p.name, p.id_number, p.unit, ar.valid_from, ar.valid_until,
                (SELECT group_concat(d.name, ', ') FROM access_right_door ad
                   JOIN door d ON d.id = ad.door_id WHERE ad.right_id = ar.id),
                (SELECT r.at FROM register r WHERE r.person_id = ar.person_id
                   AND r.event = 'tap' AND r.granted = 1 ORDER BY r.at DESC LIMIT 1)
         FROM access_right ar JOIN person p ON p.id = ar.person_id
         WHERE ar.status = 'active' AND ar.valid_until > ?1
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM access_right_door ad
                                      WHERE ad.right_id = ar.id AND ad.door_id = ?2))
         ORDER BY ar.valid_until, ar.id",
    )?;
    let mut rows = stmt.query(params![to_ms(now), door_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let c = Candidate {
            valid_from: from_ms(r.get(5)?),
            line: RightLine {
                right_id: r.get(0)?,
                person_id: r.get(1)?,
                name: r.get(2)?,
                id_number: r.get(3)?,
                unit: r.get(4)?,
                doors: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                valid_until: from_ms(r.get(6)?),
                last_used: r.get::<_, Option<i64>>(8)?.map(from_ms),
            },
        };
        if keep(&c) {
            out.push(c.line);
        }
    }
    Ok(out)
}

/// A line of the access list (Formulir Daftar Akses Ruang Server).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AccessListLine {
    pub right_id: i64,
    pub name: String,
    pub id_number: Option<String>,
    pub unit: Option<String>,
    /// The holder's live cards: badge number, else `technology:UID`.
    pub cards: String,
    pub doors: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// `direct`, or the request (`request:N`) the right came from.
    pub source: String,
}

/// Rights in force at `now` (at the door, if one is given), by holder's name.
pub fn access_list(
    conn: &Connection,
    door: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<AccessListLine>> {
    let door_id = match door {
        None => None,
        Some(name) => Some(
            conn.query_row("SELECT id FROM door WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })
            .map_err(|_| StoreError::Invalid(format!("no door is named {name:?}")))?,
        ),
    };
    let mut stmt = conn.prepare_cached(
        "SELECT ar.id, p.name, p.id_number, p.unit,
                (SELECT group_concat(coalesce(c.badge_number, c.technology || ':' || c.uid), ', ')
                   FROM credential c WHERE c.person_id = p.id AND c.status = 'active'),
                (SELECT group_concat(d.name, ', ') FROM access_right_door ad
                   JOIN door d ON d.id = ad.door_id WHERE ad.right_id = ar.id),
                ar.valid_from, ar.valid_until, ar.source
         FROM access_right ar JOIN person p ON p.id = ar.person_id
         WHERE ar.status = 'active' AND ar.valid_until > ?1
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM access_right_door ad
                                      WHERE ad.right_id = ar.id AND ad.door_id = ?2))
         ORDER BY p.name, ar.id",
    )?;
    let rows = stmt.query_map(params![to_ms(now), door_id], |r| {
        Ok(AccessListLine {
            right_id: r.get(0)?,
            name: r.get(1)?,
            id_number: r.get(2)?,
            unit: r.get(3)?,
            cards: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            doors: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
            valid_from: from_ms(r.get(6)?),
            valid_until: from_ms(r.get(7)?),
            source: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
