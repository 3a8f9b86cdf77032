//! Register retention: lines older than the retention period are first written to an
//! archive CSV (the same format as an export, in Indonesian) and only then deleted. The
//! audit log is never pruned.
//!
//! Deletion goes in small transactions so the register writer, which shares the database,
//! never waits long for its next commit.
//!
//! The register is hash-chained ([`super::chain`]), so a prune removes a prefix by id: the
//! lines before the first one recorded at or after the cutoff (after the wall clock jumped
//! back, an old-dated line behind a newer one waits for the next prune). The hash of the
//! last pruned line, the *anchor* the oldest remaining line links to, goes into the prune's
//! audit line, which is itself chained; `audit verify` accepts no other anchor.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};

use super::register::{self, RegisterFilter};
use super::{Result, StoreError, audit, to_ms};
use crate::model::{Actor, Role};
use crate::report::Lang;
use crate::report::csv::RegisterCsv;

/// Lines deleted per transaction.
const CHUNK: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub lines: u64,
    /// The archive holding exactly the deleted lines; `None` when nothing was old enough.
    pub archive: Option<PathBuf>,
}

/// Archives and deletes the lines recorded before `cutoff`. The archive is on disk
/// (fsync'd) before the first line is deleted; a crash in between leaves lines that the
/// next run archives again, never lines lost without an archive.
pub fn prune(
    conn: &Connection,
    cutoff: DateTime<Utc>,
    archive_dir: &Path,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Pruned> {
    // The prefix: every line before the first one at or after the cutoff.
    let (count, last, anchor): (i64, Option<i64>, Option<Vec<u8>>) = conn.query_row(
        "WITH bound AS (SELECT coalesce((SELECT min(id) FROM register WHERE at >= ?1),
                                        (SELECT max(id) + 1 FROM register)) AS id),
              prefix AS (SELECT count(*) AS n, max(r.id) AS last
                         FROM register r, bound WHERE r.id < bound.id)
         SELECT n, last, (SELECT hash FROM register WHERE id = last) FROM prefix",
        [to_ms(cutoff)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let Some(last) = last else {
        return Ok(Pruned {
            lines: 0,
            archive: None,
        });
    };
    let name = format!(
        "register-before-{}-{}.csv",
        cutoff.with_timezone(&tz).format("%Y-%m-%d"),
        now.format("%Y%m%dT%H%M%SZ")
    );
    let archive = archive_dir.join(name);
    let filter = RegisterFilter {
        before_id: Some(last + 1),
        ..RegisterFilter::default()
    };
    let written = write_archive(conn, &filter, &archive, tz)?;
    if written != count as u64 {
        return Err(StoreError::Task(format!(
            "the archive {} holds {written} lines, {count} were to be pruned; nothing deleted",
            archive.display()
        )));
    }
    let mut deleted = 0u64;
    loop {
        let n = conn.execute(
            "DELETE FROM register WHERE id IN
                (SELECT id FROM register WHERE id <= ?1 ORDER BY id LIMIT ?2)",
            params![last, CHUNK],
        )?;
        if n == 0 {
            break;
        }
        deleted += n as u64;
    }
    let actor = Actor {
        token_id: None,
        account_id: None,
        name: "lawang retention".into(),
        role: Role::Admin,
    };
    audit::record(
        conn,
        &actor,
        "register.prune",
        None,
        serde_json::json!({
            "lines": deleted,
            "before": cutoff,
            "through_id": last,
            "anchor": anchor.map(hex::encode),
            "archive": archive.display().to_string(),
        }),
        now,
    )?;
    Ok(Pruned {
        lines: deleted,
        archive: Some(archive),
    })
}

/// Writes the lines to `path` through a temporary file, fsync'd and renamed; returns the
/// number of lines.
fn write_archive(conn: &Connection, filter: &RegisterFilter, path: &Path, tz: Tz) -> Result<u64> {
    let io = |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(io)?;
    let tmp = path.with_extension("csv.partial");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io)?;
    let mut csv =
        RegisterCsv::new(std::io::BufWriter::new(file), b',', Lang::Id, tz).map_err(io)?;
    let mut lines = 0u64;
    register::for_each(conn, filter, |e| {
        lines += 1;
        csv.row(&e).map_err(io)
    })?;
    let file = csv
        .finish()
        .map_err(io)?
        .into_inner()
        .map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)?;
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::{Decision, Reason};
    use crate::register::RegisterLine;
    use crate::store::tests::fixture;
    use chrono::{Duration, TimeZone};

    fn line(door: i64, at: DateTime<Utc>) -> RegisterLine {
        RegisterLine {
            at,
            door,
            reader: None,
            direction: None,
            credential: None,
            event: crate::register::Event::Tap(Decision::refused(Reason::UnknownCredential)),
        }
    }

    #[tokio::test]
    async fn old_lines_are_archived_then_deleted_and_the_audit_log_stays() {
        let f = fixture();
        let path = f.dir.path().join(crate::store::DB_FILE);
        let (writer, thread) = register::RegisterWriter::start(&path).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let cutoff = now - Duration::days(730);
        for days in [1000, 800, 731, 729, 10] {
            writer
                .commit(line(f.door, now - Duration::days(days)))
                .await
                .unwrap();
        }
        drop(writer);
        thread.join().unwrap();
        let conn = crate::store::open(&path).unwrap();
        let audit_before: i64 = conn
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap();

        let archive_dir = f.dir.path().join("archive");
        let tz = chrono_tz::Asia::Jakarta;
        let p = prune(&conn, cutoff, &archive_dir, tz, now).unwrap();
        assert_eq!(p.lines, 3);
        let archive = p.archive.unwrap();
        assert_eq!(
            archive.file_name().unwrap().to_str().unwrap(),
            "register-before-2024-11-30-20261130T000000Z.csv"
        );
        let csv = std::fs::read_to_string(&archive).unwrap();
        assert_eq!(csv.lines().count(), 4, "header and three lines: {csv}");
        assert!(csv.contains("kartu tidak dikenal"), "{csv}");
        let left: Vec<i64> = conn
            .prepare("SELECT at FROM register ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(
            left,
            [
                to_ms(now - Duration::days(729)),
                to_ms(now - Duration::days(10))
            ]
        );
        let audit_after: i64 = conn
            .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            audit_after,
            audit_before + 1,
            "audit lines are never pruned"
        );
        let action: String = conn
            .query_row(
                "SELECT action FROM audit ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(action, "register.prune");

        let again = prune(&conn, cutoff, &archive_dir, tz, now).unwrap();
        assert_eq!(
            again,
            Pruned {
                lines: 0,
                archive: None
            }
        );
    }
}
