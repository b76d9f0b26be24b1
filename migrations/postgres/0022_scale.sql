-- A customer's other tickets (the ticket page's side list, the customer page), newest activity first: the index
-- gives them in order (ties by id, like the list indexes of 0023) and covers the count, where (requester_id) alone
-- read every one of them from the table and sorted (~3,000 for the busiest customer of 1,000,000 tickets;
-- scripts/bench scale).
create index tickets_requester_updated on tickets (requester_id, updated_at desc, id desc);
drop index tickets_requester;
