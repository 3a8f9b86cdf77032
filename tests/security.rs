//! API security over real HTTP: every route of the OpenAPI document refuses a missing token
//! (401) and every role its permission does not name (403), with the roles read from the
//! document (`x-roles`, written from the permission table itself); wrong tokens are
//! throttled per address; header, body and time limits; and no secret reaches the logs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use lawang::model::Role;
use serde_json::{Value, json};

use crate::common::daemon::{ONE_DOOR, TestDaemon, find_secrets};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A request with any method and no body parsing (the event stream never ends: only the
/// status is read).
fn status(
    d: &TestDaemon,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .build()
        .into();
    let url = format!("{}{path}", d.base);
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut r = match (method, body) {
        ("get", _) | ("delete", None) => {
            let mut req = agent.get(&url);
            if method == "delete" {
                req = agent.delete(&url);
            }
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call().unwrap()
        }
        _ => {
            let mut req = match method {
                "put" => agent.put(&url),
                "patch" => agent.patch(&url),
                _ => agent.post(&url),
            }
            .header("Content-Type", "application/json");
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.send(body.unwrap_or("")).unwrap()
        }
    };
    let code = r.status().as_u16();
    let is_stream = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let body = if is_stream {
        Value::Null
    } else {
        let text = r.body_mut().read_to_string().unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (code, body)
}

/// Every `$ref` in the document.
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

struct Operation {
    method: &'static str,
    path: String,
    permission: String,
    roles: Vec<String>,
    has_body: bool,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op["operationId"].as_str().unwrap_or("?");
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if !secured {
                assert_eq!(path, "/healthz", "{method} {path} ({id}) has no security");
                continue;
            }
            let roles = op["x-roles"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} ({id}) has no x-roles"))
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect();
            // Ids like 1 and names like 1: syntactically valid, whatever exists.
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            out.push(Operation {
                method,
                path: concrete,
                permission: op["x-permission"].as_str().unwrap().to_owned(),
                roles,
                has_body: op.get("requestBody").is_some(),
            });
        }
    }
    out
}

#[test]
fn every_route_refuses_a_missing_token_and_every_role_without_its_permission() {
    let d = TestDaemon::start();
    let doc = d.get_as("/api/v1/openapi.json", None);
    assert_eq!(doc.status, 200);
    let mut refs = Vec::new();
    collect_refs(&doc.body, &mut refs);
    let missing: Vec<_> = refs
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            doc.body["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "unresolvable references: {missing:?}");
    let ops = operations(&doc.body);
    assert!(ops.len() >= 60, "{} operations", ops.len());
    let tokens: Vec<(Role, String)> = Role::ALL
        .iter()
        .map(|r| (*r, d.token_for(r.as_str())))
        .collect();
    let mut checked = 0;
    for op in &ops {
        let what = format!("{} {}", op.method.to_uppercase(), op.path);
        let body = op.has_body.then_some("{}");
        let (code, problem) = status(&d, op.method, &op.path, None, body);
        assert_eq!(code, 401, "{what} without a token: {problem}");
        assert_eq!(
            problem["type"], "urn:lawang:problem:unauthenticated",
            "{what}"
        );
        for (role, token) in &tokens {
            if op.roles.iter().any(|r| r == role.as_str()) {
                // An allowed role passes the permission check. Only where that changes
                // nothing: reads, and writes whose body is not JSON (refused after auth).
                let check = match (op.method, op.has_body) {
                    ("get", _) => Some(None),
                    (_, true) => Some(Some("not json")),
                    _ => None,
                };
                if let Some(body) = check {
                    let (code, problem) = status(&d, op.method, &op.path, Some(token), body);
                    let refusal = format!("the role {} may not {}", role.as_str(), op.permission);
                    assert!(
                        code != 401 && problem["detail"] != refusal.as_str(),
                        "{what} as {}: {code} {problem}",
                        role.as_str()
                    );
                }
            } else {
                let (code, problem) = status(&d, op.method, &op.path, Some(token), body);
                assert_eq!(code, 403, "{what} as {}: {problem}", role.as_str());
                assert_eq!(
                    problem["detail"],
                    format!("the role {} may not {}", role.as_str(), op.permission),
                    "{what}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} forbidden calls");
    // The refusals changed nothing: the admin token still works, nobody was made.
    assert_eq!(d.get("/api/v1/people").body, json!([]));
}

#[test]
fn wrong_tokens_from_one_address_are_refused_for_a_while() {
    let d = TestDaemon::start();
    let guesses: Vec<String> = (0..10).map(|i| format!("{i:0>64}")).collect();
    for g in &guesses {
        d.remember_secret(g);
        let r = d.get_as("/api/v1/whoami", Some(g));
        assert_eq!(r.status, 401, "{}", r.body);
    }
    // Blocked: the right token too, so guessing learns nothing from the answers.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .get(format!("{}/api/v1/whoami", d.base))
        .header("Authorization", format!("Bearer {}", d.token))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    // Without a token nothing is guessed: still a plain 401.
    assert_eq!(d.get_as("/api/v1/whoami", None).status, 401);
    // Public routes stay open.
    assert_eq!(d.get_as("/healthz", None).status, 200);
    let log = d.log();
    assert!(
        log.contains("too many wrong API tokens") && log.contains("127.0.0.1"),
        "{log}"
    );
    d.assert_no_secret_logged();
}

/// Sends `request` on a raw connection and returns the status line's code and the rest.
fn raw(d: &TestDaemon, request: &[u8], pause_then: Option<&[u8]>) -> (u16, String) {
    let addr = d.base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    if let Some(rest) = pause_then {
        let mut first = [0u8; 12];
        s.read_exact(&mut first).unwrap();
        let _ = s.write_all(rest);
        let mut out = String::from_utf8_lossy(&first).into_owned();
        let _ = s.read_to_string(&mut out);
        return (out[9..12].parse().unwrap(), out);
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    (out[9..12].parse().unwrap_or(0), out)
}

#[test]
fn oversized_headers_and_bodies_and_slow_requests_are_refused() {
    let d = TestDaemon::start_with_server("request_timeout_seconds = 1", ONE_DOOR);
    let big = "x".repeat(20 * 1024);
    let (code, text) = raw(
        &d,
        format!(
            "GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nX-Filler: {big}\r\nConnection: close\r\n\r\n",
            d.token
        )
        .as_bytes(),
        None,
    );
    assert_eq!(code, 431, "{text}");
    assert!(text.contains("problem+json"), "{text}");

    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(100_000));
    assert_eq!(
        d.post_raw("/api/v1/people", Some(&d.token), &huge).status,
        413
    );

    // Headers, then 10 of the 100 body bytes announced, then nothing: 408 after the
    // configured second, and nothing was created.
    let head = format!(
        "POST /api/v1/people HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"name\": \"",
        d.token
    );
    let (code, text) = raw(&d, head.as_bytes(), Some(b"late"));
    assert_eq!(code, 408, "{text}");
    assert_eq!(d.get("/api/v1/people").body, json!([]));
}

#[test]
fn tokens_pins_and_keys_never_reach_the_log() {
    // The scanner itself finds what it must, and no PIN inside a timestamp.
    let secrets = ["735190".to_owned(), "a".repeat(64)];
    assert_eq!(find_secrets("pin=735190 ok", &secrets), ["735190"]);
    assert_eq!(
        find_secrets(&format!("token {}", "a".repeat(64)), &secrets),
        [secrets[1].as_str()]
    );
    assert!(find_secrets("2026-11-23T14:55:19.735190Z ok", &secrets).is_empty());

    // A daemon that is handed each kind of secret, at debug level (as every TestDaemon).
    let d = TestDaemon::start_with(
        r#"
[[door]]
name = "ruang-server"
unlock_seconds = 1
pin = "always"

[[reader]]
name = "masuk"
door = "ruang-server"
direction = "in"
kind = "simulated"
repeat_window_ms = 0
"#,
    );
    let operator = d.token_for("operator");
    let p = d.post("/api/v1/people", &json!({ "name": "Budi" }));
    let person = p.body["id"].as_i64().unwrap();
    let badge = d.post(
        "/api/v1/badges",
        &json!({ "person_id": person, "uid": "04A1B2C3", "right": {
            "doors": ["ruang-server"], "valid_from": "2020-01-01T00:00:00Z",
            "valid_until": "2099-01-01T00:00:00Z" } }),
    );
    assert_eq!(badge.status, 201, "{}", badge.body);
    let pin = d.post(
        &format!("/api/v1/people/{person}/pin"),
        &json!({ "pin": "583920" }),
    );
    assert!(pin.status < 300, "{}", pin.body);
    for typed in ["583920", "104857", "104857"] {
        let r = d.post(
            "/api/v1/readers/masuk/tap",
            &json!({ "uid": "04A1B2C3", "pin": typed }),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let wrong = "f".repeat(64);
    d.remember_secret(&wrong);
    assert_eq!(d.get_as("/api/v1/whoami", Some(&wrong)).status, 401);
    assert_eq!(d.get_as("/api/v1/whoami", Some(&operator)).status, 200);
    let key = d.post_raw(
        "/api/v1/readers/masuk/osdp/keyset",
        Some(&d.token),
        &json!({ "key": "00112233445566778899aabbccddeeff" }).to_string(),
    );
    assert!(key.status >= 400, "{}", key.body);
    d.assert_no_secret_logged();
}

/// schemathesis (PyPI, in the test venv) generates requests from the OpenAPI document for
/// every operation, as the admin: no answer may be a server error. The token revocation
/// route is left out (it would revoke the token the run uses); wrong tokens are not
/// generated (the throttle would soon answer 429 to everything).
#[test]
fn schemathesis_finds_no_server_error() {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/venv/bin/schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: install the test venv: python3 -m venv target/venv && \
         target/venv/bin/python -m pip install -r scripts/requirements-test.txt \
         (scripts/test does this)",
        bin.display()
    );
    let d = TestDaemon::start();
    let out = std::process::Command::new(&bin)
        .current_dir(d.dir.path())
        .args([
            "run",
            &format!("{}/api/v1/openapi.json", d.base),
            "--url",
            &d.base,
        ])
        .args(["-H", &format!("Authorization: Bearer {}", d.token)])
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "10",
            "--seed",
            "1",
        ])
        .args(["--generation-with-security-parameters", "false"])
        .args(["--exclude-operation-id", "revoke_token", "--no-color"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "Test cases:" then "N generated, N passed" (a failure adds "M failed" there).
    let cases = stdout
        .lines()
        .skip_while(|l| !l.contains("Test cases:"))
        .nth(1)
        .unwrap_or("");
    assert!(
        cases.contains("passed") && !cases.contains("failed"),
        "{cases}\n{stdout}"
    );
    assert!(!d.log().contains(" ERROR "), "{}", d.log());
}
