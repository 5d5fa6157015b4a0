-- A page of the reader's ($1) home timeline after ($2, $3), at most $4 chirps, from their
-- inbox (fan-out on write): the inbox's newest entries, then each chirp by id.
select c.*
from (select chirp_id from bench_home_inbox
       where user_id = $1 and (created_at, chirp_id) < ($2, $3)
       order by created_at desc, chirp_id desc
       limit $4) i
join chirps c on c.id = i.chirp_id
order by c.created_at desc, c.id desc
