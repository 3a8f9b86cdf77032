//! Crash consistency: bursts of taps on four readers, the daemon killed with SIGKILL at a
//! random moment, again and again on the same data directory. After every kill:
//! every tap the API acknowledged has its register line; every unlock the actuator itself
//! recorded was preceded by a granted register line; `PRAGMA integrity_check` is ok; the
//! register and audit hash chains verify; and the next start locks the door before
//! anything else.
//!
//! `LAWANG_CRASH_CYCLES` sets the number of cycles (200 by default, the CI run);
//! `LAWANG_CRASH_SEED` replays a run (the seed is printed).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::daemon::{spawn_serve, wait_for};

/// The strike tool records each state change with its own clock (ns since the epoch).
const CONFIG: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "command", unlock = ["/bin/sh", "-c", "echo unlocked $(date +%s%N) >> \"$0\"", "@STRIKE@"], lock = ["/bin/sh", "-c", "echo locked $(date +%s%N) >> \"$0\"", "@STRIKE@"] }
"#;

const READERS: [(&str, &str); 4] = [
    ("masuk-1", "in"),
    ("masuk-2", "in"),
    ("keluar-1", "out"),
    ("keluar-2", "out"),
];

/// Cards with a right, and one nobody knows (refusals are register lines too).
const CARDS: [&str; 4] = ["04A1B2C3", "04A1B2C4", "04A1B2C5", "0BADCAFE"];

/// A small xorshift generator: the run is replayable from its seed, no dependency needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Api {
    agent: ureq::Agent,
    base: String,
    token: String,
}

impl Api {
    fn connect(dir: &Path) -> Api {
        let addr =
            wait_for(&dir.join("data/api.addr"), Duration::from_secs(30)).unwrap_or_else(|| {
                panic!(
                    "daemon did not start; log:\n{}",
                    crate::common::daemon::log(dir)
                )
            });
        let token = std::fs::read_to_string(dir.join("data/initial-admin-token")).unwrap();
        Api {
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(5)))
                .build()
                .into(),
            base: format!("http://{}", addr.trim()),
            token: token.trim().to_owned(),
        }
    }

    fn post(&self, path: &str, body: serde_json::Value) -> Option<(u16, serde_json::Value)> {
        let mut resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .send_json(&body)
            .ok()?;
        let status = resp.status().as_u16();
        Some((status, resp.body_mut().read_json().ok()?))
    }
}

fn config(dir: &Path) -> String {
    let mut c = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[store]\ndata_dir = {:?}\n{}",
        dir.join("data"),
        CONFIG.replace("@STRIKE@", &dir.join("strike.log").display().to_string())
    );
    for (name, direction) in READERS {
        c.push_str(&format!(
            "[[reader]]\nname = \"{name}\"\ndoor = \"ruang-server\"\ndirection = \"{direction}\"\nkind = \"simulated\"\nrepeat_window_ms = 0\n"
        ));
    }
    c
}

/// (state, ns) of every strike change the tool recorded.
fn strike_records(dir: &Path) -> Vec<(String, u128)> {
    std::fs::read_to_string(dir.join("strike.log"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (state, ns) = l.split_once(' ')?;
            Some((state.to_owned(), ns.trim().parse().ok()?))
        })
        .collect()
}

fn start(dir: &Path) -> (Child, Api) {
    // A killed daemon leaves its address file behind: wait for the new one.
    let _ = std::fs::remove_file(dir.join("data/api.addr"));
    let child = spawn_serve(dir);
    let api = Api::connect(dir);
    (child, api)
}

fn grant_cards(api: &Api) {
    for uid in &CARDS[..3] {
        let (status, p) = api
            .post("/api/v1/people", json!({ "name": format!("Staf {uid}") }))
            .unwrap();
        assert_eq!(status, 201, "{p}");
        let person = p["id"].as_i64().unwrap();
        let (status, b) = api
            .post(
                "/api/v1/badges",
                json!({ "person_id": person, "uid": uid, "right": { "doors": ["ruang-server"],
                        "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z" } }),
            )
            .unwrap();
        assert_eq!(status, 201, "{b}");
    }
}

/// Taps on every reader as fast as the API answers until `stop`; the register ids the API
/// acknowledged.
fn burst(api: &Api, stop: &AtomicBool, seed: u64) -> Vec<i64> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = READERS
            .iter()
            .enumerate()
            .map(|(i, (reader, _))| {
                scope.spawn(move || {
                    let mut rng = Rng(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                    let mut acked = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let uid = CARDS[rng.below(CARDS.len() as u64) as usize];
                        let Some((200, t)) = api.post(
                            &format!("/api/v1/readers/{reader}/tap"),
                            json!({ "uid": uid }),
                        ) else {
                            break; // the daemon is gone
                        };
                        if let Some(id) = t["register_id"].as_i64() {
                            acked.push(id);
                        }
                    }
                    acked
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

struct Checked {
    lines: usize,
    unlocks: usize,
}

/// The invariants, read from the database file and the strike tool's own record.
fn check(dir: &Path, acked: &BTreeSet<i64>, cycle: u32) -> Checked {
    let conn = rusqlite::Connection::open(dir.join("data").join(lawang::store::DB_FILE)).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "cycle {cycle}");
    for chain in lawang::store::chain::verify(&conn).unwrap() {
        assert!(chain.broken.is_none(), "cycle {cycle}: {chain:?}");
    }
    let ids: BTreeSet<i64> = conn
        .prepare("SELECT id FROM register WHERE event = 'tap'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let lost: Vec<_> = acked.difference(&ids).collect();
    assert!(
        lost.is_empty(),
        "cycle {cycle}: acknowledged taps lost: {lost:?}"
    );
    // Each unlock is caused by its own grant, recorded before the strike moved: the k-th
    // unlock has at least k granted lines at or before it.
    let mut grants: Vec<i64> = conn
        .prepare("SELECT at FROM register WHERE event = 'tap' AND granted = 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    grants.sort_unstable();
    let unlocks: Vec<u128> = strike_records(dir)
        .into_iter()
        .filter(|(s, _)| s == "unlocked")
        .map(|(_, ns)| ns)
        .collect();
    for (k, ns) in unlocks.iter().enumerate() {
        let ms = (*ns / 1_000_000) as i64;
        let before = grants.partition_point(|at| *at <= ms);
        assert!(
            before > k,
            "cycle {cycle}: unlock #{} at {ms} ms has only {before} granted lines before it",
            k + 1
        );
    }
    Checked {
        lines: ids.len(),
        unlocks: unlocks.len(),
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_tap_and_no_unlock_goes_unrecorded() {
    let cycles: u32 = std::env::var("LAWANG_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("LAWANG_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("crash harness: {cycles} cycles, LAWANG_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("lawang.toml"), config(dir)).unwrap();

    let (mut child, api) = start(dir);
    grant_cards(&api);
    let mut acked = BTreeSet::new();
    let started = Instant::now();
    let mut last = Checked {
        lines: 0,
        unlocks: 0,
    };
    for cycle in 0..cycles {
        if cycle > 0 {
            // The killed daemon's last strike command runs in its own process group and may
            // still be writing its record: let it finish before this run's records begin.
            std::thread::sleep(Duration::from_millis(100));
            let spawned_ns = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let (c, _) = start(dir);
            child = c;
            // Back with the door locked: the first strike change of this run is a lock.
            let deadline = Instant::now() + Duration::from_secs(10);
            let first = loop {
                let now = strike_records(dir)
                    .into_iter()
                    .find(|(_, ns)| *ns >= spawned_ns);
                if let Some(first) = now {
                    break first;
                }
                assert!(
                    Instant::now() < deadline,
                    "cycle {cycle}: no strike command after start"
                );
                std::thread::sleep(Duration::from_millis(5));
            };
            assert_eq!(
                first.0, "locked",
                "cycle {cycle}: the door did not start locked"
            );
        }
        let api = Api::connect(dir);
        let stop = Arc::new(AtomicBool::new(false));
        let kill_after = Duration::from_millis(rng.below(400));
        let burst_seed = rng.next();
        let ids = std::thread::scope(|scope| {
            let tapping = scope.spawn(|| burst(&api, &stop, burst_seed));
            std::thread::sleep(kill_after);
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            stop.store(true, Ordering::Relaxed);
            tapping.join().unwrap()
        });
        acked.extend(ids);
        last = check(dir, &acked, cycle);
    }
    println!(
        "crash harness: {cycles} kills in {:.0} s; {} register lines, {} acknowledged, {} unlocks, all consistent",
        started.elapsed().as_secs_f64(),
        last.lines,
        acked.len(),
        last.unlocks
    );
    assert!(
        last.unlocks > 0 && !acked.is_empty(),
        "the harness tapped nothing"
    );
}
