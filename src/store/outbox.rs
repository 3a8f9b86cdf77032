//! The notification outbox: emails to staff and webhook events, queued in the same
//! transaction as the change that caused them, so a change and its notification commit
//! together or not at all. The notify task (`crate::notify`) delivers them; this module only
//! stores, hands out what is due, records outcomes and prunes.
//!
//! Every message is queued whatever the configuration: the notify task marks those with
//! nowhere to go `disabled` (or `filtered`), so an admin can see who would have been told.
//! Finished messages are pruned after the retention period, so the table stays bounded.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Result, StoreError, from_ms, to_ms};

/// An email to staff, queued in the same transaction as the change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

/// Queues `email` for delivery; returns its outbox id. Call it inside the write transaction
/// of the change it tells about (`Db::write`): the notify task is woken when that commits.
///
/// Only malformed input is refused (no recipient, a line break in an address or the
/// subject); an address the relay cannot use fails at delivery and shows in the log.
pub fn queue_email(conn: &Connection, email: &Email, now: DateTime<Utc>) -> Result<i64> {
    if email.to.is_empty() {
        return Err(StoreError::Invalid("an email needs a recipient".into()));
    }
    for to in &email.to {
        if to.trim().is_empty() || to.contains(['\r', '\n']) {
            return Err(StoreError::Invalid(format!(
                "{to:?} is not an email address"
            )));
        }
    }
    if email.subject.contains(['\r', '\n']) {
        return Err(StoreError::Invalid("an email subject is one line".into()));
    }
    let recipients = serde_json::to_string(&email.to)
        .map_err(|e| StoreError::Invalid(format!("recipients: {e}")))?;
    insert(
        conn,
        Kind::Email,
        None,
        Some(&recipients),
        Some(&email.subject),
        &email.body,
        now,
    )
}

/// Queues a webhook event (e.g. `"alarm.raised"`, `"workflow.step_waiting"`) with its JSON
/// payload; returns its outbox id. Like [`queue_email`], inside the causing transaction.
pub fn queue_event(
    conn: &Connection,
    event: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    if !valid_event_name(event) {
        return Err(StoreError::Invalid(format!(
            "{event:?} is not an event name: lowercase letters, digits, '_' and '.', such as \"alarm.raised\""
        )));
    }
    insert(
        conn,
        Kind::Webhook,
        Some(event),
        None,
        None,
        &payload.to_string(),
        now,
    )
}

/// Event names: `area.what`, lowercase ASCII, so they can be listed in the configuration.
pub fn valid_event_name(event: &str) -> bool {
    (1..=64).contains(&event.len())
        && event
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

fn insert(
    conn: &Connection,
    kind: Kind,
    event: Option<&str>,
    recipients: Option<&str>,
    subject: Option<&str>,
    body: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO outbox (kind, event, recipients, subject, body, state, created_at,
                             next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
    )?
    .execute(params![
        kind.as_str(),
        event,
        recipients,
        subject,
        body,
        to_ms(now)
    ])?;
    Ok(conn.last_insert_rowid())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Email,
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Webhook => "webhook",
        }
    }

    fn parse(s: &str) -> Kind {
        if s == "email" {
            Kind::Email
        } else {
            Kind::Webhook
        }
    }
}

/// Where a message is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for its (next) attempt.
    Pending,
    Sent,
    /// Given up: the last attempt allowed failed, or the failure was permanent.
    Failed,
    /// Not sent: no relay (email) or no webhook (event) was configured when it was due.
    Disabled,
    /// Not sent: the webhook is configured for other events only.
    Filtered,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Disabled => "disabled",
            State::Filtered => "filtered",
        }
    }

    fn parse(s: &str) -> State {
        match s {
            "sent" => State::Sent,
            "failed" => State::Failed,
            "disabled" => State::Disabled,
            "filtered" => State::Filtered,
            _ => State::Pending,
        }
    }
}

/// A message whose attempt is due, as the notify task needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: i64,
    /// Attempts made so far.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Email(Email),
    Event {
        event: String,
        payload: serde_json::Value,
    },
}

/// Pending messages whose next attempt is at or before `now`, oldest first.
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: u32) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, event, recipients, subject, body, attempts, created_at FROM outbox
         WHERE state = 'pending' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![to_ms(now), limit], |r| {
        let kind: String = r.get(1)?;
        let body: String = r.get(5)?;
        let content = if Kind::parse(&kind) == Kind::Email {
            let recipients: Option<String> = r.get(3)?;
            Content::Email(Email {
                to: recipients
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
                subject: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                body,
            })
        } else {
            Content::Event {
                event: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                payload: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            }
        };
        Ok(Due {
            id: r.get(0)?,
            attempts: r.get(6)?,
            created_at: from_ms(r.get(7)?),
            content,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the earliest pending message is due, if any.
pub fn next_attempt(conn: &Connection) -> Result<Option<DateTime<Utc>>> {
    let ms: Option<i64> = conn
        .prepare_cached("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(ms.map(from_ms))
}

/// Makes every pending message due at `now` at the latest: at start, after an admin may
/// have fixed the relay, nothing waits out a long retry delay. Returns how many.
pub fn due_now(conn: &Connection, now: DateTime<Utc>) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at > ?1",
        )?
        .execute(params![to_ms(now)])?)
}

/// What became of one message when it was due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// The attempt failed; try again at `at`.
    Retry {
        error: String,
        at: DateTime<Utc>,
    },
    /// The attempt failed and no other will be made.
    Failed {
        error: String,
    },
    /// Not attempted: nowhere to send it (`State::Disabled` or `State::Filtered`).
    Skipped(State),
}

/// Records `outcome` for message `id` at `now`. Only a real attempt counts in `attempts`.
pub fn record(conn: &Connection, id: i64, outcome: &Outcome, now: DateTime<Utc>) -> Result<()> {
    let now = to_ms(now);
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET state = ?2, attempts = attempts + ?3, last_error = ?4,
                next_attempt_at = ?5, last_attempt_at = coalesce(?6, last_attempt_at),
                sent_at = ?7, finished_at = ?8
         WHERE id = ?1 AND state = 'pending'",
    )?;
    let n = match outcome {
        Outcome::Sent => stmt.execute(params![
            id,
            State::Sent.as_str(),
            1,
            None::<String>,
            None::<i64>,
            now,
            now,
            now
        ])?,
        Outcome::Retry { error, at } => stmt.execute(params![
            id,
            State::Pending.as_str(),
            1,
            error,
            to_ms(*at),
            now,
            None::<i64>,
            None::<i64>
        ])?,
        Outcome::Failed { error } => stmt.execute(params![
            id,
            State::Failed.as_str(),
            1,
            error,
            None::<i64>,
            now,
            None::<i64>,
            now
        ])?,
        Outcome::Skipped(state) => stmt.execute(params![
            id,
            state.as_str(),
            0,
            None::<String>,
            None::<i64>,
            None::<i64>,
            None::<i64>,
            now
        ])?,
    };
    if n == 0 {
        return Err(StoreError::NotFound(format!("pending outbox message {id}")));
    }
    Ok(())
}

/// Deletes finished messages (sent, failed, disabled, filtered) that finished before
/// `before`; returns how many. Pending messages are never pruned.
pub fn prune(conn: &Connection, before: DateTime<Utc>) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM outbox WHERE state != 'pending' AND finished_at < ?1")?
        .execute(params![to_ms(before)])?)
}

/// A message as the delivery log shows it: who, what, how it went. Never the body or the
/// payload, which may carry more than the log's readers should see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: Kind,
    /// Webhook: the event name.
    pub event: Option<String>,
    /// Email: the recipients.
    pub to: Vec<String>,
    /// Email: the subject.
    pub subject: Option<String>,
    pub state: State,
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Pending: when the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Clone)]
pub struct NotificationFilter {
    pub state: Option<State>,
    pub kind: Option<Kind>,
    /// Paging: messages older than this id (newest first).
    pub before_id: Option<i64>,
    pub limit: u32,
}

/// The delivery log, newest first.
pub fn list(conn: &Connection, f: &NotificationFilter) -> Result<Vec<Notification>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, event, recipients, subject, state, attempts, last_error, created_at,
                next_attempt_at, last_attempt_at, sent_at
         FROM outbox
         WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR id < ?3)
         ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![
            f.state.map(State::as_str),
            f.kind.map(Kind::as_str),
            f.before_id,
            f.limit
        ],
        |r| {
            let kind: String = r.get(1)?;
            let recipients: Option<String> = r.get(3)?;
            let state: String = r.get(5)?;
            let time = |i: usize| r.get::<_, Option<i64>>(i).map(|t| t.map(from_ms));
            Ok(Notification {
                id: r.get(0)?,
                kind: Kind::parse(&kind),
                event: r.get(2)?,
                to: recipients
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default(),
                subject: r.get(4)?,
                state: State::parse(&state),
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                created_at: from_ms(r.get(8)?),
                next_attempt_at: time(9)?,
                last_attempt_at: time(10)?,
                sent_at: time(11)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests;
