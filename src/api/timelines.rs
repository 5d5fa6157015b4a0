//! The home timeline (`GET /api/timelines/home`) and its live feed
//! (`GET /api/timelines/home/stream`). The fan-out design is in `store::timeline`, the
//! live feed's machinery in `feed`.

use std::sync::Arc;

use futures_util::stream::BoxStream;
use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse,
    param::{Header, Query},
    payload::EventStream,
};

use super::{
    AccessToken, ApiTags, JsonArray,
    chirps::{Chirp, render_page},
    conditional::{ETag, NoCache, client_has},
    paging::{DEFAULT_LIMIT, after, next_link},
    stream::{HomeEventData, StreamItem, refused, resume_after, sse},
};
use crate::{
    cache::Representation,
    error::{ApiError, api_errors},
    feed::Audience,
    state::AppState,
    store::Order,
};

#[derive(ApiResponse)]
enum Home {
    /// The chirps, newest first.
    #[oai(status = 200)]
    Ok(
        JsonArray<Chirp>,
        /// When more follow: `</api/timelines/home?limit=...&cursor=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
        /// Send it back in `If-None-Match` to revalidate.
        #[oai(header = "ETag")]
        ETag,
        /// `no-cache`: keep it, but revalidate before use.
        #[oai(header = "Cache-Control")]
        NoCache,
    ),
    /// Your copy (the `ETag` in `If-None-Match`) is current: no body.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "Link")] Option<String>,
        #[oai(header = "ETag")] ETag,
        #[oai(header = "Cache-Control")] NoCache,
    ),
}

api_errors! {
    throttled enum HomeError {
        /// A malformed `limit` or `cursor`.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
    }
}

#[derive(ApiResponse)]
enum HomeStream {
    /// Server-Sent Events, as they happen: `chirp.created` (data: the `Chirp`) and
    /// `chirp.deleted` (data: `{"id": ...}`) for the caller's own chirps and those of whom
    /// they follow, and `follow.created` / `follow.deleted` (data: `{"follower_id",
    /// "followee_id"}`) when the caller follows or unfollows someone, from whichever
    /// device; and `notification` (data: `{"id", "type", "actor_id", "chirp_id"}`) for each
    /// of the caller's notifications as it is written. Every event has an `id:`; reconnect with it in `Last-Event-ID` to get every
    /// event since, none twice, each judged by whom the caller followed at its moment. The
    /// stream ends when the access token expires: reconnect with a fresh one and
    /// `Last-Event-ID`, losing nothing.
    #[oai(status = 200)]
    Events(EventStream<BoxStream<'static, StreamItem<HomeEventData>>>),
}

api_errors! {
    throttled enum HomeStreamError {
        /// Malformed `Last-Event-ID`.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
    }
}

pub struct TimelinesApi;

operations! {
    "ApiTags::Timelines",
    impl TimelinesApi {
        /// Read the home timeline
        ///
        /// The caller's own chirps and those of everyone they follow, newest first (ties broken by
        /// id), a page at a time: at most `limit` (20 by default), and while more follow, a `Link`
        /// header (`<...>; rel="next"`) to the next page. Exact at every moment: the caller's own
        /// follows, unfollows, posts and deletions show at once on every instance; other users'
        /// within the read replica's lag. Send the `ETag` back in `If-None-Match` to get 304 while
        /// the page is unchanged.
        #[oai(path = "/api/timelines/home", method = "get", operation_id = "getHomeTimeline")]
        async fn home(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            /// At most this many chirps (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
            /// The `ETag` of the page you have.
            #[oai(name = "If-None-Match")]
            if_none_match: Header<Option<String>>,
        ) -> Result<Home, HomeError> {
            let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
            let after = after(cursor.0.as_deref(), Order::Desc)?;
            let page = state.store.home_page(auth.0, after, limit).await?;
            let link = next_link("/api/timelines/home", limit, page.next);
            let page: Arc<Representation> = render_page(page.items, link);
            let (etag, link) = (ETag(page.etag.clone()), page.link.clone());
            if client_has(if_none_match.0.as_deref(), &page.etag) {
                return Ok(Home::NotModified(link, etag, NoCache));
            }
            Ok(Home::Ok(JsonArray::prerendered(page.json.clone()), link, etag, NoCache))
        }

        /// Follow the home timeline live
        ///
        /// Streams what changes the caller's home timeline from now on (or since `Last-Event-ID`).
        /// Browsers' `EventSource` cannot send `Authorization`: read it with `fetch()` and a
        /// stream reader instead (the web app does), so no token ever appears in a URL. Too many
        /// open streams, or a server shutting down: 503 with `Retry-After`.
        #[oai(path = "/api/timelines/home/stream", method = "get", operation_id = "streamHomeTimeline")]
        async fn stream(
            &self,
            state: Data<&AppState>,
            request: &Request,
            auth: AccessToken,
            /// The `id:` of the last event you received, to resume after it. Empty: none.
            #[oai(name = "Last-Event-ID", validator(pattern = "^([0-9]+-[0-9]+)?$"))]
            _last_event_id: Header<Option<String>>,
        ) -> Result<HomeStream, HomeStreamError> {
            let after = resume_after(request)?;
            let until = token_expiry(&state, request).map_err(|_| ApiError::internal("a verified token did not verify"))?;
            let audience = Audience::Home { reader: auth.0 };
            let events = state.feed.subscribe(after, audience, Some(until)).await.map_err(refused)?;
            Ok(HomeStream::Events(sse(events, state.feed.heartbeat())))
        }
    }
}

/// When the request's access token expires, as a deadline for its stream. (A token is good
/// through the whole second its `exp` names.)
fn token_expiry(state: &AppState, request: &Request) -> Result<tokio::time::Instant, ()> {
    let header = request.headers().get(poem::http::header::AUTHORIZATION).ok_or(())?;
    let (scheme, token) = header.to_str().map_err(drop)?.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(());
    }
    let (_, expires) = state.access_tokens.verify_until(token.trim()).map_err(drop)?;
    let left = (expires + chrono::Duration::seconds(1) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    Ok(tokio::time::Instant::now() + left)
}
