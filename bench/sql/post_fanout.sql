-- A chirp ($1: its body) by $2 and a row in the inbox of the author and of each follower, in
-- one statement and one commit: what a post costs with fan-out on write, done at once.
with posted as (
    insert into chirps (id, created_at, updated_at, body, user_id)
    values (gen_random_uuid(), clock_timestamp(), clock_timestamp(), $1, $2)
    returning id, created_at, user_id
)
insert into bench_home_inbox (user_id, created_at, chirp_id)
select f.follower_id, p.created_at, p.id from posted p join follows f on f.followee_id = p.user_id
union all
select p.user_id, p.created_at, p.id from posted p
