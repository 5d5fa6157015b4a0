-- A page of the reader's ($1) home timeline after the cursor ($2, $3), at most $4 chirps,
-- newest first (see home_timeline in migrations/ and src/store/timeline.rs); `just bench`
-- runs this file in pgbench too.
select id as "id!", created_at as "created_at!", updated_at as "updated_at!", body as "body!", user_id as "user_id!",
       reply_to, like_count as "like_count!", reply_count as "reply_count!"
from home_timeline($1, $2, $3, $4)
