//! Who is calling: password hashing, access tokens (JWT), refresh tokens and the login
//! throttle. Plain services: the HTTP side of authentication (the security schemes) is
//! in `api::schemes`.

mod access;
mod passwords;
mod refresh;
mod throttle;

pub use access::{ACCESS_TOKEN_ISSUER, AccessTokens, INVALID_ACCESS_TOKEN, TokenError};
pub use passwords::{HashError, HashParams, HashStats, PasswordHasher};
pub use refresh::{REFRESH_TOKEN_TTL_DAYS, ROTATION_GRACE, RefreshToken, Successors};
pub use throttle::{LoginThrottle, ThrottleSettings};
