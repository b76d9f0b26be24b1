//! Wording that marks a message as written by a mail system: daemon senders, NDR subjects,
//! failure, delay and challenge-response phrases (English plus common other languages).

use std::sync::LazyLock;

use regex::Regex;

/// Builds one of the classifier's fixed patterns (all are exercised by the unit tests).
pub(super) fn compile(pattern: &str) -> Regex {
    // Word boundaries are made ASCII-only: a Unicode `\b` keeps the regex engine off its fast
    // DFA on non-ASCII text, which made large non-English messages ten times slower.
    Regex::new(&pattern.replace(r"\b", r"(?-u:\b)")).expect("classifier patterns are valid")
}

/// A From / Return-Path value naming a mail system rather than a person.
pub(super) fn is_daemon_sender(value: &str) -> bool {
    static DAEMON: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)mailer[-_ ]?daemon|mail[-_]?daemon|\bpost[-_.]?master\b|\bmdaemon\b|mail ?deliver(?:y|ing)? ?(?:sub)?(?:system|service|agent)|delivery ?(?:sub)?system|mail ?administrator|\bmail ?system\b|mail ?transport ?system|ndr ?administrator|\bsmtp[-_ ]?gateway|antivirus|\binterscan\b|\bimss\b|mail ?delivery ?notification|\bmailadmin\b|\bmail ?router\b|\bmail ?server\b|mail[-_ ]?gateway|microsoftexchange[0-9a-f]{32}",
        )
    });
    DAEMON.is_match(value)
}

/// A From local part or name of a send-only system mailbox ("no-reply", "do-not-reply" …).
pub(super) fn is_no_reply_sender(value: &str) -> bool {
    static NO_REPLY: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?i)\bno[-_.]?reply\b|\bdo[-_.]?not[-_.]?reply\b|\bnoreply"));
    NO_REPLY.is_match(value)
}

/// Text about mail transport: SMTP, reply or status codes, mailboxes, recipient addresses.
pub(super) fn mentions_mail_transport(text: &str) -> bool {
    static TRANSPORT: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)\bsmtp\b|\b[45][0-9]{2}[ :-]|\b[45]\.[0-9]{1,3}\.[0-9]{1,3}\b|mailbox|mail ?server|mail system|e-?mail address|recipient|\bmx\b|メール|邮件|郵件|почт|postfach|boîte aux lettres|buzón|casella",
        )
    });
    TRANSPORT.is_match(text)
}

/// A Subject a non-delivery report typically carries.
pub(super) fn is_ndr_subject(subject: &str) -> bool {
    static SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)undeliver|undelivered|not delivered|non[- ]?deliver|could not be delivered|delivery (?:status notification \(failure|failure|failed|problem|error|has failed)|failed delivery|failed mail|mail(?:ing)? (?:delivery )?fail|failure notice|returned mail|returning message|delivery notification: (?:error|failed)|delivery status notification: (?:error|failed)|permanent (?:delivery )?failure|message (?:rejected|blocked|bounced)|bounced mail|rejected:|processing error|nicht zustellbar|unzustellbar|non remis|(?:échec|echec) de (?:la )?(?:remise|livraison)|no (?:se pudo )?entregad|não (?:foi )?entregue|mancato recapito|onbestelbaar|niet afgeleverd|nie dostarczon|не доставлен|недоставлен|エラー通知|配信エラー|不達|送信エラー|未送達|退信|投递失败|无法投递|系统退信",
        )
    });
    SUBJECT.is_match(subject)
}

/// Text stating that delivery failed (as opposed to a person talking about it).
pub(super) fn states_failure(text: &str) -> bool {
    static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)(?:could|can) ?not be (?:delivered|sent|forwarded)|(?:was|were|has not been|have not been) (?:not )?(?:delivered|deliverable)|undeliverable|undelivered|(?:delivery|message) (?:to (?:the following|these|one or more) [^\n]{0,40})?(?:has |have )?failed|failed (?:permanently|to deliver|recipient)|permanent(?:ly)? (?:fatal )?(?:error|failure|failed)|fatal errors?|unable to (?:deliver|relay|route)|(?:could|can) ?not (?:deliver|send|relay)|delivery (?:failure|error|problem|failed)|failure notice|returned mail|returning message to sender|(?:user|recipient|mailbox|address|addressee|host) (?:is )?unknown|unknown (?:user|recipient|mailbox|address|domain)|no such (?:user|mailbox|recipient|address|domain|person)|mailbox (?:is )?(?:full|unavailable|not found|disabled|does not exist|inactive|over quota)|(?:recipient|address|user|relay|message|sender)(?: address)? (?:was )?(?:rejected|refused|denied)|does not exist|quota exceeded|over quota|exceeded (?:the )?(?:storage|quota)|access denied|I'm sorry to have to inform you|wasn't able to deliver|qmail-send program|message (?:was )?not (?:be )?(?:delivered|sent)|(?:deliv|delev)[a-z]*\b[^\n]{0,60}\baborted\b|could not find a gateway|\b5[0-9][0-9][ -]#?5\.[0-9]{1,3}\.[0-9]{1,3}|#5\.[0-9]\.[0-9]|\b55[0-4][ -]|nicht zugestellt|unzustellbar|konnte nicht|n'a pas (?:pu )?être (?:remis|livré|distribué)|non remis|no se (?:ha )?pudo entregar|no (?:ha )?podido ser entregad|não (?:foi|pôde ser) entregue|non (?:è stato|può essere) (?:consegnat|recapitat)|kan niet worden (?:bezorgd|afgeleverd)|nie (?:może|mógł|została) (?:zostać )?dostarczon|не (?:может быть |было |удалось )?доставл|配信できません|送信できません|届きませんでした|宛先不明|エラーが発生|无法(?:投递|送达)|未能(?:投递|送达)|投递失败|退信",
        )
    });
    FAILURE.is_match(text)
}

/// Text of a delay warning ("will retry", "this is a warning only" …).
pub(super) fn states_delay(text: &str) -> bool {
    static DELAY: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)has been delayed|(?:is|was|been|message|delivery) delayed|not yet been delivered|(?:will|shall) (?:continue to )?(?:be )?retr(?:y|ied)|still (?:being )?retried|retrying|warning (?:message )?only|do not need to resend|still undelivered after|delivery attempts will continue|no action is required|delivery status notification \(delay\)|mail delivery warning|delayed mail|temporarily deferred|\bwarning: (?:could not send|message)",
        )
    });
    DELAY.is_match(text)
}

/// Text that rules out a mere delay even if retry wording is present.
pub(super) fn states_final_failure(text: &str) -> bool {
    static FINAL: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)permanent(?:ly)? (?:fatal )?(?:error|failure|failed)|fatal error|\bgave up\b|giving up|returning message to sender|failed permanently|delivery has failed|will not be retried|no further attempts|returned mail",
        )
    });
    FINAL.is_match(text)
}

/// A challenge-response / sender-verification request ("confirm you are human", Boxbe …).
pub(super) fn is_challenge(text: &str) -> bool {
    static CHALLENGE: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?i)\bboxbe\b|not pre-?approved|spam ?arrest|requires confirmation|(?:confirm|verify|prove) (?:that )?you(?: are|'re) (?:a )?(?:human|real person)|challenge[- ]response|awaiting (?:your )?(?:confirmation|verification)|added to (?:my|the) (?:approved senders|whitelist)",
        )
    });
    CHALLENGE.is_match(text)
}
