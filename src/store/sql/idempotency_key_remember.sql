-- Remembers what the author's ($1) key ($2) was used for: the request's hash ($3), the chirp
-- ($4) and the response ($5). A key older than a day is forgotten, so it may be used again.
insert into idempotency_keys (user_id, key, request_hash, chirp_id, response)
values ($1, $2, $3, $4, $5)
on conflict (user_id, key) do update
    set request_hash = excluded.request_hash, chirp_id = excluded.chirp_id,
        response = excluded.response, created_at = now(), updated_at = now()
