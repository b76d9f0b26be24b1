use super::*;

fn mailbox(toml_text: &str) -> MailboxSettings {
    toml::from_str(&format!("name = \"s\"\naddress = \"s@x.test\"\n{toml_text}")).unwrap()
}

#[test]
fn a_provider_fills_in_endpoints_client_and_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let providers: OAuthProviders = toml::from_str(&format!(
        "[google]\nclient_id = \"app.apps.googleusercontent.com\"\nclient_secret_file = \"{}\"\n",
        secret.display()
    ))
    .unwrap();
    let mb = mailbox(
        "imap = { host = \"imap.gmail.com\", username = \"s@x.test\", auth = \"xoauth2\", oauth = { provider = \"google\" } }",
    );
    let grant = mb.oauth().unwrap().resolve(&providers).unwrap();
    assert_eq!(grant.token_url, "https://oauth2.googleapis.com/token");
    assert_eq!(grant.client_id, "app.apps.googleusercontent.com");
    assert_eq!(grant.client_secret.as_deref(), Some("s3cret"));
    assert_eq!(grant.seed_refresh_token, None);
    assert!(!format!("{grant:?}").contains("s3cret"));
    let ms = providers.endpoints(Provider::Microsoft);
    assert!(ms.scopes.contains("offline_access") && ms.auth_url.contains("login.microsoftonline.com"));
}

#[test]
fn explicit_endpoints_and_a_refresh_token_file_are_used_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rt");
    std::fs::write(&file, "1//refresh\n").unwrap();
    let mut o = OAuthSettings {
        token_url: Some("http://127.0.0.1:9/token".into()),
        client_id: Some("cid".into()),
        refresh_token_file: Some("rt".into()),
        ..Default::default()
    };
    o.resolve_paths(|p| dir.path().join(p));
    let grant = o.resolve(&OAuthProviders::default()).unwrap();
    assert_eq!((grant.token_url.as_str(), grant.client_secret), ("http://127.0.0.1:9/token", None));
    assert_eq!(grant.seed_refresh_token.as_deref(), Some("1//refresh"));
    let missing = OAuthSettings { refresh_token_env: Some("DESKMAIL_TEST_NO_SUCH".into()), ..o };
    assert!(missing.resolve(&OAuthProviders::default()).unwrap_err().contains("DESKMAIL_TEST_NO_SUCH"));
}

#[test]
fn smtp_shares_the_imap_grant_and_contradictions_are_refused() {
    let ok = mailbox(
        "imap = { host = \"h\", username = \"u\", auth = \"oauthbearer\", oauth = { provider = \"microsoft\" } }\n\
         smtp = { host = \"h\", username = \"u\", auth = \"xoauth2\" }",
    );
    assert!(ok.check_oauth().is_ok());
    assert_eq!(ok.oauth().unwrap().provider, Some(Provider::Microsoft));
    let no_grant = mailbox("smtp = { host = \"h\", username = \"u\", auth = \"xoauth2\" }");
    assert!(no_grant.check_oauth().unwrap_err().contains("needs oauth"));
    let stray =
        mailbox("smtp = { host = \"h\", username = \"u\", password = \"p\", oauth = { provider = \"google\" } }");
    assert!(stray.check_oauth().unwrap_err().contains("password"));
    let two = mailbox(
        "imap = { host = \"h\", username = \"u\", auth = \"xoauth2\", oauth = { provider = \"google\" } }\n\
         smtp = { host = \"h\", username = \"u\", auth = \"xoauth2\", oauth = { provider = \"microsoft\" } }",
    );
    assert!(two.check_oauth().unwrap_err().contains("differ"));
    let bare = mailbox("imap = { host = \"h\", username = \"u\", auth = \"xoauth2\", oauth = { client_id = \"c\" } }");
    assert!(bare.check_oauth().unwrap_err().contains("token_url"));
}

#[test]
fn password_mailboxes_store_no_auth_keys() {
    let mb = mailbox("imap = { host = \"h\", username = \"u\", password = \"p\" }");
    let json = serde_json::to_string(&mb).unwrap();
    assert!(!json.contains("auth") && !json.contains("oauth"), "{json}");
    assert_eq!(Provider::parse("google"), Some(Provider::Google));
    assert_eq!(Provider::parse("yahoo"), None);
}
