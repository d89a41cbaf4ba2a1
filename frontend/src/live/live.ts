// The realtime client: one websocket to /ws (the session cookie authenticates it), channel
// subscriptions that survive reconnects, per-channel sequence tracking so a reconnect catches up
// with {"since": last seq seen}, and de-duplication of messages by id. Several parts of the page
// may follow one channel (the top bar and the rewards page both follow the member's own): the
// server sees one subscription, each follower gets every frame.

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

export type LiveStatus = "offline" | "connecting" | "live" | "reconnecting";

/** A frame from the server. `event` and `data` are set on "message" frames. */
export interface Frame {
  type: string;
  channel?: string;
  seq?: number;
  id?: string | number;
  event?: string;
  data?: unknown;
  code?: string;
  message?: string;
  [key: string]: unknown;
}

export interface Handlers {
  onMessage?: (frame: Frame) => void;
  onReady?: (ready: { fresh: boolean; seq: number | undefined }) => void;
  onRefetch?: (frame: Frame) => void;
  onError?: (frame: Frame) => void;
}

function socketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

export class Subscription {
  lastSeq: number | null = null; // null until the first "subscribed": then a catch-up point exists
  requestedSince: number | null = null;
  active = false; // acknowledged on the current connection
  denied: Frame | null = null;
  closed = false;
  readonly ready: Promise<boolean>;
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  resolveReady: (ok: boolean) => void = () => undefined;

  constructor(
    private readonly client: LiveClient,
    readonly channel: string,
    private readonly handlers: Handlers,
  ) {
    this.ready = new Promise((resolve) => { this.resolveReady = resolve; });
  }

  remember(id: string): boolean {
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > SEEN_IDS_KEPT) this.seen.delete(this.seenOrder.shift() as string);
    return true;
  }

  call<K extends keyof Handlers>(name: K, arg: Parameters<NonNullable<Handlers[K]>>[0]): void {
    const fn = this.handlers[name] as ((value: typeof arg) => void) | undefined;
    if (typeof fn !== "function") return;
    try {
      fn(arg);
    } catch (err) {
      console.error(`live handler ${name} for ${this.channel} failed`, err);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.resolveReady(false);
    this.client.drop(this);
  }
}

export class LiveClient {
  status: LiveStatus = "offline";
  private socket: WebSocket | null = null;
  private readonly subs = new Map<string, Set<Subscription>>();
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastFrameAt = 0;
  private started = false;
  private readonly statusListeners = new Set<(status: LiveStatus) => void>();

  constructor(private readonly url: string = socketUrl()) {
    window.addEventListener("online", () => { if (this.started) this.reconnectNow(); });
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => { this.statusListeners.delete(listener); };
  }

  private setStatus(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  /** Reconnect at once, e.g. after signing in or out, so the socket carries the new cookie. */
  reconnectNow(): void {
    this.attempts = 0;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const old = this.socket;
    this.socket = null;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.onerror = null;
      try { old.close(1000, "reconnecting"); } catch { /* already closed */ }
    }
    for (const sub of this.all()) sub.active = false;
    this.connect();
  }

  private all(): Subscription[] {
    return [...this.subs.values()].flatMap((followers) => [...followers]);
  }

  isOpen(): boolean {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  /** Follow a channel; the returned Subscription's `ready` resolves true on the first
   *  acknowledgement, false on refusal or close. */
  subscribe(channel: string, handlers: Handlers): Subscription {
    const sub = new Subscription(this, channel, handlers);
    const followers = this.subs.get(channel);
    if (!followers) {
      this.subs.set(channel, new Set([sub]));
      if (this.isOpen()) this.sendSubscribe(channel);
      return sub;
    }
    followers.add(sub);
    const refused = [...followers].find((other) => other.denied)?.denied;
    const acknowledged = [...followers].find((other) => other.active);
    if (refused) {
      queueMicrotask(() => { if (!sub.closed) this.deliver(sub, refused); });
    } else if (acknowledged) {
      // Already followed and acknowledged: this follower is ready now, from the same point.
      sub.lastSeq = acknowledged.lastSeq;
      sub.requestedSince = null;
      queueMicrotask(() => {
        if (sub.closed || !followers.has(sub)) return;
        sub.active = true;
        sub.resolveReady(true);
        sub.call("onReady", { fresh: true, seq: sub.lastSeq ?? undefined });
      });
    }
    return sub;
  }

  drop(sub: Subscription): void {
    const followers = this.subs.get(sub.channel);
    if (!followers?.delete(sub) || followers.size > 0) return;
    this.subs.delete(sub.channel);
    if (this.isOpen()) this.send({ op: "unsubscribe", channel: sub.channel });
  }

  private send(message: Record<string, unknown>): boolean {
    if (!this.isOpen() || this.socket === null) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  private sendSubscribe(channel: string): void {
    const followers = [...(this.subs.get(channel) ?? [])];
    const message: Record<string, unknown> = { op: "subscribe", channel };
    // Catch up from the oldest point any follower has; one that has none starts fresh.
    const seqs = followers.flatMap((sub) => (sub.lastSeq === null ? [] : [sub.lastSeq]));
    if (seqs.length > 0) message.since = Math.min(...seqs);
    for (const sub of followers) {
      sub.requestedSince = sub.lastSeq;
      sub.active = false;
    }
    this.send(message);
  }

  private connect(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.setStatus(this.attempts === 0 ? "connecting" : "reconnecting");
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.lastFrameAt = Date.now();
      this.setStatus("live");
      // The backoff resets on the first answer, not on open: a server that accepts and then
      // drops us at once must not be hammered.
      this.send({ op: "ping" });
      for (const channel of this.subs.keys()) this.sendSubscribe(channel);
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.heartbeat(), PING_EVERY_MS);
    };
    socket.onmessage = (event: MessageEvent<string>) => {
      if (this.socket !== socket) return;
      this.lastFrameAt = Date.now();
      this.attempts = 0;
      let frame: Frame;
      try {
        frame = JSON.parse(event.data) as Frame;
      } catch {
        return;
      }
      this.dispatch(frame);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      for (const sub of this.all()) sub.active = false;
      this.scheduleRetry(event.code === SERVICE_RESTART ? RESTART_SPREAD_MS : 0);
    };
    socket.onerror = () => { /* onclose follows and schedules the retry */ };
  }

  private heartbeat(): void {
    if (!this.isOpen()) return;
    if (Date.now() - this.lastFrameAt > SILENT_LIMIT_MS) {
      this.reconnectNow();
      return;
    }
    this.send({ op: "ping" });
  }

  private scheduleRetry(spreadMs = 0): void {
    this.setStatus("reconnecting");
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** this.attempts);
    // Full jitter over the spread when one is asked for, else half-jittered backoff.
    const delay = Math.round(spreadMs > ceiling ? Math.random() * spreadMs
      : ceiling * (0.5 + Math.random() * 0.5));
    this.attempts += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private dispatch(frame: Frame): void {
    const followers = frame.channel ? [...(this.subs.get(frame.channel) ?? [])] : [];
    if (frame.type === "error" && followers.length === 0) {
      console.warn("realtime error", frame);
      return;
    }
    for (const sub of followers) this.deliver(sub, frame);
  }

  private deliver(sub: Subscription, frame: Frame): void {
    switch (frame.type) {
      case "subscribed": {
        const fresh = sub.requestedSince === null;
        if (fresh) sub.lastSeq = frame.seq ?? null;
        sub.active = true;
        sub.denied = null;
        sub.resolveReady(true);
        sub.call("onReady", { fresh, seq: frame.seq });
        return;
      }
      case "message": {
        if (typeof frame.seq === "number" && (sub.lastSeq === null || frame.seq > sub.lastSeq)) {
          sub.lastSeq = frame.seq;
        }
        if (!sub.remember(String(frame.id))) return;
        sub.call("onMessage", frame);
        return;
      }
      case "refetch": {
        if (typeof frame.seq === "number") sub.lastSeq = frame.seq;
        sub.call("onRefetch", frame);
        return;
      }
      case "error": {
        sub.denied = frame;
        sub.resolveReady(false);
        sub.call("onError", frame);
        return;
      }
      default:
        return; // pong, unsubscribed
    }
  }
}

export const live = new LiveClient();
