// The account area of the top bar: for a member, the notifications bell (live unread badge and
// its panel), links to challenges, the leaderboard and their rewards with the points balance
// kept live, who is signed in and signing out; for a visitor, sign in and register.

import { useEffect, useRef, useState } from "preact/hooks";
import { consoleLinks } from "../views/brand/links";
import { moderationLinks } from "../views/mod/links";
import { call, client, messageOf } from "../api/client";
import { Icon } from "../components/Icon";
import { TimeAgo } from "../components/TimeAgo";
import { toast } from "../components/Toast";
import { markAllRead, notifications, refreshNotifications } from "./memberFeed";
import { notificationHref } from "./notificationText";
import { returnHere } from "./router";
import { me, points, signedOut } from "./session";
import { useStore } from "./store";
import "./AccountNav.css";

function NotificationsPanel({ open, onClose }: { open: boolean; onClose: (returnFocus: boolean) => void }) {
  const { unread, items } = useStore(notifications);
  const [busy, setBusy] = useState(false);

  async function readAll(): Promise<void> {
    setBusy(true);
    try {
      await markAllRead();
    } catch (err) {
      toast(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="notif-panel" id="notif-panel" data-testid="notif-panel" aria-label="Notifications"
      hidden={!open}>
      <div class="notif-head">
        <h2 class="notif-title">Notifications</h2>
        <button type="button" class="link-button" data-testid="notif-mark-read"
          disabled={busy || unread === 0} onClick={() => void readAll()}>Mark all read</button>
      </div>
      {items === null ? <p class="muted">Loading…</p>
        : items.length === 0 ? <p class="muted" data-testid="notif-empty">Nothing yet.</p>
          : (
            <ul class="notif-list">
              {items.map((item) => (
                <li key={item.id} class={item.read ? "notif-item" : "notif-item unread"}
                  data-testid="notif-item" data-kind={item.kind} data-read={String(item.read)}>
                  <a href={notificationHref(item)} onClick={() => onClose(false)}>
                    <span class="notif-text">{item.text}</span>
                    {!item.read && <span class="visually-hidden"> (unread)</span>}{" "}
                    <TimeAgo iso={item.created_at} />
                  </a>
                </li>
              ))}
            </ul>
          )}
    </section>
  );
}

/** The bell and its panel, a disclosure: Escape or a click elsewhere closes it. */
function Notifications() {
  const { unread } = useStore(notifications);
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const root = useRef<HTMLDivElement>(null);

  const close = (returnFocus: boolean) => {
    setOpen(false);
    if (returnFocus) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    void refreshNotifications();
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close(true);
    };
    const onClick = (event: MouseEvent) => {
      if (!root.current?.contains(event.target as Node)) close(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("click", onClick);
    };
  }, [open]);

  return (
    <div class="notif" ref={root}>
      <button type="button" class="bell" data-testid="notif-button" ref={button}
        aria-expanded={open} aria-controls="notif-panel" title="Notifications"
        onClick={() => setOpen(!open)}>
        <Icon name="bell" />
        <span class="visually-hidden">Notifications{unread > 0 ? `, ${unread} unread` : ""}</span>
        <span class="badge" data-testid="notif-badge" data-count={unread} hidden={unread === 0}
          aria-hidden="true">{unread > 99 ? "99+" : unread}</span>
      </button>
      <NotificationsPanel open={open} onClose={close} />
    </div>
  );
}

export function AccountNav() {
  const member = useStore(me);
  const balance = useStore(points);
  const [leaving, setLeaving] = useState(false);

  async function signOut(): Promise<void> {
    setLeaving(true);
    try {
      await call(client.POST("/api/session/logout"));
      signedOut();
    } catch (err) {
      toast(messageOf(err));
    } finally {
      setLeaving(false);
    }
  }

  return (
    <nav class="account" data-testid="account" aria-label="Account">
      {member && <Notifications />}
      <a href="#/challenges" data-testid="nav-challenges">Challenges</a>
      <a href="#/leaderboards" data-testid="nav-leaderboards">Leaderboard</a>
      {member ? (
        <>
          <a href="#/rewards" class="points-link" data-testid="nav-points" title="Your rewards">
            <span data-testid="nav-points-balance">{balance === null ? "…" : balance.toLocaleString("en-US")}</span> pts
          </a>
          {[...moderationLinks(member), ...consoleLinks(member)].map((link) => (
            <a key={link.href} href={link.href} data-testid={link.testid}>{link.label}</a>
          ))}
          {member.role === "admin" && <a href="#/admin" data-testid="nav-admin">Admin</a>}
          <a href="#/bookmarks" data-testid="nav-bookmarks">Bookmarks</a>
          <a href={`#/u/${encodeURIComponent(member.handle)}`} class="me" data-testid="current-user"
            title={member.display_name}>@{member.handle}</a>
          <a href="#/account" data-testid="nav-account">Settings</a>
          <button type="button" class="link-button" data-testid="signout" disabled={leaving}
            onClick={() => void signOut()}>Sign out</button>
        </>
      ) : (
        <>
          <a href="#/signin" data-testid="signin-link" onClick={returnHere}>Sign in</a>
          <a href="#/register" class="button small" data-testid="register-link" onClick={returnHere}>Register</a>
        </>
      )}
    </nav>
  );
}
