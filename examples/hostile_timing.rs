use std::time::Instant;
fn time<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    eprintln!("{name}: {:?}", t.elapsed());
    r
}
fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(50_000);
    let tags = "<span>a</span>".repeat(1_500_000);
    time("ammonia 20MB tags", || deskmail::ingest::sanitize_html(&tags).len());
    let mail = format!("From: a@b.test\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n{tags}\r\n");
    let m = time("parse 20MB tags", || deskmail::ingest::parse::parse(mail.as_bytes()).unwrap());
    time("quote 20MB tags text", || deskmail::ingest::quote::split_reply(&m.body_text).visible.len());
    let lines = "> quoted line here\n".repeat(1_000_000);
    time("quote 1M lines", || deskmail::ingest::quote::split_reply(&lines).visible.len());
    let lines = "On Mon, Bob wrote:\n".repeat(500_000);
    time("quote 500k attributions", || deskmail::ingest::quote::split_reply(&lines).visible.len());
    let mut mime = String::from("From: a@b.test\r\nSubject: x\r\n");
    for i in 0..n {
        mime.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
    }
    mime.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
    for i in (0..n).rev() {
        mime.push_str(&format!("--b{i}--\r\n"));
    }
    time("parse deep mime", || deskmail::ingest::parse::parse(mime.as_bytes()).map(|m| m.body_text.len()));
    let mut rfc = String::from("From: a@b.test\r\nSubject: x\r\n");
    for _ in 0..n {
        rfc.push_str("Content-Type: message/rfc822\r\n\r\nFrom: c@d.test\r\nSubject: y\r\n");
    }
    rfc.push_str("\r\nhello\r\n");
    time("parse deep rfc822", || deskmail::ingest::parse::parse(rfc.as_bytes()).map(|m| m.attachments.len()));
}
