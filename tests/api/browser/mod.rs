//! Real-browser tests of the dashboard: headless Chromium driven through a chromedriver each test starts itself.

mod admin_pages;
mod agent_flow;
mod authorization;
mod csrf;
mod html_mail;
mod keyboard;
mod phone;
mod portal;
mod rule_pages;
mod shop_links;
mod sla_badges;
mod ticket_moves;

use crate::helpers::{TestApp, require_env};
use deskmail::domain::Role;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The password every seeded staff account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// One browser at a time: two cores are not enough for several Chromiums and the suite beside them.
static ONE_BROWSER: LazyLock<Arc<Mutex<()>>> = LazyLock::new(|| Arc::new(Mutex::new(())));

/// Headless Chromium behind its own chromedriver, pointed at one test app.
pub struct Browser {
    pub client: Client,
    pub base: String,
    _driver: Driver,
    _profile: tempfile::TempDir,
    _turn: OwnedMutexGuard<()>,
}

/// A running chromedriver, ended with its whole process group (the browsers it started) on drop.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: kill(2) on our own child's process group; no memory is involved.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

/// `CHROMIUM` and `CHROMEDRIVER`; `None` (skip) when missing outside CI.
fn binaries() -> Option<(String, String)> {
    Some((require_env("CHROMIUM")?, require_env("CHROMEDRIVER")?))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Starts chromedriver in its own process group, and waits until it answers.
async fn start_driver(chromedriver: &str) -> (Driver, u16) {
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {chromedriver}: {e}"));
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = reqwest::Client::new();
    while Instant::now() < deadline {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/status")).send().await
            && r.json::<Value>().await.is_ok_and(|v| v["value"]["ready"] == true)
        {
            return (driver, port);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver on port {port} did not become ready");
}

fn capabilities(chromium: &str, profile: &std::path::Path) -> fantoccini::wd::Capabilities {
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    // Prompts stay open, so a test can see whether a script managed to raise one.
    let caps = json!({
        "browserName": "chrome",
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": { "binary": chromium, "args": args },
    });
    caps.as_object().expect("object").clone()
}

impl Browser {
    /// A fresh browser session for `app`; `None` when Chromium is not installed (and not required).
    pub async fn start(app: &TestApp) -> Option<Browser> {
        let (chromium, chromedriver) = binaries()?;
        let turn = ONE_BROWSER.clone().lock_owned().await;
        let (driver, port) = start_driver(&chromedriver).await;
        let profile = tempfile::tempdir().expect("profile dir");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities(&chromium, profile.path()))
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("new browser session");
        Some(Browser { client, base: app.address.clone(), _driver: driver, _profile: profile, _turn: turn })
    }

    /// Ends the session (chromedriver closes the browser); the driver itself ends on drop.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens a path of the app and waits for the page.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("goto {path}: {e}"));
    }

    /// The current path and query, e.g. `/login?next=%2Ftickets`.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The first element matching `css`.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// The visible text of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.client.find_all(Locator::Css(css)).await.expect("find_all") {
            out.push(e.text().await.expect("text"));
        }
        out
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    /// Runs a script in the page and returns its result.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Marks the current document, so [`Browser::wait_new_page`] can tell when another one replaced it.
    pub async fn mark_page(&self) {
        self.eval("window.__dmOldPage = true;").await;
    }

    /// Waits until a new document (since [`Browser::mark_page`]) has loaded.
    pub async fn wait_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let done = self
                .client
                .execute("return !window.__dmOldPage && document.readyState === 'complete';", Vec::new())
                .await;
            if matches!(done, Ok(Value::Bool(true))) {
                return;
            }
            assert!(Instant::now() < deadline, "no new page loaded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks `css` and waits until a new document has loaded (a link followed or a form answered).
    pub async fn click_and_wait(&self, css: &str) {
        self.mark_page().await;
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        self.wait_new_page().await;
    }

    /// Signs in through the login form (from wherever the browser is: it opens `/login` unless already there).
    pub async fn login(&self, email: &str, password: &str) {
        if !self.path().await.starts_with("/login") {
            self.goto("/login").await;
        }
        self.find("#email").await.send_keys(email).await.expect("type e-mail");
        self.find("#password").await.send_keys(password).await.expect("type password");
        self.click_and_wait("form[action='/login'] button[type=submit]").await;
        assert!(!self.path().await.starts_with("/login"), "still on the login page: {}", self.text("main").await);
    }

    /// The flash messages of the current page.
    pub async fn flashes(&self) -> Vec<String> {
        self.texts(".flash").await
    }

    /// Saves a PNG of the viewport to `target/screenshots/NAME.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
        let dir = target.join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// The text of an open alert/confirm/prompt, if a script raised one.
    pub async fn open_dialog(&self) -> Option<String> {
        self.client.get_alert_text().await.ok()
    }
}

/// A staff account with a real password hash; returns its id.
pub async fn staff(app: &TestApp, email: &str, name: &str, role: Role) -> i64 {
    let hash = tokio::task::spawn_blocking(|| deskmail::platform::password::hash(PASSWORD)).await.expect("hash");
    app.services.db.create_user(email, name, role, &hash).await.expect("create user")
}

/// A reqwest client that keeps cookies and does not follow redirects (for HTTP-level checks).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// Signs `client` in through the login form; panics unless it is redirected away from `/login`.
pub async fn http_login(app: &TestApp, client: &reqwest::Client, email: &str) {
    let resp = client
        .post(format!("{}/login", app.address))
        .form(&[("email", email), ("password", PASSWORD), ("next", "/tickets")])
        .send()
        .await
        .expect("login request");
    assert_eq!(resp.status().as_u16(), 303, "login of {email} failed");
}
