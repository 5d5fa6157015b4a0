-- The chirps of a batch of reads by id ($1: the ids, once each; a missing one is not found).
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where id = any($1) and hidden_at is null
