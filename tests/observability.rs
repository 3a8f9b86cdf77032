//! `/metrics` scraped and parsed as Prometheus text; the live event stream receives a tap
//! and an alarm; both behind their permissions.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::daemon::TestDaemon;

/// One sample: metric name with its labels, and its value.
type Samples = BTreeMap<String, f64>;

/// Parses the text exposition format strictly enough to catch a malformed line: every
/// sample belongs to a family declared by `# TYPE`, names and labels are well formed,
/// values are numbers, histogram buckets never decrease.
fn parse(text: &str) -> Samples {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Samples::new();
    let mut last_bucket: Option<(String, f64)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                types.insert(name.into(), kind.into()).is_none(),
                "{name} declared twice"
            );
            continue;
        }
        if line.starts_with("# HELP ") || line.is_empty() {
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment {line}");
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value in {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        let labels = &series[name.len()..];
        if !labels.is_empty() {
            let inner = labels.strip_prefix('{').and_then(|l| l.strip_suffix('}'));
            let inner = inner.unwrap_or_else(|| panic!("labels in {line}"));
            for pair in inner.split("\",") {
                let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
                assert!(
                    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                    "{line}"
                );
                assert!(!v.trim_end_matches('"').contains('"'), "{line}");
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).map(String::as_str) == Some("histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "{name} has no # TYPE");
        if name.ends_with("_bucket") {
            let group = series.split(",le=").next().unwrap().to_owned();
            if let Some((g, v)) = &last_bucket
                && *g == group
            {
                assert!(value >= *v, "buckets decrease at {line}");
            }
            last_bucket = Some((group, value));
        }
        samples.insert(series.to_owned(), value);
    }
    samples
}

#[test]
fn metrics_are_scraped_parsed_and_count_taps_by_reason() {
    let d = TestDaemon::start();
    d.grant("04A1B2C3", "iso14443");
    for (uid, granted) in [("04A1B2C3", true), ("DEAD", false), ("04A1B2C3", true)] {
        let t = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": uid }));
        assert_eq!(t.body["granted"], granted, "{}", t.body);
    }

    let monitor = d.token_for("monitor");
    let r = d.get_as("/metrics", Some(&monitor));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        r.content_type
    );
    let text = r.body.as_str().unwrap();
    let m = parse(text);
    let door = "door=\"ruang-server\"";
    assert_eq!(
        m[&format!("lawang_taps_total{{{door},decision=\"granted\",reason=\"granted\"}}")],
        2.0
    );
    assert_eq!(
        m[&format!(
            "lawang_taps_total{{{door},decision=\"refused\",reason=\"unknown_credential\"}}"
        )],
        1.0
    );
    assert_eq!(
        m[&format!("lawang_decision_duration_seconds_count{{{door}}}")],
        3.0
    );
    assert_eq!(
        m[&format!("lawang_decision_duration_seconds_bucket{{{door},le=\"+Inf\"}}")],
        3.0
    );
    assert!(m["lawang_register_lines_total"] >= 3.0);
    assert!(m["lawang_register_commit_duration_seconds_count"] >= 1.0);
    assert_eq!(
        m["lawang_reader_online{reader=\"masuk\",door=\"ruang-server\",kind=\"simulated\"}"],
        1.0
    );
    assert!(m.contains_key(&format!("lawang_door_unlocked{{{door}}}")));
    assert_eq!(
        m[&format!("lawang_alarm_active{{{door},alarm=\"door_forced\"}}")],
        0.0
    );
    assert_eq!(m["lawang_workflow_open_steps{case=\"request\"}"], 0.0);
    assert_eq!(m["lawang_workflow_overdue_steps{case=\"removal\"}"], 0.0);
    assert!(!text.contains("Budi"), "no person in the metrics");

    // Admin and auditor may scrape; other roles and anonymous callers may not.
    assert_eq!(d.get("/metrics").status, 200);
    assert_eq!(
        d.get_as("/metrics", Some(&d.token_for("auditor"))).status,
        200
    );
    assert_eq!(
        d.get_as("/metrics", Some(&d.token_for("operator"))).status,
        403
    );
    assert_eq!(d.get_as("/metrics", None).status, 401);
    // A monitor token reads metrics and nothing else.
    assert_eq!(d.get_as("/api/v1/register", Some(&monitor)).status, 403);
    assert_eq!(d.get_as("/api/v1/people", Some(&monitor)).status, 403);
}

/// Reads the event stream on a thread; sends each event as (name, data).
fn subscribe(d: &TestDaemon, token: &str) -> (u16, mpsc::Receiver<(String, Value)>) {
    let resp = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .get(format!("{}/api/v1/events", d.base))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = resp.status().as_u16();
    let (tx, rx) = mpsc::channel();
    if status == 200 {
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let reader = BufReader::new(resp.into_body().into_reader());
        std::thread::spawn(move || {
            let (mut event, mut data) = (String::new(), String::new());
            for line in reader.lines() {
                let Ok(line) = line else { return };
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                } else if line.is_empty() && !event.is_empty() {
                    let value = serde_json::from_str(&data).unwrap_or(Value::Null);
                    if tx.send((std::mem::take(&mut event), value)).is_err() {
                        return;
                    }
                    data.clear();
                }
            }
        });
    }
    (status, rx)
}

/// A door whose strike fails to unlock: a grant raises `actuator_fault`, the re-lock
/// (which works) clears it.
const FAULTY_DOOR: &str = r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
actuator = { kind = "command", unlock = ["/bin/false"], lock = ["/bin/true"] }

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
repeat_window_ms = 0

[[reader]]
name = "keluar"
door = "ruang-server"
direction = "out"
kind = "simulated"
repeat_window_ms = 0
"#;

#[test]
fn the_event_stream_receives_taps_and_alarms_as_they_are_committed() {
    let mut d = TestDaemon::start_with(FAULTY_DOOR);
    let person = d.grant("04A1B2C3", "iso14443");
    let auditor = d.token_for("auditor");
    let (status, events) = subscribe(&d, &auditor);
    assert_eq!(status, 200);
    let wait = Duration::from_secs(20);
    assert_eq!(events.recv_timeout(wait).unwrap().0, "ready");

    let t = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": "04A1B2C3" }));
    assert_eq!(t.body["granted"], true);
    let (name, line) = events.recv_timeout(wait).unwrap();
    assert_eq!(name, "tap");
    assert_eq!(line["id"], t.body["register_id"]);
    assert_eq!(line["person_id"], json!(person));
    assert_eq!(line["person_name"], "Budi");
    assert_eq!(line["reader"], "masuk");
    assert_eq!(line["reason"], "granted");
    let (name, line) = events.recv_timeout(wait).unwrap();
    assert_eq!(
        (name.as_str(), &line["reason"]),
        ("alarm", &json!("actuator_fault"))
    );
    assert_eq!(line["door"], "ruang-server");
    let (name, line) = events.recv_timeout(wait).unwrap();
    assert_eq!(
        (name.as_str(), &line["reason"]),
        ("alarm_cleared", &json!("actuator_fault"))
    );

    let t = d.post("/api/v1/readers/keluar/tap", &json!({ "uid": "FFFF" }));
    assert_eq!(t.body["granted"], false);
    let (name, line) = events.recv_timeout(wait).unwrap();
    assert_eq!(
        (name.as_str(), &line["reason"]),
        ("tap", &json!("unknown_credential"))
    );

    // Roles without the register may not listen.
    assert_eq!(subscribe(&d, &d.token_for("pemohon")).0, 403);
    assert_eq!(subscribe(&d, &d.token_for("monitor")).0, 403);

    // An open stream does not hold the daemon up when it stops.
    assert!(d.stop().success());
}
