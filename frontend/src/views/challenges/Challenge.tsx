// One challenge: its tasks, the signed-in member's progress and its leaderboard. It follows
// challenge:<id> live, so progress, completion and the ranking move without a reload; each
// piece of news reloads only what it touched.

import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, call, client, messageOf, type Schemas } from "../../api/client";
import { notificationKind, useMemberFrames } from "../../app/memberFrames";
import type { ViewProps } from "../../app/routes";
import { me, type Member } from "../../app/session";
import { useStore } from "../../app/store";
import { usePoke } from "../../app/usePoke";
import { number, plural } from "../../components/format";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt, ViewError } from "../../components/ViewError";
import { live } from "../../live/live";
import {
  eligibilityText, hasReward, needsBadgeNames, rewardText, standingOf, targetText, taskStates, zoned,
  type BadgeNames, type Challenge as ChallengeOut, type MyChallenge, type TaskState,
} from "./logic";
import { Dates, StatusTag, When } from "./parts";

const BOARD_SIZE = 20;
type Part = "challenge" | "mine" | "board";
const ALL: Part[] = ["challenge", "mine", "board"];

interface Shown {
  challenge: ChallengeOut;
  mine: MyChallenge | null;
  standings: Schemas["StandingOut"][];
}

export function Challenge({ params }: ViewProps) {
  const member = useStore(me);
  // Signing in or out starts the page afresh: what the member sees depends on who they are.
  return <ChallengePage key={member?.id ?? 0} id={Number(params.id)} member={member} />;
}

function ChallengePage({ id, member }: { id: number; member: Member | null }) {
  const [shown, setShown] = useState<Shown | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [badges, setBadges] = useState<BadgeNames | null>(null);
  const [liveState, setLiveState] = useState<"waiting" | "subscribed" | "refused">("waiting");

  const poke = usePoke<Part>(async (parts) => {
    const path = { challenge_id: id };
    const [challenge, mine, standings] = await Promise.all([
      parts.has("challenge") ? call(client.GET("/api/challenges/{challenge_id}", { params: { path } })) : null,
      parts.has("mine") && member ? call(client.GET("/api/challenges/{challenge_id}/me", { params: { path } })) : null,
      parts.has("board") ? call(client.GET("/api/challenges/{challenge_id}/leaderboard", {
        params: { path, query: { limit: BOARD_SIZE } } })) : null,
    ]);
    setShown((old) => {
      const next = challenge ?? old?.challenge;
      if (!next) return old;
      return { challenge: next, mine: mine ?? old?.mine ?? null,
        standings: standings ?? old?.standings ?? [] };
    });
  });

  // The first load: errors are the page's. Later reloads only log theirs (usePoke).
  useEffect(() => {
    let alive = true;
    const path = { challenge_id: id };
    Promise.all([
      call(client.GET("/api/challenges/{challenge_id}", { params: { path } })),
      member ? call(client.GET("/api/challenges/{challenge_id}/me", { params: { path } })) : null,
      call(client.GET("/api/challenges/{challenge_id}/leaderboard", { params: { path, query: { limit: BOARD_SIZE } } })),
    ]).then(([challenge, mine, standings]) => {
      // A live reload that landed first is newer.
      if (alive) setShown((old) => old ?? { challenge, mine, standings });
    }, (err: unknown) => { if (alive) setError(err); });
    return () => { alive = false; };
  }, []);

  // Live: subscribed from the start, so nothing falls between the first load and the stream.
  useEffect(() => {
    const sub = live.subscribe(`challenge:${id}`, {
      onReady: ({ fresh }) => {
        setLiveState("subscribed");
        if (fresh) poke(...ALL);
      },
      onRefetch: () => poke(...ALL),
      onMessage: (frame) => {
        if (frame.event === "challenge.status") poke(...ALL);
        if (frame.event === "challenge.progress") {
          poke("board");
          const who = (frame.data as { member_id?: unknown } | null | undefined)?.member_id;
          if (me.value && who === me.value.id) poke("mine");
        }
      },
      onError: () => setLiveState("refused"),
    });
    const stop = live.onStatus((status) => {
      if (status !== "live") setLiveState("waiting");
      else if (sub.active) setLiveState("subscribed");
    });
    return () => {
      stop();
      sub.close();
    };
  }, []);
  // The reward is paid (or found pending) with the completion notification.
  useMemberFrames((frame) => {
    const kind = notificationKind(frame);
    const about = (frame.data as { data?: { challenge_id?: unknown } } | null | undefined)?.data?.challenge_id;
    if (frame.type === "refetch" || ((kind === "challenge" || kind === "challenge_reward") && about === id)) {
      poke("mine");
    }
  });

  // Badge names only improve the wording ("the “Barista” badge"); the page reads fine without.
  const wantsBadges = shown !== null && needsBadgeNames(shown.challenge) && badges === null;
  useEffect(() => {
    if (!wantsBadges) return;
    let alive = true;
    call(client.GET("/api/gamification/badges")).then(
      (list) => { if (alive) setBadges(new Map(list.map((b) => [b.id, b.name]))); },
      (err: unknown) => console.warn("badges", err));
    return () => { alive = false; };
  }, [wantsBadges]);

  return (
    <div class="challenge-view" data-testid="challenge-view" data-challenge-id={String(id)} data-live={liveState}>
      <nav class="crumbs" aria-label="Breadcrumb"><a href="#/challenges">Challenges</a> / </nav>
      {shown === null && error !== null && <ViewError error={error} signedIn={member !== null} />}
      {shown && (
        <>
          <Head challenge={shown.challenge} badges={badges} />
          <Tasks shown={shown} badges={badges} signedIn={member !== null}
            joined={(mine) => setShown((old) => (old ? { ...old, mine } : old))}
            moved={() => poke("challenge")} />
          <Board standings={shown.standings} meId={member?.id} />
        </>
      )}
    </div>
  );
}

function Head({ challenge, badges }: { challenge: ChallengeOut; badges: BadgeNames | null }) {
  return (
    <section class="card challenge-head" data-testid="challenge-head">
      {challenge.image_url && (
        <img class="challenge-image" src={challenge.image_url} alt="" data-testid="challenge-image"
          loading="lazy" referrerpolicy="no-referrer" />
      )}
      <PageTitle title={challenge.title} testid="challenge-title" />
      <div class="row challenge-when">
        <StatusTag status={challenge.status} />
        <Dates challenge={challenge} />
      </div>
      {challenge.description && (
        <p class="challenge-description" data-testid="challenge-description">{challenge.description}</p>
      )}
      <dl class="facts">
        <dt>Who can take part</dt>
        <dd data-testid="challenge-eligibility">{eligibilityText(challenge, badges)}</dd>
        <dt>Reward</dt>
        <dd data-testid="challenge-reward">{rewardText(challenge, badges)}</dd>
      </dl>
    </section>
  );
}

function Tasks({ shown, badges, signedIn, joined, moved }: {
  shown: Shown; badges: BadgeNames | null; signedIn: boolean;
  joined: (mine: MyChallenge) => void; moved: () => void;
}) {
  const { challenge, mine } = shown;
  const [joining, setJoining] = useState(false);
  const [joinError, setJoinError] = useState<string | null>(null);
  const focusNext = useRef(false);
  const status = useRef<HTMLDivElement>(null);

  async function join(): Promise<void> {
    setJoining(true);
    setJoinError(null);
    try {
      const result = await call(client.POST("/api/challenges/{challenge_id}/join", {
        params: { path: { challenge_id: challenge.id } } }));
      focusNext.current = true;
      joined(result);
    } catch (err) {
      setJoinError(messageOf(err));
      if (err instanceof ApiError && err.status === 409) moved(); // its status moved
    } finally {
      setJoining(false);
    }
  }

  // After joining, the news ("You're in") takes the focus where the button was.
  useEffect(() => {
    if (!focusNext.current || !mine?.joined) return;
    focusNext.current = false;
    status.current?.querySelector<HTMLElement>("[tabindex='-1']")?.focus();
  }, [mine]);

  const standing = standingOf(challenge.status, signedIn, mine);
  const ListTag = challenge.ordered ? "ol" : "ul";
  return (
    <section class="card challenge-tasks" data-testid="challenge-tasks" aria-labelledby="challenge-tasks-title">
      <h2 id="challenge-tasks-title">Tasks</h2>
      <div class="participation" data-testid="challenge-participation" aria-live="polite" ref={status}>
        {standing.kind === "sign-in" && <SignInPrompt text="to join this challenge." />}
        {standing.kind === "closed" && <p class="muted" data-testid="challenge-closed">{standing.message}</p>}
        {standing.kind === "can-join" && (
          <>
            <div class="row">
              <button type="button" data-testid="challenge-join" disabled={joining}
                onClick={() => void join()}>Join the challenge</button>
              <span class="muted">Only what you do after joining counts.</span>
            </div>
            {joinError && <p class="form-error" data-testid="challenge-join-error" role="alert">{joinError}</p>}
          </>
        )}
        {standing.kind === "completed" && (
          <>
            <p class="notice challenge-done" data-testid="challenge-completed" tabIndex={-1}>
              ✓ You completed this challenge on <When iso={standing.completedAt} format={zoned(challenge.time_zone).format} />.
            </p>
            {standing.rewardPending ? (
              <p class="notice" data-testid="challenge-reward-pending">
                Your reward of {number(challenge.reward_points)} points is pending: it is paid as soon as
                the brand tops up its budget.
              </p>
            ) : hasReward(challenge) && (
              <p class="muted" data-testid="challenge-rewarded">You earned {rewardText(challenge, badges)}.</p>
            )}
          </>
        )}
        {standing.kind === "joined" && (
          <p class={standing.ended ? "muted" : "notice"} data-testid="challenge-joined" tabIndex={-1}>
            {standing.message}
          </p>
        )}
      </div>
      {challenge.ordered && (
        <p class="muted" data-testid="challenge-ordered">
          Tasks count in order: each one starts counting once the one before it is done.
        </p>
      )}
      <ListTag class="task-list" data-testid="challenge-task-list">
        {taskStates(challenge, mine).map(({ task, progress, state }) => (
          <TaskItem key={task.id} task={task} progress={progress} state={state} />
        ))}
      </ListTag>
    </section>
  );
}

function TaskItem({ task, progress, state }: {
  task: ChallengeOut["tasks"][number]; progress: MyChallenge["tasks"][number] | null; state: TaskState;
}) {
  const done = progress?.done ?? false;
  return (
    <li class={`challenge-task ${state}`} data-testid="challenge-task" data-done={String(done)} data-state={state}>
      <div class="task-line">
        <span class="task-name" data-testid="task-name">{task.name}</span>
        {done && <span class="done-mark" data-testid="task-done">✓ Done</span>}
        {state === "waiting" && <span class="muted task-hint">after the task above</span>}
      </div>
      {progress ? (
        <>
          <progress max={progress.target} value={Math.min(progress.count, progress.target)}
            aria-label={`${task.name}: ${number(progress.count)} of ${number(progress.target)}`} />
          <span class="muted task-count" data-testid="task-count">
            {number(progress.count)} of {number(progress.target)}
          </span>
        </>
      ) : <span class="muted task-count" data-testid="task-count">{targetText(task.target)}</span>}
    </li>
  );
}

function Board({ standings, meId }: { standings: Schemas["StandingOut"][]; meId: number | undefined }) {
  return (
    <section class="card" data-testid="challenge-board" aria-labelledby="challenge-board-title">
      <h2 id="challenge-board-title">Leaderboard</h2>
      <p class="muted">
        Ranked by steps made on the tasks; equal scores share a rank (1, 2, 2, 4). Staff are not ranked.
      </p>
      {standings.length === 0 ? (
        <p class="muted" data-testid="challenge-board-empty">Nobody has made progress yet.</p>
      ) : (
        <ol class="board">
          {standings.map((row) => (
            <li key={row.member_id} class={row.member_id === meId ? "board-row me" : "board-row"}
              data-testid="challenge-board-row" data-member-id={row.member_id}>
              <span class="rank" data-testid="challenge-board-rank">#{row.rank}</span>
              <a class="who" data-testid="challenge-board-handle" href={`#/u/${encodeURIComponent(row.handle)}`}>@{row.handle}</a>
              {row.completed && (
                <span class="done-mark" data-testid="challenge-board-completed" title="Completed">
                  ✓<span class="visually-hidden"> completed</span>
                </span>
              )}
              <span class="score" data-testid="challenge-board-score">{plural(row.score, "step")}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
