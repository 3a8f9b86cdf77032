//! Placeholder until the notify branch lands: same interface, nothing delivered.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub body: String,
}

pub fn queue_email(_conn: &Connection, email: &Email, _now: DateTime<Utc>) -> super::Result<i64> {
    tracing::debug!(to = ?email.to, subject = %email.subject, "email queued");
    Ok(0)
}

pub fn queue_event(
    _conn: &Connection,
    event: &str,
    _payload: &serde_json::Value,
    _now: DateTime<Utc>,
) -> super::Result<i64> {
    tracing::debug!(event, "event queued");
    Ok(0)
}
