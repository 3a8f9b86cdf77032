//! The register as CSV: UTF-8 with a byte-order mark (so spreadsheet programs in Indonesia
//! open it as UTF-8), a comma or, for Indonesian-locale spreadsheets, a semicolon.

use std::io::{self, Write};

use chrono_tz::Tz;

use super::Lang;
use crate::decision::Reason;
use crate::door::Alarm;
use crate::model::Direction;
use crate::store::register::RegisterEntry;

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

const HEADER_ID: [&str; 12] = [
    "No.",
    "Tanggal",
    "Jam",
    "Pintu",
    "Pembaca",
    "Arah",
    "Nama",
    "NIP/No. Identitas",
    "Unit Kerja/Instansi",
    "Kartu",
    "Keputusan",
    "Alasan",
];
const HEADER_EN: [&str; 12] = [
    "No.",
    "Date",
    "Time",
    "Door",
    "Reader",
    "Direction",
    "Name",
    "ID number",
    "Unit",
    "Card",
    "Decision",
    "Reason",
];

pub struct RegisterCsv<W: Write> {
    out: W,
    sep: u8,
    lang: Lang,
    tz: Tz,
    rows: u64,
}

impl<W: Write> RegisterCsv<W> {
    /// Writes the byte-order mark and the header row.
    pub fn new(mut out: W, sep: u8, lang: Lang, tz: Tz) -> io::Result<Self> {
        out.write_all(BOM)?;
        let mut me = RegisterCsv {
            out,
            sep,
            lang,
            tz,
            rows: 0,
        };
        let header = match lang {
            Lang::Id => HEADER_ID,
            Lang::En => HEADER_EN,
        };
        me.record(&header.map(str::to_owned))?;
        Ok(me)
    }

    pub fn row(&mut self, e: &RegisterEntry) -> io::Result<()> {
        self.rows += 1;
        let local = e.at.with_timezone(&self.tz);
        let id = self.lang == Lang::Id;
        let dir = e.direction.map(|d| match (d, id) {
            (Direction::In, true) => "Masuk",
            (Direction::Out, true) => "Keluar",
            (Direction::In, false) => "In",
            (Direction::Out, false) => "Out",
        });
        let decision = match (e.event.as_str(), e.granted, id) {
            ("tap", true, true) => "Diizinkan",
            ("tap", false, true) => "Ditolak",
            ("tap", true, false) => "Granted",
            ("tap", false, false) => "Refused",
            ("exit_button", _, true) => "Tombol keluar",
            ("exit_button", _, false) => "Exit button",
            ("alarm_cleared", _, true) => "Alarm selesai",
            ("alarm_cleared", _, false) => "Alarm cleared",
            ("clock_jump", _, true) => "Jam sistem",
            ("clock_jump", _, false) => "System clock",
            _ => "Alarm",
        };
        let reason = label(&e.reason, self.lang);
        let fields = [
            self.rows.to_string(),
            local.format("%Y-%m-%d").to_string(),
            local.format("%H:%M:%S").to_string(),
            e.door.clone().unwrap_or_default(),
            e.reader.clone().unwrap_or_default(),
            dir.unwrap_or_default().to_owned(),
            e.person_name.clone().unwrap_or_default(),
            e.person_id_number.clone().unwrap_or_default(),
            e.person_unit.clone().unwrap_or_default(),
            e.credential.clone().unwrap_or_default(),
            decision.to_owned(),
            reason,
        ];
        self.record(&fields)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn record(&mut self, fields: &[String]) -> io::Result<()> {
        record(&mut self.out, self.sep, fields)
    }
}

/// Writes one CSV line (CRLF-terminated).
pub(crate) fn record<W: Write>(out: &mut W, sep: u8, fields: &[String]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(&[sep])?;
        }
        field(out, sep, f)?;
    }
    out.write_all(b"\r\n")
}

/// Quotes a field when it holds the separator, a quote or a line break; a leading
/// `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet never runs a name as a
/// formula.
fn field<W: Write>(out: &mut W, sep: u8, f: &str) -> io::Result<()> {
    let guarded;
    let f = if f.starts_with(['=', '+', '-', '@']) {
        guarded = format!("'{f}");
        guarded.as_str()
    } else {
        f
    };
    if f.bytes()
        .any(|b| b == sep || b == b'"' || b == b'\n' || b == b'\r')
    {
        write!(out, "\"{}\"", f.replace('"', "\"\""))
    } else {
        out.write_all(f.as_bytes())
    }
}

/// The label of a reason or alarm code; an unknown code is shown as it is.
pub(crate) fn label(code: &str, lang: Lang) -> String {
    if let Some(r) = Reason::from_code(code) {
        return match lang {
            Lang::Id => r.label_id(),
            Lang::En => r.label_en(),
        }
        .to_owned();
    }
    if let Some(a) = Alarm::from_code(code) {
        return match lang {
            Lang::Id => a.label_id(),
            Lang::En => a.label_en(),
        }
        .to_owned();
    }
    match (code, lang) {
        ("exit_button", Lang::Id) => "tombol keluar ditekan".into(),
        ("exit_button", Lang::En) => "exit button pressed".into(),
        ("clock_jump", Lang::Id) => {
            "jam sistem melompat (waktu baris sebelum dan sesudah tidak bersambung)".into()
        }
        ("clock_jump", Lang::En) => {
            "the system clock jumped (times before and after are not continuous)".into()
        }
        _ => code.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(name: &str) -> RegisterEntry {
        RegisterEntry {
            id: 1,
            event: "tap".into(),
            at: chrono::Utc
                .with_ymd_and_hms(2026, 11, 30, 16, 59, 59)
                .unwrap(),
            door: Some("ruang-server".into()),
            reader: Some("masuk".into()),
            direction: Some(Direction::In),
            credential: Some("iso14443:04A1B2C3".into()),
            credential_id: Some(1),
            person_id: Some(1),
            person_name: Some(name.into()),
            person_id_number: Some("198001012005011001".into()),
            person_unit: Some("Diskominfo".into()),
            granted: false,
            reason: "credential_revoked".into(),
        }
    }

    #[test]
    fn indonesian_columns_local_time_and_quoting() {
        let mut w = RegisterCsv::new(Vec::new(), b';', Lang::Id, chrono_tz::Asia::Jakarta).unwrap();
        w.row(&entry("Budi; \"Ucok\" Santoso")).unwrap();
        w.row(&entry("=HYPERLINK(1)")).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        let mut lines = out.strip_prefix('\u{feff}').unwrap().lines();
        assert_eq!(
            lines.next().unwrap(),
            "No.;Tanggal;Jam;Pintu;Pembaca;Arah;Nama;NIP/No. Identitas;Unit Kerja/Instansi;Kartu;Keputusan;Alasan"
        );
        assert_eq!(
            lines.next().unwrap(),
            "1;2026-11-30;23:59:59;ruang-server;masuk;Masuk;\"Budi; \"\"Ucok\"\" Santoso\";198001012005011001;Diskominfo;iso14443:04A1B2C3;Ditolak;kartu sudah dicabut"
        );
        assert!(lines.next().unwrap().contains(";'=HYPERLINK(1);"));
    }

    #[test]
    fn door_events_have_their_own_labels() {
        let mut w = RegisterCsv::new(Vec::new(), b',', Lang::Id, chrono_tz::Asia::Jakarta).unwrap();
        let mut alarm = entry("");
        alarm.event = "alarm".into();
        alarm.reason = "door_forced".into();
        alarm.direction = None;
        w.row(&alarm).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(out.contains(",Alarm,pintu dibuka paksa"), "{out}");
    }

    #[test]
    fn english_option() {
        let mut w = RegisterCsv::new(Vec::new(), b',', Lang::En, chrono_tz::Asia::Jakarta).unwrap();
        w.row(&entry("Budi")).unwrap();
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(out.contains("No.,Date,Time,Door"), "{out}");
        assert!(
            out.contains(",In,Budi,") && out.contains(",Refused,card revoked"),
            "{out}"
        );
    }
}
