//! `/inside`: who is inside each door now, staff and visitors, for emergencies. The doors
//! count people from their entry and exit taps (see `door::presence`); this adds names and,
//! for visitors, their visit and whether their escort is with them.

use std::collections::HashSet;

use crate::api::auth::guarded_routes;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use super::auth::{Auth, ReadVisits};
use super::{ApiError, AppState, Problem};
use crate::model::PersonId;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(guarded_routes!(inside))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InsideView {
    pub door: String,
    pub person_id: PersonId,
    pub name: Option<String>,
    /// NIP, or the number of a visitor's identity document.
    pub id_number: Option<String>,
    pub unit: Option<String>,
    /// Their last granted entry.
    pub since: DateTime<Utc>,
    /// `staff` or `visitor`.
    pub kind: &'static str,
    pub visit_id: Option<i64>,
    pub badge_number: Option<String>,
    pub escort_person_id: Option<PersonId>,
    pub escort_name: Option<String>,
    /// For a visitor: whether their escort is counted inside the same door.
    pub escort_inside: Option<bool>,
}

/// Everyone counted inside, door by door, longest inside first.
#[utoipa::path(get, path = "/inside", tag = "visits",
    responses((status = 200, body = Vec<InsideView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = [])))]
async fn inside(
    State(s): State<AppState>,
    _: Auth<ReadVisits>,
) -> Result<Json<Vec<InsideView>>, ApiError> {
    everyone_inside(&s).await.map(Json)
}

/// Everyone counted inside, with names, for the API and the dashboard.
pub(crate) async fn everyone_inside(s: &AppState) -> Result<Vec<InsideView>, ApiError> {
    let counted: Vec<(String, Vec<crate::door::Inside>)> = s
        .devices()
        .doors
        .iter()
        .map(|d| (d.name.clone(), d.inside.borrow().clone()))
        .collect();
    let views =
        s.db.read(move |c| {
            let mut person =
                c.prepare_cached("SELECT name, id_number, unit FROM person WHERE id = ?1")?;
            let mut visit = c.prepare_cached(
                "SELECT v.id, b.badge_number, e.name FROM visit v
                 LEFT JOIN visitor_badge b ON b.id = v.badge_id
                 JOIN person e ON e.id = v.escort_id
                 WHERE v.person_id = ?1",
            )?;
            let mut out = Vec::new();
            for (door, list) in counted {
                let here: HashSet<PersonId> = list.iter().map(|i| i.person_id).collect();
                for i in list {
                    let (name, id_number, unit) = person
                        .query_row([i.person_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                        .optional()?
                        .unwrap_or((None, None, None));
                    let (visit_id, badge_number, escort_name) = match i.escort {
                        Some(_) => visit
                            .query_row([i.person_id], |r| {
                                Ok((Some(r.get(0)?), r.get(1)?, Some(r.get(2)?)))
                            })
                            .optional()?
                            .unwrap_or((None, None, None)),
                        None => (None, None, None),
                    };
                    out.push(InsideView {
                        door: door.clone(),
                        person_id: i.person_id,
                        name,
                        id_number,
                        unit,
                        since: i.since,
                        kind: if i.escort.is_some() {
                            "visitor"
                        } else {
                            "staff"
                        },
                        visit_id,
                        badge_number,
                        escort_person_id: i.escort,
                        escort_name,
                        escort_inside: i.escort.map(|e| here.contains(&e)),
                    });
                }
            }
            Ok(out)
        })
        .await?;
    Ok(views)
}
