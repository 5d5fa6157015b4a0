//! `GET /api/chirps/stream`: the live feed as Server-Sent Events (the machinery is in
//! `feed`).

use std::{borrow::Cow, sync::Arc};

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
    feed::{FeedEvent, Refused},
    state::AppState,
    store::{Event, EventKind, Position},
};

/// `chirp.deleted`'s data.
#[derive(Object, serde::Serialize)]
struct DeletedChirp {
    /// The chirp that was deleted.
    id: Uuid,
}

/// An event's data: the chirp posted, or the id of the chirp deleted.
#[derive(Union)]
#[oai(one_of)]
#[allow(dead_code)] // Only its schema is used: the data is written by `render`.
enum ChirpEventData {
    Created(Chirp),
    Deleted(DeletedChirp),
}

/// One event of the stream, rendered once for every reader (see `feed`).
pub struct StreamItem(Arc<FeedEvent>);

impl Type for StreamItem {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        ChirpEventData::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        ChirpEventData::schema_ref()
    }

    fn register(registry: &mut Registry) {
        ChirpEventData::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ToJSON for StreamItem {
    fn to_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.0.json).ok()
    }
}

/// The JSON a reader gets for an event: the chirp as posted, or its id.
pub fn render(event: &Event) -> String {
    match event.kind {
        EventKind::Created => serde_json::to_string(&Chirp {
            id: event.chirp_id,
            created_at: event.chirp_created_at.into(),
            updated_at: event.chirp_updated_at.into(),
            body: event.body.clone(),
            user_id: event.user_id,
        }),
        EventKind::Deleted => serde_json::to_string(&DeletedChirp { id: event.chirp_id }),
    }
    .expect("events always serialize")
}

#[derive(ApiResponse)]
enum ChirpStream {
    /// Server-Sent Events, as they happen: `chirp.created` (data: the `Chirp`) and
    /// `chirp.deleted` (data: `{"id": ...}`). Every event has an `id:`; reconnect with it in
    /// `Last-Event-ID` to get every event since, none twice. A comment line comes every
    /// few seconds when nothing else does, so proxies keep the connection open.
    #[oai(status = 200)]
    Events(EventStream<BoxStream<'static, StreamItem>>),
}

api_errors! {
    enum StreamError {
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
            /// Only chirps by this user.
            author_id: Query<Option<Uuid>>,
            /// The `id:` of the last event you received, to resume after it. Empty: none.
            #[oai(name = "Last-Event-ID", validator(pattern = "^([0-9]+-[0-9]+)?$"))]
            last_event_id: Header<Option<String>>,
        ) -> Result<ChirpStream, StreamError> {
            // Browsers send an empty one to say "none". (`str::is_empty` by name: poem-openapi's
            // `Type::is_empty`, in scope here, would answer for `&&str` first, always `false`.)
            let after = match last_event_id
                .0
                .as_deref()
                .map(str::trim)
                .filter(|id| !str::is_empty(id))
            {
                None => None,
                Some(id) => Some(Position::parse(id).ok_or(ApiError::BadRequest("Invalid Last-Event-ID".into()))?),
            };
            let events = state.feed.subscribe(after, author_id.0).await.map_err(|refused| {
                ApiError::Unavailable(match refused {
                    Refused::Full => "the most streams this server keeps open are open".into(),
                    Refused::Closing => "the server is shutting down".into(),
                })
            })?;
            let events = EventStream::new(events.map(StreamItem).boxed())
                .keep_alive(state.feed.heartbeat())
                .to_event(|StreamItem(event)| {
                    let kind = match event.event.kind {
                        EventKind::Created => "chirp.created",
                        EventKind::Deleted => "chirp.deleted",
                    };
                    SseEvent::message(event.json.clone())
                        .event_type(kind)
                        .id(event.position.encode())
                });
            Ok(ChirpStream::Events(events))
        }
    }
}
