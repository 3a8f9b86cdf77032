//! Pieces shared by the benches (`readers`, `osdp`; `figures` uses the percentiles): a real
//! `DoorController` with a timestamping actuator on its own runtime, CLOCK_MONOTONIC stamps comparable with another
//! process's `time.monotonic_ns()`, and percentiles. Included with `#[path]`; each bench uses
//! only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use lawang::decision::{AccessList, Entry, Right, Snapshot};
use lawang::door::actuator::{Actuator, ActuatorFuture};
use lawang::door::{DoorController, DoorStatus, ReaderSlot, Strike};
use lawang::model::{Credential, CredentialStatus, Direction, ReaderId};
use lawang::reader::{ReaderInfo, ReaderIo, ReaderOutput, ReaderStatus};
use lawang::store::register::RegisterWriter;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// CLOCK_MONOTONIC in nanoseconds, the clock Python's `time.monotonic_ns()` reads.
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    u64::try_from(ts.tv_sec).unwrap_or_default() * 1_000_000_000
        + u64::try_from(ts.tv_nsec).unwrap_or_default()
}

/// `later - earlier`, refusing a negative latency instead of wrapping.
pub fn latency(earlier: u64, later: u64, what: &str) -> Duration {
    let ns = later
        .checked_sub(earlier)
        .unwrap_or_else(|| panic!("{what}: the end ({later}) is before the start ({earlier})"));
    Duration::from_nanos(ns)
}

/// Random delays, so taps do not fall in step with a reader's poll. Not for anything secret.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn seeded() -> Self {
        XorShift(mono_ns() | 1)
    }

    pub fn below(&mut self, max: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_nanos(self.0 % u64::try_from(max.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// The actuator: reports when the strike was told to unlock.
pub struct Stamp(pub std_mpsc::Sender<u64>);

impl Actuator for Stamp {
    fn set(&self, strike: Strike) -> ActuatorFuture<'_> {
        if strike == Strike::Unlocked {
            let _ = self.0.send(mono_ns());
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The one place that builds a `DoorController`: adapt here when its fields change.
pub fn controller(
    reader: ReaderInfo,
    feedback: mpsc::Sender<lawang::reader::Feedback>,
    access: AccessList,
    register: RegisterWriter,
    actuator: Stamp,
) -> DoorController {
    DoorController {
        id: reader.door,
        name: "server room".into(),
        // Short, so each tap (2–10 ms apart) finds the door locked and really moves the strike.
        unlock_for: Duration::from_millis(1),
        held_open_after: Duration::from_secs(30),
        actuator: Box::new(actuator),
        access: Arc::new(access),
        register,
        readers: HashMap::from([(
            reader.id,
            ReaderSlot {
                info: reader,
                repeat_window: Duration::ZERO,
                feedback,
            },
        )]),
        status: watch::channel(DoorStatus::new(Utc::now())).0,
        pin_rule: lawang::config::PinRule::Never,
        pin_timeout: Duration::from_secs(10),
        lockout: Arc::new(lawang::pin::Lockout::new(3, Duration::from_secs(900))),
        presence: lawang::door::Presence::default(),
        inside: watch::channel(Vec::new()).0,
        alarm_notices: None,
        metrics: Default::default(),
    }
}

/// Every bench card may open door 1 at any time.
pub fn access_list(cards: impl IntoIterator<Item = Credential>) -> AccessList {
    let mut snapshot = Snapshot::new(chrono_tz::Asia::Jakarta);
    let rights: Arc<[Right]> = Arc::from(vec![Right {
        id: 1,
        doors: Box::new([1]),
        valid_from: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
        valid_until: Utc.with_ymd_and_hms(2099, 1, 1, 0, 0, 0).unwrap(),
        schedule: None,
    }]);
    for (i, card) in (1..).zip(cards) {
        let entry = Entry {
            credential_id: i,
            person_id: i,
            status: CredentialStatus::Active,
            rights: rights.clone(),
            pin_hash: None,
            escort: None,
        };
        snapshot.insert(card, entry);
    }
    AccessList::new(snapshot)
}

/// One door with one reader, running on its own runtime.
pub struct Door {
    rt: tokio::runtime::Runtime,
    unlocked: std_mpsc::Receiver<u64>,
    status: watch::Receiver<ReaderStatus>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    drivers: Vec<tokio::task::JoinHandle<()>>,
    register: std::thread::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Door {
    /// Starts the door; the returned `ReaderIo` is for the driver under test.
    pub fn start(id: ReaderId, kind: &'static str, cards: Vec<Credential>) -> (Door, ReaderIo) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let conn = lawang::store::open(&dir.path().join("bench.sqlite3")).unwrap();
        conn.execute_batch("PRAGMA synchronous = OFF").unwrap();
        let (register, register_thread) = RegisterWriter::start_with(conn).unwrap();
        let info = ReaderInfo {
            id,
            name: kind.into(),
            door: 1,
            direction: Direction::In,
            kind,
        };
        let (events, events_rx) = mpsc::channel(64);
        let (feedback, feedback_rx) = mpsc::channel(16);
        let (stamps, unlocked) = std_mpsc::channel();
        let door = controller(info, feedback, access_list(cards), register, Stamp(stamps));
        let stop = CancellationToken::new();
        let (_inputs, inputs_rx) = mpsc::channel(1);
        let task = rt.spawn(door.run(events_rx, inputs_rx, stop.clone()));
        let (status, status_rx) = watch::channel(ReaderStatus::Offline {
            detail: "not started".into(),
        });
        let io = ReaderIo {
            output: ReaderOutput::new(id, events, Arc::new(status)),
            feedback: feedback_rx,
            shutdown: stop.clone(),
        };
        let door = Door {
            rt,
            unlocked,
            status: status_rx,
            stop,
            task,
            drivers: Vec::new(),
            register: register_thread,
            _dir: dir,
        };
        (door, io)
    }

    pub fn wait_online(&self, within: Duration) {
        let end = Instant::now() + within;
        while *self.status.borrow() != ReaderStatus::Online {
            assert!(
                Instant::now() < end,
                "reader not online within {within:?}: {:?}",
                *self.status.borrow()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Forgets unlocks from before the tap about to be made (there should be none).
    pub fn drain(&self) {
        while self.unlocked.try_recv().is_ok() {}
    }

    /// When the actuator was told to unlock; on a timeout, panics with `failure()` added.
    pub fn wait_unlock(&self, within: Duration, failure: impl FnOnce() -> String) -> u64 {
        self.unlocked.recv_timeout(within).unwrap_or_else(|e| {
            panic!(
                "actuator not called within {within:?} ({e}); reader status {:?}; {}",
                *self.status.borrow(),
                failure()
            )
        })
    }

    /// Runs an async driver on the door's runtime until [`Door::stop`].
    pub fn spawn_driver(&mut self, driver: impl Future<Output = ()> + Send + 'static) {
        self.drivers.push(self.rt.spawn(driver));
    }

    /// Stops the controller and the drivers sharing its token; the register writer ends
    /// with the controller.
    pub fn stop(self) {
        self.stop.cancel();
        self.rt.block_on(async {
            self.task.await.unwrap();
            for driver in self.drivers {
                driver.await.unwrap();
            }
        });
        self.register.join().unwrap();
    }
}

/// How the clock check went: every answer was in its bracket; the widest bracket.
pub struct ClockCheck {
    pub rounds: u32,
    pub widest: Duration,
}

impl ClockCheck {
    pub fn merge(self, other: ClockCheck) -> ClockCheck {
        ClockCheck {
            rounds: self.rounds + other.rounds,
            widest: self.widest.max(other.widest),
        }
    }
}

pub struct Percentiles {
    pub n: usize,
    pub min: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

pub fn percentiles(samples: &[Duration]) -> Percentiles {
    let mut v = samples.to_vec();
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    Percentiles {
        n: v.len(),
        min: v[0],
        p50: at(0.50),
        p99: at(0.99),
        max: v[v.len() - 1],
    }
}
