-- A page of the chirps with every word of the query ($1, taken as plain words: no operators),
-- newest first, after the cursor ($2, $3); at most $4; none by a user the viewer ($5, if any)
-- blocks or is blocked by. `just bench` runs this file in
-- pgbench too.
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where search @@ plainto_tsquery('simple', $1) and (created_at, id) < ($2, $3) and hidden_at is null
  and not blocked_between($5, user_id)
order by created_at desc, id desc
limit $4
