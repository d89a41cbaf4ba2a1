// What a page shows when it cannot load: the server's reason, and a way on.

import { ApiError, messageOf } from "../api/client";
import { returnHere } from "../app/router";

export function SignInPrompt({ text }: { text: string }) {
  return (
    <p class="muted signin-prompt">
      <a href="#/signin" onClick={returnHere}>Sign in</a> or{" "}
      <a href="#/register" onClick={returnHere}>create an account</a> {text}
    </p>
  );
}

export function ViewError({ error, signedIn }: { error: unknown; signedIn: boolean }) {
  const missing = error instanceof ApiError && error.status === 404;
  const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
  return (
    <div class="card error-card" data-testid="view-error">
      <h1>{missing ? "Not found" : "Cannot show this page"}</h1>
      <p>{messageOf(error)}</p>
      {refused && !signedIn && <SignInPrompt text="to see it." />}
      <p><a href="#/">← All categories</a></p>
    </div>
  );
}
