//! Alarm webhooks: the door controllers announce every alarm raised or cleared
//! ([`AlarmNotice`], handed over without waiting); this task queues each as an
//! `alarm.raised` / `alarm.cleared` event in the outbox, on the admin connection, so the
//! door's path never writes to SQLite for it.

use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::WebhookConfig;
use crate::door::AlarmNotice;
use crate::store::{Changed, Db, outbox};

/// Notices taken into one transaction at most.
const BATCH: usize = 64;

pub const RAISED: &str = "alarm.raised";
pub const CLEARED: &str = "alarm.cleared";

/// Whether a webhook is configured that takes alarm events: otherwise the doors announce
/// nothing (the register has every alarm regardless).
pub fn wanted(webhook: Option<&WebhookConfig>) -> bool {
    webhook.is_some_and(|w| w.wants(RAISED) || w.wants(CLEARED))
}

pub fn event(n: &AlarmNotice) -> &'static str {
    if n.raised { RAISED } else { CLEARED }
}

/// The event's payload: the door, the alarm's code and its Indonesian label, the reader
/// for reader alarms, and when it happened.
pub fn payload(n: &AlarmNotice) -> Value {
    json!({
        "door": n.door,
        "alarm": n.alarm.code(),
        "label": n.alarm.label_id(),
        "reader": n.reader,
        "at": n.at,
    })
}

/// Queues notices until every door controller has stopped.
pub async fn run(mut notices: mpsc::Receiver<AlarmNotice>, db: Db) {
    let mut batch = Vec::with_capacity(BATCH);
    while notices.recv_many(&mut batch, BATCH).await > 0 {
        let taken = std::mem::take(&mut batch);
        let count = taken.len();
        let queued = db
            .write(move |tx| {
                for n in &taken {
                    outbox::queue_event(tx, event(n), &payload(n), n.at)?;
                }
                Ok(((), Changed::none()))
            })
            .await;
        if let Err(e) = queued {
            tracing::error!(error = %e, alarms = count, "alarm webhooks could not be queued");
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::door::Alarm;
    use crate::store::tests::fixture;

    fn notice(raised: bool) -> AlarmNotice {
        AlarmNotice {
            at: Utc.with_ymd_and_hms(2026, 11, 2, 1, 30, 0).unwrap(),
            door: "ruang-server".into(),
            alarm: Alarm::ReaderOffline,
            reader: Some("masuk".into()),
            raised,
        }
    }

    #[test]
    fn a_notice_becomes_an_event_naming_door_alarm_reader_and_time() {
        assert_eq!(event(&notice(true)), "alarm.raised");
        assert_eq!(event(&notice(false)), "alarm.cleared");
        assert_eq!(
            payload(&notice(true)),
            json!({
                "door": "ruang-server",
                "alarm": "reader_offline",
                "label": "pembaca kartu tidak terhubung",
                "reader": "masuk",
                "at": "2026-11-02T01:30:00Z",
            })
        );
    }

    #[test]
    fn doors_announce_alarms_only_to_a_webhook_that_takes_them() {
        let hook = |events: Option<Vec<&str>>| WebhookConfig {
            url: "http://127.0.0.1:1/".into(),
            secret_file: None,
            events: events.map(|e| e.into_iter().map(str::to_owned).collect()),
        };
        assert!(!wanted(None));
        assert!(wanted(Some(&hook(None))));
        assert!(wanted(Some(&hook(Some(vec!["alarm.cleared"])))));
        assert!(!wanted(Some(&hook(Some(vec!["workflow.step_waiting"])))));
    }

    #[tokio::test]
    async fn notices_are_queued_in_the_outbox_until_the_doors_stop() {
        let f = fixture();
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(run(rx, f.db.clone()));
        tx.send(notice(true)).await.unwrap();
        tx.send(notice(false)).await.unwrap();
        drop(tx);
        task.await.unwrap();
        let due = f.db.read(|c| outbox::due(c, Utc::now(), 10)).await.unwrap();
        let events: Vec<_> = due
            .iter()
            .map(|d| match &d.content {
                outbox::Content::Event { event, payload } => {
                    (event.clone(), payload["alarm"].clone())
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            events,
            [
                ("alarm.raised".into(), json!("reader_offline")),
                ("alarm.cleared".into(), json!("reader_offline"))
            ]
        );
    }
}
