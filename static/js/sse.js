// A Server-Sent Events parser, for streams read with fetch() rather than EventSource (which
// cannot send an Authorization header). It follows the HTML standard's rules for
// "interpreting an event stream": lines end in CRLF, LF or CR; `:` starts a comment (the
// server's heartbeats); `data:` lines join with "\n"; a blank line dispatches the event; an
// `id:` counts once its event is complete (even one without data), so a connection cut in
// the middle of an event resumes before it; `retry:` sets the reconnection delay.

export class SseParser {
  /** `lastEventId`: where the previous connection left off, if this one resumes it. */
  constructor(lastEventId = '') {
    /** The `id:` of the last complete event: what to send as Last-Event-ID on reconnecting. */
    this.lastEventId = lastEventId;
    this.idBuffer = lastEventId;
    /** The server's `retry:` in milliseconds, or null if it sent none. */
    this.retry = null;
    this.buffer = '';
    this.started = false;
    this.skipLineFeed = false;
    this.resetEvent();
  }

  resetEvent() {
    this.eventType = '';
    this.data = [];
    this.hasData = false;
  }

  /** Feeds decoded text; returns the events it completed: `{ type, data, id }`. */
  push(text) {
    if (!this.started && text) {
      this.started = true;
      if (text.startsWith('\uFEFF')) text = text.slice(1);
    }
    // A CR at the end of the last chunk may be the first half of a CRLF.
    if (this.skipLineFeed && text.startsWith('\n')) text = text.slice(1);
    this.skipLineFeed = false;
    this.buffer += text;
    const events = [];
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) break;
      const line = this.buffer.slice(0, end);
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        if (next === this.buffer.length) this.skipLineFeed = true;
        else if (this.buffer[next] === '\n') next += 1;
      }
      this.buffer = this.buffer.slice(next);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.eventType = value;
    else if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'id') {
      if (!value.includes('\0')) this.idBuffer = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) this.retry = Number(value);
    }
    return null;
  }

  dispatch() {
    this.lastEventId = this.idBuffer;
    const event = this.hasData
      ? { type: this.eventType || 'message', data: this.data.join('\n'), id: this.lastEventId }
      : null;
    this.resetEvent();
    return event;
  }
}
