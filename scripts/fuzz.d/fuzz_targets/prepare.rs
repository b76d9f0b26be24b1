//! libFuzzer target: any bytes through the pure half of ingest (parse, classify, quote-strip, sanitise) and, for
//! what parses, through building the acknowledgement mail a customer would get. Nothing may panic or hang.
#![no_main]

use deskmail::domain::{EmailAddress, NamedAddress};
use deskmail::ingest::{Content, PrepareContext, prepare};
use deskmail::outbound::message::{MailSpec, build};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static CONTEXT: LazyLock<PrepareContext> = LazyLock::new(|| PrepareContext {
    max_message_bytes: 52_428_800,
    our_addresses: vec![EmailAddress::parse("support@example.test").unwrap()],
    signer: deskmail::platform::tokens::Signer::new(b"fuzz-secret"),
    block_list: Vec::new(),
    trusted_authserv_ids: Vec::new(),
    time_budget: std::time::Duration::from_secs(10),
});

fuzz_target!(|data: &[u8]| {
    let prepared = prepare(data.to_vec(), &CONTEXT);
    let Content::Mail(m) = prepared.content else { return };
    let Some(from) = m.mail.from.clone() else { return };
    let support = NamedAddress::parse("support@example.test", "Example Support").unwrap();
    let spec = MailSpec {
        to: vec![from],
        cc: m.mail.cc.clone(),
        subject: format!("Re: [#1000] {}", m.mail.subject),
        text: m.visible_text.clone(),
        html: m.body_html.clone().unwrap_or_default(),
        message_id: "dm.1000.1.x@example.test".into(),
        in_reply_to: m.mail.message_id.clone(),
        references: m.mail.references.clone(),
        auto_submitted: Some("auto-replied"),
        loop_marker: "support@example.test".into(),
        ..MailSpec::new(support)
    };
    let _ = build(&spec);
});
