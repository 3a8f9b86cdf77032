//! Notify tests: the retry schedule and the message formats (pure, made-up times), and the
//! delivery task on a real SQLite file for what needs no relay.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::config::{NotifyConfig, WebhookConfig};
use crate::store::outbox::{Email, Kind, NotificationFilter};
use crate::store::tests::fixture;
use crate::store::{Changed, DB_FILE};

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        first: Duration::from_secs(30),
        max_delay: Duration::from_secs(100),
    }
}

fn t(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, second).unwrap()
}

#[test]
fn the_wait_doubles_after_each_failure_up_to_its_ceiling() {
    let waits: Vec<u64> = (1..=6).map(|n| policy().delay(n).as_secs()).collect();
    assert_eq!(waits, [30, 60, 100, 100, 100, 100]);
    // No overflow however long it has failed.
    let long = RetryPolicy {
        max_attempts: 100,
        first: Duration::from_secs(86_400),
        max_delay: Duration::from_secs(604_800),
    };
    assert_eq!(long.delay(99), Duration::from_secs(604_800));
}

#[test]
fn a_failure_is_retried_until_the_last_attempt_unless_it_is_permanent() {
    let p = policy();
    assert_eq!(
        p.after_failure(0, Failure::transient("connection refused"), t(0)),
        Outcome::Retry {
            error: "connection refused".into(),
            at: t(30)
        }
    );
    assert_eq!(
        p.after_failure(1, Failure::transient("timeout"), t(0)),
        Outcome::Retry {
            error: "timeout".into(),
            at: t(0) + chrono::TimeDelta::seconds(60)
        }
    );
    assert_eq!(
        p.after_failure(4, Failure::transient("timeout"), t(0)),
        Outcome::Failed {
            error: "timeout".into()
        },
        "the fifth attempt was the last"
    );
    assert_eq!(
        p.after_failure(0, Failure::permanent("550 no such user"), t(0)),
        Outcome::Failed {
            error: "550 no such user".into()
        }
    );
}

#[test]
fn a_webhook_body_is_signed_with_hmac_sha256() {
    // RFC 4231, test case 2.
    assert_eq!(
        webhook::signature(b"Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    let body = webhook::body(7, "alarm.raised", t(5), &json!({"door": "ruang-server"}));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        v,
        json!({"id": 7, "event": "alarm.raised", "at": "2026-11-02T08:00:05.000Z",
               "payload": {"door": "ruang-server"}})
    );
}

#[test]
fn http_answers_are_delivered_retried_or_refused() {
    assert!(webhook::status(204).is_ok());
    for code in [408, 429, 500, 503] {
        assert!(!webhook::status(code).unwrap_err().permanent, "{code}");
    }
    for code in [301, 400, 401, 404] {
        assert!(webhook::status(code).unwrap_err().permanent, "{code}");
    }
}

#[test]
fn an_email_keeps_its_indonesian_subject_and_body_and_refuses_bad_addresses() {
    let from = "Lawang <lawang@diskominfo.example.go.id>".parse().unwrap();
    let email = Email {
        to: vec![
            "kasi@example.go.id".into(),
            "Kabid <kabid@example.go.id>".into(),
        ],
        subject: "Permintaan akses №7 menunggu verifikasi — mohon segera".into(),
        body:
            "Yth. Bapak/Ibu,\nPermintaan akses ruang server menunggu verifikasi Anda.\n— Diskominfo"
                .into(),
    };
    let m = smtp::message(&from, &email).unwrap();
    let raw = String::from_utf8(m.formatted()).unwrap();
    // Non-ASCII subjects are RFC 2047 encoded words; the body declares UTF-8.
    assert!(
        raw.contains("Subject: Permintaan akses =?utf-8?b?"),
        "{raw}"
    );
    assert!(raw.contains("charset=utf-8"), "{raw}");
    assert!(!raw.contains("Content-Transfer-Encoding: 7bit"), "{raw}");
    assert_eq!(m.envelope().to().len(), 2);
    let bad = Email {
        to: vec!["not an address".into()],
        ..email
    };
    assert!(smtp::message(&from, &bad).unwrap_err().permanent);
}

#[test]
fn a_secret_file_is_read_without_its_line_break_and_must_not_be_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, "s3cr3t\n").unwrap();
    assert_eq!(read_secret("test secret", &path).unwrap(), "s3cr3t");
    std::fs::write(&path, "\n").unwrap();
    let err = read_secret("test secret", &path).unwrap_err().to_string();
    assert!(err.contains("empty") && err.contains("secret"), "{err}");
    assert!(read_secret("test secret", &dir.path().join("missing")).is_err());
}

/// Runs a sender on the fixture's database until `done` holds for the delivery log.
async fn deliver_until(
    config: NotifyConfig,
    queue: impl FnOnce(&rusqlite::Connection) -> crate::store::Result<()> + Send + 'static,
    done: impl Fn(&[crate::store::outbox::Notification]) -> bool,
) -> Vec<crate::store::outbox::Notification> {
    let f = fixture();
    let sender = Sender::new(&config, &f.dir.path().join(DB_FILE)).unwrap();
    let stop = CancellationToken::new();
    let task = tokio::spawn(sender.run(f.db.outbox_doorbell(), stop.clone()));
    f.db.write(move |tx| Ok((queue(tx)?, Changed::none())))
        .await
        .unwrap();
    for _ in 0..500 {
        let log =
            f.db.read(|c| {
                outbox::list(
                    c,
                    &NotificationFilter {
                        limit: 10,
                        ..Default::default()
                    },
                )
            })
            .await
            .unwrap();
        if done(&log) {
            stop.cancel();
            task.await.unwrap();
            return log;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the delivery log never settled");
}

fn no_channels() -> NotifyConfig {
    crate::config::Config::parse("", "t").unwrap().0.notify
}

#[tokio::test]
async fn without_a_relay_or_webhook_messages_are_kept_as_disabled() {
    let log = deliver_until(
        no_channels(),
        |c| {
            let email = Email {
                to: vec!["kasi@example.go.id".into()],
                subject: "Uji".into(),
                body: "Uji".into(),
            };
            outbox::queue_email(c, &email, Utc::now())?;
            outbox::queue_event(c, "workflow.step_waiting", &json!({}), Utc::now())?;
            Ok(())
        },
        |log| log.len() == 2 && log.iter().all(|n| n.state != State::Pending),
    )
    .await;
    let states: Vec<_> = log.iter().map(|n| (n.kind, n.state, n.attempts)).collect();
    assert_eq!(
        states,
        [
            (Kind::Webhook, State::Disabled, 0),
            (Kind::Email, State::Disabled, 0)
        ]
    );
}

#[tokio::test]
async fn a_webhook_that_cannot_be_reached_is_retried_and_its_url_path_never_recorded() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = no_channels();
    config.webhook = Some(WebhookConfig {
        url: format!("http://127.0.0.1:{port}/hooks/T0K3N"),
        secret_file: None,
        events: Some(vec!["alarm.raised".into()]),
    });
    let log = deliver_until(
        config,
        |c| {
            outbox::queue_event(c, "alarm.raised", &json!({}), Utc::now())?;
            outbox::queue_event(c, "workflow.step_waiting", &json!({}), Utc::now())?;
            Ok(())
        },
        |log| {
            log.len() == 2
                && log
                    .iter()
                    .all(|n| n.attempts > 0 || n.state != State::Pending)
        },
    )
    .await;
    assert_eq!(
        log[0].state,
        State::Filtered,
        "not in notify.webhook.events"
    );
    let tried = &log[1];
    assert_eq!((tried.state, tried.attempts), (State::Pending, 1));
    let error = tried.last_error.clone().unwrap();
    assert!(error.starts_with("webhook: "), "{error}");
    assert!(!error.contains("T0K3N"), "{error}");
    assert!(tried.next_attempt_at.unwrap() > tried.last_attempt_at.unwrap());
}

/// A local HTTP server answering every request with `status`.
fn answering(status: &'static str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    port
}

#[tokio::test]
async fn a_webhook_answer_decides_between_retry_and_giving_up() {
    let post = |port: u16| async move {
        let hook = webhook::Webhook::new(&WebhookConfig {
            url: format!("http://127.0.0.1:{port}/hook"),
            secret_file: None,
            events: None,
        })
        .unwrap();
        hook.post(1, "alarm.raised", t(0), &json!({})).await
    };
    assert_eq!(post(answering("204 No Content")).await, Ok(()));
    let busy = post(answering("503 Service Unavailable"))
        .await
        .unwrap_err();
    assert_eq!(busy, Failure::transient("webhook: HTTP 503"));
    // A redirect is not followed: the configured URL is wrong, trying again will not help.
    let moved = post(answering("301 Moved Permanently")).await.unwrap_err();
    assert_eq!(moved, Failure::permanent("webhook: HTTP 301"));
}
