// Handle autocomplete for a composer's textarea: while an @handle is being typed, a listbox
// offers matching members; arrows choose, Enter or Tab inserts, Escape closes.

import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { call, client, type Schemas } from "../api/client";
import { insertMention, mentionAt, type MentionAt } from "./mentions";
import "./mentions.css";

type Suggestion = Schemas["MemberSuggestion"];
const DEBOUNCE_MS = 150;
let lists = 0;

export function MentionSuggest({ textarea, onText }: {
  textarea: RefObject<HTMLTextAreaElement | null>;
  onText?: (text: string) => void; // when the composer keeps the text in state
}) {
  const [items, setItems] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(0);
  const at = useRef<MentionAt | null>(null);
  const id = useRef(`mentions-${++lists}`);

  useEffect(() => {
    const area = textarea.current;
    if (!area) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let asked = 0;
    const close = () => { setItems([]); at.current = null; area.removeAttribute("aria-activedescendant"); };
    const onInput = () => {
      clearTimeout(timer);
      const found = mentionAt(area.value, area.selectionStart ?? area.value.length);
      if (!found) { close(); return; }
      timer = setTimeout(() => {
        const mine = ++asked;
        call(client.GET("/api/members/autocomplete", { params: { query: { prefix: found.prefix } } }))
          .then((list) => {
            if (mine !== asked) return;
            at.current = found;
            setItems(list);
            setActive(0);
          }, close);
      }, DEBOUNCE_MS);
    };
    // Late enough for a click on an option to land first.
    const onBlur = () => { timer = setTimeout(close, 150); };
    area.addEventListener("input", onInput);
    area.addEventListener("blur", onBlur);
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", id.current);
    return () => {
      clearTimeout(timer);
      area.removeEventListener("input", onInput);
      area.removeEventListener("blur", onBlur);
    };
  }, [textarea]);

  function choose(item: Suggestion): void {
    const area = textarea.current;
    if (!area || !at.current) return;
    const next = insertMention(area.value, at.current, item.handle);
    area.value = next.text;
    area.setSelectionRange(next.caret, next.caret);
    onText?.(next.text);
    setItems([]);
    at.current = null;
    area.focus();
  }

  useEffect(() => {
    const area = textarea.current;
    if (!area) return;
    const onKey = (event: KeyboardEvent) => {
      if (items.length === 0) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        setActive((i) => (i + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        const item = items[active];
        if (item) { event.preventDefault(); choose(item); }
      } else if (event.key === "Escape") {
        event.preventDefault();
        setItems([]);
      }
    };
    area.addEventListener("keydown", onKey);
    if (items.length > 0) area.setAttribute("aria-activedescendant", `${id.current}-${active}`);
    area.setAttribute("aria-expanded", String(items.length > 0));
    return () => area.removeEventListener("keydown", onKey);
  }, [items, active]);

  return (
    <ul class="mention-list" id={id.current} role="listbox" aria-label="Members to mention"
      data-testid="mention-list" hidden={items.length === 0}>
      {items.map((item, i) => (
        <li key={item.id} id={`${id.current}-${i}`} role="option" aria-selected={i === active}
          data-testid="mention-option"
          onMouseDown={(event) => { event.preventDefault(); choose(item); }}>
          <strong>@{item.handle}</strong> <span class="muted">{item.display_name}</span>
        </li>
      ))}
    </ul>
  );
}
