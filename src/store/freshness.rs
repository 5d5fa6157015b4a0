//! Read your writes, on every instance: what users change that their own reads show
//! (their chirps, whom they follow, their profile) is read back from the primary until the
//! replica has surely replayed it; everything else may come from the replica.
//!
//! Every such write sets the user's `wrote_at` in its own transaction (the migrations'
//! triggers do it for chirps and follows). Before a read on their behalf goes to the replica,
//! the primary is asked whether they wrote within the time a usable replica may lag (one
//! point read by primary key, far cheaper than the reads it sends to the replica). An
//! instance that made the write itself knows without asking.

use uuid::Uuid;

use super::{Statements, Store, interval};

impl Store {
    /// The replica, when `reader`'s reads may come from it: it is usable, and `reader` (if
    /// anyone) wrote nothing it may lack. When the primary cannot be asked, the replica
    /// answers: a read that may be a little stale beats none.
    pub(super) async fn replica_for(&self, reader: Option<Uuid>) -> Option<Statements<&sqlx::PgPool>> {
        let replica = self.replica()?;
        let Some(reader) = reader else { return Some(replica) };
        let lagging = self.replica.as_ref()?;
        if lagging.may_lack_writes_of(reader) {
            return None;
        }
        let wrote_lately = sqlx::query_scalar!(
            r#"select wrote_at > now() - $2::interval as "lately!" from users where id = $1"#,
            reader,
            interval(lagging.may_lag_by()),
        )
        .fetch_optional(self.primary())
        .await;
        match wrote_lately {
            Ok(Some(true)) => None,
            Ok(Some(false) | None) => Some(replica),
            Err(err) => {
                tracing::debug!(error = %err, "could not ask the primary whether a reader wrote lately");
                Some(replica)
            }
        }
    }

    /// Whether `user` changed something within `within` (a like, a post, a follow...), as the
    /// primary says: their reads then show what is cached elsewhere only after checking it.
    pub async fn wrote_lately(&self, user: Uuid, within: std::time::Duration) -> sqlx::Result<bool> {
        if self
            .replica
            .as_ref()
            .is_some_and(|replica| replica.may_lack_writes_of(user))
        {
            return Ok(true);
        }
        let lately = sqlx::query_scalar!(
            r#"select wrote_at > now() - $2::interval as "lately!" from users where id = $1"#,
            user,
            interval(within),
        )
        .fetch_optional(self.primary())
        .await?;
        Ok(lately.unwrap_or(false))
    }

    /// `user` changed what their own reads show, through this instance.
    pub(super) fn wrote(&self, user: Uuid) {
        if let Some(replica) = &self.replica {
            replica.wrote(user);
        }
    }
}
