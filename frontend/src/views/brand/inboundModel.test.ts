import { describe, expect, it } from "vitest";
import { curlExample, emptyField, pointsText, typeBody, type InboundRow } from "./inboundModel";

const row = (over: Partial<InboundRow>): InboundRow => ({
  id: 1, type: "order.completed", idempotency_key: "k", member_id: 2, reference: "A-1",
  summary: "order A-1: 42.50 EUR", received_at: "2026-11-27T00:00:00Z", outcome: "accepted",
  points_awarded: 0, points_reversed: 0, ...over,
});

describe("pointsText", () => {
  it("shows what an order earned and what its refund took back", () => {
    expect(pointsText(row({}))).toBe("0");
    expect(pointsText(row({ points_awarded: 42 }))).toBe("+42");
    expect(pointsText(row({ points_awarded: 42, points_reversed: 42 }))).toBe("+42, −42 refunded");
    expect(pointsText(row({ type: "order.refunded", points_awarded: 42, points_reversed: 42 }))).toBe("−42");
  });
});

describe("typeBody", () => {
  it("trims names and drops blank field rows", () => {
    const fields = [{ ...emptyField(), name: " minutes ", required: true }, emptyField()];
    expect(typeBody(" store_visit ", fields)).toEqual({
      name: "store_visit", fields: [{ name: "minutes", type: "integer", required: true, max_length: 200 }],
    });
  });
});

describe("curlExample", () => {
  it("posts to this server with a token and an idempotency key", () => {
    const text = curlExample("https://club.example");
    expect(text).toContain("https://club.example/api/integrations/events");
    expect(text).toContain("Idempotency-Key: order-1042");
    expect(text).toContain('"currency": "EUR"');
  });
});
