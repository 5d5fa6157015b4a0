//! `GET /api/users/{user}`: a user's public profile, by id or handle.

use chrono::{DateTime, Utc};
use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, Object, param::Path, payload::Json};
use uuid::Uuid;

use super::{ApiTags, Timestamp, Viewer};
use crate::{
    domain::Handle,
    error::{ApiError, api_errors},
    state::AppState,
    store::{self, UserRef},
};

/// What anyone may see of a user: never the email.
#[derive(Debug, Clone, Object)]
pub struct Profile {
    pub id: Uuid,
    /// As typed; null until the user sets one.
    #[oai(nullable)]
    pub handle: Option<String>,
    /// May be empty.
    pub display_name: String,
    /// May be empty.
    pub bio: String,
    pub created_at: Timestamp,
    pub is_chirpy_red: bool,
    pub followers_count: i64,
    pub following_count: i64,
    pub chirps_count: i64,
    /// Whether the caller follows this user: only when the request carries an access token.
    #[oai(skip_serializing_if_is_none)]
    pub followed_by_me: Option<bool>,
}

impl From<store::Profile> for Profile {
    fn from(profile: store::Profile) -> Self {
        let created_at: DateTime<Utc> = profile.created_at;
        Self {
            id: profile.id,
            handle: profile.handle,
            display_name: profile.display_name,
            bio: profile.bio,
            created_at: created_at.into(),
            is_chirpy_red: profile.is_chirpy_red,
            followers_count: profile.followers_count,
            following_count: profile.following_count,
            chirps_count: profile.chirps_count,
            followed_by_me: profile.followed_by_me,
        }
    }
}

#[derive(ApiResponse)]
enum Found {
    /// The user's profile.
    #[oai(status = 200)]
    Ok(Json<Profile>),
}

api_errors! {
    throttled enum GetProfileError {
        /// An access token was sent but is invalid or expired.
        Unauthorized = 401,
        /// No user has this id or handle.
        NotFound = 404,
    }
}

pub const USER_NOT_FOUND: ApiError = ApiError::NotFound("User not found");

/// How a path names a user: a UUID, or a handle with or without its `@`. Anything else names
/// nobody.
pub fn user_ref(text: &str) -> Option<UserRef<'_>> {
    if let Ok(id) = Uuid::try_parse(text) {
        return Some(UserRef::Id(id));
    }
    let handle = text.strip_prefix('@').unwrap_or(text);
    Handle::well_formed(handle).then_some(UserRef::Handle(handle))
}

pub struct ProfilesApi;

operations! {
    "ApiTags::Profiles",
    impl ProfilesApi {
        /// Get a profile
        ///
        /// A user's public profile, by id or by handle (any letter case, with or without `@`), with
        /// their follower, followee and chirp counts. With an access token, it also says whether
        /// the caller follows them.
        #[oai(path = "/api/users/:user", method = "get", operation_id = "getProfile")]
        async fn get(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            /// A user id, or a handle.
            user: Path<String>,
        ) -> Result<Found, GetProfileError> {
            let viewer = viewer.id(request)?;
            let who = user_ref(&user.0).ok_or(USER_NOT_FOUND)?;
            let profile = state.store.profile(who, viewer).await?.ok_or(USER_NOT_FOUND)?;
            Ok(Found::Ok(Json(profile.into())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_names_a_user_by_id_or_handle() {
        let id = Uuid::from_u128(7);
        assert_eq!(user_ref(&id.to_string()), Some(UserRef::Id(id)));
        assert_eq!(user_ref("Walt_W"), Some(UserRef::Handle("Walt_W")));
        assert_eq!(user_ref("@walt"), Some(UserRef::Handle("walt")));
        for nobody in ["", "ab", "@@walt", "walt white", &"x".repeat(31)] {
            assert_eq!(user_ref(nobody), None, "{nobody:?}");
        }
    }
}
