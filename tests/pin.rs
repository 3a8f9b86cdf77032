//! Card + PIN through the real daemon: the PIN set from the CLI (standard input), typed on a
//! simulated reader's keypad through the API, and never logged or stored in clear.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::common::daemon::{BIN, ONE_DOOR, TestDaemon};

const PIN: &str = "735190";

fn pin_door() -> TestDaemon {
    TestDaemon::start_with(&format!(
        "[pin]\ntimeout_seconds = 2\nattempts = 2\nlockout_seconds = 600\n{}",
        ONE_DOOR.replace("unlock_seconds = 1", "unlock_seconds = 1\npin = \"always\"")
    ))
}

fn tap(d: &TestDaemon, uid: &str, pin: Option<&str>) -> serde_json::Value {
    let r = d.post(
        "/api/v1/readers/masuk/tap",
        &json!({ "uid": uid, "pin": pin }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[test]
fn card_and_pin_end_to_end() {
    let mut d = pin_door();
    let p = d.post("/api/v1/people", &json!({ "name": "Budi" })).body["id"]
        .as_i64()
        .unwrap();
    d.post(
        "/api/v1/badges",
        &json!({ "person_id": p, "uid": "AA11", "right": {
            "doors": ["ruang-server"], "valid_from": "2020-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z" } }),
    );
    assert_eq!(tap(&d, "AA11", None)["reason"], "pin_not_set");

    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(d.config_path())
        .args(["person", "set-pin", &p.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PIN}").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(d.get(&format!("/api/v1/people/{p}")).body["has_pin"], true);

    let t = tap(&d, "AA11", Some(PIN));
    assert_eq!(
        (t["granted"].as_bool(), t["reason"].as_str()),
        (Some(true), Some("granted"))
    );
    assert_eq!(
        tap(&d, "AA11", None)["reason"],
        "pin_timeout",
        "no PIN within timeout_seconds"
    );
    assert_eq!(tap(&d, "AA11", Some("000000"))["reason"], "wrong_pin");
    assert_eq!(tap(&d, "AA11", Some("000000"))["reason"], "pin_locked");
    assert_eq!(tap(&d, "AA11", Some(PIN))["reason"], "pin_locked");

    let bad = d.post(&format!("/api/v1/people/{p}/pin"), &json!({ "pin": "12" }));
    assert_eq!(bad.status, 400);
    let audit = d.get("/api/v1/audit").body.to_string();
    assert!(audit.contains("person.pin_set"));

    d.stop();
    assert!(!d.log().contains(PIN), "the PIN reached the log");
    let db = std::fs::read(d.data_dir().join("lawang.sqlite3")).unwrap();
    let wal = std::fs::read(d.data_dir().join("lawang.sqlite3-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes.windows(PIN.len()).any(|w| w == PIN.as_bytes()),
            "the PIN is stored in clear"
        );
    }
}
