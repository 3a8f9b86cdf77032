//! API tokens: 256 random bits, shown once, stored as their SHA-256.
//!
//! A fast hash is right here (unlike for passwords): a token has full entropy, so there is
//! nothing to brute-force offline, and lookup by hash keeps authentication one indexed read.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Result, StoreError, audit, from_ms, to_ms};
use crate::model::{Actor, Role};

const PREFIX: &str = "lawang_";

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The staff account the token stands for, if any.
    pub account: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token as created: the secret is in `token`, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn create(
    conn: &Connection,
    name: &str,
    role: Role,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<NewToken> {
    insert(conn, name, role, None, actor, now)
}

/// A token for a staff account: it acts with the account's role and name, and stops
/// working when the account is deactivated.
pub fn create_for_account(
    conn: &Connection,
    username: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<NewToken> {
    let account = super::accounts::by_username(conn, username)?;
    if !account.active {
        return Err(StoreError::Conflict(format!(
            "account {username:?} is deactivated"
        )));
    }
    insert(
        conn,
        &account.username,
        account.role,
        Some(account.id),
        actor,
        now,
    )
}

fn insert(
    conn: &Connection,
    name: &str,
    role: Role,
    account: Option<i64>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<NewToken> {
    let name = super::people::required("name", name)?;
    let secret: [u8; 32] = rand::random();
    let token = format!("{PREFIX}{}", hex::encode(secret));
    conn.execute(
        "INSERT INTO api_token (name, role, hash, created_at, account_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, role.as_str(), hash(&token), to_ms(now), account],
    )?;
    let id = conn.last_insert_rowid();
    audit::record(
        conn,
        actor,
        "token.create",
        Some(format!("token:{id}")),
        json!({ "name": name, "role": role, "account_id": account }),
        now,
    )?;
    Ok(NewToken {
        info: get(conn, id)?,
        token,
    })
}

/// The actor a presented token stands for, if it is a live token.
pub fn authenticate(conn: &Connection, token: &str) -> Result<Option<Actor>> {
    if !token.starts_with(PREFIX) || token.len() > 128 {
        return Ok(None);
    }
    let found = conn
        .prepare_cached(
            "SELECT t.id, t.name, COALESCE(a.role, t.role), t.account_id
             FROM api_token t LEFT JOIN account a ON a.id = t.account_id
             WHERE t.hash = ?1 AND t.revoked_at IS NULL
               AND (t.account_id IS NULL OR a.active = 1)",
        )?
        .query_row([hash(token)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .optional()?;
    match found {
        None => Ok(None),
        Some((id, name, role, account_id)) => Ok(Some(Actor {
            token_id: Some(id),
            account_id,
            name,
            role: role.parse().map_err(StoreError::Invalid)?,
        })),
    }
}

pub fn revoke(conn: &Connection, id: i64, actor: &Actor, now: DateTime<Utc>) -> Result<TokenInfo> {
    let info = get(conn, id)?;
    if info.revoked_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "token {id} is already revoked"
        )));
    }
    conn.execute(
        "UPDATE api_token SET revoked_at = ?2 WHERE id = ?1",
        params![id, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "token.revoke",
        Some(format!("token:{id}")),
        json!({ "name": info.name }),
        now,
    )?;
    get(conn, id)
}

pub fn get(conn: &Connection, id: i64) -> Result<TokenInfo> {
    list_where(conn, "t.id = ?1", [id])?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("token {id}")))
}

pub fn list(conn: &Connection) -> Result<Vec<TokenInfo>> {
    list_where(conn, "1 = 1", [])
}

/// Whether any token was ever made: an empty database gets an initial admin token.
pub fn any(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM api_token)", [], |r| r.get(0))?)
}

fn list_where(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, a.username
         FROM api_token t LEFT JOIN account a ON a.id = t.account_id
         WHERE {filter} ORDER BY t.id"
    ))?;
    let mut rows = stmt.query(args)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let role: String = r.get(2)?;
        let revoked: Option<i64> = r.get(4)?;
        out.push(TokenInfo {
            id: r.get(0)?,
            name: r.get(1)?,
            role: role.parse().map_err(StoreError::Invalid)?,
            created_at: from_ms(r.get(3)?),
            revoked_at: revoked.map(from_ms),
            account: r.get(5)?,
        });
    }
    Ok(out)
}
