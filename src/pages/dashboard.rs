//! Dasbor: the doors and their alarms, who is inside, and taps arriving live.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::PageError;
use super::layout::{self, may, when};
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
    let tz = s.timezone;
    let state = state(&s, role).await?;
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
                h2 #taps-h { "Tap terbaru" }
                p #live-status.muted aria-live="polite" { "Memuat tap langsung…" }
                (tap_table(taps, tz))
            }
        }
    };
    Ok(layout::page("Dasbor", &staff.session, body))
}

/// The doors and who is inside, re-fetched by the page's script after each event and every
/// few seconds (a door's strike and contact move without a register line).
async fn state_fragment(
    State(s): State<AppState>,
    staff: Staff<Authenticated>,
) -> Result<Markup, PageError> {
    state(&s, staff.session.actor.role).await
}

async fn state(s: &AppState, role: crate::model::Role) -> Result<Markup, PageError> {
    let tz = s.timezone;
    let doors = may::<ReadDevices>(role).then(|| crate::api::devices::doors(s));
    let inside = match may::<ReadVisits>(role) {
        true => Some(crate::api::inside::everyone_inside(s).await?),
        false => None,
    };
    Ok(html! {
        @if let Some(doors) = &doors {
            section aria-labelledby="doors-h" {
                h2 #doors-h { "Pintu" }
                div.grid {
                    @for d in doors {
                        div.card.door data-door=(d.name) {
                            strong { (d.name) } br;
                            @match d.status.strike {
                                Strike::Locked => span.granted.strike { "Terkunci" },
                                Strike::Unlocked => span.refused.strike { "Terbuka (strike aktif)" },
                            }
                            " · "
                            @match d.status.contact {
                                Some(Contact::Closed) => "pintu tertutup",
                                Some(Contact::Open) => span.refused { "pintu terbuka" },
                                None => span.muted { "tanpa sensor pintu" },
                            }
                            @if let Some(f) = &d.status.fault { p.refused { "Gangguan aktuator: " (f) } }
                            @if d.status.alarms.is_empty() {
                                p.muted { "Tidak ada alarm." }
                            } @else {
                                ul.alarms {
                                    @for a in &d.status.alarms {
                                        li.refused {
                                            "Alarm: " (a.alarm.label_id())
                                            @if let Some(r) = &a.reader { " (" (r) ")" }
                                            " sejak " (when(a.since, tz))
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
                h2 #inside-h { "Di dalam ruangan (" (inside.len()) ")" }
                @if inside.is_empty() { p.muted { "Tidak ada orang tercatat di dalam." } }
                @else {
                    div.table-wrap { table {
                        thead { tr { th { "Nama" } th { "Pintu" } th { "Sejak" } th { "Keterangan" } } }
                        tbody { @for p in inside { tr {
                            td { (p.name.as_deref().unwrap_or("?")) }
                            td { (p.door) }
                            td { (when(p.since, tz)) }
                            td { @if p.kind == "visitor" {
                                "Tamu, kartu " (p.badge_number.as_deref().unwrap_or("-"))
                                ", pendamping " (p.escort_name.as_deref().unwrap_or("-"))
                            } @else { "Pegawai" } }
                        } } }
                    } }
                }
            }
        }
    })
}

fn tap_table(taps: &[RegisterEntry], tz: chrono_tz::Tz) -> Markup {
    html! {
        div.table-wrap { table #live-taps data-tz=(tz.name())
            data-zone=(chrono::Utc::now().with_timezone(&tz).format("%Z").to_string()) {
            thead { tr { th { "Waktu" } th { "Pintu" } th { "Pembaca" } th { "Nama / kartu" } th { "Hasil" } th { "Alasan" } } }
            tbody { @for t in taps { tr data-id=(t.id) {
                td { (when(t.at, tz)) }
                td { (t.door.as_deref().unwrap_or("")) }
                td { (t.reader.as_deref().unwrap_or("")) }
                td { (t.person_name.as_deref().or(t.credential.as_deref()).unwrap_or("")) }
                @if t.granted { td.granted { "Diterima" } }
                @else if t.event == "tap" { td.refused { "Ditolak" } }
                @else { td.refused { (t.event) } }
                td { (t.reason) }
            } } }
        } }
    }
}

/// The dashboard's live feed: the API's event stream, with the page's session.
async fn events(State(s): State<AppState>, _: Staff<ReadRegister>) -> Response {
    crate::api::events::stream(&s).into_response()
}
