//! A large, realistic register for benchmarks and load trials (`lawang generate-register`,
//! hidden): one door with an in and an out reader, a few hundred staff with rights, visitors,
//! and taps spread over a span of days the way an office uses a server room — pairs of entry
//! and exit in office hours on weekdays, some evenings and weekends, refusals of several kinds
//! and the odd alarm. Deterministic for a given seed.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use rusqlite::{Connection, params};

use super::{Result, to_ms};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    pub rows: u64,
    /// The register runs from `start` for `days` days.
    pub start: DateTime<Utc>,
    pub days: u32,
    pub staff: u32,
    pub seed: u64,
}

/// A small, fast generator (xorshift64*): reproducible figures need no cryptography.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const REFUSALS: [&str; 6] = [
    "unknown_credential",
    "outside_schedule",
    "expired",
    "credential_revoked",
    "no_right_for_door",
    "wrong_pin",
];
const ALARMS: [&str; 3] = ["door_held_open", "door_forced", "reader_offline"];

/// Writes the people, the door, the readers and `plan.rows` register lines into `conn`
/// (a fresh database); calls `progress` with the lines written so far. Returns the door's id.
pub fn generate(conn: &mut Connection, plan: &Plan, mut progress: impl FnMut(u64)) -> Result<i64> {
    let tz = chrono_tz::Asia::Jakarta;
    let now = to_ms(plan.start);
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO door (name, created_at) VALUES ('ruang-server', ?1) ON CONFLICT(name) DO NOTHING",
        [now],
    )?;
    let door: i64 = tx.query_row("SELECT id FROM door WHERE name = 'ruang-server'", [], |r| {
        r.get(0)
    })?;
    let mut readers = [0i64; 2];
    for (i, (name, dir)) in [("masuk", "in"), ("keluar", "out")].iter().enumerate() {
        tx.execute(
            "INSERT INTO reader (name, door_id, direction, kind, created_at) VALUES (?1, ?2, ?3, 'simulated', ?4)
             ON CONFLICT(name) DO NOTHING",
            params![name, door, dir, now],
        )?;
        readers[i] = tx.query_row("SELECT id FROM reader WHERE name = ?1", [name], |r| {
            r.get(0)
        })?;
    }
    let until = to_ms(plan.start + Duration::days(i64::from(plan.days) + 365));
    let mut people = Vec::with_capacity(plan.staff as usize);
    for i in 0..plan.staff {
        tx.execute(
            "INSERT INTO person (name, id_number, unit, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            params![
                format!("Pegawai {i:04}"),
                format!("19800101200501{:04}", i),
                ["Bidang Infrastruktur dan APTIKA", "Bidang Aplikasi Informatika", "LPSE", "Vendor"][i as usize % 4],
                now
            ],
        )?;
        let person = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO credential (person_id, technology, uid, badge_number, status, source, issued_at, updated_at)
             VALUES (?1, 'iso14443', ?2, ?3, 'active', 'direct', ?4, ?4)",
            params![person, format!("{:08X}", 0x0400_0000 + i), format!("K-{i:04}"), now],
        )?;
        let credential = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO access_right (person_id, valid_from, valid_until, source, status, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'direct', 'active', ?2, ?2)",
            params![person, now, until],
        )?;
        tx.execute(
            "INSERT INTO access_right_door (right_id, door_id) VALUES (?1, ?2)",
            params![tx.last_insert_rowid(), door],
        )?;
        people.push((person, credential));
    }
    let mut rng = Rng(plan.seed | 1);
    let span_ms = i64::from(plan.days) * 86_400_000;
    let step = span_ms as f64 / plan.rows.max(1) as f64;
    let mut written = 0u64;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO register (at, event, door_id, reader_id, direction, credential,
                                   credential_id, person_id, granted, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        while written < plan.rows {
            // Lines arrive in time order; each slot is moved into office hours most of the
            // time (a tap at 03:00 on a Sunday is rare in a server room).
            let mut at = plan.start + Duration::milliseconds((written as f64 * step) as i64);
            let local = at.with_timezone(&tz);
            let back = match local.weekday() {
                Weekday::Sat => 1,
                Weekday::Sun => 2,
                _ => 0,
            };
            let weekend = back > 0;
            if (weekend || !(8..16).contains(&local.hour())) && rng.below(10) < 9 {
                let day = local.date_naive() - chrono::Days::new(if weekend { back } else { 0 });
                let shifted = tz
                    .with_ymd_and_hms(
                        day.year(),
                        day.month(),
                        day.day(),
                        8 + (rng.below(7) as u32),
                        local.minute(),
                        local.second(),
                    )
                    .earliest();
                if let Some(t) = shifted {
                    at = t.with_timezone(&Utc);
                }
            }
            let (person, credential) = people[rng.below(people.len() as u64) as usize];
            let roll = rng.below(1000);
            let pair = [(readers[0], "in"), (readers[1], "out")];
            if roll < 3 {
                let alarm = ALARMS[rng.below(ALARMS.len() as u64) as usize];
                stmt.execute(params![
                    to_ms(at),
                    "alarm",
                    door,
                    Option::<i64>::None,
                    Option::<&str>::None,
                    Option::<&str>::None,
                    Option::<i64>::None,
                    Option::<i64>::None,
                    false,
                    alarm
                ])?;
                written += 1;
            } else if roll < 8 {
                stmt.execute(params![
                    to_ms(at),
                    "exit_button",
                    door,
                    Option::<i64>::None,
                    Option::<&str>::None,
                    Option::<&str>::None,
                    Option::<i64>::None,
                    Option::<i64>::None,
                    true,
                    "exit_button"
                ])?;
                written += 1;
            } else if roll < 40 {
                let reason = REFUSALS[rng.below(REFUSALS.len() as u64) as usize];
                let known = reason != "unknown_credential";
                stmt.execute(params![
                    to_ms(at),
                    "tap",
                    door,
                    readers[0],
                    "in",
                    format!("iso14443:{:08X}", rng.next() as u32),
                    known.then_some(credential),
                    known.then_some(person),
                    false,
                    reason
                ])?;
                written += 1;
            } else {
                // An entry and, a while later, the exit.
                for (k, (reader, dir)) in pair.iter().enumerate() {
                    if written >= plan.rows {
                        break;
                    }
                    let t =
                        at + Duration::minutes(if k == 0 { 0 } else { 5 + rng.below(115) as i64 });
                    stmt.execute(params![
                        to_ms(t),
                        "tap",
                        door,
                        reader,
                        dir,
                        format!("iso14443:{:08X}", 0x0400_0000 + (person as u32)),
                        credential,
                        person,
                        true,
                        "granted"
                    ])?;
                    written += 1;
                }
            }
            if written % 100_000 < 2 {
                progress(written);
            }
        }
    }
    tx.commit()?;
    progress(written);
    Ok(door)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_kept_and_every_line_counts_in_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = crate::store::open(&dir.path().join("s.sqlite3")).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let plan = Plan {
            rows: 5_000,
            start,
            days: 60,
            staff: 20,
            seed: 3,
        };
        generate(&mut conn, &plan, |_| {}).unwrap();
        let (n, first, last): (i64, i64, i64) = conn
            .query_row("SELECT count(*), min(at), max(at) FROM register", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(n, 5_000);
        assert!(first >= to_ms(start) && last < to_ms(start + Duration::days(61)));
        let q = crate::store::reports::AccessQuery {
            period: crate::report::period::Period::Custom(
                crate::report::TimeSpec::Instant(start),
                crate::report::TimeSpec::Instant(start + Duration::days(70)),
            ),
            door: None,
        };
        let cfg = crate::config::ReportConfig::default();
        let r = crate::store::reports::access_report(
            &conn,
            &q,
            &cfg,
            chrono_tz::Asia::Jakarta,
            start,
            |_| {},
        )
        .unwrap();
        let t = &r.totals;
        assert_eq!(
            t.entries + t.exits + t.refused + t.exit_buttons + t.alarms,
            5_000
        );
        assert!(
            t.entries + t.exits > 4_500 && t.refused > 0 && t.alarms > 0,
            "{t:?}"
        );
        // Most taps fall in office hours, as in a real office.
        assert!(t.outside_hours * 4 < t.entries, "{t:?}");
        assert_eq!(
            r.people.iter().filter(|p| p.person_id.is_some()).count(),
            20
        );
    }
}
