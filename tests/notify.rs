//! Notifications end to end: the real daemon, a real SMTP relay (aiosmtpd) and a local
//! webhook receiver, over real sockets.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually, spawn_serve, wait_for};
use crate::common::smtp::SmtpSink;
use crate::common::webhook::WebhookReceiver;

const SMTP_PASSWORD: &str = "pa55-Rahasia-SMTP";
const WEBHOOK_KEY: &str = "kunci-webhook-rahasia";
const URL_TOKEN: &str = "T0K3N-di-path";

/// A file holding `secret`, mode 0600, in `dir`.
fn secret_file(dir: &tempfile::TempDir, name: &str, secret: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{secret}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

fn notifications(d: &TestDaemon) -> Vec<Value> {
    let r = d.get("/api/v1/notifications");
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

fn assert_no_secret_in(log: &str) {
    for secret in [SMTP_PASSWORD, WEBHOOK_KEY, URL_TOKEN] {
        assert!(!log.contains(secret), "{secret:?} is in the log");
    }
}

#[test]
fn notify_test_sends_an_indonesian_email_through_the_relay_with_its_login() {
    let secrets = tempfile::tempdir().unwrap();
    let password = secret_file(&secrets, "smtp-password", SMTP_PASSWORD);
    let sink = SmtpSink::start_with_login("lawang", SMTP_PASSWORD);
    let d = TestDaemon::start_with(&format!(
        "{ONE_DOOR}{}username = \"lawang\"\npassword_file = {:?}\n",
        sink.config(),
        password
    ));

    let out = d.cli(&["notify", "test", "--to", "kasi.layanan@example.go.id"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mail = sink.wait_for(|_| true, Duration::from_secs(20));
    assert_eq!(mail.subject, "Uji notifikasi Lawang — ruang server");
    assert!(
        mail.body.contains("Ini adalah email uji dari Lawang"),
        "{}",
        mail.body
    );
    assert_eq!(mail.to, ["kasi.layanan@example.go.id"]);
    assert_eq!(mail.from, "lawang@lawang.test");
    assert_eq!(mail.login.as_deref(), Some("lawang"));

    eventually("the log shows it sent", Duration::from_secs(10), || {
        notifications(&d)[0]["state"] == "sent"
    });
    let n = &notifications(&d)[0];
    assert_eq!(
        (&n["kind"], &n["to"], &n["attempts"], &n["subject"]),
        (
            &json!("email"),
            &json!(["kasi.layanan@example.go.id"]),
            &json!(1),
            &json!("Uji notifikasi Lawang — ruang server")
        )
    );
    assert!(n.get("body").is_none(), "the log never shows a body: {n}");
    let audit = d.get("/api/v1/audit").body;
    assert_eq!(audit["items"][0]["action"], "notify.test", "{audit}");
    let listed = d.cli(&["notify", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("sent"));

    // Who may read the log and who may send a test.
    let auditor = d.token_for("auditor");
    let operator = d.token_for("operator");
    assert_eq!(
        d.get_as("/api/v1/notifications", Some(&auditor)).status,
        200
    );
    assert_eq!(
        d.get_as("/api/v1/notifications", Some(&operator)).status,
        403
    );
    let body = r#"{"to": "x@example.go.id"}"#;
    assert_eq!(
        d.post_raw("/api/v1/notifications/test", Some(&auditor), body)
            .status,
        403
    );
    let bad = d.post(
        "/api/v1/notifications/test",
        &json!({ "to": "bukan alamat" }),
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        notifications(&d).len(),
        1,
        "a refused request queues nothing"
    );

    let shown = d.cli(&["check-config"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("[notify.smtp]"), "{shown}");
    assert!(!shown.contains(SMTP_PASSWORD));
    assert_no_secret_in(&d.log());
}

#[test]
fn a_relay_that_is_down_gets_the_mail_once_it_comes_up() {
    let mut sink = SmtpSink::start_down();
    let d = TestDaemon::start_with(&format!(
        "{ONE_DOOR}\n[notify]\nretry_first_seconds = 1\nretry_max_seconds = 2\n{}",
        sink.config()
    ));
    let r = d.post(
        "/api/v1/notifications/test",
        &json!({ "to": "operator@example.go.id" }),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    eventually(
        "a failed attempt is recorded",
        Duration::from_secs(20),
        || {
            let n = &notifications(&d)[0];
            n["state"] == "pending"
                && n["attempts"].as_u64() >= Some(1)
                && n["last_error"].is_string()
        },
    );
    assert!(sink.messages().is_empty());

    sink.come_up();
    let mail = sink.wait_for(|_| true, Duration::from_secs(20));
    assert_eq!(mail.to, ["operator@example.go.id"]);
    eventually("the log shows it sent", Duration::from_secs(10), || {
        notifications(&d)[0]["state"] == "sent"
    });
    assert_eq!(sink.messages().len(), 1, "sent once");
}

#[test]
fn mail_still_pending_at_shutdown_is_sent_after_the_restart() {
    let down = SmtpSink::start_down();
    let mut d = TestDaemon::start_with(&format!("{ONE_DOOR}{}", down.config()));
    let r = d.post(
        "/api/v1/notifications/test",
        &json!({ "to": "kasi@example.go.id" }),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    eventually(
        "a failed attempt is recorded",
        Duration::from_secs(20),
        || notifications(&d)[0]["attempts"].as_u64() >= Some(1),
    );
    assert!(d.stop().success());

    // The relay is fixed (here: moved to another port) and the daemon restarted.
    let sink = SmtpSink::start();
    let config = std::fs::read_to_string(d.config_path()).unwrap().replace(
        &format!("port = {}", down.port),
        &format!("port = {}", sink.port),
    );
    std::fs::write(d.config_path(), config).unwrap();
    d.child = Some(spawn_serve(d.dir.path()));
    let addr = wait_for(&d.data_dir().join("api.addr"), Duration::from_secs(20)).unwrap();
    d.base = format!("http://{}", addr.trim());
    // The next retry is due 30 s after the failure (the default); a restart tries at once,
    // so the mail arrives well inside this limit.
    let mail = sink.wait_for(|_| true, Duration::from_secs(20));
    assert_eq!(mail.to, ["kasi@example.go.id"]);
}

#[test]
fn without_a_relay_a_test_email_is_refused_and_the_log_is_empty() {
    let d = TestDaemon::start();
    let r = d.post(
        "/api/v1/notifications/test",
        &json!({ "to": "a@example.go.id" }),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("[notify.smtp]"));
    assert!(notifications(&d).is_empty());
}

/// A strike whose unlock command fails: a grant raises `actuator_fault`, the re-lock after
/// `unlock_seconds` succeeds and clears it.
const FAILING_STRIKE: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "command", unlock = ["/bin/false"], lock = ["/bin/true"] }

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
"#;

#[test]
fn a_door_alarm_reaches_the_webhook_signed_with_the_configured_key() {
    let secrets = tempfile::tempdir().unwrap();
    let key = secret_file(&secrets, "webhook-key", WEBHOOK_KEY);
    let hook = WebhookReceiver::start();
    let d = TestDaemon::start_with(&format!(
        "{FAILING_STRIKE}\n[notify.webhook]\nurl = {:?}\nsecret_file = {:?}\nevents = [\"alarm.raised\", \"alarm.cleared\"]\n",
        hook.url(&format!("/hooks/{URL_TOKEN}")),
        key
    ));
    d.grant("04A1B2C3", "iso14443");
    let tap = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": "04A1B2C3" }));
    assert_eq!(tap.status, 200, "{}", tap.body);

    let raised = hook.wait_for(
        |h| h.json()["event"] == "alarm.raised",
        Duration::from_secs(20),
    );
    let body = raised.json();
    assert_eq!(raised.method, "POST");
    assert_eq!(raised.path, format!("/hooks/{URL_TOKEN}"));
    assert_eq!(body["payload"]["door"], "ruang-server");
    assert_eq!(body["payload"]["alarm"], "actuator_fault");
    assert_eq!(body["payload"]["label"], "kunci pintu gagal digerakkan");
    assert!(
        body["at"].is_string() && body["payload"]["at"].is_string(),
        "{body}"
    );
    assert_eq!(raised.headers["x-lawang-event"], "alarm.raised");
    assert_eq!(raised.headers["x-lawang-delivery"], body["id"].to_string());
    // The signature is HMAC-SHA256 of the raw body under the key in the file.
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_KEY.as_bytes()).unwrap();
    mac.update(&raised.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(raised.headers["x-lawang-signature"], expected);

    let cleared = hook.wait_for(
        |h| h.json()["event"] == "alarm.cleared",
        Duration::from_secs(20),
    );
    assert_eq!(cleared.json()["payload"]["alarm"], "actuator_fault");
    eventually("both are sent in the log", Duration::from_secs(10), || {
        let log = notifications(&d);
        log.len() == 2
            && log
                .iter()
                .all(|n| n["state"] == "sent" && n["kind"] == "webhook")
    });
    assert_no_secret_in(&d.log());
}
