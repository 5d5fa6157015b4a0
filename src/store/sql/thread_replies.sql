-- A page of the direct replies to a chirp ($1), oldest first, after the cursor ($2, $3); at
-- most $4; none by a user the viewer ($5, if any) blocks or is blocked by.
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where reply_to = $1 and (created_at, id) > ($2, $3) and hidden_at is null
  and not blocked_between($5, user_id)
order by created_at, id
limit $4
