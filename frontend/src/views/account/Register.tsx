// Creating an account signs the new member in.

import { useState } from "preact/hooks";
import { call, client } from "../../api/client";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { enter, useLeaveWhenSignedIn } from "./SignIn";

export function Register() {
  const [handle, setHandle] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  if (useLeaveWhenSignedIn()) return null;

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const session = await call(client.POST("/api/register", {
        body: { handle: handle.trim(), email: email.trim(), password },
      }));
      enter(session.member);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card narrow stack" data-testid="register-form" onSubmit={(e) => void submit(e)}>
      <PageTitle title="Create an account" />
      <label for="register-handle">Handle</label>
      <input id="register-handle" name="handle" autocomplete="username" required minLength={3} maxLength={32}
        pattern="[A-Za-z0-9_]+" aria-describedby="register-handle-hint" data-testid="register-handle"
        value={handle} onInput={(e) => setHandle(e.currentTarget.value)} />
      <small id="register-handle-hint" class="muted">3–32 letters, digits or underscores.</small>
      <label for="register-email">Email</label>
      <input id="register-email" name="email" type="email" autocomplete="email" required
        data-testid="register-email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      <label for="register-password">Password</label>
      <input id="register-password" name="password" type="password" autocomplete="new-password" required
        minLength={10} aria-describedby="register-password-hint" data-testid="register-password"
        value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <small id="register-password-hint" class="muted">At least 10 characters.</small>
      <FormError error={error} />
      <button type="submit" data-testid="register-submit" disabled={busy}>Create account</button>
      <p class="muted">Have an account? <a href="#/signin">Sign in</a></p>
    </form>
  );
}
