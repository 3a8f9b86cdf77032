//! The driver on real pseudo-terminals: `socat` links two ptys, the driver opens one end
//! and the test plays the device on the other.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};
use tokio_serial::SerialStream;
use tokio_util::sync::CancellationToken;

use super::run;
use crate::config::{SerialProtocol, SerialReaderConfig};
use crate::model::{Credential, Technology};
use crate::reader::frame::pn532::{self, Pn532Decoder, Pn532Frame, TFI_CHIP, TFI_HOST};
use crate::reader::frame::rdm6300;
use crate::reader::frame::wiegand::{
    WiegandBits, WiegandContent, WiegandEncoding, WiegandOptions, encode_frame,
};
use crate::reader::{ReaderEvent, ReaderIo, ReaderMessage, ReaderOutput, ReaderStatus};

type Pty = crate::testing::SocatPty;

/// `device` (reader) for the code under test, `other` (feeder) for the test.
async fn linked_ptys(dir: &Path) -> Pty {
    Pty::start(dir, "reader", "feeder").await
}

/// The status before the driver reports anything.
const NOT_STARTED: &str = "not started";

/// The driver under test and what it reports.
struct Driver {
    events: mpsc::Receiver<ReaderMessage>,
    status: watch::Receiver<ReaderStatus>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Driver {
    fn start(path: &Path, protocol: SerialProtocol) -> Driver {
        let (events_tx, events) = mpsc::channel(16);
        let (status_tx, status) = watch::channel(ReaderStatus::Offline {
            detail: NOT_STARTED.into(),
        });
        let (_feedback_tx, feedback) = mpsc::channel(1);
        let shutdown = CancellationToken::new();
        let io = ReaderIo {
            output: ReaderOutput::new(7, events_tx, Arc::new(status_tx)),
            feedback,
            shutdown: shutdown.clone(),
        };
        let baud = match protocol {
            SerialProtocol::Pn532 => 115_200,
            _ => 9600,
        };
        let config = SerialReaderConfig {
            path: path.to_owned(),
            baud,
            protocol,
        };
        Driver {
            events,
            status,
            shutdown,
            task: tokio::spawn(run(config, io)),
        }
    }

    async fn wait_status(
        &mut self,
        what: &str,
        within: Duration,
        want: impl Fn(&ReaderStatus) -> bool,
    ) {
        let reached = timeout(within, self.status.wait_for(|s| want(s)))
            .await
            .is_ok_and(|r| r.is_ok());
        let now = self.status.borrow().clone();
        assert!(
            reached,
            "reader not {what} within {within:?}; status is {now:?}"
        );
    }

    async fn online(&mut self) {
        self.wait_status("online", Duration::from_secs(3), |s| {
            *s == ReaderStatus::Online
        })
        .await;
    }

    async fn offline(&mut self) -> String {
        self.wait_status(
            "offline",
            Duration::from_secs(3),
            |s| matches!(s, ReaderStatus::Offline { detail } if detail != NOT_STARTED),
        )
        .await;
        match &*self.status.borrow() {
            ReaderStatus::Offline { detail } => detail.clone(),
            ReaderStatus::Online => unreachable!(),
        }
    }

    async fn card(&mut self) -> Credential {
        let msg = timeout(Duration::from_secs(3), self.events.recv())
            .await
            .expect("a card within 3 s")
            .expect("driver still running");
        assert_eq!(msg.reader, 7);
        match msg.event {
            ReaderEvent::Card(card) => card,
            other => panic!("expected a card, got {other:?}"),
        }
    }

    async fn no_card(&mut self, during: Duration) {
        if let Ok(msg) = timeout(during, self.events.recv()).await {
            panic!("expected no card, got {msg:?}");
        }
    }

    /// Cancels the driver and checks it stops promptly.
    async fn stop(self) {
        self.shutdown.cancel();
        timeout(Duration::from_secs(1), self.task)
            .await
            .expect("driver stops within 1 s of shutdown")
            .expect("driver task did not panic");
    }
}

async fn write_slowly(port: &mut SerialStream, chunks: &[&[u8]]) {
    for chunk in chunks {
        port.write_all(chunk).await.expect("write to the feeder");
        sleep(Duration::from_millis(60)).await;
    }
}

fn cred(tech: Technology, hex: &str) -> Credential {
    Credential::parse_hex(tech, hex).unwrap()
}

#[tokio::test]
async fn rdm6300_frames_noise_split_frames_and_bad_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let mut driver = Driver::start(&pty.device, SerialProtocol::Rdm6300);
    driver.online().await;
    let mut feeder = pty.open_other(115200);

    let mut input = b"\xff\x00noise\x03".to_vec();
    input.extend(rdm6300::encode([0x0F, 0x00, 0x27, 0x6A, 0x4B]));
    write_slowly(&mut feeder, &[&input]).await;
    assert_eq!(driver.card().await, cred(Technology::Em4100, "0F00276A4B"));

    let frame = rdm6300::encode([1, 2, 3, 4, 5]);
    let bad_checksum = b"\x020102030405FF\x03";
    write_slowly(
        &mut feeder,
        &[bad_checksum, &frame[..3], &frame[3..9], &frame[9..]],
    )
    .await;
    assert_eq!(driver.card().await, cred(Technology::Em4100, "0102030405"));

    write_slowly(&mut feeder, &[bad_checksum, b"\x020102"]).await;
    driver.no_card(Duration::from_millis(300)).await;
    driver.stop().await;
}

#[tokio::test]
async fn wiegand_lines_with_noise_parity_errors_and_split_writes() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let options = WiegandOptions {
        bits: WiegandBits::W26,
        content: WiegandContent::Frame,
        encoding: WiegandEncoding::Decimal,
        prefix: "W26:".into(),
    };
    let mut driver = Driver::start(&pty.device, SerialProtocol::WiegandAscii(options));
    driver.online().await;
    let mut feeder = pty.open_other(115200);

    let good = format!("W26:{}\r\n", encode_frame(WiegandBits::W26, 0x7BB26E));
    let parity_error = format!("W26:{}\r\n", encode_frame(WiegandBits::W26, 0x7BB26E) ^ 1);
    let first = format!("converter v2 ready\r\n\x00\x7f junk\r\n{parity_error}{good}");
    write_slowly(&mut feeder, &[first.as_bytes()]).await;
    assert_eq!(driver.card().await, cred(Technology::Wiegand, "7BB26E"));

    let other = format!("W26:{}\r\n", encode_frame(WiegandBits::W26, 0x010203));
    let (a, b) = other.as_bytes().split_at(6);
    write_slowly(&mut feeder, &[parity_error.as_bytes(), a, b]).await;
    assert_eq!(driver.card().await, cred(Technology::Wiegand, "010203"));
    driver.no_card(Duration::from_millis(200)).await;
    driver.stop().await;
}

#[tokio::test]
async fn hex_lines_carry_the_configured_technology() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let mut driver = Driver::start(&pty.device, SerialProtocol::Line(Technology::Iso15693));
    driver.online().await;
    let mut feeder = pty.open_other(115200);

    write_slowly(
        &mut feeder,
        &[
            b"garbage!\r\n",
            b"E0:04:01:",
            b"50:12:34:56:78\r",
            b"\n\nxyz\n",
        ],
    )
    .await;
    assert_eq!(
        driver.card().await,
        cred(Technology::Iso15693, "E004015012345678")
    );
    driver.no_card(Duration::from_millis(200)).await;
    driver.stop().await;
}

/// What the fake PN532 does when polled.
#[derive(Debug, Clone)]
enum Poll {
    Card(Vec<u8>),
    /// A card response whose data checksum is broken on the wire.
    Corrupt(Vec<u8>),
    /// No answer at all, as a chip that browned out and fell asleep.
    Silence,
}

/// Plays a PN532 on the feeder end: ACKs every command and answers SAMConfiguration,
/// RFConfiguration and InListPassiveTarget (with "no target" unless told otherwise).
/// Reports each command code it receives.
async fn fake_pn532(
    mut port: SerialStream,
    mut polls: mpsc::UnboundedReceiver<Poll>,
    seen: mpsc::UnboundedSender<u8>,
) {
    let mut decoder = Pn532Decoder::default();
    let mut buf = [0u8; 64];
    loop {
        let Ok(n) = port.read(&mut buf).await else {
            return;
        };
        let frames: Vec<_> = decoder.feed(&buf[..n]).collect();
        for frame in frames {
            let Ok(Pn532Frame::Information(cmd)) = frame else {
                continue;
            };
            assert_eq!(cmd.tfi(), TFI_HOST);
            let code = cmd.data()[0];
            let _ = seen.send(code);
            let reply = match code {
                0x14 => vec![0x15],
                0x32 => vec![0x33],
                0x4A => match polls.try_recv() {
                    Ok(Poll::Silence) => continue,
                    Ok(Poll::Card(uid)) => pn532::target_response(&uid),
                    Ok(Poll::Corrupt(uid)) => {
                        let mut bytes =
                            pn532::information_frame(TFI_CHIP, &pn532::target_response(&uid))
                                .unwrap();
                        let dcs = bytes.len() - 2;
                        bytes[dcs] ^= 0x5A;
                        port.write_all(&pn532::ACK).await.unwrap();
                        port.write_all(&bytes).await.unwrap();
                        continue;
                    }
                    Err(_) => vec![0x4B, 0x00],
                },
                other => panic!("unexpected PN532 command {other:#04x}"),
            };
            port.write_all(&pn532::ACK).await.unwrap();
            // Split the response to exercise reassembly.
            let bytes = pn532::information_frame(TFI_CHIP, &reply).unwrap();
            let (a, b) = bytes.split_at(bytes.len() / 2);
            port.write_all(a).await.unwrap();
            sleep(Duration::from_millis(5)).await;
            port.write_all(b).await.unwrap();
        }
    }
}

#[tokio::test]
async fn pn532_is_initialised_polled_and_reinitialised_after_silence() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let (polls, polls_rx) = mpsc::unbounded_channel();
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let fake = tokio::spawn(fake_pn532(pty.open_other(115200), polls_rx, seen_tx));
    let mut driver = Driver::start(&pty.device, SerialProtocol::Pn532);
    driver.online().await;
    assert_eq!(
        seen.recv().await,
        Some(0x14),
        "SAMConfiguration comes first"
    );
    assert_eq!(seen.recv().await, Some(0x32), "then RFConfiguration");
    assert_eq!(seen.recv().await, Some(0x4A), "then polling");

    polls
        .send(Poll::Card(vec![0x04, 0xA1, 0xB2, 0xC3]))
        .unwrap();
    assert_eq!(driver.card().await, cred(Technology::Iso14443, "04A1B2C3"));

    polls.send(Poll::Corrupt(vec![9, 9, 9, 9])).unwrap();
    polls
        .send(Poll::Card(vec![0x04, 1, 2, 3, 4, 5, 6]))
        .unwrap();
    assert_eq!(
        driver.card().await,
        cred(Technology::Iso14443, "04010203040506")
    );

    polls.send(Poll::Silence).unwrap();
    polls.send(Poll::Card(vec![0xAA; 10])).unwrap();
    assert_eq!(
        driver.card().await,
        cred(Technology::Iso14443, &"AA".repeat(10))
    );
    let mut codes = Vec::new();
    while let Ok(code) = seen.try_recv() {
        codes.push(code);
    }
    assert!(
        codes.contains(&0x14),
        "re-initialised after the silent poll: {codes:x?}"
    );
    assert_eq!(
        *driver.status.borrow(),
        ReaderStatus::Online,
        "one lost poll is not an outage"
    );
    driver.stop().await;
    fake.abort();
}

#[tokio::test]
async fn pn532_that_never_answers_is_offline() {
    let dir = tempfile::tempdir().unwrap();
    let pty = linked_ptys(dir.path()).await;
    let _feeder = pty.open_other(115200);
    let mut driver = Driver::start(&pty.device, SerialProtocol::Pn532);
    let detail = driver.offline().await;
    assert!(
        detail.contains("did not answer SAMConfiguration"),
        "{detail}"
    );
    driver.stop().await;
}

#[tokio::test]
async fn unplugged_reader_goes_offline_and_reads_again_within_2s_of_replug() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reader");
    let mut driver = Driver::start(&path, SerialProtocol::Rdm6300);
    let detail = driver.offline().await;
    assert!(detail.contains("cannot open"), "{detail}");

    let pty = linked_ptys(dir.path()).await;
    driver.online().await;
    let mut feeder = pty.open_other(115200);
    write_slowly(&mut feeder, &[&rdm6300::encode([1, 1, 1, 1, 1])]).await;
    assert_eq!(driver.card().await, cred(Technology::Em4100, "0101010101"));

    drop(feeder);
    pty.unplug().await;
    let detail = driver.offline().await;
    assert!(detail.contains(&path.display().to_string()), "{detail}");
    // Stay unplugged long enough for the backoff to reach its cap.
    sleep(Duration::from_secs(4)).await;

    let pty = linked_ptys(dir.path()).await;
    let back = Instant::now();
    driver
        .wait_status("online again", Duration::from_secs(2), |s| {
            *s == ReaderStatus::Online
        })
        .await;
    let mut feeder = pty.open_other(115200);
    write_slowly(&mut feeder, &[&rdm6300::encode([2, 2, 2, 2, 2])]).await;
    assert_eq!(driver.card().await, cred(Technology::Em4100, "0202020202"));
    assert!(
        back.elapsed() < Duration::from_secs(2),
        "read resumed after {:?}",
        back.elapsed()
    );
    driver.stop().await;
}

#[tokio::test]
async fn shutdown_stops_a_reader_whose_device_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut driver = Driver::start(&dir.path().join("absent"), SerialProtocol::Pn532);
    driver.offline().await;
    driver.stop().await;
}

#[test]
fn the_driver_can_be_spawned_on_a_multi_thread_runtime() {
    fn assert_send<T: Send + 'static>(_: &T) {}
    let (events, _) = mpsc::channel(1);
    let (status, _) = watch::channel(ReaderStatus::Online);
    let (_, feedback) = mpsc::channel(1);
    let io = ReaderIo {
        output: ReaderOutput::new(1, events, Arc::new(status)),
        feedback,
        shutdown: CancellationToken::new(),
    };
    let config = SerialReaderConfig {
        path: "/dev/null".into(),
        baud: 9600,
        protocol: SerialProtocol::Pn532,
    };
    assert_send(&run(config, io));
}
