//! `cargo bench --bench osdp`: card presented at an OSDP PD → door decision, through
//! Lawang's OSDP driver, against libosdp's own Control Panel as the baseline.
//!
//! The PD is libosdp's (`tests/osdp/pd.py`, PyPI `libosdp`), which stamps
//! `time.monotonic_ns()` just before it queues the card event; the PD hands the card over in
//! its reply to the CP's next poll.
//! (a) Lawang: PD → paced line → `reader::osdp::run` → door controller → actuator called
//!     (stamped by the bench's actuator).
//! (b) Baseline: a second PD, same script, on its own paced line → `benches/osdp_cp_baseline.py`,
//!     libosdp's ControlPanel with its defaults (poll every 50 ms, refresh every 20 ms) →
//!     its event callback has the card (stamped there). No door decision follows in (b):
//!     the baseline stops where a libosdp-based door would start deciding, so it is slightly
//!     favoured.
//! Both CPs run throughout, and taps alternate between them, so both see the same machine
//! under the same load. Each tap waits a random 0–100 ms first, so cards land at a random
//! point of the poll cycle, as real cards do.
//!
//! The line: socat's ptys deliver bytes instantly whatever the termios baud (socat's `b9600`
//! only sets termios), so each CP↔PD link is two socat pty pairs joined by a relay in this
//! bench that holds each chunk for its wire time at the configured baud (10 bits a byte,
//! 8N1) and keeps each direction's bytes back to back, as a UART would. The receiver gets a
//! chunk when its last byte would have arrived, which is when a packet parser can use it.
//!
//! Clocks: as in `benches/readers.rs`, every Python stamp is checked (pings before and after
//! the taps) to lie inside the bench's CLOCK_MONOTONIC reads around it.
//!
//! Needs socat and libosdp in `target/venv` (`scripts/test` installs both); a missing one
//! panics with what to install, never skips.
//!
//! `cargo bench --bench osdp -- quick` runs a few taps (for CI: proves the bench runs).

mod common;
#[allow(dead_code)] // the tests' harness: the bench uses only part of it
#[path = "../tests/common/osdp_pd.rs"]
mod osdp_pd;
#[allow(dead_code)]
#[path = "../tests/common/pty.rs"]
mod pty;

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use lawang::config::{OsdpKey, OsdpReaderConfig};
use lawang::model::{Credential, Technology};

use common::{ClockCheck, Door, Percentiles, XorShift, latency, mono_ns, percentiles};
use osdp_pd::Pd;
use pty::PtyPair;

const KEY: &str = "000102030405060708090a0b0c0d0e0f";
const FACILITY: u8 = 100;
/// Lawang's and libosdp's default poll interval, also the spread of the random wait before a
/// tap (plus a margin for the exchange itself).
const POLL: Duration = Duration::from_millis(50);
const SPREAD: Duration = Duration::from_millis(100);
const TAP_TIMEOUT: Duration = Duration::from_secs(3);
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/osdp_cp_baseline.py");
const VENV_PYTHON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/venv/bin/python");
const INSTALL: &str = "python3 -m venv target/venv && target/venv/bin/pip install -r \
     scripts/requirements-test.txt (scripts/test does this; libosdp is a prebuilt wheel)";

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    preflight();
    let taps = if quick { 5 } else { 100 };
    println!(
        "# Lawang OSDP reader latency ({})\n",
        if quick { "quick" } else { "full" }
    );
    let mut runs = Vec::new();
    for secure in [false, true] {
        for baud in [9600, 115_200] {
            runs.push(run(baud, secure, taps));
        }
    }
    report(&runs);
}

/// Fails before any measurement when a tool is missing, naming what to install.
fn preflight() {
    if let Err(e) = Command::new("socat")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
    {
        panic!("cannot run socat ({e}): install the Debian package socat");
    }
    let import = Command::new(VENV_PYTHON)
        .args(["-c", "import osdp"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {VENV_PYTHON} ({e}): {INSTALL}"));
    assert!(
        import.status.success(),
        "libosdp is not importable by {VENV_PYTHON}: {}\ninstall it: {INSTALL}",
        String::from_utf8_lossy(&import.stderr).trim()
    );
}

/// A 26-bit H10301 frame for card `number`, left-aligned in 4 bytes as osdp_RAW carries it
/// (as `wiegand26` in `tests/osdp.rs`), and the credential Lawang decodes from it.
fn wiegand26(number: u16) -> (String, Credential) {
    let data = (u32::from(FACILITY) << 16) | u32::from(number);
    let even = (data >> 12).count_ones() % 2;
    let odd = 1 - (data & 0xFFF).count_ones() % 2;
    let frame = (even << 25) | (data << 1) | odd;
    let [hi, lo] = number.to_be_bytes();
    let credential = Credential::new(Technology::Wiegand, &[FACILITY, hi, lo]).unwrap();
    (hex::encode((frame << 6).to_be_bytes()), credential)
}

/// A CP↔PD line at `baud`: the CP opens `cp`, the PD `pd`; in between, two socat pty pairs
/// and one relay thread per direction.
struct Line {
    cp: PathBuf,
    pd: PathBuf,
    _pairs: [PtyPair; 2],
}

impl Line {
    fn new(dir: &Path, baud: u32) -> Line {
        let (cp_dir, pd_dir) = (dir.join("cp"), dir.join("pd"));
        std::fs::create_dir_all(&cp_dir).unwrap();
        std::fs::create_dir_all(&pd_dir).unwrap();
        let cp_pair = PtyPair::new(&cp_dir);
        let pd_pair = PtyPair::new(&pd_dir);
        let open = |p: &Path| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(p)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", p.display()))
        };
        let cp_side = open(cp_pair.feeder());
        let pd_side = open(&pd_pair.reader);
        let byte_time = Duration::from_nanos(10_000_000_000 / u64::from(baud));
        for (from, to) in [
            (cp_side.try_clone().unwrap(), pd_side.try_clone().unwrap()),
            (pd_side, cp_side),
        ] {
            std::thread::spawn(move || relay(from, to, byte_time));
        }
        Line {
            cp: cp_pair.reader.clone(),
            pd: pd_pair.feeder().to_path_buf(),
            _pairs: [cp_pair, pd_pair],
        }
    }
}

/// Copies `from` to `to`, each chunk delivered when its last byte would have arrived on a
/// line sending one byte every `byte_time`. Ends when either side goes away (socat killed).
fn relay(mut from: File, mut to: File, byte_time: Duration) {
    let mut buf = [0u8; 512];
    let mut line_free = Instant::now();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let start = line_free.max(Instant::now());
        line_free = start + byte_time * u32::try_from(n).unwrap_or(u32::MAX);
        std::thread::sleep(line_free.saturating_duration_since(Instant::now()));
        if to.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// libosdp's ControlPanel in `benches/osdp_cp_baseline.py`.
struct Baseline {
    child: Child,
    _stdin: ChildStdin,
    lines: std_mpsc::Receiver<String>,
}

impl Baseline {
    fn start(port: &Path, scbk: Option<&str>) -> Baseline {
        let mut cmd = Command::new(VENV_PYTHON);
        cmd.arg(SCRIPT).arg("--port").arg(port);
        if let Some(key) = scbk {
            cmd.args(["--scbk", key]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {VENV_PYTHON} {SCRIPT}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std_mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut cp = Baseline {
            child,
            _stdin: stdin,
            lines,
        };
        let ready = cp.next_line(Duration::from_secs(25), "its ready line");
        let clock = ready
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("baseline CP said {ready:?} instead of ready"));
        assert!(
            clock.contains("CLOCK_MONOTONIC"),
            "Python's time.monotonic_ns() reads {clock}, not CLOCK_MONOTONIC"
        );
        cp
    }

    fn next_line(&mut self, within: Duration, waiting_for: &str) -> String {
        self.lines.recv_timeout(within).unwrap_or_else(|e| {
            let exited = self.child.try_wait().ok().flatten();
            panic!(
                "baseline CP gave no line within {within:?} ({e}; exit status {exited:?}; see \
                 its stderr above) waiting for {waiting_for}"
            )
        })
    }

    /// When the CP's event callback had the card `data` (hex), by its own clock.
    fn wait_card(&mut self, data: &str) -> u64 {
        let line = self.next_line(TAP_TIMEOUT, &format!("card {data}"));
        match line.split(' ').collect::<Vec<_>>()[..] {
            ["card", got, at] => {
                assert_eq!(got, data, "the baseline CP read an unexpected card");
                at.parse().unwrap_or_else(|e| panic!("{line:?}: {e}"))
            }
            _ => panic!("unexpected line from the baseline CP: {line:?}"),
        }
    }
}

impl Drop for Baseline {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Presents `data` at `pd`; returns the PD script's stamp from just before it queued it.
fn present(pd: &mut Pd, data: &str) -> u64 {
    let before = stamps(pd, "presented").len();
    pd.card("wiegand", 26, data);
    let end = Instant::now() + TAP_TIMEOUT;
    loop {
        if let Some(&at) = stamps(pd, "presented").get(before) {
            return at;
        }
        assert!(Instant::now() < end, "the PD did not report queuing {data}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn stamps(pd: &Pd, key: &str) -> Vec<u64> {
    pd.lines()
        .iter()
        .filter_map(|v| v.get(key).and_then(serde_json::Value::as_u64))
        .collect()
}

/// Pings the PD script: each answer must lie between the bench's reads around it.
fn check_clock(pd: &mut Pd, rounds: u32) -> ClockCheck {
    let mut widest = Duration::ZERO;
    for _ in 0..rounds {
        let seen = stamps(pd, "pong").len();
        let before = mono_ns();
        pd.ping();
        let theirs = loop {
            if let Some(&at) = stamps(pd, "pong").get(seen) {
                break at;
            }
            std::thread::sleep(Duration::from_micros(100));
        };
        let after = mono_ns();
        assert!(
            (before..=after).contains(&theirs),
            "Python's monotonic clock ({theirs} ns) is not the bench's CLOCK_MONOTONIC \
             ({before}..={after} ns): cross-process latencies would be wrong"
        );
        widest = widest.max(Duration::from_nanos(after - before));
    }
    ClockCheck { rounds, widest }
}

struct Run {
    baud: u32,
    secure: bool,
    lawang: Vec<Duration>,
    baseline: Vec<Duration>,
    clock: ClockCheck,
}

/// (a) and (b) at one baud rate and channel, taps alternating.
fn run(baud: u32, secure: bool, taps: u16) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let scbk = secure.then_some(KEY);
    let key = if secure {
        let path = dir.path().join("pd.scbk");
        std::fs::write(&path, format!("{KEY}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        OsdpKey::File(path)
    } else {
        OsdpKey::None
    };
    let ours: Vec<(String, Credential)> = (1..=taps).map(wiegand26).collect();
    let theirs: Vec<String> = (taps + 1..=2 * taps).map(|n| wiegand26(n).0).collect();

    let lawang_line = Line::new(&dir.path().join("lawang"), baud);
    let baseline_line = Line::new(&dir.path().join("baseline"), baud);
    let mut lawang_pd = Pd::start(&lawang_line.pd, 1, scbk);
    let mut baseline_pd = Pd::start(&baseline_line.pd, 1, scbk);

    let (mut door, io) = Door::start(1, "osdp", ours.iter().map(|(_, c)| *c).collect());
    let config = OsdpReaderConfig {
        path: lawang_line.cp.clone(),
        baud,
        address: 1,
        key,
        poll: POLL,
        reply_timeout: Duration::from_millis(200),
    };
    // No KEYSET requests in the bench; the sender is kept so the channel stays open.
    let (_requests, requests) = tokio::sync::mpsc::channel(1);
    door.spawn_driver(lawang::reader::osdp::run(vec![
        lawang::reader::osdp::BusMember {
            config,
            io,
            requests,
        },
    ]));
    door.wait_online(Duration::from_secs(20));
    let mut baseline = Baseline::start(&baseline_line.cp, scbk);
    let mut clock = check_clock(&mut lawang_pd, 10);

    let mut rng = XorShift::seeded();
    let mut lawang = Vec::new();
    let mut base = Vec::new();
    for (i, ((data, _), their_data)) in ours.iter().zip(&theirs).enumerate() {
        std::thread::sleep(rng.below(SPREAD));
        door.drain();
        let presented = present(&mut lawang_pd, data);
        let unlocked = door.wait_unlock(TAP_TIMEOUT, || format!("OSDP tap {i} at {baud} baud"));
        lawang.push(latency(presented, unlocked, "Lawang tap"));

        std::thread::sleep(rng.below(SPREAD));
        let presented = present(&mut baseline_pd, their_data);
        let seen = baseline.wait_card(their_data);
        base.push(latency(presented, seen, "baseline tap"));
    }
    clock = clock.merge(check_clock(&mut lawang_pd, 10));
    clock = clock.merge(check_clock(&mut baseline_pd, 10));
    door.stop();
    drop(baseline);
    Run {
        baud,
        secure,
        lawang,
        baseline: base,
        clock,
    }
}

/// Theoretical wire time of the exchange that carries the card: the CP's POLL and the PD's
/// osdp_RAW reply (26 bits), 10 bits a byte. Plain: POLL 8 bytes (SOM, address, length 2,
/// control, code, CRC 2), RAW 16 (header 5, code, reader, format, bit count 2, 4 data
/// bytes, CRC 2). Secure: each adds a 2-byte security block header and a 4-byte MAC, and the
/// RAW's 9 data bytes are encrypted padded to 16: POLL 14, RAW 30.
fn wire_time(baud: u32, secure: bool) -> Duration {
    let bytes: u64 = if secure { 14 + 30 } else { 8 + 16 };
    Duration::from_nanos(bytes * 10 * 1_000_000_000 / u64::from(baud))
}

fn report(runs: &[Run]) {
    println!("## Card presented at the PD → decision (paced line, fsync excluded)\n");
    println!(
        "| channel | baud | CP | taps | min | p50 | p99 | max | POLL + RAW wire time | ratio p50 / p99 |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
    let ratio = |x: Duration, y: Duration| x.as_secs_f64() / y.as_secs_f64();
    let row = |r: &Run, cp: &str, p: &Percentiles, ratios: String| {
        println!(
            "| {} | {} | {cp} | {} | {:.1?} | {:.1?} | {:.1?} | {:.1?} | {:.1?} | {ratios} |",
            if r.secure { "secure" } else { "plain" },
            r.baud,
            p.n,
            p.min,
            p.p50,
            p.p99,
            p.max,
            wire_time(r.baud, r.secure),
        );
    };
    for r in runs {
        let (a, b) = (percentiles(&r.lawang), percentiles(&r.baseline));
        let ratios = format!(
            "(a)/(b): {:.2} / {:.2}",
            ratio(a.p50, b.p50),
            ratio(a.p99, b.p99)
        );
        row(r, "(a) Lawang → actuator called", &a, ratios);
        row(r, "(b) libosdp CP → event callback", &b, String::new());
    }
    let rounds: u32 = runs.iter().map(|r| r.clock.rounds).sum();
    let widest = runs
        .iter()
        .map(|r| r.clock.widest)
        .max()
        .unwrap_or_default();
    println!(
        "\nTaps land at a random point of a 50 ms poll cycle; (a) and (b) alternate, each on its \
         own PD and paced line. Clock check: {rounds} pings, each of Python's \
         time.monotonic_ns() inside the bench's CLOCK_MONOTONIC bracket (widest {widest:?}).\n"
    );
}
