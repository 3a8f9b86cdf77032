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

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::thread::JoinHandle;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ToSql, params, params_from_iter};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::chain::{self, Hash, Table};
use super::{Result, StoreError, from_ms, to_ms};
use crate::metrics::RegisterMetrics;
use crate::model::{Direction, DoorId, PersonId};
use crate::register::RegisterLine;

/// Lines taken into one transaction at most; bounds the latency of the last one.
const MAX_BATCH: usize = 1024;
/// Lines waiting for the writer; a door controller waits when it is full.
const QUEUE: usize = 8192;

type Ack = oneshot::Sender<Result<i64, String>>;

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
}

impl RegisterWriter {
    /// Starts the writer thread on its own connection to `path`. The thread ends, after
    /// writing everything queued, once every `RegisterWriter` clone is dropped.
    pub fn start(path: &Path) -> Result<(RegisterWriter, JoinHandle<()>)> {
        Self::start_observed(super::open(path)?, Observers::default())
    }

    pub fn start_with(conn: Connection) -> Result<(RegisterWriter, JoinHandle<()>)> {
        Self::start_observed(conn, Observers::default())
    }

    /// Starts the writer with its metrics and the stream committed lines are published on.
    pub fn start_observed(
        conn: Connection,
        observers: Observers,
    ) -> Result<(RegisterWriter, JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let head = chain::last(&conn, Table::Register)?;
        let handle = std::thread::Builder::new()
            .name("register-writer".into())
            .spawn(move || run(conn, head, rx, observers))
            .map_err(|e| StoreError::Task(format!("cannot start the register writer: {e}")))?;
        Ok((RegisterWriter { tx }, handle))
    }

    /// Queues a line and waits until it is committed to disk; returns its id.
    pub async fn commit(&self, line: RegisterLine) -> Result<i64> {
        Self::committed(self.submit(line).await?).await
    }

    /// Queues a line without waiting for the disk; the receiver learns the line's id once it
    /// is committed (refusals: nothing is unlocked on them, so the door need not wait).
    pub async fn submit(
        &self,
        line: RegisterLine,
    ) -> Result<oneshot::Receiver<Result<i64, String>>> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send((line, Some(ack)))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        Ok(done)
    }

    /// Waits for a submitted line's commit.
    pub async fn committed(done: oneshot::Receiver<Result<i64, String>>) -> Result<i64> {
        done.await
            .map_err(|_| StoreError::WriterStopped)?
            .map_err(StoreError::Task)
    }
}

fn run(
    mut conn: Connection,
    mut head: (i64, Hash),
    mut rx: mpsc::Receiver<(RegisterLine, Option<Ack>)>,
    observers: Observers,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = Instant::now();
        let written = write_batch(&mut conn, &mut head, &batch);
        let metrics = &observers.metrics;
        metrics.commit.observe(started.elapsed());
        match written {
            Ok(first_id) => {
                let n = batch.len() as i64;
                metrics.lines.fetch_add(n as u64, Relaxed);
                for (i, (_, ack)) in batch.drain(..).enumerate() {
                    if let Some(ack) = ack {
                        let _ = ack.send(Ok(first_id + i as i64));
                    }
                }
                publish(&conn, &observers.committed, first_id, first_id + n - 1);
            }
            Err(e) => {
                metrics.failed_lines.fetch_add(batch.len() as u64, Relaxed);
                tracing::error!(error = %e, lines = batch.len(), "register lines could not be written");
                for (line, ack) in batch.drain(..) {
                    tracing::error!(at = %line.at, door = line.door, event = line.kind(), reason = line.reason(), "unrecorded register line");
                    if let Some(ack) = ack {
                        let _ = ack.send(Err(e.to_string()));
                    }
                }
            }
        }
    }
}

/// Reads the committed lines back with their names and sends them to the event stream's
/// subscribers; nothing is read when nobody listens.
fn publish(conn: &Connection, committed: &Committed, first: i64, last: i64) {
    if committed.receiver_count() == 0 {
        return;
    }
    match range(conn, first, last) {
        Ok(entries) => {
            for e in entries {
                let _ = committed.send(Arc::new(e));
            }
        }
        Err(e) => tracing::warn!(error = %e, "committed register lines not published"),
    }
}

/// Writes a batch in one transaction, chained on from `head`, which moves only once the
/// batch is committed. Ids are consecutive because this thread is the only writer of the
/// register table; it assigns them, since each one is part of its line's hash.
fn write_batch(
    conn: &mut Connection,
    head: &mut (i64, Hash),
    batch: &[(RegisterLine, Option<Ack>)],
) -> Result<i64> {
    let tx = conn.transaction()?;
    let (mut id, mut prev) = *head;
    let first = id + 1;
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO register (id, at, event, door_id, reader_id, direction, credential,
                                   credential_id, person_id, granted, reason, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for (line, _) in batch {
            id += 1;
            let decision = line.decision();
            let at = to_ms(line.at);
            let direction = line.direction.map(|d| d.as_str());
            let credential = line.credential.map(|c| c.to_string());
            let credential_id = decision.and_then(|d| d.credential_id());
            let person_id = decision.and_then(|d| d.person_id());
            let (kind, granted, reason) = (line.kind(), line.granted(), line.reason());
            let values: [&dyn ToSql; 11] = [
                &id,
                &at,
                &kind,
                &line.door,
                &line.reader,
                &direction,
                &credential,
                &credential_id,
                &person_id,
                &granted,
                &reason,
            ];
            let hash = chain::hash_row(Table::Register, &prev, &values)?;
            stmt.execute(params_from_iter(
                values
                    .iter()
                    .copied()
                    .chain([&prev as &dyn ToSql, &hash as &dyn ToSql]),
            ))?;
            prev = hash;
        }
    }
    tx.commit()?;
    *head = (id, prev);
    Ok(first)
}

/// A register line as shown by the API.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegisterEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `tap`, `exit_button`, `alarm` or `alarm_cleared`.
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
    /// `tap`, `exit_button`, `alarm`, `alarm_cleared`.
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
