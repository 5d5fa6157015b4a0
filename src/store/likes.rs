//! Likes: who liked which chirp, written in groups. A storm of likes on one chirp is the
//! case that matters: each like in its own transaction would update the chirp's count row
//! once per like, one transaction at a time (the row's lock is held to each commit); in a
//! group, the trigger updates it once for the whole group, in one commit.

use std::collections::{HashMap, HashSet};

use futures_util::{FutureExt, future::BoxFuture};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    Profile, Statements, Store,
    batch::Work,
    paging::{Cursor, Page},
    profiles::Listed,
};

/// A like, or an unlike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LikeChange {
    pub chirp: Uuid,
    pub user: Uuid,
    pub liked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LikeOutcome {
    Done,
    NoSuchChirp,
    NoSuchUser,
    /// The liker or the chirp's author blocks the other.
    Blocked,
}

impl Store {
    /// Likes or unlikes, in a group with whatever else is being liked.
    pub async fn change_like(&self, change: LikeChange) -> sqlx::Result<LikeOutcome> {
        let outcome = self.likes.call(change).await?;
        if outcome == LikeOutcome::Done {
            self.wrote(change.user);
        }
        Ok(outcome)
    }

    /// Who liked `chirp`, newest first, as `viewer` sees them (see `follow_page`); `None`
    /// when there is no such chirp.
    pub async fn likers_page(
        &self,
        chirp: Uuid,
        after: Cursor,
        limit: u32,
        viewer: Option<Uuid>,
    ) -> sqlx::Result<Option<Page<Profile>>> {
        if let Some(replica) = self.replica_for(viewer).await {
            match likers_page(replica, chirp, after, limit, viewer).await {
                Ok(Some(page)) => return Ok(Some(page)),
                Ok(None) => {}
                Err(err) => self.replica_failed(&err),
            }
        }
        likers_page(self.primary(), chirp, after, limit, viewer).await
    }
}

/// The batched work of liking: one statement for the group.
pub struct Likes;

impl Work for Likes {
    type In = LikeChange;
    type Out = LikeOutcome;

    fn run<'c>(
        &'c self,
        conn: &'c mut PgConnection,
        named: bool,
        changes: Vec<LikeChange>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<sqlx::Result<LikeOutcome>>>> {
        async move {
            // Each (chirp, user) once: the last change asked for wins, as if the group's
            // requests had come one after another.
            let mut last: HashMap<(Uuid, Uuid), bool> = HashMap::new();
            for change in &changes {
                last.insert((change.chirp, change.user), change.liked);
            }
            let (mut chirps, mut users, mut liked) = (Vec::new(), Vec::new(), Vec::new());
            for ((chirp, user), like) in &last {
                chirps.push(*chirp);
                users.push(*user);
                liked.push(*like);
            }
            let apply = |db| sqlx::query_file!("src/store/sql/likes_apply.sql", &chirps, &users, &liked).fetch_all(db);
            let present = if named {
                apply(Statements::new(&mut *conn, true)).await?
            } else {
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let present = apply(Statements::new(&mut *tx, false)).await?;
                tx.commit().await?;
                present
            };
            let (mut chirps, mut users, mut blocked) = (HashSet::new(), HashSet::new(), HashSet::new());
            for row in present {
                match row.kind.as_str() {
                    "chirp" => chirps.insert(row.id),
                    "user" => users.insert(row.id),
                    _ => blocked.insert((row.id, row.user_id.unwrap_or_default())),
                };
            }
            Ok(changes
                .iter()
                .map(|change| {
                    Ok(if !chirps.contains(&change.chirp) {
                        LikeOutcome::NoSuchChirp
                    } else if !users.contains(&change.user) {
                        LikeOutcome::NoSuchUser
                    } else if blocked.contains(&(change.chirp, change.user)) {
                        LikeOutcome::Blocked
                    } else {
                        LikeOutcome::Done
                    })
                })
                .collect())
        }
        .boxed()
    }
}

async fn likers_page(
    db: Statements<&sqlx::PgPool>,
    chirp: Uuid,
    after: Cursor,
    limit: u32,
    viewer: Option<Uuid>,
) -> sqlx::Result<Option<Page<Profile>>> {
    let Cursor { created_at, id } = after;
    let rows = sqlx::query_as!(
        Listed,
        r#"select u.id, u.handle, u.display_name, u.bio, u.created_at, u.is_chirpy_red,
                  u.followers_count, u.following_count, u.chirps_count,
                  case when $5::uuid is null then null
                       else exists(select 1 from follows m where m.follower_id = $5 and m.followee_id = u.id)
                  end as followed_by_me,
                  l.created_at as listed_at
             from likes l join users u on u.id = l.user_id
            where l.chirp_id = $1 and (l.created_at, l.user_id) < ($2, $3)
              and u.suspended_at is null and not blocked_between($5, u.id)
            order by l.created_at desc, l.user_id desc
            limit $4"#,
        chirp,
        created_at,
        id,
        i64::from(limit) + 1,
        viewer,
    )
    .fetch_all(db.clone())
    .await?;
    if rows.is_empty() {
        let exists = sqlx::query_scalar!(
            r#"select exists(select 1 from chirps where id = $1) as "exists!""#,
            chirp
        )
        .fetch_one(db)
        .await?;
        if !exists {
            return Ok(None);
        }
    }
    let page = Page::of(rows, limit, |row| Cursor::at(row.listed_at, row.id));
    Ok(Some(page.map(Listed::into_profile)))
}
