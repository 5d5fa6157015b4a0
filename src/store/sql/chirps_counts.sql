-- The counts of a batch of chirps ($1: their ids, once each).
select id, like_count, reply_count
from chirps
where id = any($1) and hidden_at is null
