-- Who is writing a reply on which ticket right now (the "Ana is also replying" notice).
create table ticket_presence (
    ticket_id integer not null references tickets(id) on delete cascade,
    user_id   integer not null references users(id) on delete cascade,
    expires_at integer not null,
    primary key (ticket_id, user_id)
);
