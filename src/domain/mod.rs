//! Values that are valid by construction: handlers and queries only ever see these.

mod chirp_body;
mod email;
mod handle;
mod idempotency_key;
mod password;
mod profile_text;
mod unicode;

pub use chirp_body::{CHIRP_MAX_CHARS, ChirpBody, is_blank};
pub use email::{Email, email_key};
pub use handle::Handle;
pub use idempotency_key::IdempotencyKey;
pub use password::Password;
pub use profile_text::{Bio, DisplayName};

/// Why a client-supplied value was refused; the message is safe to show the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);
