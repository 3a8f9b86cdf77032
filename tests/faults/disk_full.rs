//! Disk full: the data directory is a small tmpfs of its own, filled while taps arrive.
//! The door keeps deciding from memory; the register lines wait in memory, in order, and
//! the alarm `register_unwritable` is up; once the held lines fill their queue, grants are
//! refused (`register_full`); when space returns every line is written, the chain verifies
//! and SQLite finds nothing wrong.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually};

/// Grants held in memory at most; small, so the test reaches the bound.
const HELD: usize = 6;

/// A tmpfs mounted for the test; unmounted on drop (after the daemon, declared before it).
struct SmallDisk(PathBuf);

impl SmallDisk {
    /// Mounts a tmpfs of `size` on `dir`. Root is needed (CI runs as root): a test that
    /// cannot mount fails, it does not skip.
    fn mount(dir: &Path, size: &str) -> SmallDisk {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot mount a tmpfs for the disk-full test (root is needed): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(dir.to_owned())
    }

    /// Writes a file until the filesystem refuses: the disk is full.
    fn fill(&self) -> PathBuf {
        let path = self.0.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0xA5u8; 4096];
        loop {
            match f.write_all(&chunk) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOSPC) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        let _ = f.flush();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The daemon first, so it stops before its disk is unmounted.
struct Rig {
    d: TestDaemon,
    disk: SmallDisk,
}

fn tap(d: &TestDaemon, uid: &str) -> Value {
    let r = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": uid }));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn metric(d: &TestDaemon, name: &str) -> f64 {
    let r = d.get("/metrics");
    let text = r.body.as_str().unwrap_or_default().to_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

fn alarms(d: &TestDaemon) -> Value {
    d.get_as("/healthz", None).body["doors"][0]["alarms"].clone()
}

#[test]
fn a_full_disk_holds_register_lines_in_memory_and_writes_them_all_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let disk = SmallDisk::mount(&dir.path().join("data"), "4m");
    let config = format!("{ONE_DOOR}\n[register]\nheld_lines = {HELD}\n");
    let rig = Rig {
        d: TestDaemon::start_in(dir, &config, &[]),
        disk,
    };
    let d = &rig.d;
    d.grant("04A1B2C3", "iso14443");
    // (uid, granted, reason) of every tap, in order: all of them must end up in the register.
    let mut taps: Vec<(&str, bool, String)> = Vec::new();
    let record = |taps: &mut Vec<(&str, bool, String)>, uid: &'static str, t: &Value| {
        taps.push((
            uid,
            t["granted"] == true,
            t["reason"].as_str().unwrap().to_owned(),
        ));
    };
    let t = tap(d, "04A1B2C3");
    assert_eq!(t["granted"], true);
    assert!(t["register_id"].is_i64(), "{t}");
    record(&mut taps, "04A1B2C3", &t);

    // Empty the WAL into the database file, so the next commit needs new space, then fill.
    let db = d.data_dir().join(lawang::store::DB_FILE);
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(conn);
    let filler = rig.disk.fill();

    // The door decides from memory: a grant and a refusal while nothing can be written.
    let t = tap(d, "04A1B2C3");
    assert_eq!(
        (&t["granted"], &t["reason"]),
        (&json!(true), &json!("granted")),
        "{t}"
    );
    assert!(t["register_id"].is_null(), "a held line has no id yet: {t}");
    record(&mut taps, "04A1B2C3", &t);
    let t = tap(d, "0BADCAFE");
    assert_eq!(t["reason"], "unknown_credential", "{t}");
    record(&mut taps, "0BADCAFE", &t);
    eventually(
        "the alarm register_unwritable",
        Duration::from_secs(10),
        || {
            alarms(d)
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["alarm"] == "register_unwritable"))
        },
    );
    assert_eq!(d.get_as("/healthz", None).body["status"], "degraded");
    assert_eq!(metric(d, "lawang_register_unwritable"), 1.0);
    assert!(metric(d, "lawang_register_write_failures_total") >= 1.0);
    assert!(d.log().contains("register cannot be written"));
    let unlocks_before = d.strike_log().iter().filter(|l| *l == "unlocked").count();

    // Grants until the held lines fill their queue: then the door stays shut.
    let mut refused_full = false;
    for _ in 0..HELD + 2 {
        let t = tap(d, "04A1B2C3");
        record(&mut taps, "04A1B2C3", &t);
        if t["reason"] == "register_full" {
            assert_eq!(t["granted"], false, "{t}");
            refused_full = true;
            break;
        }
        assert_eq!(t["granted"], true, "{t}");
    }
    assert!(refused_full, "a full queue must refuse grants: {taps:?}");
    let held = metric(d, "lawang_register_held_lines");
    assert!(held >= HELD as f64, "held {held}");
    let unlocks = d.strike_log().iter().filter(|l| *l == "unlocked").count();
    // Every held grant opened the door (at most once per tap); the refused one did not.
    let grants_while_full = taps.iter().skip(3).filter(|t| t.1).count();
    assert!(unlocks <= unlocks_before + grants_while_full, "{unlocks}");

    // Space returns: every held line is written, in order, and the alarm clears.
    std::fs::remove_file(filler).unwrap();
    eventually("the held lines written", Duration::from_secs(20), || {
        metric(d, "lawang_register_held_lines") == 0.0
            && metric(d, "lawang_register_unwritable") == 0.0
    });
    eventually("the alarm cleared", Duration::from_secs(10), || {
        alarms(d).as_array().is_some_and(|a| a.is_empty())
    });
    let t = tap(d, "04A1B2C3");
    assert!(t["register_id"].is_i64(), "writing resumed: {t}");
    record(&mut taps, "04A1B2C3", &t);

    let lines = d.get("/api/v1/register?limit=500").body["items"]
        .as_array()
        .unwrap()
        .clone();
    let mut oldest_first: Vec<&Value> = lines.iter().collect();
    oldest_first.reverse();
    let recorded: Vec<(bool, String)> = oldest_first
        .iter()
        .filter(|l| l["event"] == "tap")
        .map(|l| {
            (
                l["granted"] == true,
                l["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let made: Vec<(bool, String)> = taps.iter().map(|t| (t.1, t.2.clone())).collect();
    assert_eq!(recorded, made, "every tap recorded, in order");
    let ids: Vec<i64> = oldest_first
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "no gap: {ids:?}");
    let alarm_lines: Vec<(&str, &str)> = oldest_first
        .iter()
        .filter(|l| l["reason"] == "register_unwritable")
        .map(|l| (l["event"].as_str().unwrap(), l["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        alarm_lines,
        [
            ("alarm", "register_unwritable"),
            ("alarm_cleared", "register_unwritable")
        ]
    );
    assert_eq!(metric(d, "lawang_register_failed_lines_total"), 0.0);

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let verify = d.cli(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
