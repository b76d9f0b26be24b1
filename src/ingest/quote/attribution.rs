//! Attribution lines that open quoted history ("On … wrote:", "Am … schrieb …:", …), also when wrapped over 3 lines.

use std::sync::LazyLock;

use regex::Regex;

use super::compile;

/// Verbs that end (or, for Germanic languages, precede the name in) an attribution line.
/// Alphabetic verbs must not be glued to a preceding letter ("rewrote"); CJK ones always are.
/// (An explicit non-letter instead of `\b`: Unicode `\b` would keep the fast DFA from running.)
const WROTE_VERBS: &str = r"(?:(?:^|[^\p{L}\p{N}_])(?:wrote|writes|said|says|schrieb|geschrieben|schrieben\s+sie|a\s+écrit|a\s+ecrit|écrivait|nous\s+a\s+dit|escribió|escribio|ha\s+scritto|scrisse|schreef|het\s+volgende\s+geschreven|escreveu|skrev|skrevet|skriver|napisała|napisał|napisal|написала|написал|написав|пише|kirjoitti|napsal|napísal|yazdı|írta|a\s+scris|έγραψε|kirjutas|rašė|rakstīja|napisao|napisala|pisze|đã\s+viết|menulis|cytuję)|写道|寫道|書きました|작성|เขียนว่า)";

/// Words that open an "On <date>, <name> wrote:" style line, per language.
const OPENERS: &str =
    r"(?:on|am|le|el|il|op|em|den|på|dnia|dňa|dne|w\s+dniu|pada|vào|at|στις|quoting|citando|zitat\s+von|cytuję|в)";

/// Full weekday names: some clients start the attribution with one ("понедельник, 6 октября 2014 г. …").
const WEEKDAYS: &str = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье|poniedziałek|wtorek|środa|czwartek|piątek|sobota|niedziela|måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag|mandag|tirsdag|lørdag|søndag)";

/// Slavic clients add the feminine ending in parentheses: "napisał(a)", "napísal(a)", "написал(а)".
const GENDER_SUFFIX: &str = r"(?:\s?\([\p{L}]{1,3}\))?";

/// End of an attribution: the verb at the end, or the verb followed by the name and a colon.
fn end_pattern() -> String {
    format!(r"{WROTE_VERBS}{GENDER_SUFFIX}(?:[\s.\-]*[:：]?[\s\-]*|\s.*[:：][\s\-]*)$")
}

/// An e-mail address, optionally in angle brackets or parentheses, followed by a colon at the end.
const EMAIL_COLON_END: &str = r"[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+\s*>{0,2}\s*\)?\s*[:：][\s\-]*$";

/// "On <date>, <name> wrote:" and its translations.
static OPENER_LINE: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r"(?i)^[\s\-*]*{OPENERS}\s.*?(?:{}|{EMAIL_COLON_END})", end_pattern())));

/// "30.09.2017, 18.30, Name <mail>:" / "tir. 18. apr. 2017 kl. 13:09 skrev Name <mail>:".
static DATE_FIRST_LINE: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^[\s\-*]*(?:{WEEKDAYS},?\s+|\p{{L}}{{1,4}}\.?,?\s+)?\d.*?(?:{}|{EMAIL_COLON_END})",
        end_pattern()
    ))
});

/// Chinese "在 <date>，<name> 写道：".
static CJK_OPENER_LINE: LazyLock<Regex> = LazyLock::new(|| compile(r"^[\s\-*]*(?:在|於).*?(?:写道|寫道)[\s:：]*$"));

/// "Name schrieb am <date>:" / "Name wrote on <date>:".
static NAME_VERB_DATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^.+?[^\p{L}\p{N}_](?:wrote|schrieb|a\s+écrit|escribió|ha\s+scritto|escreveu|skrev|schreef)\s+(?:on|am|le|el|il|em|den|op|på)\s.*[:：]\s*$",
    )
});

/// "Some One <someone@example.com> wrote:" (no date, but an address).
static NAME_EMAIL_LINE: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r"(?i)^.*?[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+.*?{}", end_pattern())));

/// Any line ending in "<address>:"; with a date, e.g. Hebrew or Arabic Gmail attributions with no known verb.
static ADDRESS_COLON_LINE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^.*<[\w.+\-']+@[\w\-]+(?:\.[\w\-]+)+\s*>\s*[:：]\s*$"));

/// A year or a numeric date.
static DATE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?:^|\D)(?:19|20)\d{2}(?:\D|$)|\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}|\d{4}年"));

/// Gmail's old "2016-03-03 17:21 GMT+01:00 Some One" and "2013/10/2 name <mail>" forms (no verb, no colon).
static ISO_DATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^\s*\d{4}[-/]\d{1,2}[-/]\d{1,2}(?:\s+\d{1,2}:\d{2}\s+GMT[+\-]\d{1,2}:?\d{2}\s+[^\s].*|\s.*<[^<>@\s]+@[^<>@\s]+>)\s*$",
    )
});

/// "Name wrote:" with nothing else: only an attribution when a quote block follows.
static BARE_WROTE_LINE: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r"(?i)^\s*[^\s>].*?{WROTE_VERBS}\s*[:：]\s*$")));

/// A line ending in a "wrote" verb (possibly followed by dashes, as in Zoho's "wrote ----").
static VERB_AT_END: LazyLock<Regex> = LazyLock::new(|| compile(&format!(r"(?i){WROTE_VERBS}{GENDER_SUFFIX}[\s.\-]*$")));

/// Cheap pre-check: every attribution ends with a colon or a "wrote" verb.
fn might_end_attribution(line: &str) -> bool {
    line.ends_with([':', '：']) || VERB_AT_END.is_match(line)
}

/// Lines longer than this are prose or data, never an attribution; skipping them keeps us fast.
const MAX_LINE_CHARS: usize = 400;

/// Longest undated "Name wrote:" line taken for an attribution.
const MAX_BARE_ATTRIBUTION_CHARS: usize = 120;

/// How many physical lines one attribution may be wrapped over.
const MAX_WRAPPED_LINES: usize = 3;

/// True when `text` has a year, a numeric date or an address: real attributions carry one, prose
/// that merely starts with "On …" and ends with "wrote:" rarely does. A clock time alone is not enough.
fn is_dated(text: &str) -> bool {
    text.contains('@') || DATE.is_match(text)
}

/// True when `joined` (one or more physical lines joined by spaces) is a dated attribution.
fn is_strong_attribution(joined: &str) -> bool {
    let dated = is_dated(joined);
    (dated && (OPENER_LINE.is_match(joined) || DATE_FIRST_LINE.is_match(joined)))
        || CJK_OPENER_LINE.is_match(joined)
        || (dated && NAME_VERB_DATE_LINE.is_match(joined))
}

/// Gmail wraps "<name@example.com\n>:" so the closing bracket lands at the start of a line and
/// looks like a quote marker.
fn is_wrapped_address_tail(line: &str) -> bool {
    line.chars().count() <= 3 && line.trim_start_matches('>').trim().chars().all(|c| c == ':' || c == '：')
}

/// True when `line` starts with `>` (ignoring indentation).
pub fn starts_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// Finds attribution lines. Returns, for each line, whether it belongs to an attribution.
/// `next_is_quoted(i)` tells whether the first non-blank line after `i` is a `>` quote.
pub fn mark_attributions(lines: &[&str], next_is_quoted: impl Fn(usize) -> bool) -> Vec<bool> {
    let mut marked = vec![false; lines.len()];
    for end in 0..lines.len() {
        if let Some(start) = attribution_start(lines, end, &next_is_quoted) {
            marked[start..=end].iter_mut().for_each(|m| *m = true);
        }
    }
    marked
}

/// If an attribution ends on line `end`, the line it starts on.
fn attribution_start(lines: &[&str], end: usize, next_is_quoted: &impl Fn(usize) -> bool) -> Option<usize> {
    let last = lines[end].trim();
    if last.is_empty() || last.chars().count() > MAX_LINE_CHARS {
        return None;
    }
    if ISO_DATE_LINE.is_match(last) && !starts_quoted(last) {
        return Some(end);
    }
    if !might_end_attribution(last) {
        return None;
    }
    let candidates = wrapped_candidates(lines, end);
    // Closest start first: a wrapped attribution never begins inside the text above it.
    if let Some((start, _)) = candidates.iter().find(|(_, joined)| is_strong_attribution(joined)) {
        return Some(*start);
    }
    let weak = |joined: &str| {
        NAME_EMAIL_LINE.is_match(joined) || (DATE.is_match(joined) && ADDRESS_COLON_LINE.is_match(joined))
    };
    if let Some((start, _)) = candidates.iter().find(|(_, joined)| weak(joined)) {
        return Some(*start);
    }
    let bare = last.chars().count() <= MAX_BARE_ATTRIBUTION_CHARS && !starts_quoted(last);
    (bare && BARE_WROTE_LINE.is_match(last) && next_is_quoted(end)).then_some(end)
}

/// The texts obtained by joining lines `start..=end` for the few possible starts, closest first.
/// A start line may not be blank, quoted, or overly long.
fn wrapped_candidates(lines: &[&str], end: usize) -> Vec<(usize, String)> {
    let mut out = Vec::with_capacity(MAX_WRAPPED_LINES);
    let mut joined = String::new();
    for start in (end.saturating_sub(MAX_WRAPPED_LINES - 1)..=end).rev() {
        let line = lines[start].trim();
        if line.is_empty() || line.chars().count() > MAX_LINE_CHARS {
            break;
        }
        joined = if joined.is_empty() { line.to_owned() } else { format!("{line} {joined}") };
        if !starts_quoted(line) {
            out.push((start, joined.clone()));
        } else if !is_wrapped_address_tail(line) {
            // A real quote line: nothing above it can be part of the same attribution.
            break;
        }
    }
    out
}
