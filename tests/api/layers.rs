//! The layering of `src/` (README "Architecture"): arrows only downwards, no cycle between the top-level modules,
//! SQL only in `db/`. Reads the `crate::…` paths of every source file (tests inside modules excepted).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module and the modules it may name. `domain` names nothing; everything may name `domain`.
const ALLOWED: &[(&str, &[&str])] = &[
    ("cli", &["startup", "web", "ingest", "automation", "tickets", "outbound", "net", "db", "platform"]),
    ("startup", &["web", "ingest", "automation", "tickets", "outbound", "net", "db", "platform"]),
    ("web", &["ingest", "automation", "tickets", "outbound", "net", "db", "platform"]),
    ("ingest", &["tickets", "net", "db", "platform"]),
    ("automation", &["tickets", "outbound", "db", "platform"]),
    ("tickets", &["outbound", "db", "platform"]),
    ("outbound", &["net", "db", "platform"]),
    ("net", &["platform"]),
    ("db", &["platform"]),
    ("platform", &[]),
    ("domain", &[]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`main.rs` and `lib.rs` count as `cli`, the shell around it).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel.iter().next().unwrap().to_string_lossy().into_owned();
    let name = first.trim_end_matches(".rs").to_string();
    if name == "main" || name == "lib" { "cli".into() } else { name }
}

/// The code of a file without comments and without its `#[cfg(test)]` part.
fn product_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// Top-level modules named by `crate::x` paths and `use crate::{x, y::…}` groups.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(item.trim().split("::").next().unwrap_or_default().to_string());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            out.insert(item.trim().split("::").next().unwrap_or_default().to_string());
        } else {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.insert(name);
        }
    }
    out.retain(|n| !n.is_empty());
    out
}

fn arrows() -> BTreeMap<(String, String), Vec<String>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for f in files {
        let from = module_of(&f);
        for to in named_modules(&product_code(&std::fs::read_to_string(&f).unwrap())) {
            if to != from {
                out.entry((from.clone(), to)).or_default().push(f.strip_prefix(src()).unwrap().display().to_string());
            }
        }
    }
    out
}

#[test]
fn every_import_points_down_the_layers() {
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for ((from, to), files) in arrows() {
        let ok = to == "domain" || allowed.get(from.as_str()).is_some_and(|a| a.contains(&to.as_str()));
        if !ok || !allowed.contains_key(to.as_str()) && to != "domain" {
            wrong.push(format!("{from} -> {to} in {files:?}"));
        }
    }
    assert!(wrong.is_empty(), "imports against the layering:\n{}", wrong.join("\n"));
}

#[test]
fn no_cycle_between_top_level_modules() {
    let edges: BTreeSet<(String, String)> = arrows().into_keys().collect();
    for (a, b) in &edges {
        // Is `a` reachable from `b`?
        let mut stack = vec![b.clone()];
        let mut seen = BTreeSet::new();
        while let Some(x) = stack.pop() {
            assert!(&x != a, "a cycle through {a} and {b}");
            if seen.insert(x.clone()) {
                stack.extend(edges.iter().filter(|(f, _)| *f == x).map(|(_, t)| t.clone()));
            }
        }
    }
}

#[test]
fn sql_is_written_only_in_db() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let outside: Vec<String> = files
        .iter()
        .filter(|f| module_of(f) != "db")
        .filter(|f| {
            let code = product_code(&std::fs::read_to_string(f).unwrap());
            ["sqlx::query", "query_as::<", "query_scalar(", "sqlx::raw_sql"].iter().any(|q| code.contains(q))
        })
        .map(|f| f.strip_prefix(src()).unwrap().display().to_string())
        .collect();
    assert!(outside.is_empty(), "SQL outside src/db: {outside:?}");
}

#[test]
fn the_reader_finds_grouped_and_inline_paths() {
    let code = "use crate::{db::{self, Db}, domain::X};\nfn f() { crate::tickets::x(); }";
    let found: Vec<String> = named_modules(code).into_iter().collect();
    assert_eq!(found, ["db", "domain", "tickets"]);
    assert_eq!(product_code("a // crate::web\n#[cfg(test)]\nmod t { crate::cli }"), "a ");
}
