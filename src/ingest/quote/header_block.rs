//! Quoted-message header blocks ("From:/Sent:/To:/Subject:", localized) and "Original Message"/forward markers.

use std::sync::LazyLock;

use regex::Regex;

use super::compile;

/// What a header key names; a block needs several different ones to count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    From,
    Date,
    To,
    Cc,
    Subject,
    ReplyTo,
}

/// Localized header keys, grouped by field. Longer alternatives come first so they win.
const FIELD_KEYS: &[(Field, &str)] = &[
    (Field::ReplyTo, r"reply-to|antwort\s+an|répondre\s+à|responder\s+a|risposta|svar\s+till|beantwoorden"),
    (
        Field::From,
        r"from|von|de|da|van|från|fra|od|от|lähettäjä|kimden|feladó|afzender|expéditeur|remitente|差出人|发件人|寄件者|寄件人|보낸\s*사람|від|από|de\s+la|šalje|מאת|من",
    ),
    (
        Field::Date,
        r"sent\s+at|sent|date|gesendet|datum|envoyé\s+le|envoyé|enviado\s+el|enviada\s+em|enviado\s+em|enviado|inviato\s+il|inviato|data|verzonden|verstuurd|skickat|sendt|wysłano|wysłane|отправлено|дата|lähetetty|gönderildi|tarih|odesláno|message\s+du|送信日時|发送时间|發送時間|傳送時間|日期|时间|보낸\s*날짜|날짜|elküldve|στάλθηκε|trimis|надіслано|poslano|נשלח|أرسل|تاريخ\s+الإرسال",
    ),
    (
        Field::To,
        r"to|an|à|a|para|aan|till|til|do|кому|vastaanottaja|kime|komu|címzett|destinataire|destinatario|宛先|收件人|收件者|받는\s*사람|προς|către|prima|אל|إلى",
    ),
    (Field::Cc, r"cc|bcc|kopie|copie\s+à|copie|kopia|копия|抄送|副本|参照"),
    (
        Field::Subject,
        r"subject|betreff|objet|sujet|asunto|oggetto|onderwerp|assunto|ämne|emne|temat|тема|aihe|konu|předmět|tárgy|件名|主题|主旨|제목|θέμα|subiect|predmet|נושא|الموضوع",
    ),
];

/// One regex per field: the key at the start of a line (after indentation, `>` or `*` bold markers),
/// optionally followed by `*` or `**`, then a colon.
static FIELD_LINES: LazyLock<Vec<(Field, Regex)>> = LazyLock::new(|| {
    FIELD_KEYS
        .iter()
        .map(|(field, keys)| {
            let re = compile(&format!(r"(?i)^[\s*]*(?:{keys})[ \t\u{{a0}}]*\*{{0,2}}[ \t\u{{a0}}]*[:：]"));
            (*field, re)
        })
        .collect()
});

/// The same keys anywhere in a line, for header blocks flattened onto one line by HTML-to-text
/// conversion ("From: A Sent: Monday … To: B Subject: Hi").
static INLINE_FIELDS: LazyLock<Vec<(Field, Regex)>> = LazyLock::new(|| {
    FIELD_KEYS
        .iter()
        .map(|(field, keys)| {
            let re = compile(&format!(r"(?i)(?:^|\s|\*)(?:{keys})[ \t\u{{a0}}]*\*{{0,2}}[ \t\u{{a0}}]*[:：]"));
            (*field, re)
        })
        .collect()
});

/// Word stems naming the message in front of a quoted or forwarded one, by language
/// ("Original Message", "Message d'origine", "Weitergeleitete Nachricht", "原始邮件" …).
const ORIGINAL_MESSAGE_STEMS: &str = r"original|origine|forward|reply\s+message|ursprüngliche|weitergeleitet|transféré|reenviad|inoltrat|encaminhad|doorgestuurd|oorspronkelijk|origineel|oprindelig|opprinnelig|ursprunglig|vidarebefordra|videresend|alkuperäinen|välitetty|oryginaln|przekazan|исходн|пересла|оригинальн|původní|přeposlan|eredeti|továbbított|αρχικό|προωθημένο|izvorn|proslijeđen|原始|転送|元のメッセージ";

/// "-----Original Message-----", "*-------- Message d'origine --------*", "----- Original Nachricht ----":
/// a few words, one of them naming the original or forwarded message, between runs of dashes.
static DASHED_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"(?i)^[\s>*]*-{{2,}}\s*(?:[\p{{L}}'’.\-]+\s+){{0,3}}[\p{{L}}'’]*(?:{ORIGINAL_MESSAGE_STEMS})[\p{{L}}'’]*(?:\s+[\p{{L}}'’.\-]+){{0,3}}\s*:?\s*-{{2,}}[\s*]*$"
    ))
});

/// Apple Mail and friends: "Begin forwarded message:" without dashes.
static FORWARD_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?i)^[\s>*]*(?:begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht|début\s+du\s+message\s+(?:réexpédié|transféré)|inicio\s+del\s+mensaje\s+reenviado|inizio\s+messaggio\s+inoltrato|begin\s+doorgestuurd\s+bericht|início\s+da\s+mensagem\s+encaminhada|начало\s+пересылаемого\s+сообщения|転送されたメッセージ)\s*[:：]?\s*$",
    )
});

/// The colon of a header line ("Envoyé le :", "*From:*", "보낸 사람:") comes within this many characters.
const MAX_KEY_PREFIX_CHARS: usize = 40;

/// A block needs this many different fields (one of them From) to be taken for a quoted header.
const MIN_BLOCK_FIELDS: usize = 3;

/// Real header blocks are short; scanning stops here, which also keeps long runs of
/// "Key: value" lines (logs, forms) from costing quadratic time.
const MAX_BLOCK_LINES: usize = 12;

/// True for a separator line that opens a quoted or forwarded message.
pub fn is_message_marker(line: &str) -> bool {
    line.len() < 200 && (DASHED_MARKER.is_match(line) || FORWARD_INTRO.is_match(line))
}

/// True for a whole header block on one line: it starts with a From key and names at least
/// two more different fields.
pub fn is_flattened_header_block(line: &str) -> bool {
    if line.len() > 1000 || field_of(line) != Some(Field::From) {
        return false;
    }
    let named = INLINE_FIELDS.iter().filter(|(_, re)| re.is_match(line)).count();
    named >= MIN_BLOCK_FIELDS
}

/// The field named by a header line, if it is one.
fn field_of(line: &str) -> Option<Field> {
    // Cheap pre-check: keys are short, so a header line has its colon near the start.
    let colon_near_start = line.chars().take(MAX_KEY_PREFIX_CHARS).any(|c| c == ':' || c == '：');
    if line.len() > 1000 || !colon_near_start {
        return None;
    }
    FIELD_LINES.iter().find(|(_, re)| re.is_match(line)).map(|(field, _)| *field)
}

/// Marks every line that belongs to a header block of a quoted message.
pub fn mark_header_blocks(lines: &[&str]) -> Vec<bool> {
    let mut marked = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        match block_end(lines, i) {
            Some(end) => {
                marked[i..end].iter_mut().for_each(|m| *m = true);
                i = end;
            }
            None => i += 1,
        }
    }
    marked
}

/// If a header block starts at `start`, the index just past its last line.
/// Blocks are consecutive header lines; one wrapped continuation line at a time is allowed.
fn block_end(lines: &[&str], start: usize) -> Option<usize> {
    field_of(lines[start])?;
    let mut fields: Vec<Field> = Vec::new();
    let mut end = start;
    let mut continuation_run = 0;
    for (i, line) in lines.iter().enumerate().skip(start).take(MAX_BLOCK_LINES) {
        if line.trim().is_empty() {
            break;
        }
        match field_of(line) {
            Some(field) => {
                if !fields.contains(&field) {
                    fields.push(field);
                }
                continuation_run = 0;
                end = i + 1;
            }
            None if continuation_run == 0 && i > start => continuation_run += 1,
            None => break,
        }
    }
    (fields.len() >= MIN_BLOCK_FIELDS && fields.contains(&Field::From)).then_some(end)
}
