//! A browser without a screen, for the operator pages: logs in with a password through the
//! real login form, keeps the session cookie, reads each page's form token and posts forms
//! as a browser would (`application/x-www-form-urlencoded`). Redirects are not followed, so
//! a test sees the 303 and where it points.

use serde_json::json;

use super::daemon::TestDaemon;

/// Long enough for the password rules (10 to 128 characters).
pub const PASSWORD: &str = "kata-sandi-uji-2026";

pub struct Page {
    pub status: u16,
    /// Where a redirect points.
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The form token of the page's forms (every form carries the same one).
    pub fn csrf(&self) -> String {
        self.input_value("csrf")
            .unwrap_or_else(|| panic!("no form token on the page:\n{}", self.body))
    }

    /// The value of the first `<input name="…" value="…">`.
    pub fn input_value(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!("name=\"{name}\""))?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag = &self.body[tag_start..tag_start + self.body[tag_start..].find('>')?];
        let v = tag.split_once("value=\"")?.1;
        Some(unescape(&v[..v.find('"')?]))
    }

    /// The element with `id`, from its opening tag to the first `</tag>` after it (enough
    /// for a table row, a paragraph, a cell: elements that do not nest their own kind).
    pub fn element(&self, id: &str, tag: &str) -> Option<&str> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let start = self.body[..at].rfind('<')?;
        let close = format!("</{tag}>");
        let end = at + self.body[at..].find(&close)? + close.len();
        Some(&self.body[start..end])
    }

    /// [`Page::element`], or a panic showing the page.
    pub fn expect(&self, id: &str, tag: &str) -> &str {
        self.element(id, tag)
            .unwrap_or_else(|| panic!("no <{tag} id={id:?}> on the page:\n{}", self.body))
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub struct Browser {
    base: String,
    agent: ureq::Agent,
    /// `lawang_session=…`, once logged in.
    pub cookie: Option<String>,
}

impl Browser {
    /// Not logged in.
    pub fn new(d: &TestDaemon) -> Browser {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .build()
            .into();
        Browser {
            base: d.base.clone(),
            agent,
            cookie: None,
        }
    }

    /// Logs in through the login form; panics unless the daemon set a session cookie.
    pub fn login(d: &TestDaemon, username: &str, password: &str) -> Browser {
        let mut b = Browser::new(d);
        let r = b.post_form(
            "/ui/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/ui/"),
            ],
        );
        assert_eq!(r.status, 303, "login of {username}: {}", r.body);
        let cookie = b.cookie.clone();
        let cookie = cookie.unwrap_or_else(|| panic!("no session cookie for {username}"));
        d.remember_secret(cookie.trim_start_matches("lawang_session="));
        b
    }

    /// A new account in `role` with [`PASSWORD`], logged in.
    pub fn staff(d: &TestDaemon, username: &str, role: &str) -> Browser {
        let r = d.post(
            "/api/v1/accounts",
            &json!({ "username": username, "name": username, "role": role,
                     "email": format!("{username}@lpse.example.go.id") }),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        set_password(d, username);
        Browser::login(d, username, PASSWORD)
    }

    pub fn get(&self, path: &str) -> Page {
        let mut req = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        page(req.call().unwrap())
    }

    /// Posts `fields` as a form; keeps a session cookie the answer sets.
    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let mut req = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/x-www-form-urlencoded");
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        let r = req.send(body).unwrap();
        let set = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|c| c.starts_with("lawang_session="))
            })
            .map(str::to_owned);
        if let Some(c) = set {
            self.cookie = Some(c);
        }
        page(r)
    }

    /// Opens `form_page`, then posts `fields` with that page's form token to `action`: what
    /// a person filling in the form does.
    pub fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let p = self.get(form_page);
        assert_eq!(p.status, 200, "{form_page}: {}", p.body);
        let token = p.csrf();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form(action, &all)
    }
}

/// Gives the account `username` the password [`PASSWORD`] through the API.
pub fn set_password(d: &TestDaemon, username: &str) {
    d.remember_secret(PASSWORD);
    let accounts = d.get("/api/v1/accounts").body;
    let id = accounts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == username)
        .unwrap_or_else(|| panic!("no account {username}: {accounts}"))["id"]
        .as_i64()
        .unwrap();
    let r = d.post(
        &format!("/api/v1/accounts/{id}/password"),
        &json!({ "password": PASSWORD }),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

fn page(mut r: ureq::http::Response<ureq::Body>) -> Page {
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Page {
        status: r.status().as_u16(),
        location,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}
