use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::*;
use crate::model::Technology;

fn card(hex: &str) -> Credential {
    Credential::parse_hex(Technology::Iso14443, hex).unwrap()
}

fn desk(hub: &Enrollment, name: &str) -> (mpsc::Receiver<Feedback>, watch::Sender<ReaderStatus>) {
    let (feedback, feedback_rx) = mpsc::channel(8);
    let (status, status_rx) = watch::channel(ReaderStatus::Online);
    hub.attach(DeskParts {
        name: name.into(),
        kind: "serial",
        status: status_rx,
        feedback,
        repeat_window: Duration::from_millis(500),
    });
    (feedback_rx, status)
}

#[tokio::test(start_paused = true)]
async fn the_next_card_goes_to_the_waiting_operator_with_green() {
    let hub = Enrollment::new();
    let (mut feedback, _status) = desk(&hub, "meja");
    let waiting = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.next_card("meja", Duration::from_secs(30)).await })
    };
    tokio::task::yield_now().await;
    assert!(hub.list()[0].waiting);
    let at = Instant::now();
    assert_eq!(
        hub.presented("meja", ReaderEvent::Card(card("04A1B2C3")), at),
        Presented::Taken
    );
    assert_eq!(waiting.await.unwrap(), Ok(card("04A1B2C3")));
    assert_eq!(feedback.recv().await, Some(Feedback::Granted));
    assert!(!hub.list()[0].waiting);
}

#[tokio::test(start_paused = true)]
async fn a_card_with_nobody_waiting_binds_nothing_and_shows_red() {
    let hub = Enrollment::new();
    let (mut feedback, _status) = desk(&hub, "meja");
    let at = Instant::now();
    assert_eq!(
        hub.presented("meja", ReaderEvent::Card(card("0102")), at),
        Presented::Ignored
    );
    assert_eq!(feedback.recv().await, Some(Feedback::Refused));
    // The same card still held is one presentation; lifted and presented again, a new one.
    assert_eq!(
        hub.presented(
            "meja",
            ReaderEvent::Card(card("0102")),
            at + Duration::from_millis(300)
        ),
        Presented::Repeat
    );
    assert_eq!(
        hub.presented(
            "meja",
            ReaderEvent::Card(card("0102")),
            at + Duration::from_secs(2)
        ),
        Presented::Ignored
    );
}

#[tokio::test(start_paused = true)]
async fn the_wait_ends_after_its_time_and_the_reader_is_free_again() {
    let hub = Enrollment::new();
    let (_feedback, _status) = desk(&hub, "meja");
    let err = hub
        .next_card("meja", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        EnrollError::TimedOut {
            reader: "meja".into(),
            seconds: 5
        }
    );
    assert!(!hub.list()[0].waiting);
    assert_eq!(hub.ready("meja"), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn one_operator_per_reader_unknown_and_offline_readers_are_refused() {
    let hub = Enrollment::new();
    let (_feedback, status) = desk(&hub, "meja");
    let first = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.next_card("meja", Duration::from_secs(30)).await })
    };
    tokio::task::yield_now().await;
    assert_eq!(
        hub.next_card("meja", Duration::from_secs(1)).await,
        Err(EnrollError::Busy("meja".into()))
    );
    // An operator who gave up does not hold the reader.
    first.abort();
    let _ = first.await;
    assert_eq!(hub.ready("meja"), Ok(()));
    assert_eq!(
        hub.ready("gudang"),
        Err(EnrollError::UnknownReader("gudang".into()))
    );
    status.send_replace(ReaderStatus::Offline {
        detail: "unplugged".into(),
    });
    assert!(matches!(
        hub.ready("meja"),
        Err(EnrollError::Offline { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_reader_stopped_while_waiting_says_so() {
    let hub = Enrollment::new();
    let (_feedback, _status) = desk(&hub, "meja");
    let waiting = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.next_card("meja", Duration::from_secs(30)).await })
    };
    tokio::task::yield_now().await;
    hub.detach("meja");
    assert_eq!(
        waiting.await.unwrap(),
        Err(EnrollError::Stopped("meja".into()))
    );
}
