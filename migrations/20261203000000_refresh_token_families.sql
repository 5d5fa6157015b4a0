-- Refresh-token rotation with reuse detection (RFC 9700, 4.14.2). A login starts a session,
-- the family of refresh tokens that descend from its token: each rotation replaces the
-- family's current token with its successor. A replaced token presented after the grace
-- window is taken for a stolen one: the whole session is revoked. src/store/tokens.rs
-- says how the rows are locked.

create table sessions (
    id           uuid primary key default gen_random_uuid(),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    user_id      uuid not null references users (id) on delete cascade,
    -- The login's User-Agent, cut to 256 characters; null when it sent none.
    user_agent   text check (length(user_agent) <= 256),
    -- The last refresh (or the login).
    last_used_at timestamptz not null default now(),
    -- Logged out, logged out everywhere, the password changed, or a token reused.
    revoked_at   timestamptz
);

create index sessions_user_id_idx on sessions (user_id, last_used_at desc, id);

alter table refresh_tokens
    add column session_id uuid,
    -- When a rotation replaced this token, and the hash of its successor.
    add column replaced_at timestamptz,
    add column replaced_by bytea check (length(replaced_by) = 32),
    add constraint refresh_tokens_replaced_check check ((replaced_at is null) = (replaced_by is null));

-- Every token issued before sessions is a session of its own.
update refresh_tokens set session_id = gen_random_uuid();
insert into sessions (id, created_at, updated_at, user_id, last_used_at, revoked_at)
select session_id, created_at, updated_at, user_id, updated_at, revoked_at from refresh_tokens;

alter table refresh_tokens
    alter column session_id set not null,
    add constraint refresh_tokens_session_id_fkey foreign key (session_id) references sessions (id) on delete cascade;

create index refresh_tokens_session_id_idx on refresh_tokens (session_id);

-- An instance of the previous release (during a rolling deploy) logs in without naming a
-- session: its token starts one of its own, as a login of this release would.
create function refresh_tokens_start_session() returns trigger language plpgsql as $$
begin
    if new.session_id is null then
        insert into sessions (user_id, created_at, last_used_at) values (new.user_id, new.created_at, new.created_at)
        returning id into new.session_id;
    end if;
    return new;
end
$$;

create trigger refresh_tokens_start_session before insert on refresh_tokens
    for each row execute function refresh_tokens_start_session();
