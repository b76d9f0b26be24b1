//! Multi-row statements: how a batch's rows are cut into statements, and their SQL, built once per shape.

use sqlx::{AnyConnection, AssertSqlSafe};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

/// `$first, $first+1, …` for `count` values (an `in (…)` list or a row of a multi-row insert).
pub(crate) fn marks(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A multi-row statement's name, row count and engine (PostgreSQL or not).
type Shape = (&'static str, usize, bool);

/// The SQL of a multi-row statement, built by `build` once per statement name, row count and engine, and kept
/// (the shapes are few: see [`insert_chunks`] and [`halving_chunks`]). `name` names one statement: two call sites
/// with the same name would share the SQL the first one built. On SQLite its `$1, $2, …` become `?`
/// when they come in that order, once each: SQLite binds `?` by position, but it finds the name of a `$N` by a
/// linear search and sqlx asks for every parameter's name, so a multi-row insert of n values written with `$N`
/// costs n² steps.
pub(crate) fn wide_sql(
    conn: &AnyConnection,
    name: &'static str,
    rows: usize,
    build: impl FnOnce() -> String,
) -> AssertSqlSafe<Arc<str>> {
    static BUILT: LazyLock<Mutex<HashMap<Shape, Arc<str>>>> = LazyLock::new(Default::default);
    let pg = conn.backend_name() == "PostgreSQL";
    let key = (name, rows, pg);
    if let Some(sql) = BUILT.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return AssertSqlSafe(sql.clone());
    }
    let sql = build();
    let sql: Arc<str> = match pg {
        true => sql.into(),
        false => question_marks(&sql).unwrap_or(sql).into(),
    };
    BUILT.lock().unwrap_or_else(|e| e.into_inner()).insert(key, sql.clone());
    AssertSqlSafe(sql)
}

/// `sql` with its numbered parameters (outside quoted literals) as `?`, if they are `$1, $2, …` in order.
fn question_marks(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let (mut next, mut quoted) = (1usize, false);
    let mut chars = sql.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        if c != '$' || quoted {
            out.push(c);
            continue;
        }
        let digits = sql[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || sql[at + 1..at + 1 + digits].parse::<usize>().ok()? != next {
            return None;
        }
        next += 1;
        out.push('?');
        for _ in 0..digits {
            chars.next();
        }
    }
    Some(out)
}

/// Rows for multi-row inserts: statements of exactly `size` rows, then single rows. A statement with a new row
/// count is a new statement for the server to prepare (on PostgreSQL that costs more than the round trips it
/// saves), so only three shapes are used: `size`, a quarter of it, and one.
pub(crate) fn insert_chunks<T>(rows: &[T], size: usize) -> impl Iterator<Item = &[T]> {
    let full = rows.len() / size * size;
    let quarter = (size / 4).max(1);
    let rest = &rows[full..];
    let middle = rest.len() / quarter * quarter;
    rows[..full].chunks(size).chain(rest[..middle].chunks(quarter)).chain(rest[middle..].chunks(1))
}

/// Rows for SQLite's multi-row inserts into a table with a full-text index: `size` rows per statement, then
/// halves down to one (at most log2(size) + 1 shapes), so a batch takes few statements. FTS5 writes its pending
/// terms out at the start of every statement that changes it (its savepoint), and writing them for 16 messages
/// at a time costs about three times as much as for hundreds.
pub(crate) fn halving_chunks<T>(rows: &[T], size: usize) -> Vec<&[T]> {
    let (mut out, mut rest, mut size) = (Vec::new(), rows, size.max(1));
    while !rest.is_empty() {
        while size > rest.len() {
            size /= 2;
        }
        let (chunk, after) = rest.split_at(size);
        out.push(chunk);
        rest = after;
    }
    out
}

/// Values for `in (…)` lists of exactly `size` entries (the last chunk repeats its last value), so every look-up
/// is the same prepared statement.
pub(crate) fn lookup_chunks<T: Clone>(values: &[T], size: usize) -> Vec<Vec<T>> {
    values
        .chunks(size)
        .map(|c| {
            let mut v = c.to_vec();
            let last = c[c.len() - 1].clone();
            v.resize(size, last);
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_statements_come_in_three_shapes_and_keep_every_row_in_order() {
        let rows: Vec<i32> = (0..39).collect();
        let sizes: Vec<usize> = insert_chunks(&rows, 16).map(<[i32]>::len).collect();
        assert_eq!(sizes, [16, 16, 4, 1, 1, 1]);
        assert_eq!(insert_chunks(&rows, 16).flatten().copied().collect::<Vec<_>>(), rows);
        assert_eq!(lookup_chunks(&[1, 2, 3, 4, 5], 4), [vec![1, 2, 3, 4], vec![5, 5, 5, 5]]);
        assert_eq!(marks(3, 2), "$3, $4");
        let sizes: Vec<usize> = halving_chunks(&rows, 16).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, [16, 16, 4, 2, 1]);
        assert_eq!(halving_chunks(&rows, 16).concat(), rows);
        assert!(halving_chunks(&rows[..0], 16).is_empty());
    }

    #[test]
    fn numbered_parameters_in_order_become_question_marks_and_others_stay() {
        let q = |s: &str| question_marks(s);
        assert_eq!(
            q("insert into t values ($1, $2), ($3, $4)").as_deref(),
            Some("insert into t values (?, ?), (?, ?)")
        );
        assert_eq!(q("values ($1, '$2 a', $2)").as_deref(), Some("values (?, '$2 a', ?)"));
        assert_eq!(q("values ($10)"), None, "out of order");
        assert_eq!(q("values ($1, $1)"), None, "used twice");
        assert_eq!(q("values ($1, $x)"), None, "a $ that is no parameter");
        assert_eq!(q("select 1").as_deref(), Some("select 1"));
        assert_eq!(q("values ($1, 'it''s', $2)").as_deref(), Some("values (?, 'it''s', ?)"));
    }
}
