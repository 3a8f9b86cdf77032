//! Starting a reader's driver, the same way for door readers and desk readers.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::ReaderKind;
use crate::reader::{ReaderIo, ReaderOutput, ReaderStatus, osdp, pcsc, serial};

/// What a started driver hands back to its handle.
pub(super) struct Driver {
    /// Simulated readers: the API presents cards through it.
    pub simulated: Option<ReaderOutput>,
    /// OSDP readers: requests (KEYSET, OUT, COMSET) for the bus task.
    pub osdp: Option<mpsc::Sender<osdp::OsdpRequest>>,
}

/// Where a group of readers keeps what it started, to stop it again.
#[derive(Default)]
pub(super) struct Started {
    pub tasks: Vec<JoinHandle<()>>,
    pub threads: Vec<std::thread::JoinHandle<()>>,
    /// OSDP readers of the group; one task drives them once the whole group is known.
    pub bus: Vec<osdp::BusMember>,
}

impl Started {
    /// Waits for every task and thread, once their stop token is cancelled.
    pub async fn join(self) {
        for task in self.tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "a reader task failed while stopping");
            }
        }
        let threads = self.threads;
        let joined =
            tokio::task::spawn_blocking(move || threads.into_iter().all(|t| t.join().is_ok()))
                .await;
        if !matches!(joined, Ok(true)) {
            tracing::error!("a reader thread panicked");
        }
    }
}

/// Starts the driver of one reader: a thread (PC/SC), a task (serial), or a place on its
/// OSDP bus.
pub(super) fn spawn(
    name: &str,
    kind: &ReaderKind,
    io: ReaderIo,
    started: &mut Started,
) -> anyhow::Result<Driver> {
    let mut driver = Driver {
        simulated: None,
        osdp: None,
    };
    match kind {
        ReaderKind::Simulated => {
            io.output.set_status(ReaderStatus::Online);
            driver.simulated = Some(io.output);
        }
        ReaderKind::Pcsc { pattern } => {
            started
                .threads
                .push(pcsc::spawn(name.to_owned(), pattern.clone(), io)?);
        }
        ReaderKind::Serial(serial_config) => {
            started
                .tasks
                .push(tokio::spawn(serial::run(serial_config.clone(), io)));
        }
        ReaderKind::Osdp(osdp_config) => {
            let (requests_tx, requests) = mpsc::channel(1);
            driver.osdp = Some(requests_tx);
            started.bus.push(osdp::BusMember {
                config: osdp_config.clone(),
                io,
                requests,
            });
        }
    }
    Ok(driver)
}
