//! The writer thread: group commit, and holding lines while the register cannot be written.
//!
//! Normally every batch is one transaction. When a write fails for a reason time can cure
//! (disk full, an I/O error, a lock), the batch's lines are held in memory ([`Held`]), in
//! order, and acknowledged as held, so the door keeps working; every later line queues behind
//! them. The writer retries every [`RETRY`] and whenever a line arrives, writes the held
//! lines oldest first (the chain continues from the last committed line, so it stays
//! intact), and only then the new ones. While it fails, `unwritable` is `true`: every door
//! raises `register_unwritable`, and the log and metrics say so. Other errors (a broken
//! schema) are not held: those lines are logged and lost, as before, and a grant among them
//! is refused.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode, ToSql, params_from_iter};
use tokio::sync::{mpsc, watch};

use super::held::{Admit, Held};
use super::{Ack, Committed, Observers, Recorded, Unrecorded, range};
use crate::register::RegisterLine;
use crate::store::chain::{self, Hash, Table};
use crate::store::{Result, StoreError, to_ms};

/// Lines taken into one transaction at most; bounds the latency of the last one.
const MAX_BATCH: usize = 1024;
/// How often held lines are retried when no new line arrives.
const RETRY: Duration = Duration::from_millis(500);

type Job = (RegisterLine, Option<Ack>);

pub(super) struct Writer {
    conn: Connection,
    head: (i64, Hash),
    observers: Observers,
    held: Held,
    unwritable: watch::Sender<bool>,
}

impl Writer {
    pub(super) fn new(
        conn: Connection,
        head: (i64, Hash),
        observers: Observers,
        held_lines: usize,
        unwritable: watch::Sender<bool>,
    ) -> Self {
        Writer {
            conn,
            head,
            observers,
            held: Held::new(held_lines),
            unwritable,
        }
    }

    /// Runs until every sender is dropped; `runtime` only times the retries.
    pub(super) fn run(mut self, mut rx: mpsc::Receiver<Job>, runtime: &tokio::runtime::Runtime) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        loop {
            let first = if self.held.is_empty() {
                rx.blocking_recv()
            } else {
                // The timer is made inside the runtime, which owns the clock it needs.
                match runtime.block_on(async { tokio::time::timeout(RETRY, rx.recv()).await }) {
                    Ok(job) => job,
                    Err(_) => {
                        self.flush();
                        continue;
                    }
                }
            };
            let Some(first) = first else { break };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            self.take(&mut batch);
        }
        self.flush();
        for line in self.held.drain() {
            self.observers.metrics.failed_lines.fetch_add(1, Relaxed);
            tracing::error!(at = %line.at, door = line.door, event = line.kind(), reason = line.reason(), "unrecorded register line (held when the daemon stopped)");
        }
    }

    /// Writes a batch, behind any held lines, or holds it.
    fn take(&mut self, batch: &mut Vec<Job>) {
        if !self.held.is_empty() {
            self.flush();
        }
        if !self.held.is_empty() {
            for (line, ack) in batch.drain(..) {
                self.hold(line, ack);
            }
            return;
        }
        let started = Instant::now();
        let written = write_batch(&mut self.conn, &mut self.head, batch.iter().map(|(l, _)| l));
        let metrics = &self.observers.metrics;
        metrics.commit.observe(started.elapsed());
        match written {
            Ok(first_id) => {
                let n = batch.len() as i64;
                metrics.lines.fetch_add(n as u64, Relaxed);
                for (i, (_, ack)) in batch.drain(..).enumerate() {
                    if let Some(ack) = ack {
                        let _ = ack.send(Ok(Recorded::Committed(first_id + i as i64)));
                    }
                }
                publish(
                    &self.conn,
                    &self.observers.committed,
                    first_id,
                    first_id + n - 1,
                );
            }
            Err(e) if curable(&e) => {
                self.failed(&e);
                for (line, ack) in batch.drain(..) {
                    self.hold(line, ack);
                }
            }
            Err(e) => {
                metrics.failed_lines.fetch_add(batch.len() as u64, Relaxed);
                tracing::error!(error = %e, lines = batch.len(), "register lines could not be written");
                for (line, ack) in batch.drain(..) {
                    tracing::error!(at = %line.at, door = line.door, event = line.kind(), reason = line.reason(), "unrecorded register line");
                    if let Some(ack) = ack {
                        let _ = ack.send(Err(Unrecorded::Failed(e.to_string())));
                    }
                }
            }
        }
    }

    fn hold(&mut self, line: RegisterLine, ack: Option<Ack>) {
        let answer = match self.held.admit(line) {
            Admit::Held => Ok(Recorded::Held),
            Admit::Full => Err(Unrecorded::Full),
            Admit::Dropped(line) => {
                self.observers.metrics.failed_lines.fetch_add(1, Relaxed);
                tracing::error!(at = %line.at, door = line.door, event = line.kind(), reason = line.reason(), "unrecorded register line: the queue of held lines is full");
                Err(Unrecorded::Failed(
                    "the queue of held register lines is full".into(),
                ))
            }
        };
        self.observers
            .metrics
            .held_lines
            .store(self.held.len() as u64, Relaxed);
        if let Some(ack) = ack {
            let _ = ack.send(answer);
        }
    }

    /// Writes the held lines, oldest first, as far as the register takes them.
    fn flush(&mut self) {
        let metrics = self.observers.metrics.clone();
        let mut written = 0;
        while !self.held.is_empty() {
            let n = self.held.len().min(MAX_BATCH);
            match write_batch(&mut self.conn, &mut self.head, self.held.oldest(n)) {
                Ok(first_id) => {
                    self.held.written(n);
                    written += n;
                    metrics.lines.fetch_add(n as u64, Relaxed);
                    metrics.held_lines.store(self.held.len() as u64, Relaxed);
                    publish(
                        &self.conn,
                        &self.observers.committed,
                        first_id,
                        first_id + n as i64 - 1,
                    );
                }
                Err(e) => {
                    self.failed(&e);
                    return;
                }
            }
        }
        if *self.unwritable.borrow() {
            metrics.unwritable.store(0, Relaxed);
            tracing::info!(
                written,
                "register writable again: every held line is written"
            );
            self.unwritable.send_replace(false);
        }
    }

    /// Counts a failed attempt; logs and announces the first of a run.
    fn failed(&self, e: &StoreError) {
        let metrics = &self.observers.metrics;
        metrics.write_failures.fetch_add(1, Relaxed);
        if *self.unwritable.borrow() {
            tracing::debug!(error = %e, held = self.held.len(), "register still cannot be written");
            return;
        }
        metrics.unwritable.store(1, Relaxed);
        tracing::error!(error = %e, "register cannot be written: lines are held in memory, in order, until it can");
        self.unwritable.send_replace(true);
    }
}

/// Whether a failed write may succeed later unchanged: space freed, the device back.
fn curable(e: &StoreError) -> bool {
    match e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
        ),
        _ => false,
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
                let _ = committed.send(std::sync::Arc::new(e));
            }
        }
        Err(e) => tracing::warn!(error = %e, "committed register lines not published"),
    }
}

/// Writes lines in one transaction, chained on from `head`, which moves only once the
/// transaction is committed. Ids are consecutive because this thread is the only writer of
/// the register table; it assigns them, since each one is part of its line's hash.
fn write_batch<'a>(
    conn: &mut Connection,
    head: &mut (i64, Hash),
    lines: impl Iterator<Item = &'a RegisterLine>,
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
        for line in lines {
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

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::super::{Recorded, RegisterWriter};
    use crate::decision::{Decision, Reason};
    use crate::register::{Event, RegisterLine};
    use crate::store::chain::{self, Table};
    use crate::store::tests::fixture;
    use crate::store::{DB_FILE, StoreError, open};

    fn line(door: i64, granted: bool) -> RegisterLine {
        RegisterLine {
            at: Utc::now(),
            door,
            reader: None,
            direction: None,
            credential: None,
            event: Event::Tap(if granted {
                Decision::Granted {
                    credential_id: 1,
                    person_id: 1,
                    right_id: 1,
                    escort: None,
                    warning: None,
                }
            } else {
                Decision::refused(Reason::UnknownCredential)
            }),
        }
    }

    /// A real `SQLITE_FULL`: the writer's connection may not grow the file
    /// (`max_page_count`), and space returns when another connection frees pages.
    #[tokio::test]
    async fn lines_are_held_while_the_database_is_full_and_written_in_order_when_space_returns() {
        let f = fixture();
        let path = f.dir.path().join(DB_FILE);
        let other = open(&path).unwrap();
        other
            .execute_batch(
                "CREATE TABLE filler (b BLOB);
                 INSERT INTO filler SELECT zeroblob(4000) FROM generate_series(1, 100);",
            )
            .unwrap_or_else(|_| {
                // Without the series extension: one row at a time.
                for _ in 0..100 {
                    other
                        .execute("INSERT INTO filler VALUES (zeroblob(4000))", [])
                        .unwrap();
                }
            });
        let conn = open(&path).unwrap();
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .unwrap();
        let (writer, thread) = RegisterWriter::start_observed(conn, Default::default(), 3).unwrap();
        let mut unwritable = writer.unwritable();

        // Lines fit in the last page for a while; then the file would have to grow.
        let mut committed = 0;
        let first_held = loop {
            match writer.commit(line(f.door, true)).await.unwrap() {
                Recorded::Committed(_) => committed += 1,
                Recorded::Held => break committed,
            }
            assert!(committed < 2000, "the database never filled");
        };
        assert!(*unwritable.borrow_and_update());
        // Two more grants wait; the next is refused; a refusal still waits.
        assert_eq!(
            writer.commit(line(f.door, true)).await.unwrap(),
            Recorded::Held
        );
        assert_eq!(
            writer.commit(line(f.door, true)).await.unwrap(),
            Recorded::Held
        );
        assert!(matches!(
            writer.commit(line(f.door, true)).await,
            Err(StoreError::RegisterFull)
        ));
        assert_eq!(
            writer.commit(line(f.door, false)).await.unwrap(),
            Recorded::Held
        );

        other.execute_batch("DELETE FROM filler").unwrap();
        unwritable.changed().await.unwrap();
        assert!(!*unwritable.borrow_and_update());
        let next = writer.commit(line(f.door, false)).await.unwrap();
        drop(writer);
        thread.join().unwrap();

        // The first held line, two more grants, the refusal, then the new line: in order.
        let want = first_held + 5;
        assert_eq!(next, Recorded::Committed(want as i64));
        let granted: Vec<bool> = other
            .prepare("SELECT granted FROM register ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(granted.len(), want);
        assert_eq!(&granted[first_held..], [true, true, true, false, false]);
        let report = chain::verify_table(&other, Table::Register).unwrap();
        assert_eq!((report.broken, report.rows), (None, want as u64));
    }
}
