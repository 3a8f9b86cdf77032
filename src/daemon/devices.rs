//! The running doors and readers: starting and stopping them one by one, so a reload
//! changes what it must and leaves every other door and reader running as it was.
//!
//! A door is its controller task (and its GPIO input thread). Readers run in groups: one
//! reader, or every OSDP reader on one RS-485 port (one task polls the whole bus). A group
//! is attached to its doors before its driver starts and detached after it stopped, so no
//! read is ever sent to a door that does not know the reader.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::desk::DeskReaders;
use super::driver::{self, Started};
use super::reload::{GroupKey, Plan};
use crate::config::{DoorConfig, PinConfig, ReaderConfig};
use crate::door::{
    AlarmNotice, DoorControl, DoorController, DoorInput, DoorStatus, Inside, Presence, ReaderSlot,
    actuator, gpio,
};
use crate::enrollment::Enrollment;
use crate::metrics::Metrics;
use crate::model::{DoorId, ReaderId};
use crate::pin::Lockout;
use crate::reader::{ReaderInfo, ReaderIo, ReaderMessage, ReaderOutput, ReaderStatus, osdp};
use crate::store::devices::DeviceIds;
use crate::store::register::RegisterWriter;
use crate::store::{Changed, Db, devices};

/// Events a door controller may have queued before readers wait.
const DOOR_QUEUE: usize = 256;

/// A door as the API and the watchdog see it.
#[derive(Clone)]
pub struct DoorHandle {
    pub id: DoorId,
    pub name: String,
    pub unlock_seconds: u64,
    pub status: watch::Receiver<DoorStatus>,
    /// When this controller was started; a reload that leaves the door alone keeps it.
    pub running_since: DateTime<Utc>,
    /// The controller's control channel, for the watchdog's heartbeats.
    pub control: mpsc::Sender<DoorControl>,
    /// Set when the controller returned normally (stopped, strike locked), before its
    /// control channel closes: the watchdog stops waiting for it. A controller that
    /// panicked or never stops is not finished.
    pub finished: Arc<AtomicBool>,
    /// Who is inside, as the controller counts them.
    pub inside: watch::Receiver<Vec<Inside>>,
    /// The door's inputs, for the desk's check-out of a visitor.
    pub inputs: mpsc::Sender<DoorInput>,
}

/// A reader as the API sees it.
#[derive(Clone)]
pub struct ReaderHandle {
    pub info: ReaderInfo,
    pub door_name: String,
    pub status: watch::Receiver<ReaderStatus>,
    /// When this reader's driver was started; a reload that leaves it alone keeps it.
    pub running_since: DateTime<Utc>,
    /// Present for simulated readers: the API sends taps through it.
    pub simulated: Option<ReaderOutput>,
    /// Present for OSDP readers: the API sends requests (KEYSET, OUT, COMSET) through it.
    pub osdp: Option<mpsc::Sender<osdp::OsdpRequest>>,
    /// Frames on its line that were not card reads (noise), since the driver started.
    pub bad_frames: Arc<std::sync::atomic::AtomicU64>,
}

/// What runs now, in configuration order; swapped as a whole after each reload.
#[derive(Clone, Default)]
pub struct Devices {
    pub doors: Vec<DoorHandle>,
    pub readers: Vec<ReaderHandle>,
}

struct RunningDoor {
    config: DoorConfig,
    handle: DoorHandle,
    events: mpsc::Sender<ReaderMessage>,
    inputs: mpsc::Sender<DoorInput>,
    stop: CancellationToken,
    task: JoinHandle<()>,
    gpio_stop: CancellationToken,
    gpio: Option<std::thread::JoinHandle<()>>,
}

struct ReaderGroup {
    key: GroupKey,
    readers: Vec<ReaderConfig>,
    handles: Vec<ReaderHandle>,
    stop: CancellationToken,
    started: Started,
}

/// Everything started, and what starting needs.
pub struct Running {
    db: Db,
    register: RegisterWriter,
    metrics: Arc<Metrics>,
    pin: PinConfig,
    lockout: Arc<Lockout>,
    /// Where doors announce alarm changes (alarm webhooks); `None` when nobody listens.
    alarm_notices: Option<mpsc::Sender<AlarmNotice>>,
    /// How long before a visitor badge its escort's grant counts (`[visitors]`).
    escort_window: std::time::Duration,
    /// Where the desk readers' cards go.
    enrollment: Arc<Enrollment>,
    desk: DeskReaders,
    doors: Vec<RunningDoor>,
    groups: Vec<ReaderGroup>,
}

impl Running {
    pub fn new(
        db: Db,
        register: RegisterWriter,
        metrics: Arc<Metrics>,
        pin: PinConfig,
        alarm_notices: Option<mpsc::Sender<AlarmNotice>>,
        escort_window: std::time::Duration,
        enrollment: Arc<Enrollment>,
    ) -> Self {
        Running {
            db,
            register,
            metrics,
            lockout: Arc::new(Lockout::new(pin.attempts, pin.lockout)),
            alarm_notices,
            escort_window,
            enrollment,
            desk: DeskReaders::none(),
            pin,
            doors: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// The doors (with their configuration) and reader groups running now, for planning.
    pub fn doors(&self) -> impl Iterator<Item = &DoorConfig> {
        self.doors.iter().map(|d| &d.config)
    }

    pub fn groups(&self) -> impl Iterator<Item = (&GroupKey, &[ReaderConfig])> {
        self.groups.iter().map(|g| (&g.key, g.readers.as_slice()))
    }

    pub fn pin(&self) -> &PinConfig {
        &self.pin
    }

    pub fn devices(&self) -> Devices {
        Devices {
            doors: self.doors.iter().map(|d| d.handle.clone()).collect(),
            readers: self
                .groups
                .iter()
                .flat_map(|g| g.handles.iter().cloned())
                .collect(),
        }
    }

    /// Carries out a plan: readers stop first, then doors; doors start first, then readers.
    /// Returns what could not be started (a door that failed stays locked, its readers are
    /// not started); everything else runs.
    pub async fn apply(&mut self, plan: Plan) -> Vec<anyhow::Error> {
        // The rows first: if the database refuses, nothing has been stopped.
        let ids = match self.sync_ids(&plan).await {
            Ok(ids) => ids,
            Err(e) => return vec![e],
        };
        let mut errors = Vec::new();
        let stopping: Vec<ReaderGroup> =
            drain_where(&mut self.groups, |g| plan.stop_groups.contains(&g.key));
        // Readers leaving a door that keeps running are detached (their alarms cleared).
        self.stop_groups(stopping, |door| !plan.stop_doors.contains(&door.to_owned()))
            .await;
        let stopping = drain_where(&mut self.doors, |d| {
            plan.stop_doors.contains(&d.config.name)
        });
        for door in stopping {
            stop_door(door).await;
        }
        // Lockouts in force survive a reload unless their own rules changed.
        if (plan.pin.attempts, plan.pin.lockout) != (self.pin.attempts, self.pin.lockout) {
            self.lockout = Arc::new(Lockout::new(plan.pin.attempts, plan.pin.lockout));
        }
        self.pin = plan.pin.clone();
        for door in &plan.start_doors {
            match self.start_door(door, ids.doors[&door.name]).await {
                Ok(d) => self.doors.push(d),
                Err(e) => errors
                    .push(e.context(format!("door {:?} not started; it stays locked", door.name))),
            }
        }
        for (key, readers) in &plan.start_groups {
            match self.start_group(key, readers, &ids).await {
                Ok(g) => self.groups.push(g),
                Err(e) => errors.push(e),
            }
        }
        self.doors.sort_by_key(|d| plan.door_order(&d.config.name));
        self.groups.sort_by_key(|g| plan.group_order(&g.key));
        if self.desk.configs() != plan.enrollment_readers.as_slice() {
            std::mem::replace(&mut self.desk, DeskReaders::none())
                .stop(&self.enrollment)
                .await;
            let (desk, failed) = DeskReaders::start(&plan.enrollment_readers, &self.enrollment);
            self.desk = desk;
            errors.extend(failed);
        }
        errors
    }

    /// Stops every reader, then every door (each locks its strike as it stops).
    pub async fn shutdown(&mut self) {
        std::mem::replace(&mut self.desk, DeskReaders::none())
            .stop(&self.enrollment)
            .await;
        let groups = std::mem::take(&mut self.groups);
        // Nothing is detached: the doors stop too, and an alarm in force stays on record.
        self.stop_groups(groups, |_| false).await;
        for door in &self.doors {
            door.gpio_stop.cancel();
            door.stop.cancel();
        }
        for door in std::mem::take(&mut self.doors) {
            stop_door(door).await;
        }
    }

    /// Gives new doors and readers their database rows (and ids).
    async fn sync_ids(&self, plan: &Plan) -> anyhow::Result<DeviceIds> {
        let (doors, readers) = (plan.all_doors.clone(), plan.all_readers.clone());
        self.db
            .write(move |tx| {
                Ok((
                    devices::sync(tx, &doors, &readers, Utc::now())?,
                    Changed::none(),
                ))
            })
            .await
            .context("cannot record the configured doors and readers")
    }

    async fn start_door(&self, door: &DoorConfig, id: DoorId) -> anyhow::Result<RunningDoor> {
        // Who is inside survives a restart: it is rebuilt from the register.
        let inside_now = self
            .db
            .read(move |c| crate::store::presence::inside(c, id))
            .await?;
        let presence = Presence::new(
            door.anti_passback,
            self.escort_window,
            inside_now,
            tokio::time::Instant::now(),
        );
        let (inside, inside_rx) = watch::channel(presence.list());
        let (status, status_rx) = watch::channel(DoorStatus::new(Utc::now()));
        let (events, events_rx) = mpsc::channel(DOOR_QUEUE);
        let (inputs, inputs_rx) = mpsc::channel(DOOR_QUEUE);
        let (control, control_rx) = mpsc::channel(DOOR_QUEUE);
        let controller = DoorController {
            id,
            name: door.name.clone(),
            unlock_for: door.unlock,
            held_open_after: door.held_open,
            actuator: actuator::build(door)?,
            access: self.db.access_list(),
            register: self.register.clone(),
            readers: HashMap::new(),
            status,
            pin_rule: door.pin.clone(),
            pin_timeout: self.pin.timeout,
            lockout: self.lockout.clone(),
            metrics: self.metrics.door(&door.name),
            alarm_notices: self.alarm_notices.clone(),
            presence,
            inside,
        };
        // The door contact and exit button, where the door has them.
        let gpio_stop = CancellationToken::new();
        let gpio = gpio::watch_inputs(
            &door.name,
            door.contact.clone(),
            door.exit_button.clone(),
            inputs.clone(),
            gpio_stop.clone(),
        )?;
        let stop = CancellationToken::new();
        let finished = Arc::new(AtomicBool::new(false));
        let task = {
            let (stop, finished) = (stop.clone(), finished.clone());
            let mut control_rx = control_rx;
            tokio::spawn(async move {
                controller
                    .run_controlled(events_rx, inputs_rx, &mut control_rx, stop)
                    .await;
                finished.store(true, Ordering::SeqCst);
                drop(control_rx);
            })
        };
        Ok(RunningDoor {
            config: door.clone(),
            handle: DoorHandle {
                id,
                name: door.name.clone(),
                unlock_seconds: door.unlock.as_secs(),
                status: status_rx,
                running_since: Utc::now(),
                control,
                finished,
                inside: inside_rx,
                inputs: inputs.clone(),
            },
            events,
            inputs,
            stop,
            task,
            gpio_stop,
            gpio,
        })
    }

    async fn start_group(
        &self,
        key: &GroupKey,
        readers: &[ReaderConfig],
        ids: &DeviceIds,
    ) -> anyhow::Result<ReaderGroup> {
        let mut group = ReaderGroup {
            key: key.clone(),
            readers: readers.to_vec(),
            handles: Vec::new(),
            stop: CancellationToken::new(),
            started: Started::default(),
        };
        for reader in readers {
            let started = self.start_reader(reader, ids, &mut group).await;
            if let Err(e) = started {
                // Whatever of the group did start is stopped again: a group runs whole.
                self.stop_groups(vec![group], |_| true).await;
                return Err(e.context(format!("reader {:?} not started", reader.name)));
            }
        }
        let bus = std::mem::take(&mut group.started.bus);
        if !bus.is_empty() {
            group.started.tasks.push(tokio::spawn(osdp::run(bus)));
        }
        Ok(group)
    }

    async fn start_reader(
        &self,
        reader: &ReaderConfig,
        ids: &DeviceIds,
        group: &mut ReaderGroup,
    ) -> anyhow::Result<()> {
        let door = self
            .doors
            .iter()
            .find(|d| d.config.name == reader.door)
            .ok_or_else(|| anyhow!("its door {:?} is not running", reader.door))?;
        let info = ReaderInfo {
            id: ids.readers[&reader.name],
            name: Arc::from(reader.name.as_str()),
            door: door.handle.id,
            direction: reader.direction,
            kind: reader.kind.as_str(),
        };
        let (feedback_tx, feedback_rx) = mpsc::channel(8);
        let (status_tx, status_rx) = watch::channel(ReaderStatus::Offline {
            detail: "starting".into(),
        });
        let (attached, done) = oneshot::channel();
        let slot = ReaderSlot {
            info: info.clone(),
            repeat_window: reader.repeat_window,
            feedback: feedback_tx,
        };
        door.handle
            .control
            .send(DoorControl::Attach(slot, attached))
            .await
            .map_err(|_| anyhow!("the controller of door {:?} has stopped", reader.door))?;
        done.await
            .map_err(|_| anyhow!("the controller of door {:?} has stopped", reader.door))?;
        group.started.tasks.push(tokio::spawn(forward_status(
            info.id,
            status_rx.clone(),
            door.inputs.clone(),
            group.stop.clone(),
        )));
        let io = ReaderIo {
            output: ReaderOutput::new(info.id, door.events.clone(), Arc::new(status_tx))
                .with_door_inputs(door.inputs.clone()),
            feedback: feedback_rx,
            shutdown: group.stop.clone(),
        };
        let mut handle = ReaderHandle {
            info,
            door_name: reader.door.clone(),
            status: status_rx,
            running_since: Utc::now(),
            simulated: None,
            osdp: None,
            bad_frames: io.output.bad_frames(),
        };
        let driver = driver::spawn(&reader.name, &reader.kind, io, &mut group.started)?;
        handle.simulated = driver.simulated;
        handle.osdp = driver.osdp;
        group.handles.push(handle);
        Ok(())
    }

    /// Stops the groups' drivers (all at once: a PC/SC thread takes a poll interval to
    /// notice), then detaches their readers from the doors named by `detach`.
    async fn stop_groups(&self, groups: Vec<ReaderGroup>, detach: impl Fn(&str) -> bool) {
        for g in &groups {
            g.stop.cancel();
        }
        for g in groups {
            g.started.join().await;
            for h in g.handles {
                let Some(door) = self
                    .doors
                    .iter()
                    .find(|d| d.handle.id == h.info.door && detach(&d.config.name))
                else {
                    continue;
                };
                let (done, detached) = oneshot::channel();
                if door
                    .handle
                    .control
                    .send(DoorControl::Detach(h.info.id, done))
                    .await
                    .is_ok()
                {
                    let _ = detached.await;
                }
            }
        }
    }
}

/// Stops a door's inputs, then its controller, which locks the strike on the way out.
async fn stop_door(door: RunningDoor) {
    door.gpio_stop.cancel();
    if let Some(t) = door.gpio {
        let joined = tokio::task::spawn_blocking(move || t.join().is_ok()).await;
        if !matches!(joined, Ok(true)) {
            tracing::error!(door = %door.config.name, "the door's input thread panicked");
        }
    }
    door.stop.cancel();
    if let Err(e) = door.task.await {
        tracing::error!(door = %door.config.name, error = %e, "the door controller failed");
    }
}

impl Drop for Running {
    /// A failed start or a panic leaves no driver running: every token is cancelled.
    fn drop(&mut self) {
        for g in &self.groups {
            g.stop.cancel();
        }
        for d in &self.doors {
            d.gpio_stop.cancel();
            d.stop.cancel();
        }
    }
}

fn drain_where<T>(items: &mut Vec<T>, mut pick: impl FnMut(&T) -> bool) -> Vec<T> {
    let (taken, kept) = std::mem::take(items).into_iter().partition(|i| pick(i));
    *items = kept;
    taken
}

/// Passes a reader's online/offline changes to its door, which raises or clears the alarm.
async fn forward_status(
    reader: ReaderId,
    mut status: watch::Receiver<ReaderStatus>,
    door: mpsc::Sender<DoorInput>,
    stop: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            changed = status.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = status.borrow_and_update().clone();
                if door.send(DoorInput::ReaderStatus { reader, status: now }).await.is_err() {
                    return;
                }
            }
        }
    }
}
