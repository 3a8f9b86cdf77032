//! `[report.schedule]`: the access report of the past month (or quarter) made by itself on
//! the configured day and time, written into a directory, and the Kasi told by email where
//! the files are (the outbox carries text, not attachments). [`due`] is pure; [`run_once`]
//! does the work for a given `now`, so tests drive it with made-up times; [`run`] calls it
//! every minute. A period's report is made once (table `report_run`); a day the daemon was
//! down is made up at the next tick.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::period::Period;
use super::{access_doc, render};
use crate::config::{Every, ReportConfig, ScheduleConfig};
use crate::store::notices::{self, To};
use crate::store::reports::{self, AccessQuery};
use crate::store::{Changed, Db, Result, StoreError, to_ms};
use crate::workflow::texts::{FOOTER, Text, local};

/// The period whose report is due at `now`: the one before the latest trigger (the day and
/// time of each month, or of each quarter's first month) not after `now`.
pub fn due(s: &ScheduleConfig, now: DateTime<Utc>, tz: Tz) -> Option<Period> {
    let local_now = now.with_timezone(&tz).naive_local();
    let step = match s.every {
        Every::Month => 1,
        Every::Quarter => 3,
    };
    let first = |d: NaiveDate| {
        let m0 = d.month0() - d.month0() % step;
        NaiveDate::from_ymd_opt(d.year(), m0 + 1, 1)
    };
    let trigger = |month_start: NaiveDate| {
        let minutes = u32::from(s.at.minutes());
        month_start
            .with_day(s.day)?
            .and_hms_opt(0, 0, 0)
            .map(|t| t + chrono::Duration::minutes(i64::from(minutes)))
    };
    let this = first(local_now.date())?;
    let start = if trigger(this)? <= local_now {
        this
    } else {
        this.checked_sub_months(chrono::Months::new(step))?
    };
    let covered = start.checked_sub_months(chrono::Months::new(step))?;
    Some(match s.every {
        Every::Month => Period::Month(covered),
        Every::Quarter => Period::Quarter(covered),
    })
}

fn key(p: &Period, tz: Tz) -> String {
    format!("access:{}", p.slug(tz))
}

/// Makes the due report if it has not been made; returns the files written.
pub fn run_once(
    db: &Db,
    db_path: &Path,
    cfg: &ReportConfig,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Option<Vec<PathBuf>>> {
    let Some(s) = &cfg.schedule else {
        return Ok(None);
    };
    let Some(period) = due(s, now, tz) else {
        return Ok(None);
    };
    let key = key(&period, tz);
    let done: bool = db.read_blocking(|c| {
        Ok(c.query_row(
            "SELECT EXISTS (SELECT 1 FROM report_run WHERE period = ?1)",
            [&key],
            |r| r.get(0),
        )?)
    })?;
    if done {
        return Ok(None);
    }
    let conn = crate::store::open(db_path)?;
    let q = AccessQuery {
        period,
        door: s.door.clone(),
    };
    let report = reports::access_report(&conn, &q, cfg, tz, now, |_| {})?;
    drop(conn);
    let doc = access_doc::document(&report, cfg, s.lang, tz);
    let io = |path: &Path, source: std::io::Error| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(&s.directory).map_err(|e| io(&s.directory, e))?;
    let mut files = Vec::new();
    let stem = match &s.door {
        None => format!("laporan-akses-{}", period.slug(tz)),
        Some(door) => format!("laporan-akses-{door}-{}", period.slug(tz)),
    };
    for format in &s.formats {
        let bytes = render(&doc, *format, if s.semicolon { b';' } else { b',' }, s.lang);
        let bytes = match (format, bytes) {
            (crate::report::doc::Format::Json, _) => {
                serde_json::to_vec_pretty(&report).map_err(|e| StoreError::Task(e.to_string()))?
            }
            (_, b) => b.map_err(|e| io(&s.directory, e))?,
        };
        let path = s.directory.join(format!("{stem}.{}", format.extension()));
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = PathBuf::from(part);
        std::fs::write(&part, &bytes).map_err(|e| io(&part, e))?;
        std::fs::rename(&part, &path).map_err(|e| io(&path, e))?;
        files.push(path);
    }
    let text = notice(&report, &period, &files, s, tz, now);
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    db.write_blocking(|tx| {
        tx.execute(
            "INSERT INTO report_run (period, generated_at, files) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                key,
                to_ms(now),
                serde_json::Value::from(names.clone()).to_string()
            ],
        )?;
        let to: Vec<To> = s.notify_roles.iter().map(|r| To::Role(*r)).collect();
        notices::send(tx, &to, &text, now)?;
        Ok(((), Changed::none()))
    })?;
    Ok(Some(files))
}

fn notice(
    r: &super::access::AccessReport,
    period: &Period,
    files: &[PathBuf],
    s: &ScheduleConfig,
    tz: Tz,
    now: DateTime<Utc>,
) -> Text {
    let label = period.label(super::Lang::Id, tz);
    let list: String = files
        .iter()
        .map(|f| format!("- {}\n", f.display()))
        .collect();
    let t = &r.totals;
    let door = s
        .door
        .as_ref()
        .map(|d| format!(" (pintu {d})"))
        .unwrap_or_default();
    Text {
        subject: format!("[Lawang] Laporan akses ruang server {label}"),
        body: format!(
            "Yth. Kasi Layanan Infrastruktur TIK,\n\nLaporan akses ruang server periode {label}{door} \
             telah dibuat pada {} dan disimpan di:\n{list}\nRingkasan: masuk {}, keluar {}, \
             ditolak {}, masuk di luar jam kerja {}, alarm {}, tahapan alur kerja terlambat {}, \
             hak akses segera berakhir {}, hak akses tidak dipakai {}.{FOOTER}",
            local(now, tz),
            t.entries,
            t.exits,
            t.refused,
            t.outside_hours,
            t.alarms,
            t.overdue_steps,
            t.rights_expiring,
            t.rights_unused,
        ),
    }
}

/// Checks every minute until `stop`; a failure is logged and retried on the next minute.
pub async fn run(
    db: Db,
    db_path: std::sync::Arc<Path>,
    cfg: std::sync::Arc<ReportConfig>,
    tz: Tz,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = every.tick() => {}
        }
        let (db, path, cfg) = (db.clone(), db_path.clone(), cfg.clone());
        let done =
            tokio::task::spawn_blocking(move || run_once(&db, &path, &cfg, tz, Utc::now())).await;
        match done {
            Ok(Ok(Some(files))) => tracing::info!(?files, "scheduled access report written"),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "scheduled access report failed; retrying in a minute")
            }
            Err(e) => tracing::error!(error = %e, "scheduled access report task failed"),
        }
    }
}

/// Used by tests and the bench: a time given in the office's zone.
pub fn local_time(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ClockTime;

    const WIB: Tz = chrono_tz::Asia::Jakarta;

    fn schedule(dir: &Path, every: Every) -> ScheduleConfig {
        ScheduleConfig {
            directory: dir.to_path_buf(),
            every,
            day: 1,
            at: ClockTime::hm(6, 0),
            formats: vec![
                crate::report::doc::Format::Pdf,
                crate::report::doc::Format::Csv,
            ],
            lang: crate::report::Lang::Id,
            semicolon: true,
            door: None,
            notify_roles: vec![crate::model::Role::Kasi],
        }
    }

    #[test]
    fn the_past_month_is_due_from_the_first_at_six_in_the_office_zone() {
        let s = schedule(Path::new("/x"), Every::Month);
        let month = |y, m| Some(Period::Month(NaiveDate::from_ymd_opt(y, m, 1).unwrap()));
        // 05:59 WIB on 1 December: still October's (the last trigger was 1 November).
        assert_eq!(
            due(&s, local_time(WIB, 2026, 12, 1, 5, 59), WIB),
            month(2026, 10)
        );
        assert_eq!(
            due(&s, local_time(WIB, 2026, 12, 1, 6, 0), WIB),
            month(2026, 11)
        );
        assert_eq!(
            due(&s, local_time(WIB, 2026, 12, 31, 23, 0), WIB),
            month(2026, 11)
        );
        assert_eq!(
            due(&s, local_time(WIB, 2027, 1, 1, 6, 0), WIB),
            month(2026, 12)
        );
        let q = schedule(Path::new("/x"), Every::Quarter);
        assert_eq!(
            due(&q, local_time(WIB, 2027, 2, 15, 12, 0), WIB),
            Some(Period::Quarter(
                NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
            ))
        );
        assert_eq!(
            due(&q, local_time(WIB, 2026, 12, 31, 12, 0), WIB),
            Some(Period::Quarter(
                NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
            ))
        );
    }

    #[test]
    fn made_once_per_month_into_the_directory_and_the_kasi_is_told() {
        let f = crate::store::tests::fixture();
        let out = f.dir.path().join("laporan");
        let cfg = ReportConfig {
            schedule: Some(schedule(&out, Every::Month)),
            ..ReportConfig::default()
        };
        f.db.write_blocking(|tx| {
            tx.execute(
                "INSERT INTO account (username, name, role, email, active, created_at, updated_at)
                 VALUES ('kasi', 'Kasi', 'kasi', 'kasi@diskominfo.example.go.id', 1, 0, 0)",
                [],
            )?;
            Ok(((), Changed::none()))
        })
        .unwrap();
        let path = f.dir.path().join(crate::store::DB_FILE);
        let run = |now| run_once(&f.db, &path, &cfg, WIB, now).unwrap();
        let first = run(local_time(WIB, 2026, 12, 1, 6, 1)).expect("November's report is made");
        let names: Vec<String> = first
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["laporan-akses-2026-11.pdf", "laporan-akses-2026-11.csv"]
        );
        assert!(std::fs::read(&first[0]).unwrap().starts_with(b"%PDF-"));
        let csv = std::fs::read_to_string(&first[1]).unwrap();
        assert!(csv.contains("Periode;November 2026"), "{csv}");
        // Once: the next minutes and a restart find it made.
        assert_eq!(run(local_time(WIB, 2026, 12, 1, 6, 2)), None);
        assert_eq!(run(local_time(WIB, 2026, 12, 20, 9, 0)), None);
        let mails: Vec<(String, String)> =
            f.db.read_blocking(|c| {
                let mut stmt = c.prepare("SELECT recipients, subject FROM outbox ORDER BY id")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .unwrap();
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].0.contains("kasi@diskominfo.example.go.id"));
        assert_eq!(
            mails[0].1,
            "[Lawang] Laporan akses ruang server November 2026"
        );
        // December's comes on 1 January.
        let next = run(local_time(WIB, 2027, 1, 1, 7, 0)).unwrap();
        assert!(next[0].ends_with("laporan-akses-2026-12.pdf"));
    }
}
