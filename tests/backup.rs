//! `lawang backup` while the door is busy, `lawang restore` with its checks, and the
//! retention job archiving and pruning old register lines.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::common::daemon::{TestDaemon, eventually, spawn_serve, wait_for};

fn ok(out: std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_backup_during_a_burst_of_taps_restores_every_tap_committed_before_it() {
    let mut d = TestDaemon::start();
    d.grant("04A1B2C3", "iso14443");
    // Register ids of granted taps, in the order their calls returned.
    let done: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let burst = {
        let (base, token) = (d.base.clone(), d.token.clone());
        let (done, stop) = (done.clone(), stop.clone());
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
            let mut refused = 0;
            while !stop.load(Ordering::Relaxed) {
                let t: serde_json::Value = agent
                    .post(format!("{base}/api/v1/readers/masuk/tap"))
                    .header("Authorization", format!("Bearer {token}"))
                    .send_json(json!({ "uid": "04A1B2C3" }))
                    .unwrap()
                    .body_mut()
                    .read_json()
                    .unwrap();
                match t["register_id"].as_i64() {
                    Some(id) if t["granted"] == true => done.lock().unwrap().push(id),
                    _ => refused += 1,
                }
            }
            refused
        })
    };
    eventually("a burst is under way", Duration::from_secs(30), || {
        done.lock().unwrap().len() >= 30
    });
    let committed_before: Vec<i64> = done.lock().unwrap().clone();
    let path = d.dir.path().join("backup.sqlite3");
    let out = ok(d.cli(&["backup", path.to_str().unwrap()]));
    assert!(out.contains("integrity ok"), "{out}");
    let during = done.lock().unwrap().len();
    eventually(
        "the door keeps deciding after the backup",
        Duration::from_secs(30),
        || done.lock().unwrap().len() >= during + 10,
    );
    stop.store(true, Ordering::Relaxed);
    assert_eq!(
        burst.join().unwrap(),
        0,
        "every tap of the burst was granted"
    );

    // A consistent copy: integrity ok, every tap committed before the backup began, and no
    // gap in the register ids (one writer, consecutive ids).
    let copy = rusqlite::Connection::open(&path).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let (n, lo, hi): (i64, i64, i64) = copy
        .query_row("SELECT count(*), min(id), max(id) FROM register", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(n, hi - lo + 1, "no gap in the register ids");
    for id in &committed_before {
        let found: i64 = copy
            .query_row("SELECT count(*) FROM register WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(found, 1, "tap {id} committed before the backup is in it");
    }
    drop(copy);

    // A restore is refused while the daemon runs.
    let refused = d.cli(&["restore", path.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("another lawang daemon"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    assert!(d.stop().success());
    let out = ok(d.cli(&["restore", path.to_str().unwrap()]));
    assert!(out.contains(&format!("{n} register lines")), "{out}");
    assert!(out.contains("lawang.sqlite3.before-restore-"), "{out}");

    d.child = Some(spawn_serve(d.dir.path()));
    let addr = wait_for(&d.data_dir().join("api.addr"), Duration::from_secs(20)).unwrap();
    d.base = format!("http://{}", addr.trim());
    let restored = d.get(&format!("/api/v1/register?limit=1000&before_id={}", hi + 1));
    let ids: Vec<i64> = restored.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len() as i64, n, "the restored register is the backup's");
    assert!(committed_before.iter().all(|id| ids.contains(id)));
    assert_eq!(
        d.post("/api/v1/readers/masuk/tap", &json!({ "uid": "04A1B2C3" }))
            .body["granted"],
        true
    );
}

#[test]
fn a_backup_never_overwrites_and_a_damaged_file_is_not_restored() {
    let mut d = TestDaemon::start();
    let path = d.dir.path().join("backup.sqlite3");
    ok(d.cli(&["backup", path.to_str().unwrap()]));
    let again = d.cli(&["backup", path.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    assert!(d.stop().success());
    let garbage = d.dir.path().join("garbage.sqlite3");
    std::fs::write(&garbage, vec![0x5A; 8192]).unwrap();
    let out = d.cli(&["restore", garbage.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        !std::fs::read_dir(d.data_dir()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("before-restore")),
        "nothing was replaced"
    );
}

#[test]
fn register_lines_past_retention_are_archived_then_pruned() {
    let mut d = TestDaemon::start();
    assert!(d.stop().success());
    let day_ms: i64 = 24 * 60 * 60 * 1000;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let db = rusqlite::Connection::open(d.data_dir().join("lawang.sqlite3")).unwrap();
    for age in [800, 200, 95, 10] {
        db.execute(
            "INSERT INTO register (at, event, door_id, granted, reason)
             VALUES (?1, 'tap', 1, 0, 'unknown_credential')",
            [now_ms - age * day_ms],
        )
        .unwrap();
    }
    drop(db);

    let config = std::fs::read_to_string(d.config_path()).unwrap();
    std::fs::write(
        d.config_path(),
        format!("{config}\n[register]\nretention_days = 100\n"),
    )
    .unwrap();
    d.child = Some(spawn_serve(d.dir.path()));
    let addr = wait_for(&d.data_dir().join("api.addr"), Duration::from_secs(20)).unwrap();
    d.base = format!("http://{}", addr.trim());
    let archive = d.data_dir().join("archive");
    eventually(
        "the old lines are archived",
        Duration::from_secs(20),
        || {
            d.get("/api/v1/register").body["items"]
                .as_array()
                .unwrap()
                .len()
                == 2
        },
    );
    let files: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let csv = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(
        csv.lines().count(),
        3,
        "header and the two old lines: {csv}"
    );
    assert!(csv.starts_with("\u{feff}No.,Tanggal"), "{csv}");
    let audit = d.get("/api/v1/audit").body;
    let prune = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["action"] == "register.prune")
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(prune["detail"]["lines"], 2);
}
