-- A page of the feed, oldest first, after the keyset cursor ($1, $2); at most $3 chirps.
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where (created_at, id) > ($1, $2) and hidden_at is null
order by created_at, id
limit $3
