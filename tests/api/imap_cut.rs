//! A connection closed in the middle of a FETCH: a scripted IMAP server that says BYE after the first of three
//! bodies, as Dovecot does when it stops. The mail it did not send must be fetched again, never quarantined.

use crate::helpers::{Store, spawn_app_with};
use crate::imap::wait_tickets;
use crate::mailenv::test_mail;
use deskmail::platform::config::{AfterImport, ImapSettings, MailboxSettings};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The folder the scripted server holds: UIDs 1.. with these bodies.
struct Folder {
    mails: Vec<Vec<u8>>,
    /// Set until the first body FETCH has been cut off.
    cut_next_fetch: AtomicBool,
}

/// Starts the scripted server; returns its port.
fn scripted_imap(folder: Arc<Folder>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let folder = folder.clone();
            std::thread::spawn(move || {
                let _ = serve(conn, &folder);
            });
        }
    });
    port
}

fn serve(conn: TcpStream, folder: &Folder) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    out.write_all(b"* OK scripted IMAP ready\r\n")?;
    for line in BufReader::new(conn).lines() {
        let line = line?;
        let mut words = line.splitn(3, ' ');
        let (tag, command, rest) = (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next().unwrap_or(""));
        let command = command.to_ascii_uppercase();
        let reply = match command.as_str() {
            "CAPABILITY" => "* CAPABILITY IMAP4rev1 UIDPLUS\r\n".to_string(),
            "SELECT" | "EXAMINE" => format!(
                "* {n} EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY 42] ok\r\n* OK [UIDNEXT {next}] ok\r\n",
                n = folder.mails.len(),
                next = folder.mails.len() + 1
            ),
            "UID" => match uid_command(rest, folder, &mut out)? {
                Some(reply) => reply,
                None => return Ok(()),
            },
            "LOGOUT" => {
                out.write_all(format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes())?;
                return Ok(());
            }
            _ => String::new(),
        };
        out.write_all(format!("{reply}{tag} OK done\r\n").as_bytes())?;
    }
    Ok(())
}

/// Answers `UID SEARCH|FETCH|STORE …`; `None` when the connection was cut.
fn uid_command(rest: &str, folder: &Folder, out: &mut TcpStream) -> std::io::Result<Option<String>> {
    let mut words = rest.splitn(3, ' ');
    let (sub, set, items) = (words.next().unwrap_or(""), words.next().unwrap_or(""), words.next().unwrap_or(""));
    let uids: Vec<usize> = (1..=folder.mails.len()).filter(|u| in_set(set, *u)).collect();
    match sub.to_ascii_uppercase().as_str() {
        "SEARCH" => Ok(Some(format!(
            "* SEARCH {}\r\n",
            (1..=folder.mails.len()).map(|u| u.to_string()).collect::<Vec<_>>().join(" ")
        ))),
        "FETCH" if items.contains("BODY.PEEK[]") => {
            let cut = folder.cut_next_fetch.swap(false, Ordering::SeqCst);
            for uid in &uids {
                let body = &folder.mails[uid - 1];
                out.write_all(format!("* {uid} FETCH (UID {uid} BODY[] {{{}}}\r\n", body.len()).as_bytes())?;
                out.write_all(body)?;
                out.write_all(b")\r\n")?;
                if cut {
                    out.write_all(b"* BYE Server shutting down.\r\n")?;
                    out.flush()?;
                    return Ok(None);
                }
            }
            Ok(Some(String::new()))
        }
        "FETCH" => Ok(Some(
            uids.iter()
                .map(|uid| {
                    let size = folder.mails[uid - 1].len();
                    format!(
                        "* {uid} FETCH (UID {uid} RFC822.SIZE {size} INTERNALDATE \"01-Dec-2026 10:00:00 +0000\")\r\n"
                    )
                })
                .collect(),
        )),
        _ => Ok(Some(String::new())),
    }
}

/// Whether `uid` is in an IMAP sequence set such as `1:3,5` or `2:*`.
fn in_set(set: &str, uid: usize) -> bool {
    set.split(',').any(|part| match part.split_once(':') {
        Some((a, b)) => {
            let lo = a.parse().unwrap_or(usize::MAX);
            let hi = if b == "*" { usize::MAX } else { b.parse().unwrap_or(0) };
            (lo.min(hi)..=lo.max(hi)).contains(&uid)
        }
        None => part.parse() == Ok(uid),
    })
}

fn scripted_mailbox(port: u16) -> MailboxSettings {
    let imap: ImapSettings = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nusername = \"u\"\npassword = \"p\"\nidle = false\n\
         poll_interval_secs = 1\nimport_existing = \"all\""
    ))
    .unwrap();
    MailboxSettings {
        name: "cut".into(),
        address: "cut@example.test".into(),
        display_name: "Cut".into(),
        plus_addressing: true,
        enabled: true,
        imap: Some(ImapSettings { after_import: AfterImport::Seen, ..imap }),
        smtp: None,
        order_pattern: None,
    }
}

#[tokio::test]
async fn a_connection_closed_in_the_middle_of_a_fetch_quarantines_nothing_and_imports_every_mail() {
    let mails = (0..3).map(|i| test_mail(&format!("c{i}@customer.example"), "cut@example.test", &format!("cut-{i}")));
    let folder = Arc::new(Folder { mails: mails.collect(), cut_next_fetch: AtomicBool::new(true) });
    let port = scripted_imap(folder.clone());
    let Some(app) = spawn_app_with(Store::Sqlite, move |s| {
        s.imap.command_timeout_secs = 5;
        s.mailboxes.push(scripted_mailbox(port));
    })
    .await
    else {
        return;
    };
    assert_eq!(wait_tickets(&app, "cut-", 3, 30).await, 3, "every mail of the cut FETCH is imported on reconnect");
    assert!(!folder.cut_next_fetch.load(Ordering::SeqCst), "the FETCH was cut");
    let quarantined: i64 =
        sqlx::query_scalar("select count(*) from quarantine").fetch_one(app.services.db.pool()).await.unwrap();
    assert_eq!(quarantined, 0, "a cut connection is not an expunge");
    let messages: i64 =
        sqlx::query_scalar("select count(*) from messages").fetch_one(app.services.db.pool()).await.unwrap();
    assert_eq!(messages, 3, "nothing doubled");
}
