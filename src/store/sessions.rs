//! Browser sessions of the operator pages, and staff passwords.
//!
//! The session cookie is 256 random bits and only its SHA-256 is stored, as with API tokens.
//! A session stands for an account (password login) or for the API token it was opened
//! with; it is checked against that account or token on every request, so deactivating the
//! account or revoking the token ends its sessions at once.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{Result, StoreError, accounts, audit, to_ms};
use crate::model::Actor;
use crate::report::Lang;

/// A working day and then some: staff log in again the next morning.
pub const LIFETIME: Duration = Duration::hours(10);

/// What a session was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Account(i64),
    Token(i64),
}

/// A live session: who, and the form token its pages carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: i64,
    pub actor: Actor,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    /// The language its pages are shown in.
    pub lang: Lang,
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "id",
        Lang::En => "en",
    }
}

fn hash(cookie: &str) -> Vec<u8> {
    Sha256::digest(cookie.as_bytes()).to_vec()
}

fn random_hex() -> String {
    let secret: [u8; 32] = rand::random();
    hex::encode(secret)
}

/// Sets (or replaces) an account's password. The hash is made by the caller, off the async
/// threads; the audit log says that it changed, never what to.
pub fn set_password(
    conn: &Connection,
    account_id: i64,
    password_hash: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<accounts::Account> {
    let account = accounts::get(conn, account_id)?;
    if !account.active {
        return Err(StoreError::Conflict(format!(
            "account {:?} is deactivated",
            account.username
        )));
    }
    conn.execute(
        "UPDATE account SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![account_id, password_hash, to_ms(now)],
    )?;
    // Whoever knew the old password is logged out.
    conn.execute(
        "UPDATE web_session SET ended_at = ?2 WHERE account_id = ?1 AND ended_at IS NULL",
        params![account_id, to_ms(now)],
    )?;
    audit::record(
        conn,
        actor,
        "account.password",
        Some(format!("account:{account_id}")),
        json!({ "username": account.username }),
        now,
    )?;
    accounts::get(conn, account_id)
}

/// The account a username names and its password hash, if it is active and has one.
pub fn password_of(conn: &Connection, username: &str) -> Result<Option<(i64, String)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, password_hash FROM account
             WHERE username = ?1 AND active = 1 AND password_hash IS NOT NULL",
        )?
        .query_row([username.trim()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Opens a session; returns the cookie value (shown once, to the browser).
pub fn open(
    conn: &Connection,
    who: Principal,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(String, Session)> {
    let cookie = random_hex();
    let csrf = random_hex();
    let (account_id, token_id) = match who {
        Principal::Account(id) => (Some(id), None),
        Principal::Token(id) => (None, Some(id)),
    };
    // Old rows go when new ones come: no timer needed, and the table stays small.
    conn.execute(
        "DELETE FROM web_session WHERE expires_at < ?1",
        [to_ms(now - Duration::days(30))],
    )?;
    conn.execute(
        "INSERT INTO web_session (hash, account_id, token_id, csrf, lang, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            hash(&cookie),
            account_id,
            token_id,
            csrf,
            lang_code(lang),
            to_ms(now),
            to_ms(now + LIFETIME)
        ],
    )?;
    let session = authenticate(conn, &cookie, now)?
        .ok_or_else(|| StoreError::Invalid("the account or token is not active".into()))?;
    audit::record(
        conn,
        &session.actor,
        "session.open",
        Some(format!("session:{}", session.id)),
        json!({ "with": if account_id.is_some() { "password" } else { "token" } }),
        now,
    )?;
    Ok((cookie, session))
}

/// The live session a cookie stands for, with its actor as of now.
pub fn authenticate(
    conn: &Connection,
    cookie: &str,
    now: DateTime<Utc>,
) -> Result<Option<Session>> {
    if cookie.len() != 64 || !cookie.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let found = conn
        .prepare_cached(
            "SELECT s.id, s.csrf, s.expires_at, s.token_id, COALESCE(s.account_id, t.account_id),
                    COALESCE(a.name, t.name), COALESCE(a.role, t.role), s.lang
             FROM web_session s
             LEFT JOIN api_token t ON t.id = s.token_id
             LEFT JOIN account a ON a.id = COALESCE(s.account_id, t.account_id)
             WHERE s.hash = ?1 AND s.ended_at IS NULL AND s.expires_at > ?2
               AND (s.token_id IS NULL OR t.revoked_at IS NULL)
               AND (COALESCE(s.account_id, t.account_id) IS NULL OR a.active = 1)",
        )?
        .query_row(params![hash(cookie), to_ms(now)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
            ))
        })
        .optional()?;
    let Some((id, csrf, expires, token_id, account_id, name, role, lang)) = found else {
        return Ok(None);
    };
    Ok(Some(Session {
        id,
        actor: Actor {
            token_id,
            account_id,
            name,
            role: role.parse().map_err(StoreError::Invalid)?,
        },
        csrf,
        expires_at: super::from_ms(expires),
        lang: if lang == "en" { Lang::En } else { Lang::Id },
    }))
}

/// Switches the language a session's pages are shown in.
pub fn set_lang(conn: &Connection, session: &Session, lang: Lang) -> Result<()> {
    conn.execute(
        "UPDATE web_session SET lang = ?2 WHERE id = ?1",
        params![session.id, lang_code(lang)],
    )?;
    Ok(())
}

/// Logs a session out.
pub fn end(conn: &Connection, session: &Session, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE web_session SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params![session.id, to_ms(now)],
    )?;
    audit::record(
        conn,
        &session.actor,
        "session.end",
        Some(format!("session:{}", session.id)),
        json!({}),
        now,
    )
}

/// The token id of a presented API token, for a token login. A monitoring token reads the
/// metrics and nothing else: it opens no session.
pub fn token_id(conn: &Connection, token: &str) -> Result<Option<i64>> {
    Ok(super::tokens::authenticate(conn, token)?
        .filter(|a| a.role != crate::model::Role::Monitor)
        .and_then(|a| a.token_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Role;
    use crate::store::Changed;
    use crate::store::accounts::NewAccount;
    use crate::store::tests::fixture;

    fn write<R>(
        f: &crate::store::tests::Fixture,
        op: impl FnOnce(&rusqlite::Transaction) -> Result<R>,
    ) -> Result<R> {
        f.db.write_blocking(|tx| Ok((op(tx)?, Changed::none())))
    }

    #[test]
    fn a_session_lives_until_it_ends_expires_or_its_account_goes() {
        let f = fixture();
        let now = Utc::now();
        let new = NewAccount {
            username: "siti".into(),
            name: "Siti".into(),
            role: Role::Operator,
            email: None,
            nip: None,
            jabatan: None,
            unit: None,
        };
        let account = write(&f, |tx| accounts::create(tx, &new, &f.actor, now)).unwrap();
        assert!(!account.password_set);
        write(&f, |tx| {
            set_password(tx, account.id, "$argon2id$x", &f.actor, now)
        })
        .unwrap();
        let found = f.db.read_blocking(|c| password_of(c, "siti")).unwrap();
        assert_eq!(found, Some((account.id, "$argon2id$x".to_owned())));

        let open_one = || {
            write(&f, |tx| {
                open(tx, Principal::Account(account.id), Lang::Id, now)
            })
            .unwrap()
            .0
        };
        let check = |cookie: &str, at| f.db.read_blocking(|c| authenticate(c, cookie, at)).unwrap();
        let cookie = open_one();
        let s = check(&cookie, now).expect("a live session");
        assert_eq!(s.actor.role, Role::Operator);
        assert_eq!(s.actor.account_id, Some(account.id));
        assert_eq!(s.csrf.len(), 64);
        assert_eq!(s.lang, Lang::Id);
        write(&f, |tx| set_lang(tx, &s, Lang::En)).unwrap();
        assert_eq!(check(&cookie, now).unwrap().lang, Lang::En);
        assert!(check(&cookie, now + LIFETIME).is_none(), "expired");
        assert!(check("0".repeat(64).as_str(), now).is_none(), "unknown");
        assert!(check("not hex", now).is_none());

        write(&f, |tx| end(tx, &s, now)).unwrap();
        assert!(check(&cookie, now).is_none(), "logged out");

        // A new password ends the sessions of whoever knew the old one.
        let cookie = open_one();
        write(&f, |tx| {
            set_password(tx, account.id, "$argon2id$y", &f.actor, now)
        })
        .unwrap();
        assert!(check(&cookie, now).is_none(), "password changed");

        let cookie = open_one();
        write(&f, |tx| accounts::deactivate(tx, account.id, &f.actor, now)).unwrap();
        assert!(check(&cookie, now).is_none(), "account deactivated");
        assert_eq!(
            f.db.read_blocking(|c| password_of(c, "siti")).unwrap(),
            None
        );
    }
}
