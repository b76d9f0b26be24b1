//! The report table as CSV (RFC 4180: comma-separated, CRLF lines, fields quoted when they need it), one row per
//! group; empty fields where the JSON has `null`.

use crate::automation::reports::{GroupFigures, Summary};

/// The header after the group's own column (named after the grouping).
const COLUMNS: [&str; 10] = [
    "created",
    "resolved",
    "first_response_median_minutes",
    "first_response_p90_minutes",
    "resolution_median_minutes",
    "resolution_p90_minutes",
    "sla_met_pct",
    "reopen_rate_pct",
    "satisfaction_count",
    "satisfaction_good_pct",
];

/// One field: quoted (inner quotes doubled) when it holds a comma, quote or line break. A leading `=`, `+`, `-`,
/// `@` or tab gets a `'` first, so a spreadsheet shows the text instead of running it as a formula.
pub fn field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.into() };
    if value.contains([',', '"', '\r', '\n']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

fn cell<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn row(g: &GroupFigures) -> Vec<String> {
    vec![
        field(&g.key),
        g.created.to_string(),
        g.resolved.to_string(),
        cell(g.first_response_minutes.median),
        cell(g.first_response_minutes.p90),
        cell(g.resolution_minutes.median),
        cell(g.resolution_minutes.p90),
        cell(g.sla_met_pct),
        cell(g.reopen_rate_pct),
        g.satisfaction.count.to_string(),
        cell(g.satisfaction.good_pct),
    ]
}

/// The whole table: a header row, then one row per group.
pub fn table(s: &Summary) -> String {
    let header = std::iter::once(s.group.as_str()).chain(COLUMNS).collect::<Vec<_>>().join(",");
    let mut out = header + "\r\n";
    for g in &s.groups {
        out.push_str(&row(g).join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::automation::reports::{GroupBy, Satisfaction, Spread};

    #[test]
    fn fields_are_quoted_only_when_they_need_it() {
        assert_eq!(field("support"), "support");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("=1+1"), "'=1+1");
        assert_eq!(field("-x,y"), "\"'-x,y\"");
        assert_eq!(field(""), "");
    }

    #[test]
    fn the_table_has_a_header_and_a_row_per_group_with_empty_nulls() {
        let g = |key: &str, first: Spread| GroupFigures {
            key: key.into(),
            created: 3,
            resolved: 2,
            first_response_minutes: first,
            resolution_minutes: Spread { median: Some(90), p90: Some(2640) },
            sla_met_pct: Some(50.0),
            reopen_rate_pct: Some(33.3),
            satisfaction: Satisfaction { count: 0, good_pct: None },
        };
        let s = Summary {
            from: "2026-02-02".into(),
            to: "2026-02-15".into(),
            group: GroupBy::Mailbox,
            groups: vec![g("support", Spread { median: Some(120), p90: Some(120) }), g("sales, EU", Spread::default())],
            backlog: vec![],
        };
        assert_eq!(
            table(&s),
            "mailbox,created,resolved,first_response_median_minutes,first_response_p90_minutes,\
             resolution_median_minutes,resolution_p90_minutes,sla_met_pct,reopen_rate_pct,satisfaction_count,\
             satisfaction_good_pct\r\n\
             support,3,2,120,120,90,2640,50,33.3,0,\r\n\
             \"sales, EU\",3,2,,,90,2640,50,33.3,0,\r\n"
        );
    }
}
