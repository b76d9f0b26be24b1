//! The deployable release: `--version` with the commit, JSON log lines, the systemd unit passing `systemd-analyze`.

use crate::helpers::is_ci;
use serde_json::Value;
use std::io::BufRead;
use std::process::{Command, Stdio};

const UNIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/deskmail.service");

/// The binary with JSON logs and the default filter (`info`), whatever the caller's environment says.
fn deskmail_json(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_deskmail"));
    cmd.args(args)
        .env_remove("DESKMAIL_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("DESKMAIL_LOG")
        .env("DESKMAIL_LOG_FORMAT", "json");
    cmd
}

/// Every stderr line parsed as one JSON object.
fn json_lines(stderr: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{text}")))
        .inspect(|v| {
            for key in ["timestamp", "level", "target", "message", "fields"] {
                assert!(v.get(key).is_some(), "no {key:?} in {v}");
            }
        })
        .collect()
}

#[test]
fn version_names_the_crate_version_and_the_commit() {
    let out = Command::new(env!("CARGO_BIN_EXE_deskmail")).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let commit = env!("DESKMAIL_COMMIT");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text, format!("deskmail {} (commit {commit})\n", env!("CARGO_PKG_VERSION")));
    let hash = commit.strip_suffix("-dirty").unwrap_or(commit);
    let is_hash = hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    assert!(is_hash || commit == "unknown", "{commit}");
}

#[test]
fn json_logs_are_one_object_per_line_and_carry_the_cause_chain() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let config = dir.path().join("deskmail.toml");
    // The storage dir lies under a plain file: starting fails with a cause.
    std::fs::write(&config, "[storage]\ndir = \"file/spool\"\n").unwrap();
    let out = deskmail_json(&["--config", config.to_str().unwrap(), "migrate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(70));
    let lines = json_lines(&out.stderr);
    let failed = lines.iter().find(|l| l["message"] == "command failed").expect("a 'command failed' line");
    assert_eq!(failed["level"], "ERROR");
    let error = failed["fields"]["error"].as_str().unwrap();
    assert!(error.starts_with("cannot create storage dir") && error.contains("os error"), "{error}");

    let out = deskmail_json(&["--config", "/nonexistent/deskmail.toml", "migrate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let lines = json_lines(&out.stderr);
    assert!(lines.iter().any(|l| l["message"] == "invalid configuration"), "{lines:?}");
}

#[test]
fn serve_logs_json_with_version_and_commit_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("deskmail.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    std::fs::write(&config, format!("[server]\nlisten = \"127.0.0.1:{port}\"\n")).unwrap();
    let mut child = deskmail_json(&["--config", config.to_str().unwrap(), "serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("deskmail is running") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "serve ended before it ran");
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines = json_lines(&out.stderr);
    let starting = lines.iter().find(|l| l["message"] == "starting").expect("a 'starting' line");
    assert_eq!(starting["fields"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(starting["fields"]["commit"], env!("DESKMAIL_COMMIT"));
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(messages.contains(&"shutting down") && messages.contains(&"stopped"), "{messages:?}");
}

/// `systemd-analyze verify` on the units as installed (the service, the nightly backup and its timer), except that
/// they start the binary under test as the current user (verify wants an executable `ExecStart`). Its exit code
/// ignores bad settings, so any line naming a unit fails.
#[test]
fn the_systemd_units_pass_systemd_analyze_verify() {
    if Command::new("systemd-analyze").arg("--version").output().is_err() {
        assert!(!is_ci(), "systemd-analyze is missing (apt-get install systemd; scripts/test installs it when root)");
        eprintln!("skipping: systemd-analyze is missing (apt-get install systemd)");
        return;
    }
    let unit = std::fs::read_to_string(UNIT).unwrap();
    for setting in ["ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=deskmail", "Restart=on-failure"] {
        assert!(unit.lines().any(|l| l == setting), "{setting} missing in {UNIT}");
    }
    let id = |flag: &str| {
        let out = Command::new("id").arg(flag).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let installed = "ExecStart=/usr/local/bin/deskmail ";
    assert!(unit.contains(installed) && unit.contains("User=deskmail\n") && unit.contains("Group=deskmail\n"));
    // The units as installed name /usr/local/bin/deskmail and the user deskmail; checked with this build and user.
    let for_test = |unit: &str| {
        unit.replace("/usr/local/bin/deskmail ", &format!("{} ", env!("CARGO_BIN_EXE_deskmail")))
            .replace("User=deskmail\n", &format!("User={}\n", id("-un")))
            .replace("Group=deskmail\n", &format!("Group={}\n", id("-gn")))
    };
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for name in ["deskmail.service", "deskmail-backup.service", "deskmail-backup.timer"] {
        let unit = std::fs::read_to_string(format!("{}/config/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        paths.push(dir.path().join(name));
        std::fs::write(paths.last().unwrap(), for_test(&unit)).unwrap();
    }
    let out = Command::new("systemd-analyze").arg("verify").args(&paths).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let about_unit: Vec<&str> = text.lines().filter(|l| l.contains("deskmail")).collect();
    assert!(out.status.success() && about_unit.is_empty(), "systemd-analyze verify {paths:?}:\n{text}");
}
