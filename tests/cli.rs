//! The `lawang` command line, run as a person would.

use std::process::{Command, Output};

use crate::common::daemon::{BIN, TestDaemon};

fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn json(out: Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).unwrap()
}

#[test]
fn an_operator_does_the_whole_flow_from_the_command_line() {
    let d = TestDaemon::start();
    let p = json(d.cli(&[
        "person",
        "add",
        "--name",
        "Budi Santoso",
        "--unit",
        "Diskominfo",
    ]));
    let person = p["id"].as_i64().unwrap().to_string();
    let b = json(d.cli(&[
        "badge",
        "issue",
        "--person",
        &person,
        "--uid",
        "04A1B2C3",
        "--door",
        "ruang-server",
        "--until",
        "2099-12-31",
    ]));
    assert_eq!(b["right"]["doors"][0], "ruang-server");
    assert_eq!(
        ok(d.cli(&["tap", "--reader", "masuk", "04A1B2C3"])).trim(),
        format!("granted (person {person})")
    );
    let badge = b["badge"]["id"].as_i64().unwrap().to_string();
    json(d.cli(&["badge", "revoke", &badge, "--reason", "kartu rusak"]));
    assert_eq!(
        ok(d.cli(&["tap", "--reader", "masuk", "04A1B2C3"])).trim(),
        format!("refused: credential_revoked (person {person})")
    );
    let csv_path = d.dir.path().join("register.csv");
    ok(d.cli(&[
        "register",
        "export",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
        "-o",
        csv_path.to_str().unwrap(),
    ]));
    let csv = std::fs::read_to_string(csv_path).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.contains("Budi Santoso")
            && csv.contains("Diizinkan")
            && csv.contains("kartu sudah dicabut"),
        "{csv}"
    );
    let list = json(d.cli(&["register", "list"]));
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[test]
fn tokens_are_made_on_the_box_and_shown_once() {
    let d = TestDaemon::start();
    let out = d.cli(&[
        "token",
        "create",
        "--role",
        "kasi",
        "--name",
        "Kasi Layanan",
    ]);
    let token = ok(out).trim().to_owned();
    assert!(
        token.starts_with("lawang_") && token.len() == 7 + 64,
        "{token}"
    );
    assert_eq!(
        d.get_as("/api/v1/whoami", Some(&token)).body["role"],
        "kasi"
    );
    let list = ok(d.cli(&["token", "list"]));
    assert!(
        list.contains("Kasi Layanan") && !list.contains(&token),
        "{list}"
    );
    let bad = d.cli(&["token", "create", "--role", "superuser", "--name", "x"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}

#[test]
fn tap_is_refused_on_a_real_reader_kind_and_without_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("lawang.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\nlisten = \"127.0.0.1:9\"\n[store]\ndata_dir = {:?}\n",
            dir.path()
        ),
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .args(["tap", "--reader", "masuk", "01"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot reach the lawang daemon"));
}

#[test]
fn check_config_prints_the_effective_config_or_the_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("lawang.toml");
    std::fs::write(&cfg, "[server]\ntimezone = \"Asia/Makassar\"\n").unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .output()
        .unwrap();
    let text = ok(out);
    assert!(text.contains("timezone = \"Asia/Makassar\""), "{text}");
    assert!(
        text.contains("listen = \"127.0.0.1:8080\""),
        "defaults are shown: {text}"
    );

    std::fs::write(
        &cfg,
        "[server]\nlisten = \"127.0.0.1:8080\"\n\n[[door]]\nname = \"x\"\nunlock_secs = 3\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 6") && err.contains("unlock_secs"),
        "{err}"
    );
}

#[test]
fn serve_with_no_configuration_uses_local_defaults() {
    // Only the port is set (8080 may be taken here); the data directory comes from
    // STATE_DIRECTORY, as systemd sets it.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("empty.toml");
    std::fs::write(&cfg, "[server]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .arg("serve")
        .env("STATE_DIRECTORY", dir.path().join("state"))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = crate::common::daemon::wait_for(
        &dir.path().join("state/api.addr"),
        std::time::Duration::from_secs(20),
    );
    let _ = child.kill();
    let _ = child.wait();
    assert!(addr.is_some(), "the daemon did not start with defaults");
    assert!(dir.path().join("state/lawang.sqlite3").exists());
    assert!(dir.path().join("state/initial-admin-token").exists());
}
