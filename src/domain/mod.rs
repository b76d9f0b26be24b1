//! Domain types: parsed once at the edge, trusted everywhere after.

mod address;
pub mod calendar;
pub mod catalog;
mod email;
mod event;
mod event_text;
pub mod file_name;
mod name;
pub mod rule;
pub mod sla;
mod status;
mod template;

pub use address::is_ours;
pub use email::EmailAddress;
pub use event::{Actor, Channel, ErasedBy, EventKind, TicketEvent};
pub use name::{DisplayName, NamedAddress};
pub use status::{MessageKind, Priority, Role, Status};
pub use template::TemplateKind;

/// Seconds since the Unix epoch, the time unit stored in the database.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// RFC 3339 UTC text of a stored timestamp.
pub fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_render_as_rfc3339_utc() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_790_000_000), "2026-09-21T14:13:20Z");
    }
}
