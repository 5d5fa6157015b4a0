//! The paging every newer list shares: `limit` (1 to 100, default 20), an opaque `cursor`,
//! and a `Link: <...>; rel="next"` header naming the next page while more follow.

use crate::{
    error::ApiError,
    store::{Cursor, Order},
};

pub const DEFAULT_LIMIT: u32 = 20;

/// Where a page starts: after `cursor` if the client sent one, else at the start.
pub fn after(cursor: Option<&str>, order: Order) -> Result<Cursor, ApiError> {
    match cursor {
        None => Ok(Cursor::start(order)),
        Some(text) => Cursor::parse(text).ok_or(ApiError::BadRequest("Invalid cursor".into())),
    }
}

/// The `Link` to the page after `next` of `path` (which carries no query), with `limit`.
pub fn next_link(path: &str, limit: u32, next: Option<Cursor>) -> Option<String> {
    next.map(|next| format!("<{path}?limit={limit}&cursor={}>; rel=\"next\"", next.encode()))
}
