//! Authentication (bearer tokens) and authorisation (one permission per route, granted to
//! roles of the SOP).
//!
//! A handler asks for `Auth<P>`; the extractor runs before the body is read, so a caller
//! without the permission gets 401 or 403 whatever the body holds, and a handler body only
//! runs for an authorised actor.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

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
        let actor = state
            .db
            .read(move |conn| tokens::authenticate(conn, &token))
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if !P::ROLES.contains(&actor.role) {
            return Err(ApiError::Forbidden {
                role: actor.role.to_string(),
                action: P::ACTION,
            });
        }
        Ok(Auth(actor, PhantomData))
    }
}
