// The JSON API client: same-origin fetch, the session cookie rides along, every write echoes
// the CSRF cookie in X-CSRF-Token, and every error becomes an ApiError carrying the server's
// {"error": {"status", "code", "message", "details"}} body.

const CSRF_COOKIE = "hearth_csrf";

export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function request(method, path, { body, params } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD") {
    const token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
  }
  let response;
  try {
    response = await fetch(path + query(params), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    throw new ApiError(0, "network", "Cannot reach the server. Check your connection and try again.");
  }
  if (response.status === 204) return null;
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = null;
    }
  }
  if (!response.ok) {
    const error = payload && payload.error;
    if (error && typeof error.message === "string") {
      throw new ApiError(error.status || response.status, error.code || "error", error.message,
        error.details || []);
    }
    throw new ApiError(response.status, "error", `Request failed (${response.status}).`);
  }
  return payload;
}

const get = (path, params) => request("GET", path, { params });
const post = (path, body) => request("POST", path, { body });
const patch = (path, body) => request("PATCH", path, { body });
const del = (path) => request("DELETE", path);

export const api = {
  // accounts
  me: () => get("/api/me"),
  signIn: (login, password) => post("/api/session", { login, password }),
  register: (handle, email, password) => post("/api/register", { handle, email, password }),
  signOut: () => post("/api/session/logout"),
  member: (id) => get(`/api/members/${id}`),
  // forums
  categories: () => get("/api/categories"),
  threads: (categoryId, cursor) => get(`/api/categories/${categoryId}/threads`, { cursor }),
  createThread: (categoryId, title, body) =>
    post(`/api/categories/${categoryId}/threads`, { title, body }),
  thread: (threadId, after = 0, limit) => get(`/api/threads/${threadId}`, { after, limit }),
  reply: (threadId, body, replyToPostId) =>
    post(`/api/threads/${threadId}/posts`,
      replyToPostId ? { body, reply_to_post_id: replyToPostId } : { body }),
  editPost: (postId, body) => patch(`/api/posts/${postId}`, { body }),
  deletePost: (postId) => del(`/api/posts/${postId}`),
  react: (postId, kind) => post(`/api/posts/${postId}/reactions`, { kind }),
  unreact: (postId, kind) => del(`/api/posts/${postId}/reactions/${encodeURIComponent(kind)}`),
  // rewards
  myPoints: () => get("/api/me/points"),
  myTier: () => get("/api/me/tier"),
  myBadges: () => get("/api/me/badges"),
  myHistory: () => get("/api/me/points/history", { limit: 10 }),
  leaderboard: (board, limit) => get(`/api/leaderboards/${encodeURIComponent(board)}`, { limit }),
  aroundMe: (board) => get(`/api/leaderboards/${encodeURIComponent(board)}/around-me`, { n: 2 }),
  badges: () => get("/api/gamification/badges"),
  // challenges
  challenges: () => get("/api/challenges"),
  challenge: (id) => get(`/api/challenges/${id}`),
  joinChallenge: (id) => post(`/api/challenges/${id}/join`),
  myChallenge: (id) => get(`/api/challenges/${id}/me`),
  challengeBoard: (id, limit) => get(`/api/challenges/${id}/leaderboard`, { limit }),
  // notifications
  notifications: (before) => get("/api/notifications", { before }),
  markNotificationsRead: () => post("/api/notifications/read"),
};
