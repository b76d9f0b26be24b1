//! What erasing does to the text that stays: an address replaced wherever it appears (ASCII case-insensitively),
//! recipient lists without it, and events rewritten without it or the customer's comments. Pure functions.

use crate::db::EventRow;
use crate::domain::TicketEvent;
use serde_json::Value;

/// `text` with every occurrence of `address` (ASCII case-insensitive) replaced by `with`.
pub fn replace_address(text: &str, address: &str, with: &str) -> String {
    if address.is_empty() {
        return text.to_string();
    }
    // ASCII lower-casing keeps byte offsets, so matches in the lowered text are positions in the original.
    let (hay, needle) = (text.to_ascii_lowercase(), address.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in hay.match_indices(&needle) {
        out.push_str(&text[last..at]);
        out.push_str(with);
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

/// A JSON list of addresses without `address` (any case); anything that is not such a list stays as it is.
pub fn without_address(list_json: &str, address: &str) -> String {
    match serde_json::from_str::<Vec<String>>(list_json) {
        Ok(list) => {
            let kept: Vec<String> = list.into_iter().filter(|a| !a.eq_ignore_ascii_case(address)).collect();
            serde_json::to_string(&kept).unwrap_or_else(|_| "[]".into())
        }
        Err(_) => list_json.to_string(),
    }
}

/// What to take out of an event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scrub<'a> {
    /// An address and what replaces it.
    pub address: Option<(&'a str, &'a str)>,
    /// The customer's satisfaction comments go (their own text).
    pub drop_comments: bool,
}

/// The event rewritten as `(actor, detail, data)`, or `None` when nothing in it changes. A typed event gets its
/// text anew from the scrubbed data; an old untyped one has the address replaced in its text.
pub fn scrub_event(e: &EventRow, s: Scrub<'_>) -> Option<(String, String, String)> {
    let original: Value = serde_json::from_str(&e.data).unwrap_or_else(|_| Value::Object(Default::default()));
    let mut data = original.clone();
    let mut actor = e.actor.clone();
    if let Some((address, with)) = s.address {
        replace_in_json(&mut data, address, with);
        if actor.eq_ignore_ascii_case(address) {
            actor = "customer".into();
        }
    }
    if s.drop_comments
        && e.kind == "satisfaction_rated"
        && let Some(comment) = data.get_mut("comment")
    {
        *comment = Value::String(String::new());
    }
    let data_text = if data == original { e.data.clone() } else { data.to_string() };
    let detail = match TicketEvent::from_stored(&e.kind, &data_text) {
        Some(typed) if data != original => typed.describe(),
        _ => match s.address {
            Some((address, with)) => replace_address(&e.detail, address, with),
            None => e.detail.clone(),
        },
    };
    (data != original || actor != e.actor || detail != e.detail).then_some((actor, detail, data_text))
}

fn replace_in_json(v: &mut Value, address: &str, with: &str) {
    match v {
        Value::String(s) => *s = replace_address(s, address, with),
        Value::Array(items) => items.iter_mut().for_each(|i| replace_in_json(i, address, with)),
        Value::Object(map) => map.values_mut().for_each(|i| replace_in_json(i, address, with)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Actor, TicketEvent};

    fn row(actor: &str, e: &TicketEvent) -> EventRow {
        EventRow {
            id: 1,
            ticket_id: 1,
            at: 0,
            actor: actor.into(),
            kind: e.kind().as_str().into(),
            detail: e.describe(),
            data: e.data().to_string(),
            txid: 0,
        }
    }

    #[test]
    fn addresses_are_replaced_in_any_case_and_only_whole_occurrences_of_the_text() {
        let t = "mail from Kim@Customer.example, cc kim@customer.example; not kim@customer.examples.org";
        assert_eq!(
            replace_address(t, "kim@customer.example", "erased-3@invalid"),
            "mail from erased-3@invalid, cc erased-3@invalid; not erased-3@invalids.org"
        );
        assert_eq!(replace_address("Grüße an kim@x.example", "KIM@x.example", "y"), "Grüße an y");
        assert_eq!(replace_address("nothing", "", "y"), "nothing");
    }

    #[test]
    fn recipient_lists_lose_the_address_and_keep_the_others() {
        assert_eq!(without_address(r#"["a@x.example","Kim@X.example"]"#, "kim@x.example"), r#"["a@x.example"]"#);
        assert_eq!(without_address("[]", "kim@x.example"), "[]");
        assert_eq!(without_address("not json", "kim@x.example"), "not json");
    }

    #[test]
    fn an_event_naming_the_customer_is_rewritten_and_its_text_follows() {
        let e = TicketEvent::MessageReceived { message: 4, from: "kim@x.example".into(), auto: false };
        let s = Scrub { address: Some(("kim@x.example", "erased-3@invalid")), drop_comments: false };
        let (actor, detail, data) = scrub_event(&row("customer", &e), s).expect("changed");
        assert_eq!((actor.as_str(), detail.as_str()), ("customer", "mail from erased-3@invalid"));
        assert!(!data.contains("kim@"), "{data}");
        let other = TicketEvent::StatusChanged { from: crate::domain::Status::Open, to: crate::domain::Status::Closed };
        assert_eq!(scrub_event(&row(&Actor::System.name(), &other), s), None, "nothing of theirs in it");
        let mut old = row("Kim@X.example", &other);
        (old.kind, old.data, old.detail) = ("status".into(), "{}".into(), "closed by kim@x.example".into());
        let (actor, detail, _) = scrub_event(&old, s).expect("an untyped row too");
        assert_eq!((actor.as_str(), detail.as_str()), ("customer", "closed by erased-3@invalid"));
    }

    #[test]
    fn satisfaction_comments_go_and_the_rating_stays() {
        let e =
            TicketEvent::SatisfactionRated { rating: "bad".into(), comment: "my lamp at home".into(), resolution: 9 };
        let s = Scrub { address: None, drop_comments: true };
        let (_, detail, data) = scrub_event(&row("customer", &e), s).expect("changed");
        assert_eq!(detail, "rated bad");
        assert_eq!(
            TicketEvent::from_stored("satisfaction_rated", &data).unwrap(),
            TicketEvent::SatisfactionRated { rating: "bad".into(), comment: String::new(), resolution: 9 }
        );
        assert_eq!(scrub_event(&row("customer", &e), Scrub::default()), None);
    }
}
