//! Load: four RDM6300 readers on real pseudo-terminals, each sent frames as fast as its
//! 9600-baud line allows (one 14-byte frame every 14.6 ms), while wrk loads the API. Prints
//! the decision latency (from the daemon's own histogram), the API latency (wrk) and the
//! register's completeness; asserts only completeness: every frame sent is one register line.
//!
//! `LAWANG_LOAD_SECONDS` sets the duration (10 s by default, the CI run; docs/reliability.md
//! has a 60 s run).

use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::daemon::{TestDaemon, eventually};
use crate::common::pty::{PtyPair, rdm6300_frame};

/// One RDM6300 frame at 9600 baud, 8N1: 14 bytes of 10 bits.
const FRAME_TIME: Duration = Duration::from_micros(14 * 10 * 1_000_000 / 9600);

const DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
"#;

fn reader(name: &str, direction: &str, pty: &PtyPair) -> String {
    format!(
        "[[reader]]\nname = \"{name}\"\ndoor = \"ruang-server\"\ndirection = \"{direction}\"\nkind = \"serial\"\npath = {:?}\nprotocol = \"rdm6300\"\nrepeat_window_ms = 0\n",
        pty.reader
    )
}

/// Card `n` of reader `r`: consecutive frames differ, half the cards are known.
fn card(r: usize, n: u64) -> [u8; 5] {
    [0x0A, r as u8, 0x00, (n % 2) as u8, 0x01]
}

fn tap_lines(d: &TestDaemon) -> u64 {
    let m = d.get("/metrics");
    let text = m.body.as_str().map(str::to_owned).unwrap_or_default();
    // Register lines by reason, summed (the metrics are the daemon's own count).
    text.lines()
        .filter(|l| l.starts_with("lawang_taps_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

fn register_count(d: &TestDaemon) -> u64 {
    let conn = rusqlite::Connection::open(d.data_dir().join(lawang::store::DB_FILE)).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM register WHERE event = 'tap'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    n as u64
}

/// The decision latency quantile `q` from the daemon's histogram: the upper bound of the
/// bucket it falls in.
fn quantile(metrics: &str, q: f64) -> Option<f64> {
    let mut buckets: Vec<(f64, f64)> = metrics
        .lines()
        .filter(|l| l.starts_with("lawang_decision_duration_seconds_bucket{"))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, l.rsplit(' ').next()?.parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    buckets
        .iter()
        .find(|(_, count)| *count >= q * total)
        .map(|(le, _)| *le)
}

#[test]
fn four_readers_at_line_speed_while_wrk_loads_the_api_lose_no_tap() {
    let seconds: u64 = std::env::var("LAWANG_LOAD_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let ptys: Vec<PtyPair> = (0..4)
        .map(|i| {
            let sub = dir.path().join(format!("r{i}"));
            std::fs::create_dir(&sub).unwrap();
            PtyPair::new(&sub)
        })
        .collect();
    let mut config = DOOR.to_owned();
    for (i, pty) in ptys.iter().enumerate() {
        let direction = if i % 2 == 0 { "in" } else { "out" };
        config.push_str(&reader(&format!("r{i}"), direction, pty));
    }
    let d = TestDaemon::start_with(&config);
    eventually(
        "the four readers are online",
        Duration::from_secs(20),
        || {
            d.get("/api/v1/readers")
                .body
                .as_array()
                .is_some_and(|r| r.len() == 4 && r.iter().all(|r| r["status"]["state"] == "online"))
        },
    );
    for r in 0..4 {
        d.grant(&hex::encode_upper(card(r, 0)), "em4100");
    }
    let wrk_version = Command::new("wrk").arg("--version").output();
    assert!(
        wrk_version.is_ok(),
        "wrk is missing: install the Debian package wrk (scripts/test installs it)"
    );
    let addr = std::fs::read_to_string(d.data_dir().join("api.addr")).unwrap();
    let token = d.token_for("auditor");

    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let (sent, wrk) = std::thread::scope(|scope| {
        let feeders: Vec<_> = ptys
            .iter()
            .enumerate()
            .map(|(r, pty)| {
                let stop = &stop;
                scope.spawn(move || {
                    let mut port = std::fs::OpenOptions::new()
                        .write(true)
                        .open(pty.feeder())
                        .unwrap();
                    let mut n = 0u64;
                    let mut next = Instant::now();
                    while !stop.load(Ordering::Relaxed) {
                        port.write_all(&rdm6300_frame(card(r, n))).unwrap();
                        n += 1;
                        next += FRAME_TIME;
                        if let Some(wait) = next.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    n
                })
            })
            .collect();
        let wrk = scope.spawn(|| {
            Command::new("wrk")
                .args(["-t2", "-c16", &format!("-d{seconds}s"), "--latency"])
                .arg("-H")
                .arg(format!("Authorization: Bearer {token}"))
                .arg(format!("http://{}/api/v1/doors", addr.trim()))
                .output()
                .unwrap()
        });
        let wrk = wrk.join().unwrap();
        stop.store(true, Ordering::Relaxed);
        let sent: u64 = feeders.into_iter().map(|f| f.join().unwrap()).sum();
        (sent, wrk)
    });
    let elapsed = started.elapsed();
    let wrk_out = String::from_utf8_lossy(&wrk.stdout);
    assert!(wrk.status.success(), "wrk failed: {wrk_out}");

    // Completeness: every frame sent became a register line.
    eventually(
        "every frame is in the register",
        Duration::from_secs(30),
        || register_count(&d) >= sent,
    );
    assert_eq!(register_count(&d), sent, "frames sent vs register lines");
    let metrics = d.get("/metrics");
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    let p50 = quantile(&text, 0.50);
    let p99 = quantile(&text, 0.99);
    let api_p99 = wrk_out
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_default();
    let api_rps = wrk_out
        .lines()
        .find(|l| l.starts_with("Requests/sec"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_default();
    println!(
        "load: {:.0} s, 4 readers, {sent} frames ({:.0}/s), {} register lines (all); decision p50 <= {:?} s, p99 <= {:?} s (histogram bucket bounds); API {api_rps}, p99 {api_p99}; lawang_taps_total {}",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        register_count(&d),
        p50,
        p99,
        tap_lines(&d)
    );
}
