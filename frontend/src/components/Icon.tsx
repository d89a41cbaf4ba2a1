// Stroke icons (feather/lucide shapes), drawn as SVG so they look the same on every system:
// colour emoji fonts are not everywhere. Decorative: hidden from assistive technology.

type Part = [tag: "path" | "circle" | "rect" | "polyline", attrs: Record<string, string | number>];

const ICONS: Record<string, Part[]> = {
  like: [["path", { d: "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3" }]],
  love: [["path", { d: "M20.84 4.61a5.5 5.5 0 0 0-7.78 0L12 5.67l-1.06-1.06a5.5 5.5 0 0 0-7.78 7.78l1.06 1.06L12 21.23l7.78-7.78 1.06-1.06a5.5 5.5 0 0 0 0-7.78z" }]],
  laugh: [
    ["circle", { cx: 12, cy: 12, r: 10 }],
    ["path", { d: "M7 13h10a5 5 0 0 1-10 0z" }],
    ["path", { d: "M8 9.5 9.5 8 11 9.5M13 9.5 14.5 8 16 9.5" }],
  ],
  insightful: [
    ["path", { d: "M15 14c.2-1 .7-1.7 1.5-2.5 1-.9 1.5-2.2 1.5-3.5A6 6 0 0 0 6 8c0 1 .2 2.2 1.5 3.5.7.7 1.3 1.5 1.5 2.5" }],
    ["path", { d: "M9 18h6M10 22h4" }],
  ],
  thanks: [
    ["polyline", { points: "20 12 20 22 4 22 4 12" }],
    ["rect", { x: 2, y: 7, width: 20, height: 5 }],
    ["path", { d: "M12 22V7M12 7H7.5a2.5 2.5 0 0 1 0-5C11 2 12 7 12 7zM12 7h4.5a2.5 2.5 0 0 0 0-5C13 2 12 7 12 7z" }],
  ],
  bell: [["path", { d: "M18 8A6 6 0 0 0 6 8c0 7-3 9-3 9h18s-3-2-3-9M13.73 21a2 2 0 0 1-3.46 0" }]],
  pin: [["path", { d: "M12 17v5M5 17h14v-1.76a2 2 0 0 0-1.11-1.79l-1.78-.9A2 2 0 0 1 15 10.76V6h1a2 2 0 0 0 0-4H8a2 2 0 0 0 0 4h1v4.76a2 2 0 0 1-1.11 1.79l-1.78.9A2 2 0 0 0 5 15.24Z" }]],
  lock: [
    ["rect", { x: 3, y: 11, width: 18, height: 11, rx: 2 }],
    ["path", { d: "M7 11V7a5 5 0 0 1 10 0v4" }],
  ],
  flame: [["path", { d: "M8.5 14.5A2.5 2.5 0 0 0 11 12c0-1.38-.5-2-1-3-1.07-2.14-.22-4.05 2-6 .5 2.5 2 4.9 4 6.5 2 1.6 3 3.5 3 5.5a7 7 0 1 1-14 0c0-1.15.43-2.29 1-3a2.5 2.5 0 0 0 2.5 2.5z" }]],
};

export function Icon({ name, class: extra = "" }: { name: string; class?: string }) {
  return (
    <svg viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor"
      stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"
      focusable="false" class={`icon icon-${name} ${extra}`.trim()}>
      {(ICONS[name] ?? []).map(([Tag, attrs], i) => <Tag key={i} {...attrs} />)}
    </svg>
  );
}
