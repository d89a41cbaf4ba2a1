// A Markdown textarea with a small formatting toolbar and a Write / Preview pair of tabs. The
// preview is the server's rendering (POST /api/community/preview, the posts' own renderer and
// sanitiser): there is no Markdown renderer in the browser.

import type { ComponentChild, Ref } from "preact";
import { useRef, useState } from "preact/hooks";
import { call, client, messageOf } from "../../api/client";
import { submitOnCtrlEnter } from "./bits";
import { code, link, prefixLines, wrap, type Edit } from "./markdown";
import { MentionSuggest } from "../../components/MentionSuggest";

type Tool = [name: string, label: string, shortcut: string, edit: (text: string, start: number, end: number) => Edit];

const TOOLS: Tool[] = [
  ["bold", "Bold", "b", (t, s, e) => wrap(t, s, e, "**", "**", "bold text")],
  ["italic", "Italic", "i", (t, s, e) => wrap(t, s, e, "_", "_", "italic text")],
  ["link", "Link", "k", link],
  ["quote", "Quote", "", (t, s, e) => prefixLines(t, s, e, "> ")],
  ["code", "Code", "", code],
];

// The link icon is drawn (feather's shape): colour emoji fonts are not everywhere.
const LINK_ICON = (
  <svg viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor" stroke-width="2"
    stroke-linecap="round" stroke-linejoin="round" focusable="false" class="icon">
    <path d="M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71" />
    <path d="M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71" />
  </svg>
);
const GLYPHS: Record<string, ComponentChild> = { bold: "B", italic: "I", link: LINK_ICON, quote: "❝", code: "</>" };

export function MarkdownEditor({ id, value, onValue, textareaRef, testid, rows = 4, required = true, placeholder }: {
  id: string;
  value: string;
  onValue: (value: string) => void;
  textareaRef?: Ref<HTMLTextAreaElement>;
  testid: string;
  rows?: number;
  required?: boolean;
  placeholder?: string;
}) {
  const [tab, setTab] = useState<"write" | "preview">("write");
  const [html, setHtml] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const own = useRef<HTMLTextAreaElement | null>(null);

  function setRefs(el: HTMLTextAreaElement | null): void {
    own.current = el;
    if (typeof textareaRef === "function") textareaRef(el);
    else if (textareaRef) textareaRef.current = el;
  }

  function apply(edit: Tool[3]): void {
    const area = own.current;
    if (!area) return;
    const result = edit(value, area.selectionStart, area.selectionEnd);
    onValue(result.text);
    // After the new value is drawn: put the caret where the edit leaves it.
    setTimeout(() => {
      area.focus();
      area.setSelectionRange(result.start, result.end);
    });
  }

  function onKeyDown(event: KeyboardEvent): void {
    if (event.ctrlKey || event.metaKey) {
      const tool = TOOLS.find(([, , key]) => key && key === event.key.toLowerCase());
      if (tool) {
        event.preventDefault();
        apply(tool[3]);
        return;
      }
    }
    submitOnCtrlEnter(event);
  }

  async function showPreview(): Promise<void> {
    setTab("preview");
    setHtml(null);
    setError(null);
    if (!value.trim()) {
      setHtml("");
      return;
    }
    try {
      const out = await call(client.POST("/api/community/preview", { body: { body: value } }));
      setHtml(out.html);
    } catch (err) {
      setError(err);
    }
  }

  function onTabKey(event: KeyboardEvent): void {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    event.preventDefault();
    const next = tab === "write" ? "preview" : "write";
    document.getElementById(`${id}-tab-${next}`)?.focus();
    if (next === "preview") void showPreview();
    else setTab("write");
  }

  return (
    <div class="md-editor">
      <div class="md-bar">
        <div role="tablist" aria-label="Write or preview" class="md-tabs">
          <button type="button" role="tab" id={`${id}-tab-write`} class="md-tab" aria-selected={tab === "write"}
            aria-controls={`${id}-write`} tabIndex={tab === "write" ? 0 : -1} data-testid="md-tab-write"
            onKeyDown={onTabKey} onClick={() => setTab("write")}>Write</button>
          <button type="button" role="tab" id={`${id}-tab-preview`} class="md-tab" aria-selected={tab === "preview"}
            aria-controls={`${id}-preview`} tabIndex={tab === "preview" ? 0 : -1} data-testid="md-tab-preview"
            onKeyDown={onTabKey} onClick={() => void showPreview()}>Preview</button>
        </div>
        <div role="toolbar" aria-label="Formatting" aria-controls={id} class="md-tools" hidden={tab !== "write"}>
          {TOOLS.map(([name, label, key, edit]) => (
            <button key={name} type="button" class="md-tool" data-testid={`md-${name}`}
              title={key ? `${label} (Ctrl+${key.toUpperCase()})` : label} aria-label={label}
              onClick={() => apply(edit)}>
              <span aria-hidden="true" class={`md-glyph md-glyph-${name}`}>{GLYPHS[name]}</span>
            </button>
          ))}
        </div>
      </div>
      <div id={`${id}-write`} role="tabpanel" aria-labelledby={`${id}-tab-write`} hidden={tab !== "write"}>
        <textarea id={id} rows={rows} required={required} data-testid={testid} ref={setRefs}
          placeholder={placeholder} value={value}
          onInput={(e) => onValue(e.currentTarget.value)} onKeyDown={onKeyDown} />
        <MentionSuggest textarea={own} onText={onValue} />
      </div>
      <div id={`${id}-preview`} role="tabpanel" aria-labelledby={`${id}-tab-preview`} hidden={tab !== "preview"}
        class="md-preview" data-testid="md-preview" aria-busy={tab === "preview" && html === null && !error}>
        {error !== null && <p class="form-error" role="alert" data-testid="md-preview-error">{messageOf(error)}</p>}
        {html === null ? (!error && <p class="muted">Rendering…</p>)
          : html === "" ? <p class="muted">Nothing to preview.</p>
          /* Sanitised by the server, exactly as a post's body. */
            : <div class="post-body" dangerouslySetInnerHTML={{ __html: html }} />}
      </div>
    </div>
  );
}
