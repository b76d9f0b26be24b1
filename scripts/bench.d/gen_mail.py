#!/usr/bin/env python3
"""gen_mail.py - generate a deterministic set of realistic support e-mails for `scripts/bench ingest`.

    gen_mail.py --out DIR [--count 5000] [--seed 1] [--replies 0.40] [--attachments 0.20]
                [--duplicates 0.01] [--bounces 0.01] [--attachment-kib 50]

Writes DIR/000001.eml ... (CRLF line endings, as fetched over IMAP) and DIR/MANIFEST.tsv
(file, kind, bytes, attachment, thread) and prints a one-line JSON summary on stdout.

Kinds and the outcome deskmail should give them:
  new        a customer opens a conversation                 -> created
  reply      a follow-up or reply-all (In-Reply-To/References naming earlier Message-IDs of the
             same thread, quoted history, "Re:" subject)      -> threaded
  duplicate  an earlier message delivered a second time (same headers and body, one more
             Received line)                                   -> duplicate
  bounce     an RFC 3464 delivery-status report (multipart/report) naming an earlier
             Message-ID                                       -> bounce

Every message has a Received chain, Return-Path, Delivered-To, Authentication-Results and a
DKIM-Signature. Bodies are text/plain, or multipart/alternative text+HTML; --attachments of
them are multipart/mixed with a --attachment-kib binary (PDF- or PNG-like, base64). Names and
subjects are international (RFC 2047 B and Q encoded words, some raw UTF-8 per RFC 6532).
Same seed and count give byte-identical files. Standard library only.
"""

import argparse
import base64
import hashlib
import json
import os
import quopri
import random
import sys
import time
from email.utils import format_datetime
from datetime import datetime, timezone, timedelta

SUPPORT = "support@example.test"
CRLF = "\r\n"

FIRST = [
    "Zoë", "José", "Łukasz", "Søren", "François", "Ægir", "Björn", "Chloé", "Aoife", "Ana",
    "Emily", "John", "Priya", "Mateus", "Hana", "Olga", "Jürgen", "Inés", "Mohammed", "Wei",
    "Sofía", "Nikolaj", "Agnieszka", "Tomás", "Elif", "Kwame", "Yuki", "Lars", "Marta", "Dmitri",
]
LAST = [
    "Müller", "Álvarez", "Wiśniewski", "Kierkegård", "Dupont", "Þórsson", "Ångström", "Lefèvre",
    "Ní Bhriain", "Ćosić", "Smith", "Chen", "Raghunathan", "Gonçalves", "Nováková", "Ivanova",
    "Weiß", "Peña", "Al-Farsi", "Zhang", "O'Connor", "Nørgaard", "Kowalczyk", "Şahin", "Mensah",
    "Tanaka", "Eriksson", "Dąbrowska", "Sokolov", "García",
]
NONLATIN = [
    ("山田 太郎", "taro.yamada"), ("Иван Петров", "ivan.petrov"), ("Ελένη Παπαδοπούλου", "eleni.p"),
    ("محمد علي", "m.ali"), ("김민준", "minjun.kim"), ("Nguyễn Văn An", "an.nguyen"),
    ("שרה כהן", "sarah.cohen"), ("王芳", "fang.wang"),
]
DOMAINS = [
    "acme-corp.test", "kunde.example.de", "mail.example.com", "boulangerie.example.fr",
    "studio-nord.example.dk", "example.co.jp", "tiendas.example.es", "hospital.example.org",
    "logistik.example.at", "uni-example.test", "contoso.example", "fabrikam.example.net",
]
TRANSLIT = str.maketrans({
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "oe", "å": "aa", "æ": "ae", "é": "e",
    "è": "e", "á": "a", "í": "i", "ó": "o", "ç": "c", "ł": "l", "ś": "s", "ć": "c", "ą": "a",
    "ş": "s", "ñ": "n", "ð": "d", "þ": "th", "'": "", " ": "",
})

SUBJECTS = [
    "Rechnung {n} fehlt im Kundenportal",
    "Problème de connexion à mon compte depuis la mise à jour",
    "Can't log in after password reset",
    "注文 {n} の配送について",
    "Заказ №{n} не доставлен",
    "Refund for order {n} – wrong size",
    "Export to CSV is broken ✂",
    "Urgent: API returns 500 since this morning 🔥",
    "Question about our invoice from {month}",
    "Pedido {n}: falta un artículo",
    "Factuur {n} klopt niet",
    "Συνδρομή – αλλαγή πακέτου",
    "Änderung der Lieferadresse für Bestellung {n}",
    "Two-factor codes arrive late (SMS)",
    "Bulk import stops at row {n}",
    "Webhook deliveries failing with TLS error",
    "Could you add a second admin to our account?",
    "Zugangsdaten für neue Kollegin",
    "Skadet vare – ordre {n}",
    "Printer driver crashes on Windows 11",
]
MONTHS = ["janvier", "März", "May", "junio", "September", "listopad", "十二月"]

GREETINGS = ["Hello support team,", "Hi,", "Hallo zusammen,", "Bonjour,", "Hola:", "Dear Sir or Madam,",
             "お世話になっております。", "Здравствуйте!", "Hej,"]
SENTENCES = [
    "Since yesterday afternoon none of our users can sign in; the page just reloads.",
    "We followed the steps in your help article but the error persists.",
    "Attached you will find the invoice and a screenshot of the error message.",
    "Could you please check what went wrong with order {n}?",
    "Our accounting department needs a corrected invoice before the end of the month.",
    "Seit dem letzten Update erscheint beim Export eine Fehlermeldung (Code E{n}).",
    "Könnten Sie bitte prüfen, ob die Zahlung vom {d}.{m}. bei Ihnen eingegangen ist?",
    "Nous avons reçu le colis, mais il manque deux articles sur cinq.",
    "Merci de nous indiquer un délai de livraison réaliste.",
    "El cliente dice que el pedido llegó dañado y quiere una devolución.",
    "ご確認のほど、よろしくお願いいたします。",
    "Подскажите, пожалуйста, когда будет исправлена ошибка?",
    "This is blocking our release, so any update today would be much appreciated.",
    "I tried Chrome, Firefox and Safari – same result everywhere.",
    "The log shows: `connection reset by peer (os error 104)` after about 30 s.",
    "We are on the Business plan, account ID {n}.",
    "Thanks for the quick reply! Unfortunately that did not fix it.",
    "Restarting the service helped for an hour, then it failed again.",
    "Please also add my colleague in Cc to this ticket.",
    "Can you confirm the price of €{n},00 incl. VAT?",
    "We can do a call tomorrow between 10:00 and 12:00 CET.",
    "Great, it works now. Many thanks! 🙏",
    "One more question: is there a way to export the data as JSON?",
]
CLOSINGS = ["Best regards,", "Mit freundlichen Grüßen", "Cordialement,", "Saludos,", "Thanks,",
            "Kind regards,", "Med venlig hilsen", "よろしくお願いします。"]
SIGNATURES = [
    "-- \r\n{name}\r\n{title}\r\n{company} | Tel. +49 30 1234 {n4}\r\n",
    "{name}\r\n{company}\r\n",
    "--\r\n{name} · {title}\r\nSent from my iPhone\r\n",
    "{name}\r\n",
]
TITLES = ["Head of Operations", "IT-Administratorin", "Comptable", "Office Manager", "CTO",
          "Einkauf", "Customer Success"]
MAILERS = [
    ("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"),
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("X-Mailer", "Apple Mail (2.3774.600.62)"),
    ("User-Agent", "Roundcube Webmail/1.6.9"),
    (None, None),  # Gmail adds none
]


def enc_b(text):
    """RFC 2047 B encoded words, split on character boundaries, folded."""
    words, chunk = [], b""
    for ch in text:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > 42:
            words.append(chunk)
            chunk = b""
        chunk += b
    if chunk:
        words.append(chunk)
    return (CRLF + " ").join("=?UTF-8?B?" + base64.b64encode(w).decode() + "?=" for w in words)


def enc_q(text):
    """RFC 2047 Q encoded words; a character is never split across words."""
    words, cur = [], ""
    for ch in text:
        if ch == " ":
            tok = "_"
        elif ch.isascii() and ch.isalnum():
            tok = ch
        else:
            tok = "".join("=%02X" % b for b in ch.encode("utf-8"))
        if len(cur) + len(tok) > 45:
            words.append(cur)
            cur = ""
        cur += tok
    if cur:
        words.append(cur)
    return (CRLF + " ").join("=?utf-8?q?" + w + "?=" for w in words)


class Gen:
    def __init__(self, seed, attachment_kib):
        self.r = random.Random(seed)
        self.seed = seed
        self.att_size = attachment_kib * 1024
        self.t = datetime(2025, 3, 3, 7, 30, 0, tzinfo=timezone.utc)
        self.customers = [self.make_customer(i) for i in range(900)]
        self.header_mode = {}  # customer email -> encoding style, stable per sender

    def hexid(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def make_customer(self, i):
        r = self.r
        if r.random() < 0.12:
            name, local = r.choice(NONLATIN)
            local = "%s%d" % (local, i)
        else:
            first, last = r.choice(FIRST), r.choice(LAST)
            name = "%s %s" % (first, last)
            local = ("%s.%s" % (first, last)).lower().translate(TRANSLIT)
            local = "".join(c for c in local if c.isascii() and (c.isalnum() or c in "._-")) or "user"
            if r.random() < 0.3:
                local += str(i)
        domain = r.choice(DOMAINS)
        return {"name": name, "email": "%s@%s" % (local, domain), "domain": domain,
                "company": domain.split(".")[0].replace("-", " ").title(),
                "title": r.choice(TITLES), "style": r.choice("bbbbqqr"),
                "mailer": r.choice(MAILERS), "tz": r.choice([0, 1, 2, -5, 9, 3, 5.5])}

    # --- header pieces -----------------------------------------------------------------------

    def tick(self):
        self.t += timedelta(seconds=self.r.randint(5, 240))
        return self.t

    def date(self, t, tz):
        return format_datetime(t.astimezone(timezone(timedelta(hours=tz))))

    def phrase(self, text, style):
        if all(ord(c) < 128 for c in text):
            return '"%s"' % text if any(c in text for c in ",.'()") else text
        if style == "r":
            return '"%s"' % text  # raw UTF-8 (RFC 6532), as some clients send
        return enc_q(text) if style == "q" else enc_b(text)

    def addr(self, person):
        return "%s <%s>" % (self.phrase(person["name"], person["style"]), person["email"])

    def unstructured(self, text, style):
        if all(ord(c) < 128 for c in text):
            return text
        return text if style == "r" else (enc_q(text) if style == "q" else enc_b(text))

    def trace(self, sender, t):
        r = self.r
        d = sender["domain"]
        ip = "203.0.113.%d" % r.randint(2, 254)
        qid = "4V%s" % self.hexid(10).upper()
        rcv_t = t + timedelta(seconds=r.randint(1, 20))
        sel = r.choice(["selector1", "s2024", "google", "mail", "dkim"])
        bh = base64.b64encode(r.randbytes(32)).decode()
        b = base64.b64encode(r.randbytes(256)).decode()
        b_folded = (CRLF + "\t ").join(b[i:i + 70] for i in range(0, len(b), 70))
        lines = [
            "Return-Path: <%s>" % sender["email"],
            "Delivered-To: " + SUPPORT,
            "Received: from mx1.example.test ([127.0.0.1])" + CRLF +
            "\tby imap.example.test with LMTP" + CRLF +
            "\tid %s (envelope-from <%s>)" % (self.hexid(16), sender["email"]) + CRLF +
            "\tfor <%s>; %s" % (SUPPORT, self.date(rcv_t, 0)),
            "Received: from mail-out.%s (mail-out.%s [%s])" % (d, d, ip) + CRLF +
            "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)" + CRLF +
            "\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256)" + CRLF +
            "\t(No client certificate requested)" + CRLF +
            "\tby mx1.example.test (Postfix) with ESMTPS id %s" % qid + CRLF +
            "\tfor <%s>; %s" % (SUPPORT, self.date(rcv_t, 0)),
            "Received: from [10.%d.%d.%d] (dyn-%d.%s [198.51.100.%d])" % (
                r.randint(0, 255), r.randint(0, 255), r.randint(1, 254), r.randint(1000, 9999), d,
                r.randint(2, 254)) + CRLF +
            "\tby mail-out.%s (Postfix) with ESMTPSA id %s;" % (d, self.hexid(10).upper()) + CRLF +
            "\t%s" % self.date(t + timedelta(seconds=1), sender["tz"]),
            "Authentication-Results: mx1.example.test;" + CRLF +
            "\tdkim=pass (2048-bit key; unprotected) header.d=%s header.i=@%s header.a=rsa-sha256 header.s=%s header.b=%s;" % (
                d, d, sel, b[:8]) + CRLF +
            "\tspf=pass (mx1.example.test: domain of %s designates %s as permitted sender) smtp.mailfrom=%s;" % (
                sender["email"], ip, sender["email"]) + CRLF +
            "\tdmarc=pass (p=quarantine dis=none) header.from=%s" % d,
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s;" % (d, sel) + CRLF +
            "\tt=%d; bh=%s;" % (int(t.timestamp()), bh) + CRLF +
            "\th=From:To:Cc:Subject:Date:Message-ID:In-Reply-To:References:" + CRLF +
            "\t MIME-Version:Content-Type;" + CRLF +
            "\tb=" + b_folded,
        ]
        return lines

    # --- bodies ------------------------------------------------------------------------------

    def fill(self, s):
        r = self.r
        return s.format(n=r.randint(1000, 99999), d=r.randint(1, 28), m=r.randint(1, 12))

    def text(self, sender):
        r = self.r
        paras = [r.choice(GREETINGS)]
        for _ in range(r.randint(1, 5)):
            paras.append(" ".join(self.fill(r.choice(SENTENCES)) for _ in range(r.randint(1, 4))))
        sig = r.choice(SIGNATURES).format(name=sender["name"], title=sender["title"],
                                          company=sender["company"], n4=r.randint(1000, 9999))
        return (CRLF + CRLF).join(paras) + CRLF + CRLF + r.choice(CLOSINGS) + CRLF + sig

    def quote(self, prev, reply_text, sender):
        """Reply text plus the previous message quoted (history grows, capped)."""
        r = self.r
        lines = prev["text"].split(CRLF)[:80]
        style = r.random()
        if style < 0.55:
            head = "On %s, %s <%s> wrote:" % (
                prev["date"], prev["sender"]["name"], prev["sender"]["email"])
            quoted = CRLF.join((">" + l) if l.startswith(">") else ("> " + l if l else ">") for l in lines)
            return reply_text + CRLF + head + CRLF + quoted + CRLF
        if style < 0.75:
            head = "Am %s schrieb %s <%s>:" % (prev["date"], prev["sender"]["name"], prev["sender"]["email"])
            quoted = CRLF.join((">" + l) if l.startswith(">") else ("> " + l if l else ">") for l in lines)
            return reply_text + CRLF + head + CRLF + quoted + CRLF
        # Outlook: header block, history unquoted below
        block = [
            "________________________________",
            "From: %s <%s>" % (prev["sender"]["name"], prev["sender"]["email"]),
            "Sent: %s" % prev["date"],
            "To: Support <%s>" % SUPPORT,
            "Subject: %s" % prev["subject"],
            "",
        ]
        return reply_text + CRLF + CRLF.join(block) + CRLF + CRLF.join(lines) + CRLF

    def html(self, text):
        esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out, in_quote = [], False
        for para in esc.split(CRLF + CRLF):
            lines = para.split(CRLF)
            if lines and lines[0].startswith("&gt;"):
                body = "<br>\r\n".join(l.lstrip("&gt;").lstrip() for l in lines)
                out.append('<blockquote type="cite" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;'
                           'padding-left:1ex">%s</blockquote>' % body)
            else:
                out.append('<p style="margin:0 0 1em 0;font-family:Calibri,Arial,sans-serif">%s</p>'
                           % "<br>\r\n".join(lines))
        return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                '<style>p{margin:0}</style></head>\r\n<body dir="ltr">\r\n<div class="WordSection1">\r\n'
                + "\r\n".join(out) + "\r\n</div>\r\n</body></html>\r\n")

    @staticmethod
    def qp(text):
        return quopri.encodestring(text.encode("utf-8").replace(b"\r\n", b"\n")).decode("ascii").replace("\n", CRLF)

    def text_part(self, text, cte):
        if cte == "qp":
            return ["Content-Type: text/plain; charset=utf-8; format=flowed",
                    "Content-Transfer-Encoding: quoted-printable"], self.qp(text)
        if cte == "b64":
            raw = base64.encodebytes(text.encode("utf-8")).decode().replace("\n", CRLF)
            return ["Content-Type: text/plain; charset=\"UTF-8\"", "Content-Transfer-Encoding: base64"], raw
        return ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"], text

    def attachment(self):
        r = self.r
        n = r.randint(100, 9999)
        if r.random() < 0.6:
            head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            tail = b"\nxref\n0 3\ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % self.att_size
            data = head + r.randbytes(self.att_size - len(head) - len(tail)) + tail
            ctype = "application/pdf"
            fname = r.choice(["invoice-%d.pdf" % n, "Rechnung März %d.pdf" % n, "facture_%d.pdf" % n,
                              "screenshot-%d.pdf" % n])
        else:
            head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x05\x00\x00\x00\x02\xd0\x08\x06\x00\x00\x00"
            tail = b"\x00\x00\x00\x00IEND\xaeB`\x82"
            data = head + r.randbytes(self.att_size - len(head) - len(tail)) + tail
            ctype = "image/png"
            fname = r.choice(["Screenshot 2025-03-%02d at 10.%02d.png" % (r.randint(1, 28), r.randint(0, 59)),
                              "image%03d.png" % (n % 1000), "Fehler_Übersicht_%d.png" % n])
        if all(ord(c) < 128 for c in fname):
            disp = 'attachment; filename="%s"' % fname
            ct = '%s; name="%s"' % (ctype, fname)
        else:
            pct = "".join(c if (c.isascii() and (c.isalnum() or c in "-_.")) else
                          "".join("%%%02X" % b for b in c.encode("utf-8")) for c in fname)
            disp = "attachment;" + CRLF + "\tfilename*=UTF-8''" + pct
            ct = '%s; name="%s"' % (ctype, enc_b(fname))
        b64 = base64.b64encode(data).decode()
        body = CRLF.join(b64[i:i + 76] for i in range(0, len(b64), 76)) + CRLF
        headers = ["Content-Type: " + ct, "Content-Disposition: " + disp, "Content-Transfer-Encoding: base64"]
        return headers, body

    def boundary(self):
        return "----=_Part_%d_%s.%d" % (self.r.randint(1, 99999), self.hexid(8), self.r.randint(10**12, 10**13))

    def mime(self, text, alternative, attach):
        """Top-level content headers and body for the chosen structure."""
        cte = self.r.choice(["qp", "qp", "8bit", "b64"])
        th, tb = self.text_part(text, cte)
        if alternative:
            hb = self.qp(self.html(text))
            b = self.boundary()
            body = ("This is a multi-part message in MIME format." + CRLF + CRLF +
                    "--" + b + CRLF + CRLF.join(th) + CRLF + CRLF + tb + CRLF +
                    "--" + b + CRLF + "Content-Type: text/html; charset=utf-8" + CRLF +
                    "Content-Transfer-Encoding: quoted-printable" + CRLF + CRLF + hb + CRLF +
                    "--" + b + "--" + CRLF)
            th, tb = ['Content-Type: multipart/alternative;' + CRLF + '\tboundary="%s"' % b], body
        if attach:
            ah, ab = self.attachment()
            b = self.boundary()
            body = ("--" + b + CRLF + CRLF.join(th) + CRLF + CRLF + tb + CRLF +
                    "--" + b + CRLF + CRLF.join(ah) + CRLF + CRLF + ab +
                    "--" + b + "--" + CRLF)
            th, tb = ['Content-Type: multipart/mixed;' + CRLF + '\tboundary="%s"' % b], body
        return th, tb

    # --- messages ----------------------------------------------------------------------------

    def message(self, sender, to, cc, subject, text, msgid, in_reply_to, references, alternative, attach):
        r = self.r
        t = self.tick()
        date = self.date(t, sender["tz"])
        h = self.trace(sender, t)
        h += ["MIME-Version: 1.0", "Date: " + date, "From: " + self.addr(sender),
              "To: " + to]
        if cc:
            h.append("Cc: " + (("," + CRLF + "\t").join(self.addr(p) for p in cc)))
        h.append("Subject: " + self.unstructured(subject, sender["style"]))
        h.append("Message-ID: <%s>" % msgid)
        if in_reply_to:
            h.append("In-Reply-To: <%s>" % in_reply_to)
            h.append("References: " + (CRLF + " ").join("<%s>" % m for m in references))
        name, value = sender["mailer"]
        if name:
            h.append("%s: %s" % (name, value))
        if name == "X-Mailer" and "Outlook" in value:
            h.append("Thread-Topic: " + self.unstructured(subject.removeprefix("Re: "), sender["style"]))
            h.append("Content-Language: de-DE")
        ch, body = self.mime(text, alternative, attach)
        h += ch
        return (CRLF.join(h) + CRLF + CRLF + body).encode("utf-8"), date

    def bounce(self, target):
        """A Postfix-style DSN for an earlier message (one of the thread's)."""
        r = self.r
        t = self.tick()
        d = target["sender"]["domain"]
        b = "%s.%d/mx1.example.test" % (self.hexid(10).upper(), int(t.timestamp()))
        rcpt = target["sender"]["email"]
        notice = ("This is the mail system at host mx1.example.test." + CRLF + CRLF +
                  "I'm sorry to have to inform you that your message could not" + CRLF +
                  "be delivered to one or more recipients. It's attached below." + CRLF + CRLF +
                  "                   The mail system" + CRLF + CRLF +
                  "<%s>: host mx.%s[192.0.2.%d] said: 550 5.1.1 <%s>:" % (rcpt, d, r.randint(2, 254), rcpt) + CRLF +
                  "    Recipient address rejected: User unknown in virtual mailbox table" + CRLF)
        status = ("Reporting-MTA: dns; mx1.example.test" + CRLF +
                  "X-Postfix-Queue-ID: %s" % self.hexid(10).upper() + CRLF +
                  "Arrival-Date: %s" % self.date(t, 0) + CRLF + CRLF +
                  "Final-Recipient: rfc822; %s" % rcpt + CRLF +
                  "Original-Recipient: rfc822;%s" % rcpt + CRLF +
                  "Action: failed" + CRLF + "Status: 5.1.1" + CRLF +
                  "Remote-MTA: dns; mx.%s" % d + CRLF +
                  "Diagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address rejected: User" % rcpt + CRLF +
                  "    unknown in virtual mailbox table" + CRLF)
        orig = ("Return-Path: <%s>" % SUPPORT + CRLF +
                "Date: %s" % target["date"] + CRLF +
                "From: Support <%s>" % SUPPORT + CRLF +
                "To: %s" % rcpt + CRLF +
                "Subject: %s" % enc_b("Re: " + target["subject"]) + CRLF +
                "Message-ID: <%s>" % target["msgid"] + CRLF)
        h = [
            "Return-Path: <>",
            "Delivered-To: " + SUPPORT,
            "Received: by mx1.example.test (Postfix)" + CRLF + "\tid %s; %s" % (self.hexid(10).upper(), self.date(t, 0)),
            "Date: " + self.date(t, 0),
            "From: MAILER-DAEMON@mx1.example.test (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender",
            "To: " + SUPPORT,
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;" + CRLF + '\tboundary="%s"' % b,
            "Content-Transfer-Encoding: 8bit",
            "Message-Id: <%s@mx1.example.test>" % self.hexid(20),
        ]
        body = ("This is a MIME-encapsulated message." + CRLF + CRLF +
                "--" + b + CRLF + "Content-Description: Notification" + CRLF +
                "Content-Type: text/plain; charset=us-ascii" + CRLF + CRLF + notice + CRLF +
                "--" + b + CRLF + "Content-Description: Delivery report" + CRLF +
                "Content-Type: message/delivery-status" + CRLF + CRLF + status + CRLF +
                "--" + b + CRLF + "Content-Description: Undelivered Message Headers" + CRLF +
                "Content-Type: text/rfc822-headers" + CRLF + CRLF + orig + CRLF +
                "--" + b + "--" + CRLF)
        return (CRLF.join(h) + CRLF + CRLF + body).encode("utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replies", type=float, default=0.40)
    ap.add_argument("--attachments", type=float, default=0.20)
    ap.add_argument("--duplicates", type=float, default=0.01)
    ap.add_argument("--bounces", type=float, default=0.01)
    ap.add_argument("--alternative", type=float, default=0.40, help="share with text+HTML bodies")
    ap.add_argument("--attachment-kib", type=int, default=50)
    a = ap.parse_args()
    if a.count < 1:
        sys.exit("gen_mail.py: --count must be >= 1")
    t0 = time.monotonic()
    g = Gen(a.seed, a.attachment_kib)
    r = g.r
    os.makedirs(a.out, exist_ok=True)
    n = a.count
    # Exact shares, deterministic positions. Message 1 is always new.
    kinds = ["new"] * n
    rest = list(range(1, n))
    r.shuffle(rest)
    n_dup, n_bounce = int(n * a.duplicates), int(n * a.bounces)
    n_reply = int(n * a.replies)
    for i in rest[:n_dup]:
        kinds[i] = "duplicate"
    for i in rest[n_dup:n_dup + n_bounce]:
        kinds[i] = "bounce"
    for i in rest[n_dup + n_bounce:n_dup + n_bounce + n_reply]:
        kinds[i] = "reply"
    mail_slots = [i for i in range(n) if kinds[i] in ("new", "reply")]
    attach = set(r.sample(mail_slots, min(len(mail_slots), round(n * a.attachments))))

    threads, sent = [], []  # sent: (raw bytes, has attachment) of every new/reply message
    manifest, total = [], 0
    counts = {}
    n_att = 0
    width = max(6, len(str(n)))
    for i in range(n):
        kind = kinds[i]
        if kind != "new" and not threads:
            kind = "new"
        has_att = False
        thread_no = ""
        if kind == "new":
            sender = r.choice(g.customers)
            cc = [c for c in r.sample(g.customers, r.randint(1, 2)) if c["domain"] == sender["domain"]] \
                if r.random() < 0.25 else []
            subject = r.choice(SUBJECTS).format(n=r.randint(1000, 99999), month=r.choice(MONTHS))
            text = g.text(sender)
            msgid = "%s.%s@mail-out.%s" % (g.hexid(16), g.hexid(8), sender["domain"])
            has_att = i in attach
            raw, date = g.message(sender, "Support <%s>" % SUPPORT, cc, subject, text, msgid, None, None,
                                  r.random() < a.alternative, has_att)
            th = {"subject": subject, "requester": sender, "cc": cc, "ids": [msgid],
                  "last": {"text": text, "date": date, "sender": sender, "subject": subject, "msgid": msgid}}
            threads.append(th)
            thread_no = len(threads)
        elif kind == "reply":
            # mostly recent conversations, sometimes an old one
            k = len(threads)
            idx = r.randrange(max(0, k - 300), k) if r.random() < 0.85 else r.randrange(k)
            th = threads[idx]
            people = [th["requester"]] + th["cc"]
            sender = people[0] if r.random() < 0.8 else r.choice(people)
            cc = [p for p in people if p is not sender]
            subject = th["subject"] if th["subject"].lower().startswith("re:") else "Re: " + th["subject"]
            text = g.quote(th["last"], g.text(sender), sender)
            msgid = "%s@mail-out.%s" % (g.hexid(24), sender["domain"])
            refs = th["ids"][:1] + th["ids"][1:][-9:]
            has_att = i in attach
            raw, date = g.message(sender, "Support <%s>" % SUPPORT, cc, subject, text, msgid,
                                  th["ids"][-1], refs, r.random() < a.alternative, has_att)
            th["ids"].append(msgid)
            th["last"] = {"text": text, "date": date, "sender": sender, "subject": subject, "msgid": msgid}
            thread_no = idx + 1
        elif kind == "duplicate":
            orig, has_att = r.choice(sent)
            hop = ("Received: from mx2.example.test ([127.0.0.1])\r\n\tby imap.example.test with LMTP\r\n"
                   "\tid %s\r\n\tfor <%s>; %s\r\n" % (g.hexid(16), SUPPORT, g.date(g.tick(), 0))).encode()
            raw = hop + orig
        else:  # bounce
            th = r.choice(threads)
            raw = g.bounce(th["last"])
        if kind in ("new", "reply"):
            sent.append((raw, has_att))
        n_att += has_att
        name = "%0*d.eml" % (width, i + 1)
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(raw)
        total += len(raw)
        counts[kind] = counts.get(kind, 0) + 1
        manifest.append("%s\t%s\t%d\t%d\t%s" % (name, kind, len(raw), has_att, thread_no))
    with open(os.path.join(a.out, "MANIFEST.tsv"), "w") as f:
        f.write("file\tkind\tbytes\tattachment\tthread\n" + "\n".join(manifest) + "\n")
    digest = hashlib.sha256("\n".join(manifest).encode()).hexdigest()[:16]
    print(json.dumps({"count": n, "bytes": total, "kinds": counts, "with_attachment": n_att,
                      "threads": len(threads), "seed": a.seed, "manifest_sha": digest,
                      "seconds": round(time.monotonic() - t0, 2)}))


if __name__ == "__main__":
    main()
