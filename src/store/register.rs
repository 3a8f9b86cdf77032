//! The register writer (group commit on its own thread) and register queries.
//!
//! Door controllers hand lines to the writer through a channel. The writer takes whatever
//! has queued up, writes it in one transaction with one fsync, and acknowledges every line.
//! A burst from several readers therefore costs one fsync, not one per tap; a granted tap
//! waits for its acknowledgement before the door unlocks. Once a batch is acknowledged, its
//! lines are read back (with names) and published to the live event stream, if anyone
//! listens: subscribers never delay a door.
//!
//! Lines are hash-chained (see [`super::chain`]). The writer, the register's only writer,
//! keeps the chain's head (last id and hash) in memory, reads it once at start, and hashes
//! each line inside the batch's transaction; the head moves only once the batch commits.
//!
//! When the register cannot be written (disk full, I/O error), lines are held in memory in
//! order ([`held`]) and written as soon as it can; see [`writer`].

use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::chain::{self, Table};
use super::{Result, StoreError, from_ms, to_ms};
use crate::metrics::RegisterMetrics;
use crate::model::{Direction, DoorId, PersonId};
use crate::register::RegisterLine;

pub mod held;
mod writer;

/// Lines waiting for the writer; a door controller waits when it is full.
const QUEUE: usize = 8192;
/// Lines held in memory while the register cannot be written, by default
/// (`register.held_lines`): days of a server room's taps, about 200 KB.
pub const DEFAULT_HELD_LINES: usize = 1000;

/// Where a line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// On disk, with this id.
    Committed(i64),
    /// Held in memory, in order, to be written once the register can be written again.
    Held,
}

impl Recorded {
    pub fn id(self) -> Option<i64> {
        match self {
            Recorded::Committed(id) => Some(id),
            Recorded::Held => None,
        }
    }
}

/// Why a line was not recorded.
#[derive(Debug, Clone)]
pub enum Unrecorded {
    /// A grant while the held lines fill the queue.
    Full,
    Failed(String),
}

type Ack = oneshot::Sender<Result<Recorded, Unrecorded>>;
pub type Done = oneshot::Receiver<Result<Recorded, Unrecorded>>;

/// Committed lines as the API shows them, for the live event stream.
pub type Committed = broadcast::Sender<Arc<RegisterEntry>>;

/// Who hears about what the writer did.
#[derive(Clone)]
pub struct Observers {
    pub metrics: Arc<RegisterMetrics>,
    pub committed: Committed,
}

impl Default for Observers {
    fn default() -> Self {
        Observers {
            metrics: Arc::default(),
            committed: broadcast::channel(1).0,
        }
    }
}

#[derive(Clone)]
pub struct RegisterWriter {
    tx: mpsc::Sender<(RegisterLine, Option<Ack>)>,
    /// `true` while the register cannot be written.
    unwritable: watch::Receiver<bool>,
}

impl RegisterWriter {
    /// Starts the writer thread on its own connection to `path`. The thread ends, after
    /// writing everything queued, once every `RegisterWriter` clone is dropped.
    pub fn start(path: &Path) -> Result<(RegisterWriter, JoinHandle<()>)> {
        Self::start_observed(super::open(path)?, Observers::default(), DEFAULT_HELD_LINES)
    }

    pub fn start_with(conn: Connection) -> Result<(RegisterWriter, JoinHandle<()>)> {
        Self::start_observed(conn, Observers::default(), DEFAULT_HELD_LINES)
    }

    /// Starts the writer with its metrics and the stream committed lines are published on;
    /// at most `held_lines` grants are held in memory while the register cannot be written.
    pub fn start_observed(
        conn: Connection,
        observers: Observers,
        held_lines: usize,
    ) -> Result<(RegisterWriter, JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let (unwritable_tx, unwritable) = watch::channel(false);
        let head = chain::last(&conn, Table::Register)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| StoreError::Task(format!("cannot start the register writer: {e}")))?;
        let writer = writer::Writer::new(conn, head, observers, held_lines, unwritable_tx);
        let handle = std::thread::Builder::new()
            .name("register-writer".into())
            .spawn(move || writer.run(rx, &runtime))
            .map_err(|e| StoreError::Task(format!("cannot start the register writer: {e}")))?;
        Ok((RegisterWriter { tx, unwritable }, handle))
    }

    /// Queues a line and waits until it is committed to disk, or held in memory because the
    /// register cannot be written just now. A grant refused because the held lines fill
    /// their queue is [`StoreError::RegisterFull`].
    pub async fn commit(&self, line: RegisterLine) -> Result<Recorded> {
        Self::committed(self.submit(line).await?).await
    }

    /// Queues a line without waiting for the disk; the receiver learns the line's id once it
    /// is committed (refusals: nothing is unlocked on them, so the door need not wait).
    pub async fn submit(&self, line: RegisterLine) -> Result<Done> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((line, Some(ack)))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(done)
    }

    /// Waits for a submitted line's commit (or its being held).
    pub async fn committed(done: Done) -> Result<Recorded> {
        match done.await.map_err(|_| StoreError::WriterStopped)? {
            Ok(recorded) => Ok(recorded),
            Err(Unrecorded::Full) => Err(StoreError::RegisterFull),
            Err(Unrecorded::Failed(e)) => Err(StoreError::Task(e)),
        }
    }

    /// Follows whether the register can be written (`true`: it cannot, lines are held).
    pub fn unwritable(&self) -> watch::Receiver<bool> {
        self.unwritable.clone()
    }
}

/// A register line as shown by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `tap`, `exit_button`, `alarm`, `alarm_cleared`, `clock_jump`.
    pub event: String,
    pub door: Option<String>,
    pub reader: Option<String>,
    pub direction: Option<Direction>,
    /// `technology:HEX` as presented.
    pub credential: Option<String>,
    pub credential_id: Option<i64>,
    pub person_id: Option<PersonId>,
    pub person_name: Option<String>,
    pub person_id_number: Option<String>,
    pub person_unit: Option<String>,
    pub granted: bool,
    /// Stable reason code, e.g. `granted`, `credential_revoked`.
    pub reason: String,
}

#[derive(Debug, Default, Clone)]
pub struct RegisterFilter {
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub door: Option<DoorId>,
    pub person_id: Option<PersonId>,
    pub granted: Option<bool>,
    /// `tap`, `exit_button`, `alarm`, `alarm_cleared`, `clock_jump`.
    pub event: Option<String>,
    /// Paging: lines older than this id (newest first).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// The columns of a [`RegisterEntry`], with the names joined in.
macro_rules! columns {
    () => {
        "SELECT r.id, r.at, r.event, d.name, rd.name, r.direction, r.credential,
        r.credential_id, r.person_id, p.name, p.id_number, p.unit, r.granted, r.reason
    FROM register r
    LEFT JOIN door d ON d.id = r.door_id
    LEFT JOIN reader rd ON rd.id = r.reader_id
    LEFT JOIN person p ON p.id = r.person_id"
    };
}

const SELECT: &str = concat!(
    columns!(),
    " WHERE (?1 IS NULL OR r.at >= ?1) AND (?2 IS NULL OR r.at < ?2)
      AND (?3 IS NULL OR r.door_id = ?3) AND (?4 IS NULL OR r.person_id = ?4)
      AND (?5 IS NULL OR r.granted = ?5) AND (?6 IS NULL OR r.id < ?6)
      AND (?7 IS NULL OR r.event = ?7)"
);

/// Newest first.
pub fn list(conn: &Connection, f: &RegisterFilter) -> Result<Vec<RegisterEntry>> {
    let mut stmt = conn.prepare_cached(&format!("{SELECT} ORDER BY r.id DESC LIMIT ?8"))?;
    let rows = stmt.query_map(
        params![
            f.from.map(to_ms),
            f.until.map(to_ms),
            f.door,
            f.person_id,
            f.granted,
            f.before_id,
            f.event,
            f.limit
        ],
        entry,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Lines `first..=last` by id, oldest first.
pub fn range(conn: &Connection, first: i64, last: i64) -> Result<Vec<RegisterEntry>> {
    let mut stmt = conn.prepare_cached(concat!(
        columns!(),
        " WHERE r.id BETWEEN ?1 AND ?2 ORDER BY r.id"
    ))?;
    let rows = stmt.query_map(params![first, last], entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Oldest first, one line at a time, for exports of any size.
pub fn for_each(
    conn: &Connection,
    f: &RegisterFilter,
    mut each: impl FnMut(RegisterEntry) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY r.id"))?;
    let mut rows = stmt.query(params![
        f.from.map(to_ms),
        f.until.map(to_ms),
        f.door,
        f.person_id,
        f.granted,
        f.before_id,
        f.event
    ])?;
    while let Some(row) = rows.next()? {
        each(entry(row)?)?;
    }
    Ok(())
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<RegisterEntry> {
    let direction: Option<String> = r.get(5)?;
    Ok(RegisterEntry {
        id: r.get(0)?,
        at: from_ms(r.get(1)?),
        event: r.get(2)?,
        door: r.get(3)?,
        reader: r.get(4)?,
        direction: direction.map(|d| {
            if d == "out" {
                Direction::Out
            } else {
                Direction::In
            }
        }),
        credential: r.get(6)?,
        credential_id: r.get(7)?,
        person_id: r.get(8)?,
        person_name: r.get(9)?,
        person_id_number: r.get(10)?,
        person_unit: r.get(11)?,
        granted: r.get(12)?,
        reason: r.get(13)?,
    })
}
