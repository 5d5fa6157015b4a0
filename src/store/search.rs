//! Search: chirps by their words (PostgreSQL full-text search on a GIN index, the `simple`
//! configuration: words as written, lowercased, in any language; no stemming, so `running`
//! does not find `run`), and people by the start of their handle or display name.
//!
//! The query's text is only ever words: `plainto_tsquery` reads no operators, so `&`, `|`,
//! `!`, `:*` or parentheses in it are punctuation, not syntax. Each search runs under a
//! statement timeout, so no query can keep the database busy for long whatever the planner
//! chooses.

use std::time::Duration;

use uuid::Uuid;

use super::{
    Chirp, Profile, Statements, Store,
    paging::{Cursor, Page},
};

/// The longest a search may run before it is cancelled (the client gets 503).
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(2);

impl Store {
    /// Chirps with every word of `words`, newest first, after `after`, but those of users
    /// `viewer` blocks or is blocked by.
    pub async fn search_chirps(
        &self,
        words: &str,
        after: Cursor,
        limit: u32,
        viewer: Option<Uuid>,
    ) -> sqlx::Result<Page<Chirp>> {
        if let Some(replica) = self.replica_for(viewer).await {
            match search_chirps(replica, words, after, limit, viewer).await {
                Ok(page) => return Ok(page),
                Err(err) if is_timeout(&err) => return Err(err),
                Err(err) => self.replica_failed(&err),
            }
        }
        search_chirps(self.primary(), words, after, limit, viewer).await
    }

    /// People whose handle or display name starts with `prefix` (any letter case), most
    /// followed first; not those `viewer` blocks or is blocked by, nor the suspended.
    pub async fn search_users(&self, prefix: &str, limit: u32, viewer: Option<Uuid>) -> sqlx::Result<Vec<Profile>> {
        let pattern = format!("{}%", like_escaped(prefix));
        let find = |db| {
            sqlx::query_as!(
                Profile,
                r#"select id, handle, display_name, bio, created_at, is_chirpy_red,
                          followers_count, following_count, chirps_count,
                          case when $3::uuid is null then null
                               else exists(select 1 from follows where follower_id = $3 and followee_id = users.id)
                          end as followed_by_me
                     from users
                    where (lower(handle) like lower($1) escape '\' or lower(display_name) like lower($1) escape '\')
                      and suspended_at is null and not blocked_between($3, id)
                    order by followers_count desc, id
                    limit $2"#,
                pattern,
                i64::from(limit),
                viewer,
            )
            .fetch_all(db)
        };
        if let Some(replica) = self.replica_for(viewer).await {
            match find(replica).await {
                Ok(found) => return Ok(found),
                Err(err) => self.replica_failed(&err),
            }
        }
        find(self.primary()).await
    }
}

async fn search_chirps(
    db: Statements<&sqlx::PgPool>,
    words: &str,
    after: Cursor,
    limit: u32,
    viewer: Option<Uuid>,
) -> sqlx::Result<Page<Chirp>> {
    let Cursor { created_at, id } = after;
    let (mut tx, named) = db.transaction().await?;
    // A plan made for each query's own words: a generic plan, which PostgreSQL adopts for a
    // prepared statement after a few runs, is the same for every word, and one made for a
    // common word (walk the newest chirps, keep the matches) scans the whole table for a
    // rare one until the timeout (measured in `just bench`: 503 for a word in 20 chirps).
    sqlx::query!(
        "select set_config('statement_timeout', $1, true) as timeout,
                set_config('plan_cache_mode', 'force_custom_plan', true) as plans",
        SEARCH_TIMEOUT.as_millis().to_string()
    )
    .fetch_one(Statements::new(&mut *tx, named))
    .await?;
    let chirps = sqlx::query_file_as!(
        Chirp,
        "src/store/sql/search_chirps.sql",
        words,
        created_at,
        id,
        i64::from(limit) + 1,
        viewer
    )
    .fetch_all(Statements::new(&mut *tx, named))
    .await?;
    tx.commit().await?;
    Ok(Page::of(chirps, limit, Chirp::cursor))
}

/// Whether a query was cancelled by its statement timeout.
pub fn is_timeout(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("57014"))
}

/// `text` matching only itself in a `like` pattern (with `\` as the escape).
fn like_escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_only_the_text() {
        assert_eq!(like_escaped("walt"), "walt");
        assert_eq!(like_escaped("100%_\\x"), "100\\%\\_\\\\x");
    }
}
