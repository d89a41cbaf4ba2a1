// Small pieces the forum pages share.

import { Icon } from "../../components/Icon";

/** A member's handle, linking to their profile. */
export function Handle({ handle }: { handle: string }) {
  return <a class="handle-link" href={`#/u/${encodeURIComponent(handle)}`}>@{handle}</a>;
}

export function PinnedTag() {
  return <span class="tag pinned" data-testid="thread-pinned" title="Pinned"><Icon name="pin" />Pinned</span>;
}

export function LockedTag() {
  return <span class="tag locked" data-testid="thread-locked" title="Locked"><Icon name="lock" />Locked</span>;
}

/** Ctrl+Enter (⌘+Enter) in a textarea sends its form. */
export function submitOnCtrlEnter(event: KeyboardEvent): void {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    (event.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
  }
}
