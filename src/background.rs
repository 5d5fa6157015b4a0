//! What an instance does besides answering requests: adding its visit count to the shared
//! one every second, deleting what has outlived its use (login-throttle windows that have
//! ended, feed events and idempotency keys older than a day) and keying emails stored
//! without a key. Every instance does it; doing what another already did is harmless.

use std::time::Duration;

use crate::state::AppState;

const FLUSH_VISITS_EVERY: Duration = Duration::from_secs(1);
const DELETE_EXPIRED_EVERY: Duration = Duration::from_secs(60);

/// Runs until the process ends; a failed round is logged and tried again next time.
pub fn spawn_housekeeping(state: &AppState) {
    let visits = state.visits.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(FLUSH_VISITS_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = visits.flush().await {
                tracing::warn!(error = %err, "could not add this instance's visits to the shared count");
            }
        }
    });
    let (throttle, store, limiter) = (state.login_throttle.clone(), state.store.clone(), state.limiter.clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(DELETE_EXPIRED_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            report("login-throttle windows", throttle.delete_expired().await);
            report("feed events", store.delete_old_events(EVENTS_KEPT).await);
            report("idempotency keys", store.delete_expired_idempotency_keys().await);
            report("rate-limit windows", store.delete_ended_rate_counts().await);
            report("refresh tokens", store.delete_expired_sessions().await);
            limiter.forget_ended();
            // Users an instance of the previous release wrote during a rolling deploy.
            match store.key_emails().await {
                Ok(0) => {}
                Ok(keyed) => tracing::info!(users = keyed, "computed missing email keys"),
                Err(err) => tracing::warn!(error = %err, "could not compute missing email keys"),
            }
        }
    });
}

/// How long feed events are kept: a client resuming after longer gets what is left.
const EVENTS_KEPT: Duration = Duration::from_secs(24 * 60 * 60);

fn report(what: &str, deleted: sqlx::Result<u64>) {
    match deleted {
        Ok(0) => {}
        Ok(deleted) => tracing::debug!(deleted, "deleted old {what}"),
        Err(err) => tracing::warn!(error = %err, "could not delete old {what}"),
    }
}
