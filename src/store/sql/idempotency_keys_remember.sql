-- Remembers what each author's ($1) key ($2) was used for: the request's hash ($3), the
-- chirp ($4) and the response ($5). A key older than a day is forgotten, so it may be used
-- again.
insert into idempotency_keys (user_id, key, request_hash, chirp_id, response)
select * from unnest($1::uuid[], $2::text[], $3::bytea[], $4::uuid[], $5::text[])
on conflict (user_id, key) do update
    set request_hash = excluded.request_hash, chirp_id = excluded.chirp_id,
        response = excluded.response, created_at = now(), updated_at = now()
