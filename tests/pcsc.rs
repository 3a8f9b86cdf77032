//! The PC/SC driver against a real pcscd with vsmartcard's vpcd and scripted virtual
//! cards: one read per presentation, both slots, unreadable cards, pcscd restarts, cards
//! torn away mid-read, and a prompt shutdown.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lawang::model::{Credential, Technology};
use lawang::reader::{Feedback, ReaderEvent, ReaderIo, ReaderMessage, ReaderOutput, ReaderStatus};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::common::pcscd::Pcscd;
use crate::common::vpcd::{GET_UID, SLOT_0, SLOT_1, Script, VirtualCard};

/// Generous: pcscd polls vpcd for presence about every 400 ms.
const EVENT_WITHIN: Duration = Duration::from_secs(3);

/// One driver thread with the channels a door controller would hold.
struct Driver {
    events: mpsc::Receiver<ReaderMessage>,
    status: watch::Receiver<ReaderStatus>,
    shutdown: CancellationToken,
    thread: Option<JoinHandle<()>>,
    feedback: mpsc::Sender<Feedback>,
}

impl Driver {
    fn start(pattern: &str) -> Driver {
        let (events_tx, events) = mpsc::channel(16);
        let (status_tx, status) = watch::channel(ReaderStatus::Offline {
            detail: "not started".into(),
        });
        let (feedback, feedback_rx) = mpsc::channel(4);
        let shutdown = CancellationToken::new();
        let io = ReaderIo {
            output: ReaderOutput::new(7, events_tx, Arc::new(status_tx)),
            feedback: feedback_rx,
            shutdown: shutdown.clone(),
        };
        let thread = lawang::reader::pcsc::spawn("test".into(), pattern.into(), io)
            .unwrap_or_else(|e| panic!("{e}"));
        Driver {
            events,
            status,
            shutdown,
            thread: Some(thread),
            feedback,
        }
    }

    fn next_event(&mut self, within: Duration) -> Option<ReaderEvent> {
        let deadline = Instant::now() + within;
        loop {
            match self.events.try_recv() {
                Ok(message) => {
                    assert_eq!(message.reader, 7);
                    return Some(message.event);
                }
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => return None,
            }
        }
    }

    fn expect_card(&mut self, uid: &[u8]) {
        let expected = Credential::new(Technology::Iso14443, uid).unwrap();
        match self.next_event(EVENT_WITHIN) {
            Some(ReaderEvent::Card(got)) => assert_eq!(got, expected),
            other => panic!("expected a read of {expected}, got {other:?}"),
        }
    }

    fn expect_quiet(&mut self, during: Duration) {
        if let Some(event) = self.next_event(during) {
            panic!("expected no event for {during:?}, got {event:?}");
        }
    }

    /// Waits until the published status satisfies `wanted`; returns it.
    fn wait_status(
        &self,
        within: Duration,
        wanted: impl Fn(&ReaderStatus) -> bool,
    ) -> ReaderStatus {
        let deadline = Instant::now() + within;
        loop {
            let now = self.status.borrow().clone();
            if wanted(&now) {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "status still {now:?} after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn wait_online(&self) {
        self.wait_status(EVENT_WITHIN, |s| *s == ReaderStatus::Online);
    }

    /// Cancels the driver and returns how long its thread took to end.
    fn stop(&mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("driver thread panicked");
        }
        started.elapsed()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const UID_A: [u8; 4] = [0x04, 0xA1, 0xB2, 0xC3];
const UID_B: [u8; 7] = [0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66];

#[test]
fn pcsc_tap_gives_one_card_event() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let tapped = Instant::now();
    let card = VirtualCard::with_uid(SLOT_0, &UID_A);
    driver.expect_card(&UID_A);
    eprintln!("read {:?} after the card was inserted", tapped.elapsed());
    // vpcd matches no reader profile, so the decision is not sent to the card.
    driver.feedback.try_send(Feedback::Granted).unwrap();
    driver.expect_quiet(Duration::from_millis(500));
    assert_eq!(card.apdus(), vec![GET_UID.to_vec()]);
    card.remove();
}

#[test]
fn pcsc_held_card_is_read_once() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let card = VirtualCard::with_uid(SLOT_0, &UID_A);
    driver.expect_card(&UID_A);
    driver.expect_quiet(Duration::from_millis(1500));
    assert_eq!(card.uid_reads(), 1, "GET UID sent more than once");
}

#[test]
fn pcsc_removed_and_presented_again_is_read_again() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let card = VirtualCard::with_uid(SLOT_0, &UID_A);
    driver.expect_card(&UID_A);
    card.remove();
    // Long enough for pcscd's presence poll to see the slot empty.
    std::thread::sleep(Duration::from_millis(1000));
    let _again = VirtualCard::with_uid(SLOT_0, &UID_A);
    driver.expect_card(&UID_A);
    driver.expect_quiet(Duration::from_millis(500));
}

#[test]
fn pcsc_each_vpcd_slot_sees_only_its_card() {
    let _pcscd = Pcscd::start();
    let mut first = Driver::start(SLOT_0.reader);
    let mut second = Driver::start(SLOT_1.reader);
    first.wait_online();
    second.wait_online();
    let _a = VirtualCard::with_uid(SLOT_0, &UID_A);
    first.expect_card(&UID_A);
    second.expect_quiet(Duration::from_millis(800));
    let _b = VirtualCard::with_uid(SLOT_1, &UID_B);
    second.expect_card(&UID_B);
    first.expect_quiet(Duration::from_millis(800));
}

#[test]
fn pcsc_card_without_get_uid_is_unreadable_not_unknown() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let _card = VirtualCard::insert(SLOT_0, Script::Status([0x6A, 0x81]));
    assert_eq!(
        driver.next_event(EVENT_WITHIN),
        Some(ReaderEvent::Unreadable(
            "card does not support GET UID (6A 81)".into()
        ))
    );
    driver.expect_quiet(Duration::from_millis(500));
}

#[test]
fn pcsc_reads_resume_after_pcscd_restart() {
    let mut pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let first = VirtualCard::with_uid(SLOT_0, &UID_A);
    driver.expect_card(&UID_A);

    let killed = Instant::now();
    pcscd.kill();
    let status = driver.wait_status(EVENT_WITHIN, |s| *s != ReaderStatus::Online);
    eprintln!("offline {:?} after kill: {status:?}", killed.elapsed());
    drop(first); // vpcd's socket died with pcscd
    // The driver keeps retrying while pcscd is down.
    std::thread::sleep(Duration::from_millis(1500));

    pcscd.restart();
    let back = Instant::now();
    let _second = VirtualCard::with_uid(SLOT_0, &UID_B);
    driver.expect_card(&UID_B);
    let resumed = back.elapsed();
    eprintln!("read {resumed:?} after pcscd was back");
    assert!(
        resumed < Duration::from_secs(2),
        "reads resumed {resumed:?} after pcscd restart"
    );
    assert_eq!(*driver.status.borrow(), ReaderStatus::Online);
}

#[test]
fn pcsc_card_torn_away_mid_read_does_not_break_the_driver() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let torn = VirtualCard::insert(SLOT_0, Script::HangUp);
    // No event or a clean refusal; never a card.
    match driver.next_event(Duration::from_millis(1500)) {
        None => eprintln!("torn read: no event"),
        Some(ReaderEvent::Unreadable(why)) => eprintln!("torn read: unreadable ({why})"),
        Some(other) => panic!("torn read reported {other:?}"),
    }
    assert!(!torn.connected(), "the card should have hung up");
    drop(torn);
    std::thread::sleep(Duration::from_millis(1000));
    let _card = VirtualCard::with_uid(SLOT_0, &UID_B);
    // A refusal of the torn card may still be queued behind nothing else; skip it.
    loop {
        match driver.next_event(EVENT_WITHIN) {
            Some(ReaderEvent::Unreadable(_)) => continue,
            Some(ReaderEvent::Card(got)) => {
                assert_eq!(got, Credential::new(Technology::Iso14443, &UID_B).unwrap());
                break;
            }
            Some(other @ ReaderEvent::Keypad(_)) => {
                panic!("a PC/SC reader has no keypad: {other:?}")
            }
            None => panic!("no read after a torn card"),
        }
    }
}

#[test]
fn pcsc_missing_reader_is_offline_and_shutdown_is_prompt() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start("No Such Reader");
    let status = driver.wait_status(EVENT_WITHIN, |s| {
        matches!(s, ReaderStatus::Offline { detail } if detail.contains("no PC/SC reader matching"))
    });
    eprintln!("{status:?}");
    let took = driver.stop();
    eprintln!("driver stopped in {took:?}");
    assert!(took < Duration::from_millis(400), "shutdown took {took:?}");
}

#[test]
fn pcsc_shutdown_while_watching_a_card_is_prompt() {
    let _pcscd = Pcscd::start();
    let mut driver = Driver::start(SLOT_0.reader);
    driver.wait_online();
    let _card = VirtualCard::with_uid(SLOT_0, &UID_A);
    driver.expect_card(&UID_A);
    let took = driver.stop();
    eprintln!("driver stopped in {took:?}");
    assert!(took < Duration::from_millis(400), "shutdown took {took:?}");
}
