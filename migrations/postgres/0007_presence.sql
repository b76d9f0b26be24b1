-- Who is writing a reply on which ticket right now (the "Ana is also replying" notice).
create table ticket_presence (
    ticket_id bigint not null references tickets(id) on delete cascade,
    user_id   bigint not null references users(id) on delete cascade,
    expires_at bigint not null,
    primary key (ticket_id, user_id)
);
