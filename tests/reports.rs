//! The periodic access report over real HTTP, checked against a hand-built register: lines
//! written straight into the daemon's database at chosen times (a simulated tap can only
//! happen now), including both sides of the month's boundary in WIB.

use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon};

mod forms;

pub const REPORT_CONFIG: &str = r#"
[report]
instansi = "Dinas Komunikasi dan Informatika Kota Salatiga"
unit = "Bidang Infrastruktur dan APTIKA"

[[report.signer]]
jabatan = "Kasi Layanan Infrastruktur TIK"
nama = "Sri Wahyuni, S.Kom"
nip = "19800101 200501 2 001"
"#;

/// at, event, direction, person, granted, reason.
type FixtureLine<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<i64>,
    bool,
    &'a str,
);

pub struct Fixture {
    pub d: TestDaemon,
    pub budi: i64,
}

fn person(d: &TestDaemon, name: &str, uid: &str, valid_until: &str) -> i64 {
    let p = d.post(
        "/api/v1/people",
        &json!({ "name": name, "id_number": format!("NIP-{name}"), "unit": "Diskominfo" }),
    );
    assert_eq!(p.status, 201, "{}", p.body);
    let r = d.post(
        "/api/v1/badges",
        &json!({ "person_id": p.body["id"], "uid": uid, "right": {
            "doors": ["ruang-server"], "valid_from": "2020-01-01T00:00:00Z",
            "valid_until": valid_until } }),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    p.body["id"].as_i64().unwrap()
}

/// Budi taps through November 2026 (WIB); Sari holds a right she never uses; Tono's ends in
/// ten days.
pub fn fixture() -> Fixture {
    let d = TestDaemon::start_with(&format!("{ONE_DOOR}{REPORT_CONFIG}"));
    let budi = person(&d, "Budi Santoso", "01", "2099-01-01T00:00:00Z");
    person(&d, "Sari", "02", "2099-01-01T00:00:00Z");
    let soon = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    person(&d, "Tono", "03", &soon);
    let conn = rusqlite::Connection::open(d.data_dir().join("lawang.sqlite3")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    let door: i64 = conn
        .query_row("SELECT id FROM door WHERE name = 'ruang-server'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let lines: [FixtureLine; 12] = [
        // The last second of October and the first of December are outside November.
        (
            "2026-10-31T23:59:59+07:00",
            "tap",
            Some("in"),
            Some(budi),
            true,
            "granted",
        ),
        (
            "2026-11-02T08:00:00+07:00",
            "tap",
            Some("in"),
            Some(budi),
            true,
            "granted",
        ),
        (
            "2026-11-02T12:00:00+07:00",
            "tap",
            Some("out"),
            Some(budi),
            true,
            "granted",
        ),
        // Saturday: outside working hours.
        (
            "2026-11-07T10:00:00+07:00",
            "tap",
            Some("in"),
            Some(budi),
            true,
            "granted",
        ),
        (
            "2026-11-10T10:00:00+07:00",
            "tap",
            Some("in"),
            None,
            false,
            "unknown_credential",
        ),
        (
            "2026-11-10T10:00:05+07:00",
            "tap",
            Some("in"),
            None,
            false,
            "unknown_credential",
        ),
        (
            "2026-11-11T20:00:00+07:00",
            "tap",
            Some("in"),
            Some(budi),
            false,
            "outside_schedule",
        ),
        (
            "2026-11-12T02:00:00+07:00",
            "alarm",
            None,
            None,
            false,
            "door_forced",
        ),
        (
            "2026-11-13T09:00:00+07:00",
            "alarm",
            None,
            None,
            false,
            "door_held_open",
        ),
        (
            "2026-11-14T09:00:00+07:00",
            "alarm",
            None,
            None,
            false,
            "reader_offline",
        ),
        // 23:59:59 WIB on the last day is November (16:59:59 UTC), and after hours.
        (
            "2026-11-30T23:59:59+07:00",
            "tap",
            Some("in"),
            Some(budi),
            true,
            "granted",
        ),
        (
            "2026-12-01T00:00:00+07:00",
            "tap",
            Some("in"),
            Some(budi),
            true,
            "granted",
        ),
    ];
    for (at, event, dir, person, granted, reason) in lines {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .timestamp_millis();
        conn.execute(
            "INSERT INTO register (at, event, door_id, direction, person_id, granted, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![at, event, door, dir, person, granted, reason],
        )
        .unwrap();
    }
    Fixture { d, budi }
}

fn counted(list: &Value, code: &str) -> u64 {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == code)
        .map(|c| c["count"].as_u64().unwrap())
        .unwrap_or(0)
}

#[test]
fn the_monthly_report_matches_the_hand_built_register() {
    let f = fixture();
    let r = f.d.get("/api/v1/reports/access?month=2026-11");
    assert_eq!(r.status, 200, "{}", r.body);
    let b = &r.body;
    assert_eq!(b["period"], "2026-11");
    assert_eq!(b["period_label"], "November 2026");
    assert_eq!(b["from"], "2026-10-31T17:00:00Z");
    assert_eq!(b["until"], "2026-11-30T17:00:00Z");
    let t = &b["totals"];
    assert_eq!(t["entries"], 3, "{t}");
    assert_eq!(t["exits"], 1);
    assert_eq!(t["refused"], 3);
    assert_eq!(t["alarms"], 3);
    assert_eq!(t["outside_hours"], 2);
    assert_eq!(t["people"], 1);
    let budi = b["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["person_id"] == f.budi)
        .unwrap();
    assert_eq!(budi["name"], "Budi Santoso");
    assert_eq!(
        (
            budi["entries"].as_u64(),
            budi["exits"].as_u64(),
            budi["refused"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(budi["last_at"], "2026-11-30T16:59:59Z");
    assert_eq!(counted(&b["refused_by_reason"], "unknown_credential"), 2);
    assert_eq!(counted(&b["refused_by_reason"], "outside_schedule"), 1);
    for alarm in ["door_forced", "door_held_open", "reader_offline"] {
        assert_eq!(counted(&b["alarms_by_kind"], alarm), 1, "{alarm}");
    }
    let outside: Vec<&str> = b["outside_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(outside, ["2026-11-07T03:00:00Z", "2026-11-30T16:59:59Z"]);
    let names = |key: &str| -> Vec<String> {
        b[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("rights_expiring"), ["Tono"]);
    // Tono's right ends in ten days: not within one.
    let narrower =
        f.d.get("/api/v1/reports/access?month=2026-11&expiring_within_days=1");
    assert_eq!(narrower.body["expiring_within_days"], 1);
    assert_eq!(narrower.body["rights_expiring"], json!([]));
    assert!(
        names("rights_unused").contains(&"Sari".to_owned()),
        "{}",
        b["rights_unused"]
    );

    // December holds only the tap at 00:00:00 WIB on the 1st.
    let dec =
        f.d.get("/api/v1/reports/access?month=2026-12&door=ruang-server");
    assert_eq!(dec.body["totals"]["entries"], 1, "{}", dec.body);
    // The same month as a custom range gives the same figures.
    let custom =
        f.d.get("/api/v1/reports/access?from=2026-11-01&to=2026-11-30");
    assert_eq!(custom.body["totals"], b["totals"]);
    let day = f.d.get("/api/v1/reports/access?day=2026-11-30");
    assert_eq!(day.body["totals"]["entries"], 1);
}

#[test]
fn the_report_as_csv_and_html_in_indonesian_and_english() {
    let f = fixture();
    let (status, ct, body) =
        f.d.get_bytes("/api/v1/reports/access?month=2026-11&format=csv&sep=semicolon");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"));
    let text = String::from_utf8(body).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let rows: Vec<Vec<&str>> = text.split("\r\n").map(|l| l.split(';').collect()).collect();
    assert_eq!(rows[0], ["Laporan Akses Ruang Server"]);
    assert!(rows.contains(&vec![
        "Instansi",
        "Dinas Komunikasi dan Informatika Kota Salatiga"
    ]));
    assert!(rows.contains(&vec!["Periode", "November 2026"]));
    assert!(rows.contains(&vec!["kartu tidak dikenal", "2"]), "{text}");
    let budi = rows
        .iter()
        .find(|r| r.get(1) == Some(&"Budi Santoso"))
        .unwrap();
    assert_eq!(
        budi[2..8],
        ["NIP-Budi Santoso", "Diskominfo", "pegawai", "3", "1", "1"]
    );
    assert_eq!(budi[9], "2026-11-30 23:59:59");
    assert!(rows.contains(&vec![
        "Kasi Layanan Infrastruktur TIK",
        "Sri Wahyuni, S.Kom",
        "19800101 200501 2 001"
    ]));

    let (status, ct, body) =
        f.d.get_bytes("/api/v1/reports/access?month=2026-11&format=html&lang=en");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    let html = String::from_utf8(body).unwrap();
    for s in [
        "Server Room Access Report",
        "November 2026",
        "Refused attempts by reason",
        "door forced open",
        "Budi Santoso",
        "NIP. 19800101 200501 2 001",
    ] {
        assert!(html.contains(s), "{s} missing");
    }
}

#[test]
fn reports_are_for_the_kasi_and_the_heads_and_periods_are_checked() {
    let f = fixture();
    for role in ["kasi", "kabid", "kadis", "auditor"] {
        let token = f.d.token_for(role);
        assert_eq!(
            f.d.get_as("/api/v1/reports/access?month=2026-11", Some(&token))
                .status,
            200,
            "{role}"
        );
    }
    for role in ["pemohon", "helpdesk", "monitor"] {
        let token = f.d.token_for(role);
        assert_eq!(
            f.d.get_as("/api/v1/reports/access?month=2026-11", Some(&token))
                .status,
            403,
            "{role}"
        );
    }
    assert_eq!(
        f.d.get_as("/api/v1/reports/access?month=2026-11", None)
            .status,
        401
    );
    for bad in [
        "month=2026-13",
        "month=2026-11&quarter=2026-Q4",
        "from=2026-11-01",
        "",
        "month=2026-11&door=dapur",
        "month=2026-11&format=docx",
        "from=2026-11-30&to=2026-11-01",
        "month=2026-11&unused_for_days=0",
    ] {
        let r = f.d.get(&format!("/api/v1/reports/access?{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[test]
fn lawang_report_access_writes_the_file() {
    let f = fixture();
    let file = f.d.dir.path().join("laporan.csv");
    let out = f.d.cli(&[
        "report",
        "access",
        "--month",
        "2026-11",
        "--semicolon",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with('\u{feff}') && text.contains("Periode;November 2026"),
        "{text}"
    );
    assert!(!f.d.dir.path().join("laporan.csv.part").exists());

    let out = f.d.cli(&[
        "report",
        "access",
        "--month",
        "2026-11",
        "--quarter",
        "2026-Q4",
    ]);
    assert!(!out.status.success());
    let out =
        f.d.cli(&["report", "access", "--month", "2026-11", "--format", "pdf"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output"));
    let out = f.d.cli(&[
        "report",
        "access",
        "--month",
        "2026-13",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2026-13"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The earlier file is left as it was.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
}

/// The PDF's text as `pdftotext -layout` reads it (poppler-utils).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `pdffonts`: the font is embedded (the `emb` column), so the page prints the same anywhere.
fn pdf_fonts(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdffonts")
        .arg(&path)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_report_as_pdf_reads_back_with_pdftotext() {
    let f = fixture();
    let (status, ct, pdf) =
        f.d.get_bytes("/api/v1/reports/access?month=2026-11&format=pdf");
    assert_eq!(status, 200);
    assert_eq!(ct, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    for s in [
        "Laporan Akses Ruang Server",
        "Instansi",
        "Dinas Komunikasi dan Informatika Kota Salatiga",
        "November 2026",
        "Masuk dan keluar per orang",
        "Percobaan ditolak menurut alasan",
        "Sri Wahyuni, S.Kom",
        "NIP. 19800101 200501 2 001",
        "Halaman 1 /",
    ] {
        assert!(text.contains(s), "{s:?} missing in:\n{text}");
    }
    // Columns of the per-person table, and Budi's line with his counts in order.
    let header = text
        .lines()
        .find(|l| l.contains("Nama") && l.contains("Masuk") && l.contains("Ditolak"))
        .unwrap();
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert!(
        cols.windows(3).any(|w| w == ["Masuk", "Keluar", "Ditolak"]),
        "{header}"
    );
    let budi = text.lines().find(|l| l.contains("Budi Santoso")).unwrap();
    assert!(
        budi.split_whitespace()
            .collect::<Vec<_>>()
            .windows(3)
            .any(|w| w == ["3", "1", "1"]),
        "{budi}"
    );
    assert!(text.contains("kartu tidak dikenal") && text.contains("pintu dibuka paksa"));
    if let Ok(dir) = std::env::var("LAWANG_KEEP_PDF") {
        std::fs::write(format!("{dir}/access.pdf"), &pdf).unwrap();
    }
    let fonts = pdf_fonts(&pdf);
    assert!(
        fonts.contains("DejaVuSans") && fonts.lines().nth(2).unwrap().contains(" yes "),
        "{fonts}"
    );
}
