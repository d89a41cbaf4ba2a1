// Brands' seasonal challenges. The list follows the running ones' channels, so a challenge that
// starts, ends or is cancelled while it is open shows its new status.

import { useEffect } from "preact/hooks";
import { call, client } from "../../api/client";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { usePoke } from "../../app/usePoke";
import { FormError } from "../../components/FormError";
import { plural } from "../../components/format";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt } from "../../components/ViewError";
import { live } from "../../live/live";
import { rewardText, running, sortChallenges, type Challenge } from "./logic";
import { Dates, StatusTag } from "./parts";

const LIST_WATCHED = 25; // the list follows at most this many challenges' status live

export function Challenges() {
  const member = useStore(me);
  const list = useAsync(() => call(client.GET("/api/challenges")), [member?.id]);
  const poke = usePoke<"list">(() => list.reload());
  const watched = (list.value ?? []).filter((c) => running(c.status)).slice(0, LIST_WATCHED)
    .map((c) => c.id).join(",");
  useEffect(() => {
    if (!watched) return;
    const subs = watched.split(",").map((id) => live.subscribe(`challenge:${id}`, {
      onMessage: (frame) => { if (frame.event === "challenge.status") poke("list"); },
      onRefetch: () => poke("list"),
    }));
    return () => { for (const sub of subs) sub.close(); };
  }, [watched]);

  return (
    <div data-testid="challenges-view">
      <div class="view-head">
        <PageTitle title="Challenges" />
        {member && <a href="#/rewards">Your rewards →</a>}
      </div>
      <p class="muted">Seasonal challenges run by brands: join one, complete its tasks and earn its reward.</p>
      {!member && <SignInPrompt text="to take part." />}
      <div data-testid="challenge-list-wrap">
        <FormError error={list.value === undefined ? list.error : null} />
        {list.value && (list.value.length > 0 ? (
          <ul class="challenge-list" data-testid="challenge-list">
            {sortChallenges(list.value).map((c) => <ChallengeItem key={c.id} challenge={c} />)}
          </ul>
        ) : <p class="muted card" data-testid="challenge-list-empty">No challenges yet.</p>)}
      </div>
    </div>
  );
}

function ChallengeItem({ challenge }: { challenge: Challenge }) {
  return (
    <li class="card challenge-item" data-testid="challenge-item" data-challenge-id={challenge.id}
      data-status={challenge.status}>
      <div class="challenge-line">
        <StatusTag status={challenge.status} />
        <a class="challenge-title" href={`#/challenges/${challenge.id}`} data-testid="challenge-link">
          {challenge.title}
        </a>
      </div>
      <Dates challenge={challenge} />
      <p class="stat">
        <span data-testid="challenge-reward">{rewardText(challenge)}</span> · {plural(challenge.tasks.length, "task")}
      </p>
    </li>
  );
}
