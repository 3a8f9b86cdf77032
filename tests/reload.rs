//! SIGHUP reloads the configuration: a reader added and removed while the door and its
//! other readers keep running, untouched; an invalid file changes nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually};

/// ONE_DOOR with a long unlock, so a door that kept running is still unlocked after a
/// reload, and a door that was restarted would be locked again.
fn base() -> String {
    ONE_DOOR.replace("unlock_seconds = 1", "unlock_seconds = 300")
}

const TAMU: &str = r#"
[[reader]]
name = "tamu"
door = "ruang-server"
direction = "in"
kind = "simulated"
repeat_window_ms = 0
"#;

fn reader<'a>(readers: &'a Value, name: &str) -> Option<&'a Value> {
    readers
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
}

fn tap(d: &TestDaemon, reader: &str, uid: &str) -> (u16, Value) {
    let r = d.post(
        &format!("/api/v1/readers/{reader}/tap"),
        &json!({ "uid": uid }),
    );
    (r.status, r.body)
}

#[test]
fn sighup_adds_and_removes_a_reader_and_leaves_the_others_running() {
    let d = TestDaemon::start_with(&base());
    d.grant("04A1B2C3", "iso14443");
    let (status, t) = tap(&d, "masuk", "04A1B2C3");
    assert_eq!((status, &t["granted"]), (200, &json!(true)), "{t}");
    let before = d.get("/api/v1/readers").body;
    let door_before = d.get("/api/v1/doors").body[0].clone();
    assert_eq!(door_before["strike"], "unlocked");
    assert_eq!(tap(&d, "tamu", "04A1B2C3").0, 404);

    d.write_config(&format!("{}{TAMU}", base()));
    d.signal("HUP");
    eventually("the new reader appears", Duration::from_secs(20), || {
        reader(&d.get("/api/v1/readers").body, "tamu").is_some()
    });
    let after = d.get("/api/v1/readers").body;
    let tamu = reader(&after, "tamu").unwrap();
    assert_eq!(tamu["status"]["state"], "online");
    assert_eq!(tamu["door"], "ruang-server");
    for name in ["masuk", "keluar"] {
        assert_eq!(
            reader(&after, name).unwrap()["running_since"],
            reader(&before, name).unwrap()["running_since"],
            "{name} kept running through the reload"
        );
    }
    let door_after = d.get("/api/v1/doors").body[0].clone();
    assert_eq!(door_after["running_since"], door_before["running_since"]);
    assert_eq!(
        door_after["strike"], "unlocked",
        "the door's state survived"
    );

    let (status, t) = tap(&d, "tamu", "04A1B2C3");
    assert_eq!((status, &t["granted"]), (200, &json!(true)), "{t}");
    let line = &d.get("/api/v1/register?limit=1").body["items"][0];
    assert_eq!(line["reader"], "tamu");
    assert_eq!(line["id"], t["register_id"]);

    d.write_config(&base());
    d.signal("HUP");
    eventually("the reader is gone", Duration::from_secs(20), || {
        reader(&d.get("/api/v1/readers").body, "tamu").is_none()
    });
    assert_eq!(tap(&d, "tamu", "04A1B2C3").0, 404);
    let last = d.get("/api/v1/readers").body;
    assert_eq!(
        reader(&last, "masuk").unwrap()["running_since"],
        reader(&before, "masuk").unwrap()["running_since"]
    );
    assert_eq!(tap(&d, "masuk", "04A1B2C3").1["granted"], true);
    // The removed reader's lines keep its name.
    let r = d.get("/api/v1/register?limit=10").body;
    assert!(
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["reader"] == "tamu"),
        "{r}"
    );
}

#[test]
fn a_changed_door_restarts_locked_with_its_readers() {
    let d = TestDaemon::start_with(&base());
    d.grant("0A0B", "iso14443");
    assert_eq!(tap(&d, "masuk", "0A0B").1["granted"], true);
    let before = d.get("/api/v1/doors").body[0].clone();
    assert_eq!(before["strike"], "unlocked");

    d.write_config(&base().replace("unlock_seconds = 300", "unlock_seconds = 200"));
    d.signal("HUP");
    eventually("the door is restarted", Duration::from_secs(20), || {
        d.get("/api/v1/doors").body[0]["unlock_seconds"] == 200
    });
    let after = d.get("/api/v1/doors").body[0].clone();
    assert_ne!(after["running_since"], before["running_since"]);
    assert_eq!(after["strike"], "locked", "a restarted door starts locked");
    assert_eq!(d.strike_log().last().map(String::as_str), Some("locked"));
    assert_eq!(tap(&d, "keluar", "0A0B").1["granted"], true);
}

#[test]
fn an_invalid_configuration_on_sighup_changes_nothing() {
    let d = TestDaemon::start_with(&base());
    let before = d.get("/api/v1/readers").body;
    std::fs::write(
        d.config_path(),
        format!("{}{TAMU}\n[[reader]]\nname = \"rusak\"\ndoor = \"tidak-ada\"\ndirection = \"in\"\nkind = \"simulated\"\n",
            std::fs::read_to_string(d.config_path()).unwrap()),
    )
    .unwrap();
    d.signal("HUP");
    eventually("the refusal is logged", Duration::from_secs(20), || {
        d.log().contains("configuration refused")
    });
    assert!(
        d.log().contains("tidak-ada"),
        "the log names the error: {}",
        d.log()
    );
    assert_eq!(d.get("/api/v1/readers").body, before);
    assert_eq!(
        tap(&d, "tamu", "01").0,
        404,
        "nothing of the refused file was applied"
    );
    assert_eq!(d.get("/healthz").status, 200);
}

#[test]
fn sighup_adds_and_removes_a_desk_reader_and_leaves_the_door_running() {
    let d = TestDaemon::start_with(&base());
    let desks = || d.get("/api/v1/enrollment-readers").body;
    assert_eq!(desks(), json!([]));
    let door_before = d.get("/api/v1/doors").body[0]["running_since"].clone();
    let masuk_before =
        reader(&d.get("/api/v1/readers").body, "masuk").unwrap()["running_since"].clone();

    let desk = "[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\nkind = \"simulated\"\n";
    d.write_config(&format!("{}{desk}", base()));
    d.signal("HUP");
    eventually("the desk reader appears", Duration::from_secs(20), || {
        desks()[0]["name"] == "meja"
    });
    assert_eq!(desks()[0]["online"], true);
    let (status, t) = tap(&d, "meja", "0102");
    assert_eq!(
        (status, &t["reason"]),
        (200, &json!("nobody_waiting")),
        "{t}"
    );
    assert_eq!(d.get("/api/v1/doors").body[0]["running_since"], door_before);
    assert_eq!(
        reader(&d.get("/api/v1/readers").body, "masuk").unwrap()["running_since"],
        masuk_before
    );

    d.write_config(&base());
    d.signal("HUP");
    eventually("the desk reader is gone", Duration::from_secs(20), || {
        desks() == json!([])
    });
    assert_eq!(tap(&d, "meja", "0102").0, 404);
}
