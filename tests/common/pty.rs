//! A real pseudo-terminal pair from socat: the daemon opens one end as its serial reader,
//! the test writes reader frames into the other.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PtyPair {
    child: Child,
    pub reader: PathBuf,
    feeder: PathBuf,
}

impl PtyPair {
    /// Panics, naming the Debian package, when socat is missing: never a silent skip.
    pub fn new(dir: &Path) -> PtyPair {
        let reader = dir.join("reader-tty");
        let feeder = dir.join("feeder-tty");
        let child = Command::new("socat")
            .arg(format!("pty,raw,echo=0,link={}", reader.display()))
            .arg(format!("pty,raw,echo=0,link={}", feeder.display()))
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run socat ({e}): install the Debian package socat (scripts/test installs it)"));
        let deadline = Instant::now() + Duration::from_secs(5);
        while !(reader.exists() && feeder.exists()) {
            assert!(
                Instant::now() < deadline,
                "socat did not create the pty links"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        PtyPair {
            child,
            reader,
            feeder,
        }
    }

    /// The far end: the test writes frames to it, or a peer process (an OSDP PD) opens it.
    pub fn feeder(&self) -> &Path {
        &self.feeder
    }

    pub fn write(&self, bytes: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.feeder)
            .unwrap();
        f.write_all(bytes).unwrap();
    }
}

impl PtyPair {
    /// Reads what the daemon wrote to its end until `want` bytes arrived or `limit` passed.
    pub fn read(&self, want: usize, limit: Duration) -> Vec<u8> {
        use std::io::Read;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&self.feeder)
            .unwrap();
        let deadline = Instant::now() + limit;
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while got.len() < want && Instant::now() < deadline {
            match f.read(&mut buf) {
                Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        got
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An RDM6300 frame for a 5-byte EM4100 ID: STX, 10 hex digits, XOR checksum, ETX.
pub fn rdm6300_frame(id: [u8; 5]) -> Vec<u8> {
    let sum = id.iter().fold(0u8, |a, b| a ^ b);
    let mut f = vec![0x02];
    f.extend(format!("{}{:02X}", hex::encode_upper(id), sum).into_bytes());
    f.push(0x03);
    f
}
