// The moderator console's entry in the top bar, kept out of the console's own chunk.

import type { Member } from "../../app/session";
import type { ConsoleLink } from "../brand/links";
import { mayModerate } from "./sections";

export function moderationLinks(member: Member | null): ConsoleLink[] {
  return mayModerate(member) ? [{ href: "#/mod", label: "Moderation", testid: "nav-mod" }] : [];
}
