//! A read replica, used only while it is reachable and close behind the primary. A read
//! that fails on it is made on the primary at once; a task checks it every second and
//! sends reads back once it is healthy again.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::PgPool;

use super::Statements;

/// How often the replica's health and lag are checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct Replica {
    pool: PgPool,
    usable: Arc<AtomicBool>,
}

impl Replica {
    /// Starts checking the replica behind `pool`; it is not read from until the first
    /// check passes. The check stops when the last clone of this is dropped.
    pub fn watch(pool: PgPool, max_lag: Duration, named_statements: bool) -> Self {
        let usable = Arc::new(AtomicBool::new(false));
        let watched = Arc::downgrade(&usable);
        let checked = pool.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(usable) = watched.upgrade() else { return };
                let healthy = check(Statements::new(&checked, named_statements), max_lag).await;
                if usable.swap(healthy, Ordering::Relaxed) != healthy {
                    if healthy {
                        tracing::info!("the read replica is healthy: chirp reads go to it");
                    } else {
                        tracing::warn!("the read replica is unreachable or behind: chirp reads go to the primary");
                    }
                }
            }
        });
        Self { pool, usable }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub fn usable(&self) -> bool {
        self.usable.load(Ordering::Relaxed)
    }

    /// A read failed on the replica: stop using it until a check passes.
    pub fn failed(&self, err: &sqlx::Error) {
        if self.usable.swap(false, Ordering::Relaxed) {
            tracing::warn!(error = %err, "a read on the replica failed: chirp reads go to the primary");
        }
    }
}

/// Whether the replica answers and has replayed the primary's changes to within
/// `max_lag`. A server that is not a standby (no recovery) has no lag.
async fn check(replica: Statements<&PgPool>, max_lag: Duration) -> bool {
    // When all that was received is replayed the replica is caught up, however long ago
    // the last change was; otherwise the lag is the age of the last change it replayed.
    let lag = sqlx::query_scalar!(
        r#"select coalesce(case when not pg_is_in_recovery() or pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                               then 0
                               else extract(epoch from now() - pg_last_xact_replay_timestamp())::float8
                          end, 0) as "lag_secs!""#
    )
    .fetch_one(replica);
    match tokio::time::timeout(CHECK_EVERY, lag).await {
        Ok(Ok(lag_secs)) => lag_secs <= max_lag.as_secs_f64(),
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "replica check failed");
            false
        }
        Err(_) => false,
    }
}
