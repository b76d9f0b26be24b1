//! Logging setup (human, or JSON lines for journald and log shippers) and error cause chains for log lines.

use serde_json::{Map, Value};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Log output formats of `--log-format` (or `DESKMAIL_LOG_FORMAT`).
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
        LogFormat::Json => builder.fmt_fields(JsonFields::new()).event_format(JsonLines).try_init(),
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}

/// `--log-format json`: one object per line with `timestamp` (RFC 3339, UTC), `level`, `target`, `message`, the
/// event's other `fields`, and `spans` (outermost first: name and fields) inside a span. An error value is written
/// with its cause chain, which tracing-subscriber's own JSON format drops.
pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut fields = JsonVisitor::default();
        event.record(&mut fields);
        let message = fields.map.remove("message").unwrap_or_default();
        // Events from the `log` crate (rustls) come with their real target in a field.
        let target = fields.log_target.take().unwrap_or_else(|| event.metadata().target().to_string());
        let spans: Vec<Value> = ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
            .map(|span| {
                let ext = span.extensions();
                let stored = ext.get::<FormattedFields<N>>().map(|f| f.fields.as_str()).unwrap_or_default();
                let mut obj: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
                obj.insert("name".into(), span.name().into());
                Value::Object(obj)
            })
            .collect();
        let timestamp =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let mut line: Vec<(&str, Value)> = vec![
            ("timestamp", timestamp.into()),
            ("level", event.metadata().level().as_str().into()),
            ("target", target.into()),
            ("message", message),
            ("fields", Value::Object(fields.map)),
        ];
        if !spans.is_empty() {
            line.push(("spans", Value::Array(spans)));
        }
        // Written key by key to keep this order (a serde_json Map would sort the keys).
        let body: Vec<String> = line.iter().map(|(k, v)| format!("{}:{v}", Value::from(*k))).collect();
        writeln!(writer, "{{{}}}", body.join(","))
    }
}

/// An event's fields as JSON values: numbers and booleans typed, errors with their cause chain, the rest as text.
#[derive(Default)]
struct JsonVisitor {
    map: Map<String, Value>,
    log_target: Option<String>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        match field.name() {
            "log.target" => self.log_target = value.as_str().map(str::to_string),
            name if name.starts_with("log.") => {}
            name => {
                self.map.insert(name.to_string(), value);
            }
        }
    }
}

impl Visit for JsonVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, chain(value).into());
    }
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
    use serde_json::Value;
    use std::sync::{Arc, Mutex};

    #[test]
    fn chains_join_causes() {
        let err = anyhow::anyhow!("disk full").context("cannot write blob").context("ingest failed");
        let e: &(dyn std::error::Error + 'static) = err.as_ref();
        assert_eq!(super::chain(e), "ingest failed: cannot write blob: disk full");
    }

    /// Log lines written to memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_level_target_fields_spans_and_the_cause_chain() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .event_format(super::JsonLines)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("poll", mailbox = "support", uid = 7);
            let _entered = span.enter();
            let err = anyhow::anyhow!("connection reset").context("cannot fetch");
            let e: &(dyn std::error::Error + 'static) = err.as_ref();
            tracing::warn!(error = e, attempt = 3, retry = true, "fetch failed; retrying");
            tracing::info!("line\nbreak \"quoted\"");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect(l)).collect();
        assert_eq!(lines.len(), 2, "{text}");
        let first = &lines[0];
        assert_eq!(first["level"], "WARN");
        assert_eq!(first["target"], module_path!());
        assert_eq!(first["message"], "fetch failed; retrying");
        assert_eq!(first["fields"]["error"], "cannot fetch: connection reset");
        assert_eq!((&first["fields"]["attempt"], &first["fields"]["retry"]), (&Value::from(3), &Value::from(true)));
        assert_eq!(first["spans"][0], serde_json::json!({"name": "poll", "mailbox": "support", "uid": 7}));
        let stamp = first["timestamp"].as_str().unwrap();
        assert!(time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).is_ok(), "{stamp}");
        assert_eq!(lines[1]["message"], "line\nbreak \"quoted\"");
    }
}
