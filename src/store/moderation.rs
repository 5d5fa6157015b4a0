//! Reports and what moderators do about them. Every moderator action is written to
//! `moderation_log` (who, what, when) in the action's own transaction.
//!
//! Suspending a user, in one transaction: marks them suspended (no more logins), revokes
//! their refresh tokens (no more refreshes), and hides their chirps from every read. Their
//! access tokens stop working at once: every instance keeps the set of suspended users in
//! memory (read at start, and again whenever it starts listening again) and checks each
//! token against it, and hears of each suspension as it happens.

use std::{
    collections::HashSet,
    sync::{Arc, RwLock},
};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, violates};

/// A report, as moderators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: Uuid,
    pub reporter_id: Uuid,
    pub user_id: Uuid,
    pub chirp_ids: Vec<Uuid>,
    pub reason: String,
    pub status: String,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What filing a report came to.
pub enum Filed {
    Filed(Report),
    NoSuchUser,
    /// Some of the chirps named are not the reported user's (or do not exist).
    NotTheirChirps,
}

/// The users suspended, as this instance knows them.
#[derive(Debug, Default)]
pub struct Suspended(RwLock<HashSet<Uuid>>);

impl Suspended {
    pub fn contains(&self, user: Uuid) -> bool {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .contains(&user)
    }

    pub fn add(&self, user: Uuid) {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(user);
    }

    fn replace(&self, users: HashSet<Uuid>) {
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = users;
    }
}

impl Store {
    /// Files `reporter`'s report of `user` (and of some of their chirps).
    pub async fn file_report(
        &self,
        reporter: Uuid,
        user: Uuid,
        chirp_ids: &[Uuid],
        reason: &str,
    ) -> sqlx::Result<Filed> {
        let theirs = sqlx::query_scalar!(
            r#"select count(*) as "n!" from chirps where id = any($1) and user_id = $2"#,
            chirp_ids,
            user
        )
        .fetch_one(self.primary())
        .await?;
        let mut unique = chirp_ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        if theirs != unique.len() as i64 {
            return Ok(Filed::NotTheirChirps);
        }
        let filed = sqlx::query_as!(
            Report,
            "insert into reports (reporter_id, user_id, chirp_ids, reason) values ($1, $2, $3, $4)
             returning id, reporter_id, user_id, chirp_ids, reason, status, resolved_by, resolved_at, resolution,
                       created_at",
            reporter,
            user,
            &unique,
            reason
        )
        .fetch_one(self.primary())
        .await;
        match filed {
            Err(err) if violates(&err, "reports_user_id_fkey") || violates(&err, "reports_reporter_id_fkey") => {
                Ok(Filed::NoSuchUser)
            }
            other => other.map(Filed::Filed),
        }
    }

    /// Reports, open ones first (oldest first among them), then resolved ones, newest first.
    pub async fn reports(&self, limit: u32) -> sqlx::Result<Vec<Report>> {
        sqlx::query_as!(
            Report,
            "select id, reporter_id, user_id, chirp_ids, reason, status, resolved_by, resolved_at, resolution,
                    created_at
               from reports
              order by (status = 'open') desc,
                       case when status = 'open' then created_at end,
                       case when status <> 'open' then resolved_at end desc,
                       id
              limit $1",
            i64::from(limit)
        )
        .fetch_all(self.primary())
        .await
    }

    /// Resolves the report (a resolved one stays as it was); `None` when there is none.
    pub async fn resolve_report(&self, moderator: Uuid, id: Uuid, resolution: &str) -> sqlx::Result<Option<Report>> {
        let mut tx = self.begin().await?;
        let resolved = sqlx::query_as!(
            Report,
            "update reports
                set status = 'resolved', resolved_by = $2, resolved_at = now(), resolution = $3, updated_at = now()
              where id = $1 and status = 'open'
             returning id, reporter_id, user_id, chirp_ids, reason, status, resolved_by, resolved_at, resolution,
                       created_at",
            id,
            moderator,
            resolution
        )
        .fetch_optional(self.on(&mut tx))
        .await?;
        let report = match resolved {
            Some(report) => {
                log_action(
                    &mut tx,
                    self,
                    moderator,
                    "resolve_report",
                    Some(id),
                    Some(report.user_id),
                    None,
                    resolution,
                )
                .await?;
                Some(report)
            }
            None => {
                sqlx::query_as!(
                    Report,
                    "select id, reporter_id, user_id, chirp_ids, reason, status, resolved_by, resolved_at, resolution,
                        created_at
                   from reports where id = $1",
                    id
                )
                .fetch_optional(self.on(&mut tx))
                .await?
            }
        };
        tx.commit().await?;
        Ok(report)
    }

    /// Suspends `user` (see the module's comment); `false` when there is no such user.
    pub async fn suspend(&self, moderator: Uuid, user: Uuid, reason: &str) -> sqlx::Result<bool> {
        let mut tx = self.begin().await?;
        let found = sqlx::query_scalar!(
            r#"update users set suspended_at = coalesce(suspended_at, now()), updated_at = now()
                where id = $1 returning id as "id!""#,
            user
        )
        .fetch_optional(self.on(&mut tx))
        .await?;
        if found.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query!(
            "update chirps set hidden_at = now() where user_id = $1 and hidden_at is null",
            user
        )
        .execute(self.on(&mut tx))
        .await?;
        // As a password change does: every session ends, a rotation meanwhile included.
        self.end_sessions_of(&mut tx, user).await?;
        log_action(&mut tx, self, moderator, "suspend_user", None, Some(user), None, reason).await?;
        tx.commit().await?;
        self.suspended.add(user);
        Ok(true)
    }

    /// Deletes any chirp, as a moderator; `false` when there is none.
    pub async fn moderate_chirp(&self, moderator: Uuid, id: Uuid) -> sqlx::Result<Option<Option<Uuid>>> {
        let mut tx = self.begin().await?;
        let deleted = sqlx::query!("delete from chirps where id = $1 returning user_id, reply_to", id)
            .fetch_optional(self.on(&mut tx))
            .await?;
        let Some(deleted) = deleted else {
            tx.rollback().await?;
            return Ok(None);
        };
        log_action(
            &mut tx,
            self,
            moderator,
            "delete_chirp",
            None,
            Some(deleted.user_id),
            Some(id),
            "",
        )
        .await?;
        tx.commit().await?;
        self.chirp_deleted(id);
        Ok(Some(deleted.reply_to))
    }

    /// Whether `user` may moderate.
    pub async fn is_moderator(&self, user: Uuid) -> sqlx::Result<bool> {
        let moderator = sqlx::query_scalar!(
            "select is_moderator and suspended_at is null from users where id = $1",
            user
        )
        .fetch_optional(self.primary())
        .await?;
        Ok(moderator.flatten().unwrap_or(false))
    }

    /// Whether `user` is suspended, as this instance knows.
    pub fn is_suspended(&self, user: Uuid) -> bool {
        self.suspended.contains(user)
    }

    /// Reads again who is suspended (at start, and after any time this instance may have
    /// missed an announcement).
    pub async fn load_suspended(&self) -> sqlx::Result<()> {
        let users = sqlx::query_scalar!("select id from users where suspended_at is not null")
            .fetch_all(self.primary())
            .await?;
        self.suspended.replace(users.into_iter().collect());
        Ok(())
    }

    /// Another instance suspended `user`.
    pub fn heard_suspended(&self, user: Uuid) {
        self.suspended.add(user);
    }

    pub(super) fn new_suspended() -> Arc<Suspended> {
        Arc::default()
    }
}

/// Writes one moderator action to the log, in the action's transaction.
#[allow(clippy::too_many_arguments)]
async fn log_action(
    tx: &mut sqlx::PgConnection,
    store: &Store,
    moderator: Uuid,
    action: &str,
    report: Option<Uuid>,
    user: Option<Uuid>,
    chirp: Option<Uuid>,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into moderation_log (moderator_id, action, report_id, user_id, chirp_id, detail)
         values ($1, $2, $3, $4, $5, $6)",
        moderator,
        action,
        report,
        user,
        chirp,
        detail
    )
    .execute(store.on(tx))
    .await
    .map(drop)
}
