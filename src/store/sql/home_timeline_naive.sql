-- The home timeline as the obvious query writes it: what `home_timeline` must equal and
-- beat. Only `just bench` runs it (in pgbench, as the baseline); the reader is $1, the page
-- 21 rows (20 and one to learn whether more follow), as the server reads a first page.
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where user_id = $1 or user_id in (select followee_id from follows where follower_id = $1)
order by created_at desc, id desc
limit 21
