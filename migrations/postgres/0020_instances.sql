-- Live `serve` instances (issue 18): each process renews its heartbeat every third of imap.lease_secs and removes
-- it on a clean shutdown. The mailbox leases are shared among the instances heard from within two lease periods.
create table instances (
    owner        text primary key,
    heartbeat_at bigint not null
);
