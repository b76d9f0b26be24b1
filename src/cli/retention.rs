//! `deskmail retention [--dry-run] [--days N]`: erases the content of tickets closed longer ago now (the job
//! `serve` runs daily), or lists them.

use super::exit;
use crate::domain::rfc3339;
use crate::platform::config::Settings;
use crate::startup::Services;
use crate::tickets::retention::{JOB, MAX_PER_RUN};
use clap::Args;

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// List the tickets a run would erase; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Days since closing (default: retention.closed_ticket_days).
    #[arg(long)]
    pub days: Option<u32>,
}

pub async fn retention(settings: Settings, args: RetentionArgs) -> anyhow::Result<i32> {
    let Some(days) = args.days.or(settings.retention.closed_ticket_days).filter(|d| *d > 0) else {
        eprintln!("deskmail: retention.closed_ticket_days is not set (or pass --days N, at least 1)");
        return Ok(exit::USAGE);
    };
    let services = Services::start(settings).await?;
    let now = crate::domain::now();
    if args.dry_run {
        let due = services.tickets.retention_due(days, now, MAX_PER_RUN).await?;
        for t in &due {
            println!("#{}\tclosed, last change {}\t{}", t.number, rfc3339(t.updated_at), t.requester);
        }
        let more = if due.len() == MAX_PER_RUN { " (at least; one run erases at most this many)" } else { "" };
        println!("{} ticket(s) closed more than {days} day(s) ago would be erased{more}", due.len());
        return Ok(exit::OK);
    }
    // The same lease as the daily job: never two runs at once.
    let owner = format!("cli:{}", std::process::id());
    if !services.db.claim_job(JOB, &owner, now, now + 3 * 3600).await? {
        eprintln!("deskmail: the retention job is running in another process; try again later");
        return Ok(exit::TEMPFAIL);
    }
    let started = std::time::Instant::now();
    let result = services.tickets.erase_closed(days, now, MAX_PER_RUN).await;
    if let Ok(done) = &result {
        services.db.finish_job(JOB, &owner, now, started.elapsed().as_millis() as i64, done.tickets as i64).await?;
    }
    services.db.release_job(JOB, &owner).await?;
    let done = result?;
    println!("{}", serde_json::to_string(&done)?);
    Ok(exit::OK)
}
