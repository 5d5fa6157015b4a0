//! A JSON array response that can be streamed, so listing 100,000 chirps does not hold
//! 100,000 chirps in memory. In the spec it is exactly what `Json<Vec<T>>` would be.

use std::{io, marker::PhantomData};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use poem::{Body, IntoResponse, Response};
use poem_openapi::{
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::{ToJSON, Type},
};
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

impl<T: ToJSON> JsonArray<T> {
    /// An array already in memory (a page).
    pub fn from_items(items: &[T]) -> Self {
        let array = serde_json::Value::Array(items.iter().filter_map(ToJSON::to_json).collect());
        Self {
            body: Body::from_vec(array.to_string().into_bytes()),
            items: PhantomData,
        }
    }

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
                let value = match item {
                    Ok(item) => item.to_json(),
                    Err(err) => {
                        tracing::error!(error = %err, "streaming a list failed part-way");
                        let _ = tx.send(Err(io::Error::other(err.to_string()))).await;
                        return;
                    }
                };
                if !std::mem::take(&mut first) {
                    chunk.push(b',');
                }
                serde_json::to_writer(&mut chunk, &value).expect("a JSON value always serializes");
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
