// The inbound events page's pure logic: the curl example a shop's developer copies, how a
// row's points read, and the custom type form to the API's shape.

import type { Schemas } from "../../api/client";

export type InboundRow = Schemas["InboundEventOut"];
export type CustomField = Schemas["CustomField"];

/** The example request, against this server's own address. */
export function curlExample(origin: string): string {
  return [
    `curl -X POST ${origin}/api/integrations/events \\`,
    `  -H "Authorization: Bearer $HEARTH_TOKEN" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -H "Idempotency-Key: order-1042" \\`,
    `  -d '{"type": "order.completed", "member": {"email": "ada@example.com"},`,
    `       "data": {"order_id": "1042", "amount": "42.50", "currency": "EUR"}}'`,
  ].join("\n");
}

/** "+42", "+42, −42 refunded", "−42" for a refund's row, "0" before any award. */
export function pointsText(row: InboundRow): string {
  if (row.type === "order.refunded") return row.points_reversed ? `−${row.points_reversed}` : "0";
  const awarded = row.points_awarded ? `+${row.points_awarded}` : "0";
  return row.points_reversed ? `${awarded}, −${row.points_reversed} refunded` : awarded;
}

export interface FieldForm {
  name: string;
  type: "text" | "integer" | "number" | "boolean";
  required: boolean;
  maxLength: number; // texts only
}

export function emptyField(): FieldForm {
  return { name: "", type: "integer", required: false, maxLength: 200 };
}

/** The declaration's body: names trimmed, rows left blank dropped. */
export function typeBody(name: string, fields: FieldForm[]): Schemas["CustomTypeIn"] {
  return {
    name: name.trim(),
    fields: fields.filter((f) => f.name.trim() !== "")
      .map((f) => ({ name: f.name.trim(), type: f.type, required: f.required, max_length: f.maxLength })),
  };
}
