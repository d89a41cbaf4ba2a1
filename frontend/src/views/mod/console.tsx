// The moderator console's pages, one lazily loaded chunk (members never download it).

import type { FunctionComponent } from "preact";
import type { ViewProps } from "../../app/routes";
import { StaffLog } from "../stafflog/StaffLog";
import { ModFrame } from "./Frame";
import { ReviewItemPage, ReviewQueue } from "./queue";
import { ModAppeals, ModSanctions } from "./Sanctions";
import { ModSearch } from "./Search";
import { sectionsFor } from "./sections";
import { WatchedWords } from "./WatchedWords";

function Queue({ params }: ViewProps) {
  const id = params.id ? Number(params.id) : null;
  return (
    <ModFrame title={id === null ? "Review queue" : `Review item ${id}`} section="queue">
      {() => id === null ? <ReviewQueue /> : <ReviewItemPage id={id} />}
    </ModFrame>
  );
}

// Each section's view, by key; a section with an item page gets its `id` param.
const VIEWS: Record<string, FunctionComponent<ViewProps>> = {
  log: () => (
    <ModFrame title="Audit log" section="log">
      {/* Brand staff read their brand's part: the server narrows it for them. */}
      {() => <StaffLog />}
    </ModFrame>
  ),
  queue: Queue,
  sanctions: ModSanctions,
  appeals: ModAppeals,
  "watched-words": WatchedWords,
  search: ModSearch,
};

export function ModHome() {
  return (
    <ModFrame title="Moderator console" section="">
      {(member) => (
        <ul class="card-list" data-testid="mod-sections">
          {sectionsFor(member).map((s) => (
            <li key={s.key} class="card"><a href={`#/mod/${s.key}`}><strong>{s.title}</strong></a><p class="meta">{s.text}</p></li>
          ))}
        </ul>
      )}
    </ModFrame>
  );
}

export function ModSection({ params }: ViewProps) {
  const View = VIEWS[params.section ?? ""];
  if (!View) return <ModHome />;
  return <View params={params} />;
}
