//! The relay actuator on real pseudo-terminals: `socat` links two ptys, the actuator opens
//! one end as the relay's tty and the test reads what arrives on the other.

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::timeout;
use tokio_serial::SerialStream;

use super::*;
use crate::config::{ActuatorConfig, DoorConfig, FailMode};
use crate::door::actuator::build;

const LCUS1_ON: &str = "A0 01 01 A2";
const LCUS1_OFF: &str = "A0 01 00 A1";

type Pty = crate::testing::SocatPty;

/// `device` (relay) for the code under test, `other` (board) for the test.
async fn linked_ptys(dir: &Path) -> Pty {
    Pty::start(dir, "relay", "board").await
}

/// Reads exactly `n` bytes from the board end, or fails after 2 s.
async fn received(board: &mut SerialStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    timeout(Duration::from_secs(2), board.read_exact(&mut buf))
        .await
        .expect("relay bytes within 2 s")
        .unwrap();
    buf
}

fn lcus1(path: &Path) -> SerialRelay {
    SerialRelay::new(path, 9600, LCUS1_ON, LCUS1_OFF).unwrap()
}

#[tokio::test]
async fn unlock_and_lock_send_exactly_the_configured_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let mut board = pty.open_other(9600);
    let relay = lcus1(&pty.device);

    relay.set(Strike::Unlocked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x01, 0xA2]);
    relay.set(Strike::Locked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x00, 0xA1]);
    // Idempotent: the same command again is just sent again.
    relay.set(Strike::Locked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x00, 0xA1]);
}

#[tokio::test]
async fn a_replugged_relay_obeys_the_next_command() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let mut board = pty.open_other(9600);
    let relay = lcus1(&pty.device);
    relay.set(Strike::Locked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x00, 0xA1]);
    drop(board);

    pty.unplug().await;
    let pty = linked_ptys(dir.path()).await;
    let mut board = pty.open_other(9600);

    // The port it holds is dead; the same command reopens the path and gets through.
    relay.set(Strike::Unlocked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x01, 0xA2]);
    relay.set(Strike::Locked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x00, 0xA1]);
}

#[tokio::test]
async fn an_unplugged_relay_fails_each_command_until_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let relay = lcus1(&pty.device);
    let path = pty.device.clone();
    let board = pty.open_other(9600);
    relay.set(Strike::Locked).await.unwrap();
    drop(board);
    pty.unplug().await;

    for strike in [Strike::Unlocked, Strike::Locked] {
        let err = relay.set(strike).await.unwrap_err();
        assert!(
            matches!(&err, ActuatorError::Relay(RelayError::Open { path: p, .. }) if *p == path),
            "{err:?}"
        );
    }

    let pty = linked_ptys(dir.path()).await;
    let mut board = pty.open_other(9600);
    relay.set(Strike::Locked).await.unwrap();
    assert_eq!(received(&mut board, 4).await, [0xA0, 0x01, 0x00, 0xA1]);
}

#[tokio::test]
async fn a_relay_missing_at_start_builds_and_reports_on_use() {
    let dir = tempfile::tempdir().unwrap();
    let door = DoorConfig {
        name: "ruang server".into(),
        unlock: Duration::from_secs(5),
        actuator: ActuatorConfig::SerialRelay {
            path: dir.path().join("lawang-relay"),
            baud: 9600,
            unlock: LCUS1_ON.into(),
            lock: LCUS1_OFF.into(),
        },
        fail: FailMode::Secure,
        contact: None,
        exit_button: None,
        held_open: Duration::from_secs(30),
        pin: crate::config::PinRule::Never,
        anti_passback: crate::config::AntiPassback::Off,
    };
    let relay = build(&door).unwrap();
    let err = relay.set(Strike::Locked).await.unwrap_err();
    assert!(err.to_string().contains("lawang-relay"), "{err}");
}

#[test]
fn a_command_that_is_not_hex_is_refused_when_built() {
    let err = match SerialRelay::new(Path::new("/dev/null"), 9600, "A0 01 0G A2", LCUS1_OFF) {
        Ok(_) => panic!("a bad command must not build"),
        Err(e) => e,
    };
    assert!(matches!(err, RelayError::Bytes(_)), "{err:?}");
}

/// A board that stops reading (a wedged adapter): the write times out instead of hanging
/// the door controller.
#[tokio::test]
async fn a_write_that_cannot_finish_times_out() {
    // SAFETY: plain libc pty calls on a descriptor this test owns.
    let (master, slave) = unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0);
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 64];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let slave = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_string_lossy()
            .into_owned();
        (master, slave)
    };
    // Far more than a tty's buffer, and nobody reads the master end.
    let flood = "55 ".repeat(256 * 1024);
    let relay = SerialRelay::new(Path::new(&slave), 9600, &flood, LCUS1_OFF).unwrap();
    let started = std::time::Instant::now();
    let err = relay.set(Strike::Unlocked).await.unwrap_err();
    let took = started.elapsed();
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(master) };
    assert!(
        matches!(err, ActuatorError::Relay(RelayError::Timeout { .. })),
        "{err:?}"
    );
    // One timed-out try on the old port at most, then one on a fresh one.
    assert!(
        took < WRITE_TIMEOUT * 2 + Duration::from_millis(500),
        "{took:?}"
    );
}

/// Every profile in `firmware-config/doors/` is a `[[door]]` block the daemon accepts, and
/// the LCUS-1 one sends the bytes its protocol defines.
#[test]
fn door_profiles_parse_as_daemon_config() {
    use crate::config::Config;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-config/doors");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let (config, _) = Config::parse(&text, &name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(config.doors.len(), 1, "{name}: one [[door]] per profile");
        let door = &config.doors[0];
        match (name.as_str(), &door.actuator) {
            ("lcus-1-usb-relay.toml", ActuatorConfig::SerialRelay { unlock, lock, .. }) => {
                assert_eq!(relay_bytes(unlock).unwrap(), [0xA0, 0x01, 0x01, 0xA2]);
                assert_eq!(relay_bytes(lock).unwrap(), [0xA0, 0x01, 0x00, 0xA1]);
            }
            ("maglock-12v-fail-safe.toml", ActuatorConfig::Gpio { .. }) => {
                assert_eq!(door.fail, FailMode::Safe, "{name}");
            }
            (_, ActuatorConfig::Gpio { .. }) => {
                assert_eq!(door.fail, FailMode::Secure, "{name}");
                let contact = door.contact.as_ref().expect("a door contact");
                let button = door.exit_button.as_ref().expect("an exit button");
                // Reed switch to ground, closed while shut: HIGH = open = active.
                assert!(!contact.active_low, "{name}");
                assert!(button.active_low, "{name}");
            }
            (_, other) => panic!("{name}: unexpected actuator {other:?}"),
        }
        seen.push(name);
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            "gpio-relay-hat.toml",
            "lcus-1-usb-relay.toml",
            "maglock-12v-fail-safe.toml",
            "strike-12v-fail-secure.toml",
        ]
    );
}
