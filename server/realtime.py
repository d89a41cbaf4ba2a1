"""The one websocket endpoint: subscribe to channels you may read, get live messages with
a per-channel sequence, and catch up after a reconnect.

Client → server (JSON text frames):
    {"op": "subscribe", "channel": "thread:12", "since": 40}   # since: last seq seen, optional
    {"op": "unsubscribe", "channel": "thread:12"}
    {"op": "ping"}
Server → client:
    {"type": "subscribed", "channel": ..., "seq": current}
    {"type": "message", "channel": ..., "seq": n, "id": ..., "event": ..., "data": {...}}
    {"type": "refetch", "channel": ..., "seq": current}   # missed messages are gone: reload
        (also sent on open sockets after live updates were interrupted, Redis being down)
    {"type": "unsubscribed", "channel": ...} / {"type": "pong"}
    {"type": "error", "code": ..., "message": ..., "channel": ...}

A server shutting down closes every socket with 1012 ("service restart"): uvicorn does it
for the whole server before the application's shutdown, so clients go and reconnect elsewhere.
While Redis is unreachable the socket cannot subscribe or catch up: it is closed with 1013
(try again later), and the client reconnects and subscribes with `since` as after any drop.

Packages register who may read a channel family with `channel_rule("thread", numeric=True)`;
a numeric family's key must be a row id (ASCII digits, 1..MAX_ID), or the answer is an error
frame with code "bad_channel".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import WebSocket, post, websocket
from litestar.exceptions import WebSocketDisconnect

from server import auth, runtime
from server.auth import TOKEN_SCOPE_OPT, Actor
from server.bodycheck import check_json_body
from server.errors import BadRequest, DomainError, ServiceUnavailable, Unauthenticated, unavailable
from server.pubsub import Delivered
from server.security import new_secret
from server.types import MAX_ID, parse_id

log = logging.getLogger("hearth.realtime")

ChannelRule = Callable[[Actor, str], Awaitable[bool]]
HistoryFilter = Callable[[str, list[Delivered]], Awaitable[list[Delivered]]]
_rules: dict[str, ChannelRule] = {}
_history_filters: dict[str, HistoryFilter] = {}
_numeric_families: set[str] = set()

MAX_SUBSCRIPTIONS = 200
SEND_QUEUE_LIMIT = 2000
MAX_CHANNEL_LENGTH = 200
# Client frames are a few hundred bytes. The server refuses larger ones before reading them
# (`hearth serve` passes this to uvicorn, whose default is 16 MiB): an anonymous socket
# could otherwise make the event loop check and decode megabytes per frame.
MAX_FRAME_BYTES = 64 * 1024
# Kernel-only channels telling open sockets that their member's sessions ended.
SESSIONS_FAMILY = "sessions"
# The standard "try again later" close: a backing service is down, not the client's fault.
TRY_AGAIN_LATER = 1013


def channel_rule(family: str, numeric: bool = False) -> Callable[[ChannelRule], ChannelRule]:
    """Register who may read `family:{key}`; with numeric=True, keys are checked to be row ids
    before the rule sees them, so it may pass them to int() and to the database as they are."""

    def register(fn: ChannelRule) -> ChannelRule:
        _rules[family] = fn
        if numeric:
            _numeric_families.add(family)
        return fn

    return register


def history_filter(family: str) -> Callable[[HistoryFilter], HistoryFilter]:
    """Register a filter applied to catch-up messages, e.g. to drop since-deleted content."""

    def register(fn: HistoryFilter) -> HistoryFilter:
        _history_filters[family] = fn
        return fn

    return register


def channel_problem(channel: str) -> str | None:
    """Why a channel name is malformed, or None: a known family and a key of the right form."""
    family, _, key = channel.partition(":")
    if len(channel) > MAX_CHANNEL_LENGTH:
        return f"channel names are at most {MAX_CHANNEL_LENGTH} characters"
    if family not in _rules or not key:
        return f"channels are {', '.join(sorted(f + ':…' for f in _rules))}"
    # A leading zero would name a channel nothing is ever published to: parse_id refuses it.
    if family in _numeric_families and parse_id(key) is None:
        return f"{family} channels take an id from 1 to {MAX_ID}"
    return None


@channel_rule("user", numeric=True)
async def _own_notifications(actor: Actor, key: str) -> bool:
    # A brand's integration token is not its creator: it never reads their private channel.
    return actor.via == "session" and key == str(actor.member_id)


async def may_subscribe(actor: Actor, channel: str) -> bool:
    if channel_problem(channel) is not None:
        return False
    family, _, key = channel.partition(":")
    try:
        return await _rules[family](actor, key)
    except ServiceUnavailable:
        raise  # not a refusal: the answer is not known right now
    except DomainError:
        return False


class ClientOp(msgspec.Struct):
    op: str
    channel: str = ""
    since: int | None = None


_decode_op = msgspec.json.Decoder(ClientOp)
_encode = msgspec.json.Encoder()


def _sessions_channel(member_id: int) -> str:
    # No channel rule names this family: clients cannot subscribe to it.
    return f"{SESSIONS_FAMILY}:{member_id}"


async def announce_sessions_ended(member_id: int) -> None:
    """Some of the member's sessions ended (call it after the commit): their open sockets, in
    every process, re-check their session now instead of at their next round."""
    await runtime.current().broker.publish(_sessions_channel(member_id), "sessions.ended", {},
                                           message_id=new_secret(8))


class Connection:
    def __init__(self, socket: WebSocket[Any, Any, Any], actor: Actor) -> None:
        self.socket = socket
        self.actor = actor
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(SEND_QUEUE_LIMIT)
        self.last_seq: dict[str, int] = {}
        self.catching_up: dict[str, list[tuple[int, bytes]]] = {}
        self.listeners: dict[str, Callable[[str, int, bytes], None]] = {}
        self.close_code, self.close_reason = 4008, "reconnect"
        self._resyncs: set[asyncio.Task[None]] = set()
        runtime.current().broker.hub.watch_gaps(self._on_gap)
        self._sessions = (_sessions_channel(actor.member_id)
                          if actor.via == "session" and actor.member_id is not None else "")
        if self._sessions:
            runtime.current().broker.hub.add(self._sessions, self._sessions_ended)

    def _sessions_ended(self, channel: str, seq: int, frame: bytes) -> None:
        if self.actor.member_id is not None:
            # What this process cached of the member may predate the sign-out.
            auth.forget_member(self.actor.member_id)
        task = asyncio.create_task(self._recheck_now())
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def _recheck_now(self) -> None:
        try:
            await self._reauthorize()
        except Exception as exc:
            # The periodic re-check tries again.
            log.info("re-checking a websocket after a sign-out failed: %s: %s",
                     type(exc).__name__, exc)

    def close_soon(self, code: int, reason: str) -> None:
        self.close_code, self.close_reason = code, reason
        self.send(None)

    def _on_gap(self) -> None:
        task = asyncio.create_task(self.resync())
        self._resyncs.add(task)
        task.add_done_callback(self._resyncs.discard)

    async def resync(self) -> None:
        """Live updates were interrupted: messages published meanwhile are lost, so each
        subscribed channel is told to refetch, from the seq it has reached now (which may
        have started again if Redis lost its data)."""
        broker = runtime.current().broker
        channels = [c for c in self.listeners if c not in self.catching_up]
        for channel in channels:
            self.catching_up[channel] = []  # live messages wait until the refetch is sent
        for channel in channels:
            try:
                history = await broker.history(channel, self.last_seq.get(channel, 0))
            except Exception as exc:
                if unavailable(exc) is None:
                    raise
                self.close_soon(TRY_AGAIN_LATER, "live updates are paused; reconnect shortly")
                return
            if channel not in self.listeners:
                continue  # unsubscribed meanwhile
            self.send_obj({"type": "refetch", "channel": channel, "seq": history.current_seq})
            self.last_seq[channel] = history.current_seq
            for seq, frame in self.catching_up.pop(channel, []):
                if seq > self.last_seq[channel]:
                    self.last_seq[channel] = seq
                    self.send(frame)

    def send(self, frame: bytes | None) -> None:
        """Queue a frame; None asks the writer to close the socket."""
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            # A client this far behind reconnects and catches up from its last seq.
            self.queue = asyncio.Queue(1)
            self.queue.put_nowait(None)

    def send_obj(self, obj: dict[str, Any]) -> None:
        self.send(_encode.encode(obj))

    def _listener(self, channel: str, seq: int, frame: bytes) -> None:
        buffered = self.catching_up.get(channel)
        if buffered is not None:
            buffered.append((seq, frame))
        elif seq > self.last_seq.get(channel, 0):
            self.last_seq[channel] = seq
            self.send(frame)

    async def subscribe(self, channel: str, since: int | None) -> None:
        if channel in self.listeners:
            self.send_obj({"type": "subscribed", "channel": channel,
                           "seq": self.last_seq.get(channel, 0)})
            return
        if len(self.listeners) >= MAX_SUBSCRIPTIONS:
            self.send_obj({"type": "error", "code": "too_many_subscriptions", "channel": channel,
                           "message": f"at most {MAX_SUBSCRIPTIONS} channels per connection"})
            return
        problem = channel_problem(channel)
        if problem is not None:
            self.send_obj({"type": "error", "code": "bad_channel",
                           "channel": channel[:MAX_CHANNEL_LENGTH], "message": problem})
            return
        if not await may_subscribe(self.actor, channel):
            self.send_obj({"type": "error", "code": "forbidden", "channel": channel,
                           "message": f"you may not subscribe to {channel!r}"})
            return
        broker = runtime.current().broker
        self.catching_up[channel] = []
        listener = self._listener
        self.listeners[channel] = listener
        broker.hub.add(channel, listener)
        try:
            history = await broker.history(channel, since if since is not None else 0)
        except Exception:
            self.unsubscribe(channel)
            raise
        self.send_obj({"type": "subscribed", "channel": channel, "seq": history.current_seq})
        last = history.current_seq
        if since is not None:
            if history.complete:
                messages = history.messages
                keep = _history_filters.get(channel.partition(":")[0])
                if keep is not None and messages:
                    messages = await keep(channel.partition(":")[2], messages)
                for message in messages:
                    self.send(_encode.encode(message))
            else:
                self.send_obj({"type": "refetch", "channel": channel, "seq": history.current_seq})
        self.last_seq[channel] = last
        for seq, frame in self.catching_up.pop(channel):
            if seq > self.last_seq[channel]:
                self.last_seq[channel] = seq
                self.send(frame)

    def unsubscribe(self, channel: str) -> None:
        listener = self.listeners.pop(channel, None)
        if listener is not None:
            runtime.current().broker.hub.remove(channel, listener)
        self.catching_up.pop(channel, None)
        self.last_seq.pop(channel, None)

    def close(self) -> None:
        runtime.current().broker.hub.unwatch_gaps(self._on_gap)
        if self._sessions:
            runtime.current().broker.hub.remove(self._sessions, self._sessions_ended)
        for task in self._resyncs:
            task.cancel()
        for channel in list(self.listeners):
            self.unsubscribe(channel)

    async def reauthorize_forever(self, interval: float) -> None:
        """Access can end while a socket is open (sign-out, a category made members-only,
        a thread deleted): re-check the session and every subscription periodically."""
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self._reauthorize():
                    return
            except Exception as exc:
                if unavailable(exc) is None:
                    raise
                # Nothing can be checked while the database or Redis is down; nothing can
                # change either (no sign-out, no new rules): check again next round.
                log.info("re-checking a websocket's access skipped: %s", exc)

    async def _reauthorize(self) -> bool:
        """False when the socket is to close (its session or token has ended)."""
        if self.actor.via != "anonymous":
            current = await auth.recheck(self.actor)
            if current.member_id != self.actor.member_id:
                self.send(None)
                return False
            self.actor = current
        for channel in list(self.listeners):
            if not await may_subscribe(self.actor, channel):
                self.unsubscribe(channel)
                self.send_obj({"type": "error", "code": "forbidden", "channel": channel,
                               "message": f"you may no longer read {channel!r}"})
        return True

    async def write_forever(self) -> None:
        while True:
            frame = await self.queue.get()
            if frame is None:
                await self.socket.close(code=self.close_code, reason=self.close_reason)
                return
            await self.socket.send_data(frame.decode(), mode="text")

    async def handle(self, raw: str | bytes) -> None:
        try:
            # The same guard as HTTP bodies: over-deep nesting would be a RecursionError.
            data = raw.encode() if isinstance(raw, str) else raw
            check_json_body(data)
            op = _decode_op.decode(data)
        except (BadRequest, msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.send_obj({"type": "error", "code": "bad_message", "message": str(exc)})
            return
        if op.op == "ping":
            self.send_obj({"type": "pong"})
        elif op.op == "subscribe" and op.channel:
            try:
                await self.subscribe(op.channel, op.since)
            except Exception as exc:
                if unavailable(exc) is None:
                    raise
                # The client reconnects (with backoff) and subscribes with `since` again.
                self.close_soon(TRY_AGAIN_LATER, "live updates are paused; reconnect shortly")
        elif op.op == "unsubscribe" and op.channel:
            self.unsubscribe(op.channel)
            self.send_obj({"type": "unsubscribed", "channel": op.channel})
        else:
            self.send_obj({"type": "error", "code": "bad_message",
                           "message": "op must be subscribe, unsubscribe or ping, with a channel"})


def _origin_allowed(socket: WebSocket[Any, Any, Any]) -> bool:
    origin = socket.headers.get("origin")
    if not origin:
        return True
    allowed = runtime.current().settings.allowed_origins
    host = socket.headers.get("host", "")
    return origin in allowed or origin in (f"http://{host}", f"https://{host}")


class TicketOut(msgspec.Struct):
    ticket: str
    expires_in: int


@post("/api/realtime/ticket", tags=["realtime"], opt={TOKEN_SCOPE_OPT: "realtime"})
async def realtime_ticket(actor: Actor) -> TicketOut:
    """A single-use ticket for opening the websocket as `/ws?ticket=...`, valid for
    `expires_in` seconds. Needs a session (with its CSRF token) or an API token with the
    'realtime' scope; the socket then acts as that session or token."""
    ticket = await auth.issue_ticket(actor)
    return TicketOut(ticket=ticket, expires_in=runtime.current().settings.realtime_ticket_seconds)


@websocket("/ws")
async def realtime_socket(socket: WebSocket[Any, Any, Any]) -> None:
    """The realtime endpoint. Authenticates with a ticket from POST /api/realtime/ticket in
    `?ticket=`, the session cookie (same origin only), or an API token with the 'realtime'
    scope in an Authorization header. Tokens never ride in the URL, where logs keep them."""
    ticket = socket.query_params.get("ticket")
    try:
        if "token" in socket.query_params:
            raise Unauthenticated("?token= is not accepted: open the socket with a ticket "
                                  "from POST /api/realtime/ticket")
        actor = await (auth.redeem_ticket(ticket) if ticket is not None else auth.resolve(socket))
        if actor.via == "token":
            actor.require("realtime")
    except Exception as exc:
        down = unavailable(exc)
        if down is not None:
            await socket.close(code=TRY_AGAIN_LATER, reason=down.message[:120])
        elif isinstance(exc, DomainError):
            await socket.close(code=4401, reason=exc.message[:120])
        else:
            raise
        return
    # Cookies ride along cross-site; a ticket cannot be had without reading a response.
    from_cookie = ticket is None and actor.via == "session"
    if from_cookie and not _origin_allowed(socket):
        await socket.close(code=4403, reason="origin not allowed")
        return
    await socket.accept()
    connection = Connection(socket, actor)
    writer = asyncio.create_task(connection.write_forever())
    guard = asyncio.create_task(connection.reauthorize_forever(
        runtime.current().settings.realtime_reauth_seconds))
    try:
        while not writer.done():
            receiver = asyncio.create_task(socket.receive_data(mode="text"))
            done, _ = await asyncio.wait({receiver, writer, guard},
                                         return_when=asyncio.FIRST_COMPLETED)
            if guard in done and (failure := guard.exception()) is not None:
                # Access is no longer re-checked: the socket must not outlive that.
                receiver.cancel()
                raise failure
            if receiver not in done:
                receiver.cancel()
                if guard in done:
                    # The guard ended the session: wait for the writer to close the socket.
                    await writer
                break
            await connection.handle(receiver.result())
    except WebSocketDisconnect:
        pass
    except Exception:
        # Litestar closes the socket with 4500 but, outside debug mode, does not say why.
        log.exception("realtime connection failed")
        raise
    finally:
        connection.close()
        for task in (writer, guard):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
