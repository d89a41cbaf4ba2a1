import { describe, expect, it } from "vitest";
import {
  eligibilityText, rewardText, sortChallenges, standingOf, statusLabel, targetText, taskStates, zoned,
  type Challenge, type MyChallenge,
} from "./logic";

const task = (id: number, name: string, target = 1) =>
  ({ id, position: id, name, event_types: ["post.created"], condition: "", target });

function challenge(fields: Partial<Challenge> = {}): Challenge {
  return {
    id: 1, brand_id: 1, title: "Spring brew-off", description: "", image_url: "",
    starts_at: "2026-03-01T09:00:00Z", ends_at: "2026-03-08T09:00:00Z", time_zone: "Europe/Paris",
    status: "active", eligibility: "all", eligibility_value: "", auto_enroll: false, ordered: false,
    reward_points: 25, reward_badge_id: null, tasks: [task(1, "Say hello")], ...fields,
  };
}

function mine(fields: Partial<MyChallenge> = {}): MyChallenge {
  return { challenge_id: 1, joined: true, joined_at: "2026-03-02T10:00:00Z", completed_at: null,
    reward_pending: false, tasks: [], ...fields };
}

describe("challenge dates", () => {
  it("are shown in the challenge's time zone", () => {
    const { format, zone } = zoned("Europe/Paris");
    expect(zone).toBe("Europe/Paris");
    expect(format.format(new Date("2026-03-01T09:00:00Z"))).toContain("10:00");
  });

  it("fall back to UTC, named, for a zone the browser does not know", () => {
    const { format, zone } = zoned("Mars/Olympus_Mons");
    expect(zone).toBe("UTC");
    expect(format.format(new Date("2026-03-01T09:00:00Z"))).toContain("09:00");
  });
});

describe("status", () => {
  it("has a label, and running challenges come first", () => {
    expect(statusLabel("active")).toBe("Active");
    expect(statusLabel("odd")).toBe("odd");
    const sorted = sortChallenges([{ status: "ended" }, { status: "scheduled" }, { status: "active" },
      { status: "cancelled" }, { status: "draft" }]);
    expect(sorted.map((c) => c.status)).toEqual(["active", "scheduled", "draft", "ended", "cancelled"]);
  });
});

describe("reward and eligibility text", () => {
  it("names points, the badge when known, or says there is none", () => {
    expect(rewardText(challenge())).toBe("25 points");
    expect(rewardText(challenge({ reward_points: 1500, reward_badge_id: 4 }))).toBe("1,500 points and a badge");
    expect(rewardText(challenge({ reward_points: 0, reward_badge_id: 4 }), new Map([[4, "Barista"]])))
      .toBe("the “Barista” badge");
    expect(rewardText(challenge({ reward_points: 0 }))).toBe("No reward: just for the fun of it");
  });

  it("says who may take part", () => {
    expect(eligibilityText(challenge())).toBe("Every member");
    expect(eligibilityText(challenge({ eligibility: "tier", eligibility_value: "VIP" })))
      .toBe("Members at the VIP tier or above");
    expect(eligibilityText(challenge({ eligibility: "badge", eligibility_value: "4" })))
      .toBe("Members who hold a particular badge");
    expect(eligibilityText(challenge({ eligibility: "badge", eligibility_value: "4" }), new Map([[4, "Barista"]])))
      .toBe("Members who hold the “Barista” badge");
  });
});

describe("tasks", () => {
  it("count once or n times before joining", () => {
    expect(targetText(1)).toBe("Once");
    expect(targetText(1200)).toBe("1,200 times");
  });

  it("in an ordered challenge, the first unfinished task is current and later ones wait", () => {
    const c = challenge({ ordered: true, tasks: [task(1, "a"), task(2, "b"), task(3, "c")] });
    const m = mine({ tasks: [
      { task_id: 1, name: "a", count: 1, target: 1, done: true },
      { task_id: 2, name: "b", count: 0, target: 2, done: false },
      { task_id: 3, name: "c", count: 0, target: 1, done: false },
    ] });
    expect(taskStates(c, m).map((t) => t.state)).toEqual(["done", "current", "waiting"]);
    expect(taskStates({ ...c, ordered: false }, m).map((t) => t.state)).toEqual(["done", "open", "open"]);
    expect(taskStates(c, null).map((t) => t.progress)).toEqual([null, null, null]);
  });
});

describe("the member's standing", () => {
  it("invites the signed out to sign in only while it can be joined", () => {
    expect(standingOf("active", false, null)).toEqual({ kind: "sign-in" });
    expect(standingOf("ended", false, null)).toEqual({ kind: "none" });
  });

  it("offers Join, or says why not", () => {
    expect(standingOf("scheduled", true, mine({ joined: false }))).toEqual({ kind: "can-join" });
    expect(standingOf("cancelled", true, null)).toEqual({ kind: "closed",
      message: "This challenge is cancelled: it can no longer be joined." });
    expect(standingOf("draft", true, null).kind).toBe("closed");
  });

  it("follows the member from joined to completed", () => {
    expect(standingOf("active", true, mine())).toMatchObject({ kind: "joined", ended: false,
      message: "You're in. Complete every task below to finish the challenge." });
    expect(standingOf("scheduled", true, mine())).toMatchObject({ kind: "joined",
      message: "You're in. Your progress counts once the challenge starts." });
    expect(standingOf("ended", true, mine())).toMatchObject({ kind: "joined", ended: true });
    expect(standingOf("active", true, mine({ completed_at: "2026-03-03T10:00:00Z", reward_pending: true })))
      .toEqual({ kind: "completed", completedAt: "2026-03-03T10:00:00Z", rewardPending: true });
  });
});
