//! Wires the tasks together: store → register writer → door controllers → readers → API,
//! and beside them the notification task that drains the outbox.
//!
//! [`run`] takes its listener and shutdown token from the caller, so tests run a whole
//! daemon on `127.0.0.1:0` and stop it when they like.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState};
use crate::config::{Config, DoorConfig, PinConfig, ReaderKind};
use crate::decision::AccessList;
use crate::door::{AlarmNotice, DoorController, DoorInput, DoorStatus, ReaderSlot, actuator, gpio};
use crate::model::{Actor, DoorId, ReaderId, Role};
use crate::notify;
use crate::pin::Lockout;
use crate::reader::{
    ReaderInfo, ReaderIo, ReaderMessage, ReaderOutput, ReaderStatus, osdp, pcsc, serial,
};
use crate::store::register::RegisterWriter;
use crate::store::{self, Changed, DB_FILE, Db, devices, tokens};

/// Where the first admin token is written on first start; mode 0600.
pub const INITIAL_TOKEN_FILE: &str = "initial-admin-token";
/// The address the API listens on, for the CLI on the same machine.
pub const API_ADDR_FILE: &str = "api.addr";
/// Events a door controller may have queued before readers wait.
const DOOR_QUEUE: usize = 256;
/// Alarm notices waiting to be queued as webhooks; beyond this they are dropped.
const ALARM_QUEUE: usize = 256;

pub struct DoorHandle {
    pub id: DoorId,
    pub name: String,
    pub unlock_seconds: u64,
    pub status: watch::Receiver<DoorStatus>,
}

pub struct ReaderHandle {
    pub info: ReaderInfo,
    pub door_name: String,
    pub status: watch::Receiver<ReaderStatus>,
    /// Present for simulated readers: the API sends taps through it.
    pub simulated: Option<ReaderOutput>,
    /// Present for OSDP readers: the API sends requests (KEYSET, OUT, COMSET) through it.
    pub osdp: Option<mpsc::Sender<osdp::OsdpRequest>>,
}

pub struct Devices {
    pub doors: Vec<DoorHandle>,
    pub readers: Vec<ReaderHandle>,
}

/// Runs the daemon until `shutdown` is cancelled, then locks every door, stops the readers
/// and flushes the register before returning.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let _lock = store::lock_data_dir(&config.data_dir)?;
    let db_path = config.data_dir.join(DB_FILE);
    let db = Db::open(&db_path, config.timezone)
        .with_context(|| format!("cannot open the database {}", db_path.display()))?;
    let ids =
        db.write_blocking(|tx| Ok((devices::sync(tx, &config, Utc::now())?, Changed::none())))?;
    ensure_initial_token(&db, &config.data_dir)?;
    // Reads the SMTP password and the webhook key now: a bad secret file stops the start.
    let notifier = notify::Sender::new(&config.notify, &db_path)?;
    let (alarm_notices, alarm_rx) = if notify::alarms::wanted(config.notify.webhook.as_ref()) {
        let (tx, rx) = mpsc::channel::<AlarmNotice>(ALARM_QUEUE);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };

    let (register, register_thread) = RegisterWriter::start(&db_path)?;
    let mut tasks = JoinSet::new();
    // Cancelled on any return from here, so a failed start leaves no reader running.
    let readers_stop = CancellationToken::new();
    let _stop_readers = readers_stop.clone().drop_guard();
    let mut io_threads = Vec::new();

    let lockout = Arc::new(Lockout::new(config.pin.attempts, config.pin.lockout));
    let mut doors = Vec::new();
    for door in &config.doors {
        let parts = DoorParts::new(
            door,
            &config.pin,
            lockout.clone(),
            ids.doors[&door.name],
            db.access_list(),
            register.clone(),
            alarm_notices.clone(),
        )?;
        // The door contact and exit button, where the door has them.
        let inputs = gpio::watch_inputs(
            &door.name,
            door.contact.clone(),
            door.exit_button.clone(),
            parts.inputs.0.clone(),
            readers_stop.clone(),
        )?;
        io_threads.extend(inputs);
        doors.push(parts);
    }
    // Only the controllers hold senders: the alarm task ends when the last door stops.
    drop(alarm_notices);
    if let Some(rx) = alarm_rx {
        tasks.spawn(notify::alarms::run(rx, db.clone()));
    }
    // Stops after the doors, so their last alarms are queued; what is undelivered then
    // stays in the outbox for the next start.
    let notify_stop = CancellationToken::new();
    let _stop_notify = notify_stop.clone().drop_guard();
    let notify_task = tokio::spawn(notifier.run(db.outbox_doorbell(), notify_stop.clone()));

    let mut reader_handles = Vec::new();
    // OSDP readers on one port form one bus, driven by one task.
    let mut osdp_buses: Vec<Vec<osdp::BusMember>> = Vec::new();
    for reader in &config.readers {
        let Some(door) = doors.iter_mut().find(|d| d.controller.name == reader.door) else {
            anyhow::bail!("reader {:?}: no door {:?}", reader.name, reader.door);
        };
        let info = ReaderInfo {
            id: ids.readers[&reader.name],
            name: Arc::from(reader.name.as_str()),
            door: door.controller.id,
            direction: reader.direction,
            kind: reader.kind.as_str(),
        };
        let (feedback_tx, feedback_rx) = mpsc::channel(8);
        let (status_tx, status_rx) = watch::channel(ReaderStatus::Offline {
            detail: "starting".into(),
        });
        tasks.spawn(forward_status(
            info.id,
            status_rx.clone(),
            door.inputs.0.clone(),
            readers_stop.clone(),
        ));
        door.controller.readers.insert(
            info.id,
            ReaderSlot {
                info: info.clone(),
                repeat_window: reader.repeat_window,
                feedback: feedback_tx,
            },
        );
        let io = ReaderIo {
            output: ReaderOutput::new(info.id, door.events.0.clone(), Arc::new(status_tx))
                .with_door_inputs(door.inputs.0.clone()),
            feedback: feedback_rx,
            shutdown: readers_stop.clone(),
        };
        let mut osdp_requests = None;
        let simulated = match &reader.kind {
            ReaderKind::Simulated => {
                io.output.set_status(ReaderStatus::Online);
                Some(io.output)
            }
            ReaderKind::Pcsc { pattern } => {
                io_threads.push(pcsc::spawn(reader.name.clone(), pattern.clone(), io)?);
                None
            }
            ReaderKind::Serial(serial_config) => {
                tasks.spawn(serial::run(serial_config.clone(), io));
                None
            }
            ReaderKind::Osdp(osdp_config) => {
                let (requests_tx, requests) = mpsc::channel(1);
                osdp_requests = Some(requests_tx);
                let member = osdp::BusMember {
                    config: osdp_config.clone(),
                    io,
                    requests,
                };
                match osdp_buses
                    .iter_mut()
                    .find(|bus| bus.iter().any(|m| m.config.path == osdp_config.path))
                {
                    Some(bus) => bus.push(member),
                    None => osdp_buses.push(vec![member]),
                }
                None
            }
        };
        reader_handles.push(ReaderHandle {
            info,
            door_name: reader.door.clone(),
            status: status_rx,
            simulated,
            osdp: osdp_requests,
        });
    }

    for bus in osdp_buses {
        tasks.spawn(osdp::run(bus));
    }

    // Controllers stop after the API and the readers, so a door is locked last of all.
    let doors_stop = CancellationToken::new();
    let mut door_handles = Vec::new();
    for door in doors {
        door_handles.push(door.handle);
        let (controller, events, inputs, stop) = (
            door.controller,
            door.events.1,
            door.inputs.1,
            doors_stop.clone(),
        );
        tasks.spawn(async move { controller.run(events, inputs, stop).await });
    }

    let workflow = Arc::new(config.workflow.clone());
    tasks.spawn(store::scheduler::run(
        db.clone(),
        workflow.clone(),
        config.timezone,
        readers_stop.clone(),
    ));
    let state = AppState {
        db: db.clone(),
        devices: Arc::new(Devices {
            doors: door_handles,
            readers: reader_handles,
        }),
        timezone: config.timezone,
        db_path: Arc::from(db_path.as_path()),
        workflow,
        email_enabled: config.notify.smtp.is_some(),
    };
    let local = listener.local_addr()?;
    write_private(
        &config.data_dir.join(API_ADDR_FILE),
        local.to_string().as_bytes(),
        0o644,
    )?;
    tracing::info!(
        listen = %local,
        data_dir = %config.data_dir.display(),
        doors = config.doors.len(),
        readers = config.readers.len(),
        "lawang is running"
    );
    let app = api::router(state, config.max_body_bytes);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;

    readers_stop.cancel();
    let joined = tokio::task::spawn_blocking(move || {
        for t in io_threads {
            if t.join().is_err() {
                tracing::error!("a reader thread panicked");
            }
        }
    });
    if joined.await.is_err() {
        tracing::error!("could not wait for the reader threads");
    }
    doors_stop.cancel();
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r {
            tracing::error!(error = %e, "a task failed during shutdown");
        }
    }
    notify_stop.cancel();
    if let Err(e) = notify_task.await {
        tracing::error!(error = %e, "the notification task failed");
    }
    drop(register);
    if register_thread.join().is_err() {
        tracing::error!("the register writer panicked");
    }
    let _ = std::fs::remove_file(config.data_dir.join(API_ADDR_FILE));
    tracing::info!("lawang stopped: doors locked, register flushed");
    served.context("the API server failed")
}

/// A door's controller and channels, before its task starts.
struct DoorParts {
    controller: DoorController,
    handle: DoorHandle,
    events: (mpsc::Sender<ReaderMessage>, mpsc::Receiver<ReaderMessage>),
    inputs: (mpsc::Sender<DoorInput>, mpsc::Receiver<DoorInput>),
}

impl DoorParts {
    fn new(
        door: &DoorConfig,
        pin: &PinConfig,
        lockout: Arc<Lockout>,
        id: DoorId,
        access: Arc<AccessList>,
        register: RegisterWriter,
        alarm_notices: Option<mpsc::Sender<AlarmNotice>>,
    ) -> anyhow::Result<Self> {
        let (status, status_rx) = watch::channel(DoorStatus::new(Utc::now()));
        Ok(DoorParts {
            controller: DoorController {
                id,
                name: door.name.clone(),
                unlock_for: door.unlock,
                held_open_after: door.held_open,
                actuator: actuator::build(door)?,
                access,
                register,
                readers: HashMap::new(),
                status,
                pin_rule: door.pin.clone(),
                pin_timeout: pin.timeout,
                lockout,
                alarm_notices,
            },
            handle: DoorHandle {
                id,
                name: door.name.clone(),
                unlock_seconds: door.unlock.as_secs(),
                status: status_rx,
            },
            events: mpsc::channel(DOOR_QUEUE),
            inputs: mpsc::channel(DOOR_QUEUE),
        })
    }
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

/// On an empty database, makes the first admin token and writes it where only the service
/// user can read it. The token never goes to the log.
fn ensure_initial_token(db: &Db, data_dir: &Path) -> anyhow::Result<()> {
    let created = db.write_blocking(|tx| {
        if tokens::any(tx)? {
            return Ok((None, Changed::none()));
        }
        let actor = Actor {
            token_id: None,
            account_id: None,
            name: "lawang first start".into(),
            role: Role::Admin,
        };
        let t = tokens::create(tx, "initial admin", Role::Admin, &actor, Utc::now())?;
        Ok((Some(t.token), Changed::none()))
    })?;
    if let Some(token) = created {
        let path = data_dir.join(INITIAL_TOKEN_FILE);
        write_private(&path, format!("{token}\n").as_bytes(), 0o600)?;
        tracing::warn!(
            path = %path.display(),
            "first start: an admin token was written to this file; store it safely and delete the file"
        );
    }
    Ok(())
}

fn write_private(path: &PathBuf, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
