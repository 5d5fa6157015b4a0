//! Following: `PUT`/`DELETE /api/users/{user_id}/follow`, and who follows a user and whom
//! they follow, newest follow first.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    AccessToken, ApiTags, REFUSED_ACCESS_TOKEN, Viewer,
    paging::{DEFAULT_LIMIT, after, next_link},
    profiles::{Profile, USER_NOT_FOUND},
    safety::BLOCKED,
};
use crate::{
    error::{ApiError, api_errors},
    rate_limits::Kind,
    state::AppState,
    store::{Follow, FollowList, Order},
};

#[derive(ApiResponse)]
enum Done {
    /// Done (or it was already so).
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
enum Listed {
    /// The profiles, newest follow first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<Profile>>,
        /// When more follow: `</api/users/{user_id}/...?limit=...&cursor=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

api_errors! {
    throttled enum FollowError {
        /// The id is not a UUID, or it is the caller's own.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The caller or the user blocks the other.
        Forbidden = 403,
        /// No user has this id.
        NotFound = 404,
    }
}

api_errors! {
    throttled enum UnfollowError {
        /// The id is not a UUID.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// No user has this id.
        NotFound = 404,
    }
}

api_errors! {
    throttled enum ListError {
        /// The id is not a UUID, or a malformed `limit` or `cursor`.
        BadRequest = 400,
        /// An access token was sent but is invalid or expired.
        Unauthorized = 401,
        /// No user has this id.
        NotFound = 404,
    }
}

pub struct FollowsApi;

impl FollowsApi {
    async fn list(
        state: &AppState,
        request: &Request,
        viewer: Viewer,
        user: Uuid,
        list: FollowList,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Listed, ListError> {
        let viewer = viewer.id(request)?;
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        let after = after(cursor, Order::Desc)?;
        let page = state
            .store
            .follow_page(user, list, after, limit, viewer)
            .await?
            .ok_or(USER_NOT_FOUND)?;
        let path = match list {
            FollowList::Followers => format!("/api/users/{user}/followers"),
            FollowList::Following => format!("/api/users/{user}/following"),
        };
        let link = next_link(&path, limit, page.next);
        Ok(Listed::Ok(
            Json(page.items.into_iter().map(Profile::from).collect()),
            link,
        ))
    }
}

operations! {
    "ApiTags::Follows",
    impl FollowsApi {
        /// Follow a user
        ///
        /// The caller follows the user: their chirps join the caller's home timeline at once.
        /// Following someone already followed changes nothing.
        #[oai(path = "/api/users/:user_id/follow", method = "put", operation_id = "follow")]
        async fn follow(&self, state: Data<&AppState>, auth: AccessToken, user_id: Path<Uuid>) -> Result<Done, FollowError> {
            state.limiter.check(Kind::Follow, Some(auth.0)).await?;
            if user_id.0 == auth.0 {
                return Err(ApiError::BadRequest("You cannot follow yourself".into()).into());
            }
            if state.store.blocked_between(auth.0, user_id.0).await? {
                return Err(BLOCKED.into());
            }
            match state.store.follow(auth.0, user_id.0).await? {
                Follow::Following => {
                    state.announcer.logged();
                    Ok(Done::NoContent)
                }
                Follow::NoSuchUser => Err(USER_NOT_FOUND.into()),
                Follow::NoSuchFollower => Err(REFUSED_ACCESS_TOKEN.into()),
            }
        }

        /// Unfollow a user
        ///
        /// The caller no longer follows the user (also when they did not).
        #[oai(path = "/api/users/:user_id/follow", method = "delete", operation_id = "unfollow")]
        async fn unfollow(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            user_id: Path<Uuid>,
        ) -> Result<Done, UnfollowError> {
            state.limiter.check(Kind::Follow, Some(auth.0)).await?;
            if !state.store.unfollow(auth.0, user_id.0).await? {
                return Err(USER_NOT_FOUND.into());
            }
            state.announcer.logged();
            Ok(Done::NoContent)
        }

        /// List followers
        ///
        /// Who follows the user, newest follow first, a page at a time: at most `limit` (20 by
        /// default), and while more follow, a `Link` header (`<...>; rel="next"`) to the next page.
        #[oai(path = "/api/users/:user_id/followers", method = "get", operation_id = "listFollowers")]
        async fn followers(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            user_id: Path<Uuid>,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<Listed, ListError> {
            Self::list(&state, request, viewer, user_id.0, FollowList::Followers, limit.0, cursor.0.as_deref()).await
        }

        /// List followees
        ///
        /// Whom the user follows, newest follow first, paged as the followers are.
        #[oai(path = "/api/users/:user_id/following", method = "get", operation_id = "listFollowing")]
        async fn following(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            user_id: Path<Uuid>,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<Listed, ListError> {
            Self::list(&state, request, viewer, user_id.0, FollowList::Following, limit.0, cursor.0.as_deref()).await
        }
    }
}
