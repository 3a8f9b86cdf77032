//! The desk's commands (procedure 4): check a visitor in, the head's decision, the visitor
//! badge, check-out, the facility register, the badge pool, and who is inside now.

use std::path::PathBuf;

use anyhow::Context;
use base64::Engine;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::client::Client;
use super::report::ExportArgs;
use super::{ApiArgs, print};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum VisitCmd {
    /// Check a visitor in (the visitor form); the head of the facility is asked.
    CheckIn(Box<CheckInArgs>),
    /// Visits, oldest first.
    List {
        /// waiting_approval, approved, denied, active or closed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    Show {
        id: i64,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The head of the facility grants the visit.
    Approve {
        id: i64,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// The head of the facility denies the visit; the reason is required.
    Deny {
        id: i64,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Hand out a visitor badge for an approved visit.
    Badge {
        id: i64,
        /// The number printed on the card; default the free card with the lowest number.
        #[arg(long)]
        number: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// End the visit: the badge back (`returned`) or `lost`; the identity document is
    /// handed back with it.
    CheckOut {
        id: i64,
        /// returned or lost; required while a badge is out.
        #[arg(long)]
        badge: Option<String>,
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        api: ApiArgs,
    },
    /// Formulir Pencatatan Penggunaan Fasilitas as CSV (seed 004 columns).
    Register {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[command(flatten)]
        export: ExportArgs,
        #[command(flatten)]
        api: ApiArgs,
    },
}

#[derive(Debug, Args)]
pub struct CheckInArgs {
    #[arg(long)]
    nama: String,
    #[arg(long)]
    instansi: Option<String>,
    #[arg(long)]
    alamat: Option<String>,
    /// ktp, sim, paspor or other.
    #[arg(long, default_value = "ktp")]
    jenis_identitas: String,
    /// With `--jenis-identitas other`: which document.
    #[arg(long)]
    jenis_identitas_lain: Option<String>,
    #[arg(long)]
    no_identitas: String,
    #[arg(long)]
    tujuan: String,
    /// Whom the visitor comes to see.
    #[arg(long)]
    host: String,
    /// The escort's person id (a staff card holder with a right for the doors).
    #[arg(long)]
    escort: i64,
    /// A door the badge will open (repeat); default `[visitors] doors`.
    #[arg(long = "door")]
    doors: Vec<String>,
    /// Equipment brought in, `JENIS` or `JENIS:NO_SERI` (repeat).
    #[arg(long = "equipment")]
    equipment: Vec<String>,
    /// The identity document is held at the desk until the badge comes back.
    #[arg(long)]
    id_deposited: bool,
    /// TTD as the visitor's typed name; needs --consent.
    #[arg(
        long,
        conflicts_with = "ttd_image",
        required_unless_present = "ttd_image"
    )]
    ttd_name: Option<String>,
    /// The visitor agrees that the typed name stands for their signature.
    #[arg(long, requires = "ttd_name")]
    consent: bool,
    /// TTD as a picture (PNG or JPEG).
    #[arg(long)]
    ttd_image: Option<PathBuf>,
    #[command(flatten)]
    api: ApiArgs,
}

#[derive(Debug, Subcommand)]
pub enum VisitorBadgeCmd {
    /// Add a card to the desk's pool.
    Add {
        /// The number printed on the card.
        #[arg(long)]
        number: String,
        #[arg(long, required_unless_present = "enroll", conflicts_with = "enroll")]
        uid: Option<String>,
        #[arg(long, requires = "uid")]
        technology: Option<String>,
        /// A desk reader (`purpose = "enrollment"`): add the next card presented on it.
        #[arg(long, value_name = "READER")]
        enroll: Option<String>,
        /// Seconds to wait for the card on the desk reader (1-120).
        #[arg(long, default_value_t = 30, requires = "enroll")]
        timeout: u64,
        #[command(flatten)]
        api: ApiArgs,
    },
    List {
        #[command(flatten)]
        api: ApiArgs,
    },
}

fn client(config: &Config, api: ApiArgs) -> Client {
    Client::new(api.url, api.token, &config.data_dir, config.listen)
}

pub fn visit(cmd: VisitCmd, config: &Config) -> anyhow::Result<()> {
    match cmd {
        VisitCmd::CheckIn(args) => {
            let CheckInArgs {
                nama,
                instansi,
                alamat,
                jenis_identitas,
                jenis_identitas_lain,
                no_identitas,
                tujuan,
                host,
                escort,
                doors,
                equipment,
                id_deposited,
                ttd_name,
                consent,
                ttd_image,
                api,
            } = *args;
            let ttd = match (ttd_name, ttd_image) {
                (Some(name), _) => json!({ "kind": "typed", "name": name, "consent": consent }),
                (None, Some(path)) => {
                    let bytes = std::fs::read(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                    json!({ "kind": "image", "data_base64": data })
                }
                (None, None) => anyhow::bail!("give --ttd-name (with --consent) or --ttd-image"),
            };
            let equipment: Vec<Value> = equipment
                .iter()
                .map(|e| match e.split_once(':') {
                    Some((jenis, seri)) => json!({ "jenis": jenis, "no_seri": seri }),
                    None => json!({ "jenis": e }),
                })
                .collect();
            let mut body = json!({
                "nama": nama, "instansi": instansi, "alamat": alamat,
                "jenis_identitas": jenis_identitas, "jenis_identitas_lain": jenis_identitas_lain,
                "no_identitas": no_identitas, "tujuan": tujuan, "host": host,
                "escort_person_id": escort, "equipment": equipment,
                "id_deposited": id_deposited, "ttd": ttd,
            });
            if !doors.is_empty() {
                body["doors"] = json!(doors);
            }
            let v = client(config, api).post("/api/v1/visits", &body)?;
            println!(
                "visit {} checked in; waiting for the approval of the {}",
                v["id"],
                v["approver_role"].as_str().unwrap_or("head")
            );
            Ok(())
        }
        VisitCmd::List {
            status,
            from,
            to,
            api,
        } => {
            let mut query = Vec::new();
            query.extend(status.map(|v| ("status", v)));
            query.extend(from.map(|v| ("from", v)));
            query.extend(to.map(|v| ("to", v)));
            let list = client(config, api).get("/api/v1/visits", &query)?;
            for v in list.as_array().into_iter().flatten() {
                println!(
                    "{:>4}  {:<16} {:<24} {:<24} {}",
                    v["id"],
                    v["status"].as_str().unwrap_or(""),
                    v["nama"].as_str().unwrap_or(""),
                    v["instansi"].as_str().unwrap_or(""),
                    v["badge_number"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        VisitCmd::Show { id, api } => {
            print(client(config, api).get(&format!("/api/v1/visits/{id}"), &[])?)
        }
        VisitCmd::Approve { id, note, api } => decide(config, api, id, "approve", note),
        VisitCmd::Deny { id, note, api } => decide(config, api, id, "reject", Some(note)),
        VisitCmd::Badge { id, number, api } => {
            let v = client(config, api).post(
                &format!("/api/v1/visits/{id}/badge"),
                &json!({ "badge_number": number }),
            )?;
            println!(
                "hand out visitor badge {} for visit {id}; it opens next to the escort ({}) until the end of the day",
                v["badge_number"].as_str().unwrap_or("?"),
                v["escort_name"].as_str().unwrap_or("?")
            );
            Ok(())
        }
        VisitCmd::CheckOut {
            id,
            badge,
            note,
            api,
        } => {
            // The desk runs check-out as it hands the identity document back.
            let v = client(config, api).post(
                &format!("/api/v1/visits/{id}/check-out"),
                &json!({ "badge": badge, "id_returned": true, "note": note }),
            )?;
            println!(
                "visit {id} {}",
                v["status"].as_str().unwrap_or("checked out")
            );
            Ok(())
        }
        VisitCmd::Register {
            from,
            to,
            export,
            api,
        } => {
            let query = vec![("from", from), ("to", to)];
            export.fetch(&client(config, api), "/api/v1/visit-register/export", query)
        }
    }
}

fn decide(
    config: &Config,
    api: ApiArgs,
    id: i64,
    decision: &str,
    note: Option<String>,
) -> anyhow::Result<()> {
    let v = client(config, api).post(
        &format!("/api/v1/visits/{id}/decide"),
        &json!({ "decision": decision, "note": note }),
    )?;
    println!("visit {id} {}", v["status"].as_str().unwrap_or("?"));
    Ok(())
}

pub fn visitor_badge(cmd: VisitorBadgeCmd, config: &Config) -> anyhow::Result<()> {
    match cmd {
        VisitorBadgeCmd::Add {
            number,
            uid,
            technology,
            enroll,
            timeout,
            api,
        } => {
            let body = match &enroll {
                Some(reader) => {
                    println!(
                        "Tap visitor badge {number} on {reader} now (waiting up to {timeout} s)…"
                    );
                    json!({ "badge_number": number, "enroll_reader": reader,
                            "enroll_timeout_seconds": timeout })
                }
                None => json!({ "badge_number": number, "uid": uid, "technology": technology }),
            };
            print(client(config, api).post("/api/v1/visitor-badges", &body)?)
        }
        VisitorBadgeCmd::List { api } => {
            let list = client(config, api).get("/api/v1/visitor-badges", &[])?;
            for b in list.as_array().into_iter().flatten() {
                let visit = b["visit_id"]
                    .as_i64()
                    .map(|v| format!("visit {v}"))
                    .unwrap_or_default();
                println!(
                    "{:<10} {:<10} {:<28} {visit}",
                    b["badge_number"].as_str().unwrap_or(""),
                    b["status"].as_str().unwrap_or(""),
                    format!(
                        "{}:{}",
                        b["technology"].as_str().unwrap_or(""),
                        b["uid"].as_str().unwrap_or("")
                    ),
                );
            }
            Ok(())
        }
    }
}

/// `lawang inside`: who is inside now, as a table to read out in an emergency.
pub fn inside(config: &Config, api: ApiArgs) -> anyhow::Result<()> {
    let list = client(config, api).get("/api/v1/inside", &[])?;
    let rows = list.as_array().cloned().unwrap_or_default();
    print!("{}", table(&rows, config.timezone));
    Ok(())
}

/// The presence list as text: one line per person, visitors with their badge and escort.
pub fn table(rows: &[Value], tz: chrono_tz::Tz) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut out = format!(
        "{:<16} {:<16} {:<8} {:<28} {:<20} {}\n",
        "DOOR", "SINCE", "KIND", "NAME", "ID NUMBER", "ESCORT"
    );
    for r in rows {
        let since = r["since"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                t.with_timezone(&Utc)
                    .with_timezone(&tz)
                    .format("%d-%m %H:%M")
                    .to_string()
            })
            .unwrap_or_default();
        let name = match r["badge_number"].as_str() {
            Some(b) => format!("{} ({b})", s(&r["name"])),
            None => s(&r["name"]),
        };
        let escort = match r["escort_inside"].as_bool() {
            Some(true) => format!("{} (inside)", s(&r["escort_name"])),
            Some(false) => format!("{} (NOT INSIDE)", s(&r["escort_name"])),
            None => String::new(),
        };
        out.push_str(&format!(
            "{:<16} {:<16} {:<8} {:<28} {:<20} {escort}\n",
            s(&r["door"]),
            since,
            s(&r["kind"]),
            name,
            s(&r["id_number"]),
        ));
    }
    out.push_str(&format!("{} inside\n", rows.len()));
    out
}
