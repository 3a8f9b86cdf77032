//! The systemd notification protocol, against the real binary with a real datagram socket
//! as `$NOTIFY_SOCKET`: READY once it serves, WATCHDOG pings while the doors answer (and
//! not while a door controller is stuck), RELOADING/READY around SIGHUP, STOPPING at
//! SIGTERM.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually};

/// What the daemon sends to its notification socket.
struct Systemd {
    socket: UnixDatagram,
}

impl Systemd {
    fn bind(dir: &Path) -> (Systemd, String) {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        (Systemd { socket }, path.display().to_string())
    }

    /// The next message, or `None` if nothing came within `wait`.
    fn next(&self, wait: Duration) -> Option<String> {
        self.socket.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 1024];
        match self.socket.recv(&mut buf) {
            Ok(n) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(_) => None,
        }
    }

    /// Reads until a message starting with `prefix`; panics after 20 s.
    fn expect(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(m) = self.next(Duration::from_millis(200))
                && m.starts_with(prefix)
            {
                return m;
            }
        }
        panic!("no {prefix} from the daemon");
    }

    /// Every message waiting now.
    fn drain(&self) -> Vec<String> {
        let mut all = Vec::new();
        while let Some(m) = self.next(Duration::from_millis(1)) {
            all.push(m);
        }
        all
    }
}

fn env(notify: &str, watchdog_usec: u64) -> Vec<(&'static str, String)> {
    vec![
        ("NOTIFY_SOCKET", notify.to_owned()),
        ("WATCHDOG_USEC", watchdog_usec.to_string()),
    ]
}

#[test]
fn systemd_hears_ready_watchdog_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let (systemd, path) = Systemd::bind(dir.path());
    let mut d = TestDaemon::start_with_env(ONE_DOOR, &env(&path, 400_000));
    let ready = systemd.expect("READY=1");
    assert!(ready.contains("STATUS=running"), "{ready}");
    // The API answers by the time READY is sent.
    assert_eq!(d.get("/healthz").status, 200);
    systemd.expect("WATCHDOG=1");
    systemd.expect("WATCHDOG=1");

    d.signal("HUP");
    let reloading = systemd.expect("RELOADING=1");
    assert!(reloading.contains("\nMONOTONIC_USEC="), "{reloading}");
    systemd.expect("READY=1");

    assert!(d.stop().success());
    systemd.expect("STOPPING=1");
    assert!(d.log().contains("systemd watchdog enabled"), "{}", d.log());
}

/// The strike's unlock command signals that it started and then hangs until the test
/// releases it (or its directory is gone; the actuator's own timeout is 5 s): the door
/// controller is stuck in an await, as a hung actuator or register would leave it.
const HANGING_DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "command", unlock = ["/bin/sh", "-c", "touch \"$0.started\"; while [ ! -e \"$0.release\" ] && [ -d \"${0%/*}\" ]; do sleep 0.02; done", "@STRIKE@"], lock = ["/bin/true"] }

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
repeat_window_ms = 0
"#;

#[test]
fn the_watchdog_is_not_fed_while_a_door_controller_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let (systemd, path) = Systemd::bind(dir.path());
    // Pings every 100 ms (a third of the timeout).
    let d = TestDaemon::start_with_env(HANGING_DOOR, &env(&path, 300_000));
    systemd.expect("READY=1");
    systemd.expect("WATCHDOG=1");
    d.grant("0A0B0C0D", "iso14443");
    let strike = d.dir.path().join("strike.log");
    let started = strike.with_extension("log.started");
    let release = strike.with_extension("log.release");

    let tapping = {
        let base = d.base.clone();
        let token = d.token.clone();
        std::thread::spawn(move || {
            ureq::post(format!("{base}/api/v1/readers/masuk/tap"))
                .header("Authorization", format!("Bearer {token}"))
                .send_json(json!({ "uid": "0A0B0C0D" }))
                .unwrap()
                .body_mut()
                .read_json::<serde_json::Value>()
                .unwrap()
        })
    };
    eventually("the strike command hangs", Duration::from_secs(20), || {
        started.exists()
    });
    systemd.drain();
    // Ten ping intervals with the controller stuck: at most one ping, for an answer it
    // gave before the hang began.
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut pings = 0;
    while Instant::now() < deadline {
        if let Some(m) = systemd.next(Duration::from_millis(50))
            && m == "WATCHDOG=1"
        {
            pings += 1;
        }
    }
    assert!(pings <= 1, "{pings} watchdog pings while the door hung");
    assert!(
        d.log().contains("door controller does not answer"),
        "{}",
        d.log()
    );

    std::fs::write(&release, "").unwrap();
    let t = tapping.join().unwrap();
    assert_eq!(t["granted"], true, "{t}");
    systemd.expect("WATCHDOG=1");
    systemd.expect("WATCHDOG=1");
}
