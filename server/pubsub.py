"""Realtime channels with a per-channel sequence and a bounded history.

Every published message gets the next sequence number of its channel and is kept in that
channel's history, so a reconnecting client can ask for what it missed since the last number
it saw. The broker is in memory (one process) or Redis (every app process sees every message).
Within a process, a Hub fans each message out to the local websocket subscribers, encoded once.

A channel's numbers start from the clock (milliseconds) when it is created, not from 1: if
Redis loses its data (or an embedded server restarts), the channel starts again above any
number a client saw before, so a client asking for what it missed since an old number is
told to refetch instead of being handed the new messages as if nothing were lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis

from server.errors import unavailable

log = logging.getLogger("hearth.pubsub")


class Envelope(msgspec.Struct):
    id: str
    event: str
    data: Any


class Delivered(msgspec.Struct, tag="message", tag_field="type"):
    channel: str
    seq: int
    id: str
    event: str
    data: Any


class History(msgspec.Struct):
    messages: list[Delivered]
    current_seq: int
    # False when messages after `since` have already left the bounded history.
    complete: bool


# Idle channels are forgotten after this; a client reconnecting later is told to refetch.
HISTORY_TTL_SECONDS = 7 * 24 * 3600
MEMORY_CHANNELS = 10_000

_encoder = msgspec.json.Encoder()
_envelope_decoder = msgspec.json.Decoder(Envelope)

Listener = Callable[[str, int, bytes], None]
GapListener = Callable[[], None]

# The subscriber reconnects after a lost connection, waiting this long at first and twice as
# long after each failure, up to the cap: live updates resume within seconds of Redis.
RECONNECT_FIRST_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 3.0


class Hub:
    """Local subscribers of this process, keyed by channel."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = defaultdict(set)
        self._gap_listeners: set[GapListener] = set()

    def watch_gaps(self, listener: GapListener) -> None:
        """Be told when messages may have been lost (the broker's subscription was down)."""
        self._gap_listeners.add(listener)

    def unwatch_gaps(self, listener: GapListener) -> None:
        self._gap_listeners.discard(listener)

    def gap(self) -> None:
        for listener in list(self._gap_listeners):
            listener()

    def add(self, channel: str, listener: Listener) -> None:
        self._listeners[channel].add(listener)

    def remove(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[channel]

    def deliver(self, channel: str, seq: int, envelope_json: bytes) -> None:
        listeners = self._listeners.get(channel)
        if not listeners:
            return
        envelope = _envelope_decoder.decode(envelope_json)
        frame = _encoder.encode(Delivered(channel, seq, envelope.id, envelope.event, envelope.data))
        for listener in list(listeners):
            listener(channel, seq, frame)


class Message(msgspec.Struct, frozen=True):
    channel: str
    event: str
    data: Any
    id: str


class Broker(Protocol):
    hub: Hub

    @property
    def connected(self) -> bool:
        """False while live messages cannot flow (Redis is unreachable)."""
        ...

    async def publish(self, channel: str, event: str, data: Any, message_id: str) -> int:
        """The message's seq; 0 when it could not be sent (logged, never raised: live
        messages are a courtesy on top of what is committed, and clients refetch)."""
        ...

    async def publish_many(self, messages: list[Message]) -> None:
        """publish() for many messages, in order, in one round trip."""
        ...

    async def history(self, channel: str, since: int) -> History: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def _first_seq() -> int:
    return int(time.time() * 1000) + 1


def _history(channel: str, since: int, current: int, items: list[tuple[int, bytes]],
             first: int) -> History:
    if since == 0 and first:
        # "Seen nothing yet": everything from the channel's first message.
        since = first - 1
    oldest = items[0][0] if items else current + 1
    complete = since <= current and (since >= current or oldest <= since + 1)
    messages = []
    for seq, raw in items:
        if seq > since:
            envelope = _envelope_decoder.decode(raw)
            messages.append(Delivered(channel, seq, envelope.id, envelope.event, envelope.data))
    return History(messages=messages, current_seq=current, complete=complete)


class MemoryBroker:
    def __init__(self, history_size: int) -> None:
        self.hub = Hub()
        self._size = history_size
        self._seq: dict[str, int] = {}
        self._first: dict[str, int] = {}
        # Insertion order doubles as recency: publishing moves a channel to the end.
        self._history: dict[str, deque[tuple[int, bytes]]] = {}

    async def publish(self, channel: str, event: str, data: Any, message_id: str) -> int:
        raw = _encoder.encode(Envelope(message_id, event, data))
        seq = self._seq[channel] + 1 if channel in self._seq else _first_seq()
        self._seq[channel] = seq
        self._first.setdefault(channel, seq)
        history = self._history.pop(channel, None) or deque(maxlen=self._size)
        history.append((seq, raw))
        self._history[channel] = history
        if len(self._history) > MEMORY_CHANNELS:
            idle = next(iter(self._history))
            del self._history[idle]
        self.hub.deliver(channel, seq, raw)
        return seq

    async def publish_many(self, messages: list[Message]) -> None:
        for m in messages:
            await self.publish(m.channel, m.event, m.data, m.id)

    async def history(self, channel: str, since: int) -> History:
        items = list(self._history.get(channel, ()))
        return _history(channel, since, self._seq.get(channel, 0), items,
                        self._first.get(channel, 0))

    @property
    def connected(self) -> bool:
        return True

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
if seq == 1 then
  local now = redis.call('TIME')
  seq = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + 1
  redis.call('SET', KEYS[1], seq)
  redis.call('SET', KEYS[4], seq)
end
local framed = seq .. '|' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, framed)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
redis.call('PUBLISH', KEYS[3], framed)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[4], ARGV[3])
return seq
"""

class RedisBroker:
    """Publishes through `client`; listens on `subscriber`, a client of its own that it
    closes on stop, which must not retry by itself: every lost subscription is a gap that
    local subscribers are told about (Hub.gap), since what was published meanwhile is lost."""

    def __init__(self, client: aioredis.Redis, prefix: str, history_size: int,
                 subscriber: aioredis.Redis | None = None) -> None:
        self.hub = Hub()
        self._redis = client
        self._subscriber = subscriber or client
        self._prefix = f"{prefix}:rt:"
        self._size = history_size
        self._script = client.register_script(_PUBLISH)
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._listening = False
        self._publish_failing = False

    def _keys(self, channel: str) -> list[str]:
        return [f"{self._prefix}seq:{channel}", f"{self._prefix}hist:{channel}",
                f"{self._prefix}msg:{channel}", f"{self._prefix}first:{channel}"]

    @property
    def connected(self) -> bool:
        return self._listening

    def _publish_failed(self, exc: BaseException, what: str) -> None:
        if not self._publish_failing:
            log.warning("live messages are not being sent (%s: %s: %s); clients will be "
                        "told to refetch", what, type(exc).__name__, exc)
        self._publish_failing = True

    def _published(self) -> None:
        if self._publish_failing:
            log.info("live messages are being sent again")
        self._publish_failing = False

    async def publish(self, channel: str, event: str, data: Any, message_id: str) -> int:
        raw = _encoder.encode(Envelope(message_id, event, data))
        try:
            seq = int(await self._script(keys=self._keys(channel),
                                         args=[raw, self._size, HISTORY_TTL_SECONDS]))
        except Exception as exc:
            if unavailable(exc) is None:
                raise
            self._publish_failed(exc, channel)
            return 0
        self._published()
        return seq

    async def publish_many(self, messages: list[Message]) -> None:
        if not messages:
            return
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for m in messages:
                    raw = _encoder.encode(Envelope(m.id, m.event, m.data))
                    await self._script(keys=self._keys(m.channel),
                                       args=[raw, self._size, HISTORY_TTL_SECONDS], client=pipe)
                await pipe.execute()
        except Exception as exc:
            if unavailable(exc) is None:
                raise
            self._publish_failed(exc, f"{len(messages)} messages")
            return
        self._published()

    async def history(self, channel: str, since: int) -> History:
        seq_key, hist_key, _, first_key = self._keys(channel)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(seq_key)
            pipe.get(first_key)
            pipe.zrange(hist_key, 0, -1)
            current_raw, first_raw, framed = await pipe.execute()
        items = []
        for entry in framed:
            seq, _, raw = bytes(entry).partition(b"|")
            items.append((int(seq), raw))
        return _history(channel, since, int(current_raw or 0), items, int(first_raw or 0))

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="hearth-redis-pubsub")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _read(self) -> None:
        prefix = f"{self._prefix}msg:"
        delay = RECONNECT_FIRST_SECONDS
        lost_at: float | None = None
        while True:
            pubsub = self._subscriber.pubsub()
            try:
                await pubsub.psubscribe(prefix + "*")
                self._listening = True
                self._ready.set()
                if lost_at is not None:
                    log.info("redis pub/sub listening again after %.1f s",
                             time.monotonic() - lost_at)
                    lost_at, delay = None, RECONNECT_FIRST_SECONDS
                    # Subscribed again: whatever was published while we were away is gone.
                    self.hub.gap()
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    channel = bytes(message["channel"]).decode()[len(prefix):]
                    seq, _, raw = bytes(message["data"]).partition(b"|")
                    self.hub.deliver(channel, int(seq), raw)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._listening = False
                if lost_at is None:
                    lost_at = time.monotonic()
                    if unavailable(exc) is not None:
                        log.warning("redis pub/sub connection lost (%s: %s); reconnecting",
                                    type(exc).__name__, exc)
                    else:
                        log.exception("redis pub/sub reader failed; reconnecting")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._subscriber is not self._redis:
            await self._subscriber.aclose()
