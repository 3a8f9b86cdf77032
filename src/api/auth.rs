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
    /// Create and change people, badges and rights.
    ManageAccess: "manage people, badges and rights" => [Admin, Operator];
    /// Read people, badges and rights.
    ReadAccess: "read the access list" => [Admin, Operator, Kasi, Kabid, Kadis, Helpdesk, Auditor];
    /// Read the facility register.
    ReadRegister: "read the register" => [Admin, Operator, Kasi, Kabid, Kadis, Helpdesk, Auditor];
    /// Read the audit log of admin actions.
    ReadAudit: "read the audit log" => [Admin, Kasi, Auditor];
    /// See doors and readers.
    ReadDevices: "see doors and readers" => [Admin, Operator, Kasi, Kabid, Kadis, Helpdesk, Auditor];
    /// Send a tap through a simulated reader.
    SimulateTap: "tap on a simulated reader" => [Admin];
    /// Create, list and revoke API tokens.
    ManageTokens: "manage API tokens" => [Admin];
    /// Maintain readers: OSDP KEYSET (a new secure channel key), OUT (outputs), COMSET
    /// (address and speed).
    ManageReaders: "maintain readers" => [Admin];
    /// Scrape the Prometheus metrics: counts and device states, no names of people.
    ReadMetrics: "read the metrics" => [Admin, Auditor, Monitor];
    /// Any valid token.
    Authenticated: "call this route" => [Admin, Operator, Kasi, Kabid, Kadis, Atasan, Pemohon, Helpdesk, Auditor, Monitor];
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
