//! `Browser`: Debian's headless Chromium driven through chromedriver over the W3C WebDriver
//! protocol, synchronously, for end-to-end tests of the operator pages.
//!
//! Every lookup waits (a bounded poll, [`WAIT`]) because the pages update live; every failure
//! panics naming the page's URL and the selector. A missing `chromium` or `chromedriver` is a
//! failure, never a skip: CI installs both (scripts/test).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use super::webdriver::{self, ELEMENT_KEY, POLL, WdError, by_css, css_string, request, str_of};
pub use super::webdriver::{chromium_pids, process_alive};

/// How long a lookup, a text or a download is waited for.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Browser {
    driver: Option<Child>,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    agent: ureq::Agent,
    /// Holds `profile/` (the user data dir), `downloads/` and `chromedriver.log`.
    dir: tempfile::TempDir,
    /// Downloads already handed out by [`Browser::wait_for_download`].
    taken: RefCell<Vec<PathBuf>>,
}

/// One element found by a CSS selector (the selector is kept for messages).
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
    selector: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub http_only: bool,
    pub secure: bool,
    /// `Strict`, `Lax` or `None` as chromedriver reports it.
    pub same_site: String,
}

impl Browser {
    /// Starts chromedriver on a free port and a new headless Chromium session with a fresh
    /// profile and its own download directory.
    pub fn start() -> Browser {
        let dir = tempfile::tempdir().unwrap();
        let downloads = dir.path().join("downloads");
        std::fs::create_dir(&downloads).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let (driver, session) = webdriver::launch(&agent, dir.path(), &downloads);
        let browser = Browser {
            driver: Some(driver),
            session,
            agent,
            dir,
            taken: RefCell::new(Vec::new()),
        };
        browser.allow_downloads(&downloads);
        browser
    }

    /// Downloads land in our directory without a prompt. chromedriver 156 already does this
    /// in headless mode from the `download.default_directory` preference; the DevTools
    /// command makes it explicit rather than depend on that.
    fn allow_downloads(&self, downloads: &Path) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Browser.setDownloadBehavior", "params": {
                "behavior": "allow", "downloadPath": downloads, "eventsEnabled": false } }),
        );
    }

    pub fn download_dir(&self) -> PathBuf {
        self.dir.path().join("downloads")
    }

    /// The user data dir of this browser's Chromium (unique, so it names its processes).
    pub fn profile_dir(&self) -> PathBuf {
        self.dir.path().join("profile")
    }

    /// The chromedriver process id, while it runs.
    pub fn driver_pid(&self) -> u32 {
        self.driver.as_ref().map(Child::id).unwrap_or(0)
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    pub fn refresh(&self) {
        self.cmd("POST", "/refresh", json!({}));
    }

    pub fn back(&self) {
        self.cmd("POST", "/back", json!({}));
    }

    pub fn current_url(&self) -> String {
        str_of(self.cmd("GET", "/url", Value::Null))
    }

    pub fn title(&self) -> String {
        str_of(self.cmd("GET", "/title", Value::Null))
    }

    pub fn page_source(&self) -> String {
        str_of(self.cmd("GET", "/source", Value::Null))
    }

    /// The first element matching `css`, waited for.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.wait_for(css)
    }

    /// Every element matching `css` now (no wait: an empty list is an answer).
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self
            .try_cmd("POST", "/elements", by_css(css))
            .unwrap_or_else(|e| self.fail(&format!("find_all({css:?}): {e}")));
        found
            .as_array()
            .map(|a| a.iter().map(|v| self.element(v, css)).collect())
            .unwrap_or_default()
    }

    /// Whether an element matches `css` now (no wait).
    pub fn exists(&self, css: &str) -> bool {
        self.try_find(css).is_some()
    }

    /// Waits until an element matches `css` and returns it.
    pub fn wait_for(&self, css: &str) -> Element<'_> {
        let mut found = None;
        self.poll(&format!("an element {css:?}"), || {
            found = self.try_find(css);
            found.is_some()
        });
        found.unwrap()
    }

    /// Waits until no element matches `css`.
    pub fn wait_gone(&self, css: &str) {
        self.poll(&format!("no element {css:?}"), || !self.exists(css));
    }

    /// Waits until the text of the first element matching `css` contains `needle`; returns
    /// that text. The element is looked up again each time (live pages replace elements).
    pub fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let mut last = None;
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            // A stale element (replaced by a live update) is looked up again.
            if let Some(e) = self.try_find(css)
                && let Ok(t) = e.try_cmd("GET", "text", Value::Null).map(str_of)
            {
                if t.contains(needle) {
                    return t;
                }
                last = Some(t);
            }
            std::thread::sleep(POLL);
        }
        self.fail(&format!(
            "timed out after {WAIT:?} waiting for text {needle:?} in {css:?}; last text: {last:?}"
        ))
    }

    pub fn text(&self, css: &str) -> String {
        self.retry(css, "text", |e| {
            e.try_cmd("GET", "text", Value::Null).map(str_of)
        })
    }

    pub fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.retry(css, "attribute", |e| {
            let v = e.try_cmd("GET", &format!("attribute/{name}"), Value::Null)?;
            Ok(v.as_str().map(str::to_owned))
        })
    }

    /// Clears the field `css` and types `text` into it.
    pub fn fill(&self, css: &str, text: &str) {
        self.retry(css, "fill", |e| {
            e.try_cmd("POST", "clear", json!({}))?;
            e.try_cmd("POST", "value", json!({ "text": text }))
        });
    }

    /// Chooses the option with value `option_value` of the `<select>` `css`.
    pub fn select(&self, css: &str, option_value: &str) {
        let e = self.find(css);
        let option = format!("option[value=\"{}\"]", css_string(option_value));
        let found = self
            .try_cmd(
                "POST",
                &format!("/element/{}/element", e.id),
                by_css(&option),
            )
            .unwrap_or_else(|err| self.fail(&format!("select({css:?}): no {option}: {err}")));
        self.element(&found, &option).click();
        let now = e.property("value");
        if now.as_str() != Some(option_value) {
            self.fail(&format!(
                "select({css:?}, {option_value:?}): the value is {now}"
            ));
        }
    }

    pub fn click(&self, css: &str) {
        self.retry(css, "click", |e| e.try_cmd("POST", "click", json!({})));
    }

    /// Submits the form `css` as a click on its submit button would (validation included).
    pub fn submit_form(&self, css: &str) {
        let form = self.find(css);
        self.execute("arguments[0].requestSubmit()", &[form.to_json()]);
    }

    /// Runs `js` in the page (`arguments[i]` are `args`; elements via [`Element::to_json`]).
    pub fn execute(&self, js: &str, args: &[Value]) -> Value {
        self.try_cmd(
            "POST",
            "/execute/sync",
            json!({ "script": js, "args": args }),
        )
        .unwrap_or_else(|e| self.fail(&format!("script failed: {e}\n{js}")))
    }

    /// Runs `js`, which calls `arguments[arguments.length - 1](result)` when done.
    pub fn execute_async(&self, js: &str, args: &[Value]) -> Value {
        self.try_cmd(
            "POST",
            "/execute/async",
            json!({ "script": js, "args": args }),
        )
        .unwrap_or_else(|e| self.fail(&format!("async script failed: {e}\n{js}")))
    }

    /// Sends a request from the page with its own cookies (a forged form post from within
    /// the logged-in browser) and returns the status. `path` is relative to the page.
    /// Redirects are not followed: a redirect answer reads as 0 (fetch's opaque redirect).
    pub fn fetch_status(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        content_type: Option<&str>,
    ) -> u16 {
        let js = "const [path, method, body, type, done] = arguments;
            const headers = type === null ? {} : { 'Content-Type': type };
            fetch(path, { method, body, headers, credentials: 'same-origin', redirect: 'manual' })
                .then(r => done(r.status), e => done('fetch failed: ' + e));";
        let r = self.execute_async(
            js,
            &[json!(path), json!(method), json!(body), json!(content_type)],
        );
        match r.as_u64() {
            Some(s) => s as u16,
            None => self.fail(&format!("fetch_status({method} {path}): {r}")),
        }
    }

    /// The cookies of the current page's origin, with their flags.
    pub fn cookies(&self) -> Vec<Cookie> {
        let v = self.cmd("GET", "/cookie", Value::Null);
        v.as_array()
            .into_iter()
            .flatten()
            .map(|c| Cookie {
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                value: c["value"].as_str().unwrap_or_default().to_owned(),
                http_only: c["httpOnly"].as_bool().unwrap_or(false),
                secure: c["secure"].as_bool().unwrap_or(false),
                same_site: c["sameSite"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    pub fn cookie(&self, name: &str) -> Option<Cookie> {
        self.cookies().into_iter().find(|c| c.name == name)
    }

    /// Sets the outer window size (390 x 844 for a phone).
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            json!({ "width": width, "height": height }),
        );
    }

    /// Saves a PNG of the viewport as `<target dir>/screenshots/<name>.png` and returns it.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = str_of(self.cmd("GET", "/screenshot", Value::Null));
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_else(|e| self.fail(&format!("screenshot is not base64: {e}")));
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Waits for a finished download ending in `.extension` not returned before.
    pub fn wait_for_download(&self, extension: &str) -> PathBuf {
        let dir = self.download_dir();
        let suffix = format!(".{extension}");
        let mut found = None;
        self.poll(&format!("a finished download *{suffix}"), || {
            let names: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .collect();
            // Chromium writes `X.crdownload` (or a random name) and renames it when done.
            if names
                .iter()
                .any(|p| p.to_string_lossy().ends_with(".crdownload"))
            {
                return false;
            }
            let taken = self.taken.borrow();
            found = names
                .into_iter()
                .find(|p| p.to_string_lossy().ends_with(&suffix) && !taken.contains(p));
            found.is_some()
        });
        let path = found.unwrap();
        self.taken.borrow_mut().push(path.clone());
        path
    }

    pub fn alert_text(&self) -> String {
        str_of(self.cmd("GET", "/alert/text", Value::Null))
    }

    pub fn accept_alert(&self) {
        self.cmd("POST", "/alert/accept", json!({}));
    }

    pub fn dismiss_alert(&self) {
        self.cmd("POST", "/alert/dismiss", json!({}));
    }

    fn try_find(&self, css: &str) -> Option<Element<'_>> {
        match self.try_cmd("POST", "/element", by_css(css)) {
            Ok(v) => Some(self.element(&v, css)),
            Err(e) if e.error == "no such element" => None,
            Err(e) => self.fail(&format!("find({css:?}): {e}")),
        }
    }

    /// Runs `act` on the element `css`, looking it up again while it is missing, replaced
    /// by a live update, hidden or covered, for up to [`WAIT`].
    fn retry<T>(
        &self,
        css: &str,
        what: &str,
        act: impl Fn(&Element<'_>) -> Result<T, WdError>,
    ) -> T {
        const TRANSIENT: [&str; 4] = [
            "stale element reference",
            "element not interactable",
            "element click intercepted",
            "no such element",
        ];
        let deadline = Instant::now() + WAIT;
        loop {
            let last = match self.try_find(css).map(|e| act(&e)) {
                Some(Ok(v)) => return v,
                Some(Err(e)) if !TRANSIENT.contains(&e.error.as_str()) => {
                    self.fail(&format!("{what}({css:?}): {e}"))
                }
                Some(Err(e)) => e.to_string(),
                None => "no such element".to_owned(),
            };
            if Instant::now() >= deadline {
                self.fail(&format!(
                    "timed out after {WAIT:?}: {what}({css:?}): {last}"
                ))
            }
            std::thread::sleep(POLL);
        }
    }

    fn element(&self, v: &Value, css: &str) -> Element<'_> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| self.fail(&format!("not an element for {css:?}: {v}")));
        Element {
            browser: self,
            id: id.to_owned(),
            selector: css.to_owned(),
        }
    }

    fn poll(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if done() {
                return;
            }
            std::thread::sleep(POLL);
        }
        self.fail(&format!("timed out after {WAIT:?} waiting for {what}"))
    }

    /// Panics with `msg` and the page's URL.
    fn fail(&self, msg: &str) -> ! {
        let url = self
            .try_cmd("GET", "/url", Value::Null)
            .map(str_of)
            .unwrap_or_else(|e| format!("(unknown: {e})"));
        panic!("browser: {msg}\n  at {url}")
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_cmd(method, path, body.clone())
            .unwrap_or_else(|e| self.fail(&format!("{method} {path} {body}: {e}")))
    }

    fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, WdError> {
        request(
            &self.agent,
            method,
            &format!("{}{path}", self.session),
            body,
        )
    }
}

impl Browser {
    /// Ends the session and stops chromedriver; returns the pids of this browser's Chromium
    /// processes that had not quit 5 s later (they are killed). Empty when all went well.
    pub fn quit(mut self) -> Vec<u32> {
        self.shut_down()
    }

    fn shut_down(&mut self) -> Vec<u32> {
        match self.driver.take() {
            Some(driver) => {
                webdriver::shut_down(&self.agent, &self.session, driver, &self.profile_dir())
            }
            None => Vec::new(),
        }
    }
}

impl Drop for Browser {
    /// No test leaves a browser behind, even when it panics.
    fn drop(&mut self) {
        let left = self.shut_down();
        if !left.is_empty() {
            eprintln!("browser: killed Chromium processes that outlived the session: {left:?}");
        }
    }
}

impl Element<'_> {
    /// The reference to pass as a script argument.
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    pub fn text(&self) -> String {
        str_of(self.cmd("GET", "text", Value::Null))
    }

    pub fn attribute(&self, name: &str) -> Option<String> {
        let v = self.cmd("GET", &format!("attribute/{name}"), Value::Null);
        v.as_str().map(str::to_owned)
    }

    /// A DOM property (`value`, `checked`), which follows what the user typed.
    pub fn property(&self, name: &str) -> Value {
        self.cmd("GET", &format!("property/{name}"), Value::Null)
    }

    pub fn click(&self) {
        self.cmd("POST", "click", json!({}));
    }

    pub fn clear(&self) {
        self.cmd("POST", "clear", json!({}));
    }

    pub fn send_keys(&self, text: &str) {
        self.cmd("POST", "value", json!({ "text": text }));
    }

    pub fn is_displayed(&self) -> bool {
        self.cmd("GET", "displayed", Value::Null)
            .as_bool()
            .unwrap_or(false)
    }

    fn cmd(&self, method: &str, what: &str, body: Value) -> Value {
        self.try_cmd(method, what, body)
            .unwrap_or_else(|e| self.fail(&format!("{what}: {e}")))
    }

    fn try_cmd(&self, method: &str, what: &str, body: Value) -> Result<Value, WdError> {
        self.browser
            .try_cmd(method, &format!("/element/{}/{what}", self.id), body)
    }

    fn fail(&self, msg: &str) -> ! {
        self.browser
            .fail(&format!("element {:?}: {msg}", self.selector))
    }
}

/// `CARGO_TARGET_DIR`, or `target/` of the crate.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}
