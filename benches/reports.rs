//! `cargo bench --bench reports`: the periodic access report and the register CSV export over
//! a large synthetic register (`store::synthetic`, the same as `lawang generate-register`):
//! time and peak memory of each. Full run: 1M and 10M lines over two years (the default
//! retention); `cargo bench --bench reports -- quick`: 100k lines, for CI.
//!
//! Peak memory is the process's resident high-water mark (VmHWM), reset before each step by
//! writing 5 to /proc/self/clear_refs, so each figure is that step's own peak.

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use chrono::{Datelike, Utc};
use lawang::config::ReportConfig;
use lawang::report::Lang;
use lawang::report::csv::RegisterCsv;
use lawang::report::period::Period;
use lawang::store::register::{self, RegisterFilter};
use lawang::store::reports::{AccessQuery, access_report};
use lawang::store::synthetic::{Plan, generate};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Jakarta;

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let sizes: &[u64] = if quick {
        &[100_000]
    } else {
        &[1_000_000, 10_000_000]
    };
    println!(
        "# Reports over a synthetic register ({})\n",
        if quick { "quick" } else { "full" }
    );
    println!("| register lines | step | lines read | seconds | peak RSS (MiB) | output |");
    println!("|---:|---|---:|---:|---:|---:|");
    for &rows in sizes {
        run(rows);
    }
}

fn run(rows: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("register.sqlite3");
    let mut conn = lawang::store::open(&path).unwrap();
    conn.execute_batch("PRAGMA synchronous = OFF").unwrap();
    let days = 730;
    let today = Utc::now().with_timezone(&TZ).date_naive();
    let start = (today - chrono::Days::new(days))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let plan = Plan {
        rows,
        start,
        days: days as u32,
        staff: 300,
        seed: 7,
    };
    let (_, t, peak) = measure(|| generate(&mut conn, &plan, |_| {}).unwrap());
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let bytes = std::fs::metadata(&path).unwrap().len();
    line(
        rows,
        "generate (one transaction)",
        rows,
        t,
        peak,
        &format!("{:.0} MB file", bytes as f64 / 1e6),
    );

    let cfg = ReportConfig::default();
    let month = Period::previous_month(today);
    let (from, until) = month.bounds(TZ);
    let q = AccessQuery {
        period: month,
        door: None,
    };
    for attempt in ["first", "second"] {
        let (r, t, peak) =
            measure(|| access_report(&conn, &q, &cfg, TZ, Utc::now(), |_| {}).unwrap());
        let read = r.totals.entries
            + r.totals.exits
            + r.totals.refused
            + r.totals.exit_buttons
            + r.totals.alarms;
        line(
            rows,
            &format!("monthly report {} ({attempt} run)", month_name(today)),
            read,
            t,
            peak,
            &format!("{} people", r.people.len()),
        );
    }
    let doc = {
        let r = access_report(&conn, &q, &cfg, TZ, Utc::now(), |_| {}).unwrap();
        lawang::report::access_doc::document(&r, &cfg, Lang::Id, TZ)
    };
    let (pdf, t, peak) = measure(|| {
        lawang::report::render(&doc, lawang::report::doc::Format::Pdf, b',', Lang::Id).unwrap()
    });
    line(
        rows,
        "monthly report as PDF (rendering only)",
        0,
        t,
        peak,
        &format!("{} kB", pdf.len() / 1000),
    );
    let all = Period::Custom(
        lawang::report::TimeSpec::Instant(start),
        lawang::report::TimeSpec::Instant(Utc::now() + chrono::Duration::days(1)),
    );
    let q = AccessQuery {
        period: all,
        door: None,
    };
    let (r, t, peak) = measure(|| access_report(&conn, &q, &cfg, TZ, Utc::now(), |_| {}).unwrap());
    let read = r.totals.entries
        + r.totals.exits
        + r.totals.refused
        + r.totals.exit_buttons
        + r.totals.alarms;
    line(
        rows,
        "report over the whole register (two years)",
        read,
        t,
        peak,
        "",
    );

    for (what, filter) in [
        (
            "CSV export of the month",
            RegisterFilter {
                from: Some(from),
                until: Some(until),
                ..RegisterFilter::default()
            },
        ),
        (
            "CSV export of the whole register",
            RegisterFilter::default(),
        ),
    ] {
        let out = dir.path().join("export.csv");
        let ((n, size), t, peak) = measure(|| {
            let file = BufWriter::with_capacity(64 * 1024, std::fs::File::create(&out).unwrap());
            let mut csv = RegisterCsv::new(file, b';', Lang::Id, TZ).unwrap();
            let mut n = 0u64;
            register::for_each(&conn, &filter, |e| {
                n += 1;
                csv.row(&e)
                    .map_err(|e| lawang::store::StoreError::Task(e.to_string()))
            })
            .unwrap();
            csv.finish().unwrap().flush().unwrap();
            (n, std::fs::metadata(&out).unwrap().len())
        });
        line(
            rows,
            what,
            n,
            t,
            peak,
            &format!("{:.0} MB", size as f64 / 1e6),
        );
    }
}

fn month_name(today: chrono::NaiveDate) -> String {
    let first = today.with_day(1).unwrap();
    (first - chrono::Days::new(1)).format("%Y-%m").to_string()
}

fn line(rows: u64, step: &str, read: u64, t: Duration, peak_kib: u64, output: &str) {
    println!(
        "| {rows} | {step} | {} | {:.3} | {:.1} | {output} |",
        if read == 0 {
            String::new()
        } else {
            read.to_string()
        },
        t.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
}

/// Runs `f`; returns its value, its wall time and the peak resident memory (KiB) while it ran.
fn measure<T>(f: impl FnOnce() -> T) -> (T, Duration, u64) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let started = Instant::now();
    let v = f();
    let t = started.elapsed();
    (v, t, status_kib("VmHWM:"))
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
