// The signed-in member's points, tier, badges and recent points. Redrawn when something lands
// on their channel (points posted or held for a checkout, a badge or a tier), so recognition
// shows without a reload.

import type { ComponentChildren } from "preact";
import { call, client, type Schemas } from "../../api/client";
import { useMemberFrames, notificationKind } from "../../app/memberFrames";
import { me, points } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { usePoke } from "../../app/usePoke";
import { number } from "../../components/format";
import { PageTitle } from "../../components/PageTitle";
import { SignInPrompt, ViewError } from "../../components/ViewError";
import { CatalogueCard } from "./Catalogue";
import { day, earnedText, expiryPolicyText, signed, utcDay } from "./format";

const HISTORY_SHOWN = 10;

interface Rewards {
  points: Schemas["Balance"];
  tier: Schemas["MyTier"];
  badges: Schemas["MyBadges"];
  history: Schemas["HistoryPage"];
  expiries: Schemas["Expiries"];
}

async function loadRewards(): Promise<Rewards> {
  const [balance, tier, badges, history, expiries] = await Promise.all([
    call(client.GET("/api/me/points")),
    call(client.GET("/api/me/tier")),
    call(client.GET("/api/me/badges")),
    call(client.GET("/api/me/points/history", { params: { query: { limit: HISTORY_SHOWN } } })),
    call(client.GET("/api/me/points/expiries")),
  ]);
  return { points: balance, tier, badges, history, expiries };
}

export function Rewards() {
  const member = useStore(me);
  return (
    <div data-testid="rewards-view">
      {member ? <MyRewards memberId={member.id} /> : (
        <div class="card">
          <PageTitle title="Your rewards" />
          <p>Points, tiers and badges are for members.</p>
          <SignInPrompt text="to see yours." />
        </div>
      )}
    </div>
  );
}

function MyRewards({ memberId }: { memberId: number }) {
  const loaded = useAsync(loadRewards, [memberId]);
  const poke = usePoke<"all">(() => loaded.reload());
  useMemberFrames((frame) => {
    const kind = notificationKind(frame);
    if (frame.type === "refetch" || frame.event === "points.posted" || frame.event === "points.held"
      || kind === "badge" || kind === "tier"
      || kind === "points_expiring") {
      poke("all");
    }
  });
  const balance = useStore(points);
  const data = loaded.value;
  return (
    <>
      <div class="view-head">
        <PageTitle title="Your rewards" />
        <a href="#/leaderboards">Leaderboards →</a>
      </div>
      {data === undefined && loaded.error !== null && <ViewError error={loaded.error} signedIn />}
      {data && (
        <div class="reward-grid">
          <PointsCard points={data.points} liveBalance={balance} />
          <ExpiriesCard expiries={data.expiries} />
          <TierCard tier={data.tier} />
          <BadgesCard badges={data.badges} />
          <HistoryCard history={data.history} />
          <CatalogueCard onRedeemed={() => poke("all")} />
        </div>
      )}
    </>
  );
}

function PointsCard({ points: p, liveBalance }: { points: Schemas["Balance"]; liveBalance: number | null }) {
  return (
    <section class="card reward-card" data-testid="points-card" aria-labelledby="points-title">
      <h2 id="points-title">Points</h2>
      <p class="big-figure">
        <span data-testid="points-balance">{number((liveBalance ?? p.balance) - p.pending)}</span>
        <span class="unit"> to spend</span>
      </p>
      {p.pending > 0 && (
        <p class="muted" data-testid="points-pending">
          {number(p.pending)} more held for a checkout in progress
        </p>
      )}
      <p class="muted">Earned in all: <span data-testid="points-lifetime">{number(p.lifetime_earned)}</span></p>
    </section>
  );
}

function ExpiriesCard({ expiries }: { expiries: Schemas["Expiries"] }) {
  return (
    <section class="card reward-card" data-testid="expiries-card" aria-labelledby="expiries-title">
      <h2 id="expiries-title">Expiring points</h2>
      <p class="muted" data-testid="expiry-policy">{expiryPolicyText(expiries.policy, expiries.months)}</p>
      {expiries.upcoming.length > 0 ? (
        <ul class="history">
          {expiries.upcoming.map((e) => (
            <li key={e.date} data-testid="expiry-item">
              <span class="amount loss">{number(e.amount)}</span>
              <span class="reason">expire on <time dateTime={e.date}>{utcDay(e.date)}</time></span>
            </li>
          ))}
        </ul>
      ) : expiries.policy !== "never" && <p class="muted">None of your points are due to expire.</p>}
    </section>
  );
}

function TierCard({ tier }: { tier: Schemas["MyTier"] }) {
  const next = tier.next;
  return (
    <section class="card reward-card" data-testid="tier-card" aria-labelledby="tier-title">
      <h2 id="tier-title">Tier</h2>
      <p class="big-figure" data-testid="tier-name">{tier.tier ? tier.tier.name : "No tier yet"}</p>
      <p class="muted">
        {number(tier.earned_in_window)} points earned in the last {tier.window_days} days
      </p>
      {next ? (
        <>
          <progress max={next.threshold} value={Math.min(tier.earned_in_window, next.threshold)}
            aria-label={`Progress to ${next.name}`} />
          <p data-testid="tier-next">{number(next.points_needed)} points to {next.name}</p>
        </>
      ) : <p data-testid="tier-next">Top of the ladder</p>}
      {tier.demotes_at && (
        <p class="notice" data-testid="tier-demotes">
          Earn a little more to keep your tier: it steps down on {day(tier.demotes_at)}.
        </p>
      )}
    </section>
  );
}

function BadgeItem({ badge, testid, children }: {
  badge: Schemas["BadgeOut"]; testid: string; children: ComponentChildren;
}) {
  return (
    <li class={`badge-item level-${badge.level}`} data-testid={testid}>
      <span class="badge-icon" aria-hidden="true">{badge.name.slice(0, 1).toUpperCase()}</span>
      <span class="badge-text">
        <strong data-testid="badge-name">{badge.name}</strong>
        {badge.description && <span class="muted">{badge.description}</span>}
        {children}
      </span>
    </li>
  );
}

function BadgesCard({ badges }: { badges: Schemas["MyBadges"] }) {
  return (
    <section class="card reward-card wide" data-testid="badges-card" aria-labelledby="badges-title">
      <h2 id="badges-title">Badges</h2>
      {badges.earned.length > 0 ? (
        <ul class="badge-list">
          {badges.earned.map((b) => (
            <BadgeItem key={b.badge.id} badge={b.badge} testid="badge-earned">
              <span class="muted">{earnedText(b.times, b.first_granted_at)}</span>
            </BadgeItem>
          ))}
        </ul>
      ) : <p class="muted">None yet: post, help others and take part in challenges.</p>}
      {badges.unearned.length > 0 && (
        <>
          <h3>Within reach</h3>
          <ul class="badge-list">
            {badges.unearned.map((b) => (
              <BadgeItem key={b.badge.id} badge={b.badge} testid="badge-unearned">
                {b.progress ? (
                  <>
                    <progress max={b.progress.needed} value={Math.min(b.progress.current, b.progress.needed)}
                      aria-label={`${b.badge.name}: ${number(b.progress.current)} of ${number(b.progress.needed)}`} />
                    <span class="muted">{number(b.progress.current)} of {number(b.progress.needed)}</span>
                  </>
                ) : <span class="muted">given by the team</span>}
              </BadgeItem>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function HistoryCard({ history }: { history: Schemas["HistoryPage"] }) {
  return (
    <section class="card reward-card wide" data-testid="history-card" aria-labelledby="history-title">
      <h2 id="history-title">Recent points</h2>
      {history.items.length > 0 ? (
        <ul class="history">
          {history.items.map((item) => (
            <li key={item.id} data-testid="history-item">
              <span class={item.amount > 0 ? "amount gain" : "amount loss"}>{signed(item.amount)}</span>
              <span class="reason">{item.reason}</span>
              <time class="muted" dateTime={item.created_at}>{day(item.created_at)}</time>
            </li>
          ))}
        </ul>
      ) : <p class="muted">Nothing yet.</p>}
    </section>
  );
}
