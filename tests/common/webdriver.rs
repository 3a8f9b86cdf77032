//! The chromedriver side of [`super::browser::Browser`]: starting chromedriver and a
//! headless Chromium session, one W3C WebDriver command over HTTP, and stopping it all.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const POLL: Duration = Duration::from_millis(50);
/// The key under which W3C WebDriver returns an element reference.
pub const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver error reply: `error` is the W3C error code (`no such element`, ...).
#[derive(Debug)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// Runs chromedriver on a free port with its log in `dir`, and a new session whose profile
/// is `dir/profile`; returns chromedriver and the session's URL.
pub fn launch(agent: &ureq::Agent, dir: &Path, downloads: &Path) -> (Child, String) {
    for path in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(path).exists(),
            "{path} is missing: install the Debian packages chromium and chromium-driver \
             (scripts/test does)"
        );
    }
    let log = dir.join("chromedriver.log");
    // A free port may be taken between our probe and chromedriver's bind: try again.
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER}: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        if let Err(e) = wait_ready(agent, &base, &mut driver) {
            let _ = driver.kill();
            let _ = driver.wait();
            last = e;
            continue;
        }
        match new_session(agent, &base, dir, downloads) {
            Ok(id) => return (driver, format!("{base}/session/{id}")),
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                let tail = &log[log.len().saturating_sub(4000)..];
                panic!("chromedriver could not start Chromium: {e}\nchromedriver.log:\n{tail}")
            }
        }
    }
    panic!("chromedriver did not answer /status: {last}");
}

/// Ends the session, stops chromedriver, and waits up to 5 s for the Chromium processes of
/// `profile` to quit; returns (and kills) those that did not.
pub fn shut_down(
    agent: &ureq::Agent,
    session: &str,
    mut driver: Child,
    profile: &Path,
) -> Vec<u32> {
    let _ = request(agent, "DELETE", session, Value::Null);
    let _ = driver.kill();
    let _ = driver.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut left = chromium_pids(profile);
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(POLL);
        left = chromium_pids(profile);
    }
    for pid in &left {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    left
}

/// The pids of Chromium processes using `profile` (their command line names it).
pub fn chromium_pids(profile: &Path) -> Vec<u32> {
    let out = Command::new("pgrep")
        .args(["-f", "--"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .output()
        .unwrap_or_else(|e| panic!("pgrep: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Whether process `pid` still exists (and is not a zombie).
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_ready(agent: &ureq::Agent, base: &str, driver: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(status) = driver.try_wait().unwrap() {
            return Err(format!("chromedriver exited: {status}"));
        }
        if let Ok(v) = request(agent, "GET", &format!("{base}/status"), Value::Null)
            && v["ready"] == true
        {
            return Ok(());
        }
        std::thread::sleep(POLL);
    }
    Err("no answer within 20 s".into())
}

fn new_session(
    agent: &ureq::Agent,
    base: &str,
    dir: &Path,
    downloads: &Path,
) -> Result<String, WdError> {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ]
    .map(String::from)
    .into_iter()
    .chain([format!("--user-data-dir={}", dir.join("profile").display())])
    .collect::<Vec<_>>();
    let caps = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "implicit": 0, "pageLoad": 30_000, "script": 30_000 },
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": args,
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            },
        },
    } } });
    let v = request(agent, "POST", &format!("{base}/session"), caps)?;
    v["sessionId"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| WdError {
            error: "bad reply".into(),
            message: v.to_string(),
        })
}

/// One WebDriver command; its `value` or its error.
pub fn request(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Value,
) -> Result<Value, WdError> {
    let sent = match method {
        "GET" => agent.get(url).call(),
        "DELETE" => agent.delete(url).call(),
        _ => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    };
    let mut r = sent.map_err(|e| WdError {
        error: "http".into(),
        message: e.to_string(),
    })?;
    let status = r.status().as_u16();
    let text = r
        .body_mut()
        .with_config()
        .limit(1 << 28)
        .read_to_string()
        .map_err(|e| WdError {
            error: "http".into(),
            message: e.to_string(),
        })?;
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if status == 200 {
        Ok(value)
    } else {
        Err(WdError {
            error: value["error"].as_str().unwrap_or("unknown").to_owned(),
            message: value["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("HTTP {status}: {v}")),
        })
    }
}

pub fn by_css(css: &str) -> Value {
    json!({ "using": "css selector", "value": css })
}

/// `s` escaped for a double-quoted CSS string.
pub fn css_string(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn str_of(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => other.to_string(),
    }
}
