//! Signature and separator lines: `-- `, underscore rules, "Sent from my iPhone" signatures, decorative rules.

use std::sync::LazyLock;

use regex::Regex;

use super::compile;

/// "-- " (RFC 3676) and its common mangled form "--"; a line of underscores (Outlook, mailing lists).
static SIGNATURE_DELIMITER: LazyLock<Regex> = LazyLock::new(|| compile(r"^(?:--[ \t]*|[ \t]*_{2,}[ \t]*)$"));

/// A line made only of rule characters (kept as text unless it sits right above quoted history).
static RULE: LazyLock<Regex> = LazyLock::new(|| compile(r"^[\s*]*(?:[-=~#+*_—–]\s*){3,}[\s*]*$"));

/// Phrases that open a client signature ("Sent from", "Envoyé de", "Gesendet von" …), by language.
const SENT_PHRASES: &str = r"sent\s+from|sent\s+via|sent\s+with|sent\s+using|sent\s+by|envoyé\s+de|envoyé\s+depuis|envoyé\s+à\s+partir\s+de|envoyé\s+avec|envoyé\s+via|envoye\s+de|enviado\s+desde|enviado\s+do|enviado\s+de|enviado\s+com|enviado\s+con|enviada\s+do|enviado\s+a\s+partir\s+do|inviato\s+da|inviato\s+dal|inviato\s+dalla|inviato\s+con|inviato\s+tramite|verzonden\s+vanaf|verzonden\s+van|verzonden\s+met|verstuurd\s+vanaf|verstuurd\s+met|sendt\s+fra|sendt\s+med|skickat\s+från|skickad\s+från|skickat\s+med|gesendet\s+von|gesendet\s+mit|gesendet\s+vom|gesendet\s+über|wysłane\s+z|wysłano\s+z|отправлено\s+с|отправлено\s+из|отправлено\s+через|odesláno\s+z|elküldve\s+az?|αποστολή\s+από\s+(?:το|τη|την)?|trimis\s+de\s+pe|poslano\s+(?:s|sa|iz)|надіслано\s+з|נשלח\s+מ|gửi\s+từ|dikirim\s+dari";

/// Possessives and articles between the phrase and the device ("my", "mon", "meinem" …).
const POSSESSIVES: &str = r"my|a|an|the|mon|ma|mes|mi|meu|minha|o|il\s+mio|mio|mijn|min|mitt|meinem|mein|der|dem|l'|la|le|el|moego|mojego|моего|моей";

/// Devices, apps and webmails that sign messages.
const DEVICES: &str = r"iphone|ipad|ipod|android|blackberry|mobile|mobilgerät|mobiltelefon|handy|smartphone|cell|cellulare|celular|telefono|teléfono|téléphone|telefoon|phone|portable|móvil|tablet|galaxy|samsung|huawei|xiaomi|pixel|nokia|htc|motorola|moto|sony|xperia|lg|alcatel|oneplus|fairphone|oppo|vivo|realme|honor|lenovo|asus|zte|nexus|palm|kindle|surface|ti-\d+|windows|mail|outlook|yahoo|aol|gmail|mailbox|airmail|spark|proton\s*mail|zoho|bluemail|blue\s+mail|edison|newton|superhuman|k-9|fairemail|verizon|at&t|sprint|t-mobile|wireless|handheld|device|libero|orange|free|gmx|web\.de|t-online";

/// Mobile and webmail signatures, whole line only. Each one marks the end of what the sender typed.
static MOBILE_SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    let patterns = [
        format!(r"^\W{{0,3}}(?:{SENT_PHRASES})\s+(?:(?:{POSSESSIVES})\s+)?\[?(?:{DEVICES})(?:'a|a|sta)?(?:[^\p{{L}}\p{{N}}_].*)?$"),
        // "Get Outlook for iOS", "Obtenez Outlook pour Android"
        r"^\W{0,3}(?:get|obtenez|obtenir|téléchargez|télécharger|holen\s+sie\s+sich|descargar|descarga|obtener|scarica|ottieni|baixe|baixar|obter|hent|skaffa|pobierz|download)\s+(?:the\s+)?\[?(?:outlook|yahoo\s+mail)\]?\s*(?:\(\S*\)\s*)?(?:for|pour|für|para|per)(?:\s.*)?$".to_owned(),
        // Word orders that put the verb last.
        r"^\W{0,3}outlook\s+(?:für|voor|för|for)\s+(?:ios|android)\s+(?:herunterladen|downloaden|hämta|hent)\W{0,3}$".to_owned(),
        r"^\W{0,3}\S+(?:'umdan|'imden|'dan|'den)\s+gönderildi\W{0,3}$".to_owned(),
        r"^\W{0,3}\S+에서\s*보냄\W{0,3}$".to_owned(),
        r"^\W{0,3}von\s+meinem\s+.+?\s+gesendet\W{0,3}$".to_owned(),
        r"^\W{0,3}diese\s+nachricht\s+wurde\s+von\s+meinem\s+.+?\s+gesendet\W{0,3}$".to_owned(),
        r"^\W{0,3}lähetetty\s+\S+(?:sta|stä)\W{0,3}$".to_owned(),
        r"^\W{0,3}(?:从我的|從我的|发自我的|來自我的).+$".to_owned(),
        r"^\W{0,3}(?:iphone|ipad|android|スマートフォン|携帯)\s*から送信\W{0,3}$".to_owned(),
        // "<<sent by galaxy>>", "(sent from a phone)", "Sent via mobile"
        r"^\W{0,3}sent\s+(?:by|from|via)\s+(?:a\s+)?(?:galaxy|phone|mobile(?:\s+device)?)\W{0,3}$".to_owned(),
    ];
    compile(&format!("(?i)(?:{})", patterns.join("|")))
});

/// Longest line still taken for a mobile signature; anything longer is prose.
const MAX_MOBILE_SIGNATURE_CHARS: usize = 120;

/// True for `-- `, `--` or an underscore rule: everything from here on is signature or footer.
pub fn is_signature_delimiter(line: &str) -> bool {
    SIGNATURE_DELIMITER.is_match(line)
}

/// True for "Sent from my iPhone" and the like.
pub fn is_mobile_signature(line: &str) -> bool {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_MOBILE_SIGNATURE_CHARS {
        return false;
    }
    MOBILE_SIGNATURE.is_match(trimmed)
}

/// True for a decorative rule such as "=====" or "------------------------------".
pub fn is_rule(line: &str) -> bool {
    line.len() <= 200 && RULE.is_match(line)
}
