//! Door controller tests: a recording actuator (the one fake: no strike can run here),
//! a real register on SQLite, tokio's paused clock for the re-lock timer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Duration as Days, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::PinRule;
use crate::decision::Reason;
use crate::model::{Credential, Direction, Technology};
use crate::pin::Lockout;
use crate::reader::ReaderInfo;
use crate::reader::{ReaderEvent, ReaderOutput, ReaderStatus};
use crate::store::register::{RegisterFilter, RegisterWriter};
use crate::store::tests::{Fixture, fixture};
use crate::store::{self, DB_FILE};

/// Records every strike command and, on unlock, how many granted lines were on disk.
struct Recorder {
    db: std::path::PathBuf,
    log: Arc<Mutex<Vec<(Strike, i64)>>>,
}

impl Actuator for Recorder {
    fn set(&self, strike: Strike) -> actuator::ActuatorFuture<'_> {
        let conn = store::open(&self.db).unwrap();
        let granted: i64 = conn
            .query_row("SELECT count(*) FROM register WHERE granted = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        self.log.lock().unwrap().push((strike, granted));
        Box::pin(std::future::ready(Ok(())))
    }
}

struct Rig {
    f: Fixture,
    output: ReaderOutput,
    inputs: mpsc::Sender<DoorInput>,
    log: Arc<Mutex<Vec<(Strike, i64)>>>,
    status: watch::Receiver<DoorStatus>,
    control: mpsc::Sender<DoorControl>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    /// Alarm notices as the notify task would receive them.
    notices: mpsc::Receiver<AlarmNotice>,
}

const READER: i64 = 7;

fn rig_with(f: Fixture, register: RegisterWriter, repeat_window: Duration) -> Rig {
    rig_full(f, register, repeat_window, PinRule::Never)
}

fn rig_full(
    f: Fixture,
    register: RegisterWriter,
    repeat_window: Duration,
    pin_rule: PinRule,
) -> Rig {
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel(16);
    let (inputs, inputs_rx) = mpsc::channel(16);
    let (status_tx, status) = watch::channel(DoorStatus::new(Utc::now()));
    let (feedback, _) = mpsc::channel(8);
    let (notices_tx, notices) = mpsc::channel(16);
    let info = ReaderInfo {
        id: READER,
        name: "masuk".into(),
        door: f.door,
        direction: Direction::In,
        kind: "simulated",
    };
    let controller = DoorController {
        id: f.door,
        name: "ruang-server".into(),
        unlock_for: Duration::from_secs(5),
        held_open_after: Duration::from_secs(30),
        actuator: Box::new(Recorder {
            db: f.dir.path().join(DB_FILE),
            log: log.clone(),
        }),
        access: f.db.access_list(),
        register,
        readers: HashMap::from([(
            READER,
            ReaderSlot {
                info,
                repeat_window,
                feedback,
            },
        )]),
        status: status_tx,
        pin_rule,
        pin_timeout: Duration::from_secs(10),
        lockout: Arc::new(Lockout::new(3, Duration::from_secs(900))),
        presence: Presence::default(),
        inside: watch::channel(Vec::new()).0,
        alarm_notices: Some(notices_tx),
        metrics: Default::default(),
    };
    let stop = CancellationToken::new();
    let (control, mut control_rx) = mpsc::channel(4);
    let stopping = stop.clone();
    let task = tokio::spawn(async move {
        controller
            .run_controlled(rx, inputs_rx, &mut control_rx, stopping)
            .await
    });
    let output = ReaderOutput::new(READER, tx, Arc::new(watch::channel(ReaderStatus::Online).0));
    Rig {
        f,
        output,
        inputs,
        log,
        status,
        control,
        stop,
        task,
        notices,
    }
}

fn rig(repeat_window: Duration) -> Rig {
    let f = fixture();
    let (register, _thread) = RegisterWriter::start(&f.dir.path().join(DB_FILE)).unwrap();
    let p = f.person("Budi");
    f.issue(
        p,
        "C0FFEE",
        Utc::now() - Days::days(1),
        Utc::now() + Days::days(1),
    )
    .unwrap();
    rig_with(f, register, repeat_window)
}

async fn tap(rig: &Rig, uid: &str) -> TapOutcome {
    let card = Credential::parse_hex(Technology::Iso14443, uid).unwrap();
    let (reply, rx) = oneshot::channel();
    assert!(rig.output.send(ReaderEvent::Card(card), Some(reply)).await);
    rx.await.unwrap()
}

fn strikes(rig: &Rig) -> Vec<(Strike, i64)> {
    rig.log.lock().unwrap().clone()
}

#[tokio::test]
async fn locks_at_start_and_unlocks_only_after_the_grant_is_on_disk() {
    let rig = rig(Duration::ZERO);
    let out = tap(&rig, "C0FFEE").await;
    assert!(out.decision.is_granted());
    assert!(out.register_id.is_some());
    assert_eq!(strikes(&rig), [(Strike::Locked, 0), (Strike::Unlocked, 1)]);
    assert_eq!(rig.status.borrow().strike, Strike::Unlocked);
}

#[tokio::test]
async fn a_refusal_does_not_move_the_strike() {
    let rig = rig(Duration::ZERO);
    let out = tap(&rig, "BADBAD").await;
    assert_eq!(out.decision.reason(), Reason::UnknownCredential);
    assert_eq!(strikes(&rig), [(Strike::Locked, 0)]);
}

#[tokio::test(start_paused = true)]
async fn relocks_after_unlock_seconds_on_the_monotonic_clock() {
    let rig = rig(Duration::ZERO);
    tap(&rig, "C0FFEE").await;
    tokio::time::sleep(Duration::from_millis(4900)).await;
    assert_eq!(rig.status.borrow().strike, Strike::Unlocked);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(rig.status.borrow().strike, Strike::Locked);
    assert_eq!(strikes(&rig).last().unwrap().0, Strike::Locked);
}

#[tokio::test]
async fn a_held_card_counts_once_until_it_is_lifted() {
    let rig = rig(Duration::from_secs(60));
    let first = tap(&rig, "C0FFEE").await;
    let again = tap(&rig, "C0FFEE").await;
    assert!(first.register_id.is_some());
    assert_eq!(
        again.register_id, None,
        "a repeat is not a new register line"
    );
    assert_eq!(again.decision, first.decision);
    // Another card breaks the presentation.
    tap(&rig, "BADBAD").await;
    let third = tap(&rig, "C0FFEE").await;
    assert!(third.register_id.is_some());
}

#[tokio::test]
async fn a_grant_that_cannot_be_recorded_keeps_the_door_locked() {
    let f = fixture();
    let p = f.person("Budi");
    f.issue(
        p,
        "C0FFEE",
        Utc::now() - Days::days(1),
        Utc::now() + Days::days(1),
    )
    .unwrap();
    // A writer whose register table lacks its columns: every write fails.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE register (id INTEGER PRIMARY KEY, hash BLOB);
         CREATE TABLE audit (id INTEGER PRIMARY KEY, action TEXT, detail TEXT);",
    )
    .unwrap();
    let (broken, _t) = RegisterWriter::start_with(conn).unwrap();
    let rig = rig_with(f, broken, Duration::ZERO);
    let out = tap(&rig, "C0FFEE").await;
    assert_eq!(out.decision.reason(), Reason::RegisterUnavailable);
    assert_eq!(strikes(&rig), [(Strike::Locked, 0)]);
}

#[tokio::test]
async fn shutdown_locks_an_unlocked_door() {
    let rig = rig(Duration::ZERO);
    tap(&rig, "C0FFEE").await;
    rig.stop.cancel();
    let log = rig.log.clone();
    rig.task.await.unwrap();
    assert_eq!(log.lock().unwrap().last().unwrap().0, Strike::Locked);
}

/// Register lines as (event, reason), oldest first, once the writer has caught up.
async fn events(rig: &Rig, want: usize) -> Vec<(String, String)> {
    let path = rig.f.dir.path().join(DB_FILE);
    for _ in 0..200 {
        let rows = store::register::list(
            &store::open(&path).unwrap(),
            &RegisterFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .unwrap();
        if rows.len() >= want {
            return rows
                .into_iter()
                .rev()
                .map(|r| (r.event, r.reason))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the register never reached {want} lines");
}

async fn send(rig: &Rig, inputs: &[DoorInput]) {
    for i in inputs {
        rig.inputs.send(i.clone()).await.unwrap();
    }
}

/// The next alarm notice as (code, reader, raised).
async fn notice(rig: &mut Rig) -> (&'static str, Option<String>, bool) {
    let n = tokio::time::timeout(Duration::from_secs(5), rig.notices.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.door, "ruang-server");
    (n.alarm.code(), n.reader, n.raised)
}

async fn settle(rig: &Rig, check: impl Fn(&DoorStatus) -> bool) {
    let mut status = rig.status.clone();
    tokio::time::timeout(Duration::from_secs(5), status.wait_for(|s| check(s)))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_exit_button_opens_and_is_recorded() {
    let rig = rig(Duration::ZERO);
    send(&rig, &[DoorInput::ExitButton]).await;
    settle(&rig, |s| s.strike == Strike::Unlocked).await;
    assert_eq!(
        events(&rig, 1).await,
        [("exit_button".into(), "exit_button".into())]
    );
}

#[tokio::test]
async fn a_forced_door_raises_an_alarm_until_it_closes() {
    let mut rig = rig(Duration::ZERO);
    send(&rig, &[DoorInput::Contact(Contact::Closed)]).await;
    send(&rig, &[DoorInput::Contact(Contact::Open)]).await;
    settle(&rig, |s| {
        s.alarms.iter().any(|a| a.alarm == Alarm::DoorForced)
    })
    .await;
    assert_eq!(rig.status.borrow().contact, Some(Contact::Open));
    send(&rig, &[DoorInput::Contact(Contact::Closed)]).await;
    settle(&rig, |s| s.alarms.is_empty()).await;
    assert_eq!(
        events(&rig, 2).await,
        [
            ("alarm".into(), "door_forced".into()),
            ("alarm_cleared".into(), "door_forced".into())
        ]
    );
    assert_eq!(notice(&mut rig).await, ("door_forced", None, true));
    assert_eq!(notice(&mut rig).await, ("door_forced", None, false));
    assert_eq!(
        strikes(&rig),
        [(Strike::Locked, 0)],
        "an alarm never moves the strike"
    );
}

#[tokio::test]
async fn a_reader_going_offline_is_an_alarm_naming_the_reader() {
    let mut rig = rig(Duration::ZERO);
    let offline = ReaderStatus::Offline {
        detail: "unplugged".into(),
    };
    send(
        &rig,
        &[DoorInput::ReaderStatus {
            reader: READER,
            status: offline.clone(),
        }],
    )
    .await;
    send(
        &rig,
        &[DoorInput::ReaderStatus {
            reader: READER,
            status: offline,
        }],
    )
    .await;
    settle(&rig, |s| {
        s.alarms
            .iter()
            .any(|a| a.reader.as_deref() == Some("masuk"))
    })
    .await;
    send(
        &rig,
        &[DoorInput::ReaderStatus {
            reader: READER,
            status: ReaderStatus::Online,
        }],
    )
    .await;
    settle(&rig, |s| s.alarms.is_empty()).await;
    assert_eq!(
        events(&rig, 2).await,
        [
            ("alarm".into(), "reader_offline".into()),
            ("alarm_cleared".into(), "reader_offline".into())
        ],
        "a repeated offline report is one alarm"
    );
    let masuk = Some("masuk".to_owned());
    assert_eq!(
        notice(&mut rig).await,
        ("reader_offline", masuk.clone(), true)
    );
    assert_eq!(notice(&mut rig).await, ("reader_offline", masuk, false));
    assert!(rig.notices.try_recv().is_err(), "one notice per change");
}

#[tokio::test]
async fn closing_the_door_after_entry_relocks_before_the_timer() {
    let rig = rig(Duration::ZERO);
    send(&rig, &[DoorInput::Contact(Contact::Closed)]).await;
    tap(&rig, "C0FFEE").await;
    send(&rig, &[DoorInput::Contact(Contact::Open)]).await;
    send(&rig, &[DoorInput::Contact(Contact::Closed)]).await;
    settle(&rig, |s| {
        s.strike == Strike::Locked && s.contact == Some(Contact::Closed)
    })
    .await;
    assert_eq!(strikes(&rig).len(), 3);
}

/// A card + PIN door with one holder whose PIN is 4821.
fn pin_rig() -> Rig {
    let f = fixture();
    let (register, _thread) = RegisterWriter::start(&f.dir.path().join(DB_FILE)).unwrap();
    let p = f.person("Budi");
    f.issue(
        p,
        "C0FFEE",
        Utc::now() - Days::days(1),
        Utc::now() + Days::days(1),
    )
    .unwrap();
    f.db.write_blocking(|tx| store::people::set_pin(tx, p, Some("4821"), &f.actor, Utc::now()))
        .unwrap();
    let q = f.person("Tanpa PIN");
    f.issue(
        q,
        "0B0B",
        Utc::now() - Days::days(1),
        Utc::now() + Days::days(1),
    )
    .unwrap();
    rig_full(f, register, Duration::ZERO, PinRule::Always)
}

async fn tap_pin(rig: &Rig, uid: &str, keys: Option<&str>) -> TapOutcome {
    let card = Credential::parse_hex(Technology::Iso14443, uid).unwrap();
    let (reply, rx) = oneshot::channel();
    assert!(rig.output.send(ReaderEvent::Card(card), Some(reply)).await);
    if let Some(keys) = keys {
        assert!(
            rig.output
                .send(ReaderEvent::Keypad(keys.into()), None)
                .await
        );
    }
    rx.await.unwrap()
}

#[tokio::test]
async fn card_and_right_pin_opens() {
    let rig = pin_rig();
    let out = tap_pin(&rig, "C0FFEE", Some("4821#")).await;
    assert!(out.decision.is_granted(), "{out:?}");
    assert_eq!(strikes(&rig).last().unwrap().0, Strike::Unlocked);
    assert_eq!(events(&rig, 1).await, [("tap".into(), "granted".into())]);
}

#[tokio::test]
async fn a_wrong_pin_is_refused_and_three_lock_the_holder_out() {
    let rig = pin_rig();
    for want in [Reason::WrongPin, Reason::WrongPin, Reason::PinLocked] {
        let out = tap_pin(&rig, "C0FFEE", Some("1111#")).await;
        assert_eq!(out.decision.reason(), want);
        assert!(
            out.decision.person_id().is_some(),
            "a PIN refusal names the holder"
        );
    }
    let out = tap_pin(&rig, "C0FFEE", Some("4821#")).await;
    assert_eq!(
        out.decision.reason(),
        Reason::PinLocked,
        "even the right PIN, while locked out"
    );
    assert_eq!(strikes(&rig), [(Strike::Locked, 0)]);
    let reasons: Vec<String> = events(&rig, 4).await.into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        reasons,
        ["wrong_pin", "wrong_pin", "pin_locked", "pin_locked"]
    );
}

#[tokio::test]
async fn a_holder_without_a_pin_is_refused_at_a_pin_door() {
    let rig = pin_rig();
    let out = tap_pin(&rig, "0B0B", None).await;
    assert_eq!(out.decision.reason(), Reason::PinNotSet);
}

#[tokio::test]
async fn star_clears_and_an_unknown_card_never_asks_for_a_pin() {
    let rig = pin_rig();
    let out = tap_pin(&rig, "C0FFEE", Some("99*4821#")).await;
    assert!(out.decision.is_granted());
    let out = tap_pin(&rig, "BADBAD", None).await;
    assert_eq!(out.decision.reason(), Reason::UnknownCredential);
}

#[tokio::test(start_paused = true)]
async fn no_pin_in_time_is_a_recorded_refusal() {
    let rig = pin_rig();
    let out = tap_pin(&rig, "C0FFEE", Some("48")).await;
    assert_eq!(out.decision.reason(), Reason::PinTimeout);
    assert_eq!(strikes(&rig), [(Strike::Locked, 0)]);
    assert_eq!(
        events(&rig, 1).await,
        [("tap".into(), "pin_timeout".into())]
    );
}

/// Regression: a card held on a hardware reader (nobody waiting for a reply) was counted at
/// every repeat once PIN support reworked how outcomes are remembered.
#[tokio::test]
async fn a_held_card_on_a_hardware_reader_counts_once() {
    let rig = rig(Duration::from_secs(60));
    let card = Credential::parse_hex(Technology::Iso14443, "C0FFEE").unwrap();
    for _ in 0..5 {
        assert!(rig.output.card(card).await);
    }
    // A marker tap through the API: once it is answered, the five reads before it are done.
    tap(&rig, "BADBAD").await;
    let taps: Vec<_> = events(&rig, 2).await.into_iter().map(|(_, r)| r).collect();
    assert_eq!(taps, ["granted", "unknown_credential"]);
}

#[tokio::test]
async fn a_detached_reader_takes_its_alarms_with_it_and_is_no_longer_heard() {
    let rig = rig(Duration::ZERO);
    let offline = ReaderStatus::Offline {
        detail: "unplugged".into(),
    };
    send(
        &rig,
        &[DoorInput::ReaderStatus {
            reader: READER,
            status: offline,
        }],
    )
    .await;
    settle(&rig, |s| !s.alarms.is_empty()).await;

    let (done, detached) = oneshot::channel();
    rig.control
        .send(DoorControl::Detach(READER, done))
        .await
        .unwrap();
    detached.await.unwrap();
    settle(&rig, |s| s.alarms.is_empty()).await;
    assert_eq!(
        events(&rig, 2).await,
        [
            ("alarm".into(), "reader_offline".into()),
            ("alarm_cleared".into(), "reader_offline".into())
        ]
    );
    let card = Credential::parse_hex(Technology::Iso14443, "C0FFEE").unwrap();
    let (reply, outcome) = oneshot::channel();
    assert!(rig.output.send(ReaderEvent::Card(card), Some(reply)).await);
    assert!(outcome.await.is_err(), "no decision for a detached reader");

    let (feedback, _) = mpsc::channel(8);
    let (done, attached) = oneshot::channel();
    let slot = ReaderSlot {
        info: ReaderInfo {
            id: READER,
            name: "masuk".into(),
            door: rig.f.door,
            direction: Direction::In,
            kind: "simulated",
        },
        repeat_window: Duration::ZERO,
        feedback,
    };
    rig.control
        .send(DoorControl::Attach(slot, done))
        .await
        .unwrap();
    attached.await.unwrap();
    assert!(tap(&rig, "C0FFEE").await.decision.is_granted());

    let (answer, heard) = oneshot::channel();
    rig.control
        .send(DoorControl::Heartbeat(answer))
        .await
        .unwrap();
    heard.await.unwrap();
}
