//! Authentication (bearer tokens) and authorisation (one permission per route, granted to
//! roles of the SOP).
//!
//! A handler asks for `Auth<P>`; the extractor runs before the body is read, so a caller
//! without the permission gets 401 or 403 whatever the body holds, and a handler body only
//! runs for an authorised actor. Wrong tokens are counted per client address
//! ([`super::throttle`]): too many, and the address gets 429 for a while.

use std::marker::PhantomData;
use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{header, request::Parts};

use super::throttle::{self, Failure};
use super::{ApiError, AppState};
use crate::model::{Actor, Role};
use crate::store::tokens;

/// A permission: which roles hold it, and how to say what it allows.
pub trait Permission {
    const ACTION: &'static str;
    const ROLES: &'static [Role];
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident: $action:literal => [$($role:ident),*];)*) => {
        $(
            $(#[$doc])*
            pub struct $name;
            impl Permission for $name {
                const ACTION: &'static str = $action;
                const ROLES: &'static [Role] = &[$(Role::$role),*];
            }
        )*
        /// Every permission with its roles, for the README and the role test.
        pub const TABLE: &[(&str, &[Role])] = &[$(($action, &[$(Role::$role),*])),*];
    };
}

permissions! {
    /// Create and change people; suspend, report lost or revoke badges (a lost card is
    /// revoked at once, with a reason).
    ManageAccess: "manage people and badges" => [Admin, Operator];
    /// The direct path: a card or a right with no request behind it, for importing an
    /// existing access list. Marked `direct` in the audit log and reports.
    ImportAccess: "issue cards and rights directly (import)" => [Admin];
    /// Read people, badges and rights.
    ReadAccess: "read the access list" => [Admin, Operator, Kasi, Kabid, Kadis, PenanggungJawab, Helpdesk, Auditor];
    /// Read the facility register.
    ReadRegister: "read the register" => [Admin, Operator, Kasi, Kabid, Kadis, Kepala, Helpdesk, Auditor];
    /// Read the periodic access report and print the SOP's forms (filled in, to sign).
    ReadReports: "read access reports and print forms" => [Admin, Kasi, Kabid, Kadis, Auditor];
    /// Read the audit log of admin actions.
    ReadAudit: "read the audit log" => [Admin, Kasi, Auditor];
    /// See doors and readers.
    ReadDevices: "see doors and readers" => [Admin, Operator, Kasi, Kabid, Kadis, Kepala, Helpdesk, Auditor];
    /// Send a tap through a simulated reader.
    SimulateTap: "tap on a simulated reader" => [Admin];
    /// Create, list and revoke API tokens.
    ManageTokens: "manage API tokens" => [Admin];
    /// Maintain readers: OSDP KEYSET (a new secure channel key), OUT (outputs), COMSET
    /// (address and speed).
    ManageReaders: "maintain readers" => [Admin];
    /// Create and deactivate staff accounts.
    ManageAccounts: "manage staff accounts" => [Admin];
    /// Fill in a request (Permintaan Akses), for oneself or for an applicant at the desk.
    SubmitRequest: "submit access requests" => [Pemohon, Operator];
    /// Withdraw a request not yet issued: one's own, or any as the Operator.
    WithdrawRequest: "withdraw access requests" => [Pemohon, Operator, Admin];
    /// Act on a workflow step; which step is whose is the chain's business (403 otherwise).
    ActOnStep: "act on workflow steps" => [Admin, Operator, Kasi, Kabid, Kadis, Atasan, PenanggungJawab, Helpdesk];
    /// See requests, removals, reviews, accounts in other systems and what is overdue.
    ReadWorkflow: "read the workflow" => [Admin, Operator, Kasi, Kabid, Kadis, Kepala, PenanggungJawab, Helpdesk, Auditor];
    /// File a removal request (procedure 3).
    FileRemoval: "file removal requests" => [PenanggungJawab, Kasi];
    /// Start and close review campaigns (procedure 2).
    RunReviews: "run review campaigns" => [Kasi];
    /// Mark a right valid or not valid in a review campaign.
    DecideReview: "decide review items" => [PenanggungJawab];
    /// Record that an account in another system was closed.
    CloseAccount: "record closed accounts" => [Operator, Admin];
    /// Read the notification delivery log (emails, webhooks).
    ReadNotifications: "read the notification log" => [Admin, Auditor];
    /// Send a test email through the configured relay.
    TestNotifications: "send a test notification" => [Admin];
    /// Scrape the Prometheus metrics: counts and device states, no names of people.
    ReadMetrics: "read the metrics" => [Admin, Auditor, Monitor];
    /// Check visitors in, hand out and take back visitor badges (procedure 4, the desk).
    CheckInVisitors: "check visitors in and out" => [Helpdesk, Operator, Admin];
    /// Grant or deny a visit; which role decides is `[visitors] approver_role` (403 otherwise).
    DecideVisits: "grant or deny visits" => [Kepala, Kasi, Kabid, Kadis, Atasan, PenanggungJawab, Operator, Admin];
    /// Add visitor badges to the desk's pool, retire them, put found ones back.
    ManageVisitorBadges: "manage visitor badges" => [Admin, Operator];
    /// Read visits, the facility register (seed 004), the visitor badges and who is inside.
    ReadVisits: "read visits and who is inside" => [Admin, Operator, Kasi, Kabid, Kadis, Kepala, Helpdesk, Auditor];
    /// Any valid token.
    Authenticated: "call this route" => [Admin, Operator, Kasi, Kabid, Kadis, Atasan, Pemohon, PenanggungJawab, Helpdesk, Kepala, Auditor, Monitor];
}

/// A handler that asks for `Auth<P>`: its permission, found from the handler's own signature
/// (the marker `M` says where the extractor sits), so the OpenAPI document states the roles
/// of each route from the one table above, never from a copy.
pub trait Guarded<M> {
    fn permission(&self) -> (&'static str, &'static [Role]);
}

macro_rules! guarded {
    ($($before:ident),* ; $($after:ident),*) => {
        impl<F, Fut, P: Permission, $($before,)* $($after,)*>
            Guarded<(P, ($($before,)*), ($($after,)*))> for F
        where
            F: Fn($($before,)* Auth<P>, $($after,)*) -> Fut,
        {
            fn permission(&self) -> (&'static str, &'static [Role]) {
                (P::ACTION, P::ROLES)
            }
        }
    };
}

guarded!(;);
guarded!(; A1);
guarded!(; A1, A2);
guarded!(; A1, A2, A3);
guarded!(B1;);
guarded!(B1; A1);
guarded!(B1; A1, A2);
guarded!(B1; A1, A2, A3);
guarded!(B1, B2;);
guarded!(B1, B2; A1);
guarded!(B1, B2; A1, A2);
guarded!(B1, B2, B3;);
guarded!(B1, B2, B3; A1);

/// The permission of a guarded handler (see [`Guarded`]).
pub fn permission_of<M, H: Guarded<M>>(handler: &H) -> (&'static str, &'static [Role]) {
    handler.permission()
}

/// Writes each handler's permission into its operation of the OpenAPI document, as
/// `x-permission` (what it allows) and `x-roles` (who holds it). `handlers` pairs each
/// operation id (the handler's name) with its permission.
pub fn document_roles<S>(
    (schemas, mut paths, router): utoipa_axum::router::UtoipaMethodRouter<S>,
    handlers: &[(&str, (&'static str, &'static [Role]))],
) -> utoipa_axum::router::UtoipaMethodRouter<S> {
    for item in paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let Some((_, (action, roles))) = handlers
                .iter()
                .find(|(id, _)| op.operation_id.as_deref() == Some(id))
            else {
                continue;
            };
            let roles: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let ext = op.extensions.get_or_insert_with(Default::default);
            ext.insert("x-permission".into(), (*action).into());
            ext.insert("x-roles".into(), roles.into());
        }
    }
    (schemas, paths, router)
}

/// `routes!` for handlers that ask for `Auth<P>`: the same routes, with each operation's
/// permission and roles in the OpenAPI document. A handler without `Auth<P>` does not
/// compile here; public routes use `routes!`.
macro_rules! guarded_routes {
    ($($handler:path),+ $(,)?) => {
        $crate::api::auth::document_roles(
            utoipa_axum::routes!($($handler),+),
            &[$((
                stringify!($handler),
                $crate::api::auth::permission_of(&$handler),
            )),+],
        )
    };
}
pub(crate) use guarded_routes;

/// An authenticated actor holding permission `P`.
pub struct Auth<P>(pub Actor, pub PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Auth<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned())
            .ok_or(ApiError::Unauthenticated)?;
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if let Some(ip) = client {
            state
                .auth_throttle
                .lock()
                .map_err(|_| ApiError::Internal("the token throttle lock was poisoned".into()))?
                .check(ip, Instant::now())
                .map_err(ApiError::TooManyRequests)?;
        }
        let actor = state
            .db
            .read(move |conn| tokens::authenticate(conn, &token))
            .await?;
        let Some(actor) = actor else {
            if let Some(ip) = client {
                let failure = state
                    .auth_throttle
                    .lock()
                    .map_err(|_| ApiError::Internal("the token throttle lock was poisoned".into()))?
                    .failed(ip, Instant::now());
                // The address, never the token.
                match failure {
                    Failure::Blocked => tracing::warn!(
                        client = %ip,
                        failures = throttle::MAX_FAILURES,
                        block_seconds = throttle::BLOCK.as_secs(),
                        "too many wrong API tokens: the address is refused for a while"
                    ),
                    Failure::Counted(n) => {
                        tracing::info!(client = %ip, failures = n, "wrong API token")
                    }
                }
            }
            return Err(ApiError::Unauthenticated);
        };
        if !P::ROLES.contains(&actor.role) {
            return Err(ApiError::Forbidden {
                role: actor.role.to_string(),
                action: P::ACTION,
            });
        }
        Ok(Auth(actor, PhantomData))
    }
}
