//! The login throttle's counts: failed attempts per key in fixed windows, kept in
//! PostgreSQL so that every instance enforces the same limit.

use std::time::Duration;

use super::{Store, interval};

impl Store {
    /// Counts one attempt for `key`, unless it already has `max` in its current window:
    /// then `Err(wait)`, how long until that window ends. One statement, so concurrent
    /// attempts on any number of instances are admitted one at a time.
    pub async fn count_attempt(&self, key: &str, max: u32, window: Duration) -> sqlx::Result<Result<(), Duration>> {
        let window = interval(window);
        let admitted = sqlx::query_scalar!(
            r#"insert into login_failures as f (key, window_started, failures) values ($1, now(), 1)
               on conflict (key) do update
                  set window_started = case when f.window_started + $3 <= now() then now() else f.window_started end,
                      failures = case when f.window_started + $3 <= now() then 1 else f.failures + 1 end,
                      updated_at = now()
                  where f.window_started + $3 <= now() or f.failures < $2
               returning 1 as "one!""#,
            key,
            max as i32,
            window,
        )
        .fetch_optional(self.primary())
        .await?;
        if admitted.is_some() {
            return Ok(Ok(()));
        }
        let left = sqlx::query_scalar!(
            r#"select greatest(extract(epoch from window_started + $2 - now()), 0)::float8 as "secs!"
               from login_failures where key = $1"#,
            key,
            window,
        )
        .fetch_optional(self.primary())
        .await?;
        Ok(Err(Duration::from_secs_f64(left.unwrap_or(0.0))))
    }

    /// Takes back one attempt of `key` (it was not a failure after all).
    pub async fn forgive_attempt(&self, key: &str) -> sqlx::Result<()> {
        sqlx::query!(
            "update login_failures set failures = greatest(failures - 1, 0), updated_at = now() where key = $1",
            key,
        )
        .execute(self.primary())
        .await
        .map(drop)
    }

    /// Forgets every attempt of `key`.
    pub async fn clear_attempts(&self, key: &str) -> sqlx::Result<()> {
        sqlx::query!("delete from login_failures where key = $1", key)
            .execute(self.primary())
            .await
            .map(drop)
    }

    /// Deletes the windows that ended more than `window` ago; returns how many.
    pub async fn delete_expired_attempts(&self, window: Duration) -> sqlx::Result<u64> {
        let deleted = sqlx::query!(
            "delete from login_failures where window_started + $1 <= now()",
            interval(window),
        )
        .execute(self.primary())
        .await?;
        Ok(deleted.rows_affected())
    }
}
