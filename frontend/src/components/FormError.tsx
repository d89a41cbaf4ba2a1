// A form's error, as the server worded it (its message already names each field at fault).

import { messageOf } from "../api/client";

export function FormError({ error }: { error: unknown }) {
  return (
    <div class="form-error" data-testid="form-error" role="alert" hidden={!error}>
      {error ? messageOf(error) : ""}
    </div>
  );
}
