//! IMAP UID sets: compact `1:5,7,9:12` strings from UIDs and back.

/// Formats UIDs (any order, duplicates allowed) as a compact IMAP sequence set; empty for none.
pub fn format(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut iter = sorted.into_iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while iter.peek() == Some(&(end + 1)) {
            end = iter.next().unwrap_or(end);
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}:{end}") });
    }
    parts.join(",")
}

/// Parses a set written by [`format`] (no `*`); invalid parts are ignored.
pub fn parse(set: &str) -> Vec<u32> {
    set.split(',')
        .filter_map(|part| match part.split_once(':') {
            Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
            None => part.trim().parse().ok().map(|u| (u, u)),
        })
        .flat_map(|(a, b): (u32, u32)| a.min(b)..=a.max(b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_compact_and_round_trip() {
        assert_eq!(format(&[9, 1, 2, 3, 5, 10, 3]), "1:3,5,9:10");
        assert_eq!(format(&[]), "");
        assert_eq!(parse("1:3,5,9:10"), vec![1, 2, 3, 5, 9, 10]);
        assert_eq!(parse(""), Vec::<u32>::new());
        assert_eq!(parse("x,4"), vec![4]);
    }
}
