//! Readers at the desk (`purpose = "enrollment"`): started beside the doors, their cards go
//! to the enrollment hub, never to a door. A reload restarts them all when any of their
//! settings changed; there are one or two, and nobody is let in through them.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::driver::{self, Started};
use crate::config::EnrollmentReaderConfig;
use crate::enrollment::{DeskParts, Enrollment, run_desk};
use crate::reader::{ReaderIo, ReaderOutput, ReaderStatus, osdp};

/// Cards a desk reader may have queued for the hub.
const DESK_QUEUE: usize = 16;

pub(super) struct DeskReaders {
    configs: Vec<EnrollmentReaderConfig>,
    stop: CancellationToken,
    started: Started,
}

impl DeskReaders {
    pub fn none() -> DeskReaders {
        DeskReaders {
            configs: Vec::new(),
            stop: CancellationToken::new(),
            started: Started::default(),
        }
    }

    pub fn configs(&self) -> &[EnrollmentReaderConfig] {
        &self.configs
    }

    /// Starts every desk reader it can; one that cannot start is reported and the others
    /// run.
    pub fn start(
        configs: &[EnrollmentReaderConfig],
        hub: &Arc<Enrollment>,
    ) -> (DeskReaders, Vec<anyhow::Error>) {
        let mut desk = DeskReaders {
            configs: configs.to_vec(),
            ..DeskReaders::none()
        };
        let mut errors = Vec::new();
        for (i, reader) in configs.iter().enumerate() {
            // Desk readers have no row in the reader table (they never write the register);
            // negative ids keep them apart from door readers in the logs.
            let id = -(i as i64) - 1;
            let (events, events_rx) = mpsc::channel(DESK_QUEUE);
            let (feedback, feedback_rx) = mpsc::channel(8);
            let (status, status_rx) = watch::channel(ReaderStatus::Offline {
                detail: "starting".into(),
            });
            let io = ReaderIo {
                output: ReaderOutput::new(id, events, Arc::new(status)),
                feedback: feedback_rx,
                shutdown: desk.stop.clone(),
            };
            if let Err(e) = driver::spawn(&reader.name, &reader.kind, io, &mut desk.started) {
                errors.push(e.context(format!("enrollment reader {:?} not started", reader.name)));
                continue;
            }
            // Each desk reader has a port of its own (the configuration checks it).
            for member in std::mem::take(&mut desk.started.bus) {
                desk.started
                    .tasks
                    .push(tokio::spawn(osdp::run(vec![member])));
            }
            hub.attach(DeskParts {
                name: reader.name.clone(),
                kind: reader.kind.as_str(),
                status: status_rx,
                feedback,
                repeat_window: reader.repeat_window,
            });
            desk.started.tasks.push(tokio::spawn(run_desk(
                hub.clone(),
                reader.name.clone(),
                events_rx,
            )));
        }
        (desk, errors)
    }

    /// Stops the drivers; an operator still waiting on one of them is told it stopped.
    pub async fn stop(self, hub: &Enrollment) {
        self.stop.cancel();
        for reader in &self.configs {
            hub.detach(&reader.name);
        }
        self.started.join().await;
    }
}
