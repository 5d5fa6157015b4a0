//! `POST /api/users` (sign up), `GET /api/users/me`, `PUT /api/users` (change email and
//! password) and `PATCH /api/users/me` (change the profile).

use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object,
    payload::Json,
    types::{Example, MaybeUndefined},
};
use uuid::Uuid;

use super::{
    AccessToken, ApiTags, BioText, DisplayNameText, EmailText, HandleText, PasswordText, REFUSED_ACCESS_TOKEN, Text,
    Timestamp,
};
use crate::{
    domain::{Bio, DisplayName, Email, Handle, Password},
    error::{ApiError, api_errors},
    rate_limits::Kind,
    state::AppState,
    store::{self, CredentialsUpdate, ProfileChanges, ProfileUpdate, SignUp},
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
    /// The public name (`@walt`), as typed; null until the user sets one.
    #[oai(nullable)]
    pub handle: Option<String>,
    /// The name shown beside the handle; may be empty.
    pub display_name: String,
    /// May be empty.
    pub bio: String,
}

impl From<store::User> for User {
    fn from(user: store::User) -> Self {
        Self {
            id: user.id,
            created_at: user.created_at.into(),
            updated_at: user.updated_at.into(),
            email: user.email,
            is_chirpy_red: user.is_chirpy_red,
            handle: user.handle,
            display_name: user.display_name,
            bio: user.bio,
        }
    }
}

/// Who is signing up. (No `Debug`: it holds a plaintext password.)
#[derive(Object)]
#[oai(example)]
pub struct NewUser {
    /// An email address, unique regardless of letter case and Unicode composition (`é` as
    /// one character or two). Invisible characters (zero-width spaces, bidi controls, soft
    /// hyphens) are refused.
    pub email: Text<EmailText>,
    /// Any non-empty password.
    pub password: Text<PasswordText>,
    /// A handle to take now (it can be set later too): 3 to 30 letters, digits or
    /// underscores, unique regardless of letter case, and not a reserved name.
    #[oai(nullable)]
    pub handle: Option<Text<HandleText>>,
}

impl Example for NewUser {
    fn example() -> Self {
        Self {
            email: Text::example("walt@example.com"),
            password: Text::example("say my name"),
            handle: Some(Text::example("heisenberg")),
        }
    }
}

/// The profile fields to change; those left out stay as they are.
#[derive(Object)]
#[oai(example)]
struct ProfileEdit {
    /// 3 to 30 letters, digits or underscores, unique regardless of letter case, kept as
    /// typed; not one of the reserved names (`me`, `admin`, `api`, `app`, `docs`, ...: the
    /// operation's description lists them). `null` removes the handle.
    #[oai(nullable)]
    handle: MaybeUndefined<Text<HandleText>>,
    /// At most 50 characters, on one line; cleaned as chirps are (profanity masked; only
    /// whitespace or invisible characters: empty).
    display_name: Option<Text<DisplayNameText>>,
    /// At most 160 characters; line breaks allowed; cleaned as chirps are.
    bio: Option<Text<BioText>>,
}

impl Example for ProfileEdit {
    fn example() -> Self {
        Self {
            handle: MaybeUndefined::Value(Text::example("heisenberg")),
            display_name: Some(Text::example("Walter White")),
            bio: Some(Text::example("Chemistry teacher.")),
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
const HANDLE_TAKEN: ApiError = ApiError::Conflict("Handle is already taken");

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
    throttled enum CreateUserError {
        /// Invalid email, empty password, a malformed or reserved handle, or a malformed body.
        BadRequest = 400,
        /// The email is already taken, in any letter case or composition, or the handle is,
        /// in any letter case.
        Conflict = 409,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

#[derive(ApiResponse)]
enum UpdatedProfile {
    /// The user with the new profile.
    #[oai(status = 200)]
    Ok(Json<User>),
}

api_errors! {
    throttled enum UpdateProfileError {
        /// A malformed or reserved handle, a display name or bio too long or with control
        /// characters, or a malformed body.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The handle is taken by another user, in any letter case.
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
    throttled enum MeError {
        /// Missing, invalid or expired access token, or its user no longer exists.
        Unauthorized = 401,
    }
}

api_errors! {
    throttled enum UpdateUserError {
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
        /// Creates a user with an email (unique regardless of letter case and Unicode composition),
        /// a password and, optionally, a handle (see `PATCH /api/users/me` for its rules).
        #[oai(path = "/api/users", method = "post", operation_id = "createUser")]
        async fn create(&self, state: Data<&AppState>, body: Json<NewUser>) -> Result<CreatedUser, CreateUserError> {
            // Before any Argon2 work: a refused sign-up costs nothing.
            state.limiter.check(Kind::Signup, None).await?;
            let NewUser { email, password, handle } = body.0;
            let email = Email::parse(&email.0)?;
            let handle = handle.map(|handle| Handle::parse(&handle.0)).transpose()?;
            let password = Password::parse(password.0)?;
            let hash = state.passwords.hash(password).await.map_err(ApiError::Internal)?;
            let user = match state.store.create_user(&email, &hash, handle.as_ref()).await? {
                SignUp::Created(user) => user,
                SignUp::EmailTaken => return Err(EMAIL_TAKEN.into()),
                SignUp::HandleTaken => return Err(HANDLE_TAKEN.into()),
            };
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

        /// Change the profile
        ///
        /// Changes any of the caller's handle, display name and bio; fields left out stay as they
        /// are, and `updated_at` moves only if something changed. A handle is 3 to 30 ASCII letters,
        /// digits or underscores, unique regardless of letter case and kept as typed; these are
        /// reserved, in any letter case: `about`, `admin`, `administrator`, `api`, `app`, `assets`, `chirpy`,
        /// `docs`, `everyone`, `healthz`, `help`, `home`, `login`, `logout`, `me`, `metrics`, `mod`,
        /// `moderator`, `notifications`, `null`, `official`, `openapi`, `polka`, `root`, `search`,
        /// `security`, `settings`, `signup`, `staff`, `static`, `support`, `system`, `undefined`, `www`.
        #[oai(path = "/api/users/me", method = "patch", operation_id = "updateProfile")]
        async fn update_profile(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            body: Json<ProfileEdit>,
        ) -> Result<UpdatedProfile, UpdateProfileError> {
            state.limiter.check(Kind::Account, Some(auth.0)).await?;
            let ProfileEdit { handle, display_name, bio } = body.0;
            let changes = ProfileChanges {
                handle: match handle {
                    MaybeUndefined::Undefined => None,
                    MaybeUndefined::Null => Some(None),
                    MaybeUndefined::Value(handle) => Some(Some(Handle::parse(&handle.0)?)),
                },
                display_name: display_name.map(|name| DisplayName::parse(&name.0)).transpose()?,
                bio: bio.map(|bio| Bio::parse(&bio.0)).transpose()?,
            };
            match state.store.update_profile(auth.0, &changes).await? {
                ProfileUpdate::Updated(user) => Ok(UpdatedProfile::Ok(Json(user.into()))),
                ProfileUpdate::HandleTaken => Err(HANDLE_TAKEN.into()),
                ProfileUpdate::NoSuchUser => Err(REFUSED_ACCESS_TOKEN.into()),
            }
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
            state.limiter.check(Kind::Account, Some(auth.0)).await?;
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
