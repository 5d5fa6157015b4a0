//! Posting, listing, reading and deleting chirps.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{Stream, StreamExt, TryStreamExt, stream::BoxStream};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use sqlx::PgPool;
use uuid::Uuid;

use super::{ApiTags, ChirpText, JsonArray, JsonObject, Text, Timestamp};
use crate::{
    auth::AccessToken,
    domain::ChirpBody,
    error::{ApiError, api_errors, on_constraint},
    state::AppState,
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

/// Where a page ends: the list's sort key, `(created_at, id)`, of its last chirp. Clients
/// see it only as 48 opaque hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    created_at: DateTime<Utc>,
    id: Uuid,
}

impl Cursor {
    /// Before every chirp, in `order`: the ends of the timestamps PostgreSQL and chrono
    /// share, and the smallest or largest id.
    fn start(order: SortOrder) -> Self {
        match order {
            SortOrder::Asc => Self {
                created_at: earliest_timestamp(),
                id: Uuid::nil(),
            },
            SortOrder::Desc => Self {
                created_at: DateTime::<Utc>::MAX_UTC,
                id: Uuid::max(),
            },
        }
    }

    fn after(chirp: &Chirp) -> Self {
        Self {
            created_at: chirp.created_at.into(),
            id: chirp.id,
        }
    }

    fn encode(&self) -> String {
        format!("{:016x}{}", self.created_at.timestamp_micros(), self.id.simple())
    }

    /// Any 48 hex characters (the pattern the spec publishes) is a cursor; a time outside
    /// what the database can compare is clamped to its ends rather than refused.
    fn parse(text: &str) -> Option<Self> {
        if text.len() != 48 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let micros = u64::from_str_radix(&text[..16], 16).ok()? as i64;
        let created_at = DateTime::from_timestamp_micros(micros)
            .unwrap_or(if micros < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
            .max(earliest_timestamp());
        Some(Self {
            created_at,
            id: Uuid::try_parse(&text[16..]).ok()?,
        })
    }
}

/// PostgreSQL's earliest timestamp, 4714-11-24 BC.
fn earliest_timestamp() -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(-4713, 11, 24).and_then(|d| d.and_hms_opt(0, 0, 0));
    day.expect("a valid date").and_utc()
}

struct Page {
    chirps: Vec<Chirp>,
    /// Where the next page starts, if there are more chirps.
    next: Option<Cursor>,
}

/// At most `limit` chirps after `after`; one more is read to learn whether others follow.
async fn page(db: &PgPool, author: Option<Uuid>, order: SortOrder, after: Cursor, limit: u32) -> sqlx::Result<Page> {
    let mut chirps: Vec<Chirp> = chirps_after(db, author, order, after, i64::from(limit) + 1)
        .try_collect()
        .await?;
    let next = (chirps.len() > limit as usize).then(|| {
        chirps.truncate(limit as usize);
        chirps.last().map(Cursor::after)
    });
    Ok(Page {
        chirps,
        next: next.flatten(),
    })
}

/// Every chirp after `after`, read a page at a time, each on a connection held only for
/// that page, so a slow client never pins a connection.
fn all_after(
    db: PgPool,
    author: Option<Uuid>,
    order: SortOrder,
    after: Cursor,
) -> impl Stream<Item = sqlx::Result<Chirp>> + Send + 'static {
    futures_util::stream::try_unfold(Some(after), move |after| {
        let db = db.clone();
        async move {
            let Some(after) = after else {
                return Ok::<_, sqlx::Error>(None);
            };
            let page = page(&db, author, order, after, STREAM_PAGE).await?;
            Ok(Some((
                futures_util::stream::iter(page.chirps.into_iter().map(Ok)),
                page.next,
            )))
        }
    })
    .try_flatten()
}

/// The four list statements: fixed rather than built at run time, so each is checked at
/// compile time and each gets a plan that walks its index from the cursor.
fn chirps_after<'e>(
    db: &'e PgPool,
    author: Option<Uuid>,
    order: SortOrder,
    after: Cursor,
    limit: i64,
) -> BoxStream<'e, sqlx::Result<Chirp>> {
    let Cursor { created_at, id } = after;
    match (author, order) {
        (None, SortOrder::Asc) => sqlx::query_as!(
            Chirp,
            r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
               from chirps where (created_at, id) > ($1, $2) order by created_at, id limit $3"#,
            created_at,
            id,
            limit
        )
        .fetch(db),
        (None, SortOrder::Desc) => sqlx::query_as!(
            Chirp,
            r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
               from chirps where (created_at, id) < ($1, $2) order by created_at desc, id desc limit $3"#,
            created_at,
            id,
            limit
        )
        .fetch(db),
        (Some(author), SortOrder::Asc) => sqlx::query_as!(
            Chirp,
            r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
               from chirps where user_id = $1 and (created_at, id) > ($2, $3) order by created_at, id limit $4"#,
            author,
            created_at,
            id,
            limit
        )
        .fetch(db),
        (Some(author), SortOrder::Desc) => sqlx::query_as!(
            Chirp,
            r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
               from chirps where user_id = $1 and (created_at, id) < ($2, $3)
               order by created_at desc, id desc limit $4"#,
            author,
            created_at,
            id,
            limit
        )
        .fetch(db),
    }
}

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
        let chirp = sqlx::query_as!(
            Chirp,
            r#"insert into chirps (body, user_id) values ($1, $2)
               returning id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id"#,
            body.as_str(),
            auth.0,
        )
        .fetch_one(&state.db)
        .await
        .map_err(on_constraint(
            "chirps_user_id_fkey",
            ApiError::Unauthorized("User no longer exists"),
        ))?;
        Ok(Posted::Created(JsonObject(chirp)))
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
        let (author, order) = (author_id.0, sort.0.unwrap_or_default());
        let after = match cursor.0.as_deref() {
            None => Cursor::start(order),
            Some(text) => Cursor::parse(text).ok_or(ApiError::BadRequest("Invalid cursor".into()))?,
        };
        let Some(limit) = limit.0 else {
            // The first page is read before the status is sent, so an outage is a 503;
            // the rest streams, one bounded page at a time.
            let first = page(&state.db, author, order, after, STREAM_PAGE).await?;
            let chirps = match first.next {
                // All of it in one page: a plain body with a length.
                None => JsonArray::from_items(&first.chirps),
                Some(next) => {
                    let rest = all_after(state.db.clone(), author, order, next);
                    JsonArray::streamed(futures_util::stream::iter(first.chirps.into_iter().map(Ok)).chain(rest))
                }
            };
            return Ok(ChirpList::Ok(chirps, None));
        };
        let page = page(&state.db, author, order, after, limit).await?;
        let link = page.next.map(|next| {
            let mut url = format!(
                "/api/chirps?limit={limit}&cursor={}&sort={}",
                next.encode(),
                order.as_str()
            );
            if let Some(author) = author {
                url.push_str(&format!("&author_id={author}"));
            }
            format!("<{url}>; rel=\"next\"")
        });
        Ok(ChirpList::Ok(JsonArray::from_items(&page.chirps), link))
    }

    /// Get a chirp
    #[oai(path = "/api/chirps/:chirpID", method = "get", operation_id = "getChirp")]
    async fn get(
        &self,
        state: Data<&AppState>,
        #[oai(name = "chirpID")] id: Path<Uuid>,
    ) -> Result<Found, GetChirpError> {
        let chirp = sqlx::query_as!(
            Chirp,
            r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
               from chirps where id = $1"#,
            id.0
        )
        .fetch_optional(&state.db)
        .await?
        .ok_or(CHIRP_NOT_FOUND)?;
        Ok(Found::Ok(JsonObject(chirp)))
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
        let deleted = sqlx::query!("delete from chirps where id = $1 and user_id = $2", id.0, auth.0)
            .execute(&state.db)
            .await?;
        if deleted.rows_affected() == 1 {
            return Ok(Deleted::NoContent);
        }
        // Nothing deleted: say whether the chirp is someone else's or does not exist.
        let exists = sqlx::query_scalar!(
            r#"select exists(select 1 from chirps where id = $1) as "exists!""#,
            id.0
        )
        .fetch_one(&state.db)
        .await?;
        Err(if exists {
            ApiError::Forbidden("You can only delete your own chirps")
        } else {
            CHIRP_NOT_FOUND
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
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
