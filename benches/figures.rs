//! `cargo bench`: the figures of docs/benchmarks.md.
//!
//! 1. The decision with 1k, 100k and 1M cards in the access list: p50 / p99 per call.
//! 2. Simulated tap → actuator called, through the real door controller and register
//!    writer: p50 / p99, with fsync excluded (`synchronous = OFF`) and, for comparison,
//!    included (`synchronous = FULL`, the daemon's setting).
//! 3. Register inserts per second with group commit, and bytes per register row on disk.
//!
//! `cargo bench -- quick` runs smaller sizes (for CI: proves the bench runs, not the figures).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use lawang::decision::{AccessList, Entry, Right, Snapshot, decide};
use lawang::door::actuator::{Actuator, ActuatorFuture};
use lawang::door::{DoorController, DoorStatus, ReaderSlot, Strike};
use lawang::model::{Credential, CredentialStatus, Direction, Technology};
use lawang::reader::{ReaderEvent, ReaderInfo, ReaderOutput, ReaderStatus};
use lawang::register::RegisterLine;
use lawang::store::register::RegisterWriter;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

mod common;

use common::percentiles;

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    println!(
        "# Lawang benchmark figures ({})\n",
        if quick { "quick" } else { "full" }
    );
    let sizes: &[usize] = if quick {
        &[1_000, 10_000]
    } else {
        &[1_000, 100_000, 1_000_000]
    };
    decision(sizes);
    let taps = if quick { 500 } else { 5_000 };
    pipeline(taps, false);
    pipeline(taps, true);
    register(if quick { 20_000 } else { 200_000 });
}

fn card(i: u64) -> Credential {
    Credential::new(Technology::Iso14443, &(i as u32).to_be_bytes()[..])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn snapshot(n: usize) -> Snapshot {
    let from = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let until = Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap();
    let office: Arc<lawang::schedule::Schedule> = Arc::new(
        serde_json::from_str(r#"{"windows":[{"days":["mon","tue","wed","thu","fri"],"from":"07:00","until":"17:00"}]}"#)
            .unwrap(),
    );
    let mut s = Snapshot::new(chrono_tz::Asia::Jakarta);
    for i in 0..n as u64 {
        let rights: Arc<[Right]> = Arc::from(vec![
            Right {
                id: 1,
                doors: Box::new([2]),
                valid_from: from,
                valid_until: until,
                schedule: None,
            },
            Right {
                id: 2,
                doors: Box::new([1]),
                valid_from: from,
                valid_until: until,
                schedule: Some(office.clone()),
            },
        ]);
        s.insert(
            card(i),
            Entry {
                credential_id: i as i64,
                person_id: i as i64,
                status: CredentialStatus::Active,
                rights,
                pin_hash: None,
                escort: None,
            },
        );
    }
    s
}

fn decision(sizes: &[usize]) {
    println!("## Decision (pure function, one call)\n");
    println!("| cards | p50 | p99 | max | calls |");
    println!("|---:|---:|---:|---:|---:|");
    // A Wednesday 10:00 WIB: inside office hours, so the schedule path is taken.
    let now = Utc.with_ymd_and_hms(2026, 3, 4, 3, 0, 0).unwrap();
    for &n in sizes {
        let s = snapshot(n);
        let calls = 200_000;
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut times = Vec::with_capacity(calls);
        let mut granted = 0;
        for _ in 0..calls {
            // xorshift: cards in random order defeat the cache as real taps would.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let c = card(x % (n as u64 * 11 / 10)); // ~9% unknown cards
            let t = Instant::now();
            let d = decide(&s, 1, &c, now);
            times.push(t.elapsed());
            granted += d.is_granted() as u32;
        }
        let p = percentiles(&times);
        println!(
            "| {n} | {:?} | {:?} | {:?} | {calls} ({granted} granted) |",
            p.p50, p.p99, p.max
        );
    }
    println!();
}

/// Records when the strike was told to unlock.
struct Stamp(Arc<Mutex<Vec<Instant>>>);

impl Actuator for Stamp {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_> {
        if strike == Strike::Unlocked {
            self.0.lock().unwrap().push(Instant::now());
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

fn pipeline(taps: usize, fsync: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite3");
    let conn = lawang::store::open(&path).unwrap();
    if !fsync {
        conn.execute_batch("PRAGMA synchronous = OFF").unwrap();
    }
    let stamps = Arc::new(Mutex::new(Vec::new()));
    let result = rt.block_on(async {
        let (register, thread) = RegisterWriter::start_with(conn).unwrap();
        let mut snap = snapshot(1000);
        snap.insert(
            card(424_242),
            Entry {
                credential_id: 1,
                person_id: 1,
                status: CredentialStatus::Active,
                rights: Arc::from(vec![Right {
                    id: 9,
                    doors: Box::new([1]),
                    valid_from: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
                    valid_until: Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap(),
                    schedule: None,
                }]),
                pin_hash: None,
                escort: None,
            },
        );
        let info = ReaderInfo {
            id: 1,
            name: "masuk".into(),
            door: 1,
            direction: Direction::In,
            kind: "simulated",
        };
        let (tx, rx) = mpsc::channel(64);
        let (feedback, _fb) = mpsc::channel(taps + 8);
        let (status_tx, mut status) = watch::channel(DoorStatus::new(Utc::now()));
        let controller = DoorController {
            id: 1,
            name: "bench".into(),
            // Short, so every tap finds the door locked again and really moves the strike.
            unlock_for: Duration::from_millis(1),
            held_open_after: Duration::from_secs(30),
            actuator: Box::new(Stamp(stamps.clone())),
            access: Arc::new(AccessList::new(snap)),
            register,
            readers: HashMap::from([(
                1,
                ReaderSlot {
                    info,
                    repeat_window: Duration::ZERO,
                    feedback,
                },
            )]),
            status: status_tx,
            pin_rule: lawang::config::PinRule::Never,
            pin_timeout: Duration::from_secs(10),
            lockout: Arc::new(lawang::pin::Lockout::new(3, Duration::from_secs(900))),
            presence: lawang::door::Presence::default(),
            inside: watch::channel(Vec::new()).0,
            alarm_notices: None,
            metrics: Default::default(),
        };
        let stop = CancellationToken::new();
        let (_inputs, inputs_rx) = mpsc::channel(1);
        let task = tokio::spawn(controller.run(rx, inputs_rx, stop.clone()));
        let output = ReaderOutput::new(1, tx, Arc::new(watch::channel(ReaderStatus::Online).0));
        let mut latencies = Vec::with_capacity(taps);
        for _ in 0..taps {
            status
                .wait_for(|s| s.strike == Strike::Locked)
                .await
                .unwrap();
            let before = stamps.lock().unwrap().len();
            let (reply, done) = oneshot::channel();
            let start = Instant::now();
            output
                .send(ReaderEvent::Card(card(424_242)), Some(reply))
                .await;
            done.await.unwrap();
            let stamps = stamps.lock().unwrap();
            assert_eq!(
                stamps.len(),
                before + 1,
                "every tap must unlock the strike once"
            );
            latencies.push(stamps[before] - start);
        }
        stop.cancel();
        task.await.unwrap();
        drop(output);
        thread.join().unwrap();
        latencies
    });
    let p = percentiles(&result);
    let label = if fsync {
        "fsync included (synchronous = FULL)"
    } else {
        "fsync excluded (synchronous = OFF)"
    };
    println!("## Tap → actuator called, {label}\n");
    println!("| taps | p50 | p99 | max |\n|---:|---:|---:|---:|");
    println!("| {taps} | {:?} | {:?} | {:?} |\n", p.p50, p.p99, p.max);
}

fn register(rows: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.sqlite3");
    let conn = lawang::store::open(&path).unwrap();
    let (writer, thread) = RegisterWriter::start_with(conn).unwrap();
    let producers = 4;
    let start = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for p in 0..producers {
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let mut last = None;
                for i in 0..rows / producers {
                    let line = RegisterLine {
                        at: Utc::now(),
                        door: 1,
                        reader: Some(p as i64 + 1),
                        direction: Some(Direction::In),
                        credential: Some(card((p * rows + i) as u64)),
                        event: lawang::register::Event::Tap(lawang::decision::Decision::Granted {
                            credential_id: i as i64,
                            person_id: i as i64,
                            right_id: 1,
                            escort: None,
                            warning: None,
                        }),
                    };
                    last = Some(writer.submit(line).await.unwrap());
                }
                RegisterWriter::committed(last.unwrap()).await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let elapsed = start.elapsed();
    drop(writer);
    thread.join().unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let (pages, page_size, freelist): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT page_count FROM pragma_page_count), (SELECT page_size FROM pragma_page_size),
                    (SELECT freelist_count FROM pragma_freelist_count)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let written: i64 = conn
        .query_row("SELECT count(*) FROM register", [], |r| r.get(0))
        .unwrap();
    // Table and indexes of the register only, measured with dbstat where compiled in.
    let register_bytes: Option<i64> = conn
        .query_row(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('register', 'register_by_time', 'register_by_person')",
            [],
            |r| r.get(0),
        )
        .ok();
    let file_bytes = (pages - freelist) * page_size;
    println!(
        "## Register writes (group commit, synchronous = FULL, {producers} concurrent producers)\n"
    );
    println!("| rows | seconds | rows/s | bytes/row (file) | bytes/row (register + indexes) |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {written} | {:.2} | {:.0} | {:.1} | {} |\n",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64(),
        file_bytes as f64 / written as f64,
        register_bytes.map_or("n/a".into(), |b| format!(
            "{:.1}",
            b as f64 / written as f64
        )),
    );
}
