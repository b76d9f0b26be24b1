//! Errors of portal requests as pages a customer can act on (the web layer answers `{"error": …}`).

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Turns an error answer that is not already a page into a portal page with the message and what to do next.
pub async fn portal_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_page = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_page || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let body = to_bytes(resp.into_body(), 64 * 1024).await.unwrap_or_default();
    let message = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(json) => json["error"].as_str().unwrap_or_default().to_string(),
        Err(_) => String::from_utf8_lossy(&body).trim().to_string(),
    };
    let message = match status.as_u16() {
        404 => "This request does not exist, or the link is out of date.".to_string(),
        s if s >= 500 => "Something went wrong on our side. Please try again later.".to_string(),
        _ => message,
    };
    page(status, &message)
}

/// A plain portal page: the status in words, a message, and the way back.
pub fn page(status: StatusCode, message: &str) -> Response {
    let title = match status.as_u16() {
        404 => "Not found",
        403 => "Refused",
        413 => "Too large",
        429 => "Too many requests",
        s if s >= 500 => "Something went wrong",
        _ => "Cannot do that",
    };
    let html = format!(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=stylesheet href=/static/portal.css><link rel=stylesheet href=/portal/theme.css>\
         <main class=portal-narrow><h1>{title}</h1><p>{}</p><p><a href=\"/portal/tickets\">Your requests</a></p></main></html>",
        escape(message)
    );
    (status, Html(html)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_pages_escape_the_message() {
        let body = super::escape("<script>x</script> & \"y\"");
        assert_eq!(body, "&lt;script&gt;x&lt;/script&gt; &amp; &quot;y&quot;");
    }
}
