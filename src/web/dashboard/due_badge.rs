//! The SLA due badge of list rows and the ticket page: a clock's state and due times at a moment as a short label
//! ("first reply due in 1 h 20 m", "resolution overdue by 25 m", "paused") and its colour class. Pure.

use crate::db::sla::ClockRow;
use serde::Serialize;

/// A badge as the templates show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Badge {
    /// The visible text.
    pub text: String,
    /// `sla-ok`, `sla-warning` (amber), `sla-breached` (red), `sla-paused` (grey) or `sla-met` (subtle green).
    pub class: &'static str,
    /// The running target's due time (unix seconds), for the tooltip.
    pub due_at: Option<i64>,
}

/// Which running target the clock's `due_at` is.
fn target_label(c: &ClockRow, due: i64) -> &'static str {
    if c.first_response_at.is_none() && c.first_response_due == Some(due) {
        "first reply"
    } else if c.next_response_due == Some(due) {
        "next reply"
    } else if c.resolution_due == Some(due) {
        "resolution"
    } else {
        "next target"
    }
}

/// A span of seconds as `2 d 3 h`, `1 h 20 m` or `25 m` (two units at most; under a minute counts as 1 m).
pub fn span(secs: i64) -> String {
    let mins = (secs.max(0) / 60).max(1);
    let (d, h, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} m"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} m"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// The badge of clock `c` at `now`; `None` when there is nothing to say (no running target and no breach).
pub fn badge(c: &ClockRow, now: i64) -> Option<Badge> {
    let state = c.state.as_str();
    let Some(due) = c.due_at else {
        let (text, class) = match state {
            "met" => ("met", "sla-met"),
            "paused" => ("paused", "sla-paused"),
            "breached" => ("breached", "sla-breached"),
            _ => return None,
        };
        return Some(Badge { text: text.into(), class, due_at: None });
    };
    let what = target_label(c, due);
    let overdue = due <= now;
    let timing = if overdue {
        format!("{what} overdue by {}", span(now - due))
    } else {
        format!("{what} due in {}", span(due - now))
    };
    // The clock is written by the worker; a target that has just passed is red before the worker's tick says so.
    let class = match state {
        _ if overdue => "sla-breached",
        "breached" => "sla-breached",
        "warning" => "sla-warning",
        "paused" => "sla-paused",
        _ => "sla-ok",
    };
    let text = match state {
        "breached" if !overdue => format!("breached · {timing}"),
        "paused" => format!("paused · {timing}"),
        _ => timing,
    };
    Some(Badge { text, class, due_at: Some(due) })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn clock(state: &str) -> ClockRow {
        ClockRow { ticket_id: 1, policy: "standard".into(), state: state.into(), ..ClockRow::default() }
    }

    fn first_reply_due(state: &str, due: i64) -> ClockRow {
        ClockRow {
            first_response_due: Some(due),
            resolution_due: Some(due + 86_400),
            due_at: Some(due),
            ..clock(state)
        }
    }

    #[test]
    fn spans_read_in_two_units_at_most() {
        assert_eq!(span(20), "1 m");
        assert_eq!(span(25 * 60 + 59), "25 m");
        assert_eq!(span(3600), "1 h");
        assert_eq!(span(80 * 60), "1 h 20 m");
        assert_eq!(span(2 * 86_400 + 3 * 3600 + 59 * 60), "2 d 3 h");
        assert_eq!(span(86_400 + 40 * 60), "1 d");
        assert_eq!(span(-5), "1 m");
    }

    #[test]
    fn a_running_first_reply_is_labelled_with_its_time_left_and_coloured_by_state() {
        let b = badge(&first_reply_due("ok", NOW + 80 * 60), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class, b.due_at), ("first reply due in 1 h 20 m", "sla-ok", Some(NOW + 4800)));
        let b = badge(&first_reply_due("warning", NOW + 10 * 60), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("first reply due in 10 m", "sla-warning"));
        let b = badge(&first_reply_due("breached", NOW - 25 * 60), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("first reply overdue by 25 m", "sla-breached"));
    }

    #[test]
    fn a_target_past_due_is_red_even_before_the_worker_marks_it() {
        let b = badge(&first_reply_due("warning", NOW - 60), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("first reply overdue by 1 m", "sla-breached"));
    }

    #[test]
    fn the_label_names_the_target_that_is_due_first() {
        let answered = ClockRow {
            first_response_due: Some(NOW - 3600),
            first_response_at: Some(NOW - 4000),
            next_response_due: Some(NOW + 7200),
            resolution_due: Some(NOW + 2 * 86_400 + 3 * 3600),
            due_at: Some(NOW + 7200),
            ..clock("ok")
        };
        assert_eq!(badge(&answered, NOW).unwrap().text, "next reply due in 2 h");
        let resolution = ClockRow { next_response_due: None, due_at: answered.resolution_due, ..answered };
        assert_eq!(badge(&resolution, NOW).unwrap().text, "resolution due in 2 d 3 h");
    }

    #[test]
    fn an_earlier_breach_is_said_beside_the_next_running_target() {
        let c = ClockRow {
            first_response_due: Some(NOW - 3600),
            first_response_at: Some(NOW - 60),
            resolution_due: Some(NOW + 3600),
            due_at: Some(NOW + 3600),
            ..clock("breached")
        };
        let b = badge(&c, NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("breached · resolution due in 1 h", "sla-breached"));
    }

    #[test]
    fn paused_met_and_finished_clocks() {
        let b = badge(&clock("paused"), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class, b.due_at), ("paused", "sla-paused", None));
        let b = badge(&first_reply_due("paused", NOW + 1800), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("paused · first reply due in 30 m", "sla-paused"));
        let b = badge(&clock("met"), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("met", "sla-met"));
        let b = badge(&clock("breached"), NOW).unwrap();
        assert_eq!((b.text.as_str(), b.class), ("breached", "sla-breached"));
        assert_eq!(badge(&clock("ok"), NOW), None, "nothing running, nothing missed: no badge");
    }
}
