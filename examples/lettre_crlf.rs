use lettre::message::{Mailbox, header::ContentType};
fn main() {
    let m = lettre::Message::builder()
        .from("a@b.test".parse().unwrap())
        .to(Mailbox::new(Some("Ok Name".into()), "c@d.test".parse().unwrap()))
        .subject("Hi\r\nBcc: evil@x.test")
        .header(ContentType::TEXT_PLAIN)
        .body(String::from("x"))
        .unwrap();
    println!("{}", String::from_utf8_lossy(&m.formatted()));
    let r = std::panic::catch_unwind(|| {
        let m = lettre::Message::builder()
            .from("a@b.test".parse().unwrap())
            .to(Mailbox::new(Some("Evil\r\nBcc: x@y".into()), "c@d.test".parse().unwrap()))
            .subject("s")
            .header(ContentType::TEXT_PLAIN)
            .body(String::from("x"))
            .unwrap();
        m.formatted()
    });
    println!("panicked: {}", r.is_err());
    let r = std::panic::catch_unwind(|| {
        let m = lettre::Message::builder()
            .from("a@b.test".parse().unwrap())
            .to(Mailbox::new(Some("Ünïcode\r\nBcc: x@y".into()), "c@d.test".parse().unwrap()))
            .subject("s")
            .header(ContentType::TEXT_PLAIN)
            .body(String::from("x"))
            .unwrap();
        m.formatted()
    });
    println!("panicked unicode: {}", r.is_err());
    if let Ok(b) = r {
        println!("{}", String::from_utf8_lossy(&b));
    }
}
