//! The access report as a printable [`Document`]: Indonesian labels (English as an option),
//! times in the office's zone, the agency header and the signature blocks of `[report]`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Lang;
use super::access::{AccessReport, EventLine, RightLine};
use super::csv::label;
use super::doc::{Document, Section};
use crate::config::ReportConfig;

/// Picks the Indonesian or the English text.
fn t<'a>(lang: Lang, id: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

pub fn document(r: &AccessReport, cfg: &ReportConfig, lang: Lang, tz: Tz) -> Document {
    let time = |at: DateTime<Utc>| {
        at.with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let opt_time = |at: Option<DateTime<Utc>>| at.map(time).unwrap_or_default();
    let date = |at: DateTime<Utc>| at.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let zone = tz.name();
    let mut header = header(cfg, lang);
    header.push((
        t(lang, "Periode", "Period").into(),
        match lang {
            Lang::Id => r.period_label.clone(),
            Lang::En => r.period_label_en.clone(),
        },
    ));
    header.push((
        t(lang, "Pintu", "Door").into(),
        r.door
            .clone()
            .unwrap_or_else(|| t(lang, "semua pintu", "all doors").into()),
    ));
    let tot = &r.totals;
    let summary = Section {
        title: t(lang, "Ringkasan", "Summary").into(),
        columns: vec![
            t(lang, "Uraian", "Item").into(),
            t(lang, "Jumlah", "Count").into(),
        ],
        rows: [
            (
                t(lang, "Masuk (diizinkan)", "Entries (granted)"),
                tot.entries,
            ),
            (t(lang, "Keluar (diizinkan)", "Exits (granted)"), tot.exits),
            (
                t(lang, "Percobaan ditolak", "Refused attempts"),
                tot.refused,
            ),
            (
                t(
                    lang,
                    "Masuk di luar jam kerja",
                    "Entries outside working hours",
                ),
                tot.outside_hours,
            ),
            (t(lang, "Tombol keluar", "Exit button"), tot.exit_buttons),
            (t(lang, "Alarm", "Alarms"), tot.alarms),
            (
                t(lang, "Orang yang tercatat", "People recorded"),
                tot.people,
            ),
            (t(lang, "Kunjungan (pengunjung)", "Visits"), tot.visits),
            (
                t(
                    lang,
                    "Tahapan alur kerja terlambat",
                    "Overdue workflow steps",
                ),
                tot.overdue_steps,
            ),
            (
                t(lang, "Hak akses segera berakhir", "Rights expiring soon"),
                tot.rights_expiring,
            ),
            (
                t(lang, "Hak akses tidak dipakai", "Rights not used"),
                tot.rights_unused,
            ),
        ]
        .into_iter()
        .map(|(k, v)| vec![k.to_owned(), v.to_string()])
        .collect(),
        ..Section::default()
    };
    let people = Section {
        title: t(
            lang,
            "Masuk dan keluar per orang",
            "Entries and exits per person",
        )
        .into(),
        columns: [
            t(lang, "No.", "No."),
            t(lang, "Nama", "Name"),
            t(lang, "NIP/No. Identitas", "ID number"),
            t(lang, "Unit Kerja/Instansi", "Unit"),
            t(lang, "Jenis", "Kind"),
            t(lang, "Masuk", "Entries"),
            t(lang, "Keluar", "Exits"),
            t(lang, "Ditolak", "Refused"),
            t(lang, "Pertama", "First"),
            t(lang, "Terakhir", "Last"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: r
            .people
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let kind = match (p.person_id, p.who.visitor) {
                    (None, _) => t(lang, "kartu tidak dikenal", "unknown card"),
                    (_, true) => t(lang, "pengunjung", "visitor"),
                    _ => t(lang, "pegawai", "staff"),
                };
                vec![
                    (i + 1).to_string(),
                    p.who.name.clone(),
                    p.who.id_number.clone().unwrap_or_default(),
                    p.who.unit.clone().unwrap_or_default(),
                    kind.into(),
                    p.counts.entries.to_string(),
                    p.counts.exits.to_string(),
                    p.counts.refused.to_string(),
                    opt_time(p.counts.first_at),
                    opt_time(p.counts.last_at),
                ]
            })
            .collect(),
        empty: t(
            lang,
            "Tidak ada tap pada periode ini.",
            "No taps in this period.",
        )
        .into(),
        note: Some(format!("{} {zone}", t(lang, "Waktu:", "Times:"))),
    };
    let refused = Section {
        title: t(
            lang,
            "Percobaan ditolak menurut alasan",
            "Refused attempts by reason",
        )
        .into(),
        columns: vec![
            t(lang, "Alasan", "Reason").into(),
            t(lang, "Jumlah", "Count").into(),
        ],
        rows: r
            .refused_by_reason
            .iter()
            .map(|c| vec![label(&c.code, lang), c.count.to_string()])
            .collect(),
        empty: t(lang, "Tidak ada.", "None.").into(),
        note: None,
    };
    let events = |title: &str, list: &[EventLine], total: u64, what: &str| Section {
        title: title.into(),
        columns: [
            t(lang, "No.", "No."),
            t(lang, "Waktu", "Time"),
            t(lang, "Pintu", "Door"),
            t(lang, "Nama", "Name"),
            what,
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: list
            .iter()
            .enumerate()
            .map(|(i, e)| {
                vec![
                    (i + 1).to_string(),
                    time(e.at),
                    e.door.clone(),
                    e.name.clone().unwrap_or_default(),
                    label(&e.code, lang),
                ]
            })
            .collect(),
        empty: t(lang, "Tidak ada.", "None.").into(),
        note: (total > list.len() as u64).then(|| {
            format!(
                "{} {} {} {total}.",
                t(lang, "Ditampilkan", "Showing"),
                list.len(),
                t(lang, "dari", "of"),
            )
        }),
    };
    let outside = events(
        t(
            lang,
            "Masuk di luar jam kerja",
            "Entries outside working hours",
        ),
        &r.outside_hours,
        tot.outside_hours,
        t(lang, "Keterangan", "Remark"),
    );
    let alarm_kinds = Section {
        title: t(lang, "Alarm menurut jenis", "Alarms by kind").into(),
        columns: vec![
            t(lang, "Jenis alarm", "Alarm").into(),
            t(lang, "Jumlah", "Count").into(),
        ],
        rows: r
            .alarms_by_kind
            .iter()
            .map(|c| vec![label(&c.code, lang), c.count.to_string()])
            .collect(),
        empty: t(lang, "Tidak ada alarm.", "No alarms.").into(),
        note: None,
    };
    let alarms = events(
        t(lang, "Daftar alarm", "Alarms"),
        &r.alarms,
        tot.alarms,
        t(lang, "Jenis", "Kind"),
    );
    let visits = Section {
        title: t(lang, "Kunjungan", "Visits").into(),
        columns: [
            t(lang, "No.", "No."),
            t(lang, "Nama", "Name"),
            t(lang, "Instansi", "Agency"),
            t(lang, "No. Badge", "Badge no."),
            t(lang, "Tujuan", "Purpose"),
            t(lang, "Jam Masuk", "Time in"),
            t(lang, "Jam Keluar", "Time out"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: r
            .visits
            .iter()
            .enumerate()
            .map(|(i, v)| {
                vec![
                    (i + 1).to_string(),
                    v.nama.clone(),
                    v.instansi.clone().unwrap_or_default(),
                    v.no_badge.clone().unwrap_or_default(),
                    v.tujuan.clone(),
                    time(v.jam_masuk),
                    opt_time(v.jam_keluar),
                ]
            })
            .collect(),
        empty: t(lang, "Tidak ada kunjungan.", "No visits.").into(),
        note: None,
    };
    let overdue = Section {
        title: t(
            lang,
            "Tahapan alur kerja yang terlambat",
            "Overdue workflow steps",
        )
        .into(),
        columns: [
            t(lang, "No.", "No."),
            t(lang, "Perkara", "Case"),
            t(lang, "Tahap", "Step"),
            t(lang, "Pelaksana", "Role"),
            t(lang, "Sejak", "Since"),
            t(lang, "Batas waktu", "Due"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: r
            .overdue
            .iter()
            .enumerate()
            .map(|(i, w)| {
                vec![
                    (i + 1).to_string(),
                    format!("{} #{}: {}", w.case, w.id, w.title),
                    w.label.clone(),
                    w.role.to_string(),
                    time(w.since),
                    time(w.due_at),
                ]
            })
            .collect(),
        empty: t(lang, "Tidak ada.", "None.").into(),
        note: None,
    };
    let rights = |title: String, list: &[RightLine]| Section {
        title,
        columns: [
            t(lang, "No.", "No."),
            t(lang, "Nama", "Name"),
            t(lang, "NIP/No. Identitas", "ID number"),
            t(lang, "Unit Kerja/Instansi", "Unit"),
            t(lang, "Pintu", "Doors"),
            t(lang, "Berlaku sampai", "Valid until"),
            t(lang, "Terakhir dipakai", "Last used"),
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: list
            .iter()
            .enumerate()
            .map(|(i, x)| {
                vec![
                    (i + 1).to_string(),
                    x.name.clone(),
                    x.id_number.clone().unwrap_or_default(),
                    x.unit.clone().unwrap_or_default(),
                    x.doors.clone(),
                    date(x.valid_until),
                    x.last_used
                        .map(date)
                        .unwrap_or_else(|| t(lang, "belum pernah", "never").into()),
                ]
            })
            .collect(),
        empty: t(lang, "Tidak ada.", "None.").into(),
        note: None,
    };
    let expiring = rights(
        match lang {
            Lang::Id => format!("Hak akses berakhir dalam {} hari", r.expiring_within_days),
            Lang::En => format!("Rights ending within {} days", r.expiring_within_days),
        },
        &r.rights_expiring,
    );
    let unused = rights(
        match lang {
            Lang::Id => format!(
                "Hak akses tidak dipakai selama {} hari (usulan review berikutnya)",
                r.unused_for_days
            ),
            Lang::En => format!(
                "Rights not used for {} days (candidates for the next review)",
                r.unused_for_days
            ),
        },
        &r.rights_unused,
    );
    Document {
        title: t(
            lang,
            "Laporan Akses Ruang Server",
            "Server Room Access Report",
        )
        .into(),
        header,
        sections: vec![
            summary,
            people,
            refused,
            outside,
            alarm_kinds,
            alarms,
            visits,
            overdue,
            expiring,
            unused,
        ],
        signed_at: signed_at(r.generated_at, lang, tz),
        signers: cfg.signers.clone(),
        footer: footer(r.generated_at, lang, tz),
    }
}

/// Instansi and Unit, as every report and form opens.
pub fn header(cfg: &ReportConfig, lang: Lang) -> Vec<(String, String)> {
    vec![
        (t(lang, "Instansi", "Agency").into(), cfg.instansi.clone()),
        (t(lang, "Unit", "Unit").into(), cfg.unit.clone()),
    ]
}

/// The date above the signatures, e.g. `1 Desember 2026`.
pub fn signed_at(now: DateTime<Utc>, lang: Lang, tz: Tz) -> String {
    let d = now.with_timezone(&tz).date_naive();
    super::period::Period::Day(d).label(lang, tz)
}

pub fn footer(now: DateTime<Utc>, lang: Lang, tz: Tz) -> String {
    format!(
        "{} {} ({})",
        t(lang, "Dibuat oleh Lawang pada", "Made by Lawang on"),
        now.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
        tz.name()
    )
}
