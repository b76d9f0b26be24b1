//! The `deskmail` binary: ingest with JSON lines and exit codes, users, tokens, migrate, serve.

use crate::helpers::{Store, fresh_database, mail};
use crate::store_tests;
use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

store_tests!(
    ingest_prints_one_json_line_per_input_and_exits_zero,
    a_missing_file_exits_66_and_the_rest_is_stored,
    an_unknown_mailbox_exits_64,
    ingest_reads_stdin_without_files,
    users_and_tokens_are_created_once,
);

/// A config file for the binary, with one mailbox; `None` when the store is unavailable.
async fn setup(store: Store) -> Option<(tempfile::TempDir, std::path::PathBuf)> {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(store, dir.path()).await?;
    let config = dir.path().join("deskmail.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{url}\"\n[storage]\ndir = \"spool\"\n[security]\nsecret = \"cli-test-secret-cli-test-secret\"\n\
             [[mailbox]]\nname = \"support\"\naddress = \"support@example.test\"\n"
        ),
    )
    .unwrap();
    Some((dir, config))
}

fn deskmail(config: &std::path::Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deskmail"));
    cmd.arg("--config").arg(config).args(args).env_remove("DESKMAIL_CONFIG").env("DESKMAIL_LOG", "warn");
    cmd
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

async fn ingest_prints_one_json_line_per_input_and_exits_zero(store: Store) {
    let Some((dir, config)) = setup(store).await else {
        return;
    };
    let a = dir.path().join("a.eml");
    let b = dir.path().join("b.eml");
    let bad = dir.path().join("bad.eml");
    std::fs::write(&a, mail("c@customer.example", "first", "a@customer.example", "one")).unwrap();
    std::fs::write(&b, mail("c@customer.example", "second", "b@customer.example", "two")).unwrap();
    std::fs::write(&bad, b"\0\0 not mail").unwrap();
    let out =
        deskmail(&config, &["ingest", "--mailbox", "support", "--json"]).args([&a, &b, &a, &bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    let outcomes: Vec<&str> = lines.iter().map(|l| l["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["created", "created", "duplicate", "quarantined"]);
    assert_eq!(lines[0]["ticket"], 1000);
    assert_eq!(lines[2]["ticket"], 1000);
    assert_eq!(lines[0]["file"], a.display().to_string());
    assert_eq!(lines[0]["sha256"], deskmail::platform::storage::sha256_hex(&std::fs::read(&a).unwrap()));
    assert!(lines[3]["reason"].is_string() && lines[3]["ticket"].is_null());
}

async fn a_missing_file_exits_66_and_the_rest_is_stored(store: Store) {
    let Some((dir, config)) = setup(store).await else {
        return;
    };
    let a = dir.path().join("a.eml");
    std::fs::write(&a, mail("c@customer.example", "first", "a@customer.example", "one")).unwrap();
    let out = deskmail(&config, &["ingest", "--mailbox", "support", "--json", "/nonexistent/x.eml"])
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["outcome"], "error");
    assert_eq!(lines[1]["outcome"], "created");
}

async fn an_unknown_mailbox_exits_64(store: Store) {
    let Some((_dir, config)) = setup(store).await else {
        return;
    };
    let out = deskmail(&config, &["ingest", "--mailbox", "nope"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown mailbox"));
}

#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_deskmail")).args(args).output().unwrap();
    for args in [&["ingest"][..], &["no-such-command"], &["user", "add"], &["serve", "--bogus"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(64), "deskmail {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty(), "deskmail {args:?} says why");
    }
    for args in [&["--help"][..], &["ingest", "--help"], &["--version"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "deskmail {args:?}");
        assert!(!out.stdout.is_empty());
    }
}

async fn ingest_reads_stdin_without_files(store: Store) {
    let Some((_dir, config)) = setup(store).await else {
        return;
    };
    let mut child = deskmail(&config, &["ingest", "--mailbox", "support", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&mail("p@customer.example", "piped", "p@customer.example", "from an MTA"))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out.stdout);
    assert_eq!((lines[0]["file"].as_str(), lines[0]["outcome"].as_str()), (Some("-"), Some("created")));
}

async fn users_and_tokens_are_created_once(store: Store) {
    let Some((_dir, config)) = setup(store).await else {
        return;
    };
    let out = deskmail(&config, &["user", "add", "--email", "Ana@Example.test", "--name", "Ana", "--role", "agent"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ana@example.test") && text.contains("password: "), "{text}");
    let again = deskmail(&config, &["user", "add", "--email", "ana@example.test", "--name", "Ana", "--role", "agent"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(64));
    let mut child = deskmail(
        &config,
        &["user", "add", "--email", "bo@example.test", "--name", "Bo", "--role", "admin", "--password-stdin"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("password:"));
    let token =
        deskmail(&config, &["token", "create", "--user", "bo@example.test", "--name", "shop"]).output().unwrap();
    assert_eq!(token.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&token.stdout).trim().starts_with("dm_"));
    let missing =
        deskmail(&config, &["token", "create", "--user", "nobody@example.test", "--name", "x"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(64));
}

#[test]
fn serve_starts_fresh_prints_the_url_and_admin_login_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(
        &config,
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n"),
    )
    .unwrap();
    let mut child = deskmail(&config, &["serve"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("deskmail is running") {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
            break;
        }
        seen.push_str(&line);
    }
    assert!(seen.contains("login:    admin@localhost") && seen.contains("password: "), "{seen}");
    assert!(seen.contains(&format!("http://127.0.0.1:{port}")), "{seen}");
    assert!(dir.path().join("data/deskmail.db").is_file(), "the database is created next to the config");
    assert!(dir.path().join("data/secret.key").is_file());
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
