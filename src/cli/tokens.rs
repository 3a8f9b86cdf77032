//! `lawang token`: works on the database directly, so a lost admin token can be replaced
//! on the box itself (run it as the service user).

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;

use crate::config::Config;
use crate::model::{Actor, Role};
use crate::store::{self, Changed, Db, tokens};

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a token and print it once: for a staff account (`--account`), or with a
    /// role and a name.
    Create {
        #[arg(long, required_unless_present = "account", conflicts_with = "account")]
        role: Option<Role>,
        #[arg(long, required_unless_present = "account")]
        name: Option<String>,
        #[arg(long)]
        account: Option<String>,
    },
    List,
    Revoke {
        id: i64,
    },
}

pub fn run(cmd: TokenCmd, config: &Config) -> anyhow::Result<()> {
    // Works before the first `serve` too: the schema is created, and the daemon then sees a
    // token exists and writes no initial one.
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let db = Db::open(&config.data_dir.join(store::DB_FILE), config.timezone)
        .with_context(|| format!("cannot open the database in {}", config.data_dir.display()))?;
    let actor = Actor {
        token_id: None,
        account_id: None,
        name: format!("cli ({})", whoami()),
        role: Role::Admin,
    };
    match cmd {
        TokenCmd::Create {
            role,
            name,
            account,
        } => {
            let t = db.write_blocking(|tx| {
                let t = match (account, role, name) {
                    (Some(a), _, _) => tokens::create_for_account(tx, &a, &actor, Utc::now())?,
                    (None, Some(role), Some(name)) => {
                        tokens::create(tx, &name, role, &actor, Utc::now())?
                    }
                    _ => {
                        return Err(store::StoreError::Invalid(
                            "give --account, or --role and --name".into(),
                        ));
                    }
                };
                Ok((t, Changed::none()))
            })?;
            eprintln!(
                "token {} ({}, role {}); it is shown only this once:",
                t.info.id, t.info.name, t.info.role
            );
            println!("{}", t.token);
        }
        TokenCmd::List => {
            let list = db.write_blocking(|tx| Ok((tokens::list(tx)?, Changed::none())))?;
            for t in list {
                let state = t
                    .revoked_at
                    .map_or("active".to_owned(), |r| format!("revoked {r}"));
                println!(
                    "{:>4}  {:<10} {:<30} {state}",
                    t.id,
                    t.role.as_str(),
                    t.name
                );
            }
        }
        TokenCmd::Revoke { id } => {
            let t = db.write_blocking(|tx| {
                Ok((tokens::revoke(tx, id, &actor, Utc::now())?, Changed::none()))
            })?;
            println!("token {} ({}) revoked", t.id, t.name);
        }
    }
    Ok(())
}

fn whoami() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into())
}
