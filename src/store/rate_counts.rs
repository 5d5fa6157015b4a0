//! The shared side of the rate limits: hits per key in fixed windows, counted in groups (one
//! upsert for every request counted at once), so a limit costs a write request a share of a
//! statement, not a statement of its own.

use std::collections::HashMap;

use futures_util::{FutureExt, future::BoxFuture};
use sqlx::PgConnection;

use super::{Statements, Store, batch::Work};

/// One hit on a key whose windows are `window_secs` long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub key: String,
    pub window_secs: i32,
}

/// A hit's place in its window: the hits so far, this one included, and the seconds until
/// the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub hits: i64,
    pub reset_secs: i64,
}

impl Store {
    /// Counts `hit` with every instance's.
    pub async fn count_hit(&self, hit: Hit) -> sqlx::Result<Counted> {
        self.rate_counts.call(hit).await
    }

    /// Deletes the counts whose window has ended; returns how many.
    pub async fn delete_ended_rate_counts(&self) -> sqlx::Result<u64> {
        let deleted = sqlx::query!("delete from rate_counts where window_ends < now()")
            .execute(self.primary())
            .await?;
        Ok(deleted.rows_affected())
    }
}

/// The batched work of counting hits.
pub struct RateCounts;

impl Work for RateCounts {
    type In = Hit;
    type Out = Counted;

    fn run<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        named: bool,
        hits: Vec<Hit>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<sqlx::Result<Counted>>>> {
        async move {
            // One row per key, with how many of the group's hits are its.
            let mut per_key: HashMap<&str, (i32, i32)> = HashMap::new();
            for hit in &hits {
                per_key.entry(&hit.key).or_insert((hit.window_secs, 0)).1 += 1;
            }
            let keys: Vec<String> = per_key.keys().map(|key| (*key).to_owned()).collect();
            let seconds: Vec<i32> = keys.iter().map(|key| per_key[key.as_str()].0).collect();
            let counts: Vec<i32> = keys.iter().map(|key| per_key[key.as_str()].1).collect();
            let add =
                |db| sqlx::query_file!("src/store/sql/rate_counts_add.sql", &keys, &seconds, &counts).fetch_all(db);
            let rows = if named {
                add(Statements::new(&mut *conn, true)).await?
            } else {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let rows = add(Statements::new(&mut *tx, false)).await?;
                tx.commit().await?;
                rows
            };
            // The group's hits on a key are its last ones, in the order they came.
            let totals: HashMap<String, (i64, i64)> = rows
                .into_iter()
                .map(|row| (row.key, (i64::from(row.hits), i64::from(row.reset_secs))))
                .collect();
            let mut answered: HashMap<&str, i64> = HashMap::new();
            let outcomes = hits
                .iter()
                .map(|hit| {
                    let &(total, reset_secs) = totals
                        .get(&hit.key)
                        .ok_or_else(|| sqlx::Error::Protocol("a counted key was not returned".into()))?;
                    let ours = i64::from(per_key[hit.key.as_str()].1);
                    let nth = answered.entry(&hit.key).or_insert(0);
                    *nth += 1;
                    Ok(Counted {
                        hits: total - ours + *nth,
                        reset_secs,
                    })
                })
                .collect();
            Ok(outcomes)
        }
        .boxed()
    }
}
