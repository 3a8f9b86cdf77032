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

/// `lawang generate-register`: a synthetic register in a new file (see `store::synthetic`).
pub fn generate_register(
    path: &Path,
    rows: u64,
    days: u32,
    staff: u32,
    seed: u64,
) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!("{} exists; give a new file", path.display());
    }
    let mut conn = store::open(path)?;
    // A scratch file: no fsync per transaction needed.
    conn.execute_batch("PRAGMA synchronous = OFF")?;
    let today = Utc::now().date_naive();
    let start = today
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(today)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let plan = store::synthetic::Plan {
        rows,
        start,
        days,
        staff: staff.max(1),
        seed,
    };
    let started = std::time::Instant::now();
    store::synthetic::generate(&mut conn, &plan, |n| {
        eprint!("\r{n} of {rows} register lines");
    })?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    eprintln!(
        "\r{rows} register lines over {days} days written to {} in {:.1} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
