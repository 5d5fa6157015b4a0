-- One chirp by id (GET /api/chirps/{chirpID}); `just bench` runs this file in pgbench too.
select id, created_at, updated_at, body, user_id, reply_to, like_count, reply_count
from chirps
where id = $1 and hidden_at is null
