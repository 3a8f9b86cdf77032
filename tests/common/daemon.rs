//! `TestDaemon`: runs `lawang serve` as a child process and talks to it over real HTTP.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_lawang");

/// One door with an in and an out simulated reader; no repeat window so tests may tap the
/// same card twice in a row.
pub const ONE_DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "command", unlock = ["/bin/sh", "-c", "echo unlocked >> \"$0\"", "@STRIKE@"], lock = ["/bin/sh", "-c", "echo locked >> \"$0\"", "@STRIKE@"] }

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
repeat_window_ms = 0

[[reader]]
name = "keluar"
door = "ruang-server"
direction = "out"
kind = "simulated"
repeat_window_ms = 0
"#;

pub struct TestDaemon {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub base: String,
    pub token: String,
    agent: ureq::Agent,
    /// Every token, PIN and key this daemon was sent or handed out through these helpers;
    /// on drop its logs must contain none of them (see [`find_secrets`]).
    secrets: Mutex<Vec<String>>,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub content_type: String,
}

impl TestDaemon {
    pub fn start() -> TestDaemon {
        Self::start_with(ONE_DOOR)
    }

    /// Starts the daemon with `extra` config (doors, readers) on 127.0.0.1:0.
    pub fn start_with(extra: &str) -> TestDaemon {
        Self::start_with_env(extra, &[])
    }

    /// [`TestDaemon::start_with`], with more environment variables for the daemon.
    pub fn start_with_env(extra: &str, env: &[(&str, String)]) -> TestDaemon {
        Self::start_full("", extra, env)
    }

    /// [`TestDaemon::start_with`], with more keys of the `[server]` table (`server`).
    pub fn start_with_server(server: &str, extra: &str) -> TestDaemon {
        Self::start_full(server, extra, &[])
    }

    /// [`TestDaemon::start_with_server`] and [`TestDaemon::start_with_env`] at once.
    pub fn start_full(server: &str, extra: &str, env: &[(&str, String)]) -> TestDaemon {
        Self::start_prepared(tempfile::tempdir().unwrap(), server, extra, env)
    }

    /// [`TestDaemon::start_with_env`] in a directory the test prepared (e.g. `data/` on a
    /// filesystem of its own).
    pub fn start_in(dir: tempfile::TempDir, extra: &str, env: &[(&str, String)]) -> TestDaemon {
        Self::start_prepared(dir, "", extra, env)
    }

    fn start_prepared(
        dir: tempfile::TempDir,
        server: &str,
        extra: &str,
        env: &[(&str, String)],
    ) -> TestDaemon {
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n{server}\n[store]\ndata_dir = {:?}\n{}",
            dir.path().join("data"),
            extra.replace(
                "@STRIKE@",
                &dir.path().join("strike.log").display().to_string()
            )
        );
        std::fs::write(dir.path().join("lawang.toml"), config).unwrap();
        let child = spawn_serve_env(dir.path(), env);
        let addr_file = dir.path().join("data/api.addr");
        let addr = wait_for(&addr_file, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("daemon did not start; log:\n{}", log(dir.path())));
        let token = std::fs::read_to_string(dir.path().join("data/initial-admin-token"))
            .unwrap()
            .trim()
            .to_owned();
        // No pooling: a connection the server closed after an early 401 must not be reused.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .build()
            .into();
        TestDaemon {
            dir,
            child: Some(child),
            base: format!("http://{}", addr.trim()),
            secrets: Mutex::new(vec![token.clone()]),
            token,
            agent,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("lawang.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log(&self) -> String {
        log(self.dir.path())
    }

    pub fn strike_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("strike.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub fn get(&self, path: &str) -> Reply {
        self.get_as(path, Some(&self.token))
    }

    pub fn get_as(&self, path: &str, token: Option<&str>) -> Reply {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        reply(req.call().unwrap())
    }

    /// The raw body (a PDF, an export) with the status and content type.
    pub fn get_bytes(&self, path: &str) -> (u16, String, Vec<u8>) {
        let mut r = self
            .agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .call()
            .unwrap();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = r
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap();
        (r.status().as_u16(), ct, body)
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.post_raw(path, Some(&self.token), &body.to_string())
    }

    pub fn post_raw(&self, path: &str, token: Option<&str>, body: &str) -> Reply {
        self.send_raw("post", path, token, body)
    }

    /// A secret the test sent another way (a CLI's standard input, a key file): the
    /// daemon's logs must not contain it.
    pub fn remember_secret(&self, secret: &str) {
        self.secrets.lock().unwrap().push(secret.to_owned());
    }

    /// Keeps the secrets a JSON document carries (`token`, `pin`, `key` fields).
    fn remember_secrets_in(&self, v: &Value) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v) {
                        ("token" | "pin" | "key", Value::String(s)) => self.remember_secret(s),
                        _ => self.remember_secrets_in(v),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| self.remember_secrets_in(v)),
            _ => {}
        }
    }

    /// Panics naming each remembered secret the daemon's logs contain.
    pub fn assert_no_secret_logged(&self) {
        let log = self.log();
        let secrets = self.secrets.lock().unwrap().clone();
        let found = find_secrets(&log, &secrets);
        assert!(
            found.is_empty(),
            "secrets in the daemon's log: {found:?}\n{log}"
        );
    }

    /// A body-carrying request with any method (`post`, `patch`).
    pub fn send_raw(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> Reply {
        if let Ok(v) = serde_json::from_str::<Value>(body) {
            self.remember_secrets_in(&v);
        }
        let url = format!("{}{path}", self.base);
        let req = match method {
            "patch" => self.agent.patch(url),
            "put" => self.agent.put(url),
            _ => self.agent.post(url),
        };
        let mut req = req.header("Content-Type", "application/json");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let r = reply(req.send(body).unwrap());
        self.remember_secrets_in(&r.body);
        r
    }

    /// A new person holding card `uid` with a right on `ruang-server` from 2020 to 2099;
    /// returns the person's id.
    pub fn grant(&self, uid: &str, technology: &str) -> i64 {
        let p = self.post("/api/v1/people", &serde_json::json!({ "name": "Budi" }));
        assert_eq!(p.status, 201, "{}", p.body);
        let r = self.post(
            "/api/v1/badges",
            &serde_json::json!({ "person_id": p.body["id"], "uid": uid, "technology": technology, "right": {
                "doors": ["ruang-server"], "valid_from": "2020-01-01T00:00:00Z",
                "valid_until": "2099-01-01T00:00:00Z" } }),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        p.body["id"].as_i64().unwrap()
    }

    /// Creates a token with `role` through the API and returns its secret.
    pub fn token_for(&self, role: &str) -> String {
        let r = self.post(
            "/api/v1/tokens",
            &serde_json::json!({ "name": format!("test {role}"), "role": role }),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.body["token"].as_str().unwrap().to_owned()
    }

    /// Runs a CLI command against this daemon's config and data directory.
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("--config")
            .arg(self.config_path())
            .args(args)
            .env_remove("LAWANG_TOKEN")
            .env_remove("LAWANG_URL")
            .output()
            .unwrap()
    }

    /// Rewrites the configuration file (`extra` as in [`TestDaemon::start_with`]).
    pub fn write_config(&self, extra: &str) {
        let config = format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n[store]\ndata_dir = {:?}\n{}",
            self.data_dir(),
            extra.replace(
                "@STRIKE@",
                &self.dir.path().join("strike.log").display().to_string()
            )
        );
        std::fs::write(self.config_path(), config).unwrap();
    }

    /// Sends a signal (`HUP`, `TERM`) to the daemon.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("daemon stopped").id();
        let ok = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{signal} {pid}");
    }

    /// SIGTERM, then waits for the orderly stop.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("daemon already stopped");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "daemon did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestDaemon {
    /// Stops the daemon and checks that its logs hold no secret, so every test that runs a
    /// daemon also tests that.
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !std::thread::panicking() {
            self.assert_no_secret_logged();
        }
    }
}

/// The secrets found in `log`. Secrets of digits only (PINs) count only where no digit, `.`
/// or `:` touches them, so a PIN is not "found" inside a timestamp or a longer number.
pub fn find_secrets<'a>(log: &str, secrets: &'a [String]) -> Vec<&'a str> {
    let mut found = Vec::new();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let numeric = secret.bytes().all(|b| b.is_ascii_digit());
        let hit = log.match_indices(secret.as_str()).any(|(i, _)| {
            if !numeric {
                return true;
            }
            let touches =
                |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || b".:".contains(b));
            !touches(i.checked_sub(1).and_then(|j| log.as_bytes().get(j)))
                && !touches(log.as_bytes().get(i + secret.len()))
        });
        if hit && !found.contains(&secret.as_str()) {
            found.push(secret.as_str());
        }
    }
    found
}

pub fn spawn_serve(dir: &Path) -> Child {
    spawn_serve_env(dir, &[])
}

pub fn spawn_serve_env(dir: &Path, env: &[(&str, String)]) -> Child {
    let log = std::fs::File::create(dir.join(format!("serve-{}.log", now_nanos()))).unwrap();
    Command::new(BIN)
        .arg("--config")
        .arg(dir.join("lawang.toml"))
        .arg("serve")
        .env("RUST_LOG", "debug")
        .env_remove("STATE_DIRECTORY")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .env_remove("JOURNAL_STREAM")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Every log the daemons of this directory wrote.
pub fn log(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("serve-") {
            out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    out
}

pub fn wait_for(path: &Path, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.trim().is_empty()
        {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Polls `check` until it holds (state that settles asynchronously, not a timing claim).
pub fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for: {what}");
}

fn reply(mut r: ureq::http::Response<ureq::Body>) -> Reply {
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        content_type,
    }
}
