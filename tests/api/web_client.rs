//! A cookie-keeping HTTP client for the dashboard tests: it does not follow redirects and sends `Origin` with posts.

use crate::helpers::TestApp;
use deskmail::domain::Role;

/// The password of every staff account the dashboard tests create.
pub const PASSWORD: &str = "correct horse battery";

/// A staff account named "Staff {email}" with a real hash of [`PASSWORD`]; returns its id.
pub async fn staff(app: &TestApp, email: &str, role: Role) -> i64 {
    let hash = tokio::task::spawn_blocking(|| deskmail::platform::password::hash(PASSWORD)).await.unwrap();
    app.services.db.create_user(email, &format!("Staff {email}"), role, &hash).await.unwrap()
}

/// Creates a staff account and signs it in.
pub async fn signed_in_staff(app: &TestApp, email: &str, role: Role) -> Browser {
    staff(app, email, role).await;
    Browser::signed_in(app, email, PASSWORD).await
}

/// A signed-in (or anonymous) browser without JavaScript.
pub struct Browser {
    client: reqwest::Client,
    base: String,
}

/// Status, `Location`, headers and body of a response.
pub struct Page {
    pub status: u16,
    pub location: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// A response header as text (empty when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }
}

impl Browser {
    /// An anonymous browser for this app.
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self { client, base: app.address.clone() }
    }

    /// Signs in with this password; the user must exist.
    pub async fn signed_in(app: &TestApp, email: &str, password: &str) -> Self {
        let b = Self::new(app);
        let p = b.post("/login", &[("email", email), ("password", password), ("next", "/tickets")]).await;
        assert_eq!(p.status, 303, "login of {email}: {}", p.body);
        b
    }

    async fn page(resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let headers = resp.headers().clone();
        Page { status, location, headers, body: resp.text().await.unwrap_or_default() }
    }

    /// The underlying client (with this browser's cookies), for requests with unusual headers.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(format!("{}{path}", self.base)).send().await.expect("GET")).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).header("Origin", &self.base).form(form);
        Self::page(req.send().await.expect("POST")).await
    }

    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        let req = self.client.post(format!("{}{path}", self.base)).header("Origin", &self.base).multipart(form);
        Self::page(req.send().await.expect("POST")).await
    }
}
