-- One chirp ($1: the censored body, $2: the author), as a client of PostgreSQL alone would
-- post it: `just bench` runs it in pgbench, the baseline for POST /api/chirps (which the
-- server writes in groups: insert_chirps.sql).
insert into chirps (body, user_id)
values ($1, $2)
returning id, created_at, updated_at, body, user_id
