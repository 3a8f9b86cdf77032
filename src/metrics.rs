//! Prometheus metrics: what the door did (taps by decision and reason, decision latency,
//! alarms, register commits) counted with atomics on the hot path, and the state of doors
//! and readers read from their status channels at scrape time.
//!
//! The controller's tap path only does relaxed atomic adds on counters it already holds an
//! `Arc` to: no lock, no allocation, no map lookup. The registry's mutex is taken when a
//! door is started and when `/metrics` is scraped, never per tap. Counters are kept per door
//! name, so a door restarted by a reload keeps counting where it was.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::decision::Reason;
use crate::door::{Alarm, DoorStatus, Strike};

/// Upper bounds of the latency buckets, in seconds: from 50 µs (a decision) to 5 s (an
/// fsync on a struggling SD card).
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0,
];
const BUCKETS_NS: [u64; 16] = {
    let mut ns = [0u64; 16];
    let mut i = 0;
    while i < BUCKETS.len() {
        ns[i] = (BUCKETS[i] * 1e9) as u64;
        i += 1;
    }
    ns
};

/// A latency histogram updated with three relaxed atomic adds.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per bucket (not cumulative); the last slot counts what is above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let i = BUCKETS_NS.partition_point(|&bound| bound < ns);
        self.buckets[i].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.buckets[BUCKETS.len()].load(Relaxed);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.sum_ns.load(Relaxed) as f64 / 1e9;
        let braced = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braced} {sum}");
        let _ = writeln!(out, "{name}_count{braced} {cumulative}");
    }
}

/// One door's counters, held by its controller.
#[derive(Debug, Default)]
pub struct DoorMetrics {
    taps: [AtomicU64; Reason::ALL.len()],
    /// From the reader's read to the final decision (for a grant: its line on disk, just
    /// before the strike moves). Card + PIN decisions are left out: they wait for a person.
    pub decision: Histogram,
    alarms: [AtomicU64; Alarm::ALL.len()],
}

impl DoorMetrics {
    /// Counts a final decision; `latency` when it is the door's and not a person's.
    pub fn tap(&self, reason: Reason, latency: Option<Duration>) {
        self.taps[reason as usize].fetch_add(1, Relaxed);
        if let Some(d) = latency {
            self.decision.observe(d);
        }
    }

    pub fn alarm_raised(&self, alarm: Alarm) {
        self.alarms[alarm as usize].fetch_add(1, Relaxed);
    }

    pub fn taps(&self, reason: Reason) -> u64 {
        self.taps[reason as usize].load(Relaxed)
    }
}

/// The register writer's counters.
#[derive(Debug, Default)]
pub struct RegisterMetrics {
    /// One transaction with its fsync, per batch of lines.
    pub commit: Histogram,
    pub lines: AtomicU64,
    /// Lines lost: not written and not held (see `store::register::held`).
    pub failed_lines: AtomicU64,
    /// Lines waiting in memory for the register to be writable again.
    pub held_lines: AtomicU64,
    /// Failed attempts to write the register (a batch or the held lines).
    pub write_failures: AtomicU64,
    /// 1 while the register cannot be written.
    pub unwritable: AtomicU64,
    /// Wall-clock jumps seen (the wall clock moved apart from the monotonic one).
    pub clock_jumps: AtomicU64,
}

/// Every counter of the daemon.
#[derive(Debug, Default)]
pub struct Metrics {
    doors: Mutex<BTreeMap<String, Arc<DoorMetrics>>>,
    pub register: Arc<RegisterMetrics>,
}

/// What is read from the devices and the store at scrape time.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub doors: Vec<(String, DoorStatus)>,
    /// Name, door, kind, online, frames that were not card reads.
    pub readers: Vec<(String, String, &'static str, bool, u64)>,
    /// Workflow steps waiting for someone, by kind of case.
    pub workflow: Vec<crate::store::backlog::Backlog>,
    /// Clients on the live event stream.
    pub event_subscribers: usize,
    pub start_time_seconds: i64,
}

impl Metrics {
    /// The counters of door `name`, the same ones across restarts of that door.
    pub fn door(&self, name: &str) -> Arc<DoorMetrics> {
        let mut doors = self.doors.lock().unwrap_or_else(|e| e.into_inner());
        doors.entry(name.to_owned()).or_default().clone()
    }

    /// The text exposition format (version 0.0.4). Doors no longer configured are left out.
    pub fn render(&self, now: &Snapshot) -> String {
        let doors: Vec<(String, Arc<DoorMetrics>)> = {
            let all = self.doors.lock().unwrap_or_else(|e| e.into_inner());
            now.doors
                .iter()
                .filter_map(|(name, _)| all.get(name).map(|m| (name.clone(), m.clone())))
                .collect()
        };
        let mut out = String::with_capacity(8192);
        header(
            &mut out,
            "lawang_build_info",
            "gauge",
            "Version of the running daemon.",
        );
        let _ = writeln!(
            out,
            "lawang_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        header(
            &mut out,
            "lawang_start_time_seconds",
            "gauge",
            "When the daemon started, seconds since the Unix epoch.",
        );
        let _ = writeln!(out, "lawang_start_time_seconds {}", now.start_time_seconds);

        header(
            &mut out,
            "lawang_taps_total",
            "counter",
            "Card reads decided at a door, by decision and reason.",
        );
        for (door, m) in &doors {
            for reason in Reason::ALL {
                // An interim answer while a PIN is typed; never a final decision.
                if reason == Reason::PinRequired {
                    continue;
                }
                let decision = if reason == Reason::Granted {
                    "granted"
                } else {
                    "refused"
                };
                let _ = writeln!(
                    out,
                    "lawang_taps_total{{door=\"{}\",decision=\"{decision}\",reason=\"{}\"}} {}",
                    escape(door),
                    reason.code(),
                    m.taps(reason)
                );
            }
        }
        header(
            &mut out,
            "lawang_decision_duration_seconds",
            "histogram",
            "From the card read to the final decision (a grant: its register line on disk).",
        );
        for (door, m) in &doors {
            m.decision.render(
                &mut out,
                "lawang_decision_duration_seconds",
                &format!("door=\"{}\"", escape(door)),
            );
        }

        header(
            &mut out,
            "lawang_door_unlocked",
            "gauge",
            "1 while the strike is unlocked.",
        );
        for (door, s) in &now.doors {
            let v = u8::from(s.strike == Strike::Unlocked);
            let _ = writeln!(out, "lawang_door_unlocked{{door=\"{}\"}} {v}", escape(door));
        }
        header(
            &mut out,
            "lawang_door_open",
            "gauge",
            "1 while the door contact reports the door open (doors with a contact).",
        );
        for (door, s) in &now.doors {
            if let Some(c) = s.contact {
                let v = u8::from(c == crate::door::Contact::Open);
                let _ = writeln!(out, "lawang_door_open{{door=\"{}\"}} {v}", escape(door));
            }
        }
        header(
            &mut out,
            "lawang_alarm_active",
            "gauge",
            "Alarms in force now, by door and alarm.",
        );
        for (door, s) in &now.doors {
            for alarm in Alarm::ALL {
                let n = s.alarms.iter().filter(|a| a.alarm == alarm).count();
                let _ = writeln!(
                    out,
                    "lawang_alarm_active{{door=\"{}\",alarm=\"{}\"}} {n}",
                    escape(door),
                    alarm.code()
                );
            }
        }
        header(
            &mut out,
            "lawang_alarms_raised_total",
            "counter",
            "Alarms raised since start, by door and alarm.",
        );
        for (door, m) in &doors {
            for alarm in Alarm::ALL {
                let _ = writeln!(
                    out,
                    "lawang_alarms_raised_total{{door=\"{}\",alarm=\"{}\"}} {}",
                    escape(door),
                    alarm.code(),
                    m.alarms[alarm as usize].load(Relaxed)
                );
            }
        }
        header(
            &mut out,
            "lawang_reader_online",
            "gauge",
            "1 while the reader's device is reachable.",
        );
        for (reader, door, kind, online, _) in &now.readers {
            let _ = writeln!(
                out,
                "lawang_reader_online{{reader=\"{}\",door=\"{}\",kind=\"{kind}\"}} {}",
                escape(reader),
                escape(door),
                u8::from(*online)
            );
        }
        header(
            &mut out,
            "lawang_reader_bad_frames_total",
            "counter",
            "Frames on a serial reader's line that were not card reads (noise, bad checksum or parity).",
        );
        for (reader, door, kind, _, bad) in &now.readers {
            let _ = writeln!(
                out,
                "lawang_reader_bad_frames_total{{reader=\"{}\",door=\"{}\",kind=\"{kind}\"}} {bad}",
                escape(reader),
                escape(door),
            );
        }

        let r = &self.register;
        header(
            &mut out,
            "lawang_register_commit_duration_seconds",
            "histogram",
            "One register transaction with its fsync (a batch of lines).",
        );
        r.commit
            .render(&mut out, "lawang_register_commit_duration_seconds", "");
        header(
            &mut out,
            "lawang_register_lines_total",
            "counter",
            "Register lines committed.",
        );
        let _ = writeln!(out, "lawang_register_lines_total {}", r.lines.load(Relaxed));
        header(
            &mut out,
            "lawang_register_failed_lines_total",
            "counter",
            "Register lines that could not be written.",
        );
        let _ = writeln!(
            out,
            "lawang_register_failed_lines_total {}",
            r.failed_lines.load(Relaxed)
        );
        for (name, kind, help, value) in [
            (
                "lawang_register_held_lines",
                "gauge",
                "Register lines held in memory because the register cannot be written.",
                &r.held_lines,
            ),
            (
                "lawang_register_write_failures_total",
                "counter",
                "Failed attempts to write register lines (disk full, I/O error).",
                &r.write_failures,
            ),
            (
                "lawang_register_unwritable",
                "gauge",
                "1 while the register cannot be written (alarm register_unwritable).",
                &r.unwritable,
            ),
            (
                "lawang_clock_jumps_total",
                "counter",
                "Wall-clock jumps detected (wall and monotonic time apart by more than the threshold).",
                &r.clock_jumps,
            ),
        ] {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
        header(
            &mut out,
            "lawang_workflow_open_steps",
            "gauge",
            "Workflow steps (requests, review items, removals, accounts elsewhere) waiting for someone.",
        );
        for b in &now.workflow {
            let _ = writeln!(
                out,
                "lawang_workflow_open_steps{{case=\"{}\"}} {}",
                b.case, b.open
            );
        }
        header(
            &mut out,
            "lawang_workflow_overdue_steps",
            "gauge",
            "Waiting workflow steps past their time standard (Mutu Baku Waktu).",
        );
        for b in &now.workflow {
            let _ = writeln!(
                out,
                "lawang_workflow_overdue_steps{{case=\"{}\"}} {}",
                b.case, b.overdue
            );
        }
        header(
            &mut out,
            "lawang_event_stream_clients",
            "gauge",
            "Clients connected to the live event stream.",
        );
        let _ = writeln!(out, "lawang_event_stream_clients {}", now.event_subscribers);
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Label values: backslash, double quote and line feed escaped, as the format requires.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::door::ActiveAlarm;
    use chrono::Utc;

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_bounds_inclusive() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(50));
        h.observe(Duration::from_micros(51));
        h.observe(Duration::from_secs(10));
        let mut out = String::new();
        h.render(&mut out, "x", "door=\"d\"");
        assert_eq!(
            sample(&out, "x_bucket{door=\"d\",le=\"0.00005\"}"),
            Some(1.0)
        );
        assert_eq!(
            sample(&out, "x_bucket{door=\"d\",le=\"0.0001\"}"),
            Some(2.0)
        );
        assert_eq!(sample(&out, "x_bucket{door=\"d\",le=\"5\"}"), Some(2.0));
        assert_eq!(sample(&out, "x_bucket{door=\"d\",le=\"+Inf\"}"), Some(3.0));
        assert_eq!(sample(&out, "x_count{door=\"d\"}"), Some(3.0));
        let sum = sample(&out, "x_sum{door=\"d\"}").unwrap();
        assert!((sum - 10.000_101).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn a_door_keeps_its_counters_and_only_configured_doors_are_shown() {
        let m = Metrics::default();
        m.door("ruang-server")
            .tap(Reason::Granted, Some(Duration::from_micros(300)));
        m.door("ruang-server").tap(Reason::CredentialRevoked, None);
        m.door("gudang").tap(Reason::Granted, None);
        m.door("ruang-server").alarm_raised(Alarm::DoorForced);
        let mut status = DoorStatus::new(Utc::now());
        status.alarms.push(ActiveAlarm {
            alarm: Alarm::ReaderOffline,
            reader: Some("masuk".into()),
            since: Utc::now(),
        });
        let text = m.render(&Snapshot {
            doors: vec![("ruang-server".into(), status)],
            readers: vec![("masuk".into(), "ruang-server".into(), "pcsc", false, 3)],
            workflow: Vec::new(),
            event_subscribers: 2,
            start_time_seconds: 1,
        });
        let door = "door=\"ruang-server\"";
        assert_eq!(
            sample(
                &text,
                &format!("lawang_taps_total{{{door},decision=\"granted\",reason=\"granted\"}}")
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                &format!(
                    "lawang_taps_total{{{door},decision=\"refused\",reason=\"credential_revoked\"}}"
                )
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                &format!("lawang_decision_duration_seconds_count{{{door}}}")
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                &format!("lawang_alarm_active{{{door},alarm=\"reader_offline\"}}")
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                &format!("lawang_alarms_raised_total{{{door},alarm=\"door_forced\"}}")
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                "lawang_reader_online{reader=\"masuk\",door=\"ruang-server\",kind=\"pcsc\"}"
            ),
            Some(0.0)
        );
        assert_eq!(
            sample(
                &text,
                "lawang_reader_bad_frames_total{reader=\"masuk\",door=\"ruang-server\",kind=\"pcsc\"}"
            ),
            Some(3.0)
        );
        assert_eq!(sample(&text, "lawang_event_stream_clients"), Some(2.0));
        assert!(!text.contains("gudang"), "{text}");
        assert!(!text.contains("pin_required"), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
