//! `GET /api/chirps/stream`: the live feed as Server-Sent Events (the machinery is in
//! `feed`).

use std::{borrow::Cow, marker::PhantomData, sync::Arc};

use futures_util::{StreamExt, stream::BoxStream};
use poem::web::{Data, sse::Event as SseEvent};
use poem_openapi::{
    ApiResponse, Object, Union,
    param::{Header, Query},
    payload::EventStream,
    registry::{MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};
use uuid::Uuid;

use super::{ApiTags, chirps::Chirp};
use crate::{
    error::{ApiError, api_errors},
    feed::{Audience, FeedEvent, Refused},
    state::AppState,
    store::{Change, Event, Position},
};

/// `chirp.deleted`'s data.
#[derive(Object, serde::Serialize)]
pub(super) struct DeletedChirp {
    /// The chirp that was deleted.
    id: Uuid,
}

/// `follow.created` and `follow.deleted`'s data (home feeds only: the reader's own).
#[derive(Object, serde::Serialize)]
pub(super) struct FollowEdge {
    /// The reader.
    follower_id: Uuid,
    /// Whom they started or stopped following.
    followee_id: Uuid,
}

/// `notification`'s data (home feeds only: the reader's own); read the whole notification
/// with `GET /api/notifications`.
#[derive(Object, serde::Serialize)]
pub(super) struct NotificationEvent {
    /// The notification's `id`: its place in the reader's list.
    id: String,
    /// `follow`, `reply`, `mention` or `like`.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    kind: String,
    /// Who did it (for likes: the latest to like).
    actor_id: Uuid,
    /// The reply, the mentioning chirp, or the chirp liked; null for a follow.
    #[oai(nullable)]
    chirp_id: Option<Uuid>,
}

/// An event's data: the chirp posted, or the id of the chirp deleted. (`anyOf`: a chirp
/// has an `id` too, so it matches both; the event's name says which it is.)
#[derive(Union)]
#[allow(dead_code)] // Only its schema is used: the data is written by `render`.
pub(super) enum ChirpEventData {
    Created(Chirp),
    Deleted(DeletedChirp),
}

/// A home feed event's data: a chirp posted, the id of one deleted, or a follow of the
/// reader's begun or ended (`anyOf`, as `ChirpEventData`).
#[derive(Union)]
#[allow(dead_code)] // Only its schema is used: the data is written by `render`.
pub(super) enum HomeEventData {
    Created(Chirp),
    Deleted(DeletedChirp),
    Follow(FollowEdge),
    Notification(NotificationEvent),
}

/// One event of a stream whose data the spec describes as `D`, rendered once for every
/// reader (see `feed`).
pub struct StreamItem<D>(Arc<FeedEvent>, PhantomData<fn() -> D>);

impl<D: Type> Type for StreamItem<D> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        D::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        D::schema_ref()
    }

    fn register(registry: &mut Registry) {
        D::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<D: Type> ToJSON for StreamItem<D> {
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.0.json).ok()
    }
}

/// The JSON a reader gets for an event: the chirp as posted, its id, or the follow.
pub fn render(event: &Event) -> String {
    match &event.change {
        Change::Posted(chirp) => serde_json::to_string(&Chirp::from(chirp.clone())),
        Change::Deleted { chirp_id, .. } => serde_json::to_string(&DeletedChirp { id: *chirp_id }),
        Change::Followed { followee } | Change::Unfollowed { followee } => serde_json::to_string(&FollowEdge {
            follower_id: event.user_id,
            followee_id: *followee,
        }),
        Change::Notified {
            seq,
            kind,
            actor,
            chirp,
        } => serde_json::to_string(&NotificationEvent {
            id: seq.to_string(),
            kind: kind.clone(),
            actor_id: *actor,
            chirp_id: *chirp,
        }),
    }
    .expect("events always serialize")
}

/// The SSE `event:` name of an event.
pub(super) fn event_name(change: &Change) -> &'static str {
    match change {
        Change::Posted(_) => "chirp.created",
        Change::Deleted { .. } => "chirp.deleted",
        Change::Followed { .. } => "follow.created",
        Change::Unfollowed { .. } => "follow.deleted",
        Change::Notified { .. } => "notification",
    }
}

/// The events as SSE, one `id:` each, with heartbeats.
pub(super) fn sse<D: Type>(
    events: BoxStream<'static, Arc<FeedEvent>>,
    heartbeat: std::time::Duration,
) -> EventStream<BoxStream<'static, StreamItem<D>>> {
    EventStream::new(events.map(|event| StreamItem(event, PhantomData)).boxed())
        .keep_alive(heartbeat)
        .to_event(|StreamItem(event, _)| {
            SseEvent::message(event.json.clone())
                .event_type(event_name(&event.event.change))
                .id(event.position.encode())
        })
}

/// The position after which a stream resumes, from `Last-Event-ID`. Browsers send an empty
/// one to say "none".
///
/// Read raw from the request: poem-openapi takes a header value that is not visible ASCII for
/// no header at all, and such a value must be refused as the malformed id it is.
pub(super) fn resume_after(request: &poem::Request) -> Result<Option<Position>, ApiError> {
    const INVALID: &str = "Invalid Last-Event-ID: must be two numbers joined by `-`, as the events' ids";
    let last_event_id = match request.headers().get("last-event-id") {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| ApiError::BadRequest(INVALID.into()))?),
    };
    // (`str::is_empty` by name: poem-openapi's `Type::is_empty`, in scope here, would answer
    // for `&&str` first, always `false`.)
    match last_event_id.map(str::trim).filter(|id| !str::is_empty(id)) {
        None => Ok(None),
        Some(id) => Position::parse(id)
            .map(Some)
            .ok_or(ApiError::BadRequest(INVALID.into())),
    }
}

/// Why a stream could not open, as the client hears it.
pub(super) fn refused(refused: Refused) -> ApiError {
    ApiError::Unavailable(match refused {
        Refused::Full => "the most streams this server keeps open are open".into(),
        Refused::Closing => "the server is shutting down".into(),
        Refused::Unavailable => "the stream cannot start: the database is unreachable".into(),
    })
}

#[derive(ApiResponse)]
enum ChirpStream {
    /// Server-Sent Events, as they happen: `chirp.created` (data: the `Chirp`) and
    /// `chirp.deleted` (data: `{"id": ...}`). Every event has an `id:`; reconnect with it in
    /// `Last-Event-ID` to get every event since, none twice. A comment line comes every
    /// few seconds when nothing else does, so proxies keep the connection open.
    #[oai(status = 200)]
    Events(EventStream<BoxStream<'static, StreamItem<ChirpEventData>>>),
}

api_errors! {
    throttled enum StreamError {
        /// Malformed `author_id` or `Last-Event-ID`.
        BadRequest = 400,
    }
}

pub struct StreamApi;

operations! {
    "ApiTags::Chirps",
    impl StreamApi {
        /// Follow chirps live
        ///
        /// Streams every chirp posted and deleted from now on (or since `Last-Event-ID`),
        /// optionally by one author. Too many open streams, or a server shutting down: 503 with
        /// `Retry-After`. A reader that falls far behind is disconnected; it reconnects with
        /// `Last-Event-ID` and loses nothing.
        #[oai(path = "/api/chirps/stream", method = "get", operation_id = "streamChirps")]
        async fn stream(
            &self,
            state: Data<&AppState>,
            request: &poem::Request,
            /// Only chirps by this user.
            author_id: Query<Option<Uuid>>,
            /// The `id:` of the last event you received, to resume after it. Empty: none.
            #[oai(name = "Last-Event-ID", validator(pattern = "^([0-9]+-[0-9]+)?$"))]
            _last_event_id: Header<Option<String>>,
        ) -> Result<ChirpStream, StreamError> {
            let after = resume_after(request)?;
            let audience = Audience::Chirps { author: author_id.0 };
            let events = state.feed.subscribe(after, audience, None).await.map_err(refused)?;
            Ok(ChirpStream::Events(sse(events, state.feed.heartbeat())))
        }
    }
}
