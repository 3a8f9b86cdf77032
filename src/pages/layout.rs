//! The frame of every page: header, menu by role, the stylesheet and the one script, all
//! served from here. Labels are the SOP's Indonesian, or English when chosen ([`Tr`]).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{DOCTYPE, Markup, html};

use crate::api::AppState;
use crate::api::auth::{
    CheckInVisitors, Permission, ReadAccess, ReadReports, ReadVisits, ReadWorkflow,
};
use crate::model::Role;
use crate::report::Lang;
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

/// The language of a page: Indonesian, the SOP's own words, unless the member of staff chose
/// English (the header's switch; kept with their session).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn of(session: &Session) -> Tr {
        Tr(session.lang)
    }

    /// The text in this page's language.
    pub fn s(self, id: &'static str, en: &'static str) -> &'static str {
        match self.0 {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// The SOP's name for a role.
    pub fn role(self, role: Role) -> &'static str {
        let (id, en) = match role {
            Role::Admin => ("Administrator", "Administrator"),
            Role::Operator => ("Operator Ruang Server", "Server room operator"),
            Role::Kasi => (
                "Kasi Layanan Infrastruktur TIK",
                "Head of ICT infrastructure services",
            ),
            Role::Kabid => (
                "Kabid Infrastruktur dan APTIKA",
                "Head of infrastructure division",
            ),
            Role::Kadis => ("Kadis Kominfo", "Head of the agency"),
            Role::Atasan => ("Atasan langsung", "Direct superior"),
            Role::Pemohon => ("Pemohon", "Applicant"),
            Role::PenanggungJawab => ("Penanggung jawab", "Person in charge"),
            Role::Helpdesk => ("Helpdesk", "Helpdesk"),
            Role::Kepala => ("Kepala fasilitas", "Head of the facility"),
            Role::Auditor => ("Auditor", "Auditor"),
            Role::Monitor => ("Pemantauan", "Monitoring"),
        };
        self.s(id, en)
    }

    /// What happened at a step of a case.
    pub fn outcome(self, outcome: &str) -> String {
        let (id, en) = match outcome {
            "submitted" | "filed" => ("diajukan", "submitted"),
            "approved" => ("disetujui", "approved"),
            "rejected" => ("ditolak", "rejected"),
            "issued" => ("kartu diterbitkan", "card issued"),
            "granted" => ("akun dibuat", "account made"),
            "deactivated" => ("hak dinonaktifkan", "right deactivated"),
            "informed" => ("pemohon diberi tahu", "applicant informed"),
            "withdrawn" => ("dibatalkan", "withdrawn"),
            other => return other.to_owned(),
        };
        self.s(id, en).to_owned()
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
pub fn bare(title: &str, tr: Tr, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(tr.s("id", "en")) {
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
    let t = Tr::of(session);
    let menu: Vec<(&str, &str)> = [
        (true, "/ui/", t.s("Dasbor", "Dashboard")),
        (true, "/ui/inbox", t.s("Kotak masuk", "Inbox")),
        // Applicants, superiors and penanggung jawab see the requests naming them.
        (
            !matches!(role, Role::Helpdesk | Role::Monitor),
            "/ui/requests",
            t.s("Permintaan akses", "Access requests"),
        ),
        (
            may::<CheckInVisitors>(role) || may::<ReadVisits>(role),
            "/ui/visitors",
            t.s("Tamu", "Visitors"),
        ),
        (
            may::<ReadWorkflow>(role),
            "/ui/reviews",
            t.s("Reviu", "Reviews"),
        ),
        (
            may::<ReadAccess>(role),
            "/ui/badges",
            t.s("Kartu akses", "Access cards"),
        ),
        (
            may::<ReadReports>(role),
            "/ui/reports",
            t.s("Laporan & formulir", "Reports & forms"),
        ),
    ]
    .into_iter()
    .filter(|(shown, _, _)| *shown)
    .map(|(_, href, label)| (href, label))
    .collect();
    html! {
        (DOCTYPE)
        html lang=(t.s("id", "en")) {
            head { (head(title)) }
            body {
                header.top {
                    span.brand { "Lawang" }
                    nav aria-label=(t.s("Menu utama", "Main menu")) {
                        @for (href, label) in menu { a href=(href) { (label) } }
                    }
                    form.lang method="post" action="/ui/lang" {
                        (super::form::csrf(&session.csrf))
                        @match t.0 {
                            Lang::Id => button.link name="lang" value="en" lang="en" { "English" },
                            Lang::En => button.link name="lang" value="id" lang="id" { "Bahasa Indonesia" },
                        }
                    }
                    form.logout method="post" action="/ui/logout" {
                        span.who { (session.actor.name) " · " (t.role(role)) }
                        (super::form::csrf(&session.csrf))
                        button.link type="submit" { (t.s("Keluar", "Log out")) }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// A one-line message after a form went through (`?done=`); fixed texts only, so a crafted
/// link cannot make the page say anything else.
pub fn done(code: Option<&str>, session: &Session) -> Markup {
    let (id, en) = match code {
        Some("created") => (
            "Permintaan tersimpan dan diteruskan ke langkah pertama.",
            "The request is saved and passed to its first step.",
        ),
        Some("approved") => ("Disetujui dan diteruskan.", "Approved and passed on."),
        Some("rejected") => (
            "Ditolak; pemohon diberi tahu.",
            "Rejected; the applicant is told.",
        ),
        Some("issued") => (
            "Kartu diterbitkan; pintu menerimanya sekarang.",
            "Card issued; the door accepts it now.",
        ),
        Some("informed") => (
            "Pemohon telah diberi tahu; permintaan selesai.",
            "The applicant is informed; the request is complete.",
        ),
        Some("withdrawn") => ("Permintaan dibatalkan.", "The request is withdrawn."),
        Some("checked_in") => (
            "Tamu tercatat; kepala fasilitas diberi tahu.",
            "Visitor checked in; the head of the facility is told.",
        ),
        Some("visit_granted") => ("Kunjungan disetujui.", "Visit granted."),
        Some("visit_denied") => ("Kunjungan ditolak.", "Visit denied."),
        Some("badge") => ("Kartu tamu diserahkan.", "Visitor badge handed out."),
        Some("checked_out") => (
            "Tamu telah keluar; kartu dan identitas kembali.",
            "Visitor checked out; badge and identity document returned.",
        ),
        Some("review_started") => ("Reviu dimulai.", "Review started."),
        Some("item_decided") => ("Keputusan reviu tersimpan.", "Review decision saved."),
        Some("review_closed") => ("Reviu ditutup.", "Review closed."),
        _ => return html! {},
    };
    html! { p.alert.ok role="status" { (Tr::of(session).s(id, en)) } }
}
