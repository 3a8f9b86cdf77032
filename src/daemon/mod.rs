//! Wires the tasks together: store → register writer → door controllers → readers → API,
//! and keeps them running for years: SIGHUP reloads the configuration door by door and
//! reader by reader ([`reload`]), systemd hears when the daemon is ready, reloading or
//! stopping and is pinged only while every door answers ([`sd_notify`], [`watchdog`]), and
//! old register lines are archived and pruned daily ([`retention`]). Beside them run the
//! notification task that drains the outbox, the workflow scheduler and the scheduled
//! reports.
//!
//! [`run`] takes its listener and shutdown token from the caller, so tests run a whole
//! daemon on `127.0.0.1:0` and stop it when they like.

mod clock;
mod desk;
mod devices;
mod driver;
pub mod reload;
mod retention;
pub mod sd_notify;
pub mod watchdog;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::door::AlarmNotice;
use crate::enrollment::Enrollment;
use crate::metrics::Metrics;
use crate::model::{Actor, Role};
use crate::notify;
use crate::store::register::{Observers, RegisterWriter};
use crate::store::{self, Changed, DB_FILE, Db, tokens};
pub use devices::{Devices, DoorHandle, ReaderHandle};
use sd_notify::Notifier;

/// Where the first admin token is written on first start; mode 0600.
pub const INITIAL_TOKEN_FILE: &str = "initial-admin-token";
/// The address the API listens on, for the CLI on the same machine.
pub const API_ADDR_FILE: &str = "api.addr";
/// Committed register lines an event-stream client may fall behind by before it is told
/// it lagged.
const EVENT_BUFFER: usize = 1024;
/// Alarm notices waiting to be queued as webhooks; beyond this they are dropped.
const ALARM_QUEUE: usize = 256;

/// Where reload requests (SIGHUP) come from and where the configuration is read again.
pub struct Reload {
    /// `--config`, or `None` for the default search.
    pub source: Option<PathBuf>,
    pub requests: mpsc::Receiver<()>,
}

impl Reload {
    /// No reloads (tests and embedders that restart instead).
    pub fn never() -> Reload {
        Reload {
            source: None,
            requests: mpsc::channel(1).1,
        }
    }
}

/// Runs the daemon until `shutdown` is cancelled, then locks every door, stops the readers
/// and flushes the register before returning.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
    mut reload: Reload,
) -> anyhow::Result<()> {
    let _lock = store::lock_data_dir(&config.data_dir)?;
    let db_path = config.data_dir.join(DB_FILE);
    let db = Db::open(&db_path, config.timezone)
        .with_context(|| format!("cannot open the database {}", db_path.display()))?;
    ensure_initial_token(&db, &config.data_dir)?;
    // Reads the SMTP password and the webhook key now: a bad secret file stops the start.
    let sender = notify::Sender::new(&config.notify, &db_path)?;
    let (alarm_notices, alarm_rx) = if notify::alarms::wanted(config.notify.webhook.as_ref()) {
        let (tx, rx) = mpsc::channel::<AlarmNotice>(ALARM_QUEUE);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    // Only the doors hold senders: the alarm task ends when the last door is dropped.
    let alarm_task = alarm_rx.map(|rx| tokio::spawn(notify::alarms::run(rx, db.clone())));
    // Stops after the doors, so their last alarms are queued; what is undelivered then
    // stays in the outbox for the next start.
    let notify_stop = CancellationToken::new();
    let _stop_notify = notify_stop.clone().drop_guard();
    let notify_task = tokio::spawn(sender.run(db.outbox_doorbell(), notify_stop.clone()));

    let metrics = Arc::new(Metrics::default());
    let enrollment = Enrollment::new();
    let committed = broadcast::channel(EVENT_BUFFER).0;
    let (register, register_thread) = RegisterWriter::start_observed(
        store::open(&db_path)?,
        Observers {
            metrics: metrics.register.clone(),
            committed: committed.clone(),
        },
        config.held_lines,
    )?;
    let notifier = Notifier::from_env();
    let mut running = devices::Running::new(
        db.clone(),
        register.clone(),
        metrics.clone(),
        config.pin.clone(),
        alarm_notices,
        config.visitors.escort_window,
        enrollment.clone(),
    );
    let first = reload::plan([], &config.pin, [], &config);
    let errors = running.apply(first).await;
    if !errors.is_empty() {
        running.shutdown().await;
        let all: Vec<String> = errors.iter().map(|e| format!("{e:#}")).collect();
        anyhow::bail!("{}", all.join("; "));
    }
    let devices = Arc::new(ArcSwap::from_pointee(running.devices()));
    let (current, current_rx) = watch::channel(Arc::new(config.clone()));

    let background = CancellationToken::new();
    let workflow = Arc::new(config.workflow.clone());
    let scheduler = tokio::spawn(store::scheduler::run(
        db.clone(),
        workflow.clone(),
        config.timezone,
        background.clone(),
    ));
    let report = Arc::new(config.report.clone());
    let reports = config.report.schedule.is_some().then(|| {
        tokio::spawn(crate::report::scheduled::run(
            db.clone(),
            Arc::from(db_path.as_path()),
            report.clone(),
            config.timezone,
            background.clone(),
        ))
    });
    let clock_metrics = metrics.clone();
    let state = AppState {
        db: db.clone(),
        devices: devices.clone(),
        timezone: config.timezone,
        db_path: Arc::from(db_path.as_path()),
        workflow,
        visitors: Arc::new(config.visitors.clone()),
        enrollment,
        report,
        email_enabled: config.notify.smtp.is_some(),
        metrics,
        events: committed,
        shutdown: shutdown.clone(),
        started: Utc::now(),
        secure_cookies: config.secure_cookies,
        auth_throttle: Arc::default(),
    };
    let local = listener.local_addr()?;
    write_private(
        &config.data_dir.join(API_ADDR_FILE),
        local.to_string().as_bytes(),
        0o644,
    )?;
    let app = api::router(
        state,
        api::Limits {
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
        },
    );
    let mut server = tokio::spawn(
        axum::serve(
            listener,
            // The client's address, for the wrong-token throttle.
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future(),
    );
    tracing::info!(
        listen = %local,
        data_dir = %config.data_dir.display(),
        doors = config.doors.len(),
        readers = config.readers.len(),
        "lawang is running"
    );
    notifier.ready("running");

    if let Some(every) = sd_notify::watchdog_interval() {
        tracing::info!(
            every_ms = every.as_millis() as u64,
            "systemd watchdog enabled"
        );
        tokio::spawn(watchdog::run(
            notifier.clone(),
            every,
            devices.clone(),
            background.clone(),
        ));
    }
    let clock = tokio::spawn(clock::run(
        db.clone(),
        devices.clone(),
        clock_metrics,
        background.clone(),
    ));
    let pruning = tokio::spawn(retention::run(
        db_path.clone(),
        config.data_dir.clone(),
        current_rx,
        background.clone(),
    ));

    let mut config = config;
    let mut shutdown_seen = false;
    // Until the API has drained (after `shutdown`) or failed; reloads meanwhile.
    let served = loop {
        tokio::select! {
            served = &mut server => break served,
            _ = shutdown.cancelled(), if !shutdown_seen => {
                shutdown_seen = true;
                notifier.stopping();
            }
            Some(()) = reload.requests.recv(), if !shutdown_seen => {
                if let Some(new) = reload::reload(&mut running, reload.source.as_deref(), &config, &notifier).await {
                    devices.store(Arc::new(running.devices()));
                    config = new;
                    current.send_replace(Arc::new(config.clone()));
                }
            }
        }
    };
    if !shutdown_seen {
        notifier.stopping();
        tracing::error!("the API server ended by itself; stopping");
    }
    background.cancel();
    let _ = pruning.await;
    let _ = clock.await;
    let _ = scheduler.await;
    if let Some(task) = reports {
        let _ = task.await;
    }
    running.shutdown().await;
    drop(running);
    if let Some(task) = alarm_task {
        let _ = task.await;
    }
    notify_stop.cancel();
    if let Err(e) = notify_task.await {
        tracing::error!(error = %e, "the notification task failed");
    }
    drop(register);
    let joined = tokio::task::spawn_blocking(move || register_thread.join().is_ok()).await;
    if !matches!(joined, Ok(true)) {
        tracing::error!("the register writer panicked");
    }
    let _ = std::fs::remove_file(config.data_dir.join(API_ADDR_FILE));
    tracing::info!("lawang stopped: doors locked, register flushed");
    served
        .context("the API server task failed")?
        .context("the API server failed")
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
