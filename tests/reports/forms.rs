//! The SOP's forms filled in from a real workflow, read back from the PDF with pdftotext:
//! the agency header, the form's own column names, the lines, the signature blocks.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use super::{REPORT_CONFIG, pdf_text};
use crate::common::daemon::{ONE_DOOR, TestDaemon};

fn account(d: &TestDaemon, username: &str, role: &str) -> String {
    let r = d.post(
        "/api/v1/accounts",
        &json!({ "username": username, "name": username, "role": role,
                 "email": format!("{username}@diskominfo.example.go.id") }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let t = d.post("/api/v1/tokens", &json!({ "account": username }));
    assert_eq!(t.status, 201, "{}", t.body);
    t.body["token"].as_str().unwrap().to_owned()
}

fn ok(d: &TestDaemon, token: &str, path: &str, body: Value) -> Value {
    let r = d.post_raw(path, Some(token), &body.to_string());
    assert!(
        r.status == 200 || r.status == 201,
        "{path}: {} {}",
        r.status,
        r.body
    );
    r.body
}

/// The PDF's text, after checking it is a PDF.
fn pdf(d: &TestDaemon, path: &str) -> String {
    let (status, ct, body) = d.get_bytes(path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert_eq!(ct, "application/pdf", "{path}");
    if let Ok(dir) = std::env::var("LAWANG_KEEP_PDF") {
        let name = path
            .trim_start_matches("/api/v1/forms/")
            .replace(['/', '?', '='], "-");
        std::fs::write(format!("{dir}/{name}.pdf"), &body).unwrap();
    }
    let text = pdf_text(&body);
    for s in [
        "Dinas Komunikasi dan Informatika Kota Salatiga",
        "Sri Wahyuni, S.Kom",
        "NIP. 19800101 200501 2 001",
    ] {
        assert!(text.contains(s), "{path}: {s:?} missing in\n{text}");
    }
    text
}

fn has_all(text: &str, words: &[&str]) {
    for w in words {
        assert!(text.contains(w), "{w:?} missing in\n{text}");
    }
}

#[test]
fn the_six_forms_come_out_filled_in() {
    let d = TestDaemon::start_with(&format!(
        "{ONE_DOOR}\n[visitors]\napprover_role = \"kepala\"\n{REPORT_CONFIG}"
    ));
    let pemohon = account(&d, "budi", "pemohon");
    let atasan = account(&d, "pak.atasan", "atasan");
    let kadis = account(&d, "kadis", "kadis");
    let kabid = account(&d, "kabid", "kabid");
    let kasi = account(&d, "kasi", "kasi");
    let operator = account(&d, "operator", "operator");
    let pj = account(&d, "pj.server", "penanggung_jawab");
    let helpdesk = account(&d, "koordinator", "helpdesk");
    let kepala = account(&d, "kepala.lpse", "kepala");

    // Procedure 1: a request through the whole chain to a card.
    let r = ok(
        &d,
        &pemohon,
        "/api/v1/requests",
        json!({
        "applicant_name": "Budi Santoso", "applicant_nip": "198001012005011001",
        "unit_kerja": "Bidang Aplikasi Informatika", "jabatan": "Pranata Komputer",
        "purpose": "Pemeliharaan server SIMPEG", "nomor_surat": "555/123/406.020/2026",
        "doors": ["ruang-server"],
        "valid_from": (Utc::now() - Duration::days(1)).to_rfc3339(),
        "valid_until": (Utc::now() + Duration::days(90)).to_rfc3339(),
        "atasan": "pak.atasan", "penanggung_jawab": "pj.server" }),
    );
    let id = r["id"].as_i64().unwrap();
    for (token, step) in [
        (&atasan, "approve"),
        (&kadis, "dispose"),
        (&kabid, "forward"),
        (&kasi, "verify"),
    ] {
        ok(
            &d,
            token,
            &format!("/api/v1/requests/{id}/decide"),
            json!({ "step": step, "decision": "approve", "note": "setuju" }),
        );
    }
    ok(
        &d,
        &operator,
        &format!("/api/v1/requests/{id}/issue"),
        json!({ "uid": "11223344", "badge_number": "K-007" }),
    );

    let text = pdf(&d, &format!("/api/v1/forms/access-request/{id}"));
    has_all(
        &text,
        &[
            "Formulir Permintaan Akses Ruang Server",
            "Nama Pemohon",
            "Budi Santoso",
            "555/123/406.020/2026",
            "Riwayat",
            "Tahap",
            "Pemohon",
            "198001012005011001",
        ],
    );
    // The applicant prints their own; another applicant does not find it.
    assert_eq!(
        d.get_as(
            &format!("/api/v1/forms/access-request/{id}"),
            Some(&pemohon)
        )
        .status,
        200
    );
    // A monitoring token reads the metrics and nothing else: not a request, not its form.
    let monitor = d.token_for("monitor");
    assert_eq!(
        d.get_as(&format!("/api/v1/requests/{id}"), Some(&monitor))
            .status,
        404
    );
    assert_eq!(
        d.get_as(
            &format!("/api/v1/forms/access-request/{id}"),
            Some(&monitor)
        )
        .status,
        404
    );
    assert_eq!(d.get_as("/api/v1/requests", Some(&monitor)).body, json!([]));
    let other = account(&d, "sari", "pemohon");
    assert_eq!(
        d.get_as(&format!("/api/v1/forms/access-request/{id}"), Some(&other))
            .status,
        404
    );

    // The access list: Budi's card and an imported right.
    d.grant("CAFEBABE", "iso14443");
    let text = pdf(&d, "/api/v1/forms/access-list");
    has_all(
        &text,
        &[
            "Formulir Daftar Akses Ruang Server",
            "No. Kartu",
            "Berlaku Sampai",
            "Dasar Pemberian",
            "K-007",
            "Permintaan no.",
            "impor langsung",
        ],
    );
    assert_eq!(
        d.get_as("/api/v1/forms/access-list", Some(&kepala)).status,
        403
    );

    // Procedure 2: a review campaign with one verdict.
    let review = ok(
        &d,
        &kasi,
        "/api/v1/reviews",
        json!({ "title": "Review Triwulan IV 2026" }),
    );
    let rid = review["id"].as_i64().unwrap();
    let item = review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["penanggung_jawab"] == "pj.server")
        .unwrap()["id"]
        .clone();
    ok(
        &d,
        &pj,
        &format!("/api/v1/reviews/{rid}/items/{item}"),
        json!({ "decision": "valid", "comment": "masih bertugas" }),
    );
    let text = pdf(&d, &format!("/api/v1/forms/review/{rid}"));
    has_all(
        &text,
        &[
            "Formulir Review Akses Ruang Server",
            "Review Triwulan IV 2026",
            "Validitas",
            "Masih valid",
            "masih bertugas",
            "belum diputuskan",
        ],
    );

    // Procedure 3: a removal of the imported right.
    let person = d.get("/api/v1/people?q=Budi").body;
    let imported = person
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Budi")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let right = d.get(&format!("/api/v1/people/{imported}/rights")).body[0]["id"]
        .as_i64()
        .unwrap();
    let removal = ok(
        &d,
        &pj,
        "/api/v1/removals",
        json!({ "right_kind": "door", "right_id": right, "reason": "Kontrak vendor berakhir" }),
    );
    let text = pdf(&d, &format!("/api/v1/forms/removal/{}", removal["id"]));
    has_all(
        &text,
        &[
            "Formulir Permintaan Penghapusan Akses Ruang Server",
            "Alasan penghapusan",
            "Kontrak vendor berakhir",
            "Riwayat",
        ],
    );

    // Procedure 5 (seed 000): a remote-access account.
    let r = ok(
        &d,
        &operator,
        "/api/v1/requests",
        json!({
        "kind": "remote_access", "applicant_name": "Andi Wijaya", "instansi": "PT Vendor SPSE",
        "purpose": "Pembaruan aplikasi SPSE", "hak_akses": "SSH ke server aplikasi",
        "valid_from": Utc::now().to_rfc3339(), "valid_until": (Utc::now() + Duration::hours(48)).to_rfc3339() }),
    );
    let rid = r["id"].as_i64().unwrap();
    ok(
        &d,
        &kasi,
        &format!("/api/v1/requests/{rid}/decide"),
        json!({ "step": "permit", "decision": "approve" }),
    );
    ok(
        &d,
        &operator,
        &format!("/api/v1/requests/{rid}/grant"),
        json!({ "username": "vendor-spse01" }),
    );
    let month = Utc::now()
        .with_timezone(&chrono_tz::Asia::Jakarta)
        .format("%Y-%m")
        .to_string();
    let text = pdf(&d, &format!("/api/v1/forms/remote-access?month={month}"));
    has_all(
        &text,
        &[
            "Formulir Pencatatan Pemberian Remote Akses",
            "Periode",
            "LPSE",
            "Username",
            "Hak Akses",
            "Waktu Pemberian",
            "Waktu Penutupan",
            "vendor-spse01",
            "PT Vendor SPSE",
        ],
    );

    // Procedure 4 (seed 004): a visit checked in and granted.
    let escort = d.grant("ABCDEF01", "iso14443");
    let v = ok(
        &d,
        &helpdesk,
        "/api/v1/visits",
        json!({
        "nama": "Rina Kurnia", "instansi": "PT Data Prima Nusantara", "alamat": "Jl. Pemuda No. 12, Semarang",
        "jenis_identitas": "ktp", "no_identitas": "3374011203850004", "tujuan": "Penggantian hard disk",
        "host": "Budi Santoso", "escort_person_id": escort,
        "equipment": [{ "jenis": "Laptop", "no_seri": "5CD1234XYZ" }],
        "id_deposited": true, "ttd": { "kind": "typed", "name": "Rina Kurnia", "consent": true } }),
    );
    ok(
        &d,
        &kepala,
        &format!("/api/v1/visits/{}/decide", v["id"]),
        json!({ "decision": "approve" }),
    );
    let text = pdf(
        &d,
        &format!("/api/v1/forms/facility-register?month={month}"),
    );
    has_all(
        &text,
        &[
            "Formulir Pencatatan Penggunaan Fasilitas",
            // Column names wrap inside their cells; the CSV below has them whole.
            "Nama",
            "Instansi",
            "Alamat",
            "Identitas",
            "Badge",
            "Tanggal",
            "Masuk",
            "Keluar",
            "Tujuan",
            "TTD",
            "Rina",
            "PT Data Prima",
            "5CD1234XYZ",
        ],
    );

    // Other formats and English, and bad input.
    let (status, ct, csv) = d.get_bytes(&format!(
        "/api/v1/forms/remote-access?month={month}&format=csv&sep=semicolon"
    ));
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with('\u{feff}')
            && csv.contains(
                "No.;Nama;Instansi;Username;Hak Akses;Tujuan;Waktu Pemberian;Waktu Penutupan"
            ),
        "{csv}"
    );
    let (_, _, csv) = d.get_bytes(&format!(
        "/api/v1/forms/facility-register?month={month}&format=csv"
    ));
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("No.,Nama,Instansi,Alamat,Jenis Identitas,No. Identitas,No. Badge,Tanggal,Jam Masuk,Jam Keluar,Tujuan,Fasilitas: Jenis,Fasilitas: No Seri,TTD"), "{csv}");
    let (_, _, html) = d.get_bytes("/api/v1/forms/access-list?format=html&lang=en");
    assert!(
        String::from_utf8(html)
            .unwrap()
            .contains("Server Room Access List Form")
    );
    assert_eq!(d.get("/api/v1/forms/review/999").status, 404);
    assert_eq!(
        d.get(&format!(
            "/api/v1/forms/facility-register?month={month}&door=ruang-server"
        ))
        .status,
        400
    );
    assert_eq!(d.get("/api/v1/forms/access-list?door=dapur").status, 400);

    // From the command line, PDF by default.
    let file = d.dir.path().join("daftar-akses.pdf");
    let out = d.cli(&[
        "report",
        "form",
        "access-list",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        pdf_text(&std::fs::read(&file).unwrap()).contains("Formulir Daftar Akses Ruang Server")
    );
    let out = d.cli(&["report", "form", "review", "-o", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--id"));
}
