//! Profiles: what anyone may see of a user (never the email), found by id or handle, and
//! the changes a user makes to their own.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, User, users::HANDLE_UNIQUE, violates};
use crate::domain::{Bio, DisplayName, Handle};

/// A user as the public sees them, with the counts the triggers keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub id: Uuid,
    pub handle: Option<String>,
    pub display_name: String,
    pub bio: String,
    pub created_at: DateTime<Utc>,
    pub is_chirpy_red: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub chirps_count: i64,
    /// Whether the viewer follows this user; `None` without a viewer.
    pub followed_by_me: Option<bool>,
}

/// How a request names a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRef<'a> {
    Id(Uuid),
    /// A handle in any letter case.
    Handle(&'a str),
}

/// What a user asks to change in their profile; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    /// `Some(None)` removes the handle.
    pub handle: Option<Option<Handle>>,
    pub display_name: Option<DisplayName>,
    pub bio: Option<Bio>,
}

pub enum ProfileUpdate {
    Updated(User),
    HandleTaken,
    NoSuchUser,
}

impl Store {
    /// The profile of `who`, as `viewer` (if anyone) sees it: from the replica unless the
    /// viewer wrote lately (see `freshness`).
    pub async fn profile(&self, who: UserRef<'_>, viewer: Option<Uuid>) -> sqlx::Result<Option<Profile>> {
        let (id, handle) = match who {
            UserRef::Id(id) => (Some(id), None),
            UserRef::Handle(handle) => (None, Some(handle)),
        };
        let get = |db| {
            sqlx::query_as!(
                Profile,
                r#"select id, handle, display_name, bio, created_at, is_chirpy_red,
                          followers_count, following_count, chirps_count,
                          case when $3::uuid is null then null
                               else exists(select 1 from follows where follower_id = $3 and followee_id = users.id)
                          end as followed_by_me
                     from users
                    where (($1::uuid is not null and id = $1) or ($2::text is not null and lower(handle) = lower($2)))
                      and suspended_at is null"#,
                id,
                handle,
                viewer,
            )
            .fetch_optional(db)
        };
        if let Some(replica) = self.replica_for(viewer).await {
            match get(replica).await {
                Ok(Some(profile)) => return Ok(Some(profile)),
                // Perhaps a user the replica has not heard of yet.
                Ok(None) => {}
                Err(err) => self.replica_failed(&err),
            }
        }
        get(self.primary()).await
    }

    /// Applies `changes` to the user's profile. `updated_at` moves only if something did.
    pub async fn update_profile(&self, id: Uuid, changes: &ProfileChanges) -> sqlx::Result<ProfileUpdate> {
        let handle = changes
            .handle
            .as_ref()
            .map(|handle| handle.as_ref().map(Handle::as_str));
        let updated = sqlx::query_as!(
            User,
            "update users
                set handle = case when $2 then $3 else handle end,
                    display_name = coalesce($4, display_name),
                    bio = coalesce($5, bio),
                    updated_at = case
                        when (handle, display_name, bio) is distinct from
                             (case when $2 then $3 else handle end, coalesce($4, display_name), coalesce($5, bio))
                        then now() else updated_at end,
                    wrote_at = clock_timestamp()
              where id = $1
             returning id, created_at, updated_at, email, is_chirpy_red, handle, display_name, bio",
            id,
            handle.is_some(),
            handle.flatten(),
            changes.display_name.as_ref().map(DisplayName::as_str),
            changes.bio.as_ref().map(Bio::as_str),
        )
        .fetch_optional(self.primary())
        .await;
        match updated {
            Err(err) if violates(&err, HANDLE_UNIQUE) => Ok(ProfileUpdate::HandleTaken),
            Err(err) => Err(err),
            Ok(None) => Ok(ProfileUpdate::NoSuchUser),
            Ok(Some(user)) => {
                self.wrote(id);
                Ok(ProfileUpdate::Updated(user))
            }
        }
    }
}

/// A profile in a list (followers, followees, likers), with when it joined the list: the
/// list's order, newest first.
pub(super) struct Listed {
    pub id: Uuid,
    pub handle: Option<String>,
    pub display_name: String,
    pub bio: String,
    pub created_at: DateTime<Utc>,
    pub is_chirpy_red: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub chirps_count: i64,
    pub followed_by_me: Option<bool>,
    pub listed_at: DateTime<Utc>,
}

impl Listed {
    pub fn into_profile(self) -> Profile {
        Profile {
            id: self.id,
            handle: self.handle,
            display_name: self.display_name,
            bio: self.bio,
            created_at: self.created_at,
            is_chirpy_red: self.is_chirpy_red,
            followers_count: self.followers_count,
            following_count: self.following_count,
            chirps_count: self.chirps_count,
            followed_by_me: self.followed_by_me,
        }
    }
}
