//! Unit tests of parsing: decoding, hostile input, repairs, names.

use super::*;

const MAIL: &[u8] = b"From: =?ISO-8859-1?Q?Jos=E9?= <Jose@Example.com>\r\n\
To: Support <support@example.test>, bad-address\r\n\
Cc: ana@example.org\r\n\
Delivered-To: support+1001-abc@example.test\r\n\
Subject: =?UTF-8?B?8J+YgCBIZWxsbw==?=\r\n\
Date: Tue, 01 Sep 2026 10:00:00 +0000\r\n\
Message-ID: <m1@example.com>\r\n\
In-Reply-To: <dm.1001.1.abc@example.test>\r\n\
References: <a@x>\r\n <b@y>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOl=E1 mundo\0\r\n\
--b\r\nContent-Type: application/pdf; name=\"inv/oice.pdf\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n\
--b--\r\n";

#[test]
fn headers_bodies_and_attachments_are_decoded() {
    let m = parse(MAIL).unwrap();
    let from = m.from.unwrap();
    assert_eq!((from.email.as_str(), from.name.as_str()), ("jose@example.com", "José"));
    assert_eq!(m.to.len(), 1);
    assert_eq!(m.cc[0].email.as_str(), "ana@example.org");
    assert_eq!(m.envelope_to[0].as_str(), "support+1001-abc@example.test");
    assert_eq!(m.subject, "😀 Hello");
    assert_eq!(m.message_id.as_deref(), Some("m1@example.com"));
    assert_eq!(m.in_reply_to, vec!["dm.1001.1.abc@example.test"]);
    assert_eq!(m.references, vec!["a@x", "b@y"]);
    assert_eq!(m.body_text.trim(), "Olá mundo");
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(m.attachments[0].filename, "invoice.pdf");
    assert_eq!(m.attachments[0].content_type, "application/pdf");
    assert_eq!(m.attachments[0].data, b"%PDF-");
    assert_eq!(m.date, Some(1_788_256_800));
}

#[test]
fn the_text_of_an_unterminated_multipart_is_the_body_not_an_attachment() {
    let raw = b"From: c@customer.example\r\nSubject: b\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--never\r\nContent-Type: text/plain\r\n\r\n\
        body without an end\r\n";
    let m = parse(raw).unwrap();
    assert_eq!(m.body_text.trim(), "body without an end");
    assert!(m.attachments.is_empty(), "{:?}", m.attachments.iter().map(|a| &a.filename).collect::<Vec<_>>());
}

#[test]
fn hostile_input_does_not_panic() {
    for raw in [&b""[..], b"\0\0\0", b"no header here", b"Subject: x\n\n--broken\n", &[0xff; 300]] {
        let _ = parse(raw);
    }
    let long_header = format!("Subject: {}\n\nbody", "x".repeat(5000));
    assert_eq!(parse(long_header.as_bytes()).unwrap().subject.len(), 5000);
}

#[test]
fn deeply_nested_parts_parse() {
    let mut raw = String::from("From: a@b.c\nContent-Type: multipart/mixed; boundary=b0\n\n");
    for i in 1..2000 {
        raw.push_str(&format!("--b{}\nContent-Type: multipart/mixed; boundary=b{i}\n\n", i - 1));
    }
    raw.push_str("--b1999\nContent-Type: text/plain\n\ndeep\n");
    assert!(parse(raw.as_bytes()).is_some());
}

#[test]
fn damaged_line_endings_and_leading_blank_lines_are_repaired() {
    let cr_only = parse(b"From: a@b.test\rSubject: old mac\r\rbody\r").unwrap();
    assert_eq!((cr_only.from.unwrap().email.as_str(), cr_only.subject.as_str()), ("a@b.test", "old mac"));
    let blank_first = parse(b"\n\nFrom: a@b.test\nSubject: late\n\nbody\n").unwrap();
    assert_eq!(blank_first.subject, "late");
}

#[test]
fn the_header_block_stops_at_the_body() {
    assert_eq!(header_block(b"A: 1\r\nB: 2\r\n\r\nbody"), "A: 1\r\nB: 2");
    assert_eq!(header_block(b"A: 1\n\nbody"), "A: 1");
}

#[test]
fn unnamed_attachments_get_a_name() {
    assert_eq!(attachment_name(None, "image/png", 0), "attachment-1.png");
    assert_eq!(attachment_name(Some("../"), "message/rfc822", 2), "attachment-3.eml");
}
