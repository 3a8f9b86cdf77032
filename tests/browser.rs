//! The browser harness (tests/common/browser.rs) proven against a tiny HTTP server written
//! here: a form and its echo, cookie flags, a download, a page that changes by itself, an
//! alert, screenshots at desktop and phone size, and no process left behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use crate::common::browser::{Browser, chromium_pids, process_alive};

const PDF: &[u8] = b"%PDF-1.4\n% lawang test download\n%%EOF\n";

const FORM: &str = r#"<!doctype html><html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Formulir uji</title></head>
<body><h1>Formulir uji</h1>
<form id="f" method="post" action="/echo">
  <label for="nama">Nama</label> <input id="nama" name="nama" value="lama">
  <label for="ruang">Ruang</label>
  <select id="ruang" name="ruang"><option value="lobi">Lobi</option><option value="server">Ruang server</option></select>
  <button type="submit" id="kirim">Kirim</button>
</form>
<button id="tanya" onclick="document.getElementById('jawab').textContent = confirm('Yakin?') ? 'ya' : 'tidak'">Tanya</button>
<p id="jawab"></p>
<p><a id="unduh" href="/laporan.pdf">Unduh laporan</a></p>
</body></html>"#;

const LIVE: &str = r#"<!doctype html><html><head><title>Langsung</title></head><body>
<p id="status">menunggu</p><p id="sementara">sebentar</p>
<script>setTimeout(() => {
  // A new element, as a live update replacing a fragment does.
  document.getElementById('status').outerHTML = '<p id="status">pintu terbuka</p>';
  document.getElementById('sementara').remove();
  document.body.insertAdjacentHTML('beforeend',
    '<button id="nanti" onclick="this.textContent = \'diklik\'">Nanti</button>');
}, 1000);</script></body></html>"#;

/// Serves the pages above on 127.0.0.1:<free port> until the test process ends.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream));
        }
    });
    base
}

fn handle(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (mut length, mut cookie) = (0, String::new());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').unwrap_or((&h, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "cookie" => cookie = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body = String::from_utf8_lossy(&body);
    let html = "text/html; charset=utf-8";
    let (status, headers, content): (&str, Vec<String>, Vec<u8>) = match (method, path) {
        ("GET", "/") => ("200 OK", vec![], FORM.into()),
        ("POST", "/echo") => {
            let field = |k: &str| escape(&form_value(&body, k).unwrap_or_default());
            let page = format!(
                "<!doctype html><title>Terkirim</title><p id=\"nama-out\">{}</p><p id=\"ruang-out\">{}</p>",
                field("nama"),
                field("ruang")
            );
            ("200 OK", vec![], page.into())
        }
        ("GET", "/cookie") => (
            "200 OK",
            vec![
                "Set-Cookie: sesi=rahasia; Path=/; Secure; HttpOnly; SameSite=Strict".into(),
                "Set-Cookie: tema=gelap; Path=/".into(),
            ],
            b"<!doctype html><title>Kue</title><p>ok</p>".to_vec(),
        ),
        // Stands for a guarded form post: refused without the session cookie.
        ("POST", "/guarded") if cookie.split("; ").any(|c| c == "sesi=rahasia") => {
            ("204 No Content", vec![], vec![])
        }
        ("POST", "/guarded") => ("403 Forbidden", vec![], b"forbidden".to_vec()),
        ("POST", "/moved") => ("303 See Other", vec!["Location: /".into()], vec![]),
        ("GET", "/laporan.pdf") => (
            "200 OK",
            vec![
                "Content-Type: application/pdf".into(),
                "Content-Disposition: attachment; filename=\"laporan.pdf\"".into(),
            ],
            PDF.to_vec(),
        ),
        ("GET", "/live") => ("200 OK", vec![], LIVE.into()),
        _ => ("404 Not Found", vec![], b"not found".to_vec()),
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        content.len()
    );
    if !headers.iter().any(|h| h.starts_with("Content-Type")) {
        head.push_str(&format!("Content-Type: {html}\r\n"));
    }
    for h in headers {
        head.push_str(&h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&content);
}

/// The decoded value of `key` in an `application/x-www-form-urlencoded` body.
fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                let hex = std::str::from_utf8(&hex).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
            }
            b => out.push(b),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    let be = |i: usize| u32::from_be_bytes(png[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn browser_harness_drives_headless_chromium() {
    let base = serve();

    let t0 = Instant::now();
    let browser = Browser::start();
    let started = t0.elapsed();
    browser.goto(&format!("{base}/"));
    assert_eq!(browser.title(), "Formulir uji");
    println!(
        "browser: start {started:?}, start + first page {:?}",
        t0.elapsed()
    );
    assert_eq!(browser.current_url(), format!("{base}/"));
    assert!(
        browser
            .page_source()
            .contains("<label for=\"nama\">Nama</label>")
    );

    // The form: clear-and-type, choose an option, submit, read the echo.
    assert_eq!(browser.find("#nama").property("value"), "lama");
    assert_eq!(browser.attribute("#nama", "name").as_deref(), Some("nama"));
    assert_eq!(browser.attribute("#nama", "placeholder"), None);
    assert!(browser.find("#kirim").is_displayed());
    assert_eq!(
        browser.find("label").attribute("for").as_deref(),
        Some("nama")
    );
    let nama = browser.find("#nama");
    nama.clear();
    nama.send_keys("sementara");
    assert_eq!(nama.property("value"), "sementara");
    browser.fill("#nama", "Siti <Aminah> & co");
    browser.select("#ruang", "server");
    let options: Vec<String> = browser
        .find_all("#ruang option")
        .iter()
        .map(|o| o.text())
        .collect();
    assert_eq!(options, ["Lobi", "Ruang server"]);
    assert!(browser.find_all("#tidak-ada").is_empty());
    assert!(!browser.exists("#nama-out"));
    browser.click("#kirim");
    assert_eq!(
        browser.wait_for_text("#nama-out", "Siti"),
        "Siti <Aminah> & co"
    );
    assert_eq!(browser.text("#ruang-out"), "server");
    assert_eq!(browser.title(), "Terkirim");
    browser.back();
    browser.wait_for("#f");
    browser.refresh();
    browser.wait_for("#f");
    // The same through submit_form.
    browser.goto(&format!("{base}/"));
    browser.fill("#nama", "Budi");
    browser.submit_form("#f");
    assert_eq!(browser.wait_for_text("#nama-out", "Budi"), "Budi");
    assert_eq!(browser.text("#ruang-out"), "lobi");

    // A confirm() dialog, dismissed then accepted.
    browser.goto(&format!("{base}/"));
    browser.click("#tanya");
    assert_eq!(browser.alert_text(), "Yakin?");
    browser.dismiss_alert();
    browser.wait_for_text("#jawab", "tidak");
    browser.click("#tanya");
    browser.accept_alert();
    browser.wait_for_text("#jawab", "ya");

    // Cookies and a request forged from within the page with the page's own cookies.
    assert_eq!(
        browser.fetch_status("POST", "/guarded", Some("x=1"), None),
        403
    );
    browser.goto(&format!("{base}/cookie"));
    let sesi = browser.cookie("sesi").expect("the session cookie is kept");
    assert_eq!(sesi.value, "rahasia");
    assert!(sesi.http_only && sesi.secure, "{sesi:?}");
    assert_eq!(sesi.same_site, "Strict");
    let tema = browser.cookie("tema").expect("the plain cookie is kept");
    assert!(!tema.http_only && !tema.secure, "{tema:?}");
    assert_eq!(tema.same_site, "Lax", "Chromium's default");
    // HttpOnly: the page's script cannot read it.
    assert_eq!(browser.execute("return document.cookie", &[]), "tema=gelap");
    assert_eq!(
        browser.fetch_status(
            "POST",
            "/guarded",
            Some("x=1"),
            Some("application/x-www-form-urlencoded")
        ),
        204
    );

    assert_eq!(browser.fetch_status("POST", "/moved", None, None), 0);

    // A download with Content-Disposition: attachment lands in the download directory.
    browser.goto(&format!("{base}/"));
    browser.click("#unduh");
    let pdf = browser.wait_for_download("pdf");
    assert_eq!(pdf.file_name().unwrap(), "laporan.pdf");
    assert_eq!(std::fs::read(&pdf).unwrap(), PDF);

    // Text that changes by itself; an element that goes away.
    browser.goto(&format!("{base}/live"));
    assert!(browser.exists("#sementara"));
    assert_eq!(browser.wait_for_text("#status", "terbuka"), "pintu terbuka");
    browser.wait_gone("#sementara");
    browser.click("#nanti");
    browser.wait_for_text("#nanti", "diklik");

    // Screenshots: PNG, the window's size, and not a blank page.
    browser.goto("about:blank");
    let blank = std::fs::read(browser.screenshot("browser-harness-blank")).unwrap();
    browser.goto(&format!("{base}/"));
    let path = browser.screenshot("browser-harness-form");
    assert!(
        path.ends_with("screenshots/browser-harness-form.png"),
        "{path:?}"
    );
    let png = std::fs::read(&path).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(png_size(&png).0, 1280);
    assert!(png.len() > blank.len(), "{} vs {}", png.len(), blank.len());
    browser.set_window_size(390, 844);
    assert_eq!(browser.execute("return window.innerWidth", &[]), 390);
    let phone = std::fs::read(browser.screenshot("browser-harness-phone")).unwrap();
    assert_eq!(png_size(&phone).0, 390);

    // Nothing left behind: the session ends Chromium by itself, chromedriver is stopped.
    let driver = browser.driver_pid();
    let profile = browser.profile_dir();
    assert!(process_alive(driver));
    assert!(
        !chromium_pids(&profile).is_empty(),
        "pgrep finds the browser"
    );
    let t = Instant::now();
    let killed = browser.quit();
    println!("browser: quit {:?}", t.elapsed());
    assert!(
        killed.is_empty(),
        "Chromium outlived its session: {killed:?}"
    );
    assert!(!process_alive(driver), "chromedriver {driver} still runs");
    assert_eq!(chromium_pids(&profile), Vec::<u32>::new());
}

/// Dropping a browser (as a failing test does) stops everything too.
#[test]
fn browser_drop_leaves_no_process() {
    let browser = Browser::start();
    browser.goto("about:blank");
    let driver = browser.driver_pid();
    let profile = browser.profile_dir();
    assert!(!chromium_pids(&profile).is_empty());
    drop(browser);
    assert!(!process_alive(driver), "chromedriver {driver} still runs");
    assert_eq!(chromium_pids(&profile), Vec::<u32>::new());
}

#[test]
#[should_panic(expected = "#absent")]
fn browser_lookup_failure_names_the_selector() {
    let browser = Browser::start();
    browser.goto("about:blank");
    browser.find("#absent");
}
