//! Chirpy over HTTP against a real PostgreSQL: one binary, one fresh database per test.

mod admin;
mod batching;
mod binary;
mod cache;
mod chirps;
mod cors;
mod emails;
mod follows;
mod helpers;
mod idempotency;
mod observability;
mod process;
mod profiles;
mod resilience;
mod scale_out;
mod security;
mod sessions;
mod slow_clients;
mod spec;
mod sse;
mod static_files;
mod stream;
mod throttle;
mod timeline;
mod users;
mod webhooks;
