//! Readers under faults, through the daemon: pcscd restarted while a card is tapped again and
//! again, and a serial RDM6300 reader that vanishes (socat killed) and comes back while its
//! line carries random noise between valid frames. Every tap after recovery is decided and
//! recorded, the outage shows as the alarm `reader_offline`, and nothing crashes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::common::daemon::{TestDaemon, eventually};
use crate::common::pcscd::Pcscd;
use crate::common::pty::{PtyPair, rdm6300_frame};
use crate::common::vpcd::{SLOT_0, Script, VirtualCard};

const DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "log" }
"#;

fn taps(d: &TestDaemon) -> Vec<Value> {
    let mut v = d.get("/api/v1/register?event=tap&limit=1000").body["items"]
        .as_array()
        .unwrap()
        .clone();
    v.reverse();
    v
}

fn reader_state(d: &TestDaemon) -> Value {
    d.get("/api/v1/readers").body[0]["status"]["state"].clone()
}

fn alarm_lines(d: &TestDaemon, event: &str) -> usize {
    d.get(&format!("/api/v1/register?event={event}")).body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["reason"] == "reader_offline" && l["reader"] == "masuk")
        .count()
}

fn reader_offline_raised(d: &TestDaemon) -> bool {
    let h = d.get_as("/healthz", None).body;
    h["status"] == "degraded"
        && h["doors"][0]["alarms"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["alarm"] == "reader_offline"))
}

const UID: [u8; 7] = [0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6];

/// A hand presenting the card again and again: on the reader 0.8 s, away 0.4 s. While
/// pcscd is down vpcd refuses the card, and the hand simply tries again.
fn tapping(stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut presented = 0;
        while !stop.load(Ordering::SeqCst) {
            if let Ok(card) = VirtualCard::try_insert(SLOT_0, Script::Uid(UID.to_vec())) {
                presented += 1;
                std::thread::sleep(Duration::from_millis(800));
                card.remove();
            }
            std::thread::sleep(Duration::from_millis(400));
        }
        presented
    })
}

#[test]
fn pcsc_reader_recovers_from_a_pcscd_restart_under_repeated_taps() {
    let mut pcscd = Pcscd::start();
    let d = TestDaemon::start_with(&format!(
        "{DOOR}\n[[reader]]\nname = \"masuk\"\ndoor = \"ruang-server\"\ndirection = \"in\"\nkind = \"pcsc\"\nmatch = \"Virtual PCD 00 00\"\nrepeat_window_ms = 0\n"
    ));
    eventually("the PC/SC reader online", Duration::from_secs(10), || {
        reader_state(&d) == "online"
    });
    d.grant("04A1B2C3D4E5F6", "iso14443");
    let stop = Arc::new(AtomicBool::new(false));
    let hand = tapping(stop.clone());
    eventually(
        "taps recorded before the fault",
        Duration::from_secs(15),
        || taps(&d).len() >= 2,
    );

    pcscd.kill();
    eventually("the outage is an alarm", Duration::from_secs(10), || {
        reader_offline_raised(&d)
    });
    assert_ne!(reader_state(&d), "online");
    // Down for a while, the hand still trying.
    std::thread::sleep(Duration::from_millis(1500));
    pcscd.restart();
    eventually("the reader online again", Duration::from_secs(15), || {
        reader_state(&d) == "online" && d.get_as("/healthz", None).body["status"] == "ok"
    });
    let at_recovery = taps(&d).len();
    eventually(
        "taps after recovery recorded",
        Duration::from_secs(20),
        || taps(&d).len() >= at_recovery + 3,
    );
    stop.store(true, Ordering::SeqCst);
    let presented = hand.join().unwrap();

    let all = taps(&d);
    assert!(
        all.iter()
            .all(|l| l["granted"] == true && l["credential"] == "iso14443:04A1B2C3D4E5F6"),
        "every read decided for the card: {all:?}"
    );
    // One line per presentation at most (a presentation cut by the restart may have none).
    assert!(
        all.len() <= presented,
        "{} lines, {presented} presentations",
        all.len()
    );
    assert!(alarm_lines(&d, "alarm") >= 1);
    eventually(
        "the clearing in the register",
        Duration::from_secs(5),
        || alarm_lines(&d, "alarm_cleared") >= 1,
    );
}

/// A small xorshift generator: the noise is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// `count` frames alternating a known and an unknown tag, each after up to 40 random bytes
/// (start and end bytes, hex digits and binary alike); returns the tags sent, in order.
fn noisy_frames(pty: &PtyPair, rng: &mut Rng, count: usize) -> Vec<&'static str> {
    let mut sent = Vec::new();
    for i in 0..count {
        let (id, name) = if i % 2 == 0 {
            ([0x0A, 0x1B, 0x2C, 0x3D, 0x4E], "em4100:0A1B2C3D4E")
        } else {
            ([0x0B, 0xAD, 0xCA, 0xFE, 0x01], "em4100:0BADCAFE01")
        };
        let noise = (rng.next() % 41) as usize;
        let mut bytes: Vec<u8> = (0..noise).map(|_| rng.next() as u8).collect();
        // A start byte in the noise half the time: a frame cut short by the real one.
        if i % 2 == 1 {
            bytes.extend(b"\x0212AB");
        }
        bytes.extend(rdm6300_frame(id));
        pty.write(&bytes);
        sent.push(name);
        std::thread::sleep(Duration::from_millis(20));
    }
    sent
}

#[test]
fn a_serial_reader_survives_noise_and_being_unplugged_and_replugged() {
    let dir = tempfile::tempdir().unwrap();
    let pty = PtyPair::new(dir.path());
    let d = TestDaemon::start_with(&format!(
        "{DOOR}\n[[reader]]\nname = \"masuk\"\ndoor = \"ruang-server\"\ndirection = \"in\"\nkind = \"serial\"\npath = {:?}\nprotocol = \"rdm6300\"\nrepeat_window_ms = 0\n",
        pty.reader
    ));
    eventually("the serial reader online", Duration::from_secs(10), || {
        reader_state(&d) == "online"
    });
    d.grant("0A1B2C3D4E", "em4100");
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut sent = noisy_frames(&pty, &mut rng, 20);
    eventually("every frame decided", Duration::from_secs(10), || {
        taps(&d).len() >= sent.len()
    });

    drop(pty); // socat killed: the reader's device is gone
    eventually("the outage is an alarm", Duration::from_secs(10), || {
        reader_offline_raised(&d)
    });
    let pty = PtyPair::new(dir.path());
    eventually("the reader back", Duration::from_secs(10), || {
        reader_state(&d) == "online" && d.get_as("/healthz", None).body["status"] == "ok"
    });
    sent.extend(noisy_frames(&pty, &mut rng, 10));
    eventually(
        "every frame after the replug decided",
        Duration::from_secs(10),
        || taps(&d).len() >= sent.len(),
    );

    let all = taps(&d);
    let got: Vec<(&str, bool)> = all
        .iter()
        .map(|l| (l["credential"].as_str().unwrap(), l["granted"] == true))
        .collect();
    let want: Vec<(&str, bool)> = sent
        .iter()
        .map(|c| (*c, *c == "em4100:0A1B2C3D4E"))
        .collect();
    assert_eq!(
        got, want,
        "exactly the valid frames, in order, none from the noise"
    );
    assert!(
        d.log().contains("frames that are not card reads"),
        "the noise is counted in the log"
    );
    let metrics = d.get("/metrics").body.as_str().unwrap().to_owned();
    let bad: f64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix("lawang_reader_bad_frames_total{reader=\"masuk\"")?
                .rsplit_once(' ')?
                .1
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    // Every second frame follows a start byte cut short; the random bytes add more.
    assert!(bad >= 5.0, "bad frames counted after the replug: {bad}");
    assert_eq!(alarm_lines(&d, "alarm"), 1);
    eventually(
        "the clearing in the register",
        Duration::from_secs(5),
        || alarm_lines(&d, "alarm_cleared") == 1,
    );
    assert_eq!(d.get_as("/healthz", None).body["status"], "ok");
}
