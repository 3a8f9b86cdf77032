//! `cargo bench --bench readers`: tap-to-unlock latency through the real reader drivers,
//! measured end to end on real devices' software stand-ins.
//!
//! (a) Serial: an RDM6300 frame written (one write(2)) to a socat pseudo-terminal pair →
//!     `reader::serial::run` → door controller → actuator called.
//! (b) PC/SC: a virtual card connects to vpcd → a private `pcscd` notices it at its next
//!     presence poll → `reader::pcsc` driver → door controller → actuator called.
//! (c) Baseline, same pcscd in the same run: the virtual card connects to vpcd's other slot →
//!     `benches/pyscard_baseline.py`, a pyscard loop as door scripts are written (list
//!     readers, connect, GET UID, sleep 100 ms), has the UID.
//!
//! The door controller is the real one with its register writer on a temporary SQLite file
//! with `synchronous = OFF`: fsync is excluded, as in `benches/figures.rs`.
//!
//! pcscd checks vpcd for a card every ~444 ms, which dominates (b) and (c). Each PC/SC tap
//! therefore waits until pcscd reports the slot empty and then a random 0–444 ms, so taps
//! land at a uniformly random point of pcscd's poll cycle, as real taps do. Taps alternate
//! between (b) on slot 0 and (c) on slot 1, so both see the same pcscd under the same load;
//! both the driver and the script run throughout, as a daemon and a door script would.
//!
//! Clocks: the script stamps with Python's `time.monotonic_ns()`, the bench with
//! `clock_gettime(CLOCK_MONOTONIC)` (what `std::time::Instant` reads on Linux; read directly
//! here because `Instant` cannot be compared with another process's number). Before and
//! after the taps the bench pings the script and checks every answer lies between its own
//! reads just before and after, so a different clock (e.g. `CLOCK_BOOTTIME` after a suspend)
//! fails the run instead of skewing it.
//!
//! Needs socat, pcscd with vsmartcard-vpcd, and pyscard in `target/venv` (or the Python in
//! `LAWANG_BENCH_PYTHON`); a missing one panics with what to install, never skips.
//! Only one pcscd with vpcd can run on a machine, so the PC/SC integration tests and this
//! bench must not run at the same time.
//!
//! `cargo bench --bench readers -- quick` runs a few taps (for CI: proves the bench runs).

mod common;
#[allow(dead_code)] // the tests' harness: the bench uses only part of it
#[path = "../tests/common/pcscd.rs"]
mod pcscd;
#[allow(dead_code)]
#[path = "../tests/common/pty.rs"]
mod pty;
// Benches are compiled with cfg(test) but without the test harness, so the unit tests of
// vpcd.rs are compiled and never called.
#[allow(unused_imports)]
#[path = "../tests/common/vpcd.rs"]
mod vpcd;

use std::ffi::CString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use lawang::config::{SerialProtocol, SerialReaderConfig};
use lawang::model::{Credential, Technology};

use common::{ClockCheck, Door, XorShift, latency, mono_ns, percentiles};
use vpcd::{SLOT_0, SLOT_1, Script, Slot, VirtualCard};

/// pcscd's presence-poll cycle for vpcd: its 400 ms sleep (`PCSCLITE_STATUS_POLL_RATE`) plus
/// ~44 ms per check, measured with pcsc-lite 1.9.9 and vsmartcard-vpcd 3.3 (Debian 12) as
/// the spacing of vpcd's ATR requests to a card left in the slot. Taps are spread over one
/// whole cycle; a shorter spread would never tap just before a check.
const PCSCD_CYCLE: Duration = Duration::from_millis(444);
/// The baseline script's sleep between polls.
const SCRIPT_INTERVAL: &str = "0.1";
const SERIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// Several pcscd polls: a tap not seen by then is a failure, not a slow sample.
const PCSC_TIMEOUT: Duration = Duration::from_secs(5);
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pyscard_baseline.py");
const VENV_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/venv/bin/python");
const INSTALL_PYSCARD: &str = "python3 -m venv target/venv && target/venv/bin/pip install pyscard==2.3.1 \
     (builds from source: needs the Debian packages build-essential python3-dev python3-venv libpcsclite-dev)";

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    // The drivers' warnings (a card that could not be read, a reader gone) explain a failed
    // run; RUST_LOG=debug shows each read.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let (serial_taps, pcsc_taps) = if quick { (20, 5) } else { (1000, 200) };
    let python = python();
    preflight(&python);
    println!(
        "# Lawang reader latency ({})\n",
        if quick { "quick" } else { "full" }
    );
    let serial = serial(serial_taps);
    let pcsc = pcsc(pcsc_taps, &python);
    report(&serial, &pcsc);
}

fn python() -> PathBuf {
    std::env::var_os("LAWANG_BENCH_PYTHON")
        .map_or_else(|| PathBuf::from(VENV_PYTHON), PathBuf::from)
}

/// Fails before any measurement when a tool is missing, naming what to install.
fn preflight(python: &Path) {
    if let Err(e) = Command::new("socat")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
    {
        panic!("cannot run socat ({e}): install the Debian package socat");
    }
    for (path, package) in [
        (pcscd::PCSCD, "pcscd"),
        (pcscd::VPCD_DRIVER, "vsmartcard-vpcd"),
    ] {
        assert!(
            Path::new(path).exists(),
            "{path} not found: install the Debian package {package}"
        );
    }
    let import = Command::new(python)
        .args(["-c", "import smartcard.System"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): create the venv with pyscard: {INSTALL_PYSCARD}",
                python.display()
            )
        });
    assert!(
        import.status.success(),
        "pyscard is not importable by {}: {}\ninstall it: {INSTALL_PYSCARD}",
        python.display(),
        String::from_utf8_lossy(&import.stderr).trim()
    );
}

fn em4100(i: u32) -> [u8; 5] {
    let [a, b, c, d] = (0x0010_0000 + i).to_be_bytes();
    [0x0A, a, b, c, d]
}

/// (a) RDM6300 frames through a socat pty pair into the serial driver.
fn serial(taps: u32) -> Vec<Duration> {
    let ids: Vec<[u8; 5]> = (0..taps).map(em4100).collect();
    let cards = ids
        .iter()
        .map(|id| Credential::new(Technology::Em4100, id).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let pair = pty::PtyPair::new(dir.path());
    let (mut door, io) = Door::start(1, "rdm6300", cards);
    let config = SerialReaderConfig {
        path: pair.reader.clone(),
        baud: 9600,
        protocol: SerialProtocol::Rdm6300,
    };
    door.spawn_driver(lawang::reader::serial::run(config, io));
    door.wait_online(Duration::from_secs(5));
    // Held open for the whole run, so a tap's write is one write(2) and nothing after it.
    let feeder_path = pair.feeder().to_path_buf();
    let mut feeder = std::fs::OpenOptions::new()
        .write(true)
        .open(&feeder_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", feeder_path.display()));
    let mut rng = XorShift::seeded();
    let mut latencies = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        // Apart, as taps are: the controller and the runtime are idle when the frame comes.
        std::thread::sleep(Duration::from_millis(2) + rng.below(Duration::from_millis(8)));
        door.drain();
        let frame = pty::rdm6300_frame(*id);
        // Stamped just before the one write(2) of the whole frame, which is when its last
        // byte enters the pty: the write wakes socat, and on a small machine socat, the
        // driver and the controller can all run before write(2) returns, so a stamp taken
        // after it can land after the unlock.
        let written = mono_ns();
        let n = feeder.write(&frame).unwrap();
        assert_eq!(n, frame.len(), "the frame was not written in one write(2)");
        let unlocked = door.wait_unlock(SERIAL_TIMEOUT, || format!("serial tap {i}"));
        latencies.push(latency(written, unlocked, "serial tap"));
    }
    door.stop();
    latencies
}

/// Results of the PC/SC part.
struct Pcsc {
    lawang: Vec<Duration>,
    script: Vec<Duration>,
    clock: ClockCheck,
}

fn pcsc_uid(i: u32) -> [u8; 4] {
    (0xB000_0000 + i).to_be_bytes()
}

/// (b) and (c), alternating, through one private pcscd.
fn pcsc(taps: u32, python: &Path) -> Pcsc {
    let pcscd = pcscd::Pcscd::start();
    let lawang_uids: Vec<[u8; 4]> = (0..taps).map(pcsc_uid).collect();
    let script_uids: Vec<[u8; 4]> = (taps..2 * taps).map(pcsc_uid).collect();
    let cards = lawang_uids
        .iter()
        .map(|uid| Credential::new(Technology::Iso14443, uid).unwrap())
        .collect();
    let (door, io) = Door::start(2, "pcsc", cards);
    let driver = lawang::reader::pcsc::spawn("bench".into(), SLOT_0.reader.into(), io)
        .unwrap_or_else(|e| panic!("{e}"));
    door.wait_online(Duration::from_secs(5));
    let mut script = Baseline::start(python, SLOT_1);
    let mut clock = script.check_clock(20);

    let ctx = pcsc::Context::establish(pcsc::Scope::User)
        .unwrap_or_else(|e| panic!("bench PC/SC context: {e}"));
    let mut rng = XorShift::seeded();
    let mut lawang = Vec::with_capacity(lawang_uids.len());
    let mut baseline = Vec::with_capacity(script_uids.len());
    for (i, (ours, theirs)) in lawang_uids.iter().zip(&script_uids).enumerate() {
        let (inserted, card) = tap(&ctx, SLOT_0, ours, &mut rng, || door.drain());
        let unlocked = door.wait_unlock(PCSC_TIMEOUT, || {
            format!("PC/SC tap {i}; {}", pcscd_failure(&pcscd))
        });
        card.remove();
        lawang.push(latency(inserted, unlocked, "PC/SC tap"));

        let (inserted, card) = tap(&ctx, SLOT_1, theirs, &mut rng, || {});
        let seen = script.wait_uid(theirs, PCSC_TIMEOUT, || {
            format!("baseline tap {i}; {}", pcscd_failure(&pcscd))
        });
        card.remove();
        baseline.push(latency(inserted, seen, "baseline tap"));
    }
    clock = clock.merge(script.check_clock(20));

    door.stop();
    driver.join().unwrap();
    drop(script);
    drop(pcscd);
    Pcsc {
        lawang,
        script: baseline,
        clock,
    }
}

/// The end of pcscd's log and the usual cause, for a failed PC/SC tap.
fn pcscd_failure(pcscd: &pcscd::Pcscd) -> String {
    let log = pcscd.log();
    let lines: Vec<&str> = log.lines().collect();
    format!(
        "pcscd's log ends:\n{}\nIf a card the bench did not insert was read (RUST_LOG=lawang=debug \
         shows reads) or pcscd was lost, another process used vpcd (the PC/SC integration \
         tests kill a test pcscd they find): run the bench alone.",
        lines[lines.len().saturating_sub(60)..].join("\n")
    )
}

/// Presents a card on `slot` at a random point of pcscd's poll cycle; returns when the
/// card's connection to vpcd began, and the card.
fn tap(
    ctx: &pcsc::Context,
    slot: Slot,
    uid: &[u8],
    rng: &mut XorShift,
    before: impl FnOnce(),
) -> (u64, VirtualCard) {
    wait_empty(ctx, slot);
    std::thread::sleep(rng.below(PCSCD_CYCLE));
    before();
    // Stamped before the connect: the connect and the card's thread start count against
    // the reader, never for it.
    let inserted = mono_ns();
    let card = VirtualCard::try_insert(slot, Script::Uid(uid.to_vec())).unwrap_or_else(|e| {
        panic!(
            "virtual card cannot connect to vpcd on port {}: {e}",
            slot.port
        )
    });
    (inserted, card)
}

/// Waits until pcscd reports `slot` empty, so the next card is a new presentation that
/// pcscd notices at one poll, not after first noticing the previous card leave.
fn wait_empty(ctx: &pcsc::Context, slot: Slot) {
    let name = CString::new(slot.reader).unwrap();
    let mut state = [pcsc::ReaderState::new(name, pcsc::State::UNAWARE)];
    let end = Instant::now() + PCSC_TIMEOUT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match ctx.get_status_change(left.min(PCSCD_CYCLE), &mut state) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => panic!("waiting for {} to empty: {e}", slot.reader),
        }
        if state[0].event_state().contains(pcsc::State::EMPTY) {
            return;
        }
        state[0].sync_current_state();
        assert!(
            !left.is_zero(),
            "{} not empty within {PCSC_TIMEOUT:?} after the card left",
            slot.reader
        );
    }
}

/// The pyscard door script, polling one vpcd slot.
struct Baseline {
    child: Child,
    stdin: ChildStdin,
    lines: std_mpsc::Receiver<String>,
}

impl Baseline {
    fn start(python: &Path, slot: Slot) -> Baseline {
        let mut child = Command::new(python)
            .arg(SCRIPT)
            .arg(slot.reader)
            .args(["--interval", SCRIPT_INTERVAL])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {} {SCRIPT}: {e}", python.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut script = Baseline {
            child,
            stdin,
            lines,
        };
        let ready = script.next_line(Duration::from_secs(10), || "its ready line".into());
        let clock = ready
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("baseline script said {ready:?} instead of ready"));
        assert!(
            clock.contains("CLOCK_MONOTONIC"),
            "Python's time.monotonic_ns() reads {clock}, not CLOCK_MONOTONIC: \
             its stamps cannot be compared with the bench's"
        );
        script
    }

    fn next_line(&mut self, within: Duration, waiting_for: impl FnOnce() -> String) -> String {
        match self.lines.recv_timeout(within) {
            Ok(line) => line,
            Err(e) => {
                let exited = self.child.try_wait().ok().flatten();
                panic!(
                    "baseline script gave no line within {within:?} ({e}; exit status \
                     {exited:?}; see its stderr above) waiting for {}",
                    waiting_for()
                )
            }
        }
    }

    /// When the script had `uid`, by its own clock.
    fn wait_uid(&mut self, uid: &[u8], within: Duration, failure: impl FnOnce() -> String) -> u64 {
        let want = hex::encode_upper(uid);
        let line = self.next_line(within, || format!("UID {want}: {}", failure()));
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next()) {
            (Some("uid"), Some(got), Some(at)) => {
                assert_eq!(got, want, "the baseline script read an unexpected card");
                at.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"))
            }
            _ => panic!("unexpected line from the baseline script: {line:?}"),
        }
    }

    /// Pings the script and checks each answer lies between the bench's clock reads just
    /// before the ping and just after the answer: the two processes read one clock.
    fn check_clock(&mut self, rounds: u32) -> ClockCheck {
        let mut widest = Duration::ZERO;
        for _ in 0..rounds {
            let before = mono_ns();
            writeln!(self.stdin, "ping").unwrap();
            self.stdin.flush().unwrap();
            let line = self.next_line(Duration::from_secs(5), || "pong".into());
            let after = mono_ns();
            let theirs: u64 = line
                .strip_prefix("pong ")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("expected a pong, got {line:?}"));
            assert!(
                (before..=after).contains(&theirs),
                "Python's monotonic clock ({theirs} ns) is not the bench's CLOCK_MONOTONIC \
                 ({before}..={after} ns): cross-process latencies would be wrong"
            );
            widest = widest.max(Duration::from_nanos(after - before));
        }
        ClockCheck { rounds, widest }
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn report(serial: &[Duration], pcsc: &Pcsc) {
    let rows = [
        (
            "(a) serial: RDM6300 frame written to a socat pty (one write(2)) → actuator called",
            percentiles(serial),
        ),
        (
            "(b) PC/SC: virtual card connects to vpcd → pcscd → Lawang's driver → actuator called",
            percentiles(&pcsc.lawang),
        ),
        (
            "(c) baseline: virtual card connects to vpcd → pcscd → pyscard loop (100 ms sleep) has the UID",
            percentiles(&pcsc.script),
        ),
    ];
    println!("## Tap → unlock through the reader drivers (fsync excluded)\n");
    println!("| path | taps | min | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (path, p) in &rows {
        println!(
            "| {path} | {} | {:?} | {:?} | {:?} | {:?} |",
            p.n, p.min, p.p50, p.p99, p.max
        );
    }
    let (b, c) = (&rows[1].1, &rows[2].1);
    let ratio = |x: Duration, y: Duration| x.as_secs_f64() / y.as_secs_f64();
    println!(
        "\nRatio (b) / (c): p50 {:.2}, p99 {:.2}.\n",
        ratio(b.p50, c.p50),
        ratio(b.p99, c.p99)
    );
    println!(
        "PC/SC taps land at a random point of pcscd's ~444 ms presence-poll cycle; (b) and (c) \
         alternate on vpcd's two slots of one pcscd. Clock check: {} pings, each of Python's \
         time.monotonic_ns() inside the bench's CLOCK_MONOTONIC bracket (widest {:?}).\n",
        pcsc.clock.rounds, pcsc.clock.widest
    );
}
