// #/account: the signed-in member's own settings — profile, badges shown first, password,
// email, notifications, and signing out everywhere.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { navigate } from "../../app/router";
import { me, signedOut } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt } from "../../components/ViewError";
import { fieldOf, useForm } from "../../components/useForm";
import "./account.css";

function Done({ text }: { text: string }) {
  return <p class="form-ok" role="status" data-testid="form-ok" hidden={!text}>{text}</p>;
}

function ProfileSection({ member }: { member: Schemas["MemberOut"] }) {
  const form = useForm();
  const [name, setName] = useState(member.display_name);
  const [bio, setBio] = useState(member.bio ?? "");
  return (
    <section class="card settings-section" aria-labelledby="settings-profile">
      <h2 id="settings-profile">Profile</h2>
      <form data-testid="profile-form" onSubmit={form.handle(async () => {
        const updated = await call(client.PATCH("/api/me", { body: { display_name: name, bio } }));
        me.set(updated);
        return "Your profile is saved.";
      })}>
        <label>Display name
          <input value={name} maxLength={80} required data-testid="profile-display-name"
            onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>About you <span class="hint">Plain text, shown on your profile.</span>
          <textarea value={bio} rows={4} maxLength={2000} data-testid="profile-bio"
            onInput={(e) => setBio(e.currentTarget.value)} />
        </label>
        <FormError error={form.error} />
        <Done text={form.done} />
        <div class="actions">
          <button class="btn primary" disabled={form.busy} data-testid="profile-save">Save profile</button>
          <a href={`#/u/${encodeURIComponent(member.handle)}`}>View your profile</a>
        </div>
      </form>
    </section>
  );
}

function FeaturedSection() {
  const badges = useAsync(() => call(client.GET("/api/me/badges")), []);
  const form = useForm();
  const [chosen, setChosen] = useState<number[] | null>(null);
  const earned = badges.value?.earned ?? [];
  const picked = chosen ?? earned.filter((b) => b.featured).map((b) => b.badge.id);
  function toggle(id: number, on: boolean): void {
    setChosen(on ? [...picked, id] : picked.filter((x) => x !== id));
  }
  return (
    <section class="card settings-section" aria-labelledby="settings-badges">
      <h2 id="settings-badges">Badges shown first</h2>
      {earned.length === 0
        ? <p class="muted">{badges.loading ? "Loading…" : "You have no badges yet."}</p>
        : (
          <form data-testid="featured-form" onSubmit={form.handle(async () => {
            await call(client.PUT("/api/me/badges/featured", { body: { badge_ids: picked } }));
            return "Your profile shows these badges first.";
          })}>
            <fieldset>
              <legend class="hint">Choose up to three.</legend>
              {earned.map((b) => (
                <label key={b.badge.id} class="check">
                  <input type="checkbox" checked={picked.includes(b.badge.id)}
                    disabled={!picked.includes(b.badge.id) && picked.length >= 3}
                    data-testid="featured-badge"
                    onChange={(e) => toggle(b.badge.id, e.currentTarget.checked)} />
                  {" "}{b.badge.name}
                </label>
              ))}
            </fieldset>
            <FormError error={form.error} />
            <Done text={form.done} />
            <div class="actions">
              <button class="btn primary" disabled={form.busy} data-testid="featured-save">Save badges</button>
            </div>
          </form>
        )}
    </section>
  );
}

function PasswordSection() {
  const form = useForm();
  return (
    <section class="card settings-section" aria-labelledby="settings-password">
      <h2 id="settings-password">Password</h2>
      <form data-testid="password-form" onSubmit={form.handle(async (el) => {
        if (!el) return;
        await call(client.POST("/api/me/password", { body: {
          current_password: fieldOf(el, "current"), new_password: fieldOf(el, "new"),
        } }));
        el.reset();
        return "Your password is changed. Your other sessions are signed out.";
      })}>
        <label>Current password
          <input type="password" name="current" autocomplete="current-password" required
            data-testid="password-current" />
        </label>
        <label>New password <span class="hint">At least 10 characters.</span>
          <input type="password" name="new" autocomplete="new-password" required minLength={10}
            data-testid="password-new" />
        </label>
        <FormError error={form.error} />
        <Done text={form.done} />
        <div class="actions">
          <button class="btn primary" disabled={form.busy} data-testid="password-save">Change password</button>
        </div>
      </form>
    </section>
  );
}

function EmailSection({ email }: { email: string }) {
  const form = useForm();
  return (
    <section class="card settings-section" aria-labelledby="settings-email">
      <h2 id="settings-email">Email</h2>
      <p>Your address is <strong data-testid="email-current">{email}</strong>.</p>
      <form data-testid="email-form" onSubmit={form.handle(async (el) => {
        if (!el) return;
        const out = await call(client.POST("/api/me/email", { body: {
          email: fieldOf(el, "email"), password: fieldOf(el, "password"),
        } }));
        el.reset();
        return `We sent a link to ${out.email}. Your address changes when you follow it.`;
      })}>
        <label>New email address
          <input type="email" name="email" autocomplete="email" required data-testid="email-new" />
        </label>
        <label>Current password
          <input type="password" name="password" autocomplete="current-password" required
            data-testid="email-password" />
        </label>
        <FormError error={form.error} />
        <Done text={form.done} />
        <div class="actions">
          <button class="btn primary" disabled={form.busy} data-testid="email-save">Change email</button>
        </div>
      </form>
    </section>
  );
}

function NotificationsSection() {
  const prefs = useAsync(() => call(client.GET("/api/me/notification-preferences")), []);
  const form = useForm();
  const [edits, setEdits] = useState<Record<string, { in_app: boolean; email: boolean }>>({});
  const items = (prefs.value?.items ?? []).map((item) => ({ ...item, ...edits[item.kind] }));
  function change(kind: string, key: "in_app" | "email", on: boolean): void {
    const item = items.find((i) => i.kind === kind);
    if (!item) return;
    setEdits({ ...edits, [kind]: { in_app: item.in_app, email: item.email, [key]: on } });
  }
  return (
    <section class="card settings-section" aria-labelledby="settings-notifications">
      <h2 id="settings-notifications">Notifications</h2>
      <FormError error={prefs.error} />
      <form data-testid="prefs-form" onSubmit={form.handle(async () => {
        const out = await call(client.PUT("/api/me/notification-preferences", {
          body: { items: items.map(({ kind, in_app, email }) => ({ kind, in_app, email })) },
        }));
        prefs.set(out);
        setEdits({});
        return "Your notification settings are saved.";
      })}>
        <table class="prefs-table">
          <caption class="visually-hidden">How you are told about each kind of event</caption>
          <thead><tr><th scope="col">When</th><th scope="col">In Hearth</th><th scope="col">By email</th></tr></thead>
          <tbody>
            {items.map((item) => (
              <tr key={item.kind} data-testid="pref-row" data-kind={item.kind}>
                <th scope="row">{item.description}</th>
                <td class="check"><input type="checkbox" checked={item.in_app}
                  aria-label={`${item.description}: in Hearth`} data-testid="pref-in-app"
                  onChange={(e) => change(item.kind, "in_app", e.currentTarget.checked)} /></td>
                <td class="check"><input type="checkbox" checked={item.email}
                  aria-label={`${item.description}: by email`} data-testid="pref-email"
                  onChange={(e) => change(item.kind, "email", e.currentTarget.checked)} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        <FormError error={form.error} />
        <Done text={form.done} />
        <div class="actions">
          <button class="btn primary" disabled={form.busy || items.length === 0}
            data-testid="prefs-save">Save notification settings</button>
        </div>
      </form>
    </section>
  );
}

function SessionsSection() {
  const form = useForm();
  return (
    <section class="card settings-section" aria-labelledby="settings-sessions">
      <h2 id="settings-sessions">Sessions</h2>
      <p>Signed in on a computer you no longer use? Sign out of every browser at once, this one too.</p>
      <FormError error={form.error} />
      <button type="button" class="btn danger" disabled={form.busy} data-testid="signout-everywhere"
        onClick={form.handle(async () => {
          const ok = await confirmAction({
            title: "Sign out everywhere?", confirmLabel: "Sign out everywhere", danger: true,
            message: "Every browser signed in to your account, this one included, is signed out.",
          });
          if (!ok) return;
          await call(client.POST("/api/session/logout-all"));
          signedOut();
          navigate("/signin");
        })}>Sign out everywhere</button>
    </section>
  );
}

export function Settings() {
  const member = useStore(me);
  const account = useAsync(() => (member ? call(client.GET("/api/me")) : Promise.resolve(null)),
    [member?.id]);
  if (!member) {
    return (
      <div class="card">
        <PageTitle title="Account settings" />
        <SignInPrompt text="to change your settings." />
      </div>
    );
  }
  return (
    <div data-testid="settings-view">
      <PageTitle title="Account settings" />
      <ProfileSection member={member} />
      <FeaturedSection />
      <PasswordSection />
      {account.value && <EmailSection email={account.value.email} />}
      <NotificationsSection />
      <SessionsSection />
    </div>
  );
}
