//! The SOP workflow over real HTTP, a real SQLite file and the simulated readers: requests
//! through the seed-002 chain to a card that opens the door, rejections, wrong roles and
//! wrong order, review campaigns, removals, remote-access accounts and overdue steps.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon};

mod email;
mod procedures;

/// Staff tokens for each role of the chain, each standing for an account.
pub(crate) struct Staff {
    pub(crate) pemohon: String,
    pub(crate) atasan: String,
    pub(crate) kadis: String,
    pub(crate) kabid: String,
    pub(crate) kasi: String,
    pub(crate) operator: String,
    pub(crate) pj: String,
    pub(crate) admin: String,
}

pub(crate) fn account(d: &TestDaemon, username: &str, role: &str) -> String {
    let r = d.post(
        "/api/v1/accounts",
        &json!({ "username": username, "name": username, "role": role,
                 "email": format!("{username}@diskominfo.example.go.id") }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let t = d.post("/api/v1/tokens", &json!({ "account": username }));
    assert_eq!(t.status, 201, "{}", t.body);
    assert_eq!(t.body["role"], role);
    t.body["token"].as_str().unwrap().to_owned()
}

pub(crate) fn staff(d: &TestDaemon) -> Staff {
    Staff {
        pemohon: account(d, "budi", "pemohon"),
        atasan: account(d, "pak.atasan", "atasan"),
        kadis: account(d, "kadis", "kadis"),
        kabid: account(d, "kabid", "kabid"),
        kasi: account(d, "kasi", "kasi"),
        operator: account(d, "operator", "operator"),
        pj: account(d, "pj.server", "penanggung_jawab"),
        admin: account(d, "admin.sistem", "admin"),
    }
}

pub(crate) fn post_as(d: &TestDaemon, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = d.post_raw(path, Some(token), &body.to_string());
    (r.status, r.body)
}

pub(crate) fn ok(d: &TestDaemon, token: &str, path: &str, body: Value) -> Value {
    let (status, body) = post_as(d, token, path, body);
    assert!(status == 200 || status == 201, "{path}: {status} {body}");
    body
}

pub(crate) fn request_body() -> Value {
    json!({
        "applicant_name": "Budi Santoso",
        "applicant_nip": "198001012005011001",
        "unit_kerja": "Bidang Aplikasi Informatika",
        "jabatan": "Pranata Komputer",
        "email": "budi@diskominfo.example.go.id",
        "purpose": "Pemeliharaan server SIMPEG",
        "nomor_surat": "555/123/406.020/2026",
        "doors": ["ruang-server"],
        "valid_from": (Utc::now() - Duration::days(1)).to_rfc3339(),
        "valid_until": (Utc::now() + Duration::days(90)).to_rfc3339(),
        "atasan": "pak.atasan",
        "penanggung_jawab": "pj.server",
    })
}

pub(crate) fn submit(d: &TestDaemon, s: &Staff) -> i64 {
    let r = ok(d, &s.pemohon, "/api/v1/requests", request_body());
    assert_eq!(r["status"], "open");
    assert_eq!(r["waiting"]["name"], "approve");
    r["id"].as_i64().unwrap()
}

pub(crate) fn decide(d: &TestDaemon, token: &str, id: i64, step: &str) -> Value {
    ok(
        d,
        token,
        &format!("/api/v1/requests/{id}/decide"),
        json!({ "step": step, "decision": "approve", "note": "setuju" }),
    )
}

/// Through the four approvals of seed 002; returns the request as verified.
pub(crate) fn approve_all(d: &TestDaemon, s: &Staff, id: i64) -> Value {
    decide(d, &s.atasan, id, "approve");
    decide(d, &s.kadis, id, "dispose");
    decide(d, &s.kabid, id, "forward");
    decide(d, &s.kasi, id, "verify")
}

pub(crate) fn tap(d: &TestDaemon, uid: &str) -> Value {
    let r = d.post("/api/v1/readers/masuk/tap", &json!({ "uid": uid }));
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[test]
fn the_seed_002_chain_ends_in_a_card_that_opens_the_door() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let id = submit(&d, &s);

    // Each step shows in the inbox of whoever it waits for, and only theirs.
    let inbox = |token: &str| d.get_as("/api/v1/workflow/inbox", Some(token)).body;
    assert_eq!(inbox(&s.atasan)[0]["id"], id);
    assert_eq!(inbox(&s.kadis).as_array().unwrap().len(), 0);

    let verified = approve_all(&d, &s, id);
    assert_eq!(verified["waiting"]["name"], "issue");
    assert_eq!(verified["waiting"]["role"], "operator");
    assert_eq!(inbox(&s.operator)[0]["step"], "issue");
    assert_eq!(tap(&d, "04A1B2C3")["reason"], "unknown_credential");

    let issued = ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "04:A1:B2:C3", "badge_number": "RS-017" }),
    );
    assert_eq!(issued["waiting"]["name"], "inform");
    // In force the moment the call returned.
    let t = tap(&d, "04A1B2C3");
    assert_eq!(t["granted"], true, "{t}");

    let done = ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/inform"),
        json!({}),
    );
    assert_eq!(done["status"], "completed");
    assert!(done["waiting"].is_null());

    // The right carries the approved period and names its request.
    let right_id = done["right_id"].as_i64().unwrap();
    let person = done["person_id"].as_i64().unwrap();
    let rights = d.get(&format!("/api/v1/people/{person}/rights")).body;
    let right = rights
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == right_id)
        .unwrap();
    assert_eq!(right["source"], format!("request:{id}"));
    assert_eq!(right["doors"], json!(["ruang-server"]));
    assert_eq!(
        right["valid_until"].as_str().unwrap()[..10],
        request_body()["valid_until"].as_str().unwrap()[..10]
    );

    // Who, in which role, when: in the history and in the audit log.
    let steps: Vec<(String, String, String)> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["step"].as_str().unwrap().into(),
                h["outcome"].as_str().unwrap().into(),
                h["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expect = [
        ("submit", "submitted", "pemohon"),
        ("approve", "approved", "atasan"),
        ("dispose", "approved", "kadis"),
        ("forward", "approved", "kabid"),
        ("verify", "approved", "kasi"),
        ("issue", "issued", "operator"),
        ("inform", "informed", "operator"),
    ];
    let expect: Vec<(String, String, String)> = expect
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(steps, expect);
    assert_eq!(done["history"][2]["actor"], "kadis");
    let audit = d.get("/api/v1/audit?limit=1000").body["items"].clone();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["target"] == format!("request:{id}"))
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for a in [
        "request.submit",
        "request.approve",
        "request.dispose",
        "request.forward",
        "request.verify",
        "request.issue",
        "request.inform",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let badge = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "badge.issue")
        .unwrap();
    assert_eq!(badge["detail"]["path"], "workflow");
}

#[test]
fn rejected_at_the_kasi_the_request_ends_and_no_card_can_be_issued() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let id = submit(&d, &s);
    decide(&d, &s.atasan, id, "approve");
    decide(&d, &s.kadis, id, "dispose");
    decide(&d, &s.kabid, id, "forward");
    let path = format!("/api/v1/requests/{id}/decide");
    // A rejection needs its reason.
    let (status, body) = post_as(
        &d,
        &s.kasi,
        &path,
        json!({ "step": "verify", "decision": "reject" }),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("reason"),
        "{body}"
    );
    let r = ok(
        &d,
        &s.kasi,
        &path,
        json!({ "step": "verify", "decision": "reject", "note": "Tidak ada kebutuhan akses fisik" }),
    );
    assert_eq!(r["status"], "rejected");
    assert_eq!(r["history"][4]["note"], "Tidak ada kebutuhan akses fisik");
    let (status, body) = post_as(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "04A1B2C3" }),
    );
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("rejected"),
        "{body}"
    );
    assert_eq!(tap(&d, "04A1B2C3")["reason"], "unknown_credential");
}

#[test]
fn each_step_by_a_wrong_role_is_403_and_out_of_order_is_409() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let id = submit(&d, &s);
    let all = [
        ("atasan", &s.atasan),
        ("kadis", &s.kadis),
        ("kabid", &s.kabid),
        ("kasi", &s.kasi),
        ("operator", &s.operator),
        ("penanggung_jawab", &s.pj),
        ("admin", &s.admin),
        ("pemohon", &s.pemohon),
    ];
    let steps = [
        ("approve", "atasan"),
        ("dispose", "kadis"),
        ("forward", "kabid"),
        ("verify", "kasi"),
    ];
    let path = format!("/api/v1/requests/{id}/decide");
    for (step, owner) in steps {
        for (role, token) in all.iter().filter(|(r, _)| *r != owner) {
            let (status, body) = post_as(
                &d,
                token,
                &path,
                json!({ "step": step, "decision": "approve" }),
            );
            assert_eq!(status, 403, "{role} doing {step}: {body}");
        }
        // The owner, one step early: 409 naming the step waited for.
        if step != "approve" {
            let token = all.iter().find(|(r, _)| *r == owner).unwrap().1;
            let (status, body) = post_as(
                &d,
                token,
                &path,
                json!({ "step": step, "decision": "approve" }),
            );
            assert_eq!(status, 409, "{body}");
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("waiting for step"),
                "{body}"
            );
        }
    }
    // Another superior than the one named in the form is refused too.
    let other = account(&d, "bu.atasan.lain", "atasan");
    let (status, body) = post_as(
        &d,
        &other,
        &path,
        json!({ "step": "approve", "decision": "approve" }),
    );
    assert_eq!(status, 403, "{body}");
    decide(&d, &s.atasan, id, "approve");
    // Done once: the same step again is out of order.
    let (status, _) = post_as(
        &d,
        &s.atasan,
        &path,
        json!({ "step": "approve", "decision": "approve" }),
    );
    assert_eq!(status, 409);
    // Issuing and informing are the Operator's; the history shows only what was done.
    let (status, _) = post_as(
        &d,
        &s.kasi,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "0A0B0C0D" }),
    );
    assert_eq!(status, 403);
    let (status, _) = post_as(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "0A0B0C0D" }),
    );
    assert_eq!(status, 409);
    let r = d.get(&format!("/api/v1/requests/{id}")).body;
    assert_eq!(r["history"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["waiting"]["name"], "dispose");
}

#[test]
fn an_applicant_sees_only_their_own_requests() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let id = submit(&d, &s);
    let other = account(&d, "siti", "pemohon");
    assert_eq!(
        d.get_as("/api/v1/requests", Some(&s.pemohon))
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        d.get_as("/api/v1/requests", Some(&other))
            .body
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        d.get_as(&format!("/api/v1/requests/{id}"), Some(&other))
            .status,
        404
    );
    assert_eq!(
        d.get_as(&format!("/api/v1/requests/{id}"), Some(&s.kasi))
            .status,
        200
    );
    // Withdrawing: only one's own, only before issuance.
    let path = format!("/api/v1/requests/{id}/withdraw");
    let (status, _) = post_as(&d, &other, &path, json!({ "reason": "salah" }));
    assert_eq!(status, 403);
    let r = ok(&d, &s.pemohon, &path, json!({ "reason": "tidak jadi" }));
    assert_eq!(r["status"], "withdrawn");
}

#[test]
fn bad_request_forms_are_refused_and_change_nothing() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let mut cases = vec![];
    let mut unknown = request_body();
    unknown["colour"] = json!("merah");
    cases.push((unknown, "colour"));
    let mut door = request_body();
    door["doors"] = json!(["gudang"]);
    cases.push((door, "gudang"));
    let mut dates = request_body();
    dates["valid_until"] = json!("2301-01-01T00:00:00+07:00");
    cases.push((dates, "out of range"));
    let mut reversed = request_body();
    reversed["valid_until"] = json!("2020-01-01T00:00:00+07:00");
    cases.push((reversed, "after valid_from"));
    let mut boss = request_body();
    boss["atasan"] = json!("kadis");
    cases.push((boss, "role kadis"));
    let mut nodoor = request_body();
    nodoor["doors"] = json!([]);
    cases.push((nodoor, "at least one door"));
    for (body, expect) in cases {
        let (status, problem) = post_as(&d, &s.pemohon, "/api/v1/requests", body);
        assert_eq!(status, 400, "{problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(expect),
            "{expect}: {problem}"
        );
    }
    assert_eq!(d.get("/api/v1/requests").body.as_array().unwrap().len(), 0);
}

#[test]
fn overdue_steps_follow_the_time_standard_of_each_step() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let id = submit(&d, &s);
    let at = |hours: i64| {
        let t = (Utc::now() + Duration::hours(hours))
            .to_rfc3339()
            .replace('+', "%2B");
        d.get(&format!("/api/v1/workflow/waiting?overdue=true&at={t}"))
            .body
    };
    // The superior has 24 hours (seed 002 default).
    assert_eq!(at(23).as_array().unwrap().len(), 0);
    let late = at(25);
    assert_eq!(late[0]["id"], id, "{late}");
    assert_eq!(late[0]["step"], "approve");
    assert_eq!(late[0]["account"], "pak.atasan");
    assert_eq!(late[0]["overdue"], true);
    // Approved: the clock restarts for the Kadis.
    decide(&d, &s.atasan, id, "approve");
    assert_eq!(at(23).as_array().unwrap().len(), 0);
    assert_eq!(at(25)[0]["step"], "dispose");
}

/// An LPSE with one approver (seeds 000/001): the chain is configuration.
#[test]
fn a_one_approver_chain_from_the_config() {
    let d = TestDaemon::start_with(&format!(
        "{ONE_DOOR}\n[workflow.server_room]\napprovals = [{{ step = \"izin\", role = \"kasi\", within_hours = 8, label = \"Izin Kepala LPSE\" }}]\ninform_within_hours = 0\n"
    ));
    let s = staff(&d);
    let mut body = request_body();
    body.as_object_mut().unwrap().remove("atasan");
    let r = ok(&d, &s.pemohon, "/api/v1/requests", body);
    let id = r["id"].as_i64().unwrap();
    let names: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["izin", "issue"]);
    assert_eq!(r["waiting"]["label"], "Izin Kepala LPSE");
    ok(
        &d,
        &s.kasi,
        &format!("/api/v1/requests/{id}/decide"),
        json!({ "step": "izin", "decision": "approve" }),
    );
    let done = ok(
        &d,
        &s.operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "0102030405060708" }),
    );
    assert_eq!(done["status"], "completed");
    assert_eq!(tap(&d, "0102030405060708")["granted"], true);
}

#[test]
fn the_direct_path_is_the_administrators_alone() {
    let d = TestDaemon::start();
    let s = staff(&d);
    let p = d.post("/api/v1/people", &json!({ "name": "Impor" })).body["id"]
        .as_i64()
        .unwrap();
    let (status, body) = post_as(
        &d,
        &s.operator,
        "/api/v1/badges",
        json!({ "person_id": p, "uid": "AABBCCDD" }),
    );
    assert_eq!(status, 403, "{body}");
    d.grant("AABBCCDD", "iso14443");
    let audit = d.get("/api/v1/audit?limit=1000").body["items"].clone();
    let line = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "badge.issue")
        .unwrap();
    assert_eq!(line["detail"]["path"], "direct import (admin)");
}

#[test]
fn at_the_console_staff_see_their_inbox_and_move_requests_on() {
    let d = TestDaemon::start();
    let cli = |args: &[&str]| {
        let out = d.cli(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    cli(&[
        "account",
        "add",
        "--username",
        "kasi",
        "--name",
        "Kasi Layanan",
        "--role",
        "kasi",
    ]);
    let listed = cli(&["account", "list"]);
    assert!(
        listed.contains("kasi") && listed.contains("Kasi Layanan"),
        "{listed}"
    );
    let kasi = cli(&["token", "create", "--account", "kasi"])
        .trim()
        .to_owned();
    let operator = account(&d, "operator", "operator");
    let pemohon = account(&d, "budi", "pemohon");
    let mut body = request_body();
    body.as_object_mut().unwrap().remove("atasan");
    body.as_object_mut().unwrap().remove("penanggung_jawab");
    let id = ok(&d, &pemohon, "/api/v1/requests", body)["id"]
        .as_i64()
        .unwrap();
    for (role, step) in [
        ("atasan", "approve"),
        ("kadis", "dispose"),
        ("kabid", "forward"),
    ] {
        let t = account(&d, &format!("{role}1"), role);
        decide(&d, &t, id, step);
    }
    let inbox = cli(&["inbox", "--token", &kasi]);
    assert!(
        inbox.contains("verify") && inbox.contains("Budi Santoso"),
        "{inbox}"
    );
    assert!(cli(&["inbox", "--token", &operator]).contains("nothing waits for you"));
    let id_s = id.to_string();
    let out = cli(&[
        "request",
        "decide",
        &id_s,
        "--step",
        "verify",
        "--approve",
        "--token",
        &kasi,
    ]);
    assert!(out.contains("waits for issue by operator"), "{out}");
    let out = cli(&[
        "request", "issue", &id_s, "--uid", "DEADBEEF", "--token", &operator,
    ]);
    assert!(out.contains("card issued"), "{out}");
    assert_eq!(tap(&d, "DEADBEEF")["granted"], true);
    // Three days from now the inform step (8 hours) is overdue.
    let later = (Utc::now() + Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    let overdue = cli(&["overdue", "--at", &later]);
    assert!(
        overdue.contains("inform") && overdue.contains("OVERDUE"),
        "{overdue}"
    );
    // The Kasi's token cannot issue: the same role checks as the API.
    let out = d.cli(&["request", "inform", &id_s, "--token", &kasi]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("403")
            || String::from_utf8_lossy(&out.stderr).contains("role"),
        "{out:?}"
    );
}
