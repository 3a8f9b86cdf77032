//! The operator pages end to end in headless Chromium (tests/common/browser.rs): log in,
//! walk a request through the seed-002 chain from the inbox and the request page, issue
//! the card on the simulated desk reader, see the tap arrive live on the dashboard, download
//! PDFs; a wrong role sees no button and its forged posts get 403. Screenshots of each page
//! go to target/screenshots/ for review.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::common::browser::Browser;
use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually};
use crate::workflow::staff;

const SIMULATED_DESK: &str =
    "[[reader]]\nname = \"meja\"\npurpose = \"enrollment\"\nkind = \"simulated\"\n";

/// The password of every test account: its username, padded to the minimum length.
fn password(username: &str) -> String {
    format!("{username}-kata-sandi")
}

/// Gives every account a password through the API, as an administrator would.
fn set_passwords(d: &TestDaemon) -> HashMap<String, i64> {
    let accounts = d.get("/api/v1/accounts").body;
    let mut ids = HashMap::new();
    for a in accounts.as_array().unwrap() {
        let username = a["username"].as_str().unwrap().to_owned();
        let id = a["id"].as_i64().unwrap();
        let p = password(&username);
        d.remember_secret(&p);
        let r = d.post(
            &format!("/api/v1/accounts/{id}/password"),
            &json!({ "password": p }),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["password_set"], true);
        ids.insert(username, id);
    }
    ids
}

fn login(b: &Browser, d: &TestDaemon, username: &str) {
    b.goto(&format!("{}/ui/login", d.base));
    b.fill("#username", username);
    b.fill("#password", &password(username));
    b.click("form button[type=submit]");
    b.wait_for(".who");
}

/// Every control a person fills in has a label a screen reader announces, and the page says
/// its language.
fn assert_labelled(b: &Browser) {
    let unlabelled = b.execute(
        "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]\
           .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))\
           .map(e => e.outerHTML)",
        &[],
    );
    assert_eq!(unlabelled, json!([]), "at {}", b.current_url());
    let lang = b.execute("return document.documentElement.lang", &[]);
    assert_eq!(lang, json!("id"), "at {}", b.current_url());
}

fn logout(b: &Browser) {
    b.click("form.logout button");
    b.wait_for("#username");
}

fn request_status(d: &TestDaemon, id: i64) -> serde_json::Value {
    d.get(&format!("/api/v1/requests/{id}")).body
}

fn fill_request(b: &Browser) {
    b.fill("#applicant_name", "Siti Rahayu");
    b.fill("#applicant_nip", "198501012010012001");
    b.fill("#unit_kerja", "Bidang Aptika");
    b.fill("#purpose", "Pemeliharaan server aplikasi");
    b.click("input[name=doors][value=ruang-server]");
    b.execute(
        "document.getElementById('valid_from').value = '2026-01-01';\
         document.getElementById('valid_until').value = '2099-12-31';",
        &[],
    );
    b.select("#atasan", "pak.atasan");
    b.select("#penanggung_jawab", "pj.server");
}

#[test]
fn a_request_walks_the_chain_in_the_browser_and_its_card_opens_the_door() {
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}\n{SIMULATED_DESK}"));
    let _tokens = staff(&d);
    set_passwords(&d);
    let b = Browser::start();

    // A wrong password says so, in Indonesian, and opens nothing.
    b.goto(&format!("{}/ui/", d.base));
    b.wait_for("#username");
    assert!(
        b.current_url().contains("/ui/login?next=/ui/"),
        "{}",
        b.current_url()
    );
    b.fill("#username", "operator");
    b.fill("#password", "salah-sekali-ini");
    b.click("form button[type=submit]");
    b.wait_for_text("#login-error", "kata sandi atau token salah");
    assert_labelled(&b);
    assert!(b.cookie("lawang_session").is_none());
    b.screenshot("pages-login-error");

    // The operator fills in the form at the desk; a missing field is named next to it.
    login(&b, &d, "operator");
    let cookie = b.cookie("lawang_session").expect("a session cookie");
    assert!(cookie.http_only && cookie.secure, "{cookie:?}");
    assert_eq!(cookie.same_site, "Strict", "{cookie:?}");
    b.goto(&format!("{}/ui/requests/new", d.base));
    assert_labelled(&b);
    fill_request(&b);
    b.fill("#purpose", "");
    b.click("form.card button[type=submit]");
    b.wait_for_text("#purpose-error", "Keperluan wajib diisi.");
    assert_eq!(
        b.attribute("#purpose", "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(
        b.attribute("#applicant_name", "value").as_deref(),
        Some("Siti Rahayu")
    );
    assert_eq!(d.get("/api/v1/requests").body.as_array().unwrap().len(), 0);
    b.screenshot("pages-request-form-error");
    b.fill("#purpose", "Pemeliharaan server aplikasi");
    b.click("form.card button[type=submit]");
    b.wait_for_text(".alert.ok", "Permintaan tersimpan");
    let id: i64 = b
        .current_url()
        .rsplit('/')
        .next()
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a request page: {}", b.current_url()));
    assert_eq!(request_status(&d, id)["waiting"]["name"], "approve");
    // The operator's turn comes later: no buttons now.
    assert!(!b.exists("form[action$='/decide']"));
    b.screenshot("pages-request-submitted");
    logout(&b);

    // The named superior approves from the inbox.
    login(&b, &d, "pak.atasan");
    b.goto(&format!("{}/ui/inbox", d.base));
    b.wait_for(&format!("#inbox tr[data-id='{id}']"));
    assert_labelled(&b);
    b.screenshot("pages-inbox-atasan");
    b.click(&format!("#inbox tr[data-id='{id}'] button[value=approve]"));
    b.wait_for_text(".alert.ok", "Disetujui");
    assert_eq!(request_status(&d, id)["waiting"]["name"], "dispose");
    logout(&b);

    // Kabid comes after Kadis: no button, and a forged post is refused with 403 and
    // changes nothing, with or without the session's form token.
    login(&b, &d, "kabid");
    b.goto(&format!("{}/ui/requests/{id}", d.base));
    b.wait_for("#status");
    assert!(!b.exists("form[action$='/decide']"), "kabid sees no button");
    let csrf = b
        .attribute("form.logout input[name=csrf]", "value")
        .unwrap();
    let forged = format!("csrf={csrf}&step=dispose&decision=approve");
    let path = format!("/ui/requests/{id}/decide");
    let form = Some("application/x-www-form-urlencoded");
    assert_eq!(b.fetch_status("POST", &path, Some(&forged), form), 403);
    assert_eq!(
        b.fetch_status("POST", &path, Some("step=dispose&decision=approve"), form),
        403
    );
    assert_eq!(request_status(&d, id)["waiting"]["name"], "dispose");
    logout(&b);

    for (who, step) in [("kadis", "forward"), ("kabid", "verify"), ("kasi", "issue")] {
        login(&b, &d, who);
        b.goto(&format!("{}/ui/requests/{id}", d.base));
        b.wait_for("form[action$='/decide']");
        b.fill("#note", &format!("disetujui oleh {who}"));
        b.click("button[value=approve]");
        b.wait_for_text(".alert.ok", "Disetujui");
        assert_eq!(
            request_status(&d, id)["waiting"]["name"],
            step,
            "after {who}"
        );
        logout(&b);
    }

    // The operator issues the card: the page waits for the card on the desk reader.
    login(&b, &d, "operator");
    b.goto(&format!("{}/ui/requests/{id}", d.base));
    b.wait_for("form[action$='/issue']");
    b.select("#enroll_reader", "meja");
    b.fill("#badge_number", "RS-031");
    assert_labelled(&b);
    b.screenshot("pages-issue-form");
    std::thread::scope(|scope| {
        scope.spawn(|| {
            eventually("the desk reader waits", Duration::from_secs(20), || {
                d.get("/api/v1/enrollment-readers").body[0]["waiting"] == true
            });
            let r = d.post("/api/v1/readers/meja/tap", &json!({ "uid": "04A1B2C3D4" }));
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["reason"], "enrolled", "{}", r.body);
        });
        b.click("form[action$='/issue'] button[type=submit]");
        b.wait_for_text(".alert.ok", "Kartu diterbitkan");
    });
    assert_eq!(request_status(&d, id)["waiting"]["name"], "inform");
    b.click("form[action$='/inform'] button[type=submit]");
    b.wait_for_text(".alert.ok", "selesai");
    assert_eq!(request_status(&d, id)["status"], "completed");
    b.wait_for_text("#history", "kartu diterbitkan");
    b.screenshot("pages-request-completed");

    // The form of the request, downloaded as a PDF.
    b.click(&format!("a[href$='/forms/access-request/{id}']"));
    let pdf = b.wait_for_download("pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{pdf:?}");

    // The dashboard shows the new card's tap as it happens.
    b.goto(&format!("{}/ui/", d.base));
    b.wait_for_text("#live-status", "Tersambung");
    let r = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": "04A1B2C3D4" }));
    assert_eq!(r.body["granted"], true, "{}", r.body);
    b.wait_for_text("#live-taps tbody", "Siti Rahayu");
    b.wait_for_text("#live-taps tbody", "Diterima");
    // Who is inside follows without reloading the page.
    b.wait_for_text("#state", "Siti Rahayu");
    b.screenshot("pages-dashboard");
    b.set_window_size(390, 844);
    b.screenshot("pages-dashboard-phone");
    let width = b.execute("return document.documentElement.scrollWidth", &[]);
    assert!(
        width.as_i64().unwrap() <= 390,
        "no sideways scrolling on a phone: {width}"
    );
    b.set_window_size(1280, 900);
    logout(&b);

    // The Kasi downloads the month's access report.
    login(&b, &d, "kasi");
    b.goto(&format!("{}/ui/reports", d.base));
    assert_labelled(&b);
    b.screenshot("pages-reports");
    b.select("#format", "pdf");
    b.click("form[action='/ui/reports/access'] button[type=submit]");
    let report = b.wait_for_download("pdf");
    assert!(std::fs::read(&report).unwrap().starts_with(b"%PDF-"));
}

#[test]
fn a_rejection_needs_a_reason_and_a_waiting_request_can_be_withdrawn() {
    let d = TestDaemon::start_with(ONE_DOOR);
    let _tokens = staff(&d);
    set_passwords(&d);
    let b = Browser::start();
    login(&b, &d, "operator");
    let mut ids = vec![];
    for _ in 0..2 {
        b.goto(&format!("{}/ui/requests/new", d.base));
        fill_request(&b);
        b.click("form.card button[type=submit]");
        b.wait_for_text(".alert.ok", "Permintaan tersimpan");
        let url = b.current_url();
        let id: i64 = url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        ids.push(id);
    }
    // The operator withdraws the second one; a reason is required.
    b.click("details.card summary");
    b.click("form[action$='/withdraw'] button");
    // The browser itself refuses an empty required field; the server says so too.
    b.execute(
        "document.getElementById('reason').removeAttribute('required')",
        &[],
    );
    b.click("form[action$='/withdraw'] button");
    b.wait_for_text(".field-error", "Alasan pembatalan wajib diisi.");
    assert_eq!(request_status(&d, ids[1])["status"], "open");
    b.fill("#reason", "diajukan dua kali");
    b.click("form[action$='/withdraw'] button");
    b.wait_for_text(".alert.ok", "Permintaan dibatalkan");
    assert_eq!(request_status(&d, ids[1])["status"], "withdrawn");
    logout(&b);

    // The superior rejects the first: not without a reason, which the page asks for next
    // to the form, keeping the request as it was.
    login(&b, &d, "pak.atasan");
    b.goto(&format!("{}/ui/requests/{}", d.base, ids[0]));
    b.click("button[value=reject]");
    b.wait_for_text("#step-error", "Alasan penolakan wajib diisi.");
    assert_eq!(request_status(&d, ids[0])["status"], "open");
    b.screenshot("pages-reject-without-reason");
    b.fill("#note", "tidak ada surat tugas");
    b.click("button[value=reject]");
    b.wait_for_text(".alert.ok", "Ditolak");
    let r = request_status(&d, ids[0]);
    assert_eq!(r["status"], "rejected", "{r}");
    b.wait_for_text("#history", "tidak ada surat tugas");
    // A second click on a stale page is told it changed, not shown a server error.
    let csrf = b
        .attribute("form.logout input[name=csrf]", "value")
        .unwrap();
    let stale = format!("csrf={csrf}&step=approve&decision=approve");
    let path = format!("/ui/requests/{}/decide", ids[0]);
    let status = b.fetch_status(
        "POST",
        &path,
        Some(&stale),
        Some("application/x-www-form-urlencoded"),
    );
    assert_eq!(status, 409);
}

#[test]
fn an_api_token_logs_in_and_a_revoked_token_ends_the_session() {
    let d = TestDaemon::start();
    let b = Browser::start();
    let token = d.token_for("auditor");
    b.goto(&format!("{}/ui/login", d.base));
    b.execute("document.querySelector('details').open = true", &[]);
    b.fill("#token", &token);
    b.click("form button[type=submit]");
    b.wait_for_text(".who", "Auditor");
    // An auditor reads reports but acts on no step: no request form in the menu.
    assert!(b.exists("nav a[href='/ui/reports']"));
    assert!(!b.exists("a[href='/ui/requests/new']"));
    let csrf = b
        .attribute("form.logout input[name=csrf]", "value")
        .unwrap();
    let forged = format!("csrf={csrf}&step=approve&decision=approve");
    let form = Some("application/x-www-form-urlencoded");
    assert_eq!(
        b.fetch_status("POST", "/ui/requests/1/decide", Some(&forged), form),
        403
    );
    let tokens = d.get("/api/v1/tokens").body;
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "auditor")
        .unwrap()["id"]
        .clone();
    let r = d.post(&format!("/api/v1/tokens/{id}/revoke"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    b.goto(&format!("{}/ui/reports", d.base));
    b.wait_for("#username");
}

/// A client that shows redirects instead of following them.
fn plain() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_idle_connections(0)
        .build()
        .into()
}

const PAGES: &[&str] = &[
    "/ui/",
    "/ui/inbox",
    "/ui/requests",
    "/ui/requests/new",
    "/ui/requests/1",
    "/ui/events",
    "/ui/reports",
    "/ui/reports/access?month=2026-11",
    "/ui/reports/forms/access-request/1",
    "/ui/reports/forms/access-list",
    "/ui/reports/forms/review/1",
    "/ui/reports/forms/removal/1",
    "/ui/reports/forms/facility-register?month=2026-11",
    "/ui/reports/forms/remote-access?month=2026-11",
    "/ui/visitors",
    "/ui/reviews",
    "/ui/reviews/1",
    "/ui/dashboard/state",
    "/ui/badges",
];

const FORMS: &[&str] = &[
    "/ui/requests/new",
    "/ui/requests/1/decide",
    "/ui/requests/1/issue",
    "/ui/requests/1/inform",
    "/ui/requests/1/withdraw",
    "/ui/visitors/check-in",
    "/ui/visitors/1/decide",
    "/ui/visitors/1/badge",
    "/ui/visitors/1/check-out",
    "/ui/reviews",
    "/ui/reviews/1/items/1",
    "/ui/reviews/1/close",
    "/ui/lang",
    "/ui/badges/1/status",
    "/ui/logout",
];

#[test]
fn without_a_session_every_page_sends_to_the_login_and_every_form_changes_nothing() {
    let d = TestDaemon::start();
    let agent = plain();
    for path in PAGES {
        let r = agent.get(format!("{}{path}", d.base)).call().unwrap();
        assert_eq!(r.status(), 303, "{path}");
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/ui/login?next=/ui/"), "{path} -> {to}");
        // The API's token does not open a page: pages need the session cookie.
        let r = agent
            .get(format!("{}{path}", d.base))
            .header("Authorization", format!("Bearer {}", d.token))
            .call()
            .unwrap();
        assert_eq!(r.status(), 303, "{path} with a bearer token");
    }
    for path in FORMS {
        let r = agent
            .post(format!("{}{path}", d.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send("step=approve&decision=approve")
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        // From another site's page: refused before anything else.
        let r = agent
            .post(format!("{}{path}", d.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Origin", "http://evil.example")
            .send("step=approve&decision=approve")
            .unwrap();
        assert_eq!(r.status(), 403, "{path} from another site");
    }
    assert_eq!(d.get("/api/v1/requests").body.as_array().unwrap().len(), 0);
    // Every page says what may load and who may frame it.
    let r = agent.get(format!("{}/ui/login", d.base)).call().unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-frame-options"], "DENY");
}

#[test]
fn wrong_passwords_are_throttled_and_a_monitoring_token_opens_no_session() {
    let d = TestDaemon::start();
    crate::workflow::account(&d, "operator", "operator");
    set_passwords(&d);
    let agent = plain();
    let login = |username: &str, password: &str, token: &str| {
        let body = format!("username={username}&password={password}&token={token}&next=/ui/");
        agent
            .post(format!("{}/ui/login", d.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body)
            .unwrap()
    };
    let monitor = d.token_for("monitor");
    let r = login("", "", &monitor);
    assert_eq!(r.status(), 401, "a monitoring token reads metrics only");
    assert!(r.headers().get("set-cookie").is_none());
    let ok = login("operator", &password("operator"), "");
    assert_eq!(ok.status(), 303);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Secure"),
        "{cookie}"
    );
    assert!(cookie.contains("Path=/ui"), "{cookie}");
    let mut last = 0;
    for _ in 0..12 {
        last = login("operator", "bukan-kata-sandinya", "")
            .status()
            .as_u16();
        if last == 429 {
            break;
        }
        assert_eq!(last, 401);
    }
    assert_eq!(last, 429, "guessing is slowed down");
    // While blocked, even the right password waits.
    assert_eq!(login("operator", &password("operator"), "").status(), 429);
    assert!(d.log().contains("failed login to the pages"));
}

#[test]
fn the_command_line_sets_a_password_from_stdin_and_a_short_one_is_refused() {
    use std::io::Write;
    let d = TestDaemon::start();
    crate::workflow::account(&d, "siti", "operator");
    let run = |input: &str| {
        let mut child = std::process::Command::new(crate::common::daemon::BIN)
            .arg("--config")
            .arg(d.config_path())
            .args(["account", "password", "siti"])
            .env_remove("LAWANG_TOKEN")
            .env_remove("LAWANG_URL")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let short = run("pendek\n");
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("10 to 128"),
        "{short:?}"
    );
    d.remember_secret("siti-punya-kata-sandi");
    let out = run("siti-punya-kata-sandi\n");
    assert!(out.status.success(), "{out:?}");
    let agent = plain();
    let r = agent
        .post(format!("{}/ui/login", d.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("username=siti&password=siti-punya-kata-sandi")
        .unwrap();
    assert_eq!(r.status(), 303, "the password from stdin logs in");
    // The audit log says the password changed, never what to.
    let audit = d.get("/api/v1/audit").body.to_string();
    assert!(audit.contains("account.password"), "{audit}");
    assert!(!audit.contains("siti-punya-kata-sandi"));
}

/// Ticks a checkbox unless it already is.
fn tick(b: &Browser, css: &str) {
    let checked = b.execute(
        "return document.querySelector(arguments[0]).checked",
        &[json!(css)],
    );
    if checked != json!(true) {
        b.click(css);
    }
}

#[test]
fn a_visitor_is_checked_in_granted_badged_and_checked_out_in_the_browser() {
    let d = TestDaemon::start_with(ONE_DOOR);
    let escort = d.grant("E5C0", "iso14443");
    let r = d.post(
        "/api/v1/visitor-badges",
        &json!({ "badge_number": "V-01", "uid": "B0B0" }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    crate::workflow::account(&d, "meja.tamu", "helpdesk");
    crate::workflow::account(&d, "kepala.lpse", "kepala");
    set_passwords(&d);
    let b = Browser::start();

    login(&b, &d, "meja.tamu");
    b.goto(&format!("{}/ui/visitors", d.base));
    assert_labelled(&b);
    b.fill("#nama", "Andi Wijaya");
    b.fill("#instansi", "PT Data Prima Nusantara");
    b.select("#jenis_identitas", "ktp");
    b.fill("#no_identitas", "33740112");
    b.fill("#tujuan", "Penggantian hard disk server SPSE");
    b.fill("#host", "Budi Santoso");
    b.select("#escort", &escort.to_string());
    tick(&b, "input[name=doors][value=ruang-server]");
    b.fill("#ttd_name", "Andi Wijaya");
    tick(&b, "#ttd_consent");
    b.click("#check-in button[type=submit]");
    // A KTP number is a 16-digit NIK: said next to the field, nothing stored.
    b.wait_for("#no_identitas-error");
    assert_eq!(
        b.attribute("#no_identitas", "aria-invalid").as_deref(),
        Some("true")
    );
    assert_eq!(d.get("/api/v1/visits").body.as_array().unwrap().len(), 0);
    b.screenshot("pages-visitors-field-error");
    b.fill("#no_identitas", "3374011203850004");
    // What was typed and ticked is kept on the page that names the error.
    assert_eq!(
        b.attribute("#nama", "value").as_deref(),
        Some("Andi Wijaya")
    );
    tick(&b, "input[name=doors][value=ruang-server]");
    tick(&b, "#ttd_consent");
    b.click("#check-in button[type=submit]");
    b.wait_for_text(".alert.ok", "Tamu tercatat");
    let visits = d.get("/api/v1/visits").body;
    let id = visits[0]["id"].as_i64().unwrap();
    assert_eq!(visits[0]["status"], "waiting_approval", "{visits}");
    // The desk does not decide.
    assert!(!b.exists(&format!("#visit-{id} form.decide")));
    logout(&b);

    login(&b, &d, "kepala.lpse");
    b.goto(&format!("{}/ui/inbox", d.base));
    b.click(&format!("#inbox tr[data-case=visit][data-id='{id}'] a"));
    b.click(&format!("#visit-{id} form.decide button[value=approve]"));
    b.wait_for_text(".alert.ok", "Kunjungan disetujui");
    assert_eq!(
        d.get(&format!("/api/v1/visits/{id}")).body["status"],
        "approved"
    );
    logout(&b);

    login(&b, &d, "meja.tamu");
    b.goto(&format!("{}/ui/visitors", d.base));
    b.select(&format!("#badge-{id}"), "V-01");
    b.click(&format!("#visit-{id} form.badge button"));
    b.wait_for_text(".alert.ok", "Kartu tamu diserahkan");
    assert_labelled(&b);
    assert_eq!(
        d.get(&format!("/api/v1/visits/{id}")).body["badge_number"],
        "V-01"
    );
    b.screenshot("pages-visitors-badge-out");
    b.click(&format!("#visit-{id} input[name=badge][value=returned]"));
    b.click(&format!("#visit-{id} input[name=id_returned]"));
    b.click(&format!("#visit-{id} form.check-out button"));
    b.wait_for_text(".alert.ok", "Tamu telah keluar");
    let v = d.get(&format!("/api/v1/visits/{id}")).body;
    assert!(v["checked_out_at"].is_string(), "{v}");
    b.screenshot("pages-visitors-checked-out");
    b.set_window_size(390, 844);
    b.screenshot("pages-visitors-phone");
}

#[test]
fn the_operator_takes_a_card_out_of_service_from_the_cards_page_and_the_door_refuses_it() {
    use crate::common::web::Browser as Web;
    let d = TestDaemon::start_with(ONE_DOOR);
    d.grant("04AA55", "iso14443");
    let mut operator = Web::staff(&d, "operator", "operator");
    let mut auditor = Web::staff(&d, "auditor", "auditor");
    let tap = |uid: &str| {
        d.post("/api/v1/readers/masuk/tap", &json!({ "uid": uid }))
            .body
    };
    assert_eq!(tap("04AA55")["granted"], true);
    let badge = d.get("/api/v1/badges").body[0]["id"].as_i64().unwrap();
    let action = format!("/ui/badges/{badge}/status");

    // The auditor reads the list but has no buttons, and a forged post changes nothing.
    let seen = auditor.get("/ui/badges?q=budi");
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(
        seen.expect(&format!("badge-{badge}"), "tr")
            .contains("04AA55")
    );
    assert!(!seen.body.contains(&action), "{}", seen.body);
    let forged = auditor.submit(
        "/ui/badges",
        &action,
        &[("status", "revoked"), ("reason", "x")],
    );
    assert_eq!(forged.status, 403, "{}", forged.body);

    // Without a reason: said next to the card's form, and the card still opens the door.
    let r = operator.submit(
        "/ui/badges",
        &action,
        &[("status", "revoked"), ("reason", "")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Alasan wajib diisi."), "{}", r.body);
    assert_eq!(tap("04AA55")["granted"], true);

    // Suspended, back, then reported lost: each in force when the page answers.
    let r = operator.submit(
        "/ui/badges",
        &action,
        &[("status", "suspended"), ("reason", "cuti")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(tap("04AA55")["reason"], "credential_suspended");
    let r = operator.submit(
        "/ui/badges",
        &action,
        &[("status", "active"), ("reason", "")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(tap("04AA55")["granted"], true);
    let r = operator.submit(
        "/ui/badges",
        &action,
        &[("status", "lost"), ("reason", "hilang di parkiran")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/ui/badges?done=lost#badge-{badge}").as_str())
    );
    assert_eq!(tap("04AA55")["reason"], "credential_lost");
    let page = operator.get("/ui/badges?done=lost");
    assert!(
        page.body.contains("Kartu dilaporkan hilang"),
        "{}",
        page.body
    );
    let row = page.expect(&format!("badge-{badge}"), "tr");
    assert!(
        row.contains("hilang di parkiran") && !row.contains(&action),
        "{row}"
    );
    let audit = d.get("/api/v1/audit").body.to_string();
    assert!(audit.contains("operator"), "{audit}");
}
