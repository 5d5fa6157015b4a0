-- Idempotency-Key on POST /api/chirps: a key a user sent is remembered with what the first
-- request asked (a hash of the chirp's text) and what it got (the chirp, as sent), for 24
-- hours; it is written in the same transaction as the chirp, so a retry can never post twice.
create table idempotency_keys (
    user_id      uuid not null references users (id) on delete cascade,
    key          text not null check (length(key) between 1 and 255),
    request_hash bytea not null check (length(request_hash) = 32),
    chirp_id     uuid not null,
    response     text not null,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    primary key (user_id, key)
);

-- Housekeeping deletes keys older than a day.
create index idempotency_keys_created_at_idx on idempotency_keys (created_at);
