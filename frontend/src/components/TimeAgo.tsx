import { absoluteTime, relativeTime } from "./format";

export function TimeAgo({ iso }: { iso: string }) {
  const when = new Date(iso);
  return <time dateTime={when.toISOString()} title={absoluteTime(when)}>{relativeTime(when)}</time>;
}
