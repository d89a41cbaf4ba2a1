// Getting back in: ask for a reset link (#/forgot), choose a new password with it
// (#/reset/<token>), and confirm a new email address (#/verify-email/<token>).

import { useEffect, useState } from "preact/hooks";
import { call, client } from "../../api/client";
import type { ViewProps } from "../../app/routes";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { fieldOf, useForm } from "../../components/useForm";
import "./account.css";

export function ForgotPassword() {
  const form = useForm();
  return (
    <div class="card auth-card settings-section">
      <PageTitle title="Forgot your password?" />
      <p>Enter the email address of your account and we will send you a link to choose a new password.</p>
      <form data-testid="forgot-form" onSubmit={form.handle(async (el) => {
        const out = await call(client.POST("/api/account/password-reset", {
          body: { email: el ? fieldOf(el, "email") : "" },
        }));
        return out.message.charAt(0).toUpperCase() + out.message.slice(1) + ".";
      })}>
        <label>Email address
          <input type="email" name="email" autocomplete="email" required data-testid="forgot-email" />
        </label>
        <FormError error={form.error} />
        <p class="form-ok" role="status" data-testid="form-ok" hidden={!form.done}>{form.done}</p>
        <div class="actions">
          <button class="btn primary" disabled={form.busy} data-testid="forgot-submit">Send the link</button>
          <a href="#/signin">Back to sign in</a>
        </div>
      </form>
    </div>
  );
}

export function ResetPassword({ params }: ViewProps) {
  const form = useForm();
  return (
    <div class="card auth-card settings-section">
      <PageTitle title="Choose a new password" />
      <form data-testid="reset-form" onSubmit={form.handle(async (el) => {
        await call(client.POST("/api/account/password-reset/confirm", {
          body: { token: params.token ?? "", password: el ? fieldOf(el, "password") : "" },
        }));
        return "Your password is changed. Sign in with it now.";
      })}>
        <label>New password <span class="hint">At least 10 characters.</span>
          <input type="password" name="password" autocomplete="new-password" required minLength={10}
            data-testid="reset-password" />
        </label>
        <FormError error={form.error} />
        <p class="form-ok" role="status" data-testid="form-ok" hidden={!form.done}>
          {form.done} <a href="#/signin" data-testid="reset-signin">Sign in</a>
        </p>
        <div class="actions">
          <button class="btn primary" disabled={form.busy || !!form.done} data-testid="reset-submit">
            Set the new password</button>
        </div>
      </form>
    </div>
  );
}

export function VerifyEmail({ params }: ViewProps) {
  const [state, setState] = useState<{ email?: string; error?: unknown }>({});
  useEffect(() => {
    call(client.POST("/api/account/email/confirm", { body: { token: params.token ?? "" } }))
      .then((out) => setState({ email: out.email }), (error: unknown) => setState({ error }));
  }, [params.token]);
  return (
    <div class="card auth-card settings-section">
      <PageTitle title="Confirm your email address" />
      {state.email && (
        <p class="form-ok" role="status" data-testid="form-ok">
          Your email address is now <strong>{state.email}</strong>.
        </p>
      )}
      <FormError error={state.error} />
      {!state.email && !state.error && <p class="muted">Confirming…</p>}
      <p><a href="#/">← Home</a></p>
    </div>
  );
}
