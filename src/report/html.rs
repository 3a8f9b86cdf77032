//! A [`Document`] as one self-contained HTML page (inline style, no scripts), printable from
//! a browser on A4.

use std::fmt::Write;

use super::doc::Document;

pub fn to_html(doc: &Document, lang: &str) -> String {
    let mut h = String::with_capacity(16 * 1024);
    let orientation = if doc.is_wide() {
        "landscape"
    } else {
        "portrait"
    };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>@page{{size:A4 {orientation};margin:15mm}}body{{font-family:'DejaVu Sans',sans-serif;font-size:10pt}}\
         h1{{font-size:14pt;text-align:center}}h2{{font-size:11pt;margin-top:1.5em}}\
         table{{border-collapse:collapse;width:100%}}th,td{{border:1px solid #000;padding:2px 4px;vertical-align:top}}\
         th{{background:#eee}}table.head td{{border:none}}.sign{{display:flex;justify-content:space-around;margin-top:3em}}\
         .sign div{{text-align:center;min-width:30%}}.sign .name{{margin-top:5em;font-weight:bold;text-decoration:underline}}\
         footer{{margin-top:2em;font-size:8pt;color:#444}}</style></head><body>\n",
        esc(&doc.title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&doc.title));
    h.push_str("<table class=\"head\">");
    for (k, v) in &doc.header {
        let _ = write!(h, "<tr><td>{}</td><td>: {}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</table>\n");
    for s in &doc.sections {
        let _ = writeln!(h, "<h2>{}</h2>", esc(&s.title));
        if s.rows.is_empty() {
            let _ = writeln!(h, "<p>{}</p>", esc(&s.empty));
        } else {
            h.push_str("<table><thead><tr>");
            for c in &s.columns {
                let _ = write!(h, "<th>{}</th>", esc(c));
            }
            h.push_str("</tr></thead><tbody>\n");
            for r in &s.rows {
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "<td>{}</td>", esc(c).replace('\n', "<br>"));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</tbody></table>\n");
        }
        if let Some(n) = &s.note {
            let _ = writeln!(h, "<p><em>{}</em></p>", esc(n));
        }
    }
    if !doc.signers.is_empty() {
        let _ = write!(
            h,
            "<p style=\"text-align:right\">{}</p><div class=\"sign\">",
            esc(&doc.signed_at)
        );
        for s in &doc.signers {
            let _ = write!(
                h,
                "<div>{}<div class=\"name\">{}</div>{}</div>",
                esc(&s.jabatan),
                esc(&s.nama),
                if s.nip.is_empty() {
                    String::new()
                } else {
                    format!("NIP. {}", esc(&s.nip))
                }
            );
        }
        h.push_str("</div>\n");
    }
    let _ = writeln!(h, "<footer>{}</footer></body></html>", esc(&doc.footer));
    h
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Section;

    #[test]
    fn names_are_escaped() {
        let doc = Document {
            title: "Laporan".into(),
            sections: vec![Section {
                title: "Orang".into(),
                columns: vec!["Nama".into()],
                rows: vec![vec!["<script>alert(1)</script>".into()]],
                ..Section::default()
            }],
            ..Document::default()
        };
        let html = to_html(&doc, "id");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
    }
}
