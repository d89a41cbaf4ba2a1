// A member's recent threads and posts, newest first (the activity endpoint returns only what
// the viewer may read).

export function Activity(_: { memberId: number }) {
  return null;
}
