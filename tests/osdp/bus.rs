//! Several PDs on one RS-485 bus, each with its own reader.

use std::time::{Duration, Instant};

use super::{DOOR, KEY, taps, wiegand26};
use crate::common::daemon::{TestDaemon, eventually};
use crate::common::osdp_pd::Pd;
use crate::common::pty::PtyPair;

/// Issue "several PD addresses on one bus": two libosdp PDs (one on the secure channel, one
/// plain) behind `tests/osdp/bus.py`, which fans the CP's bytes out to both and merges their
/// replies, as a half-duplex RS-485 line does.
#[test]
fn several_pd_addresses_on_one_bus() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["cp", "pd1", "pd2"] {
        std::fs::create_dir(dir.path().join(side)).unwrap();
    }
    let cp_side = PtyPair::new(&dir.path().join("cp"));
    let pd1_side = PtyPair::new(&dir.path().join("pd1"));
    let pd2_side = PtyPair::new(&dir.path().join("pd2"));
    let key_file = dir.path().join("masuk.scbk");
    std::fs::write(&key_file, KEY).unwrap();
    let mut pd1 = Pd::start(pd1_side.feeder(), 1, Some(KEY));
    let mut pd2 = Pd::start(pd2_side.feeder(), 2, None);
    let mut relay = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/osdp/bus.py"))
        .arg(cp_side.feeder())
        .arg(&pd1_side.reader)
        .arg(&pd2_side.reader)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = [0u8; 5];
    std::io::Read::read_exact(relay.stdout.as_mut().unwrap(), &mut ready).unwrap();
    let reader = |name: &str, direction: &str, address: u8, security: &str| {
        format!(
            "[[reader]]\nname = {name:?}\ndoor = \"ruang-server\"\ndirection = {direction:?}\n\
             kind = \"osdp\"\npath = {:?}\nbaud = 115200\naddress = {address}\nrepeat_window_ms = 0\n{security}\n",
            cp_side.reader
        )
    };
    let d = TestDaemon::start_with(&format!(
        "{DOOR}\n{}{}",
        reader("masuk", "in", 1, &format!("scbk_file = {key_file:?}")),
        reader("keluar", "out", 2, "secure = false"),
    ));
    let state = |name: &str| {
        let readers = d.get("/api/v1/readers").body;
        let r = readers
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no reader {name}: {readers}"));
        r["status"]["state"].as_str().unwrap_or("").to_owned()
    };
    eventually("both PDs come online", Duration::from_secs(10), || {
        state("masuk") == "online" && state("keluar") == "online"
    });
    pd1.wait_for("PD 1's secure channel", Duration::from_secs(5), |v| {
        v["sc_active"] == true
    });

    d.grant("7BB26E", "wiegand");
    pd1.card("wiegand", 26, &wiegand26(123, 45678));
    eventually("the card at PD 1", Duration::from_secs(5), || {
        taps(&d).len() == 1
    });
    pd2.card("wiegand", 26, &wiegand26(123, 45678));
    eventually("the card at PD 2", Duration::from_secs(5), || {
        taps(&d).len() == 2
    });
    let lines = taps(&d);
    assert_eq!(
        (lines[1]["reader"].as_str(), lines[1]["direction"].as_str()),
        (Some("masuk"), Some("in")),
        "{}",
        lines[1]
    );
    assert_eq!(
        (lines[0]["reader"].as_str(), lines[0]["direction"].as_str()),
        (Some("keluar"), Some("out")),
        "{}",
        lines[0]
    );
    // Each PD's decision is shown on that PD: the green LED goes to both, encrypted to 1.
    for pd in [&pd1, &pd2] {
        pd.wait_for("a green LED", Duration::from_secs(5), |v| {
            v["command"]["on_color"] == 2
        });
    }

    // PD 2 dies: only its reader goes offline; PD 1 keeps reading.
    pd2.kill();
    eventually("keluar goes offline", Duration::from_secs(5), || {
        state("keluar") == "offline"
    });
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        assert_eq!(state("masuk"), "online");
        std::thread::sleep(Duration::from_millis(50));
    }
    let presented = Instant::now();
    pd1.card("wiegand", 26, &wiegand26(123, 45678));
    eventually(
        "a card at PD 1 with PD 2 offline",
        Duration::from_secs(5),
        || taps(&d).len() == 3,
    );
    eprintln!(
        "osdp bus: card at PD 1 to register line {} ms with PD 2 offline",
        presented.elapsed().as_millis()
    );
    assert_eq!(taps(&d)[0]["reader"], "masuk");
    assert_eq!(state("masuk"), "online");
    let _ = relay.kill();
    let _ = relay.wait();
}
