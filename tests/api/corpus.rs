//! The shared real-world corpus, read in place from `DESKMAIL_CORPUS`: storage, quote stripping, classification.

use crate::helpers::{Store, require_env, spawn_app};
use crate::store_tests;
use deskmail::ingest::OutcomeKind;
use deskmail::ingest::parse::parse;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(require_env("DESKMAIL_CORPUS")?);
    assert!(dir.join("MANIFEST.tsv").is_file(), "DESKMAIL_CORPUS={} has no MANIFEST.tsv", dir.display());
    Some(dir)
}

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

fn sibling(path: &Path, from: &str, to: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?.strip_suffix(from)?;
    std::fs::read_to_string(path.with_file_name(format!("{name}{to}"))).ok()
}

fn pct(n: usize, d: usize) -> f64 {
    100.0 * n as f64 / d.max(1) as f64
}

store_tests!(every_corpus_message_is_stored_or_quarantined_with_its_bytes_intact);

async fn every_corpus_message_is_stored_or_quarantined_with_its_bytes_intact(store: Store) {
    let Some(dir) = corpus() else { return };
    let Some(app) = spawn_app(store).await else { return };
    let paths: Vec<PathBuf> =
        ["mime", "replies", "bounces", "autoreplies"].iter().flat_map(|d| files(&dir.join(d), ".eml")).collect();
    assert!(paths.len() > 1000, "corpus looks incomplete: {} messages", paths.len());
    let mut counts: HashMap<OutcomeKind, usize> = HashMap::new();
    for chunk in paths.chunks(200) {
        let raws: Vec<Vec<u8>> = chunk.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let refs: Vec<&[u8]> = raws.iter().map(Vec::as_slice).collect();
        let outcomes = app.ingest_at("support", &refs).await;
        assert_eq!(outcomes.len(), raws.len());
        for (raw, (o, path)) in raws.iter().zip(outcomes.iter().zip(chunk)) {
            *counts.entry(o.kind).or_default() += 1;
            let sha = deskmail::platform::storage::sha256_hex(raw);
            let back = app.services.blobs.get(&sha).unwrap_or_else(|e| panic!("{}: raw not kept: {e}", path.display()));
            assert_eq!(deskmail::platform::storage::sha256_hex(&back), sha, "{}", path.display());
        }
    }
    println!("corpus ingest ({store:?}): {} messages: {counts:?}", paths.len());
    let (_, q) = app.get("/api/v1/quarantine?per_page=1").await;
    assert_eq!(q["total"].as_u64().unwrap() as usize, counts.get(&OutcomeKind::Quarantined).copied().unwrap_or(0));
}

/// The body a reply fixture's visible text is computed from, through the product's parse step.
fn reply_body(path: &Path) -> String {
    let raw = std::fs::read(path).unwrap();
    let name = path.to_string_lossy();
    if name.ends_with(".body.txt") {
        return String::from_utf8_lossy(&raw).into_owned();
    }
    let raw = if name.ends_with(".body.html") {
        [b"From: a@b.test\r\nContent-Type: text/html; charset=utf-8\r\n\r\n".as_slice(), &raw].concat()
    } else {
        raw
    };
    parse(&raw).map(|m| m.body_text).unwrap_or_default()
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn reply_fixtures_visible_text_matches_at_least_70_percent() {
    let Some(dir) = corpus() else { return };
    let (mut total, mut passed, mut failed) = (0, 0, Vec::new());
    for expected_path in files(&dir.join("replies"), ".expected.txt") {
        let stem = expected_path.to_string_lossy().strip_suffix(".expected.txt").unwrap().to_string();
        let Some(input) = [".body.txt", ".body.html", ".eml"]
            .iter()
            .map(|s| PathBuf::from(format!("{stem}{s}")))
            .find(|p| p.is_file())
        else {
            continue;
        };
        total += 1;
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        let got = deskmail::ingest::quote::visible_text(&reply_body(&input));
        if normalise(&got) == normalise(&expected) {
            passed += 1;
        } else {
            failed.push(input.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    println!("reply fixtures: {passed}/{total} = {:.1}% visible text matches (misses: {failed:?})", pct(passed, total));
    assert!(total >= 80, "only {total} reply fixtures found");
    assert!(pct(passed, total) >= 70.0, "{passed}/{total}");
}

/// Why a `bounces/` message does not report a failure (success/delay DSNs, ARF, upstream negatives).
fn not_a_failure(path: &Path, label: &str, raw: &[u8]) -> bool {
    let label = label.to_lowercase();
    if ["not a dsn", "not a bounce", "successful delivery", "delay warning", "delay notification"]
        .iter()
        .any(|k| label.contains(k))
    {
        return true;
    }
    if let Some(t) = sibling(path, ".eml", ".expected.txt")
        && ["temporary (delay/warning)", "action: transient", "type: fbl", "per_recipient_reports: 0", "is_bounce: no"]
            .iter()
            .any(|k| t.contains(k))
    {
        return true;
    }
    if let Some(t) = sibling(path, ".eml", ".expected.tsv") {
        let reasons: Vec<&str> = t
            .lines()
            .filter(|r| !r.starts_with('#') && r.contains('\t'))
            .filter_map(|r| r.split('\t').nth(3))
            .collect();
        if !reasons.is_empty() && reasons.iter().all(|r| *r == "delivered" || *r == "feedback") {
            return true;
        }
    }
    let text = String::from_utf8_lossy(raw).replace('\r', "\n").to_lowercase();
    let subject =
        text.lines().take_while(|l| !l.is_empty()).find(|l| l.starts_with("subject:")).unwrap_or("").to_string();
    if ["(delay)", "delayed", "warning"].iter().any(|k| subject.contains(k)) && !text.contains("action: failed") {
        return true;
    }
    let actions: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("action:")).map(str::trim).filter(|a| !a.is_empty()).collect();
    let ok = ["delayed", "delivered", "relayed", "expanded", "deliverable"];
    !actions.is_empty() && actions.iter().all(|a| ok.iter().any(|o| a.starts_with(o)))
}

fn manifest(dir: &Path) -> HashMap<String, String> {
    std::fs::read_to_string(dir.join("MANIFEST.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((cols.first()?.to_string(), cols.get(5)?.to_string()))
        })
        .collect()
}

#[test]
fn bounces_autoreplies_and_ordinary_mail_are_classified() {
    let Some(dir) = corpus() else { return };
    let labels = manifest(&dir);
    let classify = |p: &Path| parse(&std::fs::read(p).unwrap()).map(|m| m.classification).unwrap_or_default();
    let (mut denom, mut hits, mut with_id) = (0, 0, 0);
    for p in files(&dir.join("bounces"), ".eml") {
        let key = format!("bounces/{}", p.file_name().unwrap().to_string_lossy());
        if not_a_failure(&p, labels.get(&key).map(String::as_str).unwrap_or(""), &std::fs::read(&p).unwrap()) {
            continue;
        }
        denom += 1;
        if let Some(b) = classify(&p).bounce {
            hits += 1;
            with_id += usize::from(b.original_message_id.is_some());
        }
    }
    let mime = files(&dir.join("mime"), ".eml");
    let mime_bounces = mime.iter().filter(|p| classify(p).bounce.is_some()).count();
    let auto = files(&dir.join("autoreplies"), ".eml");
    let auto_hits = auto.iter().filter(|p| classify(p).is_automatic()).count();
    println!(
        "classification: bounces {hits}/{denom} = {:.1}% (original Message-ID in {with_id}); mime as bounce {mime_bounces}/{} = {:.2}%; \
         autoreplies automatic {auto_hits}/{} = {:.1}%",
        pct(hits, denom),
        mime.len(),
        pct(mime_bounces, mime.len()),
        auto.len(),
        pct(auto_hits, auto.len())
    );
    assert!(denom > 400 && pct(hits, denom) >= 90.0, "bounces: {hits}/{denom}");
    assert!(pct(mime_bounces, mime.len()) <= 1.0, "mime false bounces: {mime_bounces}");
    assert!(pct(auto_hits, auto.len()) >= 90.0, "autoreplies: {auto_hits}/{}", auto.len());
}
