//! Tamper evidence: the register and the audit log are hash chains. Rows changed directly in
//! the SQLite file, behind the daemon's back, are named by `lawang audit verify` and by
//! `GET /api/v1/audit/verify`, while the daemon runs.

use serde_json::{Value, json};

use std::time::Duration;

use crate::common::daemon::{TestDaemon, eventually};

fn tap(d: &TestDaemon, uid: &str) {
    let r = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": uid }));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn broken(report: &Value) -> Vec<(String, i64, String)> {
    report["chains"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["broken"].is_null())
        .map(|c| {
            let b = &c["broken"];
            (
                b["table"].as_str().unwrap().to_owned(),
                b["id"].as_i64().unwrap(),
                b["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn cli_verify(d: &TestDaemon) -> (bool, Value) {
    let out = d.cli(&["audit", "verify", "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), json!({ "chains": report }))
}

#[test]
fn verify_names_the_row_changed_behind_the_daemons_back() {
    let d = TestDaemon::start();
    d.grant("04A1B2C3", "iso14443");
    for uid in ["04A1B2C3", "DEADBEEF", "04A1B2C3", "CAFE01", "04A1B2C3"] {
        tap(&d, uid);
    }
    // Refusals are committed without the door waiting for them.
    eventually("five register lines", Duration::from_secs(10), || {
        d.get("/api/v1/register?limit=10").body["items"]
            .as_array()
            .is_some_and(|a| a.len() == 5)
    });

    let api = d.get("/api/v1/audit/verify");
    assert_eq!(api.status, 200, "{}", api.body);
    assert_eq!(api.body["ok"], true, "{}", api.body);
    let register = &api.body["chains"][0];
    assert_eq!(register["table"], "register");
    assert_eq!(register["rows"], 5);
    assert!(register["head"].as_str().unwrap().len() == 64, "{register}");
    let (ok, report) = cli_verify(&d);
    assert!(ok, "{report}");
    assert_eq!(report["chains"], api.body["chains"]);

    // Turn refusal 2 into a grant, and change who did an admin action.
    let conn = rusqlite::Connection::open(d.data_dir().join("lawang.sqlite3")).unwrap();
    conn.execute(
        "UPDATE register SET granted = 1, reason = 'granted' WHERE id = 2",
        [],
    )
    .unwrap();
    let audit_id: i64 = conn
        .query_row(
            "SELECT id FROM audit WHERE action LIKE 'badge.%' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE audit SET actor = 'orang lain' WHERE id = ?1",
        [audit_id],
    )
    .unwrap();
    drop(conn);

    let api = d.get("/api/v1/audit/verify");
    assert_eq!(api.body["ok"], false, "{}", api.body);
    let expected = vec![
        ("register".to_owned(), 2, "content".to_owned()),
        ("audit".to_owned(), audit_id, "content".to_owned()),
    ];
    assert_eq!(broken(&api.body), expected, "{}", api.body);
    let (ok, report) = cli_verify(&d);
    assert!(!ok, "a broken chain exits 1");
    assert_eq!(broken(&report), expected);
    let text = d.cli(&["audit", "verify"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("BROKEN at register row 2 (content)"),
        "{stdout}"
    );

    // The daemon keeps writing on after the tampered rows; taps go on being recorded.
    tap(&d, "04A1B2C3");
    eventually(
        "the sixth line in the chain",
        Duration::from_secs(10),
        || d.get("/api/v1/audit/verify").body["chains"][0]["head_id"] == 6,
    );
}

#[test]
fn only_the_roles_that_read_the_audit_log_verify_it() {
    let d = TestDaemon::start();
    for (role, status) in [("auditor", 200), ("kasi", 200), ("operator", 403)] {
        let token = d.token_for(role);
        let r = d.get_as("/api/v1/audit/verify", Some(&token));
        assert_eq!(r.status, status, "{role}: {}", r.body);
    }
    assert_eq!(d.get_as("/api/v1/audit/verify", None).status, 401);
}
