import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { grantable } from "./badges";

const badge = (id: number, criteria: Schemas["BadgeOut"]["criteria"], points = 0, enabled = true): Schemas["BadgeOut"] => ({
  id, slug: `b${id}`, name: `B${id}`, description: "", icon: "", level: "bronze", grouping: "community",
  enabled, repeatable: false, secret: false, points, auto_revoke: false, criteria,
});

describe("grantable", () => {
  const all = [
    badge(1, { type: "manual" }),
    badge(2, { type: "manual" }, 10),
    badge(3, { type: "points", threshold: 100 }),
    badge(4, { type: "manual" }, 0, false),
  ];

  it("offers brand staff the enabled manual badges that pay no points", () => {
    expect(grantable(all, false).map((b) => b.id)).toEqual([1]);
  });

  it("offers admins every enabled badge", () => {
    expect(grantable(all, true).map((b) => b.id)).toEqual([1, 2, 3]);
  });
});
