//! Posting, listing, reading and deleting chirps: the wire types and the handlers. The
//! SQL, the keyset cursor and paging are in `store::chirps`.

use futures_util::StreamExt;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use uuid::Uuid;

use super::{AccessToken, ApiTags, ChirpText, JsonArray, JsonObject, Text, Timestamp};
use crate::{
    domain::ChirpBody,
    error::{ApiError, api_errors},
    state::AppState,
    store::{self, ChirpDeletion, Cursor, Order},
};

#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Chirp {
    pub id: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The text, with profanity replaced by `****`.
    pub body: String,
    /// The author.
    pub user_id: Uuid,
}

impl From<store::Chirp> for Chirp {
    fn from(chirp: store::Chirp) -> Self {
        Self {
            id: chirp.id,
            created_at: chirp.created_at.into(),
            updated_at: chirp.updated_at.into(),
            body: chirp.body,
            user_id: chirp.user_id,
        }
    }
}

#[derive(Object)]
#[oai(example)]
struct NewChirp {
    /// At most 140 characters (not bytes), not blank.
    body: Text<ChirpText>,
}

impl Example for NewChirp {
    fn example() -> Self {
        Self {
            body: Text::example("I am the one who knocks!"),
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
    /// The chirp as stored, profanity replaced.
    #[oai(status = 201)]
    Created(JsonObject<Chirp>),
}

#[derive(ApiResponse)]
enum Found {
    /// The chirp.
    #[oai(status = 200)]
    Ok(JsonObject<Chirp>),
}

#[derive(ApiResponse)]
enum Deleted {
    /// The chirp is gone.
    #[oai(status = 204)]
    NoContent,
}

api_errors! {
    enum PostChirpError {
        /// Empty or over 140 characters (`Chirp is too long`), or a malformed body.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

api_errors! {
    enum ListChirpsError {
        /// Malformed `author_id`, `sort`, `limit` or `cursor`.
        BadRequest = 400,
    }
}

api_errors! {
    enum GetChirpError {
        /// The id is not a UUID.
        BadRequest = 400,
        /// No chirp has this id.
        NotFound = 404,
    }
}

api_errors! {
    enum DeleteChirpError {
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
    ),
}

/// Chirps per query when the whole list is streamed: bounds the server's memory.
const STREAM_PAGE: u32 = 1000;

const CHIRP_NOT_FOUND: ApiError = ApiError::NotFound("Chirp not found");

pub struct ChirpsApi;

#[OpenApi(tag = "ApiTags::Chirps")]
impl ChirpsApi {
    /// Post a chirp
    ///
    /// Publishes a chirp by the caller. Profane words (`kerfuffle`, `sharbert`, `fornax`, in any
    /// letter case) are replaced by `****`.
    #[oai(path = "/api/chirps", method = "post", operation_id = "createChirp")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        body: Json<NewChirp>,
    ) -> Result<Posted, PostChirpError> {
        let body = ChirpBody::parse(&body.body.0)?;
        let chirp = state.store.insert_chirp(body.as_str(), auth.0).await?;
        let chirp = chirp.ok_or(ApiError::Unauthorized("User no longer exists"))?;
        Ok(Posted::Created(JsonObject(chirp.into())))
    }

    /// List chirps
    ///
    /// All chirps, oldest first (ties broken by id), optionally by one author and newest first.
    /// With `limit`, one page: at most that many, and when more follow, a `Link` header
    /// (`<...>; rel="next"`) whose URL carries the `cursor` of the next page. The body is a
    /// plain array either way.
    #[oai(path = "/api/chirps", method = "get", operation_id = "listChirps")]
    async fn list(
        &self,
        state: Data<&AppState>,
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
    ) -> Result<ChirpList, ListChirpsError> {
        let (author, sort) = (author_id.0, sort.0.unwrap_or_default());
        let order = Order::from(sort);
        let after = match cursor.0.as_deref() {
            None => Cursor::start(order),
            Some(text) => Cursor::parse(text).ok_or(ApiError::BadRequest("Invalid cursor".into()))?,
        };
        let store = &state.store;
        let Some(limit) = limit.0 else {
            // The first page is read before the status is sent, so an outage is a 503;
            // the rest streams, one bounded page at a time.
            let first = store.chirps_page(author, order, after, STREAM_PAGE).await?;
            let chirps: Vec<Chirp> = first.chirps.into_iter().map(Chirp::from).collect();
            let chirps = match first.next {
                // All of it in one page: a plain body with a length.
                None => JsonArray::from_items(&chirps),
                Some(next) => {
                    let rest = store
                        .chirps_after(author, order, next, STREAM_PAGE)
                        .map(|chirp| chirp.map(Chirp::from));
                    JsonArray::streamed(futures_util::stream::iter(chirps.into_iter().map(Ok)).chain(rest))
                }
            };
            return Ok(ChirpList::Ok(chirps, None));
        };
        let page = store.chirps_page(author, order, after, limit).await?;
        let link = page.next.map(|next| {
            let mut url = format!(
                "/api/chirps?limit={limit}&cursor={}&sort={}",
                next.encode(),
                sort.as_str()
            );
            if let Some(author) = author {
                url.push_str(&format!("&author_id={author}"));
            }
            format!("<{url}>; rel=\"next\"")
        });
        let chirps: Vec<Chirp> = page.chirps.into_iter().map(Chirp::from).collect();
        Ok(ChirpList::Ok(JsonArray::from_items(&chirps), link))
    }

    /// Get a chirp
    #[oai(path = "/api/chirps/:chirpID", method = "get", operation_id = "getChirp")]
    async fn get(
        &self,
        state: Data<&AppState>,
        #[oai(name = "chirpID")] id: Path<Uuid>,
    ) -> Result<Found, GetChirpError> {
        let chirp = state.store.chirp(id.0).await?.ok_or(CHIRP_NOT_FOUND)?;
        Ok(Found::Ok(JsonObject(chirp.into())))
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
        match state.store.delete_chirp(id.0, auth.0).await? {
            ChirpDeletion::Deleted => Ok(Deleted::NoContent),
            ChirpDeletion::NotTheAuthor => Err(ApiError::Forbidden("You can only delete your own chirps").into()),
            ChirpDeletion::NotFound => Err(CHIRP_NOT_FOUND.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use poem_openapi::types::ToJSON;

    use super::*;

    /// Chirps are written by serde on the hot paths and described by poem-openapi in the
    /// spec: the two must produce the same JSON.
    #[test]
    fn serde_writes_what_the_spec_describes() {
        let chirp = Chirp {
            id: Uuid::from_u128(0x3311741c_680c_4546_99f3_fc9efac2036c),
            created_at: serde_json::from_value::<DateTime<Utc>>("2026-11-24T06:47:53.38225Z".into())
                .map(Into::into)
                .unwrap(),
            updated_at: serde_json::from_value::<DateTime<Utc>>("2026-11-24T06:47:53Z".into())
                .map(Into::into)
                .unwrap(),
            body: "Say \"my\" name ✓".into(),
            user_id: Uuid::nil(),
        };
        assert_eq!(serde_json::to_value(&chirp).unwrap(), chirp.to_json().unwrap());
    }
}
