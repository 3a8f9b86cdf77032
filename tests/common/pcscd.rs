//! A private `pcscd` with only the vpcd driver, for tests that need a real PC/SC stack.
//!
//! pcscd runs in the foreground as a child of the test process, with its own
//! reader.conf.d (a temporary directory holding only vpcd's entry) and its debug log in
//! that directory. pcsc-lite 1.9.9 (Debian 12) reads `PCSCLITE_CSOCK_NAME` only in the
//! client library; the daemon always serves `/run/pcscd/pcscd.comm`, so the tests use the
//! system socket and refuse to start when a pcscd they did not start is running.
//!
//! vpcd's TCP ports are fixed, so at most one such pcscd may run at a time: [`Pcscd`]
//! holds a process-wide lock for its whole life, which also serialises the PC/SC tests
//! against each other while the other integration tests run in parallel.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::vpcd::{SLOT_0, SLOT_1};

pub const PCSCD: &str = "/usr/sbin/pcscd";
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
const PID_FILE: &str = "/run/pcscd/pcscd.pid";
/// In the config directory name, to recognise a pcscd left behind by an aborted run.
const MARKER: &str = "lawang-test-pcscd";
const READY_WITHIN: Duration = Duration::from_secs(10);

static VPCD_PORTS: Mutex<()> = Mutex::new(());

pub struct Pcscd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    _ports: MutexGuard<'static, ()>,
}

impl Pcscd {
    /// Starts pcscd and waits until both vpcd readers are listed. Panics, naming the
    /// Debian package, when pcscd or vpcd is not installed: these tests must never pass
    /// by skipping.
    pub fn start() -> Pcscd {
        let ports = VPCD_PORTS.lock().unwrap_or_else(PoisonError::into_inner);
        require(PCSCD, "pcscd");
        require(VPCD_DRIVER, "vsmartcard-vpcd");
        stop_leftover_or_refuse_foreign();
        let dir = tempfile::Builder::new()
            .prefix(MARKER)
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let conf = dir.path().join("reader.conf.d");
        std::fs::create_dir(&conf)
            .and_then(|()| {
                std::fs::write(
                    conf.join("vpcd"),
                    format!(
                        "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x{port:04X}\n\
                     LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{port:04X}\n",
                        port = super::vpcd::SLOT_0.port
                    ),
                )
            })
            .unwrap_or_else(|e| panic!("cannot write the vpcd reader.conf: {e}"));
        let mut pcscd = Pcscd {
            child: None,
            dir,
            _ports: ports,
        };
        pcscd.spawn();
        pcscd
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("pcscd.log")
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .and_then(|out| Ok((out.try_clone()?, out)))
            .unwrap_or_else(|e| panic!("cannot open the pcscd log: {e}"));
        let child = Command::new(PCSCD)
            .args(["--foreground", "--debug", "--apdu", "--config"])
            .arg(self.dir.path().join("reader.conf.d"))
            .stdin(Stdio::null())
            .stdout(log.0)
            .stderr(log.1)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {PCSCD}: {e}"));
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("pcscd exited at start ({status}); its log:\n{}", self.log());
            }
            let readers = ::pcsc::Context::establish(::pcsc::Scope::User)
                .and_then(|ctx| ctx.list_readers_owned())
                .unwrap_or_default();
            let listed = |name: &str| readers.iter().any(|r| r.to_string_lossy() == name);
            if listed(SLOT_0.reader) && listed(SLOT_1.reader) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "pcscd did not list {:?} and {:?} within {READY_WITHIN:?} (listed: {readers:?}); \
                     its log:\n{}",
                    SLOT_0.reader,
                    SLOT_1.reader,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills pcscd with SIGKILL, as a crash: no clean-up on its side.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts pcscd again after [`Pcscd::kill`]; returns once the readers are listed.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// pcscd's debug log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// Stops pcscd with SIGTERM so it removes its socket and pid file.
    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) on our own child's pid, which has not been reaped yet.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Pcscd {
    fn drop(&mut self) {
        self.terminate();
    }
}

fn require(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} not found: install the Debian package `{package}` \
         (apt-get install -y pcscd vsmartcard-vpcd libpcsclite-dev)"
    );
}

/// A pcscd from an aborted test run (recognised by its config path) is stopped; any
/// other pcscd owns the socket and vpcd's ports, so the tests cannot run beside it.
fn stop_leftover_or_refuse_foreign() {
    let Ok(pid) = std::fs::read_to_string(PID_FILE) else {
        return;
    };
    let Ok(pid) = pid.trim().parse::<libc::pid_t>() else {
        return;
    };
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return; // stale pid file: pcscd cleans it up itself
    };
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    if !cmdline.contains("pcscd") {
        return;
    }
    assert!(
        cmdline.contains(MARKER),
        "another pcscd (pid {pid}: {cmdline}) is running; the PC/SC tests start their own with \
         only vpcd. Stop it first (e.g. `systemctl stop pcscd.socket pcscd.service`)."
    );
    // SAFETY: kill(2) with a pid read from pcscd's pid file, checked to be a test pcscd.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(3);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}
