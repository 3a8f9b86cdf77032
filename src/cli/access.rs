//! People, badges and the register at the console, through the running daemon's API.

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;
use serde_json::{Value, json};

use super::client::Client;
use super::report::ExportArgs;
use super::{ApiArgs, print};
use crate::config::Config;
use crate::report::TimeSpec;

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
        #[command(flatten)]
        export: ExportArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
}

pub fn person(cmd: PersonCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        PersonCmd::Add {
            name,
            id_number,
            unit,
            contact,
            api,
        } => print(client(api).post(
            "/api/v1/people",
            &json!({ "name": name, "id_number": id_number, "unit": unit, "contact": contact }),
        )?),
        PersonCmd::SetPin { id, clear, api } => {
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
        PersonCmd::List { q, api } => {
            let query: Vec<_> = q.map(|q| ("q", q)).into_iter().collect();
            print(client(api).get("/api/v1/people", &query)?)
        }
    }
}

pub fn badge(
    cmd: BadgeCmd,
    config: &Config,
    client: impl Fn(ApiArgs) -> Client,
) -> anyhow::Result<()> {
    match cmd {
        BadgeCmd::Issue {
            person,
            uid,
            technology,
            badge_number,
            doors,
            from,
            until,
            api,
        } => {
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
        BadgeCmd::Revoke { id, reason, api } => print(client(api).post(
            &format!("/api/v1/badges/{id}/revoke"),
            &json!({ "reason": reason }),
        )?),
        BadgeCmd::List { person, api } => {
            let query: Vec<_> = person
                .map(|p| ("person_id", p.to_string()))
                .into_iter()
                .collect();
            print(client(api).get("/api/v1/badges", &query)?)
        }
    }
}

pub fn register(cmd: RegisterCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        RegisterCmd::List {
            from,
            to,
            door,
            limit,
            api,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            query.extend(from.map(|v| ("from", v)));
            query.extend(to.map(|v| ("to", v)));
            query.extend(door.map(|v| ("door", v)));
            print(client(api).get("/api/v1/register", &query)?)
        }
        RegisterCmd::Export {
            from,
            to,
            door,
            export,
            api,
        } => {
            let mut query = vec![("from", from), ("to", to)];
            query.extend(door.map(|v| ("door", v)));
            export.fetch(&client(api), "/api/v1/register/export", query)
        }
    }
}
