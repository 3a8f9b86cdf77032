//! A [`Document`] as PDF: A4 (landscape when a table is wide), DejaVu Sans embedded so it
//! prints the same on every office printer, tables that wrap their cells and repeat their
//! column row on each page, the signature blocks at the end and page numbers at the foot.
//!
//! A small writer of PDF 1.4 rather than a library: a document here is text in tables and a
//! few lines, which is all this draws.

mod font;

use std::fmt::Write as _;
use std::sync::OnceLock;

use font::{Metrics, encode};

use super::doc::{Document, Section};

const A4: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 40.0;
const BODY: f32 = 8.0;
const PAD: f32 = 2.5;

#[derive(Debug, thiserror::Error)]
#[error("cannot make the PDF: {0}")]
pub struct PdfError(String);

pub fn to_pdf(doc: &Document, page_label: &str) -> Result<Vec<u8>, PdfError> {
    let m = font::metrics().map_err(PdfError)?;
    let (w, h) = if doc.is_wide() { (A4.1, A4.0) } else { A4 };
    let mut l = Layout {
        m,
        w,
        h,
        y: h - MARGIN,
        pages: vec![String::new()],
    };
    l.centered(&doc.title, 13.0);
    l.y -= 6.0;
    let label_w = doc
        .header
        .iter()
        .map(|(k, _)| m.width(k, 9.0))
        .fold(0.0, f32::max);
    for (k, v) in &doc.header {
        l.need(12.0);
        l.text(MARGIN, l.y - 9.0, 9.0, k);
        l.text(MARGIN + label_w + 6.0, l.y - 9.0, 9.0, &format!(": {v}"));
        l.y -= 12.0;
    }
    for s in &doc.sections {
        l.section(s);
    }
    l.signatures(doc);
    let n = l.pages.len();
    for (i, page) in l.pages.iter_mut().enumerate() {
        let foot = format!("{}    {page_label} {} / {n}", doc.footer, i + 1);
        text_op(page, MARGIN, MARGIN / 2.0, 7.0, &foot);
    }
    Ok(write(&l.pages, w, h, m))
}

struct Layout {
    m: &'static Metrics,
    w: f32,
    h: f32,
    /// The top of the free space on the current page.
    y: f32,
    pages: Vec<String>,
}

impl Layout {
    fn page(&mut self) -> &mut String {
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Starts a new page when fewer than `height` points are left; says whether it did.
    fn need(&mut self, height: f32) -> bool {
        if self.y - height >= MARGIN {
            return false;
        }
        self.pages.push(String::new());
        self.y = self.h - MARGIN;
        true
    }

    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        text_op(self.page(), x, y, size, s);
    }

    fn centered(&mut self, s: &str, size: f32) {
        for line in wrap(self.m, s, size, self.w - 2.0 * MARGIN) {
            self.need(size * 1.3);
            let x = (self.w - self.m.width(&line, size)) / 2.0;
            self.text(x, self.y - size, size, &line);
            self.y -= size * 1.3;
        }
    }

    fn section(&mut self, s: &Section) {
        let avail = self.w - 2.0 * MARGIN;
        let widths = column_widths(self.m, s, avail);
        let header_h = self.row_height(&s.columns, &widths);
        // The title stays with the column row and the first line.
        let first = s
            .rows
            .first()
            .map(|r| self.row_height(r, &widths))
            .unwrap_or(12.0);
        self.need(16.0 + header_h + first);
        self.y -= 6.0;
        self.text(MARGIN, self.y - 10.0, 10.0, &s.title);
        self.y -= 14.0;
        if s.rows.is_empty() {
            self.text(MARGIN, self.y - BODY, BODY, &s.empty);
            self.y -= BODY * 1.6;
        } else {
            self.row(&s.columns, &widths, true);
            for r in &s.rows {
                let rh = self.row_height(r, &widths);
                if self.need(rh) {
                    self.row(&s.columns, &widths, true);
                }
                self.row(r, &widths, false);
            }
        }
        if let Some(note) = &s.note {
            self.need(BODY * 1.6);
            self.text(MARGIN, self.y - BODY - 2.0, BODY, note);
            self.y -= BODY * 1.8;
        }
    }

    fn row_height(&self, cells: &[String], widths: &[f32]) -> f32 {
        let lines = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| wrap(self.m, c, BODY, w - 2.0 * PAD).len().max(1))
            .max()
            .unwrap_or(1);
        lines as f32 * BODY * 1.2 + 2.0 * PAD
    }

    fn row(&mut self, cells: &[String], widths: &[f32], header: bool) {
        let rh = self.row_height(cells, widths);
        let top = self.y;
        let mut x = MARGIN;
        let m = self.m;
        let page = self.page();
        if header {
            let total: f32 = widths.iter().sum();
            let _ = writeln!(
                page,
                "0.9 g {x:.2} {:.2} {total:.2} {rh:.2} re f 0 g",
                top - rh
            );
        }
        for (c, w) in cells.iter().zip(widths) {
            let _ = writeln!(page, "0.5 w {x:.2} {:.2} {w:.2} {rh:.2} re S", top - rh);
            for (i, line) in wrap(m, c, BODY, w - 2.0 * PAD).iter().enumerate() {
                let y = top - PAD - BODY - i as f32 * BODY * 1.2 + 1.5;
                text_op(page, x + PAD, y, BODY, line);
            }
            x += w;
        }
        self.y -= rh;
    }

    fn signatures(&mut self, doc: &Document) {
        if doc.signers.is_empty() {
            return;
        }
        self.need(110.0);
        self.y -= 16.0;
        let size = 9.0;
        let x = self.w - MARGIN - self.m.width(&doc.signed_at, size);
        self.text(x, self.y - size, size, &doc.signed_at);
        self.y -= 16.0;
        let col = (self.w - 2.0 * MARGIN) / doc.signers.len() as f32;
        let top = self.y;
        let mut lowest = top;
        for (i, s) in doc.signers.iter().enumerate() {
            let center = MARGIN + col * (i as f32 + 0.5);
            let mut y = top;
            let m = self.m;
            for line in wrap(m, &s.jabatan, size, col - 10.0) {
                self.text(center - m.width(&line, size) / 2.0, y - size, size, &line);
                y -= size * 1.3;
            }
            y -= 50.0;
            self.text(
                center - m.width(&s.nama, size) / 2.0,
                y - size,
                size,
                &s.nama,
            );
            let underline = m.width(&s.nama, size);
            let _ = writeln!(
                self.page(),
                "0.5 w {:.2} {:.2} m {:.2} {:.2} l S",
                center - underline / 2.0,
                y - size - 2.0,
                center + underline / 2.0,
                y - size - 2.0
            );
            y -= size * 1.3;
            if !s.nip.is_empty() {
                let nip = format!("NIP. {}", s.nip);
                self.text(center - m.width(&nip, size) / 2.0, y - size, size, &nip);
                y -= size * 1.3;
            }
            lowest = lowest.min(y);
        }
        self.y = lowest;
    }
}

/// Each column gets its natural width (its widest cell, capped). When the table is wider
/// than the page, each column gives up space in proportion to what it has beyond its longest
/// word, so words are split only when even whole words cannot fit.
fn column_widths(m: &Metrics, s: &Section, avail: f32) -> Vec<f32> {
    let n = s.columns.len().max(1);
    let cells = |i: usize| {
        std::iter::once(s.columns.get(i))
            .chain(s.rows.iter().map(move |r| r.get(i)))
            .flatten()
    };
    let natural: Vec<f32> = (0..n)
        .map(|i| {
            let widest = cells(i)
                .flat_map(|c| c.lines())
                .map(|line| m.width(line, BODY))
                .fold(0.0, f32::max);
            (widest + 2.0 * PAD + 1.0).min(220.0)
        })
        .collect();
    let minimum: Vec<f32> = (0..n)
        .map(|i| {
            let word = cells(i)
                .flat_map(|c| c.split_whitespace())
                .map(|w| m.width(w, BODY))
                .fold(0.0, f32::max);
            (word + 2.0 * PAD + 1.0).min(90.0).min(natural[i])
        })
        .collect();
    let total: f32 = natural.iter().sum();
    if total <= avail {
        return natural;
    }
    let floor: f32 = minimum.iter().sum();
    if floor >= avail {
        return minimum.iter().map(|w| w * avail / floor).collect();
    }
    let give = (total - avail) / (total - floor);
    natural
        .iter()
        .zip(&minimum)
        .map(|(w, min)| w - (w - min) * give)
        .collect()
}

/// Breaks `text` into lines no wider than `width`, at spaces, or inside a word too long.
fn wrap(m: &Metrics, text: &str, size: f32, width: f32) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if m.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            for c in word.chars() {
                line.push(c);
                if m.width(&line, size) > width && line.chars().count() > 1 {
                    line.pop();
                    out.push(std::mem::take(&mut line));
                    line.push(c);
                }
            }
        }
        out.push(line);
    }
    out
}

fn text_op(page: &mut String, x: f32, y: f32, size: f32, s: &str) {
    let _ = write!(page, "BT /F1 {size:.1} Tf {x:.2} {y:.2} Td (");
    for c in s.chars() {
        match encode(c) {
            b'(' => page.push_str("\\("),
            b')' => page.push_str("\\)"),
            b'\\' => page.push_str("\\\\"),
            b @ 0x20..=0x7E => page.push(b as char),
            b => {
                let _ = write!(page, "\\{b:03o}");
            }
        }
    }
    page.push_str(") Tj ET\n");
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// The font file, compressed once per process.
fn font_stream() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| deflate(font::TTF))
}

/// Objects: 1 catalog, 2 page tree, 3 font, 4 descriptor, 5 font file, then a page and its
/// content per page.
fn write(pages: &[String], w: f32, h: f32, m: &Metrics) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    let stream = |dict: &str, data: &[u8]| {
        let mut b = format!(
            "<< {dict} /Filter /FlateDecode /Length {} >>\nstream\n",
            data.len()
        )
        .into_bytes();
        b.extend_from_slice(data);
        b.extend_from_slice(b"\nendstream");
        b
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", 6 + 2 * i))
        .collect();
    obj(
        &mut out,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} /MediaBox [0 0 {w:.2} {h:.2}] >>",
            kids.join(" "),
            pages.len()
        )
        .as_bytes(),
    );
    let widths: Vec<String> = m.widths.iter().map(u16::to_string).collect();
    obj(
        &mut out,
        format!(
            "<< /Type /Font /Subtype /TrueType /BaseFont /{name} /FirstChar 32 /LastChar 255 \
             /Widths [{}] /FontDescriptor 4 0 R /Encoding /WinAnsiEncoding >>",
            widths.join(" "),
            name = font::NAME
        )
        .as_bytes(),
    );
    let [x0, y0, x1, y1] = m.bbox;
    obj(
        &mut out,
        format!(
            "<< /Type /FontDescriptor /FontName /{} /Flags 32 /FontBBox [{x0} {y0} {x1} {y1}] \
             /ItalicAngle 0 /Ascent {a} /Descent {d} /CapHeight {a} /StemV 80 /FontFile2 5 0 R >>",
            font::NAME,
            a = m.ascent,
            d = m.descent
        )
        .as_bytes(),
    );
    obj(
        &mut out,
        &stream(&format!("/Length1 {}", font::TTF.len()), font_stream()),
    );
    for (i, content) in pages.iter().enumerate() {
        obj(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            )
            .as_bytes(),
        );
        obj(&mut out, &stream("", &deflate(content.as_bytes())));
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(tail, "{o:010} 00000 n ");
    }
    let _ = write!(
        tail,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(tail.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Section;

    #[test]
    fn a_long_table_runs_over_pages_with_a_sound_xref() {
        let doc = Document {
            title: "Laporan (uji)".into(),
            header: vec![("Periode".into(), "November 2026".into())],
            sections: vec![Section {
                title: "Daftar".into(),
                columns: vec!["No.".into(), "Nama".into()],
                rows: (0..200)
                    .map(|i| vec![i.to_string(), format!("Nama ke-{i} – panjang")])
                    .collect(),
                ..Section::default()
            }],
            footer: "Dibuat".into(),
            ..Document::default()
        };
        let pdf = to_pdf(&doc, "Halaman").unwrap();
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page ").count();
        assert!(pages >= 3, "{pages} pages");
        // Every xref offset points at its object.
        let xref = text.rfind("xref\n").unwrap();
        for (i, line) in text[xref..].lines().skip(3).take(5 + 2 * pages).enumerate() {
            let at: usize = line[..10].parse().unwrap();
            assert!(
                text[at..].starts_with(&format!("{} 0 obj", i + 1)),
                "object {}",
                i + 1
            );
        }
    }

    #[test]
    fn wrapping_keeps_every_word() {
        let m = font::metrics().unwrap();
        let lines = wrap(
            m,
            "Kasi Layanan Infrastruktur TIK Dinas Komunikasi",
            8.0,
            60.0,
        );
        assert!(lines.len() > 1);
        assert_eq!(
            lines.join(" "),
            "Kasi Layanan Infrastruktur TIK Dinas Komunikasi"
        );
        assert!(lines.iter().all(|l| m.width(l, 8.0) <= 60.0));
    }
}
