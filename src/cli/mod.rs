//! The `lawang` command line. `serve` runs the daemon; `token` works on the database
//! directly (so a lost admin token can be replaced on the box itself); everything that
//! changes the access list goes through the running daemon's API, so the door sees it at once.

mod access;
mod client;
mod maintenance;
mod notify;
mod readers;
mod report;
mod tokens;
mod visits;
mod workflow;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::Config;
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
    Token(tokens::TokenCmd),
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
    Person(access::PersonCmd),
    /// Badges (cards bound to people).
    #[command(subcommand)]
    Badge(access::BadgeCmd),
    /// The facility register.
    #[command(subcommand)]
    Register(access::RegisterCmd),
    /// Reports and the SOP's forms, filled in (PDF, CSV, HTML, JSON).
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// Card readers: those plugged in and those configured.
    #[command(subcommand)]
    Readers(ReadersCmd),
    /// OSDP reader maintenance, through the running daemon.
    #[command(subcommand)]
    Osdp(readers::OsdpCmd),
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
        Command::Token(cmd) => tokens::run(cmd, config),
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
        Command::Person(cmd) => access::person(cmd, client),
        Command::Badge(cmd) => access::badge(cmd, config, client),
        Command::Register(cmd) => access::register(cmd, client),
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
        Command::Osdp(cmd) => readers::osdp(cmd, client),
    }
}

fn unreachable_serve() -> anyhow::Result<()> {
    anyhow::bail!("`serve` is handled by main")
}

fn print(v: Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}
