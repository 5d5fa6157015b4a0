//! Who is waiting for a pooled connection, and how often a wait ran out. sqlx's pool does
//! not say, and a pool too small for its load shows there first.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sqlx::{PgPool, pool::PoolConnection};

#[derive(Debug, Default)]
pub struct Waits {
    waiting: AtomicUsize,
    timed_out: AtomicU64,
}

impl Waits {
    /// A connection from `pool`, counted while it is awaited.
    pub async fn acquire(&self, pool: &PgPool) -> sqlx::Result<PoolConnection<sqlx::Postgres>> {
        self.around(pool.acquire()).await
    }

    /// A transaction on `pool`, counted while it is awaited (its `begin` is a round trip
    /// more than the wait).
    pub async fn begin(&self, pool: &PgPool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.around(pool.begin()).await
    }

    async fn around<T>(&self, acquiring: impl Future<Output = sqlx::Result<T>>) -> sqlx::Result<T> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        // Decremented however the wait ends, a cancelled request included.
        let _done = Done(&self.waiting);
        let acquired = acquiring.await;
        if matches!(acquired, Err(sqlx::Error::PoolTimedOut)) {
            self.timed_out.fetch_add(1, Ordering::Relaxed);
        }
        acquired
    }

    /// Queries waiting for a connection now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Waits that ran out (`DB_ACQUIRE_TIMEOUT_MS`) since start.
    pub fn timed_out(&self) -> u64 {
        self.timed_out.load(Ordering::Relaxed)
    }
}

struct Done<'a>(&'a AtomicUsize);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::postgres::PgPoolOptions;

    use super::*;

    #[tokio::test]
    async fn counts_a_wait_that_runs_out() {
        // A server that accepts the connection and never answers the startup message.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binding");
        let port = silent.local_addr().expect("an address").port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(300))
            .connect_lazy(&format!("postgres://nobody@127.0.0.1:{port}/none"))
            .expect("a valid URL");
        let waits = std::sync::Arc::new(Waits::default());
        let waiting = {
            let waits = waits.clone();
            tokio::spawn(async move { waits.acquire(&pool).await.map(drop) })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(waits.waiting(), 1);
        let outcome = waiting.await.expect("the task ran");
        assert!(outcome.is_err());
        assert_eq!(waits.waiting(), 0);
        assert_eq!(waits.timed_out(), 1);
    }
}
