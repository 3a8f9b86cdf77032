//! The systemd watchdog, fed only while every door's decision pipeline is alive.
//!
//! Each round asks every running door controller for a heartbeat through its own event
//! loop and pings systemd only if every door asked in the previous round answered. A
//! controller stuck in an await (a hung actuator, a register that no longer commits) stops
//! answering, the pings stop, and systemd restarts the service: the process exits, the
//! relay drops, the door is locked, and it comes back clean. A door retired by a reload
//! is not waited for.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::devices::Devices;
use super::sd_notify::Notifier;
use crate::door::DoorControl;

/// A door as the watchdog asks it: its name, control channel and finished flag.
pub type Door<'a> = (&'a str, &'a mpsc::Sender<DoorControl>, &'a Arc<AtomicBool>);

/// The heartbeats asked for in the previous round.
#[derive(Default)]
pub struct Liveness {
    asked: Vec<(String, Arc<AtomicBool>, oneshot::Receiver<()>)>,
}

impl Liveness {
    /// Whether every door asked last round answered or has finished normally since. Names
    /// the first that did neither, for the log.
    pub fn check(&mut self) -> Result<(), String> {
        for (name, finished, answer) in &mut self.asked {
            // The answer first: a controller sets `finished` before its channel closes.
            if answer.try_recv().is_err() && !finished.load(Ordering::SeqCst) {
                return Err(name.clone());
            }
        }
        Ok(())
    }

    /// Asks every running door for a heartbeat. A full control queue is an unanswered
    /// question: a controller that does not drain its queue is not alive.
    pub fn ask<'a>(&mut self, doors: impl IntoIterator<Item = Door<'a>>) {
        self.asked.clear();
        for (name, control, finished) in doors {
            let (answer, heard) = oneshot::channel();
            let _ = control.try_send(DoorControl::Heartbeat(answer));
            self.asked.push((name.to_owned(), finished.clone(), heard));
        }
    }
}

/// Pings every `every` while the doors answer, until `stop`.
pub async fn run(
    notifier: Notifier,
    every: Duration,
    devices: Arc<ArcSwap<Devices>>,
    stop: CancellationToken,
) {
    let mut liveness = Liveness::default();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut silent = false;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match liveness.check() {
            Ok(()) => {
                if silent {
                    tracing::info!("every door controller answers again; watchdog pings resume");
                    silent = false;
                }
                notifier.watchdog();
            }
            Err(door) if !silent => {
                tracing::error!(%door, "door controller does not answer; watchdog pings stop");
                silent = true;
            }
            Err(_) => {}
        }
        let now = devices.load();
        liveness.ask(
            now.doors
                .iter()
                .map(|d| (d.name.as_str(), &d.control, &d.finished)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A controller's loop reduced to its heartbeat answer.
    fn answer_all(rx: &mut mpsc::Receiver<DoorControl>) {
        while let Ok(c) = rx.try_recv() {
            if let DoorControl::Heartbeat(a) = c {
                let _ = a.send(());
            }
        }
    }

    fn door() -> (
        mpsc::Sender<DoorControl>,
        mpsc::Receiver<DoorControl>,
        Arc<AtomicBool>,
    ) {
        let (tx, rx) = mpsc::channel(4);
        (tx, rx, Arc::default())
    }

    #[test]
    fn alive_while_every_door_answers_and_not_when_one_hangs() {
        let (a, mut a_rx, a_done) = door();
        let (b, mut b_rx, b_done) = door();
        let doors = || [("a", &a, &a_done), ("b", &b, &b_done)];
        let mut l = Liveness::default();
        assert_eq!(l.check(), Ok(()), "nothing asked yet");
        l.ask(doors());
        answer_all(&mut a_rx);
        answer_all(&mut b_rx);
        assert_eq!(l.check(), Ok(()));

        l.ask(doors());
        answer_all(&mut a_rx);
        // b is stuck: it never reads its queue.
        assert_eq!(l.check(), Err("b".into()));
        l.ask(doors());
        answer_all(&mut a_rx);
        assert_eq!(l.check(), Err("b".into()), "still stuck");
        answer_all(&mut b_rx);
        l.ask(doors());
        answer_all(&mut a_rx);
        answer_all(&mut b_rx);
        assert_eq!(l.check(), Ok(()), "b answers again");
    }

    #[test]
    fn a_panicked_controller_is_dead_but_a_stopped_one_is_not_waited_for() {
        let (a, a_rx, a_done) = door();
        let mut l = Liveness::default();
        l.ask([("a", &a, &a_done)]);
        drop(a_rx); // the controller's task unwound without finishing
        assert_eq!(l.check(), Err("a".into()));

        let (b, b_rx, b_done) = door();
        l.ask([("b", &b, &b_done)]);
        // Stopped by a reload: finished first, then the channel closes.
        b_done.store(true, Ordering::SeqCst);
        drop(b_rx);
        assert_eq!(l.check(), Ok(()));
    }

    #[test]
    fn a_full_queue_is_no_answer() {
        let (a, mut a_rx) = mpsc::channel(1);
        let a_done = Arc::default();
        let (filler, _) = oneshot::channel();
        a.try_send(DoorControl::Heartbeat(filler)).unwrap();
        let mut l = Liveness::default();
        l.ask([("a", &a, &a_done)]);
        answer_all(&mut a_rx); // answers only the filler: the question never got in
        assert_eq!(l.check(), Err("a".into()));
    }
}
