//! Blocks and mutes: `PUT`/`DELETE /api/users/{user_id}/block` and `/mute`, and the caller's
//! lists of them. What a block and a mute do is in `store::safety`.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    AccessToken, ApiTags, Timestamp,
    paging::{DEFAULT_LIMIT, after, next_link},
    profiles::USER_NOT_FOUND,
};
use crate::{
    error::{ApiError, api_errors},
    rate_limits::Kind,
    state::AppState,
    store::{Order, Shield, ShieldList, Shielded},
};

#[derive(ApiResponse)]
enum Done {
    /// Done (or it was already so).
    #[oai(status = 204)]
    NoContent,
}

/// Someone the caller blocks or mutes.
#[derive(Object)]
struct ShieldedUser {
    user_id: Uuid,
    /// Since when.
    created_at: Timestamp,
}

impl From<Shielded> for ShieldedUser {
    fn from(shielded: Shielded) -> Self {
        Self {
            user_id: shielded.user_id,
            created_at: shielded.created_at.into(),
        }
    }
}

#[derive(ApiResponse)]
enum Listed {
    /// Newest first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<ShieldedUser>>,
        /// When more follow: `<...?limit=...&cursor=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

api_errors! {
    throttled enum ShieldError {
        /// The id is not a UUID, or it is the caller's own.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// No user has this id.
        NotFound = 404,
    }
}

api_errors! {
    throttled enum ListError {
        /// A malformed `limit` or `cursor`.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
    }
}

pub struct SafetyApi;

impl SafetyApi {
    async fn shield(state: &AppState, by: Uuid, of: Uuid, list: ShieldList, on: bool) -> Result<Done, ShieldError> {
        state.limiter.check(Kind::Follow, Some(by)).await?;
        if by == of {
            return Err(ApiError::BadRequest("You cannot block or mute yourself".into()).into());
        }
        let found = match (list, on) {
            (ShieldList::Blocks, true) => state.store.block(by, of).await? == Shield::Done,
            (ShieldList::Mutes, true) => state.store.mute(by, of).await? == Shield::Done,
            (_, false) => state.store.unshield(list, by, of).await?,
        };
        if !found {
            return Err(USER_NOT_FOUND.into());
        }
        // A block ended follows: live home feeds learn of it from the log.
        state.announcer.logged();
        Ok(Done::NoContent)
    }

    async fn list(
        state: &AppState,
        user: Uuid,
        list: ShieldList,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<Listed, ListError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        let page = state
            .store
            .shield_page(user, list, after(cursor, Order::Desc)?, limit)
            .await?;
        let path = match list {
            ShieldList::Blocks => "/api/users/me/blocks",
            ShieldList::Mutes => "/api/users/me/mutes",
        };
        let link = next_link(path, limit, page.next);
        Ok(Listed::Ok(
            Json(page.items.into_iter().map(ShieldedUser::from).collect()),
            link,
        ))
    }
}

operations! {
    "ApiTags::Safety",
    impl SafetyApi {
        /// Block a user
        ///
        /// Neither can follow the other any more (follows between them, both ways, end now), nor
        /// reply to or like the other's chirps (403), and neither sees the other in home
        /// timelines, threads, likes lists, follow lists, search or live feeds while signed in.
        #[oai(path = "/api/users/:user_id/block", method = "put", operation_id = "block")]
        async fn block(&self, state: Data<&AppState>, auth: AccessToken, user_id: Path<Uuid>) -> Result<Done, ShieldError> {
            Self::shield(&state, auth.0, user_id.0, ShieldList::Blocks, true).await
        }

        /// Unblock a user
        #[oai(path = "/api/users/:user_id/block", method = "delete", operation_id = "unblock")]
        async fn unblock(&self, state: Data<&AppState>, auth: AccessToken, user_id: Path<Uuid>) -> Result<Done, ShieldError> {
            Self::shield(&state, auth.0, user_id.0, ShieldList::Blocks, false).await
        }

        /// Mute a user
        ///
        /// Their chirps leave the caller's home timeline and live feed, and they no longer cause
        /// the caller notifications. They cannot tell.
        #[oai(path = "/api/users/:user_id/mute", method = "put", operation_id = "mute")]
        async fn mute(&self, state: Data<&AppState>, auth: AccessToken, user_id: Path<Uuid>) -> Result<Done, ShieldError> {
            Self::shield(&state, auth.0, user_id.0, ShieldList::Mutes, true).await
        }

        /// Unmute a user
        #[oai(path = "/api/users/:user_id/mute", method = "delete", operation_id = "unmute")]
        async fn unmute(&self, state: Data<&AppState>, auth: AccessToken, user_id: Path<Uuid>) -> Result<Done, ShieldError> {
            Self::shield(&state, auth.0, user_id.0, ShieldList::Mutes, false).await
        }

        /// List whom I block
        #[oai(path = "/api/users/me/blocks", method = "get", operation_id = "listBlocks")]
        async fn blocks(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<Listed, ListError> {
            Self::list(&state, auth.0, ShieldList::Blocks, limit.0, cursor.0.as_deref()).await
        }

        /// List whom I mute
        #[oai(path = "/api/users/me/mutes", method = "get", operation_id = "listMutes")]
        async fn mutes(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<Listed, ListError> {
            Self::list(&state, auth.0, ShieldList::Mutes, limit.0, cursor.0.as_deref()).await
        }
    }
}

/// The answer to following, replying to or liking across a block.
pub const BLOCKED: ApiError = ApiError::Forbidden("You cannot do this: one of you blocks the other");
