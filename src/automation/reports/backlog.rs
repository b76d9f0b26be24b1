//! The backlog: for each day of a period, the tickets not done at its end, counted from every ticket's open spans
//! in one pass (a difference array over the days, not a walk per day and ticket).

use serde::Serialize;

const DAY: i64 = 86_400;

/// One day of the backlog chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BacklogDay {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Tickets created before the end of that day and not `resolved`, `closed` or `merged` at its end.
    pub open: u64,
}

/// Counts per day of the `days` days from `start` (unix seconds of a midnight), day `d` ending at
/// `start + (d + 1)·86400`.
#[derive(Debug, Clone)]
pub struct Backlog {
    start: i64,
    /// `delta[d]`: how many more tickets are open at the end of day `d` than of day `d − 1`.
    delta: Vec<i64>,
}

impl Backlog {
    /// An empty backlog over `days` days from `start`.
    pub fn new(start: i64, days: usize) -> Backlog {
        Backlog { start, delta: vec![0; days + 1] }
    }

    /// Adds a span in which a ticket was not done: open at the ends `t` of days with `since < t <= until`.
    pub fn add(&mut self, since: i64, until: Option<i64>) {
        let days = self.delta.len() as i64 - 1;
        // The first day whose end is after `since`, and the first whose end is after `until`.
        let first = (since - self.start).div_euclid(DAY).max(0);
        let after = until.map_or(days, |u| ((u - self.start).div_euclid(DAY)).clamp(0, days));
        if first < after {
            self.delta[first as usize] += 1;
            self.delta[after as usize] -= 1;
        }
    }

    /// The counts, day by day, labelled by `dates`.
    pub fn days(&self, dates: impl Iterator<Item = String>) -> Vec<BacklogDay> {
        let mut open = 0;
        dates
            .zip(&self.delta)
            .map(|(date, d)| {
                open += d;
                BacklogDay { date, open: open.max(0) as u64 }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(b: &Backlog) -> Vec<u64> {
        b.days((0..b.delta.len() - 1).map(|d| d.to_string())).iter().map(|d| d.open).collect()
    }

    /// The definition, checked day by day.
    fn reference(start: i64, days: usize, spans: &[(i64, Option<i64>)]) -> Vec<u64> {
        (0..days as i64)
            .map(|d| {
                let end = start + (d + 1) * DAY;
                spans.iter().filter(|(s, u)| *s < end && u.is_none_or(|u| end <= u)).count() as u64
            })
            .collect()
    }

    #[test]
    fn a_span_counts_on_the_days_whose_end_it_covers() {
        let start = 1_000 * DAY;
        let spans = [
            (start - 5 * DAY, None),                            // open before the period, still open
            (start + 10, Some(start + DAY)),                    // done exactly at day 0's end: open then
            (start + DAY, Some(start + DAY + 1)),               // created at day 0's end, done before day 1's: never
            (start + 2 * DAY - 1, Some(start + 4 * DAY + 100)), // days 1, 2, 3
            (start + 9 * DAY, None),                            // after the period
            (start - 9 * DAY, Some(start - DAY)),               // done before the period
        ];
        let mut b = Backlog::new(start, 5);
        for (s, u) in spans {
            b.add(s, u);
        }
        assert_eq!(counts(&b), [2, 2, 2, 2, 1]);
        assert_eq!(counts(&b), reference(start, 5, &spans));
    }

    #[test]
    fn the_pass_agrees_with_the_definition_on_many_spans() {
        let start = 20_000 * DAY;
        let mut spans = Vec::new();
        let mut x: i64 = 12_345;
        for _ in 0..500 {
            x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
            let since = start - 3 * DAY + x % (15 * DAY);
            let until = (x % 7 != 0).then_some(since + (x / 7) % (6 * DAY));
            spans.push((since, until));
        }
        let mut b = Backlog::new(start, 10);
        for (s, u) in &spans {
            b.add(*s, *u);
        }
        assert_eq!(counts(&b), reference(start, 10, &spans));
    }
}
