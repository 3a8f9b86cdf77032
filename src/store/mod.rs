//! SQLite storage: one file in the data directory, WAL mode, versioned migrations.
//!
//! Two connections write: the admin connection ([`Db`], behind a mutex, used from
//! `spawn_blocking`) and the register writer's own thread ([`register::RegisterWriter`]),
//! so a slow admin query never delays a door. Every admin write refreshes the in-memory
//! access list while still holding the admin lock, so a revocation is in force at the door
//! before the call that made it returns and no two refreshes can interleave. Every committed
//! admin write also rings the outbox doorbell, so a notification queued with a change
//! (see [`outbox`]) leaves as soon as the change is committed.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod backlog;
pub mod backup;
pub mod badges;
pub mod cases;
pub mod chain;
pub mod devices;
pub mod logical;
pub mod notices;
pub mod outbox;
pub mod people;
pub mod presence;
pub mod register;
pub mod removals;
pub mod reports;
pub mod requests;
pub mod retention;
pub mod reviews;
pub mod rights;
pub mod scheduler;
pub mod sessions;
pub mod synthetic;
pub mod tokens;
pub mod visitor_badges;
pub mod visits;
pub mod waiting;

mod migrations;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::decision::AccessList;
use crate::model::{Credential, PersonId};

pub use migrations::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "another lawang daemon is already using the data directory {0}; \
         two daemons must never share a door"
    )]
    Locked(PathBuf),
    #[error(
        "the database {path} was written by a newer Lawang (schema version {found}; \
         this build knows up to {known}); upgrade Lawang or restore a backup"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Workflow(#[from] crate::workflow::WorkflowError),
    #[error("the register writer has stopped")]
    WriterStopped,
    #[error("the register cannot be written and its queue of held lines is full")]
    RegisterFull,
    #[error("a storage task failed: {0}")]
    Task(String),
}

impl From<crate::visit::VisitError> for StoreError {
    fn from(e: crate::visit::VisitError) -> Self {
        if e.is_invalid() {
            StoreError::Invalid(e.to_string())
        } else {
            StoreError::Conflict(e.to_string())
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

pub const DB_FILE: &str = "lawang.sqlite3";
const LOCK_FILE: &str = "lawang.lock";

/// Held for as long as the daemon runs: the OS releases it if the process dies, so a crash
/// never leaves a stale lock behind.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Creates the data directory if needed and takes its exclusive lock.
pub fn lock_data_dir(dir: &Path) -> Result<DataDirLock> {
    let io = |source| StoreError::Io {
        path: dir.to_path_buf(),
        source,
    };
    // Personal data and token hashes live here: only the service user may read them.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(io)?;
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(DataDirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked(dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

/// Opens a connection with the pragmas every connection needs, and migrates the schema.
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // FULL: a granted tap is only acted on once its line is on disk (see the register).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )?;
    migrations::migrate(&conn, path)?;
    Ok(conn)
}

/// What a write changed in the access list, so only those cards are reloaded.
#[derive(Debug, Default)]
pub struct Changed {
    pub persons: Vec<PersonId>,
    pub credentials: Vec<Credential>,
}

impl Changed {
    pub fn none() -> Self {
        Changed::default()
    }

    pub fn person(id: PersonId) -> Self {
        Changed {
            persons: vec![id],
            credentials: vec![],
        }
    }

    pub fn credential(c: Credential) -> Self {
        Changed {
            persons: vec![],
            credentials: vec![c],
        }
    }
}

/// The admin connection and the access list it keeps current.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    access: Arc<AccessList>,
    outbox: Arc<tokio::sync::Notify>,
}

impl Db {
    /// Opens the database and builds the access list from it.
    pub fn open(path: &Path, timezone: chrono_tz::Tz) -> Result<Db> {
        let conn = open(path)?;
        let snapshot = access::load_all(&conn, timezone)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            access: Arc::new(AccessList::new(snapshot)),
            outbox: Arc::new(tokio::sync::Notify::new()),
        })
    }

    pub fn access_list(&self) -> Arc<AccessList> {
        self.access.clone()
    }

    /// Notified after every committed write: the notify task waits on it for new messages
    /// in the outbox. (Always rung: admin writes are few, and a look at the outbox is one
    /// indexed read.)
    pub fn outbox_doorbell(&self) -> Arc<tokio::sync::Notify> {
        self.outbox.clone()
    }

    /// Runs a read off the async threads.
    pub async fn read<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn.lock().map_err(|_| poisoned())?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// The same as [`Db::read`] for callers already off the async threads (start-up).
    pub fn read_blocking<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let conn = self.conn.lock().map_err(|_| poisoned())?;
        f(&conn)
    }

    /// Runs a write in one transaction, then refreshes the access list for what it changed,
    /// all under the admin lock. A failed write rolls back and changes nothing.
    pub async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Transaction) -> Result<(R, Changed)> + Send + 'static,
    {
        let conn = self.conn.clone();
        let access = self.access.clone();
        let written = tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| poisoned())?;
            Self::write_locked(&mut conn, &access, f)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        self.outbox.notify_one();
        Ok(written)
    }

    /// The same as [`Db::write`] for callers already off the async threads (start-up).
    pub fn write_blocking<R>(
        &self,
        f: impl FnOnce(&Transaction) -> Result<(R, Changed)>,
    ) -> Result<R> {
        let mut conn = self.conn.lock().map_err(|_| poisoned())?;
        let written = Self::write_locked(&mut conn, &self.access, f)?;
        self.outbox.notify_one();
        Ok(written)
    }

    fn write_locked<R>(
        conn: &mut Connection,
        access: &AccessList,
        f: impl FnOnce(&Transaction) -> Result<(R, Changed)>,
    ) -> Result<R> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (out, changed) = f(&tx)?;
        tx.commit()?;
        access::refresh(conn, access, &changed)?;
        Ok(out)
    }
}

fn poisoned() -> StoreError {
    StoreError::Task("the admin connection lock was poisoned by an earlier panic".into())
}

pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Maps a uniqueness violation to a conflict a person can act on.
pub(crate) fn conflict_on_unique(
    e: rusqlite::Error,
    message: impl FnOnce() -> String,
) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(err, _)
            if err.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Conflict(message())
        }
        other => StoreError::Sqlite(other),
    }
}

#[cfg(test)]
pub(crate) mod tests;
