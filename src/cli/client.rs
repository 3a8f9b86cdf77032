//! A small blocking client for the admin API, used by the CLI commands.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use serde_json::Value;

use crate::daemon::{API_ADDR_FILE, INITIAL_TOKEN_FILE};

pub struct Client {
    agent: ureq::Agent,
    base: String,
    token: Option<String>,
}

impl Client {
    /// The daemon's address: `--url`, else the address the local daemon wrote in its data
    /// directory, else the configured listen address. The token: `--token`/`LAWANG_TOKEN`,
    /// else the initial admin token file if this user can read it.
    pub fn new(
        url: Option<String>,
        token: Option<String>,
        data_dir: &Path,
        listen: std::net::SocketAddr,
    ) -> Client {
        let base = url.unwrap_or_else(|| {
            let addr = std::fs::read_to_string(data_dir.join(API_ADDR_FILE))
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| listen.to_string());
            format!("http://{addr}")
        });
        let token = token.or_else(|| {
            std::fs::read_to_string(data_dir.join(INITIAL_TOKEN_FILE))
                .ok()
                .map(|t| t.trim().to_owned())
        });
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Long enough for an operator to fetch a card for the desk reader.
            .timeout_global(Some(crate::enrollment::MAX_WAIT + Duration::from_secs(30)))
            .build()
            .into();
        Client {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            token,
        }
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut resp = self.request_get(path, query)?;
        resp.body_mut()
            .read_json()
            .context("the daemon sent an unreadable answer")
    }

    pub fn post(&self, path: &str, body: &impl Serialize) -> anyhow::Result<Value> {
        let mut req = self.agent.post(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let resp = req.send_json(body).map_err(|e| self.unreachable(e))?;
        let mut resp = check(resp)?;
        if resp.status() == ureq::http::StatusCode::NO_CONTENT {
            return Ok(Value::Null);
        }
        resp.body_mut()
            .read_json()
            .context("the daemon sent an unreadable answer")
    }

    /// Copies a streamed body (an export) to `out`; returns the byte count. Shows the bytes
    /// received on standard error while it runs, when that is a terminal (a long export of a
    /// big register otherwise looks hung). No overall timeout: an export may take minutes.
    pub fn download(
        &self,
        path: &str,
        query: &[(&str, String)],
        out: &mut impl std::io::Write,
    ) -> anyhow::Result<u64> {
        let resp = self.request(path, query, false)?;
        let mut reader = resp.into_body().into_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut progress = Progress::new();
        let mut total = 0u64;
        loop {
            let n = reader
                .read(&mut buf)
                .context("the download was interrupted")?;
            if n == 0 {
                progress.done(total);
                return Ok(total);
            }
            out.write_all(&buf[..n])?;
            total += n as u64;
            progress.show(total);
        }
    }

    fn request_get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        self.request(path, query, true)
    }

    fn request(
        &self,
        path: &str,
        query: &[(&str, String)],
        timeout: bool,
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if !timeout {
            req = req.config().timeout_global(None).build();
        }
        for (k, v) in query {
            req = req.query(*k, v);
        }
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        check(req.call().map_err(|e| self.unreachable(e))?)
    }

    fn unreachable(&self, e: ureq::Error) -> anyhow::Error {
        anyhow!(
            "cannot reach the lawang daemon at {}: {e} (is `lawang serve` running?)",
            self.base
        )
    }
}

/// Bytes received so far, redrawn in place on a terminal at most five times a second.
struct Progress {
    tty: bool,
    started: std::time::Instant,
    drawn: Option<std::time::Instant>,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress {
            tty: std::io::stderr().is_terminal(),
            started: std::time::Instant::now(),
            drawn: None,
        }
    }

    fn show(&mut self, bytes: u64) {
        if !self.tty
            || self
                .drawn
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.drawn = Some(std::time::Instant::now());
        eprint!("\r{}", progress_line(bytes, self.started.elapsed()));
    }

    fn done(&mut self, bytes: u64) {
        if self.tty && self.drawn.is_some() {
            eprintln!("\r{}", progress_line(bytes, self.started.elapsed()));
        }
    }
}

/// `[=====>    ] 12.3 MB in 4 s`: the bar moves as bytes arrive (the size is not known in
/// advance: exports are streamed).
fn progress_line(bytes: u64, elapsed: Duration) -> String {
    let width = 20;
    let pos = (elapsed.as_millis() / 200) as usize % width;
    let bar: String = (0..width)
        .map(|i| {
            if i < pos {
                '='
            } else if i == pos {
                '>'
            } else {
                ' '
            }
        })
        .collect();
    format!(
        "[{bar}] {:.1} MB in {} s ",
        bytes as f64 / 1_000_000.0,
        elapsed.as_secs()
    )
}

/// Turns a problem response into an error carrying its `detail`.
fn check(
    mut resp: ureq::http::Response<ureq::Body>,
) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let detail = resp
        .body_mut()
        .read_json::<Value>()
        .ok()
        .and_then(|v| v.get("detail").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    if status == ureq::http::StatusCode::UNAUTHORIZED && detail.is_empty() {
        bail!("the daemon refused the token (set LAWANG_TOKEN)");
    }
    bail!(
        "{} {}: {detail}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
}
