//! The `/app/` visit counter, shared by every instance: each counts in memory (an atomic
//! add per visit) and adds its count to PostgreSQL every second and at shutdown. The total
//! is the database's value plus what this instance has not added yet: exact with one
//! instance, at most a second behind with several.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Mutex;

use crate::store::Store;

#[derive(Debug)]
pub struct Visits {
    store: Store,
    /// Counted here, not yet in the database.
    pending: AtomicU64,
    /// Held while pending visits move to the database, so a total read meanwhile counts
    /// them exactly once.
    moving: Mutex<()>,
}

impl Visits {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            pending: AtomicU64::new(0),
            moving: Mutex::new(()),
        }
    }

    pub fn count(&self) {
        self.pending.fetch_add(1, Ordering::Relaxed);
    }

    /// Every instance's visits since the last reset.
    pub async fn total(&self) -> sqlx::Result<u64> {
        let _moving = self.moving.lock().await;
        let stored = self.store.app_hits().await?;
        Ok(stored + self.pending.load(Ordering::Relaxed))
    }

    /// Adds this instance's pending visits to the shared count. On failure they stay
    /// pending, for the next try.
    pub async fn flush(&self) -> sqlx::Result<()> {
        let _moving = self.moving.lock().await;
        let pending = self.pending.load(Ordering::Relaxed);
        if pending == 0 {
            return Ok(());
        }
        self.store.add_app_hits(pending).await?;
        // Saturating: a reset heard meanwhile may have zeroed what was pending.
        let _ = self.pending.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
            Some(now.saturating_sub(pending))
        });
        Ok(())
    }

    /// Zeroes the count for every instance (with everything else `/admin/reset` deletes);
    /// returns how many users were deleted.
    pub async fn reset_with_users(&self) -> sqlx::Result<u64> {
        let _moving = self.moving.lock().await;
        let deleted = self.store.reset().await?;
        self.pending.store(0, Ordering::Relaxed);
        Ok(deleted)
    }

    /// Another instance reset the count: what this one counted before is void.
    pub fn forget_pending(&self) {
        self.pending.store(0, Ordering::Relaxed);
    }
}
