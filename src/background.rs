//! What an instance does besides answering requests: adding its visit count to the shared
//! one every second, and deleting login-throttle windows that have ended.

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
    let throttle = state.login_throttle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(DELETE_EXPIRED_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match throttle.delete_expired().await {
                Ok(0) => {}
                Ok(deleted) => tracing::debug!(deleted, "deleted ended login-throttle windows"),
                Err(err) => tracing::warn!(error = %err, "could not delete ended login-throttle windows"),
            }
        }
    });
}
