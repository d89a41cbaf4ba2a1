// API tokens: the brand's integrations. A new token's secret is shown once; revoking is final.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { confirmAction } from "../../components/ConfirmDialog";
import { FormError } from "../../components/FormError";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import type { Brand } from "./Frame";

const SCOPES = [
  { scope: "read", label: "read: read the API" },
  { scope: "write", label: "write: act (adjust, redeem, post)" },
  { scope: "realtime", label: "realtime: open the live socket" },
  { scope: "events", label: "events: send orders, reviews and referrals" },
];

export function Tokens({ brand }: { brand: Brand }) {
  const path = { params: { path: { brand_id: brand.id } } };
  const tokens = useAsync(() => call(client.GET("/api/brands/{brand_id}/tokens", path)), [brand.id]);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(["read"]);
  const [created, setCreated] = useState<Schemas["TokenCreatedOut"] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: Event): Promise<void> {
    event.preventDefault();
    const ok = await confirmAction({
      title: "Create an API token?",
      message: `“${name}” may ${scopes.join(", ")} for ${brand.name}. Its secret is shown once.`,
      confirmLabel: "Create token",
    });
    if (!ok) return;
    setBusy(true);
    try {
      setCreated(await call(client.POST("/api/brands/{brand_id}/tokens", { ...path, body: { name: name.trim(), scopes } })));
      setName("");
      setError(null);
      void tokens.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function revoke(token: Schemas["TokenOut"]): Promise<void> {
    const ok = await confirmAction({
      title: "Revoke this token?", danger: true, confirmLabel: "Revoke",
      message: `Whatever uses “${token.name}” stops working at once. This cannot be undone.`,
    });
    if (!ok) return;
    try {
      await call(client.POST("/api/brands/{brand_id}/tokens/{token_id}/revoke", {
        params: { path: { brand_id: brand.id, token_id: token.id } } }));
      toast("Token revoked.", "success");
      void tokens.reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <section class="card" aria-labelledby="new-token-h">
        <h2 id="new-token-h">New token</h2>
        {created ? (
          <div class="notice" data-testid="token-created" role="status">
            <p>Token “{created.token.name}” created. Copy its secret now: it will not be shown again.</p>
            <code class="secret" data-testid="token-secret">{created.secret}</code>
            <button type="button" class="secondary small" onClick={() => setCreated(null)}>I have copied it</button>
          </div>
        ) : (
          <form class="stack" data-testid="token-form" onSubmit={(e) => void create(e)} noValidate>
            <label for="token-name">Name (what uses it)</label>
            <input id="token-name" value={name} maxLength={80} data-testid="token-name" required
              onInput={(e) => setName((e.target as HTMLInputElement).value)} />
            <fieldset>
              <legend>Scopes</legend>
              {SCOPES.map((s) => (
                <label class="check" key={s.scope}>
                  <input type="checkbox" checked={scopes.includes(s.scope)} value={s.scope}
                    onChange={(e) => setScopes((e.target as HTMLInputElement).checked
                      ? [...scopes, s.scope] : scopes.filter((x) => x !== s.scope))} />
                  {s.label}
                </label>
              ))}
            </fieldset>
            <div><button type="submit" disabled={busy} data-testid="token-create">Create token</button></div>
          </form>
        )}
        <FormError error={error} />
      </section>
      <section class="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">Tokens</h2>
        <FormError error={tokens.error} />
        {(tokens.value ?? []).length === 0 ? <p class="muted">No tokens yet.</p> : (
          <table data-testid="token-table">
            <caption class="visually-hidden">The brand's API tokens</caption>
            <thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th>
              <th scope="col">Last used</th><th scope="col">State</th></tr></thead>
            <tbody>
              {(tokens.value ?? []).map((t) => (
                <tr key={t.id} data-testid="token-row">
                  <td>{t.name}</td><td>{t.scopes.join(", ")}</td><td><TimeAgo iso={t.created_at} /></td>
                  <td>{t.last_used_at ? <TimeAgo iso={t.last_used_at} /> : "Never"}</td>
                  <td>{t.revoked_at ? <>Revoked <TimeAgo iso={t.revoked_at} /></> : (
                    <button type="button" class="link-button danger-text" data-testid="token-revoke"
                      onClick={() => void revoke(t)}>Revoke</button>)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
