//! Formulir Pencatatan Penggunaan Fasilitas (seed 004) as CSV, with the form's columns:
//! No.; Identitas (Nama, Instansi, Alamat, Jenis Identitas, No. Identitas); No. Badge; Waktu
//! (Tanggal, Jam Masuk, Jam Keluar); Tujuan; Fasilitas (Jenis, No Seri); TTD. Several pieces
//! of equipment share their visit's line, one per line inside the cell, as on the paper form.

use std::io::{self, Write};

use chrono_tz::Tz;

use super::Lang;
use super::csv::{BOM, record};
use crate::store::visits::register::RegisterRow;

const HEADER_ID: [&str; 14] = [
    "No.",
    "Nama",
    "Instansi",
    "Alamat",
    "Jenis Identitas",
    "No. Identitas",
    "No. Badge",
    "Tanggal",
    "Jam Masuk",
    "Jam Keluar",
    "Tujuan",
    "Fasilitas: Jenis",
    "Fasilitas: No Seri",
    "TTD",
];
const HEADER_EN: [&str; 14] = [
    "No.",
    "Name",
    "Agency",
    "Address",
    "ID document",
    "ID number",
    "Badge no.",
    "Date",
    "Time in",
    "Time out",
    "Purpose",
    "Equipment",
    "Serial no.",
    "Signature",
];

/// The form's column names.
pub fn columns(lang: Lang) -> [&'static str; 14] {
    match lang {
        Lang::Id => HEADER_ID,
        Lang::En => HEADER_EN,
    }
}

/// One visit's line under [`columns`]; several pieces of equipment one per line in a cell.
pub fn fields(r: &RegisterRow, lang: Lang, tz: Tz) -> [String; 14] {
    let time = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%H:%M").to_string();
    let ttd = match (&r.ttd_name, lang) {
        (Some(name), Lang::Id) => format!("{name} (diketik, disetujui pengunjung)"),
        (Some(name), Lang::En) => format!("{name} (typed, with consent)"),
        (None, Lang::Id) => "tanda tangan (gambar) tersimpan".into(),
        (None, Lang::En) => "signature picture on file".into(),
    };
    [
        r.no.to_string(),
        r.nama.clone(),
        r.instansi.clone().unwrap_or_default(),
        r.alamat.clone().unwrap_or_default(),
        r.jenis_identitas.clone(),
        r.no_identitas.clone(),
        r.no_badge.clone().unwrap_or_default(),
        r.tanggal.format("%Y-%m-%d").to_string(),
        time(r.jam_masuk),
        r.jam_keluar.map(time).unwrap_or_default(),
        r.tujuan.clone(),
        lines(r.fasilitas.iter().map(|e| e.jenis.as_str())),
        lines(
            r.fasilitas
                .iter()
                .map(|e| e.no_seri.as_deref().unwrap_or("")),
        ),
        ttd,
    ]
}

/// The whole register of a period: the byte-order mark, the header and one line per visit.
pub fn register_csv(rows: &[RegisterRow], sep: u8, lang: Lang, tz: Tz) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256 * (rows.len() + 1));
    out.write_all(BOM)?;
    record(&mut out, sep, &columns(lang).map(str::to_owned))?;
    for r in rows {
        record(&mut out, sep, &fields(r, lang, tz))?;
    }
    Ok(out)
}

fn lines<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::store::visits::Equipment;
    use crate::store::visits::register::TimeSource;
    use crate::visit::VisitStatus;

    fn row() -> RegisterRow {
        RegisterRow {
            no: 1,
            visit_id: 4,
            nama: "Andi Wijaya".into(),
            instansi: Some("PT Data Prima".into()),
            alamat: Some("Jl. Pemuda 12, Semarang".into()),
            jenis_identitas: "KTP".into(),
            no_identitas: "3374011203850004".into(),
            no_badge: Some("V-01".into()),
            tanggal: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(),
            jam_masuk: Utc.with_ymd_and_hms(2026, 3, 4, 2, 5, 0).unwrap(),
            jam_masuk_from: TimeSource::Reader,
            jam_keluar: Some(Utc.with_ymd_and_hms(2026, 3, 4, 4, 30, 0).unwrap()),
            jam_keluar_from: Some(TimeSource::Desk),
            tujuan: "Penggantian hard disk server SPSE".into(),
            fasilitas: vec![
                Equipment {
                    jenis: "Laptop".into(),
                    no_seri: Some("5CD1234XYZ".into()),
                },
                Equipment {
                    jenis: "Hard disk".into(),
                    no_seri: None,
                },
            ],
            ttd_name: Some("Andi Wijaya".into()),
            status: VisitStatus::Closed,
        }
    }

    #[test]
    fn the_seed_004_columns_in_the_office_zone() {
        let out = register_csv(&[row()], b';', Lang::Id, chrono_tz::Asia::Jakarta).unwrap();
        let text = String::from_utf8(out).unwrap();
        let text = text.strip_prefix('\u{feff}').unwrap();
        assert!(text.starts_with(
            "No.;Nama;Instansi;Alamat;Jenis Identitas;No. Identitas;No. Badge;Tanggal;\
             Jam Masuk;Jam Keluar;Tujuan;Fasilitas: Jenis;Fasilitas: No Seri;TTD\r\n"
        ));
        assert!(
            text.contains(
                "1;Andi Wijaya;PT Data Prima;Jl. Pemuda 12, Semarang;KTP;3374011203850004;V-01;\
                 2026-03-04;09:05;11:30;Penggantian hard disk server SPSE;\
                 \"Laptop\nHard disk\";\"5CD1234XYZ\n\";Andi Wijaya (diketik, disetujui pengunjung)\r\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn english_headers_and_an_open_visit() {
        let mut r = row();
        r.jam_keluar = None;
        r.ttd_name = None;
        let out = register_csv(&[r], b',', Lang::En, chrono_tz::Asia::Jakarta).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("No.,Name,Agency"), "{text}");
        assert!(text.contains(",09:05,,"), "{text}");
        assert!(text.contains("signature picture on file"), "{text}");
    }
}
