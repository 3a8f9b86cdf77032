//! The workflow at the console: staff accounts, the inbox, requests, reviews, removals and
//! what is overdue. Everything goes through the running daemon's API with the caller's token,
//! so the same role checks apply as on the pages.

use chrono::Utc;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::client::Client;
use super::{ApiArgs, print};
use crate::config::Config;
use crate::model::Role;
use crate::report::TimeSpec;
use crate::workflow::texts::local;

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// A staff account (who acts in the workflow and gets notices); then give it a token
    /// with `lawang token create --account USERNAME`.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        nip: Option<String>,
        #[arg(long)]
        jabatan: Option<String>,
        #[arg(long)]
        unit: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Set the password the account logs in to the operator pages with, read from the
    /// first line of standard input (so it is never in the shell history or `ps`).
    Password {
        username: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    List {
        #[arg(long)]
        role: Option<Role>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestCmd {
    List {
        /// `open`, `rejected`, `completed` or `withdrawn`.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    Show {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Approve (or reject with --note) the step the request waits on.
    Decide {
        id: i64,
        /// The step's name, e.g. `dispose`.
        #[arg(long)]
        step: String,
        #[arg(long, conflicts_with = "reject")]
        approve: bool,
        #[arg(long)]
        reject: bool,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Issue the card for an approved request: type its UID, or present it on a desk reader.
    Issue {
        id: i64,
        /// Card UID in hex.
        #[arg(long, required_unless_present = "enroll", conflicts_with = "enroll")]
        uid: Option<String>,
        /// A desk reader (`purpose = "enrollment"`): bind the next card presented on it.
        #[arg(long, value_name = "READER")]
        enroll: Option<String>,
        /// Seconds to wait for the card on the desk reader (1-120).
        #[arg(long, default_value_t = 30, requires = "enroll")]
        timeout: u64,
        #[arg(long)]
        badge_number: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Record the account made for an approved remote-access or control-panel request.
    Grant {
        id: i64,
        #[arg(long)]
        username: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The applicant has been informed: the request is complete.
    Inform {
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReviewCmd {
    /// Start a campaign over the access list as it is now.
    Start {
        #[arg(long)]
        title: Option<String>,
        /// Last day to decide (office zone), or an RFC 3339 time.
        #[arg(long)]
        deadline: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
    Show {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Close: rights marked not valid are removed at once.
    Close {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Args)]
pub struct WaitingArgs {
    /// Judge overdue as of this day or time instead of now.
    #[arg(long)]
    pub at: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

pub fn account(cmd: AccountCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        AccountCmd::Add {
            username,
            name,
            role,
            email,
            nip,
            jabatan,
            unit,
            api,
        } => print(client(api).post(
            "/api/v1/accounts",
            &json!({ "username": username, "name": name, "role": role, "email": email,
                     "nip": nip, "jabatan": jabatan, "unit": unit }),
        )?),
        AccountCmd::Password { username, api } => {
            let client = client(api);
            let id = array(client.get("/api/v1/accounts", &[])?)
                .into_iter()
                .find(|a| a["username"] == username.as_str())
                .map(|a| a["id"].clone())
                .ok_or_else(|| anyhow::anyhow!("no account is named {username:?}"))?;
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                eprintln!("New password for {username} (10 to 128 characters), then Enter:");
            }
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            client.post(
                &format!("/api/v1/accounts/{id}/password"),
                &json!({ "password": password }),
            )?;
            println!("password set for {username}; their open sessions ended");
            Ok(())
        }
        AccountCmd::List { role, api } => {
            let query: Vec<_> = role.map(|r| ("role", r.to_string())).into_iter().collect();
            for a in array(client(api).get("/api/v1/accounts", &query)?) {
                println!(
                    "{:>4}  {:<20} {:<17} {:<30} {}",
                    a["id"],
                    text(&a["username"]),
                    text(&a["role"]),
                    text(&a["name"]),
                    if a["active"] == true {
                        ""
                    } else {
                        "(deactivated)"
                    }
                );
            }
            Ok(())
        }
    }
}

pub fn request(cmd: RequestCmd, client: impl Fn(ApiArgs) -> Client) -> anyhow::Result<()> {
    match cmd {
        RequestCmd::List { status, api } => {
            let query: Vec<_> = status.map(|s| ("status", s)).into_iter().collect();
            for r in array(client(api).get("/api/v1/requests", &query)?) {
                let waiting = match &r["waiting"] {
                    Value::Null => text(&r["status"]),
                    w => format!("waits for {} ({})", text(&w["name"]), text(&w["role"])),
                };
                println!(
                    "{:>4}  {:<14} {:<28} {}",
                    r["id"],
                    text(&r["kind"]),
                    text(&r["applicant_name"]),
                    waiting
                );
            }
            Ok(())
        }
        RequestCmd::Show { id, api } => {
            print(client(api).get(&format!("/api/v1/requests/{id}"), &[])?)
        }
        RequestCmd::Decide {
            id,
            step,
            approve: _,
            reject,
            note,
            api,
        } => {
            let decision = if reject { "reject" } else { "approve" };
            let r = client(api).post(
                &format!("/api/v1/requests/{id}/decide"),
                &json!({ "step": step, "decision": decision, "note": note }),
            )?;
            println!("request {id}: {}", state(&r));
            Ok(())
        }
        RequestCmd::Issue {
            id,
            uid,
            enroll,
            timeout,
            badge_number,
            api,
        } => {
            let body = match &enroll {
                Some(reader) => {
                    println!("Tap the card on {reader} now (waiting up to {timeout} s)…");
                    json!({ "enroll_reader": reader, "enroll_timeout_seconds": timeout,
                            "badge_number": badge_number })
                }
                None => json!({ "uid": uid, "badge_number": badge_number }),
            };
            let r = client(api).post(&format!("/api/v1/requests/{id}/issue"), &body)?;
            println!(
                "request {id}: card issued (badge {}); {}",
                r["badge_id"],
                state(&r)
            );
            Ok(())
        }
        RequestCmd::Grant { id, username, api } => {
            let r = client(api).post(
                &format!("/api/v1/requests/{id}/grant"),
                &json!({ "username": username }),
            )?;
            println!("request {id}: account recorded; {}", state(&r));
            Ok(())
        }
        RequestCmd::Inform { id, note, api } => {
            let r = client(api).post(
                &format!("/api/v1/requests/{id}/inform"),
                &json!({ "note": note }),
            )?;
            println!("request {id}: {}", state(&r));
            Ok(())
        }
    }
}

pub fn review(
    cmd: ReviewCmd,
    config: &Config,
    client: impl Fn(ApiArgs) -> Client,
) -> anyhow::Result<()> {
    match cmd {
        ReviewCmd::Start {
            title,
            deadline,
            api,
        } => {
            let deadline = match deadline {
                Some(d) => Some(
                    TimeSpec::parse(&d)
                        .map_err(anyhow::Error::msg)?
                        .end_inclusive_date(config.timezone),
                ),
                None => None,
            };
            print(client(api).post(
                "/api/v1/reviews",
                &json!({ "title": title, "deadline": deadline }),
            )?)
        }
        ReviewCmd::List { api } => print(client(api).get("/api/v1/reviews", &[])?),
        ReviewCmd::Show { id, api } => {
            print(client(api).get(&format!("/api/v1/reviews/{id}"), &[])?)
        }
        ReviewCmd::Close { id, api } => {
            let r = client(api).post(&format!("/api/v1/reviews/{id}/close"), &json!({}))?;
            println!(
                "review {id} closed: {} valid, {} not valid (removed), {} undecided ({})",
                r["valid"],
                r["not_valid"],
                r["undecided"],
                text(&r["default_undecided"])
            );
            Ok(())
        }
    }
}

/// `lawang inbox` (what waits for me) and `lawang overdue` (what is late, office-wide).
pub fn waiting(
    overdue: bool,
    args: WaitingArgs,
    config: &Config,
    client: impl Fn(ApiArgs) -> Client,
) -> anyhow::Result<()> {
    let client = client(args.api);
    let items = if overdue {
        let at = match args.at {
            Some(a) => TimeSpec::parse(&a)
                .map_err(anyhow::Error::msg)?
                .start(config.timezone),
            None => Utc::now(),
        };
        client.get(
            "/api/v1/workflow/waiting",
            &[("overdue", "true".into()), ("at", at.to_rfc3339())],
        )?
    } else {
        client.get("/api/v1/workflow/inbox", &[])?
    };
    let items = array(items);
    if items.is_empty() {
        println!(
            "{}",
            if overdue {
                "nothing is overdue"
            } else {
                "nothing waits for you"
            }
        );
    }
    for w in items {
        let due = w["due_at"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .map(|d| local(d, config.timezone))
            .unwrap_or_default();
        println!(
            "{:<14} {:>4}  {:<10} {:<17} due {due}{}  {}",
            text(&w["case"]),
            w["id"],
            text(&w["step"]),
            text(&w["role"]),
            if w["overdue"] == true { " OVERDUE" } else { "" },
            text(&w["title"])
        );
    }
    Ok(())
}

fn state(r: &Value) -> String {
    match &r["waiting"] {
        Value::Null => format!("now {}", text(&r["status"])),
        w => format!("now waits for {} by {}", text(&w["name"]), text(&w["role"])),
    }
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        _ => vec![],
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}
