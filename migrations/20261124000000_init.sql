-- Users, their chirps and their refresh tokens. Every row carries created_at/updated_at;
-- ids come from the database so no client-chosen id ever reaches a table.

create table users (
    id              uuid primary key default gen_random_uuid(),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    email           text not null,
    hashed_password text not null,
    is_chirpy_red   boolean not null default false
);

-- Emails are unique regardless of letter case; the address is stored as the user typed it.
create unique index users_email_lower_key on users (lower(email));

create table chirps (
    id         uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    body       text not null,
    user_id    uuid not null references users (id) on delete cascade
);

-- The feed is ordered by (created_at, id); the author filter uses the same order.
create index chirps_created_at_id_idx on chirps (created_at, id);
create index chirps_user_id_created_at_id_idx on chirps (user_id, created_at, id);

-- Only a SHA-256 of each refresh token is kept: a leaked table yields no usable token.
create table refresh_tokens (
    token_hash bytea primary key check (length(token_hash) = 32),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    user_id    uuid not null references users (id) on delete cascade,
    expires_at timestamptz not null,
    revoked_at timestamptz
);

create index refresh_tokens_user_id_idx on refresh_tokens (user_id);
