//! A customer's data export (`GET /api/v1/customers/{email}/export`, the customer page, `deskmail customer export`):
//! everything stored about them as `export.json`, with their attachments and raw mail as files beside it — a zip
//! for the web, a directory for the command line.

use crate::db::export::{CustomerRecord, ExportMessage};
use crate::db::{AttachmentRow, Db, DbError, TicketRow};
use crate::domain::rfc3339;
use crate::platform::storage::BlobStore;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

/// The export: its JSON and the stored files it names.
#[derive(Debug, Clone)]
pub struct Export {
    pub json: Value,
    pub files: Vec<ExportFile>,
}

/// A file of the export: where it goes, and the blob it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub path: String,
    pub sha256: String,
}

/// The name of the JSON inside the export.
pub const JSON_NAME: &str = "export.json";

/// Everything stored about the customer with address `email` (any case): the customer, every ticket they requested
/// (all messages, notes and history), their messages and the replies to them on other tickets, satisfaction
/// answers and orders; `None` for an address deskmail does not know.
pub async fn build(db: &Db, email: &str) -> Result<Option<Export>, DbError> {
    let email = email.trim().to_lowercase();
    let Some(customer) = db.customer_record(&email).await? else { return Ok(None) };
    let mut files = Vec::new();
    let mut tickets = Vec::new();
    for t in db.customer_tickets(customer.id).await? {
        tickets.push(ticket(db, &t, &customer, &mut files).await?);
    }
    let orders: Vec<Value> = db
        .recent_orders(&email, 10_000)
        .await?
        .iter()
        .map(|o| json!({ "number": o.r#ref, "status": o.status }))
        .collect();
    let json = json!({
        "format": "deskmail-customer-export/1",
        "exported_at": rfc3339(crate::domain::now()),
        "customer": {
            "email": customer.email, "name": customer.name, "note": customer.note,
            "blocked": customer.blocked == 1, "first_seen": rfc3339(customer.created_at),
        },
        "tickets": tickets,
        "orders": orders,
    });
    Ok(Some(Export { json, files }))
}

/// One ticket as exported: everything of a ticket they requested, else only their messages and mail to them.
async fn ticket(db: &Db, t: &TicketRow, c: &CustomerRecord, files: &mut Vec<ExportFile>) -> Result<Value, DbError> {
    let participants = crate::db::customers::participants(db.pool(), t.id).await?;
    let requested = t.requester_id == c.id;
    let role = match participants.iter().find(|(p, _)| p.id == c.id) {
        Some((_, role)) => role.clone(),
        None if requested => "requester".into(),
        None => "writer".into(),
    };
    let attachments = db.ticket_attachments(t.id).await?;
    let messages: Vec<Value> = db
        .export_messages(t.id)
        .await?
        .iter()
        .filter(|m| requested || m.customer_id == Some(c.id) || names(m, &c.email))
        .map(|m| message(m, c.id, &attachments, files))
        .collect();
    let mut j = json!({
        "number": t.number, "subject": t.subject, "status": t.status, "priority": t.priority, "mailbox": t.mailbox,
        "role": role, "created_at": rfc3339(t.created_at), "updated_at": rfc3339(t.updated_at), "messages": messages,
    });
    if requested {
        j["participants"] =
            participants.iter().map(|(p, role)| json!({ "email": p.email, "name": p.name, "role": role })).collect();
        j["events"] = db
            .events(t.id)
            .await?
            .iter()
            .map(|e| {
                let data = serde_json::from_str::<Value>(&e.data).unwrap_or_else(|_| json!({}));
                json!({ "at": rfc3339(e.at), "actor": e.actor, "kind": e.kind, "detail": e.detail, "data": data })
            })
            .collect();
        j["satisfaction"] = db
            .satisfaction_of(t.id)
            .await?
            .iter()
            .map(|s| json!({ "rating": s.rating, "comment": s.comment, "at": rfc3339(s.created_at) }))
            .collect();
    }
    Ok(j)
}

/// Whether a message was sent to `email` (To or Cc).
fn names(m: &ExportMessage, email: &str) -> bool {
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
    list(&m.to_json).iter().chain(list(&m.cc_json).iter()).any(|a| a.eq_ignore_ascii_case(email))
}

/// A message with every stored field; its files (attachments, and the raw mail of the customer's own messages) are
/// added to `files` and named in the JSON.
fn message(m: &ExportMessage, customer: i64, attachments: &[AttachmentRow], files: &mut Vec<ExportFile>) -> Value {
    let list = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|_| json!([]));
    let atts: Vec<Value> = attachments
        .iter()
        .filter(|a| a.message_id == m.id)
        .map(|a| {
            let path = format!(
                "attachments/{}-{}",
                a.id,
                crate::domain::file_name::file_name(&a.filename, &a.content_type, 0)
            );
            files.push(ExportFile { path: path.clone(), sha256: a.sha256.clone() });
            json!({ "id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
                    "sha256": a.sha256, "file": path })
        })
        .collect();
    let raw = m.raw_sha256.as_ref().filter(|_| m.customer_id == Some(customer)).map(|sha| {
        let path = format!("raw/{}.eml", m.id);
        files.push(ExportFile { path: path.clone(), sha256: sha.clone() });
        path
    });
    json!({
        "id": m.id, "kind": m.kind, "from": m.from_addr, "from_name": m.from_name, "to": list(&m.to_json),
        "cc": list(&m.cc_json), "reply_to": m.reply_to, "subject": m.subject, "message_id": m.message_id,
        "in_reply_to": m.in_reply_to, "references": m.refs, "visible_text": m.visible_text, "body_text": m.body_text,
        "body_html": m.body_html, "auto": m.auto == 1, "flags": m.flags.split_whitespace().collect::<Vec<_>>(),
        "sent_at": m.sent_at.map(rfc3339), "created_at": rfc3339(m.created_at), "attachments": atts, "raw": raw,
    })
}

/// The export as a zip (`export.json` and the files); blocking. A file missing from storage is listed under
/// `"missing_files"` instead of failing the export.
pub fn to_zip(export: &Export, blobs: &BlobStore) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    let mut missing = Vec::new();
    for f in &export.files {
        match blobs.get(&f.sha256) {
            Ok(bytes) => {
                zip.start_file(&f.path, options).map_err(std::io::Error::other)?;
                zip.write_all(&bytes)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(f.path.clone()),
            Err(e) => return Err(e),
        }
    }
    zip.start_file(JSON_NAME, options).map_err(std::io::Error::other)?;
    zip.write_all(&json_bytes(export, &missing))?;
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// Writes the export into `dir` (created; it must be empty or new): `export.json`, `attachments/…`, `raw/…`; blocking.
pub fn write_dir(export: &Export, blobs: &BlobStore, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if std::fs::read_dir(dir)?.next().is_some() {
        return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, format!("{} is not empty", dir.display())));
    }
    let mut missing = Vec::new();
    for f in &export.files {
        match blobs.get(&f.sha256) {
            Ok(bytes) => {
                let path = dir.join(&f.path);
                std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
                std::fs::write(path, bytes)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing.push(f.path.clone()),
            Err(e) => return Err(e),
        }
    }
    std::fs::write(dir.join(JSON_NAME), json_bytes(export, &missing))
}

fn json_bytes(export: &Export, missing: &[String]) -> Vec<u8> {
    let mut json = export.json.clone();
    if !missing.is_empty() {
        json["missing_files"] = json!(missing);
    }
    serde_json::to_vec_pretty(&json).unwrap_or_default()
}
