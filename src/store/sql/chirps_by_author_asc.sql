-- A page of one author's ($1) chirps, oldest first, after the cursor ($2, $3); at most $4.
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where user_id = $1 and (created_at, id) > ($2, $3) and hidden_at is null
order by created_at, id
limit $4
