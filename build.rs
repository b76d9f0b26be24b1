//! Build script: the git commit for `deskmail --version` (`DESKMAIL_COMMIT`: a short hash, `-dirty` when the
//! files that make up the binary have uncommitted changes, `unknown` outside a git checkout).

use std::path::Path;
use std::process::Command;

/// What goes into the binary: a change here makes the build `-dirty` (edits to README or tests do not).
const SOURCES: &[&str] = &["src", "migrations", "templates", "static", "build.rs", "Cargo.toml", "Cargo.lock"];

fn main() {
    // A packager building from a tarball can name the commit itself.
    println!("cargo:rerun-if-env-changed=DESKMAIL_COMMIT");
    let commit = match std::env::var("DESKMAIL_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => from_git().unwrap_or_else(|| "unknown".into()),
    };
    println!("cargo:rustc-env=DESKMAIL_COMMIT={commit}");
}

fn from_git() -> Option<String> {
    let hash = git(&["rev-parse", "--short=12", "HEAD"])?;
    // Rerun when HEAD moves (checkout, commit) or a file of the binary changes. Each rerun rebuilds the crate, so
    // only what rebuilds it anyway: not the index (`git status` rewrites it), and templates and static files only
    // in release builds (debug builds read them from disk).
    let mut watch = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(git(&["rev-parse", "--git-path", &head_ref])?);
        watch.push(git(&["rev-parse", "--git-path", "packed-refs"])?);
    }
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    watch.extend(SOURCES.iter().filter(|s| release || !["templates", "static"].contains(s)).map(|s| s.to_string()));
    // A path that does not exist would make Cargo rerun this script on every build.
    for path in watch.iter().filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
    // Without optional locks `git status` leaves the index alone: a build never writes to the repository.
    let mut status = vec!["--no-optional-locks", "status", "--porcelain", "--"];
    status.extend(SOURCES);
    let dirty = git(&status).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{hash}-dirty") } else { hash })
}

/// A git command's trimmed stdout; `None` when git is missing or fails (not a checkout, not a trusted directory).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
