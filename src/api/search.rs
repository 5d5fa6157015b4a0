//! Search: `GET /api/search/chirps` (full-text, newest first) and `GET /api/search/users`
//! (by the start of a handle or display name). How the words are read is in `store::search`.

use poem::{Request, web::Data};
use poem_openapi::{ApiResponse, param::Query, payload::Json};

use super::{
    ApiTags, JsonArray, Viewer,
    chirps::{Chirp, render_page},
    paging::{DEFAULT_LIMIT, after},
    profiles::Profile,
    text::{SearchText, Text},
};
use crate::{
    domain::is_blank,
    error::{ApiError, api_errors},
    state::AppState,
    store::{Order, search_timed_out},
};

#[derive(ApiResponse)]
enum FoundChirps {
    /// The chirps with every word, newest first.
    #[oai(status = 200)]
    Ok(
        JsonArray<Chirp>,
        /// When more follow: `</api/search/chirps?...&cursor=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

#[derive(ApiResponse)]
enum FoundUsers {
    /// The profiles, most followed first.
    #[oai(status = 200)]
    Ok(Json<Vec<Profile>>),
}

api_errors! {
    throttled enum SearchError {
        /// `q` is missing, blank, longer than 200 characters or holds a NUL; or a malformed
        /// `limit` (or, searching chirps, `cursor`).
        BadRequest = 400,
        /// An access token was sent but is invalid or expired.
        Unauthorized = 401,
    }
}

/// The query's text, checked as the spec's pattern says: something to search for, and not
/// too much of it. (No cap on words: 200 characters hold at most 100, and every search runs
/// under a timeout.)
fn query_text(q: &str) -> Result<&str, ApiError> {
    if is_blank(q) {
        return Err(ApiError::BadRequest("Search for something: q is empty".into()));
    }
    if q.chars().count() > SearchText::MAX_CHARS {
        return Err(ApiError::BadRequest("q is too long: at most 200 characters".into()));
    }
    if q.contains('\0') {
        return Err(ApiError::BadRequest("q contains a NUL character".into()));
    }
    Ok(q.trim())
}

fn searched(err: sqlx::Error) -> ApiError {
    if search_timed_out(&err) {
        return ApiError::Unavailable("the search took too long; try more specific words".into());
    }
    err.into()
}

pub struct SearchApi;

operations! {
    "ApiTags::Search",
    impl SearchApi {
        /// Search chirps
        ///
        /// Chirps that contain every word of `q`, newest first, a page at a time: at most `limit`
        /// (20 by default), and while more follow, a `Link` header (`<...>; rel="next"`). Words are
        /// matched as written, in any letter case, with no stemming (`run` does not find
        /// `running`), in any language; `q` is read as plain words (quotes and operators such as
        /// `&`, `|`, `!` or `:*` are punctuation). Profanity is stored masked (`****`), so searching
        /// for a masked word finds nothing. A search that would take longer than 2 seconds is
        /// cancelled: 503.
        #[oai(path = "/api/search/chirps", method = "get", operation_id = "searchChirps")]
        async fn chirps(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            /// The words to find (at most 200 characters).
            q: Query<Text<SearchText>>,
            /// At most this many chirps (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Continue after the previous page: the `cursor` from its `Link` header.
            #[oai(validator(pattern = "^[0-9a-fA-F]{48}$"))]
            cursor: Query<Option<String>>,
        ) -> Result<FoundChirps, SearchError> {
            let viewer = viewer.id(request)?;
            let words = query_text(&q.0.0)?;
            let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
            let after = after(cursor.0.as_deref(), Order::Desc)?;
            let page = state.store.search_chirps(words, after, limit, viewer).await.map_err(searched)?;
            let link = page.next.map(|next| {
                let query: String = url_encoded(words);
                format!("</api/search/chirps?q={query}&limit={limit}&cursor={}>; rel=\"next\"", next.encode())
            });
            let page = render_page(page.items, None);
            Ok(FoundChirps::Ok(JsonArray::prerendered(page.json.clone()), link))
        }

        /// Search people
        ///
        /// Users whose handle or display name starts with `q`, in any letter case, most followed
        /// first; at most `limit` (20 by default).
        #[oai(path = "/api/search/users", method = "get", operation_id = "searchUsers")]
        async fn users(
            &self,
            state: Data<&AppState>,
            request: &Request,
            viewer: Viewer,
            /// The start of a handle or display name (at most 200 characters); a leading `@` is
            /// ignored, and `q` that is only `@` finds no one.
            q: Query<Text<SearchText>>,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
        ) -> Result<FoundUsers, SearchError> {
            let viewer = viewer.id(request)?;
            let prefix = query_text(&q.0.0)?.trim_start_matches('@');
            if is_blank(prefix) {
                return Ok(FoundUsers::Ok(Json(Vec::new())));
            }
            let found = state
                .store
                .search_users(prefix, limit.0.unwrap_or(DEFAULT_LIMIT), viewer)
                .await
                .map_err(searched)?;
            Ok(FoundUsers::Ok(Json(found.into_iter().map(Profile::from).collect())))
        }
    }
}

/// `text` as a URL query value.
fn url_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_words_within_bounds() {
        assert_eq!(query_text("  rust  ").unwrap(), "rust");
        for bad in ["", "   ", "\u{200b}", &"x".repeat(201), "a\0b"] {
            assert!(query_text(bad).is_err(), "{bad:?}");
        }
        assert!(query_text(&"a ".repeat(100)).is_ok(), "as many words as fit");
        assert!(query_text(&"é".repeat(200)).is_ok(), "characters, not bytes");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(url_encoded("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
