-- Rate limits on writes (issue 20), shared by every instance: requests per key
-- ('<kind>:user:<id>' or '<kind>:address:<client>') in fixed windows aligned to the epoch
-- on the database's clock, so every instance counts the same window. Rows whose window has
-- ended are deleted by any instance's housekeeping.
create table rate_counts (
    key            text primary key,
    window_started timestamptz not null,
    window_ends    timestamptz not null,
    hits           integer not null check (hits >= 0),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

create index rate_counts_window_ends_idx on rate_counts (window_ends);
