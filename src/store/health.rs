//! Whether the primary database is up, as a background check last saw it. While it is
//! down every query fails at once (a 503 in milliseconds) instead of each request waiting
//! out the pool's acquire timeout; the check runs every second, four times a second while
//! the database is down, and at once when a query fails the way an outage does.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use tokio::sync::Notify;

const CHECK_EVERY: Duration = Duration::from_secs(1);
const CHECK_WHILE_DOWN: Duration = Duration::from_millis(250);
/// A check that takes longer than this counts as a failure.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Health {
    down: AtomicBool,
    /// Outages seen since start: a connection made before the last one may be dead.
    outages: std::sync::atomic::AtomicU64,
    suspect: Notify,
    /// The server is stopping: the check ends (a database stopped after the server is no
    /// outage to report).
    stopped: AtomicBool,
}

impl Health {
    /// Starts checking the database `options` name; the check stops when the last clone of
    /// the returned handle is dropped.
    pub fn watch(options: PgConnectOptions) -> Arc<Self> {
        let health = Arc::new(Self::default());
        let watched = Arc::downgrade(&health);
        tokio::spawn(async move {
            loop {
                let Some(health) = watched.upgrade() else { return };
                let wait = if health.is_down() {
                    CHECK_WHILE_DOWN
                } else {
                    CHECK_EVERY
                };
                // Not holding the handle while waiting, so dropping the store ends this.
                let suspect = async {
                    let notified = health.suspect.notified();
                    tokio::time::timeout(wait, notified).await
                };
                let _ = suspect.await;
                if health.stopped.load(Ordering::Relaxed) {
                    return;
                }
                let up = matches!(tokio::time::timeout(CHECK_TIMEOUT, answers(&options)).await, Ok(Ok(())));
                if health.down.swap(!up, Ordering::Relaxed) == up {
                    if !up {
                        health.outages.fetch_add(1, Ordering::Relaxed);
                    }
                    if up {
                        tracing::info!("the database is back");
                    } else {
                        tracing::error!("the database is down: requests that need it get 503 at once");
                    }
                }
            }
        });
        health
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    /// Ends the check, for good (shutdown).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        self.suspect.notify_one();
    }

    /// How many outages have been seen since start.
    pub fn outages(&self) -> u64 {
        self.outages.load(Ordering::Relaxed)
    }

    /// A query failed as it would in an outage: check now.
    pub fn suspect(&self, err: &sqlx::Error) {
        if is_outage(err) {
            self.suspect.notify_one();
        }
    }
}

/// The error a query gets while the database is known to be down.
pub fn down_error() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "the database is down (a background check says so)",
    ))
}

/// Errors that mean the server may be gone, not that one query went wrong.
fn is_outage(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => matches!(db.code().as_deref(), Some("57P01" | "57P02" | "57P03" | "08006")),
        _ => false,
    }
}

/// Whether a fresh connection can be made and answers.
async fn answers(options: &PgConnectOptions) -> sqlx::Result<()> {
    let mut conn = PgConnection::connect_with(options).await?;
    conn.ping().await?;
    conn.close().await
}
