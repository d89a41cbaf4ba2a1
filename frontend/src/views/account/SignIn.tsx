// Sign in (the smallest form the rewards and challenge tests need; the account views proper
// come with the forum's port).

import { useState } from "preact/hooks";
import { call, client } from "../../api/client";
import { navigate, takeReturnTo } from "../../app/router";
import { signedIn } from "../../app/session";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";

export function SignIn() {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await call(client.POST("/api/session", { body: { login: login.trim(), password } }));
      signedIn(session.member);
      navigate(takeReturnTo());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card narrow stack" data-testid="signin-form" onSubmit={(event) => void submit(event)}>
      <PageTitle title="Sign in" />
      <label for="signin-login">Handle or email</label>
      <input id="signin-login" name="login" autocomplete="username" required data-testid="signin-login"
        value={login} onInput={(event) => setLogin(event.currentTarget.value)} />
      <label for="signin-password">Password</label>
      <input id="signin-password" name="password" type="password" autocomplete="current-password" required
        data-testid="signin-password" value={password} onInput={(event) => setPassword(event.currentTarget.value)} />
      <FormError error={error} />
      <button type="submit" data-testid="signin-submit" disabled={busy}>Sign in</button>
      <p class="muted">New here? <a href="#/register">Create an account</a></p>
    </form>
  );
}
