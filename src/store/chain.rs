//! Hash chains over the register and the audit log: each row carries `prev_hash`, the hash
//! of the row before it, and `hash`, SHA-256 over a canonical encoding of its own content and
//! `prev_hash`. Changing, removing or inserting a row breaks the chain at that row, and
//! [`verify`] names it. A report that prints the head of its period ([`chain_head`]) pins the
//! data it was made from.
//!
//! Canonical encoding (version 1), hashed with SHA-256:
//! `"lawang-chain-v1" 0x00 <table name> 0x00 <prev_hash: 32 bytes>`, then every column of
//! [`REGISTER_COLUMNS`] / [`AUDIT_COLUMNS`] in that order (the `id` first), each as
//! `0x00` (NULL), `0x01 <i64, 8 bytes big-endian>` (integer), `0x02 <u32 length, big-endian>
//! <UTF-8 bytes>` (text) or `0x03 <u32 length> <bytes>` (blob). The first row ever written
//! has a `prev_hash` of 32 zero bytes.
//!
//! Retention prunes the oldest register lines as a prefix (by id). The oldest remaining
//! line's `prev_hash` is then the *anchor*: the hash of the last pruned line, which the prune
//! records in its (chained) audit line as `detail.anchor`; [`verify`] accepts an anchor only
//! if such an audit line exists. The audit log is never pruned.

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Result, StoreError, to_ms};

pub type Hash = [u8; 32];

/// The hash before the first row of a chain.
pub const GENESIS: Hash = [0; 32];

/// Hashed columns of the register, in encoding order.
pub const REGISTER_COLUMNS: &str = "id, at, event, door_id, reader_id, direction, credential, \
                                    credential_id, person_id, granted, reason";
/// Hashed columns of the audit log, in encoding order.
pub const AUDIT_COLUMNS: &str = "id, at, token_id, actor, role, action, target, detail";

/// A chained table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Table {
    Register,
    Audit,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Register => "register",
            Table::Audit => "audit",
        }
    }

    pub fn columns(self) -> &'static str {
        match self {
            Table::Register => REGISTER_COLUMNS,
            Table::Audit => AUDIT_COLUMNS,
        }
    }

    fn width(self) -> usize {
        self.columns().split(',').count()
    }
}

/// The hash of a row whose columns (in the table's order) are `values`.
pub fn hash_row(table: Table, prev: &Hash, values: &[&dyn ToSql]) -> Result<Hash> {
    let mut h = Sha256::new();
    h.update(b"lawang-chain-v1\0");
    h.update(table.name().as_bytes());
    h.update([0]);
    h.update(prev);
    for v in values {
        match v.to_sql()? {
            ToSqlOutput::Borrowed(r) => encode(&mut h, r),
            ToSqlOutput::Owned(o) => encode(&mut h, ValueRef::from(&o)),
            _ => {
                return Err(StoreError::Task(
                    "a chained column has no plain value".into(),
                ));
            }
        }
    }
    Ok(h.finalize().into())
}

fn encode(h: &mut Sha256, v: ValueRef<'_>) {
    let bytes = |h: &mut Sha256, tag: u8, b: &[u8]| {
        h.update([tag]);
        h.update((b.len() as u32).to_be_bytes());
        h.update(b);
    };
    match v {
        ValueRef::Null => h.update([0]),
        ValueRef::Integer(i) => {
            h.update([1]);
            h.update(i.to_be_bytes());
        }
        // No chained column holds a real; encoded by its bits, should one ever appear.
        ValueRef::Real(f) => {
            h.update([4]);
            h.update(f.to_bits().to_be_bytes());
        }
        ValueRef::Text(t) => bytes(h, 2, t),
        ValueRef::Blob(b) => bytes(h, 3, b),
    }
}

/// The id and hash of a table's newest row (the chain's head), or `(0, anchor)` for an empty
/// table: the register's anchor is the last prune's, so the chain continues across it.
pub fn last(conn: &Connection, table: Table) -> Result<(i64, Hash)> {
    let row: Option<(i64, Option<Vec<u8>>)> = conn
        .prepare_cached(&format!(
            "SELECT id, hash FROM {} ORDER BY id DESC LIMIT 1",
            table.name()
        ))?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match row {
        Some((id, Some(hash))) => Ok((id, to_hash(&hash).unwrap_or(GENESIS))),
        // Written outside Lawang: the door keeps working, and `verify` names the row.
        Some((id, None)) => {
            tracing::error!(
                table = table.name(),
                id,
                "the newest row has no hash (written outside lawang); the chain goes on from zeros"
            );
            Ok((id, GENESIS))
        }
        None if table == Table::Register => last_prune(conn),
        None => Ok((0, GENESIS)),
    }
}

/// The last id pruned and the anchor, from the newest `register.prune` audit line.
fn last_prune(conn: &Connection) -> Result<(i64, Hash)> {
    let row: Option<(Option<i64>, Option<String>)> = conn
        .query_row(
            "SELECT json_extract(detail, '$.through_id'), json_extract(detail, '$.anchor')
             FROM audit WHERE action = 'register.prune'
               AND json_extract(detail, '$.anchor') IS NOT NULL
             ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((Some(id), Some(anchor))) => (
            id,
            hex::decode(anchor)
                .ok()
                .and_then(|h| to_hash(&h))
                .unwrap_or(GENESIS),
        ),
        _ => (0, GENESIS),
    })
}

fn to_hash(b: &[u8]) -> Option<Hash> {
    b.try_into().ok()
}

/// Chains every row that has no hash yet, in id order, continuing from the last chained one.
/// Run once, by the migration that adds the chain, inside its transaction: rows written
/// before the upgrade are chained as they stood then.
pub(super) fn backfill(conn: &Connection, table: Table) -> Result<()> {
    let mut prev: Hash = conn
        .query_row(
            &format!(
                "SELECT hash FROM {} WHERE hash IS NOT NULL ORDER BY id DESC LIMIT 1",
                table.name()
            ),
            [],
            |r| r.get::<_, Vec<u8>>(0),
        )
        .optional()?
        .and_then(|h| to_hash(&h))
        .unwrap_or(GENESIS);
    let mut read = conn.prepare(&format!(
        "SELECT {} FROM {} WHERE hash IS NULL ORDER BY id",
        table.columns(),
        table.name()
    ))?;
    let mut update = conn.prepare(&format!(
        "UPDATE {} SET prev_hash = ?1, hash = ?2 WHERE id = ?3",
        table.name()
    ))?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let values = (0..table.width())
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let refs: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
        let hash = hash_row(table, &prev, &refs)?;
        let id: i64 = row.get(0)?;
        update.execute(rusqlite::params![&prev[..], &hash[..], id])?;
        prev = hash;
    }
    Ok(())
}

/// What [`verify`] found in one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub table: Table,
    /// Rows checked, up to and including the first broken one.
    pub rows: u64,
    pub first_id: Option<i64>,
    /// The newest row's id and stored hash (hex).
    pub head_id: Option<i64>,
    pub head: Option<String>,
    /// The oldest row's `prev_hash` (hex): zeros, or a prune's anchor.
    pub anchor: Option<String>,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BrokenLink {
    pub table: Table,
    pub id: i64,
    /// `content` (the row differs from what was hashed), `link` (its `prev_hash` is not the
    /// previous row's hash: a row was removed or inserted before it), `anchor` (the oldest
    /// row's `prev_hash` is no recorded prune anchor) or `missing` (no hash).
    pub kind: String,
    pub detail: String,
}

/// Checks both chains in one read transaction (a consistent snapshot; the daemon may keep
/// writing).
pub fn verify(conn: &Connection) -> Result<Vec<ChainReport>> {
    conn.execute_batch("BEGIN")?;
    let out = verify_table(conn, Table::Audit).and_then(|audit| {
        let register = verify_table(conn, Table::Register)?;
        Ok(vec![register, audit])
    });
    conn.execute_batch("COMMIT")?;
    out
}

/// Checks one chain from its oldest row; stops at the first broken link.
pub fn verify_table(conn: &Connection, table: Table) -> Result<ChainReport> {
    let n = table.width();
    let mut stmt = conn.prepare(&format!(
        "SELECT {}, prev_hash, hash FROM {} ORDER BY id",
        table.columns(),
        table.name()
    ))?;
    let mut rows = stmt.query([])?;
    let mut report = ChainReport {
        table,
        rows: 0,
        first_id: None,
        head_id: None,
        head: None,
        anchor: None,
        broken: None,
    };
    let mut prev: Option<(i64, Hash)> = None;
    let broken = |id, kind: &str, detail: String| BrokenLink {
        table,
        id,
        kind: kind.into(),
        detail,
    };
    while let Some(row) = rows.next()? {
        report.rows += 1;
        let id: i64 = row.get(0)?;
        let stored_prev: Option<Vec<u8>> = row.get(n)?;
        let stored: Option<Vec<u8>> = row.get(n + 1)?;
        let (Some(stored_prev), Some(stored)) = (
            stored_prev.as_deref().and_then(to_hash),
            stored.as_deref().and_then(to_hash),
        ) else {
            report.broken = Some(broken(id, "missing", "the row has no hash".into()));
            break;
        };
        match prev {
            None => {
                report.first_id = Some(id);
                report.anchor = Some(hex::encode(stored_prev));
                if let Some(problem) = check_anchor(conn, table, &stored_prev)? {
                    report.broken = Some(broken(id, "anchor", problem));
                    break;
                }
            }
            Some((prev_id, prev_hash)) if prev_hash != stored_prev => {
                report.broken = Some(broken(
                    id,
                    "link",
                    format!(
                        "prev_hash {} is not the hash {} of row {prev_id}: a row was removed, \
                         inserted or re-hashed before this one",
                        hex::encode(stored_prev),
                        hex::encode(prev_hash)
                    ),
                ));
                break;
            }
            Some(_) => {}
        }
        let values = (0..n)
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let refs: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
        let computed = hash_row(table, &stored_prev, &refs)?;
        if computed != stored {
            report.broken = Some(broken(
                id,
                "content",
                format!(
                    "the row's content hashes to {}, its stored hash is {}: the row was changed",
                    hex::encode(computed),
                    hex::encode(stored)
                ),
            ));
            break;
        }
        prev = Some((id, stored));
    }
    if let Some((id, hash)) = prev {
        report.head_id = Some(id);
        report.head = Some(hex::encode(hash));
    }
    if report.broken.is_some() {
        // The head of a broken chain is the last stored hash, not the last verified one.
        let (id, hash) = last(conn, table).unwrap_or((0, GENESIS));
        report.head_id = Some(id);
        report.head = Some(hex::encode(hash));
    }
    Ok(report)
}

/// `None` when the oldest row's `prev_hash` is acceptable: zeros (nothing before it), or for
/// the register the anchor a prune recorded in the audit log.
fn check_anchor(conn: &Connection, table: Table, anchor: &Hash) -> Result<Option<String>> {
    if *anchor == GENESIS {
        return Ok(None);
    }
    if table == Table::Audit {
        return Ok(Some(
            "the oldest audit line does not start the chain (the audit log is never pruned): \
             lines before it were removed"
                .into(),
        ));
    }
    let recorded: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM audit WHERE action = 'register.prune'
                          AND json_extract(detail, '$.anchor') = ?1)",
        [hex::encode(anchor)],
        |r| r.get(0),
    )?;
    Ok((!recorded).then(|| {
        format!(
            "the oldest line's prev_hash {} is no anchor recorded by a register.prune audit \
             line: lines before it were removed outside retention",
            hex::encode(anchor)
        )
    }))
}

/// The head of a chain as of `until`: the newest row (by id) recorded before `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Head {
    pub table: Table,
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Hex SHA-256.
    pub hash: String,
}

/// The chain head a report of a period ending at `until` prints: whoever holds the printed
/// head can later check that the database still holds the same rows up to it (with
/// [`verify`], and by comparing the head with `hash` of row `id`). `None` when no row is
/// older than `until`.
pub fn chain_head(
    conn: &Connection,
    table: Table,
    until: chrono::DateTime<chrono::Utc>,
) -> Result<Option<Head>> {
    let row: Option<(i64, i64, Option<Vec<u8>>)> = conn
        .prepare_cached(&format!(
            "SELECT id, at, hash FROM {} WHERE at < ?1 ORDER BY id DESC LIMIT 1",
            table.name()
        ))?
        .query_row([to_ms(until)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(row.map(|(id, at, hash)| Head {
        table,
        id,
        at: super::from_ms(at),
        hash: hash.map(hex::encode).unwrap_or_default(),
    }))
}

#[cfg(test)]
mod tests;
