//! Versioned schema migrations, tracked in `PRAGMA user_version`.

use std::path::Path;

use rusqlite::Connection;

use super::{Result, StoreError};

/// A step in Rust that runs after a migration's SQL, in the same transaction.
type Step = fn(&Connection) -> Result<()>;

/// Each entry moves the schema from version `i` to `i + 1`. Append only: a released
/// migration is never edited.
const MIGRATIONS: &[(&str, Option<Step>)] = &[
    (include_str!("migrations/0001_initial.sql"), None),
    (include_str!("migrations/0002_person_pin.sql"), None),
    (include_str!("migrations/0003_workflow.sql"), None),
    (include_str!("migrations/0004_outbox.sql"), None),
    (include_str!("migrations/0005_visits.sql"), None),
    (
        include_str!("migrations/0006_chain.sql"),
        Some(chain_existing_rows),
    ),
    (include_str!("migrations/0007_report_runs.sql"), None),
    (include_str!("migrations/0008_staff_login.sql"), None),
];

/// Chains the rows written before the chain existed (migration 0006).
fn chain_existing_rows(conn: &Connection) -> Result<()> {
    super::chain::backfill(conn, super::chain::Table::Register)?;
    super::chain::backfill(conn, super::chain::Table::Audit)
}

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub(super) fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, (sql, step)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = i as i64 + 1;
        // One transaction per step: a crash mid-migration leaves the previous version.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = conn
            .execute_batch(sql)
            .map_err(Into::into)
            .and_then(|()| step.map_or(Ok(()), |step| step(conn)))
            .and_then(|()| Ok(conn.execute_batch(&format!("PRAGMA user_version = {version}"))?));
        match done {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        tracing::info!(version, "database schema migrated");
    }
    Ok(())
}
