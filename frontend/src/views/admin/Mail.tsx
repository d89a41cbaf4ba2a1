// #/admin/mail: the mail Hearth sent, when it is kept as .eml files (embedded
// mode). Over SMTP (scaled) nothing is kept here, and the page says so.

import { useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useAsync } from "../../app/useAsync";
import { CursorTable } from "../../components/CursorTable";
import { FormError } from "../../components/FormError";
import { PageTitle } from "../../components/PageTitle";
import { TimeAgo } from "../../components/TimeAgo";

function Message({ id }: { id: string }) {
  const mail = useAsync(() => call(client.GET("/api/admin/mail/{mail_id}", {
    params: { path: { mail_id: id } },
  })), [id]);
  if (mail.error) return <FormError error={mail.error} />;
  if (!mail.value) return <p class="muted">Loading…</p>;
  return (
    <article class="card" data-testid="mail-message" aria-labelledby="mail-subject">
      <h2 id="mail-subject">{mail.value.subject}</h2>
      <p class="muted">To {mail.value.to}{mail.value.date && <>, <TimeAgo iso={mail.value.date} /></>}</p>
      <pre class="mail-body" data-testid="mail-body">{mail.value.body}</pre>
    </article>
  );
}

export function Mail() {
  const [open, setOpen] = useState<string | null>(null);
  const [backend, setBackend] = useState<{ stored: boolean; detail: string } | null>(null);
  return (
    <div data-testid="mail-view">
      <div class="card">
        <PageTitle title="Sent mail" />
        {backend && !backend.stored && <p data-testid="mail-not-stored">{backend.detail}</p>}
        <CursorTable<Schemas["MailSummary"], string>
          caption="Mail sent by Hearth, newest first"
          testid="mail-list"
          empty="No mail has been sent yet."
          rowKey={(row) => row.id}
          load={async (before) => {
            const page = await call(client.GET("/api/admin/mail", {
              params: { query: before === null ? {} : { before } },
            }));
            setBackend({ stored: page.stored, detail: page.detail });
            return page;
          }}
          columns={[
            { title: "Subject", cell: (row) => (
              <button type="button" class="link-button" data-testid="mail-open"
                onClick={() => setOpen(row.id)}>{row.subject}</button>
            ) },
            { title: "To", cell: (row) => row.to },
            { title: "Sent", cell: (row) => (row.date ? <TimeAgo iso={row.date} /> : "") },
          ]}
        />
      </div>
      {open && <Message id={open} />}
    </div>
  );
}
