//! What staff are told, in Indonesian: a step waits for them, a request ended, a reminder.
//! Pure: the caller resolves who receives it and queues it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::Step;

/// The subject and body of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

/// Times as office staff read them: `23-11-2026 14:05 WIB`.
pub fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d-%m-%Y %H:%M %Z").to_string()
}

pub(crate) const FOOTER: &str =
    "\n\nPesan ini dikirim otomatis oleh Lawang, sistem kendali akses ruang server.\n";

/// A step of a case now waits for the reader of this message.
pub fn step_waiting(
    case_label: &str,
    case_no: i64,
    about: &str,
    step: &Step,
    due: DateTime<Utc>,
    tz: Tz,
) -> Text {
    Text {
        subject: format!("[Lawang] {case_label} No. {case_no} menunggu tindakan Anda"),
        body: format!(
            "Yth. Bapak/Ibu,\n\n{case_label} No. {case_no} ({about}) menunggu tindakan Anda:\n\
             {label}.\n\nBatas waktu sesuai Mutu Baku Waktu: {due}.{FOOTER}",
            label = step.label,
            due = local(due, tz),
        ),
    }
}

/// A waiting step passed its time standard and is still waiting.
pub fn step_overdue(
    case_label: &str,
    case_no: i64,
    about: &str,
    step: &Step,
    due: DateTime<Utc>,
    tz: Tz,
) -> Text {
    Text {
        subject: format!("[Lawang] Pengingat: {case_label} No. {case_no} melewati batas waktu"),
        body: format!(
            "Yth. Bapak/Ibu,\n\n{case_label} No. {case_no} ({about}) masih menunggu tindakan Anda:\n\
             {label}.\n\nBatas waktu sesuai Mutu Baku Waktu telah lewat pada {due}.{FOOTER}",
            label = step.label,
            due = local(due, tz),
        ),
    }
}

pub fn rejected(case_label: &str, case_no: i64, by: &str, reason: &str) -> Text {
    Text {
        subject: format!("[Lawang] {case_label} No. {case_no} ditolak"),
        body: format!(
            "Yth. Bapak/Ibu,\n\n{case_label} No. {case_no} tidak disetujui oleh {by}.\n\
             Alasan: {reason}{FOOTER}"
        ),
    }
}

/// The applicant's right is in force: the last step of procedure 1.
pub fn granted(
    case_label: &str,
    case_no: i64,
    what: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    tz: Tz,
) -> Text {
    Text {
        subject: format!("[Lawang] {case_label} No. {case_no} disetujui"),
        body: format!(
            "Yth. Bapak/Ibu,\n\n{case_label} No. {case_no} telah disetujui dan dicatat dalam \
             daftar akses.\n{what}\nBerlaku mulai {from} sampai {until}.{FOOTER}",
            from = local(from, tz),
            until = local(until, tz),
        ),
    }
}

/// Procedure 3 ended: the penanggung jawab receives the status.
pub fn removal_done(case_no: i64, what: &str) -> Text {
    Text {
        subject: format!("[Lawang] Permintaan Penghapusan Akses No. {case_no} selesai"),
        body: format!(
            "Yth. Bapak/Ibu,\n\nPermintaan Penghapusan Akses No. {case_no} telah selesai: \
             {what} telah dinonaktifkan dan daftar akses telah dimutakhirkan.{FOOTER}"
        ),
    }
}

/// A review campaign asks the penanggung jawab to confirm rights.
pub fn review_waiting(
    review_no: i64,
    title: &str,
    items: usize,
    deadline: DateTime<Utc>,
    tz: Tz,
) -> Text {
    Text {
        subject: format!(
            "[Lawang] Review Akses No. {review_no}: {items} hak akses menunggu verifikasi Anda"
        ),
        body: format!(
            "Yth. Bapak/Ibu Penanggung jawab,\n\nReview Akses No. {review_no} ({title}) meminta \
             Anda memverifikasi {items} hak akses: masih valid atau tidak valid.\n\n\
             Batas waktu: {deadline}. Hak akses yang tidak diputuskan sampai batas waktu \
             diperlakukan sesuai ketentuan review.{FOOTER}",
            deadline = local(deadline, tz),
        ),
    }
}

/// An account in another system is still open after its planned end.
pub fn account_overdue(
    kind_label: &str,
    username: &str,
    holder: &str,
    planned: DateTime<Utc>,
    tz: Tz,
) -> Text {
    Text {
        subject: format!("[Lawang] Akun {kind_label} {username} belum ditutup"),
        body: format!(
            "Yth. Bapak/Ibu,\n\nAkun {kind_label} {username} atas nama {holder} masih tercatat \
             terbuka, padahal rencana penutupannya {planned}. Tutup akun tersebut dan catat \
             waktu penutupannya di Lawang.{FOOTER}",
            planned = local(planned, tz),
        ),
    }
}

/// A reminder of something still waiting: before its deadline (review items) or after.
pub fn reminder(title: &str, label: &str, due: DateTime<Utc>, overdue: bool, tz: Tz) -> Text {
    let when = if overdue {
        format!("Batas waktu telah lewat pada {}.", local(due, tz))
    } else {
        format!("Batas waktu: {}.", local(due, tz))
    };
    Text {
        subject: format!("[Lawang] Pengingat: {title}"),
        body: format!(
            "Yth. Bapak/Ibu,\n\n{title} masih menunggu tindakan Anda:\n{label}.\n\n{when}{FOOTER}"
        ),
    }
}
