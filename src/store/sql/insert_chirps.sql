-- A group of chirps ($1: their ids, $2: the censored bodies, $3: the authors, $4: the chirps
-- they reply to, or null), inserted in that order, each stamped with the moment it is
-- written (so the group's chirps keep their order in the feed); a post whose author is gone
-- is left out.
insert into chirps (id, body, user_id, reply_to, created_at, updated_at)
select post.id, post.body, post.user_id, post.reply_to, stamp.at, stamp.at
from unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[]) with ordinality as post (id, body, user_id, reply_to, n)
join users on users.id = post.user_id
cross join lateral (select clock_timestamp() as at) as stamp
order by post.n
returning id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
