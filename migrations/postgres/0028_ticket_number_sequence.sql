-- Ticket numbers come from a sequence on PostgreSQL: drawing from the `counters` row locked it until the drawing
-- transaction ended, so every instance's and mailbox's inbound batches waited on one another (the whole batch,
-- its acknowledgements and commit included). A sequence never waits; a transaction that rolls back after drawing
-- leaves its numbers unused. It continues from the counter (the last number handed out).
create sequence ticket_number_seq minvalue 1000;
select setval('ticket_number_seq', greatest(1000, (select value from counters where name = 'ticket_number')),
              (select value from counters where name = 'ticket_number') >= 1000);
