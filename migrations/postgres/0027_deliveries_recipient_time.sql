-- The rate limits (acknowledgements per recipient, answers to an agent's mail per hour) count a recipient's mail
-- of the last hour. They start from the recipient's deliveries; without the time in the index they read every
-- delivery the address ever had (an agent gets every notice; a looping autoresponder is limited for months).
-- `queued_at` is the mail's `created_at` or later (an admin's retry moves it), so bounding it loses nothing.
create index deliveries_recipient_queued on deliveries (recipient, queued_at);
