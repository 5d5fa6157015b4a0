-- A new chirp ($1: the censored body, $2: the author); `just bench` runs this file in pgbench too.
insert into chirps (body, user_id)
values ($1, $2)
returning id, created_at, updated_at, body, user_id
