//! The systemd watchdog, fed only while every door's decision pipeline is alive.
//!
//! Each round asks every running door controller for a heartbeat through its own event
//! loop and pings systemd only if every door asked in the previous round answered. A
//! controller stuck in an await (a hung actuator, a register that no longer commits) stops
//! answering, the pings stop, and systemd restarts the service: the process exits, the
//! relay drops, the door is locked, and it comes back clean. A door retired by a reload
//! is not waited for.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::devices::Devices;
use super::notify::Notifier;
use crate::door::DoorControl;

/// The heartbeats asked for in the previous round.
#[derive(Default)]
pub struct Liveness {
    asked: Vec<(String, mpsc::Sender<DoorControl>, oneshot::Receiver<()>)>,
}

impl Liveness {
    /// Whether every door asked last round and still running answered. Names the first
    /// that did not, for the log.
    pub fn check(&mut self, running: &[mpsc::Sender<DoorControl>]) -> Result<(), String> {
        for (name, control, answer) in &mut self.asked {
            let retired = !running.iter().any(|c| c.same_channel(control));
            if !retired && answer.try_recv().is_err() {
                return Err(name.clone());
            }
        }
        Ok(())
    }

    /// Asks every running door for a heartbeat. A full control queue is an unanswered
    /// question: a controller that does not drain its queue is not alive.
    pub fn ask<'a>(
        &mut self,
        doors: impl IntoIterator<Item = (&'a str, &'a mpsc::Sender<DoorControl>)>,
    ) {
        self.asked.clear();
        for (name, control) in doors {
            let (answer, heard) = oneshot::channel();
            let _ = control.try_send(DoorControl::Heartbeat(answer));
            self.asked.push((name.to_owned(), control.clone(), heard));
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
        let now = devices.load();
        let controls: Vec<_> = now.doors.iter().map(|d| d.control.clone()).collect();
        match liveness.check(&controls) {
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
        liveness.ask(now.doors.iter().map(|d| (d.name.as_str(), &d.control)));
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

    #[test]
    fn alive_while_every_door_answers_and_not_when_one_hangs() {
        let (a, mut a_rx) = mpsc::channel(4);
        let (b, mut b_rx) = mpsc::channel(4);
        let running = vec![a.clone(), b.clone()];
        let mut l = Liveness::default();
        assert_eq!(l.check(&running), Ok(()), "nothing asked yet");
        l.ask([("a", &a), ("b", &b)]);
        answer_all(&mut a_rx);
        answer_all(&mut b_rx);
        assert_eq!(l.check(&running), Ok(()));

        l.ask([("a", &a), ("b", &b)]);
        answer_all(&mut a_rx);
        // b is stuck: it never reads its queue.
        assert_eq!(l.check(&running), Err("b".into()));
        l.ask([("a", &a), ("b", &b)]);
        answer_all(&mut a_rx);
        assert_eq!(l.check(&running), Err("b".into()), "still stuck");
        answer_all(&mut b_rx);
        l.ask([("a", &a), ("b", &b)]);
        answer_all(&mut a_rx);
        answer_all(&mut b_rx);
        assert_eq!(l.check(&running), Ok(()), "b answers again");
    }

    #[test]
    fn a_dead_controller_is_not_alive_but_a_retired_one_is_not_waited_for() {
        let (a, a_rx) = mpsc::channel(4);
        let mut l = Liveness::default();
        l.ask([("a", &a)]);
        drop(a_rx); // the controller task ended (a panic) while still configured
        assert_eq!(l.check(std::slice::from_ref(&a)), Err("a".into()));

        let (b, b_rx) = mpsc::channel(4);
        l.ask([("b", &b)]);
        drop(b_rx); // stopped by a reload, and no longer among the running doors
        assert_eq!(l.check(&[]), Ok(()));
    }

    #[test]
    fn a_full_queue_is_no_answer() {
        let (a, mut a_rx) = mpsc::channel(1);
        let (filler, _) = oneshot::channel();
        a.try_send(DoorControl::Heartbeat(filler)).unwrap();
        let mut l = Liveness::default();
        l.ask([("a", &a)]);
        answer_all(&mut a_rx); // answers only the filler: the question never got in
        assert_eq!(l.check(std::slice::from_ref(&a)), Err("a".into()));
    }
}
