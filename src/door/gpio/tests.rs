//! The fail-mode mapping and the input logic, on hand-written fake lines.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::inputs::{DEBOUNCE, Edge, Input, InputLogic, InputSource, POLL_SLICE, run};
use super::*;
use crate::config::InputLine;
use crate::door::{Contact, DoorInput};

/// Records every level it is driven to; fails on demand.
#[derive(Default)]
struct FakeOutput {
    levels: Mutex<Vec<bool>>,
    broken: Mutex<bool>,
}

impl OutputLine for FakeOutput {
    fn set_active(&self, active: bool) -> io::Result<()> {
        if *self.broken.lock().unwrap() {
            return Err(io::Error::other("line gone"));
        }
        self.levels.lock().unwrap().push(active);
        Ok(())
    }
}

fn actuator(fail: FailMode) -> (GpioActuator, Arc<FakeOutput>) {
    let line = Arc::new(FakeOutput::default());
    let act = GpioActuator::with_line(line.clone(), fail, Path::new("/dev/gpiochip9"), 17);
    (act, line)
}

#[test]
fn fail_secure_energises_to_unlock_and_fail_safe_to_lock() {
    assert!(relay_energised(FailMode::Secure, Strike::Unlocked));
    assert!(!relay_energised(FailMode::Secure, Strike::Locked));
    assert!(relay_energised(FailMode::Safe, Strike::Locked));
    assert!(!relay_energised(FailMode::Safe, Strike::Unlocked));
}

#[tokio::test]
async fn secure_strike_drives_the_relay_only_while_unlocked() {
    let (act, line) = actuator(FailMode::Secure);
    act.set(Strike::Unlocked).await.unwrap();
    act.set(Strike::Locked).await.unwrap();
    // Idempotent: the controller locks at start and shutdown whatever it believes.
    act.set(Strike::Locked).await.unwrap();
    assert_eq!(*line.levels.lock().unwrap(), [true, false, false]);
}

#[tokio::test]
async fn safe_maglock_drives_the_relay_only_while_locked() {
    let (act, line) = actuator(FailMode::Safe);
    act.set(Strike::Locked).await.unwrap();
    act.set(Strike::Unlocked).await.unwrap();
    act.set(Strike::Locked).await.unwrap();
    assert_eq!(*line.levels.lock().unwrap(), [true, false, true]);
}

#[tokio::test]
async fn a_failed_line_is_an_actuator_error_naming_the_line() {
    let (act, line) = actuator(FailMode::Secure);
    *line.broken.lock().unwrap() = true;
    let err = act.set(Strike::Unlocked).await.unwrap_err();
    assert!(
        matches!(&err, ActuatorError::Gpio(GpioError::Set { line: 17, .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("/dev/gpiochip9:17"), "{err}");
}

#[test]
fn a_missing_chip_is_an_error_at_start() {
    let err = match GpioActuator::open(
        "server room",
        Path::new("/nonexistent/gpiochip0"),
        4,
        false,
        FailMode::Secure,
    ) {
        Ok(_) => panic!("a missing chip must not build"),
        Err(e) => e,
    };
    assert!(matches!(err, GpioError::Request { line: 4, .. }), "{err:?}");
}

#[test]
fn consumer_label_fits_the_kernel_limit() {
    assert_eq!(consumer("ruang server"), "lawang:ruang server");
    let long = consumer(&"x".repeat(100));
    assert_eq!(long.len(), 31);
    assert!(long.starts_with("lawang:"));
}

fn edge(input: Input, active: bool) -> Edge {
    Edge { input, active }
}

#[test]
fn start_reports_the_contact_once_and_a_held_button_is_no_press() {
    let mut logic = InputLogic::new(None);
    assert_eq!(
        logic.start(Some(true), Some(true)),
        Some(DoorInput::Contact(Contact::Open))
    );
    let now = Instant::now();
    // The release of the held button is not a press, nor a repeat of the start state.
    assert_eq!(logic.edge(edge(Input::ExitButton, false), now), None);
    assert_eq!(logic.edge(edge(Input::Contact, true), now), None);
    assert_eq!(InputLogic::new(None).start(None, Some(false)), None);
}

#[test]
fn kernel_debounced_edges_become_door_inputs() {
    let mut logic = InputLogic::new(None);
    logic.start(Some(false), Some(false));
    let now = Instant::now();
    let mut out = Vec::new();
    for e in [
        edge(Input::Contact, true),
        edge(Input::ExitButton, true),
        edge(Input::ExitButton, false),
        edge(Input::Contact, false),
        edge(Input::ExitButton, true),
    ] {
        out.extend(logic.edge(e, now));
    }
    assert_eq!(
        out,
        [
            DoorInput::Contact(Contact::Open),
            DoorInput::ExitButton,
            DoorInput::Contact(Contact::Closed),
            DoorInput::ExitButton,
        ]
    );
}

#[test]
fn software_debounce_waits_for_a_quiet_line_then_reads_its_level() {
    let t0 = Instant::now();
    let ms = Duration::from_millis;
    let mut logic = InputLogic::new(Some(DEBOUNCE));
    logic.start(Some(false), Some(false));
    // A bouncing reed switch: every edge restarts the settle timer and reports nothing.
    for (i, active) in [true, false, true, false, true].into_iter().enumerate() {
        assert_eq!(
            logic.edge(edge(Input::Contact, active), t0 + ms(i as u64)),
            None
        );
    }
    assert_eq!(logic.next_deadline(), Some(t0 + ms(4) + DEBOUNCE));
    assert!(logic.due(t0 + ms(23)).is_empty());
    assert_eq!(logic.due(t0 + ms(24)), [Input::Contact]);
    assert_eq!(logic.next_deadline(), None);
    assert_eq!(
        logic.settled(Input::Contact, true),
        Some(DoorInput::Contact(Contact::Open))
    );

    // A glitch that ends where it started is nothing.
    logic.edge(edge(Input::Contact, false), t0 + ms(100));
    logic.edge(edge(Input::Contact, true), t0 + ms(101));
    assert_eq!(logic.due(t0 + ms(200)), [Input::Contact]);
    assert_eq!(logic.settled(Input::Contact, true), None);

    // A press counts once, on the way down; the release counts nothing.
    logic.edge(edge(Input::ExitButton, true), t0 + ms(300));
    assert_eq!(logic.due(t0 + ms(400)), [Input::ExitButton]);
    assert_eq!(
        logic.settled(Input::ExitButton, true),
        Some(DoorInput::ExitButton)
    );
    assert_eq!(logic.settled(Input::ExitButton, true), None);
    assert_eq!(logic.settled(Input::ExitButton, false), None);
}

#[test]
fn a_failed_settled_read_is_tried_again_later() {
    let t0 = Instant::now();
    let mut logic = InputLogic::new(Some(DEBOUNCE));
    logic.defer(Input::ExitButton, t0);
    assert!(logic.due(t0).is_empty());
    assert_eq!(logic.due(t0 + DEBOUNCE), [Input::ExitButton]);
}

/// Edges pushed by the test, levels set by the test.
struct FakeSource {
    edges: std_mpsc::Receiver<Vec<Edge>>,
    levels: Arc<Mutex<[bool; 2]>>,
}

impl InputSource for FakeSource {
    fn wait(&mut self, timeout: Duration) -> io::Result<Vec<Edge>> {
        match self.edges.recv_timeout(timeout) {
            Ok(edges) => Ok(edges),
            Err(std_mpsc::RecvTimeoutError::Timeout) => Ok(Vec::new()),
            Err(std_mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(timeout);
                Err(io::Error::other("fake chip gone"))
            }
        }
    }

    fn is_active(&mut self, input: Input) -> io::Result<bool> {
        Ok(self.levels.lock().unwrap()[input as usize])
    }
}

struct Harness {
    edges: std_mpsc::Sender<Vec<Edge>>,
    levels: Arc<Mutex<[bool; 2]>>,
    rx: mpsc::Receiver<DoorInput>,
    shutdown: CancellationToken,
    thread: std::thread::JoinHandle<()>,
}

fn start(software: Option<Duration>, capacity: usize) -> Harness {
    let (edges, edges_rx) = std_mpsc::channel();
    let levels = Arc::new(Mutex::new([false; 2]));
    let (tx, rx) = mpsc::channel(capacity);
    let shutdown = CancellationToken::new();
    let mut source = FakeSource {
        edges: edges_rx,
        levels: levels.clone(),
    };
    let stop = shutdown.clone();
    let thread = std::thread::spawn(move || {
        let mut logic = InputLogic::new(software);
        logic.start(Some(false), Some(false));
        run("test", &mut source, &mut logic, &tx, &stop);
    });
    Harness {
        edges,
        levels,
        rx,
        shutdown,
        thread,
    }
}

async fn next(rx: &mut mpsc::Receiver<DoorInput>) -> DoorInput {
    tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("a door input within 2 s")
        .expect("the input thread is running")
}

/// Stops the thread and checks it ended within the promised time.
fn stop_within(h: Harness, limit: Duration) {
    let asked = Instant::now();
    h.shutdown.cancel();
    h.thread.join().unwrap();
    let took = asked.elapsed();
    assert!(took < limit, "input thread took {took:?} to stop");
}

#[tokio::test]
async fn the_thread_forwards_edges_and_stops_promptly() {
    let mut h = start(None, 8);
    h.edges
        .send(vec![
            edge(Input::Contact, true),
            edge(Input::ExitButton, true),
        ])
        .unwrap();
    assert_eq!(next(&mut h.rx).await, DoorInput::Contact(Contact::Open));
    assert_eq!(next(&mut h.rx).await, DoorInput::ExitButton);
    h.edges.send(vec![edge(Input::Contact, false)]).unwrap();
    assert_eq!(next(&mut h.rx).await, DoorInput::Contact(Contact::Closed));
    stop_within(h, Duration::from_millis(250));
}

#[tokio::test]
async fn the_thread_debounces_in_software_when_the_kernel_cannot() {
    let mut h = start(Some(DEBOUNCE), 8);
    *h.levels.lock().unwrap() = [true, false];
    h.edges
        .send(vec![
            edge(Input::Contact, true),
            edge(Input::Contact, false),
            edge(Input::Contact, true),
        ])
        .unwrap();
    assert_eq!(next(&mut h.rx).await, DoorInput::Contact(Contact::Open));
    // Nothing else: three bounces were one change.
    let extra = tokio::time::timeout(DEBOUNCE * 5, h.rx.recv()).await;
    assert!(extra.is_err(), "unexpected {extra:?}");
    stop_within(h, Duration::from_millis(250));
}

#[tokio::test]
async fn a_full_controller_queue_does_not_keep_the_thread_from_stopping() {
    let h = start(None, 1);
    for active in [true, false, true] {
        h.edges.send(vec![edge(Input::Contact, active)]).unwrap();
    }
    tokio::time::sleep(POLL_SLICE).await;
    stop_within(h, Duration::from_millis(250));
}

#[tokio::test]
async fn the_thread_ends_when_the_controller_is_gone() {
    let h = start(None, 8);
    drop(h.rx);
    h.edges.send(vec![edge(Input::ExitButton, true)]).unwrap();
    let asked = Instant::now();
    h.thread.join().unwrap();
    assert!(asked.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_failing_source_is_retried_and_still_stops_promptly() {
    let h = start(None, 8);
    let (edges, thread, shutdown) = (h.edges, h.thread, h.shutdown);
    drop(edges);
    tokio::time::sleep(POLL_SLICE * 2).await;
    let asked = Instant::now();
    shutdown.cancel();
    thread.join().unwrap();
    assert!(asked.elapsed() < Duration::from_millis(250));
}

#[test]
fn no_input_lines_means_no_thread() {
    let (tx, _rx) = mpsc::channel(1);
    let watched = watch_inputs("door", None, None, tx, CancellationToken::new()).unwrap();
    assert!(watched.is_none());
}

#[test]
fn a_missing_input_chip_is_an_error_at_start() {
    let (tx, _rx) = mpsc::channel(1);
    let line = InputLine {
        chip: "/nonexistent/gpiochip0".into(),
        line: 3,
        active_low: true,
    };
    let err = watch_inputs("door", None, Some(line), tx, CancellationToken::new()).unwrap_err();
    assert!(matches!(err, GpioError::Request { line: 3, .. }), "{err:?}");
}
