//! Support shared by the unit tests: a real pseudo-terminal pair from socat, the way serial
//! readers and relays are tested without hardware.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tokio::time::{sleep, timeout};
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Two linked ptys: `device` is opened by the code under test, `other` by the test.
pub(crate) struct SocatPty {
    pub device: PathBuf,
    pub other: PathBuf,
    socat: Child,
}

impl SocatPty {
    /// Panics, naming the Debian package, when socat is missing: never a silent skip.
    pub async fn start(dir: &Path, device: &str, other: &str) -> SocatPty {
        let (device, other) = (dir.join(device), dir.join(other));
        let spawned = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", device.display()))
            .arg(format!("pty,raw,echo=0,link={}", other.display()))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let socat = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`socat` is not installed and these tests need it for pseudo-terminals: run \
                 scripts/test (it installs the Debian package `socat`) or `apt-get install -y socat`"
            ),
            Err(e) => panic!("cannot start socat: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(device.exists() && other.exists()) {
            assert!(
                Instant::now() < deadline,
                "socat did not create {} and {} within 5 s",
                device.display(),
                other.display()
            );
            sleep(Duration::from_millis(10)).await;
        }
        SocatPty {
            device,
            other,
            socat,
        }
    }

    /// The test's end of the line.
    pub fn open_other(&self, baud: u32) -> SerialStream {
        tokio_serial::new(self.other.to_string_lossy(), baud)
            .open_native_async()
            .expect("open the test's end of the pty")
    }

    /// Unplugs the device: SIGTERM lets socat remove its links, as udev removes the link of
    /// an adapter that was pulled.
    pub async fn unplug(mut self) {
        let pid = self.socat.id().expect("socat is running") as libc::pid_t;
        // SAFETY: signalling our own child process by its id.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        timeout(Duration::from_secs(5), self.socat.wait())
            .await
            .expect("socat exits on SIGTERM")
            .expect("wait for socat");
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.device.exists() || self.other.exists() {
            assert!(Instant::now() < deadline, "socat left its links behind");
            sleep(Duration::from_millis(10)).await;
        }
    }
}
