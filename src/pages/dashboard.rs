//! Dasbor: the doors and their alarms, who is inside, and taps arriving live.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::PageError;
use super::layout::{self, Tr, may, when};
use super::session::Staff;
use crate::api::AppState;
use crate::api::auth::{Authenticated, ReadDevices, ReadRegister, ReadVisits};
use crate::door::{Contact, Strike};
use crate::store::register::{self, RegisterEntry, RegisterFilter};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { axum::response::Redirect::to("/ui/") }))
        .route("/events", get(events))
        .route("/dashboard/state", get(state_fragment))
}

pub(super) async fn dashboard(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
) -> Result<Markup, PageError> {
    let role = staff.session.actor.role;
    let t = Tr::of(&staff.session);
    let tz = s.timezone;
    let state = state(&s, role, t).await?;
    let taps = match may::<ReadRegister>(role) {
        true => Some(
            s.db.read(|c| {
                register::list(
                    c,
                    &RegisterFilter {
                        limit: 20,
                        ..Default::default()
                    },
                )
            })
            .await?,
        ),
        false => None,
    };
    let body = html! {
        div #state { (state) }
        @if let Some(taps) = &taps {
            section aria-labelledby="taps-h" {
                h2 #taps-h { (t.s("Tap terbaru", "Latest taps")) }
                p #live-status.muted aria-live="polite" { (t.s("Memuat tap langsung…", "Loading live taps…")) }
                (tap_table(taps, tz, t))
            }
        }
    };
    Ok(layout::page(
        t.s("Dasbor", "Dashboard"),
        &staff.session,
        body,
    ))
}

/// The doors and who is inside, re-fetched by the page's script after each event and every
/// few seconds (a door's strike and contact move without a register line).
async fn state_fragment(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
) -> Result<Markup, PageError> {
    state(&s, staff.session.actor.role, Tr::of(&staff.session)).await
}

async fn state(s: &AppState, role: crate::model::Role, t: Tr) -> Result<Markup, PageError> {
    let tz = s.timezone;
    let doors = may::<ReadDevices>(role).then(|| crate::api::devices::doors(s));
    let inside = match may::<ReadVisits>(role) {
        true => Some(crate::api::inside::everyone_inside(s).await?),
        false => None,
    };
    Ok(html! {
        @if let Some(doors) = &doors {
            section aria-labelledby="doors-h" {
                h2 #doors-h { (t.s("Pintu", "Doors")) }
                div.grid {
                    @for d in doors {
                        div.card.door data-door=(d.name) {
                            strong { (d.name) } br;
                            @match d.status.strike {
                                Strike::Locked => span.granted.strike { (t.s("Terkunci", "Locked")) },
                                Strike::Unlocked => span.refused.strike { (t.s("Terbuka (strike aktif)", "Unlocked (strike released)")) },
                            }
                            " · "
                            @match d.status.contact {
                                Some(Contact::Closed) => (t.s("pintu tertutup", "door closed")),
                                Some(Contact::Open) => span.refused { (t.s("pintu terbuka", "door open")) },
                                None => span.muted { (t.s("tanpa sensor pintu", "no door contact")) },
                            }
                            @if let Some(f) = &d.status.fault { p.refused { (t.s("Gangguan aktuator: ", "Actuator fault: ")) (f) } }
                            @if d.status.alarms.is_empty() {
                                p.muted { (t.s("Tidak ada alarm.", "No alarms.")) }
                            } @else {
                                ul.alarms {
                                    @for a in &d.status.alarms {
                                        li.refused {
                                            "Alarm: " (t.s(a.alarm.label_id(), a.alarm.label_en()))
                                            @if let Some(r) = &a.reader { " (" (r) ")" }
                                            (t.s(" sejak ", " since ")) (when(a.since, tz))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(inside) = &inside {
            section aria-labelledby="inside-h" {
                h2 #inside-h { (t.s("Di dalam ruangan", "Inside")) " (" (inside.len()) ")" }
                @if inside.is_empty() { p.muted { (t.s("Tidak ada orang tercatat di dalam.", "Nobody is counted inside.")) } }
                @else {
                    div.table-wrap { table {
                        thead { tr { th { (t.s("Nama", "Name")) } th { (t.s("Pintu", "Door")) } th { (t.s("Sejak", "Since")) } th { (t.s("Keterangan", "Note")) } } }
                        tbody { @for p in inside { tr {
                            td { (p.name.as_deref().unwrap_or("?")) }
                            td { (p.door) }
                            td { (when(p.since, tz)) }
                            td { @if p.kind == "visitor" {
                                (t.s("Tamu, kartu ", "Visitor, badge ")) (p.badge_number.as_deref().unwrap_or("-"))
                                (t.s(", pendamping ", ", escort ")) (p.escort_name.as_deref().unwrap_or("-"))
                            } @else { (t.s("Pegawai", "Staff")) } }
                        } } }
                    } }
                }
            }
        }
    })
}

fn tap_table(taps: &[RegisterEntry], tz: chrono_tz::Tz, t: Tr) -> Markup {
    html! {
        div.table-wrap { table #live-taps data-tz=(tz.name())
            data-zone=(chrono::Utc::now().with_timezone(&tz).format("%Z").to_string())
            data-granted=(t.s("Diterima", "Granted")) data-refused=(t.s("Ditolak", "Refused"))
            data-connected=(t.s("Tersambung — tap baru muncul di sini.", "Connected — new taps appear here."))
            data-reconnecting=(t.s("Terputus; menyambung ulang…", "Disconnected; reconnecting…")) {
            thead { tr { th { (t.s("Waktu", "Time")) } th { (t.s("Pintu", "Door")) } th { (t.s("Pembaca", "Reader")) }
                th { (t.s("Nama / kartu", "Name / card")) } th { (t.s("Hasil", "Result")) } th { (t.s("Alasan", "Reason")) } } }
            tbody { @for line in taps { tr data-id=(line.id) {
                td { (when(line.at, tz)) }
                td { (line.door.as_deref().unwrap_or("")) }
                td { (line.reader.as_deref().unwrap_or("")) }
                td { (line.person_name.as_deref().or(line.credential.as_deref()).unwrap_or("")) }
                @if line.granted { td.granted { (t.s("Diterima", "Granted")) } }
                @else if line.event == "tap" { td.refused { (t.s("Ditolak", "Refused")) } }
                @else { td.refused { (line.event) } }
                td { (line.reason) }
            } } }
        } }
    }
}

/// The dashboard's live feed: the API's event stream, with the page's session.
async fn events(State(s): State<AppState>, _: Staff<ReadRegister>) -> Response {
    crate::api::events::stream(&s).into_response()
}
