//! The portal's write forms, as `multipart/form-data` (with files `attachments`) or urlencoded (text only):
//! text fields are always kept; files over the limits are refused with a message for the field, not an error
//! page, so the customer's text is not lost.

use crate::web::{AppState, Error};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use std::collections::HashMap;

/// At most this many files per message.
pub const MAX_FILES: usize = 10;
/// The largest file, in bytes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// All files of one message together, in bytes.
pub const MAX_TOTAL_BYTES: usize = 25 * 1024 * 1024;

/// The largest request the write forms read (files over the limits are read and dropped, up to this).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A submitted form: its text fields, its files, and why files were refused (if they were).
#[derive(Debug, Default)]
pub struct PortalForm {
    pub fields: HashMap<String, String>,
    pub files: Vec<File>,
    pub file_error: Option<String>,
}

impl PortalForm {
    /// A text field, empty when absent.
    pub fn field(&self, name: &str) -> String {
        self.fields.get(name).cloned().unwrap_or_default()
    }
}

impl FromRequest<AppState> for PortalForm {
    type Rejection = Error;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("multipart/form-data"));
        if multipart {
            let mp = Multipart::from_request(req, state).await.map_err(|e| Error::BadRequest(format!("form: {e}")))?;
            read_multipart(mp).await
        } else {
            let axum::Form(fields) = axum::Form::<HashMap<String, String>>::from_request(req, state)
                .await
                .map_err(|e| Error::BadRequest(format!("form: {e}")))?;
            Ok(PortalForm { fields, ..PortalForm::default() })
        }
    }
}

async fn read_multipart(mut mp: Multipart) -> Result<PortalForm, Error> {
    let mut form = PortalForm::default();
    let mut total = 0usize;
    while let Some(mut field) = mp.next_field().await.map_err(|e| Error::BadRequest(format!("form: {e}")))? {
        let name = field.name().unwrap_or_default().to_string();
        let Some(file_name) = field.file_name().map(str::to_string) else {
            let text = field.text().await.map_err(|e| Error::BadRequest(format!("form: {e}")))?;
            form.fields.insert(name, text);
            continue;
        };
        let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
        let mut data = Vec::new();
        let mut too_large = false;
        while let Some(chunk) = field.chunk().await.map_err(|e| Error::BadRequest(format!("upload: {e}")))? {
            too_large |= data.len() + chunk.len() > MAX_FILE_BYTES;
            if !too_large {
                data.extend_from_slice(&chunk);
            }
        }
        if name != "attachments" || (file_name.is_empty() && data.is_empty()) {
            continue;
        }
        let problem = if too_large {
            Some(format!("{file_name} is larger than {} MB.", MAX_FILE_BYTES / (1024 * 1024)))
        } else if form.files.len() >= MAX_FILES {
            Some(format!("At most {MAX_FILES} files per message."))
        } else if total + data.len() > MAX_TOTAL_BYTES {
            Some(format!("All files together may be at most {} MB.", MAX_TOTAL_BYTES / (1024 * 1024)))
        } else {
            None
        };
        match problem {
            Some(p) => {
                form.file_error.get_or_insert(p);
            }
            None => {
                total += data.len();
                form.files.push(File { name: file_name, content_type, data });
            }
        }
    }
    Ok(form)
}
