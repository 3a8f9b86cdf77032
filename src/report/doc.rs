//! A printable document: the agency header, titled tables and signature blocks. The access
//! report and the SOP's forms are built as a [`Document`]; the renderers (CSV here, HTML in
//! `html.rs`, PDF in `pdf.rs`) know nothing about what the tables hold.

use std::io::{self, Write};

use serde::Serialize;

use super::csv::{BOM, record};
use crate::config::Signer;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Document {
    /// e.g. `Laporan Akses Ruang Server`, `Formulir Daftar Akses Ruang Server`.
    pub title: String,
    /// Label and value lines under the title: Instansi, Unit, Periode, Pintu …
    pub header: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// The line above the signature blocks, e.g. `Salatiga, 1 Desember 2026`.
    pub signed_at: String,
    pub signers: Vec<Signer>,
    /// Small print at the foot: when and by what the document was made.
    pub footer: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Section {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Shown instead of an empty table.
    pub empty: String,
    /// A remark under the table (e.g. that a list was cut).
    pub note: Option<String>,
}

impl Document {
    /// Wide tables go on landscape pages.
    pub fn is_wide(&self) -> bool {
        self.sections.iter().any(|s| s.columns.len() > 7)
    }
}

/// Output formats of a report or form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Html,
    Pdf,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "html" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Html => "html",
            Format::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }
}

/// The document as CSV: the title and header lines, then each section as its title, its
/// column row and its rows, a blank line between sections; the signers at the end.
pub fn to_csv(doc: &Document, sep: u8, out: &mut impl Write) -> io::Result<()> {
    out.write_all(BOM)?;
    record(out, sep, std::slice::from_ref(&doc.title))?;
    for (k, v) in &doc.header {
        record(out, sep, &[k.clone(), v.clone()])?;
    }
    for s in &doc.sections {
        out.write_all(b"\r\n")?;
        record(out, sep, std::slice::from_ref(&s.title))?;
        record(out, sep, &s.columns)?;
        for r in &s.rows {
            record(out, sep, r)?;
        }
        if s.rows.is_empty() {
            record(out, sep, std::slice::from_ref(&s.empty))?;
        }
        if let Some(n) = &s.note {
            record(out, sep, std::slice::from_ref(n))?;
        }
    }
    if !doc.signers.is_empty() {
        out.write_all(b"\r\n")?;
        for s in &doc.signers {
            record(
                out,
                sep,
                &[s.jabatan.clone(), s.nama.clone(), s.nip.clone()],
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_round_trip_through_csv() {
        let doc = Document {
            title: "Laporan".into(),
            header: vec![("Periode".into(), "November 2026".into())],
            sections: vec![Section {
                title: "Ditolak".into(),
                columns: vec!["Alasan".into(), "Jumlah".into()],
                rows: vec![vec!["kartu; tidak dikenal".into(), "2".into()]],
                ..Section::default()
            }],
            ..Document::default()
        };
        let mut out = Vec::new();
        to_csv(&doc, b';', &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text
            .strip_prefix('\u{feff}')
            .unwrap()
            .split("\r\n")
            .collect();
        assert_eq!(
            lines[..6],
            [
                "Laporan",
                "Periode;November 2026",
                "",
                "Ditolak",
                "Alasan;Jumlah",
                "\"kartu; tidak dikenal\";2"
            ]
        );
    }

    /// RFC 4180 as a spreadsheet reads it: quoted fields may hold the separator, quotes
    /// (doubled) and line breaks.
    fn parse(text: &str, sep: char) -> Vec<Vec<String>> {
        let mut rows = vec![];
        let mut row = vec![];
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, '\r') => {}
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) if c == sep => row.push(std::mem::take(&mut field)),
                (false, c) => field.push(c),
            }
        }
        rows
    }

    #[test]
    fn every_cell_comes_back_as_written() {
        let tricky = [
            "Budi; \"Ucok\" Santoso",
            "Jl. Pemuda 12,\nSemarang",
            "Laptop\nHard disk",
            "Ibu Siti, S.Kom",
            "tanda \"petik\"",
        ];
        let doc = Document {
            title: "Laporan".into(),
            sections: vec![Section {
                title: "Data".into(),
                columns: vec!["No.".into(), "Isi".into()],
                rows: tricky
                    .iter()
                    .enumerate()
                    .map(|(i, t)| vec![i.to_string(), (*t).into()])
                    .collect(),
                ..Section::default()
            }],
            ..Document::default()
        };
        for sep in [b',', b';'] {
            let mut out = Vec::new();
            to_csv(&doc, sep, &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            let rows = parse(text.strip_prefix('\u{feff}').unwrap(), sep as char);
            let back: Vec<&str> = rows.iter().skip(4).map(|r| r[1].as_str()).collect();
            assert_eq!(back, tricky, "separator {}", sep as char);
        }
    }
}
