//! Online backup and checked restore of the database file.
//!
//! [`backup`] runs beside the daemon, on its own read-only connection to the database file:
//! it opens one read transaction, which in WAL mode pins a consistent snapshot without ever
//! blocking a writer, and copies that snapshot with SQLite's backup API a few pages at a
//! time. Every line committed before the backup began is in it; the doors keep deciding
//! and committing meanwhile. [`restore`] refuses while a daemon holds the data directory,
//! checks the copy (`PRAGMA integrity_check`, schema version) before touching anything,
//! and keeps the database it replaces beside it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{DB_FILE, Result, SCHEMA_VERSION, StoreError};

/// Pages copied per step; between steps the snapshot stays pinned, nothing waits.
const STEP_PAGES: std::ffi::c_int = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub pages: i64,
    pub bytes: u64,
    pub schema_version: i64,
    pub register_lines: i64,
}

/// Copies the database at `db` to `dest` (a new file, mode 0600) and checks the copy.
pub fn backup(db: &Path, dest: &Path) -> Result<Copied> {
    if dest.exists() {
        return Err(StoreError::Conflict(format!(
            "{} already exists; choose a new file name",
            dest.display()
        )));
    }
    if !db.exists() {
        return Err(StoreError::NotFound(format!(
            "the database {}",
            db.display()
        )));
    }
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(Duration::from_secs(5))?;
    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    create_private(&partial)?;
    let copied = (|| {
        let mut dst = Connection::open(&partial)?;
        // The snapshot: every step reads the database as it was at this instant.
        src.execute_batch("BEGIN")?;
        let pages = copy(&src, &mut dst)?;
        src.execute_batch("COMMIT")?;
        check(&dst, dest)?;
        let (schema_version, register_lines) = facts(&dst)?;
        drop(dst);
        sync(&partial)?;
        Ok(Copied {
            pages,
            bytes: size(&partial)?,
            schema_version,
            register_lines,
        })
    })();
    match copied {
        Ok(c) => {
            std::fs::rename(&partial, dest).map_err(|e| io(dest, e))?;
            sync_dir(dest)?;
            Ok(c)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub copied: Copied,
    /// Where the database that was replaced now is; `None` if there was none.
    pub previous: Option<PathBuf>,
}

/// Replaces the database in `data_dir` with the backup at `from`, after checking it. Fails
/// with [`StoreError::Locked`] while a daemon runs on `data_dir`. The restored file gets the
/// data directory's owner, so a restore run as root leaves a database the service can open.
pub fn restore(data_dir: &Path, from: &Path, now: DateTime<Utc>) -> Result<Restored> {
    let _lock = super::lock_data_dir(data_dir)?;
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    check(&src, from)?;
    let (version, _) = facts(&src)?;
    if !(1..=SCHEMA_VERSION).contains(&version) {
        return Err(StoreError::Invalid(format!(
            "{} has schema version {version}; this Lawang restores versions 1 to {SCHEMA_VERSION}",
            from.display()
        )));
    }

    let current = data_dir.join(DB_FILE);
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    let _ = std::fs::remove_file(&incoming);
    create_private(&incoming)?;
    let copied = (|| {
        let mut dst = Connection::open(&incoming)?;
        let pages = copy(&src, &mut dst)?;
        check(&dst, &incoming)?;
        let (schema_version, register_lines) = facts(&dst)?;
        drop(dst);
        sync(&incoming)?;
        Ok(Copied {
            pages,
            bytes: size(&incoming)?,
            schema_version,
            register_lines,
        })
    })();
    let copied = match copied {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&incoming);
            return Err(e);
        }
    };
    give_to_owner_of(data_dir, &incoming)?;

    let previous = if current.exists() {
        // Fold the write-ahead log into the file so the kept copy is complete on its own.
        Connection::open(&current)?.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        let kept = data_dir.join(format!(
            "{DB_FILE}.before-restore-{}",
            now.format("%Y%m%dT%H%M%SZ")
        ));
        std::fs::rename(&current, &kept).map_err(|e| io(&current, e))?;
        for suffix in ["-wal", "-shm"] {
            let side = data_dir.join(format!("{DB_FILE}{suffix}"));
            if side.exists() {
                std::fs::remove_file(&side).map_err(|e| io(&side, e))?;
            }
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, &current).map_err(|e| io(&current, e))?;
    sync_dir(&current)?;
    Ok(Restored { copied, previous })
}

/// Copies every page of `src` into `dst`, a step at a time.
fn copy(src: &Connection, dst: &mut Connection) -> Result<i64> {
    let backup = Backup::new(src, dst)?;
    loop {
        match backup.step(STEP_PAGES)? {
            StepResult::Done => break,
            StepResult::More => {}
            // Busy or locked: a lock held elsewhere for a moment; try again.
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Ok(i64::from(backup.progress().pagecount))
}

/// `PRAGMA integrity_check` must answer a single `ok`.
fn check(conn: &Connection, path: &Path) -> Result<()> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let answers: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if answers != ["ok"] {
        return Err(StoreError::Invalid(format!(
            "{} fails the integrity check: {}",
            path.display(),
            answers.join("; ")
        )));
    }
    Ok(())
}

/// The schema version and the number of register lines, for the report.
fn facts(conn: &Connection) -> Result<(i64, i64)> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_register: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'register'",
        [],
        |r| r.get(0),
    )?;
    if !has_register {
        return Err(StoreError::Invalid(
            "this is not a Lawang database (no register table)".into(),
        ));
    }
    let lines = conn.query_row("SELECT count(*) FROM register", [], |r| r.get(0))?;
    Ok((version, lines))
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// An empty file only its owner can read: SQLite takes it as a new database.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| io(path, e))
}

fn give_to_owner_of(dir: &Path, file: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).map_err(|e| io(dir, e))?;
    let mine = std::fs::metadata(file).map_err(|e| io(file, e))?;
    if (mine.uid(), mine.gid()) != (meta.uid(), meta.gid()) {
        std::os::unix::fs::chown(file, Some(meta.uid()), Some(meta.gid()))
            .map_err(|e| io(file, e))?;
    }
    Ok(())
}

fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(path, e))
}

fn sync_dir(file: &Path) -> Result<()> {
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

fn size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path).map_err(|e| io(path, e))?.len())
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::fixture;

    #[test]
    fn a_backup_restores_and_the_replaced_database_is_kept() {
        let f = fixture();
        let db = f.dir.path().join(DB_FILE);
        let dest = f.dir.path().join("copy.sqlite3");
        let c = backup(&db, &dest).unwrap();
        assert_eq!(c.schema_version, SCHEMA_VERSION);
        assert!(c.pages > 0 && c.bytes > 0);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(matches!(backup(&db, &dest), Err(StoreError::Conflict(_))));

        // A door row added after the backup is gone once it is restored.
        f.db.write_blocking(|tx| {
            tx.execute("INSERT INTO door (name, created_at) VALUES ('baru', 0)", [])?;
            Ok(((), crate::store::Changed::none()))
        })
        .unwrap();
        drop(f.db);
        let now = chrono::Utc::now();
        let r = restore(f.dir.path(), &dest, now).unwrap();
        let kept = r.previous.unwrap();
        assert!(
            kept.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("lawang.sqlite3.before-restore-")
        );
        let doors = |p: &Path| -> i64 {
            Connection::open(p)
                .unwrap()
                .query_row("SELECT count(*) FROM door WHERE name = 'baru'", [], |r| {
                    r.get(0)
                })
                .unwrap()
        };
        assert_eq!(doors(&db), 0);
        assert_eq!(doors(&kept), 1);
    }

    #[test]
    fn a_damaged_or_foreign_file_is_refused_and_changes_nothing() {
        let f = fixture();
        let db = f.dir.path().join(DB_FILE);
        let dest = f.dir.path().join("copy.sqlite3");
        backup(&db, &dest).unwrap();
        drop(f.db);
        let before = std::fs::read(&db).unwrap();

        // Damage the copy's last page.
        let mut bytes = std::fs::read(&dest).unwrap();
        let n = bytes.len();
        bytes[n - 4096..].fill(0xA5);
        let broken = f.dir.path().join("broken.sqlite3");
        std::fs::write(&broken, &bytes).unwrap();
        let e = restore(f.dir.path(), &broken, chrono::Utc::now()).unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(_) | StoreError::Sqlite(_)),
            "{e}"
        );

        let foreign = f.dir.path().join("foreign.sqlite3");
        Connection::open(&foreign)
            .unwrap()
            .execute_batch("CREATE TABLE x (y)")
            .unwrap();
        let e = restore(f.dir.path(), &foreign, chrono::Utc::now()).unwrap_err();
        assert!(
            e.to_string().contains("schema version 0") || e.to_string().contains("not a Lawang"),
            "{e}"
        );

        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "the database is untouched"
        );
        assert!(!f.dir.path().join("lawang.sqlite3.restoring").exists());
    }

    #[test]
    fn restore_refuses_while_a_daemon_holds_the_data_directory() {
        let f = fixture();
        let dest = f.dir.path().join("copy.sqlite3");
        backup(&f.dir.path().join(DB_FILE), &dest).unwrap();
        let _daemon = crate::store::lock_data_dir(f.dir.path()).unwrap();
        assert!(matches!(
            restore(f.dir.path(), &dest, chrono::Utc::now()),
            Err(StoreError::Locked(_))
        ));
    }
}
