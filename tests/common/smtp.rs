//! `SmtpSink`: a real SMTP relay (aiosmtpd, `tests/smtp_sink.py`, in the project's venv) on
//! 127.0.0.1 that keeps every message it receives, for tests that check who was told what.
//!
//! ```ignore
//! use crate::common::daemon::{ONE_DOOR, TestDaemon};
//! use crate::common::smtp::SmtpSink;
//!
//! let sink = SmtpSink::start();
//! // `sink.config()` is the `[notify.smtp]` section pointing the daemon at the sink.
//! let d = TestDaemon::start_with(&format!("{ONE_DOOR}{}", sink.config()));
//! // ... make the daemon send something ...
//! let mail = sink.wait_for(|m| m.to == ["kasi@example.go.id"], Duration::from_secs(10));
//! assert_eq!(mail.subject, "Permintaan akses menunggu verifikasi Anda");
//! assert!(mail.body.contains("nomor 7"));
//! ```
//!
//! `subject` and `body` are decoded text (UTF-8 survives the round trip), `to` holds the
//! envelope recipients. `messages()` returns all so far, oldest first; `wait_for` returns
//! the first matching message or panics listing every message received (state that
//! settles asynchronously, not a timing claim). A missing venv or aiosmtpd makes the test
//! fail with what to install: never a silent skip.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One message as the relay received it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The decoded `Subject`.
    pub subject: String,
    /// The decoded text body.
    pub body: String,
    /// The user name the client logged in with (sinks started with a login only).
    pub login: Option<String>,
}

pub struct SmtpSink {
    pub port: u16,
    child: Child,
    stdout: BufReader<ChildStdout>,
    dir: tempfile::TempDir,
}

const INSTALL: &str = "the SMTP sink needs the test venv with aiosmtpd: \
    /usr/bin/python3 -m venv target/venv && target/venv/bin/pip install -r scripts/requirements-test.txt \
    (scripts/test does this)";

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv/bin/python")
}

impl SmtpSink {
    /// A relay accepting mail on a free port.
    pub fn start() -> SmtpSink {
        Self::spawn(&[])
    }

    /// A relay that asks for AUTH (PLAIN or LOGIN, no TLS: loopback only) and accepts only
    /// `user` / `password`.
    pub fn start_with_login(user: &str, password: &str) -> SmtpSink {
        Self::spawn(&["--user", user, "--password", password])
    }

    /// A relay that is down: its port is held but connections are refused until
    /// [`SmtpSink::come_up`].
    pub fn start_down() -> SmtpSink {
        let mut sink = Self::spawn_raw(&["--down"]);
        sink.port = sink.read_port();
        sink
    }

    /// Brings a relay started with [`SmtpSink::start_down`] up on the same port.
    pub fn come_up(&mut self) {
        let status = Command::new("kill")
            .args(["-USR1", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "cannot signal the SMTP sink");
        self.expect_line("up");
    }

    /// The `[notify.smtp]` section for a daemon that sends through this relay.
    pub fn config(&self) -> String {
        format!(
            "\n[notify.smtp]\nhost = \"127.0.0.1\"\nport = {}\nfrom = \"Lawang <lawang@lawang.test>\"\ntls = \"none\"\n",
            self.port
        )
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        std::fs::read_to_string(self.out())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("sink line {l:?}: {e}")))
            .collect()
    }

    /// The first message matching `check`, waiting up to `limit` for it; on timeout the
    /// panic lists every message received.
    pub fn wait_for(&self, check: impl Fn(&Mail) -> bool, limit: Duration) -> Mail {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(m) = self.messages().into_iter().find(|m| check(m)) {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for a matching mail; received: {:#?}\nsink log:\n{}",
                self.messages(),
                std::fs::read_to_string(self.dir.path().join("sink.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("mail.jsonl")
    }

    fn spawn(args: &[&str]) -> SmtpSink {
        let mut sink = Self::spawn_raw(args);
        sink.port = sink.read_port();
        sink.expect_line("up");
        sink
    }

    fn spawn_raw(args: &[&str]) -> SmtpSink {
        let python = python();
        let check = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .output()
            .unwrap_or_else(|e| panic!("{} cannot run ({e}): {INSTALL}", python.display()));
        assert!(
            check.status.success(),
            "aiosmtpd is not importable ({}): {INSTALL}",
            String::from_utf8_lossy(&check.stderr)
        );
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("sink.log")).unwrap();
        let mut child = Command::new(&python)
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py"))
            .arg("--out")
            .arg(dir.path().join("mail.jsonl"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the SMTP sink: {e}"));
        let stdout = BufReader::new(child.stdout.take().unwrap());
        SmtpSink {
            port: 0,
            child,
            stdout,
            dir,
        }
    }

    fn read_port(&mut self) -> u16 {
        let line = self.line();
        line.strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink said {line:?}, not its port"))
    }

    fn expect_line(&mut self, want: &str) {
        let line = self.line();
        assert_eq!(line, want, "the SMTP sink did not come up");
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "the SMTP sink stopped: {}",
            std::fs::read_to_string(self.dir.path().join("sink.log")).unwrap_or_default()
        );
        line.trim().to_owned()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
