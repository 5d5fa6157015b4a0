//! `POST /api/users` (sign up) and `PUT /api/users` (change email and password).

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json, types::Example};
use uuid::Uuid;

use super::{ApiTags, EmailText, PasswordText, Text, Timestamp};
use crate::{
    auth::AccessToken,
    domain::{Email, Password},
    error::{ApiError, api_errors, on_constraint},
    state::AppState,
};

/// A user as every client sees it: never a password or a hash.
#[derive(Debug, Clone, Object)]
pub struct User {
    pub id: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// As the user typed it; unique regardless of letter case.
    pub email: String,
    /// Whether Polka reported that this user paid for Chirpy Red.
    pub is_chirpy_red: bool,
}

/// An email and a password. (No `Debug`: it holds a plaintext password.)
#[derive(Object)]
#[oai(example)]
pub struct Credentials {
    /// An email address, unique regardless of letter case.
    pub email: Text<EmailText>,
    /// Any non-empty password.
    pub password: Text<PasswordText>,
}

impl Example for Credentials {
    fn example() -> Self {
        Self {
            email: Text::example("walt@example.com"),
            password: Text::example("say my name"),
        }
    }
}

const EMAIL_TAKEN: ApiError = ApiError::Conflict("Email is already taken");

pub struct UsersApi;

#[derive(ApiResponse)]
enum CreatedUser {
    /// The new user.
    #[oai(status = 201)]
    Created(Json<User>),
}

api_errors! {
    enum CreateUserError {
        /// Invalid email, empty password, or a malformed body.
        BadRequest = 400,
        /// The email is already taken, in any letter case.
        Conflict = 409,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

api_errors! {
    enum UpdateUserError {
        /// Invalid email, empty password, or a malformed body.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The email is already taken by another user, in any letter case.
        Conflict = 409,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Sign up
    ///
    /// Creates a user with an email (unique regardless of letter case) and a password.
    #[oai(path = "/api/users", method = "post", operation_id = "createUser")]
    async fn create(&self, state: Data<&AppState>, body: Json<Credentials>) -> Result<CreatedUser, CreateUserError> {
        let email = Email::parse(&body.email.0)?;
        let hash = state.passwords.hash(Password::parse(body.0.password.0)?).await?;
        let user = sqlx::query_as!(
            User,
            r#"insert into users (email, hashed_password) values ($1, $2)
               returning id, created_at as "created_at: _", updated_at as "updated_at: _", email, is_chirpy_red"#,
            email.as_str(),
            hash,
        )
        .fetch_one(&state.db)
        .await
        .map_err(on_constraint("users_email_lower_key", EMAIL_TAKEN))?;
        tracing::info!(user_id = %user.id, "user created");
        Ok(CreatedUser::Created(Json(user)))
    }

    /// Change email and password
    ///
    /// Replaces the caller's email and password, and revokes all of their refresh tokens:
    /// other sessions must log in again.
    #[oai(path = "/api/users", method = "put", operation_id = "updateUser")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: AccessToken,
        body: Json<Credentials>,
    ) -> Result<Json<User>, UpdateUserError> {
        let email = Email::parse(&body.email.0)?;
        let hash = state.passwords.hash(Password::parse(body.0.password.0)?).await?;
        // Both changes or neither: a new password must never leave old sessions alive.
        let mut tx = state.db.begin().await?;
        let user = sqlx::query_as!(
            User,
            r#"update users set email = $2, hashed_password = $3, updated_at = now() where id = $1
               returning id, created_at as "created_at: _", updated_at as "updated_at: _", email, is_chirpy_red"#,
            auth.0,
            email.as_str(),
            hash,
        )
        .fetch_optional(&mut *tx)
        .await
        .map_err(on_constraint("users_email_lower_key", EMAIL_TAKEN))?
        .ok_or(ApiError::Unauthorized("User no longer exists"))?;
        sqlx::query!(
            "update refresh_tokens set revoked_at = now(), updated_at = now()
             where user_id = $1 and revoked_at is null",
            auth.0,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = %user.id, "credentials changed, refresh tokens revoked");
        Ok(Json(user))
    }
}
