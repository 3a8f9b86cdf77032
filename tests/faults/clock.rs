//! Wall-clock jumps, made with libfaketime (Debian `libfaketime`) preloaded into the daemon:
//! `FAKETIME_TIMESTAMP_FILE` holds an offset the test rewrites, `FAKETIME_NO_CACHE=1` makes
//! every clock reading see the new one, and `FAKETIME_DONT_FAKE_MONOTONIC=1` leaves the
//! monotonic clock alone, as a real `date -s` or an NTP step would.
//!
//! Unlock times run on the monotonic clock (an hour back or forward during an unlock changes
//! nothing), schedules follow the new wall time, and the register and the audit log show
//! each jump.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Datelike, TimeDelta, Timelike, Utc};
use serde_json::{Value, json};

use crate::common::daemon::{TestDaemon, eventually};

const LIBRARIES: [&str; 2] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
];

/// The strike records each change with the monotonic clock (seconds since boot), which
/// libfaketime leaves alone.
const DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 2
actuator = { kind = "command", unlock = ["/bin/sh", "-c", "echo unlocked $(cut -d' ' -f1 /proc/uptime) >> \"$0\"", "@STRIKE@"], lock = ["/bin/sh", "-c", "echo locked $(cut -d' ' -f1 /proc/uptime) >> \"$0\"", "@STRIKE@"] }

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
repeat_window_ms = 0
"#;

/// The daemon's wall clock: real time plus an offset the test sets.
struct Clock(PathBuf);

impl Clock {
    fn new(dir: &Path) -> Clock {
        let c = Clock(dir.join("faketime.rc"));
        c.set(0);
        c
    }

    /// Sets the offset, in seconds (negative: back).
    fn set(&self, seconds: i64) {
        // Written whole then renamed: the daemon never reads half a line.
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, format!("{seconds:+}\n")).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let library = LIBRARIES
            .iter()
            .find(|p| Path::new(p).exists())
            .expect("libfaketime is not installed (scripts/test installs the Debian package)");
        vec![
            ("LD_PRELOAD", library.to_string()),
            ("FAKETIME_TIMESTAMP_FILE", self.0.display().to_string()),
            ("FAKETIME_NO_CACHE", "1".into()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".into()),
        ]
    }
}

fn tap(d: &TestDaemon, uid: &str) -> Value {
    let r = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": uid }));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

/// The strike's changes after the first `skip`, with their monotonic times.
fn strikes(d: &TestDaemon, skip: usize) -> Vec<(String, f64)> {
    d.strike_log()
        .iter()
        .skip(skip)
        .map(|l| {
            let (what, at) = l.split_once(' ').unwrap();
            (what.to_owned(), at.parse().unwrap())
        })
        .collect()
}

fn wait_for_jumps(d: &TestDaemon, want: usize) {
    eventually(
        "the clock jumps in the register",
        Duration::from_secs(15),
        || {
            d.get("/api/v1/register?event=clock_jump").body["items"]
                .as_array()
                .is_some_and(|a| a.len() >= want)
        },
    );
}

/// `want` jumps in the register, the audit log (with their size), the log and the metrics.
fn jumps_recorded(d: &TestDaemon, want: usize) {
    wait_for_jumps(d, want);
    let audit = d.get("/api/v1/audit?limit=1000").body["items"].clone();
    let jumps: Vec<f64> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "clock.jump")
        .map(|a| a["detail"]["seconds"].as_f64().unwrap())
        .collect();
    assert!(jumps.len() >= want, "{audit}");
    assert!(jumps.iter().all(|s| s.abs() >= 3000.0), "{jumps:?}");
    assert!(d.log().contains("the wall clock jumped"));
    let metrics = d.get("/metrics").body.as_str().unwrap().to_owned();
    let count: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("lawang_clock_jumps_total ")?.parse().ok())
        .unwrap();
    assert!(count >= want as f64, "{count}");
    assert_eq!(
        d.cli(&["audit", "verify"]).status.code(),
        Some(0),
        "the chains verify across the jumps"
    );
}

#[test]
fn an_unlock_lasts_its_time_when_the_wall_clock_jumps_back_or_forward_an_hour() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new(dir.path());
    let d = TestDaemon::start_in(dir, DOOR, &clock.env());
    d.grant("04A1B2C3", "iso14443");
    for (n, offset) in [-3600, 0].into_iter().enumerate() {
        let before = d.strike_log().len();
        let t = tap(&d, "04A1B2C3");
        assert_eq!(t["granted"], true, "{t}");
        // One hour back, then forward again, while the strike is open.
        clock.set(offset);
        eventually("the strike locked again", Duration::from_secs(20), || {
            strikes(&d, before).iter().any(|(w, _)| w == "locked")
        });
        let s = strikes(&d, before);
        let unlocked = s.iter().find(|(w, _)| w == "unlocked").unwrap().1;
        let locked = s.iter().find(|(w, _)| w == "locked").unwrap().1;
        // /proc/uptime has 10 ms steps: the unlock lasted its two seconds, not cut short.
        assert!(
            locked - unlocked >= 1.98,
            "jump {n}: unlocked at {unlocked}, locked at {locked}"
        );
    }
    jumps_recorded(&d, 2);
}

#[test]
fn a_schedule_follows_the_wall_clock_after_a_jump() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Clock::new(dir.path());
    let d = TestDaemon::start_full("timezone = \"UTC\"", DOOR, &clock.env());
    // A one-hour-twenty window a few hours from now, away from midnight.
    let now = Utc::now();
    let (hours, target) = (3..=6)
        .map(|h| (h, now + TimeDelta::hours(h)))
        .find(|(_, t)| (1..22).contains(&t.hour()))
        .unwrap();
    let hm = |t: chrono::DateTime<Utc>| t.format("%H:%M").to_string();
    let day = target.weekday().to_string().to_lowercase();
    let p = d.post("/api/v1/people", &json!({ "name": "Budi" }));
    let r = d.post(
        "/api/v1/badges",
        &json!({ "person_id": p.body["id"], "uid": "04A1B2C3", "technology": "iso14443",
            "right": { "doors": ["ruang-server"], "valid_from": "2020-01-01T00:00:00Z",
                "valid_until": "2099-01-01T00:00:00Z",
                "schedule": { "windows": [{ "days": [day],
                    "from": hm(target - TimeDelta::minutes(40)),
                    "until": hm(target + TimeDelta::minutes(40)) }] } } }),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    assert_eq!(tap(&d, "04A1B2C3")["reason"], "outside_schedule");
    clock.set(hours * 3600);
    let t = tap(&d, "04A1B2C3");
    assert_eq!(
        t["reason"], "granted",
        "{hours} h ahead is inside the window: {t}"
    );
    // Seen before the clock goes back (two jumps within one tick would cancel out).
    wait_for_jumps(&d, 1);
    clock.set(0);
    assert_eq!(tap(&d, "04A1B2C3")["reason"], "outside_schedule");

    // The register's times follow the jumps too: the grant is dated hours ahead.
    let taps = d.get("/api/v1/register?event=tap").body["items"].clone();
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(taps[i]["at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    // Newest first: refused (now), granted (ahead), refused (now).
    assert!(at(1) - at(2) >= TimeDelta::hours(hours) - TimeDelta::minutes(1));
    assert!(at(1) - at(0) >= TimeDelta::hours(hours) - TimeDelta::minutes(1));
    jumps_recorded(&d, 2);
}
