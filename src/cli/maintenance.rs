//! `lawang backup`, `lawang restore` and `lawang audit verify`, on the database file
//! directly (see `store::backup`, `store::chain`). A backup and a verify run beside the
//! daemon; a restore only while it is stopped.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;

use crate::config::Config;
use crate::store::{self, backup, chain};

pub fn backup(config: &Config, dest: &Path) -> anyhow::Result<()> {
    let db = config.data_dir.join(store::DB_FILE);
    let c =
        backup::backup(&db, dest).with_context(|| format!("backup of {} failed", db.display()))?;
    println!(
        "backup written to {}: {} register lines, schema version {}, {} bytes, integrity ok",
        dest.display(),
        c.register_lines,
        c.schema_version,
        c.bytes
    );
    Ok(())
}

pub fn restore(config: &Config, from: &Path) -> anyhow::Result<()> {
    let r = backup::restore(&config.data_dir, from, Utc::now()).with_context(|| {
        format!(
            "restore of {} into {} failed",
            from.display(),
            config.data_dir.display()
        )
    })?;
    println!(
        "restored {}: {} register lines, schema version {}, integrity ok",
        from.display(),
        r.copied.register_lines,
        r.copied.schema_version
    );
    if let Some(previous) = r.previous {
        println!("the database it replaced is kept as {}", previous.display());
    }
    Ok(())
}

/// Verifies the hash chains on a read-only connection; a broken chain is an error (exit 1)
/// after the report is printed.
pub fn verify(config: &Config, json: bool) -> anyhow::Result<()> {
    let db = config.data_dir.join(store::DB_FILE);
    let conn = rusqlite::Connection::open_with_flags(
        &db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open {}", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < store::SCHEMA_VERSION {
        anyhow::bail!(
            "{} has schema version {version}, before the hash chains (version {}); start \
             the daemon once to migrate it",
            db.display(),
            store::SCHEMA_VERSION
        );
    }
    let reports =
        chain::verify(&conn).with_context(|| format!("cannot verify {}", db.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            println!(
                "{}: {} rows checked (ids {}..{}), head {}",
                r.table.name(),
                r.rows,
                r.first_id.map_or("-".into(), |i| i.to_string()),
                r.head_id.map_or("-".into(), |i| i.to_string()),
                r.head.as_deref().unwrap_or("-"),
            );
            if let Some(b) = &r.broken {
                println!(
                    "  BROKEN at {} row {} ({}): {}",
                    r.table.name(),
                    b.id,
                    b.kind,
                    b.detail
                );
            }
        }
    }
    match reports.iter().find_map(|r| r.broken.as_ref()) {
        Some(b) => anyhow::bail!(
            "the {} chain is broken at row {} ({})",
            b.table.name(),
            b.id,
            b.kind
        ),
        None => Ok(()),
    }
}
