// A form's error, as the server worded it, with each field's detail when there are several.

import { ApiError, messageOf } from "../api/client";

export function FormError({ error }: { error: unknown }) {
  if (!error) return <div class="form-error" data-testid="form-error" role="alert" hidden />;
  const details = error instanceof ApiError
    ? error.details.filter((d) => typeof d.message === "string" && d.message !== error.message)
    : [];
  return (
    <div class="form-error" data-testid="form-error" role="alert">
      {messageOf(error)}
      {details.length > 0 && (
        <ul class="form-error-details">
          {details.map((d, i) => <li key={i}>{d.field ? `${String(d.field)}: ` : ""}{d.message}</li>)}
        </ul>
      )}
    </div>
  );
}
