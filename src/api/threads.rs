//! `GET /api/chirps/{chirpID}/thread`: a chirp with the chain it answers and its replies.

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object,
    param::{Path, Query},
    payload::Json,
};
use uuid::Uuid;

use super::{
    ApiTags, Viewer,
    chirps::Chirp,
    paging::{DEFAULT_LIMIT, after, next_link},
};
use crate::{
    error::{ApiError, api_errors},
    state::AppState,
    store::{MOST_ANCESTORS, Order},
};

/// A chirp in its conversation.
#[derive(Object)]
struct Thread {
    /// The chain of chirps this one answers, oldest first: up to the root, or to a link that
    /// was deleted (the chain ends there), or, in a chain deeper than 50, the 50 nearest.
    ancestors: Vec<Chirp>,
    /// Whether older ancestors exist beyond `ancestors` (ask for the thread of its first
    /// chirp to read further up).
    more_ancestors: bool,
    chirp: Chirp,
    /// The direct replies, oldest first: one page of them (see the `Link` header).
    replies: Vec<Chirp>,
}

#[derive(ApiResponse)]
enum Found {
    /// The thread.
    #[oai(status = 200)]
    Ok(
        Json<Thread>,
        /// When more replies follow: `</api/chirps/{chirpID}/thread?limit=...&cursor=...>;
        /// rel="next"` (the next page's `replies`).
        #[oai(header = "Link")]
        Option<String>,
    ),
}

api_errors! {
    throttled enum ThreadError {
        /// The id is not a UUID, or a malformed `limit` or `cursor`.
        BadRequest = 400,
        /// No chirp has this id (or, for the caller, it is by a user they block or who blocks
        /// them).
        NotFound = 404,
    }
}

pub struct ThreadsApi;

operations! {
    "ApiTags::Threads",
    impl ThreadsApi {
        /// Read a thread
        ///
        /// The chirp, the chain of chirps it answers (oldest first, at most the 50 nearest, with
        /// `more_ancestors` saying whether the chain goes further), and its direct replies, oldest
        /// first, a page at a time: at most `limit` (20 by default), and while more follow, a
        /// `Link` header to the next page of replies.
        #[oai(path = "/api/chirps/:chirpID/thread", method = "get", operation_id = "getThread")]
        async fn thread(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            #[oai(name = "chirpID")] id: Path<Uuid>,
            /// At most this many replies (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue the replies after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<Found, ThreadError> {
            let viewer = viewer.id(request)?;
            let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
            let after = after(cursor.0.as_deref(), Order::Asc)?;
            let thread = state
                .store
                .thread(id.0, after, limit, viewer)
                .await?
                .ok_or(ApiError::NotFound("Chirp not found"))?;
            debug_assert!(thread.ancestors.len() <= MOST_ANCESTORS as usize);
            let link = next_link(&format!("/api/chirps/{}/thread", id.0), limit, thread.replies.next);
            Ok(Found::Ok(
                Json(Thread {
                    ancestors: thread.ancestors.into_iter().map(Chirp::from).collect(),
                    more_ancestors: thread.more_ancestors,
                    chirp: thread.chirp.into(),
                    replies: thread.replies.items.into_iter().map(Chirp::from).collect(),
                }),
                link,
            ))
        }
    }
}
