-- Teams (issue: teams and ticket operations): members and mailboxes. A mailbox of one or more teams is seen only by
-- their members and admins; a mailbox of no team by every agent. Round robin remembers who got the last ticket.
create table teams (
    id           integer primary key,
    name         text not null unique,
    rr_last_user integer references users(id) on delete set null,
    created_at   integer not null
);
create table team_members (
    team_id integer not null references teams(id) on delete cascade,
    user_id integer not null references users(id) on delete cascade,
    primary key (team_id, user_id)
);
create index team_members_user on team_members (user_id);
create table team_mailboxes (
    team_id    integer not null references teams(id) on delete cascade,
    mailbox_id integer not null references mailboxes(id) on delete cascade,
    primary key (team_id, mailbox_id)
);
create index team_mailboxes_mailbox on team_mailboxes (mailbox_id);
create index tickets_mailbox_status on tickets (mailbox_id, status);
