-- Rules (issue: the rules engine): event rules, time rules (schedule) and macros (manual), global or personal.
-- conditions and actions are JSON as in design §10; checked when saved.
create table rules (
    id              integer primary key,
    name            text not null,
    enabled         integer not null default 1,
    owner_id        integer references users(id) on delete cascade,
    position        integer not null,
    stop            integer not null default 0,
    trigger         text not null,
    conditions      text not null,
    actions         text not null,
    -- Why the engine switched it off (too many runs on one ticket in an hour), shown to admins.
    disabled_reason text,
    created_at      integer not null,
    updated_at      integer not null
);
create index rules_trigger on rules (trigger, position);
-- A rule's episode on a ticket: a row while it has acted and its conditions still hold (re-armed by deleting it).
create table rule_episodes (
    rule_id   integer not null references rules(id) on delete cascade,
    ticket_id integer not null references tickets(id) on delete cascade,
    since     integer not null,
    primary key (rule_id, ticket_id)
);
create index rule_episodes_ticket on rule_episodes (ticket_id);
-- Every time a rule acted on a ticket: the rule's recent runs, and the hourly limit per ticket.
create table rule_runs (
    id        integer primary key,
    rule_id   integer not null references rules(id) on delete cascade,
    ticket_id integer not null references tickets(id) on delete cascade,
    -- The event that triggered it (none for schedule and manual runs).
    event_id  integer,
    actor     text not null,
    at        integer not null,
    actions   text not null
);
create index rule_runs_rule on rule_runs (rule_id, id);
create index rule_runs_ticket on rule_runs (ticket_id, rule_id, at);
-- Webhook deliveries, retried with backoff like mail; the body and its signature are fixed when queued.
create table webhook_deliveries (
    id              integer primary key,
    rule_id         integer references rules(id) on delete set null,
    ticket_id       integer references tickets(id) on delete set null,
    event_id        integer,
    url             text not null,
    body            text not null,
    signature       text not null,
    status          text not null default 'queued',
    attempts        integer not null default 0,
    next_attempt_at integer not null,
    lease_owner     text,
    lease_until     integer,
    last_status     integer,
    last_error      text,
    created_at      integer not null,
    sent_at         integer
);
create index webhook_deliveries_due on webhook_deliveries (status, next_attempt_at);
-- Named periodic jobs (the rules scheduler): one instance at a time by lease, and when it last ran.
create table scheduled_jobs (
    name          text primary key,
    lease_owner   text,
    lease_until   integer,
    last_run_at   integer,
    last_duration_ms integer,
    last_acted    integer
);
