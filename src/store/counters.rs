//! Named counters every instance adds to: the `/app/` visit count.

use super::Store;

const APP_HITS: &str = "app_hits";

impl Store {
    /// Adds `n` visits to the shared count.
    pub async fn add_app_hits(&self, n: u64) -> sqlx::Result<()> {
        sqlx::query!(
            "update counters set value = value + $2, updated_at = now() where name = $1",
            APP_HITS,
            n as i64,
        )
        .execute(self.primary())
        .await
        .map(drop)
    }

    pub async fn app_hits(&self) -> sqlx::Result<u64> {
        let value = sqlx::query_scalar!("select value from counters where name = $1", APP_HITS)
            .fetch_optional(self.primary())
            .await?;
        Ok(value.map_or(0, |n| n.max(0) as u64))
    }

    pub async fn reset_app_hits(&self) -> sqlx::Result<()> {
        sqlx::query!(
            "update counters set value = 0, updated_at = now() where name = $1",
            APP_HITS
        )
        .execute(self.primary())
        .await
        .map(drop)
    }
}
