//! What the head of the facility and the desk are told about a visit, in Indonesian. Pure:
//! the store resolves who receives it and queues it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::workflow::texts::{FOOTER, Text, local};

/// SOP step 3: the desk passes the form to the head for permission.
pub fn waiting(
    id: i64,
    visitor: &str,
    tujuan: &str,
    since: DateTime<Utc>,
    due: DateTime<Utc>,
    tz: Tz,
) -> Text {
    Text {
        subject: format!("[Lawang] Kunjungan No. {id} menunggu izin Anda"),
        body: format!(
            "Yth. Bapak/Ibu,\n\n{visitor} telah mengisi formulir kunjungan di meja layanan pada \
             {since} dan menunggu izin penggunaan fasilitas.\nTujuan: {tujuan}\n\n\
             Batas waktu sesuai Mutu Baku Waktu: {due}.{FOOTER}",
            since = local(since, tz),
            due = local(due, tz),
        ),
    }
}

/// SOP step 4: the head's answer, for the desk.
pub fn decided(id: i64, visitor: &str, approved: bool, by: &str, note: Option<&str>) -> Text {
    let (short, long) = if approved {
        (
            "diizinkan",
            "diizinkan menggunakan fasilitas; serahkan tanda pengenal khusus (badge pengunjung)",
        )
    } else {
        (
            "tidak diizinkan",
            "tidak diizinkan menggunakan fasilitas; kembalikan tanda pengenal diri yang dititipkan",
        )
    };
    let note = note.map(|n| format!("\nCatatan: {n}")).unwrap_or_default();
    Text {
        subject: format!("[Lawang] Kunjungan No. {id} {short}"),
        body: format!(
            "Yth. Bapak/Ibu,\n\nKunjungan No. {id} ({visitor}) {long}.\nDiputuskan oleh: {by}.{note}{FOOTER}"
        ),
    }
}

/// SOP steps 6–7: the visit ended; the desk reports it to the head.
pub fn ended(id: i64, visitor: &str, at: DateTime<Utc>, badge: &str, tz: Tz) -> Text {
    Text {
        subject: format!("[Lawang] Kunjungan No. {id} telah selesai"),
        body: format!(
            "Yth. Bapak/Ibu,\n\nKunjungan No. {id} ({visitor}) telah selesai pada {at}.\n{badge}\n\
             Formulir pencatatan penggunaan fasilitas siap diarsipkan.{FOOTER}",
            at = local(at, tz),
        ),
    }
}
