//! Notifications: the task that drains the outbox (`store::outbox`) to an SMTP relay and a
//! webhook, and the alarm webhooks.
//!
//! - [`Sender::run`] takes what is due, delivers it, records the outcome. It wakes when a
//!   write commits (the database's outbox doorbell), when the next retry is due, and at
//!   least once a minute. A failed attempt is retried after a delay that doubles up to a
//!   ceiling ([`RetryPolicy::after_failure`], pure), until `max_attempts`; a permanent
//!   refusal (an SMTP 5xx, an HTTP 4xx) is not retried.
//! - Delivery is at least once: a message is marked sent after the relay or the webhook
//!   accepted it, so a crash in between sends it again at the next start. At start every
//!   pending message is tried at once (the relay may just have been fixed).
//! - [`alarms`] turns the doors' alarm notices into `alarm.raised` / `alarm.cleared` events,
//!   off the door's path.
//!
//! Secrets (the SMTP password, the webhook signing key) are read from their files once, at
//! start, and never logged; failure messages recorded in the outbox never carry them, nor the
//! webhook URL (its path often is a token).

pub mod alarms;
pub mod smtp;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{NotifyConfig, RetryPolicy};
use crate::store::outbox::{self, Content, Due, Outcome, State};
use crate::store::{self, StoreError};

/// Messages taken from the outbox at a time.
const BATCH: u32 = 32;
/// The longest the task sleeps without looking at the outbox.
const SWEEP: Duration = Duration::from_secs(60);
/// How often finished messages past their retention are deleted.
const PRUNE_EVERY: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// Wait after the database failed, before looking again.
const STORE_RETRY: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{what} {path}: {reason}")]
    Secret {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("notify.smtp: {0}")]
    Smtp(String),
    #[error("notify.webhook: {0}")]
    Webhook(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why one delivery attempt failed. `error` is recorded and shown: it never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    /// The far end refused for good (trying again will not help).
    pub permanent: bool,
}

impl Failure {
    pub fn transient(error: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            permanent: false,
        }
    }

    pub fn permanent(error: impl Into<String>) -> Self {
        Failure {
            error: error.into(),
            permanent: true,
        }
    }
}

impl RetryPolicy {
    /// The wait after `failed` failed attempts (1, 2, …): `first`, doubled per further
    /// failure, never more than `max_delay`.
    pub fn delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .map_or(self.max_delay, |d| d.min(self.max_delay))
    }

    /// What becomes of a message whose attempt failed at `now`, `attempts` attempts having
    /// been made before this one.
    pub fn after_failure(&self, attempts: u32, failure: Failure, now: DateTime<Utc>) -> Outcome {
        let made = attempts.saturating_add(1);
        if failure.permanent || made >= self.max_attempts {
            return Outcome::Failed {
                error: failure.error,
            };
        }
        let wait = chrono::TimeDelta::from_std(self.delay(made)).unwrap_or(chrono::TimeDelta::MAX);
        Outcome::Retry {
            error: failure.error,
            at: now
                .checked_add_signed(wait)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

/// Reads a secret from its file: the content without the final line break. Warns (naming
/// the file, never the content) when other users may read it.
pub fn read_secret(what: &'static str, path: &Path) -> Result<String, NotifyError> {
    use std::os::unix::fs::PermissionsExt;
    let failed = |reason: String| NotifyError::Secret {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        return Err(failed("the file is empty".into()));
    }
    let mode = std::fs::metadata(path).map(|m| m.permissions().mode());
    if mode.is_ok_and(|m| m & 0o077 != 0) {
        tracing::warn!(file = %path.display(), "{what} is readable by other users: chmod 0600 it");
    }
    Ok(secret.to_owned())
}

/// The outbox's delivery task: its own connection, the relay and the webhook.
pub struct Sender {
    conn: Arc<Mutex<Connection>>,
    relay: Option<smtp::Relay>,
    webhook: Option<webhook::Webhook>,
    retry: RetryPolicy,
    retention: Duration,
}

impl Sender {
    /// Opens its connection and reads the secrets; fails (so the daemon does not start) on
    /// an unreadable secret file rather than losing mail later.
    pub fn new(config: &NotifyConfig, db_path: &Path) -> Result<Sender, NotifyError> {
        Ok(Sender {
            conn: Arc::new(Mutex::new(store::open(db_path)?)),
            relay: config.smtp.as_ref().map(smtp::Relay::new).transpose()?,
            webhook: config
                .webhook
                .as_ref()
                .map(webhook::Webhook::new)
                .transpose()?,
            retry: config.retry,
            retention: config.retention,
        })
    }

    /// Delivers until `stop`. An attempt still running at `stop` is abandoned: its message
    /// stays pending and is sent after the next start.
    pub async fn run(self, doorbell: Arc<Notify>, stop: CancellationToken) {
        tracing::info!(
            email = self.relay.is_some(),
            webhook = self.webhook.is_some(),
            "notifications: outbox delivery started"
        );
        let mut pruned_at: Option<DateTime<Utc>> = None;
        let now = Utc::now();
        match self.store(move |c| outbox::due_now(c, now)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                pending = n,
                "notifications: pending messages are tried again now"
            ),
            Err(e) => {
                tracing::error!(error = %e, "notifications: the outbox cannot be read or written")
            }
        }
        while !stop.is_cancelled() {
            let wait = match self.round(&mut pruned_at, &stop).await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = %e, "notifications: the outbox cannot be read or written");
                    STORE_RETRY
                }
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = doorbell.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("notifications: outbox delivery stopped");
    }

    /// Prunes if it is time, delivers what is due, and says how long to sleep.
    async fn round(
        &self,
        pruned_at: &mut Option<DateTime<Utc>>,
        stop: &CancellationToken,
    ) -> Result<Duration, StoreError> {
        let now = Utc::now();
        if pruned_at.is_none_or(|t| now - t >= PRUNE_EVERY) {
            let before =
                now - chrono::TimeDelta::from_std(self.retention).unwrap_or(chrono::TimeDelta::MAX);
            let n = self.store(move |c| outbox::prune(c, before)).await?;
            if n > 0 {
                tracing::info!(
                    deleted = n,
                    "notifications: finished messages past retention pruned"
                );
            }
            *pruned_at = Some(now);
        }
        let due = self.store(move |c| outbox::due(c, now, BATCH)).await?;
        for message in &due {
            let outcome = tokio::select! {
                _ = stop.cancelled() => return Ok(Duration::ZERO),
                outcome = self.deliver(message) => outcome,
            };
            log(message, &outcome);
            let id = message.id;
            self.store(move |c| outbox::record(c, id, &outcome, Utc::now()))
                .await?;
        }
        if due.len() == BATCH as usize {
            return Ok(Duration::ZERO);
        }
        let next = self.store(outbox::next_attempt).await?;
        Ok(next.map_or(SWEEP, |at| {
            (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(SWEEP)
        }))
    }

    async fn deliver(&self, message: &Due) -> Outcome {
        let result = match &message.content {
            Content::Email(email) => match &self.relay {
                None => return Outcome::Skipped(State::Disabled),
                Some(relay) => relay.send(email).await,
            },
            Content::Event { event, payload } => match &self.webhook {
                None => return Outcome::Skipped(State::Disabled),
                Some(hook) if !hook.wants(event) => return Outcome::Skipped(State::Filtered),
                Some(hook) => {
                    hook.post(message.id, event, message.created_at, payload)
                        .await
                }
            },
        };
        match result {
            Ok(()) => Outcome::Sent,
            Err(failure) => self
                .retry
                .after_failure(message.attempts, failure, Utc::now()),
        }
    }

    async fn store<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    ) -> Result<R, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| StoreError::Task("the outbox connection lock was poisoned".into()))?;
            f(&conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// One log line per outcome: which message, never its content or recipients.
fn log(message: &Due, outcome: &Outcome) {
    let (kind, event) = match &message.content {
        Content::Email(_) => ("email", None),
        Content::Event { event, .. } => ("webhook", Some(event.as_str())),
    };
    let (id, attempt) = (message.id, message.attempts + 1);
    match outcome {
        Outcome::Sent => tracing::info!(id, kind, event, attempt, "notification sent"),
        Outcome::Retry { error, at } => {
            tracing::warn!(id, kind, event, attempt, %error, next = %at, "notification not delivered; will retry")
        }
        Outcome::Failed { error } => {
            tracing::error!(id, kind, event, attempt, %error, "notification given up")
        }
        Outcome::Skipped(state) => {
            tracing::debug!(
                id,
                kind,
                event,
                state = state.as_str(),
                "notification not sent: nowhere to send it"
            )
        }
    }
}

#[cfg(test)]
mod tests;
