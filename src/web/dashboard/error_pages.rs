//! Errors of dashboard requests as pages a person can act on: the web layer answers `{"error": …}` and axum's own
//! rejections plain text, which a browser would show raw. Scripts that ask for JSON (`Accept: application/json`)
//! still get the JSON.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Turns an error answer that is not already a page into an HTML page with the message and what to do next.
pub async fn html_errors(req: Request, next: Next) -> Response {
    let wants_json =
        req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
    let resp = next.run(req).await;
    let status = resp.status();
    let is_page = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if wants_json || is_page || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let body = to_bytes(resp.into_body(), 64 * 1024).await.unwrap_or_default();
    let message = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(json) => json["error"].as_str().unwrap_or_default().to_string(),
        Err(_) => String::from_utf8_lossy(&body).trim().to_string(),
    };
    (status, Html(page(status, &message))).into_response()
}

/// The page: status, the error's own words, and the next step.
fn page(status: StatusCode, message: &str) -> String {
    let (title, advice) = advice(status);
    let message = if message.is_empty() { String::new() } else { format!("<p>{}</p>", escape(message)) };
    format!(
        "<!doctype html><meta charset=utf-8><title>{title} · deskmail</title><link rel=stylesheet href=/static/app.css>\
         <main class=narrow><h1>{} — {title}</h1>{message}<p>{advice}</p>\
         <p><a href=\"/tickets\">Back to the tickets</a></p></main>",
        status.as_u16()
    )
}

fn advice(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        404 => ("not found", "The ticket or page does not exist, or the link is out of date."),
        409 => ("already changed", "Someone changed this meanwhile. Go back, reload the page and try again."),
        413 => ("too large", "The upload is over the limit (30 MB per message). Attach fewer or smaller files."),
        429 => ("too many requests", "Wait a minute, then try again."),
        400 | 422 => ("cannot do that", "Go back, check what you entered and try again."),
        503 => ("temporarily unavailable", "The database does not answer. Try again in a minute."),
        s if s >= 500 => ("something went wrong", "The error was logged for the administrators. Try again later."),
        _ => ("refused", "Go back and try something else."),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_the_error_escapes_it_and_says_what_to_do() {
        let p = page(StatusCode::CONFLICT, "the <quarantined> message was already handled");
        assert!(p.contains("409 — already changed"), "{p}");
        assert!(p.contains("the &lt;quarantined&gt; message was already handled"), "{p}");
        assert!(p.contains("reload the page"), "{p}");
        assert!(page(StatusCode::NOT_FOUND, "").contains("does not exist"));
    }
}
