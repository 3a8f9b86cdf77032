//! Real reader paths end to end through the daemon binary: a virtual card in vpcd through a
//! real pcscd, and RDM6300 frames through a real pseudo-terminal, each ending as a register
//! line and a strike command.

use std::time::Duration;

use serde_json::json;

use crate::common::daemon::{TestDaemon, eventually};
use crate::common::pcscd::Pcscd;
use crate::common::pty::{PtyPair, rdm6300_frame};
use crate::common::vpcd::{SLOT_0, VirtualCard};

fn lines(d: &TestDaemon) -> Vec<serde_json::Value> {
    d.get("/api/v1/register?event=tap").body["items"]
        .as_array()
        .unwrap()
        .clone()
}

const DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "command", unlock = ["/bin/sh", "-c", "echo unlocked >> \"$0\"", "@STRIKE@"], lock = ["/bin/sh", "-c", "echo locked >> \"$0\"", "@STRIKE@"] }
"#;

#[test]
fn a_card_on_a_pcsc_reader_opens_the_door() {
    let _pcscd = Pcscd::start();
    let d = TestDaemon::start_with(&format!(
        "{DOOR}\n[[reader]]\nname = \"masuk\"\ndoor = \"ruang-server\"\ndirection = \"in\"\nkind = \"pcsc\"\nmatch = \"Virtual PCD 00 00\"\n"
    ));
    eventually(
        "the PC/SC reader comes online",
        Duration::from_secs(10),
        || d.get("/api/v1/readers").body[0]["status"]["state"] == "online",
    );
    let listed = d.cli(&["readers", "list"]);
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("Virtual PCD 00 00"), "{listed}");
    assert!(
        listed.contains("masuk") && listed.contains("online"),
        "{listed}"
    );
    d.grant("04A1B2C3D4E5F6", "iso14443");
    let card = VirtualCard::with_uid(SLOT_0, &[0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6]);
    eventually(
        "the tap is in the register",
        Duration::from_secs(10),
        || !lines(&d).is_empty(),
    );
    let line = &lines(&d)[0];
    assert_eq!(line["granted"], true, "{line}");
    assert_eq!(line["credential"], "iso14443:04A1B2C3D4E5F6");
    assert_eq!(line["reader"], "masuk");
    // The line is committed before the strike moves, so the strike may follow a moment later.
    eventually("the strike unlocks", Duration::from_secs(5), || {
        d.strike_log().contains(&"unlocked".to_owned())
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        lines(&d).len(),
        1,
        "a card held on the reader is one presentation"
    );
    card.remove();
    let unknown = VirtualCard::with_uid(SLOT_0, &[0x01, 0x02, 0x03, 0x04]);
    eventually(
        "the unknown card is refused",
        Duration::from_secs(10),
        || lines(&d).len() == 2,
    );
    assert_eq!(lines(&d)[0]["reason"], "unknown_credential");
    unknown.remove();
}

/// A daemon with one RDM6300 exit reader on `pty`, once that reader is online.
fn rdm6300_daemon(pty: &PtyPair) -> TestDaemon {
    let d = TestDaemon::start_with(&format!(
        "{DOOR}\n[[reader]]\nname = \"keluar\"\ndoor = \"ruang-server\"\ndirection = \"out\"\nkind = \"serial\"\npath = {:?}\nprotocol = \"rdm6300\"\n",
        pty.reader
    ));
    eventually(
        "the serial reader comes online",
        Duration::from_secs(10),
        || d.get("/api/v1/readers").body[0]["status"]["state"] == "online",
    );
    d
}

#[test]
fn an_rdm6300_frame_on_a_serial_reader_opens_the_door() {
    let dir = tempfile::tempdir().unwrap();
    let pty = PtyPair::new(dir.path());
    let d = rdm6300_daemon(&pty);
    d.grant("0A1B2C3D4E", "em4100");
    // Noise, then the frame repeated as a held tag repeats it: one register line.
    let frame = rdm6300_frame([0x0A, 0x1B, 0x2C, 0x3D, 0x4E]);
    let mut burst = b"\x00\xFFgarbage".to_vec();
    for _ in 0..5 {
        burst.extend(&frame);
    }
    pty.write(&burst);
    eventually(
        "the tap is in the register",
        Duration::from_secs(10),
        || !lines(&d).is_empty(),
    );
    let line = &lines(&d)[0];
    assert_eq!(
        (line["granted"].as_bool(), line["direction"].as_str()),
        (Some(true), Some("out")),
        "{line}"
    );
    assert_eq!(line["credential"], "em4100:0A1B2C3D4E");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(lines(&d).len(), 1);
}

#[test]
fn a_reader_that_goes_away_is_an_alarm_until_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let pty = PtyPair::new(dir.path());
    let d = rdm6300_daemon(&pty);
    let reader_path = pty.reader.clone();
    drop(pty); // unplugged
    eventually("healthz shows the alarm", Duration::from_secs(10), || {
        let h = d.get_as("/healthz", None).body;
        h["status"] == "degraded" && h["doors"][0]["alarms"][0]["alarm"] == "reader_offline"
    });
    // The alarm line is written right after the status changes, not before it.
    eventually(
        "the alarm is in the register",
        Duration::from_secs(5),
        || {
            let alarms = d.get("/api/v1/register?event=alarm").body["items"].clone();
            alarms[0]["reason"] == "reader_offline" && alarms[0]["reader"] == "keluar"
        },
    );

    let _replugged = PtyPair::new(dir.path());
    assert!(reader_path.exists());
    eventually(
        "the alarm clears when the reader is back",
        Duration::from_secs(10),
        || d.get_as("/healthz", None).body["status"] == "ok",
    );
    eventually(
        "the clearing is in the register",
        Duration::from_secs(5),
        || {
            d.get("/api/v1/register?event=alarm_cleared").body["items"][0]["reason"]
                == "reader_offline"
        },
    );
}

#[test]
fn a_serial_relay_strike_gets_its_bytes_for_a_grant() {
    let dir = tempfile::tempdir().unwrap();
    let relay = PtyPair::new(dir.path());
    let d = TestDaemon::start_with(&format!(
        "[[door]]\nname = \"ruang-server\"\nunlock_seconds = 1\n\
         actuator = {{ kind = \"serial-relay\", path = {:?}, unlock = \"A0 01 01 A2\", lock = \"A0 01 00 A1\" }}\n\
         [[reader]]\nname = \"masuk\"\ndoor = \"ruang-server\"\ndirection = \"in\"\nkind = \"simulated\"\n",
        relay.reader
    ));
    // Locked at start.
    assert_eq!(
        relay.read(4, Duration::from_secs(5)),
        [0xA0, 0x01, 0x00, 0xA1]
    );
    d.grant("CAFE", "iso14443");
    let t = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": "CAFE" }));
    assert_eq!(t.body["granted"], true, "{}", t.body);
    // Unlocked, then locked again after unlock_seconds.
    assert_eq!(
        relay.read(8, Duration::from_secs(5)),
        [0xA0, 0x01, 0x01, 0xA2, 0xA0, 0x01, 0x00, 0xA1]
    );
}

#[test]
fn a_door_whose_gpio_chip_is_missing_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lawang.toml"),
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[store]\ndata_dir = {:?}\n\
             [[door]]\nname = \"ruang-server\"\nactuator = {{ kind = \"gpio\", chip = \"/dev/gpiochip-missing\", line = 17 }}\n",
            dir.path().join("data")
        ),
    )
    .unwrap();
    let status = crate::common::daemon::spawn_serve(dir.path())
        .wait()
        .unwrap();
    assert!(!status.success());
    let log = crate::common::daemon::log(dir.path());
    assert!(log.contains("/dev/gpiochip-missing"), "{log}");
}
