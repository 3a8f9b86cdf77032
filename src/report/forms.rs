//! The SOP's forms, filled in from the store, as [`Document`]s to print, sign (TTD) and
//! archive. Column names are the SOP's where the seeds give them (the facility register,
//! seed 004; remote access, seed 000) and the office's usual ones for the four forms seed 002
//! only names. Every form opens with the agency header and ends with the signature blocks of
//! `[report]`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Lang;
use super::access_doc::{footer, header, signed_at};
use super::doc::{Document, Section};
use crate::config::{ReportConfig, Signer};
use crate::store::cases::HistoryEntry;
use crate::store::logical::LogicalRight;
use crate::store::removals::{RemovalView, RightKind};
use crate::store::reports::AccessListLine;
use crate::store::requests::RequestView;
use crate::store::reviews::Review;
use crate::store::visits::register::RegisterRow;

/// Which form, as the API and the CLI name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Form {
    /// Formulir Permintaan Akses Ruang Server: one request with its history.
    AccessRequest,
    /// Formulir Daftar Akses Ruang Server: the rights in force.
    AccessList,
    /// Formulir Review Akses Ruang Server: one review campaign.
    Review,
    /// Formulir Permintaan Penghapusan Akses: one removal.
    Removal,
    /// Formulir Pencatatan Penggunaan Fasilitas (seed 004): the visits of a period.
    FacilityRegister,
    /// Formulir Pencatatan Pemberian Remote Akses (seed 000): accounts of a period.
    RemoteAccess,
}

impl Form {
    pub fn file_stem(self) -> &'static str {
        match self {
            Form::AccessRequest => "formulir-permintaan-akses",
            Form::AccessList => "formulir-daftar-akses",
            Form::Review => "formulir-review-akses",
            Form::Removal => "formulir-permintaan-penghapusan-akses",
            Form::FacilityRegister => "formulir-pencatatan-penggunaan-fasilitas",
            Form::RemoteAccess => "formulir-pencatatan-pemberian-remote-akses",
        }
    }
}

/// What every form shares: the office, the language, the zone, the time it is made.
pub struct Ctx<'a> {
    pub cfg: &'a ReportConfig,
    pub lang: Lang,
    pub tz: Tz,
    pub now: DateTime<Utc>,
}

impl Ctx<'_> {
    fn t<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    fn time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    fn date(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz).format("%Y-%m-%d").to_string()
    }

    fn doc(
        &self,
        title_id: &str,
        title_en: &str,
        extra: Vec<(String, String)>,
        sections: Vec<Section>,
        signers: Vec<Signer>,
    ) -> Document {
        let mut h = header(self.cfg, self.lang);
        h.extend(extra);
        Document {
            title: self.t(title_id, title_en).into(),
            header: h,
            sections,
            signed_at: signed_at(self.now, self.lang, self.tz),
            signers,
            footer: footer(self.now, self.lang, self.tz),
        }
    }

    fn cols(&self, pairs: &[(&str, &str)]) -> Vec<String> {
        pairs
            .iter()
            .map(|(id, en)| self.t(id, en).to_owned())
            .collect()
    }

    /// A two-column table of the form's fields (Uraian | Isian).
    fn fields(&self, title: &str, rows: Vec<(&str, &str, String)>) -> Section {
        Section {
            title: title.into(),
            columns: self.cols(&[("Uraian", "Field"), ("Isian", "Value")]),
            rows: rows
                .into_iter()
                .map(|(id, en, v)| vec![self.t(id, en).to_owned(), v])
                .collect(),
            ..Section::default()
        }
    }

    fn history(&self, h: &[HistoryEntry]) -> Section {
        Section {
            title: self.t("Riwayat", "History").into(),
            columns: self.cols(&[
                ("No.", "No."),
                ("Tahap", "Step"),
                ("Hasil", "Outcome"),
                ("Oleh", "By"),
                ("Peran", "Role"),
                ("Waktu", "Time"),
                ("Catatan", "Note"),
            ]),
            rows: h
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    vec![
                        (i + 1).to_string(),
                        e.step.clone(),
                        e.outcome.clone(),
                        e.actor.clone(),
                        e.role.clone(),
                        self.time(e.at),
                        e.note.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
            empty: self.t("Belum ada.", "None yet.").into(),
            note: None,
        }
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

pub fn access_request(c: &Ctx, r: &RequestView) -> Document {
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let data = c.fields(
        c.t("Data permintaan", "Request"),
        vec![
            ("Nomor permintaan", "Request number", r.id.to_string()),
            ("Tanggal", "Date", c.date(r.created_at)),
            ("Jenis permintaan", "Kind", r.kind.label().to_owned()),
            ("Nama Pemohon", "Applicant", r.applicant_name.clone()),
            ("NIP", "NIP", opt(&r.applicant_nip)),
            ("Jabatan", "Position", opt(&r.jabatan)),
            ("Unit Kerja", "Unit", opt(&r.unit_kerja)),
            ("Instansi", "Agency", opt(&r.instansi)),
            ("Nomor Surat", "Letter number", opt(&r.nomor_surat)),
            ("Ruang/Pintu", "Doors", r.doors.join(", ")),
            ("Hak Akses", "Access", opt(&r.hak_akses)),
            ("Tujuan/Keperluan", "Purpose", r.purpose.clone()),
            ("Berlaku Mulai", "Valid from", c.date(r.valid_from)),
            ("Berlaku Sampai", "Valid until", c.date(r.valid_until)),
            ("Atasan Langsung", "Direct superior", opt(&r.atasan)),
            ("Penanggung Jawab", "Responsible", opt(&r.penanggung_jawab)),
            ("Status", "Status", status),
        ],
    );
    let mut signers = vec![Signer {
        jabatan: c.t("Pemohon", "Applicant").into(),
        nama: r.applicant_name.clone(),
        nip: opt(&r.applicant_nip),
    }];
    signers.extend(c.cfg.signers.iter().take(3).cloned());
    c.doc(
        "Formulir Permintaan Akses Ruang Server",
        "Server Room Access Request Form",
        vec![],
        vec![data, c.history(&r.history)],
        signers,
    )
}

pub fn access_list(c: &Ctx, door: Option<&str>, lines: &[AccessListLine]) -> Document {
    let table = Section {
        title: c.t("Daftar akses", "Access list").into(),
        columns: c.cols(&[
            ("No.", "No."),
            ("Nama", "Name"),
            ("NIP/No. Identitas", "ID number"),
            ("Unit Kerja", "Unit"),
            ("No. Kartu", "Card"),
            ("Pintu", "Doors"),
            ("Berlaku Mulai", "Valid from"),
            ("Berlaku Sampai", "Valid until"),
            ("Dasar Pemberian", "Granted on"),
        ]),
        rows: lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    (i + 1).to_string(),
                    l.name.clone(),
                    opt(&l.id_number),
                    opt(&l.unit),
                    l.cards.clone(),
                    l.doors.clone(),
                    c.date(l.valid_from),
                    c.date(l.valid_until),
                    source_label(c, &l.source),
                ]
            })
            .collect(),
        empty: c
            .t("Tidak ada hak akses yang berlaku.", "No rights in force.")
            .into(),
        note: None,
    };
    c.doc(
        "Formulir Daftar Akses Ruang Server",
        "Server Room Access List Form",
        vec![
            (c.t("Per tanggal", "As of").into(), c.time(c.now)),
            (
                c.t("Pintu", "Door").into(),
                door.map(str::to_owned)
                    .unwrap_or_else(|| c.t("semua pintu", "all doors").into()),
            ),
        ],
        vec![table],
        c.cfg.signers.clone(),
    )
}

fn source_label(c: &Ctx, source: &str) -> String {
    match source.split_once(':') {
        Some(("request", n)) => format!("{} {n}", c.t("Permintaan no.", "Request no.")),
        Some(("visit", n)) => format!("{} {n}", c.t("Kunjungan no.", "Visit no.")),
        _ if source == "direct" => c
            .t("impor langsung (admin)", "direct import (admin)")
            .into(),
        _ => source.to_owned(),
    }
}

pub fn review(c: &Ctx, r: &Review) -> Document {
    let decision = |d: Option<String>| match d.as_deref() {
        Some("valid") => c.t("Masih valid", "Still valid").to_owned(),
        Some("not_valid") => c.t("Tidak valid", "Not valid").to_owned(),
        Some(other) => other.to_owned(),
        None => c.t("belum diputuskan", "undecided").to_owned(),
    };
    let table = Section {
        title: c.t("Hasil review", "Review").into(),
        columns: c.cols(&[
            ("No.", "No."),
            ("Nama", "Name"),
            ("Hak Akses", "Right"),
            ("Berlaku Sampai", "Valid until"),
            ("Penanggung Jawab", "Responsible"),
            ("Validitas", "Validity"),
            ("Keterangan", "Comment"),
            ("Diverifikasi oleh", "Decided by"),
            ("Tanggal", "Date"),
            ("Tindak lanjut", "Outcome"),
        ]),
        rows: r
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let s = &it.summary;
                let right = match it.right_kind {
                    RightKind::Door => format!(
                        "{} {}",
                        c.t("Pintu", "Doors"),
                        s["doors"]
                            .as_array()
                            .map(|a| a
                                .iter()
                                .filter_map(|d| d.as_str())
                                .collect::<Vec<_>>()
                                .join(", "))
                            .unwrap_or_default()
                    ),
                    RightKind::Logical => format!(
                        "{} {}",
                        s["kind"].as_str().unwrap_or(""),
                        s["username"].as_str().unwrap_or("")
                    ),
                };
                let until = s["valid_until"]
                    .as_i64()
                    .or_else(|| s["planned_until"].as_i64())
                    .map(|ms| c.date(crate::store::from_ms(ms)))
                    .unwrap_or_default();
                vec![
                    (i + 1).to_string(),
                    it.holder_name.clone(),
                    right,
                    until,
                    opt(&it.penanggung_jawab),
                    decision(
                        it.decision
                            .and_then(|d| serde_json::to_value(d).ok())
                            .and_then(|v| v.as_str().map(str::to_owned)),
                    ),
                    opt(&it.comment),
                    opt(&it.decided_by),
                    it.decided_at.map(|t| c.date(t)).unwrap_or_default(),
                    opt(&it.outcome),
                ]
            })
            .collect(),
        empty: c
            .t(
                "Tidak ada hak akses untuk direview.",
                "No rights to review.",
            )
            .into(),
        note: Some(format!(
            "{}: {} · {}: {} · {}: {} · {}: {}",
            c.t("Jumlah", "Total"),
            r.total,
            c.t("masih valid", "valid"),
            r.valid,
            c.t("tidak valid", "not valid"),
            r.not_valid,
            c.t("belum diputuskan", "undecided"),
            r.undecided
        )),
    };
    c.doc(
        "Formulir Review Akses Ruang Server",
        "Server Room Access Review Form",
        vec![
            (
                c.t("Review", "Review").into(),
                format!("{} ({})", r.title, r.id),
            ),
            (
                c.t("Dimulai", "Started").into(),
                format!("{} ({})", c.time(r.started_at), r.started_by),
            ),
            (c.t("Batas waktu", "Deadline").into(), c.time(r.deadline)),
            (
                c.t("Status", "Status").into(),
                match r.closed_at {
                    Some(t) => format!("{} {}", c.t("ditutup", "closed"), c.time(t)),
                    None => r.status.clone(),
                },
            ),
        ],
        vec![table],
        c.cfg.signers.clone(),
    )
}

pub fn removal(c: &Ctx, r: &RemovalView) -> Document {
    let status = serde_json::to_value(r.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let kind = match r.right_kind {
        RightKind::Door => c.t("hak akses pintu (kartu)", "door right (card)"),
        RightKind::Logical => c.t("akun pada sistem lain", "account in another system"),
    };
    let basis = match r.source.split_once(':') {
        Some(("review", n)) => format!("{} {n}", c.t("hasil review no.", "review no.")),
        _ => c
            .t("diajukan penanggung jawab", "filed by the responsible")
            .into(),
    };
    let data = c.fields(
        c.t("Data permintaan penghapusan", "Removal request"),
        vec![
            ("Nomor", "Number", r.id.to_string()),
            ("Tanggal", "Date", c.date(r.created_at)),
            ("Pemegang hak akses", "Holder", r.holder_name.clone()),
            ("Jenis hak akses", "Kind of right", kind.to_owned()),
            ("Nomor hak akses", "Right number", r.right_id.to_string()),
            ("Alasan penghapusan", "Reason", r.reason.clone()),
            ("Dasar", "Basis", basis),
            ("Diajukan oleh", "Filed by", opt(&r.filed_by)),
            ("Status", "Status", status),
        ],
    );
    c.doc(
        "Formulir Permintaan Penghapusan Akses Ruang Server",
        "Access Removal Request Form",
        vec![],
        vec![data, c.history(&r.history)],
        c.cfg.signers.clone(),
    )
}

pub fn facility_register(c: &Ctx, period: &str, rows: &[RegisterRow]) -> Document {
    let table = Section {
        title: c
            .t("Pencatatan penggunaan fasilitas", "Use of the facility")
            .into(),
        columns: super::visits::columns(c.lang).map(str::to_owned).to_vec(),
        rows: rows
            .iter()
            .map(|r| super::visits::fields(r, c.lang, c.tz).to_vec())
            .collect(),
        empty: c.t("Tidak ada kunjungan.", "No visits.").into(),
        note: Some(format!("{} {}", c.t("Jam:", "Times:"), c.tz.name())),
    };
    c.doc(
        "Formulir Pencatatan Penggunaan Fasilitas",
        "Facility Use Register",
        vec![(c.t("Periode", "Period").into(), period.to_owned())],
        vec![table],
        c.cfg.signers.clone(),
    )
}

pub fn remote_access(c: &Ctx, period: &str, rows: &[LogicalRight]) -> Document {
    let table = Section {
        title: c
            .t("Pemberian remote akses", "Remote access granted")
            .into(),
        columns: c.cols(&[
            ("No.", "No."),
            ("Nama", "Name"),
            ("Instansi", "Agency"),
            ("Username", "Username"),
            ("Hak Akses", "Access"),
            ("Tujuan", "Purpose"),
            ("Waktu Pemberian", "Granted at"),
            ("Waktu Penutupan", "Closed at"),
        ]),
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, l)| {
                vec![
                    (i + 1).to_string(),
                    l.holder_name.clone(),
                    opt(&l.instansi),
                    l.username.clone(),
                    opt(&l.hak_akses),
                    l.tujuan.clone(),
                    c.time(l.granted_at),
                    l.closed_at.map(|t| c.time(t)).unwrap_or_default(),
                ]
            })
            .collect(),
        empty: c
            .t(
                "Tidak ada remote akses pada periode ini.",
                "No remote access in this period.",
            )
            .into(),
        note: None,
    };
    c.doc(
        "Formulir Pencatatan Pemberian Remote Akses",
        "Remote Access Register",
        vec![
            (c.t("Periode", "Period").into(), period.to_owned()),
            ("LPSE".into(), c.cfg.unit.clone()),
        ],
        vec![table],
        c.cfg.signers.clone(),
    )
}
