//! Chart geometry for the reports page: bars of created vs resolved per group and the backlog line, as numbers
//! in a fixed `viewBox` that the template draws as inline SVG (scaled to the page width, so phones get it whole).

use crate::automation::reports::{BacklogDay, GroupFigures};
use serde::Serialize;

/// Width of both charts' `viewBox`.
pub const WIDTH: f64 = 400.0;
const BAR_HEIGHT: f64 = 230.0;
const LINE_HEIGHT: f64 = 190.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = WIDTH - 8.0;
/// Longest group label drawn; the whole key is in the bar's tooltip.
const LABEL_CHARS: usize = 12;

/// A value's gridline: its height and its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tick {
    pub y: f64,
    pub label: u64,
}

/// A rectangle and what it shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub value: u64,
}

/// One group's pair of bars and its label (drawn turned, anchored at `label_x`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarPair {
    pub key: String,
    pub label: String,
    pub label_x: f64,
    pub created: Bar,
    pub resolved: Bar,
}

/// The created-vs-resolved bar chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BarChart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub base: f64,
    pub ticks: Vec<Tick>,
    pub pairs: Vec<BarPair>,
}

/// A date label under the line chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XLabel {
    pub x: f64,
    pub text: String,
}

/// The backlog line chart: `points` is the `polyline` attribute.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineChart {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub base: f64,
    pub ticks: Vec<Tick>,
    pub points: String,
    pub labels: Vec<XLabel>,
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// A tidy step (1, 2 or 5 × 10ⁿ) giving at most about four gridlines up to `max`, and the top line.
fn scale(max: u64) -> (u64, u64) {
    let mut steps = (0..19).flat_map(|e| [1, 2, 5].map(|m| m * 10u64.pow(e)));
    let step = steps.find(|s| s.saturating_mul(4) >= max).unwrap_or(1 << 60);
    (step, max.div_ceil(step).max(1) * step)
}

fn ticks(max: u64, top_y: f64, base: f64) -> (u64, Vec<Tick>) {
    let (step, top) = scale(max);
    let ticks = (0..=top / step)
        .map(|i| Tick { y: round(base - (i * step) as f64 / top as f64 * (base - top_y)), label: i * step })
        .collect();
    (top, ticks)
}

fn label(key: &str) -> String {
    if key.chars().count() <= LABEL_CHARS {
        return key.to_string();
    }
    key.chars().take(LABEL_CHARS - 1).chain(['…']).collect()
}

/// Bars of created and resolved per group.
pub fn bars(groups: &[GroupFigures]) -> BarChart {
    let (top_y, base) = (24.0, BAR_HEIGHT - 70.0);
    let max = groups.iter().map(|g| g.created.max(g.resolved)).max().unwrap_or(0);
    let (top, ticks) = ticks(max, top_y, base);
    let slot = (RIGHT - LEFT) / groups.len().max(1) as f64;
    let w = (slot * 0.36).min(28.0);
    let bar = |x: f64, value: u64| {
        let h = value as f64 / top as f64 * (base - top_y);
        Bar { x: round(x), y: round(base - h), w: round(w), h: round(h), value }
    };
    let pairs = groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mid = LEFT + slot * (i as f64 + 0.5);
            BarPair {
                key: g.key.clone(),
                label: label(&g.key),
                label_x: round(mid),
                created: bar(mid - w - 1.0, g.created),
                resolved: bar(mid + 1.0, g.resolved),
            }
        })
        .collect();
    BarChart { width: WIDTH, height: BAR_HEIGHT, left: LEFT, right: RIGHT, base, ticks, pairs }
}

/// The backlog's line, one point per day, with up to five date labels.
pub fn line(days: &[BacklogDay]) -> LineChart {
    let (top_y, base) = (12.0, LINE_HEIGHT - 28.0);
    let max = days.iter().map(|d| d.open).max().unwrap_or(0);
    let (top, ticks) = ticks(max, top_y, base);
    let n = days.len();
    let x =
        |i: usize| round(if n < 2 { (LEFT + RIGHT) / 2.0 } else { LEFT + (RIGHT - LEFT) * i as f64 / (n - 1) as f64 });
    let y = |v: u64| round(base - v as f64 / top as f64 * (base - top_y));
    let points = days.iter().enumerate().map(|(i, d)| format!("{},{}", x(i), y(d.open))).collect::<Vec<_>>().join(" ");
    let mut at: Vec<usize> = (0..5).map(|k| k * n.saturating_sub(1) / 4).collect();
    at.dedup();
    let labels = if n == 0 {
        Vec::new()
    } else {
        at.into_iter()
            .map(|i| XLabel { x: x(i), text: days[i].date.get(5..).unwrap_or_default().to_string() })
            .collect()
    };
    LineChart { width: WIDTH, height: LINE_HEIGHT, left: LEFT, right: RIGHT, base, ticks, points, labels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::reports::{Satisfaction, Spread};

    fn group(key: &str, created: u64, resolved: u64) -> GroupFigures {
        GroupFigures {
            key: key.into(),
            created,
            resolved,
            first_response_minutes: Spread::default(),
            resolution_minutes: Spread::default(),
            sla_met_pct: None,
            reopen_rate_pct: None,
            satisfaction: Satisfaction { count: 0, good_pct: None },
        }
    }

    #[test]
    fn scales_use_tidy_steps() {
        assert_eq!(scale(0), (1, 1));
        assert_eq!(scale(3), (1, 3));
        assert_eq!(scale(7), (2, 8));
        assert_eq!(scale(17), (5, 20));
        assert_eq!(scale(40), (10, 40));
        assert_eq!(scale(123), (50, 150));
    }

    #[test]
    fn bars_stand_on_the_base_in_proportion() {
        let c = bars(&[group("support", 8, 4), group("a-very-long-mailbox-name", 2, 0)]);
        let (a, b) = (&c.pairs[0], &c.pairs[1]);
        assert_eq!(a.created.y + a.created.h, c.base);
        assert_eq!(a.created.h, 2.0 * a.resolved.h);
        assert_eq!((a.created.h, b.resolved.h), (c.base - 24.0, 0.0), "8 is the top of the scale");
        assert!(a.created.x + a.created.w < a.resolved.x && a.resolved.x + a.resolved.w < b.created.x);
        assert_eq!(b.label, "a-very-long…");
        assert_eq!(c.ticks.iter().map(|t| t.label).collect::<Vec<_>>(), [0, 2, 4, 6, 8]);
        assert!(bars(&[]).pairs.is_empty());
    }

    #[test]
    fn the_line_spans_the_width_with_labelled_dates() {
        let days: Vec<BacklogDay> =
            (1..=9).map(|d| BacklogDay { date: format!("2026-02-0{d}"), open: (d as u64 - 1) % 3 }).collect();
        let c = line(&days);
        let points: Vec<&str> = c.points.split(' ').collect();
        assert_eq!(points.len(), 9);
        assert_eq!(points[0], format!("{LEFT},{}", c.base), "the first day has none open");
        assert!(points[8].starts_with(&format!("{RIGHT},")));
        assert_eq!(
            c.labels.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["02-01", "02-03", "02-05", "02-07", "02-09"]
        );
        assert_eq!(line(&days[..1]).labels.len(), 1);
        assert!(line(&[]).points.is_empty());
    }
}
