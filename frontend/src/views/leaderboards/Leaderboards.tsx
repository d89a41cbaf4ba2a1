// The leaderboards: all time, this week, this month, a category's and a season's. The board
// follows its live channel (leaderboard:<board>) and the signed-in member's own points, so a
// ranking that moves is redrawn without a reload.

import { useEffect, useState } from "preact/hooks";
import { call, client, type Schemas } from "../../api/client";
import { useMemberFrames } from "../../app/memberFrames";
import { navigate } from "../../app/router";
import type { ViewProps } from "../../app/routes";
import { me } from "../../app/session";
import { useStore } from "../../app/store";
import { useAsync } from "../../app/useAsync";
import { usePoke } from "../../app/usePoke";
import { FormError } from "../../components/FormError";
import { number } from "../../components/format";
import { PageTitle } from "../../components/PageTitle";
import { live } from "../../live/live";
import { NotFound } from "../notfound/NotFound";
import { day } from "../rewards/format";
import { apiName, boardOf, categoryOptions, hrefOf, PERIODS, type Board } from "./boards";
import "./leaderboards.css";

const BOARD_SIZE = 25;
const AROUND = 2;

export function Leaderboards({ params }: ViewProps) {
  const board = boardOf(params);
  return board ? <Leaderboard board={board} /> : <NotFound />;
}

interface Standings {
  page: Schemas["BoardPage"];
  around: Schemas["AroundPage"] | null;
}

function Leaderboard({ board }: { board: Board }) {
  const member = useStore(me);
  const name = apiName(board);
  const standings = useAsync<Standings>(async () => {
    const [page, around] = await Promise.all([
      call(client.GET("/api/leaderboards/{board}", { params: { path: { board: name }, query: { limit: BOARD_SIZE } } })),
      member ? call(client.GET("/api/leaderboards/{board}/around-me", {
        params: { path: { board: name }, query: { n: AROUND } } })) : null,
    ]);
    return { page, around };
  }, [name, member?.id]);
  const categories = useAsync(() => call(client.GET("/api/categories")), []);
  const seasons = useAsync(() => call(client.GET("/api/leaderboards/seasons")), []);

  const poke = usePoke<"board">(() => standings.reload());
  const [subscribed, setSubscribed] = useState(false);
  // The API names the current week and month ("week:2026-W48"): follow that board's channel.
  const resolved = standings.value?.page.board;
  useEffect(() => {
    if (!resolved) return;
    setSubscribed(false);
    const sub = live.subscribe(`leaderboard:${resolved}`, {
      onMessage: (frame) => { if (frame.event === "leaderboard.changed") poke("board"); },
      onRefetch: () => poke("board"),
      onReady: ({ fresh }) => {
        setSubscribed(true);
        if (fresh) poke("board");
      },
    });
    return () => sub.close();
  }, [resolved]);
  // Your own rank moves with your points even when the top of the board does not.
  useMemberFrames((frame) => {
    if (frame.type === "refetch" || frame.event === "points.posted") poke("board");
  });

  const title = titleOf(board, categories.value, seasons.value);
  const season = board.kind === "season" ? seasons.value?.find((s) => String(s.id) === board.id) : undefined;
  return (
    <div class="leaderboards" data-testid="leaderboard-view" data-live={subscribed ? "subscribed" : "waiting"}>
      <div class="view-head">
        <PageTitle title={title} />
        {member && <a href="#/rewards">Your rewards →</a>}
      </div>
      <nav class="tabs" aria-label="Boards">
        {PERIODS.map(([key, label]) => {
          const current = board.kind === "period" && board.period === key;
          return (
            <a key={key} href={`#/leaderboards/${key}`} class={current ? "tab current" : "tab"}
              aria-current={current ? "page" : undefined}>{label}</a>
          );
        })}
      </nav>
      <div class="board-pickers">
        <Picker id="board-category" label="By category" testid="board-category"
          options={categoryOptions(categories.value ?? [])}
          selected={board.kind === "category" ? board.id : ""} empty="Choose a category"
          go={(id) => navigate(hrefOf({ kind: "category", id }))} />
        {(seasons.value?.length ?? 0) > 0 && (
          <Picker id="board-season" label="By season" testid="board-season"
            options={(seasons.value ?? []).map((s) => ({ id: s.id, label: s.name }))}
            selected={board.kind === "season" ? board.id : ""} empty="Choose a season"
            go={(id) => navigate(hrefOf({ kind: "season", id }))} />
        )}
      </div>
      {season && (
        <p class="muted" data-testid="board-season-dates">
          Points earned from {day(season.starts_at)} to {day(season.ends_at)}.
        </p>
      )}
      <p class="muted">Equal scores share a rank (1, 2, 2, 4). Staff are not ranked.</p>
      <FormError error={standings.value === undefined ? standings.error : null} />
      {standings.value && (
        <>
          <section class="card" aria-label={`${title}: top ${BOARD_SIZE}`}>
            <div data-testid="board-top">
              <BoardRows rows={standings.value.page.items} meId={member?.id} />
            </div>
          </section>
          {member && standings.value.around && (
            <div class="card" data-testid="board-around">
              <AroundMe page={standings.value.around} />
            </div>
          )}
        </>
      )}
    </div>
  );
}

function titleOf(board: Board, categories?: Schemas["CategoryOut"][], seasons?: Schemas["SeasonOut"][]): string {
  if (board.kind === "category") {
    const category = categories?.find((c) => String(c.id) === board.id);
    return `Leaderboard: ${category ? category.name : "a category"}`;
  }
  if (board.kind === "season") {
    const season = seasons?.find((s) => String(s.id) === board.id);
    return `Leaderboard: ${season ? season.name : "a season"}`;
  }
  return "Leaderboard";
}

function Picker({ id, label, testid, options, selected, empty, go }: {
  id: string; label: string; testid: string; options: { id: number; label: string }[];
  selected: string; empty: string; go: (id: string) => void;
}) {
  const [choice, setChoice] = useState(selected);
  useEffect(() => setChoice(selected), [selected]);
  // A button, not a change of the select, moves to the board: keyboard users browse the
  // options without leaving the page.
  return (
    <form class="board-picker" data-testid={testid}
      onSubmit={(event) => { event.preventDefault(); if (choice) go(choice); }}>
      <label for={id}>{label}</label>
      <select id={id} value={choice} data-testid={`${testid}-select`}
        onChange={(event) => setChoice(event.currentTarget.value)}>
        <option value="">{empty}</option>
        {options.map((o) => <option key={o.id} value={String(o.id)}>{o.label}</option>)}
      </select>
      <button type="submit" class="secondary" data-testid={`${testid}-show`} disabled={!choice}>Show</button>
    </form>
  );
}

function BoardRows({ rows, meId }: { rows: Schemas["BoardRow"][]; meId: number | undefined }) {
  if (rows.length === 0) return <p class="muted" data-testid="board-empty">Nobody has points here yet.</p>;
  return (
    <ol class="board">
      {rows.map((row) => (
        <li key={row.member.id} class={row.member.id === meId ? "board-row me" : "board-row"} data-testid="board-row">
          <span class="rank" data-testid="board-rank">#{row.rank}</span>
          <a class="who" data-testid="board-handle" href={`#/u/${encodeURIComponent(row.member.handle)}`}>@{row.member.handle}</a>
          <span class="score" data-testid="board-score">{number(row.score)}</span>
        </li>
      ))}
    </ol>
  );
}

function AroundMe({ page }: { page: Schemas["AroundPage"] }) {
  if (!page.me) return <p class="muted" data-testid="board-me">You are not on this board yet.</p>;
  return <p data-testid="board-me">You are #{page.me.rank} with {number(page.me.score)} points.</p>;
}
