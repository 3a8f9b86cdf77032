//! Staff accounts: the people who act in the SOP's procedures and are told when a step
//! waits for them. A token may stand for an account (see [`super::tokens`]).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::people::{required, text};
use super::{Result, StoreError, audit, conflict_on_unique, from_ms, to_ms};
use crate::model::{Actor, Role};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub email: Option<String>,
    pub nip: Option<String>,
    pub jabatan: Option<String>,
    pub unit: Option<String>,
    pub active: bool,
    /// Whether the account can log in to the operator pages with a password.
    pub password_set: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Lowercase letters, digits, `.`, `_` and `-`; 2–64 characters.
    pub username: String,
    pub name: String,
    pub role: Role,
    /// Where notifications of waiting steps go.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub nip: Option<String>,
    #[serde(default)]
    pub jabatan: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
}

fn username(u: &str) -> Result<String> {
    let u = u.trim();
    let ok = (2..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(u.to_owned())
    } else {
        Err(StoreError::Invalid(format!(
            "username {u:?}: use 2–64 lowercase letters, digits, '.', '_' or '-'"
        )))
    }
}

/// A plausible address: one `@`, something on both sides, no spaces. Delivery is the proof.
pub(crate) fn email(value: Option<&str>) -> Result<Option<String>> {
    let Some(e) = text("email", value)? else {
        return Ok(None);
    };
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !e.contains(char::is_whitespace) =>
        {
            Ok(Some(e))
        }
        _ => Err(StoreError::Invalid(format!(
            "email {e:?} is not an email address"
        ))),
    }
}

pub fn create(
    conn: &Connection,
    a: &NewAccount,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Account> {
    let username = username(&a.username)?;
    let name = required("name", &a.name)?;
    let email = email(a.email.as_deref())?;
    conn.execute(
        "INSERT INTO account (username, name, role, email, nip, jabatan, unit, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            username,
            name,
            a.role.as_str(),
            email,
            text("nip", a.nip.as_deref())?,
            text("jabatan", a.jabatan.as_deref())?,
            text("unit", a.unit.as_deref())?,
            to_ms(now)
        ],
    )
    .map_err(|e| conflict_on_unique(e, || format!("username {username:?} is taken")))?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "account.create",
        Some(format!("account:{id}")),
        json!({ "username": username, "role": a.role }),
        now,
    )?;
    get(conn, id)
}

/// Deactivates an account: its tokens stop working at once; its history stays.
pub fn deactivate(
    conn: &Connection,
    id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Account> {
    let account = get(conn, id)?;
    if !account.active {
        return Err(StoreError::Conflict(format!(
            "account {:?} is already deactivated",
            account.username
        )));
    }
    conn.execute(
        "UPDATE account SET active = 0, updated_at = ?2 WHERE id = ?1",
        params![id, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "account.deactivate",
        Some(format!("account:{id}")),
        json!({ "username": account.username }),
        now,
    )?;
    get(conn, id)
}

pub fn get(conn: &Connection, id: i64) -> Result<Account> {
    list_where(conn, "id = ?1", params![id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("account {id}")))
}

pub fn by_username(conn: &Connection, username: &str) -> Result<Account> {
    list_where(conn, "username = ?1", params![username.trim()])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("account {username:?}")))
}

/// An active account that must hold `role`, for naming someone in a form.
pub fn named(conn: &Connection, field: &str, username: &str, role: Role) -> Result<Account> {
    let a = by_username(conn, username)
        .map_err(|_| StoreError::Invalid(format!("{field}: no account is named {username:?}")))?;
    if !a.active {
        return Err(StoreError::Invalid(format!(
            "{field}: account {username:?} is deactivated"
        )));
    }
    if a.role != role {
        return Err(StoreError::Invalid(format!(
            "{field}: account {username:?} has the role {}, not {role}",
            a.role
        )));
    }
    Ok(a)
}

/// Email addresses of the active accounts holding `role`.
pub fn emails_of_role(conn: &Connection, role: Role) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT email FROM account WHERE role = ?1 AND active = 1 AND email IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([role.as_str()], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn email_of(conn: &Connection, id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT email FROM account WHERE id = ?1 AND active = 1")?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

pub fn list(conn: &Connection, role: Option<Role>) -> Result<Vec<Account>> {
    list_where(
        conn,
        "(?1 IS NULL OR role = ?1) ORDER BY id",
        params![role.map(Role::as_str)],
    )
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Account>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, username, name, role, email, nip, jabatan, unit, active, created_at,
                password_hash IS NOT NULL
         FROM account WHERE {filter}"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let role: String = r.get(3)?;
        out.push(Account {
            id: r.get(0)?,
            username: r.get(1)?,
            name: r.get(2)?,
            role: role.parse().map_err(StoreError::Invalid)?,
            email: r.get(4)?,
            nip: r.get(5)?,
            jabatan: r.get(6)?,
            unit: r.get(7)?,
            active: r.get(8)?,
            created_at: from_ms(r.get(9)?),
            password_set: r.get(10)?,
        });
    }
    Ok(out)
}
