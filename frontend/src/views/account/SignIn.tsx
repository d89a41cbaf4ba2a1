// Signing in with a handle or an email address; back to where the member was afterwards.

import { useEffect, useRef, useState } from "preact/hooks";
import { call, client } from "../../api/client";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { navigate, takeReturnTo } from "../../app/router";
import { me, signedIn, type Member } from "../../app/session";
import { useStore } from "../../app/store";

/** After signing in or registering: who it is, then the page they came from. */
export function enter(member: Member): void {
  signedIn(member);
  navigate(takeReturnTo());
}

/** A member who arrives signed in has nothing to do on these pages. (Signing in here leaves
 *  by itself, for the page the member came from.) */
export function useLeaveWhenSignedIn(): boolean {
  const member = useStore(me);
  useEffect(() => { if (me.value) navigate("#/"); }, []);
  return member !== null;
}

export function SignIn() {
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  if (useLeaveWhenSignedIn()) return null;

  async function submit(event: Event): Promise<void> {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const session = await call(client.POST("/api/session", { body: { login: login.trim(), password } }));
      enter(session.member);
    } catch (err) {
      setError(err);
      passwordRef.current?.select();
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="card narrow stack" data-testid="signin-form" onSubmit={(e) => void submit(e)}>
      <PageTitle title="Sign in" />
      <label for="signin-login">Handle or email</label>
      <input id="signin-login" name="login" autocomplete="username" required data-testid="signin-login"
        value={login} onInput={(e) => setLogin(e.currentTarget.value)} />
      <label for="signin-password">Password</label>
      <input id="signin-password" name="password" type="password" autocomplete="current-password" required
        data-testid="signin-password" ref={passwordRef}
        value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <FormError error={error} />
      <button type="submit" data-testid="signin-submit" disabled={busy}>Sign in</button>
      <p class="muted">
        <a href="#/forgot" data-testid="signin-forgot">Forgot your password?</a>
        {" · "}New here? <a href="#/register">Create an account</a>
      </p>
    </form>
  );
}
