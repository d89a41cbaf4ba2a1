// The rewards views: a member's points, tier and badges, and the leaderboards. Both redraw
// when something moves (points posted to the member, a board's ranking changing), so a member
// sees recognition land without reloading.

import { api } from "./api.js";
import { append, debounced, h, replaceChildren } from "./dom.js";

const BOARDS = [["all-time", "All time"], ["week", "This week"], ["month", "This month"]];
const BOARD_SIZE = 25;

const number = (n) => Number(n).toLocaleString("en-US");
const signed = (n) => (n > 0 ? `+${number(n)}` : number(n));
const day = (iso) => new Date(iso).toLocaleDateString("en-GB",
  { day: "numeric", month: "short", year: "numeric" });

// --- my rewards ------------------------------------------------------------------------------

function pointsCard(points) {
  return h("section", { class: "card reward-card", testid: "points-card" },
    h("h2", {}, "Points"),
    h("p", { class: "big-figure" }, h("span", { testid: "points-balance" }, number(points.balance)),
      h("span", { class: "unit" }, " to spend")),
    h("p", { class: "muted" }, "Earned in all: ",
      h("span", { testid: "points-lifetime" }, number(points.lifetime_earned))));
}

function tierCard(tier) {
  const next = tier.next;
  return h("section", { class: "card reward-card", testid: "tier-card" },
    h("h2", {}, "Tier"),
    h("p", { class: "big-figure", testid: "tier-name" }, tier.tier ? tier.tier.name : "No tier yet"),
    h("p", { class: "muted" },
      `${number(tier.earned_in_window)} points earned in the last ${tier.window_days} days`),
    next ? [
      h("progress", { max: next.threshold, value: Math.min(tier.earned_in_window, next.threshold),
        "aria-label": `Progress to ${next.name}` }),
      h("p", { testid: "tier-next" }, `${number(next.points_needed)} points to ${next.name}`),
    ] : h("p", { testid: "tier-next" }, "Top of the ladder"),
    tier.demotes_at ? h("p", { class: "notice", testid: "tier-demotes" },
      `Earn a little more to keep your tier: it steps down on ${day(tier.demotes_at)}.`) : null);
}

function badgeItem(badge, extra, testid) {
  return h("li", { class: `badge-item level-${badge.level}`, testid },
    h("span", { class: "badge-icon", "aria-hidden": "true" }, badge.name.slice(0, 1).toUpperCase()),
    h("span", { class: "badge-text" },
      h("strong", { testid: "badge-name" }, badge.name),
      badge.description ? h("span", { class: "muted" }, badge.description) : null,
      extra));
}

function badgesCard(badges) {
  return h("section", { class: "card reward-card wide", testid: "badges-card" },
    h("h2", {}, "Badges"),
    badges.earned.length
      ? h("ul", { class: "badge-list" }, badges.earned.map((b) => badgeItem(b.badge,
        h("span", { class: "muted" }, b.times > 1 ? `earned ${b.times} times` : `earned ${day(b.first_granted_at)}`),
        "badge-earned")))
      : h("p", { class: "muted" }, "None yet: post, help others and take part in challenges."),
    badges.unearned.length ? [
      h("h3", {}, "Within reach"),
      h("ul", { class: "badge-list" }, badges.unearned.map((b) => badgeItem(b.badge,
        b.progress ? [
          h("progress", { max: b.progress.needed, value: Math.min(b.progress.current, b.progress.needed) }),
          h("span", { class: "muted" }, `${number(b.progress.current)} of ${number(b.progress.needed)}`),
        ] : h("span", { class: "muted" }, "given by the team"),
        "badge-unearned"))),
    ] : null);
}

function historyCard(history) {
  return h("section", { class: "card reward-card wide", testid: "history-card" },
    h("h2", {}, "Recent points"),
    history.items.length
      ? h("ul", { class: "history" }, history.items.map((item) =>
        h("li", { testid: "history-item" },
          h("span", { class: item.amount > 0 ? "amount gain" : "amount loss" }, signed(item.amount)),
          h("span", { class: "reason" }, item.reason),
          h("time", { class: "muted", datetime: item.created_at }, day(item.created_at)))))
      : h("p", { class: "muted" }, "Nothing yet."));
}

export async function rewardsView(view, _params, ctx) {
  if (!ctx.me) {
    append(view, h("div", { class: "card" }, h("h1", {}, "Your rewards"),
      h("p", {}, "Points, tiers and badges are for members. "), ctx.signInPrompt("to see yours.")));
    return;
  }
  const body = h("div", { class: "reward-grid" });
  append(view, h("div", { class: "view-head" }, h("h1", {}, "Your rewards"),
    h("a", { href: "#/leaderboards" }, "Leaderboards →")), body);
  view.dataset.testid = "rewards-view";

  const redraw = async () => {
    const [points, tier, badges, history] = await Promise.all([
      api.myPoints(), api.myTier(), api.myBadges(), api.myHistory(),
    ]);
    if (!ctx.alive()) return;
    replaceChildren(body, pointsCard(points), tierCard(tier), badgesCard(badges), historyCard(history));
  };
  await redraw();
  const poke = debounced(redraw, ctx);
  ctx.onCleanup(ctx.followMe((frame) => {
    if (frame.event === "points.posted" || frame.event === "refetch") poke();
    if (frame.event === "notification" && ["badge", "tier"].includes(frame.data.kind)) poke();
  }));
}

// --- leaderboards ----------------------------------------------------------------------------

function boardRows(items, meId) {
  if (!items.length) return h("p", { class: "muted", testid: "board-empty" }, "Nobody has points here yet.");
  return h("ol", { class: "board" }, items.map((row) =>
    h("li", { class: row.member.id === meId ? "board-row me" : "board-row", testid: "board-row" },
      h("span", { class: "rank", testid: "board-rank" }, `#${row.rank}`),
      h("span", { class: "who", testid: "board-handle" }, `@${row.member.handle}`),
      h("span", { class: "score", testid: "board-score" }, number(row.score)))));
}

function aroundMe(page) {
  if (!page.me) return h("p", { class: "muted", testid: "board-me" }, "You are not on this board yet.");
  return h("p", { testid: "board-me" },
    `You are #${page.me.rank} with ${number(page.me.score)} points.`);
}

export async function leaderboardView(view, { board }, ctx) {
  const name = board || "all-time";
  const tabs = h("nav", { class: "tabs", "aria-label": "Boards" }, BOARDS.map(([key, label]) =>
    h("a", { href: `#/leaderboards/${key}`, class: key === name ? "tab current" : "tab",
      "aria-current": key === name ? "page" : null }, label)));
  const top = h("div", { testid: "board-top" });
  const mine = h("div", { class: "card", testid: "board-around" });
  append(view, h("div", { class: "view-head" }, h("h1", {}, "Leaderboard"),
    ctx.me ? h("a", { href: "#/rewards" }, "Your rewards →") : null), tabs,
    h("p", { class: "muted" }, "Equal scores share a rank (1, 2, 2, 4). Staff are not ranked."),
    h("section", { class: "card" }, top), ctx.me ? mine : null);
  view.dataset.testid = "leaderboard-view";

  let channel = null;
  const redraw = async () => {
    const [page, around] = await Promise.all([
      api.leaderboard(name, BOARD_SIZE), ctx.me ? api.aroundMe(name) : null,
    ]);
    if (!ctx.alive()) return page;
    replaceChildren(top, boardRows(page.items, ctx.me?.id));
    if (around) replaceChildren(mine, aroundMe(around));
    return page;
  };
  const page = await redraw();
  channel = `leaderboard:${page.board}`;
  const poke = debounced(redraw, ctx);
  const sub = ctx.live.subscribe(channel, {
    onMessage: (frame) => { if (frame.event === "leaderboard.changed") poke(); },
    onRefetch: poke,
    onReady: ({ fresh }) => {
      view.dataset.live = "subscribed";
      if (fresh) poke();
    },
  });
  ctx.onCleanup(() => sub.close());
  // Your own rank moves with your points even when the top of the board does not.
  if (ctx.me) {
    ctx.onCleanup(ctx.followMe((frame) => {
      if (frame.event === "points.posted" || frame.event === "refetch") poke();
    }));
  }
}
