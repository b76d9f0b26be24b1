//! Hostile HTML mail in the browser: no script runs, nothing is fetched from elsewhere until "Load images".

use super::{Browser, PASSWORD, staff};
use crate::helpers::{Store, TestApp, spawn_app_with};
use deskmail::domain::Role;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A stand-in for a remote site: records the request line of every connection reaching it.
struct Spy {
    base: String,
    hits: Arc<Mutex<Vec<String>>>,
}

const PIXEL: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

impl Spy {
    async fn start() -> Spy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind spy");
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let hits = Arc::new(Mutex::new(Vec::new()));
        let log = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]);
                    log.lock().unwrap().push(head.lines().next().unwrap_or("(connection)").to_string());
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        PIXEL.len()
                    );
                    let _ = conn.write_all(answer.as_bytes()).await;
                    let _ = conn.write_all(PIXEL).await;
                });
            }
        });
        Spy { base, hits }
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

/// Each payload tries to set `window.__xss` (or the title), navigate away, or fetch from the spy (`S`).
fn payloads() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "script",
            r#"<p>Hi</p><script>window.__xss='script';document.title='XSS'</script><script src="S/script.js"></script>"#,
        ),
        (
            "handlers",
            r#"<img src="x" onerror="window.__xss='onerror'"><body onload="window.__xss='onload'"><p onclick="window.__xss='onclick'">click me</p><div onmouseover="window.__xss='over'">hover</div>"#,
        ),
        (
            "javascript urls",
            r#"<a href="javascript:window.__xss='href'">link</a> <a href="JaVaScRiPt&colon;window.__xss='enc'">enc</a> <a href="&#106;avascript:window.__xss='ent'">ent</a><img src="javascript:window.__xss='src'"><iframe src="javascript:parent.__xss='iframe-js'"></iframe>"#,
        ),
        (
            "svg",
            r#"<svg onload="window.__xss='svg-onload'"><script>window.__xss='svg-script'</script><image href="S/svg-image"/><a href="javascript:window.__xss='svg-a'"><text>x</text></a></svg>"#,
        ),
        (
            "css",
            r#"<div style="background:url(javascript:window.__xss='css')">a</div><div style="width:expression(window.__xss='expr');background-image:url(S/css-bg)">b</div><style>@import url(S/import.css); body{background:url(S/style-bg)}</style>"#,
        ),
        ("meta refresh", r#"<meta http-equiv="refresh" content="0;url=S/refresh"><p>wait</p>"#),
        ("form", r#"<form action="S/form" method="post"><input name="pw" value="secret"><button>Go</button></form>"#),
        (
            "iframe",
            r#"<iframe src="S/iframe"></iframe><iframe srcdoc="<script>parent.__xss='srcdoc'</script>"></iframe>"#,
        ),
        ("object embed", r#"<object data="S/object"></object><embed src="S/embed"><applet code="S/applet"></applet>"#),
        ("base", r#"<base href="S/base/"><a href="relative">relative link</a><img src="relative.png">"#),
        ("link stylesheet", r#"<link rel="stylesheet" href="S/remote.css"><p>styled</p>"#),
        (
            "other remote resources",
            r#"<video poster="S/poster" src="S/video"></video><audio src="S/audio"></audio><img srcset="S/srcset 2x"><input type="image" src="S/input"><table background="S/table-bg"><tr><td>t</td></tr></table>"#,
        ),
        ("remote image", r#"<p>Our logo:</p><img src="S/pixel" alt="tracker">"#),
    ]
}

fn html_mail(n: usize, subject: &str, html: &str) -> Vec<u8> {
    format!(
        "From: \"Mallory <script>window.__xss='from'</script>\" <mallory@evil.example>\r\nTo: support@example.test\r\n\
         Subject: {subject}\r\nMessage-ID: <xss-{n}@evil.example>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n<html><body>{html}</body></html>\r\n"
    )
    .into_bytes()
}

/// Ingests one ticket per payload; returns (name, ticket number).
async fn seed(app: &TestApp, spy: &Spy) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for (n, (name, html)) in payloads().into_iter().enumerate() {
        let subject = format!("XSS {name} <img src=x onerror=\"window.__xss='subject'\">");
        let raw = html_mail(n, &subject, &html.replace("S/", &format!("{}/", spy.base)));
        out.push((name, app.ingest(&raw).await.ticket.expect("a ticket")));
    }
    out
}

/// What the sanitised mail left in the DOM that should never be there.
const DOM_CHECK: &str = r#"
const bad = [];
for (const root of document.querySelectorAll('.mail-html')) {
  for (const el of root.querySelectorAll('*')) {
    const tag = el.tagName.toLowerCase();
    if (['script','iframe','object','embed','applet','form','meta','base','link','style','svg','video','audio','input','button'].includes(tag)) bad.push('<' + tag + '>');
    for (const a of el.attributes) {
      const v = a.value.trim().toLowerCase();
      if (a.name.startsWith('on') || a.name === 'style' || a.name === 'srcset' || a.name === 'background' || v.startsWith('javascript:') || v.startsWith('data:')) bad.push(tag + '[' + a.name + '=' + a.value + ']');
    }
  }
}
return bad;"#;

/// Opens one ticket, expands its HTML, pokes what is clickable, and checks nothing ran or left.
async fn inspect(b: &Browser, name: &str, number: i64) {
    b.goto(&format!("/tickets/{number}")).await;
    let title = b.client.title().await.unwrap();
    assert!(title.starts_with(&format!("#{number} XSS {name} <img")), "{name}: subject shown as text: {title}");
    for summary in b.client.find_all(fantoccini::Locator::Css("details.html > summary")).await.unwrap() {
        summary.click().await.unwrap();
    }
    assert!(!b.texts(".mail-html").await.is_empty(), "{name}: no HTML version shown");
    for el in b
        .client
        .find_all(fantoccini::Locator::Css(
            ".mail-html p, .mail-html div, .mail-html a:not([href]), .mail-html a[href^='javascript' i]",
        ))
        .await
        .unwrap()
    {
        let _ = el.click().await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(b.open_dialog().await, None, "{name}: a dialog opened");
    assert_eq!(b.path().await, format!("/tickets/{number}"), "{name}: the page navigated away");
    assert_eq!(b.client.title().await.unwrap(), title, "{name}: the title changed");
    assert_eq!(
        b.eval("return window.__xss === undefined ? null : String(window.__xss);").await,
        Value::Null,
        "{name}: script ran"
    );
    assert_eq!(b.eval(DOM_CHECK).await, serde_json::json!([]), "{name}: active content survived sanitising");
    let wide = "return document.documentElement.scrollWidth > document.documentElement.clientWidth;";
    assert_eq!(b.eval(wide).await, false, "{name}: the page scrolls sideways (long unbroken text)");
}

#[tokio::test]
async fn hostile_html_mail_runs_no_script_and_fetches_nothing_until_images_are_allowed() {
    let Some(app) = spawn_app_with(Store::Sqlite, |_| {}).await else { return };
    staff(&app, "alice@example.test", "Alice Agent", Role::Agent).await;
    let spy = Spy::start().await;
    let tickets = seed(&app, &spy).await;
    let Some(b) = Browser::start(&app).await else { return };
    b.login("alice@example.test", PASSWORD).await;
    let list = b.texts("table.tickets td.subject a").await;
    assert!(list.iter().all(|s| s.contains("<img src=x")), "subjects are shown as text: {list:?}");

    for (name, number) in &tickets {
        inspect(&b, name, *number).await;
    }
    b.goto("/tickets").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(spy.hits(), Vec::<String>::new(), "requests left the dashboard");

    // "Load images" is the one way to allow remote images, which proves the spy sees what loads.
    let (_, pixel) = tickets.iter().find(|(n, _)| *n == "remote image").unwrap();
    b.goto(&format!("/tickets/{pixel}")).await;
    assert!(b.text(".notice").await.contains("Remote images"), "the blocked-images notice");
    b.click_and_wait(".notice a").await;
    assert_eq!(b.path().await, format!("/tickets/{pixel}?images=1"));
    b.find("details.html > summary").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !spy.hits().iter().any(|h| h.starts_with("GET /pixel ")) {
        assert!(Instant::now() < deadline, "the allowed image never loaded: {:?}", spy.hits());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(spy.hits(), ["GET /pixel HTTP/1.1"], "only the image loaded");
    b.screenshot("html-mail").await;
    assert_eq!(b.open_dialog().await, None);
    b.close().await;
}
