//! Who is calling: password hashing, access tokens (JWT), refresh tokens, and the
//! security schemes that turn an `Authorization` header into an authenticated principal.

mod access;
mod passwords;
mod refresh;
mod schemes;
mod throttle;

pub use access::{ACCESS_TOKEN_ISSUER, AccessTokens};
pub use passwords::{HashParams, PasswordHasher};
pub use refresh::{REFRESH_TOKEN_TTL_DAYS, RefreshToken};
pub use schemes::{AccessToken, PolkaKey, RefreshBearer};
pub use throttle::{LoginThrottle, ThrottleSettings};
