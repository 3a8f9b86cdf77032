//! Enrollment at the desk: the card for an approved request is the next one presented on a
//! desk reader (`purpose = "enrollment"`), through a real pseudo-terminal (RDM6300), the
//! API and the CLI.

use std::time::Duration;

use serde_json::json;

use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually};
use crate::common::pty::{PtyPair, rdm6300_frame};
use crate::workflow::{Staff, approve_all, ok, post_as, staff, submit};

const SIMULATED_DESK: &str =
    "[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\nkind = \"simulated\"\n";

fn desk_state(d: &TestDaemon) -> serde_json::Value {
    d.get("/api/v1/enrollment-readers").body[0].clone()
}

fn wait_until_waiting(d: &TestDaemon) {
    eventually(
        "the desk reader waits for a card",
        Duration::from_secs(10),
        || desk_state(d)["waiting"] == true,
    );
}

fn register_len(d: &TestDaemon) -> usize {
    d.get("/api/v1/register?event=tap").body["items"]
        .as_array()
        .unwrap()
        .len()
}

fn verified_request(d: &TestDaemon, s: &Staff) -> i64 {
    let id = submit(d, s);
    approve_all(d, s, id);
    id
}

#[test]
fn the_card_presented_on_the_desk_reader_is_issued_and_opens_the_door() {
    let dir = tempfile::tempdir().unwrap();
    let pty = PtyPair::new(dir.path());
    let d = TestDaemon::start_with(&format!(
        "{ONE_DOOR}\n[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\nkind = \"serial\"\npath = {:?}\nprotocol = \"rdm6300\"\n",
        pty.reader
    ));
    eventually("the desk reader is online", Duration::from_secs(10), || {
        desk_state(&d)["online"] == true
    });
    assert_eq!(desk_state(&d)["kind"], "serial");
    // A desk reader is no door reader.
    let readers = d.get("/api/v1/readers").body;
    assert!(
        readers
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] != "meja"),
        "{readers}"
    );
    let s = staff(&d);
    let id = verified_request(&d, &s);

    // A card presented while nobody waits binds nothing and is not a register line.
    let frame = rdm6300_frame([0x0A, 0x1B, 0x2C, 0x3D, 0x4E]);
    pty.write(&frame);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(register_len(&d), 0);

    let issued = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            post_as(
                &d,
                &s.operator,
                &format!("/api/v1/requests/{id}/issue"),
                json!({ "enroll_reader": "meja", "enroll_timeout_seconds": 20,
                        "badge_number": "RS-021" }),
            )
        });
        wait_until_waiting(&d);
        // Lifted and presented again after the repeat window; held, it repeats.
        std::thread::sleep(Duration::from_millis(700));
        for _ in 0..3 {
            pty.write(&frame);
        }
        waiting.join().unwrap()
    });
    assert_eq!(issued.0, 200, "{}", issued.1);
    assert_eq!(issued.1["waiting"]["name"], "inform");
    assert_eq!(desk_state(&d)["waiting"], false);

    // The bound card is the one presented, with the technology the reader read.
    let person = issued.1["person_id"].as_i64().unwrap();
    let badges = d.get(&format!("/api/v1/badges?person_id={person}")).body;
    assert_eq!(
        (badges[0]["technology"].as_str(), badges[0]["uid"].as_str()),
        (Some("em4100"), Some("0A1B2C3D4E")),
        "{badges}"
    );
    assert_eq!(badges[0]["badge_number"], "RS-021");
    let tap = d.post(
        "/api/v1/readers/masuk/tap",
        &json!({ "uid": "0A1B2C3D4E", "technology": "em4100" }),
    );
    assert_eq!(tap.body["granted"], true, "{}", tap.body);
    // The held card at the desk after the bind was taken by nobody and wrote nothing.
    assert_eq!(register_len(&d), 1);
}

#[test]
fn nobody_is_asked_for_a_card_the_request_cannot_take() {
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}\n{SIMULATED_DESK}"));
    let s = staff(&d);
    let id = submit(&d, &s);
    let issue = |token: &str, body: serde_json::Value| {
        post_as(&d, token, &format!("/api/v1/requests/{id}/issue"), body)
    };
    let enroll = json!({ "enroll_reader": "meja", "enroll_timeout_seconds": 30 });

    // Not yet verified: refused at once (409), nobody waits at the desk.
    let (status, body) = issue(&s.operator, enroll.clone());
    assert_eq!(status, 409, "{body}");
    assert_eq!(desk_state(&d)["waiting"], false);
    approve_all(&d, &s, id);
    // Another role than the chain's Operator: refused before waiting.
    let (status, body) = issue(&s.pemohon, enroll.clone());
    assert_eq!(status, 403, "{body}");
    // Unknown reader, both ways at once, neither, a wait out of range, a technology.
    for (body, want) in [
        (json!({ "enroll_reader": "gudang" }), 404),
        (json!({ "enroll_reader": "meja", "uid": "0102" }), 400),
        (json!({ "badge_number": "X" }), 400),
        (
            json!({ "enroll_reader": "meja", "enroll_timeout_seconds": 0 }),
            400,
        ),
        (
            json!({ "enroll_reader": "meja", "enroll_timeout_seconds": 121 }),
            400,
        ),
        (
            json!({ "enroll_reader": "meja", "technology": "em4100" }),
            400,
        ),
        (json!({ "uid": "0102", "enroll_timeout_seconds": 5 }), 400),
    ] {
        let (status, got) = issue(&s.operator, body.clone());
        assert_eq!(status, want, "{body}: {got}");
    }
    // Nobody presents a card: 408, and the request still waits for its card.
    let (status, body) = issue(
        &s.operator,
        json!({ "enroll_reader": "meja", "enroll_timeout_seconds": 1 }),
    );
    assert_eq!(status, 408, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("meja"), "{body}");
    let r = d.get(&format!("/api/v1/requests/{id}")).body;
    assert_eq!(r["waiting"]["name"], "issue", "{r}");

    // One operator per desk reader at a time; a tap with nobody waiting binds nothing.
    let nobody = d.post("/api/v1/readers/meja/tap", &json!({ "uid": "0102" }));
    assert_eq!(nobody.body["reason"], "nobody_waiting", "{}", nobody.body);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| issue(&s.operator, enroll.clone()));
        wait_until_waiting(&d);
        let (status, body) = issue(&s.operator, enroll.clone());
        assert_eq!(status, 409, "{body}");
        let tap = d.post("/api/v1/readers/meja/tap", &json!({ "uid": "04:A1:B2:C3" }));
        assert_eq!(tap.body["reason"], "enrolled", "{}", tap.body);
        let (status, body) = first.join().unwrap();
        assert_eq!(status, 200, "{body}");
    });
    let t = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": "04A1B2C3" }));
    assert_eq!(t.body["granted"], true, "{}", t.body);
}

#[test]
fn at_the_console_the_operator_issues_with_the_desk_reader() {
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}\n{SIMULATED_DESK}"));
    let s = staff(&d);
    let id = verified_request(&d, &s);
    let out = std::thread::scope(|scope| {
        let cli = scope.spawn(|| {
            d.cli(&[
                "request",
                "issue",
                &id.to_string(),
                "--enroll",
                "meja",
                "--timeout",
                "20",
                "--token",
                &s.operator,
            ])
        });
        wait_until_waiting(&d);
        let tap = d.post("/api/v1/readers/meja/tap", &json!({ "uid": "0455AA66" }));
        assert_eq!(tap.body["reason"], "enrolled", "{}", tap.body);
        cli.join().unwrap()
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Tap the card on meja"), "{stdout}");
    assert!(stdout.contains("card issued"), "{stdout}");
    let r = ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/inform"),
        json!({}),
    );
    assert_eq!(r["status"], "completed");
}

#[test]
fn a_visitor_badge_joins_the_pool_from_the_desk_reader() {
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}\n{SIMULATED_DESK}"));
    let add = |body: serde_json::Value| {
        let r = d.post("/api/v1/visitor-badges", &body);
        (r.status, r.body)
    };
    let (status, body) = add(json!({ "badge_number": "V-01", "uid": "0A0B0C0D" }));
    assert_eq!(status, 201, "{body}");
    // A number already in the pool is refused before anyone is asked for a card.
    let (status, body) = add(json!({ "badge_number": "V-01", "enroll_reader": "meja" }));
    assert_eq!(status, 409, "{body}");
    assert_eq!(desk_state(&d)["waiting"], false);
    let (status, body) = add(json!({ "badge_number": "V-02", "enroll_reader": "meja",
                                     "enroll_timeout_seconds": 1 }));
    assert_eq!(status, 408, "{body}");

    let (status, body) = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            add(json!({ "badge_number": "V-02", "enroll_reader": "meja",
                        "enroll_timeout_seconds": 20 }))
        });
        wait_until_waiting(&d);
        let tap = d.post("/api/v1/readers/meja/tap", &json!({ "uid": "0E0F1011" }));
        assert_eq!(tap.body["reason"], "enrolled", "{}", tap.body);
        waiting.join().unwrap()
    });
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["badge_number"].as_str(), body["uid"].as_str()),
        (Some("V-02"), Some("0E0F1011")),
        "{body}"
    );
    let pool = d.get("/api/v1/visitor-badges").body;
    assert_eq!(pool.as_array().unwrap().len(), 2, "{pool}");
}

#[test]
fn the_desk_wait_is_not_cut_short_by_the_request_time_limit() {
    // A 2 s limit for ordinary requests; the operator waits for the card longer than that.
    let d = TestDaemon::start_with_server(
        "request_timeout_seconds = 2",
        &format!("{ONE_DOOR}\n{SIMULATED_DESK}"),
    );
    let s = staff(&d);
    let id = verified_request(&d, &s);
    let issued = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| {
            post_as(
                &d,
                &s.operator,
                &format!("/api/v1/requests/{id}/issue"),
                json!({ "enroll_reader": "meja", "enroll_timeout_seconds": 10 }),
            )
        });
        wait_until_waiting(&d);
        std::thread::sleep(Duration::from_secs(3));
        let tap = d.post("/api/v1/readers/meja/tap", &json!({ "uid": "04C0FFEE" }));
        assert_eq!(tap.body["reason"], "enrolled", "{}", tap.body);
        waiting.join().unwrap()
    });
    assert_eq!(issued.0, 200, "{}", issued.1);
}
