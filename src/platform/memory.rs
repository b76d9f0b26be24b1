//! Process memory of a long-running `serve`: malloc's arena cap, and giving back the pages of start-up code.
//!
//! Measured with `scripts/bench rss` (README, Measured): after start-up an idle `serve` had ~24 MB of its
//! ~29 MB RSS in file-backed pages of the binary (the kernel maps its text in 64 kB or larger folio runs, and
//! start-up touches most of it: config, migrations, template compilation, TLS set-up), ~5–8 MB anonymous.

use std::time::Duration;

use crate::platform::health::{Health, MailboxState};

/// Caps glibc malloc at one arena per core (its default is eight per core). Every thread that allocates
/// (tokio workers, blocking threads, one sqlx-sqlite worker per connection) otherwise gets its own arena,
/// and each keeps the memory it freed: 4–10 MB more RSS after the first mails were imported. With no more
/// arenas than cores, threads contend no more than the cores they run on. Call before any thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: mallopt only sets a malloc parameter; no memory is touched.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, i32::try_from(cores).unwrap_or(i32::MAX)) };
    }
}

/// Once every mailbox has synced once (or after `max_wait`), unmaps start-up code (see `release_file_pages`).
pub async fn release_after_first_sync(health: Health, mailboxes: usize, max_wait: Duration) {
    let deadline = tokio::time::Instant::now() + max_wait;
    // A short floor: the web router and dashboard templates are built right after `Application::build`.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while tokio::time::Instant::now() < deadline && !first_sync_done(&health, mailboxes) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    match tokio::task::spawn_blocking(release_file_pages).await {
        Ok(Ok(bytes)) => tracing::debug!(released_kb = bytes / 1024, "start-up pages released"),
        Ok(Err(e)) => tracing::debug!(error = %e, "could not release start-up pages"),
        Err(e) => tracing::debug!(error = %e, "could not release start-up pages"),
    }
}

fn first_sync_done(health: &Health, mailboxes: usize) -> bool {
    let all = health.snapshot();
    all.len() >= mailboxes
        && all
            .iter()
            .all(|h| h.last_sync_at.is_some() || matches!(h.state, MailboxState::Disabled | MailboxState::Failing))
}

/// Drops this process's page-table entries of read-only file mappings (the binary's text and rodata, shared
/// libraries) that hold no private copy, and trims malloc. Nothing is lost: those pages are the file's page
/// cache, which the kernel keeps; the next touch maps them back with a minor fault (no disk read while
/// the file stays cached). Only what is used after start-up comes back into RSS. Returns the bytes unmapped.
#[cfg(target_os = "linux")]
pub fn release_file_pages() -> std::io::Result<usize> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = 0;
    for (start, end, rss_kb) in droppable_mappings(&smaps) {
        // SAFETY: `droppable_mappings` yields only read-only, file-backed mappings without anonymous (copied)
        // pages: MADV_DONTNEED on them only unmaps page-cache pages, and a later access faults in the same
        // bytes from the file. No Rust object lives there (not writable).
        let rc = unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if rc == 0 {
            released += rss_kb * 1024;
        }
    }
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free memory of malloc's arenas to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
    Ok(released)
}

#[cfg(not(target_os = "linux"))]
pub fn release_file_pages() -> std::io::Result<usize> {
    Ok(0)
}

/// (start, end, resident kB) of each mapping in smaps text that is file-backed, not writable, and has no
/// anonymous pages (a debugger's breakpoint or a relocated RELRO page would be one: such mappings are kept).
fn droppable_mappings(smaps: &str) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, usize, usize)> = None;
    let mut anonymous = 0;
    let finish = |m: Option<(usize, usize, usize)>, anon: usize, out: &mut Vec<_>| {
        if let Some(m) = m.filter(|m| anon == 0 && m.2 > 0) {
            out.push(m);
        }
    };
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if let Some((start, end)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            finish(current.take(), anonymous, &mut out);
            anonymous = 0;
            let perms = fields.next().unwrap_or_default();
            let path = fields.nth(3).unwrap_or_default();
            let (Ok(start), Ok(end)) = (usize::from_str_radix(start, 16), usize::from_str_radix(end, 16)) else {
                continue;
            };
            if path.starts_with('/') && perms.len() == 4 && !perms.contains('w') && perms.ends_with('p') {
                current = Some((start, end, 0));
            }
        } else if let Some(m) = current.as_mut() {
            let kb = || fields.clone().next().and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
            match first {
                "Rss:" => m.2 = kb(),
                "Anonymous:" => anonymous = kb(),
                _ => {}
            }
        }
    }
    finish(current, anonymous, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55b24063e000-55b2420de000 r-xp 009d9000 fe:00 5459571                    /opt/deskmail/deskmail
Size:              27264 kB
Rss:               21448 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
55b2420de000-55b24228a000 r--p 02479000 fe:00 5459571                    /opt/deskmail/deskmail
Rss:                1388 kB
Anonymous:          1388 kB
55b24228a000-55b24229a000 rw-p 02625000 fe:00 5459571                    /opt/deskmail/deskmail
Rss:                  64 kB
Anonymous:            60 kB
7f5e9c000000-7f5e9cf56000 rw-p 00000000 00:00 0
Rss:               11488 kB
Anonymous:         11488 kB
7f5eb03f8000-7f5eb054e000 r-xp 00028000 fe:00 1234                       /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1048 kB
Anonymous:             0 kB
7ffd1c3f1000-7ffd1c3f3000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
";

    #[test]
    fn only_read_only_file_mappings_without_private_copies_are_dropped() {
        let got = droppable_mappings(SMAPS);
        assert_eq!(got, vec![(0x55b24063e000, 0x55b2420de000, 21448), (0x7f5eb03f8000, 0x7f5eb054e000, 1048)]);
    }

    #[test]
    fn code_and_constants_still_work_after_their_pages_are_released() {
        let before = (droppable_mappings(SMAPS), SMAPS.len());
        release_file_pages().expect("smaps readable");
        assert_eq!((droppable_mappings(SMAPS), SMAPS.len()), before);
    }
}
