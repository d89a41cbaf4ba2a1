"""Realtime channels with a per-channel sequence and a bounded history.

Every published message gets the next sequence number of its channel and is kept in that
channel's history, so a reconnecting client can ask for what it missed since the last number
it saw. The broker is in memory (one process) or Redis (every app process sees every message).
Within a process, a Hub fans each message out to the local websocket subscribers, encoded once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import redis.asyncio as aioredis

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


class Hub:
    """Local subscribers of this process, keyed by channel."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = defaultdict(set)

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

    async def publish(self, channel: str, event: str, data: Any, message_id: str) -> int: ...
    async def publish_many(self, messages: list[Message]) -> None:
        """publish() for many messages, in order, in one round trip."""
        ...

    async def history(self, channel: str, since: int) -> History: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


def _history(channel: str, since: int, current: int, items: list[tuple[int, bytes]]) -> History:
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
        self._seq: dict[str, int] = defaultdict(int)
        # Insertion order doubles as recency: publishing moves a channel to the end.
        self._history: dict[str, deque[tuple[int, bytes]]] = {}

    async def publish(self, channel: str, event: str, data: Any, message_id: str) -> int:
        raw = _encoder.encode(Envelope(message_id, event, data))
        self._seq[channel] += 1
        seq = self._seq[channel]
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
        return _history(channel, since, self._seq.get(channel, 0), items)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local framed = seq .. '|' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, framed)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
redis.call('PUBLISH', KEYS[3], framed)
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return seq
"""


class RedisBroker:
    def __init__(self, client: aioredis.Redis, prefix: str, history_size: int) -> None:
        self.hub = Hub()
        self._redis = client
        self._prefix = f"{prefix}:rt:"
        self._size = history_size
        self._script = client.register_script(_PUBLISH)
        self._reader: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def _keys(self, channel: str) -> list[str]:
        return [f"{self._prefix}seq:{channel}", f"{self._prefix}hist:{channel}",
                f"{self._prefix}msg:{channel}"]

    async def publish(self, channel: str, event: str, data: Any, message_id: str) -> int:
        raw = _encoder.encode(Envelope(message_id, event, data))
        return int(await self._script(keys=self._keys(channel),
                                      args=[raw, self._size, HISTORY_TTL_SECONDS]))

    async def publish_many(self, messages: list[Message]) -> None:
        if not messages:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for m in messages:
                raw = _encoder.encode(Envelope(m.id, m.event, m.data))
                await self._script(keys=self._keys(m.channel),
                                   args=[raw, self._size, HISTORY_TTL_SECONDS], client=pipe)
            await pipe.execute()

    async def history(self, channel: str, since: int) -> History:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(f"{self._prefix}seq:{channel}")
            pipe.zrange(f"{self._prefix}hist:{channel}", 0, -1)
            current_raw, framed = await pipe.execute()
        items = []
        for entry in framed:
            seq, _, raw = bytes(entry).partition(b"|")
            items.append((int(seq), raw))
        return _history(channel, since, int(current_raw or 0), items)

    async def start(self) -> None:
        self._reader = asyncio.create_task(self._read(), name="hearth-redis-pubsub")
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _read(self) -> None:
        prefix = f"{self._prefix}msg:"
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(prefix + "*")
                self._ready.set()
                async for message in pubsub.listen():
                    if message["type"] != "pmessage":
                        continue
                    channel = bytes(message["channel"]).decode()[len(prefix):]
                    seq, _, raw = bytes(message["data"]).partition(b"|")
                    self.hub.deliver(channel, int(seq), raw)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis pub/sub reader failed; reconnecting")
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
