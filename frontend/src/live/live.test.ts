import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LiveClient, type Frame } from "./live";

class FakeSocket {
  static last: FakeSocket | null = null;
  static readonly OPEN = 1;
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.last = this;
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as Record<string, unknown>);
  }

  close(): void {
    this.readyState = 3;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }

  receive(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  ops(op: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.op === op);
  }
}

function connected(): { client: LiveClient; socket: FakeSocket } {
  const client = new LiveClient("ws://test/ws");
  client.start();
  const socket = FakeSocket.last as FakeSocket;
  socket.open();
  return { client, socket };
}

describe("LiveClient with several followers of one channel", () => {
  beforeEach(() => { vi.stubGlobal("WebSocket", FakeSocket); });
  afterEach(() => { vi.unstubAllGlobals(); });

  it("subscribes once and gives every follower every message", async () => {
    const { client, socket } = connected();
    const a: Frame[] = [];
    const b: Frame[] = [];
    const first = client.subscribe("user:1", { onMessage: (f) => a.push(f) });
    socket.receive({ type: "subscribed", channel: "user:1", seq: 3 });
    expect(await first.ready).toBe(true);

    const ready = vi.fn();
    const second = client.subscribe("user:1", { onMessage: (f) => b.push(f), onReady: ready });
    expect(await second.ready).toBe(true);
    expect(ready).toHaveBeenCalledWith({ fresh: true, seq: 3 });
    expect(socket.ops("subscribe")).toHaveLength(1);

    socket.receive({ type: "message", channel: "user:1", seq: 4, id: "m4", event: "points.posted" });
    expect(a.map((f) => f.id)).toEqual(["m4"]);
    expect(b.map((f) => f.id)).toEqual(["m4"]);
  });

  it("unsubscribes only when the last follower leaves", () => {
    const { client, socket } = connected();
    const first = client.subscribe("thread:9", {});
    const second = client.subscribe("thread:9", {});
    first.close();
    expect(socket.ops("unsubscribe")).toHaveLength(0);
    second.close();
    expect(socket.ops("unsubscribe")).toEqual([{ op: "unsubscribe", channel: "thread:9" }]);
  });

  it("catches up from the oldest point after a reconnect, and tells a newcomer it is fresh", () => {
    const { client, socket } = connected();
    const old = vi.fn();
    client.subscribe("board:x", { onReady: old });
    socket.receive({ type: "subscribed", channel: "board:x", seq: 7 });
    socket.onclose?.({ code: 1006 });
    const newcomer = vi.fn();
    client.subscribe("board:x", { onReady: newcomer });
    client.reconnectNow();
    const again = FakeSocket.last as FakeSocket;
    again.open();
    expect(again.ops("subscribe")).toEqual([{ op: "subscribe", channel: "board:x", since: 7 }]);
    again.receive({ type: "subscribed", channel: "board:x", seq: 9 });
    expect(old).toHaveBeenLastCalledWith({ fresh: false, seq: 9 });
    expect(newcomer).toHaveBeenLastCalledWith({ fresh: true, seq: 9 });
  });

  it("passes a refusal to a follower that joins later", async () => {
    const { client, socket } = connected();
    const first = client.subscribe("staff:1", {});
    socket.receive({ type: "error", channel: "staff:1", code: "forbidden" });
    expect(await first.ready).toBe(false);
    const onError = vi.fn();
    const second = client.subscribe("staff:1", { onError });
    expect(await second.ready).toBe(false);
    expect(onError).toHaveBeenCalledOnce();
  });
});
