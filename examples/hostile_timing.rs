use std::time::Instant;
fn time<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    eprintln!("{name}: {:?}", t.elapsed());
    r
}
fn main() {
    let head = |id: &str| {
        format!(
            "From: html@customer.example\r\nTo: support@example.test\r\nSubject: {id}\r\nMessage-ID: <{id}@c.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        )
    };
    let nested = head("nested") + &"<div>".repeat(200_000) + "deep" + &"</div>".repeat(200_000) + "\r\n";
    let line = head("line") + &"<span>word</span> ".repeat(1_200_000) + "\r\n";
    for raw in [nested, line] {
        let m = time("parse", || deskmail::ingest::parse::parse(raw.as_bytes()).unwrap());
        eprintln!("  body_text {} html {}", m.body_text.len(), m.body_html.as_ref().map_or(0, |h| h.len()));
        time("quote", || deskmail::ingest::quote::split_reply(&m.body_text).visible.len());
        time("sanitize", || deskmail::ingest::sanitize_html(m.body_html.as_deref().unwrap()).len());
        time("sha", || deskmail::storage::sha256_hex(raw.as_bytes()));
    }
}
