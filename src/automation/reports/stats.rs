//! The statistics of the reports: nearest-rank percentiles and percentages rounded to one decimal.

use serde::Serialize;

/// Median and 90th percentile of a list of minutes; `null` both when the list is empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Spread {
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

impl Spread {
    /// The spread of `values` (sorted here).
    pub fn of(mut values: Vec<i64>) -> Spread {
        values.sort_unstable();
        Spread { median: nearest_rank(&values, 50), p90: nearest_rank(&values, 90) }
    }
}

/// The `p`-th percentile of sorted `values` by nearest rank: the value at rank ⌈p·n/100⌉ (1-based, at least 1).
pub fn nearest_rank(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// `part` of `whole` in percent, one decimal; `None` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_takes_the_value_at_the_rounded_up_rank() {
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(nearest_rank(&[7], 50), Some(7));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        // n = 4: median rank ⌈2⌉ = 2, p90 rank ⌈3.6⌉ = 4
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 90), Some(4));
        // n = 10: p90 rank 9; n = 11: p90 rank ⌈9.9⌉ = 10
        let ten: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&ten, 90), Some(9));
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(nearest_rank(&eleven, 90), Some(10));
        assert_eq!(nearest_rank(&eleven, 50), Some(6));
        assert_eq!(nearest_rank(&eleven, 100), Some(11));
        assert_eq!(nearest_rank(&eleven, 0), Some(1));
    }

    #[test]
    fn a_spread_sorts_first() {
        assert_eq!(Spread::of(vec![30, 10, 20]), Spread { median: Some(20), p90: Some(30) });
        assert_eq!(Spread::of(vec![]), Spread { median: None, p90: None });
    }

    #[test]
    fn percentages_have_one_decimal_and_none_of_nothing() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(3, 3), Some(100.0));
        assert_eq!(percent(0, 5), Some(0.0));
        assert_eq!(percent(0, 0), None);
    }
}
