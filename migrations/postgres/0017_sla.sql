-- SLA and reports (issue: SLA, types, calendars, reports): ticket types, business-hours calendars, SLA policies
-- and each ticket's clock, kept by the "sla" log consumer and the clock job.
create table ticket_types (
    name       text primary key,
    title      text not null,
    created_at bigint not null
);
alter table tickets add column type_name text references ticket_types(name) on delete set null;
create index tickets_type on tickets (type_name);
-- Copies of the clock for the list: its state (filter sla=) and its nearest due time (sort=due; 9e15 when no
-- target runs, so that an index serves the order with those last).
alter table tickets add column sla_state text;
alter table tickets add column sla_due bigint not null default 9000000000000000;
create index tickets_status_due on tickets (status, sla_due);
create index tickets_sla_due on tickets (sla_due);
create index tickets_sla_state on tickets (sla_state) where sla_state is not null;

-- spec: the calendar's JSON (time_zone, hours per weekday, holidays), checked when saved.
create table calendars (
    name       text primary key,
    spec       text not null,
    updated_at bigint not null
);

-- The first policy by position whose conditions hold applies; minutes are business minutes of its calendar
-- (none: 24×7 UTC).
create table sla_policies (
    name                   text primary key,
    position               bigint not null,
    calendar               text references calendars(name),
    conditions             text not null,
    first_response_minutes bigint,
    next_response_minutes  bigint,
    resolution_minutes     bigint,
    warn_before_minutes    bigint not null default 0,
    updated_at             bigint not null
);

-- A ticket's clock under its policy (no row: no policy applies). due_at is the nearest running target (the
-- list's sort=due); alert_at the next warning or breach to raise; raised the alerts raised, one key each.
create table ticket_sla (
    ticket_id          bigint primary key references tickets(id) on delete cascade,
    policy             text not null,
    state              text not null,
    first_response_due bigint,
    first_response_at  bigint,
    next_response_due  bigint,
    resolution_due     bigint,
    resolved_at        bigint,
    paused_minutes     bigint not null default 0,
    due_at             bigint,
    alert_at           bigint,
    raised             text not null default '',
    updated_at         bigint not null
);
create index ticket_sla_alert on ticket_sla (alert_at) where alert_at is not null;
create index ticket_sla_due on ticket_sla (due_at) where due_at is not null;
create index ticket_sla_state on ticket_sla (state);

-- A job asked to run again (the SLA recompute after a policy changed): runs when requested after its last start.
alter table scheduled_jobs add column requested_at bigint;

-- Reports find status changes in a period.
create index events_kind_at on ticket_events (kind, at);
