// The brand staff console's pages, one lazily loaded chunk (members never download it).

import type { ViewProps } from "../../app/routes";
import { Badges } from "./badges";
import { Budget } from "./budget";
import { Catalogue } from "./catalogue";
import { ChallengeEditor, ChallengeList } from "./challenges";
import { BrandFrame } from "./Frame";
import { Inbound } from "./inbound";
import { StaffLog } from "../stafflog/StaffLog";
import { Rules } from "./rules";
import { Tokens } from "./tokens";
import { Webhooks } from "./webhooks";

const SECTIONS = [
  { href: "#/brand/challenges", title: "Challenges", text: "Build seasonal challenges, publish them, follow entries live." },
  { href: "#/brand/rules", title: "Rules", text: "What members earn for, tried on sample events before it pays." },
  { href: "#/brand/budget", title: "Budget", text: "The points you pay from, where they went, goodwill adjustments." },
  { href: "#/brand/catalogue", title: "Catalogue", text: "Rewards members spend points on, code pools, redemptions and refunds." },
  { href: "#/brand/badges", title: "Badges", text: "Recognise members by hand; revoke with a reason." },
  { href: "#/brand/tokens", title: "API tokens", text: "Keys for your checkout and integrations." },
  { href: "#/brand/webhooks", title: "Webhooks", text: "Signed events to your shop: endpoints, deliveries, replays, a test ping." },
  { href: "#/brand/inbound", title: "Inbound events", text: "Orders, reviews and referrals your shop reported, and how to send them." },
  { href: "#/brand/log", title: "Log", text: "Every staff act on your brand: who, what, before and after, why." },
];

export function BrandHome() {
  return (
    <BrandFrame title="Brand console" section="home">
      {() => (
        <ul class="card-list">
          {SECTIONS.map((s) => (
            <li key={s.href} class="card"><a href={s.href}><strong>{s.title}</strong></a><p class="meta">{s.text}</p></li>
          ))}
        </ul>
      )}
    </BrandFrame>
  );
}

export function BrandChallenges() {
  return <BrandFrame title="Challenges" section="challenges">{(brand) => <ChallengeList brand={brand} />}</BrandFrame>;
}

export function BrandChallenge({ params }: ViewProps) {
  const id = params.id ? Number(params.id) : null;
  return (
    <BrandFrame title={id === null ? "New challenge" : "Challenge"} section="challenges">
      {(brand) => <ChallengeEditor key={brand.id} brand={brand} challengeId={id} />}
    </BrandFrame>
  );
}

export function BrandRules() {
  return <BrandFrame title="Rules" section="rules">{(brand) => <Rules key={brand.id} brand={brand} />}</BrandFrame>;
}

export function BrandBudget() {
  return <BrandFrame title="Budget" section="budget">{(brand, admin) => <Budget key={brand.id} brand={brand} admin={admin} />}</BrandFrame>;
}

export function BrandCatalogue() {
  return <BrandFrame title="Catalogue" section="catalogue">{(brand) => <Catalogue key={brand.id} brand={brand} />}</BrandFrame>;
}

export function BrandBadges() {
  return <BrandFrame title="Badges" section="badges">{(brand, admin) => <Badges key={brand.id} brand={brand} admin={admin} />}</BrandFrame>;
}

export function BrandTokens() {
  return <BrandFrame title="API tokens" section="tokens">{(brand) => <Tokens key={brand.id} brand={brand} />}</BrandFrame>;
}

export function BrandWebhooks() {
  return <BrandFrame title="Webhooks" section="webhooks">{(brand) => <Webhooks key={brand.id} brand={brand} />}</BrandFrame>;
}

export function BrandInbound() {
  return <BrandFrame title="Inbound events" section="inbound">{(brand) => <Inbound key={brand.id} brand={brand} />}</BrandFrame>;
}

export function BrandLog() {
  return <BrandFrame title="Log" section="log">{(brand) => <StaffLog key={brand.id} brandId={brand.id} />}</BrandFrame>;
}
