-- OAuth2 mailboxes (issue 17): per mailbox signing in with XOAUTH2/OAUTHBEARER, the newest refresh token (rotated
-- by the provider, or received by the dashboard's Connect flow) sealed with the installation key, and how the last
-- refresh went. seed_sha256: sha256 of the configured refresh token the stored one descends from (a changed
-- configuration wins). alerted_at: when admins were last told of a failing refresh (at most once an hour).
create table oauth_tokens (
    mailbox_id           bigint primary key references mailboxes(id) on delete cascade,
    refresh_token_sealed text,
    seed_sha256          text not null default '',
    access_expires_at    bigint,
    last_refresh_at      bigint,
    last_error           text,
    last_error_permanent bigint not null default 0,
    failing_since        bigint,
    alerted_at           bigint,
    updated_at           bigint not null
);
create index oauth_tokens_failing on oauth_tokens (failing_since) where failing_since is not null;
