"""Server-Sent Events for the harnesses: a parser fed bytes as they arrive, and one stream
read over http.client, event by event, each within a deadline.

The parser follows the HTML standard's event-stream rules as far as Chirpy's streams need:
lines end in LF, CRLF or CR; a line starting with `:` is a comment (the heartbeats); `data`
lines join with LF; a block without `data` dispatches nothing; one space after the colon is
dropped.
"""

from __future__ import annotations

import codecs
import http.client
import json
import socket
import time
from collections import deque
from dataclasses import dataclass

from .cluster_http import Reply, connect


@dataclass(frozen=True)
class Event:
    id: str
    event: str
    data: str

    def json(self):
        return json.loads(self.data)


def parse_block(block: str) -> Event | None:
    """The event in the lines between two blank lines; None if it carries no data."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in block.split("\n"):
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in ("id", "event"):
            fields[name] = value
    if not data:
        return None
    return Event(fields.get("id", ""), fields.get("event", "") or "message", "\n".join(data))


class Parser:
    """Bytes in, complete events out, however the bytes are split into chunks."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = ""
        self._after_cr = False

    def feed(self, chunk: bytes) -> list[Event]:
        new = self._decoder.decode(chunk)
        # A chunk that ended in CR ended a line; an LF starting this one is the rest of a CRLF.
        if self._after_cr:
            new = new.removeprefix("\n")
        if new:
            self._after_cr = new.endswith("\r")
        text = self._text + new.replace("\r\n", "\n").replace("\r", "\n")
        *blocks, self._text = text.split("\n\n")
        return [event for block in blocks if (event := parse_block(block)) is not None]


class EventStream:
    """GET `path` on `base_url` as an event stream (Bearer `token`, `Last-Event-ID` if given).
    `reply` holds the status and headers, and the body when the answer is not a stream."""

    def __init__(self, base_url: str, path: str, token: str | None = None, last_event_id: str | None = None):
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self._conn = connect(base_url, timeout=10)
        self._conn.request("GET", path, headers=headers)
        self._response = self._conn.getresponse()
        lowered = {k.lower(): v for k, v in self._response.getheaders()}
        streaming = self._response.status == 200 and lowered.get("content-type", "").startswith("text/event-stream")
        self.reply = Reply(self._response.status, b"" if streaming else self._response.read(), lowered)
        self._parser = Parser()
        self._pending: deque[Event] = deque()

    def next_event(self, within: float) -> Event:
        """The next event, within `within` seconds; TimeoutError if none came, EOFError if
        the stream ended."""
        deadline = time.monotonic() + within
        while not self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no event within {within:g}s")
            assert self._conn.sock is not None
            self._conn.sock.settimeout(left)
            try:
                chunk = self._response.read1(65536)
            except (socket.timeout, TimeoutError):
                raise TimeoutError(f"no event within {within:g}s") from None
            except http.client.HTTPException as exc:
                raise EOFError(f"the stream broke: {exc!r}") from exc
            if not chunk:
                raise EOFError("the stream ended")
            self._pending.extend(self._parser.feed(chunk))
        return self._pending.popleft()

    def close(self) -> None:
        self._response.close()
        self._conn.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_) -> None:
        self.close()
