-- What a follow adds with fan-out on write: the followee's ($2) newest $3 chirps copied into
-- the follower's ($1) inbox.
insert into bench_home_inbox (user_id, created_at, chirp_id)
select $1, created_at, id from chirps
where user_id = $2
order by created_at desc, id desc
limit $3
on conflict do nothing
