-- Fills the inboxes for a sample of readers: users $1, $1 + $2, ... up to $3 (numbers; $4 is
-- the id of user `n`), each with the newest $5 chirps of their timeline by its definition
-- (the naive query's: the reader's and their followees' chirps, newest first); the accounts
-- followed by more than $6 users are the hybrid's pulled ones, and its inbox is the same rows
-- without their chirps (but for the reader's own).
insert into bench_home_inbox (user_id, created_at, chirp_id)
select r.id, h.created_at, h.id
from generate_series($1, $3, $2) n
cross join lateral (select $4 as id) r
cross join lateral (
    select c.created_at, c.id from chirps c
     where c.user_id = r.id or c.user_id in (select followee_id from follows where follower_id = r.id)
     order by c.created_at desc, c.id desc
     limit $5) h;
insert into bench_hybrid_pulled (id) select id from users where followers_count > $6;
insert into bench_home_inbox_hybrid (user_id, created_at, chirp_id)
select i.user_id, i.created_at, i.chirp_id
from bench_home_inbox i join chirps c on c.id = i.chirp_id
where c.user_id = i.user_id or c.user_id not in (select id from bench_hybrid_pulled)
