//! The `lawang` command line. `serve` runs the daemon; `token` works on the database
//! directly (so a lost admin token can be replaced on the box itself); everything that
//! changes the access list goes through the running daemon's API, so the door sees it at once.

mod client;
mod maintenance;
mod notify;
mod readers;
mod report;
mod visits;
mod workflow;

use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::Config;
use crate::model::{Actor, Role};
use crate::report::TimeSpec;
use crate::store::{self, Changed, Db, tokens};
use client::Client;

#[derive(Debug, Parser)]
#[command(
    name = "lawang",
    version,
    about = "Access control for the server-room door"
)]
pub struct Cli {
    /// Configuration file (default: /etc/lawang/lawang.toml if present, else built-in defaults).
    #[arg(long, global = true, env = "LAWANG_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the door daemon.
    Serve,
    /// Print the effective configuration, or the key and line of the first error (exit 1).
    CheckConfig,
    /// Manage API tokens (works on the database directly; run it as the service user).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Present a card on a simulated reader.
    Tap {
        #[arg(long)]
        reader: String,
        /// Card UID in hex.
        uid: String,
        #[arg(long)]
        technology: Option<String>,
        /// Also type this PIN on the reader's keypad (card + PIN doors).
        #[arg(long)]
        pin: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// People (card holders).
    #[command(subcommand)]
    Person(PersonCmd),
    /// Badges (cards bound to people).
    #[command(subcommand)]
    Badge(BadgeCmd),
    /// The facility register.
    #[command(subcommand)]
    Register(RegisterCmd),
    /// Reports and the SOP's forms, filled in (PDF, CSV, HTML, JSON).
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// Card readers: those plugged in and those configured.
    #[command(subcommand)]
    Readers(ReadersCmd),
    /// OSDP reader maintenance, through the running daemon.
    #[command(subcommand)]
    Osdp(OsdpCmd),
    /// Staff accounts of the workflow.
    #[command(subcommand)]
    Account(workflow::AccountCmd),
    /// Access requests (Permintaan Akses): list, approve, issue the card.
    #[command(subcommand)]
    Request(workflow::RequestCmd),
    /// Review campaigns (Review Akses).
    #[command(subcommand)]
    Review(workflow::ReviewCmd),
    /// What waits for you (the token's role and account).
    Inbox {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Workflow steps past their time standard (Mutu Baku Waktu), office-wide.
    Overdue(workflow::WaitingArgs),
    /// Notifications (email, webhooks), through the running daemon.
    #[command(subcommand)]
    Notify(NotifyCmd),
    /// Visitors at the desk (procedure 4): check-in, approval, badge, check-out, register.
    #[command(subcommand)]
    Visit(visits::VisitCmd),
    /// The desk's pool of visitor badges.
    #[command(subcommand)]
    VisitorBadge(visits::VisitorBadgeCmd),
    /// Who is inside now, staff and visitors, door by door.
    Inside {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Doors, readers and the database as the daemon sees them (`/healthz`).
    Status {
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Copy the database to a new file while the daemon runs (the door keeps working), and
    /// check the copy. Run as root or the service user.
    Backup {
        /// The new file (mode 0600); an existing file is never overwritten.
        path: PathBuf,
    },
    /// Replace the database with a backup, after checking it. Only while the daemon is
    /// stopped; the replaced database is kept beside it.
    Restore { path: PathBuf },
    /// Write a large synthetic register into a new database file, for benchmarks and load
    /// trials (never the daemon's database).
    #[command(hide = true)]
    GenerateRegister {
        /// The new database file; an existing file is refused.
        path: PathBuf,
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Days the register spans, ending today.
        #[arg(long, default_value_t = 730)]
        days: u32,
        #[arg(long, default_value_t = 300)]
        staff: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The audit log's and the register's hash chains.
    #[command(subcommand)]
    Audit(AuditCmd),
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check both hash chains on the database file (read-only; the daemon may run): rows
    /// checked, the head, and the first broken link (exit 1).
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Daemon URL (default: the local daemon's address).
    #[arg(long, env = "LAWANG_URL")]
    url: Option<String>,
    /// API token (default: the initial admin token file, if readable). Prefer the
    /// environment variable: arguments are visible to other users in `ps`.
    #[arg(long, env = "LAWANG_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReadersCmd {
    /// PC/SC readers and serial ports present, and the state of each configured reader.
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum OsdpCmd {
    /// Install a new secure channel key on the PD (osdp_KEYSET over the established secure
    /// channel). On success point the reader's `scbk_file` at the new key and reload.
    Keyset {
        #[arg(long)]
        reader: String,
        /// File holding the new key as 32 hex digits (the key itself is never an argument:
        /// arguments are visible to other users).
        #[arg(long)]
        key_file: PathBuf,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Switch one of the PD's outputs on or off (osdp_OUT), permanently or for `--seconds`.
    Output {
        #[arg(long)]
        reader: String,
        /// The PD's output number, from 0.
        #[arg(long)]
        output: u8,
        #[arg(long, conflicts_with = "off", required_unless_present = "off")]
        on: bool,
        #[arg(long)]
        off: bool,
        /// Only for this many seconds, then back to the permanent state.
        #[arg(long)]
        seconds: Option<u16>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Move the PD to a new address and speed (osdp_COMSET). The reader is then offline
    /// until its `address` and `baud` are changed to match and lawang is reloaded.
    Comset {
        #[arg(long)]
        reader: String,
        #[arg(long)]
        address: u8,
        #[arg(long)]
        baud: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum NotifyCmd {
    /// Queue a test email to ADDRESS through the configured relay.
    Test {
        #[arg(long, value_name = "ADDRESS")]
        to: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The delivery log, newest first.
    List {
        /// Only `pending`, `sent`, `failed`, `disabled` or `filtered` messages.
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
}

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

#[derive(Debug, Subcommand)]
pub enum PersonCmd {
    Add {
        #[arg(long)]
        name: String,
        /// NIP or identity number.
        #[arg(long)]
        id_number: Option<String>,
        /// Unit kerja / instansi.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        contact: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Set the PIN for card + PIN doors, read from standard input (never an argument:
    /// arguments are visible to other users).
    SetPin {
        id: i64,
        /// Remove the PIN instead.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        api: ApiArgs,
    },
    List {
        /// Part of a name, number or unit.
        #[arg(long)]
        q: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum BadgeCmd {
    /// Bind a card to a person, with a right on the given doors for a period.
    Issue {
        #[arg(long)]
        person: i64,
        #[arg(long)]
        uid: String,
        #[arg(long)]
        technology: Option<String>,
        #[arg(long)]
        badge_number: Option<String>,
        /// Door the right opens (repeat for several). Without doors, no right is created.
        #[arg(long = "door")]
        doors: Vec<String>,
        /// Start of the right: a date (office zone) or RFC 3339 time; default now.
        #[arg(long)]
        from: Option<String>,
        /// Last day of the right (included) or an RFC 3339 end time.
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    Revoke {
        id: i64,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    List {
        #[arg(long)]
        person: Option<i64>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegisterCmd {
    /// Recent register lines, newest first.
    List {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        door: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Export a period as CSV (Indonesian columns, times in the office zone).
    Export {
        /// First day (or RFC 3339 time).
        #[arg(long)]
        from: String,
        /// Last day, included (or RFC 3339 end time).
        #[arg(long)]
        to: String,
        #[arg(long)]
        door: Option<String>,
        /// `id` (default) or `en`.
        #[arg(long)]
        lang: Option<String>,
        /// Use `;` as separator (Indonesian-locale spreadsheets).
        #[arg(long)]
        semicolon: bool,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

/// Runs a command other than `serve`.
pub fn run(
    command: Command,
    config: &Config,
    file: &crate::config::ConfigFile,
) -> anyhow::Result<()> {
    let client = |api: ApiArgs| Client::new(api.url, api.token, &config.data_dir, config.listen);
    match command {
        Command::Serve => unreachable_serve(),
        Command::CheckConfig => {
            print!("{}", file.to_toml());
            Ok(())
        }
        Command::Token(cmd) => token(cmd, config),
        Command::Tap {
            reader,
            uid,
            technology,
            pin,
            api,
        } => {
            let r = client(api).post(
                &format!("/api/v1/readers/{reader}/tap"),
                &json!({ "uid": uid, "technology": technology, "pin": pin }),
            )?;
            let granted = r["granted"].as_bool().unwrap_or(false);
            let person = r["person_id"]
                .as_i64()
                .map(|p| format!(" (person {p})"))
                .unwrap_or_default();
            if granted {
                println!("granted{person}");
            } else {
                println!("refused: {}{person}", r["reason"].as_str().unwrap_or("?"));
            }
            Ok(())
        }
        Command::Person(PersonCmd::Add {
            name,
            id_number,
            unit,
            contact,
            api,
        }) => print(client(api).post(
            "/api/v1/people",
            &json!({ "name": name, "id_number": id_number, "unit": unit, "contact": contact }),
        )?),
        Command::Person(PersonCmd::SetPin { id, clear, api }) => {
            let pin = if clear {
                None
            } else {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                Some(line.trim().to_owned())
            };
            client(api).post(&format!("/api/v1/people/{id}/pin"), &json!({ "pin": pin }))?;
            println!(
                "PIN {} for person {id}",
                if clear { "removed" } else { "set" }
            );
            Ok(())
        }
        Command::Person(PersonCmd::List { q, api }) => {
            let query: Vec<_> = q.map(|q| ("q", q)).into_iter().collect();
            print(client(api).get("/api/v1/people", &query)?)
        }
        Command::Badge(BadgeCmd::Issue {
            person,
            uid,
            technology,
            badge_number,
            doors,
            from,
            until,
            api,
        }) => {
            let right = if doors.is_empty() {
                Value::Null
            } else {
                let tz = config.timezone;
                let from = match from {
                    Some(f) => TimeSpec::parse(&f).map_err(anyhow::Error::msg)?.start(tz),
                    None => Utc::now(),
                };
                let until = until.context("--until is required with --door")?;
                let until = TimeSpec::parse(&until)
                    .map_err(anyhow::Error::msg)?
                    .end_inclusive_date(tz);
                json!({ "doors": doors, "valid_from": from, "valid_until": until })
            };
            let mut body = json!({ "person_id": person, "uid": uid, "technology": technology,
                                   "badge_number": badge_number });
            if !right.is_null() {
                body["right"] = right;
            }
            print(client(api).post("/api/v1/badges", &body)?)
        }
        Command::Badge(BadgeCmd::Revoke { id, reason, api }) => print(client(api).post(
            &format!("/api/v1/badges/{id}/revoke"),
            &json!({ "reason": reason }),
        )?),
        Command::Badge(BadgeCmd::List { person, api }) => {
            let query: Vec<_> = person
                .map(|p| ("person_id", p.to_string()))
                .into_iter()
                .collect();
            print(client(api).get("/api/v1/badges", &query)?)
        }
        Command::Register(RegisterCmd::List {
            from,
            to,
            door,
            limit,
            api,
        }) => {
            let mut query = vec![("limit", limit.to_string())];
            query.extend(from.map(|v| ("from", v)));
            query.extend(to.map(|v| ("to", v)));
            query.extend(door.map(|v| ("door", v)));
            print(client(api).get("/api/v1/register", &query)?)
        }
        Command::Register(RegisterCmd::Export {
            from,
            to,
            door,
            lang,
            semicolon,
            output,
            api,
        }) => {
            let mut query = vec![("from", from), ("to", to)];
            query.extend(door.map(|v| ("door", v)));
            query.extend(lang.map(|v| ("lang", v)));
            if semicolon {
                query.push(("sep", "semicolon".into()));
            }
            let client = client(api);
            let bytes = match &output {
                Some(path) => {
                    let mut f = std::fs::File::create(path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    client.download("/api/v1/register/export", &query, &mut f)?
                }
                None => client.download(
                    "/api/v1/register/export",
                    &query,
                    &mut std::io::stdout().lock(),
                )?,
            };
            if let Some(path) = output {
                eprintln!("wrote {bytes} bytes to {}", path.display());
            }
            Ok(())
        }
        Command::Report(cmd) => report::run(cmd, client),
        Command::Readers(ReadersCmd::List { api }) => readers::list(config, &client(api)),
        Command::Account(cmd) => workflow::account(cmd, client),
        Command::Request(cmd) => workflow::request(cmd, client),
        Command::Review(cmd) => workflow::review(cmd, config, client),
        Command::Inbox { api } => workflow::waiting(
            false,
            workflow::WaitingArgs { at: None, api },
            config,
            client,
        ),
        Command::Overdue(args) => workflow::waiting(true, args, config, client),
        Command::Backup { path } => maintenance::backup(config, &path),
        Command::Restore { path } => maintenance::restore(config, &path),
        Command::Audit(AuditCmd::Verify { json }) => maintenance::verify(config, json),
        Command::GenerateRegister {
            path,
            rows,
            days,
            staff,
            seed,
        } => maintenance::generate_register(&path, rows, days, staff, seed),
        Command::Visit(cmd) => visits::visit(cmd, config),
        Command::VisitorBadge(cmd) => visits::visitor_badge(cmd, config),
        Command::Inside { api } => visits::inside(config, api),
        Command::Status { api } => print(client(api).get("/healthz", &[])?),
        Command::Notify(NotifyCmd::Test { to, api }) => notify::test(&client(api), &to),
        Command::Notify(NotifyCmd::List { state, limit, api }) => {
            notify::list(&client(api), state, limit)
        }
        Command::Osdp(OsdpCmd::Keyset {
            reader,
            key_file,
            api,
        }) => {
            let text = std::fs::read_to_string(&key_file)
                .with_context(|| format!("cannot read {}", key_file.display()))?;
            // Checked here so a malformed file is reported by name, without its content.
            crate::reader::osdp::secure::Scbk::parse(&text)
                .with_context(|| format!("{}", key_file.display()))?;
            client(api).post(
                &format!("/api/v1/readers/{reader}/osdp/keyset"),
                &json!({ "key": text.trim() }),
            )?;
            println!(
                "the PD acknowledged the new key: set scbk_file = {:?} for reader {reader:?} and reload lawang (systemctl reload lawang)",
                key_file.display().to_string()
            );
            Ok(())
        }
        Command::Osdp(OsdpCmd::Output {
            reader,
            output,
            on,
            off: _,
            seconds,
            api,
        }) => {
            client(api).post(
                &format!("/api/v1/readers/{reader}/osdp/output"),
                &json!({ "output": output, "on": on, "seconds": seconds }),
            )?;
            let state = if on { "on" } else { "off" };
            match seconds {
                Some(s) => println!("the PD acknowledged: output {output} {state} for {s} s"),
                None => println!("the PD acknowledged: output {output} {state}"),
            }
            Ok(())
        }
        Command::Osdp(OsdpCmd::Comset {
            reader,
            address,
            baud,
            api,
        }) => {
            let answer = client(api).post(
                &format!("/api/v1/readers/{reader}/osdp/comset"),
                &json!({ "address": address, "baud": baud }),
            )?;
            println!(
                "{}",
                answer["message"]
                    .as_str()
                    .unwrap_or("the PD answered COMSET; change the reader's configuration to match and reload lawang (systemctl reload lawang)")
            );
            Ok(())
        }
    }
}

fn unreachable_serve() -> anyhow::Result<()> {
    anyhow::bail!("`serve` is handled by main")
}

fn print(v: Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

fn token(cmd: TokenCmd, config: &Config) -> anyhow::Result<()> {
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
