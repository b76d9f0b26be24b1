//! Every API error answers `{"error": …}`: axum's own rejections (path, query, body limits), unknown routes and
//! wrong methods included, so clients parse one shape.

use axum::Json;
use axum::body::to_bytes;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Rewrites an error response that is not JSON into `{"error": its text}`, keeping status and other headers.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // axum's rejection texts are short; anything longer is cut rather than buffered.
    let text =
        to_bytes(body, 16 * 1024).await.map(|b| String::from_utf8_lossy(&b).trim().to_string()).unwrap_or_default();
    let message = if text.is_empty() { reason(status) } else { text };
    let mut out = (status, Json(serde_json::json!({ "error": message }))).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}

/// 404 for paths under `/api/v1` that name no endpoint.
pub async fn no_such_endpoint() -> StatusCode {
    StatusCode::NOT_FOUND
}

fn reason(status: StatusCode) -> String {
    status.canonical_reason().map(str::to_lowercase).unwrap_or_else(|| status.as_str().to_string())
}
