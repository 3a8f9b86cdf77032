//! Telling staff that something waits for them: recipients resolved to addresses, queued
//! in the outbox in the same transaction as the change that caused the notice.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::outbox::{self, Email};
use super::{Result, accounts};
use crate::model::Role;
use crate::workflow::texts::Text;

/// Who a notice is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum To {
    /// Every active account of the role.
    Role(Role),
    Account(i64),
    /// An address from a form (the applicant's).
    Email(String),
}

/// Queues `text` for everyone in `to` who has an address. Nobody with an address is not an
/// error: the step is still listed in their inbox and in the overdue report.
pub fn send(conn: &Connection, to: &[To], text: &Text, now: DateTime<Utc>) -> Result<()> {
    let mut addresses = BTreeSet::new();
    for t in to {
        match t {
            To::Role(role) => addresses.extend(accounts::emails_of_role(conn, *role)?),
            To::Account(id) => addresses.extend(accounts::email_of(conn, *id)?),
            To::Email(e) => {
                addresses.insert(e.clone());
            }
        }
    }
    if addresses.is_empty() {
        tracing::debug!(subject = %text.subject, "no address to notify");
        return Ok(());
    }
    outbox::queue_email(
        conn,
        &Email {
            to: addresses.into_iter().collect(),
            subject: text.subject.clone(),
            body: text.body.clone(),
        },
        now,
    )?;
    Ok(())
}

/// For integrations: a webhook event alongside the email.
pub fn event(
    conn: &Connection,
    name: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    outbox::queue_event(conn, name, &payload, now)?;
    Ok(())
}
