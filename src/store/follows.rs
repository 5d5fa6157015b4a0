//! Follows: who follows whom, both lists newest follow first, and the set a live home feed
//! filters by. The counts in `users` move in the same transaction (a trigger).

use std::collections::HashSet;

use uuid::Uuid;

use super::{
    Position, Profile, Statements, Store,
    paging::{Cursor, Page},
    profiles::Listed,
    violates,
};

/// What following someone came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// Following them now (perhaps already before).
    Following,
    NoSuchUser,
    /// The follower no longer exists.
    NoSuchFollower,
}

/// Which list of a user's follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowList {
    /// Who follows them.
    Followers,
    /// Whom they follow.
    Following,
}

impl Store {
    /// `follower` follows `followee` (again, harmlessly, if they did already).
    pub async fn follow(&self, follower: Uuid, followee: Uuid) -> sqlx::Result<Follow> {
        let followed = sqlx::query!(
            "insert into follows (follower_id, followee_id) values ($1, $2) on conflict do nothing",
            follower,
            followee,
        )
        .execute(self.primary())
        .await;
        match followed {
            Err(err) if violates(&err, "follows_followee_id_fkey") => Ok(Follow::NoSuchUser),
            Err(err) if violates(&err, "follows_follower_id_fkey") => Ok(Follow::NoSuchFollower),
            Err(err) => Err(err),
            Ok(_) => {
                self.wrote(follower);
                Ok(Follow::Following)
            }
        }
    }

    /// `follower` no longer follows `followee` (whether or not they did); `false` when
    /// there is no such `followee`.
    pub async fn unfollow(&self, follower: Uuid, followee: Uuid) -> sqlx::Result<bool> {
        let exists = sqlx::query_scalar!(
            r#"with ended as (delete from follows where follower_id = $1 and followee_id = $2)
               select exists(select 1 from users where id = $2) as "exists!""#,
            follower,
            followee,
        )
        .fetch_one(self.primary())
        .await?;
        self.wrote(follower);
        Ok(exists)
    }

    /// A page of `user`'s followers or followees, newest follow first, as `viewer` (if
    /// anyone) sees them: without those the viewer blocks or is blocked by, or who are
    /// suspended; `None` when there is no such user.
    pub async fn follow_page(
        &self,
        user: Uuid,
        list: FollowList,
        after: Cursor,
        limit: u32,
        viewer: Option<Uuid>,
    ) -> sqlx::Result<Option<Page<Profile>>> {
        if let Some(replica) = self.replica_for(viewer).await {
            match follow_page(replica, user, list, after, limit, viewer).await {
                // An empty page may be of a user the replica has not heard of yet.
                Ok(Some(page)) => return Ok(Some(page)),
                Ok(None) => {}
                Err(err) => self.replica_failed(&err),
            }
        }
        follow_page(self.primary(), user, list, after, limit, viewer).await
    }

    /// Whom `reader` followed at `position` of the event log (less whom they mute now): whom
    /// they follow now, with their follows and unfollows since undone, newest first (read in one snapshot, so
    /// nothing falls between the two). A live home feed starts from it and follows the
    /// log's follow events on.
    pub async fn following_at(&self, reader: Uuid, position: Position) -> sqlx::Result<HashSet<Uuid>> {
        let row = sqlx::query!(
            r#"select array(select followee_id from follows where follower_id = $1
                             and followee_id not in (select muted_id from mutes where muter_id = $1)) as "now!",
                      array(select target_id from chirp_events
                             where user_id = $1 and kind in ('followed', 'unfollowed')
                               and (tx, seq) > ($2::text::xid8, $3)
                             order by tx desc, seq desc) as "targets!: Vec<Option<Uuid>>",
                      array(select kind = 'followed' from chirp_events
                             where user_id = $1 and kind in ('followed', 'unfollowed')
                               and (tx, seq) > ($2::text::xid8, $3)
                             order by tx desc, seq desc) as "followed!: Vec<Option<bool>>""#,
            reader,
            position.tx.to_string(),
            position.seq,
        )
        .fetch_one(self.primary())
        .await?;
        let mut following: HashSet<Uuid> = row.now.into_iter().collect();
        for (target, followed) in row.targets.into_iter().zip(row.followed) {
            let (Some(target), Some(followed)) = (target, followed) else {
                continue;
            };
            if followed {
                following.remove(&target);
            } else {
                following.insert(target);
            }
        }
        Ok(following)
    }
}

async fn follow_page(
    db: Statements<&sqlx::PgPool>,
    user: Uuid,
    list: FollowList,
    after: Cursor,
    limit: u32,
    viewer: Option<Uuid>,
) -> sqlx::Result<Option<Page<Profile>>> {
    let Cursor { created_at, id } = after;
    let rows = match list {
        FollowList::Followers => {
            sqlx::query_as!(
                Listed,
                r#"select u.id, u.handle, u.display_name, u.bio, u.created_at, u.is_chirpy_red,
                          u.followers_count, u.following_count, u.chirps_count,
                          case when $5::uuid is null then null
                               else exists(select 1 from follows m where m.follower_id = $5 and m.followee_id = u.id)
                          end as followed_by_me,
                          f.created_at as listed_at
                     from follows f join users u on u.id = f.follower_id
                    where f.followee_id = $1 and (f.created_at, f.follower_id) < ($2, $3)
                      and u.suspended_at is null and not blocked_between($5, u.id)
                    order by f.created_at desc, f.follower_id desc
                    limit $4"#,
                user,
                created_at,
                id,
                i64::from(limit) + 1,
                viewer,
            )
            .fetch_all(db.clone())
            .await?
        }
        FollowList::Following => {
            sqlx::query_as!(
                Listed,
                r#"select u.id, u.handle, u.display_name, u.bio, u.created_at, u.is_chirpy_red,
                          u.followers_count, u.following_count, u.chirps_count,
                          case when $5::uuid is null then null
                               else exists(select 1 from follows m where m.follower_id = $5 and m.followee_id = u.id)
                          end as followed_by_me,
                          f.created_at as listed_at
                     from follows f join users u on u.id = f.followee_id
                    where f.follower_id = $1 and (f.created_at, f.followee_id) < ($2, $3)
                      and u.suspended_at is null and not blocked_between($5, u.id)
                    order by f.created_at desc, f.followee_id desc
                    limit $4"#,
                user,
                created_at,
                id,
                i64::from(limit) + 1,
                viewer,
            )
            .fetch_all(db.clone())
            .await?
        }
    };
    if rows.is_empty() {
        let exists = sqlx::query_scalar!(r#"select exists(select 1 from users where id = $1) as "exists!""#, user)
            .fetch_one(db)
            .await?;
        if !exists {
            return Ok(None);
        }
    }
    let page = Page::of(rows, limit, |row| Cursor::at(row.listed_at, row.id));
    Ok(Some(page.map(Listed::into_profile)))
}
