//! `lawang backup` and `lawang restore`, on the database file directly (see
//! `store::backup`). A backup runs beside the daemon; a restore only while it is stopped.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;

use crate::config::Config;
use crate::store::{self, backup};

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
