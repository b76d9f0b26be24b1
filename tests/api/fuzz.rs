//! Fuzzing the whole pipeline: 20,000 corpus mails, each mutated (header bytes flipped, boundaries cut, encoded
//! words with control characters, deep nesting, splices), ingested with acknowledgements composed. Every one must
//! be stored or quarantined, nothing may panic. The seed is printed; `DESKMAIL_FUZZ_SEED` replays a run and
//! `DESKMAIL_FUZZ_CASES` changes its size (`scripts/fuzz` runs cargo-fuzz for longer searches).

use crate::helpers::{fresh_database, init_once, require_env, test_settings};
use deskmail::ingest::{Input, OutcomeKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::time::Instant;

/// Corpus mails larger than this are left out: the mutations, not the size, are what is tested here.
const MAX_SEED_BYTES: u64 = 64 * 1024;

fn seeds() -> Option<Vec<Vec<u8>>> {
    let dir = PathBuf::from(require_env("DESKMAIL_CORPUS")?);
    let mut out = Vec::new();
    for sub in ["mime", "replies", "bounces", "autoreplies"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            let path = entry.path();
            let small = entry.metadata().is_ok_and(|m| m.len() <= MAX_SEED_BYTES);
            if small && path.extension().is_some_and(|e| e == "eml") {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    out.sort();
    assert!(out.len() > 900, "corpus looks incomplete: {} seeds", out.len());
    Some(out)
}

/// Encoded words that decode to control characters, line breaks and NUL.
const EVIL_WORDS: &[&str] = &[
    "=?utf-8?q?Evil=0D=0ABcc:_x@evil.test?=",
    "=?utf-8?b?RXZpbA0KVG86IHlAZXZpbC50ZXN0?=",
    "=?iso-8859-1?q?a=00b=1Bc=7F?=",
    "=?utf-8?q?=E2=80=AEfdp.exe?=",
    "=?x-unknown?q?=FF=FE?=",
];

fn mutate(seed: &[u8], others: &[Vec<u8>], rng: &mut StdRng) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..rng.random_range(1..=3) {
        m = match rng.random_range(0..7) {
            0 => flip_header_bytes(m, rng),
            1 => cut_at_boundary(m, rng),
            2 => evil_header(m, rng),
            3 => nest_multipart(m, rng),
            4 => nest_html(m, rng),
            5 => splice(m, &others[rng.random_range(0..others.len())], rng),
            _ => {
                let at = rng.random_range(0..=m.len());
                m.truncate(at);
                m
            }
        };
    }
    m
}

/// Where the body of a raw mail starts (0 when it has no blank line).
fn body_start(m: &[u8]) -> usize {
    let crlf = m.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    crlf.or_else(|| m.windows(2).position(|w| w == b"\n\n").map(|i| i + 2)).unwrap_or(0)
}

fn flip_header_bytes(mut m: Vec<u8>, rng: &mut StdRng) -> Vec<u8> {
    let end = m.len().min(2048);
    for _ in 0..rng.random_range(1..=8) {
        if end > 0 {
            let i = rng.random_range(0..end);
            m[i] = match rng.random_range(0..4) {
                0 => b'\r',
                1 => b'\n',
                2 => 0,
                _ => rng.random(),
            };
        }
    }
    m
}

fn cut_at_boundary(m: Vec<u8>, rng: &mut StdRng) -> Vec<u8> {
    let starts: Vec<usize> = m.windows(3).enumerate().filter(|(_, w)| *w == b"\n--").map(|(i, _)| i + 1).collect();
    if starts.is_empty() {
        return m;
    }
    let at = starts[rng.random_range(0..starts.len())];
    let cut = (at + rng.random_range(0..8)).min(m.len());
    let mut out = m[..cut].to_vec();
    if rng.random_bool(0.5) {
        out.extend_from_slice(&m[(cut + rng.random_range(0..200)).min(m.len())..]);
    }
    out
}

fn evil_header(m: Vec<u8>, rng: &mut StdRng) -> Vec<u8> {
    let word = EVIL_WORDS[rng.random_range(0..EVIL_WORDS.len())];
    let header = match rng.random_range(0..4) {
        0 => format!("From: {word} <evil@customer.example>\r\n"),
        1 => format!("Cc: {word} <cc@customer.example>, {word}\r\n"),
        2 => format!("Subject: {word} {word}\r\n"),
        _ => format!("Reply-To: {word} <r@customer.example>\r\nTo: {word} <support@example.test>\r\n"),
    };
    let mut out = header.into_bytes();
    out.extend_from_slice(&m);
    out
}

fn nest_multipart(m: Vec<u8>, rng: &mut StdRng) -> Vec<u8> {
    let depth = rng.random_range(10..2000);
    let mut out = b"From: nest@customer.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n".to_vec();
    for i in 0..depth {
        if rng.random_bool(0.3) {
            out.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\nFrom: inner@customer.example\r\n");
        } else {
            out.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n").as_bytes(),
            );
        }
    }
    out.extend_from_slice(&m);
    out
}

fn nest_html(m: Vec<u8>, rng: &mut StdRng) -> Vec<u8> {
    let depth = rng.random_range(100..3_000);
    let tag = ["<div>", "<b>", "<table><tr><td>", "<blockquote>", "<span style=\"x\">"][rng.random_range(0..5)];
    let mut out = b"From: html@customer.example\r\nSubject: html\r\nContent-Type: text/html\r\n\r\n".to_vec();
    out.extend_from_slice(tag.repeat(depth).as_bytes());
    out.extend_from_slice(&m[body_start(&m)..]);
    out
}

fn splice(m: Vec<u8>, other: &[u8], rng: &mut StdRng) -> Vec<u8> {
    let at = rng.random_range(0..=m.len());
    let from = rng.random_range(0..=other.len());
    let to = (from + rng.random_range(0..4096)).min(other.len());
    let mut out = m[..at].to_vec();
    out.extend_from_slice(&other[from..to]);
    out.extend_from_slice(&m[at..]);
    out
}

#[tokio::test]
async fn twenty_thousand_mutated_corpus_mails_are_all_stored_or_quarantined_without_a_panic() {
    let Some(seeds) = seeds() else { return };
    init_once();
    let cases: usize = std::env::var("DESKMAIL_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let seed: u64 =
        std::env::var("DESKMAIL_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| rand::rng().random());
    println!("fuzz: {cases} cases, DESKMAIL_FUZZ_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database(crate::helpers::Store::Sqlite, dir.path()).await.unwrap();
    let mut settings = test_settings(dir.path(), url);
    settings.mailboxes.push(
        toml::from_str(
            "name = \"support\"\naddress = \"support@example.test\"\nplus_addressing = true\n\
             smtp = { host = \"127.0.0.1\", port = 9, tls = \"none\" }",
        )
        .unwrap(),
    );
    // Services only: acknowledgements are composed and queued, nothing is sent.
    let services = deskmail::startup::Services::start(settings).await.unwrap();
    let mailbox = services.db.mailbox_by_name("support").await.unwrap().unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let mut counts = std::collections::HashMap::<OutcomeKind, usize>::new();
    let mut done = 0;
    while done < cases {
        let batch: Vec<Vec<u8>> = (0..200.min(cases - done))
            .map(|_| mutate(&seeds[rng.random_range(0..seeds.len())], &seeds, &mut rng))
            .collect();
        let inputs = batch.iter().map(|raw| Input { raw: raw.clone(), source: None }).collect();
        let outcomes = match services.pipeline.ingest(&mailbox, inputs, None).await {
            Ok(o) => o,
            Err(e) => {
                let kept = dir.path().join("failed-batch");
                std::fs::create_dir_all(&kept).unwrap();
                for (i, raw) in batch.iter().enumerate() {
                    std::fs::write(kept.join(format!("{i}.eml")), raw).unwrap();
                }
                let _ = dir.keep();
                panic!("seed {seed}: batch at {done} failed ({e}); inputs in {}", kept.display());
            }
        };
        assert_eq!(outcomes.len(), batch.len(), "seed {seed}: one outcome per input");
        for (raw, o) in batch.iter().zip(&outcomes) {
            assert_eq!(o.sha256, deskmail::platform::storage::sha256_hex(raw), "seed {seed}");
            *counts.entry(o.kind).or_default() += 1;
        }
        done += batch.len();
    }
    let queued: i64 =
        sqlx::query_scalar("select count(*) from outbound_mails").fetch_one(services.db.pool()).await.unwrap();
    println!("fuzz: {done} mails in {:.1} s: {counts:?}; {queued} mails queued", started.elapsed().as_secs_f64());
    assert!(counts.get(&OutcomeKind::Created).copied().unwrap_or(0) > cases / 10, "most mutations still make tickets");
    assert!(queued > 0, "acknowledgements were composed");
}
