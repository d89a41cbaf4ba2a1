// Hearth web app: hash routing, the account area with live notifications, and the forum views
// (categories, a category's threads, a thread with live posts and reactions).
//
// Routes: #/            categories
//         #/c/<id>      threads of a category
//         #/t/<id>      a thread
//         #/rewards     my points, tier and badges (rewards.js)
//         #/leaderboards[/all-time|week|month]
//         #/challenges  brands' seasonal challenges (challenges.js)
//         #/challenges/<id>  a challenge: its tasks, my progress, its leaderboard, live
//         #/signin, #/register

import { api, ApiError } from "./api.js";
import { LiveClient } from "./live.js";
import { append, clear, h, icon, plural, replaceChildren, sleep, timeAgo } from "./dom.js";
import { challengesView, challengeView } from "./challenges.js";
import { leaderboardView, rewardsView } from "./rewards.js";

const REACTIONS = [
  ["like", "Like"],
  ["love", "Love"],
  ["laugh", "Laugh"],
  ["insightful", "Insightful"],
  ["thanks", "Thanks"],
];
const REACTED = {
  like: "liked your post",
  love: "loved your post",
  laugh: "laughed at your post",
  insightful: "found your post insightful",
  thanks: "thanked you for your post",
};
const SUBSCRIBE_WAIT_MS = 1500;

const state = {
  me: null, // MemberOut of the signed-in member, or null
  points: null, // the signed-in member's spendable balance, kept live
  categories: null,
};
// Views that want the signed-in member's own channel (points, notifications) listen here: the
// channel has one subscription, owned by the notifications.
const meListeners = new Set();
const live = new LiveClient();
const handles = new Map(); // member id → Promise<handle>

// --- small helpers ---------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function messageOf(err) {
  if (err instanceof ApiError) return err.message;
  console.error(err);
  return "Something went wrong. Please try again.";
}

let toastTimer = null;
function toast(message, kind = "error") {
  const el = $("toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 6000);
}

function formError() {
  return h("p", { class: "form-error", testid: "form-error", role: "alert", hidden: true });
}

function showFormError(el, err) {
  el.textContent = err ? messageOf(err) : "";
  el.hidden = !err;
}

function memberHandle(id) {
  if (!handles.has(id)) {
    handles.set(id, api.member(id).then((m) => m.handle, () => `member #${id}`));
  }
  return handles.get(id);
}

function isModerator() {
  return state.me !== null && (state.me.role === "moderator" || state.me.role === "admin");
}

function returnHere() {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/signin") && !hash.startsWith("#/register")) {
    sessionStorage.setItem("hearth.returnTo", hash);
  }
}

function signInPrompt(text) {
  return h("p", { class: "muted signin-prompt" },
    h("a", { href: "#/signin", onclick: returnHere }, "Sign in"), " or ",
    h("a", { href: "#/register", onclick: returnHere }, "create an account"), ` ${text}`);
}

function submitOnCtrlEnter(event) {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    event.target.form?.requestSubmit();
  }
}

async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

// --- account area ----------------------------------------------------------------------------

function renderAccount() {
  const nav = $("account");
  clear(nav);
  if (state.me) {
    append(nav, [
      h("button", {
        type: "button", class: "bell", testid: "notif-button", "aria-haspopup": "true",
        "aria-expanded": "false", title: "Notifications", onclick: toggleNotifications,
      },
      icon("bell"),
      h("span", { class: "visually-hidden" }, "Notifications"),
      h("span", { class: "badge", testid: "notif-badge", hidden: true }, "0")),
      h("a", { href: "#/challenges", testid: "nav-challenges" }, "Challenges"),
      h("a", { href: "#/leaderboards", testid: "nav-leaderboards" }, "Leaderboard"),
      h("a", { href: "#/rewards", class: "points-link", testid: "nav-points", title: "Your rewards" },
        h("span", { testid: "nav-points-balance" }, state.points === null ? "…" : state.points.toLocaleString("en-US")),
        " pts"),
      h("span", { class: "me", testid: "current-user", title: state.me.display_name },
        `@${state.me.handle}`),
      h("button", { type: "button", class: "link-button", testid: "signout", onclick: signOut },
        "Sign out"),
    ]);
    setUnread(notif.unread);
  } else {
    append(nav, [
      h("a", { href: "#/challenges", testid: "nav-challenges" }, "Challenges"),
      h("a", { href: "#/leaderboards", testid: "nav-leaderboards" }, "Leaderboard"),
      h("a", { href: "#/signin", testid: "signin-link", onclick: returnHere }, "Sign in"),
      h("a", { href: "#/register", class: "button small", testid: "register-link",
        onclick: returnHere }, "Register"),
    ]);
  }
}

async function signedIn(member) {
  state.me = member;
  state.categories = null;
  handles.set(member.id, Promise.resolve(member.handle));
  renderAccount();
  live.reconnectNow(); // the socket now authenticates with the new session cookie
  followNotifications();
  const target = sessionStorage.getItem("hearth.returnTo") || "#/";
  sessionStorage.removeItem("hearth.returnTo");
  if (location.hash === target) route();
  else location.hash = target;
}

async function signOut(event) {
  const button = event.currentTarget;
  try {
    await busy(button, () => api.signOut());
  } catch (err) {
    toast(messageOf(err));
    return;
  }
  state.me = null;
  state.categories = null;
  followNotifications();
  closeNotifications();
  renderAccount();
  live.reconnectNow();
  route();
}

function renderLiveStatus(status) {
  const el = document.querySelector("[data-testid=live-status]");
  if (!el) return;
  el.dataset.status = status;
  const labels = { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…",
    offline: "Offline" };
  el.querySelector(".live-label").textContent = labels[status] || status;
}

// --- notifications ---------------------------------------------------------------------------

const notif = {
  unread: 0,
  items: null, // newest first, once loaded
  nextCursor: null,
  known: new Set(), // notification ids already counted
  collectors: new Set(), // live notifications seen while a fetch is in flight
  sub: null,
  open: false,
};

function setUnread(count) {
  notif.unread = Math.max(0, count);
  const badge = document.querySelector("[data-testid=notif-badge]");
  if (badge) {
    badge.textContent = notif.unread > 99 ? "99+" : String(notif.unread);
    badge.hidden = notif.unread === 0;
    badge.dataset.count = String(notif.unread);
  }
  document.title = notif.unread ? `(${notif.unread}) Hearth` : "Hearth";
}

function tellMeListeners(frame) {
  for (const listener of meListeners) {
    try { listener(frame); } catch (err) { console.error(err); }
  }
}

function setPoints(balance) {
  state.points = balance;
  const shown = document.querySelector("[data-testid=nav-points-balance]");
  if (shown) shown.textContent = balance === null ? "…" : balance.toLocaleString("en-US");
}

async function refreshPoints() {
  const me = state.me;
  if (!me) return;
  try {
    const points = await api.myPoints();
    if (state.me === me) setPoints(points.balance);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn("points", err);
  }
}

function followNotifications() {
  notif.sub?.close();
  notif.sub = null;
  notif.items = null;
  notif.known.clear();
  setUnread(0);
  setPoints(null);
  if (!state.me) return;
  const refetch = () => {
    refreshNotifications();
    refreshPoints();
    tellMeListeners({ event: "refetch" });
  };
  notif.sub = live.subscribe(`user:${state.me.id}`, {
    onReady: ({ fresh }) => { if (fresh) refetch(); },
    onRefetch: refetch,
    onMessage: (frame) => {
      if (frame.event === "notification") addNotification(frame.data);
      if (frame.event === "points.posted") setPoints(frame.data.balance);
      tellMeListeners(frame);
    },
  });
  refreshNotifications();
  refreshPoints();
}

function addNotification(item) {
  for (const collect of notif.collectors) collect.set(item.id, item);
  if (notif.known.has(item.id)) return;
  notif.known.add(item.id);
  if (notif.items) notif.items.unshift(item);
  if (!item.read) setUnread(notif.unread + 1);
  if (notif.open) renderNotifications();
}

async function refreshNotifications() {
  const me = state.me;
  if (!me) return;
  const seenDuring = new Map();
  notif.collectors.add(seenDuring);
  let page;
  try {
    page = await api.notifications();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) console.warn("notifications", err);
    return;
  } finally {
    notif.collectors.delete(seenDuring);
  }
  if (state.me !== me) return;
  const fetched = new Set(page.items.map((n) => n.id));
  // Pushed while the request was in flight and not in its answer: newer than its count.
  const newer = [...seenDuring.values()].filter((n) => !fetched.has(n.id));
  for (const id of fetched) notif.known.add(id);
  notif.items = [...newer.reverse(), ...page.items];
  notif.nextCursor = page.next_cursor;
  setUnread(page.unread_count + newer.filter((n) => !n.read).length);
  if (notif.open) renderNotifications();
}

function notificationText(item, handle) {
  const who = `@${handle}`;
  if (item.kind === "reply") return `${who} replied to your post`;
  if (item.kind === "reaction") {
    return `${who} ${REACTED[item.data.kind] || `reacted “${item.data.kind}” to your post`}`;
  }
  if (item.kind === "mention") return `${who} mentioned you`;
  const data = item.data || {};
  const points = data.reward_points ? `${Number(data.reward_points).toLocaleString("en-US")} points` : "";
  if (item.kind === "challenge") {
    const reward = !points ? "" : data.reward_pending ? ` (${points} pending)` : ` (+${points})`;
    return `You completed the challenge “${data.title}”${reward}`;
  }
  if (item.kind === "challenge_reward") {
    return `Your ${points || "reward"} for “${data.title}” arrived`;
  }
  return `${item.kind.replace(/[_.]/g, " ")}`;
}

function renderNotifications() {
  const panel = $("notif-panel");
  clear(panel);
  const markRead = h("button", {
    type: "button", class: "link-button", testid: "notif-mark-read", disabled: notif.unread === 0,
    onclick: async (event) => {
      try {
        const page = await busy(event.currentTarget, () => api.markNotificationsRead());
        notif.items = page.items;
        for (const n of page.items) notif.known.add(n.id);
        notif.nextCursor = page.next_cursor;
        setUnread(page.unread_count);
        renderNotifications();
      } catch (err) {
        toast(messageOf(err));
      }
    },
  }, "Mark all read");
  append(panel, h("div", { class: "notif-head" }, h("strong", {}, "Notifications"), markRead));
  if (notif.items === null) {
    append(panel, h("p", { class: "muted" }, "Loading…"));
    return;
  }
  if (notif.items.length === 0) {
    append(panel, h("p", { class: "muted", testid: "notif-empty" }, "Nothing yet."));
    return;
  }
  const list = h("ul", { class: "notif-list" });
  for (const item of notif.items) {
    const text = h("span", { class: "notif-text" }, "…");
    const by = item.data && item.data.by_member_id;
    if (by) memberHandle(by).then((handle) => { text.textContent = notificationText(item, handle); });
    else text.textContent = notificationText(item, "someone");
    let href = "#/";
    if (item.data && item.data.thread_id) href = `#/t/${item.data.thread_id}`;
    else if (item.data && item.data.challenge_id) href = `#/challenges/${item.data.challenge_id}`;
    append(list, h("li", {
      class: item.read ? "notif-item" : "notif-item unread", testid: "notif-item",
      dataset: { kind: item.kind, read: String(item.read) },
    }, h("a", { href, onclick: closeNotifications }, text, " ", timeAgo(item.created_at))));
  }
  append(panel, list);
}

function toggleNotifications() {
  if (notif.open) closeNotifications();
  else openNotifications();
}

function openNotifications() {
  notif.open = true;
  $("notif-panel").hidden = false;
  document.querySelector("[data-testid=notif-button]")?.setAttribute("aria-expanded", "true");
  renderNotifications();
  refreshNotifications();
}

function closeNotifications() {
  notif.open = false;
  $("notif-panel").hidden = true;
  document.querySelector("[data-testid=notif-button]")?.setAttribute("aria-expanded", "false");
}

document.addEventListener("click", (event) => {
  if (!notif.open) return;
  const inside = event.target.closest("#notif-panel, [data-testid=notif-button]");
  if (!inside) closeNotifications();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && notif.open) closeNotifications();
});

// --- router ----------------------------------------------------------------------------------

let routeToken = 0;
let cleanups = [];

function runCleanups() {
  const pending = cleanups;
  cleanups = [];
  for (const fn of pending) {
    try { fn(); } catch (err) { console.error(err); }
  }
}

async function route() {
  const token = ++routeToken;
  runCleanups();
  const parts = (location.hash || "#/").replace(/^#\/?/, "").split("/").filter(Boolean);
  const root = $("view");
  const view = h("div", { class: "view" });
  replaceChildren(root, view);
  window.scrollTo(0, 0);
  const ctx = {
    alive: () => token === routeToken,
    onCleanup: (fn) => { if (token === routeToken) cleanups.push(fn); else fn(); },
    me: state.me,
    live,
    signInPrompt,
    followMe: (listener) => {
      meListeners.add(listener);
      return () => meListeners.delete(listener);
    },
  };
  let render;
  let params = {};
  if (parts.length === 0) render = categoriesView;
  else if (parts[0] === "c" && /^\d+$/.test(parts[1] || "")) {
    render = categoryView;
    params = { id: Number(parts[1]) };
  } else if (parts[0] === "t" && /^\d+$/.test(parts[1] || "")) {
    render = threadView;
    params = { id: Number(parts[1]) };
  } else if (parts[0] === "rewards" && parts.length === 1) render = rewardsView;
  else if (parts[0] === "challenges" && parts.length === 1) render = challengesView;
  else if (parts[0] === "challenges" && /^\d+$/.test(parts[1] || "") && parts.length === 2) {
    render = challengeView;
    params = { id: Number(parts[1]) };
  }
  else if (parts[0] === "leaderboards" && /^(all-time|week|month)?$/.test(parts[1] || "")
           && parts.length <= 2) {
    render = leaderboardView;
    params = { board: parts[1] || "all-time" };
  } else if (parts[0] === "signin") render = signInView;
  else if (parts[0] === "register") render = registerView;
  else render = notFoundView;
  try {
    await render(view, params, ctx);
  } catch (err) {
    if (!ctx.alive()) return;
    replaceChildren(view, h("div", { class: "card error-card", testid: "view-error" },
      h("h1", {}, err instanceof ApiError && err.status === 404 ? "Not found" : "Cannot show this page"),
      h("p", {}, messageOf(err)),
      err instanceof ApiError && (err.status === 401 || err.status === 403) && !state.me
        ? signInPrompt("to see it.") : null,
      h("p", {}, h("a", { href: "#/" }, "← All categories"))));
  }
}

function notFoundView(view) {
  append(view, h("div", { class: "card" }, h("h1", {}, "Not found"),
    h("p", {}, "There is nothing at this address. "), h("a", { href: "#/" }, "← All categories")));
}

// --- sign in / register ----------------------------------------------------------------------

function signInView(view) {
  if (state.me) {
    location.hash = "#/";
    return;
  }
  const login = h("input", { name: "login", autocomplete: "username", required: true,
    testid: "signin-login", id: "signin-login" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password",
    required: true, testid: "signin-password", id: "signin-password" });
  const error = formError();
  const submit = h("button", { type: "submit", testid: "signin-submit" }, "Sign in");
  const form = h("form", {
    class: "card narrow stack", testid: "signin-form",
    onsubmit: async (event) => {
      event.preventDefault();
      showFormError(error, null);
      try {
        const session = await busy(submit, () => api.signIn(login.value.trim(), password.value));
        await signedIn(session.member);
      } catch (err) {
        showFormError(error, err);
        password.select();
      }
    },
  },
  h("h1", {}, "Sign in"),
  h("label", { for: "signin-login" }, "Handle or email"), login,
  h("label", { for: "signin-password" }, "Password"), password,
  error, submit,
  h("p", { class: "muted" }, "New here? ", h("a", { href: "#/register" }, "Create an account")));
  append(view, form);
  login.focus();
}

function registerView(view) {
  if (state.me) {
    location.hash = "#/";
    return;
  }
  const handle = h("input", { name: "handle", autocomplete: "username", required: true,
    minlength: 3, maxlength: 32, pattern: "[A-Za-z0-9_]+", testid: "register-handle",
    id: "register-handle" });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true,
    testid: "register-email", id: "register-email" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password",
    required: true, minlength: 10, testid: "register-password", id: "register-password" });
  const error = formError();
  const submit = h("button", { type: "submit", testid: "register-submit" }, "Create account");
  append(view, h("form", {
    class: "card narrow stack", testid: "register-form",
    onsubmit: async (event) => {
      event.preventDefault();
      showFormError(error, null);
      try {
        const session = await busy(submit, () =>
          api.register(handle.value.trim(), email.value.trim(), password.value));
        await signedIn(session.member);
      } catch (err) {
        showFormError(error, err);
      }
    },
  },
  h("h1", {}, "Create an account"),
  h("label", { for: "register-handle" }, "Handle"), handle,
  h("small", { class: "muted" }, "3–32 letters, digits or underscores."),
  h("label", { for: "register-email" }, "Email"), email,
  h("label", { for: "register-password" }, "Password"), password,
  h("small", { class: "muted" }, "At least 10 characters."),
  error, submit,
  h("p", { class: "muted" }, "Have an account? ", h("a", { href: "#/signin" }, "Sign in"))));
  handle.focus();
}

// --- categories ------------------------------------------------------------------------------

async function loadCategories(force = false) {
  if (force || !state.categories) state.categories = await api.categories();
  return state.categories;
}

async function categoriesView(view, _params, ctx) {
  const categories = await loadCategories(true);
  if (!ctx.alive()) return;
  append(view, h("h1", {}, "Categories"));
  if (categories.length === 0) {
    append(view, h("p", { class: "muted card" }, "No categories yet."));
    return;
  }
  const list = h("ul", { class: "category-list", testid: "category-list" });
  for (const category of categories) {
    append(list, h("li", { class: "card category", testid: "category",
      dataset: { categoryId: category.id } },
    h("a", { class: "category-name", href: `#/c/${category.id}`, testid: "category-link" },
      category.name),
    category.visibility === "members"
      ? h("span", { class: "tag", title: "Visible to signed-in members" }, "Members") : null,
    category.description ? h("p", { class: "muted" }, category.description) : null,
    h("span", { class: "stat" }, plural(category.thread_count, "thread"))));
  }
  append(view, list);
}

function threadItem(thread) {
  const unread = thread.unread_count;
  return h("li", { class: "card thread-item", testid: "thread-item",
    dataset: { threadId: thread.id } },
  h("div", { class: "thread-main" },
    h("div", { class: "thread-line" },
      thread.pinned ? h("span", { class: "tag pinned", testid: "thread-pinned", title: "Pinned" },
        icon("pin"), "Pinned") : null,
      thread.locked ? h("span", { class: "tag locked", testid: "thread-locked" },
        icon("lock"), "Locked") : null,
      h("a", { class: "thread-title", href: `#/t/${thread.id}`, testid: "thread-link" }, thread.title)),
    h("div", { class: "meta" }, `@${thread.author.handle} · last activity `,
      timeAgo(thread.last_activity_at))),
  h("div", { class: "thread-stats" },
    h("span", { class: "stat", testid: "thread-post-count", dataset: { count: thread.post_count } },
      plural(thread.post_count, "post")),
    unread ? h("span", { class: "unread-badge", testid: "thread-unread", dataset: { count: unread } },
      `${unread} new`) : null));
}

async function categoryView(view, { id }, ctx) {
  const [categories, firstPage] = await Promise.all([loadCategories(), api.threads(id)]);
  if (!ctx.alive()) return;
  const category = categories.find((c) => c.id === id);
  append(view, h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "Categories"), " / "));
  append(view, h("div", { class: "view-head" },
    h("div", {},
      h("h1", { testid: "category-title" }, category ? category.name : `Category ${id}`),
      category && category.description ? h("p", { class: "muted" }, category.description) : null),
    state.me ? h("button", { type: "button", testid: "new-thread-toggle",
      onclick: () => {
        form.hidden = !form.hidden;
        if (!form.hidden) title.focus();
      } }, "New thread") : null));

  const title = h("input", { name: "title", required: true, minlength: 3, maxlength: 200,
    testid: "new-thread-title", id: "new-thread-title" });
  const body = h("textarea", { name: "body", required: true, rows: 6, testid: "new-thread-body",
    id: "new-thread-body", onkeydown: submitOnCtrlEnter });
  const error = formError();
  const submit = h("button", { type: "submit", testid: "new-thread-submit" }, "Start thread");
  const form = h("form", {
    class: "card stack", testid: "new-thread-form", hidden: true,
    onsubmit: async (event) => {
      event.preventDefault();
      showFormError(error, null);
      try {
        const created = await busy(submit, () => api.createThread(id, title.value, body.value));
        location.hash = `#/t/${created.thread.id}`;
      } catch (err) {
        showFormError(error, err);
      }
    },
  },
  h("label", { for: "new-thread-title" }, "Title"), title,
  h("label", { for: "new-thread-body" }, "First post ", h("small", { class: "muted" }, "(Markdown)")),
  body, error,
  h("div", { class: "row" }, submit,
    h("button", { type: "button", class: "secondary", onclick: () => { form.hidden = true; } },
      "Cancel")));
  if (state.me) append(view, form);
  else append(view, signInPrompt("to start a thread."));

  const list = h("ul", { class: "thread-list", testid: "thread-list" });
  const empty = h("p", { class: "muted card", testid: "thread-list-empty" }, "No threads yet.");
  let cursor = null;
  const more = h("button", {
    type: "button", class: "secondary load-more", testid: "load-more-threads",
    onclick: async () => {
      try {
        const page = await busy(more, () => api.threads(id, cursor));
        if (!ctx.alive()) return;
        show(page);
      } catch (err) {
        toast(messageOf(err));
      }
    },
  }, "Load more");
  const show = (page) => {
    for (const thread of page.items) append(list, threadItem(thread));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    empty.hidden = list.childElementCount > 0;
  };
  append(view, list, empty, more);
  show(firstPage);
}

// --- a thread --------------------------------------------------------------------------------

async function threadView(view, { id }, ctx) {
  const me = state.me;
  const channel = `thread:${id}`;
  const posts = new Map(); // post id → entry {data, el, parts, editing, confirming}
  let thread = null;
  let nextCursor = null; // post number to page on from; null once everything is loaded
  let restLast = 0; // highest post number a REST page has returned
  let loaded = false;
  let gone = false;
  let replyTo = null;
  let replyBody = null; // the composer's textarea and reply-to chip, once rendered
  let replyChip = null;
  let tailTimer = null;
  const pending = []; // live frames that arrive before the first page is shown

  view.dataset.testid = "thread-view";
  view.dataset.threadId = String(id);
  view.dataset.live = "waiting";
  view.classList.add("thread-view");

  const header = h("header", { class: "thread-head" });
  const notice = h("p", { class: "notice", testid: "thread-notice", hidden: true });
  const list = h("div", { class: "post-list", testid: "post-list" });
  const more = h("button", { type: "button", class: "secondary load-more", testid: "load-more-posts",
    hidden: true, onclick: () => busy(more, () => loadPage(nextCursor)).catch((e) => toast(messageOf(e))) },
  "Load more posts");
  const composer = h("div", { class: "composer" });
  append(view, header, notice, list, more, composer);

  // realtime: subscribe first, then load, so nothing falls between the page and the stream
  const sub = live.subscribe(channel, {
    onReady: ({ fresh }) => {
      view.dataset.live = "subscribed";
      if (fresh && loaded) reload(); // we loaded before the subscription took: close the gap
    },
    onRefetch: () => reload(),
    onMessage: (frame) => {
      if (!loaded) pending.push(frame);
      else applyLive(frame);
    },
    onError: () => { view.dataset.live = "refused"; },
  });
  const stopStatus = live.onStatus((status) => {
    if (status !== "live") view.dataset.live = "waiting";
    else if (sub.active) view.dataset.live = "subscribed";
  });
  ctx.onCleanup(() => {
    sub.close();
    stopStatus();
    clearTimeout(tailTimer);
  });
  await Promise.race([sub.ready, sleep(SUBSCRIBE_WAIT_MS)]);
  if (!ctx.alive()) return;

  await loadPage(0);
  if (!ctx.alive()) return;
  loaded = true;
  renderComposer();
  for (const frame of pending.splice(0)) applyLive(frame);

  // --- loading

  async function loadPage(after, limit) {
    const page = await api.thread(id, after, limit);
    if (!ctx.alive()) return;
    thread = page.thread;
    for (const post of page.items) upsert(post, false);
    if (page.items.length) restLast = Math.max(restLast, page.items[page.items.length - 1].post_number);
    nextCursor = page.next_cursor;
    more.hidden = nextCursor === null;
    renderHeader();
  }

  async function reload() {
    const shown = posts.size;
    try {
      const page = await api.thread(id, 0, Math.min(100, Math.max(20, shown)));
      if (!ctx.alive()) return;
      for (const entry of posts.values()) entry.el.remove();
      posts.clear();
      restLast = 0;
      thread = page.thread;
      for (const post of page.items) upsert(post, false);
      if (page.items.length) restLast = page.items[page.items.length - 1].post_number;
      nextCursor = page.next_cursor;
      more.hidden = nextCursor === null;
      renderHeader();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) threadGone();
      else toast(messageOf(err));
    }
  }

  // Fetch what arrived live through the API too: authoritative, and it marks the posts read.
  function scheduleTailSync() {
    clearTimeout(tailTimer);
    tailTimer = setTimeout(async () => {
      if (nextCursor !== null || gone || !ctx.alive()) return;
      try {
        await loadPage(restLast, 100);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) threadGone();
      }
    }, 1000);
  }

  // --- rendering

  function renderHeader() {
    if (!thread) return;
    const category = (state.categories || []).find((c) => c.id === thread.category_id);
    replaceChildren(header,
      h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "Categories"), " / ",
        h("a", { href: `#/c/${thread.category_id}`, testid: "thread-category" },
          category ? category.name : "Back to threads")),
      h("h1", { testid: "thread-title" },
        thread.pinned ? h("span", { class: "tag pinned", testid: "thread-pinned", title: "Pinned" },
          icon("pin"), "Pinned") : null,
        thread.locked ? h("span", { class: "tag locked", testid: "thread-locked", title: "Locked" },
          icon("lock"), "Locked") : null,
        thread.title),
      h("p", { class: "meta" }, `Started by @${thread.author.handle} `, timeAgo(thread.created_at),
        " · ", h("span", { testid: "thread-post-total" }, plural(thread.post_count, "post"))));
    if (!state.categories) loadCategories().then(() => ctx.alive() && renderHeader(), () => {});
  }

  function threadGone() {
    gone = true;
    notice.textContent = "This thread was deleted.";
    notice.hidden = false;
    clear(composer);
  }

  function canModify(post) {
    return me !== null && (me.id === post.author.id || isModerator());
  }

  function writable() {
    return me !== null && !gone && thread && (!thread.locked || isModerator());
  }

  function upsert(post, fromLive) {
    const existing = posts.get(post.id);
    if (existing) {
      // Live payloads are rendered for no one in particular: keep this reader's own reactions.
      if (fromLive) post = { ...post, my_reactions: existing.data.my_reactions };
      existing.data = post;
      fillPost(existing);
      return existing;
    }
    if (fromLive) post = { ...post, my_reactions: [] };
    const entry = buildPost(post);
    posts.set(post.id, entry);
    let before = null;
    for (const el of list.children) {
      if (Number(el.dataset.postNumber) > post.post_number) {
        before = el;
        break;
      }
    }
    list.insertBefore(entry.el, before);
    return entry;
  }

  function removePost(postId) {
    const entry = posts.get(postId);
    if (!entry) return;
    posts.delete(postId);
    entry.el.remove();
    if (thread) {
      thread.post_count = Math.max(0, thread.post_count - 1);
      renderHeader();
    }
    if (entry.data.post_number === 1) threadGone();
    for (const other of posts.values()) {
      if (other.data.reply_to_post_id === postId) fillPost(other);
    }
    if (replyTo && replyTo.id === postId) setReplyTo(null);
  }

  function buildPost(post) {
    const parts = {
      author: h("span", { class: "post-author", testid: "post-author" }),
      number: h("a", { class: "post-number" }),
      time: h("span", { class: "post-time" }),
      edited: h("span", { class: "edited muted", testid: "post-edited", hidden: true }),
      replyTo: h("a", { class: "reply-to", testid: "post-reply-to", hidden: true }),
      body: h("div", { class: "post-body", testid: "post-body" }),
      editor: h("div", { class: "post-editor", hidden: true }),
      reactions: h("div", { class: "reactions", testid: "reactions", role: "group",
        "aria-label": "Reactions" }),
      tools: h("div", { class: "post-tools" }),
    };
    const el = h("article", { class: "card post", testid: "post" },
      h("header", { class: "post-meta" }, parts.author, parts.number, parts.time, parts.edited,
        parts.replyTo),
      parts.body, parts.editor,
      h("footer", { class: "post-foot" }, parts.reactions, parts.tools));
    const entry = { data: post, el, parts, editing: false, confirming: false };
    fillPost(entry);
    return entry;
  }

  function fillPost(entry) {
    const post = entry.data;
    const { el, parts } = entry;
    el.id = `post-${post.post_number}`;
    el.dataset.postId = String(post.id);
    el.dataset.postNumber = String(post.post_number);
    el.classList.toggle("mine", me !== null && me.id === post.author.id);
    replaceChildren(parts.author, post.author.display_name !== post.author.handle
      ? [h("strong", {}, post.author.display_name), " ",
        h("span", { class: "handle" }, `@${post.author.handle}`)]
      : h("strong", {}, `@${post.author.handle}`));
    parts.number.textContent = `#${post.post_number}`;
    parts.number.href = `#/t/${id}`;
    parts.number.onclick = (event) => {
      event.preventDefault();
      el.scrollIntoView({ block: "center" });
    };
    replaceChildren(parts.time, timeAgo(post.created_at));
    parts.edited.hidden = !post.edited_at;
    parts.edited.textContent = post.edited_at ? "· edited" : "";
    if (post.reply_to_post_id) {
      const target = posts.get(post.reply_to_post_id);
      parts.replyTo.hidden = false;
      parts.replyTo.textContent = target
        ? `↪ in reply to @${target.data.author.handle} #${target.data.post_number}`
        : "↪ in reply to an earlier post";
      parts.replyTo.href = `#/t/${id}`;
      parts.replyTo.onclick = (event) => {
        event.preventDefault();
        posts.get(post.reply_to_post_id)?.el.scrollIntoView({ block: "center" });
      };
    } else {
      parts.replyTo.hidden = true;
    }
    // Sanitised by the server (markdown-it without raw HTML, then nh3): the one innerHTML.
    parts.body.innerHTML = post.html;
    parts.body.hidden = entry.editing;
    fillReactions(entry);
    fillTools(entry);
  }

  function fillReactions(entry) {
    const post = entry.data;
    const mine = new Set(post.my_reactions || []);
    clear(entry.parts.reactions);
    for (const [kind, label] of REACTIONS) {
      const count = post.reactions[kind] || 0;
      if (!me && count === 0) continue;
      const pressed = mine.has(kind);
      append(entry.parts.reactions, h("button", {
        type: "button", class: pressed ? "reaction pressed" : "reaction",
        testid: `reaction-${kind}`, "aria-pressed": String(pressed), disabled: !me,
        title: me ? (pressed ? `Remove your ${label.toLowerCase()}` : label) : label,
        dataset: { kind, count: String(count) },
        onclick: (event) => toggleReaction(entry, kind, event.currentTarget),
      }, icon(kind),
      h("span", { class: "visually-hidden" }, label),
      h("span", { class: "count", testid: "reaction-count" }, count ? String(count) : "")));
    }
  }

  async function toggleReaction(entry, kind, button) {
    const had = (entry.data.my_reactions || []).includes(kind);
    try {
      const summary = await busy(button, () =>
        had ? api.unreact(entry.data.id, kind) : api.react(entry.data.id, kind));
      entry.data = { ...entry.data, reactions: summary.reactions, my_reactions: summary.my_reactions };
      fillReactions(entry);
    } catch (err) {
      toast(messageOf(err));
      if (err instanceof ApiError && (err.status === 409 || err.status === 404)) reload();
    }
  }

  function fillTools(entry) {
    const post = entry.data;
    const tools = entry.parts.tools;
    clear(tools);
    if (!me || gone) return;
    if (entry.confirming) {
      append(tools, h("span", { class: "confirm" }, "Delete this post?"),
        h("button", { type: "button", class: "danger small", testid: "post-delete-confirm",
          onclick: (event) => deletePost(entry, event.currentTarget) }, "Delete"),
        h("button", { type: "button", class: "secondary small", testid: "post-delete-cancel",
          onclick: () => { entry.confirming = false; fillTools(entry); } }, "Keep"));
      return;
    }
    if (writable()) {
      append(tools, h("button", { type: "button", class: "link-button", testid: "post-reply",
        onclick: () => setReplyTo(post) }, "Reply"));
    }
    if (canModify(post) && writable() && !entry.editing) {
      append(tools, h("button", { type: "button", class: "link-button", testid: "post-edit",
        onclick: () => openEditor(entry) }, "Edit"));
    }
    if (canModify(post)) {
      append(tools, h("button", { type: "button", class: "link-button danger-text",
        testid: "post-delete", onclick: () => { entry.confirming = true; fillTools(entry); } },
      "Delete"));
    }
  }

  function openEditor(entry) {
    entry.editing = true;
    const textarea = h("textarea", { rows: 5, testid: "edit-body", onkeydown: submitOnCtrlEnter,
      "aria-label": "Edit post" });
    textarea.value = entry.data.raw;
    const error = formError();
    const save = h("button", { type: "submit", testid: "edit-save" }, "Save");
    const close = () => {
      entry.editing = false;
      entry.parts.editor.hidden = true;
      clear(entry.parts.editor);
      fillPost(entry);
    };
    replaceChildren(entry.parts.editor, h("form", {
      class: "stack", testid: "edit-form",
      onsubmit: async (event) => {
        event.preventDefault();
        showFormError(error, null);
        try {
          const updated = await busy(save, () => api.editPost(entry.data.id, textarea.value));
          entry.data = updated;
          close();
        } catch (err) {
          showFormError(error, err);
        }
      },
    }, textarea, error, h("div", { class: "row" }, save,
      h("button", { type: "button", class: "secondary", testid: "edit-cancel", onclick: close },
        "Cancel"))));
    entry.parts.editor.hidden = false;
    entry.parts.body.hidden = true;
    fillTools(entry);
    textarea.focus();
  }

  async function deletePost(entry, button) {
    try {
      await busy(button, () => api.deletePost(entry.data.id));
    } catch (err) {
      toast(messageOf(err));
      return;
    }
    if (entry.data.post_number === 1) {
      location.hash = `#/c/${thread.category_id}`;
      return;
    }
    removePost(entry.data.id);
  }

  // --- composing

  function setReplyTo(post) {
    replyTo = post;
    if (!replyChip) return;
    replyChip.hidden = !post;
    if (post) {
      replyChip.querySelector(".chip-text").textContent =
        `Replying to @${post.author.handle} #${post.post_number}`;
      replyBody.focus();
      replyBody.scrollIntoView({ block: "center" });
    }
  }

  function renderComposer() {
    clear(composer);
    if (gone) return;
    if (!me) {
      append(composer, signInPrompt("to reply."));
      return;
    }
    if (!writable()) {
      append(composer, h("p", { class: "notice", testid: "thread-locked-notice" },
        icon("lock"), " This thread is locked: it takes no new replies."));
      return;
    }
    replyBody = h("textarea", { rows: 4, required: true, testid: "reply-body", id: "reply-body",
      placeholder: "Write a reply… (Markdown; Ctrl+Enter to send)", onkeydown: submitOnCtrlEnter });
    replyChip = h("div", { class: "chip", testid: "replying-to", hidden: true },
      h("span", { class: "chip-text" }),
      h("button", { type: "button", class: "link-button", testid: "cancel-reply-to",
        "aria-label": "Cancel reply-to", onclick: () => setReplyTo(null) }, "✕"));
    const error = formError();
    const submit = h("button", { type: "submit", testid: "reply-submit" }, "Post reply");
    append(composer, h("form", {
      class: "card stack reply-form", testid: "reply-form",
      onsubmit: async (event) => {
        event.preventDefault();
        showFormError(error, null);
        try {
          const post = await busy(submit, () => api.reply(id, replyBody.value, replyTo?.id));
          replyBody.value = "";
          setReplyTo(null);
          while (nextCursor !== null && ctx.alive()) await loadPage(nextCursor, 100);
          if (!posts.has(post.id)) {
            thread.post_count += 1;
            renderHeader();
          }
          upsert(post, false).el.scrollIntoView({ block: "nearest" });
        } catch (err) {
          showFormError(error, err);
        }
      },
    }, h("label", { for: "reply-body" }, "Your reply"), replyChip, replyBody, error,
    h("div", { class: "row" }, submit)));
    if (replyTo) setReplyTo(replyTo);
  }

  // --- live events

  function applyLive(frame) {
    if (gone) return;
    const data = frame.data || {};
    switch (frame.event) {
      case "post.created": {
        if (nextCursor !== null) return; // it will come with a later page
        if (!posts.has(data.id)) {
          if (thread && data.post_number > thread.highest_post_number) {
            thread.highest_post_number = data.post_number;
          }
          if (thread) thread.post_count += 1;
          renderHeader();
        }
        upsert(data, true);
        for (const other of posts.values()) {
          if (other.data.reply_to_post_id === data.id) fillPost(other);
        }
        scheduleTailSync();
        return;
      }
      case "post.edited":
        if (posts.has(data.id)) upsert(data, true);
        return;
      case "post.deleted":
        removePost(data.post_id);
        return;
      case "reaction.added":
      case "reaction.removed": {
        const entry = posts.get(data.post_id);
        if (!entry) return;
        let mine = entry.data.my_reactions || [];
        if (me && data.member_id === me.id) {
          mine = frame.event === "reaction.added"
            ? [...new Set([...mine, data.kind])].sort()
            : mine.filter((k) => k !== data.kind);
        }
        entry.data = { ...entry.data, reactions: data.reactions || {}, my_reactions: mine };
        fillReactions(entry);
        return;
      }
      case "thread.updated":
        refreshThread();
        return;
      default:
        return;
    }
  }

  async function refreshThread() {
    try {
      const before = thread && thread.locked;
      await loadPage(nextCursor === null ? restLast : nextCursor, 1);
      if (thread.locked !== before) {
        renderComposer();
        for (const entry of posts.values()) fillTools(entry);
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) threadGone();
    }
  }
}

// --- boot ------------------------------------------------------------------------------------

async function boot() {
  document.querySelector(".brand-mark")?.append(icon("flame"));
  live.onStatus(renderLiveStatus);
  live.start();
  try {
    const me = await api.me();
    state.me = me.member;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) toast(messageOf(err));
  }
  renderAccount();
  followNotifications();
  window.addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
}

// Exposed for debugging in the console (and for the browser tests to observe state).
window.hearth = { state, live, notif };
boot();
