-- A chirp ($1: its body) by $2, and nothing else: what a post costs with fan-out on read.
insert into chirps (id, created_at, updated_at, body, user_id)
values (gen_random_uuid(), clock_timestamp(), clock_timestamp(), $1, $2)
