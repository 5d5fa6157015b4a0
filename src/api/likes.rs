//! Likes: `PUT`/`DELETE /api/chirps/{chirpID}/like`, and who liked a chirp.

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
    profiles::Profile,
    safety::BLOCKED,
};
use crate::{
    error::{ApiError, api_errors},
    rate_limits::Kind,
    state::AppState,
    store::{LikeChange, LikeOutcome, Order},
};

const CHIRP_NOT_FOUND: ApiError = ApiError::NotFound("Chirp not found");

#[derive(ApiResponse)]
enum Done {
    /// Done (or it was already so).
    #[oai(status = 204)]
    NoContent,
}

#[derive(ApiResponse)]
enum Likers {
    /// Who liked it, newest like first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<Profile>>,
        /// When more follow: `</api/chirps/{chirpID}/likes?limit=...&cursor=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

api_errors! {
    throttled enum LikeError {
        /// The id is not a UUID.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The caller or the chirp's author blocks the other.
        Forbidden = 403,
        /// No chirp has this id.
        NotFound = 404,
    }
}

api_errors! {
    throttled enum LikersError {
        /// The id is not a UUID, or a malformed `limit` or `cursor`.
        BadRequest = 400,
        /// An access token was sent but is invalid or expired.
        Unauthorized = 401,
        /// No chirp has this id.
        NotFound = 404,
    }
}

pub struct LikesApi;

impl LikesApi {
    async fn change(state: &AppState, user: Uuid, chirp: Uuid, liked: bool) -> Result<Done, LikeError> {
        state.limiter.check(Kind::Like, Some(user)).await?;
        let change = LikeChange { chirp, user, liked };
        match state.store.change_like(change).await? {
            LikeOutcome::Done => {
                // This instance reads the count again at once; the others are told before the
                // answer goes, so the liker finds it on any instance.
                state.cache.counts_changed(chirp);
                state.announcer.counted(chirp).await;
                Ok(Done::NoContent)
            }
            LikeOutcome::NoSuchChirp => Err(CHIRP_NOT_FOUND.into()),
            LikeOutcome::NoSuchUser => Err(REFUSED_ACCESS_TOKEN.into()),
            LikeOutcome::Blocked => Err(BLOCKED.into()),
        }
    }
}

operations! {
    "ApiTags::Likes",
    impl LikesApi {
        /// Like a chirp
        ///
        /// The caller likes the chirp; liking it again changes nothing. Its `like_count` shows the
        /// like at once, on every instance.
        #[oai(path = "/api/chirps/:chirpID/like", method = "put", operation_id = "likeChirp")]
        async fn like(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            #[oai(name = "chirpID")] id: Path<Uuid>,
        ) -> Result<Done, LikeError> {
            Self::change(&state, auth.0, id.0, true).await
        }

        /// Unlike a chirp
        ///
        /// The caller no longer likes the chirp (also when they did not).
        #[oai(path = "/api/chirps/:chirpID/like", method = "delete", operation_id = "unlikeChirp")]
        async fn unlike(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            #[oai(name = "chirpID")] id: Path<Uuid>,
        ) -> Result<Done, LikeError> {
            Self::change(&state, auth.0, id.0, false).await
        }

        /// List who liked a chirp
        ///
        /// The profiles of those who like the chirp, newest like first, a page at a time: at most
        /// `limit` (20 by default), and while more follow, a `Link` header (`<...>; rel="next"`).
        #[oai(path = "/api/chirps/:chirpID/likes", method = "get", operation_id = "listLikes")]
        async fn likes(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            #[oai(name = "chirpID")] id: Path<Uuid>,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<Likers, LikersError> {
            let viewer = viewer.id(request)?;
            let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
            let after = after(cursor.0.as_deref(), Order::Desc)?;
            let page = state
                .store
                .likers_page(id.0, after, limit, viewer)
                .await?
                .ok_or(CHIRP_NOT_FOUND)?;
            let link = next_link(&format!("/api/chirps/{}/likes", id.0), limit, page.next);
            Ok(Likers::Ok(Json(page.items.into_iter().map(Profile::from).collect()), link))
        }
    }
}
