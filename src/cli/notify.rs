//! `lawang notify`: check the relay with a test email, and read the delivery log.

use serde_json::json;

use super::client::Client;

/// Queues a test email through the daemon (so it goes the way every notification goes)
/// and says where to see whether it arrived.
pub fn test(client: &Client, to: &str) -> anyhow::Result<()> {
    let queued = client.post("/api/v1/notifications/test", &json!({ "to": to }))?;
    let id = queued["id"].as_i64().unwrap_or_default();
    println!("test email {id} to {to} queued; `lawang notify list` shows whether it was sent");
    Ok(())
}

/// The newest messages, one line each: id, state, attempts, recipient or event, last error.
pub fn list(client: &Client, state: Option<String>, limit: u32) -> anyhow::Result<()> {
    let mut query = vec![("limit", limit.to_string())];
    query.extend(state.map(|s| ("state", s)));
    let page = client.get("/api/v1/notifications", &query)?;
    let items = page["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        println!("no notifications");
    }
    for n in items {
        let what = match n["kind"].as_str() {
            Some("email") => {
                let to: Vec<&str> = n["to"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                format!(
                    "email to {}: {}",
                    to.join(", "),
                    n["subject"].as_str().unwrap_or("")
                )
            }
            _ => format!("webhook {}", n["event"].as_str().unwrap_or("?")),
        };
        let error = n["last_error"]
            .as_str()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        println!(
            "{:>6}  {:<9} {:>2} tries  {}  {what}{error}",
            n["id"],
            n["state"].as_str().unwrap_or("?"),
            n["attempts"],
            n["created_at"].as_str().unwrap_or(""),
        );
    }
    Ok(())
}
