//! A real OSDP Peripheral Device: `tests/osdp/pd.py` (libosdp from PyPI) in the project's
//! venv, on the far end of a pty. It prints every command it receives as a JSON line.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Pd {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<Value>>>,
}

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv/bin/python")
}

impl Pd {
    /// Starts the PD at `address` on `port`, with `scbk` (hex) if given. Panics, naming what
    /// to install, when the venv or libosdp is missing: never a silent skip.
    pub fn start(port: &Path, address: u8, scbk: Option<&str>) -> Pd {
        let python = python();
        let check = Command::new(&python)
            .args(["-c", "import osdp"])
            .output()
            .unwrap_or_else(|e| panic!("{} cannot run ({e}): {}", python.display(), INSTALL));
        assert!(
            check.status.success(),
            "libosdp is not importable in target/venv ({}): {INSTALL}",
            String::from_utf8_lossy(&check.stderr)
        );
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/osdp/pd.py");
        let mut cmd = Command::new(&python);
        cmd.arg(script)
            .arg("--port")
            .arg(port)
            .arg("--address")
            .arg(address.to_string());
        if let Some(key) = scbk {
            cmd.args(["--scbk", key, "--enforce-secure"]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the PD script: {e}"));
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        let pd = Pd {
            stdin: child.stdin.take(),
            child,
            lines,
        };
        pd.wait_for("the PD script is ready", Duration::from_secs(10), |v| {
            v["ready"] == true
        });
        pd
    }

    /// Presents a card: `bits` of `data` (hex, left-aligned) in osdp_RAW `format`
    /// ("wiegand" or "unspecified").
    pub fn card(&mut self, format: &str, bits: u16, data: &str) {
        self.send(&json!({ "card": { "format": format, "bits": bits, "data": data } }));
    }

    /// Keys pressed on the PD's keypad, e.g. `"4821#"`.
    pub fn keypad(&mut self, keys: &str) {
        self.send(&json!({ "keypad": keys }));
    }

    /// Asks the PD script for its `time.monotonic_ns()` (a `{"pong": ns}` line): the clock
    /// check of `benches/osdp.rs`.
    #[allow(dead_code)] // only the bench uses it
    pub fn ping(&mut self) {
        self.send(&json!({ "ping": true }));
    }

    /// Changes the PD's local status (tamper, power failure), which it reports as
    /// osdp_LSTATR.
    pub fn local_status(&mut self, tamper: bool, power: bool) {
        self.send(&json!({ "local_status": { "tamper": tamper, "power": power } }));
    }

    fn send(&mut self, msg: &Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{msg}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn lines(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    /// Commands the PD received, in order.
    pub fn commands(&self) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter_map(|v| v.get("command").cloned())
            .collect()
    }

    /// Waits until a printed line satisfies `check`; panics with every line seen.
    pub fn wait_for(&self, what: &str, limit: Duration, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = self.lines().into_iter().find(&check) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; PD printed: {:?}",
                self.lines()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the PD abruptly, as a cut cable or a dead reader would look.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Pd {
    fn drop(&mut self) {
        self.kill();
    }
}

const INSTALL: &str = "install the test venv: python3 -m venv target/venv && \
    target/venv/bin/pip install -r scripts/requirements-test.txt (scripts/test does this)";
