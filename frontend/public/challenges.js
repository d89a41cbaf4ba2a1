// The challenges views: brands' seasonal challenges, and one challenge with its tasks, the
// signed-in member's progress and the challenge's leaderboard. A challenge page follows
// `challenge:{id}` live, so progress, completion and the ranking move without a reload.

import { api, ApiError } from "./api.js";
import { REDRAW_DELAY_MS, append, debounced, h, plural, replaceChildren } from "./dom.js";

const BOARD_SIZE = 20;
const LIST_WATCHED = 25; // the list follows at most this many challenges' status live
const STATUS = {
  draft: "Draft", scheduled: "Scheduled", active: "Active", ended: "Ended", cancelled: "Cancelled",
};
const STATUS_ORDER = ["active", "scheduled", "draft", "ended", "cancelled"];
const JOINABLE = new Set(["scheduled", "active"]);
const ALL = ["challenge", "mine", "board"];

const number = (n) => Number(n).toLocaleString("en-US");

// --- shared pieces ---------------------------------------------------------------------------

const DATE_OPTIONS = {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
};
const formatters = new Map();

/** Dates are shown in the challenge's own time zone: "ends at midnight in Paris" means that. */
function formatter(timeZone) {
  if (!formatters.has(timeZone)) {
    let format;
    try {
      format = new Intl.DateTimeFormat("en-GB", { ...DATE_OPTIONS, timeZone });
    } catch {
      format = null; // a zone this browser does not know: fall back to UTC, and say so
    }
    formatters.set(timeZone, format);
  }
  return formatters.get(timeZone);
}

function zoned(challenge) {
  const format = formatter(challenge.time_zone);
  return format
    ? { format, zone: challenge.time_zone }
    : { format: formatter("UTC"), zone: "UTC" };
}

function when(iso, format) {
  const date = new Date(iso);
  return h("time", { datetime: date.toISOString() }, format.format(date));
}

function dates(challenge) {
  const { format, zone } = zoned(challenge);
  return h("p", { class: "challenge-dates", testid: "challenge-dates" },
    when(challenge.starts_at, format), " – ", when(challenge.ends_at, format),
    h("span", { class: "muted" }, ` (${zone} time)`));
}

function statusTag(status) {
  return h("span", { class: `tag status status-${status}`, testid: "challenge-status",
    dataset: { status } }, STATUS[status] || status);
}

function rewardText(challenge, badges) {
  const parts = [];
  if (challenge.reward_points) parts.push(`${number(challenge.reward_points)} points`);
  if (challenge.reward_badge_id !== null) {
    const name = badges?.get(challenge.reward_badge_id);
    parts.push(name ? `the “${name}” badge` : "a badge");
  }
  return parts.length ? parts.join(" and ") : "No reward: just for the fun of it";
}

function eligibilityText(challenge, badges) {
  if (challenge.eligibility === "tier") {
    return `Members at the ${challenge.eligibility_value} tier or above`;
  }
  if (challenge.eligibility === "badge") {
    const name = badges?.get(Number(challenge.eligibility_value));
    return name ? `Members who hold the “${name}” badge` : "Members who hold a particular badge";
  }
  return "Every member";
}

// --- the list --------------------------------------------------------------------------------

function challengeItem(challenge) {
  return h("li", { class: "card challenge-item", testid: "challenge-item",
    dataset: { challengeId: challenge.id, status: challenge.status } },
  h("div", { class: "challenge-line" },
    statusTag(challenge.status),
    h("a", { class: "challenge-title", href: `#/challenges/${challenge.id}`, testid: "challenge-link" },
      challenge.title)),
  dates(challenge),
  h("p", { class: "stat" },
    h("span", { testid: "challenge-reward" }, rewardText(challenge, null)), " · ",
    plural(challenge.tasks.length, "task")));
}

export async function challengesView(view, _params, ctx) {
  view.dataset.testid = "challenges-view";
  const body = h("div", { testid: "challenge-list-wrap" });
  append(view, h("div", { class: "view-head" }, h("h1", {}, "Challenges"),
    ctx.me ? h("a", { href: "#/rewards" }, "Your rewards →") : null),
  h("p", { class: "muted" },
    "Seasonal challenges run by brands: join one, complete its tasks and earn its reward."),
  ctx.me ? null : ctx.signInPrompt("to take part."),
  body);

  const redraw = async () => {
    const challenges = await api.challenges();
    if (!ctx.alive()) return challenges;
    const sorted = [...challenges].sort((a, b) =>
      STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
    replaceChildren(body, sorted.length
      ? h("ul", { class: "challenge-list", testid: "challenge-list" }, sorted.map(challengeItem))
      : h("p", { class: "muted card", testid: "challenge-list-empty" }, "No challenges yet."));
    return challenges;
  };
  const challenges = await redraw();
  if (!ctx.alive()) return;

  // A challenge starts, ends or is cancelled while the list is open: show its new status.
  const poke = debounced(redraw, ctx);
  const running = challenges.filter((c) => !["ended", "cancelled"].includes(c.status));
  for (const challenge of running.slice(0, LIST_WATCHED)) {
    const sub = ctx.live.subscribe(`challenge:${challenge.id}`, {
      onMessage: (frame) => { if (frame.event === "challenge.status") poke(); },
      onRefetch: poke,
    });
    ctx.onCleanup(() => sub.close());
  }
}

// --- one challenge ---------------------------------------------------------------------------

function taskItem(task, progress, state) {
  const done = progress ? progress.done : false;
  const label = progress ? `${task.name}: ${number(progress.count)} of ${number(progress.target)}` : null;
  return h("li", { class: `challenge-task ${state}`, testid: "challenge-task",
    dataset: { done: String(done), state } },
  h("div", { class: "task-line" },
    h("span", { class: "task-name", testid: "task-name" }, task.name),
    done ? h("span", { class: "done-mark", testid: "task-done" }, "✓ Done") : null,
    state === "waiting" ? h("span", { class: "muted task-hint" }, "after the task above") : null),
  progress ? [
    h("progress", { max: progress.target, value: Math.min(progress.count, progress.target),
      "aria-label": label }),
    h("span", { class: "muted task-count", testid: "task-count" },
      `${number(progress.count)} of ${number(progress.target)}`),
  ] : h("span", { class: "muted task-count", testid: "task-count" },
    task.target === 1 ? "Once" : `${number(task.target)} times`));
}

function boardList(standings, meId) {
  if (!standings.length) {
    return h("p", { class: "muted", testid: "challenge-board-empty" }, "Nobody has made progress yet.");
  }
  return h("ol", { class: "board" }, standings.map((row) =>
    h("li", { class: row.member_id === meId ? "board-row me" : "board-row",
      testid: "challenge-board-row", dataset: { memberId: row.member_id } },
    h("span", { class: "rank", testid: "challenge-board-rank" }, `#${row.rank}`),
    h("span", { class: "who", testid: "challenge-board-handle" }, `@${row.handle}`),
    row.completed
      ? h("span", { class: "done-mark", testid: "challenge-board-completed", title: "Completed" },
        "✓", h("span", { class: "visually-hidden" }, " completed"))
      : null,
    h("span", { class: "score", testid: "challenge-board-score" }, plural(row.score, "step")))));
}

export async function challengeView(view, { id }, ctx) {
  view.dataset.testid = "challenge-view";
  view.dataset.challengeId = String(id);
  view.dataset.live = "waiting";
  view.classList.add("challenge-view");

  const head = h("section", { class: "card challenge-head", testid: "challenge-head" });
  const tasks = h("section", { class: "card challenge-tasks", testid: "challenge-tasks",
    "aria-labelledby": "challenge-tasks-title" });
  const board = h("section", { class: "card", testid: "challenge-board",
    "aria-labelledby": "challenge-board-title" });
  append(view, h("nav", { class: "crumbs" }, h("a", { href: "#/challenges" }, "Challenges"), " / "),
    head, tasks, board);

  let challenge = null;
  let mine = null; // MyChallenge of the signed-in member
  let standings = [];
  let badges = null; // badge id → name, once known
  let joining = false;
  let joinError = null;
  let focusStatus = false;

  // --- loading: each poke names what changed; one fetch per delay, never two at once

  const pending = new Set();
  let timer = null;
  let running = false;
  ctx.onCleanup(() => clearTimeout(timer));

  function poke(...parts) {
    for (const part of parts) pending.add(part);
    if (timer === null && !running) timer = setTimeout(flush, REDRAW_DELAY_MS);
  }

  async function flush() {
    timer = null;
    if (!ctx.alive() || pending.size === 0) return;
    const parts = new Set(pending);
    pending.clear();
    running = true;
    try {
      await load(parts);
    } catch (err) {
      console.warn("redraw", err);
    } finally {
      running = false;
    }
    if (pending.size && ctx.alive()) timer = setTimeout(flush, REDRAW_DELAY_MS);
  }

  async function load(parts) {
    const [c, m, s] = await Promise.all([
      parts.has("challenge") ? api.challenge(id) : null,
      parts.has("mine") && ctx.me ? api.myChallenge(id) : null,
      parts.has("board") ? api.challengeBoard(id, BOARD_SIZE) : null,
    ]);
    if (!ctx.alive()) return;
    if (c) challenge = c;
    if (m) mine = m;
    if (s) standings = s;
    render();
  }

  async function loadBadgeNames() {
    if (badges || (challenge.reward_badge_id === null && challenge.eligibility !== "badge")) return;
    try {
      const list = await api.badges();
      badges = new Map(list.map((b) => [b.id, b.name]));
    } catch (err) {
      console.warn("badges", err); // only names: the page reads fine without them
      return;
    }
    if (ctx.alive()) render();
  }

  // --- live: subscribe first, so nothing falls between the first load and the stream

  const sub = ctx.live.subscribe(`challenge:${id}`, {
    onReady: ({ fresh }) => {
      view.dataset.live = "subscribed";
      if (fresh) poke(...ALL); // whatever moved before the subscription took
    },
    onRefetch: () => poke(...ALL),
    onMessage: (frame) => {
      if (frame.event === "challenge.status") poke(...ALL);
      if (frame.event === "challenge.progress") {
        poke("board");
        if (ctx.me && frame.data && frame.data.member_id === ctx.me.id) poke("mine");
      }
    },
    onError: () => { view.dataset.live = "refused"; },
  });
  const stopStatus = ctx.live.onStatus((status) => {
    if (status !== "live") view.dataset.live = "waiting";
    else if (sub.active) view.dataset.live = "subscribed";
  });
  ctx.onCleanup(() => {
    sub.close();
    stopStatus();
  });
  if (ctx.me) {
    // The reward is paid (or found pending) with the completion notification.
    ctx.onCleanup(ctx.followMe((frame) => {
      if (frame.event === "refetch") poke("mine");
      if (frame.event === "notification" && frame.data
          && ["challenge", "challenge_reward"].includes(frame.data.kind)
          && frame.data.data && frame.data.data.challenge_id === id) poke("mine");
    }));
  }

  await load(new Set(ALL));
  if (!ctx.alive()) return;
  loadBadgeNames();

  // --- joining

  async function join(button) {
    joining = true;
    joinError = null;
    button.disabled = true;
    try {
      const result = await api.joinChallenge(id);
      if (!ctx.alive()) return;
      mine = result;
      focusStatus = true;
    } catch (err) {
      if (!ctx.alive()) return;
      joinError = err instanceof ApiError ? err.message : "Could not join. Please try again.";
      if (!(err instanceof ApiError)) console.error(err);
      if (err instanceof ApiError && err.status === 409) poke("challenge"); // its status moved
    } finally {
      joining = false;
    }
    render();
  }

  // --- rendering

  function render() {
    renderHead();
    renderTasks();
    replaceChildren(board,
      h("h2", { id: "challenge-board-title" }, "Leaderboard"),
      h("p", { class: "muted" }, "Ranked by steps made on the tasks; equal scores share a rank " +
        "(1, 2, 2, 4). Staff are not ranked."),
      boardList(standings, ctx.me?.id));
  }

  function renderHead() {
    replaceChildren(head,
      challenge.image_url ? h("img", { class: "challenge-image", src: challenge.image_url, alt: "",
        testid: "challenge-image", loading: "lazy", referrerpolicy: "no-referrer" }) : null,
      h("h1", { testid: "challenge-title" }, challenge.title),
      h("div", { class: "row challenge-when" }, statusTag(challenge.status), dates(challenge)),
      challenge.description
        ? h("p", { class: "challenge-description", testid: "challenge-description" },
          challenge.description)
        : null,
      h("dl", { class: "facts" },
        h("dt", {}, "Who can take part"),
        h("dd", { testid: "challenge-eligibility" }, eligibilityText(challenge, badges)),
        h("dt", {}, "Reward"),
        h("dd", { testid: "challenge-reward" }, rewardText(challenge, badges))));
  }

  function participation() {
    const status = challenge.status;
    if (!ctx.me) {
      return JOINABLE.has(status) ? ctx.signInPrompt("to join this challenge.") : null;
    }
    if (!mine || !mine.joined) {
      if (!JOINABLE.has(status)) {
        return h("p", { class: "muted", testid: "challenge-closed" }, status === "draft"
          ? "This challenge is a draft: members cannot see or join it yet."
          : `This challenge is ${STATUS[status]?.toLowerCase() || status}: it can no longer be joined.`);
      }
      return [
        h("div", { class: "row" },
          h("button", { type: "button", testid: "challenge-join", disabled: joining,
            onclick: (event) => join(event.currentTarget) }, "Join the challenge"),
          h("span", { class: "muted" }, "Only what you do after joining counts.")),
        joinError ? h("p", { class: "form-error", testid: "challenge-join-error", role: "alert" },
          joinError) : null,
      ];
    }
    if (mine.completed_at) {
      const { format } = zoned(challenge);
      return [
        h("p", { class: "notice challenge-done", testid: "challenge-completed", tabindex: "-1" },
          "✓ You completed this challenge on ", when(mine.completed_at, format), "."),
        mine.reward_pending
          ? h("p", { class: "notice", testid: "challenge-reward-pending" },
            `Your reward of ${number(challenge.reward_points)} points is pending: it is paid ` +
            "as soon as the brand tops up its budget.")
          : challenge.reward_points || challenge.reward_badge_id !== null
            ? h("p", { class: "muted", testid: "challenge-rewarded" },
              `You earned ${rewardText(challenge, badges)}.`)
            : null,
      ];
    }
    const ended = !JOINABLE.has(status);
    return h("p", { class: ended ? "muted" : "notice", testid: "challenge-joined", tabindex: "-1" },
      ended ? "You took part, but the challenge closed before you finished it."
        : status === "scheduled" ? "You're in. Your progress counts once the challenge starts."
          : "You're in. Complete every task below to finish the challenge.");
  }

  function renderTasks() {
    const byTask = new Map((mine && mine.joined ? mine.tasks : []).map((t) => [t.task_id, t]));
    let reached = false; // in an ordered challenge, the first unfinished task is the current one
    const items = challenge.tasks.map((task) => {
      const progress = byTask.get(task.id) || null;
      let state = "open";
      if (progress && progress.done) state = "done";
      else if (challenge.ordered && progress) {
        state = reached ? "waiting" : "current";
        reached = true;
      }
      return taskItem(task, progress, state);
    });
    const status = h("div", { class: "participation", testid: "challenge-participation",
      "aria-live": "polite" }, participation());
    replaceChildren(tasks,
      h("h2", { id: "challenge-tasks-title" }, "Tasks"),
      status,
      challenge.ordered
        ? h("p", { class: "muted", testid: "challenge-ordered" },
          "Tasks count in order: each one starts counting once the one before it is done.")
        : null,
      h(challenge.ordered ? "ol" : "ul", { class: "task-list", testid: "challenge-task-list" }, items));
    if (focusStatus) {
      focusStatus = false;
      status.querySelector("[tabindex='-1']")?.focus();
    }
  }
}
