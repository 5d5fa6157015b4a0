//! Posting, listing, reading and deleting chirps: the wire types and the handlers. The
//! SQL, the keyset cursor and paging are in `store::chirps`; the cache of hot chirps and
//! pages in `cache`.

use std::sync::Arc;

use futures_util::StreamExt;
use poem::{Request, http::StatusCode, web::Data};
use poem_openapi::{
    ApiResponse, Enum, Object,
    param::{Header, Path, Query},
    payload::Json,
    types::Example,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    AccessToken, ApiTags, ChirpText, JsonArray, JsonObject, REFUSED_ACCESS_TOKEN, Text, Timestamp, Viewer,
    conditional::{ETag, NoCache, client_has},
};
use crate::{
    cache::{CachedPage, Counts, Fragment, Lookup, PageKey, Representation, etag_of},
    domain::{ChirpBody, IdempotencyKey},
    error::{ApiError, api_errors},
    rate_limits::Kind,
    state::AppState,
    store::{self, ChirpDeletion, Cursor, NewPost, Order, PostKey, PostOutcome},
};

#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Chirp {
    pub id: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The text, with profanity replaced by `****`: `kerfuffle`, `sharbert` and `fornax`,
    /// in any case, however written (fullwidth or mathematical letters, ligatures, invisible
    /// characters inside), and between or beside any punctuation (`fornax's`, `fornax-fornax`).
    pub body: String,
    /// The author.
    pub user_id: Uuid,
    /// The chirp this one replies to, or null. It may have been deleted since: a reply
    /// outlives its parent, still naming it.
    #[oai(nullable)]
    pub reply_to: Option<Uuid>,
    /// How many users like it.
    pub like_count: i64,
    /// How many chirps reply to it directly (deleted replies not counted).
    pub reply_count: i64,
}

impl From<store::Chirp> for Chirp {
    fn from(chirp: store::Chirp) -> Self {
        Self {
            id: chirp.id,
            created_at: chirp.created_at.into(),
            updated_at: chirp.updated_at.into(),
            body: chirp.body,
            user_id: chirp.user_id,
            reply_to: chirp.reply_to,
            like_count: chirp.like_count,
            reply_count: chirp.reply_count,
        }
    }
}

/// What of a chirp never changes, serialized as `Chirp` is, fields in the same order: the
/// cache keeps it, and the counts are spliced in at each response (see `cache::Fragment`).
#[derive(serde::Serialize)]
struct ChirpCore<'a> {
    id: Uuid,
    created_at: Timestamp,
    updated_at: Timestamp,
    body: &'a str,
    user_id: Uuid,
    reply_to: Option<Uuid>,
}

/// The cached part of `chirp`'s JSON.
pub(super) fn fragment(chirp: &store::Chirp) -> Arc<Fragment> {
    let core = ChirpCore {
        id: chirp.id,
        created_at: chirp.created_at.into(),
        updated_at: chirp.updated_at.into(),
        body: &chirp.body,
        user_id: chirp.user_id,
        reply_to: chirp.reply_to,
    };
    Arc::new(Fragment::new(
        serde_json::to_vec(&core).expect("chirps always serialize"),
    ))
}

fn counts_of(chirp: &store::Chirp) -> Counts {
    Counts {
        likes: chirp.like_count,
        replies: chirp.reply_count,
    }
}

/// How long after their own like (or any write) a caller's reads take counts from the
/// primary rather than the cache: far longer than an announcement takes to reach every
/// instance.
const OWN_WRITES_FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether the caller, if they sent a token, wrote lately: then what they read shows
/// counts as the primary has them, whatever this instance has heard so far.
async fn wants_fresh_counts(state: &AppState, request: &Request, viewer: &Viewer) -> Result<bool, ApiError> {
    match viewer.id(request)? {
        Some(user) => Ok(state.store.wrote_lately(user, OWN_WRITES_FRESH).await?),
        None => Ok(false),
    }
}

/// The counts of a chirp whose fragment the cache had: kept (unless `fresh` asks for the
/// primary's), or read from the primary (and kept). `None`: the chirp is gone.
async fn counts(state: &AppState, id: Uuid, fresh: bool) -> Result<Option<Counts>, ApiError> {
    let miss = match state.cache.counts(id) {
        Ok(counts) if !fresh => return Ok(Some(counts)),
        Ok(_) => state.cache.counts_miss(id),
        Err(miss) => miss,
    };
    let Some((likes, replies)) = state.store.chirp_counts(id).await? else {
        return Ok(None);
    };
    let counts = Counts { likes, replies };
    state.cache.remember_counts(miss, id, counts);
    Ok(Some(counts))
}

#[derive(Object)]
#[oai(example)]
struct NewChirp {
    /// At most 140 characters (not bytes), not blank: whitespace and invisible characters
    /// (zero-width spaces and joiners, bidi controls, ...) alone are empty.
    body: Text<ChirpText>,
    /// To reply: the id of the chirp this answers, which must exist (404 if not).
    #[oai(nullable)]
    reply_to: Option<Uuid>,
}

impl Example for NewChirp {
    fn example() -> Self {
        Self {
            body: Text::example("I am the one who knocks!"),
            reply_to: None,
        }
    }
}

/// Order of the chirp list, by creation time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
enum SortOrder {
    /// Oldest first.
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

impl SortOrder {
    fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

impl From<SortOrder> for Order {
    fn from(order: SortOrder) -> Self {
        match order {
            SortOrder::Asc => Order::Asc,
            SortOrder::Desc => Order::Desc,
        }
    }
}

#[derive(ApiResponse)]
enum Posted {
    /// The chirp as stored, profanity replaced. With an `Idempotency-Key` used before for
    /// the same text: the chirp that request posted, again (nothing new is posted).
    #[oai(status = 201)]
    Created(JsonObject<Chirp>),
}

#[derive(ApiResponse)]
enum Found {
    /// The chirp.
    #[oai(status = 200)]
    Ok(
        JsonObject<Chirp>,
        /// Send it back in `If-None-Match` to revalidate.
        #[oai(header = "ETag")]
        ETag,
        /// `no-cache`: keep it, but revalidate before use (chirps can be deleted).
        #[oai(header = "Cache-Control")]
        NoCache,
    ),
    /// Your copy (the `ETag` in `If-None-Match`) is current: no body.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] ETag, #[oai(header = "Cache-Control")] NoCache),
}

#[derive(ApiResponse)]
enum Deleted {
    /// The chirp is gone.
    #[oai(status = 204)]
    NoContent,
}

api_errors! {
    throttled enum PostChirpError {
        /// Empty or over 140 characters (`Chirp is too long`), a malformed body, or a malformed
        /// `Idempotency-Key`.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The author of the chirp replied to, or the caller, blocks the other.
        Forbidden = 403,
        /// `reply_to` names no chirp.
        NotFound = 404,
        /// A request with the same `Idempotency-Key` is still being handled; retry shortly.
        Conflict = 409,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
        /// The `Idempotency-Key` was used (in the last 24 hours) for a different chirp.
        UnprocessableEntity = 422,
    }
}

api_errors! {
    throttled enum ListChirpsError {
        /// Malformed `author_id`, `sort`, `limit` or `cursor`.
        BadRequest = 400,
    }
}

api_errors! {
    throttled enum GetChirpError {
        /// The id is not a UUID.
        BadRequest = 400,
        /// No chirp has this id.
        NotFound = 404,
    }
}

api_errors! {
    throttled enum DeleteChirpError {
        /// The id is not a UUID.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The chirp belongs to someone else.
        Forbidden = 403,
        /// No chirp has this id.
        NotFound = 404,
    }
}

#[derive(ApiResponse)]
enum ChirpList {
    /// The chirps, in order.
    #[oai(status = 200)]
    Ok(
        JsonArray<Chirp>,
        /// With `limit`, when more chirps follow: `</api/chirps?...&cursor=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
        /// Send it back in `If-None-Match` to revalidate (absent on lists too long to send in
        /// one piece).
        #[oai(header = "ETag")]
        Option<ETag>,
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

/// Chirps per query when the whole list is streamed: bounds the server's memory.
const STREAM_PAGE: u32 = 1000;

const CHIRP_NOT_FOUND: ApiError = ApiError::NotFound("Chirp not found");
const IDEMPOTENCY_KEY: &str = "idempotency-key";

pub struct ChirpsApi;

operations! {
    "ApiTags::Chirps",
    impl ChirpsApi {
        /// Post a chirp
        ///
        /// Publishes a chirp by the caller. Profane words (`kerfuffle`, `sharbert`, `fornax`, in any
        /// letter case, in fullwidth or mathematical letters, with invisible characters inside, and
        /// with punctuation beside or between words) are replaced by `****`. To retry safely, send an `Idempotency-Key`: a retry
        /// with the same key and text gets the first response again instead of a second chirp.
        #[oai(path = "/api/chirps", method = "post", operation_id = "createChirp")]
        async fn create(
            &self,
            state: Data<&AppState>,
            request: &Request,
            auth: AccessToken,
            /// 1 to 255 visible ASCII characters, unique per request you mean (a UUID, say).
            /// Remembered for your account for 24 hours.
            #[oai(
                name = "Idempotency-Key",
                validator(min_length = 1, max_length = 255, pattern = r"^[\x21-\x7E]+$")
            )]
            _idempotency_key: Header<Option<String>>,
            body: Json<NewChirp>,
        ) -> Result<Posted, PostChirpError> {
            let author = auth.0;
            state.limiter.check(Kind::Post, Some(author)).await?;
            let text = &body.body.0;
            let chirp = ChirpBody::parse(text)?;
            // Read raw: the parameter above only declares it, as poem-openapi takes a value
            // that is not ASCII for no header at all, and a malformed key must be refused.
            let key = request
                .headers()
                .get(IDEMPOTENCY_KEY)
                .map(|key| IdempotencyKey::parse_bytes(key.as_bytes()));
            let key = match key {
                None => None,
                Some(key) => Some(PostKey {
                    key: key?.as_str().to_owned(),
                    request_hash: Sha256::digest(text.as_bytes()).to_vec(),
                    respond: Box::new(|posted: &store::Chirp| {
                        serde_json::to_string(&Chirp::from(posted.clone())).expect("chirps always serialize")
                    }),
                }),
            };
            let reply_to = body.reply_to;
            let post = NewPost {
                author,
                body: chirp.as_str().to_owned(),
                reply_to,
                key,
            };
            let chirp = match state.store.post_chirp(post).await? {
                PostOutcome::Posted(chirp) => chirp,
                PostOutcome::Replayed(response) => {
                    return Ok(Posted::Created(JsonObject::prerendered(response.into())));
                }
                PostOutcome::Mismatch => {
                    let message = "This Idempotency-Key was used for a different chirp";
                    return Err(ApiError::refused(StatusCode::UNPROCESSABLE_ENTITY, message).into());
                }
                PostOutcome::InFlight => {
                    return Err(ApiError::Conflict("A request with this Idempotency-Key is in progress").into());
                }
                PostOutcome::NoAuthor => return Err(REFUSED_ACCESS_TOKEN.into()),
                PostOutcome::NoParent => return Err(ApiError::NotFound("The chirp to reply to was not found").into()),
                PostOutcome::Blocked => return Err(super::safety::BLOCKED.into()),
            };
            // This instance's pages (and the parent's count) show it at once; the others hear
            // of it.
            state.cache.posted(chirp.id);
            if let Some(parent) = reply_to {
                state.cache.counts_changed(parent);
            }
            state.announcer.posted(chirp.id, reply_to);
            Ok(Posted::Created(JsonObject::new(&Chirp::from(chirp))))
        }

        /// List chirps
        ///
        /// All chirps, oldest first (ties broken by id), optionally by one author and newest first.
        /// With `limit`, one page: at most that many, and when more follow, a `Link` header
        /// (`<...>; rel="next"`) whose URL carries the `cursor` of the next page. The body is a
        /// plain array either way. Send the `ETag` back in `If-None-Match` to get 304 while the
        /// list is unchanged. With your access token, counts you just changed yourself are
        /// current on every instance (see `getChirp`).
        #[oai(path = "/api/chirps", method = "get", operation_id = "listChirps")]
        // Each is one of the operation's inputs, as the spec declares them.
        #[allow(clippy::too_many_arguments)]
        async fn list(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            /// Only chirps by this user.
            author_id: Query<Option<Uuid>>,
            /// `asc` (default) or `desc`, by creation time.
            sort: Query<Option<SortOrder>>,
            /// At most this many chirps (1 to 1000). Without it, all of them.
            #[oai(validator(minimum(value = "1"), maximum(value = "1000")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
            /// The `ETag` of the list you have.
            #[oai(name = "If-None-Match")]
            if_none_match: Header<Option<String>>,
        ) -> Result<ChirpList, ListChirpsError> {
            let (author, sort) = (author_id.0, sort.0.unwrap_or_default());
            let order = Order::from(sort);
            let after = match cursor.0.as_deref() {
                None => Cursor::start(order),
                Some(text) => Cursor::parse(text).ok_or(ApiError::BadRequest("Invalid cursor".into()))?,
            };
            let link = |next: Cursor| {
                let limit = limit.0.map_or(String::new(), |limit| format!("limit={limit}&"));
                let mut url = format!("/api/chirps?{limit}cursor={}&sort={}", next.encode(), sort.as_str());
                if let Some(author) = author {
                    url.push_str(&format!("&author_id={author}"));
                }
                format!("<{url}>; rel=\"next\"")
            };
            // The feed's first pages are what every client asks for: those are cached.
            let cacheable = author.is_none() && cursor.0.is_none() && state.cache.keeps_pages();
            let key = cacheable.then_some(PageKey { order, limit: limit.0 });
            let cached = key.map(|key| (key, state.cache.page(key)));
            let page = match cached {
                Some((_, Ok(page))) => assembled(&state, &page, wants_fresh_counts(&state, request, &viewer).await?).await?,
                // From the primary, which never lags: a page kept from a replica could stay stale.
                Some((key, Err(miss))) => {
                    let counts_before = state.cache.counts_before_read();
                    let page = state
                        .store
                        .fresh_chirps_page(order, key.limit.unwrap_or(STREAM_PAGE))
                        .await?;
                    if key.limit.is_none() && page.next.is_some() {
                        // The whole feed is longer than a page: it streams (below), and is not kept.
                        return Ok(stream_all(&state, None, order, page));
                    }
                    let cached = CachedPage {
                        chirps: page.items.iter().map(|chirp| (chirp.id, fragment(chirp))).collect(),
                        link: page.next.map(link),
                    };
                    // Read from the primary: the counts are current too.
                    for chirp in &page.items {
                        state.cache.remember_counts_read(&counts_before, chirp.id, counts_of(chirp));
                    }
                    let counts: Vec<Counts> = page.items.iter().map(counts_of).collect();
                    let rendered = render_fragments(&cached, &counts);
                    state.cache.remember_page(miss, key, Arc::new(cached));
                    rendered
                }
                None => {
                    let page = state
                        .store
                        .chirps_page(author, order, after, limit.0.unwrap_or(STREAM_PAGE))
                        .await?;
                    if limit.0.is_none() && page.next.is_some() {
                        return Ok(stream_all(&state, author, order, page));
                    }
                    render_page(page.items, page.next.map(link))
                }
            };
            let link = page.link.clone();
            if client_has(if_none_match.0.as_deref(), &page.etag) {
                return Ok(ChirpList::NotModified(link, ETag(page.etag.clone()), NoCache));
            }
            let body = JsonArray::prerendered(page.json.clone());
            Ok(ChirpList::Ok(body, link, Some(ETag(page.etag.clone())), NoCache))
        }

        /// Get a chirp
        ///
        /// Send the `ETag` back in `If-None-Match` to get 304 while you have the chirp. Its counts are
        /// current as every instance hears of changes (at once, in practice); with your access
        /// token, those you just changed yourself (a like) are current on every instance
        /// whatever it has heard.
        #[oai(path = "/api/chirps/:chirpID", method = "get", operation_id = "getChirp")]
        async fn get(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            #[oai(name = "chirpID")] id: Path<Uuid>,
            /// The `ETag` of the chirp you have.
            #[oai(name = "If-None-Match")]
            if_none_match: Header<Option<String>>,
        ) -> Result<Found, GetChirpError> {
            let (fragment, counts) = match state.cache.chirp(id.0) {
                Lookup::Found(fragment) => match counts(&state, id.0, wants_fresh_counts(&state, request, &viewer).await?).await? {
                    Some(counts) => (fragment, counts),
                    // Deleted since it was kept, as this instance has not heard yet.
                    None => return Err(CHIRP_NOT_FOUND.into()),
                },
                Lookup::Deleted => return Err(CHIRP_NOT_FOUND.into()),
                Lookup::Miss(miss) => {
                    // Counts read from a replica may lag: only the primary's are kept, and
                    // only as current as the read's start.
                    let counts_miss = state.store.reads_only_primary().then(|| state.cache.counts_miss(id.0));
                    let chirp = state.store.chirp(id.0).await?.ok_or(CHIRP_NOT_FOUND)?;
                    let kept = fragment(&chirp);
                    state.cache.remember_chirp(miss, id.0, kept.clone());
                    if let Some(counts_miss) = counts_miss {
                        state.cache.remember_counts(counts_miss, id.0, counts_of(&chirp));
                    }
                    (kept, counts_of(&chirp))
                }
            };
            let etag = etag_of([(&*fragment, counts)], CHIRP_TAG);
            if client_has(if_none_match.0.as_deref(), &etag) {
                return Ok(Found::NotModified(ETag(etag), NoCache));
            }
            let mut json = Vec::with_capacity(fragment.json.len() + 40);
            fragment.write(counts, &mut json);
            Ok(Found::Ok(JsonObject::prerendered(json.into()), ETag(etag), NoCache))
        }

        /// Delete a chirp
        ///
        /// Deletes one of the caller's own chirps.
        #[oai(path = "/api/chirps/:chirpID", method = "delete", operation_id = "deleteChirp")]
        async fn delete(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            #[oai(name = "chirpID")] id: Path<Uuid>,
        ) -> Result<Deleted, DeleteChirpError> {
            state.limiter.check(Kind::Delete, Some(auth.0)).await?;
            match state.store.delete_chirp(id.0, auth.0).await? {
                ChirpDeletion::Deleted { reply_to } => {
                    // Never served here again, from now; the other instances hear of it.
                    state.cache.deleted(id.0);
                    if let Some(parent) = reply_to {
                        state.cache.counts_changed(parent);
                    }
                    state.announcer.deleted(id.0, reply_to).await;
                    Ok(Deleted::NoContent)
                }
                ChirpDeletion::NotTheAuthor => Err(ApiError::Forbidden("You can only delete your own chirps").into()),
                ChirpDeletion::NotFound => Err(CHIRP_NOT_FOUND.into()),
            }
        }
    }
}

/// Tags of one chirp and of pages differ even for the same chirps.
const CHIRP_TAG: u8 = 0;
const PAGE_TAG: u8 = 1;

/// A kept page with its chirps' counts as of now: kept ones, and the rest read from the
/// primary together (and kept). A chirp deleted meanwhile goes with its count 0 until the
/// deletion, on its way, empties the page.
async fn assembled(state: &AppState, page: &CachedPage, fresh: bool) -> Result<Arc<Representation>, ApiError> {
    let reads = page.chirps.iter().map(|(id, _)| counts(state, *id, fresh));
    let counts: Vec<Counts> = futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect();
    Ok(render_fragments(page, &counts))
}

/// A kept page's JSON with `counts` (one per chirp), its tag and its `Link`.
fn render_fragments(page: &CachedPage, counts: &[Counts]) -> Arc<Representation> {
    let mut json = Vec::with_capacity(page.chirps.iter().map(|(_, f)| f.json.len() + 40).sum::<usize>() + 2);
    json.push(b'[');
    for (n, ((_, fragment), counts)) in page.chirps.iter().zip(counts).enumerate() {
        if n > 0 {
            json.push(b',');
        }
        fragment.write(*counts, &mut json);
    }
    json.push(b']');
    let etag = etag_of(
        page.chirps
            .iter()
            .map(|(_, fragment)| &**fragment)
            .zip(counts.iter().copied()),
        PAGE_TAG,
    );
    Arc::new(Representation::tagged(json, etag).with_link(page.link.clone()))
}

/// A page's JSON and tag, with its `Link` to the next page.
pub(super) fn render_page(chirps: Vec<store::Chirp>, link: Option<String>) -> Arc<Representation> {
    let chirps: Vec<Chirp> = chirps.into_iter().map(Chirp::from).collect();
    let json = serde_json::to_vec(&chirps).expect("chirps always serialize");
    Arc::new(Representation::new(json).with_link(link))
}

/// The whole feed, longer than a page: the first page (read before the status is sent, so
/// an outage is a 503), then the rest, streamed one bounded page at a time, without a tag.
fn stream_all(state: &AppState, author: Option<Uuid>, order: Order, first: store::Page<store::Chirp>) -> ChirpList {
    let chirps = first.items.into_iter().map(Chirp::from).map(Ok);
    let rest = first.next.map(|next| {
        state
            .store
            .chirps_after(author, order, next, STREAM_PAGE)
            .map(|chirp| chirp.map(Chirp::from))
    });
    let streamed = futures_util::stream::iter(chirps).chain(futures_util::stream::iter(rest).flatten());
    ChirpList::Ok(JsonArray::streamed(streamed), None, None, NoCache)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use poem_openapi::types::ToJSON;

    use super::*;

    fn stored() -> store::Chirp {
        store::Chirp {
            id: Uuid::from_u128(0x3311741c_680c_4546_99f3_fc9efac2036c),
            created_at: serde_json::from_value::<DateTime<Utc>>("2026-11-24T06:47:53.38225Z".into()).unwrap(),
            updated_at: serde_json::from_value::<DateTime<Utc>>("2026-11-24T06:47:53Z".into()).unwrap(),
            body: "Say \"my\" name ✓".into(),
            user_id: Uuid::nil(),
            reply_to: Some(Uuid::max()),
            like_count: 12,
            reply_count: 3,
        }
    }

    /// Chirps are written by serde on the hot paths and described by poem-openapi in the
    /// spec: the two must produce the same JSON.
    #[test]
    fn serde_writes_what_the_spec_describes() {
        for chirp in [
            stored(),
            store::Chirp {
                reply_to: None,
                ..stored()
            },
        ] {
            let chirp = Chirp::from(chirp);
            assert_eq!(serde_json::to_value(&chirp).unwrap(), chirp.to_json().unwrap());
        }
    }

    /// The cache's fragment with the counts spliced in is exactly the chirp's JSON.
    #[test]
    fn a_fragment_with_its_counts_is_the_chirp() {
        for chirp in [
            stored(),
            store::Chirp {
                reply_to: None,
                ..stored()
            },
        ] {
            let mut spliced = Vec::new();
            fragment(&chirp).write(counts_of(&chirp), &mut spliced);
            assert_eq!(
                String::from_utf8(spliced).unwrap(),
                serde_json::to_string(&Chirp::from(chirp)).unwrap()
            );
        }
    }
}
