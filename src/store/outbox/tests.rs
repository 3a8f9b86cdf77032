//! Outbox tests on a real SQLite file (the store fixture), with made-up times.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::store::Changed;
use crate::store::tests::fixture;

fn t(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 8, minute, 0).unwrap()
}

fn email(to: &str) -> Email {
    Email {
        to: vec![to.into()],
        subject: "Permintaan akses menunggu verifikasi Anda".into(),
        body: "Yth. Kasi Layanan,\nmohon verifikasi permintaan akses nomor 7.".into(),
    }
}

#[test]
fn a_message_commits_with_its_change_or_not_at_all() {
    let f = fixture();
    let failed: Result<()> = f.db.write_blocking(|tx| {
        queue_email(tx, &email("kasi@example.go.id"), t(0))?;
        Err(StoreError::Conflict("the change itself failed".into()))
    });
    assert!(failed.is_err());
    let id =
        f.db.write_blocking(|tx| {
            Ok((
                queue_email(tx, &email("kasi@example.go.id"), t(0))?,
                Changed::none(),
            ))
        })
        .unwrap();
    let due =
        f.db.write_blocking(|tx| Ok((due(tx, t(0), 10)?, Changed::none())))
            .unwrap();
    assert_eq!(due.len(), 1, "only the committed one");
    assert_eq!(due[0].id, id);
    assert_eq!(due[0].content, Content::Email(email("kasi@example.go.id")));
}

#[tokio::test]
async fn a_committed_write_rings_the_doorbell() {
    let f = fixture();
    let bell = f.db.outbox_doorbell();
    let rung = || async {
        tokio::select! {
            biased;
            _ = bell.notified() => true,
            _ = std::future::ready(()) => false,
        }
    };
    rung().await; // the fixture's own writes
    assert!(!rung().await);
    f.db.write(|tx| {
        Ok((
            queue_event(tx, "alarm.raised", &json!({}), t(0))?,
            Changed::none(),
        ))
    })
    .await
    .unwrap();
    assert!(rung().await);
}

#[test]
fn sent_failed_and_skipped_messages_leave_the_queue_with_their_story() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let sent = queue_email(&conn, &email("a@example.go.id"), t(0)).unwrap();
    let failed = queue_email(&conn, &email("b@example.go.id"), t(0)).unwrap();
    let skipped = queue_event(&conn, "workflow.step_waiting", &json!({"step": 5}), t(0)).unwrap();
    record(&conn, sent, &Outcome::Sent, t(1)).unwrap();
    record(
        &conn,
        failed,
        &Outcome::Failed {
            error: "550 no such user".into(),
        },
        t(1),
    )
    .unwrap();
    record(&conn, skipped, &Outcome::Skipped(State::Disabled), t(1)).unwrap();
    assert!(due(&conn, t(59), 10).unwrap().is_empty());
    assert_eq!(next_attempt(&conn).unwrap(), None);

    let log = list(
        &conn,
        &NotificationFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .unwrap();
    let story: Vec<_> = log
        .iter()
        .map(|n| (n.id, n.state, n.attempts, n.last_error.clone(), n.sent_at))
        .collect();
    assert_eq!(
        story,
        [
            (skipped, State::Disabled, 0, None, None),
            (
                failed,
                State::Failed,
                1,
                Some("550 no such user".into()),
                None
            ),
            (sent, State::Sent, 1, None, Some(t(1))),
        ]
    );
    assert_eq!(log[2].to, ["a@example.go.id"]);
    assert_eq!(
        log[2].subject.as_deref(),
        Some("Permintaan akses menunggu verifikasi Anda")
    );
    assert_eq!(log[0].event.as_deref(), Some("workflow.step_waiting"));
    // A finished message cannot be finished again.
    assert!(record(&conn, sent, &Outcome::Sent, t(2)).is_err());
}

#[test]
fn a_retry_waits_until_its_time_and_counts_the_attempt() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let id = queue_event(
        &conn,
        "alarm.raised",
        &json!({"door": "ruang-server"}),
        t(0),
    )
    .unwrap();
    assert_eq!(next_attempt(&conn).unwrap(), Some(t(0)));
    let retry = Outcome::Retry {
        error: "connection refused".into(),
        at: t(5),
    };
    record(&conn, id, &retry, t(0)).unwrap();
    assert!(due(&conn, t(4), 10).unwrap().is_empty());
    assert_eq!(next_attempt(&conn).unwrap(), Some(t(5)));
    let again = due(&conn, t(5), 10).unwrap();
    assert_eq!((again.len(), again[0].attempts), (1, 1));
    assert_eq!(
        again[0].content,
        Content::Event {
            event: "alarm.raised".into(),
            payload: json!({"door": "ruang-server"})
        }
    );
    let n = &list(
        &conn,
        &NotificationFilter {
            limit: 1,
            ..Default::default()
        },
    )
    .unwrap()[0];
    assert_eq!(
        (
            n.state,
            n.last_error.as_deref(),
            n.last_attempt_at,
            n.next_attempt_at
        ),
        (
            State::Pending,
            Some("connection refused"),
            Some(t(0)),
            Some(t(5))
        )
    );
}

#[test]
fn at_start_every_pending_retry_is_due_at_once() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let waiting = queue_email(&conn, &email("a@example.go.id"), t(0)).unwrap();
    let sent = queue_email(&conn, &email("b@example.go.id"), t(0)).unwrap();
    let retry = Outcome::Retry {
        error: "down".into(),
        at: t(50),
    };
    record(&conn, waiting, &retry, t(0)).unwrap();
    record(&conn, sent, &Outcome::Sent, t(0)).unwrap();
    assert_eq!(due_now(&conn, t(10)).unwrap(), 1);
    let due: Vec<i64> = due(&conn, t(10), 10)
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(due, [waiting]);
}

#[test]
fn due_hands_out_the_oldest_first_up_to_the_limit() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let ids: Vec<i64> = (0..5)
        .map(|i| queue_email(&conn, &email("a@example.go.id"), t(10 - i)).unwrap())
        .collect();
    let due: Vec<i64> = due(&conn, t(30), 3).unwrap().iter().map(|d| d.id).collect();
    assert_eq!(due, [ids[4], ids[3], ids[2]]);
}

#[test]
fn pruning_removes_finished_messages_past_retention_only() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let old = queue_email(&conn, &email("a@example.go.id"), t(0)).unwrap();
    let recent = queue_email(&conn, &email("b@example.go.id"), t(0)).unwrap();
    let pending = queue_email(&conn, &email("c@example.go.id"), t(0)).unwrap();
    record(&conn, old, &Outcome::Sent, t(1)).unwrap();
    record(&conn, recent, &Outcome::Skipped(State::Disabled), t(20)).unwrap();
    assert_eq!(prune(&conn, t(10)).unwrap(), 1);
    let left: Vec<i64> = list(
        &conn,
        &NotificationFilter {
            limit: 10,
            ..Default::default()
        },
    )
    .unwrap()
    .iter()
    .map(|n| n.id)
    .collect();
    assert_eq!(left, [pending, recent]);
    assert_eq!(
        prune(&conn, t(0) + Duration::days(365)).unwrap(),
        1,
        "never the pending one"
    );
}

#[test]
fn malformed_messages_are_refused_and_nothing_is_queued() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let bad = [
        Email {
            to: vec![],
            ..email("x")
        },
        Email {
            to: vec!["a@b.c\r\nBcc: evil@x".into()],
            ..email("x")
        },
        Email {
            subject: "Hal\nBcc: evil@x".into(),
            ..email("a@b.c")
        },
        Email {
            to: vec![" ".into()],
            ..email("x")
        },
    ];
    for e in &bad {
        assert!(
            matches!(queue_email(&conn, e, t(0)), Err(StoreError::Invalid(_))),
            "{e:?}"
        );
    }
    for name in ["", "Alarm.Raised", "alarm raised", &"a".repeat(65)] {
        assert!(
            queue_event(&conn, name, &json!({}), t(0)).is_err(),
            "{name:?}"
        );
    }
    assert_eq!(next_attempt(&conn).unwrap(), None);
}

#[test]
fn the_log_filters_and_pages_newest_first() {
    let f = fixture();
    let conn = crate::store::open(&f.dir.path().join(crate::store::DB_FILE)).unwrap();
    let e1 = queue_email(&conn, &email("a@example.go.id"), t(0)).unwrap();
    let w1 = queue_event(&conn, "alarm.raised", &json!({}), t(0)).unwrap();
    let e2 = queue_email(&conn, &email("b@example.go.id"), t(0)).unwrap();
    record(&conn, e2, &Outcome::Sent, t(1)).unwrap();
    let ids = |f: NotificationFilter| -> Vec<i64> {
        list(&conn, &f).unwrap().iter().map(|n| n.id).collect()
    };
    let all = NotificationFilter {
        limit: 10,
        ..Default::default()
    };
    assert_eq!(ids(all.clone()), [e2, w1, e1]);
    assert_eq!(
        ids(NotificationFilter {
            kind: Some(Kind::Email),
            ..all.clone()
        }),
        [e2, e1]
    );
    assert_eq!(
        ids(NotificationFilter {
            state: Some(State::Pending),
            ..all.clone()
        }),
        [w1, e1]
    );
    assert_eq!(
        ids(NotificationFilter {
            limit: 1,
            before_id: Some(w1),
            ..all
        }),
        [e1]
    );
}
