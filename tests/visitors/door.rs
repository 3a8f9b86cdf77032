//! The visitor badge at the door: the escort rule both ways and the escort_left alarm, the
//! badge's day, anti-passback in each mode, and the presence list across a restart.

use std::time::Duration;

use serde_json::json;

use super::{ESCORT_CARD, VISITOR_CARD, desk};
use crate::common::daemon::{eventually, spawn_serve, wait_for};

#[test]
fn the_escort_rule_both_ways() {
    let s = desk("off");
    s.active_visit();

    // Alone: refused, and the register says why.
    let t = s.tap("masuk", VISITOR_CARD);
    assert_eq!(
        (t["granted"].clone(), t["reason"].clone()),
        (json!(false), json!("no_escort"))
    );
    // Another staff member is not the escort.
    s.d.grant("5AFF", "iso14443");
    s.tap("masuk", "5AFF");
    assert_eq!(s.tap("masuk", VISITOR_CARD)["reason"], "no_escort");
    // The escort's tap longer ago than the window does not count.
    s.tap("masuk", ESCORT_CARD);
    std::thread::sleep(Duration::from_millis(2300));
    assert_eq!(s.tap("masuk", VISITOR_CARD)["reason"], "no_escort");
    // Right after the escort: in.
    s.tap("masuk", ESCORT_CARD);
    assert_eq!(s.tap("masuk", VISITOR_CARD)["granted"], true);
    let refused = s.d.get("/api/v1/register?decision=refused&limit=10").body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["reason"] == "no_escort")
        .count();
    assert_eq!(refused, 3);

    // The escort leaves first: once the visitor has not followed within the window, alarm.
    assert_eq!(s.tap("keluar", ESCORT_CARD)["granted"], true);
    eventually("the escort_left alarm", Duration::from_secs(10), || {
        s.alarms().contains(&"escort_left".to_owned())
    });
    let health = s.d.get_as("/healthz", None).body;
    assert_eq!(health["status"], "degraded");
    assert!(
        !health.to_string().contains("Andi"),
        "health names nobody: {health}"
    );
    assert!(
        s.inside()
            .iter()
            .any(|(_, kind, escort)| kind == "visitor" && *escort == Some(false))
    );
    // The visitor comes out: the alarm ends; both are in the register.
    assert_eq!(s.tap("keluar", VISITOR_CARD)["granted"], true);
    eventually("the alarm cleared", Duration::from_secs(5), || {
        s.alarms().is_empty()
    });
    // Raised and cleared, both in the register (its writer commits on its own time).
    let escort_lines = || {
        s.d.get("/api/v1/register?limit=50").body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["reason"] == "escort_left")
            .count()
    };
    eventually("both escort_left lines", Duration::from_secs(5), || {
        escort_lines() == 2
    });
}

#[test]
fn a_pair_leaving_together_raises_no_alarm() {
    let s = desk("off");
    s.active_visit();
    s.tap("masuk", ESCORT_CARD);
    s.tap("masuk", VISITOR_CARD);
    s.tap("keluar", ESCORT_CARD);
    s.tap("keluar", VISITOR_CARD);
    std::thread::sleep(Duration::from_millis(2500));
    assert!(s.alarms().is_empty(), "{:?}", s.alarms());
}

#[test]
fn a_badge_reused_the_next_day_is_refused() {
    let mut s = desk("off");
    let id = s.active_visit();
    s.tap("masuk", ESCORT_CARD);
    assert_eq!(s.tap("masuk", VISITOR_CARD)["granted"], true);
    let right = s.visit(id)["right_id"].as_i64().unwrap();
    // The badge opens until the end of its day in the office's zone.
    let rights =
        s.d.get(&format!(
            "/api/v1/people/{}/rights",
            s.visit(id)["person_id"]
        ))
        .body;
    let until = rights[0]["valid_until"].as_str().unwrap().to_owned();
    assert!(until.ends_with("T17:00:00Z"), "WIB midnight, got {until}");

    // Move the visit to yesterday, as if the visitor kept the badge overnight.
    assert!(s.d.stop().success());
    let conn = rusqlite::Connection::open(s.d.data_dir().join("lawang.sqlite3")).unwrap();
    let day = 86_400_000i64;
    conn.execute(
        "UPDATE access_right SET valid_from = valid_from - ?1, valid_until = valid_until - ?1
         WHERE id = ?2",
        rusqlite::params![day, right],
    )
    .unwrap();
    conn.execute(
        "UPDATE visit SET checked_in_at = checked_in_at - ?1, badge_issued_at = badge_issued_at - ?1
         WHERE id = ?2",
        rusqlite::params![day, id],
    )
    .unwrap();
    drop(conn);
    s.d.child = Some(spawn_serve(s.d.dir.path()));
    let addr = wait_for(&s.d.data_dir().join("api.addr"), Duration::from_secs(20)).unwrap();
    s.d.base = format!("http://{}", addr.trim());

    s.tap("masuk", ESCORT_CARD);
    let t = s.tap("masuk", VISITOR_CARD);
    assert_eq!(
        (t["granted"].clone(), t["reason"].clone()),
        (json!(false), json!("expired"))
    );
    // The desk still takes it back.
    let (status, v) = s.check_out(id, json!({ "badge": "returned", "id_returned": true }));
    assert_eq!(status, 200, "{v}");
}

#[test]
fn anti_passback_in_each_mode() {
    for (mode, second) in [
        ("off", (true, "granted")),
        ("log", (true, "anti_passback")),
        ("enforce", (false, "anti_passback")),
    ] {
        let s = desk(mode);
        let first = s.tap("masuk", ESCORT_CARD);
        assert_eq!(first["granted"], true, "{mode}: {first}");
        let again = s.tap("masuk", ESCORT_CARD);
        assert_eq!(
            (
                again["granted"].as_bool().unwrap(),
                again["reason"].as_str().unwrap()
            ),
            second,
            "{mode}"
        );
        // The register keeps the flag on the line, granted or not.
        let line = &s.d.get("/api/v1/register?limit=1").body["items"][0];
        assert_eq!(line["reason"], second.1, "{mode}: {line}");
        // Out and in again is always fine; an exit is never refused.
        assert_eq!(s.tap("keluar", ESCORT_CARD)["granted"], true, "{mode}");
        assert_eq!(s.tap("keluar", ESCORT_CARD)["granted"], true, "{mode}");
        assert_eq!(s.tap("masuk", ESCORT_CARD)["reason"], "granted", "{mode}");
    }
}

#[test]
fn the_presence_list_after_a_sequence_of_taps_survives_a_restart() {
    let mut s = desk("enforce");
    let sari = s.d.grant("5A21", "iso14443");
    let tono = s.d.grant("70D0", "iso14443");
    let id = s.active_visit();
    let visitor = s.visit(id)["person_id"].as_i64().unwrap();
    s.tap("masuk", "5A21");
    s.tap("masuk", "70D0");
    s.tap("masuk", ESCORT_CARD);
    s.tap("masuk", VISITOR_CARD);
    s.tap("keluar", "5A21");
    s.tap("masuk", "FFFF"); // unknown: counts nobody
    let want = vec![
        (tono, "staff".to_owned(), None),
        (s.escort, "staff".to_owned(), None),
        (visitor, "visitor".to_owned(), Some(true)),
    ];
    assert_eq!(s.inside(), want);
    let _ = sari;

    // The desk's command: a table to read out.
    let out = s.d.cli(&["inside"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Andi Wijaya (V-01)"), "{text}");
    assert!(text.contains("Budi (inside)"), "{text}");
    assert!(text.contains("3 inside"), "{text}");

    // After a restart the doors still know who is inside.
    assert!(s.d.stop().success());
    s.d.child = Some(spawn_serve(s.d.dir.path()));
    let addr = wait_for(&s.d.data_dir().join("api.addr"), Duration::from_secs(20)).unwrap();
    s.d.base = format!("http://{}", addr.trim());
    assert_eq!(s.inside(), want);
    assert_eq!(s.tap("masuk", "70D0")["reason"], "anti_passback");
}
