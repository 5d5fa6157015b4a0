//! `POST /api/users` (sign up) and `PUT /api/users` (change email and password).

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, payload::Json, types::Example};
use uuid::Uuid;

use super::{AccessToken, ApiTags, EmailText, PasswordText, REFUSED_ACCESS_TOKEN, Text, Timestamp};
use crate::{
    domain::{Email, Password},
    error::{ApiError, api_errors},
    state::AppState,
    store::{self, CredentialsUpdate},
};

/// A user as every client sees it: never a password or a hash.
#[derive(Debug, Clone, Object)]
pub struct User {
    pub id: Uuid,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// As the user typed it, in Unicode's composed form (NFC); unique regardless of letter
    /// case and composition.
    pub email: String,
    /// Whether Polka reported that this user paid for Chirpy Red.
    pub is_chirpy_red: bool,
}

impl From<store::User> for User {
    fn from(user: store::User) -> Self {
        Self {
            id: user.id,
            created_at: user.created_at.into(),
            updated_at: user.updated_at.into(),
            email: user.email,
            is_chirpy_red: user.is_chirpy_red,
        }
    }
}

/// An email and a password. (No `Debug`: it holds a plaintext password.)
#[derive(Object)]
#[oai(example)]
pub struct Credentials {
    /// An email address, unique regardless of letter case and Unicode composition (`é` as
    /// one character or two). Invisible characters (zero-width spaces, bidi controls, soft
    /// hyphens) are refused.
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

#[derive(ApiResponse)]
enum UpdatedUser {
    /// The user with the new email; `updated_at` moved.
    #[oai(status = 200)]
    Ok(Json<User>),
}

api_errors! {
    enum CreateUserError {
        /// Invalid email, empty password, or a malformed body.
        BadRequest = 400,
        /// The email is already taken, in any letter case or composition.
        Conflict = 409,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

#[derive(ApiResponse)]
enum Me {
    /// The user the access token names.
    #[oai(status = 200)]
    Ok(Json<User>),
}

api_errors! {
    enum MeError {
        /// Missing, invalid or expired access token, or its user no longer exists.
        Unauthorized = 401,
    }
}

api_errors! {
    enum UpdateUserError {
        /// Invalid email, empty password, or a malformed body.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The email is already taken by another user, in any letter case or composition.
        Conflict = 409,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

operations! {
    "ApiTags::Users",
    impl UsersApi {
        /// Sign up
        ///
        /// Creates a user with an email (unique regardless of letter case and Unicode composition)
        /// and a password.
        #[oai(path = "/api/users", method = "post", operation_id = "createUser")]
        async fn create(&self, state: Data<&AppState>, body: Json<Credentials>) -> Result<CreatedUser, CreateUserError> {
            let email = Email::parse(&body.email.0)?;
            let password = Password::parse(body.0.password.0)?;
            let hash = state.passwords.hash(password).await.map_err(ApiError::Internal)?;
            let user = state.store.create_user(&email, &hash).await?.ok_or(EMAIL_TAKEN)?;
            tracing::info!(user_id = %user.id, "user created");
            Ok(CreatedUser::Created(Json(user.into())))
        }

        /// Who am I
        ///
        /// The caller's own user: who is logged in, and whether they are Chirpy Red now.
        #[oai(path = "/api/users/me", method = "get", operation_id = "getMe")]
        async fn me(&self, state: Data<&AppState>, auth: AccessToken) -> Result<Me, MeError> {
            let user = state.store.user(auth.0).await?;
            let user = user.ok_or(REFUSED_ACCESS_TOKEN)?;
            Ok(Me::Ok(Json(user.into())))
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
        ) -> Result<UpdatedUser, UpdateUserError> {
            let email = Email::parse(&body.email.0)?;
            let password = Password::parse(body.0.password.0)?;
            let hash = state.passwords.hash(password).await.map_err(ApiError::Internal)?;
            let user = match state.store.update_credentials(auth.0, &email, &hash).await? {
                CredentialsUpdate::Updated(user) => user,
                CredentialsUpdate::EmailTaken => return Err(EMAIL_TAKEN.into()),
                CredentialsUpdate::NoSuchUser => return Err(REFUSED_ACCESS_TOKEN.into()),
            };
            tracing::info!(user_id = %user.id, "credentials changed, refresh tokens revoked");
            Ok(UpdatedUser::Ok(Json(user.into())))
        }
    }
}
