//! A connection's socket, as hyper sees it: writes that get stuck are noted (for the write
//! deadline), and hyper's own answers to requests it cannot parse (a 400, 414 or 431 with
//! an empty body, sent before any of our code runs) are given the JSON error body and
//! `nosniff` header every other error has.

use std::{
    io::{self, IoSlice},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
};

use super::connections::Connection;

pub struct Io {
    stream: TcpStream,
    conn: Arc<Connection>,
    /// Bytes owed to the client in place of what hyper asked to write (its own error head).
    owed: Vec<u8>,
}

impl Io {
    pub fn new(stream: TcpStream, conn: Arc<Connection>) -> Self {
        Self {
            stream,
            conn,
            owed: Vec::new(),
        }
    }

    /// Writes what is owed; `Ready(Ok)` once it all went.
    fn pay(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.owed.is_empty() {
            let written = match Pin::new(&mut self.stream).poll_write(cx, &self.owed) {
                Poll::Ready(Ok(n)) => n,
                other => return self.noted(other).map_ok(drop),
            };
            self.owed.drain(..written);
        }
        Poll::Ready(Ok(()))
    }

    fn noted<T>(&self, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.conn.write_stuck(),
            Poll::Ready(_) => self.conn.write_went_through(),
        }
        poll
    }
}

impl AsyncRead for Io {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Io {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        std::task::ready!(self.pay(cx))?;
        if let Some(replacement) = json_error_for(buf, crate::observe::new_request_id) {
            // Taken as written; what is sent instead goes out with the next write or flush.
            self.owed = replacement;
            return Poll::Ready(Ok(buf.len()));
        }
        let this = &mut *self;
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.noted(poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // hyper's error heads come alone, first in line: let poll_write look at them.
        if let Some(first) = bufs.iter().find(|buf| !buf.is_empty())
            && first.starts_with(HYPER_CLIENT_ERROR)
        {
            return self.poll_write(cx, first);
        }
        std::task::ready!(self.pay(cx))?;
        let this = &mut *self;
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.noted(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.pay(cx))?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.pay(cx))?;
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

const HYPER_CLIENT_ERROR: &[u8] = b"HTTP/1.1 4";

/// hyper answers a request it cannot parse with a bare head: a 4xx, `content-length: 0`,
/// no content type (every response of ours has one). That head, rewritten as our JSON
/// error with a request id from `new_id`, made only for such a head (logged, as the app
/// logs the requests it answers); anything else, `None`.
fn json_error_for(head: &[u8], new_id: impl FnOnce() -> String) -> Option<Vec<u8>> {
    if !head.starts_with(HYPER_CLIENT_ERROR) || !head.ends_with(b"\r\n\r\n") {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let lower = text.to_ascii_lowercase();
    if lower.contains("\r\ncontent-type:") || !lower.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let status: u16 = text.get(9..12)?.parse().ok()?;
    let message = match status {
        431 => "Request headers are too large",
        414 => "Request URI is too long",
        _ => "Malformed HTTP request",
    };
    let reason = text.lines().next()?.get(13..).unwrap_or("");
    let date = text
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("date:"))
        .map(|line| format!("{line}\r\n"))
        .unwrap_or_default();
    let body = serde_json::json!({ "error": message }).to_string();
    let id = new_id();
    tracing::info!(request_id = id, status, "refused a request that could not be parsed");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\n\
         content-length: {}\r\nx-content-type-options: nosniff\r\nx-request-id: {id}\r\n\
         connection: close\r\n{date}\r\n{body}",
        body.len()
    );
    Some(response.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bare_error_heads_become_json_errors() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Thu, 26 Nov 2026 17:00:00 GMT\r\n\r\n";
        let response = String::from_utf8(json_error_for(head, || "f00d".into()).unwrap()).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{response}"
        );
        assert!(response.contains("\r\ncontent-type: application/json; charset=utf-8\r\n"));
        assert!(response.contains("\r\nx-content-type-options: nosniff\r\n"));
        assert!(response.contains("\r\nx-request-id: f00d\r\n"));
        assert!(response.contains("\r\ndate: Thu, 26 Nov 2026 17:00:00 GMT\r\n"));
        let (head, body) = response.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, r#"{"error":"Request headers are too large"}"#);
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let uri = json_error_for(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n", || {
            "f00d".into()
        })
        .unwrap();
        assert!(
            String::from_utf8(uri)
                .unwrap()
                .ends_with(r#"{"error":"Request URI is too long"}"#)
        );
    }

    #[test]
    fn our_own_responses_pass_untouched() {
        for ours in [
            &b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 23\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"{\"error\":\"HTTP/1.1 400\"}",
        ] {
            assert_eq!(
                json_error_for(ours, || "f00d".into()),
                None,
                "{}",
                String::from_utf8_lossy(ours)
            );
        }
    }
}
