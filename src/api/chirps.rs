//! Posting, listing, reading and deleting chirps.

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};
use uuid::Uuid;

use super::{ApiTags, ChirpText, Text, Timestamp};
use crate::{
    auth::AccessToken,
    domain::ChirpBody,
    error::{ApiError, api_errors, on_constraint},
    state::AppState,
};

#[derive(Debug, Clone, Object)]
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

#[derive(ApiResponse)]
enum Posted {
    /// The chirp as stored, profanity replaced.
    #[oai(status = 201)]
    Created(Json<Chirp>),
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
        /// Malformed `author_id` or `sort`.
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
        Ok(Posted::Created(Json(chirp)))
    }

    /// List chirps
    ///
    /// All chirps, oldest first (ties broken by id), optionally by one author and newest first.
    #[oai(path = "/api/chirps", method = "get", operation_id = "listChirps")]
    async fn list(
        &self,
        state: Data<&AppState>,
        /// Only chirps by this user.
        author_id: Query<Option<Uuid>>,
        /// `asc` (default) or `desc`, by creation time.
        sort: Query<Option<SortOrder>>,
    ) -> Result<Json<Vec<Chirp>>, ListChirpsError> {
        let db = &state.db;
        // Four fixed statements rather than one built at run time: each is checked at
        // compile time and each gets a plan that uses its index.
        let chirps = match (author_id.0, sort.0.unwrap_or_default()) {
            (None, SortOrder::Asc) => {
                sqlx::query_as!(
                    Chirp,
                    r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
                   from chirps order by created_at, id"#
                )
                .fetch_all(db)
                .await?
            }
            (None, SortOrder::Desc) => {
                sqlx::query_as!(
                    Chirp,
                    r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
                   from chirps order by created_at desc, id desc"#
                )
                .fetch_all(db)
                .await?
            }
            (Some(author), SortOrder::Asc) => {
                sqlx::query_as!(
                    Chirp,
                    r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
                   from chirps where user_id = $1 order by created_at, id"#,
                    author
                )
                .fetch_all(db)
                .await?
            }
            (Some(author), SortOrder::Desc) => {
                sqlx::query_as!(
                    Chirp,
                    r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
                   from chirps where user_id = $1 order by created_at desc, id desc"#,
                    author
                )
                .fetch_all(db)
                .await?
            }
        };
        Ok(Json(chirps))
    }

    /// Get a chirp
    #[oai(path = "/api/chirps/:chirpID", method = "get", operation_id = "getChirp")]
    async fn get(
        &self,
        state: Data<&AppState>,
        #[oai(name = "chirpID")] id: Path<Uuid>,
    ) -> Result<Json<Chirp>, GetChirpError> {
        let chirp = sqlx::query_as!(
            Chirp,
            r#"select id, created_at as "created_at: _", updated_at as "updated_at: _", body, user_id
               from chirps where id = $1"#,
            id.0
        )
        .fetch_optional(&state.db)
        .await?
        .ok_or(CHIRP_NOT_FOUND)?;
        Ok(Json(chirp))
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
