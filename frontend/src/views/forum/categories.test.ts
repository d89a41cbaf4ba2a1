import { describe, expect, it } from "vitest";
import type { Member } from "../../app/session";
import { moderates, type Category } from "./categories";

const category = (brand_id: number | null): Category => ({
  id: 1, name: "Talk", slug: "talk", description: "", parent_id: null, position: 0, visibility: "public",
  brand_id, thread_count: 0,
});
const member = (role: string, brand_id: number | null = null): Member => ({
  id: 7, handle: "ana", display_name: "Ana", bio: "", role, brand_id, created_at: "2026-01-01T00:00:00Z",
});

describe("who moderates a category (the move list offers only those)", () => {
  it("is moderators and admins everywhere", () => {
    for (const role of ["moderator", "admin"]) {
      expect(moderates(member(role), category(null))).toBe(true);
      expect(moderates(member(role), category(3))).toBe(true);
    }
  });

  it("is brand staff in their own brand's categories only", () => {
    expect(moderates(member("brand_staff", 3), category(3))).toBe(true);
    expect(moderates(member("brand_staff", 3), category(4))).toBe(false);
    expect(moderates(member("brand_staff", 3), category(null))).toBe(false);
  });

  it("is nobody else", () => {
    expect(moderates(member("member"), category(null))).toBe(false);
    expect(moderates(null, category(3))).toBe(false);
  });
});
