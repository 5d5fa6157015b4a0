//! Notifications (`GET /api/notifications`, the unread count) and the read marker that a
//! user's devices share (`GET`/`PUT /api/markers/notifications`). They are written by the
//! database in the transaction of what causes them (see the migration) and pushed on the
//! live home feed as `notification` events.

use poem::web::Data;
use poem_openapi::{ApiResponse, Enum, Object, param::Query, payload::Json, types::Example};
use uuid::Uuid;

use super::{AccessToken, ApiTags, Text, Timestamp};
use crate::{
    error::{ApiError, api_errors},
    state::AppState,
    store,
};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
enum NotificationType {
    /// Someone followed you.
    Follow,
    /// Someone replied to your chirp (`chirp_id`: the reply).
    Reply,
    /// Someone mentioned your `@handle` (`chirp_id`: their chirp).
    Mention,
    /// People liked your chirp (`chirp_id`), grouped: one notification per chirp.
    Like,
}

impl NotificationType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Follow => "follow",
            Self::Reply => "reply",
            Self::Mention => "mention",
            Self::Like => "like",
        }
    }
}

/// A notification.
#[derive(Object)]
struct Notification {
    /// Its place in your list, as a string of digits: later ones have larger ids. A like
    /// notification takes a new id when more people like the chirp, and is unread again.
    id: String,
    /// `follow`, `reply`, `mention` or `like`.
    #[oai(rename = "type")]
    kind: String,
    /// Who did it (for likes: the latest to like).
    actor_id: Uuid,
    /// How many did it (likes of one chirp; 1 for the others).
    actors_count: i32,
    /// The reply, the mentioning chirp, or the chirp liked; null for a follow.
    #[oai(nullable)]
    chirp_id: Option<Uuid>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<store::Notification> for Notification {
    fn from(n: store::Notification) -> Self {
        Self {
            id: n.seq.to_string(),
            kind: n.kind,
            actor_id: n.actor_id,
            actors_count: n.actors,
            chirp_id: n.chirp_id,
            created_at: n.created_at.into(),
            updated_at: n.updated_at.into(),
        }
    }
}

/// How many notifications are unread.
#[derive(Object)]
struct Unread {
    count: i64,
}

/// Where you have read up to, on every device.
#[derive(Object)]
struct Marker {
    /// The id of the last notification read ("0": none).
    last_read_id: String,
    /// When it last moved; null if never.
    #[oai(nullable)]
    updated_at: Option<Timestamp>,
}

impl From<store::Marker> for Marker {
    fn from(marker: store::Marker) -> Self {
        Self {
            last_read_id: marker.last_read.to_string(),
            updated_at: marker.updated_at.map(Into::into),
        }
    }
}

/// The new marker.
#[derive(Object)]
#[oai(example)]
struct NewMarker {
    /// The id of the last notification read. A marker never moves back.
    #[oai(validator(pattern = "^[0-9]{1,18}$"))]
    last_read_id: Text,
}

impl Example for NewMarker {
    fn example() -> Self {
        Self {
            last_read_id: Text::example("42"),
        }
    }
}

#[derive(ApiResponse)]
enum Listed {
    /// Newest first.
    #[oai(status = 200)]
    Ok(
        Json<Vec<Notification>>,
        /// When more follow: `</api/notifications?limit=...&max_id=...>; rel="next"`.
        #[oai(header = "Link")]
        Option<String>,
    ),
}

#[derive(ApiResponse)]
enum Counted {
    /// The count of notifications after the read marker.
    #[oai(status = 200)]
    Ok(Json<Unread>),
}

#[derive(ApiResponse)]
enum Marked {
    /// The marker.
    #[oai(status = 200)]
    Ok(Json<Marker>),
}

api_errors! {
    throttled enum NotificationsError {
        /// A malformed `limit`, `max_id`, `types[]` or body.
        BadRequest = 400,
        /// Missing, invalid or expired access token.
        Unauthorized = 401,
        /// The body is larger than the server accepts.
        PayloadTooLarge = 413,
    }
}

const DEFAULT_LIMIT: u32 = 20;

pub struct NotificationsApi;

operations! {
    "ApiTags::Notifications",
    impl NotificationsApi {
        /// List my notifications
        ///
        /// Newest first, of the `types[]` given (all without), a page at a time: at most `limit` (20
        /// by default) with ids below `max_id`, and while more follow, a `Link` header to the next
        /// page. Blocked and muted accounts never notify.
        #[oai(path = "/api/notifications", method = "get", operation_id = "listNotifications")]
        async fn list(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            /// Only these types.
            #[oai(name = "types[]", explode = true)]
            types: Query<Option<Vec<NotificationType>>>,
            /// At most this many (1 to 100; 20 by default).
            #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
            limit: Query<Option<u32>>,
            /// Only notifications with ids below this one: the next page.
            #[oai(validator(pattern = "^[0-9]{1,18}$"))]
            max_id: Query<Option<String>>,
        ) -> Result<Listed, NotificationsError> {
            let limit = limit.0.unwrap_or(DEFAULT_LIMIT);
            let before = match max_id.0.as_deref() {
                None => i64::MAX,
                Some(id) => id.parse().map_err(|_| ApiError::BadRequest("Invalid max_id".into()))?,
            };
            let kinds: Option<Vec<String>> =
                types.0.map(|types| types.into_iter().map(|kind| kind.as_str().to_owned()).collect());
            let (notifications, more) = state.store.notifications(auth.0, kinds.as_deref(), before, limit).await?;
            let link = notifications.last().filter(|_| more).map(|last| {
                let types: String = kinds
                    .iter()
                    .flatten()
                    .map(|kind| format!("&types%5B%5D={kind}"))
                    .collect();
                format!("</api/notifications?limit={limit}&max_id={}{types}>; rel=\"next\"", last.seq)
            });
            Ok(Listed::Ok(Json(notifications.into_iter().map(Notification::from).collect()), link))
        }

        /// Count my unread notifications
        ///
        /// Those after the read marker.
        #[oai(path = "/api/notifications/unread_count", method = "get", operation_id = "countUnreadNotifications")]
        async fn unread(&self, state: Data<&AppState>, auth: AccessToken) -> Result<Counted, NotificationsError> {
            let count = state.store.unread_notifications(auth.0).await?;
            Ok(Counted::Ok(Json(Unread { count })))
        }

        /// Get my read marker
        #[oai(path = "/api/markers/notifications", method = "get", operation_id = "getNotificationsMarker")]
        async fn marker(&self, state: Data<&AppState>, auth: AccessToken) -> Result<Marked, NotificationsError> {
            Ok(Marked::Ok(Json(state.store.marker(auth.0).await?.into())))
        }

        /// Move my read marker
        ///
        /// Says which notification the caller has read up to, for all their devices. The marker
        /// only moves forward: an older id leaves it where it is.
        #[oai(path = "/api/markers/notifications", method = "put", operation_id = "setNotificationsMarker")]
        async fn mark(
            &self,
            state: Data<&AppState>,
            auth: AccessToken,
            body: Json<NewMarker>,
        ) -> Result<Marked, NotificationsError> {
            let last_read: i64 = body
                .0
                .last_read_id
                .0
                .parse()
                .map_err(|_| ApiError::BadRequest("Invalid last_read_id".into()))?;
            Ok(Marked::Ok(Json(state.store.mark_read(auth.0, last_read).await?.into())))
        }
    }
}
