-- State every instance shares (the scale-out issue): the login throttle's windows and the
-- /app/ visit counter, which were per process before.

-- Failed logins per key ('email:<address, lowercased>' or 'address:<client ip>') in fixed
-- windows. Rows whose window has ended are deleted by any instance's housekeeping.
create table login_failures (
    key            text primary key,
    window_started timestamptz not null,
    failures       integer not null check (failures >= 0),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);

create index login_failures_window_started_idx on login_failures (window_started);

-- Named counters; instances add what they counted in memory at most every second.
create table counters (
    name       text primary key,
    value      bigint not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

insert into counters (name) values ('app_hits');
