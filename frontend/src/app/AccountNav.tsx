// The account area of the top bar.

import { useStore } from "./store";
import { me } from "./session";
import { returnHere } from "./router";

export function AccountNav() {
  const member = useStore(me);
  return (
    <nav class="account" data-testid="account" aria-label="Account">
      {member ? (
        <span class="me" data-testid="current-user" title={member.display_name}>@{member.handle}</span>
      ) : (
        <>
          <a href="#/signin" data-testid="signin-link" onClick={returnHere}>Sign in</a>
          <a href="#/register" class="button small" data-testid="register-link" onClick={returnHere}>Register</a>
        </>
      )}
    </nav>
  );
}
