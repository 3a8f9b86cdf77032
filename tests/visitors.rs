//! Procedure 4 over real HTTP, a real SQLite file and the simulated readers "masuk" (in) and
//! "keluar" (out): the desk's check-in, the head's approval, the visitor badge next to its
//! escort, check-out, the presence list, anti-passback and the facility register (seed 004).

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon, eventually};

mod door;

const ESCORT_CARD: &str = "E5C0";
const VISITOR_CARD: &str = "B0B0";

/// The test door with a 2 s escort window (the default is 10 s).
fn config(anti_passback: &str) -> String {
    format!(
        "{}\n[visitors]\nescort_window_seconds = 2\n",
        ONE_DOOR.replace(
            "unlock_seconds = 1\n",
            &format!("unlock_seconds = 1\nanti_passback = {anti_passback:?}\n")
        )
    )
}

struct Desk {
    d: TestDaemon,
    helpdesk: String,
    kepala: String,
    escort: i64,
}

fn account(d: &TestDaemon, username: &str, role: &str) -> String {
    let r = d.post(
        "/api/v1/accounts",
        &json!({ "username": username, "name": username, "role": role,
                 "email": format!("{username}@lpse.example.go.id") }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let t = d.post("/api/v1/tokens", &json!({ "account": username }));
    assert_eq!(t.status, 201, "{}", t.body);
    t.body["token"].as_str().unwrap().to_owned()
}

/// A daemon with the desk, the head of the facility, an escort holding a card and one
/// visitor badge V-01 in the pool.
fn desk(anti_passback: &str) -> Desk {
    let d = TestDaemon::start_with(&config(anti_passback));
    let helpdesk = account(&d, "koordinator", "helpdesk");
    let kepala = account(&d, "kepala.lpse", "kepala");
    let escort = d.grant(ESCORT_CARD, "iso14443");
    let b = d.post(
        "/api/v1/visitor-badges",
        &json!({ "badge_number": "V-01", "uid": VISITOR_CARD }),
    );
    assert_eq!(b.status, 201, "{}", b.body);
    Desk {
        d,
        helpdesk,
        kepala,
        escort,
    }
}

fn form(escort: i64) -> Value {
    json!({
        "nama": "Andi Wijaya",
        "instansi": "PT Data Prima Nusantara",
        "alamat": "Jl. Pemuda No. 12, Semarang",
        "jenis_identitas": "ktp",
        "no_identitas": "3374011203850004",
        "tujuan": "Penggantian hard disk server SPSE",
        "host": "Budi Santoso, Sub Bagian Pengelolaan LPSE",
        "escort_person_id": escort,
        "equipment": [
            { "jenis": "Laptop", "no_seri": "5CD1234XYZ" },
            { "jenis": "Hard disk 2 TB", "no_seri": "WD-WX12A3456" }
        ],
        "id_deposited": true,
        "ttd": { "kind": "typed", "name": "Andi Wijaya", "consent": true }
    })
}

fn call(d: &TestDaemon, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = d.post_raw(path, Some(token), &body.to_string());
    (r.status, r.body)
}

fn ok(d: &TestDaemon, token: &str, path: &str, body: Value) -> Value {
    let (status, body) = call(d, token, path, body);
    assert!(status == 200 || status == 201, "{path}: {status} {body}");
    body
}

impl Desk {
    fn check_in(&self) -> i64 {
        let v = ok(&self.d, &self.helpdesk, "/api/v1/visits", form(self.escort));
        assert_eq!(v["status"], "waiting_approval", "{v}");
        v["id"].as_i64().unwrap()
    }

    fn approve(&self, id: i64) -> Value {
        ok(
            &self.d,
            &self.kepala,
            &format!("/api/v1/visits/{id}/decide"),
            json!({ "decision": "approve" }),
        )
    }

    fn badge(&self, id: i64) -> (u16, Value) {
        call(
            &self.d,
            &self.helpdesk,
            &format!("/api/v1/visits/{id}/badge"),
            json!({ "badge_number": "V-01" }),
        )
    }

    /// Checked in, approved, badge V-01 out.
    fn active_visit(&self) -> i64 {
        let id = self.check_in();
        self.approve(id);
        let (status, v) = self.badge(id);
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["status"], "active");
        id
    }

    fn check_out(&self, id: i64, body: Value) -> (u16, Value) {
        call(
            &self.d,
            &self.helpdesk,
            &format!("/api/v1/visits/{id}/check-out"),
            body,
        )
    }

    fn visit(&self, id: i64) -> Value {
        self.d.get(&format!("/api/v1/visits/{id}")).body
    }

    fn tap(&self, reader: &str, uid: &str) -> Value {
        let r = self.d.post(
            &format!("/api/v1/readers/{reader}/tap"),
            &json!({ "uid": uid }),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
    }

    /// Who is inside: (person id, kind, escort inside).
    fn inside(&self) -> Vec<(i64, String, Option<bool>)> {
        let r = self.d.get("/api/v1/inside");
        assert_eq!(r.status, 200, "{}", r.body);
        r.body
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["person_id"].as_i64().unwrap(),
                    i["kind"].as_str().unwrap().to_owned(),
                    i["escort_inside"].as_bool(),
                )
            })
            .collect()
    }

    fn alarms(&self) -> Vec<String> {
        self.d.get("/api/v1/doors").body[0]["alarms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["alarm"].as_str().unwrap().to_owned())
            .collect()
    }

    fn pool(&self) -> Value {
        self.d.get("/api/v1/visitor-badges").body[0].clone()
    }
}

fn count(d: &TestDaemon, path: &str) -> usize {
    let b = d.get(path).body;
    b.get("items").unwrap_or(&b).as_array().map_or(0, Vec::len)
}
#[test]
fn a_full_visit_from_the_desk_to_the_register() {
    let s = desk("off");
    let id = s.check_in();
    let v = s.visit(id);
    assert_eq!(v["equipment"].as_array().unwrap().len(), 2);
    assert_eq!(v["escort_name"], "Budi");
    assert_eq!(v["doors"], json!(["ruang-server"]));
    assert_eq!(v["ttd"]["kind"], "typed");
    assert_eq!(v["waiting"]["role"], "kepala");

    // The head finds it in their inbox; the desk does not; only the head decides.
    let inbox = |t: &str| s.d.get_as("/api/v1/workflow/inbox", Some(t)).body;
    assert_eq!(inbox(&s.kepala)[0]["case"], "visit");
    assert_eq!(inbox(&s.kepala)[0]["id"], id);
    assert_eq!(inbox(&s.helpdesk).as_array().unwrap().len(), 0);
    let (status, body) = call(
        &s.d,
        &s.helpdesk,
        &format!("/api/v1/visits/{id}/decide"),
        json!({ "decision": "approve" }),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(s.approve(id)["status"], "approved");
    assert_eq!(inbox(&s.kepala).as_array().unwrap().len(), 0);

    let (status, v) = s.badge(id);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["badge_number"], "V-01");
    assert_eq!(s.pool()["status"], "issued");
    assert_eq!(s.pool()["visit_id"], id);
    let visitor = v["person_id"].as_i64().unwrap();

    // Next to the escort the badge opens; the register names the visitor.
    assert_eq!(s.tap("masuk", ESCORT_CARD)["granted"], true);
    let t = s.tap("masuk", VISITOR_CARD);
    assert_eq!(t["granted"], true, "{t}");
    assert_eq!(t["person_id"], visitor);
    assert_eq!(
        s.inside(),
        [
            (s.escort, "staff".into(), None),
            (visitor, "visitor".into(), Some(true))
        ]
    );
    assert_eq!(s.tap("keluar", VISITOR_CARD)["granted"], true);
    assert_eq!(s.tap("keluar", ESCORT_CARD)["granted"], true);
    assert!(s.inside().is_empty());

    let (status, v) = s.check_out(id, json!({ "badge": "returned", "id_returned": true }));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "closed");
    assert_eq!(v["badge_outcome"], "returned");
    assert!(v["id_returned_at"].is_string());
    assert_eq!(s.pool()["status"], "available");
    // The returned card opens nothing any more, escort or not.
    s.tap("masuk", ESCORT_CARD);
    assert_eq!(s.tap("masuk", VISITOR_CARD)["reason"], "credential_revoked");

    // Who did what, in which role.
    let steps: Vec<(String, String)> = v["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["step"].as_str().unwrap().to_owned(),
                h["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("check_in", "helpdesk"),
        ("approve", "kepala"),
        ("badge", "helpdesk"),
        ("check_out", "helpdesk"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(steps, want);
    let audit = s.d.get("/api/v1/audit?limit=1000").body["items"].clone();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["target"] == format!("visit:{id}"))
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for a in [
        "visit.check_in",
        "visit.approve",
        "visit.badge",
        "visit.check_out",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }

    // The register fills itself: times from the readers, the form's columns.
    let reg =
        s.d.get("/api/v1/visit-register?from=2000-01-01&to=2099-12-31");
    assert_eq!(reg.status, 200, "{}", reg.body);
    let row = &reg.body[0];
    assert_eq!(row["no"], 1);
    assert_eq!(row["no_badge"], "V-01");
    assert_eq!(row["jenis_identitas"], "KTP");
    assert_eq!(row["jam_masuk_from"], "reader");
    assert_eq!(row["jam_keluar_from"], "reader");
    assert_eq!(row["fasilitas"][1]["no_seri"], "WD-WX12A3456");
    let csv =
        s.d.get("/api/v1/visit-register/export?from=2000-01-01&to=2099-12-31&sep=semicolon");
    assert!(
        csv.content_type.starts_with("text/csv"),
        "{}",
        csv.content_type
    );
    let text = csv.body.as_str().unwrap();
    assert!(
        text.contains("No.;Nama;Instansi;Alamat;Jenis Identitas;No. Identitas;No. Badge;Tanggal;Jam Masuk;Jam Keluar;Tujuan;Fasilitas: Jenis;Fasilitas: No Seri;TTD"),
        "{text}"
    );
    assert!(
        text.contains("1;Andi Wijaya;PT Data Prima Nusantara;") && text.contains(";V-01;"),
        "{text}"
    );
}

#[test]
fn a_badge_not_returned_blocks_the_check_out_and_a_lost_one_is_blocked() {
    let s = desk("off");
    let id = s.active_visit();
    let audit = count(&s.d, "/api/v1/audit?limit=1000");

    let (status, body) = s.check_out(id, json!({ "id_returned": true }));
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("V-01"), "{body}");
    let (status, body) = s.check_out(id, json!({ "badge": "returned" }));
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("identity document")
    );
    // Nothing changed: still out, still opening next to the escort.
    assert_eq!(s.visit(id)["status"], "active");
    assert_eq!(s.pool()["status"], "issued");
    assert_eq!(count(&s.d, "/api/v1/audit?limit=1000"), audit);
    s.tap("masuk", ESCORT_CARD);
    assert_eq!(s.tap("masuk", VISITOR_CARD)["granted"], true);

    let (status, v) = s.check_out(id, json!({ "badge": "lost", "id_returned": true }));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["badge_outcome"], "lost");
    assert_eq!(s.pool()["status"], "lost");
    // Blocked at the door, even right after the escort; the desk took the visitor off the list.
    s.tap("masuk", ESCORT_CARD);
    assert_eq!(s.tap("masuk", VISITOR_CARD)["reason"], "credential_lost");
    eventually(
        "the visitor off the presence list",
        Duration::from_secs(5),
        || s.inside().iter().all(|(_, kind, _)| kind == "staff"),
    );
    // A lost card is not handed out again until it is found.
    let next = s.check_in();
    s.approve(next);
    let (status, body) = s.badge(next);
    assert_eq!(status, 409, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("lost"), "{body}");
    let pool_id = s.pool()["id"].as_i64().unwrap();
    ok(
        &s.d,
        &s.d.token,
        &format!("/api/v1/visitor-badges/{pool_id}/status"),
        json!({ "status": "available", "reason": "ditemukan di ruang rapat" }),
    );
    let (status, body) = s.badge(next);
    assert_eq!(status, 200, "{body}");
    s.tap("masuk", ESCORT_CARD);
    assert_eq!(s.tap("masuk", VISITOR_CARD)["person_id"], body["person_id"]);
}

#[test]
fn a_badge_cannot_be_issued_before_approval_and_a_denial_ends_the_visit() {
    let s = desk("off");
    let id = s.check_in();
    let (status, body) = s.badge(id);
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("after approval"),
        "{body}"
    );
    assert_eq!(s.pool()["status"], "available");
    assert_eq!(count(&s.d, "/api/v1/badges"), 1, "only the escort's card");

    // A denial needs its reason.
    let (status, _) = call(
        &s.d,
        &s.kepala,
        &format!("/api/v1/visits/{id}/decide"),
        json!({ "decision": "reject" }),
    );
    assert_eq!(status, 400);
    let v = ok(
        &s.d,
        &s.kepala,
        &format!("/api/v1/visits/{id}/decide"),
        json!({ "decision": "reject", "note": "tidak ada surat tugas" }),
    );
    assert_eq!(v["status"], "denied");
    assert_eq!(v["decision_note"], "tidak ada surat tugas");
    let (status, _) = s.badge(id);
    assert_eq!(status, 409);
    let (status, _) = call(
        &s.d,
        &s.kepala,
        &format!("/api/v1/visits/{id}/decide"),
        json!({ "decision": "approve" }),
    );
    assert_eq!(status, 409, "decided once");
    // The desk gives the KTP back; the visit stays denied and out of the register.
    let (status, v) = s.check_out(id, json!({ "id_returned": true }));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "denied");
    assert!(v["id_returned_at"].is_string());
    let reg =
        s.d.get("/api/v1/visit-register?from=2000-01-01&to=2099-12-31");
    assert_eq!(reg.body, json!([]));
}

#[test]
fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let s = desk("off");
    let id = s.active_visit();
    let approved = s.check_in();
    s.approve(approved);
    let visits = count(&s.d, "/api/v1/visits");
    let audit = count(&s.d, "/api/v1/audit?limit=1000");
    let people = count(&s.d, "/api/v1/people");
    let without_id = {
        let mut f = form(s.escort);
        f.as_object_mut().unwrap().remove("no_identitas");
        f
    };
    let mut no_right = form(s.escort);
    let stranger =
        s.d.post("/api/v1/people", &json!({ "name": "Tamu Lain" }))
            .body["id"]
            .clone();
    no_right["escort_person_id"] = stranger;
    let cases: Vec<(String, Value, u16, &str)> = vec![
        ("/api/v1/visits".into(), without_id, 400, "no_identitas"),
        (
            "/api/v1/visits".into(),
            {
                let mut f = form(s.escort);
                f["no_identitas"] = json!("   ");
                f
            },
            400,
            "no_identitas",
        ),
        (
            "/api/v1/visits".into(),
            {
                let mut f = form(s.escort);
                f["no_identitas"] = json!("33740112038500");
                f
            },
            400,
            "16 digits",
        ),
        (
            "/api/v1/visits".into(),
            {
                let mut f = form(s.escort);
                f["ttd"] = json!({ "kind": "typed", "name": "Andi", "consent": false });
                f
            },
            400,
            "consent",
        ),
        (
            "/api/v1/visits".into(),
            {
                let mut f = form(s.escort);
                f["jenis_identitas"] = json!("kartu pelajar");
                f
            },
            400,
            "jenis_identitas",
        ),
        (
            "/api/v1/visits".into(),
            no_right,
            400,
            "no active staff card",
        ),
        (
            format!("/api/v1/visits/{approved}/badge"),
            json!({ "badge_number": "V-99" }),
            404,
            "V-99",
        ),
        (
            format!("/api/v1/visits/{id}/check-out"),
            json!({ "badge": "dibuang", "id_returned": true }),
            400,
            "badge",
        ),
        (
            "/api/v1/visits/999/badge".into(),
            json!({}),
            404,
            "visit 999",
        ),
    ];
    for (path, body, want, says) in cases {
        let (status, problem) = call(&s.d, &s.helpdesk, &path, body);
        assert_eq!(status, want, "{path}: {problem}");
        let detail = problem["detail"].as_str().unwrap_or("");
        assert!(
            detail.contains(says),
            "{path}: {detail:?} should say {says:?}"
        );
    }
    let (status, _) = call(
        &s.d,
        &s.d.token,
        "/api/v1/visitor-badges",
        json!({ "badge_number": "V-02", "uid": ESCORT_CARD }),
    );
    assert_eq!(status, 409, "a staff card cannot also be a visitor badge");
    assert_eq!(count(&s.d, "/api/v1/visits"), visits);
    assert_eq!(
        count(&s.d, "/api/v1/audit?limit=1000"),
        audit + 1,
        "only the person made above"
    );
    assert_eq!(count(&s.d, "/api/v1/people"), people + 1);
    assert_eq!(count(&s.d, "/api/v1/visitor-badges"), 1);
    assert_eq!(s.visit(id)["status"], "active");
    assert_eq!(s.visit(approved)["status"], "approved");
}

#[test]
fn roles_and_a_configured_approver() {
    let d = TestDaemon::start_with(&format!(
        "{ONE_DOOR}\n[visitors]\napprover_role = \"kasi\"\n"
    ));
    let helpdesk = account(&d, "meja", "helpdesk");
    let kepala = account(&d, "kepala", "kepala");
    let kasi = account(&d, "kasi", "kasi");
    let auditor = d.token_for("auditor");
    let escort = d.grant(ESCORT_CARD, "iso14443");
    assert_eq!(
        call(&d, &auditor, "/api/v1/visits", form(escort)).0,
        403,
        "the auditor reads, the desk checks in"
    );
    assert_eq!(
        call(
            &d,
            &helpdesk,
            "/api/v1/visitor-badges",
            json!({ "badge_number": "V-01", "uid": VISITOR_CARD })
        )
        .0,
        403
    );
    // A signature picture instead of a typed name.
    let mut f = form(escort);
    f["ttd"] = json!({ "kind": "image",
        "data_base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==" });
    let v = ok(&d, &helpdesk, "/api/v1/visits", f);
    let id = v["id"].as_i64().unwrap();
    assert_eq!(v["ttd"]["kind"], "image");
    assert_eq!(v["waiting"]["role"], "kasi");
    let pic = d.get(&format!("/api/v1/visits/{id}/signature"));
    assert_eq!((pic.status, pic.content_type.as_str()), (200, "image/png"));
    // Here the Kasi grants visits, not the Kepala.
    let decide = |t: &str| {
        call(
            &d,
            t,
            &format!("/api/v1/visits/{id}/decide"),
            json!({ "decision": "approve" }),
        )
    };
    let (status, body) = decide(&kepala);
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("kasi"), "{body}");
    assert_eq!(decide(&kasi).0, 200);
    assert_eq!(d.get_as("/api/v1/inside", Some(&auditor)).status, 200);
    assert_eq!(d.get_as("/api/v1/inside", Some(&kepala)).status, 200);
    let pemohon = d.token_for("pemohon");
    assert_eq!(d.get_as("/api/v1/inside", Some(&pemohon)).status, 403);
}

#[test]
fn the_desk_works_from_the_command_line() {
    let s = desk("off");
    let run = |args: &[&str]| {
        let out = s.d.cli(args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let escort = s.escort.to_string();
    let (ok_, out, err) = run(&[
        "visit",
        "check-in",
        "--nama",
        "Andi Wijaya",
        "--instansi",
        "PT Data Prima Nusantara",
        "--no-identitas",
        "3374011203850004",
        "--tujuan",
        "Penggantian hard disk",
        "--host",
        "Budi",
        "--escort",
        &escort,
        "--equipment",
        "Laptop:5CD1234XYZ",
        "--equipment",
        "Obeng",
        "--id-deposited",
        "--ttd-name",
        "Andi Wijaya",
        "--consent",
    ]);
    assert!(ok_, "{err}");
    assert!(
        out.contains("visit 1 checked in") && out.contains("kepala"),
        "{out}"
    );
    assert_eq!(
        s.visit(1)["equipment"],
        json!([{ "jenis": "Laptop", "no_seri": "5CD1234XYZ" }, { "jenis": "Obeng", "no_seri": null }])
    );
    s.approve(1);
    let (ok_, out, err) = run(&["visit", "badge", "1", "--number", "V-01"]);
    assert!(ok_ && out.contains("V-01"), "{out} {err}");
    let (ok_, _, err) = run(&["visit", "check-out", "1"]);
    assert!(
        !ok_ && err.contains("V-01"),
        "the badge is unaccounted for: {err}"
    );
    let (ok_, out, err) = run(&["visit", "check-out", "1", "--badge", "returned"]);
    assert!(ok_ && out.contains("closed"), "{out} {err}");
    let (ok_, out, err) = run(&[
        "visit",
        "register",
        "--from",
        "2000-01-01",
        "--to",
        "2099-12-31",
    ]);
    assert!(ok_, "{err}");
    assert!(
        out.contains("No.,Nama,Instansi") && out.contains("Andi Wijaya"),
        "{out}"
    );
}
