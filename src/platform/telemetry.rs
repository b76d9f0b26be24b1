//! Logging setup (human or JSON) and error cause chains for log lines.

use tracing_subscriber::EnvFilter;

/// Log output formats of `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Installs the global subscriber. The filter comes from `DESKMAIL_LOG` or `RUST_LOG` (default `info`).
pub fn init(format: LogFormat) {
    let filter = std::env::var("DESKMAIL_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info,sqlx=warn,async_imap=warn,lettre=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

/// `error: cause: cause` on one line, for logging an error once with everything that led to it.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn chains_join_causes() {
        let err = anyhow::anyhow!("disk full").context("cannot write blob").context("ingest failed");
        let e: &(dyn std::error::Error + 'static) = err.as_ref();
        assert_eq!(super::chain(e), "ingest failed: cannot write blob: disk full");
    }
}
