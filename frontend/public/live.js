// The realtime client: one websocket to /ws (the session cookie authenticates it), channel
// subscriptions that survive reconnects, per-channel sequence tracking so a reconnect catches up
// with {"since": last seq seen}, and de-duplication of messages by id.

const MAX_BACKOFF_MS = 10_000;
const BASE_BACKOFF_MS = 500;
const PING_EVERY_MS = 25_000;
const SILENT_LIMIT_MS = 60_000;
const SEEN_IDS_KEPT = 500;
// A server shutting down for a deploy closes every socket with 1012 ("service restart") at
// once: its clients' first retries are spread over this long, not to land on the servers
// left all in the same instant.
const SERVICE_RESTART = 1012;
const RESTART_SPREAD_MS = 3_000;

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

class Subscription {
  constructor(client, channel, handlers) {
    this.client = client;
    this.channel = channel;
    this.handlers = handlers;
    this.lastSeq = null; // null until the first "subscribed": then a catch-up point exists
    this.requestedSince = null;
    this.seen = new Set();
    this.seenOrder = [];
    this.active = false; // acknowledged on the current connection
    this.denied = null;
    this.closed = false;
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
  }

  remember(id) {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > SEEN_IDS_KEPT) this.seen.delete(this.seenOrder.shift());
    return true;
  }

  call(name, ...args) {
    const fn = this.handlers[name];
    if (typeof fn !== "function") return;
    try {
      fn(...args);
    } catch (err) {
      console.error(`live handler ${name} for ${this.channel} failed`, err);
    }
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this._resolveReady(false);
    this.client._drop(this);
  }
}

export class LiveClient {
  constructor(url = socketUrl()) {
    this.url = url;
    this.socket = null;
    this.subs = new Map();
    this.status = "offline";
    this.attempts = 0;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastFrameAt = 0;
    this.started = false;
    this.statusListeners = new Set();
    window.addEventListener("online", () => { if (this.started) this.reconnectNow(); });
  }

  onStatus(listener) {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  start() {
    if (this.started) return;
    this.started = true;
    this._connect();
  }

  /** Reconnect at once, e.g. after signing in or out, so the socket carries the new cookie. */
  reconnectNow() {
    this.attempts = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const old = this.socket;
    this.socket = null;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.onerror = null;
      try { old.close(1000, "reconnecting"); } catch { /* already closed */ }
    }
    for (const sub of this.subs.values()) sub.active = false;
    this._connect();
  }

  isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /**
   * Follow a channel. handlers: onMessage(frame), onReady({fresh, seq}), onRefetch(frame),
   * onError(frame). Returns a Subscription with .ready (resolves true on the first
   * acknowledgement, false on refusal or close) and .close().
   */
  subscribe(channel, handlers) {
    const existing = this.subs.get(channel);
    if (existing) existing.close();
    const sub = new Subscription(this, channel, handlers);
    this.subs.set(channel, sub);
    if (this.isOpen()) this._sendSubscribe(sub);
    return sub;
  }

  _drop(sub) {
    if (this.subs.get(sub.channel) !== sub) return;
    this.subs.delete(sub.channel);
    if (this.isOpen()) this._send({ op: "unsubscribe", channel: sub.channel });
  }

  _send(message) {
    if (!this.isOpen()) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  _sendSubscribe(sub) {
    const message = { op: "subscribe", channel: sub.channel };
    if (sub.lastSeq !== null) message.since = sub.lastSeq;
    sub.requestedSince = sub.lastSeq;
    sub.active = false;
    this._send(message);
  }

  _connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this._setStatus(this.attempts === 0 ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch (err) {
      this._scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.lastFrameAt = Date.now();
      this._setStatus("live");
      // The backoff resets on the first answer, not on open: a server that accepts and then
      // drops us at once must not be hammered.
      this._send({ op: "ping" });
      for (const sub of this.subs.values()) this._sendSubscribe(sub);
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this._heartbeat(), PING_EVERY_MS);
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.lastFrameAt = Date.now();
      this.attempts = 0;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this._dispatch(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      for (const sub of this.subs.values()) sub.active = false;
      this._scheduleRetry(event.code === SERVICE_RESTART ? RESTART_SPREAD_MS : 0);
    };
    socket.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  _heartbeat() {
    if (!this.isOpen()) return;
    if (Date.now() - this.lastFrameAt > SILENT_LIMIT_MS) {
      this.reconnectNow();
      return;
    }
    this._send({ op: "ping" });
  }

  _scheduleRetry(spreadMs = 0) {
    this._setStatus("reconnecting");
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** this.attempts);
    // Full jitter over the spread when one is asked for, else half-jittered backoff.
    const delay = Math.round(spreadMs > ceiling ? Math.random() * spreadMs
                                                : ceiling * (0.5 + Math.random() * 0.5));
    this.attempts += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this._connect(), delay);
  }

  _dispatch(frame) {
    const sub = frame.channel ? this.subs.get(frame.channel) : null;
    switch (frame.type) {
      case "subscribed": {
        if (!sub) return;
        const fresh = sub.requestedSince === null;
        if (fresh) sub.lastSeq = frame.seq;
        sub.active = true;
        sub.denied = null;
        sub._resolveReady(true);
        sub.call("onReady", { fresh, seq: frame.seq });
        return;
      }
      case "message": {
        if (!sub) return;
        if (typeof frame.seq === "number" && (sub.lastSeq === null || frame.seq > sub.lastSeq)) {
          sub.lastSeq = frame.seq;
        }
        if (!sub.remember(String(frame.id))) return;
        sub.call("onMessage", frame);
        return;
      }
      case "refetch": {
        if (!sub) return;
        if (typeof frame.seq === "number") sub.lastSeq = frame.seq;
        sub.call("onRefetch", frame);
        return;
      }
      case "error": {
        if (!sub) {
          console.warn("realtime error", frame);
          return;
        }
        sub.denied = frame;
        sub._resolveReady(false);
        sub.call("onError", frame);
        return;
      }
      default:
        return; // pong, unsubscribed
    }
  }
}
