//! The frame of every page: header, menu by role, the stylesheet and the one script, all
//! served from here. Labels are the SOP's Indonesian.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use crate::api::AppState;
use crate::api::auth::{CheckInVisitors, Permission, ReadReports, ReadVisits, ReadWorkflow};
use crate::model::Role;
use crate::store::sessions::Session;

const CSS: &str = include_str!("../../assets/ui/lawang.css");
const JS: &str = include_str!("../../assets/ui/lawang.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/static/lawang.css",
            get(|| asset("text/css; charset=utf-8", CSS)),
        )
        .route(
            "/static/lawang.js",
            get(|| asset("text/javascript; charset=utf-8", JS)),
        )
}

async fn asset(mime: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        body,
    )
}

pub fn may<P: Permission>(role: Role) -> bool {
    P::ROLES.contains(&role)
}

/// The SOP's name for a role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::Operator => "Operator Ruang Server",
        Role::Kasi => "Kasi Layanan Infrastruktur TIK",
        Role::Kabid => "Kabid Infrastruktur dan APTIKA",
        Role::Kadis => "Kadis Kominfo",
        Role::Atasan => "Atasan langsung",
        Role::Pemohon => "Pemohon",
        Role::PenanggungJawab => "Penanggung jawab",
        Role::Helpdesk => "Helpdesk",
        Role::Kepala => "Kepala fasilitas",
        Role::Auditor => "Auditor",
        Role::Monitor => "Pemantauan",
    }
}

/// What happened at a step of a case, in the SOP's words.
pub fn outcome_label(outcome: &str) -> &str {
    match outcome {
        "submitted" | "filed" => "diajukan",
        "approved" => "disetujui",
        "rejected" => "ditolak",
        "issued" => "kartu diterbitkan",
        "granted" => "akun dibuat",
        "deactivated" => "hak dinonaktifkan",
        "informed" => "pemohon diberi tahu",
        "withdrawn" => "dibatalkan",
        other => other,
    }
}

/// A time as office staff read it: in the configured zone, with the zone's name (WIB).
pub fn when(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d-%m-%Y %H:%M %Z").to_string()
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) " · Lawang" }
        link rel="stylesheet" href="/ui/static/lawang.css";
        script src="/ui/static/lawang.js" defer {}
    }
}

/// A page with no menu: login and errors.
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="id" {
            head { (head(title)) }
            body {
                header.top { span.brand { "Lawang" } }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A page for a logged-in member of staff: the menu holds only what their role may open.
pub fn page(title: &str, session: &Session, body: Markup) -> Markup {
    let role = session.actor.role;
    let menu: Vec<(&str, &str)> = [
        (true, "/ui/", "Dasbor"),
        (true, "/ui/inbox", "Kotak masuk"),
        // Applicants, superiors and penanggung jawab see the requests naming them.
        (
            !matches!(role, Role::Helpdesk | Role::Monitor),
            "/ui/requests",
            "Permintaan akses",
        ),
        (
            may::<CheckInVisitors>(role) || may::<ReadVisits>(role),
            "/ui/visitors",
            "Tamu",
        ),
        (may::<ReadWorkflow>(role), "/ui/reviews", "Reviu"),
        (
            may::<ReadReports>(role),
            "/ui/reports",
            "Laporan & formulir",
        ),
    ]
    .into_iter()
    .filter(|(shown, _, _)| *shown)
    .map(|(_, href, label)| (href, label))
    .collect();
    html! {
        (DOCTYPE)
        html lang="id" {
            head { (head(title)) }
            body {
                header.top {
                    span.brand { "Lawang" }
                    nav aria-label="Menu utama" {
                        @for (href, label) in menu { a href=(href) { (label) } }
                    }
                    form.logout method="post" action="/ui/logout" {
                        span.who { (session.actor.name) " · " (role_label(role)) }
                        (super::form::csrf(&session.csrf))
                        button.link type="submit" { "Keluar" }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A one-line message after a form went through (`?done=`); fixed texts only, so a crafted
/// link cannot make the page say anything else.
pub fn done(code: Option<&str>) -> Markup {
    let text = match code {
        Some("created") => "Permintaan tersimpan dan diteruskan ke langkah pertama.",
        Some("approved") => "Disetujui dan diteruskan.",
        Some("rejected") => "Ditolak; pemohon diberi tahu.",
        Some("issued") => "Kartu diterbitkan; pintu menerimanya sekarang.",
        Some("informed") => "Pemohon telah diberi tahu; permintaan selesai.",
        Some("withdrawn") => "Permintaan dibatalkan.",
        Some("checked_in") => "Tamu tercatat; kepala fasilitas diberi tahu.",
        Some("visit_granted") => "Kunjungan disetujui.",
        Some("visit_denied") => "Kunjungan ditolak.",
        Some("badge") => "Kartu tamu diserahkan.",
        Some("checked_out") => "Tamu telah keluar; kartu dan identitas kembali.",
        Some("review_started") => "Reviu dimulai.",
        Some("item_decided") => "Keputusan reviu tersimpan.",
        Some("review_closed") => "Reviu ditutup.",
        _ => return html! {},
    };
    html! { p.alert.ok role="status" { (text) } }
}
