//! The admin API over real HTTP against the real binary and a real SQLite file.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::daemon::{TestDaemon, eventually, spawn_serve, wait_for};

fn person(d: &TestDaemon, name: &str) -> i64 {
    let r = d.post(
        "/api/v1/people",
        &json!({ "name": name, "id_number": "198001012005011001", "unit": "Diskominfo" }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_i64().unwrap()
}

fn issue(d: &TestDaemon, person: i64, uid: &str, from: &str, until: &str) -> Value {
    let r = d.post(
        "/api/v1/badges",
        &json!({ "person_id": person, "uid": uid, "right": {
            "doors": ["ruang-server"], "valid_from": from, "valid_until": until } }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body
}

fn tap(d: &TestDaemon, reader: &str, uid: &str) -> Value {
    let r = d.post(
        &format!("/api/v1/readers/{reader}/tap"),
        &json!({ "uid": uid }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

fn count(d: &TestDaemon, path: &str) -> usize {
    let r = d.get(path);
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .get("items")
        .unwrap_or(&r.body)
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn issue_tap_revoke_tap_through_the_api() {
    let d = TestDaemon::start();
    let p = person(&d, "Budi Santoso");
    let badge = issue(
        &d,
        p,
        "04:A1:B2:C3",
        "2020-01-01T00:00:00+07:00",
        "2099-01-01T00:00:00+07:00",
    );
    let badge_id = badge["badge"]["id"].as_i64().unwrap();

    let t = tap(&d, "masuk", "04a1b2c3");
    assert_eq!(
        (t["granted"].as_bool(), t["reason"].as_str()),
        (Some(true), Some("granted"))
    );
    let line = &d.get("/api/v1/register?limit=1").body["items"][0];
    assert_eq!(line["id"], t["register_id"]);
    assert_eq!(line["person_id"], json!(p));
    assert_eq!(line["person_name"], "Budi Santoso");
    assert_eq!(line["reason"], "granted");
    assert_eq!(line["direction"], "in");
    assert_eq!(line["door"], "ruang-server");
    assert_eq!(line["reader"], "masuk");
    assert_eq!(line["credential"], "iso14443:04A1B2C3");
    eventually(
        "the strike unlocks and relocks",
        Duration::from_secs(10),
        || d.strike_log() == ["locked", "unlocked", "locked"],
    );

    let r = d.post(
        &format!("/api/v1/badges/{badge_id}/revoke"),
        &json!({ "reason": "pindah tugas" }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let t = tap(&d, "keluar", "04A1B2C3");
    assert_eq!(
        (t["granted"].as_bool(), t["reason"].as_str()),
        (Some(false), Some("credential_revoked"))
    );
    let line = &d.get("/api/v1/register?limit=1").body["items"][0];
    assert_eq!(
        (line["reason"].as_str(), line["granted"].as_bool()),
        (Some("credential_revoked"), Some(false))
    );
    assert_eq!(line["direction"], "out");
    assert_eq!(d.strike_log().len(), 3, "a refusal never moves the strike");

    let t = tap(&d, "masuk", "DEADBEEF");
    assert_eq!(t["reason"], "unknown_credential");
    let refused = d.get("/api/v1/register?decision=refused");
    assert_eq!(refused.body["items"].as_array().unwrap().len(), 2);
    let audit: Vec<String> = d.get("/api/v1/audit").body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        audit[..4],
        [
            "badge.revoke",
            "right.create",
            "badge.issue",
            "person.create"
        ]
    );
}

#[test]
fn expired_and_not_yet_valid_rights_are_refused() {
    let d = TestDaemon::start();
    let p = person(&d, "Sari");
    issue(&d, p, "E1", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z");
    let q = person(&d, "Tono");
    issue(&d, q, "F1", "2098-01-01T00:00:00Z", "2099-01-01T00:00:00Z");
    assert_eq!(tap(&d, "masuk", "E1")["reason"], "expired");
    assert_eq!(tap(&d, "masuk", "F1")["reason"], "not_yet_valid");
}

#[test]
fn unauthenticated_calls_get_401_on_every_route() {
    let d = TestDaemon::start();
    let doc = d.get_as("/api/v1/openapi.json", None).body;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{paths:?}");
    for (path, item) in paths {
        if path == "/healthz" {
            continue;
        }
        let concrete = path.replace("{id}", "1").replace("{name}", "masuk");
        for method in item.as_object().unwrap().keys() {
            let r = match method.as_str() {
                "get" => d.get_as(&concrete, None),
                other => d.send_raw(other, &concrete, None, "{}"),
            };
            assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
            assert_eq!(r.content_type, "application/problem+json");
        }
    }
    let bogus = d.get_as("/api/v1/people", Some("lawang_00"));
    assert_eq!(bogus.status, 401);
    assert_eq!(d.get_as("/healthz", None).status, 200);
}

#[test]
fn roles_are_checked_per_route() {
    let d = TestDaemon::start();
    let auditor = d.token_for("auditor");
    let pemohon = d.token_for("pemohon");
    let operator = d.token_for("operator");
    let body = json!({ "name": "X" }).to_string();
    let r = d.post_raw("/api/v1/people", Some(&auditor), &body);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("auditor"),
        "{}",
        r.body
    );
    // The role is checked before the body is read: a wrong role never learns about fields.
    assert_eq!(
        d.post_raw("/api/v1/people", Some(&auditor), "not json")
            .status,
        403
    );
    assert_eq!(d.get_as("/api/v1/register", Some(&pemohon)).status, 403);
    assert_eq!(d.get_as("/api/v1/audit", Some(&operator)).status, 403);
    assert_eq!(
        d.post_raw(
            "/api/v1/readers/masuk/tap",
            Some(&operator),
            r#"{"uid":"01"}"#
        )
        .status,
        403
    );
    assert_eq!(
        d.post_raw(
            "/api/v1/tokens",
            Some(&operator),
            r#"{"name":"x","role":"admin"}"#
        )
        .status,
        403
    );
    assert_eq!(d.get_as("/api/v1/register", Some(&auditor)).status, 200);
    assert_eq!(
        d.post_raw("/api/v1/people", Some(&operator), &body).status,
        201
    );
    assert_eq!(
        d.get_as("/api/v1/whoami", Some(&pemohon)).body["role"],
        "pemohon"
    );

    // A revoked token stops working at once.
    let id = d
        .get("/api/v1/tokens")
        .body
        .as_array()
        .unwrap()
        .last()
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        d.post(&format!("/api/v1/tokens/{id}/revoke"), &json!({}))
            .status,
        200
    );
    assert_eq!(d.get_as("/api/v1/people", Some(&operator)).status, 401);
}

#[test]
fn bad_input_gets_a_problem_and_changes_nothing() {
    let d = TestDaemon::start();
    let p = person(&d, "Budi");
    let (people, audit) = (count(&d, "/api/v1/people"), count(&d, "/api/v1/audit"));
    let cases: &[(&str, &str, u16)] = &[
        ("/api/v1/people", r#"{"name": "X", "nama": "typo"}"#, 400),
        ("/api/v1/people", r#"{"name": "X""#, 400),
        ("/api/v1/people", r#"{"name": 5}"#, 400),
        ("/api/v1/people", r#"{"name": "   "}"#, 400),
        (
            "/api/v1/badges",
            &format!(r#"{{"person_id": {p}, "uid": "XYZ"}}"#),
            400,
        ),
        ("/api/v1/badges", r#"{"person_id": 999, "uid": "01"}"#, 404),
        (
            "/api/v1/badges",
            &format!(
                r#"{{"person_id": {p}, "uid": "01", "right": {{"doors": ["ruang-server"],
                    "valid_from": "2026-01-01T00:00:00Z", "valid_until": "9999-01-01T00:00:00Z"}}}}"#
            ),
            400,
        ),
        (
            "/api/v1/badges",
            &format!(
                r#"{{"person_id": {p}, "uid": "01", "right": {{"doors": ["ruang-server"],
                    "valid_from": "2026-02-30T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z"}}}}"#
            ),
            400,
        ),
        (
            "/api/v1/badges",
            &format!(
                r#"{{"person_id": {p}, "uid": "01", "right": {{"doors": ["ruang-server"],
                    "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2027-01-01T00:00:00Z",
                    "schedule": {{"windows": [{{"days": ["mon"], "from": "25:00", "until": "26:00"}}]}}}}}}"#
            ),
            400,
        ),
        ("/api/v1/readers/masuk/tap", r#"{"uid": ""}"#, 400),
        ("/api/v1/readers/nowhere/tap", r#"{"uid": "01"}"#, 404),
    ];
    for (path, body, want) in cases {
        let r = d.post_raw(path, Some(&d.token), body);
        assert_eq!(r.status, *want, "{path} {body}: {}", r.body);
        assert_eq!(r.content_type, "application/problem+json", "{path} {body}");
        assert!(
            !r.body["detail"].as_str().unwrap_or("").is_empty(),
            "{}",
            r.body
        );
    }
    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(100_000));
    assert_eq!(
        d.post_raw("/api/v1/people", Some(&d.token), &huge).status,
        413
    );
    assert_eq!(d.get("/api/v1/register?limit=0").status, 400);
    assert_eq!(d.get("/api/v1/register?from=yesterday").status, 400);
    assert_eq!(d.get("/api/v1/register?colour=red").status, 400);
    assert_eq!(
        (count(&d, "/api/v1/people"), count(&d, "/api/v1/audit")),
        (people, audit)
    );
    assert_eq!(count(&d, "/api/v1/badges"), 0);
    assert_eq!(
        count(&d, "/api/v1/register"),
        0,
        "refused input never reaches a door"
    );
}

#[test]
fn health_shows_devices_and_no_secrets() {
    let d = TestDaemon::start();
    let h = d.get_as("/healthz", None);
    assert_eq!(h.status, 200);
    assert_eq!(h.body["status"], "ok");
    assert_eq!(h.body["database"], "ok");
    assert_eq!(h.body["doors"][0]["strike"], "locked");
    assert_eq!(h.body["readers"][1]["name"], "keluar");
    assert_eq!(h.body["readers"][1]["status"]["state"], "online");
    assert!(!h.body.to_string().contains("lawang_"));
}

#[test]
fn the_initial_token_is_private_and_never_logged() {
    use std::os::unix::fs::PermissionsExt;
    let mut d = TestDaemon::start();
    let mode = std::fs::metadata(d.data_dir().join("initial-admin-token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let operator = d.token_for("operator");
    d.get_as("/api/v1/people", Some(&operator));
    d.get_as("/api/v1/people", Some("lawang_wrong"));
    d.stop();
    let log = d.log();
    assert!(log.contains("initial-admin-token"), "the path is logged");
    assert!(
        !log.contains(&d.token) && !log.contains(&operator),
        "a token leaked into the log"
    );
    let db = std::fs::read(d.data_dir().join("lawang.sqlite3")).unwrap();
    let wal = std::fs::read(d.data_dir().join("lawang.sqlite3-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !bytes
                .windows(d.token.len())
                .any(|w| w == d.token.as_bytes()),
            "a token is stored in clear"
        );
    }
}

#[test]
fn a_second_daemon_on_the_same_data_dir_refuses_to_start() {
    let d = TestDaemon::start();
    let mut second = spawn_serve(d.dir.path());
    let status = second.wait().unwrap();
    assert!(!status.success());
    assert!(
        d.log()
            .contains("another lawang daemon is already using the data directory"),
        "{}",
        d.log()
    );
    assert_eq!(
        d.get_as("/healthz", None).status,
        200,
        "the first one keeps running"
    );
}

#[test]
fn sigterm_locks_the_door_and_keeps_the_register() {
    let mut d = TestDaemon::start_with(
        &crate::common::daemon::ONE_DOOR.replace("unlock_seconds = 1", "unlock_seconds = 60"),
    );
    let p = person(&d, "Budi");
    issue(&d, p, "AB", "2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z");
    assert_eq!(tap(&d, "masuk", "AB")["granted"], true);
    assert_eq!(d.strike_log().last().map(String::as_str), Some("unlocked"));
    assert!(d.stop().success());
    assert_eq!(d.strike_log().last().map(String::as_str), Some("locked"));

    // Restart on the same data: the line is there and the door starts locked.
    let child = spawn_serve(d.dir.path());
    d.child = Some(child);
    let addr = wait_for(&d.data_dir().join("api.addr"), Duration::from_secs(20)).unwrap();
    d.base = format!("http://{}", addr.trim());
    assert_eq!(count(&d, "/api/v1/register"), 1);
    assert_eq!(d.get("/api/v1/doors").body[0]["strike"], "locked");
}

#[test]
fn a_database_from_a_newer_version_is_refused_at_start() {
    let mut d = TestDaemon::start();
    d.stop();
    let conn = rusqlite::Connection::open(d.data_dir().join("lawang.sqlite3")).unwrap();
    conn.execute_batch("PRAGMA user_version = 999").unwrap();
    drop(conn);
    let status = spawn_serve(d.dir.path()).wait().unwrap();
    assert!(!status.success());
    assert!(d.log().contains("written by a newer Lawang"), "{}", d.log());
}

#[test]
fn the_register_exports_as_indonesian_csv() {
    let d = TestDaemon::start();
    tap(&d, "masuk", "0102");
    let r = d.get("/api/v1/register/export?from=2000-01-01&to=2099-12-31&sep=semicolon");
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/csv"));
    let text = r.body.as_str().unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert!(
        text.contains("No.;Tanggal;Jam;Pintu;Pembaca;Arah;Nama"),
        "{text}"
    );
    assert!(
        text.contains(";Masuk;") && text.contains(";Ditolak;kartu tidak dikenal"),
        "{text}"
    );
}
