// One post of a thread: its author, body (the server's sanitised HTML), reactions, and what
// the viewer may do with it (reply, edit, delete, mark it helpful).

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, client, messageOf, type Schemas } from "../../api/client";
import { flagTarget } from "../../components/FlagDialog";
import { FormError } from "../../components/FormError";
import { Icon } from "../../components/Icon";
import { TimeAgo } from "../../components/TimeAgo";
import { toast } from "../../components/Toast";
import { Handle, submitOnCtrlEnter } from "./bits";
import type { Action, Entry, Post } from "./threadState";

type Revision = Schemas["RevisionOut"];

const REACTIONS: [kind: string, label: string][] = [
  ["like", "Like"], ["love", "Love"], ["laugh", "Laugh"], ["insightful", "Insightful"], ["thanks", "Thanks"],
];

export function scrollToPost(postNumber: number): void {
  const el = document.getElementById(`post-${postNumber}`);
  if (!el) return;
  el.scrollIntoView({ block: "center" });
  el.focus({ preventScroll: true });
}

function Reactions({ post, signedIn, dispatch, onStale }: {
  post: Post; signedIn: boolean; dispatch: (action: Action) => void; onStale: () => void;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const mine = new Set(post.my_reactions);

  async function toggle(kind: string): Promise<void> {
    const had = mine.has(kind);
    setBusy(kind);
    try {
      const summary = had
        ? await call(client.DELETE("/api/posts/{post_id}/reactions/{kind}", { params: { path: { post_id: post.id, kind } } }))
        : await call(client.POST("/api/posts/{post_id}/reactions", { params: { path: { post_id: post.id } }, body: { kind } }));
      dispatch({ type: "reactions", postId: post.id, reactions: summary.reactions, mine: summary.my_reactions });
    } catch (err) {
      toast(messageOf(err));
      if (err instanceof ApiError && (err.status === 409 || err.status === 404)) onStale();
    } finally {
      setBusy(null);
    }
  }

  return (
    <div class="reactions" data-testid="reactions" role="group" aria-label="Reactions">
      {REACTIONS.map(([kind, label]) => {
        const count = post.reactions[kind] ?? 0;
        if (!signedIn && count === 0) return null;
        const pressed = mine.has(kind);
        return (
          <button key={kind} type="button" class={pressed ? "reaction pressed" : "reaction"}
            data-testid={`reaction-${kind}`} aria-pressed={pressed} disabled={!signedIn || busy === kind}
            title={signedIn ? (pressed ? `Remove your ${label.toLowerCase()}` : label) : label}
            data-kind={kind} data-count={count} onClick={() => void toggle(kind)}>
            <Icon name={kind} />
            <span class="visually-hidden">{label}</span>
            <span class="count" data-testid="reaction-count">{count ? String(count) : ""}</span>
          </button>
        );
      })}
    </div>
  );
}

/** A post's versions, oldest first, as written (Markdown, as text), each with who made it and,
 * for a moderator's edit, why. */
function Revisions({ postId }: { postId: number }) {
  const [revisions, setRevisions] = useState<Revision[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    call(client.GET("/api/posts/{post_id}/revisions", { params: { path: { post_id: postId } } }))
      .then(setRevisions, setError);
  }, [postId]);
  if (error) return <p class="form-error" role="alert">{messageOf(error)}</p>;
  if (!revisions) return <p class="muted">Loading the history…</p>;
  return (
    <ol class="revisions" data-testid="post-revisions" aria-label="Edit history">
      {revisions.map((r) => (
        <li key={r.revision} class="revision" data-testid="post-revision">
          <div class="meta">Version {r.revision} by <Handle handle={r.editor.handle} /> <TimeAgo iso={r.created_at} />
            {r.reason && <span class="revision-reason" data-testid="revision-reason">: “{r.reason}”</span>}
          </div>
          <pre class="revision-raw">{r.raw}</pre>
        </li>
      ))}
    </ol>
  );
}

/** Editing someone else's post (as a moderator) asks why: the author is told, and the
 * history shows it. */
function Editor({ post, needsReason, dispatch, onClose }: {
  post: Post; needsReason: boolean; dispatch: (action: Action) => void; onClose: () => void;
}) {
  const [body, setBody] = useState(post.raw);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => { ref.current?.focus(); }, []);

  async function save(event: Event): Promise<void> {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const updated = await call(client.PATCH("/api/posts/{post_id}", {
        params: { path: { post_id: post.id } }, body: needsReason ? { body, reason } : { body },
      }));
      dispatch({ type: "edited", post: updated });
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <div class="post-editor">
      <form class="stack" data-testid="edit-form" onSubmit={(e) => void save(e)}>
        <label class="visually-hidden" for={`edit-${post.id}`}>Edit post</label>
        <textarea id={`edit-${post.id}`} rows={5} data-testid="edit-body" ref={ref} value={body}
          onInput={(e) => setBody(e.currentTarget.value)} onKeyDown={submitOnCtrlEnter} />
        {needsReason && (
          <label class="stack edit-reason">
            <span>Why are you editing this member's post? They will be told.</span>
            <input type="text" data-testid="edit-reason" required maxLength={500} value={reason}
              onInput={(e) => setReason(e.currentTarget.value)} />
          </label>
        )}
        <FormError error={error} />
        <div class="row">
          <button type="submit" data-testid="edit-save" disabled={busy}>Save</button>
          <button type="button" class="secondary" data-testid="edit-cancel" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </div>
  );
}

export interface PostCardProps {
  entry: Entry;
  threadId: number;
  replyTarget: Post | undefined; // the post this one replies to, when it is shown
  meId: number | null;
  mayReply: boolean;
  mayMarkHelpful: boolean;
  mayModerate: boolean;
  helpful: boolean;
  dispatch: (action: Action) => void;
  onReply: (post: Post) => void;
  onQuote: (post: Post) => void;
  onDeleted: (post: Post) => void;
  onStale: () => void;
}

// Why a post shown to its author (or a moderator) is out of everyone else's view.
const HIDDEN_NOTICES: Record<string, string> = {
  flags: "Hidden after members flagged it, until a moderator reviews it. Only you and moderators can see it.",
  moderator: "Hidden by a moderator. Only its author and moderators can see it.",
  held: "Waiting for a moderator's approval. Only you and moderators can see it until then.",
};

export function PostCard(props: PostCardProps) {
  const { entry, replyTarget, meId, dispatch } = props;
  const post = entry.post;
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [history, setHistory] = useState(false);
  const [busy, setBusy] = useState(false);
  const [deleteReason, setDeleteReason] = useState("");
  const editButton = useRef<HTMLButtonElement>(null);
  const author = post.author;
  const own = meId !== null && author.id === meId;

  async function remove(): Promise<void> {
    setBusy(true);
    try {
      const reason = deleteReason.trim();
      await call(client.DELETE("/api/posts/{post_id}", {
        params: { path: { post_id: post.id }, query: !own && reason ? { reason } : {} },
      }));
      props.onDeleted(post);
    } catch (err) {
      toast(messageOf(err));
      setBusy(false);
    }
  }

  async function markHelpful(): Promise<void> {
    setBusy(true);
    try {
      const request = { params: { path: { post_id: post.id } } };
      const thread = props.helpful
        ? await call(client.DELETE("/api/posts/{post_id}/helpful", request))
        : await call(client.PUT("/api/posts/{post_id}/helpful", request));
      dispatch({ type: "thread", thread });
    } catch (err) {
      toast(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  const closeEditor = () => {
    setEditing(false);
    setTimeout(() => editButton.current?.focus());
  };

  const classes = ["card", "post"];
  if (own) classes.push("mine");
  if (props.helpful) classes.push("helpful");

  return (
    <article class={classes.join(" ")} id={`post-${post.post_number}`} tabIndex={-1} data-testid="post"
      data-post-id={post.id} data-post-number={post.post_number} aria-labelledby={`post-${post.id}-by`}>
      <header class="post-meta">
        <span class="post-author" data-testid="post-author" id={`post-${post.id}-by`}>
          {author.display_name !== author.handle
            ? <><strong>{author.display_name}</strong> <span class="handle"><Handle handle={author.handle} /></span></>
            : <strong><Handle handle={author.handle} /></strong>}
        </span>
        <a class="post-number" href={`#/t/${props.threadId}`}
          onClick={(e) => { e.preventDefault(); scrollToPost(post.post_number); }}>#{post.post_number}</a>
        <span class="post-time"><TimeAgo iso={post.created_at} /></span>
        {post.edited_at && <span class="edited muted" data-testid="post-edited">· edited</span>}
        {props.helpful && (
          <span class="tag helpful-tag" data-testid="post-helpful"><span aria-hidden="true">✓ </span>Helpful answer</span>
        )}
        {post.reply_to_post_id !== null && (
          <a class="reply-to" data-testid="post-reply-to" href={`#/t/${props.threadId}`}
            onClick={(e) => { e.preventDefault(); if (replyTarget) scrollToPost(replyTarget.post_number); }}>
            {replyTarget
              ? `↪ in reply to @${replyTarget.author.handle} #${replyTarget.post_number}`
              : "↪ in reply to an earlier post"}
          </a>
        )}
      </header>
      {post.hidden && (
        <p class="notice hidden-notice" role="note" data-testid="post-hidden-notice">
          {HIDDEN_NOTICES[post.hidden] ?? HIDDEN_NOTICES.moderator}
        </p>
      )}
      {/* Sanitised by the server (markdown-it without raw HTML, then nh3): the one raw HTML. */}
      <div class="post-body" data-testid="post-body" hidden={editing} dangerouslySetInnerHTML={{ __html: post.html }} />
      {editing && <Editor post={post} needsReason={!own} dispatch={dispatch} onClose={closeEditor} />}
      {history && <Revisions key={post.revision} postId={post.id} />}
      <footer class="post-foot">
        <Reactions post={post} signedIn={meId !== null} dispatch={dispatch} onStale={props.onStale} />
        <div class="post-tools">
          {confirming ? (
            <>
              <span class="confirm" role="alert">Delete this post?</span>
              {!own && (
                <input type="text" class="delete-reason" data-testid="delete-reason" maxLength={500}
                  aria-label="Reason (optional, for the staff log)" placeholder="Reason (optional)"
                  value={deleteReason} onInput={(e) => setDeleteReason(e.currentTarget.value)} />
              )}
              <button type="button" class="danger small" data-testid="post-delete-confirm" disabled={busy}
                onClick={() => void remove()}>Delete</button>
              <button type="button" class="secondary small" data-testid="post-delete-cancel"
                onClick={() => setConfirming(false)}>Keep</button>
            </>
          ) : (
            <>
              {props.mayReply && (
                <button type="button" class="link-button" data-testid="post-reply"
                  onClick={() => props.onReply(post)}>Reply</button>
              )}
              {props.mayReply && (
                <button type="button" class="link-button" data-testid="post-quote"
                  onClick={() => props.onQuote(post)}>Quote</button>
              )}
              {props.mayMarkHelpful && post.post_number > 1 && (
                <button type="button" class="link-button" data-testid="post-helpful-toggle" disabled={busy}
                  aria-pressed={props.helpful} onClick={() => void markHelpful()}>
                  {props.helpful ? "Unmark helpful" : "Mark helpful"}
                </button>
              )}
              {entry.canEdit && !editing && (
                <button type="button" class="link-button" data-testid="post-edit" ref={editButton}
                  onClick={() => setEditing(true)}>Edit</button>
              )}
              {(props.mayModerate || own) && post.edited_at && (
                <button type="button" class="link-button" data-testid="post-history" aria-expanded={history}
                  onClick={() => setHistory(!history)}>History</button>
              )}
              {meId !== null && author.id !== meId && (
                <button type="button" class="link-button" data-testid="post-flag"
                  onClick={() => flagTarget("post", post.id, `post #${post.post_number} by @${author.handle}`)}>
                  Flag</button>
              )}
              {entry.canDelete && (
                <button type="button" class="link-button danger-text" data-testid="post-delete"
                  onClick={() => setConfirming(true)}>Delete</button>
              )}
            </>
          )}
        </div>
      </footer>
    </article>
  );
}
