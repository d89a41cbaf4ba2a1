// What the author of a post held for approval is told as it goes out.

export const HELD_NOTICE =
  "Your post is waiting for a moderator's approval; until then only you and the moderators see it.";
