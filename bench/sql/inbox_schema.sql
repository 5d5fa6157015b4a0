-- Fan-out on write, prototyped for `just bench` (not part of the server): a home inbox per
-- user, one row per chirp in their timeline, newest first by its primary key. The hybrid
-- keeps a second inbox without the chirps of the accounts it pulls at read time instead
-- (bench_hybrid_pulled: those followed by more than a share of everyone), so that their
-- posts write one row, not one per follower.
create table bench_home_inbox (
    user_id    uuid not null,
    created_at timestamptz not null,
    chirp_id   uuid not null,
    primary key (user_id, created_at, chirp_id)
);
create table bench_home_inbox_hybrid (like bench_home_inbox including all);
create table bench_hybrid_pulled (id uuid primary key)
