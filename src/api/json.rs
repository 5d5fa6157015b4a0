//! JSON responses for the hot paths, written by serde straight from the value rather than
//! through poem-openapi's `Json` (which builds a `serde_json::Value` tree first: most of
//! the cost of a list, measured in `just bench`). In the spec each is exactly what
//! `Json<T>` / `Json<Vec<T>>` would be; a test checks the bytes agree with poem-openapi's.
//! [`JsonArray`] can also stream, so listing 100,000 chirps does not hold them in memory.

use std::{io, marker::PhantomData};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use poem::{Body, IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::Type,
};
use serde::Serialize;
use tokio::sync::mpsc;

const CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// Items are sent in chunks of about this many bytes...
const CHUNK_BYTES: usize = 32 * 1024;
/// ...with at most this many chunks waiting for a slow client: the memory bound.
const CHUNKS_IN_FLIGHT: usize = 4;

pub struct JsonArray<T> {
    body: Body,
    items: PhantomData<fn() -> T>,
}

/// One value, written when built (or already written: a cached chirp).
pub struct JsonObject<T> {
    body: Bytes,
    value: PhantomData<fn() -> T>,
}

impl<T: Serialize> JsonObject<T> {
    pub fn new(value: &T) -> Self {
        Self::prerendered(
            serde_json::to_vec(value)
                .expect("our response types always serialize")
                .into(),
        )
    }
}

impl<T> JsonObject<T> {
    /// JSON already written from a `T`.
    pub fn prerendered(body: Bytes) -> Self {
        Self {
            body,
            value: PhantomData,
        }
    }
}

impl<T: Type> Payload for JsonObject<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for JsonObject<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(CONTENT_TYPE).body(self.body)
    }
}

impl<T> JsonArray<T> {
    /// JSON already written from a `[T]` (a cached page).
    pub fn prerendered(body: Bytes) -> Self {
        Self {
            body: Body::from_bytes(body),
            items: PhantomData,
        }
    }
}

impl<T: Serialize> JsonArray<T> {
    /// An array written as `items` arrive. An error after the first byte can only cut the
    /// body short (the status is already sent): it is logged, and the client sees a
    /// truncated response rather than a complete-looking wrong one.
    pub fn streamed<E>(items: impl Stream<Item = Result<T, E>> + Send + 'static) -> Self
    where
        T: Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
        tokio::spawn(async move {
            let mut items = std::pin::pin!(items);
            let mut chunk = Vec::with_capacity(CHUNK_BYTES + 1024);
            chunk.push(b'[');
            let mut first = true;
            while let Some(item) = items.next().await {
                let item = match item {
                    Ok(item) => item,
                    Err(err) => {
                        tracing::error!(error = %err, "streaming a list failed part-way");
                        let _ = tx.send(Err(io::Error::other(err.to_string()))).await;
                        return;
                    }
                };
                if !std::mem::take(&mut first) {
                    chunk.push(b',');
                }
                serde_json::to_writer(&mut chunk, &item).expect("our response types always serialize");
                // A client that went away drops the receiver: stop reading the database.
                if chunk.len() >= CHUNK_BYTES && tx.send(Ok(Bytes::from(std::mem::take(&mut chunk)))).await.is_err() {
                    return;
                }
            }
            chunk.push(b']');
            let _ = tx.send(Ok(Bytes::from(chunk))).await;
        });
        let chunks = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
        Self {
            body: Body::from_bytes_stream(chunks),
            items: PhantomData,
        }
    }
}

impl<T: Type> Payload for JsonArray<T> {
    const CONTENT_TYPE: &'static str = CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        Vec::<T>::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Vec::<T>::register(registry);
    }
}

impl<T: Send> IntoResponse for JsonArray<T> {
    fn into_response(self) -> Response {
        Response::builder().content_type(CONTENT_TYPE).body(self.body)
    }
}
